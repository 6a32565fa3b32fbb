"""The compare window: is it darker than in March?

Two dates (earlier and later), four ways to look at them (side by side, swipe, blink, heatmap),
the metrics of the change and its plain-language reading. Photo loading, alignment, lighting
normalisation and the change map run in a worker (``run_task``) and are cached by photo pair;
the GUI thread only wraps the prepared pyramids into tiles.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QWidget,
)

from skintrack.core.align import Alignment
from skintrack.library import Library
from skintrack.library.settings import load_settings
from skintrack.progress import CancelToken, Progress
from skintrack.services.manual_alignment import Point
from skintrack.ui import exported_files
from skintrack.ui.compare.export_view import ViewFacts, annotate, default_name, figure_lines
from skintrack.ui.compare.heatmap_layer import HeatmapView
from skintrack.ui.compare.metrics_panel import alignment_text
from skintrack.ui.compare.pair_view import PairView, ZoomView
from skintrack.ui.compare.source import CompareSource, LibrarySource, PairData, PhotoInfo, prepare
from skintrack.ui.compare.tiles import TileSource
from skintrack.ui.compare.window_ui import BLINK, HEATMAP, MODE_NAMES, SIDE, SWIPE, setup_ui
from skintrack.ui.tasks import Pool, TaskHandle, run_task

if TYPE_CHECKING:
    from skintrack.services.analysis import AnalysisReport

log = logging.getLogger(__name__)

CACHE_PAIRS = 2  # a 12 MP pair with pyramids is ~200 MB


class CompareWindow(QMainWindow):
    """Compare two check-ins of one region."""

    pairLoaded = Signal(int, int)  # photo ids (earlier, later) now shown
    alignmentSaved = Signal(int, int)

    def __init__(
        self,
        library: Library,
        region_id: int,
        photo_a_id: int | None = None,
        photo_b_id: int | None = None,
        parent: QWidget | None = None,
        *,
        source: CompareSource | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.library = library
        self.region_id = region_id
        self.source: CompareSource = source or LibrarySource(library, region_id)
        self.photo_list: list[PhotoInfo] = self.source.photos()
        self.current: PairData | None = None
        self.show_originals = False
        self.mode = SIDE
        self._cache: OrderedDict[tuple[int, int], tuple[PairData, dict[str, TileSource]]] = OrderedDict()
        self._task: TaskHandle | None = None
        self._pending: tuple[int, int] | None = None
        self._sources: dict[str, TileSource] = {}
        self.load_error: str | None = None
        settings = load_settings(library)
        self.threshold_l, self.noise_k = settings.threshold_L, settings.noise_k

        self.region_name = "Region"
        with contextlib.suppress(Exception):
            self.region_name = library.region(region_id).name
        self.setWindowTitle(f"Compare — {self.region_name}")
        self.resize(1400, 860)

        self._build_ui()
        self._build_actions()

        self._closed = False
        if len(self.photo_list) < 2:
            self.quality_label.setText(
                "Nothing to compare yet: this region needs at least two check-ins."
                if self.photo_list
                else "This region has no check-ins yet."
            )
            self.act_manual.setEnabled(False)
        else:
            da, db = self.source.default_pair()
            a = photo_a_id if photo_a_id is not None else da
            b = photo_b_id if photo_b_id is not None else db
            self._select(a, b)

    # ---------------------------------------------------------------- building
    def _build_ui(self) -> None:
        setup_ui(self)
        self._update_mode_widgets()

    def _build_actions(self) -> None:
        def add(keys: str, slot: Callable[[], None]) -> QAction:
            act = QAction(self)
            act.setShortcut(QKeySequence(keys))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        self.act_later_prev = add("Left", lambda: self.step(later=True, delta=-1))
        self.act_later_next = add("Right", lambda: self.step(later=True, delta=1))
        self.act_earlier_prev = add("Shift+Left", lambda: self.step(later=False, delta=-1))
        self.act_earlier_next = add("Shift+Right", lambda: self.step(later=False, delta=1))
        self.act_blink = add("Space", self._space)
        add("Escape", self.close)

    # ---------------------------------------------------------------- dates
    def _index_of(self, photo_id: int) -> int:
        for i, p in enumerate(self.photo_list):
            if p.id == photo_id:
                return i
        return 0

    def _select(self, a: int, b: int) -> None:
        for combo, pid in ((self.combo_a, a), (self.combo_b, b)):
            combo.blockSignals(True)
            combo.setCurrentIndex(self._index_of(pid))
            combo.blockSignals(False)
        self._request()

    def selected_ids(self) -> tuple[int, int]:
        return int(self.combo_a.currentData()), int(self.combo_b.currentData())

    @Slot()
    def _combo_changed(self) -> None:
        self._request()

    def step(self, *, later: bool, delta: int) -> None:
        """Arrow keys: move one side to the previous/next check-in date."""
        combo = self.combo_b if later else self.combo_a
        i = max(0, min(combo.count() - 1, combo.currentIndex() + delta))
        if i != combo.currentIndex():
            combo.setCurrentIndex(i)

    # ---------------------------------------------------------------- loading
    def _request(self) -> None:
        if len(self.photo_list) < 2 or self._closed:
            return
        key = self.selected_ids()
        self._pending = key
        self.act_manual.setEnabled(key[0] != key[1])
        if key in self._cache:
            self._cache.move_to_end(key)
            self._show(*self._cache[key])
            return
        if self._task is not None and not self._task.done:
            self._task.cancel()
        self.busy.setVisible(True)
        self.quality_label.setText("Aligning and measuring…")
        source = self.source
        a, b = key

        def job(token: CancelToken) -> PairData:
            return prepare(source.load(a, b, token))

        self._task = run_task(
            job,
            on_result=lambda data, key=key: self._loaded(key, data),
            on_error=self._load_failed,
            name=f"compare {a}-{b}",
        )

    def _loaded(self, key: tuple[int, int], data: PairData) -> None:
        if self._closed:
            return
        sources = {name: TileSource(p) for name, p in data.pyramids.items()}
        self._cache[key] = (data, sources)
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_PAIRS:
            self._cache.popitem(last=False)
        if key == self._pending:
            self.busy.setVisible(False)
            self._show(data, sources)

    def _load_failed(self, message: str) -> None:
        if self._closed:
            return
        self.busy.setVisible(False)
        self.load_error = message
        self.quality_label.setText(f"Could not load these photos: {message}")
        log.warning("compare load failed: %s", message)

    def invalidate(self, photo_id: int | None = None) -> None:
        for key in list(self._cache):
            if photo_id is None or photo_id in key:
                del self._cache[key]

    # ---------------------------------------------------------------- showing
    def _label(self, photo_id: int) -> str:
        return self.photo_list[self._index_of(photo_id)].label

    def _show(self, data: PairData, sources: dict[str, TileSource]) -> None:
        self.current = data
        self._sources = sources
        self.load_error = None
        aligned = data.aligned
        originals = self.show_originals or not aligned
        ref = sources["ref"]
        later = sources.get("later")
        ref_rect = QRectF(0, 0, ref.width, ref.height)
        la, lb = self._label(data.a_id), self._label(data.b_id)
        what = "original" if originals else "aligned · normalised"

        if originals:
            lo, ro = sources["ref_original"], sources["later_original"]
            rect = QRectF(0, 0, max(lo.width, ro.width), max(lo.height, ro.height))
            self.pair_view.set_images(lo, ro, rect)
        else:
            assert later is not None
            self.pair_view.set_images(ref, later, ref_rect)
        self.pair_view.set_captions(f"Earlier · {la}", f"Later · {lb} · {what}")

        if aligned:
            assert later is not None
            top = sources["later_original"] if self.show_originals else later
            self.swipe_view.set_images(ref, top, ref_rect)
            self.swipe_view.set_captions(f"◀ {la}", f"{lb} ▶")
            self.blink_view.set_images(ref, top, ref_rect)
            self.blink_view.set_captions(f"Earlier · {la}", f"Later · {lb}")
            self.heat_view.set_images(ref, sources.get("overlay"), ref_rect)
            self.heat_view.set_patches(data.change.patches if data.change is not None else [])
            self.heat_view.set_caption(f"Change {la} → {lb}")

        for m in (SWIPE, BLINK, HEATMAP):
            self.mode_actions[m].setEnabled(aligned)
        if not aligned and self.mode != SIDE:
            self.set_mode(SIDE)

        a = data.alignment
        self.banner.setVisible(not aligned)
        if not aligned:
            reason = f" ({a.message})" if a.message else ""
            self.banner_label.setText(
                "<b>These two photos could not be aligned reliably</b>" + reason + ". "
                "No overlay or measurement is shown, because it would be misleading. "
                "You can align them by hand by clicking matching points."
            )
        self.quality_label.setText(
            f"Alignment: {alignment_text(a)}   ·   Calibration: {data.calibration}   ·   Showing: {what}"
        )
        self.metrics.set_result(
            data.change, a, data.calibration, threshold_l=self.threshold_l, noise_k=self.noise_k
        )
        view = self.active_view()
        if view.fit_mode:
            view.fit()
        self.pairLoaded.emit(data.a_id, data.b_id)

    def all_views(self) -> list[ZoomView]:
        return [*self.pair_view.views(), self.swipe_view, self.blink_view, self.heat_view]

    def active_view(self) -> ZoomView:
        w = self.stack.currentWidget()
        return self.pair_view.left if isinstance(w, PairView) else w  # type: ignore[return-value]

    # ---------------------------------------------------------------- modes
    def set_mode(self, mode: int) -> None:
        if mode != SIDE and self.current is not None and not self.current.aligned:
            mode = SIDE
        previous = self.active_view()
        self.mode = mode
        self.stack.setCurrentIndex(mode)
        self.mode_actions[mode].setChecked(True)
        if mode != BLINK:
            self.blink_play.setChecked(False)
        self._update_mode_widgets()
        view = self.active_view()
        if previous is not view:
            if previous.fit_mode:
                view.fit()
            else:
                self.sync.sync_from(previous)

    @Slot(QAction)
    def _mode_triggered(self, action: QAction) -> None:
        self.set_mode(int(action.data()))

    def _update_mode_widgets(self) -> None:
        self.blink_opts.setVisible(self.mode == BLINK)
        self.heat_opts.setVisible(self.mode == HEATMAP)

    @Slot(bool)
    def set_show_originals(self, on: bool) -> None:
        self.show_originals = on
        if self.originals_box.isChecked() != on:
            self.originals_box.setChecked(on)
        if self.current is not None:
            self._show(self.current, self._sources)

    @Slot(bool)
    def _blink_play(self, on: bool) -> None:
        if on:
            if self.mode != BLINK:
                self.set_mode(BLINK)
            self.blink_view.start()
        else:
            self.blink_view.stop()

    @Slot()
    def _space(self) -> None:
        if self.mode != BLINK:
            self.set_mode(BLINK)
            return
        self.blink_play.setChecked(False)
        self.blink_view.toggle()

    @Slot(int)
    def _patch_clicked(self, index: int) -> None:
        if self.current is None or self.current.change is None:
            return
        patches = self.current.change.patches if self.current.change is not None else []
        if 0 <= index < len(patches):
            self.metrics.show_patch(patches[index])

    # ---------------------------------------------------------------- export
    def view_facts(self) -> ViewFacts:
        a, b = self.selected_ids()
        infos = {p.id: p for p in self.photo_list}
        return ViewFacts(self.region_name, infos[a].taken_at, infos[b].taken_at, MODE_NAMES[self.mode])

    def export_png(self, path: str | Path) -> bool:
        """Save what the current mode shows (photos, captions, divider, legend) with a band of the
        region, the dates and the figures under it; the folder becomes the next default."""
        if len(self.photo_list) < 2:
            return False
        title, lines = figure_lines(
            self.view_facts(), self.current, threshold_l=self.threshold_l, noise_k=self.noise_k
        )
        image = annotate(self.view_pixmap(), title, lines)
        saved = image.save(str(path), "PNG")
        if saved:
            exported_files.remember_export_folder(path)
        return saved

    def view_pixmap(self) -> QPixmap:
        """The current view as shown, cut to the photos: no empty bands around a fitted pair."""
        widget = self.stack.currentWidget()
        if isinstance(widget, PairView):
            return widget.grab(widget.content_rect())
        if not isinstance(widget, ZoomView):
            return widget.grab()
        shown = widget.image_rect()
        if isinstance(widget, HeatmapView):
            shown = shown.united(widget.legend_box())
        if shown.isEmpty():
            return widget.grab()
        return widget.grab(QRect(widget.viewport().mapTo(widget, shown.topLeft()), shown.size()))

    def suggested_export_path(self) -> Path:
        return exported_files.last_export_folder() / default_name(self.view_facts())

    @Slot()
    def _export_dialog(self) -> None:
        if len(self.photo_list) < 2:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export view as PNG", str(self.suggested_export_path()), "PNG image (*.png)"
        )
        if not path:
            return
        if not path.lower().endswith(".png"):
            path += ".png"
        if self.export_png(path):
            self.statusBar().showMessage(f"Saved the view with its figures as {path}", 8000)
        else:
            self.statusBar().showMessage(f"Could not save the view as {path}", 8000)

    # ---------------------------------------------------------------- manual alignment
    @Slot()
    def open_manual_alignment(self) -> None:
        from skintrack.ui.compare.manual_align import ManualAlignDialog

        a, b = self.selected_ids()
        if a == b:
            return
        dlg = ManualAlignDialog(self.source, a, b, self._label(a), self._label(b), parent=self)
        dlg.accepted.connect(lambda: self.apply_manual_alignment(dlg.alignment, dlg.full_points()))
        dlg.open()
        self.manual_dialog = dlg

    def apply_manual_alignment(self, alignment: Alignment, points: list[tuple[Point, Point]]) -> TaskHandle:
        """Store the hand-made alignment, re-run the region's analysis, then reload this pair."""
        a, b = self.selected_ids()
        source = self.source
        self.busy.setVisible(True)
        self.quality_label.setText("Saving the manual alignment and measuring again…")

        def job(token: CancelToken) -> Generator[Progress, None, AnalysisReport]:
            source.save_manual_alignment(a, b, alignment, points)
            return (yield from source.reanalyse(token))

        def done(_report: AnalysisReport) -> None:
            if self._closed:
                return
            self.invalidate(b)
            self.alignmentSaved.emit(a, b)
            self._request()

        # no Qt parent: the handle must outlive this window if it is closed while the job runs
        self._write_task = run_task(
            job, on_result=done, on_error=self._load_failed, pool=Pool.WRITE, name="manual alignment"
        )
        return self._write_task

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        if self._task is not None and not self._task.done:
            self._task.cancel()
        self.blink_view.stop()
        self._cache.clear()
        super().closeEvent(event)
