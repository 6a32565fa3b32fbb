"""The numbers beside the photos: change metrics with units, the reading, and a clicked patch."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QFrame, QGroupBox, QLabel, QVBoxLayout, QWidget

from skintrack.core import formatting
from skintrack.core.change import ChangeResult, Patch
from skintrack.core.colour import ita_class
from skintrack.core.reading import (
    DEFAULT_NOISE_K,
    DEFAULT_THRESHOLD_L,
    format_area,
    patch_delta_l,
    reading,
)
from skintrack.ui.compare.heatmap_layer import patch_value
from skintrack.ui.compare.source import AlignmentInfo

DASH = "—"
FIELD_TIPS = {
    "patch_dL": "Area-weighted mean lightness change of the darkened patches: the figure the reading states.",
    "dL": "Mean lightness change (CIELAB L*) of the whole watched area; negative = darker.",
    "db": "Mean yellow-blue change (CIELAB b*): falls with grey-blue pigment, rises with brown.",
    "dita": "Change of the Individual Typology Angle, a skin-tone angle from L* and b* (degrees).",
    "ita": "Skin-tone class from the ITA° (very light to dark), before and after.",
    "de": "Overall colour difference (CIEDE2000); about 1 is just noticeable side by side.",
    "noise": "Spread of ΔL* on unchanged skin: changes within about three times this are not meaningful.",
    "limit": "The faintest even darkening a patch of each size would show: larger patches are measured "
    "more precisely, so fainter changes of them are seen.",
    "calibration": "How the colours were matched: card = printed card, control = unchanged skin patch, "
    "model = lighting model (cannot see an even darkening of the whole area).",
}


def ita_from_lab(lab: Sequence[float] | None) -> float | None:
    if lab is None:
        return None
    L, _a, b = (float(v) for v in lab)
    return math.degrees(math.atan2(L - 50.0, b))


def _num(v: float | None, unit: str = "", *, signed: bool = True, decimals: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return DASH
    return formatting.number(float(v), decimals, signed=signed, unit=unit)


def ita_before_after(change: ChangeResult) -> tuple[float | None, float | None, str, str]:
    before = change.ref_ita if change.ref_ita is not None else ita_from_lab(change.ref_lab_mean)
    after = change.later_ita if change.later_ita is not None else ita_from_lab(change.later_lab_mean)
    cb = change.ref_ita_class or (ita_class(before) if before is not None else DASH)
    ca = change.later_ita_class or (ita_class(after) if after is not None else DASH)
    return before, after, str(cb), str(ca)


def limit_area_text(key: str) -> str | None:
    """A detection-limit key ("1 cm2", "0.25 cm2", "1 %") as a patch in words: "a 1.0 cm² patch"."""
    number, _, unit = key.strip().partition(" ")
    try:
        value = float(number)
    except ValueError:
        return None
    if unit == "cm2":
        return f"a {formatting.area(value * 100.0)} patch"
    if unit == "%":
        return f"a patch of {formatting.number(value, 1 if value < 1 else 0)} % of the watched area"
    return None


def detection_limit_lines(change: ChangeResult) -> list[str]:
    """ "a 1 cm² patch darker by 1.2 L* would be seen", one per area of the detection limits;
    areas with no limit (too small or too large) are left out."""
    lines = []
    for key, value in change.detection_limit_L.items():
        size = limit_area_text(str(key))
        if value is None or size is None:
            continue
        depth = formatting.number(abs(float(value)), 1, signed=False)
        lines.append(f"{size} darker by {depth} L* would be seen")
    return lines


def alignment_text(a: AlignmentInfo) -> str:
    if not a.ok:
        return f"failed ({a.method})" if a.method not in ("", "none") else "failed"
    return f"{a.method}, quality {a.quality:.2f}" + (f", {a.inliers} points" if a.inliers else "")


class MetricsPanel(QWidget):
    """Form of metrics for the whole compared area plus a box for one clicked patch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(280)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)

        self.reading = QLabel(DASH, self)
        self.reading.setObjectName("reading")
        self.reading.setWordWrap(True)
        self.reading.setStyleSheet("font-size: 13pt; font-weight: 600; padding: 6px 2px;")
        self.reading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.reading)

        box = QGroupBox("Watched area (or whole overlap)", self)
        self.form = QFormLayout(box)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.fields: dict[str, QLabel] = {}
        for key, label in (
            ("patch_dL", "Darkened patches ΔL*"),
            ("dL", "Mean ΔL*"),
            ("db", "Mean Δb*"),
            ("dita", "Mean ΔITA°"),
            ("ita", "ITA class"),
            ("de", "ΔE2000"),
            ("area", "Darkened area"),
            ("patches", "Patches"),
            ("noise", "Noise (ΔL*)"),
            ("limit", "Would be seen"),
            ("calibration", "Calibration"),
            ("alignment", "Alignment"),
        ):
            value = QLabel(DASH, box)
            value.setToolTip(FIELD_TIPS.get(key, ""))
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self.fields[key] = value
            self.form.addRow(label, value)
        lay.addWidget(box)

        self.patch_box = QGroupBox("Selected patch", self)
        pform = QFormLayout(self.patch_box)
        self.patch_fields: dict[str, QLabel] = {}
        for key, label in (
            ("area", "Area"),
            ("mean", "Mean ΔL*"),
            ("min", "Min ΔL*"),
            ("db", "Mean Δb*"),
            ("kind", "Kind"),
        ):
            value = QLabel(DASH, self.patch_box)
            self.patch_fields[key] = value
            pform.addRow(label, value)
        self.patch_box.setVisible(False)
        lay.addWidget(self.patch_box)

        hint = QLabel(
            "Colour measurements of your photos, not a diagnosis. "
            "Grey-blue: L* and b* fall together; brown: L* falls, b* rises.",
            self,
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #6b6b6b; font-size: 8.5pt;")
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        lay.addWidget(line)
        lay.addWidget(hint)
        lay.addStretch(1)

    def set_result(
        self,
        change: ChangeResult | None,
        alignment: AlignmentInfo,
        calibration: str,
        *,
        threshold_l: float = DEFAULT_THRESHOLD_L,
        noise_k: float = DEFAULT_NOISE_K,
    ) -> None:
        f = self.fields
        f["alignment"].setText(alignment_text(alignment))
        f["calibration"].setText(calibration)
        self.patch_box.setVisible(False)
        if change is None:
            self.reading.setText(
                "No measurement: the photos could not be aligned." if not alignment.ok else DASH
            )
            for key in ("patch_dL", "dL", "db", "dita", "ita", "de", "area", "patches", "noise", "limit"):
                f[key].setText(DASH)
            return
        text = reading(change, threshold_l=threshold_l, noise_k=noise_k)
        self.reading.setText(text[:1].upper() + text[1:] + ".")
        depth = patch_delta_l(change)
        f["patch_dL"].setText(_num(depth, "L*") if depth is not None else "none")
        f["dL"].setText(_num(change.mean_delta_L, "L*"))
        f["db"].setText(_num(change.mean_delta_b, "b*"))
        f["dita"].setText(_num(change.mean_delta_ita, "°"))
        before, after, cb, ca = ita_before_after(change)
        f["ita"].setText(f"{cb} → {ca}" + (f"  ({before:.0f}° → {after:.0f}°)" if before and after else ""))
        f["de"].setText(_num(change.mean_delta_e2000, signed=False))
        px = int(change.darkened_area_px or 0)
        mm2 = change.darkened_area_mm2
        frac = change.darkened_fraction
        area = f"{px:,} px"
        if mm2 is not None:
            area += f"  ({format_area(mm2, px, None)})"
        elif frac is not None:
            area += f"  ({formatting.number(100 * float(frac), 2)} %)"
        f["area"].setText(area)
        f["patches"].setText(str(len(change.patches)))
        f["noise"].setText(_num(change.noise_delta_L, "L*", signed=False, decimals=2))
        f["limit"].setText("\n".join(detection_limit_lines(change)) or DASH)

    def show_patch(self, patch: Patch | Mapping[str, Any]) -> None:
        p = self.patch_fields
        px = int(patch_value(patch, "area_px", 0) or 0)
        mm2 = patch_value(patch, "area_mm2")
        p["area"].setText(f"{px:,} px" + (f"  ({formatting.area(mm2)})" if mm2 is not None else ""))
        p["mean"].setText(_num(patch_value(patch, "mean_delta_L"), "L*"))
        p["min"].setText(_num(patch_value(patch, "min_delta_L"), "L*"))
        p["db"].setText(_num(patch_value(patch, "mean_delta_b"), "b*"))
        p["kind"].setText(str(patch_value(patch, "kind", DASH)))
        self.patch_box.setVisible(True)
