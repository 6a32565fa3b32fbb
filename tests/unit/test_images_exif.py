"""skintrack.core.images: EXIF orientation, dates, camera, GPS and privacy stripping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from skintrack.core.images import decode, read_meta, save_rgb, strip_identifying_exif, thumbnail

EXIF_IFD, GPS_IFD = 0x8769, 0x8825


def _asymmetric(h: int = 30, w: int = 50) -> np.ndarray:
    """No rotation or flip of this image equals another one: a marked corner and a gradient."""
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 5, y * 8, np.full_like(x, 60)], -1).astype(np.uint8)
    rgb[:6, :10] = (255, 0, 0)
    return rgb


def _exif(orientation: int | None = None, **extra: object) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    for key, value in extra.items():
        exif[int(key[1:], 16)] = value
    return exif


# stored -> upright, as the EXIF specification defines the eight orientations
_UPRIGHT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),  # stored rotated 90° CCW, shown turned 90° clockwise
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_round_trip(tmp_path: Path, orientation: int) -> None:
    stored = _asymmetric()
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(stored).save(path, exif=_exif(orientation).tobytes())

    out = decode(path)
    with Image.open(path) as im:
        reference = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    assert np.array_equal(out.rgb, reference)
    assert np.array_equal(out.rgb, _UPRIGHT[orientation](stored))
    meta = read_meta(path)
    assert meta.orientation == orientation
    assert (meta.width, meta.height) == (reference.shape[1], reference.shape[0])
    assert thumbnail(path, 25).shape[:2] == ((15, 25) if orientation < 5 else (25, 15))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_orientation_in_jpeg_with_draft_preview(tmp_path: Path, orientation: int) -> None:
    stored = np.zeros((400, 600, 3), np.uint8)
    stored[:100, :150] = 255  # a white block in the stored top-left corner
    path = tmp_path / "o.jpg"
    Image.fromarray(stored).save(path, exif=_exif(orientation).tobytes(), quality=95)
    expected = _UPRIGHT[orientation](stored)
    full = decode(path).rgb
    small = decode(path, max_side=150).rgb
    assert full.shape == expected.shape
    assert np.abs(full.astype(int) - expected).mean() < 3
    assert small.shape[:2] == tuple(s // 4 for s in expected.shape[:2])
    big = np.asarray(Image.fromarray(expected).resize(small.shape[1::-1], Image.Resampling.BOX))
    assert np.abs(small.astype(int) - big).mean() < 6


def test_invalid_orientation_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "o.png"
    Image.fromarray(_asymmetric()).save(path, exif=_exif(42).tobytes())
    assert read_meta(path).orientation == 1
    assert np.array_equal(decode(path).rgb, _asymmetric())


def test_date_with_offset_camera_and_gps(tmp_path: Path) -> None:
    exif = _exif(1, x010F="Canon", x0110="Canon EOS 80D")
    exif.get_ifd(EXIF_IFD).update({0x9003: "2025:03:14 09:26:53", 0x9011: "-05:30"})
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0)})
    path = tmp_path / "d.jpg"
    Image.fromarray(_asymmetric()).save(path, exif=exif.tobytes())
    meta = read_meta(path)
    assert meta.taken_at == datetime(2025, 3, 14, 9, 26, 53, tzinfo=timezone(-timedelta(hours=5, minutes=30)))
    assert meta.taken_at.utcoffset() is not None
    assert meta.camera == "Canon EOS 80D"
    assert meta.has_gps is True
    assert meta.format == "JPEG" and meta.bit_depth == 8 and meta.icc_description is None


def test_date_without_offset_is_naive_and_missing_date_is_none(tmp_path: Path) -> None:
    exif = _exif(1, x010F="Google", x0110="Pixel 7")
    exif.get_ifd(EXIF_IFD)[0x9003] = "2024:12:31 23:59:58"
    a = tmp_path / "a.png"
    Image.fromarray(_asymmetric()).save(a, exif=exif.tobytes())
    meta = read_meta(a)
    assert meta.taken_at == datetime(2024, 12, 31, 23, 59, 58) and meta.taken_at.tzinfo is None
    assert meta.camera == "Google Pixel 7" and meta.has_gps is False

    b = tmp_path / "b.png"
    Image.fromarray(_asymmetric()).save(b)
    assert read_meta(b).taken_at is None and read_meta(b).camera is None

    c = tmp_path / "c.png"
    bad = _exif(1)
    bad.get_ifd(EXIF_IFD)[0x9003] = "0000:00:00 00:00:00"
    Image.fromarray(_asymmetric()).save(c, exif=bad.tobytes())
    assert read_meta(c).taken_at is None


def test_heic_metadata(tmp_path: Path) -> None:
    import pillow_heif

    exif = _exif(1, x010F="Apple", x0110="iPhone 15")
    exif.get_ifd(EXIF_IFD).update({0x9003: "2025:01:02 03:04:05", 0x9011: "+01:00"})
    path = tmp_path / "p.heic"
    heif = pillow_heif.from_bytes(mode="RGB", size=(50, 30), data=_asymmetric().tobytes())
    heif.info["exif"] = exif.tobytes()
    heif.save(path, quality=95)
    meta = read_meta(path)
    assert meta.format == "HEIF" and meta.camera == "Apple iPhone 15"
    assert meta.taken_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1)))


def _identifying_exif() -> bytes:
    exif = _exif(6, x010F="Nikon", x0110="Z6", x013B="Jane Doe", x8298="(c) Jane Doe")
    exif.get_ifd(EXIF_IFD).update(
        {
            0x9003: "2025:03:14 09:26:53",
            0xA431: "SERIAL123456",
            0xA430: "Jane Doe",
            0xA435: "LENS98765",
            0x927C: b"maker secrets",
            0x9286: b"ASCII\0\0\0at home",
        }
    )
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)})
    return exif.tobytes()


def test_strip_identifying_exif() -> None:
    raw = _identifying_exif()
    assert b"SERIAL123456" in raw and b"Jane Doe" in raw
    clean = strip_identifying_exif(raw)
    assert clean is not None
    for secret in (b"SERIAL123456", b"LENS98765", b"Jane Doe", b"maker secrets", b"at home"):
        assert secret not in clean
    parsed = Image.Exif()
    parsed.load(clean)
    assert GPS_IFD not in parsed and not parsed.get_ifd(GPS_IFD)
    assert parsed[0x0110] == "Z6" and parsed[0x0112] == 6
    assert parsed.get_ifd(EXIF_IFD)[0x9003] == "2025:03:14 09:26:53"


def test_strip_handles_nothing_and_garbage() -> None:
    assert strip_identifying_exif(None) is None
    assert strip_identifying_exif(b"") is None
    assert strip_identifying_exif(b"not exif at all") is None
    gps_only = Image.Exif()
    gps_only.get_ifd(GPS_IFD)[1] = "N"
    assert strip_identifying_exif(gps_only.tobytes()) is None


def test_save_with_exif_resets_orientation_and_keeps_date(tmp_path: Path) -> None:
    upright = _asymmetric()
    path = tmp_path / "export.jpg"
    save_rgb(path, upright, exif=strip_identifying_exif(_identifying_exif()))
    meta = read_meta(path)
    assert meta.orientation == 1  # pixels are already upright; the tag must not turn them again
    assert meta.taken_at == datetime(2025, 3, 14, 9, 26, 53) and meta.has_gps is False
    assert decode(path).rgb.shape == upright.shape
    assert b"SERIAL123456" not in path.read_bytes()
