"""When is each region's next photo due? Due lists, snooze / skip, notifications and iCalendar.

Dates are calendar days in the user's time zone: a photo's local date is its own wall-clock date
when it was stored without an offset, else its instant converted to ``tz`` (the machine's zone
unless a caller passes one). The next due day is that date plus the region's interval; a region
with an interval but no photo yet is due from the day it was created. "Skip this time" moves the
due day on by one interval; "Snooze" hides a due region until a given instant.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal, Protocol

from skintrack.library import Library, inbox_store
from skintrack.library.inbox_store import ReminderState

DueStatus = Literal["overdue", "due", "upcoming", "snoozed"]
DEFAULT_SNOOZE = timedelta(hours=4)
ICS_NAMESPACE = uuid.UUID("7f6c1d0e-3b9a-4f57-9c55-5a1e3f0b2d11")


@dataclass(frozen=True)
class DueItem:
    """One region with an interval: its next due day and what that means today."""

    region_id: int
    name: str
    interval_days: int
    last_taken: date | None
    next_due: date
    status: DueStatus
    days_overdue: int  # > 0 only when overdue
    snoozed_until: datetime | None = None

    @property
    def needs_photo(self) -> bool:
        return self.status in ("due", "overdue")

    def to_json(self) -> dict[str, object]:
        return {
            "region": self.name,
            "region_id": self.region_id,
            "interval_days": self.interval_days,
            "last_taken": None if self.last_taken is None else self.last_taken.isoformat(),
            "next_due": self.next_due.isoformat(),
            "status": self.status,
            "days_overdue": self.days_overdue,
            "snoozed_until": None
            if self.snoozed_until is None
            else self.snoozed_until.isoformat(timespec="minutes"),
        }


class Notifier(Protocol):
    """Shows a desktop notification (the GUI's tray icon; a recording fake in tests)."""

    def notify(self, title: str, message: str) -> None: ...


def local_date(value: datetime, tz: tzinfo | None = None) -> date:
    """The calendar day of ``value`` for someone in ``tz`` (naive values are already local)."""
    if value.tzinfo is None:
        return value.date()
    return value.astimezone(tz).date() if tz is not None else value.astimezone().date()


def next_due_date(last_taken: date, interval_days: int, skipped_due: date | None = None) -> date:
    """``last_taken`` + interval, moved on by one interval when that very day was skipped."""
    due = last_taken + timedelta(days=interval_days)
    if skipped_due is not None and skipped_due >= due:
        due = skipped_due + timedelta(days=interval_days)
    return due


def _now(tz: tzinfo | None) -> datetime:
    return datetime.now(tz) if tz is not None else datetime.now().astimezone()


def due_items(lib: Library, *, now: datetime | None = None, tz: tzinfo | None = None) -> list[DueItem]:
    """Every active region with an interval, most overdue first."""
    moment = now or _now(tz)
    today = local_date(moment, tz)
    states = inbox_store.reminder_states(lib)
    items: list[DueItem] = []
    for summary in lib.list_regions():
        region = summary.region
        if not region.interval_days:
            continue
        state = states.get(region.id, ReminderState(region.id))
        last = None if summary.last_taken_at is None else local_date(summary.last_taken_at, tz)
        base = (
            last
            if last is not None
            else local_date(region.created_at, tz) - timedelta(days=region.interval_days)
        )
        due = next_due_date(base, region.interval_days, state.skipped_due)
        snoozed = state.snoozed_until if state.snoozed_until and _later(state.snoozed_until, moment) else None
        status: DueStatus
        if due > today:
            status = "upcoming"
        elif snoozed is not None:
            status = "snoozed"
        else:
            status = "overdue" if due < today else "due"
        overdue = max(0, (today - due).days)
        items.append(
            DueItem(region.id, region.name, region.interval_days, last, due, status, overdue, snoozed)
        )
    items.sort(key=lambda it: (it.next_due, it.name.lower()))
    return items


def _later(a: datetime, b: datetime) -> bool:
    """a > b, comparing a naive value as local time."""
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.astimezone(), b.astimezone()
    return a > b


def snooze(lib: Library, region_id: int, until: datetime) -> None:
    """Hide the region's reminder until ``until``; it notifies again afterwards."""
    state = inbox_store.reminder_states(lib).get(region_id, ReminderState(region_id))
    inbox_store.save_reminder_state(
        lib, ReminderState(region_id, until, state.skipped_due, notified_due=None)
    )


def skip(lib: Library, region_id: int, *, now: datetime | None = None, tz: tzinfo | None = None) -> date:
    """Skip the current due day: the next reminder comes one interval later. Returns the new day."""
    item = next((it for it in due_items(lib, now=now, tz=tz) if it.region_id == region_id), None)
    if item is None:
        region = lib.region(region_id)
        raise ValueError(f"the region {region.name!r} has no reminder interval")
    inbox_store.save_reminder_state(lib, ReminderState(region_id, None, item.next_due, None))
    return item.next_due + timedelta(days=item.interval_days)


def take_due_notifications(
    lib: Library, *, now: datetime | None = None, tz: tzinfo | None = None
) -> list[DueItem]:
    """The regions to notify about now (once per due day each), marked as notified."""
    states = inbox_store.reminder_states(lib)
    todo: list[DueItem] = []
    for item in due_items(lib, now=now, tz=tz):
        if not item.needs_photo:
            continue
        state = states.get(item.region_id, ReminderState(item.region_id))
        if state.notified_due == item.next_due:
            continue
        inbox_store.save_reminder_state(
            lib, ReminderState(item.region_id, None, state.skipped_due, item.next_due)
        )
        todo.append(item)
    return todo


def notify_due(
    lib: Library, notifier: Notifier, *, now: datetime | None = None, tz: tzinfo | None = None
) -> list[DueItem]:
    """Notify once per due day for each region that needs a photo; returns the regions notified."""
    items = take_due_notifications(lib, now=now, tz=tz)
    for item in items:
        notifier.notify(notification_title(item), notification_text(item))
    return items


def notification_title(item: DueItem) -> str:
    return f"Time for a photo of {item.name}"


def notification_text(item: DueItem) -> str:
    if item.status == "overdue":
        days = "1 day" if item.days_overdue == 1 else f"{item.days_overdue} days"
        return f"Due every {item.interval_days} days; {days} overdue."
    return f"Due today (every {item.interval_days} days)."


# ---------------------------------------------------------------- iCalendar (RFC 5545)
def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> list[str]:
    """Lines of at most 75 octets, continuations starting with a space (RFC 5545 3.1)."""
    out: list[str] = []
    current = ""
    for ch in line:
        limit = 75 if not out else 74
        if len((current + ch).encode("utf-8")) > limit:
            out.append(current)
            current = ch
        else:
            current += ch
    out.append(current)
    return [out[0]] + [" " + part for part in out[1:]]


def to_ics(items: Sequence[DueItem], *, stamp: datetime | None = None) -> str:
    """An iCalendar file with one all-day, repeating event per region at its next due day."""
    stamp_utc = (stamp or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Skintrack//Reminders//EN", "CALSCALE:GREGORIAN"]
    for item in items:
        uid = uuid.uuid5(ICS_NAMESPACE, f"region-{item.region_id}-{item.name}")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}@skintrack.invalid",
            f"DTSTAMP:{stamp_utc}",
            f"DTSTART;VALUE=DATE:{item.next_due.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(item.next_due + timedelta(days=1)).strftime('%Y%m%d')}",
            f"RRULE:FREQ=DAILY;INTERVAL={item.interval_days}",
            f"SUMMARY:{_escape('Skintrack: photo of ' + item.name)}",
            f"DESCRIPTION:{_escape(f'A new photo of {item.name} is due (every {item.interval_days} days).')}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    folded: list[str] = []
    for line in lines:
        folded.extend(_fold(line))
    return "\r\n".join(folded) + "\r\n"


def regions_due(items: Iterable[DueItem]) -> list[DueItem]:
    """The items that need a photo now (due or overdue, not snoozed)."""
    return [it for it in items if it.needs_photo]
