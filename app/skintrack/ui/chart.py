"""TrendChartWidget: the region's trend chart in the details panel.

The figure comes from :mod:`skintrack.export.chart` (the same one the PDF report embeds); this
widget adds the metric selector, hover tooltips and click-through to a check-in.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backend_bases import MouseEvent
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QCursor, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from skintrack.core import formatting
from skintrack.export.chart import DARK, LIGHT, TrendFigure, legend_entries, trend_figure
from skintrack.export.trend_series import (
    METRIC_SYMBOL,
    METRIC_TITLES,
    METRIC_UNIT,
    TrendSeries,
    journal_bins,
    trend_series,
)
from skintrack.library import Library
from skintrack.library.region_rows import RegionRowsCache
from skintrack.ui import theme
from skintrack.ui.chart_canvas import SETTLE_MS, SettlingCanvas
from skintrack.ui.chart_legend import ChartLegend, entry_for

log = logging.getLogger(__name__)

CANVAS_MIN_HEIGHT = 100  # px: the plot stays usable in a 640 px high window
CANVAS_ROOM = 170  # px the plot keeps before the legend moves behind its button


_DIGIT = re.compile(r"\d")
HIT_PX = 9.0  # how close (screen px) the pointer must be to a point or a journal marker


def _texts(fig: Figure) -> tuple[object, ...]:
    """Everything that sizes the chart's margins: figure size, labels, tick labels, legend.

    Digits are all one width in the chart's font, so tick labels count by their shapes ("−0.0"):
    new values with as many digits keep the margins, whatever their number.
    """
    key: list[object] = [fig.bbox.width, fig.bbox.height]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        key += [ax.get_title(loc="left"), ax.get_ylabel(), ax.get_xlabel()]
        for axis in (ax.yaxis, ax.xaxis):  # the labels the draw will make, without making ticks
            locs = axis.get_major_locator()()
            labels = axis.get_major_formatter().format_ticks(locs) if len(locs) else []
            key.append(tuple(sorted({_DIGIT.sub("0", text) for text in labels})))
    for legend in fig.legends:
        key += [t.get_text() for t in legend.get_texts()]
    return tuple(key)


class MarginCachingLayout(ConstrainedLayoutEngine):
    """Constrained layout that runs only when a label, a tick label or the size changed.

    Laying out costs more than drawing the data; switching between regions with similar values
    keeps the same margins, so the axes keep the positions the last layout gave them.
    """

    def __init__(self) -> None:
        super().__init__()
        self._last: tuple[object, ...] | None = None

    def execute(self, fig: Figure) -> None:
        key = _texts(fig)
        if key != self._last:
            super().execute(fig)
            self._last = key

    def invalidate(self) -> None:
        self._last = None


class TrendChartWidget(QWidget):
    """L*, b* or ITA° of the watched area (and control patch) over time; click a point to open it."""

    photoActivated = Signal(int)

    def __init__(self, library: Library | None, region_id: int | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.region_id = region_id
        self.series: TrendSeries | None = None
        self.current_metric = "L"
        self.selected_photo_id: int | None = None
        self.hover_text = ""
        self.drawn_region_id: int | None = None  # the region the canvas last rendered
        self.rows = RegionRowsCache(size=2)  # the library view gives its own, shared with the timeline

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(QLabel("Trend", self))
        self.metric_combo = QComboBox(self)
        self.metric_combo.setObjectName("trendMetric")
        for key, title in METRIC_TITLES.items():
            self.metric_combo.addItem(title, key)
        self.metric_combo.currentIndexChanged.connect(self._metric_changed)
        top.addWidget(self.metric_combo)
        top.addStretch(1)
        self.legend_button = QPushButton("Legend…", self)
        self.legend_button.setObjectName("trendLegendButton")
        self.legend_button.setToolTip("The window is too small for the legend under the chart: show it here")
        self.legend_button.clicked.connect(self.show_legend_popup)
        self.legend_button.hide()
        top.addWidget(self.legend_button)
        self.save_button = QPushButton("Save chart…", self)
        self.save_button.clicked.connect(self._save_dialog)
        top.addWidget(self.save_button)
        lay.addLayout(top)

        self.layout_engine = MarginCachingLayout()
        self.figure = TrendFigure(figsize=(6.0, 3.2), dpi=100, layout=self.layout_engine)
        self.canvas = SettlingCanvas(self.figure)
        self.canvas.setParent(self)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumHeight(CANVAS_MIN_HEIGHT)
        self.canvas.setMouseTracking(True)
        lay.addWidget(self.canvas, 1)
        self.legend = ChartLegend(self)
        self.legend.setObjectName("trendLegend")
        lay.addWidget(self.legend)
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(SETTLE_MS * 2 // 3)  # rebuilt before the canvas's settled draw
        self._relayout.timeout.connect(self._draw)  # date ticks follow the new width
        self.canvas.mpl_connect("resize_event", lambda _e: self._relayout.start())
        self.canvas.mpl_connect("draw_event", self._on_drawn)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.canvas.mpl_connect("button_press_event", self._on_press)
        self.refresh()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_legend()

    def _fit_legend(self) -> None:
        """The legend goes under the chart when both fit; otherwise behind a "Legend…" button, so
        it never covers the plot in a small window."""
        top = self.save_button.sizeHint().height() + self.layout().spacing()
        room = self.height() - top
        fits = room >= CANVAS_ROOM + self.legend.heightForWidth(max(1, self.width()))
        self.legend.setVisible(fits)
        self.legend_button.setVisible(not fits and bool(self.legend.entries))

    @Slot()
    def show_legend_popup(self) -> QMenu:
        """The legend in a popup under the "Legend…" button."""
        menu = QMenu(self)
        copy = ChartLegend(menu)
        copy.setObjectName("trendLegendPopup")
        copy.set_entries(self.legend.entries, self.legend.text_colour)
        width = max(320, self.width())
        copy.setFixedSize(width, copy.heightForWidth(width))
        action = QWidgetAction(menu)
        action.setDefaultWidget(copy)
        menu.addAction(action)
        menu.popup(self.legend_button.mapToGlobal(QPoint(0, self.legend_button.height())))
        return menu

    def changeEvent(self, event: QEvent) -> None:
        """Redraw in the new colours when the app switches between light and dark."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._draw()

    # ---------------------------------------------------------------- data
    def set_region(self, region_id: int | None) -> None:
        self.region_id = region_id
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Rebuild the series from the region's rows (read again only after a library write) and redraw."""
        self.series = None
        if self.library is not None and self.region_id is not None:
            try:
                rows = self.rows.get(self.library, self.region_id)
                self.series = trend_series(self.library, self.region_id, rows)
            except Exception:
                log.exception("trend series for region %s", self.region_id)
        self._draw()

    def set_selected(self, photo_id: int | None) -> None:
        """Mark the check-in selected elsewhere (timeline, details) with a vertical line."""
        if photo_id != self.selected_photo_id:
            self.selected_photo_id = photo_id
            self._draw()

    def set_metric(self, metric: str) -> None:
        idx = self.metric_combo.findData(metric)
        if idx < 0:
            raise ValueError(metric)
        self.metric_combo.setCurrentIndex(idx)
        self.current_metric = metric
        self._draw()

    @Slot()
    def _metric_changed(self) -> None:
        self.current_metric = str(self.metric_combo.currentData())
        self._draw()

    def _draw(self) -> None:
        style = DARK if theme.is_dark(self.palette()) else LIGHT
        if self.series is None:
            self.figure.clear()
            self.figure.set_facecolor(style.face)
            ax = self.figure.add_subplot()
            ax.set_axis_off()
            ax.text(0.5, 0.5, "No region selected", ha="center", va="center", color=style.muted)
            self.legend.set_entries([], QColor(style.text))
        else:
            trend_figure(
                self.series,
                self.current_metric,
                fig=self.figure,
                title="",
                style=style,
                selected_photo_id=self.selected_photo_id,
                legend=False,
            )
            handles, labels = legend_entries(self.figure)
            entries = [entry_for(h, lab) for h, lab in zip(handles, labels, strict=True)]
            self.legend.set_entries(entries, QColor(style.text))
        self._fit_legend()
        self.canvas.draw_idle()

    def _on_drawn(self, _event: object) -> None:
        self.drawn_region_id = self.series.region_id if self.series is not None else None

    # ---------------------------------------------------------------- hit testing
    def _main_ax(self) -> Axes | None:
        return self.figure.main_ax

    def point_at(self, x: float, y: float) -> int | None:
        """Index of the check-in point nearest to display coords (x, y), within HIT_PX."""
        ax = self._main_ax()
        if ax is None or self.series is None:
            return None
        best, best_d = None, HIT_PX
        for i, (d, v) in enumerate(
            zip(self.series.dates, self.series.values(self.current_metric), strict=True)
        ):
            if v is None:
                continue
            px, py = ax.transData.transform((mdates.date2num(d), v))
            dist = ((px - x) ** 2 + (py - y) ** 2) ** 0.5
            if dist <= best_d:
                best, best_d = i, dist
        return best

    def journal_at(self, x: float, y: float) -> list[str]:
        ax = self._main_ax()
        if ax is None or self.series is None:
            return []
        trans = ax.get_xaxis_transform()
        out = []
        for kind in {j.kind for j in self.series.journal}:
            for b in journal_bins(self.series.journal, kind):
                at = b.at + (timedelta(days=3) if b.period == "week" else timedelta(0))
                px, py = trans.transform((mdates.date2num(at), 0.03))
                if abs(px - x) <= HIT_PX and abs(py - y) <= HIT_PX:
                    out.append(b.text)
        return out

    def display_pos(self, index: int) -> QPoint:
        """Widget (canvas) coordinates of point ``index``: for tests and keyboard focus."""
        ax = self._main_ax()
        assert ax is not None and self.series is not None
        v = self.series.values(self.current_metric)[index]
        px, py = ax.transData.transform((mdates.date2num(self.series.dates[index]), v))
        ratio = self.canvas.device_pixel_ratio or 1.0
        height = self.figure.bbox.height
        return QPoint(round(px / ratio), round((height - py) / ratio))

    def tooltip_for(self, index: int) -> str:
        assert self.series is not None
        p = self.series.points[index]
        if p.is_reference:
            return f"{formatting.day(p.taken_at)} · reference"
        metric = self.current_metric
        symbol, unit = METRIC_SYMBOL[metric], METRIC_UNIT[metric]
        lines = [formatting.day(p.taken_at)]
        patches = p.patches(metric)
        if patches is not None:
            kinds = ", ".join(sorted(set(p.kinds))) or "patches"
            lines.append(f"darkened patches {symbol} {formatting.signed(patches, unit=unit)} ({kinds})")
        lines.append(f"watched-area mean {symbol} {formatting.signed(p.value(metric), unit=unit)}")
        if p.area_mm2 is not None or p.area_fraction is not None or p.area_px:
            lines.append(f"darkened area {formatting.area(p.area_mm2, p.area_px, p.area_fraction)}")
        if p.noise is not None:
            lines.append(f"measurement noise {formatting.number(p.noise, 1)} L*")
        if p.shots > 1:
            lines.append(f"measured on the {p.shot_note}")
        return "\n".join(lines) + "\nClick to open this check-in"

    def _on_motion(self, event: MouseEvent) -> None:
        if event.x is None or event.y is None:
            return
        idx = self.point_at(event.x, event.y)
        if idx is not None:
            self.canvas.setCursor(Qt.CursorShape.PointingHandCursor)
            QToolTip.showText(QCursor.pos(), self.tooltip_for(idx), self.canvas)
            self.hover_text = self.tooltip_for(idx)
            return
        self.canvas.setCursor(Qt.CursorShape.ArrowCursor)
        notes = self.journal_at(event.x, event.y)
        if notes:
            self.hover_text = "\n".join(notes)
            QToolTip.showText(QCursor.pos(), self.hover_text, self.canvas)
        else:
            self.hover_text = ""
            QToolTip.hideText()

    def _on_press(self, event: MouseEvent) -> None:
        if event.button != 1 or event.x is None or event.y is None or self.series is None:
            return
        idx = self.point_at(event.x, event.y)
        if idx is not None:
            self.photoActivated.emit(self.series.points[idx].photo_id)

    # ---------------------------------------------------------------- export
    def save(self, path: str) -> None:
        """PNG or SVG by suffix, at print resolution, with the legend drawn into the picture."""
        dpi = 200 if path.lower().endswith(".png") else None
        if self.series is None:
            self.figure.savefig(path, dpi=dpi)
            return
        style = DARK if theme.is_dark(self.palette()) else LIGHT
        width, height = self.figure.get_size_inches()
        fig = trend_figure(
            self.series,
            self.current_metric,
            figsize=(max(width, 6.0), max(height, 3.2) + 0.6),
            title="",
            style=style,
            selected_photo_id=self.selected_photo_id,
        )
        fig.savefig(path, dpi=dpi)

    @Slot()
    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save chart", "trend.png", "PNG image (*.png);;SVG (*.svg)"
        )
        if path:
            self.save(path)
