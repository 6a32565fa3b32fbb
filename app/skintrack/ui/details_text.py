"""The details panel's words: metric rows with units, plain-language tooltips, alignment and
calibration in words, and the messages about a missing or altered original."""

from __future__ import annotations

from typing import Any

from skintrack.core import formatting

NONE = "—"


def _num(m: dict[str, Any] | None, key: str) -> float | None:
    if not m:
        return None
    v = m.get(key)
    return float(v) if isinstance(v, (int, float)) else None


def _signed(v: float | None, unit: str = "", digits: int = 1) -> str:
    return NONE if v is None else formatting.signed(v, digits, unit=unit.strip())


CALIBRATION_TEXT = {
    "card": "calibration card (colour and scale)",
    "control": "control patch of unaffected skin",
    "model": "lighting model (cannot see uniform change)",
    "none": "none",
}

ALIGNMENT_METHOD_TEXT = {
    "ecc": "refined",
    "features": "matched features",
    "card": "by the calibration card",
    "manual": "aligned by hand",
    "none": "",
}

METRIC_TIPS = {
    "alignment": (
        "How well this photo was lined up with the reference, from 0 (not at all) to 1 (exactly). "
        "'Refined' means the match of features was fine-tuned on the skin texture."
    ),
    "calibration": (
        "How lighting differences between the photos were taken out:\n"
        "• calibration card: the printed card in the photo gives true colour and scale;\n"
        "• control patch: a patch of unaffected skin you marked is used as the colour reference;\n"
        "• lighting model: a smooth lighting model over the whole photo; it cannot see a change "
        "that affects the whole area evenly."
    ),
    "delta_L": "Change in lightness (CIE L*) of the watched area; negative is darker. 1 L* is about "
    "the smallest difference a trained eye sees side by side.",
    "delta_b": "Change in the yellow–blue axis (CIE b*); negative is bluer (grey-blue pigment), "
    "positive is yellower or browner.",
    "delta_ita": "Change in the Individual Typology Angle (ITA°), a skin-tone angle from L* and b*; "
    "negative is darker or browner.",
    "delta_e": "Overall colour difference (CIE ΔE2000); about 1 is just visible side by side, "
    "above 3 is clearly visible.",
    "area": "The part of the compared area that got darker than the threshold, in patches at "
    "least as large as the minimum patch size.",
    "noise": "How much ΔL* varies between photos of skin that did not change (from the control "
    "patch or unchanged areas); changes smaller than this are not meaningful.",
    "quality": "Sharpness, exposure and glare of this photo when it was taken.",
}

ORIGINAL_TEXT = {
    "missing": "The original photo file is missing from the library",
    "altered": "The original photo file was changed after it was imported (its contents no longer "
    "match the stored checksum)",
}


def breakable_path(path: object) -> str:
    """A path a wrapped label can break after each folder separator (zero-width spaces)."""
    return str(path).replace("/", "/\u200b").replace("\\", "\\\u200b")


def alignment_text(al: dict[str, Any]) -> str:
    """ "alignment quality 0.95, refined" (plain words for the stored method)."""
    q = al.get("quality")
    parts = [f"alignment quality {formatting.number(q, 2)}" if isinstance(q, (int, float)) else "aligned"]
    how = ALIGNMENT_METHOD_TEXT.get(str(al.get("method") or ""), str(al.get("method") or ""))
    if how:
        parts.append(how)
    text = ", ".join(parts)
    return text if al.get("ok", True) else f"not aligned ({text})"


def metric_texts(m: dict[str, Any]) -> dict[str, str]:
    """The details panel's metric rows for a stored measurement, in words with units."""
    al = m.get("alignment") or {}
    cal = str(m.get("calibration") or "none")
    de = _num(m, "mean_delta_e2000")
    frac = _num(m, "darkened_fraction")
    mm2 = _num(m, "darkened_area_mm2")
    parts = []
    if frac is not None:
        parts.append(f"{formatting.number(100 * frac, 2)} % of compared area")
    if mm2 is not None:
        parts.append(formatting.area(mm2))
    n = len(m.get("patches") or [])
    if n:
        parts.append(f"{n} patch{'es' if n != 1 else ''}")
    noise = _num(m, "noise_delta_L")
    return {
        "alignment": alignment_text(al) if al else NONE,
        "calibration": CALIBRATION_TEXT.get(cal, cal),
        "delta_L": _signed(_num(m, "mean_delta_L"), " L*"),
        "delta_b": _signed(_num(m, "mean_delta_b"), " b*"),
        "delta_ita": _signed(_num(m, "mean_delta_ita"), "°"),
        "delta_e": NONE if de is None else formatting.number(de, 1),
        "area": ", ".join(parts) or NONE,
        "noise": NONE if noise is None else f"±{formatting.number(noise, 1)} L*",
    }
