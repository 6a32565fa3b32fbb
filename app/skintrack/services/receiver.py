"""Receive photos from a phone on the local network while the "Receive from phone" dialog is open.

The app's only network use: inbound only, only while ``PhoneReceiver`` runs. Python's standard
``http.server`` is enough for one upload form and a POST, and adds no dependency; it serves one
request at a time (``HTTPServer`` is not threaded, HTTP/1.0 closes each connection, a socket
timeout stops a stalled client from holding it).

Security: bound to one LAN address (never 0.0.0.0) on a random port; every URL carries a
128-bit random token (``secrets``), anything without it gets 403; bodies over ``max_bytes`` get
413 unread; each file is decoded with ``core.images`` limits before it is kept (else 415 and
nothing is stored); file names are reduced to a safe base name inside the target folder. The
server stops itself after ``lifetime_s`` seconds.
"""

from __future__ import annotations

import contextlib
import hmac
import html
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from skintrack.core import images
from skintrack.core.fsutil import TEMP_SUFFIX
from skintrack.errors import InvalidInputError

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 100 * 1024 * 1024  # one sending of several phone photos (3-15 MB each)
DEFAULT_LIFETIME_S = 600.0
SOCKET_TIMEOUT_S = 30.0
MAX_FILES_PER_UPLOAD = 20
# uploads are decoded with a lower pixel limit than imports: phones make at most ~200 MP
UPLOAD_MAX_PIXELS = images.DEFAULT_MAX_PIXELS
_SUFFIX_BY_FORMAT = {
    "JPEG": ".jpg",
    "MPO": ".jpg",
    "PNG": ".png",
    "WEBP": ".webp",
    "TIFF": ".tif",
    "HEIF": ".heic",
}
_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")

UPLOAD_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Send photos to Skintrack</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 28em; padding: 0 1em; }}
label, button {{ display: block; width: 100%; font-size: 1.2em; padding: .8em; margin: .6em 0;
  box-sizing: border-box; text-align: center; border-radius: .5em; }}
label {{ background: #2f6f8f; color: white; }}
input[type=file] {{ font-size: 1em; margin: 1em 0; width: 100%; }}
p {{ color: #444; }}
</style></head>
<body><h1>Send photos to Skintrack</h1>
{message}
<p>Take a photo or choose several (up to {limit} MB per sending).</p>
<form method="post" action="{action}" enctype="multipart/form-data">
<input type="file" name="photo" accept="image/*" capture="environment" multiple required>
<button type="submit">Send</button>
</form>
<p>The photos go straight to the computer showing the QR code, over your local network. Nothing is
uploaded anywhere else. This page stops working when the dialog on the computer is closed.</p>
</body></html>
"""


def lan_address() -> str | None:
    """The address of this machine on the local network, or None when there is none.

    Asks the kernel which source address it would route to a private address; ``connect`` on a
    UDP socket only picks a route, it sends no packet.
    """
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 9))
        address = probe.getsockname()[0]
        if address and not address.startswith("127.") and address != "0.0.0.0":
            return str(address)
    return None


def safe_name(filename: str) -> str:
    """A base name without folders, control characters or leading dots (never empty)."""
    base = filename.replace("\\", "/").split("/")[-1]
    base = _SAFE.sub("_", base).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return (stem[:60] or "photo").strip(" .") or "photo"


class _UploadServer(HTTPServer):
    receiver: PhoneReceiver


class _Handler(BaseHTTPRequestHandler):
    server: _UploadServer
    server_version = "Skintrack"
    sys_version = ""
    timeout = SOCKET_TIMEOUT_S

    def log_message(self, format: str, *args: object) -> None:
        log.debug("receiver: " + format, *args)

    # -------------------------------------------------------------- routing
    def _token_ok(self) -> str | None:
        """The path after the token, or None when the token is wrong or missing."""
        parts = self.path.split("?", 1)[0].split("/")
        if len(parts) < 3 or parts[1] != "u":
            return None
        if not hmac.compare_digest(parts[2].encode(), self.server.receiver.token.encode()):
            return None
        return "/".join(parts[3:])

    def do_GET(self) -> None:
        rest = self._token_ok()
        if rest is None:
            self._send(HTTPStatus.FORBIDDEN, "<h1>Forbidden</h1>")
        elif rest == "":
            self._send_page()
        else:
            self._send(HTTPStatus.NOT_FOUND, "<h1>Not found</h1>")

    def do_POST(self) -> None:
        rest = self._token_ok()
        if rest is None:
            self._send(HTTPStatus.FORBIDDEN, "<h1>Forbidden</h1>")
            return
        if rest != "":
            self._send(HTTPStatus.NOT_FOUND, "<h1>Not found</h1>")
            return
        receiver = self.server.receiver
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(HTTPStatus.LENGTH_REQUIRED, "<h1>Length required</h1>")
            return
        if length > receiver.max_bytes:
            self.close_connection = True
            limit = receiver.max_bytes // (1024 * 1024)
            self._send(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"<h1>Too large</h1><p>The limit is {limit} MB.</p>"
            )
            return
        body = self.rfile.read(length)
        ctype = self.headers.get("Content-Type", "")
        files = _file_parts(ctype, body)
        if not files:
            self._send(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "<h1>No photo in the upload</h1>")
            return
        stored, refused = receiver._store(files)
        if refused and not stored:
            self._send(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "<h1>Not a photo</h1><p>" + html.escape(refused[0]) + "</p>",
            )
            return
        note = f"Received {len(stored)} photo(s)." + (
            f" {len(refused)} file(s) were not photos." if refused else ""
        )
        self._send_page(f"<p><strong>{html.escape(note)}</strong> Send more?</p>")

    # -------------------------------------------------------------- responses
    def _send_page(self, message: str = "") -> None:
        action = f"/u/{self.server.receiver.token}/"
        limit = self.server.receiver.max_bytes // (1024 * 1024)
        self._send(HTTPStatus.OK, UPLOAD_PAGE.format(message=message, action=action, limit=limit), full=True)

    def _send(self, status: HTTPStatus, body: str, full: bool = False) -> None:
        if not full:
            body = f"<!doctype html><html><body>{body}</body></html>"
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header(
            "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
        )
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(data)


def _file_parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """(filename, bytes) of each file field of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/form-data"):
        return []
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return []
    parts = []
    for part in message.iter_parts():
        filename = part.get_filename()
        if filename is None:
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload:
            parts.append((filename, payload))
        if len(parts) >= MAX_FILES_PER_UPLOAD:
            break
    return parts


class PhoneReceiver:
    """A one-time upload server; ``start()`` returns its URL, ``stop()`` closes the port."""

    def __init__(
        self,
        target_dir: Path,
        *,
        host: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        lifetime_s: float = DEFAULT_LIFETIME_S,
        on_received: Callable[[list[Path]], None] | None = None,
        on_stopped: Callable[[], None] | None = None,
        max_pixels: int = UPLOAD_MAX_PIXELS,
    ) -> None:
        self.target_dir = Path(target_dir)
        self.host = host
        self.max_bytes = max_bytes
        self.lifetime_s = lifetime_s
        self.max_pixels = max_pixels
        self.on_received = on_received
        self.on_stopped = on_stopped
        self.token = secrets.token_urlsafe(16)  # 16 bytes = 128 bits
        self.received: list[Path] = []
        self._server: _UploadServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.deadline: float | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the receiver is not running")
        host = str(self._server.server_address[0])
        return f"http://{host}:{self.port}/u/{self.token}/"

    def start(self) -> str:
        """Bind and serve; raises OSError when there is no local network to serve on."""
        host = self.host or lan_address()
        if host is None:
            raise OSError("no local network connection: connect this computer to the same Wi-Fi as the phone")
        self.target_dir.mkdir(parents=True, exist_ok=True)
        server = _UploadServer((host, 0), _Handler)
        server.receiver = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="skintrack-receiver", daemon=True
        )
        self._thread.start()
        self.deadline = time.monotonic() + self.lifetime_s
        self._timer = threading.Timer(self.lifetime_s, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and close the port; safe to call twice and from any thread."""
        with self._lock:
            server, thread, timer = self._server, self._thread, self._timer
            self._server = self._thread = self._timer = None
        if server is None:
            return
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()
        if self.on_stopped is not None:
            self.on_stopped()

    # -------------------------------------------------------------- storing uploads
    def _store(self, files: list[tuple[str, bytes]]) -> tuple[list[Path], list[str]]:
        stored: list[Path] = []
        refused: list[str] = []
        for filename, data in files:
            try:
                stored.append(self._store_one(filename, data))
            except InvalidInputError as exc:
                refused.append(f"{safe_name(filename)}: {exc.reason}")
        if stored:
            self.received.extend(stored)
            if self.on_received is not None:
                self.on_received(stored)
        return stored, refused

    def _store_one(self, filename: str, data: bytes) -> Path:
        tmp = self.target_dir / f".upload-{secrets.token_hex(8)}{TEMP_SUFFIX}"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            decoded = images.decode(tmp, max_pixels=self.max_pixels, max_side=64)
            suffix = _SUFFIX_BY_FORMAT.get(decoded.meta.format)
            if suffix is None:
                raise InvalidInputError(filename, f"unsupported image type {decoded.meta.format}")
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            base = f"phone-{stamp}-{safe_name(filename)}"
            for n in range(1, 1000):
                dest = self.target_dir / (base + ("" if n == 1 else f"-{n}") + suffix)
                try:
                    os.link(tmp, dest)  # never replaces an existing file
                except FileExistsError:
                    continue
                return dest
            raise InvalidInputError(filename, "too many files with this name")
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
