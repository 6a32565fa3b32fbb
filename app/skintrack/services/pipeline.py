"""The one way to get an aligned, measured pair: CLI, GUI and exports all come through here.

A pair is measured in four steps, each its own function: load both photos at the analysis
resolution and find a calibration chart in each (:func:`load`, :func:`detect_calibration`,
once per photo), align them or reuse the stored alignment (:func:`align_analysed`,
:func:`reuse_alignment`), rasterise the watched area and the control patch in the reference
photo's geometry (:func:`area_masks`), then warp and compare (:func:`compare_warped`).
:func:`measure_pair` drives them. Which pairs a region needs, and which of them are stale, is
planned without touching an image (:func:`plan_pairs`).

Resolution: photos are decoded with ``max_side = ChangeSettings.analysis_side`` (so nothing is
decoded that ``core.change`` would throw away), aligned there (``core.align`` works at 800 px
inside) and compared there. Homographies and polygons are kept in full-resolution pixels and
converted with the exact pixel-centre scaling of ``core.align.scale_matrix``; areas and positions
in the metrics are converted back to full-resolution reference pixels (:func:`to_reference_px`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from skintrack.core import align as align_mod
from skintrack.core import card as card_mod
from skintrack.core import change as change_mod
from skintrack.core import charts
from skintrack.core.align import Alignment, scale_matrix, warp_to_reference
from skintrack.core.change import CardCalibration, ChangeResult, ChangeSettings, compare_aligned
from skintrack.core.chart_data import colorchecker_linear
from skintrack.core.charts import ChartDetection
from skintrack.core.compare_json import FIGURE_KEYS
from skintrack.core.parallel import both
from skintrack.library.models import AlignmentRecord, MeasurementRecord
from skintrack.library.settings import settings_digest_basis
from skintrack.progress import CancelToken
from skintrack.services.pair_geometry import (
    Polygons,
    polygons_through,
    rasterise,
    resize_mask,
    to_analysis,
    to_full,
    to_reference_px,
)

log = logging.getLogger(__name__)

MEASURE_VERSION = "measure-2"
ANALYSIS_SIDE = ChangeSettings().analysis_side
UNMEASURED_KEYS = FIGURE_KEYS


class PhotoLike(Protocol):
    id: int
    taken_at: datetime


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


def reuse_alignment(rec: AlignmentRecord | None, *, force: bool = False) -> bool:
    """THE rule for a stored alignment: a manual one is always reused (and never overwritten);
    an automatic one while it is from the current algorithm, unless the user forces a redo."""
    if rec is None:
        return False
    if rec.method == "manual":
        return True
    return not force and rec.algorithm_version == align_mod.ALGORITHM_VERSION


def stored_homography(rec: AlignmentRecord | None) -> np.ndarray | None:
    if rec is None or not rec.ok or rec.homography is None:
        return None
    h = np.asarray(rec.homography, np.float64).reshape(3, 3)
    return h if np.all(np.isfinite(h)) else None


def alignment_from_record(rec: AlignmentRecord) -> Alignment:
    return Alignment(
        bool(rec.ok),
        stored_homography(rec),
        float(rec.quality or 0.0),
        str(rec.method or "none"),
        int(rec.inliers or 0),
        str(rec.message or ""),
    )


def alignment_record(
    photo_id: int, reference_id: int, a: Alignment, *, manual_points: list[Any] | None = None
) -> AlignmentRecord:
    """THE builder of stored alignments (automatic, or manual with the points placed by hand)."""
    h = None if a.homography is None else np.asarray(a.homography, np.float64).tolist()
    return AlignmentRecord(
        photo_id=photo_id,
        reference_id=reference_id,
        ok=bool(a.ok),
        homography=h,
        quality=float(a.quality),
        method=a.method,
        inliers=int(a.inliers),
        message=a.message,
        manual_points=manual_points,
        algorithm_version=align_mod.ALGORITHM_VERSION,
    )


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


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class PairPlan:
    """One pair a region needs: ``photo_id`` measured against ``reference_id``."""

    photo_id: int
    reference_id: int
    taken_at: datetime
    stale: bool  # measure it now
    reuse_alignment: bool  # the stored alignment is used (else aligned now and stored)
    reason: str

    @property
    def label(self) -> str:
        return self.taken_at.strftime("%Y-%m-%d")


def pair_list(photos: Sequence[PhotoLike], reference_id: int) -> list[tuple[PhotoLike, int]]:
    """(photo, reference id): every photo vs the region reference, then each vs the previous one."""
    pairs = [(p, reference_id) for p in photos if p.id != reference_id]
    for prev, p in itertools.pairwise(photos):
        if reference_id not in (prev.id, p.id):
            pairs.append((p, prev.id))
    return pairs


def _staleness(
    rec: AlignmentRecord | None, meas: MeasurementRecord | None, reuse: bool, version: str, force: bool
) -> tuple[bool, str]:
    if force:
        return True, "redo requested"
    if reuse and meas is not None and meas.algorithm_version == version:
        return False, "up to date"
    if reuse and rec is not None and not rec.ok and rec.method != "manual":
        return False, "alignment failed with the current algorithm: not retried"
    if meas is None:
        return True, "not measured yet"
    if not reuse:
        return True, "alignment missing or from an older algorithm"
    return True, "settings, areas or algorithms changed"


def plan_pairs(
    photos: Sequence[PhotoLike],
    reference_id: int,
    *,
    alignment_of: Callable[[int, int], AlignmentRecord | None],
    measurement_of: Callable[[int, int], MeasurementRecord | None],
    version: str,
    force: bool = False,
) -> list[PairPlan]:
    """Every pair of a region with what to do about it; pure given the two look-ups."""
    out = []
    for photo, rid in pair_list(photos, reference_id):
        rec = alignment_of(photo.id, rid)
        reuse = reuse_alignment(rec, force=force)
        stale, reason = _staleness(rec, measurement_of(photo.id, rid), reuse, version, force)
        out.append(PairPlan(photo.id, rid, photo.taken_at, stale, reuse, reason))
    # a pair against the previous photo sees the areas through that photo's alignment onto the
    # region reference: when that alignment is redone, so is the pair
    realigned = {
        i.photo_id for i in out if i.reference_id == reference_id and i.stale and not i.reuse_alignment
    }
    carried = "areas carried over through an alignment being redone"
    return [
        dataclasses.replace(i, stale=True, reason=carried)
        if not i.stale and i.reference_id != reference_id and i.reference_id in realigned
        else i
        for i in out
    ]


# --------------------------------------------------------------------------- versions


def calibration_version() -> str:
    """A digest of what chart calibration depends on: layouts, target colours, detector limits."""
    basis = {
        "patches": [[p.name, list(p.srgb), list(p.rect_mm)] for p in card_mod.PATCHES],
        "size": list(card_mod.CARD_SIZE_MM),
        "dictionary": int(card_mod.ARUCO_DICT),
        "detector": [
            card_mod.MIN_MARKERS,
            card_mod.PATCH_SAMPLE_FRACTION,
            card_mod.MASK_MARGIN_MM,
            card_mod.CLIP_LEVEL,
        ],
        "colorchecker": [
            np.round(colorchecker_linear(), 6).tolist(),
            charts.MAX_MCC_COST,
            charts.MIN_FIT_PATCHES,
        ],
    }
    return "card-" + hashlib.sha1(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:8]


def measurement_version(settings: ChangeSettings, region: Any) -> str:
    """Algorithm versions + a digest of everything else a measurement depends on.

    Covers every ChangeSettings field, the watched area and the control patch, and the card
    calibration; a stored measurement with another version string is stale.
    """
    basis = {
        "settings": settings_digest_basis(settings),
        "watched": region.watched_area,
        "control": region.control_area,
        "calibration": calibration_version(),
    }
    digest = hashlib.sha1(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return f"{MEASURE_VERSION}/{align_mod.ALGORITHM_VERSION}/{change_mod.ALGORITHM_VERSION}/{digest}"


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


def region_areas(lib: Any, region: Any, reference_id: int, region_reference_id: int) -> Areas:
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


def _float(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float32) * np.float32(1.0 / 255.0)
    return rgb.astype(np.float32, copy=False)


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
        _float(ref.rgb),
        _float(warped),
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
