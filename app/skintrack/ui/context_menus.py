"""Right-click menus on the regions sidebar and the check-in timeline, built from the window's
actions (so the menus, the menu bar and the shortcuts stay one set of commands)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QListView, QMenu

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow

REGION_MENU: tuple[str | None, ...] = (
    "edit_region",
    "analyse",
    "new_checkin",
    "compare",
    "export",
    None,
    "restore",
    "archive_region",
    "unarchive_region",
    "trash_region",
)
PHOTO_MENU: tuple[str | None, ...] = (
    "compare",
    "align_by_hand",
    None,
    "set_reference",
    "edit_date",
    "reveal",
    None,
    "trash",
)


def build_menu(win: MainWindow, keys: tuple[str | None, ...]) -> QMenu:
    """A menu of the enabled actions among ``keys`` (separators kept between groups)."""
    menu = QMenu(win)
    pending_separator = False
    for key in keys:
        if key is None:
            pending_separator = bool(menu.actions())
            continue
        act = win.actions_by_name[key]
        if not act.isEnabled() or not act.isVisible():
            continue
        if pending_separator:
            menu.addSeparator()
            pending_separator = False
        menu.addAction(act)
    return menu


def region_menu(win: MainWindow) -> QMenu:
    return build_menu(win, REGION_MENU)


def photo_menu(win: MainWindow) -> QMenu:
    return build_menu(win, PHOTO_MENU)


def _requested(win: MainWindow, view: QListView, pos: QPoint, kind: str) -> None:
    index = view.indexAt(pos)
    if not index.isValid():
        return
    if view.currentIndex() != index:
        view.setCurrentIndex(index)  # the menu acts on the item under the pointer
    menu = region_menu(win) if kind == "region" else photo_menu(win)
    menu.setObjectName(f"{kind}ContextMenu")
    win.popup_menu(menu, view.viewport().mapToGlobal(pos))


def install(win: MainWindow) -> None:
    for view, kind in ((win.region_view, "region"), (win.timeline, "photo")):
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(
            lambda pos, view=view, kind=kind: _requested(win, view, pos, kind)
        )
