"""The check-in's list of photos: added by file dialog, drop or paste, each with its date.

File headers and small thumbnails are read in ``Pool.THUMBS``; a pasted image is written as a
PNG in the dialog's scratch folder (in a worker) and then added like any file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QDateTime, QMimeData, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateTimeEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skintrack.core.images import SUPPORTED_SUFFIXES
from skintrack.core.quality import QualityThresholds
from skintrack.progress import CancelToken
from skintrack.services.checkin import CheckInItem
from skintrack.ui.image_convert import rgb_to_qimage
from skintrack.ui.quality_cell import QUALITY_WIDTH, QualityCell, attach_quality
from skintrack.ui.tasks import Pool, TaskHandle, run_task

THUMB = 64
IMAGE_FILTER = "Images ({})".format(" ".join(f"*{s}" for s in SUPPORTED_SUFFIXES)) + ";;All files (*)"
DATE_FORMAT = "yyyy-MM-dd HH:mm"
COL_THUMB, COL_NAME, COL_DATE, COL_QUALITY = range(4)


@dataclass
class FileRow:
    """One chosen file; ``auto`` is the date shown before any user edit (EXIF or file time)."""

    path: Path
    edit: QDateTimeEdit
    auto: datetime | None = None
    problem: str | None = None
    quality: QualityCell | None = None


def image_paths(mime: QMimeData) -> list[Path]:
    """Local image files named by dropped or pasted URLs."""
    out = []
    for url in mime.urls() if mime.hasUrls() else []:
        if url.isLocalFile():
            p = Path(url.toLocalFile())
            if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES:
                out.append(p)
    return out


def read_file_info(path: Path) -> tuple[datetime | None, str | None, np.ndarray | None]:
    """Worker: (EXIF date or file time, problem text, small RGB thumbnail) of one file."""
    from skintrack.core.images import read_meta, thumbnail
    from skintrack.errors import InvalidInputError

    try:
        meta = read_meta(path)
        thumb = thumbnail(path, THUMB * 2)
    except InvalidInputError as exc:
        return None, exc.reason, None
    except Exception as exc:
        return None, str(exc), None
    when = meta.taken_at
    if when is None:
        try:
            when = datetime.fromtimestamp(int(path.stat().st_mtime))
        except OSError:
            when = None
    return when, None, thumb


class CheckInFiles(QWidget):
    """The file table: thumbnail, name, date and capture quality (against ``reference``) per photo."""

    changed = Signal()  # rows added or removed
    message = Signal(str)  # for the dialog's status line

    def __init__(self, scratch: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scratch = scratch
        self.reference: Path | None = None  # the region's reference photo, for the framing check
        self.thresholds: QualityThresholds | None = None
        self.rows: list[FileRow] = []
        self._handles: list[TaskHandle] = []
        self._paste_count = 0
        self.add_button = QPushButton("Add photos…", self)
        self.add_button.setObjectName("addPhotos")
        self.add_button.clicked.connect(self.choose_files)
        self.paste_button = QPushButton("Paste", self)
        self.paste_button.setToolTip("Paste an image or copied files (Ctrl+V)")
        self.paste_button.clicked.connect(self.paste)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove_selected)
        hint = QLabel("or drop photos here", self)
        hint.setEnabled(False)
        buttons = QHBoxLayout()
        for w in (self.add_button, self.paste_button, self.remove_button):
            buttons.addWidget(w)
        buttons.addWidget(hint)
        buttons.addStretch(1)
        self.table = QTableWidget(0, 4, self)
        self.table.setObjectName("fileTable")
        self.table.setHorizontalHeaderLabels(["", "File", "Taken", "Quality"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(THUMB + 8)
        self.table.setIconSize(QSize(THUMB, THUMB))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_THUMB, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(COL_THUMB, THUMB + 12)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_DATE, QHeaderView.ResizeMode.Fixed)  # cell widgets: no contents size
        header.resizeSection(COL_DATE, QDateTimeEdit().sizeHint().width() + 24)
        header.setSectionResizeMode(COL_QUALITY, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(COL_QUALITY, QUALITY_WIDTH)
        self.table.setWordWrap(True)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        fl = QVBoxLayout(self)
        fl.setContentsMargins(0, 0, 0, 0)
        fl.addLayout(buttons)
        fl.addWidget(self.table, 1)

    @Slot()
    def choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Add photos", str(Path.home()), IMAGE_FILTER)
        self.add_files([Path(n) for n in names])

    def add_files(self, paths: list[Path]) -> None:
        """Add files to the list (skipping ones already there) and read their dates in the background."""
        known = {r.path for r in self.rows}
        for path in paths:
            if path in known:
                continue
            known.add(path)
            self._add_row(path)
        self.changed.emit()

    def _add_row(self, path: Path) -> None:
        edit = QDateTimeEdit(self.table)
        edit.setDisplayFormat(DATE_FORMAT)
        edit.setCalendarPopup(True)
        edit.setDateTime(QDateTime.currentDateTime())
        edit.setEnabled(False)  # until the EXIF date is known
        row = FileRow(path, edit)
        self.rows.append(row)
        r = self.table.rowCount()
        self.table.insertRow(r)
        self.table.setItem(r, COL_THUMB, QTableWidgetItem())
        name = QTableWidgetItem(path.name)
        name.setToolTip(str(path))
        self.table.setItem(r, COL_NAME, name)
        holder = QWidget(self.table)  # keeps the edit its natural height, centred in the tall row
        hl = QHBoxLayout(holder)
        hl.setContentsMargins(6, 0, 6, 0)
        hl.addWidget(edit, 0, Qt.AlignmentFlag.AlignVCenter)
        self.table.setCellWidget(r, COL_DATE, holder)
        row.quality, _ = attach_quality(
            self.table, r, COL_QUALITY, path, self.reference, lambda row=row: self._drop(row), self.thresholds
        )
        self._track(
            run_task(
                lambda _t, p=path: read_file_info(p),
                on_result=lambda info, row=row: self._info_ready(row, info),
                pool=Pool.THUMBS,
                name="checkin-meta",
            )
        )

    def _track(self, handle: TaskHandle) -> None:
        """Jobs still running are cancelled by :meth:`cancel_jobs`."""
        self._handles = [h for h in self._handles if h.running]
        if handle.running:
            self._handles.append(handle)

    def _info_ready(self, row: FileRow, info: tuple[datetime | None, str | None, np.ndarray | None]) -> None:
        if row not in self.rows:
            return
        when, problem, thumb = info
        r = self.rows.index(row)
        row.problem = problem
        if when is not None:
            row.auto = (
                when.replace(tzinfo=None) if when.tzinfo is None else when.astimezone().replace(tzinfo=None)
            )
            row.edit.setDateTime(QDateTime(row.auto))
        row.edit.setEnabled(problem is None)
        if problem:
            item = self.table.item(r, COL_NAME)
            item.setText(f"{row.path.name}\n⚠ {problem}")
            item.setToolTip(f"{row.path}\n{problem}")
            item.setForeground(QColor(200, 60, 40))
        if thumb is not None:
            self.table.item(r, COL_THUMB).setIcon(QIcon(QPixmap.fromImage(rgb_to_qimage(thumb))))

    def _drop(self, row: FileRow) -> None:
        if row in self.rows:
            self.table.clearSelection()
            self.table.selectRow(self.rows.index(row))
            self.remove_selected()

    @Slot()
    def remove_selected(self) -> None:
        for r in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(r)
            del self.rows[r]
        self.changed.emit()

    def items(self) -> list[CheckInItem]:
        """The files with the user's date, or None to keep the EXIF/file date the library reads."""
        out = []
        for row in self.rows:
            shown = row.edit.dateTime().toPython().replace(second=0, microsecond=0)
            auto = row.auto.replace(second=0, microsecond=0) if row.auto is not None else None
            user = row.edit.isEnabled() and (auto is None or shown != auto)
            out.append(CheckInItem(row.path, shown.astimezone() if user else None))
        return out

    @Slot()
    def paste(self) -> None:
        if not self.take_mime(QGuiApplication.clipboard().mimeData()):
            self.message.emit("The clipboard holds no image or image files.")

    def take_mime(self, mime: QMimeData | None) -> bool:
        if mime is None:
            return False
        paths = image_paths(mime)
        if paths:
            self.add_files(paths)
            return True
        if mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                self._save_pasted(image)
                return True
        return False

    def _save_pasted(self, image: QImage) -> None:
        """Encode a pasted image as PNG in a worker, then add it like any file."""
        self._paste_count += 1
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.scratch / f"pasted-{stamp}-{self._paste_count}.png"

        def job(_t: CancelToken) -> Path:
            if not image.save(str(path), "PNG"):
                raise OSError(f"could not write {path}")
            return path

        self._track(
            run_task(
                job,
                on_result=lambda p: self.add_files([p]),
                on_error=lambda msg: self.message.emit(f"Could not paste the image: {msg}"),
                pool=Pool.THUMBS,
                name="paste",
            )
        )

    def cancel_jobs(self) -> None:
        for handle in self._handles:
            handle.cancel()
