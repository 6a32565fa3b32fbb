"""Next-due days across intervals and time zones; snooze, skip and once-per-day notifications."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from skintrack.demo import phone
from skintrack.library import Library
from skintrack.services import reminders

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def notify(self, title: str, message: str) -> None:
        self.sent.append((title, message))


@pytest.mark.parametrize(
    ("last", "interval", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 1)),
        (date(2026, 1, 31), 28, date(2026, 2, 28)),
        (date(2028, 2, 1), 28, date(2028, 2, 29)),  # leap year
        (date(2026, 12, 20), 14, date(2027, 1, 3)),
        (date(2026, 3, 1), 90, date(2026, 5, 30)),
    ],
)
def test_next_due_date_over_month_and_year_ends(last: date, interval: int, expected: date) -> None:
    assert reminders.next_due_date(last, interval) == expected


def test_skipped_due_day_moves_on_by_one_interval() -> None:
    assert reminders.next_due_date(date(2026, 1, 1), 14, skipped_due=date(2026, 1, 15)) == date(2026, 1, 29)
    # a photo taken after the skip counts from the photo
    assert reminders.next_due_date(date(2026, 1, 20), 14, skipped_due=date(2026, 1, 15)) == date(2026, 2, 3)


def test_local_date_follows_the_viewers_time_zone() -> None:
    taken = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    assert reminders.local_date(taken, TOKYO) == date(2026, 3, 11)
    assert reminders.local_date(taken, NEW_YORK) == date(2026, 3, 10)
    naive = datetime(2026, 3, 10, 23, 30)
    assert reminders.local_date(naive, TOKYO) == date(2026, 3, 10)


def _lib_with_photo(library_dir: Path, tmp_path: Path, taken: datetime, interval: int) -> tuple[Library, int]:
    lib = Library.open(library_dir)
    region = lib.add_region("Arm", interval_days=interval)
    jpeg = phone.save_jpeg(tmp_path / "a.jpg", phone.reference_photo(phone.skin_for(1, (96, 64)), (96, 64)))
    lib.import_file(region.id, jpeg, taken_at=taken)
    return lib, region.id


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK, TOKYO, UTC])
def test_due_status_in_each_time_zone(library_dir: Path, tmp_path: Path, tz: ZoneInfo) -> None:
    taken = datetime(2026, 3, 1, 12, 0, tzinfo=tz)
    lib, _ = _lib_with_photo(library_dir, tmp_path, taken, 14)
    with lib:
        day = lambda d, h=9: datetime(2026, 3, d, h, 0, tzinfo=tz)  # noqa: E731
        assert [i.status for i in reminders.due_items(lib, now=day(14), tz=tz)] == ["upcoming"]
        [due] = reminders.due_items(lib, now=day(15, 0), tz=tz)
        assert (due.status, due.next_due, due.days_overdue) == ("due", date(2026, 3, 15), 0)
        [late] = reminders.due_items(lib, now=day(18, 23), tz=tz)
        assert (late.status, late.days_overdue) == ("overdue", 3)


def test_dst_change_does_not_shift_the_due_day(library_dir: Path, tmp_path: Path) -> None:
    # Berlin switches to summer time on 2026-03-29; a photo at 00:30 stays on its calendar day
    taken = datetime(2026, 3, 22, 0, 30, tzinfo=BERLIN)
    lib, _ = _lib_with_photo(library_dir, tmp_path, taken, 7)
    with lib:
        [item] = reminders.due_items(lib, now=datetime(2026, 3, 29, 0, 10, tzinfo=BERLIN), tz=BERLIN)
        assert (item.next_due, item.status) == (date(2026, 3, 29), "due")


def test_photo_taken_abroad_counts_on_the_viewers_calendar(library_dir: Path, tmp_path: Path) -> None:
    taken = datetime(2026, 3, 1, 23, 30, tzinfo=NEW_YORK)  # already 2 March in Tokyo
    lib, _ = _lib_with_photo(library_dir, tmp_path, taken, 10)
    with lib:
        [tokyo] = reminders.due_items(lib, now=datetime(2026, 3, 11, 12, tzinfo=TOKYO), tz=TOKYO)
        [ny] = reminders.due_items(lib, now=datetime(2026, 3, 11, 12, tzinfo=NEW_YORK), tz=NEW_YORK)
    assert tokyo.next_due == date(2026, 3, 12) and tokyo.status == "upcoming"
    assert ny.next_due == date(2026, 3, 11) and ny.status == "due"


def test_region_without_photos_is_due_from_its_creation(library_dir: Path) -> None:
    with Library.open(library_dir) as lib:
        lib.add_region("New", interval_days=30)
        lib.add_region("Untimed")
        [item] = reminders.due_items(lib)
    assert item.status == "due" and item.last_taken is None and item.next_due == date.today()


def test_notify_once_snooze_and_skip(library_dir: Path, tmp_path: Path) -> None:
    tz = BERLIN
    lib, region_id = _lib_with_photo(library_dir, tmp_path, datetime(2026, 3, 1, 10, tzinfo=tz), 14)
    fake = FakeNotifier()
    with lib:
        before = datetime(2026, 3, 14, 10, tzinfo=tz)
        assert reminders.notify_due(lib, fake, now=before, tz=tz) == []
        morning = datetime(2026, 3, 15, 8, tzinfo=tz)
        [sent] = reminders.notify_due(lib, fake, now=morning, tz=tz)
        assert sent.region_id == region_id
        assert fake.sent == [("Time for a photo of Arm", "Due today (every 14 days).")]
        assert reminders.notify_due(lib, fake, now=morning + timedelta(hours=3), tz=tz) == []

        reminders.snooze(lib, region_id, morning + timedelta(hours=4))
        [snoozed] = reminders.due_items(lib, now=morning + timedelta(hours=1), tz=tz)
        assert snoozed.status == "snoozed"
        assert reminders.notify_due(lib, fake, now=morning + timedelta(hours=1), tz=tz) == []
        later = morning + timedelta(hours=5)
        assert len(reminders.notify_due(lib, fake, now=later, tz=tz)) == 1
        assert len(fake.sent) == 2

        new_day = reminders.skip(lib, region_id, now=later, tz=tz)
        assert new_day == date(2026, 3, 29)
        [skipped] = reminders.due_items(lib, now=later, tz=tz)
        assert (skipped.status, skipped.next_due) == ("upcoming", date(2026, 3, 29))
        assert reminders.notify_due(lib, fake, now=datetime(2026, 3, 29, 9, tzinfo=tz), tz=tz)
        assert fake.sent[-1][1] == "Due today (every 14 days)."


def test_ics_escapes_and_folds_long_names() -> None:
    item = reminders.DueItem(
        3, "Left forearm, inner side; near the elbow " + "x" * 60, 21, None, date(2026, 4, 1), "upcoming", 0
    )
    text = reminders.to_ics([item], stamp=datetime(2026, 3, 1, 12, tzinfo=UTC))
    lines = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:Skintrack: photo of Left forearm\\, inner side\\; near the elbow" in unfolded
    assert "DTSTAMP:20260301T120000Z" in unfolded
    assert "DTEND;VALUE=DATE:20260402" in unfolded
