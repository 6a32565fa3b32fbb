"""The use cases the GUI runs in its pools: check-in, region edit, demo library; progress helpers."""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from skintrack.errors import Cancelled
from skintrack.library import Library
from skintrack.progress import CancelToken, Progress, rescaled, run_steps
from skintrack.services import analysis, checkin, demo
from skintrack.services.checkin import CheckInItem, JournalLine, check_in
from skintrack.services.regions import AreaMasks, RegionEdit, save_region_edit
from support.library_photos import make_jpeg


def _no_analysis(monkeypatch: pytest.MonkeyPatch, calls: list[int]) -> None:
    def fake(lib: Library, region_id: int, *, token: CancelToken | None = None, force: bool = False):
        calls.append(region_id)
        yield Progress(1, 2, "photo 1")
        yield Progress(2, 2, "photo 2")
        return analysis.AnalysisReport(analysed=2)

    monkeypatch.setattr(analysis, "analyze_region", fake)


def test_check_in_imports_one_batch_with_per_file_dates_then_analyses(
    lib: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    region = lib.add_region("Arm")
    batches: list[list[Path]] = []
    real = checkin.import_files

    def counting(*args, **kwargs):
        batches.append(list(args[2]))
        return (yield from real(*args, **kwargs))

    monkeypatch.setattr(checkin, "import_files", counting)
    analysed: list[int] = []
    _no_analysis(monkeypatch, analysed)
    when = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    files = [make_jpeg(tmp_path / f"p{i}.jpg", i) for i in range(3)]
    items = [CheckInItem(files[0], when), CheckInItem(files[1]), CheckInItem(files[2], when.replace(day=2))]
    journal = JournalLine(when, "dose", "kratom", 4.0, "g")
    kept: list[int] = []
    steps: list[Progress] = []
    result = run_steps(
        check_in(lib, region.id, items, notes="evening", journal=journal, imported=kept), steps.append
    )
    assert len(batches) == 1 and batches[0] == files  # one batch: the next files are prepared ahead
    assert result.region_id == region.id and result.photo_ids == kept and len(kept) == 3
    photos = {p.original_name: p for p in lib.list_photos(region.id)}
    assert photos["p0.jpg"].taken_at == when and photos["p2.jpg"].taken_at == when.replace(day=2)
    assert photos["p1.jpg"].taken_at_source != "user" and photos["p1.jpg"].notes == "evening"
    (entry,) = lib.list_journal()
    assert (entry.kind, entry.substance, entry.amount) == ("dose", "kratom", 4.0)
    assert analysed == [region.id] and result.analysis_error is None
    dones = [s.done for s in steps]
    assert dones == sorted(dones) and dones[-1] == 1000 and all(s.total == 1000 for s in steps)


def test_cancelled_check_in_keeps_what_was_stored_and_adds_no_journal(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    token = CancelToken()
    items = [CheckInItem(make_jpeg(tmp_path / f"c{i}.jpg", 10 + i)) for i in range(4)]
    kept: list[int] = []

    def cancel_after_first(step: Progress) -> None:
        if step.message.startswith("Imported"):
            token.cancel()

    journal = JournalLine(datetime.now().astimezone(), "note")
    with pytest.raises(Cancelled):
        run_steps(
            check_in(lib, region.id, items, journal=journal, token=token, imported=kept), cancel_after_first
        )
    assert 1 <= len(kept) < 4 and len(lib.list_photos(region.id)) == len(kept)
    assert lib.list_journal() == []


def test_failed_analysis_is_reported_and_the_import_kept(
    lib: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(lib: Library, region_id: int, *, token: CancelToken | None = None, force: bool = False):
        yield Progress(0, 1, "")
        raise RuntimeError("alignment exploded")

    monkeypatch.setattr(analysis, "analyze_region", broken)
    region = lib.add_region("Arm")
    result = run_steps(check_in(lib, region.id, [CheckInItem(make_jpeg(tmp_path / "a.jpg"))]))
    assert result.analysis_error == "alignment exploded" and len(result.photo_ids) == 1


def test_save_region_edit_stores_details_reference_and_areas(lib: Library, tmp_path: Path) -> None:
    region = lib.add_region("Arm")
    a = lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg", 1)).photo
    b = lib.import_file(region.id, make_jpeg(tmp_path / "b.jpg", 2)).photo
    watched = np.zeros((24, 32), np.uint8)
    watched[4:12, 4:16] = 255
    edit = RegionEdit(
        name="Left arm",
        body_site="forearm",
        interval_days=14,
        reference_id=b.id,
        areas=AreaMasks(watched, np.zeros_like(watched), scale=2.0),
    )
    saved = save_region_edit(lib, region.id, edit)
    assert (saved.name, saved.body_site, saved.interval_days) == ("Left arm", "forearm", 14)
    assert saved.reference_photo_id == b.id != a.id
    (poly,) = saved.watched_area
    xs = [x for x, _y in poly]
    assert min(xs) == pytest.approx(8, abs=2) and max(xs) == pytest.approx(30, abs=2)  # reference pixels
    assert not saved.control_area
    renamed = save_region_edit(lib, region.id, RegionEdit(name="Arm again"))
    assert renamed.reference_photo_id == b.id and renamed.watched_area == saved.watched_area


def test_demo_never_touches_a_users_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_build(root: Path, token: CancelToken | None = None, analyse: bool = True):
        root.mkdir(parents=True, exist_ok=True)
        (root / "half.txt").write_text("partial")
        yield Progress(1, 2, "")
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo, "build_demo_library", failing_build)
    monkeypatch.setattr(demo, "demo_dir", lambda: tmp_path / "cache" / "demo-library")
    mine = tmp_path / "my-photos"
    mine.mkdir()
    (mine / "keep.jpg").write_bytes(b"precious")
    with pytest.raises(RuntimeError, match="disk full"):
        run_steps(demo.ensure_demo_library(mine))
    assert (mine / "keep.jpg").read_bytes() == b"precious"
    assert [
        p.name for p in tmp_path.iterdir() if p.name.startswith("demo-library-")
    ] == []  # its own try removed


def test_rescaled_maps_a_sub_job_and_returns_its_result() -> None:
    def sub() -> Generator[Progress, None, str]:
        yield Progress(0, 4, "a")
        yield Progress(2, 4, "")
        yield Progress(4, 4, "c")
        return "sub result"

    def outer() -> Generator[Progress, None, str]:
        result = yield from rescaled(sub(), 500, 500, 1000, "working")
        return result.upper()

    seen: list[Progress] = []
    assert run_steps(outer(), seen.append) == "SUB RESULT"
    assert seen == [Progress(500, 1000, "a"), Progress(750, 1000, "working"), Progress(1000, 1000, "c")]
    assert run_steps(42) == 42  # a job that returned its result directly


def test_run_steps_stops_a_cancelled_job_between_steps() -> None:
    token = CancelToken()
    ran: list[int] = []

    def job() -> Generator[Progress, None, None]:
        for i in range(10):
            ran.append(i)
            yield Progress(i, 10)

    with pytest.raises(Cancelled):
        run_steps(job(), lambda p: token.cancel() if p.done == 2 else None, token)
    assert ran == [0, 1, 2]


def test_manual_alignment_is_stored_as_manual_with_its_points(lib: Library, tmp_path: Path) -> None:
    from skintrack.core.align import Alignment
    from skintrack.services.manual_alignment import save_manual_alignment

    region = lib.add_region("Arm")
    a = lib.import_file(region.id, make_jpeg(tmp_path / "a.jpg", 1)).photo
    b = lib.import_file(region.id, make_jpeg(tmp_path / "b.jpg", 2)).photo
    h = np.array([[1.0, 0.0, 3.0], [0.0, 1.0, -2.0], [0.0, 0.0, 1.0]])
    points = [((10.0, 10.0), (7.0, 12.0)), ((40.0, 10.0), (37.0, 12.0)), ((10.0, 30.0), (7.0, 32.0))]
    save_manual_alignment(lib, a.id, b.id, Alignment(ok=True, homography=h, quality=0.9), points)
    rec = lib.alignment(b.id, a.id)
    assert rec is not None and rec.method == "manual" and rec.ok and rec.inliers == 3
    assert np.allclose(rec.homography, h) and rec.manual_points[1] == [[40.0, 10.0], [37.0, 12.0]]
    with pytest.raises(ValueError):
        save_manual_alignment(lib, a.id, b.id, Alignment(ok=False, homography=None), points)
