"""Packaging: the PyInstaller spec, desktop integration files, icons, install scripts, bundle smoke test."""

from __future__ import annotations

import ast
import configparser
import os
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from skintrack import DESKTOP_FILE_NAME

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
DESKTOP = PACKAGING / f"{DESKTOP_FILE_NAME}.desktop"
METAINFO = PACKAGING / f"{DESKTOP_FILE_NAME}.metainfo.xml"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _spec_list(name: str) -> list[str]:
    tree = ast.parse((PACKAGING / "skintrack.spec").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"{name} not found in skintrack.spec")


def test_spec_lists_every_resource_folder() -> None:
    listed = _spec_list("RESOURCE_SUBDIRS")
    actual = sorted(
        p.name for p in (ROOT / "resources").iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    assert sorted(listed) == actual or set(actual) <= set(listed), (
        f"add {set(actual) - set(listed)} to the spec"
    )


def test_spec_is_valid_python_and_builds_both_executables() -> None:
    text = (PACKAGING / "skintrack.spec").read_text()
    ast.parse(text)
    assert '"skintrack"' in text and '"skintrack-gui"' in text and "COLLECT(" in text
    assert 'version("skintrack")' in text  # the version comes from the package metadata only
    excludes = _spec_list("EXCLUDES")
    for unwanted in ("PySide6.QtWebEngineCore", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.Qt3DCore"):
        assert unwanted in excludes
    for script in ("launch_cli.py", "launch_gui.py"):
        ast.parse((PACKAGING / script).read_text())


def test_desktop_file() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DESKTOP, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Name"] == "Skintrack"
    assert entry["Icon"] == DESKTOP_FILE_NAME
    assert entry["Exec"].split()[0] == "skintrack-gui"
    assert entry["Terminal"] == "false"
    validator = shutil.which("desktop-file-validate")
    if validator:
        proc = subprocess.run([validator, str(DESKTOP)], capture_output=True, text=True)
        assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_metainfo() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == DESKTOP_FILE_NAME
    assert root.find("launchable").text == f"{DESKTOP_FILE_NAME}.desktop"  # type: ignore[union-attr]
    description = " ".join(ET.tostring(root.find("description"), encoding="unicode", method="text").split())  # type: ignore[arg-type]
    assert "not a medical device" in description and "does not diagnose" in description
    releases = root.findall("releases/release")
    assert releases and releases[0].get("version") == _project_version(), "add a <release> for this version"
    shots = root.findall("screenshots/screenshot/image")
    assert shots and all(
        s.text and s.text.endswith(".png") and "packaging/screenshots/" in s.text for s in shots
    )
    validator = shutil.which("appstreamcli")
    if validator:
        proc = subprocess.run(
            [validator, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_metainfo_screenshots_are_in_the_repository() -> None:
    """Every screenshot the metainfo names is a real PNG under packaging/screenshots/."""
    root = ET.parse(PACKAGING / "io.github.skintrack.Skintrack.metainfo.xml").getroot()
    images = [el.text or "" for el in root.iter("image")]
    assert images
    for url in images:
        name = url.rsplit("/packaging/screenshots/", 1)[-1]
        path = PACKAGING / "screenshots" / name
        assert path.is_file(), url
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_app_icon_svg_and_pngs() -> None:
    svg = ROOT / "resources" / "icons" / "skintrack.svg"
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg") and root.get("viewBox")
    from PIL import Image

    for size in ICON_SIZES:
        png = PACKAGING / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{DESKTOP_FILE_NAME}.png"
        with Image.open(png) as im:
            assert im.size == (size, size) and im.mode == "RGBA"


def test_shell_scripts_parse() -> None:
    for script in ("build.sh", "smoke_test.sh"):
        subprocess.run(["bash", "-n", str(PACKAGING / script)], check=True)
        assert os.access(PACKAGING / script, os.X_OK)
    for script in ("install.sh", "uninstall.sh"):
        subprocess.run(["sh", "-n", str(PACKAGING / script)], check=True)
        assert os.access(PACKAGING / script, os.X_OK)


def _fake_unpacked_bundle(tmp_path: Path) -> Path:
    """The tarball's layout, with shell scripts standing in for the PyInstaller executables."""
    top = tmp_path / "skintrack-0.0.0-linux-x86_64"
    (top / "app").mkdir(parents=True)
    for exe in ("skintrack", "skintrack-gui"):
        path = top / "app" / exe
        path.write_text(f'#!/bin/sh\necho "{exe} $*"\n')
        path.chmod(0o755)
    for script in ("install.sh", "uninstall.sh"):
        shutil.copy2(PACKAGING / script, top / script)
    (top / "share" / "applications").mkdir(parents=True)
    (top / "share" / "metainfo").mkdir(parents=True)
    shutil.copy2(DESKTOP, top / "share" / "applications")
    shutil.copy2(METAINFO, top / "share" / "metainfo")
    shutil.copytree(PACKAGING / "icons" / "hicolor", top / "share" / "icons" / "hicolor")
    (top / "VERSION").write_text("0.0.0\n")
    return top


def test_install_and_uninstall_scripts(tmp_path: Path) -> None:
    bundle = _fake_unpacked_bundle(tmp_path)
    home = tmp_path / "home"
    library = home / ".local" / "share" / "Skintrack"  # the default library must survive uninstall
    library.mkdir(parents=True)
    (library / "skintrack.sqlite3").write_text("precious")
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}

    subprocess.run([str(bundle / "install.sh")], env=env, check=True, capture_output=True)
    share = home / ".local" / "share"
    launcher = home / ".local" / "bin" / "skintrack-gui"
    out = subprocess.run([str(launcher), "--demo"], env=env, check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "skintrack-gui --demo"
    desktop = (share / "applications" / f"{DESKTOP_FILE_NAME}.desktop").read_text()
    assert f"Exec={launcher}" in desktop and f"TryExec={launcher}" in desktop
    assert (share / "icons" / "hicolor" / "48x48" / "apps" / f"{DESKTOP_FILE_NAME}.png").is_file()
    assert (share / "metainfo" / f"{DESKTOP_FILE_NAME}.metainfo.xml").is_file()

    subprocess.run([str(bundle / "install.sh")], env=env, check=True, capture_output=True)  # reinstall
    subprocess.run([str(share / "skintrack-app" / "uninstall.sh")], env=env, check=True, capture_output=True)
    assert not launcher.exists() and not (home / ".local" / "bin" / "skintrack").exists()
    assert not (share / "applications" / f"{DESKTOP_FILE_NAME}.desktop").exists()
    assert not (share / "skintrack-app").exists()
    assert not list((share / "icons").rglob("*.png"))
    assert (library / "skintrack.sqlite3").read_text() == "precious"


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SKINTRACK_BUNDLE_TEST") != "1", reason="set SKINTRACK_BUNDLE_TEST=1 to build"
)
def test_bundle_builds_and_runs() -> None:
    """Build the real bundle (minutes, downloads into a clean venv), then smoke-test it."""
    env = dict(os.environ)
    env.setdefault("PYTHON", sys.executable if sys.prefix == sys.base_prefix else "python3")
    env["SKINTRACK_BUNDLE_TEST"] = "0"  # build.sh must not run the smoke test twice
    subprocess.run(["bash", str(PACKAGING / "build.sh")], cwd=ROOT, env=env, check=True, timeout=3600)
    tarballs = sorted((ROOT / "dist").glob(f"skintrack-{_project_version()}-linux-*.tar.gz"))
    assert tarballs, "build.sh wrote no tarball"
    subprocess.run(["bash", str(PACKAGING / "smoke_test.sh"), str(tarballs[-1])], check=True, timeout=900)
