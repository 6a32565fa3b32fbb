"""The main window's actions declared as data, and the menus and toolbar built from them.

Each :class:`ActionSpec` names the window method it triggers, so adding a command is one line
here plus the method (napari's ``_qt/_qapp_model/qactions`` keeps its menus the same way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QToolBar, QToolButton

from skintrack.ui import icons

Shortcut = QKeySequence.StandardKey | str


@dataclass(frozen=True)
class ActionSpec:
    key: str
    text: str
    slot: str  # the window's method, or "edits.method" / "windows.method"; called without arguments
    icon: str | None = None
    shortcut: Shortcut | None = None
    tip: str = ""
    checkable: bool = False
    icon_only: bool = False  # in the toolbar


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "new_checkin",
        "New check-in…",
        "windows.new_checkin",
        "camera",
        "Ctrl+N",
        "Add photos of this region (files, drag and drop or camera)",
    ),
    ActionSpec("add_region", "Add region…", "edits.add_region", "add", "Ctrl+Shift+N"),
    ActionSpec(
        "compare",
        "Compare…",
        "windows.compare",
        "compare",
        "Ctrl+K",
        "Compare the selected check-in with the reference",
    ),
    ActionSpec("trash", "Move to trash", "edits.trash_photo", "trash", QKeySequence.StandardKey.Delete),
    ActionSpec("restore", "Restore from trash…", "edits.restore_from_trash", "restore"),
    ActionSpec("next", "Next check-in", "next_photo", "next", "Right", icon_only=True),
    ActionSpec("previous", "Previous check-in", "previous_photo", "previous", "Left", icon_only=True),
    ActionSpec(
        "fullscreen", "Full screen", "toggle_fullscreen", "fullscreen", "F11", checkable=True, icon_only=True
    ),
    ActionSpec(
        "edit_region",
        "Edit region…",
        "windows.edit_region",
        "region",
        "Ctrl+E",
        "Name, interval, reference, watched area and control patch",
    ),
    ActionSpec(
        "analyse",
        "Analyse region",
        "analyse_region",
        "analyse",
        "Ctrl+R",
        "Align and measure every check-in against the reference",
    ),
    ActionSpec(
        "reanalyse",
        "Re-analyse region from scratch",
        "reanalyse_region",
        "refresh",
        tip="Measure every check-in again (after changing thresholds or areas)",
    ),
    ActionSpec("set_reference", "Set as reference", "edits.set_reference", "reference"),
    ActionSpec(
        "edit_date", "Change date…", "edits.edit_date", None, "Ctrl+D", "Correct the date of this check-in"
    ),
    ActionSpec("reveal", "Reveal original", "edits.reveal_original", "folder"),
    ActionSpec("export", "Export…", "windows.export", "export", "Ctrl+Shift+E"),
    ActionSpec("backup", "Back up…", "backup", "backup"),
    ActionSpec("journal", "Journal…", "windows.open_journal", "journal", "Ctrl+J"),
    ActionSpec(
        "preferences",
        "Preferences…",
        "windows.open_preferences",
        "settings",
        QKeySequence.StandardKey.Preferences,
    ),
    ActionSpec("about", "About Skintrack", "windows.open_about", "info"),
    ActionSpec(
        "photo_guide",
        "Taking good photos",
        "help.photo_guide",
        None,
        QKeySequence.StandardKey.HelpContents,
        "Same light, same distance, card in frame, no flash glare",
    ),
    ActionSpec("shortcuts", "Keyboard shortcuts", "help.shortcuts", None, "Ctrl+/"),
    ActionSpec(
        "library_location", "Where is my library?", "help.library_location", "folder", tip="Show in folder"
    ),
    ActionSpec(
        "check_library",
        "Check library…",
        "maintenance.check_library",
        None,
        tip="Look for missing or changed original photos and stray files",
    ),
    ActionSpec(
        "restore_backup",
        "Restore from backup…",
        "maintenance.restore_from_backup",
        "restore",
        tip="Replace this library with a backup (checked first)",
    ),
    ActionSpec(
        "print_card",
        "Print calibration card…",
        "maintenance.print_card",
        None,
        tip="Save the calibration card as a PDF to print at actual size",
    ),
    ActionSpec(
        "archive_region",
        "Archive region…",
        "region_commands.archive_region",
        None,
        tip="Hide the region from the sidebar and its reminders; nothing is deleted",
    ),
    ActionSpec("unarchive_region", "Unarchive region", "region_commands.unarchive_region"),
    ActionSpec(
        "trash_region",
        "Move region to trash…",
        "region_commands.trash_region",
        "trash",
        tip="Move the region's check-ins to the trash and archive it",
    ),
    ActionSpec(
        "empty_trash",
        "Empty trash…",
        "region_commands.empty_trash",
        None,
        tip="Delete the check-ins in the trash for good, and trashed regions left empty",
    ),
    ActionSpec("show_archived", "Show archived regions", "toggle_archived", None, checkable=True),
    ActionSpec(
        "align_by_hand",
        "Align by hand…",
        "align_by_hand",
        None,
        tip="Click matching points in this check-in and the reference",
    ),
    ActionSpec("open_library", "Open library…", "windows.choose_library", "folder", "Ctrl+O"),
    ActionSpec("demo", "Open the demo library", "open_demo"),
    ActionSpec("refresh", "Refresh", "reload", "refresh", QKeySequence.StandardKey.Refresh),
    ActionSpec("quit", "Quit", "close", None, QKeySequence.StandardKey.Quit),
)

FALLBACK_SHORTCUTS = {"preferences": "Ctrl+,"}  # platforms without a standard Preferences key

# None is a separator
MENUS: tuple[tuple[str, tuple[str | None, ...]], ...] = (
    (
        "&Library",
        (
            "open_library",
            "demo",
            None,
            "backup",
            "restore_backup",
            "check_library",
            None,
            "export",
            "print_card",
            None,
            "quit",
        ),
    ),
    (
        "&Region",
        (
            "add_region",
            "edit_region",
            "analyse",
            "reanalyse",
            None,
            "new_checkin",
            "compare",
            None,
            "restore",
            "empty_trash",
            None,
            "archive_region",
            "unarchive_region",
            "trash_region",
        ),
    ),
    (
        "&Check-in",
        ("previous", "next", None, "align_by_hand", "edit_date", "set_reference", "reveal", None, "trash"),
    ),
    ("&View", ("fullscreen", "show_archived", "refresh")),
    ("&Tools", ("journal", "preferences")),
    ("&Help", ("photo_guide", "shortcuts", "library_location", None, "about")),
)
TOOLBAR: tuple[str | None, ...] = (
    "new_checkin",
    "compare",
    "analyse",
    None,
    "previous",
    "next",
    None,
    "edit_region",
    "journal",
    "export",
)


def _trigger(slot: Callable[[], object]) -> Callable[[bool], None]:
    def run(_checked: bool = False) -> None:
        slot()

    return run


def build_actions(window: QMainWindow) -> dict[str, QAction]:
    """One QAction per spec, added to ``window`` so shortcuts work with the menu bar hidden."""
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        act = QAction(spec.text, window)
        act.setObjectName(f"action_{spec.key}")
        if spec.icon:
            act.setData(spec.icon)
            act.setIcon(icons.icon(spec.icon))
        if spec.shortcut is not None:
            act.setShortcut(QKeySequence(spec.shortcut))
        if not act.shortcut().toString() and spec.key in FALLBACK_SHORTCUTS:
            act.setShortcut(QKeySequence(FALLBACK_SHORTCUTS[spec.key]))
        if spec.tip:
            act.setStatusTip(spec.tip)
            act.setToolTip(spec.tip)
        act.setCheckable(spec.checkable)
        act.triggered.connect(_trigger(attrgetter(spec.slot)(window)))
        window.addAction(act)
        actions[spec.key] = act
    return actions


def build_menus_and_toolbar(window: QMainWindow, actions: dict[str, QAction]) -> QToolBar:
    bar = window.menuBar()
    for title, keys in MENUS:
        menu = bar.addMenu(title)
        for key in keys:
            menu.addSeparator() if key is None else menu.addAction(actions[key])
    tb = window.addToolBar("Main")
    tb.setObjectName("mainToolbar")
    tb.setMovable(False)
    tb.setIconSize(QSize(20, 20))
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for key in TOOLBAR:
        tb.addSeparator() if key is None else tb.addAction(actions[key])
    for spec in ACTIONS:
        button = tb.widgetForAction(actions[spec.key])
        if spec.icon_only and isinstance(button, QToolButton):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    return tb


def update_enabled(
    actions: dict[str, QAction],
    *,
    library: bool,
    region: bool,
    photo_row: int | None,
    photos: int,
    analysing: bool,
    archived: bool = False,
    not_aligned: bool = False,
) -> None:
    """Enable what makes sense for the selection (``photo_row`` None: no check-in selected;
    ``archived``: the selected region is archived; ``not_aligned``: the selected check-in could
    not be aligned)."""
    photo = photo_row is not None
    for key in ("edit_region", "restore", "export"):
        actions[key].setEnabled(region)
    actions["new_checkin"].setEnabled(library)  # the check-in dialog can create the region
    for key in ("analyse", "reanalyse"):
        actions[key].setEnabled(region and photos > 1 and not analysing)
    actions["compare"].setEnabled(region and photos > 1)
    for key in ("trash", "set_reference", "reveal", "edit_date"):
        actions[key].setEnabled(photo)
    actions["next"].setEnabled(photo_row is not None and photo_row < photos - 1)
    actions["previous"].setEnabled(photo_row is not None and photo_row > 0)
    for key in (
        "journal",
        "backup",
        "add_region",
        "refresh",
        "check_library",
        "restore_backup",
        "empty_trash",
    ):
        actions[key].setEnabled(library)
    actions["archive_region"].setEnabled(region and not archived)
    actions["archive_region"].setVisible(not archived)
    actions["unarchive_region"].setEnabled(region and archived)
    actions["unarchive_region"].setVisible(archived)
    actions["trash_region"].setEnabled(region)
    actions["align_by_hand"].setEnabled(photo and not_aligned)


def refresh_icons(actions: dict[str, QAction]) -> None:
    """Re-render the SVG icons in the palette's text colour (after a theme change)."""
    for act in actions.values():
        name = act.data()
        if name:
            act.setIcon(icons.icon(str(name)))
