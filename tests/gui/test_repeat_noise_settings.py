"""The repeat-shot factor k (threshold >= k x repeat noise) is edited in Preferences and stored."""

from __future__ import annotations

from typing import Any

import pytest

from skintrack.core.change import ChangeSettings
from skintrack.ui.preferences import (
    Preferences,
    PreferencesDialog,
    load_analysis_settings,
    save_analysis_settings,
)

pytestmark = pytest.mark.gui


def test_repeat_noise_factor_is_edited_and_stored(qtbot: Any, make_library: Any) -> None:
    lib = make_library({})
    dlg = PreferencesDialog(Preferences(), load_analysis_settings(lib))
    qtbot.addWidget(dlg)
    assert dlg.repeat_k_spin.value() == ChangeSettings().repeat_noise_k
    dlg.repeat_k_spin.setValue(2.5)
    edited = dlg.analysis_settings()
    assert edited.repeat_noise_k == 2.5 and edited.noise_k == ChangeSettings().noise_k
    assert save_analysis_settings(lib, edited)
    assert lib.get_setting("repeat_noise_k") == 2.5
    assert load_analysis_settings(lib).repeat_noise_k == 2.5
    dlg.restore_defaults()
    assert dlg.repeat_k_spin.value() == ChangeSettings().repeat_noise_k
