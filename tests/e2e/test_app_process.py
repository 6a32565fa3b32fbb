"""End to end: real ``python -m skintrack`` under Xvfb; xdotool presses Left and Ctrl+K; screenshot checked.

Skipped when Xvfb, xdotool or ImageMagick's ``import`` are missing. The app gets its own library,
settings file and log folder; nothing touches the user's real data.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

TOOLS = ("Xvfb", "xdotool", "import")
ROOT = Path(__file__).resolve().parents[2]


def _missing() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def _free_display() -> int:
    for n in range(99, 160):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@pytest.fixture
def xvfb() -> Iterator[str]:
    missing = _missing()
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    n = _free_display()
    proc = subprocess.Popen(
        ["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    display = f":{n}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.skip("Xvfb did not start")
    yield display
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


def _library(root: Path) -> Path:
    from skintrack.library import Library

    lib_dir = root / "library"
    src = root / "src"
    src.mkdir()
    rng = np.random.default_rng(3)
    with Library.open(lib_dir) as lib:
        region = lib.add_region("Left forearm", body_site="forearm", interval_days=30)
        for i in range(4):
            px = np.empty((240, 320, 3), np.float32)
            px[:] = (200 - 6 * i, 150 - 5 * i, 120 - 4 * i)
            px += rng.normal(0, 8, (240, 320, 1))
            path = src / f"p{i}.jpg"
            Image.fromarray(np.clip(px, 0, 255).astype(np.uint8)).save(path, quality=90)
            lib.import_file(region.id, path, taken_at=datetime(2026, 1, 5) + timedelta(days=30 * i))
    return lib_dir


def _xdotool(display: str, *args: str, timeout: float = 30) -> str:
    env = {**os.environ, "DISPLAY": display}
    out = subprocess.run(
        ["xdotool", *args], env=env, capture_output=True, text=True, timeout=timeout, check=True
    )
    return out.stdout.strip()


def test_app_starts_responds_to_keys_and_draws(xvfb: str, tmp_path: Path) -> None:
    lib_dir = _library(tmp_path)
    env = {
        **os.environ,
        "DISPLAY": xvfb,
        "QT_QPA_PLATFORM": "xcb",
        "SKINTRACK_SETTINGS": str(tmp_path / "settings.ini"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(ROOT / "app"),
    }
    env.pop("SKINTRACK_TEST_DISPLAY", None)
    app = subprocess.Popen(
        [sys.executable, "-m", "skintrack", "--library", str(lib_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wid = _xdotool(
            xvfb, "search", "--sync", "--onlyvisible", "--name", "Skintrack", timeout=60
        ).splitlines()[-1]
        assert app.poll() is None, "the app exited early"
        _xdotool(xvfb, "windowfocus", wid)  # no window manager under bare Xvfb
        time.sleep(1.5)  # thumbnails and preview load in workers
        _xdotool(xvfb, "key", "Left")
        time.sleep(0.5)
        _xdotool(xvfb, "key", "ctrl+k")  # compare the selected check-in with the reference
        cmp_ids = _xdotool(xvfb, "search", "--sync", "--onlyvisible", "--name", "Compare", timeout=60)
        assert cmp_ids, "Ctrl+K did not open the compare window"
        time.sleep(2.0)
        shot = tmp_path / "screen.png"
        subprocess.run(
            ["import", "-display", xvfb, "-window", "root", str(shot)], check=True, timeout=30, env=env
        )
        px = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float32)
        assert px.std() > 12, f"screenshot looks blank (std {px.std():.1f})"
        assert app.poll() is None, "the app crashed after the key presses"
    finally:
        if app.poll() is None:
            os.killpg(app.pid, signal.SIGTERM)
            try:
                app.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(app.pid, signal.SIGKILL)
        output = app.stdout.read().decode(errors="replace") if app.stdout else ""
    assert "Traceback" not in output, output
