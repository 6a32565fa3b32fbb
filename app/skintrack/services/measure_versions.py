"""The version string of a stored measurement: algorithm versions and a digest of its inputs.

A stored measurement whose version differs from the one computed now is stale.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from skintrack.core import align as align_mod
from skintrack.core import card as card_mod
from skintrack.core import change as change_mod
from skintrack.core import charts
from skintrack.core.change import ChangeSettings
from skintrack.core.chart_data import colorchecker_linear
from skintrack.library.models import Region
from skintrack.library.settings import settings_digest_basis

MEASURE_VERSION = "measure-2"


def calibration_version() -> str:
    """A digest of what chart calibration depends on: layouts, target colours, detector limits."""
    basis = {
        "patches": [[p.name, list(p.srgb), list(p.rect_mm)] for p in card_mod.PATCHES],
        "size": list(card_mod.CARD_SIZE_MM),
        "dictionary": int(card_mod.ARUCO_DICT),
        "detector": [
            card_mod.MIN_MARKERS,
            card_mod.PATCH_SAMPLE_FRACTION,
            card_mod.MASK_MARGIN_MM,
            card_mod.CLIP_LEVEL,
        ],
        "colorchecker": [
            np.round(colorchecker_linear(), 6).tolist(),
            charts.MAX_MCC_COST,
            charts.MIN_FIT_PATCHES,
            charts.MCC_SIDE,
        ],
    }
    return "card-" + hashlib.sha1(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:8]


def measurement_version(settings: ChangeSettings, region: Region) -> str:
    """Algorithm versions + a digest of everything else a measurement depends on.

    Covers every ChangeSettings field, the watched area and the control patch, and the card
    calibration; a stored measurement with another version string is stale.
    """
    basis = {
        "settings": settings_digest_basis(settings),
        "watched": region.watched_area,
        "control": region.control_area,
        "calibration": calibration_version(),
    }
    digest = hashlib.sha1(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()[:10]
    return f"{MEASURE_VERSION}/{align_mod.ALGORITHM_VERSION}/{change_mod.ALGORITHM_VERSION}/{digest}"
