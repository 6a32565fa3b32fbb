"""Capture quality of a photo: is it good enough to measure, and if not, what to do about it.

``assess_quality(photo, reference)`` runs these checks, each a score, a status (pass / warn / fail
against :class:`QualityThresholds`) and one plain sentence of advice:

- ``sharpness``: estimated blur in px at ``WORK_SIDE`` (lower is sharper); with a reference, the
  blur beyond the reference's.
- ``clipping``: the worst channel's fraction of skin pixels at 250 or above (blown highlights).
- ``exposure``: fraction of skin pixels crushed to black (under-exposure).
- ``glare``: fraction of skin pixels that are specular highlights.
- ``evenness``: the lighting gradient across the frame, in stops.
- ``colour_cast`` (with a reference): ΔC*ab between the median skin chroma of photo and reference.
- ``framing`` (with a reference): the fraction of the reference the photo covers, from a fast
  low-resolution alignment; scale, rotation and tilt are judged too.
- ``chart``: whether a calibration chart (Skintrack card or ColorChecker) is in the frame. Its
  absence is a warning only when the reference had one, since a chart is optional.

Photos are downscaled first (``MID_SIDE`` for the chart search, ``WORK_SIDE`` for sharpness and
glare, ``SMALL_SIDE`` for the rest), so a 12 MP photo costs little more than a preview frame.
Pure numpy/OpenCV.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from skintrack.core import quality_measures as qm
from skintrack.core.align import lightness
from skintrack.core.quality_framing import FramingTarget

ALGORITHM_VERSION = "quality-1"
MID_SIDE = 1024  # px: chart search
WORK_SIDE = 512  # px: sharpness and glare
SMALL_SIDE = 320  # px: framing (quality_framing.FRAMING_SIDE), clipping, exposure, evenness, cast
BLUR_UNIT_SIDE = 1024  # the blur index is stated in px of the photo scaled to this long side
STATUSES = ("pass", "warn", "fail")
PRIORITY = ("exposure", "clipping", "glare", "sharpness", "framing", "evenness", "colour_cast", "chart")
CHECK_LABELS = {
    "sharpness": "Sharpness",
    "clipping": "Highlights",
    "exposure": "Exposure",
    "glare": "Glare",
    "evenness": "Even light",
    "colour_cast": "Colour",
    "framing": "Framing",
    "chart": "Chart",
}


@dataclass(frozen=True)
class QualityThresholds:
    """Where each check turns from pass to warn and from warn to fail. Defaults are documented here.

    blur_*: blur index (px at ``BLUR_UNIT_SIDE``, see ``quality_measures.blur_sigma``) without a
      reference: 3.0 warn, 4.0 fail. On generated 1024-px skin a sharp photo reads 2.2, a Gaussian
      blur of sigma 1.6 px 3.1 and of 2.4 px 3.9; sharp phone close-ups of real skin read 1.1-2.5.
      blur_excess_*: the index beyond the reference's, with one (0.7 warn, 1.5 fail).
    clipping_*: fraction of skin pixels clipped in the worst channel (1 % warn, 5 % fail).
    crushed_*: fraction of skin pixels crushed to black (5 % warn, 20 % fail); dark_L_*: median
      L* of the skin (20 warn, 10 fail: below the darkest skin tones, ITA < −30°, at L* ≈ 25-35).
    glare_*: fraction of skin pixels that are specular highlights (0.3 % warn, 1.5 % fail).
    gradient_*: lighting gradient across the frame in stops (0.5 stop ≈ 41 % brighter on one
      side: warn; 1 stop, twice as bright: fail).
    cast_*: ΔC*ab of the median skin chroma against the reference (3 warn, 6 fail): a change of
      white balance that large is several times the pigment changes Skintrack looks for.
    overlap_*: fraction of the reference's frame covered by the photo (0.85 warn, 0.6 fail).
    scale_*: |ln(scale)| of the framing, i.e. relative distance change (10 % warn, 25 % fail).
    rotation_*: degrees (8 warn, 20 fail). tilt_*: relative scale change across the frame from
      perspective (0.1 warn, 0.25 fail).
    """

    blur_warn: float = 3.0
    blur_fail: float = 4.0
    blur_excess_warn: float = 0.7
    blur_excess_fail: float = 1.5
    clipping_warn: float = 0.01
    clipping_fail: float = 0.05
    crushed_warn: float = 0.05
    crushed_fail: float = 0.20
    dark_L_warn: float = 20.0
    dark_L_fail: float = 10.0
    glare_warn: float = 0.003
    glare_fail: float = 0.015
    gradient_warn: float = 0.5
    gradient_fail: float = 1.0
    cast_warn: float = 3.0
    cast_fail: float = 6.0
    overlap_warn: float = 0.85
    overlap_fail: float = 0.6
    scale_warn: float = 0.10
    scale_fail: float = 0.25
    rotation_warn: float = 8.0
    rotation_fail: float = 20.0
    tilt_warn: float = 0.10
    tilt_fail: float = 0.25

    def to_json(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> QualityThresholds:
        """Thresholds from stored settings; unknown keys are ignored, missing ones keep defaults."""
        if not data:
            return cls()
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: float(v) for k, v in data.items() if k in known})


@dataclass
class CheckResult:
    """One check: ``score`` in the unit the check documents, a status and one sentence of advice."""

    name: str
    score: float
    status: str
    advice: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"score": round(float(self.score), 4), "status": self.status, "advice": self.advice}


@dataclass
class QualityReport:
    """All checks of one photo; ``overall`` is the worst status."""

    checks: dict[str, CheckResult]
    algorithm_version: str = ALGORITHM_VERSION

    @property
    def overall(self) -> str:
        return worst(c.status for c in self.checks.values())

    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks.values() if c.status == "fail"]

    def problems(self) -> list[CheckResult]:
        """Checks that did not pass: failures first, then causes before their effects (a dark
        photo also looks colour-cast and soft; fixing the light fixes those too)."""
        bad = [c for c in self.checks.values() if c.status != "pass"]
        order = {name: i for i, name in enumerate(PRIORITY)}
        return sorted(bad, key=lambda c: (-STATUSES.index(c.status), order.get(c.name, len(order))))

    def to_json(self) -> dict[str, Any]:
        return {"overall": self.overall, "checks": {n: c.to_json() for n, c in self.checks.items()}}

    def to_record(self) -> dict[str, Any]:
        """Everything, details included, for storage."""
        return {
            "overall": self.overall,
            "algorithm_version": self.algorithm_version,
            "checks": {n: {**c.to_json(), "details": c.details} for n, c in self.checks.items()},
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> QualityReport:
        checks = {
            name: CheckResult(
                name, float(c["score"]), str(c["status"]), str(c["advice"]), dict(c.get("details") or {})
            )
            for name, c in (data.get("checks") or {}).items()
        }
        return cls(checks, str(data.get("algorithm_version", ALGORITHM_VERSION)))


def worst(statuses: Any) -> str:
    """The worst of some statuses ("pass" when there are none)."""
    rank = max((STATUSES.index(s) for s in statuses), default=0)
    return STATUSES[rank]


def _grade(value: float, warn: float, fail: float) -> str:
    """Status for a value where larger is worse."""
    if value >= fail:
        return "fail"
    if value >= warn:
        return "warn"
    return "pass"


def _grade_low(value: float, warn: float, fail: float) -> str:
    """Status for a value where smaller is worse."""
    if value <= fail:
        return "fail"
    if value <= warn:
        return "warn"
    return "pass"


def _pct(x: float) -> str:
    p = 100.0 * x
    return f"{p:.1f} %" if p < 10 else f"{p:.0f} %"


# --------------------------------------------------------------------------- prepared images


@dataclass
class Prepared:
    """A photo reduced once for all checks (a reference is prepared once for many photos)."""

    mid: np.ndarray  # uint8 RGB, long side <= MID_SIDE: chart search
    work: np.ndarray  # uint8 RGB, long side <= WORK_SIDE: sharpness and glare
    small: np.ndarray  # uint8 RGB, long side <= SMALL_SIDE: framing and the rest
    work_light: np.ndarray
    small_mask: np.ndarray
    work_mask: np.ndarray
    blur: float
    chroma: tuple[float, float]
    median_L: float
    chart: str | None = None
    _target: FramingTarget | None = field(default=None, repr=False)

    def framing_target(self) -> FramingTarget:
        if self._target is None:
            self._target = FramingTarget(self.small)
        return self._target


def prepare(rgb: np.ndarray, chart: str | None = None) -> Prepared:
    """Downscale and compute what every check and any comparison need."""
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] < 3 or min(arr.shape[:2]) < 16:
        raise ValueError("a photo for the quality checks must be an RGB image of at least 16 x 16 px")
    mid = qm.reduce_integer(qm.to_u8(arr), MID_SIDE)
    work = qm.resize_long(mid, WORK_SIDE)
    small = qm.resize_long(work, SMALL_SIDE)
    work_light = lightness(work)
    small_mask = qm.skin_mask(small)
    work_mask = qm.skin_mask(work)
    small_lab = qm.lab_image(small)
    chroma = qm.median_chroma(small_lab, small_mask)
    median_l = qm.median_lightness(small_lab[..., 0], small_mask)
    blur = qm.blur_sigma(work_light, px_scale=BLUR_UNIT_SIDE / max(work.shape[:2]))
    return Prepared(mid, work, small, work_light, small_mask, work_mask, blur, chroma, median_l, chart)


# --------------------------------------------------------------------------- the checks


def check_sharpness(p: Prepared, ref: Prepared | None, t: QualityThresholds) -> CheckResult:
    details = {"blur_px": p.blur}
    if ref is not None:
        excess = max(0.0, p.blur - ref.blur)
        details["reference_blur_px"] = ref.blur
        status = _grade(excess, t.blur_excess_warn, t.blur_excess_fail)
        advice = {
            "fail": "Blurred: much softer than the reference. Hold still, tap the skin to focus, try again.",
            "warn": "Slightly softer than the reference. Steady the camera or add light.",
            "pass": "Sharp enough.",
        }[status]
        return CheckResult("sharpness", excess, status, advice, details)
    status = _grade(p.blur, t.blur_warn, t.blur_fail)
    advice = {
        "fail": "Blurred. Hold still, tap the skin to focus and take it again.",
        "warn": "Slightly soft. Steady the camera (elbows on the table) or add light.",
        "pass": "Sharp enough.",
    }[status]
    return CheckResult("sharpness", p.blur, status, advice, details)


def check_clipping(p: Prepared, t: QualityThresholds) -> CheckResult:
    fractions = qm.clipped_fractions(p.small, p.small_mask)
    k = int(np.argmax(fractions))
    score = fractions[k]
    status = _grade(score, t.clipping_warn, t.clipping_fail)
    if status == "pass":
        advice = "No blown highlights."
    else:
        advice = (
            f"Too bright: {_pct(score)} of the skin is clipped in the {qm.CHANNELS[k]} channel. "
            "Move away from the window or turn off the flash."
        )
    return CheckResult("clipping", score, status, advice, dict(zip(qm.CHANNELS, fractions, strict=True)))


def check_exposure(p: Prepared, t: QualityThresholds) -> CheckResult:
    score = qm.crushed_fraction(p.small, None)
    median_l = p.median_L
    status = worst(
        [_grade(score, t.crushed_warn, t.crushed_fail), _grade_low(median_l, t.dark_L_warn, t.dark_L_fail)]
    )
    if status == "pass":
        advice = "Exposure is fine."
    elif score >= t.crushed_warn:
        advice = f"Too dark: {_pct(score)} of the picture is lost in shadow. Add light or face a window."
    else:
        advice = "Too dark to measure well. Add light or face a window."
    return CheckResult("exposure", score, status, advice, {"median_L": median_l})


def check_glare(p: Prepared, t: QualityThresholds) -> CheckResult:
    score = qm.glare_fraction(p.work, p.work_light, p.work_mask)
    status = _grade(score, t.glare_warn, t.glare_fail)
    if status == "pass":
        advice = "No glare."
    else:
        advice = (
            f"Shiny spots: {_pct(score)} of the skin reflects the light. "
            "Turn off the flash, use softer light, or hold the camera at a slight angle."
        )
    return CheckResult("glare", score, status, advice)


def _side(angle_deg: float) -> str:
    names = ["right", "bottom right", "bottom", "bottom left", "left", "top left", "top", "top right"]
    return names[round((angle_deg % 360) / 45) % 8]


def check_evenness(p: Prepared, t: QualityThresholds) -> CheckResult:
    g = qm.lighting_gradient(p.small, p.small_mask)
    status = _grade(g.stops, t.gradient_warn, t.gradient_fail)
    brighter = 2.0**g.stops - 1.0
    if status == "pass":
        advice = "The light is even."
    else:
        advice = (
            f"Uneven light: the {_side(g.angle_deg)} is {_pct(brighter)} brighter than the opposite side. "
            "Face the light, or move so it falls evenly on the skin."
        )
    return CheckResult(
        "evenness", g.stops, status, advice, {"stops": g.stops, "brighter_towards_deg": g.angle_deg}
    )


def check_cast(p: Prepared, ref: Prepared, t: QualityThresholds) -> CheckResult:
    da, db = p.chroma[0] - ref.chroma[0], p.chroma[1] - ref.chroma[1]
    score = math.hypot(da, db)
    status = _grade(score, t.cast_warn, t.cast_fail)
    if status == "pass":
        advice = "Colours match the reference."
    else:
        tint = (
            ("warmer (yellower)" if db > 0 else "cooler (bluer)")
            if abs(db) >= abs(da)
            else ("redder" if da > 0 else "greener")
        )
        advice = (
            f"Colour cast: the picture is {tint} than the reference (ΔC {score:.1f}). "
            "Use the same light as for the reference and switch off filters or warm modes."
        )
    return CheckResult("colour_cast", score, status, advice, {"delta_a": da, "delta_b": db})


def check_framing(p: Prepared, ref: Prepared, t: QualityThresholds) -> CheckResult:
    f = ref.framing_target().framing(p.small)
    details: dict[str, Any] = {
        "aligned": f.aligned,
        "overlap": f.overlap,
        "scale": f.scale,
        "rotation_deg": f.rotation_deg,
        "tilt": f.tilt,
        "shift": list(f.shift),
        "outline": [list(pt) for pt in f.outline],
    }
    if not f.aligned:
        advice = (
            "Cannot find the reference's skin in the picture. Line it up with the ghost of the reference."
        )
        return CheckResult("framing", 0.0, "fail", advice, details)
    statuses = {
        "overlap": _grade_low(f.overlap, t.overlap_warn, t.overlap_fail),
        "scale": _grade(abs(math.log(max(f.scale, 1e-6))), t.scale_warn, t.scale_fail),
        "rotation": _grade(abs(f.rotation_deg), t.rotation_warn, t.rotation_fail),
        "tilt": _grade(f.tilt, t.tilt_warn, t.tilt_fail),
    }
    status = worst(statuses.values())
    hints = []
    if statuses["overlap"] != "pass":
        dx, dy = f.shift
        horiz = "right" if dx > 0 else "left"
        vert = "down" if dy > 0 else "up"
        hints.append(f"move the camera {horiz if abs(dx) >= abs(dy) else vert}")
    if statuses["scale"] != "pass":
        hints.append("move further away" if f.scale > 1 else "move closer")
    if statuses["rotation"] != "pass":
        hints.append("turn the camera " + ("clockwise" if f.rotation_deg > 0 else "anticlockwise"))
    if statuses["tilt"] != "pass":
        hints.append("hold the camera parallel to the skin")
    if status == "pass":
        advice = "Framed like the reference."
    else:
        advice = f"Framing: {_pct(f.overlap)} of the reference is in view; " + ", ".join(hints) + "."
    return CheckResult("framing", f.overlap, status, advice, details)


def check_chart(p: Prepared, ref: Prepared | None) -> CheckResult:
    expected = ref is not None and ref.chart is not None
    if p.chart is not None:
        return CheckResult("chart", 1.0, "pass", f"Colour chart found ({p.chart}).", {"chart": p.chart})
    if expected:
        return CheckResult(
            "chart",
            0.0,
            "warn",
            "No colour chart in view, but the reference has one. Put the chart beside the skin as before.",
            {"chart": None},
        )
    return CheckResult(
        "chart",
        0.0,
        "pass",
        "No colour chart in view (optional: a chart beside the skin makes colours comparable).",
        {"chart": None},
    )


ChartFinder = Callable[[np.ndarray], "str | None"]


def find_card(rgb_u8: np.ndarray) -> str | None:
    """The fast chart finder: "skintrack-card" when at least 3 of the card's ArUco markers are seen."""
    from skintrack.core import card

    grey = cv2.cvtColor(rgb_u8, cv2.COLOR_RGB2GRAY)
    return "skintrack-card" if len(card.detect_markers(grey, max_side=MID_SIDE)) >= card.MIN_MARKERS else None


def assess_quality(
    photo: np.ndarray | Prepared,
    reference: np.ndarray | Prepared | None = None,
    thresholds: QualityThresholds | None = None,
    *,
    chart_finder: ChartFinder | None = find_card,
    chart: str | None = None,
) -> QualityReport:
    """All checks of ``photo`` (an sRGB image, uint8 or float 0..1) against an optional ``reference``.

    ``chart`` names a chart already found in the photo; otherwise ``chart_finder`` looks for one
    in the downscaled photo (None: do not look; the ``chart`` check then reports no chart).
    Either image may be passed already prepared (:func:`prepare`), e.g. a reference used for
    every frame of a live preview.
    """
    t = thresholds or QualityThresholds()
    p = photo if isinstance(photo, Prepared) else prepare(photo, chart)
    if not isinstance(photo, Prepared) and chart is None and chart_finder is not None:
        p.chart = chart_finder(p.mid)
    ref = None
    if reference is not None:
        ref = reference if isinstance(reference, Prepared) else prepare(reference)
        if not isinstance(reference, Prepared) and chart_finder is not None:
            ref.chart = chart_finder(ref.mid)
    checks = [
        check_sharpness(p, ref, t),
        check_clipping(p, t),
        check_exposure(p, t),
        check_glare(p, t),
        check_evenness(p, t),
    ]
    if ref is not None:
        checks += [check_cast(p, ref, t), check_framing(p, ref, t)]
    checks.append(check_chart(p, ref))
    return QualityReport({c.name: c for c in checks})
