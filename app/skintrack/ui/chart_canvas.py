"""A matplotlib canvas that draws once its size has settled.

Matplotlib's Qt canvas redraws on every resize and every ``draw_idle`` request. When a window
opens or a splitter moves, the details panel's layout settles over several passes, and each pass
cost a full Agg draw on the GUI thread (70–300 ms with the trend chart's layout). This canvas
coalesces the requests: nothing is drawn while it is hidden, and a draw waits until no resize has
come for ``SETTLE_MS``. Until then it shows its last picture.
"""

from __future__ import annotations

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QTimer
from PySide6.QtGui import QResizeEvent, QShowEvent

SETTLE_MS = 60  # a resize drag sends events every ~16 ms; a settled layout sends none


class SettlingCanvas(FigureCanvasQTAgg):
    """``draw_idle`` that waits for the widget to be shown and its size to settle."""

    def __init__(self, figure: Figure) -> None:
        super().__init__(figure)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.timeout.connect(self._draw_now)
        self._wanted = False  # a draw was asked for while hidden

    def draw_idle(self) -> None:
        self._request(0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)  # resizes the figure and asks for a draw: a settling one
        self._request(SETTLE_MS)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._wanted:
            self._request(SETTLE_MS)

    def draw_pending(self) -> bool:
        """Whether a draw has been asked for and not made yet."""
        return self._wanted

    def _request(self, delay_ms: int) -> None:
        self._wanted = True
        if not self.isVisible():
            return
        if self._settle.isActive():
            delay_ms = max(delay_ms, self._settle.remainingTime())
        self._settle.start(delay_ms)

    def _draw_now(self) -> None:
        if self._wanted and self.isVisible():
            self._wanted = False
            super().draw_idle()
