"""``skintrack align | compare | analyze`` through a real subprocess: exit codes and JSON contract."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from skintrack.core.compare_json import COMPARE_KEYS, PATCH_KEYS

ROOT = Path(__file__).resolve().parents[2]

W, H = 720, 540
ALIGN_KEYS = {"ok", "homography", "quality", "method", "inliers", "message"}


def skintrack(*args: str, library: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "app"), env.get("PYTHONPATH")]))
    if library is not None:
        env["SKINTRACK_LIBRARY"] = str(library)
    return subprocess.run(
        [sys.executable, "-m", "skintrack", *args], capture_output=True, text=True, env=env, timeout=120
    )


def canvas(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cw, ch = 2 * W, 2 * H
    lum = np.zeros((ch, cw), np.float32)
    for sigma, amp in ((40, 14.0), (10, 8.0), (2.5, 6.0), (1.0, 4.0)):
        f = max(1, int(sigma // 3))  # coarse noise made small and upsampled: fast
        n = rng.standard_normal((ch // f + 2, cw // f + 2)).astype(np.float32)
        n = cv2.GaussianBlur(n, (0, 0), sigma / f)
        n = cv2.resize(n, (cw, ch), interpolation=cv2.INTER_CUBIC) if f > 1 else n[:ch, :cw]
        lum += amp * n / n.std()
    for _ in range(600):
        cv2.circle(lum, (int(rng.uniform(0, cw)), int(rng.uniform(0, ch))), 1, -25, -1)
    base = 150 + lum
    return np.clip(np.stack([base, base * 0.78, base * 0.66], -1), 0, 255).astype(np.float32)


def shoot(
    img: np.ndarray, rot: float, shift=(0.0, 0.0), darken: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """A photo of the canvas and the canvas -> photo homography."""
    cw, ch = 2 * W, 2 * H
    th = math.radians(rot)
    t_c = np.array([[1, 0, -(cw - 1) / 2 - shift[0]], [0, 1, -(ch - 1) / 2 - shift[1]], [0, 0, 1]])
    r = np.array([[math.cos(th), -math.sin(th), 0], [math.sin(th), math.cos(th), 0], [0, 0, 1]])
    t_p = np.array([[1, 0, (W - 1) / 2], [0, 1, (H - 1) / 2], [0, 0, 1]])
    src = img.copy()
    if darken:
        yy, xx = np.mgrid[0:ch, 0:cw]
        src[((xx - cw / 2) ** 2 + (yy - ch / 2) ** 2) < 70**2] *= darken
    h = t_p @ r @ t_c
    out = cv2.warpPerspective(src, h, (W, H), flags=cv2.INTER_LINEAR)
    return np.clip(out, 0, 255).astype(np.uint8), h


def write(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("cli")
    c = canvas(5)
    ref, h_ref = shoot(c, 0.0)
    later, h_later = shoot(c, 10.0, (20, -10), darken=0.7)
    h_true = h_ref @ np.linalg.inv(h_later)
    return {
        "ref": write(d / "ref.jpg", ref),
        "later": write(d / "later.jpg", later),
        "other": write(d / "other.jpg", shoot(canvas(77), 0.0)[0]),
        "h_true": h_true / h_true[2, 2],
        "dir": d,
    }


def test_align_json(files) -> None:
    r = skintrack("align", str(files["ref"]), str(files["later"]), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == ALIGN_KEYS
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
    assert set(out) == ALIGN_KEYS
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
    assert set(out["alignment"]) == ALIGN_KEYS | {"refinement"} and out["alignment"]["ok"] is True
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
