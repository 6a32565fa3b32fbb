"""The printable calibration card as a one-page vector PDF at true size.

The layout (patches, markers, ruler, label) is ``core.card``'s, the one the detector expects;
this module only draws it with reportlab, so printing at 100 % gives a card of 85.6 x 54 mm.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from skintrack.core.card import (
    CARD_LABEL,
    CARD_SIZE_MM,
    CUT_LINE_MM,
    LABEL_BASELINE_MM,
    LABEL_SIZE_MM,
    MARKER_MODULES,
    MARKER_SIZE_MM,
    MARKERS,
    PATCHES,
    RULER_MM,
    WHITE_OUTLINE_MM,
    marker_bits,
    ruler_ticks,
)
from skintrack.core.fsutil import atomic_write_bytes


def card_pdf_bytes() -> bytes:
    """The card as a one-page vector PDF whose page is exactly the card (85.6 x 54 mm)."""
    w_mm, h_mm = CARD_SIZE_MM
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(w_mm * mm, h_mm * mm), invariant=1, pageCompression=1)
    c.setTitle("Skintrack calibration card")
    c.setAuthor("Skintrack")
    c.setSubject("Print at 100 % (actual size, no fit-to-page). Card 85.6 x 54 mm.")

    def rect(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        """Card mm (y down) -> PDF points (y up)."""
        return x * mm, (h_mm - y - h) * mm, w * mm, h * mm

    for patch in PATCHES:
        c.setFillColorRGB(*(v / 255 for v in patch.srgb))
        c.rect(*rect(*patch.rect_mm), stroke=0, fill=1)
        if patch.name == "white":
            x, y, w, h = patch.rect_mm
            half = WHITE_OUTLINE_MM / 2
            c.setStrokeColorRGB(190 / 255, 190 / 255, 190 / 255)
            c.setLineWidth(WHITE_OUTLINE_MM * mm)
            c.rect(*rect(x + half, y + half, w - 2 * half, h - 2 * half), stroke=1, fill=0)

    module = MARKER_SIZE_MM / MARKER_MODULES
    for marker_id, (mx, my) in MARKERS.items():
        c.setFillColorRGB(0, 0, 0)
        c.rect(*rect(mx, my, MARKER_SIZE_MM, MARKER_SIZE_MM), stroke=0, fill=1)
        path = c.beginPath()  # all white modules in one path: no hairline seams between neighbours
        bits = marker_bits(marker_id)
        for r, col in zip(*np.nonzero(bits), strict=True):
            path.rect(*rect(mx + col * module, my + r * module, module, module))
        c.setFillColorRGB(1, 1, 1)
        c.drawPath(path, stroke=0, fill=1)

    x0, base, length = RULER_MM
    c.setStrokeColorRGB(0, 0, 0)
    c.setLineWidth(0.15 * mm)
    c.setLineCap(0)
    c.line(x0 * mm, (h_mm - base) * mm, (x0 + length) * mm, (h_mm - base) * mm)
    for x, tick in ruler_ticks():
        c.line(x * mm, (h_mm - base) * mm, x * mm, (h_mm - base + tick) * mm)
    c.setFillColorRGB(0, 0, 0)
    c.setFont("Helvetica", 1.8 * mm / 0.72)
    for i in range(0, int(length) + 1, 10):
        c.drawCentredString((x0 + i) * mm, (h_mm - base + 4.3) * mm, str(i))
    c.drawString((x0 + length + 2) * mm, (h_mm - base + 0.2) * mm, "mm")
    c.setFont("Helvetica", LABEL_SIZE_MM * mm / 0.72)
    c.drawCentredString(w_mm / 2 * mm, (h_mm - LABEL_BASELINE_MM) * mm, CARD_LABEL)
    c.setStrokeColorRGB(200 / 255, 200 / 255, 200 / 255)  # cut line on the card edge
    c.setLineWidth(CUT_LINE_MM * mm)
    half = CUT_LINE_MM / 2
    c.rect(half * mm, half * mm, (w_mm - CUT_LINE_MM) * mm, (h_mm - CUT_LINE_MM) * mm, stroke=1, fill=0)
    c.showPage()
    c.save()
    return buf.getvalue()


def write_card_pdf(path: str | os.PathLike[str]) -> Path:
    """Write the printable card atomically; returns the path."""
    target = Path(path)
    atomic_write_bytes(target, card_pdf_bytes())
    return target
