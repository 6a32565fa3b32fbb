"""The ``compare --json`` contract (DESIGN.md): one definition of its keys for code and tests.

``ChangeResult.to_json`` and the pipeline build these dicts (with documented extras such as
``compared_fraction`` and ``warnings``); the keys below are the ones every consumer may rely on.
"""

from __future__ import annotations

from typing import TypedDict


class AlignmentJSON(TypedDict):
    """How the later photo was registered onto the reference (``Alignment.to_json``); ``compare``
    adds ``refinement`` when the local refinement ran."""

    ok: bool
    homography: list[list[float]] | None  # moving -> reference pixels
    quality: float
    method: str  # "features" | "ecc" | "card" | "manual" | "none"
    inliers: int
    message: str


class PatchJSON(TypedDict):
    """One darkened patch: areas in reference px (mm² with a scale), geometry, mean changes."""

    area_px: float
    area_mm2: float | None
    bbox: list[int]  # x, y, w, h
    centroid: list[float]  # x, y
    mean_delta_L: float
    min_delta_L: float
    mean_delta_b: float
    mean_delta_ita: float


class CompareJSON(TypedDict):
    """A measured (or unmeasurable: every figure null) pair as ``compare --json`` prints it."""

    alignment: AlignmentJSON
    calibration: str  # "card" | "control" | "model" | "none"
    darkened_fraction: float | None
    darkened_area_px: float | None
    darkened_area_mm2: float | None  # null without a scale
    mean_delta_L: float | None
    mean_delta_b: float | None
    mean_delta_ita: float | None
    mean_delta_e2000: float | None
    noise_delta_L: float | None
    patches: list[PatchJSON]


ALIGNMENT_KEYS: frozenset[str] = frozenset(AlignmentJSON.__annotations__)
COMPARE_KEYS: frozenset[str] = frozenset(CompareJSON.__annotations__)
PATCH_KEYS: frozenset[str] = frozenset(PatchJSON.__annotations__)
# The figures of a measurement, in contract order: all null when a pair could not be measured.
FIGURE_KEYS: tuple[str, ...] = tuple(
    key for key in CompareJSON.__annotations__ if key not in ("alignment", "calibration", "patches")
)
