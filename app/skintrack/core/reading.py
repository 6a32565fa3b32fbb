"""A one-line, plain-language reading of a comparison.

The sentence states what was measured and how it relates to the measurement noise; it never
names a condition or a cause (Skintrack is not a diagnostic tool). Qt-free so the CLI, the PDF
report and the GUI all say exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skintrack.core import formatting
from skintrack.core.change import ChangeResult, ChangeSettings

DEFAULT_THRESHOLD_L = ChangeSettings().threshold_L
DEFAULT_NOISE_K = ChangeSettings().noise_k

NO_MEASUREMENT = "no measurement: the photos could not be aligned"
NO_CHANGE = "no change beyond measurement noise"
UNIFORM_NOT_MEASURABLE = "uniform change not measurable without a card or control patch"

#: A measurement as the app holds it: a ChangeResult, or its ``to_json()`` dict (stored measurements).
Measured = ChangeResult | Mapping[str, Any]


def _get(obj: object, name: str, default: object = None) -> Any:
    """Read a field from a ChangeResult or a Patch, or from their ``to_json()`` dicts."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def format_area(area_mm2: float | None, area_px: float | None, fraction: float | None) -> str:
    """Area in the most meaningful unit available: cm²/mm² with a scale, else share of the area."""
    return formatting.area(area_mm2, area_px, fraction)


def patch_delta_l(change: Measured | None) -> float | None:
    """Area-weighted mean ΔL* of the darkened patches (negative = darker), None without patches.

    The figure the reading states ("darker by 6.6 L* units"), the trend chart plots and the
    PDF prints: one function so they cannot disagree.
    """
    return patch_mean(change, "mean_delta_L")


def patch_mean(change: Measured | None, key: str) -> float | None:
    """Area-weighted mean of a patch field (``mean_delta_L``, ``mean_delta_b``, ...) over all patches."""
    if change is None:
        return None
    patches = _get(change, "patches") or []
    if not patches:
        return None
    total = 0.0
    weighted = 0.0
    for p in patches:
        a = float(_get(p, "area_px") or 0)
        total += a
        weighted += a * float(_get(p, key) or 0.0)
    if not total:
        mean_l = _get(change, key)
        return None if mean_l is None else float(mean_l)
    return weighted / total


def stored_thresholds(change: Measured, threshold_l: float, noise_k: float) -> tuple[float, float]:
    """(T, k) the measurement was made with, when it stored them; else the given ones."""
    stored = _get(change, "thresholds") or {}
    t = stored.get("threshold_L") if isinstance(stored, dict) else None
    k = stored.get("noise_k") if isinstance(stored, dict) else None
    return (float(t) if t is not None else threshold_l, float(k) if k is not None else noise_k)


def noise_threshold(noise: float | None, threshold_l: float, noise_k: float) -> float:
    """The darkening threshold actually applied: max(T, k * noise) (DESIGN.md)."""
    return max(threshold_l, noise_k * float(noise or 0.0))


def reading(
    change: Measured | None,
    *,
    threshold_l: float = DEFAULT_THRESHOLD_L,
    noise_k: float = DEFAULT_NOISE_K,
) -> str:
    """Describe ``change`` (a ChangeResult, its JSON dict, or None when alignment failed)."""
    if change is None:
        return NO_MEASUREMENT
    threshold_l, noise_k = stored_thresholds(change, threshold_l, noise_k)
    noise = _get(change, "noise_delta_L")
    noise_txt = f"{float(noise):.1f}" if noise is not None else "unknown"
    limit = noise_threshold(noise, threshold_l, noise_k)
    patches = _get(change, "patches") or []
    area_px = _get(change, "darkened_area_px") or 0
    mean_l = _get(change, "mean_delta_L")
    calibrated = _get(change, "calibration") in ("card", "control")
    uniform_ok = bool(_get(change, "uniform_change_measurable", calibrated))

    depth = patch_delta_l(change) if area_px else None
    if depth is not None:
        area = format_area(_get(change, "darkened_area_mm2"), area_px, _get(change, "darkened_fraction"))
        n = len(patches)
        where = f"{area}" if n == 1 else f"{area} in {n} patches"
        return (
            f"darker by {formatting.number(-depth)} L* units over {where}, above the {noise_txt} noise level"
        )

    warnings = _get(change, "warnings") or []
    if warnings:  # too little compared: "no change" would claim what was not measured
        return str(warnings[0])

    if mean_l is not None and uniform_ok and abs(float(mean_l)) >= limit:
        word = "darker" if float(mean_l) < 0 else "lighter"
        return f"{word} overall by {abs(float(mean_l)):.1f} L* units, above the {noise_txt} noise level"

    if not uniform_ok:
        return f"{NO_CHANGE} in local patches; {UNIFORM_NOT_MEASURABLE}"
    return NO_CHANGE
