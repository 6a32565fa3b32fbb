"""Where and how much the skin got darker between two aligned photos.

Input: the reference photo and the later photo already warped into the reference geometry
(float32 sRGB 0..1, same size), the mask of pixels both photos cover, and optional watched area
(ROI), control patch and calibration card. Output: a :class:`ChangeResult` with ΔL*, Δb* maps,
a darkened mask, patches with statistics and an honest noise figure (DESIGN.md, "Measurement
definitions").

The steps, each a module with its own tests (the driver is :func:`compare_aligned`):

- ``prepare``: sRGB -> linear at the analysis resolution, light smoothing; clipped channels (per
  photo: censored, not dropped) and specular highlights.
- ``thin`` (hair, pen marks: ``core.thin_structures``) and ``registration`` (bounded dense
  refinement for curved skin: ``core.refine``).
- ``calibration``: card -> control patch -> illumination model -> none, strongest first; with the
  model, ``tone`` removes a phone's tone curve and saturation change when it helps.
- ``maps``: CIELAB, ΔL*/Δb* over the compared pixels (lightness from the unclipped channels where
  one clipped; a bound on darkening where the earlier photo clipped), filled in under hair lines.
- ``noise``: robust spread of ΔL* on unchanged skin and the per-pixel threshold max(T, k·noise).
- ``detection`` (per pixel, hysteresis) and ``scales`` (size-aware: the measured noise of a
  patch's mean against its area, so a larger patch is found at a smaller ΔL*).
- ``patches``: split by pigment kind (grey-blue / brown / neutral), statistics and outlines.
- ``coverage``: the compared share of the watched area, what was left out and why, warnings.
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
