"""Reminders in the GUI: the "Due" list, tray notifications, snooze / skip, and their settings.

Settings (QSettings group ``reminders``): ``notifications`` and ``tray_icon`` (default on) and
``start_at_login`` (an autostart entry written and removed by ``services.autostart``). Due checks
run on the write pool (they record which due day was notified); notifications are shown on the
GUI thread through a :class:`~skintrack.services.reminders.Notifier`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skintrack.core import formatting
from skintrack.library import Library
from skintrack.progress import CancelToken
from skintrack.services import autostart, reminders
from skintrack.services.reminders import DueItem, Notifier
from skintrack.ui.preferences import qsettings
from skintrack.ui.tasks import Job, Pool, TaskHandle, run_task

if TYPE_CHECKING:
    from skintrack.ui.main_window import MainWindow

GROUP = "reminders"
CHECK_INTERVAL_MS = 15 * 60 * 1000
STATUS_TEXT = {"overdue": "Overdue", "due": "Due today", "upcoming": "Upcoming", "snoozed": "Snoozed"}


@dataclass
class ReminderPrefs:
    notifications: bool = True
    tray_icon: bool = True
    start_at_login: bool = False

    @classmethod
    def load(cls) -> ReminderPrefs:
        s = qsettings()
        s.beginGroup(GROUP)
        prefs = cls(
            notifications=str(s.value("notifications", "true")).lower() == "true",
            tray_icon=str(s.value("tray_icon", "true")).lower() == "true",
            start_at_login=autostart.is_enabled(),
        )
        s.endGroup()
        return prefs

    def save(self) -> None:
        s = qsettings()
        s.beginGroup(GROUP)
        s.setValue("notifications", "true" if self.notifications else "false")
        s.setValue("tray_icon", "true" if self.tray_icon else "false")
        s.endGroup()
        s.sync()
        if self.start_at_login:
            autostart.enable()
        else:
            autostart.disable()


class TrayNotifier:
    """Desktop notifications through Qt's tray icon (freedesktop notifications on Linux)."""

    def __init__(self, tray: QSystemTrayIcon) -> None:
        self.tray = tray

    def notify(self, title: str, message: str) -> None:
        self.tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 20_000)


def _when(item: DueItem) -> str:
    if item.status == "overdue":
        return f"{formatting.day(item.next_due)} ({item.days_overdue} d overdue)"
    if item.status == "snoozed" and item.snoozed_until is not None:
        return f"{formatting.day(item.next_due)} (snoozed until {item.snoozed_until:%H:%M})"
    return formatting.day(item.next_due)


class DueDialog(QDialog):
    """Every region with an interval: next due day and status; Snooze and "Skip this time"."""

    changed = Signal()

    def __init__(self, lib: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dueDialog")
        self.setWindowTitle("Due for a photo")
        self.lib = lib
        self.items: list[DueItem] = []
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Region", "Next photo", "Status", "Every"])
        self.tree.setRootIsDecorated(False)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.snooze_hours = QPushButton("Snooze 4 hours", self)
        self.snooze_hours.clicked.connect(lambda: self.snooze_selected(reminders.DEFAULT_SNOOZE))
        self.snooze_day = QPushButton("Snooze until tomorrow", self)
        self.snooze_day.clicked.connect(self._snooze_tomorrow)
        self.skip_button = QPushButton("Skip this time", self)
        self.skip_button.setToolTip("No photo this time: the next reminder comes one interval later")
        self.skip_button.clicked.connect(self.skip_selected)
        row = QHBoxLayout()
        for b in (self.snooze_hours, self.snooze_day, self.skip_button):
            row.addWidget(b)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        self.empty = QLabel("No region has a photo interval yet: set one in the region's settings.", self)
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.tree, 1)
        layout.addLayout(row)
        layout.addWidget(close)
        self.resize(560, 320)
        self.refresh()

    def refresh(self) -> None:
        self.items = reminders.due_items(self.lib)
        self.tree.clear()
        for it in self.items:
            row = QTreeWidgetItem([it.name, _when(it), STATUS_TEXT[it.status], f"{it.interval_days} days"])
            row.setData(0, Qt.ItemDataRole.UserRole, it.region_id)
            self.tree.addTopLevelItem(row)
        for col in range(3):
            self.tree.resizeColumnToContents(col)
        self.empty.setVisible(not self.items)
        if self.items:
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self._update_buttons()

    def selected(self) -> DueItem | None:
        row = self.tree.currentItem()
        if row is None:
            return None
        region_id = row.data(0, Qt.ItemDataRole.UserRole)
        return next((it for it in self.items if it.region_id == region_id), None)

    def _update_buttons(self) -> None:
        it = self.selected()
        for b in (self.snooze_hours, self.snooze_day):
            b.setEnabled(it is not None and it.status in ("due", "overdue", "snoozed"))
        self.skip_button.setEnabled(it is not None)

    def _run(self, job: Job) -> TaskHandle:
        return run_task(job, on_finished=self._after_write, name="reminder", pool=Pool.WRITE, parent=self)

    @Slot()
    def _after_write(self) -> None:
        self.refresh()
        self.changed.emit()

    def snooze_selected(self, delta: timedelta) -> TaskHandle | None:
        it = self.selected()
        if it is None:
            return None
        until = datetime.now().astimezone() + delta
        lib = self.lib
        return self._run(lambda _t: reminders.snooze(lib, it.region_id, until))

    @Slot()
    def _snooze_tomorrow(self) -> None:
        now = datetime.now().astimezone()
        tomorrow = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        self.snooze_selected(tomorrow - now)

    @Slot()
    def skip_selected(self) -> TaskHandle | None:
        it = self.selected()
        if it is None:
            return None
        lib = self.lib
        return self._run(lambda _t: reminders.skip(lib, it.region_id))


class ReminderSettingsDialog(QDialog):
    def __init__(self, prefs: ReminderPrefs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reminderSettings")
        self.setWindowTitle("Reminder settings")
        self.notifications = QCheckBox("Notify me when a region is due for a photo", self)
        self.notifications.setChecked(prefs.notifications)
        self.tray = QCheckBox("Show a Skintrack icon in the system tray", self)
        self.tray.setChecked(prefs.tray_icon)
        self.login = QCheckBox("Start Skintrack when I log in (so reminders arrive)", self)
        self.login.setChecked(prefs.start_at_login)
        note = QLabel(
            "Notifications need the tray icon's connection to the desktop; nothing goes online.", self
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (self.notifications, self.tray, self.login, note):
            layout.addWidget(w)
        layout.addWidget(buttons)

    def values(self) -> ReminderPrefs:
        return ReminderPrefs(self.notifications.isChecked(), self.tray.isChecked(), self.login.isChecked())


class ReminderController(QObject):
    """Checks for due regions at start and every 15 minutes; notifies through ``notifier``."""

    notified = Signal(list)  # list[DueItem]

    def __init__(self, window: MainWindow, notifier: Notifier | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.prefs = ReminderPrefs.load()
        self.tray: QSystemTrayIcon | None = None
        self._fixed_notifier = notifier
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_INTERVAL_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()
        self.apply()

    @property
    def lib(self) -> Library | None:
        return self.window.lib

    @property
    def notifier(self) -> Notifier | None:
        if self._fixed_notifier is not None:
            return self._fixed_notifier
        return TrayNotifier(self.tray) if self.tray is not None else None

    def apply(self) -> None:
        """Show or hide the tray icon to match the settings."""
        want_tray = self.prefs.tray_icon or self.prefs.notifications
        if want_tray and self.tray is None and QSystemTrayIcon.isSystemTrayAvailable():
            icon = QGuiApplication.windowIcon()
            if icon.isNull():
                icon = self.window.windowIcon()
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip("Skintrack")
            menu = QMenu()
            menu.addAction("Due for a photo…", self.open_due)
            menu.addAction("Open Skintrack", self._raise_window)
            self.tray.setContextMenu(menu)
            self._tray_menu = menu
            self.tray.messageClicked.connect(self.open_due)
            self.tray.activated.connect(lambda _reason: self._raise_window())
        if self.tray is not None:
            self.tray.setVisible(want_tray)

    @Slot()
    def check(self) -> TaskHandle | None:
        lib = self.lib
        if lib is None or not self.prefs.notifications:
            return None

        def job(_token: CancelToken) -> list[DueItem]:
            return reminders.take_due_notifications(lib)

        return run_task(job, on_result=self._deliver, name="reminders", pool=Pool.WRITE, parent=self)

    @Slot(object)
    def _deliver(self, items: list[DueItem]) -> None:
        notifier = self.notifier
        if notifier is not None and items:
            if len(items) == 1:
                notifier.notify(reminders.notification_title(items[0]), reminders.notification_text(items[0]))
            else:
                names = ", ".join(it.name for it in items)
                notifier.notify(f"{len(items)} regions are due for a photo", names)
        self.notified.emit(items)

    @Slot()
    def open_due(self) -> DueDialog | None:
        lib = self.lib
        if lib is None:
            return None
        dlg = DueDialog(lib, self.window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        self._raise_window()
        dlg.raise_()
        return dlg

    @Slot()
    def open_settings(self) -> ReminderSettingsDialog:
        dlg = ReminderSettingsDialog(self.prefs, self.window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self.set_prefs(dlg.values()))
        dlg.show()
        return dlg

    def set_prefs(self, prefs: ReminderPrefs) -> None:
        prefs.save()
        self.prefs = prefs
        self.apply()

    def _raise_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def shutdown(self) -> None:
        self.timer.stop()
        if self.tray is not None:
            self.tray.hide()


def install_reminders(window: MainWindow, menu: QMenu) -> ReminderController:
    controller = ReminderController(window)
    due = QAction("Due for a photo…", window)
    due.triggered.connect(controller.open_due)
    menu.addAction(due)
    settings = QAction("Reminder settings…", window)
    settings.triggered.connect(controller.open_settings)
    menu.addAction(settings)
    window.libraryChanged.connect(lambda _root: controller.check())
    QTimer.singleShot(2000, controller, controller.check)
    window.reminders = controller  # type: ignore[attr-defined]
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(controller.shutdown)
    return controller
