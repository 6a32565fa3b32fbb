"""``skintrack inbox`` and ``skintrack due`` run as real processes on real temporary libraries."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from skintrack.demo import phone

APP = Path(__file__).resolve().parents[2] / "app"


def run(library: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(APP), "SKINTRACK_LIBRARY": str(library / "unused")}
    cmd = [sys.executable, "-m", "skintrack", *args, "--library", str(library)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def ok(library: Path, *args: str) -> str:
    result = run(library, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> phone.InboxScenario:
    base = tmp_path_factory.mktemp("cli-scenario")
    return phone.write_scenario(
        base / "refs", base / "inbox", regions=2, later_per_region=1, unrelated=1, size=(640, 480)
    )


def _library(library_dir: Path, scenario: phone.InboxScenario) -> Path:
    for name, ref in scenario.references.items():
        ok(library_dir, "region", "add", name, "--interval-days", "14")
        ok(library_dir, "import", "--region", name, str(ref), "--date", "2026-02-01")
    return library_dir


def test_inbox_folders_add_remove(library_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "Camera"
    folder.mkdir()
    ok(library_dir, "region", "add", "Arm")
    assert "Watching" in ok(library_dir, "inbox", "add", str(folder))
    listed = json.loads(ok(library_dir, "inbox", "folders", "--json"))
    assert [f["path"] for f in listed] == [str(folder.resolve())] and listed[0]["exists"]
    missing = run(library_dir, "inbox", "add", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "no such folder" in missing.stderr
    ok(library_dir, "inbox", "remove", str(folder))
    assert json.loads(ok(library_dir, "inbox", "folders", "--json")) == []
    again = run(library_dir, "inbox", "remove", str(folder))
    assert again.returncode == 2 and "not an inbox folder" in again.stderr


def test_scan_json_accept_sure_and_dismiss(library_dir: Path, scenario: phone.InboxScenario) -> None:
    lib = _library(library_dir, scenario)
    inbox_dir = next(iter(scenario.truth)).parent
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox_dir.iterdir()}
    ok(lib, "inbox", "add", str(inbox_dir))
    items = json.loads(ok(lib, "inbox", "scan", "--json"))
    by_path = {Path(it["path"]): it for it in items}
    assert set(by_path) == set(scenario.truth)
    for path, expected in scenario.truth.items():
        item = by_path[path]
        assert set(item) >= {"path", "taken_at", "proposed_region", "confidence", "sure", "candidates"}
        assert item["proposed_region"] == expected
        assert item["sure"] is (expected is not None)
        assert 0.0 <= item["confidence"] <= 1.0
    unrelated = next(p for p, v in scenario.truth.items() if v is None)
    assert len(by_path[unrelated]["candidates"]) == 2

    human = ok(lib, "inbox", "scan")
    assert "3 new photo(s), 2 sorted for sure" in human

    accepted = ok(lib, "inbox", "accept", "--sure")
    assert accepted.count("Imported") == 2
    photos = json.loads(ok(lib, "photos", "--region", "Region 1", "--json"))
    assert len(photos) == 2
    left = json.loads(ok(lib, "inbox", "scan", "--json"))
    assert [Path(it["path"]) for it in left] == [unrelated]

    ok(lib, "inbox", "dismiss", str(unrelated))
    assert json.loads(ok(lib, "inbox", "scan", "--json")) == []
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox_dir.iterdir()}
    assert after == before


def test_accept_one_file_into_a_named_region(library_dir: Path, scenario: phone.InboxScenario) -> None:
    lib = _library(library_dir, scenario)
    unrelated = next(p for p, v in scenario.truth.items() if v is None)
    assert "Imported" in ok(lib, "inbox", "accept", str(unrelated), "--region", "Region 2")
    assert len(json.loads(ok(lib, "photos", "--region", "Region 2", "--json"))) == 2
    usage = run(lib, "inbox", "accept", str(unrelated))
    assert usage.returncode == 2 and "--region" in usage.stderr
    unknown = run(lib, "inbox", "accept", str(unrelated), "--region", "Nowhere")
    assert unknown.returncode == 2 and "no region named" in unknown.stderr


def test_due_json_and_ics(library_dir: Path, tmp_path: Path) -> None:
    today = date.today()
    ok(library_dir, "region", "add", "Overdue arm", "--interval-days", "7")
    ok(library_dir, "region", "add", "Fresh cheek", "--interval-days", "30")
    ok(library_dir, "region", "add", "No interval")
    jpeg = phone.save_jpeg(
        tmp_path / "a.jpg", phone.reference_photo(phone.skin_for(1, (160, 120)), (160, 120))
    )
    jpeg2 = phone.save_jpeg(
        tmp_path / "b.jpg", phone.reference_photo(phone.skin_for(2, (160, 120)), (160, 120))
    )
    ok(
        library_dir,
        "import",
        "--region",
        "Overdue arm",
        str(jpeg),
        "--date",
        (today - timedelta(days=10)).isoformat(),
    )
    ok(library_dir, "import", "--region", "Fresh cheek", str(jpeg2), "--date", today.isoformat())

    due = json.loads(ok(library_dir, "due", "--json"))
    assert [d["region"] for d in due] == ["Overdue arm"]
    assert due[0]["status"] == "overdue" and due[0]["days_overdue"] == 3
    assert due[0]["next_due"] == (today - timedelta(days=3)).isoformat()
    every = json.loads(ok(library_dir, "due", "--json", "--all"))
    assert {d["region"]: d["status"] for d in every} == {"Overdue arm": "overdue", "Fresh cheek": "upcoming"}
    assert "Overdue arm" in ok(library_dir, "due")

    ics_path = tmp_path / "cal" / "skintrack.ics"
    ok(library_dir, "due", "--ics", str(ics_path))
    raw = ics_path.read_bytes()
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    lines = raw.decode().split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == 2 == lines.count("END:VEVENT")
    starts = [line for line in lines if line.startswith("DTSTART;VALUE=DATE:")]
    assert f"DTSTART;VALUE=DATE:{(today + timedelta(days=30)).strftime('%Y%m%d')}" in starts
    assert all(re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line) for line in lines if line.startswith("DTSTAMP"))
    assert "RRULE:FREQ=DAILY;INTERVAL=7" in lines
