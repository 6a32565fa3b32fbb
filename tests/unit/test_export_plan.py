"""export.plan: choosing check-ins, dates, options and output names, without Qt or pixels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest

from skintrack.errors import UsageError
from skintrack.export.plan import ExportOptions, build_plan, check_out_path


@dataclass
class R:
    id: int = 1
    name: str = "Left forearm"
    body_site: str = "forearm"
    reference_photo_id: int | None = None


@dataclass
class P:
    id: int
    taken_at: datetime
    original_name: str = "x.jpg"
    deleted_at: datetime | None = None


PHOTOS = [
    P(3, datetime(2025, 3, 1, 9)),
    P(1, datetime(2025, 1, 1, 9)),
    P(2, datetime(2025, 2, 1, 23, 59)),
    P(4, datetime(2025, 4, 1, 9), deleted_at=datetime(2025, 5, 1)),
]


def test_date_order_reference_and_trash() -> None:
    plan = build_plan("gif", R(), PHOTOS)
    assert plan.photo_ids == [1, 2, 3]  # trashed 4 left out, date order
    assert plan.reference_id == 1 and plan.photos[0].is_reference
    assert plan.steps == 4
    plan = build_plan("gif", R(reference_photo_id=2), PHOTOS)
    assert [p.is_reference for p in plan.photos] == [False, True, False]


def test_inclusive_date_range_and_selection() -> None:
    plan = build_plan("mp4", R(), PHOTOS, start=date(2025, 2, 1), end=date(2025, 2, 1))
    assert plan.photo_ids == [2]
    assert plan.date_range_text() == "2025-02-01"
    plan = build_plan("pdf", R(), PHOTOS, selected=[3, 1])
    assert plan.photo_ids == [1, 3]
    with pytest.raises(UsageError, match="not check-ins"):
        build_plan("pdf", R(), PHOTOS, selected=[9])
    with pytest.raises(UsageError, match="after"):
        build_plan("pdf", R(), PHOTOS, start=date(2025, 3, 1), end=date(2025, 1, 1))
    with pytest.raises(UsageError, match="no check-ins"):
        build_plan("gif", R(), PHOTOS, start=date(2026, 1, 1))
    assert build_plan("csv", R(), PHOTOS, start=date(2026, 1, 1)).steps == 1  # data exports may be empty


def test_options_and_formats_are_checked(tmp_path) -> None:
    with pytest.raises(UsageError, match="format"):
        build_plan("avi", R(), PHOTOS)
    with pytest.raises(UsageError, match="--size"):
        build_plan("gif", R(), PHOTOS, options=ExportOptions(size=10))
    with pytest.raises(UsageError, match="--frame-ms"):
        build_plan("gif", R(), PHOTOS, options=ExportOptions(frame_ms=1))
    assert check_out_path("contact-sheet", tmp_path / "a.JPG").name == "a.JPG"
    with pytest.raises(UsageError, match=r"\.gif"):
        check_out_path("gif", tmp_path / "a.mp4")
    with pytest.raises(UsageError, match="does not exist"):
        check_out_path("pdf", tmp_path / "nope" / "a.pdf")
