"""Realism suite (issue 14 goals) on a small, fast subset; the full table is the benchmark
``tests/benchmarks/test_bench_realism.py``.

Two kinds of tests: the generator keeps its promises (clipping on most of the skin, hair at new
positions, exact ΔL*, tone-curve strength, displacement size, close-up scale, determinism), and
the real ``compare_files`` meets the goals on every variant: IoU >= 0.8 at ΔL* -5 and -8, >= 0.6
at -3, <= 0.5 % of the compared area flagged on no-change pairs. Goals today's engine misses are
strict xfails carrying the measured figure, so they fail (and must be un-marked) once it improves.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from realism import render, scoring, sources, variants
from skintrack.core import colour
from skintrack.demo import synth

HAVE_REAL = bool(sources.real_photo_paths())
needs_real = pytest.mark.skipif(not HAVE_REAL, reason=sources.MISSING_REAL)


def _scene(kind: str, index: int = 0) -> sources.Scene:
    return sources.real_scene(index) if kind == "real" else sources.synthetic_scene(index)


# --------------------------------------------------------------------------- the generator


@pytest.mark.parametrize("which", ["earlier", "later"])
def test_over_exposed_shot_clips_a_channel_on_half_the_skin(which: str) -> None:
    pair = variants.build(_scene("synthetic"), variants.VARIANTS[f"clip-{which}"])
    clipped = pair.info["clipped_reference" if which == "earlier" else "clipped_later"]
    other = pair.info["clipped_later" if which == "earlier" else "clipped_reference"]
    assert clipped >= 0.5
    assert other < 0.05
    photo = pair.reference if which == "earlier" else pair.later
    assert (photo.max(axis=2) >= 254).mean() >= 0.45  # still clipped after noise and encoding


def test_hair_is_redrawn_at_new_positions() -> None:
    scene = _scene("synthetic")
    pair = variants.build(scene, variants.VARIANTS["hair-moved"])
    assert pair.info["hair_shared"] < 0.1  # under a tenth of the later hair lies where earlier hair was
    a = variants.hair_map(scene.size, 1)
    b = variants.hair_map(scene.size, 2)
    assert 0.005 < (a > 0.5).mean() < 0.05 and not np.array_equal(a, b)


@pytest.mark.parametrize("kind", variants.KINDS)
@pytest.mark.parametrize("delta", variants.DELTAS)
def test_patch_has_the_stated_delta_L_and_b_direction(kind: str, delta: float) -> None:
    scene = _scene("synthetic")
    ref_cam, _ = variants.cameras(scene, variants.VARIANTS["plain"], 7)
    mask, _ = variants.patch_mask(scene, ref_cam, 0.08, 7, 0.12)
    later = synth.darken(scene.body, mask, synth.Darkening(delta, kind))
    core = mask > 0.999
    before, after = colour.linear_to_lab(scene.body[core]), colour.linear_to_lab(later[core])
    assert float(np.median(after[:, 0] - before[:, 0])) == pytest.approx(delta, abs=0.05)
    db = float(np.median(after[:, 2] - before[:, 2]))
    assert db > 0.5 * abs(delta) if kind == "brown" else db < -0.5 * abs(delta)


@pytest.mark.parametrize("strength", [-0.25, 0.25])
def test_tone_curve_strength_is_the_mid_tone_slope_change(strength: float) -> None:
    x = np.linspace(0, 1, 2001, dtype=np.float32)
    y = render.tone_curve(x, strength)
    slope = np.gradient(y, x)
    assert np.all(np.diff(y) > 0) and y[0] == 0 and y[-1] == pytest.approx(1, abs=1e-6)
    assert slope[1000] == pytest.approx(1 + strength, abs=1e-3)
    assert slope[5] == pytest.approx(1 - strength, abs=1e-2)


def test_non_rigid_displacement_is_smooth_and_2_to_3_px() -> None:
    d = render.displacement_field((560, 560), 2.5, 3)
    length = np.sqrt((d**2).sum(axis=2))
    assert 2.0 <= float(length.max()) <= 3.0 and float(np.percentile(length, 50)) > 0.3
    assert float(np.abs(np.diff(d, axis=0)).max()) < 0.05  # smooth: no tearing between neighbours


@pytest.mark.parametrize(
    ("variant", "zoom", "seen"),
    [
        ("close-up-2x", 2.0, (0.2, 0.3)),
        ("close-up-2.5x", 2.5, (0.12, 0.2)),
        ("overview-0.4x", 0.4, (0.97, 1.0)),
    ],
)
def test_close_ups_and_overviews_are_at_the_stated_scale(
    variant: str, zoom: float, seen: tuple[float, float]
) -> None:
    pair = variants.build(_scene("synthetic"), variants.VARIANTS[variant])
    scale = math.sqrt(abs(np.linalg.det(pair.h_later_to_reference[:2, :2])))
    assert scale == pytest.approx(1 / zoom, rel=0.01)
    assert seen[0] <= pair.footprint.mean() <= seen[1]  # share of the reference the later shot shows


def test_pairs_are_deterministic() -> None:
    scene = _scene("synthetic")
    v = variants.VARIANTS["repeat-shot"]
    a = variants.build(scene, v, synth.Darkening(-3, "brown"), 0.04)
    b = variants.build(scene, v, synth.Darkening(-3, "brown"), 0.04)
    assert np.array_equal(a.reference, b.reference) and np.array_equal(a.later, b.later)
    assert np.array_equal(a.truth, b.truth) and a.truth.any()


@needs_real
def test_real_scenes_are_skin_photos() -> None:
    scene = sources.real_scene(0)
    assert scene.kind == "real" and max(scene.size) <= sources.BODY_SIDE
    assert 0.05 < float(scene.body.mean()) < 0.9


def test_scorer_counts_excluded_truth_as_missed(tmp_path: Path) -> None:
    """A perfect result restricted to half the truth scores about half, not 1."""
    pair = variants.build(_scene("synthetic"), variants.VARIANTS["plain"], synth.Darkening(-8, "brown"), 0.1)
    s = scoring.score(pair, tmp_path, use_card=False)
    assert s.aligned and s.iou is not None and s.iou > 0.8
    ys = np.nonzero(pair.truth)[0]
    half = pair.truth.copy()
    half[: int(np.median(ys))] = False
    iou = float((half & pair.truth).sum() / (half | pair.truth).sum())
    assert iou == pytest.approx(0.5, abs=0.05)
    assert cv2.imread(str(next(tmp_path.glob("*_a.jpg")))).shape[:2] == pair.reference.shape[:2]


# --------------------------------------------------------------------------- the goals

Case = tuple[str, str, tuple[str, float] | None, float]
RING = -1.0  # radius of a case whose change is a ring around a pigmented spot (a spot growing)
CASES: list[Case] = []
for _name in variants.VARIANTS:
    CASES += [(_name, "real", None, 0.0), (_name, "real", ("brown", -5.0), 0.08)]
    CASES += [(_name, "synthetic", ("grey-blue", -5.0), 0.06)]
CASES += [
    ("plain", "real", ("grey-blue", -3.0), 0.10),
    ("plain", "real", ("brown", -8.0), 0.04),
    ("plain", "synthetic", ("brown", -3.0), 0.12),
    ("plain", "real", ("brown", -8.0), RING),
    ("non-rigid", "real", ("grey-blue", -8.0), RING),
]


def _case_id(case: Case) -> str:
    v, scene, change, radius = case
    size = "ring" if radius == RING else f"r{radius:.2f}"
    what = "none" if change is None else f"{change[0]}{change[1]:+.0f}-{size}"
    return f"{v}-{scene}-{what}"


# goals the engine misses, with the figure measured by ``pytest tests/unit/test_realism_suite.py -s``
SHORTFALLS: dict[str, str] = {
    "plain-real-brown-8-ring": "measured IoU 0.76, goal >= 0.8",
}


def _marked(case: Case) -> object:
    marks = [needs_real] if case[1] == "real" else []
    reason = SHORTFALLS.get(_case_id(case))
    if reason:
        marks.append(pytest.mark.xfail(strict=True, reason=reason))
    return pytest.param(case, id=_case_id(case), marks=marks)


@pytest.mark.parametrize("case", [_marked(c) for c in CASES])
def test_goal(case: Case, tmp_path: Path) -> None:
    variant, scene_kind, change, radius = case
    darkening = None if change is None else synth.Darkening(change[1], change[0])
    if radius == RING:  # the second real photo has a pigmented spot near its centre
        scene = _scene(scene_kind, 1 if scene_kind == "real" else 0)
        pair = variants.build(scene, variants.VARIANTS[variant], darkening, shape="ring")
    else:
        pair = variants.build(_scene(scene_kind), variants.VARIANTS[variant], darkening, radius)
    s = scoring.score(pair, tmp_path, use_card=False)
    print(f"\n{_case_id(case)}: {scoring.format_score(s)}")
    assert s.aligned, s.message
    if darkening is None:
        assert s.false_alarm <= scoring.FALSE_ALARM_GOAL
    else:
        assert s.iou is not None and s.iou >= scoring.IOU_GOAL[darkening.delta_L]


# pairs of the benchmark on a named real photo, each a phenomenon that once defeated the engine
PHOTO_CASES = [
    # hair redrawn in the later shot beside the reference's hair: bands along hair are no "rim of a spot"
    pytest.param("hair-moved", 1, ("brown", -8.0), 0.04, id="hair-moved-photo1-brown-8-r0.04"),
    # pen strokes in the later shot only, on hairy skin
    pytest.param("pen-marks", 4, ("brown", -8.0), 0.02, id="pen-marks-photo4-brown-8-r0.02"),
    # an overview at 0.4x warped onto a close-up: compared at the coarser photo's resolution
    pytest.param("overview-0.4x", 5, ("brown", -3.0), 0.04, id="overview-photo5-brown-3-r0.04"),
]


@needs_real
@pytest.mark.parametrize(("variant", "photo", "change", "radius"), PHOTO_CASES)
def test_goal_on_photo(
    variant: str, photo: int, change: tuple[str, float], radius: float, tmp_path: Path
) -> None:
    darkening = synth.Darkening(change[1], change[0])
    pair = variants.build(sources.real_scene(photo), variants.VARIANTS[variant], darkening, radius)
    s = scoring.score(pair, tmp_path, use_card=False)
    print(f"\n{pair.name}: {scoring.format_score(s)}")
    assert s.aligned, s.message
    assert s.iou is not None and s.iou >= scoring.IOU_GOAL[darkening.delta_L]
