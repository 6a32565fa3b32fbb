"""Helpers (no tests) for the backup/restore safety tests: real libraries, the real CLI, crafted archives."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from skintrack.library import Library

DB = "skintrack.sqlite3"


def cli_env(base: Path, **extra: str) -> dict[str, str]:
    """A private HOME (``base/home``), XDG trash and TMPDIR, so nothing reaches the real user's folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKINTRACK_")}
    home = base / "home"
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        TMPDIR=str(home / "tmp"),
        QT_QPA_PLATFORM="offscreen",
    )
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env.update(extra)
    return env


def cli(base: Path, *args: str | Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m skintrack ARGS`` in a child process; never raises on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "skintrack", *map(str, args)],
        env=cli_env(base, **extra),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def make_library(root: Path, n: int = 3, *, region: str = "Left forearm", seed: int = 1) -> list[str]:
    """A real library with ``n`` imported photos; returns their sha256."""
    src = root.parent / f"{root.name}-photos"
    src.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shas = []
    with Library.open(root) as lib:
        rid = lib.add_region(region).id
        for i in range(n):
            path = src / f"IMG_{i:04d}.jpg"
            Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8)).save(path, quality=90)
            out = lib.import_file(rid, path, taken_at=datetime(2025, 3, 1, 9) + timedelta(days=30 * i))
            shas.append(out.photo.sha256)
        lib.add_journal(datetime(2025, 3, 2), "dose", substance="minocycline", amount=100, unit="mg")
    return shas


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (lock file excluded: it only says who held it)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "skintrack.lock"
    }


def regions(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM region ORDER BY name")]
    finally:
        conn.close()


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def trashed(base: Path) -> list[Path]:
    """What the child processes moved to their (private) desktop trash."""
    files = base / "home" / ".local" / "share" / "Trash" / "files"
    return sorted(files.iterdir()) if files.is_dir() else []


def rebuild(
    src: Path,
    dst: Path,
    mutate_db: Callable[[sqlite3.Connection], None] | None = None,
    *,
    drop: Callable[[str], bool] = lambda _n: False,
    db_bytes: bytes | None = None,
    extra: dict[str, bytes] | None = None,
) -> None:
    """Copy archive ``src`` to ``dst`` with its database changed, and a manifest that matches again.

    The result passes every hash check, so only the database's contents are hostile.
    """
    work = dst.with_suffix(".work")
    work.mkdir()
    with zipfile.ZipFile(src) as zin:
        names = [n for n in zin.namelist() if n != "manifest.json" and not drop(n)]
        manifest = json.loads(zin.read("manifest.json"))
        data = {n: zin.read(n) for n in names}
    if db_bytes is not None:
        data[DB] = db_bytes
    elif mutate_db is not None:
        db = work / DB
        db.write_bytes(data[DB])
        conn = sqlite3.connect(db, isolation_level=None)
        try:
            mutate_db(conn)
        finally:
            conn.close()
        data[DB] = db.read_bytes()
    data.update(extra or {})
    manifest["files"] = {
        n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)} for n, b in data.items()
    }
    with zipfile.ZipFile(dst, "w") as zout:
        for name, blob in data.items():
            zout.writestr(name, blob)
        zout.writestr("manifest.json", json.dumps(manifest))


def dead_pid() -> int:
    """The pid of a process that has exited (for stale temp names)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(proc.stdout)
