"""Capture-quality results and thresholds: the data half of :mod:`skintrack.core.quality`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ALGORITHM_VERSION = "quality-1"
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

    blur_*: blur index (px of the photo scaled to 1024 px, see ``quality_measures.blur_sigma``)
      without a reference: 3.0 warn, 4.0 fail. On generated 1024-px skin a sharp photo reads 2.2, a Gaussian
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


def grade(value: float, warn: float, fail: float) -> str:
    """Status for a value where larger is worse."""
    if value >= fail:
        return "fail"
    if value >= warn:
        return "warn"
    return "pass"


def grade_low(value: float, warn: float, fail: float) -> str:
    """Status for a value where smaller is worse."""
    if value <= fail:
        return "fail"
    if value <= warn:
        return "warn"
    return "pass"


def percent(x: float) -> str:
    p = 100.0 * x
    return f"{p:.1f} %" if p < 10 else f"{p:.0f} %"
