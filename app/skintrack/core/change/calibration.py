"""Normalisation, strongest first (DESIGN.md): card -> control patch -> illumination model -> none.

Each method is one function taking the later photo into the reference photo's light. The later
photo's mean is never matched to the reference's: that would erase a uniform darkening.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from skintrack.core import colour
from skintrack.core.change.pixels import as_mask, rounded
from skintrack.core.change.result import CardCalibration
from skintrack.core.change.settings import MIN_CONTROL_PX, ChangeSettings
from skintrack.core.change.tone import ToneMapping
from skintrack.core.change.tone_guard import guarded_tone
from skintrack.core.colour import ColourCorrection
from skintrack.core.illumination import IlluminationModel, fit_illumination_model

if TYPE_CHECKING:
    from skintrack.core.change.prepare import Pair, Unreliable


@dataclass
class Normalised:
    """The pair after normalisation (linear RGB, analysis size) and how it was done.

    ``ref_cc``/``later_cc`` (card), ``model`` (a smooth field applied to the later photo) and
    ``gains`` (per channel, control patch) compose :meth:`normaliser`.
    """

    method: str
    ref: np.ndarray
    later: np.ndarray
    ref_cc: ColourCorrection | None = None
    later_cc: ColourCorrection | None = None
    model: IlluminationModel | None = None
    gains: np.ndarray = field(default_factory=lambda: np.ones(3, np.float32))
    card_info: dict[str, Any] | None = None
    tone: ToneMapping | None = None
    model_after: IlluminationModel | None = None  # the field refitted after the tone mapping
    tone_support: np.ndarray | None = None  # (H, W) later colours inside the tone mapping's fitted range

    def describe(self) -> dict[str, Any]:
        """What normalisation was used (the result's ``normalisation``)."""
        out: dict[str, Any] = {"method": self.method}
        if self.model is not None:
            out["illumination"] = {
                "degree": int(self.model.degree),
                "inlier_fraction": rounded(self.model.inlier_fraction),
                "residual_sigma": rounded(self.model.residual_sigma, 4),
            }
        if self.method == "control":
            out["gains"] = [rounded(float(g), 4) for g in self.gains]
        out["tone_mapping"] = None if self.tone is None else self.tone.describe()
        return out

    def normaliser(self) -> Callable[[np.ndarray], np.ndarray]:
        """The later photo (linear RGB, any size) under the reference photo's light and colours."""
        if self.method == "none":
            return lambda lin: lin
        later_cc, ref_cc, model, gains = self.later_cc, self.ref_cc, self.model, self.gains
        tone, after = self.tone, self.model_after

        def apply(lin: np.ndarray) -> np.ndarray:
            out = lin
            if later_cc is not None:
                out = colour.apply_colour_correction(out, later_cc)
            if model is not None:
                out = model.apply(out)
            if tone is not None:
                out = tone.apply(out)
            if after is not None:
                out = after.apply(out)
            out = out * gains
            if ref_cc is not None:  # back into the reference photo's own colours, for side-by-side display
                inv = np.linalg.inv(np.asarray(ref_cc.matrix, np.float64))
                out = colour.apply_colour_correction(out, ColourCorrection(inv, 0.0, 0.0))
            return out

        return apply


# --------------------------------------------------------------------------- the card argument


def _cc_of(obj: Any) -> ColourCorrection | None:
    if obj is None or isinstance(obj, ColourCorrection):
        return obj
    cc = getattr(obj, "colour_correction", None)
    return cc if isinstance(cc, ColourCorrection) else None


def card_parts(card: Any, later_rgb: np.ndarray, shape: tuple[int, int]) -> CardCalibration | None:
    """Normalise the ``card`` argument (CardCalibration, (ref, later) pair, or one CardDetection).

    One CardDetection (the reference's, as the service passes it) is completed by detecting the
    card in the warped later photo, which is in reference geometry too.
    """
    if card is None:
        return None
    if isinstance(card, CardCalibration):
        return card
    if isinstance(card, tuple | list):
        return _card_from_pair(card, shape)
    if hasattr(card, "ref_cc") or hasattr(card, "later_cc"):
        return CardCalibration(
            _cc_of(getattr(card, "ref_cc", None)),
            _cc_of(getattr(card, "later_cc", None)),
            as_mask(getattr(card, "mask", None), shape),
            getattr(card, "mm_per_px", None),
        )
    return _card_from_reference_detection(card, later_rgb, shape)


def _card_from_pair(card: tuple[Any, ...] | list[Any], shape: tuple[int, int]) -> CardCalibration:
    ref_obj = card[0] if len(card) > 0 else None
    later_obj = card[1] if len(card) > 1 else None
    masks = [getattr(o, "mask", None) for o in (ref_obj, later_obj)]
    if len(card) > 2:
        masks.append(card[2])
    mask = None
    for m in masks:
        mb = as_mask(m, shape)
        if mb is not None:
            mask = mb if mask is None else (mask | mb)
    return CardCalibration(_cc_of(ref_obj), _cc_of(later_obj), mask, getattr(ref_obj, "mm_per_px", None))


def _card_from_reference_detection(
    card: Any, later_rgb: np.ndarray, shape: tuple[int, int]
) -> CardCalibration:
    mask = as_mask(getattr(card, "mask", None), shape)
    later_cc = None
    try:
        from skintrack.core.card import detect_card

        u8 = (np.clip(later_rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
        det = detect_card(u8)
        if det is not None:
            later_cc = det.colour_correction
            lm = as_mask(getattr(det, "mask", None), shape)
            if lm is not None:
                mask = lm if mask is None else (mask | lm)
    except Exception:  # no card module or detection trouble: no card calibration
        later_cc = None
    return CardCalibration(_cc_of(card), later_cc, mask, getattr(card, "mm_per_px", None))


# --------------------------------------------------------------------------- choosing


def choose_method(
    pair: Pair, card: CardCalibration | None, settings: ChangeSettings, notes: list[str]
) -> str:
    """The strongest calibration available and allowed by ``settings.calibration``; notes say why."""
    wanted = (settings.calibration or "auto").lower()
    have_card = card is not None and card.ref_cc is not None and card.later_cc is not None
    have_control = pair.control is not None and int(pair.control.sum()) >= MIN_CONTROL_PX
    if wanted == "card" and not have_card:
        notes.append("card calibration requested but the card's colours were not measured in both photos")
    if wanted == "control" and not have_control:
        notes.append("control calibration requested but no usable control patch was given")
    if wanted in ("auto", "card") and have_card:
        method = "card"
    elif wanted in ("auto", "card", "control") and have_control:
        method = "control"
    elif wanted == "none":
        method = "none"
    else:
        method = "model"
    if card is not None and not have_card and method != "card":
        notes.append("a calibration card was found but not measured in both photos: not used for colour")
    return method


def fit_masks(pair: Pair, unreliable: Unreliable) -> tuple[np.ndarray, np.ndarray]:
    """(all reliable skin, reliable skin outside the watched area) for fitting the light.

    Outside the watched area falls back to all reliable skin when it holds under 20 % of it.
    """
    fit = pair.valid & ~unreliable.any_unreliable
    if pair.card is not None:
        fit &= ~pair.card
    outside = fit & ~pair.roi if pair.roi is not None else fit
    if outside.sum() < 0.2 * max(1, fit.sum()):
        outside = fit
    return fit, outside


def shape_only(model: IlluminationModel, anchor: np.ndarray | None) -> IlluminationModel:
    """The field's shape: zero at the anchor pixels' mean (or with its constant term dropped)."""
    coef = model.coefficients.copy()
    if anchor is not None and anchor.any():
        lg = model.log_gain(anchor.shape)
        coef[:, 0] -= lg[anchor].mean(axis=0)
    else:
        coef[:, 0] = 0.0
    return IlluminationModel(coef, model.degree, model.shape, model.inlier_fraction, model.residual_sigma)


# --------------------------------------------------------------------------- the methods


def normalise(
    method: str,
    pair: Pair,
    unreliable: Unreliable,
    card: CardCalibration | None,
    settings: ChangeSettings,
    notes: list[str],
) -> Normalised:
    """Apply ``method`` (one of CALIBRATIONS) and note what it can and cannot measure."""
    fit, outside = fit_masks(pair, unreliable)
    if method == "card":
        assert card is not None and card.ref_cc is not None and card.later_cc is not None
        return by_card(pair, card.ref_cc, card.later_cc, outside, settings.illumination_degree, notes)
    if method == "control":
        return by_control(pair, unreliable, outside, settings.illumination_degree, notes)
    if method == "model":
        return by_model(pair, unreliable, fit, settings, notes)
    notes.append("calibration 'none': lighting differences between the photos appear as change")
    return Normalised("none", pair.ref, pair.later)


def by_card(
    pair: Pair,
    ref_cc: ColourCorrection,
    later_cc: ColourCorrection,
    outside: np.ndarray,
    degree: int,
    notes: list[str],
) -> Normalised:
    """Both photos corrected to the card's known patches (absolute), then the light's shape removed.

    The shape (gradient, not level) is fitted outside the watched area and zeroed at the card.
    """
    ref_lin = colour.apply_colour_correction(pair.ref, ref_cc)
    later_lin = colour.apply_colour_correction(pair.later, later_cc)
    model = shape_only(fit_illumination_model(ref_lin, later_lin, outside, degree=degree), pair.card)
    info = {
        "ref_residual_delta_e_mean": rounded(ref_cc.residual_delta_e_mean),
        "ref_residual_delta_e_max": rounded(ref_cc.residual_delta_e_max),
        "later_residual_delta_e_mean": rounded(later_cc.residual_delta_e_mean),
        "later_residual_delta_e_max": rounded(later_cc.residual_delta_e_max),
    }
    notes.append(
        "calibration 'card': both photos colour-corrected to the card's known patches "
        f"(residual ΔE00 {ref_cc.residual_delta_e_mean:.1f} / {later_cc.residual_delta_e_mean:.1f}); "
        "uniform change is measurable"
    )
    return Normalised("card", ref_lin, model.apply(later_lin), ref_cc, later_cc, model, card_info=info)


def by_control(
    pair: Pair, unreliable: Unreliable, outside: np.ndarray, degree: int, notes: list[str]
) -> Normalised:
    """The light's shape removed, then per-channel gains so the control patch matches the reference."""
    ctrl = pair.control
    assert ctrl is not None
    away = outside & ~ctrl
    shape_model = fit_illumination_model(pair.ref, pair.later, away if away.any() else outside, degree=degree)
    model = shape_only(shape_model, None)
    later_lin = model.apply(pair.later)
    clean = ctrl & ~unreliable.any_unreliable
    cm = clean if clean.sum() >= MIN_CONTROL_PX else ctrl
    gains = (np.median(pair.ref[cm], axis=0) / np.maximum(np.median(later_lin[cm], axis=0), 1e-6)).astype(
        np.float32
    )
    notes.append(
        "calibration 'control': the watched area is measured relative to the control patch "
        "(per-channel gain on linear RGB); a change of the control patch itself is invisible"
    )
    return Normalised("control", pair.ref, later_lin * gains, model=model, gains=gains)


PER_CHANNEL_CLIPPED = 0.1  # above this share of clipped skin, each channel's field is fitted alone


def fit_field(
    ref: np.ndarray, later: np.ndarray, fit: np.ndarray, usable: np.ndarray, degree: int
) -> IlluminationModel:
    """The smooth illumination field from ``later`` to ``ref``, robustly, on reliable skin ``fit``.

    When a channel is clipped on much of the skin (pale or pink skin, one photo over-exposed),
    each channel is fitted on the pixels where that channel is measured in both photos, so the
    unclipped channels keep their field (and their lightness stays comparable).
    """
    clipped = fit & ~(usable[..., 0] & usable[..., 1] & usable[..., 2])
    if clipped.sum() <= PER_CHANNEL_CLIPPED * max(1, int(fit.sum())):
        return fit_illumination_model(ref, later, fit & ~clipped, degree=degree)
    rows, inliers, sigmas = [], [], []
    for c in range(3):
        grey_ref = np.repeat(ref[..., c : c + 1], 3, axis=2)
        grey_later = np.repeat(later[..., c : c + 1], 3, axis=2)
        m = fit_illumination_model(grey_ref, grey_later, fit & usable[..., c], degree=degree)
        rows.append(m.coefficients[c])
        inliers.append(m.inlier_fraction)
        sigmas.append(m.residual_sigma)
    shape = (ref.shape[0], ref.shape[1])
    return IlluminationModel(np.stack(rows), degree, shape, float(np.mean(inliers)), float(np.max(sigmas)))


def by_model(
    pair: Pair, unreliable: Unreliable, fit: np.ndarray, settings: ChangeSettings, notes: list[str]
) -> Normalised:
    """A smooth illumination field fitted robustly on all reliable skin and divided out.

    With ``settings.tone_mapping``, a tone curve and saturation change (:mod:`.tone`) is fitted on
    the field-corrected photo and, when it makes unchanged skin match markedly better, applied; the
    field is then refitted on the tone-mapped photo (the two explain different things: position
    and colour).
    """
    degree = settings.illumination_degree
    skin = pair.valid & unreliable.skin
    model = fit_field(pair.ref, pair.later, skin, unreliable.usable, degree)
    later = model.apply(pair.later)
    tone = after = None
    if settings.tone_mapping:
        tone, guarded = guarded_tone(pair.ref, later, skin, unreliable.usable, float(settings.tone_min_gain))
        if guarded:
            notes.append(
                "no tone curve was removed: only a large darker area made one look needed, and a "
                "tone curve fitted there would explain that area's change away"
            )
    support = None
    if tone is not None:
        support = tone.supported(later)
        later = tone.apply(later)
        after = fit_field(pair.ref, later, skin, unreliable.usable, degree)
        later = after.apply(later)
        notes.append(
            "the photos differ by a tone curve or saturation (as phones apply to every shot): it was "
            f"fitted on unchanged skin and removed (residual spread {tone.spread_before:.3f} -> "
            f"{tone.spread_after:.3f} in sRGB units)"
        )
    notes.append(
        "calibration 'model': a smooth illumination field was fitted robustly and divided out; "
        "its constant term absorbs any uniform change of the whole frame, so uniform darkening "
        "is NOT measurable (mean ΔL* of the frame is ~0 by construction): add a control patch "
        "or a calibration card to measure it"
    )
    return Normalised(
        "model", pair.ref, later, model=model, tone=tone, model_after=after, tone_support=support
    )
