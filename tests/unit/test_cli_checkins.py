"""`skintrack import --together / --check-in`, run as a real process: one check-in per call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

APP = Path(__file__).resolve().parents[2] / "app"


def make_jpeg(path: Path, seed: int) -> Path:
    rgb = (np.random.default_rng(seed).random((48, 64, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(path, quality=90)
    return path


def run(library: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(APP), "SKINTRACK_LIBRARY": str(library / "unused")}
    cmd = [sys.executable, "-m", "skintrack", *args, "--library", str(library)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)


def photos(library: Path) -> list[dict[str, Any]]:
    result = run(library, "photos", "--region", "Arm", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_import_together_makes_one_check_in_and_check_in_adds_to_it(
    library_dir: Path, tmp_path: Path
) -> None:
    assert run(library_dir, "region", "add", "Arm").returncode == 0
    shots = [make_jpeg(tmp_path / f"shot{i}.jpg", i) for i in range(3)]
    plain = run(library_dir, "import", "--region", "Arm", str(shots[0]), "--date", "2024-03-01")
    assert plain.returncode == 0, plain.stderr
    together = run(
        library_dir,
        "import",
        "--region",
        "Arm",
        "--together",
        "--date",
        "2024-04-01",
        str(shots[1]),
        str(shots[2]),
    )
    assert together.returncode == 0, together.stderr
    listed = photos(library_dir)
    assert all(isinstance(p["checkin_id"], int) for p in listed)
    by_name = {p["original_name"]: p["checkin_id"] for p in listed}
    assert by_name["shot1.jpg"] == by_name["shot2.jpg"] != by_name["shot0.jpg"]

    extra = make_jpeg(tmp_path / "shot3.jpg", 3)
    added = run(library_dir, "import", "--region", "Arm", "--check-in", str(by_name["shot0.jpg"]), str(extra))
    assert added.returncode == 0, added.stderr
    by_name = {p["original_name"]: p["checkin_id"] for p in photos(library_dir)}
    assert by_name["shot3.jpg"] == by_name["shot0.jpg"]
    table = run(library_dir, "photos", "--region", "Arm")
    assert "CHECK-IN" in table.stdout


def test_import_without_together_keeps_one_check_in_per_file(library_dir: Path, tmp_path: Path) -> None:
    assert run(library_dir, "region", "add", "Arm").returncode == 0
    shots = [str(make_jpeg(tmp_path / f"shot{i}.jpg", 10 + i)) for i in range(2)]
    assert run(library_dir, "import", "--region", "Arm", *shots).returncode == 0
    assert len({p["checkin_id"] for p in photos(library_dir)}) == 2


def test_import_check_in_refuses_unknown_or_foreign_check_in(library_dir: Path, tmp_path: Path) -> None:
    assert run(library_dir, "region", "add", "Arm").returncode == 0
    assert run(library_dir, "region", "add", "Leg").returncode == 0
    leg = run(library_dir, "import", "--region", "Leg", "--json", str(make_jpeg(tmp_path / "leg.jpg", 20)))
    leg_checkin = json.loads(leg.stdout)["imported"][0]["checkin_id"]
    shot = str(make_jpeg(tmp_path / "arm.jpg", 21))
    foreign = run(library_dir, "import", "--region", "Arm", "--check-in", str(leg_checkin), shot)
    assert foreign.returncode == 2 and "another region" in foreign.stderr
    unknown = run(library_dir, "import", "--region", "Arm", "--check-in", "999", shot)
    assert unknown.returncode == 2 and "no check-in with id 999" in unknown.stderr
    both = run(library_dir, "import", "--region", "Arm", "--together", "--check-in", "1", shot)
    assert both.returncode == 2 and "not allowed with" in both.stderr
    assert photos(library_dir) == []
    help_text = run(library_dir, "import", "--help")
    assert "--together" in help_text.stdout and "--check-in" in help_text.stdout


def test_import_together_of_only_bad_files_leaves_no_empty_check_in(
    library_dir: Path, tmp_path: Path
) -> None:
    assert run(library_dir, "region", "add", "Arm").returncode == 0
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a photo")
    failed = run(library_dir, "import", "--region", "Arm", "--together", str(bad))
    assert failed.returncode == 4 and "bad.jpg" in failed.stderr
    good = run(library_dir, "import", "--region", "Arm", "--json", str(make_jpeg(tmp_path / "ok.jpg", 30)))
    assert json.loads(good.stdout)["imported"][0]["checkin_id"] == 1
