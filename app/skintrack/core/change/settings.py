"""The measurement's settings: one documented schema with user-facing keys, units and ranges.

Every field of :class:`ChangeSettings` carries metadata (``label``, ``unit``, ``help``, ``min``/``max``
or ``choices``) so the settings service, the preferences dialog and the CLI describe and validate
the same keys; the field names are the keys stored in a library's settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ALGORITHM_VERSION = "change-9"
CALIBRATIONS = ("card", "control", "model", "none")
KIND_DELTA_B = 1.0  # |mean Δb*| above which a patch is called grey-blue or brown
CLIP_SRGB = 0.98  # a channel at or above this (sRGB 0..1) is clipped: its true value is unknown
HIGHLIGHT_L = 10.0  # L* above the local median skin, and whiter than it: a specular reflection
MIN_CONTROL_PX = 30  # control patch pixels (analysis resolution) needed to use it


def setting(
    default: Any,
    *,
    label: str,
    help: str,
    unit: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """A dataclass field with the metadata a settings form and a validator need."""
    meta: dict[str, Any] = {"label": label, "unit": unit, "help": help}
    if minimum is not None:
        meta["min"] = minimum
    if maximum is not None:
        meta["max"] = maximum
    if choices is not None:
        meta["choices"] = choices
    return field(default=default, metadata=meta)


@dataclass
class ChangeSettings:
    """Thresholds and knobs of the change measurement (DESIGN.md, "Measurement definitions").

    Construction validates; after changing attributes call :meth:`validate`. Use
    :meth:`from_mapping` for stored or typed-in values (strings are converted, unknown keys ignored).
    """

    threshold_L: float = setting(
        3.0,
        label="Darkening threshold",
        unit="L*",
        minimum=0.5,
        maximum=30.0,
        help="A pixel is darker when its ΔL* is at or below minus this value (T).",
    )
    noise_k: float = setting(
        3.0,
        label="Noise multiple",
        unit="× noise",
        minimum=1.0,
        maximum=10.0,
        help="The threshold rises to this many times the measured noise of ΔL* when that is larger (k).",
    )
    min_area_fraction: float = setting(
        0.0005,
        label="Minimum patch area",
        unit="fraction of the compared area",
        minimum=0.0,
        maximum=0.5,
        help="Smaller darkened patches are not reported (used when the photos have no mm scale).",
    )
    min_area_mm2: float = setting(
        2.0,
        label="Minimum patch area (with a scale)",
        unit="mm²",
        minimum=0.0,
        maximum=10000.0,
        help="Smaller darkened patches are not reported when a calibration card gives the scale.",
    )
    illumination_degree: int = setting(
        2,
        label="Illumination model degree",
        unit="",
        minimum=0,
        maximum=4,
        help="Degree of the smooth polynomial lighting field fitted between the photos.",
    )
    calibration: str = setting(
        "auto",
        label="Calibration",
        choices=("auto", *CALIBRATIONS),
        help="auto uses the strongest available: card, then control patch, then the lighting model.",
    )
    analysis_side: int = setting(
        1500,
        label="Analysis resolution",
        unit="px (longest side, 0 = full size)",
        minimum=0,
        maximum=20000,
        help="Colour is compared at this size; results are given in the photo's own pixels.",
    )
    smoothing_sigma: float = setting(
        1.2,
        label="Pre-smoothing",
        unit="px (Gaussian sigma)",
        minimum=0.0,
        maximum=10.0,
        help="Light smoothing before comparing: sensor noise and sub-pixel misregistration.",
    )
    hysteresis: float = setting(
        0.5,
        label="Patch growth level",
        unit="× threshold",
        minimum=0.1,
        maximum=1.0,
        help="A patch extends over connected pixels darker than this fraction of the threshold.",
    )
    outline_share: float = setting(
        0.5,
        label="Patch outline depth",
        unit="× the patch's depth",
        minimum=0.0,
        maximum=1.0,
        help="A deep patch's outline is where it is this share of its own median depth (half: "
        "its half-depth contour), so a soft edge is not flagged out to the threshold.",
    )

    large_patch_fraction: float = setting(
        0.5,
        label="Large-patch sensitivity",
        unit="× threshold",
        minimum=0.1,
        maximum=1.0,
        help="A patch large enough for its mean to be known precisely is reported from this fraction "
        "of the darkening threshold on (never below what the measured noise allows).",
    )
    exclude_thin_structures: bool = setting(
        True,
        label="Leave out hair and pen marks",
        help="Thin dark lines (hair, pen, fine creases) in either photo are not compared: they move "
        "between photos without any change of the skin.",
        choices=(True, False),
    )
    refine_alignment: bool = setting(
        True,
        label="Bend curved skin into place",
        help="After the alignment, a smooth displacement of at most a few pixels is fitted where it "
        "improves the match (curved forearms, cheeks); its size is reported.",
        choices=(True, False),
    )
    tone_mapping: bool = setting(
        True,
        label="Correct tone curves",
        help="Fit and remove a phone's tone curve and saturation change between the photos "
        "(lighting model only), when it makes unchanged skin match markedly better.",
        choices=(True, False),
    )
    fringe_share: float = setting(
        0.8,
        label="Hair-fringe share",
        unit="fraction of the patch",
        minimum=0.0,
        maximum=1.0,
        help="A patch lying this much within a line's half-width of left-out hair or ink is that "
        "line's antialiased fringe (a hair lying differently), not darker skin, and is dropped.",
    )
    min_tone_support: float = setting(
        0.5,
        label="Faint patch inside fitted colours",
        unit="fraction of the patch",
        minimum=0.0,
        maximum=1.0,
        help="A patch fainter than the per-pixel threshold must have at least this share of its "
        "pixels in the colour range the tone curve was fitted on (its limit comes from that skin).",
    )
    tone_min_gain: float = setting(
        0.12,
        label="Tone-curve gain needed",
        unit="fraction of the residual",
        minimum=0.0,
        maximum=0.9,
        help="A tone curve is removed only when it lowers the robust spread of unchanged skin's "
        "difference by at least this share.",
    )
    spot_contrast_L: float = setting(
        10.0,
        label="Pigmented spot contrast",
        unit="L*",
        minimum=1.0,
        maximum=50.0,
        help="A pigmented spot is at least this much darker than the skin around it; a faint "
        "change on its steep rim is judged with the whole spot, a band hugging it may grow it.",
    )
    match_gain: float = setting(
        0.2,
        label="Resolution matching gain",
        unit="fraction of the difference",
        minimum=0.0,
        maximum=0.9,
        help="The sharper photo is blurred to the other's resolution when that lowers the robust "
        "spread of their difference by at least this share (a close-up against an overview).",
    )
    match_max_sigma: float = setting(
        3.0,
        label="Resolution matching blur",
        unit="px (largest Gaussian sigma tried)",
        minimum=0.0,
        maximum=3.0,
        help="Blurs of 0.5 to this many px (analysis size) are tried on the sharper photo; 0 keeps "
        "both photos as they are.",
    )
    match_window: int = setting(
        384,
        label="Resolution matching window",
        unit="px a side",
        minimum=64,
        maximum=4096,
        help="The window in the middle of the overlap where the blur matching the photos is judged.",
    )
    repeat_noise_k: float = setting(
        3.0,
        label="Repeat-shot noise multiple",
        unit="× repeat noise",
        minimum=1.0,
        maximum=10.0,
        help="With repeat shots in a check-in, the threshold is at least this many times the spread "
        "of ΔL* between aligned repeat shots (the set-up's own repeatability).",
    )

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the key, its label and the valid range of the first bad value."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            meta = f.metadata
            where = f"setting {f.name} ({meta.get('label', f.name)})"
            if "choices" in meta:
                if value not in meta["choices"]:
                    raise ValueError(
                        f"{where} must be one of {', '.join(str(c) for c in meta['choices'])}, not {value!r}"
                    )
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{where} must be a number, not {value!r}")
            if value != value:  # NaN
                raise ValueError(f"{where} must be a number, not NaN")
            lo, hi = meta.get("min"), meta.get("max")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ValueError(
                    f"{where} must be between {lo:g} and {hi:g} {meta.get('unit', '')}, not {value!r}"
                )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ChangeSettings:
        """Settings from stored or typed-in values: known keys converted to the field's type, validated."""
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in values or values[f.name] is None:
                continue
            kwargs[f.name] = _convert(f, values[f.name])
        return cls(**kwargs)

    def to_mapping(self) -> dict[str, Any]:
        """The user-facing keys and their values (what a library stores)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _convert(f: dataclasses.Field[Any], value: Any) -> Any:
    default = f.default
    where = f"setting {f.name} ({f.metadata.get('label', f.name)})"
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                text = value.strip().lower()
                if text not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ValueError
                return text in ("true", "1", "yes", "on")
            return bool(value)
        if isinstance(default, str):
            return str(value).strip().lower()
        if isinstance(default, int) and not isinstance(default, bool):
            number = float(value)
            if number != int(number):
                raise ValueError
            return int(number)
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {value!r} is not a valid value") from exc


def setting_fields() -> tuple[dataclasses.Field[Any], ...]:
    """The schema: one dataclass field per user-facing key, with its metadata."""
    return dataclasses.fields(ChangeSettings)
