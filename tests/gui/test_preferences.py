"""Preferences: typed schema round trip, migration, bad values, library-stored analysis settings, dialog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox

from skintrack.ui import theme
from skintrack.ui.preferences import (
    SCHEMA_VERSION,
    AnalysisSettings,
    Preferences,
    PreferencesDialog,
    WindowState,
    load_analysis_settings,
    load_preferences,
    qsettings,
    save_analysis_settings,
    save_preferences,
)

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def test_defaults_and_round_trip(isolated_settings: Path) -> None:
    assert load_preferences() == Preferences()
    prefs = Preferences(library_dir="/tmp/lib", theme="dark", ghost_opacity=0.65)
    save_preferences(prefs)
    assert load_preferences() == prefs
    s = QSettings(str(isolated_settings), QSettings.Format.IniFormat)
    assert int(s.value("preferences/schema_version")) == SCHEMA_VERSION
    assert s.value("window/geometry") is None  # geometry lives apart from preferences


def test_bad_values_fall_back_and_are_clamped() -> None:
    s = qsettings()
    s.setValue("preferences/ghost_opacity", "lots")
    s.setValue("preferences/theme", "purple")
    s.sync()
    prefs = load_preferences()
    assert prefs.ghost_opacity == Preferences().ghost_opacity
    assert prefs.theme == "system"
    assert Preferences(ghost_opacity=3.0).normalised().ghost_opacity == 1.0


def test_migration_from_v1_dark_mode_flag() -> None:
    s = qsettings()
    s.setValue("preferences/schema_version", 1)
    s.setValue("preferences/dark_mode", "true")
    s.sync()
    assert load_preferences().theme == "dark"


def test_window_state_is_separate() -> None:
    ws = WindowState()
    ws.save_value("splitter", [1, 2, 3])
    ws.save_value("last_region", 7)
    ws.sync()
    again = WindowState()
    assert again.load_int_list("splitter") == [1, 2, 3]
    assert again.load_int("last_region") == 7
    assert again.load_bytes("geometry") is None
    assert load_preferences() == Preferences()


def test_analysis_settings_live_in_the_library(make_library: Any) -> None:
    lib = make_library({})
    assert load_analysis_settings(lib) == AnalysisSettings()
    assert not save_analysis_settings(lib, AnalysisSettings())  # nothing changed
    assert save_analysis_settings(
        lib, AnalysisSettings(threshold_L=2.5, min_area_fraction=0.001, min_area_mm2=4)
    )
    assert lib.get_setting("threshold_L") == 2.5
    assert lib.get_setting("min_area_fraction") == 0.001
    assert load_analysis_settings(lib).min_area_mm2 == 4.0


def test_dialog_round_trip_and_defaults(qtbot: Any) -> None:
    dlg = PreferencesDialog(Preferences(theme="light", ghost_opacity=0.3), AnalysisSettings(threshold_L=5.0))
    qtbot.addWidget(dlg)
    assert dlg.threshold_spin.value() == 5.0
    assert dlg.area_pct_spin.value() == pytest.approx(0.05)
    assert dlg.area_mm_spin.value() == 2.0
    assert "3 L*" in dlg.analysis_box.findChildren(type(dlg.ghost_label))[1].text() or any(
        "Default 3 L*" in w.text() for w in dlg.analysis_box.findChildren(type(dlg.ghost_label))
    )
    dlg.theme_combo.setCurrentIndex(dlg.theme_combo.findData("dark"))
    dlg.ghost_slider.setValue(80)
    dlg.library_edit.setText("~/skin")
    dlg.threshold_spin.setValue(4.0)
    dlg.area_pct_spin.setValue(0.1)
    assert dlg.preferences() == Preferences(str(Path("~/skin").expanduser()), "dark", 0.8)
    assert dlg.analysis_settings() == AnalysisSettings(threshold_L=4.0, min_area_fraction=0.001)
    qtbot.mouseClick(
        dlg.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults), Qt.MouseButton.LeftButton
    )
    assert dlg.analysis_settings() == AnalysisSettings()
    assert dlg.preferences().theme == "system"


def test_noise_factor_is_edited_stored_and_other_settings_kept(qtbot: Any, make_library: Any) -> None:
    lib = make_library({})
    lib.set_setting("illumination_degree", 1)  # a setting without a widget in the dialog
    dlg = PreferencesDialog(Preferences(), load_analysis_settings(lib))
    qtbot.addWidget(dlg)
    assert dlg.noise_k_spin.value() == AnalysisSettings().noise_k
    dlg.noise_k_spin.setValue(4.5)
    edited = dlg.analysis_settings()
    assert edited.noise_k == 4.5 and edited.illumination_degree == 1
    assert save_analysis_settings(lib, edited)
    assert lib.get_setting("noise_k") == 4.5
    assert load_analysis_settings(lib) == edited


def test_dialog_without_library_disables_measurements(qtbot: Any) -> None:
    dlg = PreferencesDialog(Preferences(), None)
    qtbot.addWidget(dlg)
    assert not dlg.analysis_box.isEnabled()


def test_preferences_through_main_window_switch_theme(qtbot: Any, main_window: Any) -> None:
    win = main_window({"Arm": 1})
    try:
        dlg = win.windows.open_preferences()
        dlg.theme_combo.setCurrentIndex(dlg.theme_combo.findData("dark"))
        dlg.area_mm_spin.setValue(3.0)
        qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
        assert theme.current() == "dark"
        assert theme.is_dark()
        assert load_preferences().theme == "dark"
        qtbot.waitUntil(lambda: "analyse" in win.statusBar().currentMessage(), timeout=5000)  # write pool
        assert win.lib.get_setting("min_area_mm2") == 3.0
    finally:
        theme.apply("system")


def test_changing_library_location_reopens(qtbot: Any, main_window: Any, tmp_path: Path) -> None:
    win = main_window({"Arm": 1})
    dlg = win.windows.open_preferences()
    other = tmp_path / "other-library"
    dlg.library_edit.setText(str(other))
    with qtbot.waitSignal(win.libraryChanged, timeout=5000) as blocker:
        qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert blocker.args == [other]
    assert win.lib.root == other and (other / "skintrack.sqlite3").exists()
    assert win.stack.currentWidget() is win.empty_state
    assert load_preferences().library_dir == str(other)
