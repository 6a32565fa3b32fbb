"""Everyday command-line behaviour, as a real process: spellings, no prefix guessing, honest exit codes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from skintrack.library.db import Library
from support.cli_photos import cli_photos, skintrack


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A reference, a shifted darker shot of the same surface, an unrelated photo."""
    return cli_photos(tmp_path_factory.mktemp("cli"))


def _region(lib_dir: Path, files: dict[str, object], keys: tuple[str, ...]) -> None:
    with Library.open(lib_dir) as lib:
        rid = lib.add_region("arm").id
        t0 = datetime(2025, 3, 1)
        for i, key in enumerate(keys):
            lib.import_file(rid, files[key], taken_at=t0 + timedelta(days=14 * i))


def test_analyse_is_accepted_and_reports_comparisons(files, tmp_path: Path) -> None:
    lib_dir = tmp_path / "lib"
    _region(lib_dir, files, ("ref", "later"))
    r = skintrack("analyse", "--region", "arm", library=lib_dir)
    assert r.returncode == 0, r.stderr
    assert "1 comparison measured" in r.stdout and "analysed" not in r.stdout.split("\n")[0]
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("[")]
    assert len(lines) == len(set(lines)), r.stderr  # no progress line twice
    assert not any("analysis complete" in ln for ln in lines)


def test_analyze_exits_3_with_the_count_when_a_photo_is_not_aligned(files, tmp_path: Path) -> None:
    lib_dir = tmp_path / "lib"
    _region(lib_dir, files, ("ref", "later", "other"))
    r = skintrack("analyze", "--region", "arm", library=lib_dir)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "1 photo of region 'arm' could not be aligned" in r.stderr
    j = skintrack("analyze", "--region", "arm", "--json", library=lib_dir)
    assert j.returncode == 3
    assert json.loads(j.stdout)["not_aligned"] == 1


def test_option_prefixes_are_not_guessed(tmp_path: Path) -> None:
    lib_dir = tmp_path / "lib"
    Library.open(lib_dir).close()
    r = skintrack("journal", "add", "--dat", "2026-01-01", "--kind", "note", library=lib_dir)
    assert r.returncode == 2 and "--dat" in r.stderr
    r = skintrack("--lib", str(lib_dir), "region", "list")
    assert r.returncode == 2
    ok = skintrack("journal", "add", "--date", "2026-01-01", "--kind", "note", library=lib_dir)
    assert ok.returncode == 0, ok.stderr


def test_journal_add_options_have_help() -> None:
    r = skintrack("journal", "add", "--help")
    assert r.returncode == 0
    for option, words in (
        ("--date", "when it happened"),
        ("--substance", "what was taken"),
        ("--amount", "how much"),
        ("--unit", "unit of the amount"),
        ("--notes", "free text"),
    ):
        assert option in r.stdout and words in r.stdout, option


def test_import_of_a_missing_file_reports_only_the_error(tmp_path: Path) -> None:
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        lib.add_region("arm")
    missing = tmp_path / "no-such-photo.jpg"
    r = skintrack("import", "--region", "arm", str(missing), library=lib_dir)
    assert r.returncode == 4
    assert "Imported 0" not in r.stdout
    assert "Nothing imported, 1 failed: no-such-photo.jpg" in r.stdout
    assert str(missing) in r.stderr
