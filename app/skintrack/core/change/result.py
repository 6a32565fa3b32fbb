"""What a comparison returns: :class:`ChangeResult` with its :class:`Patch` list, and the card input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from skintrack.core import colour
from skintrack.core.change.pixels import linear_to_srgb_fast, resize, srgb_to_linear_fast
from skintrack.core.change.pixels import rounded as _r
from skintrack.core.change.settings import ALGORITHM_VERSION, ChangeSettings
from skintrack.core.colour import ColourCorrection


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
    """One darkened region: area (input px, mm² with a scale), geometry in input px, mean changes."""

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
    compared_fraction: float = 0.0  # of the watched area (ROI, or the whole reference frame)
    excluded: dict[str, float] = field(default_factory=dict)  # cause -> fraction of the watched area
    detection_limit_L: dict[str, float | None] = field(default_factory=dict)  # patch area -> ΔL*
    warnings: list[str] = field(default_factory=list)  # plain sentences that qualify the reading
    normalisation: dict[str, Any] = field(default_factory=dict)
    excluded_small: np.ndarray | None = field(default=None, repr=False)  # uint8 cause codes, analysis size
    refinement: dict[str, Any] = field(default_factory=dict)  # dense registration refinement, input px
    _ref_input: np.ndarray | None = field(default=None, repr=False)
    _later_input: np.ndarray | None = field(default=None, repr=False)
    _normaliser: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    _labs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- maps at input size (lazy)

    def _up(self, name: str, small: np.ndarray, interp: int) -> np.ndarray:
        if name not in self._cache:
            h, w = self.mask.shape[:2]
            self._cache[name] = resize(small, (w, h), interp)
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
            lin = srgb_to_linear_fast(self._later_input)
            self._cache["later_normalised"] = linear_to_srgb_fast(self._normaliser(lin))
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
            self._cache[name] = resize(m, (w, h), cv2.INTER_LINEAR)
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
            "patches": [patch_json(p) for p in self.patches],
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
                "outline_share": float(s.outline_share),
                "min_area_px": _r(self.min_area_px, 1),
                "min_area_fraction": float(s.min_area_fraction),
                "min_area_mm2": float(s.min_area_mm2),
                "large_patch_fraction": float(s.large_patch_fraction),
                "fringe_share": float(s.fringe_share),
                "min_tone_support": float(s.min_tone_support),
                "tone_min_gain": float(s.tone_min_gain),
                "spot_contrast_L": float(s.spot_contrast_L),
                "match_gain": float(s.match_gain),
                "match_max_sigma": float(s.match_max_sigma),
                "match_window": int(s.match_window),
            },
            "control": self.control,
            "card": self.card,
            "compared_fraction": _r(self.compared_fraction, 4),
            "excluded": {k: _r(v, 4) for k, v in self.excluded.items()},
            "detection_limit_L": dict(self.detection_limit_L),
            "warnings": list(self.warnings),
            "normalisation": self.normalisation,
            "refinement": self.refinement,
            "change_version": ALGORITHM_VERSION,
        }


def patch_json(p: Patch) -> dict[str, Any]:
    """A patch's JSON, rounded (areas to 0.1 px / 0.01 mm², contour to 0.1 px)."""
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
