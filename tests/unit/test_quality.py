"""Capture-quality checks on generated photos with known defects: each is caught at its threshold."""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import pytest

from skintrack.core import quality as q
from skintrack.core import quality_measures as qm
from skintrack.core.card import render_card_rgb
from skintrack.core.quality_types import grade
from skintrack.demo import synth

SIZE = (1024, 768)
T = q.QualityThresholds()


@pytest.fixture(scope="module")
def skin() -> np.ndarray:
    return synth.make_skin((1200, 900), seed=11)


def shot(skin: np.ndarray, *, seed: int = 5, pose: synth.Pose | None = None, **kw: object) -> np.ndarray:
    return synth.photograph(skin, pose or synth.Pose(), SIZE, seed=seed, **kw)[0]  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clean(skin: np.ndarray) -> np.ndarray:
    return shot(skin)


def test_clean_photo_passes_every_check(skin: np.ndarray, clean: np.ndarray) -> None:
    reference = shot(skin, seed=6)
    report = q.assess_quality(clean, reference)
    assert set(report.checks) == {
        "sharpness",
        "clipping",
        "exposure",
        "glare",
        "evenness",
        "colour_cast",
        "framing",
        "chart",
    }
    assert report.overall == "pass", {n: (c.score, c.status) for n, c in report.checks.items()}
    alone = q.assess_quality(clean)
    assert alone.overall == "pass" and "framing" not in alone.checks and "colour_cast" not in alone.checks


def test_json_shape(clean: np.ndarray) -> None:
    data = q.assess_quality(clean).to_json()
    assert data["overall"] in q.STATUSES
    for check in data["checks"].values():
        assert set(check) == {"score", "status", "advice"} and check["advice"].endswith(".")


@pytest.mark.parametrize(("sigma", "expected"), [(0.0, "pass"), (2.2, "warn"), (3.2, "fail")])
def test_blur_detected_at_threshold(skin: np.ndarray, sigma: float, expected: str) -> None:
    c = q.assess_quality(shot(skin, blur=sigma), chart_finder=None).checks["sharpness"]
    assert c.status == expected, c.score


def test_blur_index_grows_with_blur(skin: np.ndarray) -> None:
    values = [q.prepare(shot(skin, blur=s)).blur for s in (0.0, 1.0, 2.0, 3.0, 4.0)]
    assert all(b > a for a, b in itertools.pairwise(values)), values


def test_blur_relative_to_reference(skin: np.ndarray, clean: np.ndarray) -> None:
    ref = q.prepare(clean)
    assert q.assess_quality(shot(skin, seed=7), ref).checks["sharpness"].status == "pass"
    assert q.assess_quality(shot(skin, seed=7, blur=3.5), ref).checks["sharpness"].status == "fail"


def with_clipped_block(img: np.ndarray, fraction: float, channel: int) -> np.ndarray:
    out = img.copy()
    h, _w = out.shape[:2]
    rows = round(h * fraction)
    out[:rows, :, channel] = 255
    return out


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [(T.clipping_warn * 0.5, "pass"), (T.clipping_warn * 2, "warn"), (T.clipping_fail * 1.5, "fail")],
)
def test_clipping_detected_at_threshold(clean: np.ndarray, fraction: float, expected: str) -> None:
    c = q.assess_quality(with_clipped_block(clean, fraction, 0), chart_finder=None).checks["clipping"]
    assert c.status == expected and c.score == pytest.approx(fraction, rel=0.3, abs=0.002)
    if expected != "pass":
        assert "red channel" in c.advice and "clipped" in c.advice


def test_overexposed_skin_clips(skin: np.ndarray) -> None:
    c = q.assess_quality(shot(skin, exposure=2.6), chart_finder=None).checks["clipping"]
    assert c.status == "fail" and c.score > 0.3 and "Too bright" in c.advice


@pytest.mark.parametrize(("exposure", "expected"), [(1.0, "pass"), (0.01, "fail")])
def test_under_exposure(skin: np.ndarray, exposure: float, expected: str) -> None:
    c = q.assess_quality(shot(skin, exposure=exposure), chart_finder=None).checks["exposure"]
    assert c.status == expected, c.score


def test_crushed_fraction_at_threshold(clean: np.ndarray) -> None:
    for fraction, expected in [
        (T.crushed_warn * 0.5, "pass"),
        (T.crushed_warn * 1.5, "warn"),
        (T.crushed_fail * 1.3, "fail"),
    ]:
        img = clean.copy()
        img[: round(img.shape[0] * fraction)] = 0
        assert q.assess_quality(img, chart_finder=None).checks["exposure"].status == expected, fraction


def with_glare(img: np.ndarray, fraction: float, seed: int = 0) -> np.ndarray:
    """White discs of radius 6 px covering ``fraction`` of the frame."""
    out = img.copy()
    h, w = out.shape[:2]
    n = max(1, round(fraction * h * w / (math.pi * 36)))
    rng = np.random.default_rng(seed)
    for _ in range(n):
        cv2.circle(out, (int(rng.uniform(20, w - 20)), int(rng.uniform(20, h - 20))), 6, (255, 255, 255), -1)
    return out


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.0, "pass"), (T.glare_warn * 2, "warn"), (T.glare_fail * 2, "fail")]
)
def test_glare_detected_at_threshold(clean: np.ndarray, fraction: float, expected: str) -> None:
    img = with_glare(clean, fraction) if fraction else clean
    c = q.assess_quality(img, chart_finder=None).checks["glare"]
    assert c.status == expected, c.score


def test_evenly_bright_pale_skin_is_not_glare(skin: np.ndarray) -> None:
    pale = shot(skin, exposure=1.45)
    assert q.assess_quality(pale, chart_finder=None).checks["glare"].status == "pass"


def stops(gradient: float) -> float:
    return math.log2((1 + gradient / 2) / (1 - gradient / 2))


@pytest.mark.parametrize(("gradient", "expected"), [(0.1, "pass"), (0.4, "warn"), (0.75, "fail")])
def test_uneven_light_detected_at_threshold(skin: np.ndarray, gradient: float, expected: str) -> None:
    img = shot(skin, lighting=synth.Lighting(gradient=(gradient, 0.0)))
    c = q.assess_quality(img, chart_finder=None).checks["evenness"]
    assert c.status == expected and c.score == pytest.approx(stops(gradient), abs=0.12)
    if expected != "pass":
        assert "right" in c.advice  # the gradient brightens towards +x


def test_gradient_fit_ignores_a_dark_lesion(clean: np.ndarray) -> None:
    img = clean.copy()
    cv2.circle(img, (300, 300), 120, (40, 25, 20), -1)
    assert q.assess_quality(img, chart_finder=None).checks["evenness"].status == "pass"


def test_colour_cast_against_reference(skin: np.ndarray, clean: np.ndarray) -> None:
    ref = q.prepare(clean)
    same = q.assess_quality(shot(skin, seed=8), ref).checks["colour_cast"]
    assert same.status == "pass"
    warm = shot(skin, seed=8, lighting=synth.Lighting(white_balance=(1.12, 1.0, 0.82)))
    c = q.assess_quality(warm, ref).checks["colour_cast"]
    assert c.status == "fail" and c.score >= T.cast_fail and "warmer" in c.advice
    slight = shot(skin, seed=8, lighting=synth.Lighting(white_balance=(1.04, 1.0, 0.95)))
    c = q.assess_quality(slight, ref).checks["colour_cast"]
    assert c.status == grade(c.score, T.cast_warn, T.cast_fail) and c.score > same.score


def test_framing_checks(skin: np.ndarray, clean: np.ndarray) -> None:
    ref = q.prepare(clean)
    good = q.assess_quality(shot(skin, seed=9, pose=synth.Pose(shift=(8, -5))), ref).checks["framing"]
    assert good.status == "pass" and good.score > 0.95
    shifted = q.assess_quality(shot(skin, seed=9, pose=synth.Pose(shift=(260, 0))), ref).checks["framing"]
    assert shifted.status == "warn" and 0.6 < shifted.score < 0.85
    assert shifted.details["shift"][0] < -0.15 and "move the camera left" in shifted.advice
    far = q.assess_quality(shot(skin, seed=9, pose=synth.Pose(shift=(0, 420))), ref).checks["framing"]
    assert far.status == "fail"
    turned = q.assess_quality(shot(skin, seed=9, pose=synth.Pose(rotation=12)), ref).checks["framing"]
    assert turned.status == "warn" and turned.details["rotation_deg"] == pytest.approx(12, abs=1.5)
    closer = q.assess_quality(shot(skin, seed=9, pose=synth.Pose(scale=1.2)), ref).checks["framing"]
    assert closer.status == "warn" and closer.details["scale"] == pytest.approx(1.2, abs=0.03)
    assert "further away" in closer.advice


def test_framing_fails_on_other_skin(clean: np.ndarray) -> None:
    other = synth.photograph(synth.make_skin((1200, 900), seed=99), synth.Pose(), SIZE, seed=1)[0]
    c = q.assess_quality(other, q.prepare(clean)).checks["framing"]
    assert c.status == "fail"


def with_card(img: np.ndarray) -> np.ndarray:
    card = render_card_rgb(dpi=150, supersample=1)
    out = img.copy()
    out[40 : 40 + card.shape[0], 40 : 40 + card.shape[1]] = card
    return out


def test_chart_found_and_expected_from_reference(clean: np.ndarray, skin: np.ndarray) -> None:
    with_chart = q.assess_quality(with_card(clean)).checks["chart"]
    assert with_chart.status == "pass" and with_chart.details["chart"] == "skintrack-card"
    missing = q.assess_quality(shot(skin, seed=3), with_card(clean)).checks["chart"]
    assert missing.status == "warn" and "reference has one" in missing.advice
    optional = q.assess_quality(clean).checks["chart"]
    assert optional.status == "pass" and optional.score == 0.0


def test_overall_is_the_worst_and_record_round_trips(clean: np.ndarray) -> None:
    report = q.assess_quality(with_clipped_block(clean, 0.2, 0), chart_finder=None)
    assert report.overall == "fail" and report.problems()[0].name == "clipping"
    again = q.QualityReport.from_record(report.to_record())
    assert again.to_json() == report.to_json()


def test_thresholds_are_configurable(clean: np.ndarray) -> None:
    img = with_clipped_block(clean, 0.02, 0)
    assert q.assess_quality(img, chart_finder=None).checks["clipping"].status == "warn"
    strict = q.QualityThresholds(clipping_warn=0.001, clipping_fail=0.01)
    assert q.assess_quality(img, thresholds=strict, chart_finder=None).checks["clipping"].status == "fail"
    assert q.QualityThresholds.from_json(strict.to_json() | {"unknown": 1}) == strict


def test_float_input_and_bad_input(clean: np.ndarray) -> None:
    as_float = clean.astype(np.float32) / 255
    assert q.assess_quality(as_float, chart_finder=None).overall == "pass"
    with pytest.raises(ValueError):
        q.assess_quality(np.zeros((8, 8, 3), np.uint8))


def test_skin_mask_leaves_out_a_blue_background(clean: np.ndarray) -> None:
    img = clean.copy()
    img[:, : img.shape[1] // 3] = (40, 60, 160)
    mask = qm.skin_mask(img)
    assert mask[:, : img.shape[1] // 3].mean() < 0.01 and mask[:, img.shape[1] // 2 :].mean() > 0.9


def test_chart_search_and_framing_use_the_second_core_with_the_same_results(
    skin: np.ndarray, clean: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two slowest parts run beside the other checks on a second core; with one core they
    run in turn, and the report is the same either way."""
    import threading

    moved = shot(skin, seed=7, pose=synth.Pose(shift=(40.0, 10.0)))
    reference = q.prepare(with_card(clean))
    reference.chart = "skintrack-card"
    threads: list[str] = []

    def finder(mid: np.ndarray) -> str | None:
        threads.append(threading.current_thread().name)
        return q.find_card(mid)

    monkeypatch.setattr(q, "_CORES", 2)
    beside = q.assess_quality(with_card(moved), reference, chart_finder=finder)
    monkeypatch.setattr(q, "_CORES", 1)
    alone = q.assess_quality(with_card(moved), reference, chart_finder=finder)
    assert threads[0].startswith("skintrack-quality") and threads[1] == threading.current_thread().name
    assert beside.to_json() == alone.to_json()
    assert list(beside.checks) == list(alone.checks)
    assert beside.checks["chart"].status == "pass" and beside.checks["framing"].details["aligned"]


def test_framing_from_the_prepared_lightness_matches_a_fresh_conversion(
    skin: np.ndarray, clean: np.ndarray
) -> None:
    from skintrack.core.quality_framing import FramingTarget

    moved = q.prepare(shot(skin, seed=7, pose=synth.Pose(shift=(40.0, 10.0))))
    ref = q.prepare(clean)
    reused = FramingTarget(ref.small, ref.small_light).framing(moved.small, moved.small_light)
    fresh = FramingTarget(ref.small).framing(moved.small)
    assert reused == fresh and reused.aligned


def test_strong_uneven_light_is_stated_as_a_ratio_to_the_opposite_side(skin: np.ndarray) -> None:
    mild = q.assess_quality(shot(skin, lighting=synth.Lighting(gradient=(0.4, 0.0))), chart_finder=None)
    assert "% brighter than the left" in mild.checks["evenness"].advice
    strong = q.assess_quality(shot(skin, lighting=synth.Lighting(gradient=(1.4, 0.0))), chart_finder=None)
    advice = strong.checks["evenness"].advice
    assert " times as bright as the left" in advice and "%" not in advice


def test_framing_advice_names_both_directions_the_guide_points(skin: np.ndarray, clean: np.ndarray) -> None:
    ref = q.prepare(clean)
    diagonal = q.assess_quality(shot(skin, seed=9, pose=synth.Pose(shift=(200, 150))), ref).checks["framing"]
    dx, dy = diagonal.details["shift"]
    assert dx < 0 and dy < 0 and dx == pytest.approx(dy, abs=0.02)  # as far left as up: either order
    assert (
        "move the camera left and up" in diagonal.advice or "move the camera up and left" in diagonal.advice
    )
