"""After a region's second check-in: ask once to mark the watched area and a control patch.

Without them the trend chart shows the mean of the whole photo, which stays flat near 0 while
a patch darkens. The question is asked once per region (remembered in the library's settings,
whatever the answer) and can be dismissed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from skintrack.library import Library
from skintrack.library.models import Region

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow


def setting_key(region_id: int) -> str:
    return f"ui.area_prompt_shown.{region_id}"


def missing_areas(region: Region) -> list[str]:
    missing = []
    if not region.watched_area:
        missing.append("the watched area")
    if not region.control_area:
        missing.append("a control patch")
    return missing


def should_prompt(lib: Library, region_id: int) -> bool:
    region = lib.region(region_id)
    if region.archived or not missing_areas(region):
        return False
    if len(lib.list_photos(region_id)) < 2:
        return False
    return not lib.get_setting(setting_key(region_id), False)


def prompt_text(region: Region) -> str:
    what = " and ".join(missing_areas(region))
    return (
        f"“{region.name}” has two check-ins now. Mark {what} in the region editor so Skintrack "
        "measures the skin you are watching against unaffected skin.\n\n"
        "Without them the trend chart averages the whole photo, so it stays flat near 0 even "
        "while a patch darkens."
    )


def ask(win: MainWindow, region: Region, answered: Callable[[bool], None]) -> QMessageBox:
    """Ask without blocking (a window-modal box); ``answered(True)``: open the region editor."""
    box = QMessageBox(QMessageBox.Icon.Information, "Mark the areas", prompt_text(region), parent=win)
    box.setObjectName("areaPrompt")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    mark = box.addButton("Mark them now…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(mark)
    box.finished.connect(lambda _code: answered(box.clickedButton() is mark))
    box.open()
    return box


def after_checkin(win: MainWindow, region_id: int) -> bool:
    """Ask once when the region has its second check-in and lacks an area; True when asked."""
    lib = win.lib
    if lib is None or not should_prompt(lib, region_id):
        return False
    region = lib.region(region_id)
    win.session.write(lambda _t: lib.set_setting(setting_key(region_id), True), name="area prompt")

    def answered(mark: bool) -> None:
        if mark and win.lib is lib and win.view.select_region(region_id):
            win.windows.edit_region()

    win.ask_mark_areas(region, answered)
    return True
