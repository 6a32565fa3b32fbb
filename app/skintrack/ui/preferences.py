"""Preferences: a typed, versioned schema in QSettings, plus the analysis settings kept in the library.

Two stores, on purpose:
- :class:`Preferences` (theme, ghost opacity, library location) belong to the user of this
  computer: QSettings group ``preferences`` with ``schema_version`` and forward migrations.
- The measurement settings (``core.change.ChangeSettings``: darkening threshold, noise factor,
  minimum patch area) change what a measurement means, so they live in the library and travel
  with its backups; ``library.settings`` loads and saves them for the CLI, the GUI and exports.
Window geometry and splitter sizes are kept apart in the ``window`` group (:class:`WindowState`).
Tests point QSettings at a temporary INI file with the ``SKINTRACK_SETTINGS`` environment variable.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from skintrack import APP_NAME, ORG_NAME
from skintrack.core.change import ChangeSettings
from skintrack.library.db import Library
from skintrack.library.settings import defaults, load_settings, save_settings
from skintrack.ui.theme import THEMES

SETTINGS_ENV = "SKINTRACK_SETTINGS"
SCHEMA_VERSION = 2
GROUP = "preferences"
WINDOW_GROUP = "window"


def qsettings() -> QSettings:
    """The app's QSettings: an INI file named by ``SKINTRACK_SETTINGS`` (tests) or the user scope."""
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG_NAME, APP_NAME)


@dataclass
class Preferences:
    """Per-user preferences; defaults here are the single source of truth."""

    library_dir: str = ""  # empty: --library, SKINTRACK_LIBRARY or the platform default
    theme: str = "system"  # system | light | dark
    ghost_opacity: float = 0.4  # camera overlay of the reference photo, 0..1

    def normalised(self) -> Preferences:
        theme = self.theme if self.theme in THEMES else "system"
        opacity = min(1.0, max(0.0, float(self.ghost_opacity)))
        return Preferences(str(self.library_dir or ""), theme, opacity)


def _migrate(values: dict[str, Any], version: int) -> dict[str, Any]:
    """Forward migrations, one step per schema version."""
    if version < 2 and "dark_mode" in values:  # v1 stored a boolean
        values["theme"] = "dark" if str(values.pop("dark_mode")).lower() in ("true", "1") else "system"
    return values


def load_preferences(settings: QSettings | None = None) -> Preferences:
    s = settings or qsettings()
    s.beginGroup(GROUP)
    try:
        version = int(s.value("schema_version", SCHEMA_VERSION) or SCHEMA_VERSION)
        values = {key: s.value(key) for key in s.childKeys() if key != "schema_version"}
    finally:
        s.endGroup()
    values = _migrate(values, version)
    defaults = Preferences()
    kwargs: dict[str, Any] = {}
    for f in fields(Preferences):
        raw = values.get(f.name)
        if raw is None:
            continue
        default = getattr(defaults, f.name)
        try:
            kwargs[f.name] = type(default)(raw)
        except (TypeError, ValueError):
            continue  # a hand-edited bad value falls back to the default
    return Preferences(**kwargs).normalised()


def save_preferences(prefs: Preferences, settings: QSettings | None = None) -> None:
    s = settings or qsettings()
    s.beginGroup(GROUP)
    s.setValue("schema_version", SCHEMA_VERSION)
    for key, value in asdict(prefs.normalised()).items():
        s.setValue(key, value)
    s.endGroup()
    s.sync()


AnalysisSettings = ChangeSettings  # the one schema of the settings that change measurements


def load_analysis_settings(lib: Library) -> ChangeSettings:
    return load_settings(lib)


def save_analysis_settings(lib: Library, values: ChangeSettings) -> bool:
    """Store changed values; True when something changed (measurements should be redone)."""
    return save_settings(lib, values)


class WindowState:
    """Geometry, window state, splitter sizes and the last region: never mixed with preferences."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.s = settings or qsettings()

    def _key(self, name: str) -> str:
        return f"{WINDOW_GROUP}/{name}"

    def save_bytes(self, name: str, data: QByteArray) -> None:
        self.s.setValue(self._key(name), data)

    def load_bytes(self, name: str) -> QByteArray | None:
        value = self.s.value(self._key(name))
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_value(self, name: str, value: Any) -> None:
        self.s.setValue(self._key(name), value)

    def load_int(self, name: str) -> int | None:
        value = self.s.value(self._key(name))
        try:
            return None if value in (None, "") else int(value)
        except (TypeError, ValueError):
            return None

    def load_int_list(self, name: str) -> list[int] | None:
        value = self.s.value(self._key(name))
        if not value:
            return None
        if isinstance(value, str):
            value = [value]
        try:
            return [int(v) for v in value]
        except (TypeError, ValueError):
            return None

    def sync(self) -> None:
        self.s.sync()


def _spin(
    parent: QWidget,
    name: str,
    limits: tuple[float, float],
    step: float,
    decimals: int,
    suffix: str,
    value: float,
) -> QDoubleSpinBox:
    """A number field of the preferences: its range, step, precision and unit, set to ``value``."""
    spin = QDoubleSpinBox(parent)
    spin.setObjectName(name)
    spin.setRange(*limits)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    spin.setValue(value)
    return spin


def _explain(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setProperty("role", "hint")
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.92)
    label.setFont(font)
    label.setForegroundRole(label.foregroundRole())
    return label


class PreferencesDialog(QDialog):
    """Library location, measurement thresholds (explained), theme, ghost opacity."""

    themeChanged = Signal(str)

    def __init__(self, prefs: Preferences, analysis: ChangeSettings | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setObjectName("preferencesDialog")
        self.prefs = prefs
        lay = QVBoxLayout(self)

        general = QGroupBox("General", self)
        form = QFormLayout(general)
        row = QHBoxLayout()
        self.library_edit = QLineEdit(prefs.library_dir, general)
        self.library_edit.setPlaceholderText("default location")
        self.library_edit.setObjectName("libraryEdit")
        browse = QPushButton("Choose…", general)
        browse.clicked.connect(self._browse)
        row.addWidget(self.library_edit, 1)
        row.addWidget(browse)
        form.addRow("Library folder", row)
        form.addRow("", _explain("Where photos and measurements are kept. Takes effect now.", general))
        self.theme_combo = QComboBox(general)
        self.theme_combo.setObjectName("themeCombo")
        for t in THEMES:
            self.theme_combo.addItem(t.capitalize(), t)
        self.theme_combo.setCurrentIndex(max(0, THEMES.index(prefs.theme) if prefs.theme in THEMES else 0))
        form.addRow("Theme", self.theme_combo)
        self.ghost_slider = QSlider(Qt.Orientation.Horizontal, general)
        self.ghost_slider.setObjectName("ghostSlider")
        self.ghost_slider.setRange(0, 100)
        self.ghost_slider.setValue(round(prefs.ghost_opacity * 100))
        self.ghost_label = QLabel(general)
        self.ghost_slider.valueChanged.connect(lambda v: self.ghost_label.setText(f"{v} %"))
        self.ghost_label.setText(f"{self.ghost_slider.value()} %")
        grow = QHBoxLayout()
        grow.addWidget(self.ghost_slider, 1)
        grow.addWidget(self.ghost_label)
        form.addRow("Ghost opacity", grow)
        form.addRow(
            "", _explain("How strongly the camera shows the reference photo to help you frame.", general)
        )
        lay.addWidget(general)

        self.analysis_box = QGroupBox("Measurements (stored in this library)", self)
        aform = QFormLayout(self.analysis_box)
        a = analysis or defaults()
        d = defaults()
        self._analysis = a
        box = self.analysis_box
        self.threshold_spin = _spin(box, "thresholdSpin", (0.5, 20.0), 0.5, 1, " L*", a.threshold_L)
        aform.addRow("Darkening threshold", self.threshold_spin)
        aform.addRow(
            "",
            _explain(
                f"Default {d.threshold_L:g} L*. A spot counts as darker when its lightness fell by at "
                "least this much (or by the noise factor times the photo noise, whichever is larger). "
                "About 2–3 L* is the smallest change most people can see.",
                self.analysis_box,
            ),
        )
        self.noise_k_spin = _spin(box, "noiseKSpin", (1.0, 10.0), 0.5, 1, " × noise", a.noise_k)
        aform.addRow("Noise factor", self.noise_k_spin)
        aform.addRow(
            "",
            _explain(
                f"Default {d.noise_k:g}. In a noisy pair (blur, a different camera) a spot must be darker "
                "than this many times the measured noise to count.",
                self.analysis_box,
            ),
        )
        self.repeat_k_spin = _spin(
            box, "repeatKSpin", (1.0, 10.0), 0.5, 1, " × repeat noise", a.repeat_noise_k
        )
        aform.addRow("Repeat-shot factor", self.repeat_k_spin)
        aform.addRow(
            "",
            _explain(
                f"Default {d.repeat_noise_k:g}. With two shots in one check-in, a spot must be darker than "
                "this many times how much the two shots differ (your set-up's own noise).",
                self.analysis_box,
            ),
        )
        self.area_pct_spin = _spin(
            box, "areaPercentSpin", (0.0, 10.0), 0.01, 3, " %", a.min_area_fraction * 100.0
        )
        aform.addRow("Minimum patch area", self.area_pct_spin)
        self.area_mm_spin = _spin(box, "areaMmSpin", (0.0, 1000.0), 1.0, 1, " mm²", a.min_area_mm2)
        aform.addRow("… with a calibration card", self.area_mm_spin)
        aform.addRow(
            "",
            _explain(
                f"Defaults {100 * d.min_area_fraction:g} % of the compared area, or {d.min_area_mm2:g} mm² "
                "when a calibration card gives the scale. Smaller darker spots are treated as noise "
                "(hair, pores, shadows). Changing these redoes the measurements.",
                self.analysis_box,
            ),
        )
        self.analysis_box.setEnabled(analysis is not None)
        lay.addWidget(self.analysis_box)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        self.buttons = buttons
        lay.addWidget(buttons)
        self.setMinimumWidth(520)

    @Slot()
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Library folder", self.library_edit.text())
        if folder:
            self.library_edit.setText(folder)

    @Slot()
    def restore_defaults(self) -> None:
        p, a = Preferences(), defaults()
        self._analysis = a
        self.theme_combo.setCurrentIndex(THEMES.index(p.theme))
        self.ghost_slider.setValue(round(p.ghost_opacity * 100))
        self.threshold_spin.setValue(a.threshold_L)
        self.noise_k_spin.setValue(a.noise_k)
        self.repeat_k_spin.setValue(a.repeat_noise_k)
        self.area_pct_spin.setValue(a.min_area_fraction * 100)
        self.area_mm_spin.setValue(a.min_area_mm2)

    def preferences(self) -> Preferences:
        text = self.library_edit.text().strip()
        return Preferences(
            library_dir=str(Path(text).expanduser()) if text else "",
            theme=str(self.theme_combo.currentData()),
            ghost_opacity=self.ghost_slider.value() / 100.0,
        ).normalised()

    def analysis_settings(self) -> ChangeSettings:
        """The settings shown, edited; settings without a widget keep their stored values."""
        return replace(
            self._analysis,
            threshold_L=round(self.threshold_spin.value(), 3),
            noise_k=round(self.noise_k_spin.value(), 3),
            repeat_noise_k=round(self.repeat_k_spin.value(), 3),
            min_area_fraction=round(self.area_pct_spin.value() / 100.0, 8),
            min_area_mm2=round(self.area_mm_spin.value(), 3),
        )
