"""The phone receiver as a real HTTP server on loopback, driven with http.client."""

from __future__ import annotations

import http.client
import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skintrack.services import receiver as receiver_mod
from skintrack.services.receiver import PhoneReceiver, safe_name

BOUNDARY = "----skintrackTestBoundary7MA4YWxk"


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    rgb = (np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def multipart(files: list[tuple[str, bytes]], content_type: str = "image/jpeg") -> bytes:
    out = io.BytesIO()
    for name, data in files:
        out.write(f"--{BOUNDARY}\r\n".encode())
        out.write(f'Content-Disposition: form-data; name="photo"; filename="{name}"\r\n'.encode())
        out.write(f"Content-Type: {content_type}\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    return out.getvalue()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[PhoneReceiver, Path]]:
    target = tmp_path / "received"
    rec = PhoneReceiver(target, host="127.0.0.1", max_bytes=2 * 1024 * 1024)
    rec.start()
    yield rec, target
    rec.stop()


def request(rec: PhoneReceiver, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", rec.port, timeout=10)
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, text


def stored(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_url_carries_a_128_bit_token_and_the_page_opens_the_camera(
    served: tuple[PhoneReceiver, Path],
) -> None:
    rec, _ = served
    assert len(rec.token) >= 22  # 16 random bytes, base64url
    assert rec.url == f"http://127.0.0.1:{rec.port}/u/{rec.token}/"
    status, page = request(rec, "GET", f"/u/{rec.token}/")
    assert status == 200
    assert 'accept="image/*"' in page and 'capture="environment"' in page
    assert f'action="/u/{rec.token}/"' in page


def test_upload_works_and_lands_in_the_folder(tmp_path: Path) -> None:
    got: list[list[Path]] = []
    rec = PhoneReceiver(tmp_path / "in", host="127.0.0.1", on_received=got.append)
    rec.start()
    try:
        data = jpeg_bytes(1)
        status, page = request(
            rec, "POST", f"/u/{rec.token}/", multipart([("IMG_0001.jpg", data), ("b.jpg", jpeg_bytes(2))])
        )
    finally:
        rec.stop()
    assert status == 200 and "Received 2 photo(s)" in page
    files = stored(tmp_path / "in")
    assert len(files) == 2 and all(f.suffix == ".jpg" for f in files)
    assert any(f.read_bytes() == data and "IMG_0001" in f.name for f in files)
    assert got == [rec.received] and sorted(rec.received) == files


@pytest.mark.parametrize(
    "path", ["/", "/u/", "/u/wrongtoken/", "/favicon.ico", "/u/{token}x/", "/../etc/passwd"]
)
def test_wrong_or_missing_token_is_forbidden(served: tuple[PhoneReceiver, Path], path: str) -> None:
    rec, target = served
    path = path.format(token=rec.token)
    assert request(rec, "GET", path)[0] == 403
    assert request(rec, "POST", path, multipart([("a.jpg", jpeg_bytes())]))[0] == 403
    assert stored(target) == []


def test_nothing_else_is_served_under_the_token(served: tuple[PhoneReceiver, Path]) -> None:
    rec, _ = served
    assert request(rec, "GET", f"/u/{rec.token}/../../README.md")[0] == 404
    assert request(rec, "GET", f"/u/{rec.token}/static/app.js")[0] == 404
    conn = http.client.HTTPConnection("127.0.0.1", rec.port, timeout=10)
    conn.request("PUT", f"/u/{rec.token}/", body=b"x")
    assert conn.getresponse().status == 501
    conn.close()


def test_oversized_upload_is_refused_unread(served: tuple[PhoneReceiver, Path]) -> None:
    rec, target = served
    conn = http.client.HTTPConnection("127.0.0.1", rec.port, timeout=10)
    conn.putrequest("POST", f"/u/{rec.token}/")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    conn.putheader("Content-Length", str(rec.max_bytes + 1))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413
    conn.close()
    assert stored(target) == []


def test_non_image_is_refused_and_nothing_stored(served: tuple[PhoneReceiver, Path]) -> None:
    rec, target = served
    status, _ = request(
        rec, "POST", f"/u/{rec.token}/", multipart([("evil.jpg", b"<script>alert(1)</script>")])
    )
    assert status == 415
    assert request(rec, "POST", f"/u/{rec.token}/", b"not multipart at all")[0] == 415
    assert stored(target) == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_refused_and_nothing_stored(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("L", (12_000, 12_000), 0).save(buf, format="PNG", optimize=True)  # 144 MP in ~150 kB
    bomb = buf.getvalue()
    assert len(bomb) < 2 * 1024 * 1024
    rec = PhoneReceiver(tmp_path / "in", host="127.0.0.1")
    rec.start()
    try:
        status, page = request(rec, "POST", f"/u/{rec.token}/", multipart([("bomb.png", bomb)], "image/png"))
    finally:
        rec.stop()
    assert status == 415 and "limit" in page
    assert stored(tmp_path / "in") == []


@pytest.mark.parametrize(
    "name", ["../../escape.jpg", "..\\..\\escape.jpg", "/etc/cron.d/x.jpg", ".hidden.jpg", "a\x00b.jpg", ".."]
)
def test_path_tricks_in_the_file_name_stay_inside(served: tuple[PhoneReceiver, Path], name: str) -> None:
    rec, target = served
    status, _ = request(rec, "POST", f"/u/{rec.token}/", multipart([(name, jpeg_bytes(3))]))
    assert status == 200
    [only] = stored(target.parent)
    assert only.parent == target and not only.name.startswith(".")
    assert ".." not in only.name and "/" not in only.name and "\\" not in only.name


def test_safe_name_examples() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("C:\\Users\\me\\IMG 1.HEIC") == "IMG 1"
    assert safe_name("...") == "photo"
    assert safe_name("ä€.jpg") == "_"


def test_port_is_closed_after_stop(tmp_path: Path) -> None:
    stopped = threading.Event()
    rec = PhoneReceiver(tmp_path / "in", host="127.0.0.1", on_stopped=stopped.set)
    rec.start()
    port = rec.port
    rec.stop()
    assert stopped.is_set() and not rec.running
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    rec.stop()  # twice is fine


def test_server_stops_itself_after_its_lifetime(tmp_path: Path) -> None:
    stopped = threading.Event()
    rec = PhoneReceiver(tmp_path / "in", host="127.0.0.1", lifetime_s=0.2, on_stopped=stopped.set)
    rec.start()
    port = rec.port
    assert stopped.wait(10)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_lan_address_is_never_loopback() -> None:
    address = receiver_mod.lan_address()
    assert address is None or not address.startswith("127.")
