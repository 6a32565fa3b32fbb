"""Helpers for the data-safety tests: the real CLI in a subprocess on a real library folder."""

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
TAG_EXIF_IFD = 0x8769
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011


def make_jpeg(path: Path, seed: int = 0, taken: str | None = None, offset: str | None = None) -> Path:
    """A small random JPEG, with DateTimeOriginal (and its offset) when given."""
    rgb = (np.random.default_rng(seed).random((48, 64, 3)) * 255).astype(np.uint8)
    exif = Image.Exif()
    if taken:
        exif.get_ifd(TAG_EXIF_IFD)[TAG_DATETIME_ORIGINAL] = taken
    if offset:
        exif.get_ifd(TAG_EXIF_IFD)[TAG_OFFSET_TIME_ORIGINAL] = offset
    Image.fromarray(rgb).save(path, quality=90, exif=exif.tobytes() if (taken or offset) else b"")
    return path


class Cli:
    """Runs ``python -m skintrack`` (or a script that patches it first) against one library."""

    def __init__(self, library: Path) -> None:
        self.library = library
        self.env = {**os.environ, "PYTHONPATH": str(APP), "SKINTRACK_LIBRARY": str(library / "unused")}

    def __call__(
        self, *args: str, library: bool = True, env: dict[str, str] | None = None, prelude: str = ""
    ) -> subprocess.CompletedProcess[str]:
        argv = list(args) + (["--library", str(self.library)] if library else [])
        if prelude:  # patch the process first (e.g. inject a full disk), then run the real CLI
            code = f"{prelude}\nimport sys\nfrom skintrack.cli import main\nsys.exit(main(sys.argv[1:]))"
            cmd = [sys.executable, "-c", code, *argv]
        else:
            cmd = [sys.executable, "-m", "skintrack", *argv]
        return subprocess.run(
            cmd, capture_output=True, text=True, env={**self.env, **(env or {})}, timeout=60, errors="replace"
        )

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def originals(self) -> list[Path]:
        """Every file under originals/, lost+found included."""
        root = self.library / "originals"
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
