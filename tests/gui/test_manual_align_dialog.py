"""Manual alignment dialog: rough pairs align, points drag, each pair's error shows, undo needs points."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from skintrack.ui import tasks
from skintrack.ui.compare.manual_align import ManualAlignDialog
from support.compare_source import FakeSource
from support.manual_clicks import rough_pairs

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


@pytest.fixture
def synchronous_pools():
    """Workers run inline, so the photos are loaded when the dialog is built."""
    saved = dict(tasks._pools)
    for kind in ("work", "write", "thumbs"):
        tasks.set_pool(kind, tasks.SyncPool())
    yield
    tasks._pools.clear()
    tasks._pools.update(saved)


@pytest.fixture
def dlg(qtbot, synchronous_pools) -> ManualAlignDialog:
    d = ManualAlignDialog(FakeSource(), 1, 4)
    qtbot.addWidget(d)
    d.resize(1100, 700)
    d.show()
    qtbot.waitExposed(d)
    assert d.loaded
    return d


def test_undo_disabled_without_points(dlg: ManualAlignDialog) -> None:
    assert not dlg.undo_button.isEnabled() and not dlg.clear_button.isEnabled()
    dlg.add_point("ref", 100, 100)
    assert dlg.undo_button.isEnabled()
    dlg.undo()
    assert not dlg.undo_button.isEnabled()


def test_five_rough_pairs_give_an_alignment_and_each_pair_error(dlg: ManualAlignDialog) -> None:
    ref, mov = rough_pairs(4)  # a perspective fit through these clicks would fold the image
    scale = np.array([640 / 1200, 480 / 900])  # the fake photos are 640 x 480
    for r, m in zip(ref * scale, mov * scale, strict=True):
        dlg.add_point("ref", *r)
        dlg.add_point("mov", *m)
    assert dlg.fit is not None and dlg.fit.alignment.ok, dlg.fit and dlg.fit.alignment.message
    text = dlg.count_label.text()
    assert all(f"pair {i + 1}:" in text for i in range(len(ref))) and " px" in text
    assert "folded" not in text
    assert dlg.preview_button.isEnabled()
    dlg.compute_preview()
    assert dlg.alignment is not None and dlg.alignment.ok and dlg.ok_button.isEnabled()


def test_drag_a_point_to_correct_it(dlg: ManualAlignDialog, qtbot) -> None:
    pts = [(100.0, 90.0), (520.0, 100.0), (500.0, 400.0), (120.0, 380.0)]
    for x, y in pts:
        dlg.add_point("ref", x, y)
        dlg.add_point("mov", x + 7, y - 4)
    dlg.mov_points[2] = (560.0, 330.0)  # a wrong click
    dlg.move_point("mov", 2, 560.0, 330.0)
    assert dlg.fit is not None and max(dlg.fit.errors) > 10
    view = dlg.mov_view
    start = view.mapFromScene(QPointF(560.0, 330.0))
    end = view.mapFromScene(QPointF(507.0, 396.0))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), pos=end)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert len(dlg.mov_points) == 4  # moved, not added
    assert dlg.mov_points[2] == pytest.approx((507.0, 396.0), abs=3.0)
    assert max(dlg.fit.errors) < 3.0
