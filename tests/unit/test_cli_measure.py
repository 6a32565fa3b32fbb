"""``skintrack align | compare | analyze`` through a real subprocess: exit codes and JSON contract."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from skintrack.core.compare_json import ALIGNMENT_KEYS, COMPARE_KEYS, PATCH_KEYS
from support.cli_photos import H, W, cli_photos, skintrack


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return cli_photos(tmp_path_factory.mktemp("cli"))


def test_align_json(files) -> None:
    r = skintrack("align", str(files["ref"]), str(files["later"]), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == ALIGNMENT_KEYS
    assert out["ok"] is True and out["method"] in ("features", "ecc")
    assert 0 < out["quality"] <= 1 and out["inliers"] >= 15
    h = np.array(out["homography"])
    assert h.shape == (3, 3)
    from skintrack.core.align import transfer_error

    assert transfer_error(h, files["h_true"], (H, W)) < 0.5


def test_align_human_output(files, capsys: pytest.CaptureFixture[str]) -> None:
    from skintrack.cli import main

    assert main(["align", str(files["ref"]), str(files["later"])]) == 0  # in process: fast
    out = capsys.readouterr().out
    assert "homography" in out and "quality" in out


def test_align_unrelated_exit_3(files) -> None:
    r = skintrack("align", str(files["ref"]), str(files["other"]), "--json")
    assert r.returncode == 3
    out = json.loads(r.stdout)
    assert set(out) == ALIGNMENT_KEYS
    assert out["ok"] is False and out["homography"] is None and out["message"]


def test_invalid_input_exit_4(files, tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg at all")
    r = skintrack("align", str(files["ref"]), str(bad), "--json")
    assert r.returncode == 4
    assert "broken.jpg" in r.stderr
    r = skintrack("compare", str(tmp_path / "missing.jpg"), str(files["ref"]))
    assert r.returncode == 4 and "missing.jpg" in r.stderr


def test_compare_mask_of_wrong_size_exit_4(files, tmp_path: Path) -> None:
    mask = tmp_path / "roi.png"
    cv2.imwrite(str(mask), np.zeros((10, 10), np.uint8))
    r = skintrack("compare", str(files["ref"]), str(files["later"]), "--roi", str(mask))
    assert r.returncode == 4 and "roi.png" in r.stderr


def test_compare_unrelated_exit_3(files, tmp_path: Path) -> None:
    mask_out = tmp_path / "m.png"
    r = skintrack("compare", str(files["ref"]), str(files["other"]), "--json", "--mask-out", str(mask_out))
    assert r.returncode == 3
    out = json.loads(r.stdout)
    assert out["alignment"]["ok"] is False
    m = cv2.imread(str(mask_out), cv2.IMREAD_UNCHANGED)
    assert m.shape == (H, W) and not m.any()


def test_compare_json_contract_and_outputs(files, tmp_path: Path) -> None:
    roi = np.zeros((H, W), np.uint8)
    roi[60:480, 80:640] = 255
    control = np.zeros((H, W), np.uint8)
    control[20:60, 20:120] = 255
    cv2.imwrite(str(tmp_path / "roi.png"), roi)
    cv2.imwrite(str(tmp_path / "control.png"), control)
    mask_out, heat = tmp_path / "mask.png", tmp_path / "heat.png"
    r = skintrack(
        "compare",
        str(files["ref"]),
        str(files["later"]),
        "--roi",
        str(tmp_path / "roi.png"),
        "--control",
        str(tmp_path / "control.png"),
        "--mask-out",
        str(mask_out),
        "--heatmap-out",
        str(heat),
        "--json",
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) >= COMPARE_KEYS | {"compared_fraction", "excluded", "detection_limit_L", "warnings"}
    assert set(out) >= {"normalisation"} and 0.0 < out["compared_fraction"] <= 1.0
    assert set(out["alignment"]) == ALIGNMENT_KEYS | {"refinement"} and out["alignment"]["ok"] is True
    assert {"applied", "median_px", "p95_px", "max_px"} <= set(out["alignment"]["refinement"])
    assert out["calibration"] == "control"  # --control was given and no card is in the photos
    for p in out["patches"]:
        assert set(p) >= PATCH_KEYS
        assert len(p["bbox"]) == 4 and len(p["centroid"]) == 2
    m = cv2.imread(str(mask_out), cv2.IMREAD_UNCHANGED)
    assert m.dtype == np.uint8 and m.shape == (H, W)
    assert set(np.unique(m)) <= {0, 255}
    assert not m[roi == 0].any()
    assert cv2.imread(str(heat)) is not None


def test_compare_human_output(files, capsys: pytest.CaptureFixture[str]) -> None:
    from skintrack.cli import main

    assert main(["compare", str(files["ref"]), str(files["later"])]) == 0
    out = capsys.readouterr().out
    assert "calibration" in out and "ΔL*" in out and "alignment" in out and "px" in out


def test_analyze_region(files, tmp_path: Path) -> None:
    from skintrack.library.db import Library

    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        rid = lib.add_region("arm").id
        t0 = datetime(2025, 3, 1)
        for i, key in enumerate(("ref", "later")):
            lib.import_file(rid, files[key], taken_at=t0 + timedelta(days=14 * i))
    r = skintrack("analyze", "--region", "arm", "--json", library=lib_dir)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["analysed"] == 1 and out["failed"] == 0
    assert out["photos"][0]["aligned"] is True
    r = skintrack("--library", str(lib_dir), "analyze", "--region", "arm")
    assert r.returncode == 0, r.stderr
    assert "1 up to date" in r.stdout
    r = skintrack("analyze", "--region", "nope", library=lib_dir)
    assert r.returncode == 2
