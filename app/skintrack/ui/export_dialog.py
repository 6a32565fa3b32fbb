"""Export dialog: format, dates, check-ins, options, live preview, progress + cancel.

No image maths here: the preview (``services.export_preview``: the chosen format in small) and
the export (``services.export``) run in workers through ``ui.tasks.run_task``; a preview still
running is cancelled as soon as a choice changes. Slots only update widgets. The plan is built by
the pure ``export.plan.build_plan`` so the dialog and the CLI export exactly the same thing. After
an export, Open and Show in folder lead to the file; its folder is the next export's default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from datetime import date
from pathlib import Path

import shiboken6
from PySide6.QtCore import QDate, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QDesktopServices,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QListView,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from skintrack.core import formatting
from skintrack.errors import SkintrackError
from skintrack.export.plan import (
    FORMAT_LABELS,
    FORMATS,
    MAX_FRAME_MS,
    MAX_SIZE,
    MIN_FRAME_MS,
    MIN_SIZE,
    SUFFIXES,
    ExportOptions,
    ExportPlan,
    build_plan,
)
from skintrack.library import Library
from skintrack.progress import CancelToken, Progress
from skintrack.services.export import run_export
from skintrack.services.export_preview import ExportPreview, render_export_preview
from skintrack.ui import exported_files
from skintrack.ui.export_preview_view import ExportPreviewView
from skintrack.ui.task_footer import TaskFooter
from skintrack.ui.tasks import TaskHandle, run_task

PHOTO_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PREVIEW_DELAY_MS = 250


def _qdate(d: date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> date:
    return date(q.year(), q.month(), q.day())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "region"


class ExportDialog(QDialog):
    """Export one region; ``exportFinished(path)`` is emitted on success ("" on cancel or failure)."""

    exportFinished = Signal(str)

    def __init__(self, library: Library, region_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.region_id = region_id
        self.region = library.region(region_id)
        self.photos = list(library.list_photos(region_id))
        self.export_handle: TaskHandle | None = None
        self.preview_handle: TaskHandle | None = None
        self.last_output: Path | None = None
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl  # tests replace it
        self._preview_generation = 0
        self.setWindowTitle(f"Export {self.region.name}")
        self._build()
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.refresh_preview)
        self._connect()
        self._format_changed()
        self.schedule_preview()

    # ---------------------------------------------------------------- layout
    def _build(self) -> None:
        self.format_combo = QComboBox()
        for key in FORMATS:
            self.format_combo.addItem(FORMAT_LABELS[key], key)

        days = [p.taken_at.date() for p in self.photos] or [date.today()]
        self.from_check, self.from_date = QCheckBox("From"), QDateEdit(_qdate(min(days)))
        self.to_check, self.to_date = QCheckBox("To"), QDateEdit(_qdate(max(days)))
        for edit in (self.from_date, self.to_date):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
        dates = QHBoxLayout()
        for w in (self.from_check, self.from_date, self.to_check, self.to_date):
            dates.addWidget(w)
        dates.addStretch(1)

        self.photo_model = QStandardItemModel(self)
        for p in self.photos:
            ref = " (reference)" if p.id == self.region.reference_photo_id else ""
            item = QStandardItem(f"{formatting.day(p.taken_at)}  {p.original_name}{ref}")
            item.setCheckable(True)
            item.setCheckState(Qt.CheckState.Checked)
            item.setEditable(False)
            item.setData(p.id, PHOTO_ID_ROLE)
            self.photo_model.appendRow(item)
        self.photo_list = QListView()
        self.photo_list.setModel(self.photo_model)
        self.photo_list.setMinimumHeight(120)
        self.all_button, self.none_button = QPushButton("All"), QPushButton("None")
        sel_buttons = QHBoxLayout()
        sel_buttons.addWidget(self.all_button)
        sel_buttons.addWidget(self.none_button)
        sel_buttons.addStretch(1)

        self.heatmap_check = QCheckBox("Add the change heatmap")
        self.frame_ms = QSpinBox(minimum=MIN_FRAME_MS, maximum=MAX_FRAME_MS, value=600, suffix=" ms")
        self.frame_ms.setSingleStep(100)
        self.size_spin = QSpinBox(minimum=MIN_SIZE, maximum=MAX_SIZE, value=720, suffix=" px")
        self.size_spin.setSingleStep(80)
        self.keep_exif = QCheckBox("Keep the photos' EXIF data (may include GPS location)")
        self.keep_exif.setToolTip(
            "Off by default: exported images carry no location or camera serial numbers."
        )

        options = QFormLayout()
        options.addRow("Format", self.format_combo)
        options.addRow("Dates", dates)
        options.addRow("Frame duration", self.frame_ms)
        options.addRow("Frame size (long side)", self.size_spin)
        options.addRow("", self.heatmap_check)
        options.addRow("", self.keep_exif)

        left = QVBoxLayout()
        left.addLayout(options)
        checkins = QGroupBox("Check-ins to include")
        cl = QVBoxLayout(checkins)
        cl.addWidget(self.photo_list)
        cl.addLayout(sel_buttons)
        left.addWidget(checkins, 1)

        self.preview_view = ExportPreviewView(self)
        self.preview, self.preview_caption = self.preview_view.preview, self.preview_view.caption

        top = QHBoxLayout()
        top.addLayout(left, 1)
        top.addWidget(self.preview_view, 1)

        self.footer = TaskFooter(self, in_status_bar=False)
        self.progress, self.status = self.footer.bar, self.footer.label
        self.progress.setRange(0, 1)
        self.export_button = QPushButton("Export…")
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Close")
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("openExport")
        self.open_button.setToolTip("Open the exported file")
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.setObjectName("revealExport")
        self.reveal_button.setToolTip("Show the exported file in its folder")
        for b in (self.open_button, self.reveal_button):
            b.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.reveal_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)

        root = QVBoxLayout(self)
        root.addLayout(top, 1)
        root.addWidget(self.footer)
        root.addLayout(buttons)

    def _connect(self) -> None:
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.from_check.toggled.connect(self.from_date.setEnabled)
        self.to_check.toggled.connect(self.to_date.setEnabled)
        for sig in (
            self.format_combo.currentIndexChanged,
            self.from_check.toggled,
            self.to_check.toggled,
            self.from_date.dateChanged,
            self.to_date.dateChanged,
            self.heatmap_check.toggled,
            self.size_spin.valueChanged,
            self.photo_model.itemChanged,
        ):
            sig.connect(self.schedule_preview)
        self.all_button.clicked.connect(lambda: self._check_all(True))
        self.none_button.clicked.connect(lambda: self._check_all(False))
        self.frame_ms.valueChanged.connect(self._frame_ms_changed)
        self.open_button.clicked.connect(self.open_output)
        self.reveal_button.clicked.connect(self.reveal_output)
        self.export_button.clicked.connect(self._ask_and_export)
        self.cancel_button.clicked.connect(self._cancel_or_close)

    # ---------------------------------------------------------------- state
    @property
    def format(self) -> str:
        return str(self.format_combo.currentData())

    def set_format(self, fmt: str) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))

    def _check_all(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for row in range(self.photo_model.rowCount()):
            self.photo_model.item(row).setCheckState(state)

    def checked_ids(self) -> list[int]:
        return [
            int(self.photo_model.item(r).data(PHOTO_ID_ROLE))
            for r in range(self.photo_model.rowCount())
            if self.photo_model.item(r).checkState() == Qt.CheckState.Checked
        ]

    @Slot()
    def _format_changed(self) -> None:
        fmt = self.format
        moving = fmt in ("gif", "mp4")
        images = fmt in ("contact-sheet", "gif", "mp4", "pdf", "zip")
        self.frame_ms.setEnabled(moving)
        self.size_spin.setEnabled(images)
        self.heatmap_check.setEnabled(fmt in ("contact-sheet", "gif", "mp4", "pdf", "zip"))
        self.keep_exif.setEnabled(fmt == "zip")  # the only format that carries per-photo EXIF

    def plan(self) -> ExportPlan:
        """The plan for the current choices (raises UsageError with a message for the user)."""
        ids = self.checked_ids()
        selected = None if len(ids) == len(self.photos) else ids
        options = ExportOptions(
            heatmap=self.heatmap_check.isChecked(),
            frame_ms=self.frame_ms.value(),
            size=self.size_spin.value(),
            keep_exif=self.keep_exif.isChecked() and self.keep_exif.isEnabled(),
        )
        return build_plan(
            self.format,
            self.library.region(self.region_id),
            self.photos,
            start=_pydate(self.from_date.date()) if self.from_check.isChecked() else None,
            end=_pydate(self.to_date.date()) if self.to_check.isChecked() else None,
            selected=selected,
            options=options,
        )

    # ---------------------------------------------------------------- preview
    @Slot()
    def schedule_preview(self) -> None:
        """A choice changed: stop the preview being rendered and render anew after a short pause."""
        self._cancel_preview()
        self._preview_timer.start()

    def _cancel_preview(self) -> None:
        if self.preview_handle is not None and not self.preview_handle.done:
            self.preview_handle.cancel()
        self._preview_generation += 1  # whatever it still delivers is stale

    @Slot()
    def refresh_preview(self) -> None:
        """Render the chosen format in small (``render_export_preview``) in a worker."""
        self._cancel_preview()
        try:
            plan = self.plan()
        except SkintrackError as exc:
            self.preview_view.show_text(str(exc))
            return
        generation = self._preview_generation
        lib = self.library

        def job(token: CancelToken) -> ExportPreview:
            return render_export_preview(lib, plan, token)

        self.preview_view.show_busy("Rendering preview…")
        self.preview_handle = run_task(
            job,
            on_result=lambda result, g=generation: self._show_preview(g, result),
            on_error=lambda msg, g=generation: self._preview_failed(g, msg),
            name="export-preview",
        )

    @property
    def current_preview(self) -> ExportPreview | None:
        return self.preview_view.current

    def _show_preview(self, generation: int, result: ExportPreview) -> None:
        if not shiboken6.isValid(self) or generation != self._preview_generation:
            return  # a newer preview is on its way
        self.preview_view.show_preview(result, self.frame_ms.value())

    @Slot(int)
    def _frame_ms_changed(self, ms: int) -> None:
        """The animation plays at the new speed at once; the caption follows with the next render."""
        self.preview_view.set_frame_ms(ms)
        if self.format in ("gif", "mp4"):
            self.schedule_preview()

    def _preview_failed(self, generation: int, message: str) -> None:
        if shiboken6.isValid(self) and generation == self._preview_generation:
            self.preview_view.show_text(f"No preview: {message}")

    def has_preview_image(self) -> bool:
        return self.preview_view.has_image()

    # ---------------------------------------------------------------- export
    def suggested_name(self) -> str:
        suffix = SUFFIXES[self.format][0]
        kinds = {"contact-sheet": "contact-sheet", "pdf": "report", "gif": "timelapse", "mp4": "timelapse"}
        kind = kinds.get(self.format, "measurements" if self.format in ("csv", "json") else "export")
        return f"{_slug(self.region.name)}-{kind}-{formatting.day(date.today())}{suffix}"

    @Slot()
    def _ask_and_export(self) -> None:
        suffixes = " ".join(f"*{s}" for s in SUFFIXES[self.format])
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Export to",
            str(exported_files.last_export_folder() / self.suggested_name()),
            f"{FORMAT_LABELS[self.format]} ({suffixes})",
        )
        if path:
            if Path(path).suffix.lower() not in SUFFIXES[self.format]:
                path += SUFFIXES[self.format][0]
            self.start_export(path)

    def start_export(self, path: str | Path) -> TaskHandle | None:
        """Run the export to ``path`` in a worker; progress and cancel go through this dialog."""
        if self.export_handle is not None and not self.export_handle.done:
            return None
        try:
            plan = self.plan()
        except SkintrackError as exc:
            self._set_status(str(exc), error=True)
            return None
        lib, out = self.library, Path(path)

        def job(token: CancelToken) -> Generator[Progress, None, Path]:
            return run_export(lib, plan, out, token)

        self.export_button.setEnabled(False)
        self.open_button.hide()
        self.reveal_button.hide()
        self.cancel_button.setText("Cancel export")
        self.export_handle = run_task(
            job,
            on_result=self._on_done,
            on_cancel=self._on_cancelled,
            on_error=self._on_failed,
            on_finished=self._on_finished,
            name="export",
        )
        self.footer.track(
            self.export_handle, f"Exporting {len(plan.photos)} check-ins…", steps=max(1, plan.steps)
        )
        return self.export_handle

    @Slot(object)
    def _on_done(self, result: Path) -> None:
        self.last_output = Path(result)
        exported_files.remember_export_folder(self.last_output)
        self.progress.setValue(self.progress.maximum())
        self._set_status(f"Exported to {result}")
        self.open_button.show()
        self.reveal_button.show()
        self.open_button.setFocus()
        self.exportFinished.emit(str(result))

    @Slot()
    def _on_cancelled(self) -> None:
        self.progress.setValue(0)
        self._set_status("Export cancelled; nothing was written.")
        self.exportFinished.emit("")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.progress.setValue(0)
        self._set_status(f"Export failed: {message}", error=True)
        self.exportFinished.emit("")

    @Slot()
    def _on_finished(self) -> None:
        self.export_button.setEnabled(True)
        self.cancel_button.setText("Close")

    @Slot()
    def open_output(self) -> None:
        if self.last_output is not None and not exported_files.open_file(self.last_output, self.open_url):
            self._set_status(f"No application could open {self.last_output.name}.", error=True)

    @Slot()
    def reveal_output(self) -> None:
        if self.last_output is not None and not exported_files.show_in_folder(
            self.last_output, self.open_url
        ):
            self._set_status(f"Could not show the folder {self.last_output.parent}.", error=True)

    def cancel_export(self) -> None:
        if self.export_handle is not None and not self.export_handle.done:
            self.export_handle.cancel()
            self._set_status("Cancelling…")

    @Slot()
    def _cancel_or_close(self) -> None:
        if self.export_handle is not None and not self.export_handle.done:
            self.cancel_export()
        else:
            self.reject()

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.footer.set_text(text, error=error)

    def done(self, result: int) -> None:  # close, Esc, reject, accept
        for handle in (self.export_handle, self.preview_handle):
            if handle is not None and not handle.done:
                handle.cancel()  # the worker stops at its next step and removes its temp file
        self._preview_timer.stop()
        self.preview_view.stop()
        super().done(result)
