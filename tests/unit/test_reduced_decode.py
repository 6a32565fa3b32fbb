"""Decoding at the analysis scale (JPEG DCT scaling) gives the numbers of the full-resolution path.

The pipeline decodes photos with ``max_side = ChangeSettings.analysis_side``; for a JPEG that asks
libjpeg for the largest power-of-two reduction still covering it, so most of a 12 MP decode is never
done. These tests hold that path to the full decode: ICC conversion and HEIC still work on it, the
measured ΔL* stays within 0.1 and the flagged area within 1 % of a full decode resized to the same
analysis size, and homographies stay in full-resolution photo pixels.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from test_images import ADOBE_RGB_D50, make_matrix_profile

from skintrack.core.images import decode, save_rgb
from skintrack.demo import synth
from skintrack.services import pipeline
from skintrack.services.pipeline import Analysed

FULL = (4000, 3000)


def _area(big: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(big, size, interpolation=cv2.INTER_AREA)


def test_icc_profile_is_converted_on_the_reduced_path(tmp_path: Path) -> None:
    icc = make_matrix_profile("Test Adobe-like RGB", ADOBE_RGB_D50, 563 / 256)
    colours = np.array([[60, 170, 90], [200, 120, 100], [128, 128, 128], [90, 110, 200]], np.uint8)
    rgb = np.repeat(np.repeat(colours[None], 400, axis=0), 400, axis=1)  # 400x1600, four blocks
    path = tmp_path / "adobe.jpg"
    Image.fromarray(rgb).save(path, icc_profile=icc, quality=95)

    full = decode(path).rgb
    small = decode(path, max_side=400).rgb  # 1/4 DCT scaling
    assert small.shape == (100, 400, 3)
    expected = _area(full, (400, 100)).astype(int)
    centres = small[50, 50::100].astype(int)
    assert np.abs(centres - expected[50, 50::100]).max() <= 2
    assert np.abs(centres - colours).max() > 10  # the profile was applied, not ignored


@pytest.mark.parametrize("orientation", [6, 8])
def test_heic_reduced_decode_is_upright_and_matches_the_full_decode(tmp_path: Path, orientation: int) -> None:
    rgb = np.full((300, 400, 3), (200, 150, 120), np.uint8)
    rgb[:100, :100] = (40, 30, 20)  # a dark block in the top-left corner
    path = tmp_path / "skin.heic"
    save_rgb(path, rgb, quality=95)
    full = decode(path).rgb
    small = decode(path, max_side=200)
    assert small.meta.format == "HEIF"
    assert small.rgb.shape == (150, 200, 3)
    assert (small.meta.width, small.meta.height) == (400, 300)
    assert np.abs(small.rgb.astype(int) - _area(full, (200, 150))).mean() < 2
    assert small.rgb[10, 10].max() < 80 and small.rgb[-10, -10].min() > 100


def _phone_pair(folder: Path, seed: int, change: synth.Darkening | None, light: synth.Lighting) -> list[Path]:
    pair = synth.make_pair(
        seed,
        (FULL[0] // 2, FULL[1] // 2),
        later_pose=synth.Pose(8.0, 1.05, 2e-5, 0.0, (40.0, -30.0)),
        change=change,
        later_lighting=light,
        speculars=8,
    )
    rng = np.random.default_rng(seed)
    paths = []
    for name, img in (("reference", pair.reference), ("later", pair.later)):
        big = cv2.resize(img, FULL, interpolation=cv2.INTER_CUBIC).astype(np.float32)
        big += rng.normal(0, 2.0, big.shape).astype(np.float32)
        path = folder / f"{seed}-{name}.jpg"
        bgr = cv2.cvtColor(np.clip(big, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(path)
    return paths


def _full_resolution(path: Path, analysis_size: tuple[int, int]) -> Analysed:
    d = decode(path)
    return Analysed(_area(d.rgb, analysis_size), (d.meta.width, d.meta.height))


CASES = [
    (11, synth.Darkening(-6.0, "brown"), synth.Lighting()),
    (12, synth.Darkening(-4.0, "grey-blue"), synth.Lighting(gain=0.9, gradient=(0.1, -0.05))),
    (13, None, synth.Lighting(gain=1.1, white_balance=(1.04, 1.0, 0.95), vignette=0.1)),
]


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "change", "light"), CASES)
def test_reduced_decode_measures_like_the_full_decode_on_12_mp_pairs(
    tmp_path: Path, seed: int, change: synth.Darkening | None, light: synth.Lighting
) -> None:
    ref_path, later_path = _phone_pair(tmp_path, seed, change, light)
    ref, later = pipeline.load(ref_path), pipeline.load(later_path)
    assert ref.full_size == FULL and ref.analysis_size == (1500, 1125)  # 1/2 DCT scale, then 0.75
    reduced = pipeline.measure_pair(ref, later)
    full = pipeline.measure_pair(
        _full_resolution(ref_path, ref.analysis_size), _full_resolution(later_path, later.analysis_size)
    )
    assert reduced.ok and full.ok and reduced.change is not None and full.change is not None
    a, b = reduced.change, full.change
    assert a.mean_delta_L == pytest.approx(b.mean_delta_L, abs=0.1)
    assert a.darkened_fraction == pytest.approx(b.darkened_fraction, abs=0.01)
    if change is not None:
        assert a.darkened_area_px == pytest.approx(b.darkened_area_px, rel=0.01)
    # both homographies in full-resolution photo pixels: they agree to well under a pixel there
    corners = np.float32([[0, 0], [FULL[0] - 1, 0], [FULL[0] - 1, FULL[1] - 1], [0, FULL[1] - 1]])
    pa = cv2.perspectiveTransform(corners[None], reduced.alignment.homography)[0]
    pb = cv2.perspectiveTransform(corners[None], full.alignment.homography)[0]
    assert np.abs(pa - pb).max() < 2.0


def test_full_size_mask_is_the_analysis_mask_upsampled(tmp_path: Path) -> None:
    from skintrack.core.change import ChangeSettings
    from skintrack.services.analysis import compare_files

    pair = synth.make_pair(
        21, (1600, 1200), later_pose=synth.Pose(4.0, 1.02), change=synth.Darkening(-8.0, "brown")
    )
    paths = []
    for name, img in (("reference", pair.reference), ("later", pair.later)):
        path = tmp_path / f"{name}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        paths.append(path)
    out = compare_files(*paths, settings=ChangeSettings(analysis_side=400))
    assert out.change is not None and out.analysis_size == (400, 300)  # 1/4 DCT scale
    full = out.full_mask()
    assert full.shape == (1200, 1600) and set(np.unique(full)) <= {0, 255}
    small = (np.asarray(out.change.mask) > 0) & np.asarray(out.change.compared_mask, bool)
    assert small.shape == (300, 400) and small.any()
    up = cv2.resize(small.astype(np.uint8) * 255, (1600, 1200), interpolation=cv2.INTER_NEAREST)
    assert np.array_equal(full, up)
