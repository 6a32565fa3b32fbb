"""What the export dialog previews, per format: the thing the export will make, in small.

* contact sheet: the sheet's real layout (title, grid, captions) with small tiles;
* GIF / MP4: the first, middle and last frames, played at the chosen frame duration;
* PDF: a summary card of the report (title, facts, sections) with its reference-vs-latest pair;
* zip: the archive's file list beside its first image;
* CSV / JSON: the first lines of the data.

Runs in a worker (it decodes and aligns photos); ``token`` stops it between frames.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from skintrack.export.plan import FORMAT_LABELS, ExportPlan, PlannedPhoto
from skintrack.library.db import Library
from skintrack.progress import CancelToken

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

    from skintrack.export.frames import Frame

SHEET_PREVIEW_TILES = 12  # check-ins drawn in a contact-sheet preview (the layout is the same)
DATA_LINES = 12
PREVIEW_SIDE = 480  # frames are rendered at most this large, whatever the export size


@dataclass(frozen=True)
class ExportPreview:
    """``images``: one still, or the frames of an animation when ``frame_ms`` > 0; ``rows``: the
    first CSV rows (header first) for a table."""

    caption: str
    images: list[np.ndarray] = field(default_factory=list)
    text: str = ""
    frame_ms: int = 0
    rows: list[list[str]] = field(default_factory=list)


def animation_picks(count: int) -> list[int]:
    """Indices of the first, middle and last frame (fewer when there are fewer frames)."""
    return sorted({0, (count - 1) // 2, count - 1}) if count else []


def spread_picks(count: int, limit: int) -> list[int]:
    """``limit`` indices spread evenly over ``count`` (all of them when ``count`` <= ``limit``)."""
    if count <= limit:
        return list(range(count))
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def _checkins(n: int) -> str:
    return f"{n} check-in{'s' if n != 1 else ''}"


def render_export_preview(lib: Library, plan: ExportPlan, token: CancelToken | None = None) -> ExportPreview:
    """The preview of ``plan``; captions name the export's real sizes, the pixels are small."""
    token = token or CancelToken()
    size = plan.options.size
    plan = replace(plan, options=replace(plan.options, size=min(PREVIEW_SIDE, size)))
    label = FORMAT_LABELS.get(plan.format, plan.format)
    if plan.format in ("csv", "json"):
        from skintrack.export.data import to_csv, to_json

        data = (to_csv if plan.format == "csv" else to_json)(lib, plan).decode("utf-8-sig")
        lines = data.splitlines()
        more = f", first {DATA_LINES} of {len(lines)} lines" if len(lines) > DATA_LINES else ""
        head = "\n".join(lines[:DATA_LINES])
        rows = list(csv.reader(io.StringIO(head))) if plan.format == "csv" else []
        return ExportPreview(f"{label}: {_checkins(len(plan.photos))}{more}", text=head, rows=rows)
    if not plan.photos:
        return ExportPreview("Nothing to export: no check-ins are selected.")
    from skintrack.services.export_frames import frame_renderer

    renderer = frame_renderer(lib, plan)

    def frames(picks: list[PlannedPhoto]) -> list[Frame]:
        out = []
        for p in picks:
            token.raise_if_cancelled()
            out.append(renderer.render(p, token))
        return out

    photos = list(plan.photos)
    if plan.format == "contact-sheet":
        return _contact_sheet(plan, frames(photos[:SHEET_PREVIEW_TILES]), size)
    if plan.format in ("gif", "mp4"):
        picks = animation_picks(len(photos))
        shown = frames([photos[i] for i in picks])
        numbers = ", ".join(str(i + 1) for i in picks)
        return ExportPreview(
            f"{label}: frames {numbers} of {len(photos)}, {plan.options.frame_ms} ms each "
            f"({len(photos) * plan.options.frame_ms / 1000:.1f} s in all)",
            images=[f.image for f in shown],
            frame_ms=plan.options.frame_ms,
        )
    if plan.format == "pdf":
        return _pdf_summary(lib, plan, frames)
    first = frames(photos[:1])[0]
    return ExportPreview(_zip_caption(plan), images=[first.picture], text=_zip_listing(plan, size))


def _contact_sheet(plan: ExportPlan, shown: list[Frame], size: int) -> ExportPreview:
    from skintrack.export.contact_sheet import MAX_TILE, render_contact_sheet

    total = len(plan.photos)
    sheet = render_contact_sheet(
        shown,
        title=plan.region_name,
        subtitle=f"{total} check-ins, {plan.date_range_text()} · aligned to the reference photo",
        tile=min(MAX_TILE, size, PREVIEW_SIDE),  # the export's own layout, scaled down in the dialog
    )
    with_heat = any(f.heatmap is not None for f in shown)
    cols = max(1, min(total, 2 if with_heat else 4, math.ceil(math.sqrt(total))))
    rows = math.ceil(total / cols)
    part = f"; the first {len(shown)} shown" if len(shown) < total else ""
    return ExportPreview(
        f"Contact sheet: {_checkins(total)} in {rows} × {cols} tiles of {min(MAX_TILE, size)} px{part}",
        images=[sheet],
    )


def _pdf_summary(
    lib: Library, plan: ExportPlan, frames: Callable[[list[PlannedPhoto]], list[Frame]]
) -> ExportPreview:
    """The report's facts and sections as a card, with the pair its photo page shows."""
    ref = next((p for p in plan.photos if p.is_reference), plan.photos[0])
    pair = frames([ref] if plan.photos[-1] is ref else [ref, plan.photos[-1]])
    start = plan.start or plan.photos[0].taken_at.date()
    end = plan.end or plan.photos[-1].taken_at.date()
    entries = list(lib.list_journal(start, end))
    sections = [
        "facts and the reading",
        f"measurements of {_checkins(len(plan.photos))}",
        "trend chart",
        f"journal ({len(entries)} entr{'y' if len(entries) == 1 else 'ies'} in range)",
        "method",
        "reference, latest check-in" + (" and change heatmap" if len(plan.photos) > 1 else ""),
    ]
    if len(plan.photos) > 1:
        sections.append("all check-ins (contact sheet page)")
    from skintrack.export.frames import caption_text

    facts = [
        f"Body site: {plan.body_site or '–'}",
        f"Check-ins: {len(plan.photos)} ({plan.date_range_text()})",
        "Contents: " + "; ".join(sections) + ".",
    ]
    if len(pair) > 1:
        facts.append(f"Latest compared with the reference: {caption_text(pair[-1])}.")
    labelled = [
        (f.picture, f"{f.taken_at.date().isoformat()} · {'reference' if f.is_reference else 'latest'}")
        for f in pair
    ]
    card = _summary_card(f"Skin colour record: {plan.region_name}", facts, labelled)
    return ExportPreview(
        f"PDF report (A4) of {_checkins(len(plan.photos))}: a summary of its pages", images=[card]
    )


def _summary_card(title: str, lines: list[str], pictures: list[tuple[np.ndarray, str]]) -> np.ndarray:
    """A white A4-proportioned card: title, wrapped lines, the labelled pictures side by side."""
    from PIL import Image, ImageDraw

    from skintrack.export.frames import font, resize_long

    width, pad = 480, 24
    height = round(width * 297 / 210)
    card = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(card)
    y = pad
    title_font, body_font = font(20), font(13)
    for line in _wrap(draw, title, title_font, width - 2 * pad):
        draw.text((pad, y), line, font=title_font, fill=(20, 20, 20))
        y += 26
    y += 8
    for text in lines:
        for line in _wrap(draw, text, body_font, width - 2 * pad):
            draw.text((pad, y), line, font=body_font, fill=(60, 60, 60))
            y += 18
        y += 4
    if pictures:
        gap = 10
        each = (width - 2 * pad - gap * (len(pictures) - 1)) // len(pictures)
        x, y = pad, y + 12
        for pic, label in pictures:
            small = resize_long(pic, each)
            small = small[: max(1, height - y - pad - 20)]
            card.paste(Image.fromarray(np.ascontiguousarray(small)), (x, y))
            draw.text((x, y + small.shape[0] + 4), label, font=body_font, fill=(60, 60, 60))
            x += each + gap
    return np.asarray(card)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, f: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=f) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines


def _zip_caption(plan: ExportPlan) -> str:
    return f"Zip archive of {_checkins(len(plan.photos))}: the first image and the file list"


def _zip_listing(plan: ExportPlan, size: int) -> str:
    n = len(plan.photos)
    heat = "\nheatmaps/ — change heatmaps of the aligned check-ins" if plan.options.heatmap else ""
    exif = "with EXIF" if plan.options.carries_exif else "no EXIF"
    return (
        f"images/ — {n} aligned JPEGs, {size} px, {exif}{heat}\n"
        "measurements.csv\nmeasurements.json\nREADME.txt"
    )
