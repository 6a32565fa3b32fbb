"""The compare window's layout: toolbar, date pickers, the four views and the side panel.

Like the ``setupUi`` of a Qt Designer form, :func:`setup_ui` builds the widgets and sets them
on the window; the window wires and drives them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from skintrack.core import formatting
from skintrack.ui.compare.blink import BlinkView
from skintrack.ui.compare.heatmap_layer import HeatmapView
from skintrack.ui.compare.metrics_panel import MetricsPanel
from skintrack.ui.compare.pair_view import PairView, ViewSync
from skintrack.ui.compare.source import PhotoInfo
from skintrack.ui.compare.swipe_view import SwipeView

if TYPE_CHECKING:
    from skintrack.ui.compare.window import CompareWindow

SIDE, SWIPE, BLINK, HEATMAP = range(4)
MODE_NAMES = ("Side by side", "Swipe", "Blink", "Heatmap")


def combo_text(photo: PhotoInfo) -> str:
    """A check-in as the date pickers show it: short, so the toolbar fits a 1024 px window."""
    day = formatting.day(photo.taken_at)
    return f"{day} · ref" if photo.is_reference else day


def setup_ui(win: CompareWindow) -> None:
    bar = QToolBar("Compare", win)
    bar.setObjectName("compareToolbar")
    bar.setMovable(False)
    bar.setIconSize(QSize(18, 18))
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    win.addToolBar(bar)
    win.toolbar = bar

    win.combo_a = QComboBox(bar)
    win.combo_a.setObjectName("earlierCombo")
    win.combo_a.setToolTip("Earlier check-in (Shift+← / Shift+→)")
    bar.addWidget(win.combo_a)
    bar.addWidget(QLabel(" vs ", bar))
    win.combo_b = QComboBox(bar)
    win.combo_b.setObjectName("laterCombo")
    win.combo_b.setToolTip("Later check-in (← / →)")
    bar.addWidget(win.combo_b)
    for combo in (win.combo_a, win.combo_b):
        combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for p in win.photo_list:
            combo.addItem(combo_text(p), p.id)
            combo.setItemData(combo.count() - 1, p.label, Qt.ItemDataRole.ToolTipRole)
    win.combo_a.currentIndexChanged.connect(win._combo_changed)
    win.combo_b.currentIndexChanged.connect(win._combo_changed)
    bar.addSeparator()

    win.mode_group = QActionGroup(win)
    win.mode_actions: list[QAction] = []
    for i, name in enumerate(MODE_NAMES):
        act = QAction(name, win)
        act.setCheckable(True)
        act.setShortcut(QKeySequence(str(i + 1)))
        act.setToolTip(f"{name} ({i + 1})")
        act.setData(i)
        win.mode_group.addAction(act)
        win.mode_actions.append(act)
        bar.addAction(act)
    win.mode_actions[SIDE].setChecked(True)
    win.mode_group.triggered.connect(win._mode_triggered)
    bar.addSeparator()

    win.act_zoom_out = QAction("−", win)
    win.act_zoom_out.setToolTip("Zoom out (-)")
    win.act_zoom_in = QAction("+", win)
    win.act_zoom_in.setToolTip("Zoom in (+)")
    win.act_fit = QAction("Fit", win)
    win.act_fit.setToolTip("Fit to window (Ctrl+0)")
    win.act_100 = QAction("100 %", win)
    win.act_100.setToolTip("Actual pixels (Ctrl+1)")
    win.act_zoom_out.setShortcuts([QKeySequence("-")])
    win.act_zoom_in.setShortcuts([QKeySequence("+"), QKeySequence("=")])
    win.act_fit.setShortcuts([QKeySequence("Ctrl+0"), QKeySequence("F")])
    win.act_100.setShortcut(QKeySequence("Ctrl+1"))
    win.act_zoom_out.triggered.connect(lambda: win.active_view().zoom_out())
    win.act_zoom_in.triggered.connect(lambda: win.active_view().zoom_in())
    win.act_fit.triggered.connect(lambda: win.active_view().fit())
    win.act_100.triggered.connect(lambda: win.active_view().actual_size())
    for act in (win.act_zoom_out, win.act_zoom_in, win.act_fit, win.act_100):
        bar.addAction(act)
    bar.addSeparator()

    win.originals_box = QCheckBox("Originals", bar)
    win.originals_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    win.originals_box.setToolTip(
        "Show originals: the untouched photos instead of aligned, lighting-normalised ones"
    )
    win.originals_box.toggled.connect(win.set_show_originals)
    bar.addWidget(win.originals_box)
    bar.addSeparator()
    win.act_manual = QAction("Align…", win)
    win.act_manual.setToolTip("Align manually: click matching points on the two photos")
    win.act_manual.triggered.connect(win.open_manual_alignment)
    bar.addAction(win.act_manual)
    win.act_export = QAction("Export…", win)
    win.act_export.setShortcut(QKeySequence("Ctrl+E"))
    win.act_export.setToolTip(
        "Export view: save the current view as a PNG with the region, dates and figures under it (Ctrl+E)"
    )
    win.act_export.triggered.connect(win._export_dialog)
    bar.addAction(win.act_export)

    central = QWidget(win)
    outer = QVBoxLayout(central)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.setSpacing(0)

    # banner shown only when alignment failed
    win.banner = QFrame(central)
    win.banner.setObjectName("alignmentBanner")
    win.banner.setStyleSheet(
        "#alignmentBanner { background: #fdecea; border-bottom: 1px solid #e0a39c; }"
        "#alignmentBanner QLabel { color: #5f1d16; }"
    )
    bl = QHBoxLayout(win.banner)
    bl.setContentsMargins(12, 8, 12, 8)
    win.banner_label = QLabel(win.banner)
    win.banner_label.setWordWrap(True)
    bl.addWidget(win.banner_label, 1)
    win.banner_button = QPushButton("Align manually…", win.banner)
    win.banner_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    win.banner_button.clicked.connect(win.open_manual_alignment)
    bl.addWidget(win.banner_button)
    win.banner.setVisible(False)
    outer.addWidget(win.banner)

    # per-mode options and the always-visible quality line
    opts = QWidget(central)
    opts.setObjectName("modeOptions")
    ol = QHBoxLayout(opts)
    ol.setContentsMargins(10, 4, 10, 4)
    win.quality_label = QLabel("Loading…", opts)
    win.quality_label.setObjectName("qualityLabel")
    ol.addWidget(win.quality_label, 1)

    win.blink_opts = QWidget(opts)
    bo = QHBoxLayout(win.blink_opts)
    bo.setContentsMargins(0, 0, 0, 0)
    win.blink_play = QPushButton("Auto blink", win.blink_opts)
    win.blink_play.setCheckable(True)
    win.blink_play.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    win.blink_play.toggled.connect(win._blink_play)
    win.blink_rate = QDoubleSpinBox(win.blink_opts)
    win.blink_rate.setRange(0.2, 10.0)
    win.blink_rate.setSingleStep(0.5)
    win.blink_rate.setSuffix(" /s")
    win.blink_rate.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    bo.addWidget(QLabel("Space: toggle", win.blink_opts))
    bo.addWidget(win.blink_play)
    bo.addWidget(QLabel("Rate", win.blink_opts))
    bo.addWidget(win.blink_rate)
    ol.addWidget(win.blink_opts)

    win.heat_opts = QWidget(opts)
    ho = QHBoxLayout(win.heat_opts)
    ho.setContentsMargins(0, 0, 0, 0)
    win.heat_toggle = QCheckBox("Overlay", win.heat_opts)
    win.heat_toggle.setChecked(True)
    win.heat_toggle.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    win.heat_opacity = QSlider(Qt.Orientation.Horizontal, win.heat_opts)
    win.heat_opacity.setRange(0, 100)
    win.heat_opacity.setFixedWidth(140)
    win.heat_opacity.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    ho.addWidget(win.heat_toggle)
    ho.addWidget(QLabel("Opacity", win.heat_opts))
    ho.addWidget(win.heat_opacity)
    ol.addWidget(win.heat_opts)

    win.busy = QProgressBar(opts)
    win.busy.setRange(0, 0)
    win.busy.setFixedWidth(120)
    win.busy.setTextVisible(False)
    win.busy.setVisible(False)
    ol.addWidget(win.busy)
    outer.addWidget(opts)

    # views
    win.sync = ViewSync(win)
    win.stack = QStackedWidget(central)
    win.pair_view = PairView(win.sync, win.stack)
    win.swipe_view = SwipeView(win.stack)
    win.blink_view = BlinkView(win.stack)
    win.heat_view = HeatmapView(win.stack)
    for v in (win.swipe_view, win.blink_view, win.heat_view):
        win.sync.add(v)
    for w in (win.pair_view, win.swipe_view, win.blink_view, win.heat_view):
        win.stack.addWidget(w)
    win.blink_rate.setValue(win.blink_view.rate_hz)
    win.blink_rate.valueChanged.connect(win.blink_view.set_rate)
    win.heat_opacity.setValue(round(win.heat_view.overlay_opacity * 100))
    win.heat_opacity.valueChanged.connect(lambda v: win.heat_view.set_overlay_opacity(v / 100.0))
    win.heat_toggle.toggled.connect(win.heat_view.set_overlay_visible)
    win.heat_view.patchClicked.connect(win._patch_clicked)

    win.metrics = MetricsPanel()
    scroll = QScrollArea(central)
    scroll.setWidget(win.metrics)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setMinimumWidth(300)

    split = QSplitter(Qt.Orientation.Horizontal, central)
    split.addWidget(win.stack)
    split.addWidget(scroll)
    split.setStretchFactor(0, 1)
    split.setStretchFactor(1, 0)
    split.setSizes([1080, 320])
    outer.addWidget(split, 1)
    win.setCentralWidget(central)
