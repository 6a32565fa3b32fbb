"""Align and measure: the use cases behind ``compare``, ``analyze`` and the compare window.

Everything is measured at an *analysis resolution*: photos are decoded with ``max_side =
ANALYSIS_SIDE`` (1500 px, the resolution ``core.change`` measures colour at by default, so nothing
is decoded or warped that would be thrown away: a 12 MP 4000x3000 JPEG is decoded with JPEG DCT
scaling to 2000x1500 and area-resized to 1500x1125, scale 0.375), aligned there (features at
800 px and ECC at 800 px inside ``core.align``; the ECC result is accurate to a few hundredths
of a pixel at that scale, ~0.05 px at full resolution on the synthetic benchmark) and compared
there. Pigment patches of the minimum reported area (0.05 % of the frame) still span ~850 px.
Homographies are stored and reported in full-resolution pixels; masks and polygons are converted
with the exact pixel-centre scaling of ``core.align.scale_matrix``. ``analysis_scale`` (analysis
long side / original long side) is reported with every result so nobody mistakes it for a
full-resolution measurement.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from skintrack.core import align as align_mod
from skintrack.core.align import Alignment, scale_matrix, warp_to_reference
from skintrack.core.parallel import both
from skintrack.errors import AlignmentFailedError
from skintrack.progress import CancelToken, Progress

ANALYSIS_SIDE = 1500  # = core.change.ChangeSettings.analysis_side
MEASURE_VERSION = "measure-1"
SETTING_KEYS = ("threshold_L", "noise_k", "min_area_fraction", "min_area_mm2")


# --------------------------------------------------------------------------- data


@dataclass
class Analysed:
    """One photo decoded at analysis resolution, with its full-resolution size."""

    rgb: np.ndarray  # uint8 sRGB at analysis resolution
    full_size: tuple[int, int]  # (width, height) after EXIF orientation

    @property
    def scale(self) -> np.ndarray:
        """Full-resolution -> analysis pixel coordinates (pixel-centre convention)."""
        h, w = self.rgb.shape[:2]
        return scale_matrix(w / self.full_size[0], h / self.full_size[1])

    @property
    def analysis_scale(self) -> float:
        return max(self.rgb.shape[:2]) / max(self.full_size)


@dataclass
class CompareOutcome:
    alignment: Alignment  # homography in full-resolution pixels
    change: Any | None  # core.change.ChangeResult (analysis resolution, reference geometry)
    analysis_scale: float = 1.0
    reference_size: tuple[int, int] = (0, 0)  # full-resolution (width, height)
    analysis_size: tuple[int, int] = (0, 0)
    reference_rgb: np.ndarray | None = field(default=None, repr=False)  # analysis resolution

    def full_mask(self) -> np.ndarray:
        """The darkened mask at the full reference size (uint8 0/255; 0 without a result)."""
        w, h = self.reference_size
        if self.change is None or getattr(self.change, "mask", None) is None:
            return np.zeros((h, w), np.uint8)
        m = (np.asarray(self.change.mask) > 0).astype(np.uint8) * 255
        compared = getattr(self.change, "compared_mask", None)
        if compared is not None and np.shape(compared) == m.shape:
            m[~np.asarray(compared, bool)] = 0  # nothing outside the compared overlap, whatever change did
        if m.shape[:2] == (h, w):
            return m
        return cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"alignment": self.alignment.to_json()}
        if self.change is not None:
            out.update(to_reference_px(self.change.to_json(), self.analysis_size, self.reference_size))
            out["alignment"] = self.alignment.to_json()
            if out.get("refinement"):  # the dense refinement is part of the alignment, in reference px
                out["alignment"]["refinement"] = out.pop("refinement")
        else:
            out.update(
                calibration="none",
                darkened_fraction=None,
                darkened_area_px=None,
                darkened_area_mm2=None,
                mean_delta_L=None,
                mean_delta_b=None,
                mean_delta_ita=None,
                mean_delta_e2000=None,
                noise_delta_L=None,
                patches=[],
            )
        # colour is measured at decode scale x core.change's own analysis scale (1 when it keeps the size)
        change_scale = float(getattr(self.change, "analysis_scale", 1.0) or 1.0)
        out["analysis_scale"] = round(self.analysis_scale * change_scale, 6)
        out["decode_scale"] = round(self.analysis_scale, 6)
        out["analysis_size"] = list(self.analysis_size)
        out["reference_size"] = list(self.reference_size)
        return out


@dataclass
class AnalysisReport:
    analysed: int = 0
    skipped: int = 0
    failed: int = 0
    messages: list[str] = field(default_factory=list)


@dataclass
class AlignedPair:
    """A pair in the geometry of photo A (analysis resolution) for the compare view and exports."""

    alignment: Alignment
    reference: np.ndarray  # uint8 RGB
    later_warped: np.ndarray  # uint8 RGB in reference geometry
    later_normalised: np.ndarray  # lighting-normalised when change offers it, else = later_warped
    valid: np.ndarray  # bool
    change: Any | None
    analysis_scale: float = 1.0


# --------------------------------------------------------------------------- helpers


def to_reference_px(
    metrics: dict[str, Any], analysis_size: tuple[int, int], reference_size: tuple[int, int]
) -> dict[str, Any]:
    """ChangeResult JSON measured at analysis resolution -> areas and positions in reference px."""
    aw, ah = analysis_size
    rw, rh = reference_size
    if not aw or not ah or (aw, ah) == (rw, rh):
        return dict(metrics)
    sx, sy = aw / rw, ah / rh

    def pt(x: float, y: float) -> list[float]:
        return [round((x + 0.5) / sx - 0.5, 2), round((y + 0.5) / sy - 0.5, 2)]

    out = dict(metrics)
    area = sx * sy
    if isinstance(out.get("refinement"), dict):
        lin = (sx * sy) ** 0.5
        out["refinement"] = {
            k: round(v / lin, 3) if k.endswith("_px") and isinstance(v, int | float) else v
            for k, v in out["refinement"].items()
        }
    for key in ("darkened_area_px", "compared_area_px"):
        if isinstance(out.get(key), int | float):
            out[key] = round(out[key] / area, 1)
    for group, key in (("thresholds", "min_area_px"), ("control", "area_px")):
        if isinstance(out.get(group), dict) and isinstance(out[group].get(key), int | float):
            out[group] = {**out[group], key: round(out[group][key] / area, 1)}
    patches = []
    for p in out.get("patches") or []:
        q = dict(p)
        if isinstance(q.get("area_px"), int | float):
            q["area_px"] = round(q["area_px"] / area, 1)
        if q.get("bbox") is not None and len(q["bbox"]) == 4:
            x, y, w, h = q["bbox"]
            # pixel edges scale without the half-pixel offset of pixel centres
            q["bbox"] = [round(x / sx, 1), round(y / sy, 1), round(w / sx, 1), round(h / sy, 1)]
        if q.get("centroid") is not None and len(q["centroid"]) == 2:
            q["centroid"] = pt(*q["centroid"])
        if q.get("contour"):
            q["contour"] = [pt(*c) for c in q["contour"]]
        patches.append(q)
    out["patches"] = patches
    return out


def load(path: str | Path, max_side: int | None = ANALYSIS_SIDE) -> Analysed:
    """Decode at analysis resolution (raises InvalidInputError naming the file)."""
    from skintrack.core.images import decode

    d = decode(path, max_side=max_side)
    return Analysed(d.rgb, (int(d.meta.width), int(d.meta.height)))


def change_settings(lib: Any | None = None, overrides: dict[str, Any] | None = None) -> Any:
    """ChangeSettings from the library's settings (keys SETTING_KEYS), defaults from core.change."""
    from skintrack.core.change import ChangeSettings

    s = ChangeSettings()
    for key in SETTING_KEYS:
        value = None
        if lib is not None:
            value = lib.get_setting(key, None)
        if overrides and overrides.get(key) is not None:
            value = overrides[key]
        if value is not None:
            with contextlib.suppress(TypeError, ValueError):
                setattr(s, key, float(value))
    return s


def _resize_mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    if mask is None:
        return None
    m = (np.asarray(mask) > 0).astype(np.uint8) * 255
    if m.ndim == 3:
        m = m.max(axis=2)
    if m.shape[:2] != tuple(shape[:2]):
        m = cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return m > 127


def rasterise(polygons: Sequence[Any] | None, s: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """Region polygons (full-resolution reference px) as a bool mask at analysis resolution."""
    if not polygons:
        return None
    m = np.zeros(shape[:2], np.uint8)
    pts = []
    for poly in polygons:
        p = np.asarray(poly, np.float64).reshape(-1, 2)
        if len(p) < 3:
            continue
        q = p * [s[0, 0], s[1, 1]] + [s[0, 2], s[1, 2]]
        pts.append(np.round(q * 16).astype(np.int32))
    if not pts:
        return None
    cv2.fillPoly(m, pts, 255, lineType=cv2.LINE_8, shift=4)
    return m > 0


def to_analysis(h_full: np.ndarray, ref: Analysed, mov: Analysed) -> np.ndarray:
    h = ref.scale @ np.asarray(h_full, np.float64) @ np.linalg.inv(mov.scale)
    return h / h[2, 2]


def to_full(h_analysis: np.ndarray, ref: Analysed, mov: Analysed) -> np.ndarray:
    h = np.linalg.inv(ref.scale) @ np.asarray(h_analysis, np.float64) @ mov.scale
    return h / h[2, 2]


def _float(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float32) * np.float32(1.0 / 255.0)
    return rgb.astype(np.float32, copy=False)


def _detect_card(rgb: np.ndarray) -> Any | None:
    """The calibration card if present (None when core.card is missing or finds nothing)."""
    try:
        from skintrack.core.card import detect_card
    except ImportError:
        return None
    try:
        return detect_card(rgb)
    except Exception:
        return None


def _card_mask(card: Any) -> np.ndarray | None:
    m = getattr(card, "mask", None) if card is not None else None
    return None if m is None else np.asarray(m) > 0


def align_analysed(
    ref: Analysed,
    mov: Analysed,
    *,
    exclude: np.ndarray | None = None,
    token: CancelToken | None = None,
    cards: tuple[Any, Any] | None = None,
) -> Alignment:
    """core.align on analysis images; the returned homography is in full-resolution pixels.

    A calibration card found in either photo is kept out of the alignment (it may have moved
    relative to the skin). ``cards`` passes detections the caller already made.
    """
    ref_card, mov_card = cards if cards is not None else (_detect_card(ref.rgb), _detect_card(mov.rgb))
    excl = exclude
    rm = _card_mask(ref_card)
    if rm is not None and rm.shape == ref.rgb.shape[:2]:
        excl = rm if excl is None else (np.asarray(excl) > 0) | rm
    mm = _card_mask(mov_card)
    if mm is not None and mm.shape != mov.rgb.shape[:2]:
        mm = None
    card_h = None
    if ref_card is not None and mov_card is not None:
        try:  # card mm -> image px in each photo: moving -> reference through the card plane
            card_h = np.asarray(ref_card.homography, np.float64) @ np.linalg.inv(
                np.asarray(mov_card.homography, np.float64)
            )
        except (AttributeError, np.linalg.LinAlgError, ValueError):
            card_h = None
    a = align_mod.align(
        ref.rgb, mov.rgb, exclude_mask=excl, cancel=token, moving_exclude_mask=mm, card_homography=card_h
    )
    if a.ok and a.homography is not None:
        a.homography = to_full(a.homography, ref, mov)
    return a


def measure(
    ref: Analysed,
    mov: Analysed,
    h_full: np.ndarray,
    *,
    roi: np.ndarray | None = None,
    control: np.ndarray | None = None,
    settings: Any = None,
    card: Any = None,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Warp ``mov`` into ``ref`` and compare; returns (ChangeResult, later_warped uint8, valid bool)."""
    from skintrack.core.change import ChangeSettings, compare_aligned

    h_a = to_analysis(h_full, ref, mov)
    warped, valid = warp_to_reference(mov.rgb, h_a, ref.rgb.shape)
    mm_per_px = getattr(card, "mm_per_px", None) if card is not None else None
    result = compare_aligned(
        _float(ref.rgb),
        _float(warped),
        valid,
        roi=roi,
        control=control,
        card=card,
        mm_per_px=mm_per_px,
        settings=settings if settings is not None else ChangeSettings(),
    )
    return result, warped, valid


# --------------------------------------------------------------------------- compare two files


def compare_files(
    reference_path: str | Path,
    later_path: str | Path,
    *,
    roi: np.ndarray | None = None,
    control: np.ndarray | None = None,
    settings: Any = None,
    exclude: np.ndarray | None = None,
    token: CancelToken | None = None,
    use_card: bool = True,
) -> CompareOutcome:
    """Align LATER onto REFERENCE and measure the change (masks in full reference pixels).

    Returns an outcome with ``change=None`` when no trustworthy alignment exists (the caller
    decides: the CLI exits 3). Raises InvalidInputError for unusable files.
    """

    def load_and_find_card(path: str | Path) -> tuple[Analysed, Any | None]:
        photo = load(path)
        return photo, _detect_card(photo.rgb) if use_card else None

    (ref, ref_card), (mov, mov_card) = both(load_and_find_card, reference_path, later_path)
    shape = ref.rgb.shape
    cards = (ref_card, mov_card)
    card = ref_card
    a = align_analysed(ref, mov, exclude=_resize_mask(exclude, shape), token=token, cards=cards)
    out = CompareOutcome(
        a, None, ref.analysis_scale, ref.full_size, (shape[1], shape[0]), reference_rgb=ref.rgb
    )
    if not a.ok or a.homography is None:
        return out
    if token is not None:
        token.raise_if_cancelled()
    out.change, _, _ = measure(
        ref,
        mov,
        a.homography,
        roi=_resize_mask(roi, shape),
        control=_resize_mask(control, shape),
        settings=settings,
        card=card,
    )
    return out


# --------------------------------------------------------------------------- a region


def _region_reference(lib: Any, region: Any, photos: list[Any]) -> Any | None:
    ids = {p.id: p for p in photos}
    if region.reference_photo_id in ids:
        return ids[region.reference_photo_id]
    return photos[0] if photos else None


def measurement_version(settings: Any, region: Any) -> str:
    """Versions of the algorithms + a digest of what changes a measurement (settings, areas)."""
    from skintrack.core import change as change_mod

    basis = {
        "settings": {k: getattr(settings, k, None) for k in SETTING_KEYS},
        "watched": region.watched_area,
        "control": region.control_area,
        "side": ANALYSIS_SIDE,
    }
    digest = hashlib.sha1(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:10]
    change_v = getattr(change_mod, "ALGORITHM_VERSION", "change-1")
    return f"{MEASURE_VERSION}/{align_mod.ALGORITHM_VERSION}/{change_v}/{digest}"


def _stored_homography(rec: Any) -> np.ndarray | None:
    if rec is None or not rec.ok or rec.homography is None:
        return None
    h = np.asarray(rec.homography, np.float64).reshape(3, 3)
    return h if np.all(np.isfinite(h)) else None


def _alignment_from_record(rec: Any) -> Alignment:
    return Alignment(
        bool(rec.ok),
        _stored_homography(rec),
        float(rec.quality or 0.0),
        str(rec.method or "none"),
        int(rec.inliers or 0),
        str(rec.message or ""),
    )


def _pairs(photos: list[Any], ref_id: int) -> list[tuple[Any, int]]:
    """(photo, reference id) to measure: every photo vs the region reference, then vs the previous one."""
    pairs = [(p, ref_id) for p in photos if p.id != ref_id]
    for prev, p in itertools.pairwise(photos):
        if prev.id != ref_id and p.id != ref_id:
            pairs.append((p, prev.id))
    return pairs


def analyze_region(
    lib: Any, region_id: int, *, token: CancelToken | None = None, force: bool = False
) -> Generator[Progress, None, AnalysisReport]:
    """Align and measure every photo of a region; yields Progress, returns an AnalysisReport.

    Pairs: each photo vs the region reference (``reference_photo_id``, else the earliest photo),
    then each photo vs the previous one. Up-to-date rows are skipped unless ``force``; a manual
    alignment is reused and never overwritten. Decoded images are cached across pairs.
    """
    from skintrack.library.models import AlignmentRecord, MeasurementRecord

    region = lib.region(region_id)
    photos = list(lib.list_photos(region_id))
    report = AnalysisReport()
    ref_photo = _region_reference(lib, region, photos)
    if ref_photo is None or len(photos) < 2:
        yield Progress(0, 0, "nothing to analyse")
        return report
    settings = change_settings(lib)
    version = measurement_version(settings, region)
    pairs = _pairs(photos, ref_photo.id)
    total = len(pairs)
    cache: dict[int, Analysed] = {}
    masks: dict[int, tuple[np.ndarray | None, np.ndarray | None]] = {}
    by_id = {p.id: p for p in photos}

    def get(photo_id: int) -> Analysed:
        if photo_id not in cache:
            if len(cache) >= 3:  # keep the region reference, drop the others (memory)
                for k in [k for k in cache if k != ref_photo.id][:1]:
                    del cache[k]
            cache[photo_id] = load(lib.original_path(by_id[photo_id]))
        return cache[photo_id]

    for i, (photo, rid) in enumerate(pairs):
        if token is not None:
            token.raise_if_cancelled()
        label = photo.taken_at.strftime("%Y-%m-%d")
        yield Progress(i, total, f"analysing {label}")
        rec = lib.alignment(photo.id, rid)
        meas = lib.measurement(photo.id, rid)
        manual = rec is not None and rec.method == "manual"
        align_current = rec is not None and (manual or rec.algorithm_version == align_mod.ALGORITHM_VERSION)
        if not force and align_current and meas is not None and meas.algorithm_version == version:
            report.skipped += 1
            continue
        if not force and align_current and not rec.ok and not manual:
            report.skipped += 1  # a current failed alignment: nothing new to learn
            continue
        try:
            ref = get(rid)
            mov = get(photo.id)
        except Exception as exc:
            report.failed += 1
            report.messages.append(f"{label}: {exc}")
            continue
        if manual or (align_current and not force):
            a = _alignment_from_record(rec)
        else:
            a = align_analysed(ref, mov, token=token)
            lib.save_alignment(
                AlignmentRecord(
                    photo_id=photo.id,
                    reference_id=rid,
                    ok=a.ok,
                    homography=None if a.homography is None else a.homography.tolist(),
                    quality=float(a.quality),
                    method=a.method,
                    inliers=int(a.inliers),
                    message=a.message,
                    manual_points=None,
                    algorithm_version=align_mod.ALGORITHM_VERSION,
                )
            )
        if not a.ok or a.homography is None:
            report.failed += 1
            report.messages.append(f"{label}: {a.message}")
            if meas is not None:  # an older measurement must not outlive the alignment it relied on
                lib.save_measurement(
                    MeasurementRecord(photo.id, rid, "none", _unmeasured(a), algorithm_version=version)
                )
            continue
        if token is not None:
            token.raise_if_cancelled()
        if rid not in masks:
            masks[rid] = _masks_for(lib, region, ref_photo.id, rid, ref)
        roi, control = masks[rid]
        result, _, _ = measure(ref, mov, a.homography, roi=roi, control=control, settings=settings)
        metrics = to_reference_px(result.to_json(), (ref.rgb.shape[1], ref.rgb.shape[0]), ref.full_size)
        metrics["alignment"] = a.to_json()
        metrics["analysis_scale"] = round(
            ref.analysis_scale * float(getattr(result, "analysis_scale", 1.0) or 1.0), 6
        )
        lib.save_measurement(
            MeasurementRecord(
                photo_id=photo.id,
                reference_id=rid,
                calibration=str(getattr(result, "calibration", "none")),
                metrics=metrics,
                algorithm_version=version,
            )
        )
        report.analysed += 1
    yield Progress(total, total, "analysis complete")
    return report


def _unmeasured(a: Alignment) -> dict[str, Any]:
    """Metrics of a pair that could not be measured (every value null, the alignment says why)."""
    keys = (
        "darkened_fraction",
        "darkened_area_px",
        "darkened_area_mm2",
        "mean_delta_L",
        "mean_delta_b",
        "mean_delta_ita",
        "mean_delta_e2000",
        "noise_delta_L",
    )
    return {"alignment": a.to_json(), "calibration": "none", "patches": [], **dict.fromkeys(keys)}


def _masks_for(
    lib: Any, region: Any, region_ref_id: int, rid: int, ref: Analysed
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Watched area and control patch in the geometry of photo ``rid`` at analysis resolution.

    Polygons live in region-reference pixels; for another photo they are carried over through its
    stored alignment onto the region reference (None when there is none).
    """
    shape = ref.rgb.shape
    if rid == region_ref_id:
        return (
            rasterise(region.watched_area, ref.scale, shape),
            rasterise(region.control_area, ref.scale, shape),
        )
    h = _stored_homography(lib.alignment(rid, region_ref_id))  # rid -> region reference (full px)
    if h is None:
        return None, None
    try:
        ref_meta = lib.photo(region_ref_id)
        size = (int(ref_meta.width), int(ref_meta.height))
    except Exception:
        return None, None
    out = []
    for polys in (region.watched_area, region.control_area):
        if not polys:
            out.append(None)
            continue
        # rasterise in region-reference px at the same analysis scale, then warp into photo rid
        f = ANALYSIS_SIDE / max(size) if max(size) > ANALYSIS_SIDE else 1.0
        rw, rh = max(1, round(size[0] * f)), max(1, round(size[1] * f))
        s_ref = scale_matrix(rw / size[0], rh / size[1])
        m = rasterise(polys, s_ref, (rh, rw))
        if m is None:
            out.append(None)
            continue
        h_a = ref.scale @ np.linalg.inv(h) @ np.linalg.inv(s_ref)
        warped = cv2.warpPerspective(
            m.astype(np.uint8) * 255, h_a / h_a[2, 2], (shape[1], shape[0]), flags=cv2.INTER_NEAREST
        )
        out.append(warped > 127)
    return out[0], out[1]


# --------------------------------------------------------------------------- the compare view


def aligned_pair(
    lib: Any, region_id: int, photo_a_id: int, photo_b_id: int, max_side: int | None = None
) -> AlignedPair:
    """Photo B aligned onto photo A (reference geometry) with its change; raises AlignmentFailedError.

    Uses the stored alignment (manual first) when there is one; otherwise aligns now and stores it.
    """
    from skintrack.library.models import AlignmentRecord

    region = lib.region(region_id)
    pa, pb = lib.photo(photo_a_id), lib.photo(photo_b_id)
    side = max_side or ANALYSIS_SIDE
    ref = load(lib.original_path(pa), side)
    mov = ref if photo_a_id == photo_b_id else load(lib.original_path(pb), side)
    if photo_a_id == photo_b_id:
        a = Alignment(True, np.eye(3), 1.0, "none", 0, "same photo")
    else:
        rec = lib.alignment(photo_b_id, photo_a_id)
        usable = (
            rec is not None
            and rec.ok
            and (rec.method == "manual" or rec.algorithm_version == align_mod.ALGORITHM_VERSION)
        )
        if usable:
            a = _alignment_from_record(rec)
        elif rec is not None and not rec.ok and rec.algorithm_version == align_mod.ALGORITHM_VERSION:
            a = _alignment_from_record(rec)  # a current failure: trying again would fail the same way
        else:
            a = align_analysed(ref, mov)
            lib.save_alignment(
                AlignmentRecord(
                    photo_id=photo_b_id,
                    reference_id=photo_a_id,
                    ok=a.ok,
                    homography=None if a.homography is None else a.homography.tolist(),
                    quality=float(a.quality),
                    method=a.method,
                    inliers=int(a.inliers),
                    message=a.message,
                    manual_points=None,
                    algorithm_version=align_mod.ALGORITHM_VERSION,
                )
            )
    if not a.ok or a.homography is None:
        raise AlignmentFailedError(a.message or "no trustworthy alignment")
    photos = list(lib.list_photos(region_id))
    ref_photo = _region_reference(lib, region, photos)
    ref_id = ref_photo.id if ref_photo is not None else photo_a_id
    roi, control = _masks_for(lib, region, ref_id, photo_a_id, ref)
    result, warped, valid = measure(
        ref, mov, a.homography, roi=roi, control=control, settings=change_settings(lib)
    )
    normalised = getattr(result, "later_normalised", None)
    if normalised is None:
        normalised = warped
    elif normalised.dtype != np.uint8:
        normalised = (np.clip(normalised, 0, 1) * 255 + 0.5).astype(np.uint8)
    return AlignedPair(a, ref.rgb, warped, normalised, valid, result, ref.analysis_scale)
