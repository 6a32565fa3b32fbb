"""Archiving a region, taking it back out of the archive, and moving it to the trash.

An archived region keeps its photos and measurements and leaves the sidebar (View ▸ Show
archived regions lists it again). Moving a region to the trash moves each of its check-ins to
the trash and archives it: Region ▸ Restore from trash… brings them back until the trash is
emptied. Every change asks first and runs in the write pool.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject

from skintrack.library.models import Region
from skintrack.services.regions import EmptiedTrash, empty_trash, trash_region, unarchive_region

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow

_T = TypeVar("_T")


class RegionCommands(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def _current(self) -> Region | None:
        win = self.window
        region_id = win.current_region_id()
        if win.lib is None or region_id is None:
            return None
        return win.lib.region(region_id)

    def _write(self, title: str, job: Callable[[], _T], message: Callable[[_T], str]) -> None:
        """Run ``job`` in the write pool; then say ``message(result)`` and reload, or show the error."""
        win = self.window

        def done(result: _T) -> None:
            win.statusBar().showMessage(message(result), 8000)
            win.reload()

        win.session.write(
            lambda _t: job(),
            on_result=done,
            on_error=lambda error: win.show_message(title, error, warning=True),
            name=title.lower(),
        )

    def archive_region(self) -> None:
        win, region = self.window, self._current()
        if win.lib is None or region is None or region.archived:
            return
        if not win.confirm(
            "Archive region",
            f"Archive “{region.name}”? It leaves the sidebar and stops reminding you; its check-ins "
            "and measurements are kept. View ▸ Show archived regions lists it again.",
        ):
            return
        lib = win.lib
        self._write(
            "Archive region",
            lambda: lib.archive_region(region.id, True),
            lambda _r: f"Archived “{region.name}”.",
        )

    def unarchive_region(self) -> None:
        win, region = self.window, self._current()
        if win.lib is None or region is None or not region.archived:
            return
        lib = win.lib
        self._write(
            "Unarchive region",
            lambda: unarchive_region(lib, region.id),
            lambda _r: f"“{region.name}” is back among the regions.",
        )

    def trash_region(self) -> None:
        win, region = self.window, self._current()
        if win.lib is None or region is None:
            return
        count = len(win.lib.list_photos(region.id))
        checkins = f"its {count} check-in{'s' if count != 1 else ''}" if count else "the region"
        if not win.confirm(
            "Move region to trash",
            f"Move “{region.name}” and {checkins} to the trash? The region is archived; "
            "Region ▸ Restore from trash… (with View ▸ Show archived regions) brings the check-ins "
            "back until the trash is emptied (Region ▸ Empty trash…, which then deletes the region too).",
        ):
            return
        lib = win.lib
        self._write(
            "Move region to trash",
            lambda: trash_region(lib, region.id),
            lambda n: f"Moved “{region.name}” and {n} check-in{'s' if n != 1 else ''} to the trash.",
        )

    def empty_trash(self) -> None:
        """Delete the trashed check-ins for good, and the trashed regions left without any."""
        win = self.window
        if win.lib is None:
            return
        lib = win.lib
        count = sum(len(lib.list_photos(s.region.id, trash_only=True)) for s in lib.list_regions(True))
        if count == 0:
            win.statusBar().showMessage("The trash is empty.", 5000)
            return
        if not win.confirm(
            "Empty trash",
            f"Delete the {count} check-in{'s' if count != 1 else ''} in the trash for good? Their "
            "original photos are removed from the library (unless another check-in uses them); "
            "this cannot be undone. Regions moved to the trash with nothing left in them are deleted too.",
        ):
            return

        def emptied_text(emptied: EmptiedTrash) -> str:
            n = len(emptied.photos)
            text = f"Deleted {n} check-in{'s' if n != 1 else ''} from the trash for good"
            if emptied.regions:
                names = ", ".join(f"“{r.name}”" for r in emptied.regions)
                text += f" and the region{'s' if len(emptied.regions) != 1 else ''} {names}"
            return text + "."

        self._write("Empty trash", lambda: empty_trash(lib), emptied_text)
