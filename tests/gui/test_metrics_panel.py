"""The compare window's metrics panel states the stored detection limits in words and units."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from skintrack.core.change import compare_aligned
from skintrack.ui.compare.metrics_panel import MetricsPanel
from skintrack.ui.compare.source import AlignmentInfo

pytestmark = pytest.mark.gui

ALIGNED = AlignmentInfo(True, 0.9, "features", 300, "")


def _change(**extra: object) -> SimpleNamespace:
    """The fields of a ChangeResult the panel reads, without its pixel arrays."""
    base = dict(
        calibration="model",
        darkened_fraction=0.0,
        darkened_area_px=0,
        darkened_area_mm2=None,
        mean_delta_L=-0.1,
        mean_delta_b=0.0,
        mean_delta_ita=0.0,
        mean_delta_e2000=0.4,
        noise_delta_L=0.4,
        uniform_change_measurable=False,
        patches=[],
        ref_lab_mean=(62.0, 11.0, 17.0),
        later_lab_mean=(62.0, 11.0, 17.0),
        ref_ita=None,
        later_ita=None,
        ref_ita_class=None,
        later_ita_class=None,
        detection_limit_L={},
    )
    base.update(extra)
    return SimpleNamespace(**base)


def test_limits_with_a_scale_are_in_cm2(qtbot) -> None:
    panel = MetricsPanel()
    qtbot.addWidget(panel)
    limits = {"0.25 cm2": -2.4, "1 cm2": -1.2, "4 cm2": None}
    panel.set_result(_change(detection_limit_L=limits), ALIGNED, "model")
    text = panel.fields["limit"].text()
    assert "a 1.0 cm² patch darker by 1.2 L* would be seen" in text
    assert "a 25.0 mm² patch darker by 2.4 L* would be seen" in text
    assert "4.0 cm²" not in text  # no limit for an area larger than the compared skin


def test_limits_without_a_scale_are_shares_of_the_watched_area(qtbot) -> None:
    panel = MetricsPanel()
    qtbot.addWidget(panel)
    panel.set_result(_change(detection_limit_L={"0.1 %": -3.0, "10 %": -1.5}), ALIGNED, "model")
    lines = panel.fields["limit"].text().splitlines()
    assert lines == [
        "a patch of 0.1 % of the watched area darker by 3.0 L* would be seen",
        "a patch of 10 % of the watched area darker by 1.5 L* would be seen",
    ]


def test_limits_come_from_a_real_measurement(qtbot) -> None:
    """A real ChangeResult carries the limits the panel shows; no result shows a dash."""
    rng = np.random.default_rng(3)
    skin = np.clip(0.6 + rng.normal(0, 0.01, (160, 160, 3)), 0, 1).astype(np.float32)
    result = compare_aligned(skin, skin.copy(), np.ones((160, 160), bool))
    panel = MetricsPanel()
    qtbot.addWidget(panel)
    panel.set_result(result, ALIGNED, result.calibration)
    shown = [v for v in result.detection_limit_L.values() if v is not None]
    assert shown and panel.fields["limit"].text().count("would be seen") == len(shown)
    panel.set_result(None, ALIGNED, "model")
    assert panel.fields["limit"].text() == "—"
