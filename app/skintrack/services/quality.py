"""Capture quality and chart calibration of photo files: shared by the CLI, the import and the GUI.

Thresholds live in the library's settings (key ``SETTING_KEY``, a JSON object of
:class:`~skintrack.core.quality.QualityThresholds` fields); without a library the documented
defaults apply.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from skintrack.core import charts
from skintrack.core.images import decode
from skintrack.core.quality import Prepared, QualityReport, QualityThresholds, assess_quality, prepare
from skintrack.library import Library

SETTING_KEY = "quality_thresholds"
DECODE_SIDE = 2048  # px: the checks work at 1024 px at most; a reduced decode is much faster


def thresholds_for(lib: Library | None) -> QualityThresholds:
    """The library's quality thresholds (defaults for missing keys), or the defaults."""
    if lib is None:
        return QualityThresholds()
    return QualityThresholds.from_json(lib.get_setting(SETTING_KEY))


def load_for_quality(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a photo reduced for the checks (InvalidInputError names the file when it cannot)."""
    return decode(Path(path), max_side=DECODE_SIDE).rgb


def prepare_reference(path: str | os.PathLike[str]) -> Prepared:
    """A reference photo prepared once, its chart looked for (card or ColorChecker)."""
    rgb = load_for_quality(path)
    return prepare(rgb, charts.chart_name(rgb))


def assess_file(
    path: str | os.PathLike[str],
    reference: str | os.PathLike[str] | Prepared | None = None,
    thresholds: QualityThresholds | None = None,
) -> QualityReport:
    """All quality checks of one photo file, against an optional reference (file or prepared)."""
    rgb = load_for_quality(path)
    ref = prepare_reference(reference) if isinstance(reference, str | os.PathLike) else reference
    return assess_quality(rgb, ref, thresholds, chart=charts.chart_name(rgb))


def calibrate_file(path: str | os.PathLike[str]) -> charts.ChartDetection | None:
    """The colour chart in a photo file, searched and sampled at full resolution."""
    return charts.detect_chart(decode(Path(path)).rgb)
