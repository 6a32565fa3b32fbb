"""Where and how much the skin got darker between two aligned photos.

Input: the reference photo and the later photo already warped into the reference geometry
(float32 sRGB 0..1, same size), the mask of pixels both photos cover, and optional watched area
(ROI), control patch and calibration card. Output: a :class:`ChangeResult` with ΔL*, Δb* maps,
a darkened mask, patches with statistics and an honest noise figure (DESIGN.md, "Measurement
definitions").

Pipeline (at an analysis resolution, ``ChangeSettings.analysis_side``, results in input pixels):

1. sRGB -> linear, area-downsample, light Gaussian pre-smoothing (sensor noise, residual
   misregistration).
2. Normalisation, strongest first: card (each photo colour-corrected to the card's known
   patches: absolute, so a uniform darkening is measurable) -> control patch (the later photo is
   scaled per channel so its control patch matches the reference's: the watched area is measured
   relative to unaffected skin) -> model (a smooth illumination field fitted robustly on all valid
   pixels and divided out: local patches only; its constant term absorbs any uniform change) ->
   none (only when asked for). The later photo's mean is never matched to the reference's.
   With a card or a control patch the smooth *shape* of the illumination (its gradient, not its
   level) is also removed, fitted robustly outside the watched area.
3. CIELAB; ΔL*, Δb* (and on demand Δa*, ΔITA, ΔE2000) maps, NaN outside the compared area
   (ROI ∩ overlap, minus control patch, card and clipped highlights).
4. Noise = 1.4826·MAD of ΔL* over unchanged pixels (iterated). Core pixels: ΔL* <= -max(T, k·noise).
   Patches: hysteresis (as in Canny): a patch extends over connected pixels darker than half that
   threshold and must hold a core of at least half the minimum area; without it a patch whose
   true ΔL* equals the threshold would be flagged as scattered half-pixels. Morphological
   open/close, minimum area (0.05 % of the compared area, or 2 mm² with a scale).
5. Each patch is labelled by its mean Δb*: "grey-blue" (b* down, dermal pigment), "brown" (b* up,
   epidermal) or "neutral"; Skintrack never assumes brown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from skintrack.core import colour
from skintrack.core.colour import ColourCorrection, IlluminationModel
from skintrack.core.parallel import both

ALGORITHM_VERSION = "change-2"
CALIBRATIONS = ("card", "control", "model", "none")
KIND_DELTA_B = 1.0  # |mean Δb*| above which a patch is called grey-blue or brown
CLIP_SRGB = 0.98  # highlights at or above this (either photo, any channel) are not compared
HIGHLIGHT_L = 10.0  # L* above the local median skin, and whiter than it: a specular reflection
MIN_CONTROL_PX = 30  # control patch pixels (analysis resolution) needed to use it


@dataclass
class ChangeSettings:
    """Thresholds and knobs (DESIGN.md defaults). ``calibration``: "auto" or one of CALIBRATIONS."""

    threshold_L: float = 3.0
    noise_k: float = 3.0
    min_area_fraction: float = 0.0005
    min_area_mm2: float = 2.0
    illumination_degree: int = 2
    calibration: str = "auto"
    analysis_side: int = 1500  # longest side of the analysis images (px); 0 = input size
    smoothing_sigma: float = 1.2  # Gaussian pre-smoothing at analysis resolution (px)
    hysteresis: float = 0.5  # patches grow into connected pixels darker than this × threshold


@dataclass
class CardCalibration:
    """Colour corrections for both photos from a calibration card (same absolute standard).

    ``mask`` marks card pixels (reference geometry) to leave out of the comparison.
    """

    ref_cc: ColourCorrection | None
    later_cc: ColourCorrection | None
    mask: np.ndarray | None = None
    mm_per_px: float | None = None


@dataclass
class Patch:
    area_px: float
    area_mm2: float | None
    bbox: tuple[int, int, int, int]
    centroid: tuple[float, float]
    mean_delta_L: float
    min_delta_L: float
    mean_delta_b: float
    mean_delta_ita: float
    kind: str
    contour: list[list[float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["bbox"] = list(self.bbox)
        d["centroid"] = list(self.centroid)
        return d


@dataclass
class ChangeResult:
    """A comparison in reference geometry. Maps and masks have the size of the inputs."""

    calibration: str
    darkened_fraction: float
    darkened_area_px: float
    darkened_area_mm2: float | None
    mean_delta_L: float | None
    mean_delta_a: float | None
    mean_delta_b: float | None
    mean_delta_ita: float | None
    mean_delta_e2000: float | None
    noise_delta_L: float | None
    uniform_change_measurable: bool
    patches: list[Patch]
    mask: np.ndarray = field(repr=False)  # uint8 0/255, input size
    delta_L_small: np.ndarray = field(repr=False)  # float32 at analysis resolution, NaN outside
    delta_b_small: np.ndarray = field(repr=False)
    compared_small: np.ndarray = field(repr=False)  # bool at analysis resolution
    compared_input: np.ndarray = field(repr=False)  # bool, input size: overlap ∩ ROI minus control/card
    ref_lab_mean: list[float] | None = None
    later_lab_mean: list[float] | None = None
    ref_ita: float | None = None
    later_ita: float | None = None
    ref_ita_class: str | None = None
    later_ita_class: str | None = None
    compared_area_px: float = 0.0
    threshold_applied_L: float = 0.0
    min_area_px: float = 0.0
    notes: list[str] = field(default_factory=list)
    control: dict[str, Any] | None = None
    card: dict[str, Any] | None = None
    settings: ChangeSettings = field(default_factory=ChangeSettings)
    analysis_scale: float = 1.0  # analysis px per input px
    _ref_input: np.ndarray | None = field(default=None, repr=False)
    _later_input: np.ndarray | None = field(default=None, repr=False)
    _normaliser: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    _labs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- maps at input size (lazy)

    def _up(self, name: str, small: np.ndarray, interp: int) -> np.ndarray:
        if name not in self._cache:
            h, w = self.mask.shape[:2]
            self._cache[name] = _resize(small, (w, h), interp)
        return self._cache[name]

    @property
    def delta_L(self) -> np.ndarray:
        """ΔL* map (float32, input size, NaN outside the compared area), upsampled on first use."""
        return self._up("delta_L", self.delta_L_small, cv2.INTER_LINEAR)

    @property
    def delta_b(self) -> np.ndarray:
        """Δb* map (float32, input size, NaN outside the compared area)."""
        return self._up("delta_b", self.delta_b_small, cv2.INTER_LINEAR)

    @property
    def compared_mask(self) -> np.ndarray:
        """Pixels actually compared (bool, input size): excludes highlights and the overlap's rim."""
        if "compared_mask" not in self._cache:
            up = self._up("_compared_up", self.compared_small.astype(np.uint8), cv2.INTER_NEAREST) > 0
            self._cache["compared_mask"] = up & self.compared_input
        return self._cache["compared_mask"]

    # ---------------------------------------------------------------- lazy extras

    @property
    def later_normalised(self) -> np.ndarray | None:
        """The later photo under the reference photo's light (float32 sRGB 0..1, input size), on demand.

        The calibration used, expressed in the reference photo's own colours, so the two can be shown
        side by side (with a card: later card correction, then the inverse of the reference's).
        """
        if "later_normalised" not in self._cache:
            if self._later_input is None or self._normaliser is None:
                return None
            lin = _srgb_to_linear_fast(self._later_input)
            self._cache["later_normalised"] = _linear_to_srgb_fast(self._normaliser(lin))
        return self._cache["later_normalised"]

    def _map(self, name: str) -> np.ndarray | None:
        if name not in self._cache:
            if self._labs is None:
                return None
            ref_lab, later_lab, compared = self._labs
            if name == "delta_a":
                m = later_lab[..., 1] - ref_lab[..., 1]
            elif name == "delta_ita":
                m = (
                    colour.ita(later_lab[..., 0], later_lab[..., 2])
                    - colour.ita(ref_lab[..., 0], ref_lab[..., 2])
                ).astype(np.float32)
            else:
                m = colour.delta_e2000(ref_lab, later_lab).astype(np.float32)
            m = np.where(compared, m, np.nan).astype(np.float32)
            h, w = self.mask.shape[:2]
            self._cache[name] = _resize(m, (w, h), cv2.INTER_LINEAR)
        return self._cache[name]

    @property
    def delta_a(self) -> np.ndarray | None:
        """Δa* map (float32, input size, NaN outside the compared area), computed on demand."""
        return self._map("delta_a")

    @property
    def delta_ita(self) -> np.ndarray | None:
        """ΔITA° map, computed on demand."""
        return self._map("delta_ita")

    @property
    def delta_e2000(self) -> np.ndarray | None:
        """CIEDE2000 map, computed on demand."""
        return self._map("delta_e2000")

    # ---------------------------------------------------------------- JSON

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md ``compare --json`` keys (without "alignment") plus documented extras."""
        s = self.settings
        return {
            "calibration": self.calibration,
            "darkened_fraction": _r(self.darkened_fraction, 6),
            "darkened_area_px": _r(self.darkened_area_px, 1),
            "darkened_area_mm2": _r(self.darkened_area_mm2, 2),
            "mean_delta_L": _r(self.mean_delta_L),
            "mean_delta_b": _r(self.mean_delta_b),
            "mean_delta_ita": _r(self.mean_delta_ita),
            "mean_delta_e2000": _r(self.mean_delta_e2000),
            "noise_delta_L": _r(self.noise_delta_L),
            "patches": [_patch_json(p) for p in self.patches],
            # extras
            "mean_delta_a": _r(self.mean_delta_a),
            "uniform_change_measurable": bool(self.uniform_change_measurable),
            "notes": list(self.notes),
            "ref_lab_mean": None if self.ref_lab_mean is None else [_r(v) for v in self.ref_lab_mean],
            "later_lab_mean": None if self.later_lab_mean is None else [_r(v) for v in self.later_lab_mean],
            "ref_ita": _r(self.ref_ita),
            "later_ita": _r(self.later_ita),
            "ref_ita_class": self.ref_ita_class,
            "later_ita_class": self.later_ita_class,
            "compared_area_px": _r(self.compared_area_px, 1),
            "thresholds": {
                "threshold_L": float(s.threshold_L),
                "noise_k": float(s.noise_k),
                "applied_threshold_L": _r(self.threshold_applied_L),
                "hysteresis": float(s.hysteresis),
                "min_area_px": _r(self.min_area_px, 1),
                "min_area_fraction": float(s.min_area_fraction),
                "min_area_mm2": float(s.min_area_mm2),
            },
            "control": self.control,
            "card": self.card,
            "change_version": ALGORITHM_VERSION,
        }


def _r(v: float | None, nd: int = 3) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if not math.isfinite(f) else round(f, nd)


def _patch_json(p: Patch) -> dict[str, Any]:
    return {
        "area_px": _r(p.area_px, 1),
        "area_mm2": _r(p.area_mm2, 2),
        "bbox": [int(v) for v in p.bbox],
        "centroid": [_r(v, 2) for v in p.centroid],
        "mean_delta_L": _r(p.mean_delta_L),
        "min_delta_L": _r(p.min_delta_L),
        "mean_delta_b": _r(p.mean_delta_b),
        "mean_delta_ita": _r(p.mean_delta_ita),
        "kind": p.kind,
        "contour": [[_r(x, 1), _r(y, 1)] for x, y in p.contour],
    }


# --------------------------------------------------------------------------- helpers

_LUT_N = 65536
_SRGB_LUT: np.ndarray | None = None


def _srgb_to_linear_fast(rgb: np.ndarray) -> np.ndarray:
    """sRGB -> linear float32 via a 16-bit table (exact to 1/65535; several times faster)."""
    global _SRGB_LUT
    if _SRGB_LUT is None:
        _SRGB_LUT = colour.srgb_to_linear(np.linspace(0.0, 1.0, _LUT_N)).astype(np.float32)
    a = np.asarray(rgb)
    if a.dtype == np.uint8:
        return _SRGB_LUT[a.astype(np.uint16) * np.uint16(257)]
    idx = a.astype(np.float32) * np.float32(_LUT_N - 1)
    idx += np.float32(0.5)
    np.clip(idx, 0, _LUT_N - 1, out=idx)
    return _SRGB_LUT[idx.astype(np.uint16)]


_ENC_LUT: np.ndarray | None = None


def _linear_to_srgb_fast(linear: np.ndarray) -> np.ndarray:
    """Linear -> sRGB float32 0..1 (clipped) via a 16-bit table: < 3e-4 error, for display."""
    global _ENC_LUT
    if _ENC_LUT is None:
        _ENC_LUT = colour.linear_to_srgb(np.linspace(0.0, 1.0, _LUT_N)).astype(np.float32)
    idx = np.asarray(linear, np.float32) * np.float32(_LUT_N - 1)
    idx += np.float32(0.5)
    np.clip(idx, 0, _LUT_N - 1, out=idx)
    return _ENC_LUT[idx.astype(np.uint16)]


def _to_analysis_linear(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Linear RGB at analysis ``size``, area-averaged in linear light.

    Inputs more than twice the analysis size are area-reduced in sRGB before linearising: the
    gamma error of averaging small blocks of skin texture is a small bias shared by both photos
    (it cancels in ΔL*), and it keeps a 12 MP compare fast.
    """
    a = np.asarray(rgb)
    w, h = size
    if a.shape[1] > 2 * w and a.shape[0] > 2 * h:
        return _srgb_to_linear_fast(cv2.resize(a, size, interpolation=cv2.INTER_AREA))
    return _resize(_srgb_to_linear_fast(a), size, cv2.INTER_AREA)


def _chan_max(img: np.ndarray) -> np.ndarray:
    """Per-pixel maximum over the 3 channels (much faster than ``max(axis=2)``)."""
    return np.maximum(np.maximum(img[..., 0], img[..., 1]), img[..., 2])


def _highlights(lin: np.ndarray) -> np.ndarray:
    """Specular reflections that are not clipped: brighter than the surrounding skin and whiter.

    They belong to the light, not to the skin, and move between photos; a highlight in the
    reference would otherwise read as "darkening" in every later photo.
    """
    luminance = lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722
    light = np.cbrt(np.clip(luminance, 0.008856, None)) * 116.0 - 16.0  # L* (exact above L* = 8)
    top = _chan_max(lin)
    bottom = np.minimum(np.minimum(lin[..., 0], lin[..., 1]), lin[..., 2])
    saturation = (top - bottom) / np.maximum(top, 1e-4)
    kernel = max(15, round(max(lin.shape[:2]) * 0.02)) | 1
    light8 = np.clip(light * 2.55, 0, 255).astype(np.uint8)
    sat8 = np.clip(saturation * 255, 0, 255).astype(np.uint8)
    brighter = light8.astype(np.int16) - _local_median(light8, kernel) > HIGHLIGHT_L * 2.55
    whiter = sat8.astype(np.float32) < 0.8 * _local_median(sat8, kernel)
    return brighter & whiter


def _local_median(img8: np.ndarray, kernel: int) -> np.ndarray:
    """The surrounding skin's median over ``kernel`` px: the background a highlight stands out from.

    Large kernels are taken at half resolution and interpolated back (the background is smooth),
    which is four times cheaper than a full-size median of the same reach.
    """
    h, w = img8.shape[:2]
    if kernel < 31 or min(h, w) < 64:
        return cv2.medianBlur(img8, kernel)
    half = cv2.resize(img8, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.medianBlur(half, (kernel // 2) | 1), (w, h), interpolation=cv2.INTER_LINEAR)


def _resize(img: np.ndarray, size: tuple[int, int], interp: int) -> np.ndarray:
    if (img.shape[1], img.shape[0]) == tuple(size):
        return img
    return cv2.resize(img, size, interpolation=interp)


def _mask(m: Any, shape: tuple[int, int]) -> np.ndarray | None:
    """Any mask-like (bool/uint8/float, 2D or 3D) as bool of ``shape`` (None stays None)."""
    if m is None:
        return None
    a = np.asarray(m)
    if a.ndim == 3:
        a = a.max(axis=2)
    b = a > (127 if a.dtype == np.uint8 and a.max() > 1 else 0)
    if b.shape != shape:
        b = cv2.resize(b.astype(np.uint8) * 255, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 127
    return b


def _down_mask(m: np.ndarray, size: tuple[int, int], strict: bool) -> np.ndarray:
    """Bool mask to analysis size; ``strict`` keeps only pixels fully inside (for the overlap)."""
    if (m.shape[1], m.shape[0]) == tuple(size):
        return m
    f = cv2.resize(m.view(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_AREA)
    return f >= 255 if strict else f > 127


def _cc_of(obj: Any) -> ColourCorrection | None:
    if obj is None or isinstance(obj, ColourCorrection):
        return obj
    cc = getattr(obj, "colour_correction", None)
    return cc if isinstance(cc, ColourCorrection) else None


def _card_parts(card: Any, later_rgb: np.ndarray, shape: tuple[int, int]) -> CardCalibration | None:
    """Normalise the ``card`` argument (CardCalibration, (ref, later) pair, or one CardDetection).

    One CardDetection (the reference's, as the service passes it) is completed by detecting the
    card in the warped later photo, which is in reference geometry too.
    """
    if card is None:
        return None
    if isinstance(card, CardCalibration):
        return card
    if isinstance(card, tuple | list):
        ref_obj = card[0] if len(card) > 0 else None
        later_obj = card[1] if len(card) > 1 else None
        masks = [getattr(o, "mask", None) for o in (ref_obj, later_obj)]
        if len(card) > 2:
            masks.append(card[2])
        mask = None
        for m in masks:
            mb = _mask(m, shape)
            if mb is not None:
                mask = mb if mask is None else (mask | mb)
        return CardCalibration(_cc_of(ref_obj), _cc_of(later_obj), mask, getattr(ref_obj, "mm_per_px", None))
    if hasattr(card, "ref_cc") or hasattr(card, "later_cc"):
        return CardCalibration(
            _cc_of(getattr(card, "ref_cc", None)),
            _cc_of(getattr(card, "later_cc", None)),
            _mask(getattr(card, "mask", None), shape),
            getattr(card, "mm_per_px", None),
        )
    # a single detection, from the reference photo
    mask = _mask(getattr(card, "mask", None), shape)
    later_cc = None
    try:
        from skintrack.core.card import detect_card

        u8 = (np.clip(later_rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
        det = detect_card(u8)
        if det is not None:
            later_cc = det.colour_correction
            lm = _mask(getattr(det, "mask", None), shape)
            if lm is not None:
                mask = lm if mask is None else (mask | lm)
    except Exception:  # no card module or detection trouble: no card calibration
        later_cc = None
    return CardCalibration(_cc_of(card), later_cc, mask, getattr(card, "mm_per_px", None))


def _robust_noise(dl: np.ndarray, threshold_L: float, k: float, iterations: int = 5) -> tuple[float, float]:
    """(median, 1.4826·MAD) of ΔL* over pixels considered unchanged, iterating the exclusion."""
    keep = dl
    med = float(np.median(keep))
    s = 1.4826 * float(np.median(np.abs(keep - med)))
    for _ in range(iterations):
        limit = max(threshold_L, k * s)
        nxt = dl[np.abs(dl - med) < limit]
        if len(nxt) < 50 or len(nxt) == len(keep):
            break
        keep = nxt
        med = float(np.median(keep))
        s = 1.4826 * float(np.median(np.abs(keep - med)))
    return med, s


def _kind(mean_db: float) -> str:
    if mean_db < -KIND_DELTA_B:
        return "grey-blue"
    if mean_db > KIND_DELTA_B:
        return "brown"
    return "neutral"


@dataclass
class _Geometry:
    """Analysis -> input pixel scaling and the optional mm scale of input pixels."""

    fx: float
    fy: float
    area_scale: float
    mm_per_px: float | None


def _split_by_kind(sel: np.ndarray, db: np.ndarray, min_area: float) -> list[np.ndarray]:
    """Split a flagged region where a grey-blue part (b* down) touches a brown part (b* up).

    Each side must be a real patch (>= the minimum area and >= 15 % of the region), otherwise the
    region stays whole and its mean Δb* decides; the split follows the sign of a smoothed Δb*.
    """
    area = int(sel.sum())
    vals = db[sel]
    need = max(min_area, 0.15 * area)
    if (vals > KIND_DELTA_B).sum() < need or (vals < -KIND_DELTA_B).sum() < need:
        return [sel]
    smooth = cv2.GaussianBlur(np.where(sel, np.nan_to_num(db), 0).astype(np.float32), (0, 0), 3.0)
    weight = cv2.GaussianBlur(sel.astype(np.float32), (0, 0), 3.0)
    sign = smooth / np.maximum(weight, 1e-6) >= 0.0
    parts = []
    for half in (sel & sign, sel & ~sign):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(half.astype(np.uint8), connectivity=8)
        parts += [labels == i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    return parts or [sel]


def _make_patch(
    sel: np.ndarray,
    win: tuple[slice, slice],
    dL: np.ndarray,
    db: np.ndarray,
    labs: tuple[np.ndarray, np.ndarray],
    g: _Geometry,
) -> Patch | None:
    """Statistics and geometry (in input pixels) of one flagged region ``sel`` inside window ``win``."""
    area = int(sel.sum())
    if area == 0:
        return None
    pdl = dL[win][sel]
    mdb = float(np.mean(db[win][sel]))
    ys, xs = np.nonzero(sel)
    x0, y0 = win[1].start, win[0].start
    cx, cy = float(xs.mean()) + x0, float(ys.mean()) + y0
    x, y = x0 + int(xs.min()), y0 + int(ys.min())
    bw, bh = int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1
    cnts, _ = cv2.findContours(
        sel.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(x0, y0)
    )
    contour: list[list[float]] = []
    if cnts:
        c = cv2.approxPolyDP(max(cnts, key=cv2.contourArea), 0.75, True).reshape(-1, 2)  # < 1 px error
        contour = [[(px + 0.5) / g.fx - 0.5, (py + 0.5) / g.fy - 0.5] for px, py in c]
    area_in = area * g.area_scale
    ref, lat = labs[0][win][sel], labs[1][win][sel]
    return Patch(
        area_px=area_in,
        area_mm2=area_in * g.mm_per_px * g.mm_per_px if g.mm_per_px else None,
        bbox=(round(x / g.fx), round(y / g.fy), round(bw / g.fx), round(bh / g.fy)),
        centroid=((cx + 0.5) / g.fx - 0.5, (cy + 0.5) / g.fy - 0.5),
        mean_delta_L=float(np.mean(pdl)),
        min_delta_L=float(np.min(pdl)),
        mean_delta_b=mdb,
        mean_delta_ita=float(
            np.mean(colour.ita(lat[..., 0], lat[..., 2]) - colour.ita(ref[..., 0], ref[..., 2]))
        ),
        kind=_kind(mdb),
        contour=contour,
    )


def _shape_only(model: IlluminationModel, anchor: np.ndarray | None) -> IlluminationModel:
    """The field's shape: zero at the anchor pixels' mean (or with its constant term dropped)."""
    coef = model.coefficients.copy()
    if anchor is not None and anchor.any():
        lg = model.log_gain(anchor.shape)
        coef[:, 0] -= lg[anchor].mean(axis=0)
    else:
        coef[:, 0] = 0.0
    return IlluminationModel(coef, model.degree, model.shape, model.inlier_fraction, model.residual_sigma)


# --------------------------------------------------------------------------- compare


def compare_aligned(
    reference_rgb: np.ndarray,
    later_rgb_warped: np.ndarray,
    valid_mask: np.ndarray,
    *,
    roi: np.ndarray | None = None,
    control: np.ndarray | None = None,
    card: Any = None,
    mm_per_px: float | None = None,
    settings: ChangeSettings | None = None,
) -> ChangeResult:
    """Measure the change from ``reference_rgb`` to ``later_rgb_warped`` (same geometry, sRGB 0..1).

    ``roi``/``control``/``valid_mask``: masks in reference geometry. ``card``: a CardCalibration,
    a (ref, later) pair of ColourCorrections/CardDetections, or the reference's CardDetection.
    ``mm_per_px``: scale of the input pixels (areas in mm² when known).
    """
    s = settings if settings is not None else ChangeSettings()
    ref_in = np.asarray(reference_rgb)
    later_in = np.asarray(later_rgb_warped)
    if ref_in.shape != later_in.shape or ref_in.ndim != 3:
        raise ValueError(f"images must have the same (H, W, 3) shape: {ref_in.shape} vs {later_in.shape}")
    H, W = ref_in.shape[:2]
    full = (H, W)
    valid_full = _mask(valid_mask, full)
    if valid_full is None:
        valid_full = np.ones(full, bool)
    roi_full = _mask(roi, full)
    control_full = _mask(control, full)
    card_parts = _card_parts(card, later_in, full)
    card_mask_full = card_parts.mask if card_parts is not None else None
    if mm_per_px is None and card_parts is not None and card_parts.mm_per_px:
        mm_per_px = float(card_parts.mm_per_px)

    # ---- analysis resolution
    side = int(s.analysis_side or 0)
    f = min(1.0, side / max(H, W)) if side > 0 else 1.0
    w, h = max(8, round(W * f)), max(8, round(H * f))
    fx, fy = w / W, h / H
    sigma = float(s.smoothing_sigma)

    def prepare(rgb: np.ndarray) -> np.ndarray:
        lin = _to_analysis_linear(rgb, (w, h))
        return cv2.GaussianBlur(lin, (0, 0), sigma) if sigma > 0 else lin

    ref_lin, later_lin = both(prepare, ref_in, later_in)
    valid = _down_mask(valid_full, (w, h), strict=True)
    # the warp's border pixels blend with black: stay clear of the overlap's edge
    er = max(1, round(1.5 * s.smoothing_sigma) + 1)
    valid = cv2.erode(valid.astype(np.uint8), np.ones((2 * er + 1, 2 * er + 1), np.uint8)) > 0
    roi_m = None if roi_full is None else _down_mask(roi_full, (w, h), strict=False)
    ctrl_m = None if control_full is None else _down_mask(control_full, (w, h), strict=False) & valid
    card_m = None if card_mask_full is None else _down_mask(card_mask_full, (w, h), strict=False)

    # highlights (either photo) are not skin colour: leave them out of fitting and comparing
    clip_lin = float(colour.srgb_to_linear(np.array(CLIP_SRGB)))
    (ref_clip, ref_spec), (later_clip, later_spec) = both(
        lambda lin: (_chan_max(lin) >= clip_lin, _highlights(lin)), ref_lin, later_lin
    )
    clipped = ref_clip | later_clip
    specular = ref_spec | later_spec
    notes: list[str] = []
    if specular.any():
        clipped |= specular
        notes.append(
            f"{_r(float(specular.sum()) / (fx * fy), 0):.0f} px of specular highlights (either photo) "
            "left out: reflections are not skin colour"
        )
    if clipped.any():
        clipped = cv2.dilate(clipped.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0

    fit_mask = valid & ~clipped
    if card_m is not None:
        fit_mask &= ~card_m
    outside_roi = fit_mask & ~roi_m if roi_m is not None else fit_mask
    if outside_roi.sum() < 0.2 * max(1, fit_mask.sum()):
        outside_roi = fit_mask

    # ---- normalisation, strongest first
    wanted = (s.calibration or "auto").lower()
    have_card = card_parts is not None and card_parts.ref_cc is not None and card_parts.later_cc is not None
    have_control = ctrl_m is not None and int(ctrl_m.sum()) >= MIN_CONTROL_PX
    if wanted == "card" and not have_card:
        notes.append("card calibration requested but the card's colours were not measured in both photos")
    if wanted == "control" and not have_control:
        notes.append("control calibration requested but no usable control patch was given")
    if wanted in ("auto", "card") and have_card:
        method = "card"
    elif wanted in ("auto", "card", "control") and have_control:
        method = "control"
    elif wanted == "none":
        method = "none"
    else:
        method = "model"
    if card_parts is not None and not have_card and method != "card":
        notes.append("a calibration card was found but not measured in both photos: not used for colour")

    ref_cc = later_cc = None
    model: IlluminationModel | None = None
    gains = np.ones(3, np.float32)
    control_info: dict[str, Any] | None = None
    card_info: dict[str, Any] | None = None
    if method == "card":
        assert card_parts is not None
        ref_cc, later_cc = card_parts.ref_cc, card_parts.later_cc
        ref_lin = colour.apply_colour_correction(ref_lin, ref_cc)
        later_lin = colour.apply_colour_correction(later_lin, later_cc)
        shape_model = colour.fit_illumination_model(
            ref_lin, later_lin, outside_roi, degree=s.illumination_degree
        )
        model = _shape_only(shape_model, card_m)
        later_lin = model.apply(later_lin)
        card_info = {
            "ref_residual_delta_e_mean": _r(ref_cc.residual_delta_e_mean),
            "ref_residual_delta_e_max": _r(ref_cc.residual_delta_e_max),
            "later_residual_delta_e_mean": _r(later_cc.residual_delta_e_mean),
            "later_residual_delta_e_max": _r(later_cc.residual_delta_e_max),
        }
        notes.append(
            "calibration 'card': both photos colour-corrected to the card's known patches "
            f"(residual ΔE00 {ref_cc.residual_delta_e_mean:.1f} / {later_cc.residual_delta_e_mean:.1f}); "
            "uniform change is measurable"
        )
    elif method == "control":
        assert ctrl_m is not None
        shape_model = colour.fit_illumination_model(
            ref_lin,
            later_lin,
            outside_roi & ~ctrl_m if (outside_roi & ~ctrl_m).any() else outside_roi,
            degree=s.illumination_degree,
        )
        model = _shape_only(shape_model, None)
        later_lin = model.apply(later_lin)
        cm = ctrl_m & ~clipped if (ctrl_m & ~clipped).sum() >= MIN_CONTROL_PX else ctrl_m
        gains = (np.median(ref_lin[cm], axis=0) / np.maximum(np.median(later_lin[cm], axis=0), 1e-6)).astype(
            np.float32
        )
        later_lin = later_lin * gains
        notes.append(
            "calibration 'control': the watched area is measured relative to the control patch "
            "(per-channel gain on linear RGB); a change of the control patch itself is invisible"
        )
    elif method == "model":
        model = colour.fit_illumination_model(ref_lin, later_lin, fit_mask, degree=s.illumination_degree)
        later_lin = model.apply(later_lin)
        notes.append(
            "calibration 'model': a smooth illumination field was fitted robustly and divided out; "
            "its constant term absorbs any uniform change of the whole frame, so uniform darkening "
            "is NOT measurable (mean ΔL* of the frame is ~0 by construction): add a control patch "
            "or a calibration card to measure it"
        )
    else:
        notes.append("calibration 'none': lighting differences between the photos appear as change")

    # ---- CIELAB and maps
    compared = valid & ~clipped
    if roi_m is not None:
        compared &= roi_m
    if ctrl_m is not None:
        compared &= ~ctrl_m
    if card_m is not None:
        compared &= ~card_m
    ref_lab, later_lab = both(lambda lin: colour.linear_to_lab(np.clip(lin, 1e-5, None)), ref_lin, later_lin)
    dL = later_lab[..., 0] - ref_lab[..., 0]
    db = later_lab[..., 2] - ref_lab[..., 2]
    dL = np.where(compared, dL, np.nan).astype(np.float32)
    db = np.where(compared, db, np.nan).astype(np.float32)
    n_compared = int(compared.sum())
    area_scale = 1.0 / (fx * fy)  # analysis px -> input px

    if ctrl_m is not None and ctrl_m.any():
        ctl_dL = later_lab[..., 0][ctrl_m] - ref_lab[..., 0][ctrl_m]
        ctl_db = later_lab[..., 2][ctrl_m] - ref_lab[..., 2][ctrl_m]
        control_info = {
            "mean_delta_L": _r(float(np.mean(ctl_dL))),
            "mean_delta_b": _r(float(np.mean(ctl_db))),
            "area_px": _r(float(ctrl_m.sum()) * area_scale, 1),
            "gains": [_r(float(g), 4) for g in gains] if method == "control" else None,
        }

    mask_small = np.zeros((h, w), np.uint8)
    patches: list[Patch] = []
    noise = thr = None
    min_area = 0.0
    mean = {k: None for k in ("L", "a", "b", "ita", "e")}
    ref_mean = later_mean = None
    if n_compared >= 50:
        cidx = np.flatnonzero(compared.ravel())
        step = max(1, n_compared // 400_000)
        sidx = cidx[::step]
        dl_s = dL.ravel()[sidx]
        _, noise = _robust_noise(dl_s, s.threshold_L, s.noise_k)
        thr = max(float(s.threshold_L), float(s.noise_k) * noise)
        if s.noise_k * noise > s.threshold_L:
            notes.append(
                f"measurement noise is high (ΔL* spread {noise:.2f}): the darkening threshold was raised "
                f"to {thr:.1f} L* units"
            )
        rl = ref_lab.reshape(-1, 3)[sidx]
        ll = later_lab.reshape(-1, 3)[sidx]
        ref_mean = rl.mean(axis=0).astype(np.float64)
        later_mean = ll.mean(axis=0).astype(np.float64)
        d_ita = colour.ita(ll[:, 0], ll[:, 2]) - colour.ita(rl[:, 0], rl[:, 2])
        e_idx = sidx[:: max(1, len(sidx) // 100_000)]
        mean = {
            "L": float(np.mean(dl_s)),
            "a": float(np.mean(ll[:, 1] - rl[:, 1])),
            "b": float(np.mean(ll[:, 2] - rl[:, 2])),
            "ita": float(np.mean(d_ita)),
            "e": float(
                np.mean(colour.delta_e2000(ref_lab.reshape(-1, 3)[e_idx], later_lab.reshape(-1, 3)[e_idx]))
            ),
        }

        # ---- flags, clean-up, patches
        dLz = np.nan_to_num(dL, nan=0.0)
        core = (dLz <= -thr) & compared
        weak_thr = max(s.hysteresis * thr, 2.0 * noise)
        weak = ((dLz <= -weak_thr) & compared).astype(np.uint8)
        k3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        k5 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        weak = cv2.morphologyEx(weak, cv2.MORPH_OPEN, k3)
        weak = cv2.morphologyEx(weak, cv2.MORPH_CLOSE, k5)
        weak &= compared.astype(np.uint8)
        if mm_per_px:
            mm_per_apx = float(mm_per_px) * math.sqrt(area_scale)
            min_area = float(s.min_area_mm2) / (mm_per_apx * mm_per_apx)
        else:
            min_area = float(s.min_area_fraction) * n_compared
        min_area = max(min_area, 4.0)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
        if n > 1:
            core_counts = np.bincount(labels[core], minlength=n)
            geo = _Geometry(fx, fy, area_scale, mm_per_px)
            for lab_id in range(1, n):
                area = int(stats[lab_id, cv2.CC_STAT_AREA])
                if area < min_area or core_counts[lab_id] < max(0.5 * min_area, 0.2 * area):
                    continue
                x, y, bw, bh = (int(v) for v in stats[lab_id, :4])
                win = (slice(y, y + bh), slice(x, x + bw))
                sel = labels[win] == lab_id
                pdl_all = dL[win]
                # extent: the core plus connected pixels down to half the patch's depth (or the
                # hysteresis level, whichever is stricter), so strong patches keep their true edge
                depth = float(np.median(pdl_all[sel & core[win]]))
                sel &= core[win] | (pdl_all <= min(-weak_thr, 0.5 * depth))
                if sel.sum() < min_area:
                    continue
                for part in _split_by_kind(sel, db[win], min_area):
                    patch = _make_patch(part, win, dL, db, (ref_lab, later_lab), geo)
                    if patch is not None and patch.area_px >= min_area * area_scale:
                        mask_small[win][part] = 255
                        patches.append(patch)
        patches.sort(key=lambda p: -p.area_px)
    else:
        notes.append("too few comparable pixels: no measurement")

    # ---- back to input size
    compared_full = valid_full.copy()
    if roi_full is not None:
        compared_full &= roi_full
    if control_full is not None:
        compared_full &= ~control_full
    if card_mask_full is not None:
        compared_full &= ~card_mask_full
    mask_full = _resize(mask_small, (W, H), cv2.INTER_LINEAR)
    mask_full = ((mask_full > 127) & compared_full).view(np.uint8) * np.uint8(255)
    darkened_px = float(sum(p.area_px for p in patches))
    compared_px = n_compared * area_scale

    # the model's constant term absorbs uniform change; "none" has no reference for the light
    uniform = method in ("card", "control")

    def normaliser(lin: np.ndarray) -> np.ndarray:
        out = lin
        if later_cc is not None:
            out = colour.apply_colour_correction(out, later_cc)
        if model is not None:
            out = model.apply(out)
        out = out * gains
        if ref_cc is not None:  # back into the reference photo's own colours, for side-by-side display
            inv = np.linalg.inv(np.asarray(ref_cc.matrix, np.float64))
            out = colour.apply_colour_correction(out, ColourCorrection(inv, 0.0, 0.0))
        return out

    ref_ita = later_ita = None
    if ref_mean is not None and later_mean is not None:
        ref_ita = float(colour.ita(ref_mean[0], ref_mean[2]))
        later_ita = float(colour.ita(later_mean[0], later_mean[2]))
    return ChangeResult(
        calibration=method,
        darkened_fraction=darkened_px / compared_px if compared_px else 0.0,
        darkened_area_px=darkened_px,
        darkened_area_mm2=darkened_px * mm_per_px * mm_per_px if mm_per_px else None,
        mean_delta_L=mean["L"],
        mean_delta_a=mean["a"],
        mean_delta_b=mean["b"],
        mean_delta_ita=mean["ita"],
        mean_delta_e2000=mean["e"],
        noise_delta_L=noise,
        uniform_change_measurable=uniform,
        patches=patches,
        mask=mask_full,
        delta_L_small=dL,
        delta_b_small=db,
        compared_small=compared,
        compared_input=compared_full,
        ref_lab_mean=None if ref_mean is None else [float(v) for v in ref_mean],
        later_lab_mean=None if later_mean is None else [float(v) for v in later_mean],
        ref_ita=ref_ita,
        later_ita=later_ita,
        ref_ita_class=None if ref_ita is None else colour.ita_class(ref_ita),
        later_ita_class=None if later_ita is None else colour.ita_class(later_ita),
        compared_area_px=compared_px,
        threshold_applied_L=thr or float(s.threshold_L),
        min_area_px=min_area * area_scale,
        notes=notes,
        control=control_info,
        card=card_info,
        settings=s,
        analysis_scale=float(math.sqrt(fx * fy)),
        _ref_input=ref_in,
        _later_input=later_in,
        _normaliser=normaliser if method != "none" else (lambda lin: lin),
        _labs=(ref_lab, later_lab, compared),
    )


# --------------------------------------------------------------------------- heatmap

HEATMAP_CLIP_L = 10.0
# Diverging map centred on white at ΔL* = 0: DARKER = RED (warm), LIGHTER = BLUE (cool).
# The colour says "darker or lighter", never the pigment's hue: patch kinds say grey-blue/brown.
_DARK_END = np.array([178, 24, 43], np.float32)
_MID_DARK = np.array([244, 165, 130], np.float32)
_LIGHT_END = np.array([33, 102, 172], np.float32)
_MID_LIGHT = np.array([146, 197, 222], np.float32)
_WHITE = np.array([247, 247, 247], np.float32)


def diverging_colours(delta_L: np.ndarray, clip: float = HEATMAP_CLIP_L) -> np.ndarray:
    """RGB float32 (..., 3) 0..255 for ΔL* values: red = darker, white = 0, blue = lighter."""
    t = np.clip(np.nan_to_num(np.asarray(delta_L, np.float32)) / clip, -1.0, 1.0)[..., None]
    a = np.abs(t)
    lo = np.clip(a * 2.0, 0.0, 1.0)
    hi = np.clip(a * 2.0 - 1.0, 0.0, 1.0)
    dark = np.where(a <= 0.5, _WHITE + (_MID_DARK - _WHITE) * lo, _MID_DARK + (_DARK_END - _MID_DARK) * hi)
    light = np.where(
        a <= 0.5, _WHITE + (_MID_LIGHT - _WHITE) * lo, _MID_LIGHT + (_LIGHT_END - _MID_LIGHT) * hi
    )
    return np.where(t < 0, dark, light).astype(np.float32)


def _draw_delta(img: np.ndarray, x: int, y: int, size: int, col: tuple[int, int, int], th: int) -> int:
    """A 'Δ' drawn as a triangle (Hershey fonts have no Greek); returns the x after it."""
    pts = np.array([[x, y], [x + size // 2, y - size], [x + size, y]], np.int32)
    cv2.polylines(img, [pts], True, col, th, cv2.LINE_AA)
    return x + size + max(2, size // 4)


def _legend(img: np.ndarray, clip: float) -> None:
    h, w = img.shape[:2]
    unit = max(1.0, min(w, h) / 600.0)
    bar_w = int(min(w * 0.45, 360 * unit))
    bar_h = int(12 * unit)
    pad = int(10 * unit)
    fs = 0.45 * unit
    th = max(1, round(unit))
    box_h = bar_h + int(46 * unit)
    x0, y0 = pad, h - pad - box_h
    if bar_w < 60 or y0 < 0:
        return
    overlay = img[y0 : y0 + box_h, x0 : x0 + bar_w + 2 * pad]
    overlay[:] = (overlay.astype(np.float32) * 0.3 + 255 * 0.7).astype(np.uint8)
    ramp = np.linspace(-clip, clip, bar_w, dtype=np.float32)
    bar = diverging_colours(np.tile(ramp, (bar_h, 1)), clip).astype(np.uint8)
    bx, by = x0 + pad, y0 + int(22 * unit)
    img[by : by + bar_h, bx : bx + bar_w] = bar
    cv2.rectangle(img, (bx, by), (bx + bar_w - 1, by + bar_h - 1), (60, 60, 60), 1)
    black = (20, 20, 20)
    tx = _draw_delta(img, bx, by - int(8 * unit), int(9 * unit), black, th)
    cv2.putText(
        img, "L* (L* units)", (tx, by - int(8 * unit)), cv2.FONT_HERSHEY_SIMPLEX, fs, black, th, cv2.LINE_AA
    )
    ly = by + bar_h + int(15 * unit)
    for value, label in ((-clip, f"-{clip:g} darker"), (0.0, "0"), (clip, f"+{clip:g} lighter")):
        (tw, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, fs, th)
        px = bx + int((value + clip) / (2 * clip) * (bar_w - 1))
        px = int(min(max(px - tw // 2, bx), bx + bar_w - tw))
        cv2.putText(img, label, (px, ly), cv2.FONT_HERSHEY_SIMPLEX, fs, black, th, cv2.LINE_AA)


def heatmap_image(
    result: ChangeResult, base_rgb: np.ndarray | None = None, alpha: float = 0.6, legend: bool = True
) -> np.ndarray:
    """ΔL* over a grey copy of the reference: uint8 RGB the size of ``base_rgb`` (or the result).

    Diverging colours centred at 0 and clipped at ±10 L*: red = darker, blue = lighter. The
    overlay's opacity grows with |ΔL*| (full ``alpha`` from the threshold on), so sub-threshold
    fluctuations stay faint; flagged patches are outlined (white with a dark edge).
    """
    in_h, in_w = result.mask.shape[:2]
    if base_rgb is None:
        base_rgb = (
            result._ref_input if result._ref_input is not None else np.full((in_h, in_w, 3), 0.5, np.float32)
        )
    base = np.asarray(base_rgb)
    if base.dtype != np.uint8:
        base = (np.clip(base, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if base.ndim == 2:
        base = np.repeat(base[..., None], 3, axis=2)
    bh, bw = base.shape[:2]
    grey = cv2.cvtColor(np.ascontiguousarray(base[..., :3]), cv2.COLOR_RGB2GRAY)
    grey = cv2.cvtColor(cv2.convertScaleAbs(grey, alpha=0.7, beta=40.0), cv2.COLOR_GRAY2RGB)
    # ΔL* at the base size (from the cached input-size map when there is one), quantised into a
    # 256-step table of colours and opacities; index 256 = not compared (NaN), fully transparent
    dmap = result._cache.get("delta_L", result.delta_L_small)
    d = _resize(dmap, (bw, bh), cv2.INTER_LINEAR)
    steps = np.linspace(-HEATMAP_CLIP_L, HEATMAP_CLIP_L, 256, dtype=np.float32)
    thr = max(float(result.threshold_applied_L or 3.0), 1e-3)
    col_lut = np.vstack([diverging_colours(steps), np.zeros((1, 3), np.float32)]).astype(np.uint8)
    a_lut = np.append(alpha * np.clip(np.abs(steps) / thr, 0.0, 1.0), 0.0).astype(np.float32)
    q = d * np.float32(127.5 / HEATMAP_CLIP_L)
    q += np.float32(128.0)
    np.clip(q, 0.0, 255.0, out=q)
    idx = np.where(np.isfinite(q), q, 256.0).astype(np.uint16)
    a = a_lut[idx]
    img = cv2.blendLinear(grey, col_lut[idx], 1.0 - a, a)
    img = np.ascontiguousarray(img)
    sx, sy = bw / in_w, bh / in_h
    th = max(1, round(min(bw, bh) / 500))
    for p in result.patches:
        if len(p.contour) < 2:
            continue
        pts = np.array([[(x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5] for x, y in p.contour], np.float32)
        pts_i = np.round(pts * 4).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [pts_i], True, (30, 30, 30), th + 2, cv2.LINE_AA, shift=2)
        cv2.polylines(img, [pts_i], True, (255, 255, 255), th, cv2.LINE_AA, shift=2)
    if legend:
        _legend(img, HEATMAP_CLIP_L)
    return img
