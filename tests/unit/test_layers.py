"""The Qt-free layers stay Qt-free (STYLE.md §1), and core never touches the database."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "app" / "skintrack"

FORBIDDEN = {
    "core": ("PySide6", "shiboken6", "sqlite3", "skintrack.ui", "skintrack.library", "skintrack.services"),
    "library": ("PySide6", "shiboken6", "skintrack.ui"),
    "services": ("PySide6", "shiboken6", "skintrack.ui"),
    "export": ("PySide6", "shiboken6", "skintrack.ui"),
    "demo": ("PySide6", "shiboken6", "skintrack.ui"),
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_forbidden_modules(layer: str) -> None:
    offenders = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_importing_core_services_and_cli_loads_no_qt() -> None:
    """Run in a fresh interpreter: the CLI must start without loading Qt at all."""
    code = (
        "import sys, skintrack.cli, skintrack.core, skintrack.library, skintrack.services;"
        "import pkgutil, importlib\n"
        "for pkg in ('skintrack.core', 'skintrack.library', 'skintrack.services'):\n"
        "    mod = importlib.import_module(pkg)\n"
        "    for info in pkgutil.iter_modules(mod.__path__):\n"
        "        importlib.import_module(pkg + '.' + info.name)\n"
        "skintrack.cli.build_parser()\n"
        "print(','.join(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
