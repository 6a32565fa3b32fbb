"""Privacy through the real CLI: owner-only library and exports, EXIF that identifies nobody unless
asked, flags that say exactly what they keep, and a log without photo paths."""

from __future__ import annotations

import io
import os
import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safety_library_support import Cli, make_jpeg

from skintrack.library import Library

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
ARTIST, HOST, SERIAL, OWNER, UNIQUE_ID = 0x013B, 0x013C, 0xA431, 0xA430, 0xA420
MODEL, DATE_TAKEN = 0x0110, 0x9003


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _identifying_photo(path: Path) -> Path:
    rng = np.random.default_rng(3)
    rgb = (rng.random((120, 160, 3)) * 255).astype(np.uint8)
    exif = Image.Exif()
    exif[MODEL] = "TestPhone"
    exif[ARTIST] = "Jane Patient"
    exif[HOST] = "janes-laptop"
    exif.get_ifd(EXIF_IFD).update(
        {DATE_TAKEN: "2024:03:01 10:00:00", SERIAL: "SN-12345", OWNER: "Jane Patient", UNIQUE_ID: "abc123"}
    )
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)})
    Image.fromarray(rgb).save(path, quality=90, exif=exif.tobytes())
    return path


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "library")
    with Library.open(cli.library) as lib:
        lib.import_file(lib.add_region("Arm").id, _identifying_photo(tmp_path / "id.jpg"))
    return cli


def test_the_library_is_owner_only_with_the_usual_umask(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "fresh")
    previous = os.umask(0o022)  # inherited by the CLI processes
    try:
        assert cli("region", "add", "Arm").returncode == 0
        assert cli("import", "--region", "Arm", str(make_jpeg(tmp_path / "a.jpg"))).returncode == 0
    finally:
        os.umask(previous)
    folders = [cli.library, cli.library / "originals", cli.library / "cache"]
    folders += [p for p in (cli.library / "originals").iterdir() if p.is_dir()]
    assert {_mode(p) for p in folders} == {0o700}
    files = [cli.library / "skintrack.sqlite3", *cli.originals()]
    files += [p for p in (cli.library / "cache").rglob("*") if p.is_file()]
    assert len(files) >= 3 and {_mode(p) for p in files} == {0o600}, {str(p): oct(_mode(p)) for p in files}


def test_exports_are_owner_only_and_carry_no_exif_by_default(cli: Cli, tmp_path: Path) -> None:
    exif, _ = _exported_exif(cli, tmp_path)
    assert exif is None
    assert _mode(tmp_path / "export.zip") == 0o600


def _exported_exif(cli: Cli, tmp_path: Path, *flags: str) -> tuple[Image.Exif | None, str]:
    out = tmp_path / "export.zip"
    result = cli("export", "--region", "Arm", "--format", "zip", "--out", str(out), "--size", "96", *flags)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as zf:
        name = next(n for n in zf.namelist() if n.startswith("images/"))
        with Image.open(io.BytesIO(zf.read(name))) as im:
            exif = im.getexif()
            return (exif if len(exif) else None), result.stderr


@pytest.mark.parametrize(
    ("flags", "gps", "identifying"),
    [
        (("--keep-gps",), True, False),
        (("--keep-identifying-exif",), False, True),
        (("--keep-gps", "--keep-identifying-exif"), True, True),
        (("--keep-exif",), True, False),  # deprecated alias of --keep-gps
    ],
)
def test_identifying_exif_and_gps_are_kept_only_when_asked(
    cli: Cli, tmp_path: Path, flags: tuple[str, ...], gps: bool, identifying: bool
) -> None:
    exif, stderr = _exported_exif(cli, tmp_path, *flags)
    assert exif is not None
    sub = exif.get_ifd(EXIF_IFD)
    assert exif.get(MODEL) == "TestPhone" and sub.get(DATE_TAKEN) == "2024:03:01 10:00:00"
    assert bool(exif.get_ifd(GPS_IFD)) == gps
    found = {exif.get(ARTIST), exif.get(HOST), sub.get(SERIAL), sub.get(OWNER), sub.get(UNIQUE_ID)}
    if identifying:
        assert found == {"Jane Patient", "janes-laptop", "SN-12345", "abc123"}
    else:
        assert found == {None}
    assert ("deprecated" in stderr) == ("--keep-exif" in flags)


def test_the_help_says_exactly_what_each_exif_flag_keeps(cli: Cli) -> None:
    text = " ".join(cli("export", "--help", library=False).stdout.split())
    assert "--keep-exif deprecated, same as --keep-gps" in text
    assert "never serial numbers, owner or host names" in text
    assert "serial numbers, owner, artist, host computer, unique ID, maker notes, user comment, XMP" in text


@pytest.mark.parametrize("fmt", ["pdf", "mp4"])
def test_exif_flags_are_refused_where_an_export_cannot_carry_exif(cli: Cli, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    result = cli("export", "--region", "Arm", "--format", fmt, "--out", str(out), "--keep-exif")
    assert result.returncode == 2 and "never carry the photos' EXIF" in result.stderr
    assert not out.exists()


def test_the_log_names_no_photo_paths(cli: Cli, tmp_path: Path) -> None:
    thumbs = cli.library / "cache" / "thumbs"
    shutil.rmtree(thumbs)
    thumbs.write_text("not a folder")  # the thumbnail cannot be cached: a warning is logged
    photo = make_jpeg(tmp_path / "private-name.jpg", 8)
    result = cli("import", "--region", "Arm", str(photo))
    assert result.returncode == 0, result.stderr
    assert "thumbnail" in result.stderr  # the warning is there ...
    assert "private-name" not in result.stderr and str(cli.library) not in result.stderr  # ... no paths
