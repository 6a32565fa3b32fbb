"""skintrack.core.images: pixel formats, colour profiles, bit depths and hostile files."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from skintrack.core import images
from skintrack.core.images import DEFAULT_MAX_PIXELS, decode, limits, read_meta, save_rgb, thumbnail
from skintrack.errors import InvalidInputError


def _gradient(h: int = 48, w: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)], -1).astype(
        np.uint8
    )


# --------------------------------------------------------------------------- ICC helper


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(v) for v in xyz)


def _curve_tag(gamma: float) -> bytes:
    return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _desc_tag(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_)) + ascii_ + b"\0" * 8 + b"\0\0\0" + b"\0" * 67


def make_matrix_profile(description: str, rgb_xyz: list[tuple[float, float, float]], gamma: float) -> bytes:
    """A minimal ICC v2 matrix/TRC display profile (enough for lcms), written by hand for tests."""
    d50 = (0.9642, 1.0, 0.8249)
    tags = [
        (b"desc", _desc_tag(description)),
        (b"cprt", b"text" + b"\0" * 4 + b"No copyright, test profile\0"),
        (b"wtpt", _xyz_tag(d50)),
        (b"rXYZ", _xyz_tag(rgb_xyz[0])),
        (b"gXYZ", _xyz_tag(rgb_xyz[1])),
        (b"bXYZ", _xyz_tag(rgb_xyz[2])),
        (b"rTRC", _curve_tag(gamma)),
        (b"gTRC", _curve_tag(gamma)),
        (b"bTRC", _curve_tag(gamma)),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\0" * 4  # platform
        + b"\0" * 4  # flags
        + b"\0" * 8  # manufacturer, model
        + b"\0" * 8  # attributes
        + struct.pack(">I", 0)  # intent
        + b"".join(_s15(v) for v in d50)
        + b"\0" * 4  # creator
        + b"\0" * 44
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


ADOBE_RGB_D50 = [(0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446)]


def _adobe_to_srgb_u8(rgb: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "SciPy related API features are not available"
        import colour

    out = colour.RGB_to_RGB(
        rgb / 255.0,
        colour.RGB_COLOURSPACES["Adobe RGB (1998)"],
        colour.RGB_COLOURSPACES["sRGB"],
        chromatic_adaptation_transform="Bradford",
        apply_cctf_decoding=True,
        apply_cctf_encoding=True,
    )
    return np.clip(out * 255.0, 0, 255)


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("suffix", [".png", ".tif", ".webp", ".jpg"])
def test_round_trip_common_formats(tmp_path: Path, suffix: str) -> None:
    rgb = _gradient()
    path = tmp_path / f"g{suffix}"
    save_rgb(path, rgb, quality=100)
    out = decode(path)
    assert out.rgb.dtype == np.uint8 and out.rgb.shape == rgb.shape
    tol = 0 if suffix in (".png", ".tif") else 12
    assert np.abs(out.rgb.astype(int) - rgb).max() <= tol
    assert out.meta.width == 64 and out.meta.height == 48 and out.meta.bit_depth == 8


def test_float_output_is_scaled_to_unit_range(tmp_path: Path) -> None:
    path = tmp_path / "g.png"
    save_rgb(path, _gradient())
    out = decode(path, dtype=np.float32)
    assert out.rgb.dtype == np.float32
    assert out.rgb.min() == 0.0 and out.rgb.max() == pytest.approx(1.0)


def test_heic_write_and_read(tmp_path: Path) -> None:
    rgb = np.full((64, 96, 3), (200, 150, 120), np.uint8)
    rgb[16:48, 24:72] = (90, 60, 40)
    path = tmp_path / "skin.heic"
    save_rgb(path, rgb, quality=95)
    out = decode(path)
    assert out.meta.format == "HEIF"
    assert out.rgb.shape == rgb.shape
    assert np.abs(out.rgb.astype(int) - rgb).mean() < 4


def test_heif_opener_falls_back_to_pi_heif(monkeypatch: pytest.MonkeyPatch) -> None:
    """The standalone bundle ships pi-heif (decode-only) instead of pillow-heif: either registers."""
    import importlib
    import types

    registered: list[str] = []
    fake = types.ModuleType("pi_heif")
    fake.register_heif_opener = lambda: registered.append("pi_heif")  # type: ignore[attr-defined]
    real_import = importlib.import_module

    def fake_import(name: str, *args: object) -> types.ModuleType:
        if name == "pillow_heif":
            raise ImportError("not in this bundle")
        if name == "pi_heif":
            return fake
        return real_import(name, *args)

    monkeypatch.setattr(limits.importlib, "import_module", fake_import)
    monkeypatch.setattr(limits, "_heif_registered", False)
    limits._ensure_heif()
    limits._ensure_heif()  # once is enough
    assert registered == ["pi_heif"]


def test_sixteen_bit_tiff_keeps_precision(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 65536, size=(30, 40, 3), dtype=np.uint16)
    path = tmp_path / "deep.tif"
    assert cv2.imwrite(str(path), truth[..., ::-1])  # OpenCV writes BGR
    out = decode(path, dtype=np.float32)
    assert out.meta.bit_depth == 16
    assert np.abs(out.rgb - truth / 65535.0).max() < 1e-6  # far finer than an 8-bit step (0.004)
    as_u8 = decode(path).rgb
    assert np.abs(as_u8.astype(int) - np.rint(truth / 257.0)).max() <= 1


def test_sixteen_bit_png_colour_and_grey(tmp_path: Path) -> None:
    truth = (np.arange(20 * 30 * 3, dtype=np.uint32).reshape(20, 30, 3) * 37 % 65536).astype(np.uint16)
    colour_path, grey_path = tmp_path / "c16.png", tmp_path / "g16.png"
    cv2.imwrite(str(colour_path), truth[..., ::-1])
    cv2.imwrite(str(grey_path), truth[..., 0])
    c = decode(colour_path, dtype=np.float32)
    g = decode(grey_path, dtype=np.float32)
    assert c.meta.bit_depth == 16 and g.meta.bit_depth == 16
    assert np.abs(c.rgb - truth / 65535.0).max() < 1e-6
    assert np.abs(g.rgb[..., 1] - truth[..., 0] / 65535.0).max() < 1e-6


def test_sixteen_bit_rgba_tiff_composites_on_white(tmp_path: Path) -> None:
    bgra = np.zeros((10, 10, 4), np.uint16)
    bgra[..., 3] = 0  # fully transparent black
    bgra[5:, :, 3] = 65535  # opaque black bottom half
    path = tmp_path / "alpha16.tif"
    cv2.imwrite(str(path), bgra)
    out = decode(path, dtype=np.float32).rgb
    assert np.allclose(out[:5], 1.0) and np.allclose(out[5:], 0.0)


def test_cmyk_jpeg_and_tiff(tmp_path: Path) -> None:
    cmyk = np.zeros((20, 20, 4), np.uint8)
    cmyk[:, 10:, 3] = 255  # right half full black ink, left half no ink (white paper)
    for name in ("c.jpg", "c.tif"):
        path = tmp_path / name
        Image.fromarray(cmyk, "CMYK").save(path, quality=100)
        out = decode(path).rgb
        assert out[:, :8].min() > 240 and out[:, 12:].max() < 15, name


def test_palette_with_transparency_la_and_grey(tmp_path: Path) -> None:
    pal = Image.new("P", (10, 10), 0)
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    pal.paste(1, (0, 0, 10, 5))
    pal.info["transparency"] = 0  # index 0 (red) fully transparent -> white
    pal.save(tmp_path / "p.png", transparency=0)
    out = decode(tmp_path / "p.png").rgb
    assert tuple(out[0, 0]) == (0, 0, 255) and tuple(out[9, 9]) == (255, 255, 255)

    la = np.zeros((10, 10, 2), np.uint8)
    la[..., 1] = 128  # half transparent black over white -> mid grey
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    out = decode(tmp_path / "la.png").rgb
    assert abs(int(out[0, 0, 0]) - 127) <= 1 and out.shape == (10, 10, 3)

    Image.fromarray(np.full((8, 8), 77, np.uint8), "L").save(tmp_path / "l.png")
    assert tuple(decode(tmp_path / "l.png").rgb[3, 3]) == (77, 77, 77)

    Image.new("1", (8, 8), 1).save(tmp_path / "bw.png")
    assert decode(tmp_path / "bw.png").rgb.min() == 255


def test_rgba_png_composited_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:2, :, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = decode(tmp_path / "a.png").rgb
    assert tuple(out[0, 0]) == (255, 0, 0) and tuple(out[3, 3]) == (255, 255, 255)


# --------------------------------------------------------------------------- ICC


def test_icc_profile_converted_to_srgb(tmp_path: Path) -> None:
    icc = make_matrix_profile("Test Adobe-like RGB", ADOBE_RGB_D50, 563 / 256)
    colours = np.array([[[60, 170, 90], [200, 120, 100], [128, 128, 128], [90, 110, 200]]], np.uint8)
    rgb = np.repeat(np.repeat(colours, 8, axis=0), 8, axis=1)
    path = tmp_path / "adobe.png"
    Image.fromarray(rgb).save(path, icc_profile=icc)

    assert read_meta(path).icc_description == "Test Adobe-like RGB"
    out = decode(path).rgb[0, ::8].astype(float)
    expected = _adobe_to_srgb_u8(colours[0].astype(float))
    assert np.abs(out - expected).max() <= 3.0, (out, expected)
    # the conversion really changed something: saturated green gets more saturated in sRGB
    assert np.abs(out - colours[0]).max() > 10


def test_icc_on_sixteen_bit_tiff_and_jpeg(tmp_path: Path) -> None:
    icc = make_matrix_profile("Test Adobe-like RGB", ADOBE_RGB_D50, 563 / 256)
    colours = np.array([[60, 170, 90], [200, 120, 100]], float)
    expected = _adobe_to_srgb_u8(colours) / 255.0

    deep = np.repeat(np.repeat((colours * 257).astype(np.uint16)[None], 4, 0), 4, 1)
    tif = tmp_path / "deep_adobe.tif"
    cv2.imwrite(str(tif), deep[..., ::-1])
    _embed_icc_in_tiff(tif, icc)
    out = decode(tif, dtype=np.float32)
    assert out.meta.icc_description == "Test Adobe-like RGB" and out.meta.bit_depth == 16
    assert np.abs(out.rgb[0, [0, 4]] - expected).max() < 3.5 / 255

    jpg = tmp_path / "adobe.jpg"
    Image.fromarray(np.repeat(np.repeat(colours.astype(np.uint8)[None], 16, 0), 16, 1)).save(
        jpg, icc_profile=icc, quality=100
    )
    out = decode(jpg, dtype=np.float32).rgb
    assert np.abs(out[8, [8, 24]] - expected).max() < 4 / 255


def _embed_icc_in_tiff(path: Path, icc: bytes) -> None:
    """Rewrite a 16-bit RGB TIFF with an ICC tag (Pillow cannot write 16-bit RGB; a tiny TIFF writer)."""
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]
    h, w, _ = arr.shape
    pixel_bytes = arr.astype("<u2").tobytes()
    entries: list[tuple[int, int, int, bytes]] = []  # tag, type, count, value bytes

    def short(tag: int, *vals: int) -> None:
        entries.append((tag, 3, len(vals), struct.pack(f"<{len(vals)}H", *vals)))

    def long(tag: int, val: int) -> None:
        entries.append((tag, 4, 1, struct.pack("<I", val)))

    n_entries = 11
    ifd_size = 2 + 12 * n_entries + 4
    data_start = 8 + ifd_size
    bps_off = data_start
    icc_off = bps_off + 6 + (-6 % 2)
    pix_off = icc_off + len(icc) + (len(icc) % 2)
    long(256, w)
    long(257, h)
    entries.append((258, 3, 3, struct.pack("<I", bps_off)))  # BitsPerSample -> offset
    short(259, 1)
    short(262, 2)
    long(273, pix_off)
    short(277, 3)
    long(278, h)
    long(279, len(pixel_bytes))
    short(284, 1)
    entries.append((34675, 7, len(icc), struct.pack("<I", icc_off)))
    assert len(entries) == n_entries
    out = io.BytesIO()
    out.write(b"II*\0" + struct.pack("<I", 8))
    out.write(struct.pack("<H", n_entries))
    for tag, typ, count, val in sorted(entries):
        out.write(struct.pack("<HHI", tag, typ, count) + val.ljust(4, b"\0"))
    out.write(struct.pack("<I", 0))
    out.write(struct.pack("<3H", 16, 16, 16))
    out.write(b"\0" * (icc_off - out.tell()))
    out.write(icc)
    out.write(b"\0" * (pix_off - out.tell()))
    out.write(pixel_bytes)
    path.write_bytes(out.getvalue())


# --------------------------------------------------------------------------- hostile files


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _assert_invalid(path: Path, *words: str, **kwargs: object) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        decode(path, **kwargs)  # type: ignore[arg-type]
    err = info.value
    assert path.name in str(err) and err.exit_code == 4
    for word in words:
        assert word in err.reason, err.reason
    return err


def test_zero_byte_missing_folder_and_text(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    _assert_invalid(empty, "empty")
    _assert_invalid(tmp_path / "missing.jpg", "not found")
    folder = tmp_path / "folder.png"
    folder.mkdir()
    _assert_invalid(folder, "folder")
    text = tmp_path / "notes.jpg"
    text.write_text("these are my notes, not a photo\n" * 20)
    _assert_invalid(text, "not an image")
    with pytest.raises(InvalidInputError):
        read_meta(text)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_truncated_files_are_refused(tmp_path: Path, suffix: str) -> None:
    rng = np.random.default_rng(0)
    good = tmp_path / f"good{suffix}"
    save_rgb(good, rng.integers(0, 255, (200, 300, 3), dtype=np.uint8), quality=90)
    data = good.read_bytes()
    bad = tmp_path / f"cut{suffix}"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidInputError) as info:
        decode(bad)
    assert "cut" in str(info.value)


def test_garbage_after_valid_jpeg_header(tmp_path: Path) -> None:
    good = tmp_path / "good.jpg"
    save_rgb(good, _gradient(100, 100))
    data = bytearray(good.read_bytes())
    data[len(data) // 3 :] = b"\xff" * (len(data) - len(data) // 3)
    bad = tmp_path / "garbled.jpg"
    bad.write_bytes(bytes(data))
    with pytest.raises(InvalidInputError, match="garbled"):
        decode(bad)


def test_decompression_bomb_refused_from_header(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header_only(20000, 20000))
    err = _assert_invalid(bomb)
    assert err.reason == "image is 20000x20000 = 400 MP, over the 120 MP limit"
    with pytest.raises(InvalidInputError, match="400 MP"):
        read_meta(bomb)
    with pytest.raises(InvalidInputError, match="400 MP"):
        thumbnail(bomb)
    assert DEFAULT_MAX_PIXELS == 120_000_000


def test_bomb_beyond_pillows_own_limit_still_names_the_size(tmp_path: Path) -> None:
    bomb = tmp_path / "huge.png"
    bomb.write_bytes(_png_header_only(40000, 30000))  # 1200 MP: Pillow's guard fires first
    err = _assert_invalid(bomb)
    assert err.reason == "image is 40000x30000 = 1200 MP, over the 120 MP limit"
    assert Image.MAX_IMAGE_PIXELS is not None  # the global guard was restored


def test_configurable_pixel_limit(tmp_path: Path) -> None:
    path = tmp_path / "small.png"
    save_rgb(path, _gradient(100, 100))
    err = _assert_invalid(path, max_pixels=5000)
    assert err.reason == "image is 100x100 = 0.01 MP, over the 0.005 MP limit"
    assert decode(path, max_pixels=None).rgb.shape == (100, 100, 3)


def test_invalid_input_leaves_no_partial_state(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnonsense")
    _assert_invalid(bad)


# --------------------------------------------------------------------------- previews & saving


def test_thumbnail_fits_and_is_upright(tmp_path: Path) -> None:
    rgb = np.zeros((1200, 1600, 3), np.uint8)
    rgb[:600] = (255, 255, 255)  # top half white
    path = tmp_path / "big.jpg"
    save_rgb(path, rgb)
    th = thumbnail(path, 320)
    assert th.dtype == np.uint8 and th.shape == (240, 320, 3)
    assert th[10, 160].min() > 240 and th[-10, 160].max() < 15
    dec = decode(path, max_side=500)
    assert max(dec.rgb.shape[:2]) == 500 and dec.meta.width == 1600  # meta stays full size
    png = tmp_path / "big.png"
    save_rgb(png, rgb)
    assert thumbnail(png, 100).shape == (75, 100, 3)


def test_save_is_atomic_and_writes_no_exif_by_default(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.jpg"
    save_rgb(path, _gradient())
    save_rgb(path, _gradient())  # overwrite in place
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.jpg"]  # no temp files left
    with Image.open(path) as im:
        assert "exif" not in im.info
    with pytest.raises(ValueError):
        save_rgb(tmp_path / "x.bmp", _gradient())


def test_save_accepts_float_and_grey(tmp_path: Path) -> None:
    save_rgb(tmp_path / "f.png", np.full((4, 4, 3), 0.5, np.float32))
    assert tuple(decode(tmp_path / "f.png").rgb[0, 0]) == (128, 128, 128)
    save_rgb(tmp_path / "g.png", np.full((4, 4), 9, np.uint8))
    assert tuple(decode(tmp_path / "g.png").rgb[0, 0]) == (9, 9, 9)


def test_supported_suffixes() -> None:
    assert set(images.SUPPORTED_SUFFIXES) == {
        ".jpg",
        ".jpeg",
        ".png",
        ".tif",
        ".tiff",
        ".webp",
        ".heic",
        ".heif",
    }


def test_reduced_decode_uses_jpeg_dct_scaling_for_non_square_photos(tmp_path, monkeypatch) -> None:
    """A 4:3 photo decoded for a 2000 px analysis must ask libjpeg for the 1/2 scale (2000x1500)."""
    from PIL import JpegImagePlugin

    path = tmp_path / "wide.jpg"
    Image.fromarray(np.full((3000, 4000, 3), 128, np.uint8)).save(path, quality=80)
    boxes = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = original(self, mode, size)
        boxes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    decoded = images.decode(path, max_side=2000)
    assert decoded.rgb.shape == (1500, 2000, 3)
    assert boxes == [(2000, 1500)]


def test_jpeg_decode_does_not_load_the_heif_opener(tmp_path: Path) -> None:
    """Importing pillow-heif costs a fresh ``compare`` of two JPEGs time it has no use for."""
    path = tmp_path / "skin.jpg"
    save_rgb(path, np.full((40, 60, 3), (200, 150, 120), np.uint8))
    code = (
        "import sys; from skintrack.core.images import decode; decode(sys.argv[1]); "
        "print(any(m in sys.modules for m in ('pillow_heif', 'pi_heif')))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_heic_without_a_leading_ftyp_box_is_still_opened(tmp_path: Path) -> None:
    """The HEIF opener is registered after Pillow alone did not know the file, then it is read."""
    path = tmp_path / "skin.heic"
    save_rgb(path, np.full((40, 60, 3), (200, 150, 120), np.uint8), quality=95)
    code = (
        "import sys; from skintrack.core.images import decode, limits; "
        "limits._is_iso_media = lambda p: False; print(decode(sys.argv[1]).rgb.shape)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "(40, 60, 3)"
