"""Size-aware detection: the noise of ΔL* averaged over an area, and patches found at several scales.

The mean ΔL* of a larger patch is known more precisely, but not as 1/√n: skin texture, hair and
residual misregistration make neighbouring pixels' errors correlated. So the noise is *measured* at
each scale: the ΔL* map is smoothed with Gaussians of growing sigma (normalised convolution over the
compared pixels) and its robust spread over unchanged skin taken at each. A Gaussian of sigma σ
averages like a patch of 4πσ² pixels, which gives the noise of a patch's mean against its area
(interpolated log-log) and so the smallest detectable darkening of a patch of that area:
max(F·T, k·noise(area)), with F = ``ChangeSettings.large_patch_fraction``.

A patch is found at the scale where it stands out (smoothed ΔL* <= −that limit), its extent taken
at the finest scale that resolves its depth (half-depth contour), and it is kept only when its
median ΔL* passes the limit for its own area (darker as an area: a few very dark lines of hair or
ink do not move a median) and its shape is an area, not lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from skintrack.core.change.detection import Region
from skintrack.core.change.noise import robust_noise
from skintrack.core.change.settings import ChangeSettings

SCALES = (0.002, 0.004, 0.008, 0.016)  # Gaussian sigmas as fractions of the analysis image's longest side
MIN_SUPPORT = 0.5  # smoothed values need this share of compared pixels under the kernel
MIN_MEASURED = 0.5  # share of a patch that must be compared skin (not filled in under lines)
AREA_CORE = 0.25  # share of a patch that must lie deeper inside it than a line's half-width
MAX_NOISE_SAMPLES = 60_000


@dataclass
class ScaleNoise:
    """Noise of the ΔL* mean over patches of growing area (analysis px), measured per scale."""

    areas: list[float]
    noise: list[float]
    floor: float
    k: float

    def noise_at(self, area: float) -> float:
        """Interpolated log-log; beyond the largest scale it falls no faster than 1/√area."""
        la = np.log(np.asarray(self.areas))
        ln = np.log(np.maximum(np.asarray(self.noise), 1e-4))
        x = math.log(max(area, 1.0))
        if x <= la[0]:
            return float(self.noise[0])
        if x >= la[-1]:
            slope = (ln[-1] - ln[-2]) / (la[-1] - la[-2]) if len(la) > 1 else -0.5
            return float(math.exp(ln[-1] + max(-0.5, min(0.0, slope)) * (x - la[-1])))
        return float(math.exp(np.interp(x, la, ln)))

    def limit(self, area: float) -> float:
        """The smallest detectable mean darkening (L*, positive) of a patch of ``area`` analysis px."""
        return max(self.floor, self.k * self.noise_at(area))


def smooth(
    dl: np.ndarray, support: np.ndarray, sigma: float, _prepared: _Prepared | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Normalised Gaussian convolution of ``dl`` over ``support``: (smoothed map, kernel share).

    Large sigmas are taken on a reduced copy (the result is smooth), keeping every scale cheap.
    """
    h, w = dl.shape
    prep = _prepared if _prepared is not None else _Prepared(dl, support)
    f = max(1, int(sigma // 2))
    if f > 1:
        size = (max(2, w // f), max(2, h // f))
        v_s, m_s = prep.reduced(size)
        num = cv2.GaussianBlur(v_s, (0, 0), sigma / f)
        den = cv2.GaussianBlur(m_s, (0, 0), sigma / f)
        num = cv2.resize(num, (w, h), interpolation=cv2.INTER_LINEAR)
        den = cv2.resize(den, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        num = cv2.GaussianBlur(prep.v, (0, 0), sigma)
        den = cv2.GaussianBlur(prep.m, (0, 0), sigma)
    num /= np.maximum(den, np.float32(1e-6))
    return num, den


class _Prepared:
    """The weighted map and weights of :func:`smooth`, made once for several sigmas (and sizes)."""

    def __init__(self, dl: np.ndarray, support: np.ndarray) -> None:
        self.m = support.astype(np.float32)
        v = np.where(support, dl, np.float32(0.0))
        self.v = np.nan_to_num(v, copy=False).astype(np.float32, copy=False)
        self._reduced: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def reduced(self, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        if size not in self._reduced:
            self._reduced[size] = (
                cv2.resize(self.v, size, interpolation=cv2.INTER_AREA),
                cv2.resize(self.m, size, interpolation=cv2.INTER_AREA),
            )
        return self._reduced[size]


def scale_maps(dl: np.ndarray, support: np.ndarray) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """(sigma, smoothed ΔL*, kernel share) for each of SCALES."""
    side = max(dl.shape)
    prep = _Prepared(dl, support)
    return [(s * side, *smooth(dl, support, s * side, prep)) for s in SCALES]


def measure_scale_noise(
    dl: np.ndarray,
    compared: np.ndarray,
    maps: list[tuple[float, np.ndarray, np.ndarray]],
    pixel_noise: float,
    smoothing_sigma: float,
    settings: ChangeSettings,
    factor: int = 1,
) -> ScaleNoise:
    """Robust spread of each smoothed map over compared, well-supported pixels (changed ones excluded).

    ``factor``: the maps were reduced by this factor; areas are given in unreduced pixels.
    """
    floor = float(settings.large_patch_fraction) * float(settings.threshold_L)
    areas = [4.0 * math.pi * max(smoothing_sigma, 0.5) ** 2]
    noise = [pixel_noise]
    for sigma, s_map, share in maps:
        ok = compared & (share >= MIN_SUPPORT)
        idx = np.flatnonzero(ok.ravel())
        if len(idx) < 50:
            break
        idx = idx[:: max(1, len(idx) // MAX_NOISE_SAMPLES)]
        _, spread = robust_noise(s_map.ravel()[idx], floor, settings.noise_k)
        areas.append(4.0 * math.pi * ((sigma * factor) ** 2 + smoothing_sigma**2))
        noise.append(min(spread, noise[-1]))  # averaging more never makes the mean noisier
    return ScaleNoise(areas, noise, floor, float(settings.noise_k))


def area_like(sel: np.ndarray, half_width: float, holes: np.ndarray | None = None) -> bool:
    """True when a quarter of ``sel`` lies deeper than ``half_width`` px inside it: an area, not
    lines (a streak along a hair or an ink line is nowhere that deep).

    ``holes`` (same shape): pixels whose colour was not measured (glints, clipped skin); depth is
    measured through them, so a patch they perforate is still an area.
    """
    inside = sel if holes is None else sel | holes
    padded = np.pad(inside.astype(np.uint8), 1)
    dt = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]
    return bool((dt[sel] >= half_width).sum() >= AREA_CORE * sel.sum())


def _extent(
    dl: np.ndarray,
    detectable: np.ndarray,
    maps: list[tuple[float, np.ndarray, np.ndarray]],
    sn: ScaleNoise,
    seed: np.ndarray,
    win: tuple[slice, slice],
) -> np.ndarray | None:
    """The patch around ``seed``: half-depth contour at the finest scale resolving its depth."""
    depth = float(np.median(dl[win][seed & np.isfinite(dl[win])])) if seed.any() else 0.0
    if not depth < 0:
        return None
    level = dl
    if sn.noise[0] * 4.0 > -depth:
        for i, (_, s_map, _) in enumerate(maps):
            level = s_map
            if sn.noise[min(i + 1, len(sn.noise) - 1)] * 4.0 <= -depth:
                break
    inside = (level[win] <= 0.5 * depth) & detectable[win]
    _n, labels = cv2.connectedComponents(inside.astype(np.uint8), connectivity=8)
    hits = np.unique(labels[seed & inside])
    hits = hits[hits > 0]
    return np.isin(labels, hits) if len(hits) else None


def find_scale_regions(
    dl: np.ndarray,
    detectable: np.ndarray,
    compared: np.ndarray,
    sn: ScaleNoise,
    maps: list[tuple[float, np.ndarray, np.ndarray]],
    min_area: float,
    taken: np.ndarray,
    half_width: float = 2.0,
    pixel_threshold: float = float("inf"),
    factor: int = 1,
    rim_ok: Callable[[Region], bool] | None = None,
) -> list[Region]:
    """Patches standing out at some scale, not yet in ``taken``, passing the limit for their own area.

    ``half_width``: of the widest line (hair, ink) a patch must be more than (:func:`area_like`).
    ``pixel_threshold``: a patch this dark (median ΔL*) is left to the per-pixel test, which sees
    it unsmoothed: smoothing must not turn a cluster of lines into an area. ``factor``: the maps
    were reduced by this factor (areas in ``sn`` and ``min_area`` are in unreduced pixels).
    ``rim_ok``: a narrow band accepted anyway (the rim of a growing pigmented spot).
    """
    min_area = min_area / (factor * factor)
    h, w = dl.shape
    found: list[Region] = []
    claimed = taken.copy()
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    near = cv2.dilate(taken.astype(np.uint8), grow) > 0
    for i, (sigma, s_map, share) in enumerate(maps):
        t = sn.limit(sn.areas[min(i + 1, len(sn.areas) - 1)])
        cand = ((s_map <= -t) & (share >= MIN_SUPPORT) & detectable & ~claimed).astype(np.uint8)
        if not cand.any():
            continue
        n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8)
        pad = math.ceil(3 * sigma)
        for lab_id in range(1, n):
            if stats[lab_id, cv2.CC_STAT_AREA] < 0.5 * min_area:
                continue
            x, y, bw, bh = (int(v) for v in stats[lab_id, :4])
            win = (slice(max(0, y - pad), min(h, y + bh + pad)), slice(max(0, x - pad), min(w, x + bw + pad)))
            seed = labels[win] == lab_id
            if (seed & near[win]).any():  # the edge of a patch already found, seen blurred
                continue
            inner = dl[win][seed]
            inner = inner[np.isfinite(inner)]
            if not len(inner) or float(np.median(inner)) > -0.5 * t:  # texture, not an area
                continue
            sel = _extent(dl, detectable, maps, sn, seed, win)
            if sel is None:
                continue
            sel &= ~claimed[win]
            area = int(sel.sum())
            if area < min_area or not area_like(sel, half_width):
                continue
            measured = sel & compared[win]
            if measured.sum() < MIN_MEASURED * area:
                continue  # mostly under hair or ink
            vals = dl[win][measured]
            # the median, not the mean: a few very dark pixels (hair, a pen line) do not make an area
            typical = float(np.median(vals))
            if typical > -sn.limit(area * factor * factor):
                continue  # too faint for its area
            rim = rim_ok is not None and rim_ok(Region(win, sel))
            if not rim and (not area_like(measured, half_width) or typical <= -pixel_threshold):
                continue  # darker along lines, or strong enough that the per-pixel test decided
            claimed[win] |= sel
            near[win] |= cv2.dilate(sel.astype(np.uint8), grow) > 0
            found.append(Region(win, sel))
    return found


def detection_limits(
    sn: ScaleNoise, n_compared: int, area_scale: float, mm_per_px: float | None, min_area: float
) -> dict[str, float | None]:
    """Smallest detectable ΔL* (L*, negative) for a few patch areas: cm² with a scale, else % of the area.

    None where the area is under the minimum patch area or larger than the compared area.
    """
    out: dict[str, float | None] = {}
    if mm_per_px:
        px_per_cm2 = 100.0 / (mm_per_px * mm_per_px) / area_scale  # analysis px per cm²
        sizes = [(f"{a:g} cm2", a * px_per_cm2) for a in (0.25, 1.0, 4.0)]
    else:
        sizes = [(f"{p:g} %", p / 100.0 * n_compared) for p in (0.1, 1.0, 10.0)]
    for key, area in sizes:
        ok = min_area <= area <= n_compared
        out[key] = round(-sn.limit(area), 2) if ok else None
    return out


WORK_SIDE = 800  # the size-aware search runs at about this side: its scales are all >= 3 px there


def _reduce(dl: np.ndarray, m: np.ndarray, f: int) -> tuple[np.ndarray, np.ndarray]:
    """``dl`` averaged over ``m`` in f×f blocks, and the blocks at least half covered by ``m``."""
    h, w = dl.shape
    size = (w // f, h // f)
    cut = (slice(0, size[1] * f), slice(0, size[0] * f))
    mm = m[cut].astype(np.float32)
    num = cv2.resize(
        np.where(m[cut], np.nan_to_num(dl[cut]), 0.0).astype(np.float32), size, interpolation=cv2.INTER_AREA
    )
    den = cv2.resize(mm, size, interpolation=cv2.INTER_AREA)
    ok = den >= 0.5
    return np.where(ok, num / np.maximum(den, 1e-6), np.nan).astype(np.float32), ok


def size_aware_regions(
    dl: np.ndarray,
    detectable: np.ndarray,
    compared: np.ndarray,
    pixel_noise: float,
    settings: ChangeSettings,
    min_area: float,
    taken: np.ndarray,
    half_width: float,
    pixel_threshold: float,
    rim_ok: Callable[[Region], bool] | None = None,
) -> tuple[list[Region], ScaleNoise]:
    """Size-aware patches of the ΔL* map ``dl`` and the noise model, on a copy reduced to WORK_SIDE.

    Regions come back at the map's own size (inside ``detectable``).
    """
    h, w = dl.shape
    f = max(1, int(max(h, w) // WORK_SIDE))
    if f == 1:
        d_s, det_s, cmp_s, taken_s = dl, detectable, compared, taken
    else:
        d_s, det_s = _reduce(dl, detectable, f)
        cmp_s = _reduce(dl, compared, f)[1]
        taken_s = (
            cv2.resize(taken.astype(np.uint8), (d_s.shape[1], d_s.shape[0]), interpolation=cv2.INTER_AREA) > 0
        )
    maps = scale_maps(d_s, det_s)
    sn = measure_scale_noise(d_s, cmp_s, maps, pixel_noise, float(settings.smoothing_sigma), settings, f)
    small = find_scale_regions(
        d_s, det_s, cmp_s, sn, maps, min_area, taken_s, half_width / f, pixel_threshold, f
    )
    if f == 1:
        return small, sn
    out = []
    for r in small:
        win = (slice(r.win[0].start * f, r.win[0].stop * f), slice(r.win[1].start * f, r.win[1].stop * f))
        sel = np.repeat(np.repeat(r.sel, f, axis=0), f, axis=1) & detectable[win] & ~taken[win]
        if sel.any():
            out.append(Region(win, sel))
    return out, sn
