"""Inbox folders, scanning, dismiss and accept on real libraries, and region matching correctness."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from skintrack.demo import phone
from skintrack.errors import UsageError
from skintrack.library import Library, inbox_store, schema
from skintrack.services import inbox
from skintrack.services.region_match import RegionIndex

SIZE = (640, 480)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> phone.InboxScenario:
    base = tmp_path_factory.mktemp("scenario")
    return phone.write_scenario(
        base / "refs", base / "inbox", regions=3, later_per_region=2, unrelated=2, size=SIZE
    )


@pytest.fixture
def lib_with_regions(library_dir: Path, scenario: phone.InboxScenario) -> Library:
    lib = Library.open(library_dir)
    for name, ref in scenario.references.items():
        region = lib.add_region(name, interval_days=14)
        photo = lib.import_file(region.id, ref).photo
        lib.set_reference(region.id, photo.id)
    yield lib
    lib.close()


def test_migration_adds_inbox_tables(library_dir: Path) -> None:
    with Library.open(library_dir) as lib:
        assert lib.schema_version == schema.LATEST_VERSION
    conn = sqlite3.connect(library_dir / "skintrack.sqlite3")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert {"inbox_folder", "inbox_dismissed", "reminder_state"} <= tables


def test_folders_add_list_remove(library_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "Phone" / "DCIM"
    folder.mkdir(parents=True)
    with Library.open(library_dir) as lib:
        inbox_store.add_folder(lib, folder)
        inbox_store.add_folder(lib, folder / ".")  # same folder: no second row
        assert [f.path for f in inbox_store.list_folders(lib)] == [folder.resolve()]
        with pytest.raises(UsageError, match="no such folder"):
            inbox_store.add_folder(lib, tmp_path / "missing")
        inbox_store.remove_folder(lib, folder)
        assert inbox_store.list_folders(lib) == []
        with pytest.raises(UsageError, match="not an inbox folder"):
            inbox_store.remove_folder(lib, folder)
    assert folder.is_dir()


def test_candidate_files_skip_hidden_temp_and_other_types(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / ".thumbnails").mkdir()
    rgb = np.full((40, 40, 3), 128, np.uint8)
    keep = [phone.save_jpeg(tmp_path / "x.jpg", rgb), phone.save_jpeg(tmp_path / "a" / "y.JPG", rgb)]
    phone.save_jpeg(tmp_path / ".thumbnails" / "t.jpg", rgb)
    phone.save_jpeg(tmp_path / ".hidden.jpg", rgb)
    (tmp_path / "notes.txt").write_text("hello")
    assert sorted(inbox.candidate_files([tmp_path])) == sorted(keep)


def test_scan_proposes_regions_and_never_touches_inbox_files(
    lib_with_regions: Library, scenario: phone.InboxScenario
) -> None:
    inbox_dir = next(iter(scenario.truth)).parent
    before = _digest(inbox_dir)
    inbox_store.add_folder(lib_with_regions, inbox_dir)
    items = inbox.run_scan(lib_with_regions)
    assert {it.path for it in items} == set(scenario.truth)
    for item in items:
        expected = scenario.truth[item.path]
        proposed = item.match.proposed.name if item.match and item.match.proposed else None
        assert proposed == expected, item.path.name
        assert item.sure == (expected is not None), item.path.name
        assert 0.0 <= item.match.confidence <= 1.0
        if expected is not None:
            assert item.taken_at_source == "exif" and item.taken_at.day >= 2
            assert item.match.confidence > 0.5
        else:
            assert item.match.confidence == 0.0 and len(item.match.candidates) == 2
    assert _digest(inbox_dir) == before


def test_accept_sure_copies_and_rescan_hides_them(
    lib_with_regions: Library, scenario: phone.InboxScenario
) -> None:
    lib = lib_with_regions
    inbox_dir = next(iter(scenario.truth)).parent
    before = _digest(inbox_dir)
    inbox_store.add_folder(lib, inbox_dir)
    items = inbox.run_scan(lib)
    report = inbox.accept_sure(lib, items)
    assert len(report.imported) == sum(1 for v in scenario.truth.values() if v is not None)
    for photo in report.imported:
        src = next(p for p in scenario.truth if p.name == photo.original_name)
        assert lib.region(photo.region_id).name == scenario.truth[src]
        assert photo.taken_at_source == "exif"
    remaining = inbox.run_scan(lib)
    assert {it.path for it in remaining} == {p for p, v in scenario.truth.items() if v is None}
    inbox.dismiss(lib, remaining[0])
    assert [it.path for it in inbox.run_scan(lib)] == [remaining[1].path]
    assert _digest(inbox_dir) == before


def test_accept_one_file_into_a_chosen_region(
    lib_with_regions: Library, scenario: phone.InboxScenario
) -> None:
    unrelated = next(p for p, v in scenario.truth.items() if v is None)
    region = lib_with_regions.region_by_name("Region 2")
    report = inbox.accept(lib_with_regions, unrelated, region.id)
    assert [p.region_id for p in report.imported] == [region.id]
    assert unrelated.is_file()


def test_accept_several_files_into_one_region_is_one_report(
    lib_with_regions: Library, scenario: phone.InboxScenario
) -> None:
    files = sorted(scenario.truth)
    region = lib_with_regions.region_by_name("Region 1")
    report = inbox.accept_into(lib_with_regions, [*files, files[0]], region.id)
    assert sorted(p.original_name for p in report.imported) == sorted(f.name for f in files)
    assert {p.region_id for p in report.imported} == {region.id}
    assert report.duplicates == [files[0]] and not report.errors  # the repeated file is not copied twice
    assert all(f.is_file() for f in files)


def test_unreadable_inbox_file_is_listed_with_its_reason(library_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with Library.open(library_dir) as lib:
        inbox_store.add_folder(lib, tmp_path)
        [item] = inbox.run_scan(lib)
    assert item.error and item.match is None and not item.sure
    assert item.to_json()["proposed_region"] is None


def test_region_index_with_no_regions_proposes_nothing() -> None:
    match = RegionIndex.from_images([]).match(np.full((300, 400, 3), 120, np.uint8))
    assert match.proposed is None and not match.sure and match.candidates == []


def test_runner_up_that_also_verifies_makes_the_match_unsure() -> None:
    """Two regions showing the same skin: the aligner accepts both, so neither may be sure."""
    skin = phone.skin_for(3, SIZE)
    ref = phone.reference_photo(skin, SIZE)
    index = RegionIndex.from_images([(1, "Left", ref), (2, "Left again", ref.copy())])
    match = index.match(phone.later_photo(skin, SIZE, seed=11))
    assert match.proposed is not None and match.proposed.verified
    assert not match.sure
    assert [c.verified for c in match.candidates] == [True, True]
    assert match.confidence < 0.6


def test_item_json_has_the_documented_keys(lib_with_regions: Library, scenario: phone.InboxScenario) -> None:
    inbox_store.add_folder(lib_with_regions, next(iter(scenario.truth)).parent)
    data = inbox.run_scan(lib_with_regions)[0].to_json()
    assert {"path", "taken_at", "proposed_region", "confidence", "sure", "candidates"} <= set(data)
    assert datetime.fromisoformat(str(data["taken_at"]))


def test_inbox_rows_of_a_v4_library_survive_the_upgrade(tmp_path: Path) -> None:
    import shutil

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "libraries" / "v4"
    shutil.copytree(fixture, tmp_path / "lib")
    with Library.open(tmp_path / "lib", create=False) as lib:
        assert [str(f.path) for f in inbox_store.list_folders(lib)] == ["/home/user/Phone/DCIM"]
        assert inbox_store.dismissed_hashes(lib) == {"ab" * 32}
        assert inbox_store.reminder_states(lib)[1].snoozed_until == datetime.fromisoformat(
            "2024-04-13T09:00:00+02:00"
        )


def test_region_index_is_reused_until_a_reference_changes(lib_with_regions: Library, tmp_path: Path) -> None:
    first = RegionIndex.cached(lib_with_regions)
    assert RegionIndex.cached(lib_with_regions) is first and len(first) == 3
    region = lib_with_regions.region_by_name("Region 1")
    other = phone.save_jpeg(tmp_path / "new_ref.jpg", phone.reference_photo(phone.skin_for(77, SIZE), SIZE))
    photo = lib_with_regions.import_file(region.id, other).photo
    lib_with_regions.set_reference(region.id, photo.id)
    assert RegionIndex.cached(lib_with_regions) is not first


def test_rescan_reuses_the_match_of_unchanged_photos(
    lib_with_regions: Library, scenario: phone.InboxScenario
) -> None:
    inbox_store.add_folder(lib_with_regions, next(iter(scenario.truth)).parent)
    first = {it.path: it.match for it in inbox.run_scan(lib_with_regions)}
    again = {it.path: it.match for it in inbox.run_scan(lib_with_regions)}
    assert all(again[p] is first[p] for p in first)
