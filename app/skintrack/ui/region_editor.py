"""Region editor: name, body site, interval, notes, the reference photo and the two painted areas.

Areas are painted on a reduced preview of the reference (decoded in a worker) and saved as
polygons in full reference pixels by :func:`skintrack.services.regions.save_region_edit` in
the write pool. When the areas or the reference change, ``analysisRequested(region_id)`` is
emitted once the change is saved: the main window's session queues the region's analysis.
Painting is undoable (the canvas's ``undo_stack``); closing with unsaved changes asks first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from skintrack.core import formatting
from skintrack.library import Library, Photo
from skintrack.library.models import Region
from skintrack.services.areas import overlap_fraction
from skintrack.services.regions import AreaMasks, RegionEdit, save_region_edit
from skintrack.ui.area_hints import (
    CHECKED_TOOL_STYLE,
    OVERLAP_STYLE,
    PAINT_HINT,
    POLYGON_HINT,
    ask_discard,
    overlap_warning,
    undo_redo_actions,
)
from skintrack.ui.dialogs import save_and_cancel_buttons
from skintrack.ui.mask_canvas import BRUSH, CONTROL, ERASER, POLYGON, WATCHED, MaskCanvas
from skintrack.ui.task_footer import TaskFooter
from skintrack.ui.tasks import Pool, TaskHandle, run_task

log = logging.getLogger(__name__)

PREVIEW_SIDE = 1600  # the canvas shows the reference at most this large
THUMB_W, THUMB_H = 120, 90  # 4:3, like most photos


def load_preview(path: Path) -> tuple[QImage, int, int]:
    """Worker: the reference reduced for painting, plus its full upright size."""
    from skintrack.core.images import decode, read_meta
    from skintrack.ui.image_convert import rgb_to_qimage

    meta = read_meta(path)
    img = decode(path, max_side=PREVIEW_SIDE)
    return rgb_to_qimage(img.rgb), meta.width, meta.height


def load_thumb(lib: Library, photo: Photo) -> QImage:
    """Worker: the cached 320 px thumbnail of a photo (QImage is fine off the GUI thread)."""
    return QImage(str(lib.thumbnail_path(photo)))


class RegionEditor(QDialog):
    """Edit a region; paint its watched area and control patch on the reference photo."""

    regionChanged = Signal(int)
    analysisRequested = Signal(int)

    def __init__(self, library: Library, region_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lib = library
        self.region_id = region_id
        self.region = library.region(region_id)
        self.photos = library.list_photos(region_id)
        self.setObjectName("regionEditor")
        self.setWindowTitle(f"Edit region — {self.region.name}")
        self.resize(1100, 720)
        self.reference_id: int | None = self.region.reference_photo_id or (
            self.photos[0].id if self.photos else None
        )
        self._initial_reference = self.reference_id
        self.scale = 1.0  # reference pixels per canvas pixel
        self._areas_reset = False  # a new reference dropped the stored areas
        self.ask_discard: Callable[[QWidget, str], bool] = ask_discard
        self.task: TaskHandle | None = None
        self._handles: list[TaskHandle] = []
        self._loading_preview = False
        self._request_analysis = False

        # --- details form
        self.name_edit = QLineEdit(self.region.name, self)
        self.name_edit.setObjectName("name")
        self.site_edit = QLineEdit(self.region.body_site, self)
        self.site_edit.setObjectName("bodySite")
        self.site_edit.setPlaceholderText("e.g. inner left forearm")
        self.interval = QSpinBox(self)
        self.interval.setObjectName("interval")
        self.interval.setRange(0, 365)
        self.interval.setSuffix(" days")
        self.interval.setSpecialValueText("no reminder")
        self.interval.setValue(self.region.interval_days or 0)
        self.notes_edit = QPlainTextEdit(self.region.notes, self)
        self.notes_edit.setObjectName("notes")
        self.notes_edit.setMaximumHeight(80)
        self.ref_list = QListWidget(self)
        self.ref_list.setObjectName("referencePicker")
        self.ref_list.setViewMode(QListView.ViewMode.IconMode)
        self.ref_list.setIconSize(QSize(THUMB_W, THUMB_H))
        self.ref_list.setGridSize(QSize(THUMB_W + 14, THUMB_H + 30))
        self.ref_list.setWordWrap(True)
        self.ref_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.ref_list.setMovement(QListView.Movement.Static)
        for photo in self.photos:
            item = QListWidgetItem(formatting.day(photo.taken_at))
            item.setData(Qt.ItemDataRole.UserRole, photo.id)
            item.setToolTip(photo.original_name)
            self.ref_list.addItem(item)
            if photo.id == self.reference_id:
                self.ref_list.setCurrentItem(item)
            self._track(
                run_task(
                    lambda _t, p=photo: load_thumb(self.lib, p),
                    on_result=lambda img, it=item: it.setIcon(QIcon(QPixmap.fromImage(img))),
                    pool=Pool.THUMBS,
                    name="ref-thumb",
                )
            )
        self.ref_list.currentItemChanged.connect(self._reference_picked)

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Body site", self.site_edit)
        form.addRow("Check-in every", self.interval)
        form.addRow("Notes", self.notes_edit)
        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(form)
        ll.addWidget(QLabel("<b>Reference photo</b> — every check-in is compared with it", left))
        ll.addWidget(self.ref_list, 1)

        # --- canvas and tools
        self.canvas = MaskCanvas(self)
        self.canvas.maskChanged.connect(self._mask_changed)
        self.canvas.polygonChanged.connect(self._polygon_changed)
        self.undo_stack = self.canvas.undo_stack
        self.watched_radio = QRadioButton("Watched area", self)
        self.watched_radio.setObjectName("layerWatched")
        self.watched_radio.setChecked(True)
        self.watched_radio.setStyleSheet("QRadioButton { color: #e07b00; font-weight: bold; }")
        self.control_radio = QRadioButton("Control patch (unaffected skin)", self)
        self.control_radio.setObjectName("layerControl")
        self.control_radio.setStyleSheet("QRadioButton { color: #1f9d4c; font-weight: bold; }")
        self.watched_radio.toggled.connect(lambda on: self.canvas.set_layer(WATCHED if on else CONTROL))
        self.tool_buttons: dict[str, QToolButton] = {}
        group = QButtonGroup(self)
        for tool, text, tip in (
            (BRUSH, "Brush", "Paint the area"),
            (ERASER, "Eraser", "Erase from the area"),
            (POLYGON, "Polygon", POLYGON_HINT),
        ):
            b = QToolButton(self)
            b.setText(text)
            b.setToolTip(tip)
            b.setCheckable(True)
            b.setObjectName(f"tool_{tool}")
            b.setStyleSheet(CHECKED_TOOL_STYLE)
            b.clicked.connect(lambda _c=False, t=tool: self._tool_picked(t))
            group.addButton(b)
            self.tool_buttons[tool] = b
        self.tool_buttons[BRUSH].setChecked(True)
        self.size_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.size_slider.setObjectName("brushSize")
        self.size_slider.setRange(2, 300)
        self.size_slider.setValue(int(self.canvas.brush_size))
        self.size_slider.setMinimumWidth(110)
        self.size_slider.setMaximumWidth(200)
        self.size_slider.setToolTip("Brush size in photo pixels")
        self.size_slider.valueChanged.connect(self.canvas.set_brush_size)
        self.clear_button = QPushButton("Clear layer", self)
        self.clear_button.setObjectName("clearLayer")
        self.clear_button.setToolTip("Clear the layer being painted (undoable)")
        self.clear_button.clicked.connect(lambda: self.canvas.clear())
        self.undo_action, self.redo_action = undo_redo_actions(self, self.undo_stack)
        self.undo_button = QToolButton(self)
        self.undo_button.setObjectName("undo")
        self.undo_button.setDefaultAction(self.undo_action)
        self.redo_button = QToolButton(self)
        self.redo_button.setObjectName("redo")
        self.redo_button.setDefaultAction(self.redo_action)
        fit = QToolButton(self)
        fit.setText("Fit")
        fit.setToolTip("Fit the photo in the view (wheel zooms, right-drag pans)")
        fit.clicked.connect(self.canvas.fit)
        layers = QHBoxLayout()
        layers.addWidget(QLabel("Paint:", self))
        layers.addWidget(self.watched_radio)
        layers.addWidget(self.control_radio)
        layers.addStretch(1)
        tools = QHBoxLayout()
        for b in self.tool_buttons.values():
            tools.addWidget(b)
        tools.addWidget(QLabel("Size", self))
        tools.addWidget(self.size_slider)
        tools.addWidget(self.undo_button)
        tools.addWidget(self.redo_button)
        tools.addWidget(self.clear_button)
        tools.addWidget(fit)
        tools.addStretch(1)
        self.canvas_hint = QLabel(self)
        self.canvas_hint.setObjectName("canvasHint")
        self.canvas_hint.setWordWrap(True)
        self.overlap_label = QLabel(self)
        self.overlap_label.setObjectName("overlapWarning")
        self.overlap_label.setWordWrap(True)
        self.overlap_label.setStyleSheet(OVERLAP_STYLE)
        self.overlap_label.hide()
        right = QWidget(self)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addLayout(layers)
        rl.addLayout(tools)
        rl.addWidget(self.canvas, 1)
        rl.addWidget(self.overlap_label)
        rl.addWidget(self.canvas_hint)

        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 770])

        # --- bottom
        self.reanalyse_box = QCheckBox("Re-analyse the region when the areas or the reference change", self)
        self.reanalyse_box.setObjectName("reanalyse")
        self.reanalyse_box.setChecked(True)
        self.footer = TaskFooter(self, in_status_bar=False)
        self.footer.bar.hide()  # a save takes a moment; only its outcome is shown
        self.status = self.footer.label
        self.save_button, self.cancel_button = save_and_cancel_buttons(self, "Save", self.save, self.cancel)
        bottom = QHBoxLayout()
        bottom.addWidget(self.reanalyse_box)
        bottom.addWidget(self.footer, 1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self._load_reference(initial=True)

    def _track(self, handle: TaskHandle) -> None:
        """Side jobs still running are cancelled when the dialog closes."""
        self._handles = [h for h in self._handles if h.running]
        if handle.running:
            self._handles.append(handle)

    # ------------------------------------------------------------------ reference
    def _load_reference(self, initial: bool = False) -> None:
        if self.reference_id is None:
            self.canvas.set_image(QImage())
            self.canvas_hint.setText(
                "This region has no photos yet: add a check-in, then paint its areas here."
            )
            self.canvas.setEnabled(False)
            return
        path = self.lib.original_path(self.lib.photo(self.reference_id))
        self._loading_preview = True
        self.canvas_hint.setText("Loading the reference photo…")
        self._track(
            run_task(
                lambda _t: load_preview(path),
                on_result=lambda res: self._preview_ready(res, initial),
                on_error=lambda msg: self.canvas_hint.setText(f"Cannot show the reference photo: {msg}"),
                pool=Pool.THUMBS,
                name="ref-preview",
            )
        )

    def _preview_ready(self, res: tuple[QImage, int, int], initial: bool) -> None:
        image, full_w, _full_h = res
        self.canvas.set_image(image)
        self.scale = full_w / max(1, image.width())
        self.canvas.setEnabled(True)
        if initial:
            self.canvas.set_polygons(WATCHED, self.region.watched_area, 1 / self.scale)
            self.canvas.set_polygons(CONTROL, self.region.control_area, 1 / self.scale)
        self._loading_preview = False
        self._show_hint()
        self._check_overlap()

    @Slot(QListWidgetItem, QListWidgetItem)
    def _reference_picked(self, current: QListWidgetItem | None, _prev: QListWidgetItem | None) -> None:
        if current is None:
            return
        new_id = int(current.data(Qt.ItemDataRole.UserRole))
        if new_id == self.reference_id:
            return
        had_areas = not (self.canvas.is_empty(WATCHED) and self.canvas.is_empty(CONTROL))
        self.reference_id = new_id
        self._areas_reset = True  # areas belong to the old reference's pixels
        self._load_reference()
        if had_areas:
            self.status.setText("New reference: paint the areas again on it.")

    def reference_changed(self) -> bool:
        """True when the user picked another photo than the one the editor opened with."""
        return self.reference_id is not None and self.reference_id != self._initial_reference

    @property
    def areas_dirty(self) -> bool:
        """The painted areas differ from the stored ones (undoing every edit makes them equal again)."""
        return self._areas_reset or not self.undo_stack.isClean()

    def unsaved_changes(self) -> str:
        """What Cancel would throw away, in words ("" when nothing)."""
        parts = []
        if self.areas_dirty and self.canvas.isEnabled():
            parts.append("painting")
        if self.reference_changed():
            parts.append("reference photo")
        r = self.region
        if (
            self.name_edit.text().strip() != r.name
            or self.site_edit.text().strip() != r.body_site
            or (self.interval.value() or None) != (r.interval_days or None)
            or self.notes_edit.toPlainText().strip() != r.notes.strip()
        ):
            parts.append("details")
        return " and ".join(", ".join(parts).rsplit(", ", 1)) if parts else ""

    @Slot(str)
    def _mask_changed(self, _layer: str) -> None:
        self._check_overlap()

    def _check_overlap(self) -> None:
        """Warn inline (no dialog) while the watched area covers part of the control patch."""
        if self.canvas.is_empty(CONTROL) or self.canvas.is_empty(WATCHED):
            self.overlap_label.hide()
            return
        fraction = overlap_fraction(self.canvas.mask(WATCHED), self.canvas.mask(CONTROL))
        self.overlap_label.setVisible(fraction > 0)
        if fraction > 0:
            self.overlap_label.setText(overlap_warning(fraction))

    def _tool_picked(self, tool: str) -> None:
        self.canvas.set_tool(tool)
        self._show_hint()

    @Slot(int)
    def _polygon_changed(self, points: int) -> None:
        self._show_hint(points)

    def _show_hint(self, points: int = 0) -> None:
        if not self.canvas.isEnabled():
            return
        if self.canvas.tool == POLYGON:
            count = f" ({points} point{'s' if points != 1 else ''} so far)" if points else ""
            self.canvas_hint.setText(POLYGON_HINT + count)
        else:
            self.canvas_hint.setText(PAINT_HINT)

    # ------------------------------------------------------------------ save
    @Slot()
    def save(self) -> None:
        if self.task is not None or self._loading_preview:
            return
        name = self.name_edit.text().strip()
        if not name:
            self.status.setText("The region needs a name.")
            return
        lib, rid = self.lib, self.region_id
        ref_changed = self.reference_changed()
        areas = self.areas_dirty and self.canvas.isEnabled()
        edit = RegionEdit(
            name=name,
            body_site=self.site_edit.text().strip(),
            notes=self.notes_edit.toPlainText().strip(),
            interval_days=self.interval.value() or None,
            reference_id=self.reference_id if ref_changed else None,
            areas=AreaMasks(self.canvas.mask(WATCHED), self.canvas.mask(CONTROL), self.scale)
            if areas
            else None,
        )
        self._request_analysis = self.reanalyse_box.isChecked() and (ref_changed or areas)
        self.status.setText("Saving…")
        self.save_button.setEnabled(False)
        handle = run_task(
            lambda _t: save_region_edit(lib, rid, edit),
            on_result=self._on_saved,
            on_error=self._on_failed,
            on_finished=self._on_finished,
            pool=Pool.WRITE,
            name="region-save",
        )
        self.task = handle if handle.running else None  # a synchronous pool has finished it

    @Slot(object)
    def _on_saved(self, _region: Region) -> None:
        self.regionChanged.emit(self.region_id)
        if self._request_analysis:  # after the commit, so the listener measures the new areas
            self.analysisRequested.emit(self.region_id)
        self.accept()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.status.setText(f"Could not save: {message}")
        self.regionChanged.emit(self.region_id)

    @Slot()
    def _on_finished(self) -> None:
        self.task = None
        self.save_button.setEnabled(True)

    @Slot()
    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            return
        self.reject()

    def reject(self) -> None:
        """Cancel, Esc and the close button: ask before throwing away unsaved changes."""
        what = self.unsaved_changes() if self.task is None else ""
        if what and not self.ask_discard(self, what):
            return
        super().reject()

    def done(self, code: int) -> None:
        if self.task is not None:
            self.task.cancel()
        for h in list(self._handles):
            h.cancel()
        super().done(code)
