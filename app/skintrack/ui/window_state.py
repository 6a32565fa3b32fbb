"""The main window's geometry, dock state, splitter sizes and last region, kept across runs.

Stored under their own QSettings group (:class:`skintrack.ui.preferences.WindowState`), never
mixed with the preferences. Splitter sizes only stick once the window has its restored size, so
they are applied after the first layout pass.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRect, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSplitter, QWidget

from skintrack.ui.preferences import WindowState


def available_geometry(window: QWidget) -> QRect | None:
    """The usable area (without panels and docks) of the screen the window is on."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    return None if screen is None else screen.availableGeometry()


def clamp_to_screen(window: QWidget) -> None:
    """Never larger than the screen's usable area, and inside it: a geometry saved on a larger
    monitor (or the default size on a small one) must not open off-screen or under the panels."""
    if window.isMaximized() or window.isFullScreen():
        return
    area = available_geometry(window)
    if area is None or area.isEmpty():
        return
    frame = window.frameGeometry()
    extra_w = max(0, frame.width() - window.width())
    extra_h = max(0, frame.height() - window.height())
    width = min(window.width(), area.width() - extra_w)
    height = min(window.height(), area.height() - extra_h)
    width = max(width, min(window.minimumWidth(), area.width()))
    height = max(height, min(window.minimumHeight(), area.height()))
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
    x = min(max(frame.x(), area.left()), area.right() + 1 - (width + extra_w))
    y = min(max(frame.y(), area.top()), area.bottom() + 1 - (height + extra_h))
    if (x, y) != (frame.x(), frame.y()):
        window.move(max(area.left(), x), max(area.top(), y))


class WindowStateKeeper(QObject):
    """Saves and restores one main window and its named splitters.

    ``default_sizes`` sizes a splitter for the window it is in when nothing was saved for it."""

    def __init__(
        self,
        window: QMainWindow,
        splitters: dict[str, QSplitter],
        store: WindowState,
        default_sizes: dict[str, Callable[[], None]] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.splitters = splitters
        self.store = store
        self.default_sizes = default_sizes or {}
        self._splitters_restored = False

    def last_region(self) -> int | None:
        return self.store.load_int("last_region")

    def remember_region(self, region_id: int) -> None:
        self.store.save_value("last_region", region_id)

    def restore(self) -> None:
        geo = self.store.load_bytes("geometry")
        if geo is not None:
            self.window.restoreGeometry(geo)
        state = self.store.load_bytes("state")
        if state is not None:
            self.window.restoreState(state)
        clamp_to_screen(self.window)
        self._splitters_restored = False

    def shown(self) -> None:
        """Call from ``showEvent``: the splitters are restored after the first layout pass."""
        if not self._splitters_restored:
            self._splitters_restored = True
            clamp_to_screen(self.window)  # the screen is known for sure once shown
            QTimer.singleShot(0, self, self._restore_splitters)

    def _restore_splitters(self) -> None:
        for key, splitter in self.splitters.items():
            sizes = self.store.load_int_list(key)
            if sizes and len(sizes) == splitter.count():
                splitter.setSizes(sizes)
            elif key in self.default_sizes:
                self.default_sizes[key]()

    def save(self, region_id: int | None) -> None:
        self.store.save_bytes("geometry", self.window.saveGeometry())
        self.store.save_bytes("state", self.window.saveState())
        for key, splitter in self.splitters.items():
            self.store.save_value(key, splitter.sizes())
        if region_id is not None:
            self.store.save_value("last_region", region_id)
        self.store.sync()
