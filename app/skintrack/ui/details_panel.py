"""Details of the selected check-in: large preview (loaded off-thread), date, notes, metrics, trend chart."""

from __future__ import annotations

import logging
from typing import Any

import shiboken6
from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QPainter, QPaintEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from skintrack.core import formatting
from skintrack.library import AlignmentRecord, Library
from skintrack.library.models import Photo
from skintrack.library.settings import defaults
from skintrack.progress import CancelToken
from skintrack.ui import theme
from skintrack.ui.chart import TrendChartWidget
from skintrack.ui.delegates import indicator
from skintrack.ui.details_text import (
    METRIC_TIPS,
    NONE,
    ORIGINAL_TEXT,
    breakable_path,
    metric_texts,
)
from skintrack.ui.quality_cell import show_stored_quality
from skintrack.ui.tasks import Pool, TaskHandle, run_task

log = logging.getLogger(__name__)

PREVIEW_SIZE = 1024
NOTES_MIN_WIDTH = 170  # px: a notes box narrower than this is not usable
STACK_BELOW_WIDTH = 420  # px: below this panel width the notes go under the metrics
PROBLEM_ON_DARK = "#ff8a80"  # theme.PROBLEM lightened: the dark red is hard to read on dark grey
CHART_MIN_HEIGHT = 140  # px: the trend chart stays readable at 1024 × 640
INFO_MAX_HEIGHT = 220  # px: the metrics area asks for its rows up to this (then it scrolls)


class PreviewLabel(QWidget):
    """Paints a pixmap scaled to fit, keeping its aspect ratio; a message when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self.message = "Select a check-in"
        self.setMinimumSize(160, 80)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_pixmap(self, pm: QPixmap | None, message: str = "") -> None:
        self._pixmap = pm
        self.message = message
        self.update()

    def pixmap(self) -> QPixmap | None:
        return self._pixmap

    def sizeHint(self) -> QSize:
        return QSize(420, 160)  # it grows into any room left (Expanding); the metrics come first

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        r = self.rect()
        if self._pixmap is None or self._pixmap.isNull():
            p.setPen(self.palette().color(self.foregroundRole()))
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            p.drawText(r.adjusted(8, 8, -8, -8), int(flags), breakable_path(self.message))
            return
        size = self._pixmap.size().scaled(r.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x = r.x() + (r.width() - size.width()) // 2
        y = r.y() + (r.height() - size.height()) // 2
        p.drawPixmap(x, y, size.width(), size.height(), self._pixmap)


class DetailsPanel(QWidget):
    notesSaveRequested = Signal(int, str)  # photo id, notes
    photoActivated = Signal(int)  # from the trend chart
    manualAlignRequested = Signal(int)  # photo id that could not be aligned

    def __init__(self, library: Library | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailsPanel")
        self.library = library
        self.photo: Photo | None = None
        self.region_id: int | None = None
        self.threshold_L = defaults().threshold_L
        self._preview_task: TaskHandle | None = None
        self.analysing = False  # the region is being analysed in the background

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("detailsSplitter")
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter)

        top = QWidget(self.splitter)
        tl = QVBoxLayout(top)
        tl.setContentsMargins(12, 8, 12, 4)
        head = QHBoxLayout()
        self.date_label = QLabel(NONE, top)
        self.date_label.setObjectName("detailsDate")
        f = self.date_label.font()
        f.setPointSizeF(f.pointSizeF() * 1.35)
        f.setBold(True)
        self.date_label.setFont(f)
        head.addWidget(self.date_label)
        head.addStretch(1)
        self.source_label = QLabel("", top)
        self.source_label.setObjectName("detailsSource")
        head.addWidget(self.source_label)
        tl.addLayout(head)
        self.preview = PreviewLabel(top)
        self.preview.setObjectName("detailsPreview")
        tl.addWidget(self.preview, 1)
        self.original_label = QLabel("", top)
        self.original_label.setObjectName("detailsOriginal")
        self.original_label.setWordWrap(True)
        self.original_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.original_label.hide()
        tl.addWidget(self.original_label)
        reading_row = QHBoxLayout()
        self.reading_label = QLabel("", top)
        self.reading_label.setObjectName("detailsReading")
        self.reading_label.setWordWrap(True)
        reading_row.addWidget(self.reading_label, 1)
        self.align_button = QPushButton("Align by hand…", top)
        self.align_button.setObjectName("manualAlignButton")
        self.align_button.setToolTip("Click matching points in this photo and the reference")
        self.align_button.clicked.connect(self._align_by_hand)
        self.align_button.hide()
        reading_row.addWidget(self.align_button, 0, Qt.AlignmentFlag.AlignTop)
        tl.addLayout(reading_row)

        info = QWidget()
        self.info = info
        il = QBoxLayout(QBoxLayout.Direction.LeftToRight, info)
        il.setContentsMargins(0, 0, 0, 0)
        self.info_layout = il
        form_box = QWidget(info)
        self.form = QFormLayout(form_box)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(3)
        self.values: dict[str, QLabel] = {}
        for key, title in (
            ("alignment", "Alignment"),
            ("calibration", "Calibration"),
            ("delta_L", "Mean ΔL*"),
            ("delta_b", "Mean Δb*"),
            ("delta_ita", "Mean ΔITA°"),
            ("delta_e", "Mean ΔE2000"),
            ("area", "Darkened area"),
            ("noise", "Noise (ΔL*)"),
            ("quality", "Capture quality"),
        ):
            label = QLabel(NONE, form_box)
            label.setObjectName(f"metric_{key}")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            label.setToolTip(METRIC_TIPS.get(key, ""))
            self.values[key] = label
            self.form.addRow(title, label)
            field_label = self.form.labelForField(label)
            if field_label is not None:
                field_label.setToolTip(METRIC_TIPS.get(key, ""))
        il.addWidget(form_box, 3)
        notes_box = QWidget(info)
        nl = QVBoxLayout(notes_box)
        nl.setContentsMargins(0, 0, 0, 0)
        nl.addWidget(QLabel("Notes", notes_box))
        self.notes = QPlainTextEdit(notes_box)
        self.notes.setObjectName("notesEdit")
        self.notes.setPlaceholderText("What you noticed, what changed…")
        lines = self.notes.fontMetrics().lineSpacing()
        self.notes.setMinimumHeight(3 * lines + 12)  # three readable lines, also at 1024 × 640
        self.notes.setMaximumHeight(6 * lines + 12)
        notes_box.setMinimumWidth(NOTES_MIN_WIDTH)
        self.notes.textChanged.connect(self._notes_edited)
        nl.addWidget(self.notes)
        self.save_notes = QPushButton("Save notes", notes_box)
        self.save_notes.setObjectName("saveNotes")
        self.save_notes.setEnabled(False)
        self.save_notes.clicked.connect(self._save_notes)
        nl.addWidget(self.save_notes, 0, Qt.AlignmentFlag.AlignRight)
        il.addWidget(notes_box, 2)
        scroll = QScrollArea(top)
        scroll.setObjectName("detailsInfo")
        scroll.setWidget(info)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.info_scroll = scroll
        tl.addWidget(scroll)

        self.chart = TrendChartWidget(library, None, self.splitter)
        self.chart.setObjectName("trendChart")
        self.chart.setMinimumHeight(CHART_MIN_HEIGHT)  # its own hint (~250 px) would not fit 640 px
        self.chart.photoActivated.connect(self.photoActivated)
        self._chart_timer = QTimer(self)
        self._chart_timer.setSingleShot(True)
        self._chart_timer.setInterval(0)
        self._chart_timer.timeout.connect(self.refresh_chart)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.show_photo(None)

    # ---------------------------------------------------------------- layout
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_info()

    def fit_info(self) -> None:
        """Notes beside the metrics when there is room, under them when the panel is narrow; the
        metrics area is as tall as its rows (no row cut off), up to INFO_MAX_HEIGHT, so the
        window still fits a 640 px high screen."""
        narrow = self.width() < STACK_BELOW_WIDTH
        self.info_layout.setDirection(
            QBoxLayout.Direction.TopToBottom if narrow else QBoxLayout.Direction.LeftToRight
        )
        self.info_layout.setStretch(0, 0 if narrow else 3)
        self.info_layout.setStretch(1, 0 if narrow else 2)
        self.info_layout.activate()
        width = max(1, self.info_scroll.viewport().width())
        needed = self.info.heightForWidth(width) if self.info.hasHeightForWidth() else -1
        if needed <= 0:
            needed = self.info.sizeHint().height()
        self.info_scroll.setMinimumHeight(min(needed + 2, INFO_MAX_HEIGHT))

    # ---------------------------------------------------------------- region / photo
    def set_region(self, region_id: int | None) -> None:
        if region_id == self.region_id:
            return
        self.region_id = region_id
        self.refresh_chart_soon()

    def refresh_chart_soon(self) -> None:
        """Coalesce refreshes: the chart draws with matplotlib on this thread (~100-300 ms)."""
        self._chart_timer.start()

    @Slot()
    def refresh_chart(self) -> None:
        self._chart_timer.stop()
        try:
            self.chart.set_region(self.region_id)
        except Exception:  # a chart that cannot draw must not take the details panel with it
            log.exception("trend chart failed for region %s", self.region_id)

    def show_photo(
        self,
        photo: Photo | None,
        metrics: dict[str, Any] | None = None,
        *,
        is_reference: bool = False,
        alignment: AlignmentRecord | None = None,
        original: str | None = None,
        original_path: object = None,
    ) -> None:
        """Show ``photo``; ``alignment`` (an AlignmentRecord) explains a missing measurement;
        ``original`` ("missing" | "altered") is what the library check found wrong with its file."""
        same = photo is not None and self.photo is not None and photo.id == self.photo.id
        self.photo = photo
        self.align_button.hide()
        self._show_original(original, original_path)
        if not same:
            self._set_notes(photo.notes if photo else "")
        self.notes.setEnabled(photo is not None)
        if photo is None:
            self.date_label.setText("No check-in selected")
            self.source_label.setText("")
            self.preview.set_pixmap(None, "Select a check-in")
            self.reading_label.setText("")
            for label in self.values.values():
                label.setText(NONE)
            show_stored_quality(self.values["quality"], self.library, None)
            self.fit_info()
            return
        self.date_label.setText(formatting.day_time(photo.taken_at))
        source = {
            "exif": "date from the photo",
            "file": "date from the file",
            "user": "date set by you",
            "now": "date of import",
        }.get(photo.taken_at_source, "")
        self.source_label.setText(("Reference · " if is_reference else "") + source)
        if not same:
            self._load_preview(photo)
        self._show_metrics(metrics, is_reference, alignment)
        show_stored_quality(self.values["quality"], self.library, photo.id)
        self.fit_info()

    def _show_metrics(
        self, m: dict[str, Any] | None, is_reference: bool, alignment: AlignmentRecord | None = None
    ) -> None:
        v = self.values
        if is_reference:
            for label in v.values():
                label.setText(NONE)
            v["alignment"].setText("reference photo (all others are aligned to it)")
            self.reading_label.setText("This is the baseline the other check-ins are measured against.")
            return
        failed_here = bool(m) and (m.get("alignment") or {}).get("ok", True) is False
        if not m or failed_here:
            for label in v.values():
                label.setText(NONE)
            if failed_here or (alignment is not None and not alignment.ok):
                message = alignment.message if alignment is not None else ""
                message = message or str((m or {}).get("alignment", {}).get("message") or "")
                v["alignment"].setText("not aligned")
                why = f" ({message})" if message else ""
                self.reading_label.setText(
                    f"No measurement: this photo could not be aligned with the reference{why}. "
                    "Align it by hand, or retake it framed like the reference."
                )
                self.align_button.show()
            elif self.analysing:
                v["alignment"].setText("being analysed…")
                self.reading_label.setText("Being analysed in the background; the result appears here.")
            else:
                v["alignment"].setText("not analysed yet")
                self.reading_label.setText("Not analysed yet: use Analyse region (Ctrl+R).")
            return
        for key, text in metric_texts(m).items():
            v[key].setText(text)
        try:
            from skintrack.core.reading import reading

            text = reading(m, threshold_l=self.threshold_L)
        except Exception:
            text = indicator(m, self.threshold_L)[2]
        self.reading_label.setText(text[:1].upper() + text[1:] + ".")

    def _show_original(self, problem: str | None, path: object) -> None:
        text = ORIGINAL_TEXT.get(problem or "")
        if not text:
            self.original_label.hide()
            self.original_label.setText("")
            return
        where = f": {breakable_path(path)}" if path else ""
        colour = PROBLEM_ON_DARK if theme.is_dark(self.palette()) else theme.PROBLEM.name()
        self.original_label.setStyleSheet(f"color: {colour};")  # readable in both themes
        self.original_label.setText(
            f"{text}{where}. Restore it from a backup (Library ▸ Restore from backup…)."
        )
        self.original_label.show()

    @Slot()
    def _align_by_hand(self) -> None:
        if self.photo is not None:
            self.manualAlignRequested.emit(self.photo.id)

    # ---------------------------------------------------------------- preview
    def _load_preview(self, photo: Photo) -> None:
        if self._preview_task is not None:
            self._preview_task.cancel()
        self.preview.set_pixmap(None, "Loading…")
        lib = self.library

        def job(token: CancelToken) -> QImage:
            token.raise_if_cancelled()
            path = lib.thumbnail_path(photo, PREVIEW_SIZE)
            token.raise_if_cancelled()
            img = QImage(str(path))
            if img.isNull():
                raise OSError(f"cannot read {path}")
            return img

        pid = photo.id
        self._preview_task = run_task(
            job,
            on_result=lambda img: self._preview_loaded(pid, img),
            on_error=lambda msg: self._preview_failed(pid, msg),
            pool=Pool.THUMBS,
            name=f"preview {pid}",
        )

    def _showing(self, photo_id: int) -> bool:
        return shiboken6.isValid(self) and self.photo is not None and self.photo.id == photo_id

    def _preview_loaded(self, photo_id: int, image: QImage) -> None:
        if self._showing(photo_id):
            self.preview.set_pixmap(QPixmap.fromImage(image))

    def _preview_failed(self, photo_id: int, message: str) -> None:
        if not self._showing(photo_id):
            return
        if not self.original_label.isHidden():  # the reason is already said in words below
            self.preview.set_pixmap(None, "No preview: the original photo file is not usable.")
        else:
            self.preview.set_pixmap(None, f"Cannot show this photo: {message}")

    # ---------------------------------------------------------------- notes
    def _set_notes(self, text: str) -> None:
        self.notes.blockSignals(True)
        self.notes.setPlainText(text)
        self.notes.blockSignals(False)
        self.save_notes.setEnabled(False)

    @Slot()
    def _notes_edited(self) -> None:
        self.save_notes.setEnabled(self.photo is not None and self.notes.toPlainText() != self.photo.notes)

    @Slot()
    def _save_notes(self) -> None:
        if self.photo is not None:
            self.save_notes.setEnabled(False)
            self.notesSaveRequested.emit(self.photo.id, self.notes.toPlainText())
