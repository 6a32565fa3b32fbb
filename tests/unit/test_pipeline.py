"""services.pipeline without images: the pair plan, the reuse rule, alignment records, the
staleness hash, areas carried between photos, the card handed to core.change."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest

from skintrack.core import charts
from skintrack.core.align import ALGORITHM_VERSION, Alignment
from skintrack.core.change import CardCalibration, ChangeSettings
from skintrack.library.models import AlignmentRecord, MeasurementRecord
from skintrack.services import pipeline

T0 = datetime(2025, 1, 1, 9, 0)


def photos(n: int) -> list[SimpleNamespace]:
    return [SimpleNamespace(id=i + 1, taken_at=T0 + timedelta(days=30 * i)) for i in range(n)]


def rec(
    pid: int, rid: int, *, ok: bool = True, method: str = "features", version: str = ALGORITHM_VERSION
) -> AlignmentRecord:
    h = np.eye(3).tolist() if ok else None
    return AlignmentRecord(pid, rid, ok, h, 0.9, method, 100, "ok", None, version)


def meas(pid: int, rid: int, version: str) -> MeasurementRecord:
    return MeasurementRecord(pid, rid, "model", {"mean_delta_L": -1.0}, version)


def plan(ps, ref_id, alignments, measurements, version="v", force=False):
    return pipeline.plan_pairs(
        ps,
        ref_id,
        alignment_of=lambda p, r: alignments.get((p, r)),
        measurement_of=lambda p, r: measurements.get((p, r)),
        version=version,
        force=force,
    )


REGION = SimpleNamespace(watched_area=[[[0, 0], [10, 0], [10, 10]]], control_area=None)


# --------------------------------------------------------------------------- plan


def test_pairs_are_each_photo_vs_the_reference_then_vs_the_previous_one() -> None:
    ps = photos(4)
    pairs = [(p.id, r) for p, r in pipeline.pair_list(ps, 1)]
    assert pairs == [(2, 1), (3, 1), (4, 1), (3, 2), (4, 3)]
    # a later reference: nobody is compared with it twice, and no pair touches it as "previous"
    pairs = [(p.id, r) for p, r in pipeline.pair_list(ps, 3)]
    assert pairs == [(1, 3), (2, 3), (4, 3), (2, 1)]


def test_plan_of_a_new_region_measures_everything_and_aligns_everything() -> None:
    items = plan(photos(3), 1, {}, {})
    assert [(i.photo_id, i.reference_id) for i in items] == [(2, 1), (3, 1), (3, 2)]
    assert all(i.stale and not i.reuse_alignment for i in items)
    assert {i.reason for i in items} == {"not measured yet"}
    assert items[0].label == "2025-01-31"


def test_plan_skips_current_rows_and_redoes_stale_ones() -> None:
    alignments = {(2, 1): rec(2, 1), (3, 1): rec(3, 1), (3, 2): rec(3, 2, version="align-0")}
    measurements = {(2, 1): meas(2, 1, "v"), (3, 1): meas(3, 1, "old"), (3, 2): meas(3, 2, "v")}
    items = {(i.photo_id, i.reference_id): i for i in plan(photos(3), 1, alignments, measurements)}
    assert not items[2, 1].stale and items[2, 1].reason == "up to date"
    assert items[3, 1].stale and items[3, 1].reuse_alignment  # settings changed: alignment still good
    assert items[3, 1].reason == "settings, areas or algorithms changed"
    assert items[3, 2].stale and not items[3, 2].reuse_alignment  # an older aligner: align again


def test_a_pair_vs_the_previous_photo_is_redone_when_its_areas_move() -> None:
    version = "v"
    alignments = {(2, 1): rec(2, 1, version="align-0"), (3, 1): rec(3, 1), (3, 2): rec(3, 2)}
    measurements = {k: meas(*k, version) for k in alignments}
    items = {(i.photo_id, i.reference_id): i for i in plan(photos(3), 1, alignments, measurements, version)}
    assert items[2, 1].stale and not items[2, 1].reuse_alignment  # photo 2 is aligned onto 1 again
    assert items[3, 2].stale and items[3, 2].reuse_alignment  # its areas come through that alignment
    assert "areas carried over" in items[3, 2].reason
    assert not items[3, 1].stale


def test_a_current_failed_alignment_is_not_retried_unless_forced() -> None:
    alignments = {(2, 1): rec(2, 1, ok=False)}
    (item,) = plan(photos(2), 1, alignments, {})
    assert not item.stale and "not retried" in item.reason
    (forced,) = plan(photos(2), 1, alignments, {}, force=True)
    assert forced.stale and not forced.reuse_alignment


def test_force_redoes_every_row_but_keeps_manual_alignments() -> None:
    alignments = {(2, 1): rec(2, 1, method="manual", version="align-0"), (3, 1): rec(3, 1)}
    measurements = {k: meas(*k, "v") for k in ((2, 1), (3, 1), (3, 2))}
    items = {
        (i.photo_id, i.reference_id): i for i in plan(photos(3), 1, alignments, measurements, force=True)
    }
    assert all(i.stale for i in items.values())
    assert items[2, 1].reuse_alignment and not items[3, 1].reuse_alignment


# --------------------------------------------------------------------------- the reuse rule


@pytest.mark.parametrize(
    ("record", "force", "reused"),
    [
        (None, False, False),
        (rec(2, 1), False, True),
        (rec(2, 1), True, False),
        (rec(2, 1, version="align-0"), False, False),
        (rec(2, 1, method="manual", version="align-0"), False, True),
        (rec(2, 1, method="manual"), True, True),  # never overwritten, even on a forced redo
        (rec(2, 1, ok=False), False, True),  # a current failure would fail again
    ],
)
def test_reuse_rule(record, force: bool, reused: bool) -> None:
    assert pipeline.reuse_alignment(record, force=force) is reused


def test_alignment_record_round_trip() -> None:
    h = np.array([[1.0, 0.01, 5.0], [-0.01, 1.0, -3.0], [0.0, 0.0, 1.0]])
    a = Alignment(True, h, 0.87, "ecc", 321, "fine")
    r = pipeline.alignment_record(4, 2, a)
    assert (r.photo_id, r.reference_id, r.algorithm_version) == (4, 2, ALGORITHM_VERSION)
    assert r.manual_points is None and isinstance(r.homography, list)
    back = pipeline.alignment_from_record(r)
    assert back.ok and np.allclose(back.homography, h)
    assert (back.quality, back.method, back.inliers, back.message) == (0.87, "ecc", 321, "fine")
    pts = [[[1.0, 2.0], [3.0, 4.0]]] * 4
    manual = pipeline.alignment_record(4, 2, Alignment(True, h, 1.0, "manual", 4), manual_points=pts)
    assert manual.method == "manual" and manual.manual_points == pts


def test_failed_record_gives_a_failed_alignment_without_homography() -> None:
    r = pipeline.alignment_record(4, 2, Alignment(False, None, message="too few matches"))
    back = pipeline.alignment_from_record(r)
    assert not back.ok and back.homography is None and back.message == "too few matches"
    bad = dataclasses.replace(rec(2, 1), homography=[[float("nan")] * 3] * 3)
    assert pipeline.alignment_from_record(bad).homography is None


# --------------------------------------------------------------------------- staleness hash


def _changed(name: str, value: object) -> object:
    """Another valid value of setting ``name`` (within its documented choices or range)."""
    meta = next(f.metadata for f in dataclasses.fields(ChangeSettings) if f.name == name)
    if isinstance(value, bool):
        return not value
    if "choices" in meta:
        return next(c for c in meta["choices"] if c != value)
    if isinstance(value, int | float):
        step = value + 1 if meta.get("max") is None or value + 1 <= meta["max"] else value / 2
        return type(value)(step)
    return str(value) + "-other"


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(ChangeSettings)])
def test_measurement_version_covers_every_setting(name: str) -> None:
    base = pipeline.measurement_version(ChangeSettings(), REGION)
    assert base == pipeline.measurement_version(ChangeSettings(), REGION)  # deterministic
    other = dataclasses.replace(ChangeSettings(), **{name: _changed(name, getattr(ChangeSettings(), name))})
    assert pipeline.measurement_version(other, REGION) != base


def test_measurement_version_covers_both_areas_and_the_calibration(monkeypatch) -> None:
    s = ChangeSettings()
    base = pipeline.measurement_version(s, REGION)
    moved = SimpleNamespace(watched_area=[[[0, 0], [11, 0], [10, 10]]], control_area=None)
    control = SimpleNamespace(watched_area=REGION.watched_area, control_area=[[[5, 5], [6, 5], [6, 6]]])
    assert pipeline.measurement_version(s, moved) != base
    assert pipeline.measurement_version(s, control) != base
    from skintrack.core import card

    monkeypatch.setattr(card, "MIN_MARKERS", card.MIN_MARKERS + 1)
    assert pipeline.measurement_version(s, REGION) != base
    monkeypatch.undo()
    assert pipeline.measurement_version(s, REGION) == base


def test_measurement_version_names_the_algorithms() -> None:
    from skintrack.core import change

    v = pipeline.measurement_version(ChangeSettings(), REGION)
    assert v.startswith(f"{pipeline.MEASURE_VERSION}/{ALGORITHM_VERSION}/{change.ALGORITHM_VERSION}/")


# --------------------------------------------------------------------------- areas


class FakeLib:
    def __init__(self, alignments: dict[tuple[int, int], AlignmentRecord]) -> None:
        self.alignments = alignments

    def alignment(self, photo_id: int, reference_id: int) -> AlignmentRecord | None:
        return self.alignments.get((photo_id, reference_id))


def test_areas_of_the_region_reference_are_its_polygons() -> None:
    region = SimpleNamespace(watched_area=[[[1, 1], [5, 1], [5, 5]]], control_area=[[[7, 7], [9, 7], [9, 9]]])
    areas = pipeline.region_areas(FakeLib({}), region, 1, 1)
    assert areas.watched == region.watched_area and areas.control == region.control_area


def test_areas_are_carried_onto_another_photo_through_its_alignment() -> None:
    region = SimpleNamespace(watched_area=[[[100, 100], [200, 100], [200, 150]]], control_area=None)
    shift = [[1.0, 0.0, 30.0], [0.0, 1.0, -10.0], [0.0, 0.0, 1.0]]  # photo 2 -> region reference 1
    lib = FakeLib({(2, 1): AlignmentRecord(2, 1, True, shift, 0.9, "ecc", 50, "", None, ALGORITHM_VERSION)})
    areas = pipeline.region_areas(lib, region, 2, 1)
    assert np.allclose(areas.watched, [[[70, 110], [170, 110], [170, 160]]])
    assert areas.control is None
    assert pipeline.region_areas(FakeLib({}), region, 2, 1) == pipeline.Areas()  # no alignment, no areas


def test_area_masks_from_polygons_and_from_masks() -> None:
    ref = pipeline.Analysed(np.zeros((50, 100, 3), np.uint8), (200, 100))  # half resolution
    poly = [[[20, 20], [100, 20], [100, 60], [20, 60]]]
    cli_mask = np.zeros((100, 200), bool)
    cli_mask[:, 100:] = True
    roi, control = pipeline.area_masks(pipeline.Areas(watched=poly, control_mask=cli_mask), ref)
    assert roi.shape == control.shape == (50, 100)
    ys, xs = np.nonzero(roi)
    assert abs(xs.min() - 10) <= 1 and abs(xs.max() - 50) <= 1 and abs(ys.max() - 30) <= 1
    assert control[:, 55:].all() and not control[:, :45].any()
    assert pipeline.area_masks(None, ref) == (None, None)


# --------------------------------------------------------------------------- charts


def test_charts_are_detected_once_per_photo_and_both_go_to_core_change(monkeypatch) -> None:

    calls = []
    det = SimpleNamespace(
        kind="skintrack-card",
        mask=np.zeros((40, 60), np.uint8),
        colour_correction=object(),
        mm_per_px=0.2,
        homography=np.eye(3),
    )
    det.mask[5:15, 5:25] = 255

    def fake_detect(rgb):
        calls.append(rgb.shape)
        return det

    monkeypatch.setattr(charts, "detect_chart", fake_detect)
    ref = pipeline.Analysed(np.zeros((40, 60, 3), np.uint8), (60, 40))
    mov = pipeline.Analysed(np.zeros((40, 60, 3), np.uint8), (60, 40))
    shift = np.array([[1.0, 0, 20], [0, 1.0, 10], [0, 0, 1.0]])  # the later card lands elsewhere
    cal = pipeline.card_calibration(ref, mov, shift)
    pipeline.card_calibration(ref, mov, shift)
    assert len(calls) == 2  # once per photo, however often asked
    assert isinstance(cal, CardCalibration) and cal.mm_per_px == 0.2
    assert cal.ref_cc is det.colour_correction and cal.later_cc is det.colour_correction
    assert cal.mask[10, 10] and cal.mask[20, 30] and not cal.mask[35, 55]  # both cards kept out


def test_no_chart_no_card_calibration(monkeypatch) -> None:
    from skintrack.core import card

    monkeypatch.setattr(card, "detect_card", lambda rgb: None)
    monkeypatch.setattr(charts, "_detect_colorchecker", lambda rgb: None)
    ref = pipeline.Analysed(np.zeros((40, 60, 3), np.uint8), (60, 40))
    assert pipeline.card_calibration(ref, ref, np.eye(3)) is None


def test_a_failing_detector_is_logged_not_raised(monkeypatch, caplog) -> None:
    import cv2

    from skintrack.core import card

    def broken(rgb):
        raise cv2.error("bad marker corners")

    monkeypatch.setattr(card, "detect_card", broken)
    assert pipeline.detect_calibration(np.zeros((10, 10, 3), np.uint8)) is None
    assert "calibration card detection failed" in caplog.text
    photo = pipeline.Analysed(np.zeros((10, 10, 3), np.uint8), (10, 10))
    assert photo.calibration() is None
    assert photo.card_problems and "bad marker corners" in photo.card_problems[0]  # goes into the notes


# --------------------------------------------------------------------------- shape of the code


@pytest.mark.parametrize(
    "module",
    ["services/pipeline.py", "services/pair_geometry.py", "services/analysis.py", "library/settings.py"],
)
def test_no_function_in_the_measurement_path_is_long(module: str) -> None:
    import ast
    from pathlib import Path

    import skintrack

    path = Path(skintrack.__file__).parent / module
    long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 60
    ]
    assert not long, long
