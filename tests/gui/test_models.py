"""Region and photo list models: Qt's model tester, named roles, lazy thumbnails through the loader."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from skintrack.ui import tasks
from skintrack.ui.delegates import indicator
from skintrack.ui.models import PhotoListModel, PhotoRole, RegionListModel, RegionRole
from skintrack.ui.thumbnails import ThumbnailLoader

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def test_region_model_passes_model_tester(qtmodeltester: Any, make_library: Any) -> None:
    lib = make_library({"Left forearm": 3, "Cheek": 1, "Empty": 0})
    model = RegionListModel()
    model.set_regions(lib.list_regions())
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 3
    names = [model.index(r).data(RegionRole.Name) for r in range(3)]
    assert names == ["Cheek", "Empty", "Left forearm"]
    row = model.row_of(lib.region_by_name("Left forearm").id)
    idx = model.index(row)
    assert idx.data(RegionRole.PhotoCount) == 3
    assert idx.data(RegionRole.LastTakenAt) is not None
    assert idx.data(RegionRole.Overdue) is True  # last check-in months ago, interval 30 days
    assert "3 check-ins" in idx.data(Qt.ItemDataRole.ToolTipRole)
    assert model.roleNames()[int(RegionRole.LastTakenAt)].data() == b"lastTakenAt"
    model.set_regions([])
    qtmodeltester.check(model, force_py=True)


def test_photo_model_roles_and_measurements(qtmodeltester: Any, make_library: Any) -> None:
    lib = make_library({"Arm": 4}, measure=True)
    region = lib.region_by_name("Arm")
    model = PhotoListModel()
    model.set_photos(
        lib.list_photos(region.id), lib.measurements_for_region(region.id), region.reference_photo_id
    )
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 4
    first, last = model.index(0), model.index(3)
    assert first.data(PhotoRole.IsReference) is True
    assert first.data(PhotoRole.Measurement) is None
    assert last.data(PhotoRole.MeanDeltaL) == pytest.approx(-4.5)
    assert last.data(PhotoRole.TakenAt) > first.data(PhotoRole.TakenAt)
    assert "ΔL*" in last.data(Qt.ItemDataRole.ToolTipRole)
    assert model.roleNames()[int(PhotoRole.MeanDeltaL)].data() == b"meanDeltaL"

    changed: list[Any] = []
    model.dataChanged.connect(lambda a, b, roles=(): changed.append((a.row(), b.row())))
    photo = model.photo(2)
    model.set_notes(photo.id, "itchy")
    assert changed == [(2, 2)]
    assert model.index(2).data(PhotoRole.Notes) == "itchy"
    # measurements against another reference are not shown
    model.set_photos(
        lib.list_photos(region.id),
        lib.measurements_for_region(region.id),
        reference_id=last.data(PhotoRole.PhotoId),
    )
    assert model.index(3).data(PhotoRole.Measurement) is None
    qtmodeltester.check(model, force_py=True)


def test_indicator_colours_by_threshold() -> None:
    assert indicator(None, 3.0)[0] == "not analysed"
    assert indicator({"mean_delta_L": -4.0}, 3.0)[2].startswith("darker")
    assert indicator({"mean_delta_L": -1.6}, 3.0)[2].startswith("slightly")
    assert indicator({"mean_delta_L": 0.3}, 3.0)[2].startswith("no darkening")
    assert indicator({"mean_delta_L": -0.5, "darkened_fraction": 0.02}, 3.0)[2].startswith("darker")
    patches = [{"area_px": 300, "mean_delta_L": -6.0}, {"area_px": 100, "mean_delta_L": -8.0}]
    text, _colour, meaning = indicator(
        {"mean_delta_L": -0.5, "darkened_fraction": 0.139, "patches": patches}, 3.0
    )
    assert text == "−6.5 L* · 13.9 %" and meaning.startswith("darker patches")
    assert indicator({"mean_delta_L": -4.0}, 5.0)[2].startswith("slightly")


def test_thumbnails_load_lazily_off_thread(qtbot: Any, make_library: Any) -> None:
    lib = make_library({"Arm": 2})
    region = lib.region_by_name("Arm")
    loader = ThumbnailLoader(lib, size=64)
    model = PhotoListModel(loader)
    model.set_photos(lib.list_photos(region.id), [], region.reference_photo_id)
    idx = model.index(1)
    assert idx.data(Qt.ItemDataRole.DecorationRole) is None  # placeholder first, load queued
    with qtbot.waitSignal(model.dataChanged, timeout=5000) as blocker:
        pass
    assert blocker.args[0].row() in (0, 1)
    qtbot.waitUntil(lambda: loader.pending_count() == 0, timeout=5000)
    pm = model.index(1).data(Qt.ItemDataRole.DecorationRole)
    assert isinstance(pm, QPixmap) and not pm.isNull()
    assert max(pm.width(), pm.height()) <= 64
    assert lib.thumbnail_path(model.photo(1), 64).exists()  # cached on disk
    loader.invalidate()
    assert loader.cached(model.photo(1).id) is None


def test_thumbnail_failure_is_remembered(qtbot: Any, make_library: Any) -> None:
    lib = make_library({"Arm": 1})
    photo = lib.list_photos(lib.region_by_name("Arm").id)[0]
    lib.original_path(photo).unlink()  # the original vanished: the thumbnail cannot be made
    tasks.set_pool("thumbs", tasks.SyncPool())
    try:
        loader = ThumbnailLoader(lib, size=48)
        with qtbot.waitSignal(loader.failed, timeout=2000):
            assert loader.get(photo.id) is None
        assert loader.is_failed(photo.id)
        assert loader.get(photo.id) is None and loader.pending_count() == 0  # not retried in a loop
    finally:
        tasks._pools.pop("thumbs", None)
