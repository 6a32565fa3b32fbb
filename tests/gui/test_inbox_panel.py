"""The Inbox dock, the receive-from-phone dialog and reminders, driven offscreen on real libraries."""

from __future__ import annotations

import http.client
import io
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import segno
from PIL import Image
from PySide6.QtCore import Qt

from skintrack.demo import phone
from skintrack.library import Library, inbox_store
from skintrack.services import autostart
from skintrack.ui.image_convert import qimage_to_rgb
from skintrack.ui.inbox_panel import install_inbox
from skintrack.ui.receive_dialog import PRIVACY_TEXT, ReceiveDialog
from skintrack.ui.reminders_ui import DueDialog, ReminderPrefs

# the offscreen platform cannot resize a window for a new dock; a real desktop can
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]
SIZE = (560, 420)


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def notify(self, title: str, message: str) -> None:
        self.sent.append((title, message))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> phone.InboxScenario:
    base = tmp_path_factory.mktemp("gui-scenario")
    return phone.write_scenario(
        base / "refs", base / "inbox", regions=2, later_per_region=1, unrelated=1, size=SIZE
    )


def _library(root: Path, scenario: phone.InboxScenario) -> Library:
    lib = Library.open(root)
    for name, ref in scenario.references.items():
        region = lib.add_region(name, interval_days=14)
        photo = lib.import_file(region.id, ref, taken_at=datetime(2026, 2, 1, 9)).photo
        lib.set_reference(region.id, photo.id)
    return lib


def test_inbox_sorts_accepts_and_dismisses(
    main_window: Callable[..., Any], qtbot: Any, tmp_path: Path, scenario: phone.InboxScenario
) -> None:
    lib = _library(tmp_path / "lib", scenario)
    win = main_window(library=lib)
    panel = install_inbox(win)
    assert not win.inbox_dock.isVisible()  # hidden until there is an inbox folder
    inbox_dir = next(iter(scenario.truth)).parent
    with qtbot.waitSignal(panel.scanFinished, timeout=60_000) as blocker:
        panel.add_folder(inbox_dir)
    assert blocker.args == [3]
    assert win.inbox_dock.isVisible()
    assert panel.accept_all.text() == "Accept 2 sorted photos" and panel.accept_all.isEnabled()
    texts = [panel.model.index(r).data() for r in range(3)]
    assert sum("✓" in t for t in texts) == 2 and any("No matching region" in t for t in texts)

    with qtbot.waitSignal(panel.accepted, timeout=30_000) as accepted:
        qtbot.mouseClick(panel.accept_all, Qt.MouseButton.LeftButton)
    assert accepted.args == [2]
    for name in scenario.references:
        assert len(lib.list_photos(lib.region_by_name(name).id)) == 2
    assert panel.model.rowCount() == 1

    panel.view.setCurrentIndex(panel.model.index(0))
    visible = [b for b in panel.candidate_buttons if b.isVisible()]
    assert len(visible) == 2 and all("%" in b.text() for b in visible)
    with qtbot.waitSignal(panel.model.rowsRemoved, timeout=30_000):
        qtbot.mouseClick(panel.dismiss_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.scanFinished, timeout=60_000) as rescanned:
        panel.rescan()
    assert rescanned.args == [0]
    assert all(p.is_file() for p in scenario.truth)


def test_unsure_photo_goes_to_the_chosen_candidate(
    main_window: Callable[..., Any], qtbot: Any, tmp_path: Path, scenario: phone.InboxScenario
) -> None:
    lib = _library(tmp_path / "lib", scenario)
    unrelated = next(p for p, v in scenario.truth.items() if v is None)
    only = tmp_path / "only"
    only.mkdir()
    (only / unrelated.name).write_bytes(unrelated.read_bytes())
    inbox_store.add_folder(lib, only)
    win = main_window(library=lib)
    panel = install_inbox(win)
    qtbot.waitUntil(lambda: not panel.scanning and panel.model.rowCount() == 1, timeout=60_000)
    panel.view.setCurrentIndex(panel.model.index(0))
    button = panel.candidate_buttons[0]
    region_id = int(button.property("regionId"))
    with qtbot.waitSignal(panel.accepted, timeout=30_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert [p.original_name for p in lib.list_photos(region_id)][-1] == unrelated.name


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(4).random((60, 80, 3)) * 255).astype(np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def test_receive_dialog_shows_a_qr_code_and_closes_the_port(qtbot: Any, tmp_path: Path) -> None:
    dlg = ReceiveDialog(tmp_path / "received", host="127.0.0.1")
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.start()
    assert not dlg.qr.pixmap().isNull() and dlg.qr.pixmap().width() >= 200
    # the painted code is, module for module, the QR code of the URL (with its quiet zone)
    shot = qimage_to_rgb(dlg.qr.pixmap().toImage())
    matrix = np.array(segno.make(dlg.receiver.url, error="m", micro=False).matrix, bool)
    scale = shot.shape[0] // (len(matrix) + 8)
    centres = (np.arange(len(matrix) + 8) * scale + scale // 2)[:, None]
    painted = shot[centres, centres.T, 0] < 128
    assert not painted[:4].any() and not painted[-4:].any()
    assert (painted[4:-4, 4:-4] == matrix).all()
    assert dlg.url.text() == dlg.receiver.url and dlg.receiver.token in dlg.url.text()
    assert "only use of the network" in dlg.privacy.text() and "inbound only" in PRIVACY_TEXT
    assert "Stops in" in dlg.state.text()
    port = dlg.receiver.port

    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="p.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + _jpeg()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    with qtbot.waitSignal(dlg.photosReceived, timeout=10_000) as got:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(
            "POST",
            f"/u/{dlg.receiver.token}/",
            body,
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert conn.getresponse().status == 200
        conn.close()
    assert got.args == [1] and "1 photo received" in dlg.state.text()
    assert len(list((tmp_path / "received").glob("*.jpg"))) == 1

    dlg.close()
    assert not dlg.receiver.running
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_photo_sent_from_the_phone_appears_sorted_in_the_inbox(
    main_window: Callable[..., Any],
    qtbot: Any,
    tmp_path: Path,
    scenario: phone.InboxScenario,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from skintrack.services import receiver
    from skintrack.ui.inbox_panel import open_receive_dialog

    monkeypatch.setattr(receiver, "lan_address", lambda: "127.0.0.1")
    lib = _library(tmp_path / "lib", scenario)
    win = main_window(library=lib)
    panel = install_inbox(win)
    dlg = open_receive_dialog(win, panel)
    assert dlg is not None and dlg.receiver.running and win.inbox_dock.isVisible()
    later = next(p for p, v in scenario.truth.items() if v == "Region 2")
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="{later.name}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + later.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    with qtbot.waitSignal(panel.scanFinished, timeout=60_000, check_params_cb=lambda n: n == 1):
        conn = http.client.HTTPConnection("127.0.0.1", dlg.receiver.port, timeout=10)
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        conn.request("POST", f"/u/{dlg.receiver.token}/", body, headers)
        assert conn.getresponse().status == 200
        conn.close()
    [item] = panel.model.items
    assert item.path.parent == lib.root / "received" and item.sure
    assert item.match.proposed.name == "Region 2"
    dlg.close()
    assert not dlg.receiver.running


def test_due_dialog_snooze_and_skip(qtbot: Any, tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        region = lib.add_region("Arm", interval_days=7)
        jpeg = phone.save_jpeg(
            tmp_path / "a.jpg", phone.reference_photo(phone.skin_for(1, (96, 64)), (96, 64))
        )
        lib.import_file(region.id, jpeg, taken_at=datetime.now().astimezone() - timedelta(days=9))
        dlg = DueDialog(lib)
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitExposed(dlg)
        assert dlg.tree.topLevelItemCount() == 1
        assert dlg.tree.topLevelItem(0).text(2) == "Overdue"
        with qtbot.waitSignal(dlg.changed, timeout=30_000):
            dlg.snooze_hours.click()
        assert dlg.tree.topLevelItem(0).text(2) == "Snoozed"
        assert dlg.skip_button.isEnabled()
        with qtbot.waitSignal(dlg.changed, timeout=30_000):
            dlg.skip_button.click()
        assert dlg.tree.topLevelItem(0).text(2) == "Upcoming"
        dlg.close()


def test_reminder_notification_goes_through_the_notifier(
    main_window: Callable[..., Any], qtbot: Any, tmp_path: Path
) -> None:
    lib = Library.open(tmp_path / "lib")
    region = lib.add_region("Cheek", interval_days=14)
    jpeg = phone.save_jpeg(tmp_path / "a.jpg", phone.reference_photo(phone.skin_for(2, (96, 64)), (96, 64)))
    lib.import_file(region.id, jpeg, taken_at=datetime.now().astimezone() - timedelta(days=20))
    win = main_window(library=lib)
    install_inbox(win)
    fake = FakeNotifier()
    win.reminders._fixed_notifier = fake
    with qtbot.waitSignal(win.reminders.notified, timeout=10_000):
        win.reminders.check()
    assert fake.sent == [("Time for a photo of Cheek", "Due every 14 days; 6 days overdue.")]
    with qtbot.waitSignal(win.reminders.notified, timeout=10_000) as again:
        win.reminders.check()
    assert again.args == [[]] and len(fake.sent) == 1  # once per due day
    lib.close()


def test_start_at_login_writes_and_removes_the_autostart_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    entry = tmp_path / "home" / ".config" / "autostart" / "skintrack.desktop"
    ReminderPrefs(notifications=True, tray_icon=True, start_at_login=True).save()
    assert entry.is_file()
    text = entry.read_text()
    assert text.startswith("[Desktop Entry]\n") and "Type=Application" in text and "\nExec=" in text
    assert ReminderPrefs.load().start_at_login
    ReminderPrefs(notifications=False, tray_icon=True, start_at_login=False).save()
    assert not entry.exists() and not autostart.is_enabled()
    loaded = ReminderPrefs.load()
    assert (loaded.notifications, loaded.start_at_login) == (False, False)

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert autostart.enable() == tmp_path / "xdg" / "autostart" / "skintrack.desktop"
    assert autostart.disable() and not autostart.disable()
