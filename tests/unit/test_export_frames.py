"""export.frames: geometry of the plain-warp fallback, aligned_pair use, failed alignments, heatmaps."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from test_export_support import make_library

from skintrack.errors import AlignmentFailedError
from skintrack.export import frames
from skintrack.export.contact_sheet import render_contact_sheet
from skintrack.export.plan import ExportOptions, plan_for_region


@pytest.fixture
def lib(tmp_path: Path):
    lib, rid, ids = make_library(tmp_path / "lib", tmp_path / "src", 3, size=(320, 240))
    yield lib, rid, ids
    lib.close()


@pytest.fixture
def no_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames, "_analysis_service", lambda: None)


def test_fallback_warp_puts_photos_in_reference_geometry(lib, no_service) -> None:
    db, rid, _ids = lib
    plan = plan_for_region(db, rid, "gif", options=ExportOptions(size=200))
    r = frames.FrameRenderer(db, plan)
    ref = r.render(plan.photos[0])
    later = r.render(plan.photos[2])
    assert ref.is_reference and later.aligned and later.alignment_method == "features"
    assert ref.picture.shape == later.picture.shape and ref.image.shape[0] > ref.picture.shape[0]
    # the darkened block is in the middle; compare a border strip, where nothing changed
    a, b = ref.picture[:25].astype(int), later.picture[:25].astype(int)
    aligned_err = np.abs(a - b).mean()
    assert aligned_err < 8, aligned_err
    assert later.caption == "2025-04-30  darker patches ΔL* -4.0 over 2.0 % (noise 0.5)"


def test_crop_box_follows_the_watched_area() -> None:
    region = SimpleNamespace(watched_area=[[[100, 100], [200, 100], [200, 150], [100, 150]]])
    x0, y0, x1, y1 = frames.crop_box(region, (1000, 800))
    assert x0 < 100 < 200 < x1 and y0 < 100 < 150 < y1 and x1 - x0 < 300
    assert frames.crop_box(SimpleNamespace(watched_area=None), (1000, 800)) == (0, 0, 1000, 800)


def _fake_service(pair_for):
    return SimpleNamespace(aligned_pair=lambda lib, rid, a, b, max_side=None: pair_for(a, b, max_side))


def test_aligned_pair_is_used_and_failures_become_captioned_frames(lib, monkeypatch) -> None:
    db, rid, ids = lib
    calls = []

    def pair_for(a, b, side):
        calls.append((a, b, side))
        if b == ids[1]:
            raise AlignmentFailedError("too few matches")
        img = np.full((180, 240, 3), 77, np.uint8)
        change = SimpleNamespace(later_normalised=img, to_json=lambda: {"mean_delta_L": -9.0})
        return SimpleNamespace(
            alignment=SimpleNamespace(ok=True, quality=0.8, method="ecc", message=""),
            reference=img,
            later_warped=img,
            later_normalised=img,
            valid=np.ones((180, 240), bool),
            change=change,
        )

    monkeypatch.setattr(frames, "_analysis_service", lambda: _fake_service(pair_for))
    plan = plan_for_region(db, rid, "mp4", options=ExportOptions(size=160))
    r = frames.FrameRenderer(db, plan)
    out = [r.render(p) for p in plan.photos]
    assert [c[:2] for c in calls] == [(ids[0], ids[1]), (ids[0], ids[2])]  # never the reference itself
    assert not out[1].aligned and "not aligned" in out[1].caption and out[1].notes
    assert out[1].picture.shape == out[0].picture.shape  # letterboxed to the same size
    assert out[2].aligned and out[2].normalised and out[2].alignment_method == "ecc"
    assert np.all(out[2].picture == 77)


def test_heatmap_from_core_change(lib, monkeypatch, no_service) -> None:
    db, rid, _ = lib
    fake = types.ModuleType("skintrack.core.change")
    fake.compare_aligned = lambda ref, later, valid, **kw: SimpleNamespace(to_json=lambda: {})  # type: ignore[attr-defined]
    drawing = types.ModuleType("skintrack.core.heatmap")
    drawing.heatmap_image = lambda result, base_rgb=None, alpha=0.6, legend=True: np.full_like(
        base_rgb, (200, 0, 0)
    )  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "skintrack.core.change", fake)
    monkeypatch.setitem(sys.modules, "skintrack.core.heatmap", drawing)
    plan = plan_for_region(db, rid, "contact-sheet", options=ExportOptions(size=160, heatmap=True))
    r = frames.FrameRenderer(db, plan)
    out = [r.render(p) for p in plan.photos]
    assert out[0].heatmap is None  # not for the reference
    assert out[2].heatmap is not None and out[2].heatmap.shape == out[2].picture.shape
    assert tuple(out[2].image[5, 5]) == (200, 0, 0)  # the timelapse frame shows the overlay
    sheet = render_contact_sheet(out, title="t")
    plain = render_contact_sheet([f for f in out if f.heatmap is None] + [out[0]], title="t")
    assert sheet.shape[1] != plain.shape[1] or sheet.shape[0] != plain.shape[0]


def test_heatmap_missing_is_noted_not_fatal(lib, no_service, monkeypatch) -> None:
    db, rid, _ = lib
    monkeypatch.setitem(sys.modules, "skintrack.core.change", None)
    plan = plan_for_region(db, rid, "gif", options=ExportOptions(size=160, heatmap=True))
    r = frames.FrameRenderer(db, plan)
    f = r.render(plan.photos[2])
    assert f.heatmap is None and "heatmap unavailable" in f.notes
