"""``compare_aligned``: a short driver over the named steps of a comparison.

prepare (inputs, analysis resolution, unreliable pixels) -> calibration (choose) -> normalisation ->
delta maps -> noise -> detection (per pixel, then size-aware) -> patches -> coverage -> result.
Each step is a function of its own module with its own tests, so one can be replaced alone.
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from skintrack.core import colour
from skintrack.core.change.calibration import Normalised, choose_method, normalise
from skintrack.core.change.coverage import Coverage, coverage
from skintrack.core.change.detection import Region, find_regions, min_area_px
from skintrack.core.change.maps import (
    DeltaMaps,
    MeanChange,
    censored_pixels,
    compared_pixels,
    control_summary,
    delta_maps,
    fill_under_lines,
    mean_change,
)
from skintrack.core.change.noise import NoiseEstimate, estimate_noise
from skintrack.core.change.patches import build_patches, fill_thin_gaps
from skintrack.core.change.pixels import resize
from skintrack.core.change.prepare import (
    Frame,
    Geometry,
    Pair,
    all3,
    analysis_geometry,
    find_unreliable,
    light_problems,
    prepare_frame,
    prepare_pair,
)
from skintrack.core.change.registration import refine_pair
from skintrack.core.change.result import ChangeResult, Patch
from skintrack.core.change.scales import (
    area_like,
    detection_limits,
    size_aware_regions,
)
from skintrack.core.change.settings import ChangeSettings
from skintrack.core.change.spots import (
    SPOT_CONTRAST_L,
    contrast_of_pigment,
    encircles_a_spot,
    judged_by_spot,
    skin_around,
    spot_extents,
)
from skintrack.core.change.thin import grown, thin_of
from skintrack.core.thin_structures import default_width

FRINGE_SHARE = ChangeSettings().fringe_share
MIN_COMPARED_PX = 50  # fewer compared pixels (analysis resolution): no measurement


@dataclass
class Findings:
    """What detection produced: noise, patches and their mask, limits by area."""

    means: MeanChange = field(default_factory=MeanChange)
    noise: NoiseEstimate | None = None
    patches: list[Patch] = field(default_factory=list)
    mask_small: np.ndarray | None = None
    min_area: float = 0.0
    limits: dict[str, float | None] = field(default_factory=dict)


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
    notes: list[str] = []
    frame = prepare_frame(reference_rgb, later_rgb_warped, valid_mask, roi, control, card, mm_per_px)
    geo = analysis_geometry(frame, s)
    pair = prepare_pair(frame, geo, s)
    refinement: dict[str, Any] = {"applied": False, "message": "not asked for"}
    thin = None
    # two steps at a time on two cores, each photo's light problems beside its thin structures
    # (refinement bends only the later photo; it runs alone: its images are the memory's peak)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="skintrack-unreliable") as pool:
        ref_light = pool.submit(light_problems, pair.ref)
        thin_ref = thin_of(pair.ref, pair.valid) if s.exclude_thin_structures else None
        ref_problems = ref_light.result()
        if s.refine_alignment:
            pair, refinement = refine_pair(pair, geo, thin_ref)
        thin_later = None if thin_ref is None else pool.submit(thin_of, pair.later, pair.valid)
        later_light = light_problems(pair.later)
        unreliable = find_unreliable(pair, geo, notes, lights=(ref_problems, later_light))
        if thin_later is not None and thin_ref is not None:
            thin = grown(thin_ref | thin_later.result(), float(s.smoothing_sigma))
            unreliable = replace(unreliable, thin=thin)
    method = choose_method(pair, frame.card, s, notes)
    norm = normalise(method, pair, unreliable, frame.card, s, notes)
    compared = compared_pixels(pair, unreliable)
    maps = delta_maps(norm, compared, unreliable, censored_pixels(pair, unreliable))
    pair, norm = _masks_only(pair, norm)
    if thin is not None:
        maps = fill_under_lines(maps, thin & pair.valid, float(default_width((geo.h, geo.w))))
    found = Findings(mask_small=np.zeros(maps.dL.shape, np.uint8))
    if maps.n_compared >= MIN_COMPARED_PX:
        found = detect(
            maps,
            geo,
            s,
            notes,
            unreliable.thin | unreliable.specular,
            norm.tone_support,
            unreliable.specular | all3(unreliable.clipped),
            unreliable.thin,
        )
    else:
        notes.append("too few comparable pixels: no measurement")
    cov = coverage(pair, unreliable, maps.compared, maps.censored, found.mask_small > 0)
    control_info = control_summary(maps, norm, pair.control, geo)
    result = assemble(frame, geo, s, norm, maps, found, cov, notes, control_info)
    result.refinement = refinement
    result.normalisation["resolution_match"] = pair.resolution_match
    return result


_NO_IMAGE = np.zeros((0, 0, 3), np.float32)


def _masks_only(pair: Pair, norm: Normalised) -> tuple[Pair, Normalised]:
    """``pair`` and ``norm`` without their linear images, which nothing reads once the delta maps
    exist: detection, the peak of a comparison's memory, then runs without them (three to four
    float32 RGB frames at analysis size)."""
    return replace(pair, ref=_NO_IMAGE, later=_NO_IMAGE), replace(norm, ref=_NO_IMAGE, later=_NO_IMAGE)


def detect(
    maps: DeltaMaps,
    geo: Geometry,
    s: ChangeSettings,
    notes: list[str],
    fillable: np.ndarray | None = None,
    tone_support: np.ndarray | None = None,
    holes: np.ndarray | None = None,
    lines: np.ndarray | None = None,
) -> Findings:
    """Noise, then patches: per-pixel (threshold with hysteresis) and size-aware (several scales).

    ``fillable``: left-out pixels (hair, glints) a patch may close over. ``tone_support``: pixels
    whose colour the tone mapping was fitted on; a size-aware patch (fainter than the per-pixel
    threshold) must lie mostly inside it, as its limit comes from the noise of fitted skin.
    """
    sidx = maps.sample()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="skintrack-means") as pool:
        means = pool.submit(mean_change, maps, sidx)  # independent of detection: on the other core
        found = _detect(maps, geo, s, notes, sidx, fillable, tone_support, holes, lines, means)
    return found


def _detect(
    maps: DeltaMaps,
    geo: Geometry,
    s: ChangeSettings,
    notes: list[str],
    sidx: np.ndarray,
    fillable: np.ndarray | None,
    tone_support: np.ndarray | None,
    holes: np.ndarray | None,
    lines: np.ndarray | None,
    means: Future[MeanChange],
) -> Findings:
    """:func:`detect`'s work; ``means`` (the mean change, found on another thread) is waited for
    before the scale maps are made, so its samples and the maps never take memory at once."""
    noise = estimate_noise(maps.dL.ravel()[sidx], s, notes)
    min_area = min_area_px(s, geo, maps.n_compared)
    hair = float(default_width((geo.h, geo.w)))
    halo = round(1.5 * float(s.smoothing_sigma))
    width = 0.5 * hair + halo  # a line (hair, ink) smoothed: the half-width a patch must exceed
    contrast = float(s.spot_contrast_L)
    regions = []
    contrast_only: list[Region] = []  # darker only on pigment already there, in proportion to it
    for r in find_regions(maps.dL, maps.detectable, noise, s, min_area):
        if contrast_of_pigment(r, maps, contrast):
            contrast_only.append(r)
        elif rims_a_spot(r, maps, contrast, lines):
            regions.append(r)
        elif area_like(r.sel, width, None if holes is None else holes[r.win]):
            hole = None if holes is None else holes[r.win]
            regions += [t for t in without_lines(r, hair, hole) if t.sel.sum() >= min_area]
    mean = means.result()
    more, sn = size_aware_regions(
        maps.dL,
        maps.detectable,
        maps.compared,
        noise.noise,
        s,
        min_area,
        _taken(regions + contrast_only, maps.dL.shape),  # not found again, blurred, at a coarser scale
        width,
        noise.threshold,
        lambda region: rims_a_spot(region, maps, contrast, lines),
    )
    if tone_support is not None:
        support = float(s.min_tone_support)
        more = [r for r in more if float(tone_support[r.win][r.sel].mean()) >= support]
    if more:
        spots = spot_extents(maps, min_area, contrast)
        more = [r for r in more if not judged_by_spot(r, maps, spots)]
        judged = [(r, contrast_of_pigment(r, maps, contrast)) for r in more]
        contrast_only += [r for r, by_contrast in judged if by_contrast]
        more = [r for r, by_contrast in judged if not by_contrast]
    if contrast_only:
        px = sum(int(r.sel.sum()) for r in contrast_only)
        notes.append(
            f"{px * geo.area_scale:.0f} px darker only where the skin was already "
            "pigmented, and in proportion to it, were not counted: the photos differ in contrast there"
        )
    regions += more
    if lines is not None and lines.any() and regions:
        near = cv2.distanceTransform((~lines).view(np.uint8), cv2.DIST_L2, 3) <= width
        regions = [r for r in regions if not fringe_of(r, near, float(s.fringe_share))]
    gap = hair + 2.0 * halo
    if fillable is not None and regions:
        regions = regions_of(fill_thin_gaps(_taken(regions, maps.dL.shape), fillable, gap))
    patches, mask_small = build_patches(regions, maps, geo, min_area)
    limits = detection_limits(sn, maps.n_compared, geo.area_scale, geo.mm_per_px, min_area)
    return Findings(mean, noise, patches, mask_small, min_area, limits)


def without_lines(region: Region, hair: float, holes: np.ndarray | None = None) -> list[Region]:
    """The region less the lines attached to it (a hair or ink stroke touching a patch): parts
    narrower than a hair's width plus a pixel go (morphological opening); what stays is the area.
    ``holes`` (the region's window): unmeasured pixels the opening sees through."""
    r = math.ceil(0.5 * hair) + 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    inside = region.sel if holes is None else region.sel | holes
    padded = np.pad(inside.astype(np.uint8), r + 1)
    opened = cv2.morphologyEx(padded, cv2.MORPH_OPEN, disc)[r + 1 : -(r + 1), r + 1 : -(r + 1)] > 0
    if opened.all() or not opened.any():
        return [region] if opened.any() else []
    rows, cols = region.win
    out = []
    for part in regions_of(opened & region.sel):
        win = (
            slice(rows.start + part.win[0].start, rows.start + part.win[0].stop),
            slice(cols.start + part.win[1].start, cols.start + part.win[1].stop),
        )
        out.append(Region(win, part.sel))
    return out


def fringe_of(region: Region, near_lines: np.ndarray, share: float = FRINGE_SHARE) -> bool:
    """True when ``share`` of the region lies within a line's half-width of hair or ink left out
    (``near_lines``): the antialiased edge of a hair that lies differently, not an area of skin."""
    return float(near_lines[region.win][region.sel].mean()) >= share


def rims_a_spot(
    region: Region, maps: DeltaMaps, contrast_L: float = SPOT_CONTRAST_L, lines: np.ndarray | None = None
) -> bool:
    """A narrow band along the rim of a spot that was already dark in the earlier photo: a pigmented
    spot growing. Hair and ink lines lie anywhere; a growth ring hugs a spot (a quarter of its inner
    and outer border is ``contrast_L`` darker than the skin around it in the reference), or closes
    round a fainter spot (:func:`encircles_a_spot`).

    The skin around is the median over a window three times the region's size: the frame's own
    shading (one side of a limb darker) must not make every band in the shade "rim a spot". Hair
    and ink (``lines``) are not spots.
    """
    sel = region.sel.astype(np.uint8)
    border = (cv2.dilate(sel, np.ones((5, 5), np.uint8)) > 0) & ~region.sel
    if lines is not None:
        border &= ~lines[region.win]
    skin = skin_around(region, maps)
    if skin is None:
        return False
    near = maps.ref_lab[..., 0][region.win][border]
    if len(near) and float(np.mean(near <= skin - contrast_L)) >= 0.25:
        return True
    return encircles_a_spot(region, maps, contrast_L, lines)


def regions_of(mask: np.ndarray) -> list[Region]:
    """The connected parts of ``mask`` as regions (window and selection)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    out = []
    for i in range(1, n):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        win = (slice(y, y + bh), slice(x, x + bw))
        out.append(Region(win, labels[win] == i))
    return out


def _taken(regions: list[Region], shape: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape[:2], bool)
    for r in regions:
        out[r.win] |= r.sel
    return out


def _mask_at_input(mask_small: np.ndarray, compared_full: np.ndarray) -> np.ndarray:
    """The flagged mask (uint8 0/255) at input size, inside the compared input pixels."""
    big_h, big_w = compared_full.shape
    mask_full = resize(mask_small, (big_w, big_h), cv2.INTER_LINEAR)
    return ((mask_full > 127) & compared_full).view(np.uint8) * np.uint8(255)


def _itas(means: MeanChange) -> tuple[float | None, float | None]:
    """ITA° of both photos' mean colour (None when nothing was compared)."""
    if means.ref_lab is None or means.later_lab is None:
        return None, None
    return (
        float(colour.ita(means.ref_lab[0], means.ref_lab[2])),
        float(colour.ita(means.later_lab[0], means.later_lab[2])),
    )


def assemble(
    frame: Frame,
    geo: Geometry,
    s: ChangeSettings,
    norm: Normalised,
    maps: DeltaMaps,
    found: Findings,
    cov: Coverage,
    notes: list[str],
    control_info: dict[str, Any] | None,
) -> ChangeResult:
    """The :class:`ChangeResult`: masks back at input size, areas in input px (and mm²)."""
    compared_full = frame.compared()
    mask_small = found.mask_small if found.mask_small is not None else np.zeros(maps.dL.shape, np.uint8)
    mask_full = _mask_at_input(mask_small, compared_full)
    shown = maps.compared | (mask_small > 0)  # censored pixels are shown where they proved a darkening
    dl = np.where(shown, maps.dL, np.nan).astype(np.float32)
    db = np.where(shown, maps.db, np.nan).astype(np.float32)
    darkened_px = float(sum(p.area_px for p in found.patches))
    compared_px = float(shown.sum()) * geo.area_scale
    mm, means, noise = geo.mm_per_px, found.means, found.noise
    ref_ita, later_ita = _itas(means)
    return ChangeResult(
        calibration=norm.method,
        darkened_fraction=darkened_px / compared_px if compared_px else 0.0,
        darkened_area_px=darkened_px,
        darkened_area_mm2=darkened_px * mm * mm if mm else None,
        mean_delta_L=means.L,
        mean_delta_a=means.a,
        mean_delta_b=means.b,
        mean_delta_ita=means.ita,
        mean_delta_e2000=means.e2000,
        noise_delta_L=None if noise is None else noise.noise,
        # the model's constant term absorbs uniform change; "none" has no reference for the light
        uniform_change_measurable=norm.method in ("card", "control"),
        patches=found.patches,
        mask=mask_full,
        delta_L_small=dl,
        delta_b_small=db,
        compared_small=shown,
        compared_input=compared_full,
        ref_lab_mean=None if means.ref_lab is None else [float(v) for v in means.ref_lab],
        later_lab_mean=None if means.later_lab is None else [float(v) for v in means.later_lab],
        ref_ita=ref_ita,
        later_ita=later_ita,
        ref_ita_class=None if ref_ita is None else colour.ita_class(ref_ita),
        later_ita_class=None if later_ita is None else colour.ita_class(later_ita),
        compared_area_px=compared_px,
        threshold_applied_L=noise.threshold if noise is not None else float(s.threshold_L),
        min_area_px=found.min_area * geo.area_scale,
        notes=notes,
        control=control_info,
        card=norm.card_info,
        settings=s,
        analysis_scale=float(math.sqrt(geo.fx * geo.fy)),
        compared_fraction=cov.fraction,
        excluded=cov.excluded,
        detection_limit_L=found.limits,
        warnings=cov.warnings(),
        normalisation=norm.describe(),
        excluded_small=cov.causes,
        _ref_input=frame.ref,
        _later_input=frame.later,
        _normaliser=norm.normaliser(),
        _labs=(maps.ref_lab, maps.later_lab, shown),
    )
