"""Export view: the compare window's current view saved as a PNG that explains itself.

The view is grabbed as shown and a band under it carries the region, the two dates, the mode
and the figures of the comparison (darkened patches' ΔL*, watched-area mean ΔL*, darkened
area, calibration, the reading), so the picture says what it shows when it is sent on its own.
The default name reads ``region_date-vs-date_view.png``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPixmap

from skintrack.core import formatting
from skintrack.core.reading import patch_delta_l, reading
from skintrack.ui.compare.source import PairData

BAND_BG = QColor(255, 255, 255)
BAND_FG = QColor(25, 25, 25)
BAND_MUTED = QColor(85, 85, 85)
MIN_WIDTH = 640  # narrower views are placed on a band this wide so the figures stay readable


@dataclass(frozen=True)
class ViewFacts:
    region: str
    earlier: datetime
    later: datetime
    mode: str


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "region"


def default_name(facts: ViewFacts) -> str:
    """``left-forearm_2026-01-05-vs-2026-03-02_side-by-side.png``."""
    dates = f"{formatting.day(facts.earlier)}-vs-{formatting.day(facts.later)}"
    return f"{slug(facts.region)}_{dates}_{slug(facts.mode)}.png"


def figure_lines(
    facts: ViewFacts, data: PairData | None, *, threshold_l: float, noise_k: float
) -> tuple[str, list[str]]:
    """The band's title and lines: what is compared and what was measured, with units."""
    title = (
        f"{facts.region} · {formatting.day(facts.earlier)} vs {formatting.day(facts.later)} · {facts.mode}"
    )
    change = data.change if data is not None else None
    if data is None or not data.aligned or change is None:
        return title, ["Not aligned: no measurement is shown for these two photos."]
    depth = patch_delta_l(change)
    area = formatting.area(change.darkened_area_mm2, change.darkened_area_px, change.darkened_fraction)
    patches = len(change.patches)
    figures = [
        f"Darkened patches ΔL* {formatting.delta_l(depth)}" if depth is not None else "No darkened patch",
        f"watched-area mean ΔL* {formatting.delta_l(change.mean_delta_L)}",
        f"darkened area {area} ({patches} patch{'es' if patches != 1 else ''})",
        f"calibration: {data.calibration}",
    ]
    said = reading(change, threshold_l=threshold_l, noise_k=noise_k)
    return title, [" · ".join(figures), said[:1].upper() + said[1:] + "."]


def _wrap(metrics: QFontMetrics, text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if metrics.horizontalAdvance(trial) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines


def annotate(view: QPixmap, title: str, lines: list[str]) -> QImage:
    """The view with a white band below it holding ``title`` and ``lines`` (wrapped)."""
    width = max(view.width(), MIN_WIDTH)
    pad = max(10, width // 80)
    body = QFont()
    body.setPixelSize(max(13, width // 70))
    head = QFont(body)
    head.setBold(True)
    head.setPixelSize(round(body.pixelSize() * 1.2))
    hm, bm = QFontMetrics(head), QFontMetrics(body)
    inner = width - 2 * pad
    head_lines = _wrap(hm, title, inner)
    body_lines = [part for line in lines for part in _wrap(bm, line, inner)]
    band = pad * 2 + hm.lineSpacing() * len(head_lines) + bm.lineSpacing() * len(body_lines) + pad // 2
    out = QImage(width, view.height() + band, QImage.Format.Format_RGB32)
    out.fill(BAND_BG)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    painter.drawPixmap((width - view.width()) // 2, 0, view)
    y = view.height() + pad
    painter.setFont(head)
    painter.setPen(BAND_FG)
    for line in head_lines:
        painter.drawText(QRect(pad, y, inner, hm.lineSpacing()), Qt.AlignmentFlag.AlignLeft, line)
        y += hm.lineSpacing()
    y += pad // 2
    painter.setFont(body)
    painter.setPen(BAND_MUTED)
    for line in body_lines:
        painter.drawText(QRect(pad, y, inner, bm.lineSpacing()), Qt.AlignmentFlag.AlignLeft, line)
        y += bm.lineSpacing()
    painter.end()
    return out
