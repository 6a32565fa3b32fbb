"""Peak memory of importing a small file that declares a huge, deep image.

Run: .venv/bin/python -m pytest tests/benchmarks/test_bench_decode_memory.py -m benchmark -s

A 10900 x 10900 16-bit RGB PNG (an 8-bit preview is all an import needs) is written row by row,
then imported by the real CLI in a child process; its peak resident size is read with getrusage.
Goal: under the 1 GiB decoded-size budget (``core.images.DEFAULT_MAX_DECODED_BYTES``).
"""

from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from skintrack.core.images import DEFAULT_MAX_DECODED_BYTES
from skintrack.library import Library

pytestmark = [pytest.mark.benchmark, pytest.mark.skipif(sys.platform != "linux", reason="getrusage units")]

SIDE = 10_900
APP = Path(__file__).resolve().parents[2] / "app"


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _write_deep_png(path: Path, side: int) -> None:
    row = np.zeros((side, 3), ">u2")
    row[:, 0] = np.linspace(0, 65535, side).astype(">u2")
    row[:, 2] = 30000
    raw = b"\x00" + row.tobytes()
    comp = zlib.compressobj(1)
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 16, 2, 0, 0, 0)))
        fh.write(_chunk(b"IDAT", b"".join(comp.compress(raw) for _ in range(side)) + comp.flush()))
        fh.write(_chunk(b"IEND", b""))


def test_peak_memory_of_importing_a_huge_16_bit_png(tmp_path: Path) -> None:
    png = tmp_path / "deep.png"
    _write_deep_png(png, SIDE)
    with Library.open(tmp_path / "lib") as lib:
        lib.add_region("Arm")
    cmd = [
        sys.executable,
        "-m",
        "skintrack",
        "import",
        "--region",
        "Arm",
        str(png),
        "--library",
        str(tmp_path / "lib"),
    ]
    env = {**os.environ, "PYTHONPATH": str(APP)}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    size_mb = png.stat().st_size / 1e6
    print(
        f"\nimport of a {size_mb:.0f} MB {SIDE}x{SIDE} 16-bit PNG: peak {peak / 1e6:.0f} MB "
        f"(goal < {DEFAULT_MAX_DECODED_BYTES / 1e6:.0f} MB), exit {done.returncode}"
    )
    assert done.returncode == 0, done.stderr
    assert peak < DEFAULT_MAX_DECODED_BYTES
