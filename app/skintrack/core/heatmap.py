"""The ΔL* heatmap, one colour map for the app and the exports.

Diverging colours centred on white at ΔL* = 0: darker is violet (stands out on every skin tone and
is never mistaken for redness of the skin), lighter is teal. The colour says "darker or lighter",
never the pigment's hue (patch kinds say grey-blue or brown). Opacity grows with |ΔL*| up to the
applied threshold, so sub-threshold fluctuations stay faint. Skin of the watched area that could not
be compared (clipped, specular, hair...) is hatched, so "no colour" never reads as "no change".
"""

from __future__ import annotations

from typing import Any, Protocol

import cv2
import numpy as np

HEATMAP_CLIP_L = 10.0  # |ΔL*| at full colour
# (position in [-clip, +clip] mapped to 0..1, sRGB 0..255)
STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (59, 10, 87)),
    (0.25, (176, 18, 122)),
    (0.5, (247, 247, 247)),
    (0.75, (43, 179, 163)),
    (1.0, (11, 93, 87)),
)
HATCH_RGB = (90, 90, 90)
HATCH_SPACING = 8  # px between hatch lines at 1000 px of image side
_POS = np.array([p for p, _ in STOPS], np.float32)
_RGB = np.array([c for _, c in STOPS], np.float32)


class HeatmapSource(Protocol):
    """What the heatmap reads from a ``ChangeResult``: the full-size ΔL* map only when it is cached
    (the small one is enough for a picture), the input reference photo as the default base."""

    mask: np.ndarray
    delta_L_small: np.ndarray
    excluded_small: np.ndarray | None
    threshold_applied_L: float
    patches: list
    _cache: dict[str, Any]
    _ref_input: np.ndarray | None

    @property
    def delta_L(self) -> np.ndarray:
        """ΔL* at input size."""
        ...


def diverging_colours(delta_L: np.ndarray, clip: float = HEATMAP_CLIP_L) -> np.ndarray:
    """RGB float32 (..., 3) 0..255 for ΔL* values: violet = darker, white = 0 (and NaN), teal = lighter."""
    t = np.clip(np.nan_to_num(np.asarray(delta_L, np.float32)) / clip, -1.0, 1.0) * 0.5 + 0.5
    flat = t.ravel()
    out = np.stack([np.interp(flat, _POS, _RGB[:, c]) for c in range(3)], axis=1)
    return out.reshape(*t.shape, 3).astype(np.float32)


def legend_stops(n: int = 11, clip: float = HEATMAP_CLIP_L) -> list[tuple[float, tuple[int, int, int]]]:
    """(position 0..1 from −clip to +clip, RGB 0..255) for drawing the legend's gradient."""
    values = np.linspace(-clip, clip, n, dtype=np.float32)
    cols = diverging_colours(values, clip)
    return [(i / (n - 1), tuple(round(float(v)) for v in c)) for i, c in enumerate(cols)]  # type: ignore[misc]


def opacity(delta_L: np.ndarray, threshold: float) -> np.ndarray:
    """0..1: |ΔL*| / threshold, capped at 1; 0 where not compared (NaN)."""
    d = np.asarray(delta_L, np.float32)
    a = np.clip(np.abs(np.nan_to_num(d)) / max(float(threshold), 1e-3), 0.0, 1.0)
    return np.where(np.isfinite(d), a, 0.0).astype(np.float32)


def hatch_lines(shape: tuple[int, int], spacing: int | None = None) -> np.ndarray:
    """Bool mask of diagonal lines (45°, ~1/4 of the period wide) covering ``shape``."""
    h, w = shape
    period = spacing or max(4, round(HATCH_SPACING * max(h, w) / 1000.0))
    yy, xx = np.ogrid[:h, :w]
    return ((xx + yy) % period) < max(1, period // 4)


def excluded_at(result: HeatmapSource, size: tuple[int, int]) -> np.ndarray | None:
    """The result's left-out pixels of the watched area at ``size`` (w, h), or None when there are none."""
    small = result.excluded_small
    if small is None or not np.any(small):
        return None
    return cv2.resize(np.asarray(small, np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0


def overlay_rgba(
    delta_L: np.ndarray,
    threshold: float = 3.0,
    clip: float = HEATMAP_CLIP_L,
    excluded: np.ndarray | None = None,
) -> np.ndarray:
    """uint8 RGBA the size of ``delta_L``: colour by ΔL*, alpha by :func:`opacity`, ``excluded`` hatched."""
    d = np.asarray(delta_L, np.float32)
    out = np.empty((*d.shape, 4), np.uint8)
    out[..., :3] = _colour_table(clip)[_quantise(d, clip)]
    out[..., 3] = (opacity(d, threshold) * 255.0 + 0.5).astype(np.uint8)
    if excluded is not None:
        lines = np.asarray(excluded, bool) & hatch_lines(d.shape)
        out[lines, :3] = HATCH_RGB
        out[lines, 3] = 200
    return out


def overlay_of(result: HeatmapSource, clip: float = HEATMAP_CLIP_L) -> np.ndarray:
    """The overlay of a ``ChangeResult`` at its input size (the compare view's layer)."""
    delta = np.asarray(result.delta_L, np.float32)
    h, w = delta.shape[:2]
    return overlay_rgba(delta, _threshold(result), clip, excluded_at(result, (w, h)))


def _threshold(result: HeatmapSource) -> float:
    return max(float(result.threshold_applied_L or 3.0), 1e-3)


def _colour_table(clip: float) -> np.ndarray:
    """257 uint8 colours: 256 steps over [−clip, +clip] and one (white) for NaN."""
    steps = np.linspace(-clip, clip, 256, dtype=np.float32)
    return np.vstack([diverging_colours(steps, clip), _RGB[2:3]]).astype(np.uint8)


def _quantise(d: np.ndarray, clip: float) -> np.ndarray:
    q = d * np.float32(127.5 / clip)
    q += np.float32(128.0)
    np.clip(q, 0.0, 255.0, out=q)
    return np.where(np.isfinite(q), q, 256.0).astype(np.uint16)


def heatmap_image(
    result: HeatmapSource, base_rgb: np.ndarray | None = None, alpha: float = 0.6, legend: bool = True
) -> np.ndarray:
    """ΔL* over a grey copy of the reference: uint8 RGB the size of ``base_rgb`` (or the result).

    Full ``alpha`` from the applied threshold on; flagged patches outlined (white with a dark edge);
    left-out skin hatched; a legend in the bottom-left corner.
    """
    in_h, in_w = result.mask.shape[:2]
    base = _base_uint8(result, base_rgb)
    bh, bw = base.shape[:2]
    grey = cv2.cvtColor(np.ascontiguousarray(base[..., :3]), cv2.COLOR_RGB2GRAY)
    grey = cv2.cvtColor(cv2.convertScaleAbs(grey, alpha=0.7, beta=40.0), cv2.COLOR_GRAY2RGB)
    dmap = result._cache.get("delta_L", result.delta_L_small)
    d = (
        dmap
        if (dmap.shape[1], dmap.shape[0]) == (bw, bh)
        else cv2.resize(dmap, (bw, bh), interpolation=cv2.INTER_LINEAR)
    )
    idx = _quantise(d, HEATMAP_CLIP_L)
    steps = np.linspace(-HEATMAP_CLIP_L, HEATMAP_CLIP_L, 256, dtype=np.float32)
    a_lut = np.append(alpha * np.clip(np.abs(steps) / _threshold(result), 0.0, 1.0), 0.0).astype(np.float32)
    a = a_lut[idx]
    img = np.ascontiguousarray(cv2.blendLinear(grey, _colour_table(HEATMAP_CLIP_L)[idx], 1.0 - a, a))
    excluded = excluded_at(result, (bw, bh))
    if excluded is not None:
        img[excluded & hatch_lines((bh, bw))] = HATCH_RGB
    _outlines(img, result.patches, bw / in_w, bh / in_h)
    if legend:
        _legend(img, HEATMAP_CLIP_L, hatched=excluded is not None)
    return img


def _base_uint8(result: HeatmapSource, base_rgb: np.ndarray | None) -> np.ndarray:
    in_h, in_w = result.mask.shape[:2]
    if base_rgb is None:
        ref = result._ref_input
        base_rgb = ref if ref is not None else np.full((in_h, in_w, 3), 0.5, np.float32)
    base = np.asarray(base_rgb)
    if base.dtype != np.uint8:
        base = (np.clip(base, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if base.ndim == 2:
        base = np.repeat(base[..., None], 3, axis=2)
    return base


def _outlines(img: np.ndarray, patches: list, sx: float, sy: float) -> None:
    th = max(1, round(min(img.shape[:2]) / 500))
    for p in patches:
        contour = p.get("contour", []) if isinstance(p, dict) else p.contour
        if len(contour) < 2:
            continue
        pts = np.array([[(x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5] for x, y in contour], np.float32)
        pts_i = np.round(pts * 4).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [pts_i], True, (30, 30, 30), th + 2, cv2.LINE_AA, shift=2)
        cv2.polylines(img, [pts_i], True, (255, 255, 255), th, cv2.LINE_AA, shift=2)


def _draw_delta(img: np.ndarray, x: int, y: int, size: int, col: tuple[int, int, int], th: int) -> int:
    """A 'Δ' drawn as a triangle (Hershey fonts have no Greek); returns the x after it."""
    pts = np.array([[x, y], [x + size // 2, y - size], [x + size, y]], np.int32)
    cv2.polylines(img, [pts], True, col, th, cv2.LINE_AA)
    return x + size + max(2, size // 4)


def _legend(img: np.ndarray, clip: float, hatched: bool = False) -> None:
    h, w = img.shape[:2]
    unit = max(1.0, min(w, h) / 600.0)
    bar_w = int(min(w * 0.45, 360 * unit))
    bar_h = int(12 * unit)
    pad = int(10 * unit)
    fs = 0.45 * unit
    th = max(1, round(unit))
    extra = int(18 * unit) if hatched else 0
    box_h = bar_h + int(46 * unit) + extra
    x0, y0 = pad, h - pad - box_h
    if bar_w < 60 or y0 < 0:
        return
    box = img[y0 : y0 + box_h, x0 : x0 + bar_w + 2 * pad]
    box[:] = (box.astype(np.float32) * 0.3 + 255 * 0.7).astype(np.uint8)
    ramp = np.linspace(-clip, clip, bar_w, dtype=np.float32)
    bar = diverging_colours(np.tile(ramp, (bar_h, 1)), clip).astype(np.uint8)
    bx, by = x0 + pad, y0 + int(22 * unit)
    img[by : by + bar_h, bx : bx + bar_w] = bar
    cv2.rectangle(img, (bx, by), (bx + bar_w - 1, by + bar_h - 1), (60, 60, 60), 1)
    black = (20, 20, 20)
    font = cv2.FONT_HERSHEY_SIMPLEX
    tx = _draw_delta(img, bx, by - int(8 * unit), int(9 * unit), black, th)
    cv2.putText(img, "L* (L* units)", (tx, by - int(8 * unit)), font, fs, black, th, cv2.LINE_AA)
    ly = by + bar_h + int(15 * unit)
    for value, label in ((-clip, f"-{clip:g} darker"), (0.0, "0"), (clip, f"+{clip:g} lighter")):
        (tw, _), _ = cv2.getTextSize(label, font, fs, th)
        px = bx + int((value + clip) / (2 * clip) * (bar_w - 1))
        px = int(min(max(px - tw // 2, bx), bx + bar_w - tw))
        cv2.putText(img, label, (px, ly), font, fs, black, th, cv2.LINE_AA)
    if hatched:
        sy, side = ly + int(6 * unit), int(12 * unit)
        swatch = img[sy : sy + side, bx : bx + side]
        swatch[hatch_lines((side, side), max(4, side // 3))] = HATCH_RGB
        cv2.rectangle(img, (bx, sy), (bx + side - 1, sy + side - 1), (60, 60, 60), 1)
        cv2.putText(
            img, "not measured", (bx + side + pad // 2, sy + side - 2), font, fs, black, th, cv2.LINE_AA
        )
