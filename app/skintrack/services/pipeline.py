"""The one way to get an aligned, measured pair: CLI, GUI and exports all come through here.

A pair is measured in four steps, each its own function: load both photos at the analysis
resolution and find a calibration chart in each (:func:`load`, :func:`detect_calibration`,
once per photo), align them or reuse the stored alignment (:func:`align_analysed`,
:func:`reuse_alignment`), rasterise the watched area and the control patch in the reference
photo's geometry (:func:`area_masks`), then warp and compare (:func:`compare_warped`).
:func:`measure_pair` drives them. Which pairs a region needs, and which of them are stale, is
planned without touching an image (:func:`plan_pairs`, in ``services.pair_plan``); the version
string of a measurement is ``services.measure_versions``.

Resolution: photos are decoded with ``max_side = ChangeSettings.analysis_side`` (so nothing is
decoded that ``core.change`` would throw away), aligned there (``core.align`` works at 800 px
inside) and compared there. Homographies and polygons are kept in full-resolution pixels and
converted with the exact pixel-centre scaling of ``core.align.scale_matrix``; areas and positions
in the metrics are converted back to full-resolution reference pixels (:func:`to_reference_px`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from skintrack.core import align as align_mod
from skintrack.core import charts
from skintrack.core.align import Alignment, scale_matrix, warp_to_reference
from skintrack.core.change import CardCalibration, ChangeResult, ChangeSettings, compare_aligned
from skintrack.core.charts import ChartDetection
from skintrack.core.compare_json import FIGURE_KEYS
from skintrack.core.parallel import both
from skintrack.library.db import Library
from skintrack.library.models import Region
from skintrack.progress import CancelToken
from skintrack.services.measure_versions import MEASURE_VERSION, calibration_version, measurement_version
from skintrack.services.pair_geometry import (
    Polygons,
    polygons_through,
    rasterise,
    resize_mask,
    to_analysis,
    to_full,
    to_reference_px,
)
from skintrack.services.pair_plan import (
    PairPlan,
    PhotoLike,
    alignment_from_record,
    alignment_record,
    pair_list,
    plan_pairs,
    reuse_alignment,
    stored_homography,
)

__all__ = [
    "ANALYSIS_SIDE",
    "MEASURE_VERSION",
    "UNMEASURED_KEYS",
    "Analysed",
    "Areas",
    "MeasuredPair",
    "PairPlan",
    "PhotoLike",
    "align_analysed",
    "alignment_from_record",
    "alignment_record",
    "area_masks",
    "calibration_version",
    "card_calibration",
    "compare_warped",
    "decode_side",
    "detect_calibration",
    "load",
    "measure_pair",
    "measurement_version",
    "pair_list",
    "plan_pairs",
    "region_areas",
    "reuse_alignment",
    "stored_homography",
    "unmeasured",
]

log = logging.getLogger(__name__)

ANALYSIS_SIDE = ChangeSettings().analysis_side
UNMEASURED_KEYS = FIGURE_KEYS


# --------------------------------------------------------------------------- photos


def detect_calibration(rgb: np.ndarray, problems: list[str] | None = None) -> ChartDetection | None:
    """The calibration chart in a photo (analysis resolution), or None when there is none.

    Skintrack's printed card or an X-Rite ColorChecker (``core.charts.detect_chart``), so every
    caller of the pipeline gets both. A detector failure is logged and added to ``problems`` (the
    measurement's notes), not hidden.
    """
    try:
        return charts.detect_chart(rgb)
    except (cv2.error, ValueError, np.linalg.LinAlgError) as exc:
        log.warning("calibration card detection failed: %s", exc)
        if problems is not None:
            problems.append(f"calibration card detection failed ({exc}): no card calibration")
        return None


@dataclass
class Analysed:
    """One photo decoded at analysis resolution, with its full-resolution size and its chart."""

    rgb: np.ndarray  # uint8 sRGB at analysis resolution
    full_size: tuple[int, int]  # (width, height) after EXIF orientation
    card: ChartDetection | None = field(default=None, repr=False)
    card_checked: bool = False  # True once detect_calibration ran (or was declined)
    card_problems: list[str] = field(default_factory=list, repr=False)

    @property
    def scale(self) -> np.ndarray:
        """Full-resolution -> analysis pixel coordinates (pixel-centre convention)."""
        h, w = self.rgb.shape[:2]
        return scale_matrix(w / self.full_size[0], h / self.full_size[1])

    @property
    def analysis_scale(self) -> float:
        return max(self.rgb.shape[:2]) / max(self.full_size)

    @property
    def analysis_size(self) -> tuple[int, int]:
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])

    def calibration(self) -> ChartDetection | None:
        """The photo's calibration chart, detected on first use and kept."""
        if not self.card_checked:
            self.card = detect_calibration(self.rgb, self.card_problems)
            self.card_checked = True
        return self.card


def decode_side(settings: ChangeSettings | None) -> int | None:
    """The long side photos are decoded at for ``settings`` (None = full resolution)."""
    side = int((settings or ChangeSettings()).analysis_side or 0)
    return side if side > 0 else None


def load(path: str | Path, max_side: int | None = ANALYSIS_SIDE, *, find_card: bool = False) -> Analysed:
    """Decode at analysis resolution (raises InvalidInputError naming the file)."""
    from skintrack.core.images import decode

    d = decode(path, max_side=max_side)
    photo = Analysed(d.rgb, (int(d.meta.width), int(d.meta.height)))
    if find_card:
        photo.calibration()
    return photo


def _as_analysed(photo: Analysed | str | Path, side: int | None, use_card: bool) -> Analysed:
    if not isinstance(photo, Analysed):
        photo = load(photo, side, find_card=use_card)
    if not use_card:
        photo.card, photo.card_checked = None, True
    return photo


# --------------------------------------------------------------------------- alignment


def _card_homography(ref_card: ChartDetection | None, mov_card: ChartDetection | None) -> np.ndarray | None:
    """Moving -> reference pixels through the chart plane (chart mm -> image px in each photo)."""
    if ref_card is None or mov_card is None or ref_card.kind != mov_card.kind:
        return None
    if ref_card.homography is None or mov_card.homography is None:
        return None
    try:
        return np.asarray(ref_card.homography, np.float64) @ np.linalg.inv(
            np.asarray(mov_card.homography, np.float64)
        )
    except np.linalg.LinAlgError:
        return None


def align_analysed(
    ref: Analysed, mov: Analysed, *, exclude: np.ndarray | None = None, token: CancelToken | None = None
) -> Alignment:
    """core.align on analysis images; the returned homography is in full-resolution pixels.

    A calibration card found in either photo is kept out of the alignment (it may have moved
    relative to the skin) and, found in both, offers its own homography as a candidate.
    """
    ref_card, mov_card = ref.calibration(), mov.calibration()
    excl = None if exclude is None else np.asarray(exclude) > 0
    if ref_card is not None and ref_card.mask is not None and ref_card.mask.shape[:2] == ref.rgb.shape[:2]:
        rm = np.asarray(ref_card.mask) > 0
        excl = rm if excl is None else excl | rm
    mm = None
    if mov_card is not None and mov_card.mask is not None and mov_card.mask.shape[:2] == mov.rgb.shape[:2]:
        mm = np.asarray(mov_card.mask) > 0
    a = align_mod.align(
        ref.rgb,
        mov.rgb,
        exclude_mask=excl,
        cancel=token,
        moving_exclude_mask=mm,
        card_homography=_card_homography(ref_card, mov_card),
    )
    if a.ok and a.homography is not None:
        a.homography = to_full(a.homography, ref, mov)
    return a


# --------------------------------------------------------------------------- areas


@dataclass(frozen=True)
class Areas:
    """Watched area and control patch in the pair's reference photo (polygons or masks).

    Polygons are in full-resolution reference pixels; masks (the CLI's PNGs) in reference
    geometry at any size. ``exclude`` is kept out of the alignment.
    """

    watched: Polygons | None = None
    control: Polygons | None = None
    watched_mask: np.ndarray | None = None
    control_mask: np.ndarray | None = None
    exclude: np.ndarray | None = None


def region_areas(lib: Library, region: Region, reference_id: int, region_reference_id: int) -> Areas:
    """The region's areas in the geometry of photo ``reference_id``.

    The polygons live in region-reference pixels; for another photo they are carried over through
    its stored alignment onto the region reference (no areas when there is none).
    """
    if reference_id == region_reference_id:
        return Areas(region.watched_area or None, region.control_area or None)
    h = stored_homography(lib.alignment(reference_id, region_reference_id))
    if h is None:
        return Areas()
    back = np.linalg.inv(h)
    return Areas(polygons_through(region.watched_area, back), polygons_through(region.control_area, back))


def area_masks(areas: Areas | None, ref: Analysed) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(watched, control) as bool masks at ``ref``'s analysis resolution."""
    if areas is None:
        return None, None
    shape = ref.rgb.shape
    roi = resize_mask(areas.watched_mask, shape)
    if roi is None:
        roi = rasterise(areas.watched, ref.scale, shape)
    control = resize_mask(areas.control_mask, shape)
    if control is None:
        control = rasterise(areas.control, ref.scale, shape)
    return roi, control


# --------------------------------------------------------------------------- measuring


def card_calibration(ref: Analysed, mov: Analysed, h_analysis: np.ndarray) -> CardCalibration | None:
    """Both photos' charts for core.change, in reference geometry (no detection repeated)."""
    ref_card, mov_card = ref.calibration(), mov.calibration()
    if ref_card is None and mov_card is None:
        return None
    h, w = ref.rgb.shape[:2]
    mask = None if ref_card is None or ref_card.mask is None else np.asarray(ref_card.mask) > 0
    if mov_card is not None and mov_card.mask is not None:
        warped = cv2.warpPerspective(
            np.asarray(mov_card.mask, np.uint8), h_analysis, (w, h), flags=cv2.INTER_NEAREST
        )
        mask = warped > 0 if mask is None else mask | (warped > 0)
    return CardCalibration(
        ref_card.colour_correction if ref_card is not None else None,
        mov_card.colour_correction if mov_card is not None else None,
        mask,
        ref_card.mm_per_px if ref_card is not None else None,
    )


def compare_warped(
    ref: Analysed,
    mov: Analysed,
    h_full: np.ndarray,
    *,
    roi: np.ndarray | None,
    control: np.ndarray | None,
    settings: ChangeSettings,
) -> tuple[ChangeResult, np.ndarray, np.ndarray]:
    """Warp ``mov`` into ``ref`` and compare; returns (ChangeResult, later_warped uint8, valid bool)."""
    h_a = to_analysis(h_full, ref, mov)
    warped, valid = warp_to_reference(mov.rgb, h_a, ref.rgb.shape)
    card = card_calibration(ref, mov, h_a)
    result = compare_aligned(
        ref.rgb,  # uint8 as decoded: core.change linearises it through the same table as 0..1 floats
        warped,
        valid,
        roi=roi,
        control=control,
        card=card,
        mm_per_px=None if card is None else card.mm_per_px,
        settings=settings,
    )
    for name, photo in (("reference photo", ref), ("later photo", mov)):
        result.notes.extend(f"{name}: {problem}" for problem in photo.card_problems)
    return result, warped, valid


def unmeasured(a: Alignment) -> dict[str, Any]:
    """Metrics of a pair that could not be measured (every value null, the alignment says why)."""
    return {"alignment": a.to_json(), "calibration": "none", "patches": [], **dict.fromkeys(UNMEASURED_KEYS)}


@dataclass
class MeasuredPair:
    """An aligned (or failed) pair with its measurement, at the reference's analysis resolution."""

    reference: Analysed
    later: Analysed
    alignment: Alignment  # homography in full-resolution pixels
    change: ChangeResult | None = None
    later_warped: np.ndarray | None = field(default=None, repr=False)
    valid: np.ndarray | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.change is not None

    @property
    def calibration(self) -> str:
        return "none" if self.change is None else str(self.change.calibration)

    def metrics(self) -> dict[str, Any]:
        """What ``analyze`` stores and ``compare --json`` prints: areas and positions in reference px."""
        if self.change is None:
            return unmeasured(self.alignment)
        ref = self.reference
        out = to_reference_px(self.change.to_json(), ref.analysis_size, ref.full_size)
        out["alignment"] = self.alignment.to_json()
        if out.get("refinement"):  # the dense refinement is part of the alignment, in reference px
            out["alignment"]["refinement"] = out.pop("refinement")
        # colour is measured at decode scale x core.change's own analysis scale (1 when it keeps the size)
        out["analysis_scale"] = round(ref.analysis_scale * float(self.change.analysis_scale or 1.0), 6)
        return out


def measure_pair(
    reference: Analysed | str | Path,
    later: Analysed | str | Path,
    *,
    alignment: Alignment | None = None,
    areas: Areas | None = None,
    settings: ChangeSettings | None = None,
    token: CancelToken | None = None,
    use_card: bool = True,
) -> MeasuredPair:
    """Load (when given paths), find charts, align or reuse ``alignment``, rasterise, compare.

    ``alignment=None`` aligns now; a stored alignment is passed in by the caller, who decided
    with :func:`reuse_alignment`. Returns a pair without ``change`` when no trustworthy alignment
    exists. Raises InvalidInputError for unusable files, Cancelled through ``token``.
    """
    s = settings if settings is not None else ChangeSettings()
    side = decode_side(s)
    ref, mov = both(lambda p: _as_analysed(p, side, use_card), reference, later)
    if alignment is None:
        exclude = None if areas is None else resize_mask(areas.exclude, ref.rgb.shape)
        alignment = align_analysed(ref, mov, exclude=exclude, token=token)
    pair = MeasuredPair(ref, mov, alignment)
    if not alignment.ok or alignment.homography is None:
        return pair
    if token is not None:
        token.raise_if_cancelled()
    roi, control = area_masks(areas, ref)
    pair.change, pair.later_warped, pair.valid = compare_warped(
        ref, mov, alignment.homography, roi=roi, control=control, settings=s
    )
    return pair
