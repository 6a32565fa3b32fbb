"""Quality badges: one small pill per capture-quality check, and the most useful advice.

Each pill shows a symbol as well as a colour (✓ pass, ! warn, ✕ fail), so the state does not
rely on colour alone; its tooltip holds that check's advice. Only drawing and text here.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from skintrack.core.quality import CHECK_LABELS, QualityReport
from skintrack.ui.theme import DARKENING, STABLE, UNKNOWN, WATCH

STATUS_COLOURS = {"pass": STABLE, "warn": WATCH, "fail": DARKENING}
STATUS_SYMBOLS = {"pass": "✓", "warn": "!", "fail": "✕"}
SYMBOL_WIDTH = 20  # px: the ✓ ! ✕ column and the gap after it
ORDER = ("framing", "sharpness", "clipping", "exposure", "glare", "evenness", "colour_cast", "chart")


def _pill_style(colour: QColor) -> str:
    return (
        f"QLabel {{ background: {colour.name()}; color: white; border-radius: 9px;"
        " padding: 2px 8px; font-weight: 600; }"
    )


def _badge_text(symbol: str, label: str) -> str:
    """Symbol and label with the symbol in a fixed-width cell, so the labels line up."""
    return (
        f'<table cellspacing="0" cellpadding="0"><tr><td width="{SYMBOL_WIDTH}">'
        f"{html.escape(symbol)}</td><td>{html.escape(label)}</td></tr></table>"
    )


class QualityBadges(QFrame):
    """A column of check badges with the top advice underneath; ``show_report`` updates it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("qualityBadges")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.setFixedWidth(190)
        self.title = QLabel("<b>Photo check</b>", self)
        self.badges: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        for name in ORDER:
            badge = QLabel(self)
            badge.setObjectName(f"badge_{name}")
            badge.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            badge.hide()
            layout.addWidget(badge)
            self.badges[name] = badge
        self.advice = QLabel("Checking the picture…", self)
        self.advice.setObjectName("qualityAdvice")
        self.advice.setWordWrap(True)
        self.advice.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addSpacing(4)
        layout.addWidget(self.advice, 1)
        self.report: QualityReport | None = None

    def show_report(self, report: QualityReport, note: str = "") -> None:
        """Show every check of ``report``; the advice line names the worst problem (or ``note``)."""
        self.report = report
        for name, badge in self.badges.items():
            check = report.checks.get(name)
            if check is None:
                badge.hide()
                continue
            colour = STATUS_COLOURS.get(check.status, UNKNOWN)
            symbol, label = STATUS_SYMBOLS.get(check.status, "?"), CHECK_LABELS.get(name, name)
            if name == "chart" and check.status == "pass" and not check.details.get("chart"):
                colour, symbol, label = UNKNOWN, "–", "No chart (optional)"  # absent, not expected
            badge.setText(_badge_text(symbol, label))
            badge.setStyleSheet(_pill_style(colour))
            badge.setToolTip(check.advice)
            badge.setAccessibleName(f"{CHECK_LABELS.get(name, name)}: {check.status}")
            badge.show()
        problems = report.problems()
        text = problems[0].advice if problems else "All checks pass."
        self.advice.setText(f"{text} {note}".strip())

    def status_of(self, name: str) -> str | None:
        """The status shown for a check (tests, accessibility)."""
        if self.report is None or name not in self.report.checks:
            return None
        return self.report.checks[name].status

    def clear(self, text: str = "Checking the picture…") -> None:
        self.report = None
        for badge in self.badges.values():
            badge.hide()
        self.advice.setText(text)
