"""services.analysis: compare two files, analyse a region (rows, skipping, manual alignments, cancel)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from skintrack.core.align import ALGORITHM_VERSION, Alignment, scale_matrix
from skintrack.core.compare_json import COMPARE_KEYS
from skintrack.errors import AlignmentFailedError, Cancelled
from skintrack.progress import CancelToken, Progress
from skintrack.services import analysis
from support.cli_photos import H, W, canvas, write
from support.cli_photos import shoot as cli_shoot


def shoot(img: np.ndarray, rot: float, shift=(0.0, 0.0), darken: float = 0.0) -> np.ndarray:
    return cli_shoot(img, rot, shift, darken, radius=60)[0]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    c = canvas(3)
    return {
        "ref": write(tmp_path / "ref.jpg", shoot(c, 0.0)),
        "later": write(tmp_path / "later.jpg", shoot(c, 12.0, (25, -15), darken=0.75)),
        "third": write(tmp_path / "third.jpg", shoot(c, -8.0, (-20, 10), darken=0.7)),
        "other": write(tmp_path / "other.jpg", shoot(canvas(99), 0.0)),
    }


@pytest.fixture
def lib(library_dir: Path):
    from skintrack.library.db import Library

    with Library.open(library_dir) as lib:
        yield lib


def _region(lib, files: dict[str, Path], names=("ref", "later", "third")) -> tuple[int, list[int]]:
    rid = lib.add_region("forearm").id
    t0 = datetime(2025, 1, 1, 9, 0)
    ids = [
        lib.import_file(rid, files[n], taken_at=t0 + timedelta(days=30 * i)).photo.id
        for i, n in enumerate(names)
    ]
    return rid, ids


def run(gen):
    """Drive a service generator: (list of Progress, return value)."""
    progress = []
    while True:
        try:
            progress.append(next(gen))
        except StopIteration as stop:
            return progress, stop.value


# --------------------------------------------------------------------------- pure helpers


def test_to_reference_px_scales_areas_and_positions() -> None:
    m = {
        "darkened_area_px": 100,
        "compared_area_px": 5000,
        "thresholds": {"threshold_L": 3.0, "min_area_px": 10},
        "control": {"area_px": 50, "mean_delta_L": -0.2},
        "patches": [{"area_px": 100, "bbox": [10, 20, 30, 40], "centroid": [10.0, 20.0]}],
    }
    out = analysis.to_reference_px(m, (500, 400), (1000, 800))
    assert out["darkened_area_px"] == 400
    assert out["compared_area_px"] == 20000  # every area in one unit: reference pixels
    assert out["thresholds"] == {"threshold_L": 3.0, "min_area_px": 40}
    assert out["control"] == {"area_px": 200, "mean_delta_L": -0.2}
    p = out["patches"][0]
    assert p["area_px"] == 400
    assert p["bbox"] == [20, 40, 60, 80]
    assert p["centroid"] == [20.5, 40.5]  # pixel centres: (x + 0.5) / s - 0.5
    assert m["darkened_area_px"] == 100 and m["control"]["area_px"] == 50  # input untouched


def test_rasterise_polygon_at_analysis_scale() -> None:
    s = scale_matrix(0.5, 0.5)
    m = analysis.rasterise([[[100, 100], [300, 100], [300, 200], [100, 200]]], s, (300, 400))
    assert m is not None and m.dtype == bool
    ys, xs = np.nonzero(m)
    assert abs(xs.min() - 50) <= 1 and abs(xs.max() - 150) <= 1
    assert abs(ys.min() - 50) <= 1 and abs(ys.max() - 100) <= 1
    assert analysis.rasterise(None, s, (10, 10)) is None


def test_align_analysed_reports_full_resolution_homography(files) -> None:
    ref = analysis.load(files["ref"], max_side=360)  # half size (the files are 720x540)
    mov = analysis.load(files["later"], max_side=360)
    assert ref.analysis_scale == pytest.approx(0.5)
    a_small = analysis.align_analysed(ref, mov)
    a_full = analysis.align_analysed(analysis.load(files["ref"]), analysis.load(files["later"]))
    assert a_small.ok and a_full.ok
    grid = np.array([[100.0, 100.0, 1.0], [600.0, 400.0, 1.0], [360.0, 270.0, 1.0]])
    p1 = grid @ a_small.homography.T
    p2 = grid @ a_full.homography.T
    d = np.linalg.norm(p1[:, :2] / p1[:, 2:] - p2[:, :2] / p2[:, 2:], axis=1)
    assert d.max() < 1.5


# --------------------------------------------------------------------------- compare_files


def test_compare_files(files) -> None:
    out = analysis.compare_files(files["ref"], files["later"])
    assert out.alignment.ok and out.change is not None
    j = out.to_json()
    assert set(j) >= COMPARE_KEYS | {"analysis_scale"}
    assert j["analysis_scale"] == 1.0
    assert j["alignment"]["ok"] is True
    mask = out.full_mask()
    assert mask.shape == (H, W) and mask.dtype == np.uint8


def test_compare_files_with_roi(files) -> None:
    roi = np.zeros((H, W), bool)
    roi[100:300, 200:500] = True
    out = analysis.compare_files(files["ref"], files["later"], roi=roi)
    assert out.change is not None
    assert not (out.full_mask()[~roi] > 0).any()


def test_compare_unrelated_files_gives_no_measurement(files) -> None:
    out = analysis.compare_files(files["ref"], files["other"])
    assert not out.alignment.ok and out.change is None
    j = out.to_json()
    assert j["alignment"]["ok"] is False and j["alignment"]["homography"] is None
    assert not out.full_mask().any()


# --------------------------------------------------------------------------- analyze_region


def test_analyze_region_stores_rows_and_skips_current_ones(lib, files) -> None:
    rid, (p0, p1, p2) = _region(lib, files)
    progress, report = run(analysis.analyze_region(lib, rid))
    assert all(isinstance(p, Progress) for p in progress) and progress[-1].done == progress[-1].total
    # p1, p2 vs the reference p0, and p2 vs the previous photo p1
    assert (report.analysed, report.skipped, report.failed) == (3, 0, 0)
    for pid, ref in ((p1, p0), (p2, p0), (p2, p1)):
        a = lib.alignment(pid, ref)
        assert a is not None and a.ok and a.algorithm_version == ALGORITHM_VERSION
        m = lib.measurement(pid, ref)
        assert m is not None and "darkened_fraction" in m.metrics
        assert m.metrics["alignment"]["ok"] is True
    _, again = run(analysis.analyze_region(lib, rid))
    assert (again.analysed, again.skipped) == (0, 3)
    _, forced = run(analysis.analyze_region(lib, rid, force=True))
    assert forced.analysed == 3
    lib.set_setting("threshold_L", 4.0)  # a settings change makes measurements stale
    _, redo = run(analysis.analyze_region(lib, rid))
    assert redo.analysed == 3


def test_manual_alignment_is_reused_never_overwritten(lib, files) -> None:
    from skintrack.library.models import AlignmentRecord

    rid, (p0, p1, _p2) = _region(lib, files)
    run(analysis.analyze_region(lib, rid))
    auto = lib.alignment(p1, p0)
    manual = AlignmentRecord(
        p1, p0, True, auto.homography, 0.9, "manual", 4, "by hand", [[[0, 0], [0, 0]]] * 4, "align-0"
    )
    assert lib.save_alignment(manual)
    _, report = run(analysis.analyze_region(lib, rid, force=True))
    assert report.failed == 0
    kept = lib.alignment(p1, p0)
    assert kept.method == "manual" and kept.message == "by hand"
    assert lib.measurement(p1, p0).metrics["alignment"]["method"] == "manual"


def test_analysis_uses_region_reference_and_areas_and_skips_trash(lib, files) -> None:
    rid, (p0, p1, p2) = _region(lib, files)
    lib.set_reference(rid, p1)
    lib.set_areas(rid, watched=[[[100, 100], [600, 100], [600, 450], [100, 450]]])
    lib.trash_photo(p2)
    _, report = run(analysis.analyze_region(lib, rid))
    assert report.analysed == 1 and report.failed == 0
    assert lib.measurement(p0, p1) is not None
    assert lib.measurement(p2, p1) is None


def test_failed_alignment_is_stored_not_measured(lib, files) -> None:
    rid, (p0, p1) = _region(lib, files, ("ref", "other"))
    _, report = run(analysis.analyze_region(lib, rid))
    assert report.failed == 1 and report.analysed == 0
    rec = lib.alignment(p1, p0)
    assert rec is not None and not rec.ok and rec.homography is None
    assert lib.measurement(p1, p0) is None
    _, again = run(analysis.analyze_region(lib, rid))
    assert again.skipped == 1  # a current failure is not retried without force


def test_cancel_stops_the_analysis(lib, files) -> None:
    rid, _ = _region(lib, files)
    token = CancelToken()
    gen = analysis.analyze_region(lib, rid, token=token)
    next(gen)
    token.cancel()
    with pytest.raises(Cancelled):
        run(gen)


def test_region_with_one_photo(lib, files) -> None:
    rid, _ = _region(lib, files, ("ref",))
    progress, report = run(analysis.analyze_region(lib, rid))
    assert report.analysed == 0 and progress


# --------------------------------------------------------------------------- aligned_pair


def test_aligned_pair(lib, files) -> None:
    rid, (p0, p1, _) = _region(lib, files)
    pair = analysis.aligned_pair(lib, rid, p0, p1)
    assert isinstance(pair.alignment, Alignment) and pair.alignment.ok
    assert pair.reference.shape == pair.later_warped.shape == (H, W, 3)
    assert pair.valid.shape == (H, W) and pair.change is not None
    assert lib.alignment(p1, p0) is not None  # stored for next time
    diff = np.abs(pair.reference.astype(int) - pair.later_warped.astype(int)).mean(axis=2)
    assert np.median(diff[pair.valid]) < 8


def test_aligned_pair_raises_when_unaligned(lib, files) -> None:
    rid, (p0, p1) = _region(lib, files, ("ref", "other"))
    with pytest.raises(AlignmentFailedError):
        analysis.aligned_pair(lib, rid, p0, p1)


def test_card_moved_relative_to_skin_is_kept_out_of_the_alignment() -> None:
    from skintrack.core.align import transfer_error
    from skintrack.core.card import render_card_rgb

    card = render_card_rgb(dpi=110)
    c = canvas(31)
    ref = shoot(c, 0.0).copy()
    later = shoot(c, 10.0, (25, -15)).copy()
    ch, cw = card.shape[:2]
    ref[20 : 20 + ch, 20 : 20 + cw] = card  # taped elsewhere on the second date
    later[280 : 280 + ch, 320 : 320 + cw] = card
    a = analysis.align_analysed(analysis.Analysed(ref, (W, H)), analysis.Analysed(later, (W, H)))
    assert a.ok and a.method == "ecc", a.message
    cw_, ch_ = 2 * W, 2 * H

    def cam(rot_deg: float, shift) -> np.ndarray:
        t = math.radians(rot_deg)
        t_c = np.array([[1, 0, -(cw_ - 1) / 2 - shift[0]], [0, 1, -(ch_ - 1) / 2 - shift[1]], [0, 0, 1]])
        r = np.array([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1]])
        t_p = np.array([[1, 0, (W - 1) / 2], [0, 1, (H - 1) / 2], [0, 0, 1]])
        return t_p @ r @ t_c

    h_true = cam(0.0, (0, 0)) @ np.linalg.inv(cam(10.0, (25, -15)))
    assert transfer_error(a.homography, h_true / h_true[2, 2], (H, W)) < 0.3


def test_stale_measurement_is_voided_when_alignment_fails(lib, files, monkeypatch) -> None:
    rid, (p0, p1) = _region(lib, files, ("ref", "later"))
    run(analysis.analyze_region(lib, rid))
    assert lib.measurement(p1, p0).metrics["darkened_fraction"] is not None
    from skintrack.services import pipeline

    monkeypatch.setattr(
        pipeline, "align_analysed", lambda *a, **k: Alignment(False, None, message="no trustworthy alignment")
    )
    _, report = run(analysis.analyze_region(lib, rid, force=True))
    assert report.failed == 1
    m = lib.measurement(p1, p0)
    assert m.metrics["darkened_fraction"] is None and m.metrics["alignment"]["ok"] is False
    assert not lib.alignment(p1, p0).ok


def test_parallel_analysis_has_one_writer_and_reports_every_pair(lib, files, monkeypatch) -> None:
    import threading

    rid, (p0, p1, p2) = _region(lib, files)
    writers: set[str] = set()
    for name in ("save_alignment", "save_measurement"):
        real = getattr(lib, name)

        def spy(rec, real=real):
            writers.add(threading.current_thread().name)
            return real(rec)

        monkeypatch.setattr(lib, name, spy)
    monkeypatch.setattr(analysis, "ANALYSIS_THREADS", 2)
    progress, report = run(analysis.analyze_region(lib, rid))
    assert report.analysed == 3
    assert writers == {threading.current_thread().name}  # the generator's thread, never a worker
    finished = [p for p in progress if p.message.startswith("analysed ")]
    assert len(finished) == 3 and [p.done for p in finished] == [1, 2, 3]
    parallel = {k: lib.measurement(*k).metrics for k in ((p1, p0), (p2, p0), (p2, p1))}
    monkeypatch.setattr(analysis, "ANALYSIS_THREADS", 1)
    run(analysis.analyze_region(lib, rid, force=True))
    for k, metrics in parallel.items():
        assert lib.measurement(*k).metrics == metrics, k  # same numbers, however many threads
