"""Where and how much the skin got darker between two aligned photos.

Input: the reference photo and the later photo already warped into the reference geometry
(float32 sRGB 0..1, same size), the mask of pixels both photos cover, and optional watched area
(ROI), control patch and calibration card. Output: a :class:`ChangeResult` with ΔL*, Δb* maps,
a darkened mask, patches with statistics and an honest noise figure (DESIGN.md, "Measurement
definitions").

The steps, each a module with its own tests (the driver is :func:`compare_aligned`):

- ``prepare``: sRGB -> linear at the analysis resolution, light smoothing; clipped and specular pixels.
- ``calibration``: card -> control patch -> illumination model -> none, strongest first.
- ``maps``: CIELAB, ΔL*/Δb* over the compared pixels, mean changes.
- ``noise``: robust spread of ΔL* on unchanged skin and the threshold max(T, k·noise).
- ``detection``: core pixels, hysteresis growth, clean-up, minimum area.
- ``patches``: split by pigment kind (grey-blue / brown / neutral), statistics and outlines.
"""

from skintrack.core.change.compare import compare_aligned
from skintrack.core.change.result import CardCalibration, ChangeResult, Patch
from skintrack.core.change.settings import (
    ALGORITHM_VERSION,
    CALIBRATIONS,
    CLIP_SRGB,
    HIGHLIGHT_L,
    KIND_DELTA_B,
    MIN_CONTROL_PX,
    ChangeSettings,
    setting_fields,
)
from skintrack.core.heatmap import HEATMAP_CLIP_L, diverging_colours, heatmap_image

__all__ = [
    "ALGORITHM_VERSION",
    "CALIBRATIONS",
    "CLIP_SRGB",
    "HEATMAP_CLIP_L",
    "HIGHLIGHT_L",
    "KIND_DELTA_B",
    "MIN_CONTROL_PX",
    "CardCalibration",
    "ChangeResult",
    "ChangeSettings",
    "Patch",
    "compare_aligned",
    "diverging_colours",
    "heatmap_image",
    "setting_fields",
]
