"""The plain-language reading states measurements relative to noise and never diagnoses."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from skintrack.core.reading import (
    NO_CHANGE,
    NO_MEASUREMENT,
    UNIFORM_NOT_MEASURABLE,
    format_area,
    reading,
)

FORBIDDEN = ("melanoma", "cancer", "hyperpigmentation", "ochronosis", "diagnos", "disease", "kratom")


def _change(**kw: object) -> SimpleNamespace:
    base = dict(
        calibration="card",
        darkened_area_px=0,
        darkened_area_mm2=None,
        darkened_fraction=0.0,
        mean_delta_L=0.0,
        mean_delta_b=0.0,
        noise_delta_L=1.1,
        uniform_change_measurable=True,
        patches=[],
    )
    base.update(kw)
    return SimpleNamespace(**base)


def test_patch_with_scale_reads_darker_by_over_cm2() -> None:
    ch = _change(
        darkened_area_px=5000,
        darkened_area_mm2=310.0,
        patches=[SimpleNamespace(area_px=5000, mean_delta_L=-4.2)],
    )
    assert reading(ch) == "darker by 4.2 L* units over 3.1 cm², above the 1.1 noise level"


def test_patches_without_scale_use_share_of_area_and_count() -> None:
    ch = _change(
        calibration="model",
        uniform_change_measurable=False,
        darkened_area_px=3000,
        darkened_fraction=0.025,
        patches=[
            SimpleNamespace(area_px=1000, mean_delta_L=-6.0),
            SimpleNamespace(area_px=2000, mean_delta_L=-3.0),
        ],
    )
    text = reading(ch)
    assert text.startswith("darker by 4.0 L* units over 2.5 % of the compared area in 2 patches")


def test_no_change_with_card() -> None:
    assert reading(_change(mean_delta_L=-0.4)) == NO_CHANGE


def test_uniform_darkening_with_control() -> None:
    text = reading(_change(calibration="control", mean_delta_L=-5.0))
    assert text == "darker overall by 5.0 L* units, above the 1.1 noise level"


def test_model_calibration_says_uniform_change_not_measurable() -> None:
    text = reading(_change(calibration="model", uniform_change_measurable=False, mean_delta_L=-5.0))
    assert NO_CHANGE in text and UNIFORM_NOT_MEASURABLE in text


def test_json_dict_and_none() -> None:
    assert reading(None) == NO_MEASUREMENT
    d = {"noise_delta_L": 0.5, "mean_delta_L": 0.1, "calibration": "card", "patches": []}
    assert reading(d) == NO_CHANGE


@pytest.mark.parametrize(
    "ch",
    [
        _change(),
        _change(calibration="none", uniform_change_measurable=False),
        _change(darkened_area_px=10, darkened_fraction=0.0001, patches=[{"area_px": 10, "mean_delta_L": -9}]),
    ],
)
def test_never_diagnoses(ch: SimpleNamespace) -> None:
    text = reading(ch).lower()
    assert not any(word in text for word in FORBIDDEN)


def test_format_area() -> None:
    assert format_area(2.5, 100, 0.01) == "2.5 mm²"
    assert format_area(None, 100, 0.0005) == "0.05 % of the compared area"
    assert format_area(None, 1234, None) == "1,234 px"


def test_too_little_compared_reads_as_the_warning_not_no_change() -> None:
    text = "only 13 % of the area could be measured: the earlier photo is overexposed"
    assert reading(_change(warnings=[text])) == text
    assert reading({"calibration": "model", "patches": [], "warnings": [text], "noise_delta_L": 0.5}) == text
