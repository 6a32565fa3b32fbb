"""The check-in dialog: photos (files, drag and drop, paste, camera), dates, notes, a journal line.

Nothing slow runs here: file headers and thumbnails are read in ``Pool.THUMBS``, pasted images
are encoded in a worker, and Save runs :func:`skintrack.services.checkin.check_in` (the import,
the journal line, then the analysis) as one cancellable job in the write pool.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Generator
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from skintrack.library import Library
from skintrack.progress import CancelToken, Progress
from skintrack.services.checkin import CheckInItem, CheckInResult, JournalLine, check_in
from skintrack.services.quality import thresholds_for
from skintrack.ui.camera import CameraPanel, FrameSource
from skintrack.ui.checkin_files import CheckInFiles, image_paths
from skintrack.ui.dialogs import ask_to_discard, save_and_cancel_buttons
from skintrack.ui.task_footer import TaskFooter
from skintrack.ui.tasks import Pool, TaskHandle, run_task

log = logging.getLogger(__name__)

NEW_REGION = -1
REPEAT_HINT = (
    "Tip: add a second shot of the same spot, taken now with the same light and distance. "
    "Two shots of one moment show how much your photos differ without any real change (the "
    "repeat noise), so Skintrack can tell real darkening from it."
)


def confirm_discard(parent: QWidget, count: int) -> bool:
    """Ask before the queued photos are dropped; True when the user chose to discard them."""
    return ask_to_discard(
        parent,
        "Discard this check-in?",
        f"{count} photo{'s are' if count != 1 else ' is'} queued and not saved yet. "
        f"Close the check-in and discard {'them' if count != 1 else 'it'}?",
        "discardCheckIn",
    )


class CheckInDialog(QDialog):
    """New check-in for a region: photos with dates, notes and an optional journal line."""

    checkedIn = Signal(list)  # ids of the photos imported
    checkinsChanged = Signal()  # the main window reloads on this

    def __init__(
        self,
        library: Library,
        region_id: int | None,
        parent: QWidget | None = None,
        files: list[Path] | list[str] | None = None,
        *,
        frame_source_factory: Callable[[QObject], FrameSource] | None = None,
    ) -> None:
        super().__init__(parent)
        self.lib = library
        self.setObjectName("checkInDialog")
        self.setWindowTitle("New check-in")
        self.setAcceptDrops(True)
        self.resize(760, 680)
        self.task: TaskHandle | None = None
        self.result: CheckInResult | None = None
        self._done_ids: list[int] = []
        self._ran = False  # a save ran (finished, failed or was cancelled): nothing is left queued
        self._region_has_repeats = False
        self._tmp = tempfile.TemporaryDirectory(prefix="skintrack-checkin-")

        # --- region
        self.region_combo = QComboBox(self)
        self.region_combo.setObjectName("regionCombo")
        self.new_region_name = QLineEdit(self)
        self.new_region_name.setObjectName("newRegionName")
        self.new_region_name.setPlaceholderText("Name of the new region, e.g. Left forearm")
        region_row = QHBoxLayout()
        region_row.addWidget(self.region_combo, 1)
        region_row.addWidget(self.new_region_name, 1)
        self._fill_regions(region_id)
        self.region_combo.currentIndexChanged.connect(self._region_changed)

        # --- files tab
        self.tabs = QTabWidget(self)
        self.files = CheckInFiles(Path(self._tmp.name), self)
        self.files.thresholds = thresholds_for(self.lib)
        self.files.changed.connect(self._update_buttons)
        self.files.changed.connect(self._update_summary)
        self.files.message.connect(lambda text: self.status.setText(text))
        self.rows, self.table, self.add_button = self.files.rows, self.files.table, self.files.add_button
        self.tabs.addTab(self.files, "Photos")
        self.camera = self._make_camera_tab(frame_source_factory)
        self.tabs.addTab(self.camera, "Camera")

        self.summary = QLabel(self)
        self.summary.setObjectName("checkinSummary")
        self.summary.setWordWrap(True)
        self.repeat_hint = QLabel(REPEAT_HINT, self)
        self.repeat_hint.setObjectName("repeatHint")
        self.repeat_hint.setWordWrap(True)

        # --- notes and journal
        self.notes = QPlainTextEdit(self)
        self.notes.setObjectName("notes")
        self.notes.setPlaceholderText("Notes for these photos (light, what changed, …)")
        self.notes.setFixedHeight(60)
        self.journal_box = QGroupBox("Add a journal line", self)
        self.journal_box.setObjectName("journalBox")
        self.journal_box.setCheckable(True)
        self.journal_box.setChecked(False)
        self.journal_kind = QComboBox(self.journal_box)
        self.journal_kind.addItem("Dose", "dose")
        self.journal_kind.addItem("Sun exposure", "sun")
        self.journal_substance = QLineEdit(self.journal_box)
        self.journal_substance.setPlaceholderText("substance or activity")
        self.journal_amount = QDoubleSpinBox(self.journal_box)
        self.journal_amount.setRange(0, 1_000_000)
        self.journal_amount.setDecimals(2)
        self.journal_unit = QLineEdit(self.journal_box)
        self.journal_unit.setPlaceholderText("unit (g, mg, min)")
        self.journal_unit.setMaximumWidth(120)
        jl = QHBoxLayout(self.journal_box)
        for w in (self.journal_kind, self.journal_substance, self.journal_amount, self.journal_unit):
            jl.addWidget(w)

        # --- progress, problems, buttons
        self.footer = TaskFooter(self, in_status_bar=False)
        self.progress, self.status = self.footer.bar, self.footer.label
        self.progress.hide()
        self.problems = QListWidget(self)
        self.problems.setObjectName("problems")
        self.problems.setMaximumHeight(90)
        self.problems.hide()
        self.save_button, self.cancel_button = save_and_cancel_buttons(
            self, "Save check-in", self.save, self.cancel
        )
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.save_button)

        form = QFormLayout()
        form.addRow("Region", region_row)
        notes_form = QFormLayout()
        notes_form.addRow("Notes", self.notes)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.repeat_hint)
        layout.addLayout(notes_form)
        layout.addWidget(self.journal_box)
        layout.addWidget(self.footer)
        layout.addWidget(self.problems)
        layout.addLayout(bottom)

        QShortcut(QKeySequence(QKeySequence.StandardKey.Paste), self, activated=self.paste)
        self._region_changed()
        if files:
            self.add_files([Path(f) for f in files])

    # ------------------------------------------------------------------ region
    def _fill_regions(self, region_id: int | None) -> None:
        self.region_combo.clear()
        summaries = self.lib.list_regions()
        for s in summaries:
            self.region_combo.addItem(s.region.name, s.region.id)
        self.region_combo.addItem("New region…", NEW_REGION)
        idx = self.region_combo.findData(region_id) if region_id is not None else -1
        self.region_combo.setCurrentIndex(
            idx if idx >= 0 else (0 if summaries else self.region_combo.count() - 1)
        )

    def selected_region_id(self) -> int | None:
        """The chosen region id, or None when a new region will be created."""
        data = self.region_combo.currentData()
        return None if data in (None, NEW_REGION) else int(data)

    @Slot()
    def _region_changed(self) -> None:
        rid = self.selected_region_id()
        self.new_region_name.setVisible(rid is None)
        reference = self._reference_path(rid)
        self.files.reference = reference
        self.camera.set_reference(reference)
        self._region_has_repeats = rid is not None and any(c.shots >= 2 for c in self.lib.list_checkins(rid))
        self._update_summary()

    @Slot()
    def _update_summary(self) -> None:
        """Say that the queued photos become one check-in; suggest a repeat shot while useful."""
        n = len(self.rows)
        if n == 0:
            self.summary.setText("The photos you add here are saved together as one check-in.")
        elif n == 1:
            self.summary.setText("This photo is saved as one check-in.")
        else:
            self.summary.setText(
                f"These {n} photos are saved together as one check-in (a close-up and an overview, "
                "or repeat shots); the trend uses its best-quality shot."
            )
        self.repeat_hint.setVisible(n < 2 and not self._region_has_repeats)

    def _reference_path(self, region_id: int | None) -> Path | None:
        if region_id is None:
            return None
        region = self.lib.region(region_id)
        ref_id = region.reference_photo_id
        if ref_id is None:
            photos = self.lib.list_photos(region_id)
            ref_id = photos[0].id if photos else None
        return None if ref_id is None else self.lib.original_path(self.lib.photo(ref_id))

    def _make_camera_tab(self, factory: Callable[[QObject], FrameSource] | None) -> CameraPanel:
        panel = CameraPanel(source_factory=factory, parent=self, capture_dir=Path(self._tmp.name) / "camera")
        panel.monitor.thresholds = thresholds_for(self.lib)
        panel.captured.connect(lambda p: self.add_files([Path(p)]))
        self.tabs.currentChanged.connect(lambda i: panel.set_active(self.tabs.widget(i) is panel))
        return panel

    # ------------------------------------------------------------------ drag, drop, paste
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if image_paths(mime) or mime.hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.files.take_mime(event.mimeData()):
            event.acceptProposedAction()

    def add_files(self, paths: list[Path]) -> None:
        self.files.add_files(paths)

    @Slot()
    def paste(self) -> None:
        self.files.paste()

    def items(self) -> list[CheckInItem]:
        return self.files.items()

    # ------------------------------------------------------------------ save / cancel
    def _update_buttons(self) -> None:
        busy = self.task is not None
        self.save_button.setEnabled(bool(self.rows) and not busy)
        self.files.remove_button.setEnabled(bool(self.rows) and not busy)

    def journal_line(self) -> JournalLine | None:
        if not self.journal_box.isChecked():
            return None
        amount = self.journal_amount.value()
        # dated like the check-in itself (the first photo's date as shown), else now
        shown = [r.edit.dateTime().toPython() for r in self.rows if r.edit.isEnabled()]
        when = shown[0].astimezone() if shown else datetime.now().astimezone()
        return JournalLine(
            at=when,
            kind=self.journal_kind.currentData(),
            substance=self.journal_substance.text().strip(),
            amount=amount if amount > 0 else None,
            unit=self.journal_unit.text().strip(),
        )

    @Slot()
    def save(self) -> None:
        if self.task is not None or not self.rows:
            return
        region_id = self.selected_region_id()
        new_name = self.new_region_name.text().strip()
        if region_id is None and not new_name:
            self.status.setText("Give the new region a name first.")
            self.new_region_name.setFocus()
            return
        self.problems.clear()
        self.problems.hide()
        self._done_ids = []
        lib, items, done_ids = self.lib, self.items(), self._done_ids
        notes, journal = self.notes.toPlainText().strip(), self.journal_line()

        def job(token: CancelToken) -> Generator[Progress, None, CheckInResult]:
            rid = region_id if region_id is not None else lib.add_region(new_name).id
            return (
                yield from check_in(
                    lib, rid, items, notes=notes, journal=journal, token=token, imported=done_ids
                )
            )

        for w in (self.region_combo, self.new_region_name, self.tabs, self.notes, self.journal_box):
            w.setEnabled(False)
        handle = run_task(
            job,
            on_result=self._on_done,
            on_error=self._on_failed,
            on_cancel=self._on_cancelled,
            on_finished=self._on_finished,
            pool=Pool.WRITE,
            name="checkin",
        )
        self.task = handle if handle.running else None  # a synchronous pool has finished it
        if self.task is not None:
            self.progress.show()
            self.footer.track(handle, "Importing…", steps=1000)
        self._update_buttons()

    @Slot(object)
    def _on_done(self, result: CheckInResult) -> None:
        self.result = result
        if self.selected_region_id() != result.region_id:
            self._fill_regions(result.region_id)
        n = len(result.photo_ids)
        parts = [f"Imported {n} photo{'s' if n != 1 else ''}" + (" as one check-in." if n > 1 else ".")]
        if result.duplicates:
            parts.append(f"{len(result.duplicates)} already in the library.")
        if result.analysis_error:
            parts.append(f"The analysis failed ({result.analysis_error}); run it again from the region menu.")
        for path, reason in result.errors:
            self.problems.addItem(f"{path.name}: {reason}")
        self.problems.setVisible(bool(result.errors))
        if result.errors:
            parts.append(
                f"{len(result.errors)} file{'s' if len(result.errors) != 1 else ''} could not be imported:"
            )
        self.status.setText(" ".join(parts))
        self._announce(result.photo_ids)
        if not result.errors and not result.analysis_error:
            self.accept()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status.setText(f"The check-in failed: {message}")
        self._announce(list(self._done_ids))

    @Slot()
    def _on_cancelled(self) -> None:
        kept = len(self._done_ids)
        self.status.setText(
            f"Cancelled. {kept} photo{'s' if kept != 1 else ''} imported before cancelling "
            f"{'are' if kept != 1 else 'is'} kept."
        )
        self._announce(list(self._done_ids))

    @Slot()
    def _on_finished(self) -> None:
        self.task = None
        self._ran = True
        self.progress.hide()
        self.save_button.setText("Save check-in")
        self.cancel_button.setText("Close")
        for w in (self.region_combo, self.new_region_name, self.tabs, self.notes, self.journal_box):
            w.setEnabled(True)
        self._update_buttons()
        self.save_button.setEnabled(False)  # this check-in is done; the dialog only closes now

    def _announce(self, ids: list[int]) -> None:
        if ids:
            self.checkedIn.emit(ids)
            self.checkinsChanged.emit()

    def queued(self) -> int:
        """Photos added but not saved (0 once a save has run)."""
        return 0 if self._ran else len(self.rows)

    @Slot()
    def cancel(self) -> None:
        """Cancel the running job, else close the dialog (asking first when photos are queued)."""
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Cancelling…")
            return
        if self.queued() and not confirm_discard(self, self.queued()):
            return
        self.reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:  # Esc is Cancel, with its question
            event.accept()
            self.cancel()
            return
        super().keyPressEvent(event)

    def done(self, code: int) -> None:
        if self.task is not None:
            self.task.cancel()
        self.files.cancel_jobs()
        self.camera.shutdown()
        super().done(code)

    def closeEvent(self, event: QCloseEvent) -> None:
        asked = event.spontaneous() and self.task is None and self.queued()  # the window's close button
        if asked and not confirm_discard(self, self.queued()):
            event.ignore()
            return
        if self.task is not None:
            self.task.cancel()
        super().closeEvent(event)
