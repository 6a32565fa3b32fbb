"""Timeline: the shots of one check-in are shown together (one date label, one shared frame,
the measured shot marked "best"), driven through the real main window offscreen."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QColor

from skintrack.library import Library, MeasurementRecord
from skintrack.ui import theme
from skintrack.ui.delegates import PhotoDelegate
from skintrack.ui.models import PhotoRole
from skintrack.ui.shot_groups import ShotGroup

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def make_jpeg(path: Path, seed: int) -> Path:
    rgb = np.clip(np.random.default_rng(seed).normal(170, 20, (120, 160, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(path, quality=90)
    return path


def add_repeat_shots(lib: Library, tmp_path: Path) -> tuple[int, list[int]]:
    """Two shots taken a minute apart as one check-in after the region's three single photos."""
    region = lib.region_by_name("Arm")
    checkin = lib.add_checkin(region.id)
    when = datetime(2026, 4, 20, 9, 0)  # after the three monthly photos
    ids = [
        lib.import_file(
            region.id,
            make_jpeg(tmp_path / f"shot{i}.jpg", 900 + i),
            taken_at=when + timedelta(minutes=i),
            checkin_id=checkin.id,
        ).photo.id
        for i in range(2)
    ]
    # only the second shot is measured: it stands for the check-in
    lib.save_measurement(
        MeasurementRecord(ids[1], region.reference_photo_id or 0, "model", {"mean_delta_L": -2.0}, "test")
    )
    return checkin.id, ids


def near(a: QColor, b: QColor, tol: int = 40) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) <= tol


def test_shots_of_one_check_in_share_a_label_a_frame_and_the_best_mark(
    qtbot: Any, main_window: Any, make_library: Any, tmp_path: Path
) -> None:
    lib = make_library({"Arm": 3}, measure=True)
    checkin_id, shots = add_repeat_shots(lib, tmp_path)
    win = main_window(library=lib)
    win.view.select_region(lib.region_by_name("Arm").id)
    model = win.photo_model
    qtbot.waitUntil(lambda: model.rowCount() == 5, timeout=5000)

    groups = [model.index(r).data(PhotoRole.ShotGroup) for r in range(5)]
    assert all(isinstance(g, ShotGroup) for g in groups)
    assert [g.grouped for g in groups] == [False, False, False, True, True]
    first, second = groups[3], groups[4]
    assert (first.checkin_id, first.index, first.count, first.first) == (checkin_id, 0, 2, True)
    assert (second.index, second.last) == (1, True)
    assert [model.index(r).data(PhotoRole.PhotoId) for r in (3, 4)] == shots
    assert (first.standing, second.standing) == (False, True)  # the measured shot is the best one
    assert "shot 2 of 2, the measured one" in model.index(4).data(0x03)  # tooltip

    day = model.index(3).data(0)
    assert PhotoDelegate.caption(model.index(3)) == (day, "2 shots")
    assert PhotoDelegate.caption(model.index(4)) == ("", "shot 2")  # one date label per check-in
    assert PhotoDelegate.caption(model.index(2))[1] == ""

    view = win.view.timeline
    view.resize(1000, 400)
    view.scrollToTop()
    qtbot.waitUntil(lambda: view.visualRect(model.index(4)).right() < view.viewport().width(), timeout=5000)
    image = view.viewport().grab().toImage()
    r2, r3, r4 = (view.visualRect(model.index(r)) for r in (2, 3, 4))
    assert r3.top() == r4.top(), "the two shots sit side by side"
    top = r3.top() + 1
    # the frame's top edge runs across the gap between the two shots, not into the single photo
    gap_x = (r3.right() + r4.left()) // 2
    assert near(image.pixelColor(gap_x, top), theme.ACCENT)
    assert near(image.pixelColor(r3.center().x(), top), theme.ACCENT)
    assert not near(image.pixelColor(r2.center().x(), top), theme.ACCENT)
    assert not near(image.pixelColor((r2.right() + r3.left()) // 2, top), theme.ACCENT)
