"""Step 1 of a comparison: inputs checked, masks gathered, both photos at analysis resolution.

Colour is compared on linear RGB at ``ChangeSettings.analysis_side`` (area-averaged in linear light,
then lightly smoothed against sensor noise and sub-pixel misregistration); masks follow at the same
size. Pixels whose colour is not skin colour (clipped channels, specular reflections) are found here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import cv2
import numpy as np

from skintrack.core import colour
from skintrack.core.change.calibration import card_parts
from skintrack.core.change.pixels import (
    as_mask,
    down_mask,
    highlights,
    rounded,
    to_analysis_linear,
)
from skintrack.core.change.result import CardCalibration
from skintrack.core.change.settings import CLIP_SRGB, ChangeSettings
from skintrack.core.parallel import both


@dataclass
class Frame:
    """The inputs at their own size (reference geometry): photos, masks, card and scale."""

    ref: np.ndarray
    later: np.ndarray
    valid: np.ndarray
    roi: np.ndarray | None
    control: np.ndarray | None
    card: CardCalibration | None
    mm_per_px: float | None

    @property
    def shape(self) -> tuple[int, int]:
        return self.ref.shape[0], self.ref.shape[1]

    def compared(self) -> np.ndarray:
        """Input pixels that may be compared: overlap ∩ watched area, minus control patch and card."""
        out = self.valid.copy()
        if self.roi is not None:
            out &= self.roi
        if self.control is not None:
            out &= ~self.control
        if self.card is not None and self.card.mask is not None:
            out &= ~self.card.mask
        return out


@dataclass
class Geometry:
    """Analysis size (w, h), analysis px per input px (fx, fy) and the input pixels' mm scale."""

    w: int
    h: int
    fx: float
    fy: float
    mm_per_px: float | None

    @property
    def area_scale(self) -> float:
        """Input px per analysis px (areas)."""
        return 1.0 / (self.fx * self.fy)


@dataclass
class Pair:
    """Both photos as linear RGB at analysis resolution, and the masks at the same size."""

    ref: np.ndarray
    later: np.ndarray
    valid: np.ndarray
    roi: np.ndarray | None
    control: np.ndarray | None
    card: np.ndarray | None
    resolution_match: dict[str, object] | None = None  # which photo was blurred, and how much


@dataclass
class Unreliable:
    """Pixels whose measured colour is not (all) the skin's, per photo and channel (analysis size).

    ``ref_clipped``/``later_clipped``: (H, W, 3) a channel at the sensor's ceiling in that photo,
    dilated by 2 px (demosaicing and JPEG spread the ceiling): its true value is at least that bright,
    so it is censored, not unknown. ``specular``: reflections (either photo). ``thin``: hair and other
    thin dark structures (either photo). ``excluded``: left out of fitting and comparing altogether.
    """

    ref_clipped: np.ndarray
    later_clipped: np.ndarray
    specular: np.ndarray
    thin: np.ndarray

    @cached_property
    def skin(self) -> np.ndarray:
        return ~(self.specular | self.thin)

    @cached_property
    def clipped(self) -> np.ndarray:
        """(H, W, 3) a channel clipped in either photo."""
        return self.ref_clipped | self.later_clipped

    @cached_property
    def usable(self) -> np.ndarray:
        """(H, W, 3) channels measured in both photos, on pixels that are skin."""
        return ~self.clipped & self.skin[..., None]

    @cached_property
    def any_clipped(self) -> np.ndarray:
        return any3(self.clipped)

    @cached_property
    def partial(self) -> np.ndarray:
        """Pixels with some but not all channels clipped: lightness from the unclipped channels."""
        return self.any_clipped & ~all3(self.clipped) & self.skin

    @cached_property
    def earlier_only(self) -> np.ndarray:
        """Every channel clipped in the reference only: a measured darkening is a lower bound."""
        return all3(self.ref_clipped) & ~any3(self.later_clipped) & self.skin

    @cached_property
    def any_unreliable(self) -> np.ndarray:
        """Some channel clipped or not skin: left out of fitting the light (it needs all channels)."""
        return self.any_clipped | ~self.skin

    @cached_property
    def excluded(self) -> np.ndarray:
        """No channel measured in both photos, or not skin: out of fitting and of the noise."""
        return all3(self.clipped) | ~self.skin


def any3(m: np.ndarray) -> np.ndarray:
    """Per pixel: any of the 3 channels (much faster than ``any(axis=2)``)."""
    return m[..., 0] | m[..., 1] | m[..., 2]


def all3(m: np.ndarray) -> np.ndarray:
    """Per pixel: all 3 channels."""
    return m[..., 0] & m[..., 1] & m[..., 2]


def prepare_frame(
    reference_rgb: np.ndarray,
    later_rgb_warped: np.ndarray,
    valid_mask: np.ndarray,
    roi: Any,
    control: Any,
    card: Any,
    mm_per_px: float | None,
) -> Frame:
    """Check the photos have one (H, W, 3) shape and bring every mask to bool at that size."""
    ref_in = np.asarray(reference_rgb)
    later_in = np.asarray(later_rgb_warped)
    if ref_in.shape != later_in.shape or ref_in.ndim != 3:
        raise ValueError(f"images must have the same (H, W, 3) shape: {ref_in.shape} vs {later_in.shape}")
    full = (ref_in.shape[0], ref_in.shape[1])
    valid = as_mask(valid_mask, full)
    parts = card_parts(card, later_in, full)
    if mm_per_px is None and parts is not None and parts.mm_per_px:
        mm_per_px = float(parts.mm_per_px)
    return Frame(
        ref=ref_in,
        later=later_in,
        valid=valid if valid is not None else np.ones(full, bool),
        roi=as_mask(roi, full),
        control=as_mask(control, full),
        card=parts,
        mm_per_px=mm_per_px,
    )


def analysis_geometry(frame: Frame, settings: ChangeSettings) -> Geometry:
    """The analysis size: the longest side reduced to ``analysis_side`` (never enlarged)."""
    big_h, big_w = frame.shape
    side = int(settings.analysis_side or 0)
    f = min(1.0, side / max(big_h, big_w)) if side > 0 else 1.0
    w, h = max(8, round(big_w * f)), max(8, round(big_h * f))
    return Geometry(w, h, w / big_w, h / big_h, frame.mm_per_px)


def prepare_pair(frame: Frame, geo: Geometry, settings: ChangeSettings) -> Pair:
    """Linear RGB of both photos and the masks at analysis size.

    The overlap is eroded by about 1.5 smoothing sigmas: the warp's border pixels blend with black.
    """
    size = (geo.w, geo.h)
    sigma = float(settings.smoothing_sigma)

    def linear(rgb: np.ndarray) -> np.ndarray:
        lin = to_analysis_linear(rgb, size)
        return cv2.GaussianBlur(lin, (0, 0), sigma) if sigma > 0 else lin

    ref_lin, later_lin = both(linear, frame.ref, frame.later)
    valid = down_mask(frame.valid, size, strict=True)
    er = max(1, round(1.5 * settings.smoothing_sigma) + 1)
    valid = cv2.erode(valid.astype(np.uint8), np.ones((2 * er + 1, 2 * er + 1), np.uint8)) > 0
    sigmas = tuple(s for s in MATCH_SIGMAS if s <= float(settings.match_max_sigma))
    ref_lin, later_lin, matched = match_resolution(
        ref_lin, later_lin, valid, float(settings.match_gain), sigmas, int(settings.match_window)
    )
    card = frame.card.mask if frame.card is not None else None
    return Pair(
        ref=ref_lin,
        later=later_lin,
        valid=valid,
        roi=None if frame.roi is None else down_mask(frame.roi, size, strict=False),
        control=None if frame.control is None else down_mask(frame.control, size, strict=False) & valid,
        card=None if card is None else down_mask(card, size, strict=False),
        resolution_match=matched,
    )


MATCH_SIGMAS = (
    0.5,
    1.0,
    1.5,
    2.0,
    3.0,
)  # px (analysis size): the ladder of blurs tried (up to match_max_sigma)
MATCH_GAIN = ChangeSettings().match_gain
MATCH_WINDOW = ChangeSettings().match_window


def _log_luma(lin: np.ndarray) -> np.ndarray:
    y = lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722
    return np.log(np.maximum(y, 1e-4)).astype(np.float32)


def _probe_window(valid: np.ndarray, window: int = MATCH_WINDOW) -> tuple[slice, slice]:
    """A window of at most ``window`` px a side in the middle of the overlap."""
    ys, xs = np.nonzero(valid[:: max(1, valid.shape[0] // 256), :: max(1, valid.shape[1] // 256)])
    fy = max(1, valid.shape[0] // 256)
    fx = max(1, valid.shape[1] // 256)
    cy, cx = int(np.median(ys)) * fy, int(np.median(xs)) * fx
    half = window // 2
    y0 = max(0, min(cy - half, valid.shape[0] - window))
    x0 = max(0, min(cx - half, valid.shape[1] - window))
    return slice(y0, y0 + window), slice(x0, x0 + window)


def match_resolution(
    ref: np.ndarray,
    later: np.ndarray,
    valid: np.ndarray,
    gain: float = MATCH_GAIN,
    sigmas: tuple[float, ...] = MATCH_SIGMAS,
    window: int = MATCH_WINDOW,
) -> tuple[np.ndarray, np.ndarray, dict[str, object] | None]:
    """Both photos at the coarser one's resolution: the sharper one blurred to match.

    A photo taken from farther away (an overview warped onto a close-up) holds none of the fine
    texture of the other; the texture alone then reads as ΔL* noise at the scale of a small patch.
    The blur (Gaussian, ``sigmas``) of either photo that best matches the other, judged in a
    ``window`` px a side in the middle of the overlap, is used when it lowers the robust spread of
    their log-luminance difference by ``gain`` (settings ``match_*``); same-resolution photos keep
    their own detail.
    Returns both photos and, when one was blurred, {"blurred": "reference" | "later", "sigma_px"}.
    """
    if valid.sum() < 500:
        return ref, later, None
    win = _probe_window(valid, window)
    inside = valid[win]
    if inside.sum() < 500:
        return ref, later, None
    a, b = _log_luma(ref[win]), _log_luma(later[win])

    def spread(x: np.ndarray, y: np.ndarray) -> float:
        d = (x - y)[inside][::3]  # an even subsample: medians of ~50 000 values are plenty
        return float(np.median(np.abs(d - np.median(d))))

    base = spread(a, b)
    best = (base, 0.0, "")
    for sigma in sigmas:
        for which, x, y in (
            ("ref", cv2.GaussianBlur(a, (0, 0), sigma), b),
            ("later", a, cv2.GaussianBlur(b, (0, 0), sigma)),
        ):
            value = spread(x, y)
            if value < best[0]:
                best = (value, sigma, which)
    value, sigma, which = best
    if not which or value > (1.0 - gain) * base:
        return ref, later, None
    info: dict[str, object] = {"blurred": "reference" if which == "ref" else "later", "sigma_px": sigma}
    if which == "ref":
        return cv2.GaussianBlur(ref, (0, 0), sigma), later, info
    return ref, cv2.GaussianBlur(later, (0, 0), sigma), info


LightProblems = tuple[np.ndarray, np.ndarray]  # (clipped channels, specular highlights) of one photo


def light_problems(lin: np.ndarray) -> LightProblems:
    """One photo's clipped channels (grown by 2 px) and specular highlights: the light, not the skin.

    Each photo's own, so the reference's can be found while the later photo is still being refined.
    """
    clip_lin = float(colour.srgb_to_linear(np.array(CLIP_SRGB)))
    clipped = (lin >= clip_lin).view(np.uint8)
    if clipped.any():
        clipped = cv2.dilate(clipped, np.ones((5, 5), np.uint8))
    return clipped.view(bool), highlights(lin)


def find_unreliable(
    pair: Pair,
    geo: Geometry,
    notes: list[str],
    thin: np.ndarray | None = None,
    lights: tuple[LightProblems, LightProblems] | None = None,
) -> Unreliable:
    """Clipped channels (per photo) and specular highlights (either photo): the light, not the skin.

    ``lights``: :func:`light_problems` of the reference and the later photo, when already found.
    """
    kernel = np.ones((5, 5), np.uint8)
    if lights is None:
        lights = both(light_problems, pair.ref, pair.later)
    (ref_clip, ref_spec), (later_clip, later_spec) = lights
    specular = ref_spec | later_spec
    if specular.any():
        notes.append(
            f"{rounded(float(specular.sum()) * geo.area_scale, 0):.0f} px of specular highlights (either "
            "photo) left out: reflections are not skin colour"
        )
        specular = cv2.dilate(specular.view(np.uint8), kernel).view(bool)
    if thin is None:
        thin = np.zeros(specular.shape, bool)
    return Unreliable(ref_clip, later_clip, specular, thin)
