"""One number and date format for the whole app."""

from __future__ import annotations

from datetime import date, datetime

from skintrack.core import formatting as fmt


def test_one_minus_sign_and_no_negative_zero() -> None:
    assert fmt.signed(-3.24) == "\u22123.2"
    assert fmt.signed(-0.04) == "0.0"
    assert fmt.number(-0.0) == "0.0"
    assert fmt.signed(1.25, 1) == "+1.2"
    assert "-" not in fmt.number(-12.5, 0)


def test_units_and_missing_values() -> None:
    assert fmt.delta_l(-6.63) == "\u22126.6 L*"
    assert fmt.signed(-2.0, unit="°") == "\u22122.0°"
    assert fmt.number(None) == "–"
    assert fmt.number(float("nan")) == "–"


def test_one_date_format() -> None:
    assert fmt.day(datetime(2026, 3, 1, 9, 30)) == "2026-03-01"
    assert fmt.day(date(2026, 3, 1)) == "2026-03-01"
    assert fmt.day_time(datetime(2026, 3, 1, 9, 30)) == "2026-03-01 09:30"


def test_area_units() -> None:
    assert fmt.area(2.5) == "2.5 mm²"
    assert fmt.area(250.0) == "2.5 cm²"
    assert fmt.area(None, 100, 0.0005) == "0.05 % of the compared area"
    assert fmt.area(None, 1234, None) == "1,234 px"
