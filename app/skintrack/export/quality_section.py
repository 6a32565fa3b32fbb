"""The capture-quality section of the PDF report: how good each check-in's photo was to measure."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, Table

from skintrack.core.quality import CHECK_LABELS
from skintrack.export.frames import Frame
from skintrack.library.db import Library
from skintrack.library.quality_store import StoredQuality, qualities_for_region

OVERALL_TEXT = {"pass": "good", "warn": "usable", "fail": "poor"}


def quality_rows(stored: dict[int, StoredQuality], frames: Sequence[Frame]) -> list[list[str]]:
    """(date, overall, what to improve) per frame; frames without a stored quality say so."""
    rows = []
    for f in frames:
        q = stored.get(f.photo_id)
        date = f.taken_at.date().isoformat()
        if q is None:
            rows.append([date, "not checked", "imported before capture checks existed"])
            continue
        problems = q.report.problems()
        text = " ".join(f"{CHECK_LABELS.get(c.name, c.name)}: {c.advice}" for c in problems) or "–"
        rows.append([date, OVERALL_TEXT.get(q.overall, q.overall), text])
    return rows


def quality_story(
    lib: Library,
    region_id: int,
    frames: Sequence[Frame],
    styles: dict[str, ParagraphStyle],
    table: Callable[[Sequence[Sequence[str | Flowable]], list[float]], Table],
    width: float,
) -> list[Flowable]:
    """Heading, table and note for the report (built with the report's own table helper)."""
    stored = qualities_for_region(lib, region_id)
    rows: list[list[str | Paragraph]] = [["Date", "Capture", "What to improve"]]
    for date, overall, text in quality_rows(stored, frames):
        rows.append(
            [date, overall, Paragraph(text.replace("&", "&amp;").replace("<", "&lt;"), styles["cell"])]
        )
    return [
        Paragraph("Capture quality per check-in", styles["h2"]),
        table(rows, [width * 0.12, width * 0.1, width * 0.78]),
        Paragraph(
            "Each photo is checked when it is imported for sharpness, blown highlights, exposure, glare, "
            "even light, colour and framing against the reference photo, and a colour chart. "
            "Measurements of a photo that failed a check carry a warning.",
            styles["small"],
        ),
    ]
