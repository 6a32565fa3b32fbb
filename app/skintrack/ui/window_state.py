"""The main window's geometry, dock state, splitter sizes and last region, kept across runs.

Stored under their own QSettings group (:class:`skintrack.ui.preferences.WindowState`), never
mixed with the preferences. Splitter sizes only stick once the window has its restored size, so
they are applied after the first layout pass.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMainWindow, QSplitter

from skintrack.ui.preferences import WindowState


class WindowStateKeeper(QObject):
    """Saves and restores one main window and its named splitters."""

    def __init__(self, window: QMainWindow, splitters: dict[str, QSplitter], store: WindowState) -> None:
        super().__init__(window)
        self.window = window
        self.splitters = splitters
        self.store = store
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
        self._splitters_restored = False

    def shown(self) -> None:
        """Call from ``showEvent``: the splitters are restored after the first layout pass."""
        if not self._splitters_restored:
            self._splitters_restored = True
            QTimer.singleShot(0, self, self._restore_splitters)

    def _restore_splitters(self) -> None:
        for key, splitter in self.splitters.items():
            sizes = self.store.load_int_list(key)
            if sizes and len(sizes) == splitter.count():
                splitter.setSizes(sizes)

    def save(self, region_id: int | None) -> None:
        self.store.save_bytes("geometry", self.window.saveGeometry())
        self.store.save_bytes("state", self.window.saveState())
        for key, splitter in self.splitters.items():
            self.store.save_value(key, splitter.sizes())
        if region_id is not None:
            self.store.save_value("last_region", region_id)
        self.store.sync()
