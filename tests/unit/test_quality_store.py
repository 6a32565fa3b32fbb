"""Stored capture quality: the migration, the store, the import step and the measurement warning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skintrack.core.quality import QualityThresholds, assess_quality
from skintrack.demo import synth
from skintrack.library import Library
from skintrack.library import schema as schema_mod
from skintrack.library.quality_store import (
    delete_quality,
    load_quality,
    qualities_for_region,
    save_quality,
)
from skintrack.services import quality as quality_service
from skintrack.services.analysis import analyze_region
from skintrack.services.checkin import run_import


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("quality-photos")
    skin = synth.make_skin((900, 700), seed=21)
    out = {}
    for name, pose, kw in [
        ("ref", synth.Pose(), {}),
        ("good", synth.Pose(shift=(5, 3)), {}),
        ("bright", synth.Pose(shift=(-4, 2)), {"exposure": 2.8}),
    ]:
        rgb = synth.photograph(skin, pose, (800, 600), seed=len(name), **kw)[0]
        out[name] = folder / f"{name}.jpg"
        Image.fromarray(rgb).save(out[name], quality=92)
    return out


@pytest.fixture
def lib(library_dir: Path):
    with Library.open(library_dir) as library:
        yield library


def test_migration_creates_the_table(lib: Library) -> None:
    assert lib.schema_version == schema_mod.LATEST_VERSION
    with lib._read() as conn:
        cols = {r["name"] for r in conn.execute("PRAGMA table_info(photo_quality)")}
    assert cols == {
        "photo_id",
        "reference_id",
        "overall",
        "checks",
        "thresholds",
        "algorithm_version",
        "created_at",
    }


def test_v3_fixture_row_survives_the_upgrade(tmp_path: Path) -> None:
    import shutil

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "libraries" / "v3"
    shutil.copytree(fixture, tmp_path / "lib")
    with Library.open(tmp_path / "lib", create=False) as lib:
        stored = load_quality(lib, 2)
        assert stored is not None and stored.overall == "warn" and stored.reference_id == 1
        assert stored.report.checks["clipping"].advice == "Too bright."


def test_save_load_replace_and_delete(lib: Library, photos: dict[str, Path]) -> None:
    region = lib.add_region("Arm")
    report = run_import(lib, region.id, [photos["ref"]], assess=False)
    pid = report.imported[0].id
    assert load_quality(lib, pid) is None
    rgb = np.array(Image.open(photos["bright"]))
    strict = QualityThresholds(glare_warn=0.001)
    result = assess_quality(rgb)
    save_quality(lib, pid, result, strict)
    stored = load_quality(lib, pid)
    assert stored is not None and stored.overall == "fail" and stored.thresholds == strict
    assert stored.report.to_json() == result.to_json()
    save_quality(lib, pid, assess_quality(np.array(Image.open(photos["good"]))), strict)
    assert load_quality(lib, pid).overall == "pass"
    assert set(qualities_for_region(lib, region.id)) == {pid}
    with pytest.raises(sqlite3.IntegrityError):
        save_quality(lib, 9999, result, strict)  # no such photo: the foreign key refuses it
    delete_quality(lib, pid)
    assert load_quality(lib, pid) is None


def test_import_stores_quality_against_the_reference(lib: Library, photos: dict[str, Path]) -> None:
    region = lib.add_region("Arm")
    first = run_import(lib, region.id, [photos["ref"]])
    ref_id = first.imported[0].id
    assert first.quality == {ref_id: "pass"}
    assert "framing" not in load_quality(lib, ref_id).report.checks  # no reference yet
    lib.set_reference(region.id, ref_id)
    later = run_import(lib, region.id, [photos["good"], photos["bright"]])
    good_id, bright_id = (p.id for p in later.imported)
    assert later.quality == {good_id: "pass", bright_id: "fail"}
    good = load_quality(lib, good_id)
    assert good.reference_id == ref_id and good.report.checks["framing"].status == "pass"
    assert load_quality(lib, bright_id).report.checks["clipping"].status == "fail"


def test_import_message_names_the_problem(lib: Library, photos: dict[str, Path]) -> None:
    from skintrack.services.checkin import import_files

    region = lib.add_region("Arm")
    job = import_files(lib, region.id, [photos["bright"]])
    message = next(job).message
    assert "fail" in message and "Too bright" in message


def test_unreadable_original_does_not_undo_the_import(
    lib: Library, photos: dict[str, Path], monkeypatch
) -> None:
    from skintrack.errors import InvalidInputError

    def broken(path: object) -> np.ndarray:
        raise InvalidInputError(Path(str(path)), "cannot decode")

    monkeypatch.setattr(quality_service, "load_for_quality", broken)
    region = lib.add_region("Arm")
    report = run_import(lib, region.id, [photos["good"]])
    assert len(report.imported) == 1 and report.quality == {report.imported[0].id: "unknown"}
    assert load_quality(lib, report.imported[0].id) is None


def test_thresholds_come_from_the_library(lib: Library) -> None:
    assert quality_service.thresholds_for(lib) == QualityThresholds()
    lib.set_setting(quality_service.SETTING_KEY, {"clipping_warn": 0.002})
    assert quality_service.thresholds_for(lib).clipping_warn == 0.002


def test_measurement_of_a_failed_photo_carries_a_warning(lib: Library, photos: dict[str, Path]) -> None:
    region = lib.add_region("Arm")
    ref_id = run_import(lib, region.id, [photos["ref"]]).imported[0].id
    lib.set_reference(region.id, ref_id)
    ids = [p.id for p in run_import(lib, region.id, [photos["good"], photos["bright"]]).imported]
    job = analyze_region(lib, region.id)
    while True:
        try:
            next(job)
        except StopIteration:
            break
    good = lib.measurement(ids[0], ref_id)
    bright = lib.measurement(ids[1], ref_id)
    assert good is not None and bright is not None
    assert not any("capture quality" in n for n in good.metrics.get("notes", []))
    notes = [n for n in bright.metrics.get("notes", []) if "capture quality" in n]
    assert notes and "highlights" in notes[0]
