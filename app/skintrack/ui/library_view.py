"""The library view: regions sidebar, check-in timeline and details panel, and their selection.

It reads a region's rows once for the timeline, details and chart (``library.region_rows``, kept
until the library is written) and never writes to it; the main window acts on what is selected
and asks the view to show the result again.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from skintrack.library import Library, MeasurementRecord, Photo
from skintrack.library.models import Region, RegionSummary
from skintrack.library.region_rows import RegionRows, RegionRowsCache
from skintrack.library.shots import standing_from
from skintrack.ui.delegates import PhotoDelegate, RegionDelegate
from skintrack.ui.details_panel import DetailsPanel
from skintrack.ui.models import PhotoListModel, PhotoRole, RegionListModel, RegionRole
from skintrack.ui.thumbnails import ThumbnailLoader
from skintrack.ui.timeline_view import TimelineView


class LibraryView(QSplitter):
    changed = Signal()  # the selection or what is shown changed: actions are re-evaluated
    regionPicked = Signal(int)  # the user chose a region (remembered for the next start)
    compareRequested = Signal()
    addRegionRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.lib: Library | None = None
        self._restoring = False
        self.originals: dict[int, str] = {}  # photo id -> "missing" | "altered" (library check)
        self.show_archived = False
        self.is_analysing: Callable[[int], bool] = lambda _region_id: False  # set by the window
        self.rows = RegionRowsCache()  # one read of a region for the timeline, details and chart
        self.region_model = RegionListModel(None, self)
        self.photo_model = PhotoListModel(None, self)
        self.setObjectName("mainSplitter")
        self.setChildrenCollapsible(False)
        side = QWidget(self)
        sl = QVBoxLayout(side)
        sl.setContentsMargins(6, 6, 0, 6)
        title = QLabel("Regions", side)
        title.setObjectName("sidebarTitle")
        f = title.font()
        f.setBold(True)
        title.setFont(f)
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        self.add_region_button = QToolButton(side)
        self.add_region_button.setObjectName("sidebarAddRegion")
        self.add_region_button.setToolTip("Add a region")
        self.add_region_button.setAutoRaise(True)
        self.add_region_button.clicked.connect(self.addRegionRequested)
        head.addWidget(self.add_region_button)
        sl.addLayout(head)
        self.region_view = QListView(side)
        self.region_view.setObjectName("regionList")
        self.region_view.setModel(self.region_model)
        self.region_view.setItemDelegate(RegionDelegate(self.region_view))
        self.region_view.setUniformItemSizes(True)
        self.region_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.region_view.setMouseTracking(True)
        self.region_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.region_view.selectionModel().currentChanged.connect(self._region_changed)
        sl.addWidget(self.region_view)
        side.setMinimumWidth(200)

        middle = QWidget(self)
        ml = QVBoxLayout(middle)
        ml.setContentsMargins(0, 6, 0, 6)
        self.timeline_title = QLabel("", middle)
        self.timeline_title.setObjectName("timelineTitle")
        tf = self.timeline_title.font()
        tf.setBold(True)
        tf.setPointSizeF(tf.pointSizeF() * 1.2)
        self.timeline_title.setFont(tf)
        self.timeline_title.setContentsMargins(6, 0, 0, 0)
        ml.addWidget(self.timeline_title)
        self.timeline_hint = QLabel("", middle)
        self.timeline_hint.setObjectName("timelineHint")
        self.timeline_hint.setContentsMargins(6, 0, 0, 0)
        self.timeline_hint.setWordWrap(True)
        ml.addWidget(self.timeline_hint)
        self.timeline = TimelineView(middle)
        self.timeline.setObjectName("timeline")
        self.timeline.setViewMode(QListView.ViewMode.IconMode)
        self.timeline.setFlow(QListView.Flow.LeftToRight)
        self.timeline.setWrapping(True)
        self.timeline.setResizeMode(QListView.ResizeMode.Adjust)
        self.timeline.setMovement(QListView.Movement.Static)
        self.timeline.setUniformItemSizes(True)
        self.timeline.setSpacing(4)
        self.timeline.setMouseTracking(True)
        self.timeline.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.timeline.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.timeline.setDragEnabled(False)
        self.photo_delegate = PhotoDelegate(self.timeline)
        self.timeline.setItemDelegate(self.photo_delegate)
        self.timeline.setModel(self.photo_model)
        self.timeline.selectionModel().currentChanged.connect(self._photo_changed)
        self.timeline.doubleClicked.connect(lambda _i: self.compareRequested.emit())
        self.timeline.viewport().installEventFilter(self)
        ml.addWidget(self.timeline)

        self.details = DetailsPanel(None, self)
        self.details.photoActivated.connect(self.select_photo)
        self.setStretchFactor(0, 0)
        self.setStretchFactor(1, 1)
        self.setStretchFactor(2, 1)
        self.setSizes(default_sizes(1280))

    def use_default_sizes(self) -> None:
        """Sizes for the window's width when none were saved (see :func:`default_sizes`)."""
        self.setSizes(default_sizes(self.width()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.timeline.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_tiles()
        return super().eventFilter(watched, event)

    def fit_tiles(self) -> None:
        """Tiles as wide as whole columns need to fill the timeline (no empty strip at the right).

        The scroll bar's width is always left free, so its showing and hiding never re-flows them.
        """
        bar = self.timeline.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        available = self.timeline.contentsRect().width() - bar
        if self.photo_delegate.fit_width(available, self.timeline.spacing()):
            self.timeline.scheduleDelayedItemsLayout()

    def set_library(self, lib: Library | None, thumbs: ThumbnailLoader | None, threshold_L: float) -> None:
        self.lib = lib
        self.region_model.thumbs = thumbs
        self.photo_model.thumbs = thumbs
        if thumbs is not None:
            thumbs.ready.connect(self.region_model._thumb_ready)
            thumbs.ready.connect(self.photo_model._thumb_ready)
        self.rows.clear()
        self.details.library = lib
        self.details.chart.library = lib
        self.details.chart.rows = self.rows
        self.details.region_id = -1  # force a chart refresh
        self.set_threshold(threshold_L)

    def set_threshold(self, threshold_L: float) -> None:
        self.photo_delegate.threshold_L = threshold_L
        self.photo_model.threshold_L = threshold_L
        self.details.threshold_L = threshold_L

    def list_regions(self) -> list[RegionSummary]:
        """The sidebar's regions (archived ones too with View ▸ Show archived regions)."""
        return [] if self.lib is None else self.lib.list_regions(include_archived=self.show_archived)

    def current_region(self) -> Region | None:
        idx = self.region_view.currentIndex()
        summary = idx.data(RegionRole.Summary) if idx.isValid() else None
        return summary.region if summary is not None else None

    def current_region_id(self) -> int | None:
        idx = self.region_view.currentIndex()
        return int(idx.data(RegionRole.RegionId)) if idx.isValid() else None

    def current_photo(self) -> Photo | None:
        idx = self.timeline.currentIndex()
        return idx.data(PhotoRole.Photo) if idx.isValid() else None

    def show_regions(self, regions: list[RegionSummary], current: int | None) -> None:
        """List ``regions`` and select ``current`` (else the first)."""
        self.region_model.set_regions(regions)
        row = self.region_model.row_of(current)
        if row < 0 and regions:
            row = 0
        if row >= 0:
            self.region_view.setCurrentIndex(self.region_model.index(row))
        else:
            self.show_region(None)

    def select_region(self, region_id: int) -> bool:
        row = self.region_model.row_of(region_id)
        if row >= 0 and row != self.region_view.currentIndex().row():
            self.region_view.setCurrentIndex(self.region_model.index(row))
        return row >= 0

    @Slot(QModelIndex, QModelIndex)
    def _region_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        region_id = int(current.data(RegionRole.RegionId)) if current.isValid() else None
        self.show_region(region_id)
        if region_id is not None and not self._restoring:
            self.regionPicked.emit(region_id)

    def show_region(self, region_id: int | None, select_photo: int | None = None) -> None:
        if self.lib is None or region_id is None:
            self.photo_model.clear()
            self.timeline_title.setText("")
            self.timeline_hint.setText("")
            self.details.set_region(None)
            self.details.show_photo(None)
            self.changed.emit()
            return
        keep = select_photo
        if keep is None and self.photo_model.photos() and self.details.region_id == region_id:
            cur = self.current_photo()
            keep = cur.id if cur is not None else None
        rows = self.rows.get(self.lib, region_id)
        region, photos, measurements = rows.region, list(rows.photos), list(rows.measurements)
        ref_id = rows.reference_id
        self.photo_delegate.not_aligned = not_aligned(rows)
        standing = standing_from(rows.checkins, rows.qualities, rows.measured(), ref_id)
        self.photo_model.set_photos(photos, measurements, ref_id, standing)
        self.timeline_title.setText(region.name)
        analysing = self.is_analysing(region_id)
        self.details.analysing = analysing
        self.timeline_hint.setText(
            region_hint(
                region,
                photos,
                measurements,
                self.photo_delegate.not_aligned,
                analysing=analysing,
                checkins=len(rows.checkins),
            )
        )
        self.details.set_region(region_id)
        row = self.photo_model.row_of(keep)
        if row < 0 and photos:
            row = len(photos) - 1  # latest check-in
        if row >= 0:
            idx = self.photo_model.index(row)
            self.timeline.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.timeline.scrollTo(idx)
        else:
            self.details.show_photo(None)
        self.changed.emit()

    def set_originals(self, problems: dict[int, str]) -> None:
        """Badge the photos whose original the library check found missing or altered."""
        if problems == self.originals:
            return  # the usual outcome of the check on open: nothing to redraw
        self.originals = dict(problems)
        self.photo_delegate.originals = self.originals
        self.timeline.viewport().update()
        idx = self.timeline.currentIndex()
        if idx.isValid():
            self._photo_changed(idx, idx)

    @Slot(QModelIndex, QModelIndex)
    def _photo_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.details.show_photo(None)
        else:
            photo = current.data(PhotoRole.Photo)
            metrics = current.data(PhotoRole.Measurement)
            is_ref = bool(current.data(PhotoRole.IsReference))
            alignment = None
            if metrics is None and not is_ref and self.lib is not None and self.photo_model.reference_id:
                alignment = self.lib.alignment(photo.id, self.photo_model.reference_id)  # one indexed row
            self.details.show_photo(
                photo,
                metrics,
                is_reference=is_ref,
                alignment=alignment,
                original=self.originals.get(photo.id),
                original_path=self.lib.original_path(photo) if self.lib is not None else None,
            )
        self.changed.emit()

    @Slot(int)
    def select_photo(self, photo_id: int) -> None:
        row = self.photo_model.row_of(photo_id)
        if row >= 0:
            idx = self.photo_model.index(row)
            self.timeline.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.timeline.scrollTo(idx)

    def step(self, delta: int) -> None:
        n = self.photo_model.rowCount()
        if n == 0:
            return
        row = self.timeline.currentIndex().row()
        new = max(0, min(n - 1, (n - 1 if row < 0 else row + delta)))
        idx = self.photo_model.index(new)
        self.timeline.selectionModel().setCurrentIndex(idx, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.timeline.scrollTo(idx)

    def reload_region(
        self, select_row: int | None = None, select_photo: int | None = None, *, chart: bool = True
    ) -> list[RegionSummary]:
        """Re-read the sidebar and the current region's timeline (after a change); returns the regions.

        ``chart=False`` when no measurement changed (the trend chart is the costly part to redraw)."""
        region_id = self.current_region_id()
        if select_row is not None and 0 <= select_row < self.photo_model.rowCount():
            ids = [p.id for p in self.photo_model.photos()]
            cur = self.current_photo()
            candidates = [i for i in ids if cur is None or i != cur.id]
            select_photo = select_photo or (
                candidates[min(select_row, len(candidates) - 1)] if candidates else None
            )
        self._restoring = True
        try:
            regions = self.list_regions()
            self.region_view.selectionModel().blockSignals(True)
            self.region_model.set_regions(regions)
            row = self.region_model.row_of(region_id)
            if row >= 0:
                self.region_view.setCurrentIndex(self.region_model.index(row))
            self.region_view.selectionModel().blockSignals(False)
            self.show_region(region_id if row >= 0 else None, select_photo=select_photo)
            if chart:
                self.details.refresh_chart_soon()  # measurements or the reference may have changed
        finally:
            self._restoring = False
        return regions


SIDEBAR_WIDTH = 220
TWO_COLUMNS = 2 * (PhotoDelegate.WIDTH + 8) + 30  # two tiles, their spacing and a scroll bar


def default_sizes(width: int) -> list[int]:
    """Sidebar, timeline, details: two columns of tiles at least, the details the larger share."""
    sidebar = SIDEBAR_WIDTH if width < 1400 else 250
    rest = max(0, width - sidebar)
    timeline = max(TWO_COLUMNS, int(rest * 0.45))
    return [sidebar, timeline, max(0, rest - timeline)]


def not_aligned(rows: RegionRows) -> set[int]:
    """Photos whose last alignment with the reference failed and that have no usable measurement."""
    ref_id = rows.reference_id
    measured = {pid for pid, m in rows.measured().items() if m.calibration != "none"}
    return {pid for pid in rows.failed_alignments if pid != ref_id and pid not in measured}


def region_hint(
    region: Region,
    photos: list[Photo],
    measurements: list[MeasurementRecord],
    not_aligned: frozenset[int] | set[int] = frozenset(),
    *,
    analysing: bool = False,
    checkins: int | None = None,
) -> str:
    if not photos:
        return "No check-ins yet. Press Ctrl+N or drop photos here to add the first one."
    n = len(photos) if checkins is None else checkins
    shots = f" ({len(photos)} photos)" if n != len(photos) else ""
    parts = [f"{n} check-in{'s' if n != 1 else ''}{shots}"]
    if region.body_site:
        parts.insert(0, region.body_site)
    ref_id = region.reference_photo_id or photos[0].id
    analysed = sum(1 for m in measurements if m.reference_id == ref_id and m.photo_id not in not_aligned)
    if len(photos) > 1:
        missing = len(photos) - 1 - analysed - len(not_aligned)
        if missing > 0:
            parts.append(f"{missing} being analysed…" if analysing else f"{missing} not analysed (Ctrl+R)")
        if not_aligned:
            parts.append(f"{len(not_aligned)} not aligned")
    if region.interval_days:
        parts.append(f"every {region.interval_days} days")
    return "  ·  ".join(parts)
