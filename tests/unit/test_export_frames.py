"""export.frames: frames from the measurement pipeline, its metrics, failed alignments, heatmaps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from skintrack.core.align import Alignment
from skintrack.core.change import ChangeResult
from skintrack.errors import AlignmentFailedError
from skintrack.export import frames
from skintrack.export.contact_sheet import render_contact_sheet
from skintrack.export.plan import ExportOptions, plan_for_region
from skintrack.library.settings import load_settings
from skintrack.services import analysis, export_frames
from skintrack.services.pipeline import measurement_version
from support.export_library import make_library


@pytest.fixture
def lib(tmp_path: Path):
    lib, rid, ids = make_library(tmp_path / "lib", tmp_path / "src", 3, size=(320, 240))
    yield lib, rid, ids
    lib.close()


def test_frames_come_from_the_pipeline_in_reference_geometry(lib) -> None:
    db, rid, ids = lib
    plan = plan_for_region(db, rid, "gif", options=ExportOptions(size=200))
    r = export_frames.frame_renderer(db, plan)
    ref = r.render(plan.photos[0])
    later = r.render(plan.photos[2])
    assert ref.is_reference and later.aligned and later.alignment_method == "features"  # stored one reused
    assert ref.picture.shape == later.picture.shape and ref.image.shape[0] > ref.picture.shape[0]
    # the darkened block is in the middle; compare a border strip, where nothing changed
    a, b = ref.picture[:25].astype(int), later.picture[:25].astype(int)
    aligned_err = np.abs(a - b).mean()
    assert aligned_err < 8, aligned_err
    # the made-up stored measurement is stale: the frame shows the pipeline's own numbers
    measured = analysis.aligned_pair(db, rid, ids[0], ids[2]).metrics
    assert later.metrics == measured and later.metrics["mean_delta_L"] != -2.2
    assert later.caption.startswith("2025-") and "ΔL*" in later.caption


def test_a_current_stored_measurement_is_what_the_frame_shows(lib) -> None:
    from skintrack.library import MeasurementRecord

    db, rid, ids = lib
    version = measurement_version(load_settings(db), db.region(rid))
    stored = {"mean_delta_L": -7.5, "noise_delta_L": 0.4, "darkened_fraction": 0.0, "patches": []}
    db.save_measurement(MeasurementRecord(ids[1], ids[0], "model", stored, version))
    plan = plan_for_region(db, rid, "gif", options=ExportOptions(size=160))
    f = export_frames.frame_renderer(db, plan).render(plan.photos[1])
    assert f.metrics == stored and "ΔL* −7.5 (noise 0.4)" in f.caption
    assert f.aligned and f.heatmap is None


def test_only_frames_that_show_a_change_are_measured_again(lib, monkeypatch) -> None:
    from skintrack.library import MeasurementRecord

    db, rid, ids = lib
    version = measurement_version(load_settings(db), db.region(rid))
    db.save_measurement(MeasurementRecord(ids[1], ids[0], "model", {"mean_delta_L": -7.5}, version))
    seen = []
    real = export_frames.aligned_pair

    def spy(*args, pixels_only=False, **kwargs):
        seen.append((args[3], pixels_only))
        return real(*args, pixels_only=pixels_only, **kwargs)

    monkeypatch.setattr(export_frames, "aligned_pair", spy)
    for heat in (False, True):
        plan = plan_for_region(db, rid, "gif", options=ExportOptions(size=160, heatmap=heat))
        r = export_frames.frame_renderer(db, plan)
        out = [r.render(p) for p in plan.photos[1:]]
        assert out[0].metrics["mean_delta_L"] == -7.5  # the stored, current measurement either way
        assert (out[1].metrics or {}).get("change_version")  # not stored: measured by the pipeline
    # a current stored row and no heatmap: pictures only; a heatmap needs the real measurement
    assert seen == [(ids[1], True), (ids[2], False), (ids[1], False), (ids[2], False)]


def test_crop_box_follows_the_watched_area() -> None:
    region = SimpleNamespace(watched_area=[[[100, 100], [200, 100], [200, 150], [100, 150]]])
    x0, y0, x1, y1 = frames.crop_box(region, (1000, 800))
    assert x0 < 100 < 200 < x1 and y0 < 100 < 150 < y1 and x1 - x0 < 300
    assert frames.crop_box(SimpleNamespace(watched_area=None), (1000, 800)) == (0, 0, 1000, 800)


def test_aligned_pair_is_used_and_failures_become_captioned_frames(lib, monkeypatch) -> None:
    db, rid, ids = lib
    calls = []

    def fake_pair(lib, region_id, a, b, max_side=None, *, pixels_only=False):
        calls.append((a, b, max_side))
        if b == ids[1]:
            raise AlignmentFailedError("too few matches")
        img = np.full((180, 240, 3), 77, np.uint8)
        return analysis.AlignedPair(
            Alignment(True, np.eye(3), 0.8, "ecc"),
            img,
            img,
            img,
            np.ones((180, 240), bool),
            None,
            metrics={"mean_delta_L": -9.0},
            normalised=True,
        )

    monkeypatch.setattr(export_frames, "aligned_pair", fake_pair)
    plan = plan_for_region(db, rid, "mp4", options=ExportOptions(size=160))
    r = export_frames.frame_renderer(db, plan)
    out = [r.render(p) for p in plan.photos]
    assert [c[:2] for c in calls] == [(ids[0], ids[1]), (ids[0], ids[2])]  # never the reference itself
    assert not out[1].aligned and "not aligned" in out[1].caption and out[1].notes
    assert out[1].picture.shape == out[0].picture.shape  # letterboxed to the same size
    assert out[2].aligned and out[2].normalised and out[2].alignment_method == "ecc"
    assert np.all(out[2].picture == 77)


def test_heatmap_from_the_pipeline_change(lib, monkeypatch) -> None:
    db, rid, _ = lib
    seen = []

    def red(result, base_rgb=None, alpha=0.6, legend=True):
        seen.append(result)
        return np.full_like(base_rgb, (200, 0, 0))

    monkeypatch.setattr(frames, "heatmap_image", red)
    plan = plan_for_region(db, rid, "contact-sheet", options=ExportOptions(size=160, heatmap=True))
    r = export_frames.frame_renderer(db, plan)
    out = [r.render(p) for p in plan.photos]
    assert out[0].heatmap is None  # not for the reference
    assert out[2].heatmap is not None and out[2].heatmap.shape == out[2].picture.shape
    assert tuple(out[2].image[5, 5]) == (200, 0, 0)  # the timelapse frame shows the overlay
    assert seen and all(isinstance(c, ChangeResult) for c in seen)
    sheet = render_contact_sheet(out, title="t")
    plain = render_contact_sheet([f for f in out if f.heatmap is None] + [out[0]], title="t")
    assert sheet.shape[1] != plain.shape[1] or sheet.shape[0] != plain.shape[0]


def test_heatmap_failure_is_noted_not_fatal(lib, monkeypatch) -> None:
    db, rid, _ = lib

    def broken(*args, **kwargs):
        raise ValueError("no colour map")

    monkeypatch.setattr(frames, "heatmap_image", broken)
    plan = plan_for_region(db, rid, "gif", options=ExportOptions(size=160, heatmap=True))
    r = export_frames.frame_renderer(db, plan)
    f = r.render(plan.photos[2])
    assert f.heatmap is None and "heatmap unavailable" in f.notes


def test_captions_use_the_apps_minus_sign_and_no_negative_zero() -> None:
    def frame(metrics: dict) -> frames.Frame:
        img = np.zeros((4, 4, 3), np.uint8)
        return frames.Frame(
            1, datetime(2026, 3, 2, 9, 0), False, img, img, None, metrics, True, 0.9, "features", True
        )

    patch = {"area_px": 50, "mean_delta_L": -3.34}
    darker = frame({"mean_delta_L": -1.2, "darkened_fraction": 0.125, "patches": [patch]})
    assert darker.caption == "2026-03-02  darker patches ΔL* −3.3 over 12.5 %"
    flat = frame({"mean_delta_L": -0.04, "noise_delta_L": 0.31})
    assert flat.caption == "2026-03-02  ΔL* 0.0 (noise 0.3)"
    assert all("-" not in c.caption.split("  ", 1)[1] for c in (darker, flat))
