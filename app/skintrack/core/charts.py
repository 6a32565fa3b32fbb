"""Colour charts in photos: an X-Rite ColorChecker (OpenCV's ``cv2.mcc``) or Skintrack's own card.

``detect_chart(rgb)`` returns one :class:`ChartDetection` (or None): which chart, a colour
correction on linear RGB, its residual CIEDE2000 on the chart's patches, the mm scale at the
chart and where the chart is (a mask to keep it out of skin measurements).

- ColorChecker: the 24 patches are sampled at full resolution (median of the central half of each
  patch, in linear RGB), and a 3x3 matrix is fitted (weighted by 1/Y) to the published reference colours
  (:mod:`skintrack.core.chart_data`). Clipped patches are left out of the fit. Its mm scale comes
  from the nominal patch pitch and is approximate.
- Skintrack card: the card's own detection (:mod:`skintrack.core.card`), fitted to the sRGB values
  the card is printed with. A home printer does not print those exactly, so for measurements
  between dates :func:`relative_correction` maps the photo's card onto the same card as seen in
  the region's reference photo instead: the printer's error is the same on both dates and cancels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from skintrack.core import card as card_mod
from skintrack.core.chart_data import NOMINAL_PATCH_PITCH_MM, colorchecker_lab_d65, colorchecker_linear
from skintrack.core.colour import (
    ColourCorrection,
    delta_e2000,
    fit_colour_correction,
    linear_to_lab,
    srgb_to_linear,
)

CHART_KINDS = ("colorchecker-classic", "colorchecker-passport", "skintrack-card")
KIND_SIDE = 640  # px: enough to tell whether (and which) ColorChecker is in view
# px: the ColorChecker is searched at most at this size, patches sampled at full size; at 1000 px
# (2.25x fewer pixels than the 1500 px analysis image) a real chart a third of the frame wide is
# still found and fitted to ΔE2000 < 3 (test_charts), for less than half the search's CPU
MCC_SIDE = 1000
PATCH_SAMPLE = 0.5  # the central half of each patch (edges blur into the black gaps)
CLIP_LEVEL = 250 / 255
MAX_MCC_COST = 0.2  # OpenCV's fit cost above which a found chart is not trusted
MIN_FIT_PATCHES = 12
LUMINANCE = np.array([0.2126, 0.7152, 0.0722])  # linear sRGB -> Y


@dataclass
class ChartDetection:
    """A chart found in a photo. ``colour_correction`` maps the photo's linear RGB to the chart's
    reference colours; ``patch_linear`` holds the measured patches (NaN where unusable)."""

    kind: str
    colour_correction: ColourCorrection | None
    residual_delta_e2000: float | None
    residual_delta_e2000_max: float | None
    mm_per_px: float | None
    mm_scale_approximate: bool
    patches_found: int
    patch_linear: np.ndarray
    target_linear: np.ndarray
    corners: np.ndarray  # the chart's outline in image pixels (4, 2)
    homography: np.ndarray | None = None  # chart-plane mm -> image pixels (as CardDetection's)
    clipped: list[int] = field(default_factory=list)
    mask: np.ndarray | None = field(default=None, repr=False)  # uint8 255 on the chart, image size

    def to_json(self) -> dict[str, Any]:
        """The ``skintrack calibrate --json`` object."""
        return {
            "chart": self.kind,
            "residual_delta_e2000": _round(self.residual_delta_e2000),
            "residual_delta_e2000_max": _round(self.residual_delta_e2000_max),
            "mm_per_px": None if self.mm_per_px is None else round(float(self.mm_per_px), 6),
            "mm_scale_approximate": self.mm_scale_approximate,
            "patches_found": int(self.patches_found),
            "clipped_patches": len(self.clipped),
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 3)


NO_CHART_JSON: dict[str, Any] = {
    "chart": None,
    "residual_delta_e2000": None,
    "mm_per_px": None,
    "patches_found": 0,
}


# --------------------------------------------------------------------------- ColorChecker


def _to_u8(rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(rgb)[..., :3]
    if arr.dtype == np.uint8:
        return arr
    return np.clip(arr.astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _find_colorcheckers(bgr: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """(cost, patch quads (24, 4, 2) in ``bgr`` pixels) of every MCC24 chart OpenCV finds."""
    detector = cv2.mcc.CCheckerDetector.create()
    detector.setColorChartType(cv2.mcc.MCC24)
    params = detector.getDetectionParams()
    # OpenCV enlarges smaller images to minImageSize (1000 px) first: 2-3x the work for no gain here
    params.minImageSize = min(int(params.minImageSize), max(bgr.shape[:2]))
    detector.setDetectionParams(params)
    if not detector.process(bgr, 2):
        return []
    found = []
    for checker in detector.getListColorChecker():
        quads = np.asarray(checker.getColorCharts(), np.float64).reshape(-1, 4, 2)
        if len(quads) == 24:
            found.append((float(checker.getCost()), quads))
    return sorted(found, key=lambda f: f[0])


def _sample_quad(rgb: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray | None, float]:
    """Median linear RGB of the central part of a patch, and its clipped fraction."""
    centre = quad.mean(axis=0)
    inner = centre + (quad - centre) * PATCH_SAMPLE
    values, clipped = card_mod.quad_pixels(rgb, inner, CLIP_LEVEL)
    if values is None:
        return None, 0.0
    return np.median(np.asarray(srgb_to_linear(values), np.float64), axis=0), clipped


def _fit(measured: np.ndarray, usable: np.ndarray) -> tuple[ColourCorrection, np.ndarray]:
    """Weighted least-squares 3x3 correction to the ColorChecker's reference; ΔE2000 of every patch.

    Each patch is weighted by 1 / Y of its reference (floored at 0.02), so dark patches count by
    their relative error, as ΔE sees them, rather than being swamped by the bright ones.
    """
    target = colorchecker_linear()
    weights = 1.0 / np.maximum(target @ LUMINANCE, 0.02)
    cc = fit_colour_correction(measured[usable], target[usable], weights=weights[usable])
    corrected = np.clip(measured @ np.asarray(cc.matrix).T, 0.0, None)
    de = np.asarray(delta_e2000(linear_to_lab(corrected), colorchecker_lab_d65()))
    cc = ColourCorrection(cc.matrix, float(np.mean(de[usable])), float(np.max(de[usable])))
    return cc, de


def _grid_homography(quads: np.ndarray, pitch_mm: float) -> np.ndarray | None:
    """Chart-plane mm (patch centres at multiples of the pitch) -> image pixels."""
    centres = quads.mean(axis=1)
    grid = np.array([[(i % 6) * pitch_mm, (i // 6) * pitch_mm] for i in range(24)], np.float64)
    h, _ = cv2.findHomography(grid, centres, 0)
    return h


def _grid_scale_px(quads: np.ndarray) -> float:
    """Patch pitch in pixels at the chart's centre, from a homography grid -> image."""
    centres = quads.mean(axis=1)
    grid = np.array([[i % 6, i // 6] for i in range(24)], np.float64)
    h, _ = cv2.findHomography(grid, centres, 0)
    if h is None:
        return float("nan")
    pts = np.array([[2.0, 1.0], [3.0, 1.0], [2.0, 2.0], [3.0, 2.0]]).reshape(-1, 1, 2)
    p = cv2.perspectiveTransform(pts, h).reshape(-1, 2)
    area = abs(cv2.contourArea(p[[0, 1, 3, 2]].astype(np.float32)))
    return float(np.sqrt(area))


def _outline(quads: np.ndarray) -> np.ndarray:
    """The outer corners of the patch grid, grown by half a gap: TL, TR, BR, BL."""
    tl, tr, br, bl = quads[0][0], quads[5][1], quads[23][2], quads[18][3]
    quad = np.array([tl, tr, br, bl])
    centre = quad.mean(axis=0)
    return centre + (quad - centre) * 1.04


def _detect_colorchecker(rgb: np.ndarray) -> ChartDetection | None:
    u8 = _to_u8(rgb)
    h, w = u8.shape[:2]
    scale = min(1.0, MCC_SIDE / max(h, w))
    small = u8 if scale == 1.0 else cv2.resize(u8, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = [f for f in _find_colorcheckers(cv2.cvtColor(small, cv2.COLOR_RGB2BGR)) if f[0] <= MAX_MCC_COST]
    if not found:
        return None
    _cost, quads = found[0]
    quads = (quads + 0.5) / scale - 0.5
    measured = np.full((24, 3), np.nan)
    clipped: list[int] = []
    for k, quad in enumerate(quads):
        value, clip = _sample_quad(rgb, quad)
        if value is not None:
            measured[k] = value
            if clip > 0.05:
                clipped.append(k)
    usable = ~np.isnan(measured).any(axis=1)
    usable[clipped] = False
    if usable.sum() < MIN_FIT_PATCHES:
        return None
    cc, _ = _fit(np.nan_to_num(measured), usable)
    # a chart upside down reads its patches in reverse order: keep the order that fits
    flipped = measured[::-1].copy()
    usable_f = usable[::-1].copy()
    cc_f, _ = _fit(np.nan_to_num(flipped), usable_f)
    if cc_f.residual_delta_e_mean < cc.residual_delta_e_mean:
        measured, usable, cc, quads = flipped, usable_f, cc_f, quads[::-1]
        clipped = [23 - k for k in clipped]
    kind = _kind(quads, found[1:], scale)
    pitch_px = _grid_scale_px(quads)
    mm_per_px = NOMINAL_PATCH_PITCH_MM[kind] / pitch_px if np.isfinite(pitch_px) and pitch_px > 0 else None
    corners = _outline(quads)
    homography = _grid_homography(quads, NOMINAL_PATCH_PITCH_MM[kind])
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(corners * 16).astype(np.int32), 255, cv2.LINE_8, 4)
    return ChartDetection(
        kind=kind,
        colour_correction=cc,
        residual_delta_e2000=cc.residual_delta_e_mean,
        residual_delta_e2000_max=cc.residual_delta_e_max,
        mm_per_px=mm_per_px,
        mm_scale_approximate=True,
        patches_found=int(usable.sum()),
        patch_linear=np.where(usable[:, None], measured, np.nan),
        target_linear=colorchecker_linear(),
        corners=corners,
        homography=homography,
        clipped=sorted(clipped),
        mask=cv2.dilate(mask, np.ones((9, 9), np.uint8)),
    )


def _kind(quads: np.ndarray, others: list[tuple[float, np.ndarray]], scale: float) -> str:
    """A Passport shows a second chart page beside the Classic one, of about the same size."""
    centre = quads.reshape(-1, 2).mean(axis=0)
    size = _grid_scale_px(quads)
    for _cost, other in others:
        other = (other + 0.5) / scale - 0.5
        other_size = _grid_scale_px(other)
        distance = float(np.linalg.norm(other.reshape(-1, 2).mean(axis=0) - centre))
        if np.isfinite(other_size) and 0.6 < other_size / size < 1.6 and distance < 8.0 * size:
            return "colorchecker-passport"
    return "colorchecker-classic"


# --------------------------------------------------------------------------- Skintrack card


def _from_card(det: card_mod.CardDetection) -> ChartDetection:
    usable = ~np.isnan(det.patch_linear).any(axis=1)
    for k, patch in enumerate(card_mod.PATCHES):
        if patch.name in det.clipped:
            usable[k] = False
    return ChartDetection(
        kind="skintrack-card",
        colour_correction=det.colour_correction,
        residual_delta_e2000=det.residual_delta_e,
        residual_delta_e2000_max=det.residual_delta_e_max,
        mm_per_px=det.mm_per_px,
        mm_scale_approximate=False,
        patches_found=int(usable.sum()),
        patch_linear=det.patch_linear,
        target_linear=card_mod.patch_targets_linear(),
        corners=det.corners,
        homography=det.homography,
        clipped=[k for k, p in enumerate(card_mod.PATCHES) if p.name in det.clipped],
        mask=det.mask,
    )


# --------------------------------------------------------------------------- public API


def detect_chart(rgb: np.ndarray) -> ChartDetection | None:
    """The calibration chart in an sRGB photo (uint8 or float 0..1), or None when there is none.

    Skintrack's card is looked for first (its ArUco markers are fast and unambiguous), then a
    ColorChecker.
    """
    det = card_mod.detect_card(rgb)
    if det is not None:
        return _from_card(det)
    return _detect_colorchecker(rgb)


def relative_correction(photo: ChartDetection, reference: ChartDetection) -> ColourCorrection:
    """A correction mapping ``photo``'s chart onto the same chart as seen in the reference photo.

    Used for Skintrack's printed card, whose printed colours nobody can vouch for: fitting each
    photo to the card in the region's reference photo cancels the printer's error (it is the same
    card on every date) and leaves only the change of light and camera. Residuals are ΔE2000
    against the reference's patches. Raises ValueError when the charts differ or share too few
    usable patches.
    """
    if photo.kind != reference.kind:
        raise ValueError(f"the photo shows a {photo.kind}, the reference a {reference.kind}")
    usable = ~(np.isnan(photo.patch_linear).any(axis=1) | np.isnan(reference.patch_linear).any(axis=1))
    if usable.sum() < 4:
        raise ValueError("the photo and the reference share fewer than 4 usable chart patches")
    return fit_colour_correction(photo.patch_linear[usable], reference.patch_linear[usable])


def chart_name(rgb_u8: np.ndarray) -> str | None:
    """Only the kind of chart in view (for the quality check), or None; faster than detect_chart.

    The card's markers are searched at up to 1024 px, a ColorChecker at up to ``KIND_SIDE`` px, and
    no colour is sampled or fitted.
    """
    arr = _to_u8(rgb_u8)
    grey = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2GRAY)
    if len(card_mod.detect_markers(grey, max_side=1024)) >= card_mod.MIN_MARKERS:
        return "skintrack-card"
    h, w = arr.shape[:2]
    scale = min(1.0, KIND_SIDE / max(h, w))
    small = arr if scale == 1.0 else cv2.resize(arr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = [f for f in _find_colorcheckers(cv2.cvtColor(small, cv2.COLOR_RGB2BGR)) if f[0] <= MAX_MCC_COST]
    if not found:
        return None
    return _kind(found[0][1], found[1:], 1.0)
