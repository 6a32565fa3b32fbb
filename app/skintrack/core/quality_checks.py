"""The capture-quality checks: a photo prepared once, then one function per check.

Each check turns raw numbers from :mod:`skintrack.core.quality_measures` into a
:class:`~skintrack.core.quality_types.CheckResult`: a score, a status against the thresholds and
one sentence of advice. :mod:`skintrack.core.quality` runs them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skintrack.core import quality_measures as qm
from skintrack.core.align import lightness
from skintrack.core.quality_framing import FramingTarget
from skintrack.core.quality_types import CheckResult, QualityThresholds, grade, grade_low, percent, worst

MID_SIDE = 1024  # px: chart search
WORK_SIDE = 512  # px: sharpness and glare
SMALL_SIDE = 320  # px: framing (quality_framing.FRAMING_SIDE), clipping, exposure, evenness, cast
BLUR_UNIT_SIDE = 1024  # the blur index is stated in px of the photo scaled to this long side


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
    small_light: np.ndarray | None = field(default=None, repr=False)  # L* of ``small`` (framing)
    _target: FramingTarget | None = field(default=None, repr=False)

    def framing_target(self) -> FramingTarget:
        if self._target is None:
            self._target = FramingTarget(self.small, self.small_light)
        return self._target


def prepare(rgb: np.ndarray, chart: str | None = None) -> Prepared:
    """Downscale and compute what every check and any comparison need."""
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] < 3 or min(arr.shape[:2]) < 16:
        raise ValueError("a photo for the quality checks must be an RGB image of at least 16 x 16 px")
    mid = qm.reduce_integer(qm.to_u8(arr), MID_SIDE)
    work = qm.resize_long(mid, WORK_SIDE)
    # straight from ``mid`` when that is a whole-factor reduction (OpenCV's fast area path)
    small = qm.resize_long(mid if max(mid.shape[:2]) % SMALL_SIDE == 0 else work, SMALL_SIDE)
    work_light = lightness(work)
    small_mask = qm.skin_mask(small)
    work_mask = qm.skin_mask(work)
    small_lab = qm.lab_image(small)
    chroma = qm.median_chroma(small_lab, small_mask)
    median_l = qm.median_lightness(small_lab[..., 0], small_mask)
    blur = qm.blur_sigma(work_light, px_scale=BLUR_UNIT_SIDE / max(work.shape[:2]))
    return Prepared(
        mid, work, small, work_light, small_mask, work_mask, blur, chroma, median_l, chart, small_lab[..., 0]
    )


# --------------------------------------------------------------------------- the checks


def check_sharpness(p: Prepared, ref: Prepared | None, t: QualityThresholds) -> CheckResult:
    details = {"blur_px": p.blur}
    if ref is not None:
        excess = max(0.0, p.blur - ref.blur)
        details["reference_blur_px"] = ref.blur
        status = grade(excess, t.blur_excess_warn, t.blur_excess_fail)
        advice = {
            "fail": "Blurred: much softer than the reference. Hold still, tap the skin to focus, try again.",
            "warn": "Slightly softer than the reference. Steady the camera or add light.",
            "pass": "Sharp enough.",
        }[status]
        return CheckResult("sharpness", excess, status, advice, details)
    status = grade(p.blur, t.blur_warn, t.blur_fail)
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
    status = grade(score, t.clipping_warn, t.clipping_fail)
    if status == "pass":
        advice = "No blown highlights."
    else:
        advice = (
            f"Too bright: {percent(score)} of the skin is clipped in the {qm.CHANNELS[k]} channel. "
            "Move away from the window or turn off the flash."
        )
    return CheckResult("clipping", score, status, advice, dict(zip(qm.CHANNELS, fractions, strict=True)))


def check_exposure(p: Prepared, t: QualityThresholds) -> CheckResult:
    score = qm.crushed_fraction(p.small, None)
    median_l = p.median_L
    status = worst(
        [grade(score, t.crushed_warn, t.crushed_fail), grade_low(median_l, t.dark_L_warn, t.dark_L_fail)]
    )
    if status == "pass":
        advice = "Exposure is fine."
    elif score >= t.crushed_warn:
        advice = f"Too dark: {percent(score)} of the picture is lost in shadow. Add light or face a window."
    else:
        advice = "Too dark to measure well. Add light or face a window."
    return CheckResult("exposure", score, status, advice, {"median_L": median_l})


def check_glare(p: Prepared, t: QualityThresholds) -> CheckResult:
    score = qm.glare_fraction(p.work, p.work_light, p.work_mask)
    status = grade(score, t.glare_warn, t.glare_fail)
    if status == "pass":
        advice = "No glare."
    else:
        advice = (
            f"Shiny spots: {percent(score)} of the skin reflects the light. "
            "Turn off the flash, use softer light, or hold the camera at a slight angle."
        )
    return CheckResult("glare", score, status, advice)


def _side(angle_deg: float) -> str:
    names = ["right", "bottom right", "bottom", "bottom left", "left", "top left", "top", "top right"]
    return names[round((angle_deg % 360) / 45) % 8]


def check_evenness(p: Prepared, t: QualityThresholds) -> CheckResult:
    g = qm.lighting_gradient(p.small, p.small_mask)
    status = grade(g.stops, t.gradient_warn, t.gradient_fail)
    ratio = 2.0**g.stops
    if status == "pass":
        advice = "The light is even."
    else:
        side, opposite = _side(g.angle_deg), _side(g.angle_deg + 180.0)
        how = (
            f"{percent(ratio - 1.0)} brighter than the {opposite}"
            if ratio < 2.0
            else f"{ratio:.1f} times as bright as the {opposite}"
        )
        advice = f"Uneven light: the {side} is {how}. Face the light, or move so it falls evenly on the skin."
    return CheckResult(
        "evenness", g.stops, status, advice, {"stops": g.stops, "brighter_towards_deg": g.angle_deg}
    )


def check_cast(p: Prepared, ref: Prepared, t: QualityThresholds) -> CheckResult:
    da, db = p.chroma[0] - ref.chroma[0], p.chroma[1] - ref.chroma[1]
    score = math.hypot(da, db)
    status = grade(score, t.cast_warn, t.cast_fail)
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
    f = ref.framing_target().framing(p.small, p.small_light)
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
        "overlap": grade_low(f.overlap, t.overlap_warn, t.overlap_fail),
        "scale": grade(abs(math.log(max(f.scale, 1e-6))), t.scale_warn, t.scale_fail),
        "rotation": grade(abs(f.rotation_deg), t.rotation_warn, t.rotation_fail),
        "tilt": grade(f.tilt, t.tilt_warn, t.tilt_fail),
    }
    status = worst(statuses.values())
    hints = []
    if statuses["overlap"] != "pass":
        dx, dy = f.shift
        horiz = "right" if dx > 0 else "left"
        vert = "down" if dy > 0 else "up"
        first, second = (horiz, vert) if abs(dx) >= abs(dy) else (vert, horiz)
        both = min(abs(dx), abs(dy)) >= 0.5 * max(abs(dx), abs(dy))  # as the guide's arrow points
        hints.append(f"move the camera {first} and {second}" if both else f"move the camera {first}")
    if statuses["scale"] != "pass":
        hints.append("move further away" if f.scale > 1 else "move closer")
    if statuses["rotation"] != "pass":
        hints.append("turn the camera " + ("clockwise" if f.rotation_deg > 0 else "anticlockwise"))
    if statuses["tilt"] != "pass":
        hints.append("hold the camera parallel to the skin")
    if status == "pass":
        advice = "Framed like the reference."
    else:
        advice = f"Framing: {percent(f.overlap)} of the reference is in view; " + ", ".join(hints) + "."
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
