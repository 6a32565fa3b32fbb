"""Library ▸ Check library, Restore from backup and Print calibration card, and the check that
runs when a library opens (missing or altered originals are badged and warned about).

Opening runs the cheap check (sizes and times, see ``skintrack.library.originals_check``);
only Library ▸ Check library… re-hashes every original.

Each job runs in a worker; the window shows what it found and offers what can be done next.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtWidgets import QFileDialog

from skintrack.export.restore import RestoreReport, restore_library
from skintrack.library import Library
from skintrack.library.models import CheckReport
from skintrack.library.originals_check import quick_check_originals
from skintrack.services.card import CARD_FILE_NAME, write_calibration_card
from skintrack.ui.tasks import Pool, TaskHandle

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow

LISTED = 8  # files named in a message before "and N more"


def original_problems(report: CheckReport) -> dict[int, str]:
    """photo id -> "missing" | "altered", as the thumbnails and the details panel show them."""
    problems = {p.id: "altered" for p in report.altered}
    problems.update({p.id: "missing" for p in report.missing})
    return problems


def _listed(lines: list[str]) -> str:
    shown = "\n".join(f"• {line}" for line in lines[:LISTED])
    more = len(lines) - LISTED
    return shown + (f"\n• and {more} more" if more > 0 else "")


def describe_report(lib: Library, report: CheckReport) -> str:
    """The check's findings in words, with what to do about each."""
    parts: list[str] = []
    if report.missing:
        parts.append(
            f"{len(report.missing)} original photo file(s) are missing:\n"
            + _listed([str(lib.original_path(p)) for p in report.missing])
            + "\nRestore them from a backup (Library ▸ Restore from backup…)."
        )
    if report.altered:
        parts.append(
            f"{len(report.altered)} original photo file(s) were changed after import:\n"
            + _listed([str(lib.original_path(p)) for p in report.altered])
            + "\nRestore them from a backup; their measurements may be wrong."
        )
    if report.orphans:
        parts.append(
            f"{len(report.orphans)} file(s) in the library belong to no check-in:\n"
            + _listed([str(p) for p in report.orphans])
            + "\nRepair moves them to originals/lost+found/ (nothing is deleted)."
        )
    if report.invalid_rows:
        parts.append(
            f"{len(report.invalid_rows)} check-in(s) have an invalid file name in the database; "
            "restore the library from a backup."
        )
    if report.bad_dates:
        parts.append(f"{len(report.bad_dates)} check-in(s) have an impossible date: change their date.")
    parts.extend(report.notices)
    if report.moved:
        parts.append(f"Moved {len(report.moved)} file(s) to originals/lost+found/.")
    if report.removed:
        parts.append(f"Removed {len(report.removed)} temporary file(s) left by an interrupted write.")
    if not parts or report.ok:
        parts.insert(0, "The library is in order: every check-in has its original, unchanged.")
    return "\n\n".join(parts)


class LibraryMaintenance(QObject):
    checked = Signal(object)  # CheckReport of the open library

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.check_task: TaskHandle | None = None

    def _mark_originals(self, lib: Library, report: CheckReport) -> dict[int, str] | None:
        """Badge the originals ``report`` found missing or changed; None when another library is open now."""
        if self.window.lib is not lib:
            return None
        problems = original_problems(report)
        self.window.view.set_originals(problems)
        self.checked.emit(report)
        return problems

    # ---------------------------------------------------------------- on open
    def check_on_open(self) -> TaskHandle | None:
        """Check the originals cheaply in the background; badge and warn about missing or altered ones."""
        win, lib = self.window, self.window.lib
        if lib is None:
            return None

        def found(report: CheckReport) -> None:
            problems = self._mark_originals(lib, report)
            if problems:
                n = len(problems)
                win.show_message(
                    "Library check",
                    f"{n} original photo file{'s are' if n != 1 else ' is'} missing or changed in "
                    f"{lib.root}. Those check-ins are marked on their thumbnails.\n\n"
                    + describe_report(lib, report),
                    warning=True,
                )

        self.check_task = win.session.run(
            lambda _t: quick_check_originals(lib), on_result=found, pool=Pool.WORK, name="check on open"
        )
        return self.check_task

    # ---------------------------------------------------------------- Library ▸ Check library…
    def check_library(self, repair: bool = False) -> TaskHandle | None:
        win, lib = self.window, self.window.lib
        if lib is None:
            return None

        def found(report: CheckReport) -> None:
            if self._mark_originals(lib, report) is None:
                return
            text = describe_report(lib, report)
            if report.orphans and not repair:
                if win.confirm("Check library", text + "\n\nRepair now?"):
                    self.check_library(repair=True)
                return
            win.show_message("Check library", text, warning=not report.ok)

        handle = win.session.run(
            lambda _t: lib.check(repair=repair),
            on_result=found,
            on_error=lambda msg: win.show_message("Check library", msg, warning=True),
            pool=Pool.WORK,
            name="check",
        )
        win.task_status.track(handle, "Repairing the library…" if repair else "Checking the library…")
        return handle

    def repair_library(self) -> TaskHandle | None:
        return self.check_library(repair=True)

    # ---------------------------------------------------------------- Restore from backup…
    def ask_backup_file(self) -> str:
        start = str(Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Restore from backup", start, "Skintrack backup (*.zip)"
        )
        return path

    def restore_from_backup(self, archive: Path | None = None) -> TaskHandle | None:
        win = self.window
        if win.lib is None:
            return None
        chosen = archive or (Path(p) if (p := self.ask_backup_file()) else None)
        if chosen is None:
            return None
        root = win.lib.root
        if not win.confirm(
            "Restore from backup",
            f"Replace the library in {root} with the backup {chosen.name}?\n\n"
            "The whole backup is checked first; if anything is wrong nothing changes. The library "
            "it replaces is moved to the trash.",
        ):
            return None
        win.set_library(None)  # the restore needs the library closed

        def done(report: RestoreReport) -> None:
            win.open_library(report.library)
            note = " Some originals were damaged when the backup was made." if report.damaged else ""
            win.statusBar().showMessage(
                f"Restored {report.originals} original(s) and the database into {report.library}.{note}",
                10_000,
            )

        def failed(message: str) -> None:
            win.show_message("Restore from backup", f"Nothing was restored: {message}", warning=True)
            win.open_library(root)  # a failed restore leaves the library as it was

        handle = win.session.run(
            lambda token: restore_library(chosen, root, force=True, token=token),
            on_result=done,
            on_error=failed,
            pool=Pool.WORK,
            name="restore",
        )
        win.task_status.track(handle, "Restoring from the backup…")
        return handle

    # ---------------------------------------------------------------- Print calibration card…
    def ask_card_path(self) -> str:
        start = str(Path.home() / CARD_FILE_NAME)
        path, _ = QFileDialog.getSaveFileName(self.window, "Save the calibration card", start, "PDF (*.pdf)")
        return path

    def print_card(self, out: Path | None = None) -> TaskHandle | None:
        win = self.window
        target = out or (Path(p) if (p := self.ask_card_path()) else None)
        if target is None:
            return None
        if target.suffix.lower() != ".pdf":
            target = target.with_suffix(".pdf")

        def done(path: Path) -> None:
            if win.confirm(
                "Calibration card",
                f"Saved the card to {path}.\n\nPrint it at 100 % (actual size, no “fit to page”), "
                "check the ruler against a real one, cut it out and keep it in frame beside the "
                "skin you photograph.\n\nOpen it now?",
            ):
                win.open_url(QUrl.fromLocalFile(str(path)))

        return win.session.run(
            lambda _t: write_calibration_card(target),
            on_result=done,
            on_error=lambda msg: win.show_message("Calibration card", msg, warning=True),
            pool=Pool.WORK,
            name="card",
        )
