"""The library half of the command line, run as a real process: exit codes, messages and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skintrack.commands.library_cmds import format_table

APP = Path(__file__).resolve().parents[2] / "app"


def make_jpeg(path: Path, seed: int = 0, taken: str | None = None) -> Path:
    rgb = (np.random.default_rng(seed).random((48, 64, 3)) * 255).astype(np.uint8)
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    Image.fromarray(rgb).save(path, quality=90, exif=exif.tobytes() if taken else b"")
    return path


class Cli:
    """Runs ``python -m skintrack`` against one library folder."""

    def __init__(self, library: Path) -> None:
        self.library = library
        self.env = {**os.environ, "PYTHONPATH": str(APP), "SKINTRACK_LIBRARY": str(library / "unused")}

    def __call__(self, *args: str, library: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "skintrack", *args]
        if library:
            cmd += ["--library", str(self.library)]
        return subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=60)

    def json(self, *args: str) -> object:
        result = self(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def cli(library_dir: Path) -> Cli:
    return Cli(library_dir)


def test_region_commands_and_json(cli: Cli) -> None:
    missing = cli("region", "list")
    assert missing.returncode == 1 and "no Skintrack library" in missing.stderr
    assert (
        cli("region", "add", "Left forearm", "--body-site", "inner", "--interval-days", "14").returncode == 0
    )
    added = cli.json("region", "add", "Right cheek", "--notes", "sunny side")
    assert added["name"] == "Right cheek" and added["notes"] == "sunny side"
    dup = cli("region", "add", "left forearm")
    assert dup.returncode == 2 and "already exists" in dup.stderr
    assert cli("region", "add", "X", "--interval-days", "0").returncode == 2

    regions = cli.json("region", "list")
    assert [r["name"] for r in regions] == ["Left forearm", "Right cheek"]
    first = regions[0]
    assert set(first) >= {
        "id",
        "name",
        "body_site",
        "interval_days",
        "photo_count",
        "last_taken_at",
        "overdue",
    }
    assert (first["body_site"], first["interval_days"], first["photo_count"]) == ("inner", 14, 0)
    assert first["created_at"][:4].isdigit() and "T" in first["created_at"]

    assert cli("region", "rename", "Right cheek", "Right cheekbone").returncode == 0
    assert cli("region", "archive", "Right cheekbone").returncode == 0
    assert [r["name"] for r in cli.json("region", "list")] == ["Left forearm"]
    both = cli.json("region", "list", "--all")
    assert [(r["name"], r["archived"]) for r in both] == [("Left forearm", False), ("Right cheekbone", True)]
    assert cli("region", "archive", "Right cheekbone", "--undo").returncode == 0
    human = cli("region", "list")
    lines = human.stdout.splitlines()
    assert lines[0].split()[:2] == ["ID", "NAME"]
    assert lines[1].index("Left forearm") == lines[0].index("NAME")  # aligned columns
    missing_region = cli("region", "rename", "Nope", "Other")
    assert missing_region.returncode == 2 and "Nope" in missing_region.stderr


def test_import_reports_bad_files_with_exit_4_after_importing_the_good_ones(cli: Cli, tmp_path: Path) -> None:
    assert cli("region", "add", "Arm").returncode == 0
    good = [make_jpeg(tmp_path / "a.jpg", 1, taken="2024:03:01 10:00:00"), make_jpeg(tmp_path / "b.jpg", 2)]
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 definitely not a jpeg")
    result = cli(
        "import", "--region", "Arm", str(good[0]), str(bad), str(good[1]), str(tmp_path / "nope.png")
    )
    assert result.returncode == 4
    assert "broken.jpg" in result.stderr and "nope.png" in result.stderr and "no such file" in result.stderr
    assert "Imported 2, skipped 0 duplicates, 2 failed: broken.jpg" in result.stdout

    again = cli.json("import", "--region", "Arm", str(good[0]))
    assert again["imported"] == [] and again["duplicates"] == [str(good[0])] and again["errors"] == []

    photos = cli.json("photos", "--region", "Arm")
    assert [p["original_name"] for p in photos] == ["a.jpg", "b.jpg"]
    assert photos[0]["taken_at"] == "2024-03-01T10:00:00" and photos[0]["taken_at_source"] == "exif"
    assert photos[1]["taken_at_source"] == "file"
    assert Path(photos[0]["path"]).is_file()
    assert set(photos[0]) >= {"id", "sha256", "width", "height", "notes", "deleted_at", "imported_at"}

    user = cli.json(
        "import", "--region", "Arm", str(make_jpeg(tmp_path / "c.jpg", 3)), "--date", "2023-12-24T18:30"
    )
    assert user["imported"][0]["taken_at"] == "2023-12-24T18:30:00"
    assert user["imported"][0]["taken_at_source"] == "user"

    for bad_date in ("2024-02-30", "24/12/2023", "2024-12-01T25:00"):
        r = cli("import", "--region", "Arm", str(good[1]), "--date", bad_date)
        assert r.returncode == 2 and "invalid date" in r.stderr
    unknown = cli("import", "--region", "Leg", str(good[1]))
    assert unknown.returncode == 2 and "no region named 'Leg'" in unknown.stderr


def test_photo_edit_trash_restore_and_empty(cli: Cli, tmp_path: Path) -> None:
    cli("region", "add", "Arm")
    imported = cli.json("import", "--region", "Arm", str(make_jpeg(tmp_path / "a.jpg", 1)))
    photo_id = str(imported["imported"][0]["id"])
    assert cli("photo", "edit", photo_id, "--date", "2024-01-05", "--notes", "after holiday").returncode == 0
    (photo,) = cli.json("photos", "--region", "Arm")
    assert (photo["taken_at"], photo["taken_at_source"], photo["notes"]) == (
        "2024-01-05T00:00:00",
        "user",
        "after holiday",
    )
    assert cli("photo", "edit", photo_id).returncode == 2  # nothing to change

    assert cli("photo", "trash", photo_id).returncode == 0
    assert cli.json("photos", "--region", "Arm") == []
    trashed = cli.json("photos", "--region", "Arm", "--trash")
    assert [p["id"] for p in trashed] == [int(photo_id)] and trashed[0]["deleted_at"]
    assert cli("photo", "restore", photo_id).returncode == 0
    assert len(cli.json("photos", "--region", "Arm")) == 1
    cli("photo", "trash", photo_id)
    emptied = cli("trash", "empty")
    assert emptied.returncode == 0 and "Deleted 1 photo" in emptied.stdout
    assert not Path(photo["path"]).exists()
    assert cli("photo", "trash", "999").returncode == 2


def test_journal_add_and_list(cli: Cli) -> None:
    added = cli.json(
        "journal", "add", "--date", "2024-03-01T08:00", "--kind", "dose", "--substance", "kratom",
        "--amount", "4.5", "--unit", "g",
    )  # fmt: skip
    assert (added["kind"], added["amount"], added["at"]) == ("dose", 4.5, "2024-03-01T08:00:00")
    assert cli("journal", "add", "--date", "2024-03-04", "--kind", "sun", "--notes", "beach").returncode == 0
    assert cli("journal", "add", "--date", "2024-03-09", "--kind", "note").returncode == 0
    entries = cli.json("journal", "list")
    assert [e["kind"] for e in entries] == ["dose", "sun", "note"]
    window = cli.json("journal", "list", "--from", "2024-03-02", "--to", "2024-03-04")
    assert [e["notes"] for e in window] == ["beach"]
    bad_kind = cli("journal", "add", "--date", "2024-03-01", "--kind", "party")
    assert bad_kind.returncode == 2
    bad_date = cli("journal", "add", "--date", "yesterday", "--kind", "note")
    assert bad_date.returncode == 2 and "invalid date" in bad_date.stderr
    assert cli("journal", "list", "--from", "2024-04-01", "--to", "2024-03-01").returncode == 2
    human = cli("journal", "list")
    assert "kratom" in human.stdout and "4.5 g" in human.stdout


def test_check_exit_codes_and_repair(cli: Cli, tmp_path: Path) -> None:
    cli("region", "add", "Arm")
    imported = cli.json("import", "--region", "Arm", str(make_jpeg(tmp_path / "a.jpg", 1)))
    assert cli.json("check") == {
        "ok": True,
        "orphans": [],
        "temp_files": [],
        "missing": [],
        "altered": [],
        "removed": [],
        "moved_to_lost_and_found": {},
        "lost_and_found": [],
        "busy_temp_files": [],
        "invalid_rows": [],
        "bad_dates": [],
        "notices": [],
        "stuck_swaps": [],
    }
    orphan = cli.library / "originals" / "ff" / ("f" * 64 + ".jpg")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"x")
    found = cli("check", "--json")
    assert found.returncode == 1 and json.loads(found.stdout)["orphans"] == [str(orphan)]
    repaired = cli("check", "--repair")
    assert repaired.returncode == 0 and "moved to" in repaired.stdout
    assert not orphan.exists() and (cli.library / "originals" / "lost+found" / orphan.name).exists()
    Path(imported["imported"][0]["path"]).unlink()
    missing = cli("check", "--repair", "--json")
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["missing"][0]["photo_id"] == imported["imported"][0]["id"]


def test_check_streams_progress_per_original(cli: Cli, tmp_path: Path) -> None:
    """``--progress`` reports each original hashed on stderr (JSON lines with --json); stdout
    keeps the single result; without it and off a terminal, stderr stays quiet."""
    cli("region", "add", "Arm")
    files = [str(make_jpeg(tmp_path / f"p{i}.jpg", i)) for i in range(3)]
    assert cli("import", "--region", "Arm", *files).returncode == 0
    quiet = cli("check", "--json")
    assert quiet.returncode == 0 and quiet.stderr == ""
    streamed = cli("check", "--json", "--progress")
    assert streamed.returncode == 0 and json.loads(streamed.stdout)["ok"] is True
    steps = [json.loads(line)["progress"] for line in streamed.stderr.splitlines()]
    assert [s["done"] for s in steps] == [0, 1, 2, 3] and {s["total"] for s in steps} == {3}
    assert all(s["message"].startswith("hashed ") for s in steps[1:])
    human = cli("check", "--progress")
    assert human.returncode == 0 and "Library OK." in human.stdout
    assert human.stderr.splitlines()[-1].startswith("[3/3] hashed ")


def test_library_from_environment_and_flag_before_subcommand(cli: Cli) -> None:
    env_lib = cli.library.parent / "from-env"
    result = subprocess.run(
        [sys.executable, "-m", "skintrack", "region", "add", "Env"],
        capture_output=True,
        text=True,
        env={**cli.env, "SKINTRACK_LIBRARY": str(env_lib)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (env_lib / "skintrack.sqlite3").exists()
    listed = cli("--library", str(env_lib), "region", "list", "--json", library=False)
    assert [r["name"] for r in json.loads(listed.stdout)] == ["Env"]


def test_demo_refuses_non_library_folder_and_needs_library(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "stuff"
    folder.mkdir()
    (folder / "thesis.txt").write_text("precious")
    refused = cli("demo", "--library", str(folder), "--force", library=False)
    assert refused.returncode == 2 and "not a Skintrack library" in refused.stderr
    assert (folder / "thesis.txt").exists()
    no_force = cli("demo", "--library", str(folder), library=False)
    assert no_force.returncode == 2 and "--force" in no_force.stderr
    env = {k: v for k, v in cli.env.items() if k != "SKINTRACK_LIBRARY"}
    bare = subprocess.run(
        [sys.executable, "-m", "skintrack", "demo"], capture_output=True, text=True, env=env, timeout=60
    )
    assert bare.returncode == 2 and "--library" in bare.stderr


def test_group_without_action_shows_help_with_usage_exit(cli: Cli) -> None:
    result = cli("journal")
    assert result.returncode == 2 and "add" in result.stderr


def test_format_table_aligns_columns() -> None:
    text = format_table(["ID", "NAME", "NOTES"], [[1, "Arm", ""], [12, "Left forearm", "x"]])
    lines = text.splitlines()
    assert lines[0].index("NAME") == 4
    assert lines[1].index("Arm") == lines[2].index("Left forearm") == 4
    assert all(line == line.rstrip() for line in lines)


def test_demo_drives_the_builder_and_replaces_a_library_with_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process with a stand-in builder: the real one is exercised by CI's wheel smoke test."""
    import types

    from skintrack.cli import main
    from skintrack.library import Library
    from skintrack.progress import Progress

    def fake_build(root: Path, token=None):
        with Library.open(root) as lib:
            lib.add_region("Left forearm")
        (root / "demo-truth").mkdir()
        (root / "demo-truth" / "truth.json").write_text("{}")  # as the real builder marks a demo
        for i in range(3):
            yield Progress(i + 1, 3, f"step {i + 1}")
        return {"library": str(root), "regions": ["Left forearm"], "photos": 0}

    monkeypatch.setitem(
        sys.modules, "skintrack.demo.build", types.SimpleNamespace(build_demo_library=fake_build)
    )
    target = tmp_path / "demo"
    assert main(["demo", "--library", str(target)]) == 0
    out, err = capsys.readouterr()
    assert "[3/3] step 3" in err
    assert "regions: Left forearm" in out and f"library: {target}" in out
    assert main(["demo", "--library", str(target)]) == 2  # exists: needs --force
    assert "--force" in capsys.readouterr().err
    (target / "originals" / "extra.txt").write_text("old")
    assert main(["--library", str(target), "demo", "--force", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["regions"] == ["Left forearm"]
    assert not (target / "originals" / "extra.txt").exists()
