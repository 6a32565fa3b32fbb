"""An X-Rite ColorChecker in the frame calibrates a measurement the way Skintrack's own card does."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from skintrack.core import chart_data
from skintrack.core.colour import linear_to_srgb
from skintrack.demo import synth
from skintrack.services import pipeline
from skintrack.services.analysis import compare_files
from support.charts import render_colorchecker

DAYLIGHT = np.eye(3) * 0.85
WARM = np.diag([1.25, 1.0, 0.62]) * 0.7


def _photo(path: Path, light: np.ndarray, skin_gain: float) -> Path:
    """Skin (scaled by ``skin_gain``: a uniform darkening below 1) and a ColorChecker, one light."""
    skin = synth.make_skin((1400, 1000), seed=4)[:900, :1300] * skin_gain
    patches = np.clip(chart_data.colorchecker_linear(), 0, 1) @ light.T
    chart = render_colorchecker(patches)
    photo = np.clip(skin @ light.T, 0, 1)
    ch, cw = chart.shape[:2]
    photo[60 : 60 + ch, 700 : 700 + cw] = chart
    srgb = np.clip(np.round(linear_to_srgb(np.clip(photo, 0, 1)) * 255), 0, 255).astype(np.uint8)
    cv2.imwrite(str(path), cv2.cvtColor(srgb, cv2.COLOR_RGB2BGR))
    return path


def test_colorchecker_is_the_pipelines_calibration(tmp_path: Path) -> None:
    ref = _photo(tmp_path / "ref.png", DAYLIGHT, 1.0)
    rgb = cv2.cvtColor(cv2.imread(str(ref)), cv2.COLOR_BGR2RGB)
    det = pipeline.detect_calibration(rgb)
    assert det is not None and det.kind == "colorchecker-classic"


def test_uniform_darkening_under_other_light_is_measured_through_the_colorchecker(tmp_path: Path) -> None:
    ref = _photo(tmp_path / "ref.png", DAYLIGHT, 1.0)
    same = _photo(tmp_path / "same.png", WARM, 1.0)
    darker = _photo(tmp_path / "darker.png", WARM, 0.8)
    unchanged = compare_files(ref, same)
    changed = compare_files(ref, darker)
    assert unchanged.change is not None and changed.change is not None
    assert unchanged.change.calibration == "card" and changed.change.calibration == "card"
    assert unchanged.change.uniform_change_measurable
    # linear skin x 0.8 lowers L* by about 5-8 units on this skin; the warm light alone does not
    assert abs(unchanged.change.mean_delta_L) < 1.5
    assert changed.change.mean_delta_L < -4.0
