"""A command starts without importing what it does not use (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("matplotlib", "reportlab", "PySide6", "skintrack.ui", "skintrack.export.pdf_report")


def _modules_after(code: str, *args: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "app"), env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_parsing_compare_imports_no_heavy_module() -> None:
    loaded = _modules_after(
        "import skintrack.cli as c\nc.build_parser().parse_args(['compare', 'a.jpg', 'b.jpg'])"
    )
    assert "skintrack.cli" in loaded and "skintrack.commands.measure_cmds" in loaded  # the probe ran
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY}
    assert "numpy" not in loaded  # parsing needs no image maths
    assert "importlib.metadata" not in loaded  # the version is looked up only for --version


def test_a_whole_compare_run_imports_no_gui_chart_or_pdf_module(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(tmp_path / f"{name}.jpg")
    code = (
        "import contextlib, io, sys\n"
        "from skintrack import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = cli.main(['--library', sys.argv[3], 'compare', sys.argv[1], sys.argv[2], '--json'])\n"
        "assert code in (0, 3), code"
    )
    loaded = _modules_after(code, str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"), str(tmp_path / "nolib"))
    assert "skintrack.services.pipeline" in loaded  # the comparison really ran
    assert not {m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY)}
    # capture-quality checks and their notes belong to stored photos; two files need neither
    assert not loaded & {"skintrack.services.quality", "skintrack.core.quality"}
    assert "skintrack.library.inbox_store" not in loaded


def test_version_is_still_reported() -> None:
    import skintrack

    out = subprocess.run(
        [sys.executable, "-m", "skintrack", "--version"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "app")},
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == f"skintrack {skintrack.__version__}"
    assert skintrack.__version__ == skintrack.package_version() != ""
