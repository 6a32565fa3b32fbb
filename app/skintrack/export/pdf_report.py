"""The PDF report for a clinician (A4, reportlab platypus).

Region and body site, date range, reference and latest photos side by side, the change heatmap,
the trend chart (``export.chart``), a table of measurements per date with units and noise, a
journal summary, the method (alignment quality, calibration, thresholds), a contact sheet, and
the not-a-diagnosis notice on the first page and in every footer.
"""

from __future__ import annotations

import functools
import io
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)

from skintrack import NOT_A_DIAGNOSIS, __version__
from skintrack.core import formatting
from skintrack.core.compare_json import CompareJSON
from skintrack.core.reading import patch_delta_l, reading
from skintrack.export.checkin_rows import checkin_facts, one_per_checkin
from skintrack.export.contact_sheet import render_contact_sheet
from skintrack.export.frames import Frame, encode_jpeg, metric
from skintrack.export.plan import ExportPlan
from skintrack.export.quality_section import quality_story
from skintrack.export.report_figures import dose_summary, patch_rows
from skintrack.library.db import Library
from skintrack.library.models import JournalEntry
from skintrack.library.settings import load_settings

log = logging.getLogger(__name__)

PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
CONTENT_W = PAGE_W - 2 * MARGIN
FONT, FONT_BOLD = "Helvetica", "Helvetica-Bold"
JOURNAL_ROWS = 40


@functools.lru_cache(maxsize=1)
def _fonts() -> tuple[str, str]:
    """DejaVu Sans (from matplotlib's data) so Δ, ², ° and ± print; Helvetica if it is missing."""
    try:
        import matplotlib
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont("SkDejaVu", str(base / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("SkDejaVu-Bold", str(base / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily("SkDejaVu", normal="SkDejaVu", bold="SkDejaVu-Bold")
        return "SkDejaVu", "SkDejaVu-Bold"
    except Exception:
        log.warning("DejaVu Sans not found; the PDF uses Helvetica", exc_info=True)
        return FONT, FONT_BOLD


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = getSampleStyleSheet()
    body = ParagraphStyle("SkBody", parent=base["BodyText"], fontName=regular, fontSize=9.5, leading=12.5)
    return {
        "title": ParagraphStyle(
            "SkTitle", parent=base["Title"], fontName=bold, fontSize=18, leading=22, alignment=0
        ),
        "h2": ParagraphStyle(
            "SkH2", parent=base["Heading2"], fontName=bold, fontSize=12.5, spaceBefore=8, keepWithNext=1
        ),
        "body": body,
        "small": ParagraphStyle(
            "SkSmall", parent=body, fontSize=8, leading=10, textColor=colors.HexColor("#444444")
        ),
        "cell": ParagraphStyle("SkCell", parent=body, fontSize=7.8, leading=9.5),
        "head": ParagraphStyle("SkHead", parent=body, fontSize=7.2, leading=8.6),
        "notice": ParagraphStyle(
            "SkNotice",
            parent=body,
            fontName=bold,
            fontSize=9.5,
            leading=12.5,
            borderColor=colors.HexColor("#b35806"),
            borderWidth=0.8,
            borderPadding=6,
            backColor=colors.HexColor("#fff4e6"),
            spaceBefore=6,
            spaceAfter=10,
        ),
    }


def _esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _image(rgb: np.ndarray, width: float, max_height: float | None = None) -> Image:
    """A JPEG (no EXIF) flowable scaled to ``width`` points, keeping the aspect ratio."""
    h, w = rgb.shape[:2]
    draw_w, draw_h = width, width * h / w
    if max_height is not None and draw_h > max_height:
        draw_w, draw_h = max_height * w / h, max_height
    return Image(io.BytesIO(encode_jpeg(rgb, 88)), width=draw_w, height=draw_h)


def _area(m: CompareJSON | None) -> str:
    mm2 = metric(m, "darkened_area_mm2")
    frac = metric(m, "darkened_fraction")
    if mm2 is None and frac is not None:
        return formatting.number(100 * frac, 2) + " %"
    px = metric(m, "darkened_area_px")
    return formatting.area(mm2, px, None) if mm2 is not None or px is not None else formatting.DASH


def _table(data: Sequence[Sequence[str | Flowable]], widths: list[float], *, header_rows: int = 1) -> Table:
    regular, bold = _fonts()
    t = Table(data, colWidths=widths, repeatRows=header_rows, hAlign="LEFT")
    t.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), regular, 7.8),
                ("FONT", (0, 0), (-1, header_rows - 1), bold, 7.8),
                ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#eeeeee")),
                ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.6, colors.HexColor("#888888")),
                ("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [colors.white, colors.HexColor("#f8f8f8")]),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return t


def _trend_png(lib: Library, region_id: int) -> bytes | None:
    """The trend chart from export.chart as PNG bytes, or None when it cannot be drawn."""
    from skintrack.export.chart import trend_figure  # matplotlib: only when a PDF is made
    from skintrack.export.trend_series import trend_series

    try:
        fig = trend_figure(trend_series(lib, region_id), "L", figsize=(7.4, 3.1), dpi=150)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=150)
        return buf.getvalue()
    except Exception:
        log.warning("trend chart for the PDF failed", exc_info=True)
        return None


def _reading(metrics: CompareJSON | None) -> str:
    return reading(metrics)


def _journal_in_range(lib: Library, plan: ExportPlan) -> list[JournalEntry]:
    if not plan.photos:
        return []
    start = plan.start or plan.photos[0].taken_at.date()
    end = plan.end or plan.photos[-1].taken_at.date()
    return list(lib.list_journal(start, end))


def _footer(canvas: Canvas, doc: BaseDocTemplate) -> None:
    regular, _bold = _fonts()
    canvas.saveState()
    canvas.setFont(regular, 7.2)
    canvas.setFillColor(colors.HexColor("#555555"))
    canvas.drawString(
        MARGIN, 9 * mm, "Not a medical device and not a diagnosis. Talk to a clinician about any change."
    )
    canvas.drawRightString(PAGE_W - MARGIN, 9 * mm, f"Skintrack {__version__} · page {doc.page}")
    canvas.restoreState()


def build_story(lib: Library, plan: ExportPlan, frames: list[Frame]) -> list[Flowable]:
    st = _styles()
    region = lib.region(plan.region_id)
    story: list[Flowable] = []
    facts_of = checkin_facts(lib, plan.region_id, plan.reference_id)
    checkin_entries = one_per_checkin(frames, facts_of)
    story.append(Paragraph(f"Skin colour record: {_esc(plan.region_name)}", st["title"]))
    facts = [
        ["Region", plan.region_name],
        ["Body site", plan.body_site or "–"],
        ["Check-ins", f"{_checkin_count(len(checkin_entries), len(frames))} ({plan.date_range_text()})"],
        ["Date range asked", f"{plan.start or 'first'} to {plan.end or 'latest'}"],
        ["Created", formatting.day_time(datetime.now())],
    ]
    if region.notes:
        facts.append(["Notes", region.notes])
    story.append(
        _table(
            [[Paragraph(_esc(a), st["cell"]), Paragraph(_esc(b), st["cell"])] for a, b in facts],
            [35 * mm, CONTENT_W - 35 * mm],
            header_rows=0,
        )
    )
    story.append(Paragraph(_esc(NOT_A_DIAGNOSIS), st["notice"]))

    story.extend(_photos_section(lib, plan, frames, st))

    # measurements per date
    story.append(Paragraph("Measurements per check-in (against the reference photo)", st["h2"]))
    head = [
        "Date",
        "Patches\nΔL* (L*)",
        "Area mean\nΔL* (L*)",
        "Δb*\n(b*)",
        "ΔITA°\n(°)",
        "ΔE00",
        "Darker\narea",
        "Noise\nΔL* (L*)",
        "Calibration",
        "Alignment\n(method, quality)",
    ]
    rows: list[list[str | Flowable]] = [
        [Paragraph(f"<b>{h}</b>".replace("\n", "<br/>"), st["head"]) for h in head]
    ]
    blank = [""] * 8
    for f, shots in checkin_entries:
        m = f.metrics
        day = formatting.day(f.taken_at) + (f"\n{shots} shots" if shots > 1 else "")
        repeat = facts_of[f.photo_id].repeat_noise_L if f.photo_id in facts_of else None
        if f.is_reference:
            rows.append([day, "reference", *blank])
            continue
        if not f.aligned:
            rows.append([day, "not aligned", *blank[:-1], "failed"])
            continue
        q = formatting.number(f.alignment_quality, 2)
        rows.append(
            [
                day,
                formatting.signed(patch_delta_l(m)) if m and m.get("patches") else "none",
                formatting.signed(metric(m, "mean_delta_L")),
                formatting.signed(metric(m, "mean_delta_b")),
                formatting.signed(metric(m, "mean_delta_ita")),
                formatting.number(metric(m, "mean_delta_e2000"), 1),
                _area(m) if m else formatting.DASH,
                formatting.number(metric(m, "noise_delta_L"), 2)
                + ("" if repeat is None else f"\nrepeat {formatting.number(repeat, 2)}"),
                str((m or {}).get("calibration") or formatting.DASH),
                f"{f.alignment_method or formatting.DASH}, {q}",
            ]
        )
    w = CONTENT_W
    story.append(_table(rows, [w * x for x in (0.11, 0.1, 0.1, 0.07, 0.07, 0.07, 0.1, 0.09, 0.13, 0.16)]))
    story.append(
        Paragraph(
            "Negative ΔL* = darker. Grey-blue pigment lowers L* and b* together; brown pigment lowers L* and "
            "raises b*. Changes within about three times the noise are not meaningful. A check-in with "
            'several shots is measured on its best shot; "repeat" is how much its shots disagree '
            "(ΔL* spread between the aligned shots).",
            st["small"],
        )
    )

    png = _trend_png(lib, plan.region_id)
    if png is not None:
        story.append(
            KeepTogether(
                [
                    Paragraph("Trend", st["h2"]),
                    Image(io.BytesIO(png), width=CONTENT_W, height=CONTENT_W * 3.1 / 7.4),
                ]
            )
        )

    story += quality_story(lib, plan.region_id, frames, st, _table, CONTENT_W)

    # journal
    entries = _journal_in_range(lib, plan)
    story.append(Paragraph("Journal summary", st["h2"]))
    if not entries:
        story.append(Paragraph("No journal entries in this date range.", st["body"]))
    else:
        counts: dict[str, int] = defaultdict(int)
        for e in entries:
            counts[e.kind] += 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        story.append(Paragraph(_esc(f"{len(entries)} entries ({summary})."), st["body"]))
        for line in dose_summary(entries):
            story.append(Paragraph(_esc(line), st["body"]))
        jrows: list[list[str | Flowable]] = [["Date", "Kind", "Substance", "Amount", "Notes"]]
        for e in entries[:JOURNAL_ROWS]:
            amount = "" if e.amount is None else f"{e.amount:g} {e.unit}".strip()
            jrows.append(
                [formatting.day(e.at), e.kind, e.substance, amount, Paragraph(_esc(e.notes), st["cell"])]
            )
        story.append(_table(jrows, [w * x for x in (0.14, 0.12, 0.18, 0.14, 0.42)]))
        if len(entries) > JOURNAL_ROWS:
            story.append(
                Paragraph(f"… and {len(entries) - JOURNAL_ROWS} more entries (see the app).", st["small"])
            )

    # method
    story.append(Paragraph("Method", st["h2"]))
    calib = sorted(
        {str((f.metrics or {}).get("calibration")) for f in frames if f.metrics and not f.is_reference}
    )
    qualities = [
        float(f.alignment_quality) for f in frames if f.alignment_quality is not None and not f.is_reference
    ]
    failed = sum(1 for f in frames if not f.aligned)
    versions = sorted({str(r.algorithm_version) for r in lib.measurements_for_region(plan.region_id)})
    settings = load_settings(lib)
    threshold, noise_k = settings.threshold_L, settings.noise_k
    calib_text = {
        "card": "a calibration card in the photo (colour correction and mm scale)",
        "control": "a control patch of unaffected skin marked by the user",
        "model": (
            "a smooth lighting model fitted on unchanged skin; it finds local patches "
            "but cannot see uniform darkening of the whole area"
        ),
        "none": "no normalisation",
    }
    lines = [
        "Each photo is aligned to the region's reference photo (feature matching with a robust homography, "
        "refined by ECC, or points placed by hand); colours are converted from sRGB to linear RGB "
        "and CIELAB (D65).",
        "Alignment quality (0–1): "
        + (
            f"median {sorted(qualities)[len(qualities) // 2]:.2f}, lowest {min(qualities):.2f}"
            if qualities
            else "–"
        )
        + (f"; {failed} photo(s) could not be aligned and are not measured." if failed else "."),
        "Calibration: "
        + ("; ".join(f"{c}: {calib_text.get(c, c)}" for c in calib) if calib else "no measurements yet")
        + ".",
        f"A pixel counts as darker when ΔL* ≤ −max({float(threshold):g}, {float(noise_k):g} × noise); "
        "noise is the robust spread of ΔL* on unchanged skin. Melanin and erythema indices, where shown, "
        "are estimated from RGB.",
        "Algorithm versions: " + (", ".join(versions) if versions else "–") + ".",
    ]
    for line in lines:
        story.append(Paragraph(_esc(line), st["body"]))
    story.append(Paragraph(_esc(NOT_A_DIAGNOSIS), st["notice"]))

    # contact sheet page
    if len(frames) > 1:
        sheet = render_contact_sheet(
            frames, title=plan.region_name, subtitle=plan.date_range_text(), tile=300
        )
        story.append(PageBreak())
        story.append(Paragraph("All check-ins", st["h2"]))
        story.append(_image(sheet, CONTENT_W, PAGE_H - 2 * MARGIN - 30 * mm))
    return story


def _checkin_count(checkins: int, photos: int) -> str:
    return str(checkins) if checkins == photos else f"{checkins}, {photos} photos"


def _heatmap(latest: Frame) -> np.ndarray | None:
    """The latest frame's heatmap with its legend (the export service renders it for the PDF)."""
    return latest.heatmap_full if latest.heatmap_full is not None else latest.heatmap


def _photos_section(
    lib: Library, plan: ExportPlan, frames: list[Frame], st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    """Reference, latest and the change heatmap in one row, the reading and each darkened patch.

    One row keeps the first page full: a heatmap under the photos would not fit beside them
    and would be pushed to the next page, leaving half of the first one empty.
    """
    ref = next((f for f in frames if f.is_reference), frames[0] if frames else None)
    latest = frames[-1] if frames else None
    if ref is None or latest is None:
        return []
    out: list[Flowable] = [Paragraph("Reference, latest check-in and change", st["h2"])]
    heat = _heatmap(latest) if not latest.is_reference else None
    pictures = [ref.picture, latest.picture] + ([heat] if heat is not None else [])
    gap = 4 * mm
    width = (CONTENT_W - gap * (len(pictures) - 1)) / len(pictures)
    captions = [
        f"<b>{'Reference' if ref.is_reference else 'First'}</b> · {formatting.day(ref.taken_at)}",
        f"<b>Latest</b> · {formatting.day(latest.taken_at)}",
        "<b>Change</b> · ΔL* latest vs reference",
    ][: len(pictures)]
    cells = [
        [_image(pic, width, 70 * mm) for pic in pictures],
        [Paragraph(c, st["cell"]) for c in captions],
    ]
    out.append(Table(cells, colWidths=[width + gap] * len(pictures), hAlign="LEFT"))
    said = _reading(latest.metrics) if not latest.is_reference else ""
    if said:
        out.append(Paragraph(f"Latest compared with the reference: {_esc(said)}.", st["body"]))
    note = "Both photos are shown in the geometry of the reference photo (the later one is aligned to it)" + (
        " and the later one is lighting-normalised." if latest.normalised else "."
    )
    if heat is not None:
        note += " Heatmap colours show ΔL* against the reference; outlines mark patches above the threshold."
    elif not latest.is_reference:
        note += " No change heatmap: the change map is not available for this pair."
    out.append(Paragraph(note, st["small"]))
    rows = patch_rows(latest.metrics) if not latest.is_reference else []
    if rows:
        depth = patch_delta_l(latest.metrics)
        out.append(
            Paragraph(
                f"Darkened patches, latest vs reference (area-weighted ΔL* {formatting.delta_l(depth)})",
                st["h2"],
            )
        )
        head = ["Patch", "ΔL*\n(L* units)", "Δb*\n(b* units)", "Area", "Kind"]
        w = CONTENT_W
        out.append(_table([head, *rows], [w * x for x in (0.08, 0.13, 0.13, 0.16, 0.5)]))
    return out


def write_pdf(lib: Library, plan: ExportPlan, frames: list[Frame], out: str | Path) -> None:
    """Write the A4 report to ``out`` (a path; the caller renames it into place)."""
    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=f"Skintrack report: {plan.region_name}",
        author="Skintrack",
        subject=NOT_A_DIAGNOSIS,
        creator=f"Skintrack {__version__}",
    )
    doc.build(build_story(lib, plan, frames), onFirstPage=_footer, onLaterPages=_footer)
