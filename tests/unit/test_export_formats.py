"""Image and data exports checked with real readers: Pillow, ffprobe/OpenCV+ffmpeg, csv, json, zip."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skintrack.export.plan import ExportOptions, plan_for_region
from skintrack.progress import CancelToken
from skintrack.services.export import run_export
from skintrack.ui.tasks import drive
from support.export_library import GPS_IFD, make_library

N = 4


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("export")
    lib, rid, ids = make_library(base / "lib", base / "src", N)
    yield lib, rid, ids
    lib.close()


def export(lib_t, fmt: str, out: Path, **kw) -> Path:
    lib, rid, _ids = lib_t
    options = ExportOptions(**{"size": 240, **kw.pop("options", {})})
    plan = plan_for_region(lib, rid, fmt, options=options, **kw)
    result = drive(lambda t: run_export(lib, plan, out, t), CancelToken(), lambda p: None)
    assert result == out and out.is_file()
    assert not list(out.parent.glob("*.skt-tmp"))
    return out


def test_gif_frames_and_durations(lib, tmp_path: Path) -> None:
    out = export(lib, "gif", tmp_path / "t.gif", options={"frame_ms": 250})
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == N
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
        assert durations == [250] * N
        assert max(im.size) <= 240 + 2 and im.size[1] > 100  # frame + caption bar


def test_gif_respects_dates_and_photo_selection(lib, tmp_path: Path) -> None:
    _lib, _rid, ids = lib
    out = export(lib, "gif", tmp_path / "sel.gif", selected=[ids[1], ids[3]])
    with Image.open(out) as im:
        assert im.n_frames == 2


def _ffmpeg_info(path: Path) -> str:
    import imageio_ffmpeg

    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    return proc.stderr


@pytest.mark.parametrize("use_ffprobe", [True, False], ids=["ffprobe", "opencv+ffmpeg"])
def test_mp4_is_h264_yuv420p_even_and_complete(lib, tmp_path: Path, use_ffprobe: bool) -> None:
    out = export(lib, "mp4", tmp_path / "t.mp4", options={"size": 241, "frame_ms": 500})
    probe = shutil.which("ffprobe") if use_ffprobe else None
    if probe:
        info = json.loads(
            subprocess.run(
                [probe, "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(out)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        stream = info["streams"][0]
        assert stream["codec_name"] == "h264" and stream["pix_fmt"] == "yuv420p"
        assert int(stream["nb_read_frames"]) == N
        w, h = int(stream["width"]), int(stream["height"])
    else:
        import cv2

        text = _ffmpeg_info(out)
        assert "h264" in text and "yuv420p" in text
        cap = cv2.VideoCapture(str(out))
        count = 0
        while cap.read()[0]:
            count += 1
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        cap.release()
        assert count == N
    assert w % 2 == 0 and h % 2 == 0
    data = out.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # +faststart: index before the media data


def test_contact_sheet_png_and_jpeg_have_no_gps(lib, tmp_path: Path) -> None:
    png = export(lib, "contact-sheet", tmp_path / "s.png")
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 240
        assert not im.getexif().get_ifd(GPS_IFD) and "exif" not in im.info
    jpg = export(lib, "contact-sheet", tmp_path / "s.jpg")
    with Image.open(jpg) as im:
        assert im.format == "JPEG"
        assert not im.getexif().get_ifd(GPS_IFD) and "exif" not in im.info
        arr = np.asarray(im.convert("L"))
        assert arr.std() > 10  # not blank


def test_zip_images_without_exif_unless_opted_in(lib, tmp_path: Path) -> None:
    _lib, _rid, ids = lib
    out = export(lib, "zip", tmp_path / "a.zip")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        jpgs = [n for n in names if n.startswith("images/")]
        assert len(jpgs) == N and "measurements.csv" in names and "README.txt" in names
        last = next(n for n in jpgs if n.endswith(f"photo{ids[-1]}.jpg"))  # its original has GPS
        with Image.open(io.BytesIO(zf.read(last))) as im:
            assert not im.getexif().get_ifd(GPS_IFD) and "exif" not in im.info
    kept = export(lib, "zip", tmp_path / "kept.zip", options={"keep_exif": True})
    with zipfile.ZipFile(kept) as zf, Image.open(io.BytesIO(zf.read(last))) as im:
        assert im.getexif().get_ifd(GPS_IFD)  # the user opted in


def test_csv_round_trip(lib, tmp_path: Path) -> None:
    _lib, _rid, ids = lib
    out = export(lib, "csv", tmp_path / "m.csv")
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert len(rows) == N  # reference row + one measurement per later photo
    assert rows[0]["metric_set"] == "reference"
    headers = list(rows[0])
    assert "mean_delta_L (L* units)" in headers and "taken_at (ISO 8601)" in headers
    assert "darkened_area_mm2 (mm²)" in headers
    later = rows[2]
    assert int(later["photo_id"]) == ids[2] and later["metric_set"] == "vs reference"
    assert float(later["mean_delta_L (L* units)"]) == pytest.approx(-2.2)
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", later["taken_at (ISO 8601)"])
    assert later["alignment_ok"] == "True" and float(later["alignment_quality (0-1)"]) == pytest.approx(0.9)


def test_json_has_units_rows_and_notice(lib, tmp_path: Path) -> None:
    from skintrack import NOT_A_DIAGNOSIS

    out = export(lib, "json", tmp_path / "m.json")
    doc = json.loads(out.read_text("utf-8"))
    assert doc["notice"] == NOT_A_DIAGNOSIS and doc["units"]["mean_delta_L"] == "L* units"
    assert len(doc["rows"]) == N and doc["rows"][1]["patches"][0]["area_px"] == 120
