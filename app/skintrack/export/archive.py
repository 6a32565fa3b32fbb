"""The backup archive format: a zip with ``manifest.json`` listing every member's sha256 and size.

Reading an archive treats it as hostile input: member names must be plain relative paths (no
zip-slip), and limits on the manifest's size, the number of members, each member's and the total
uncompressed size and the compression ratio are enforced from the zip's directory BEFORE any
byte is decompressed, so a small crafted file cannot take gigabytes of memory or disk. Python's
zipfile never yields more than a member's declared size, so the declared sizes bound the work.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import struct
import zipfile
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from skintrack.core.images import SUPPORTED_SUFFIXES
from skintrack.errors import InvalidInputError
from skintrack.progress import CancelToken, Progress

DB_NAME = "skintrack.sqlite3"
MANIFEST = "manifest.json"
FORMAT = "skintrack-backup"
FORMAT_VERSION = 1
CHUNK = 1024 * 1024
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_ORIGINAL_RE = re.compile(r"^originals/([0-9a-f]{2})/(\1[0-9a-f]{62})(\.[a-z0-9]{1,10})$")
_GIB = 1024**3
_EOCD_SEARCH = 65535  # the longest zip comment


@dataclass(frozen=True)
class ArchiveLimits:
    """What a backup archive may demand; far above any real library, far below a bomb."""

    manifest_bytes: int = 64 * 1024 * 1024  # ~400 000 members listed
    members: int = 200_000
    member_bytes: int = 8 * _GIB  # the largest original or database
    total_bytes: int = 4096 * _GIB
    ratio: float = 100.0  # uncompressed / compressed, for members over ratio_floor
    ratio_floor: int = 1024 * 1024


DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class Contents:
    """A verified archive: member name -> (sha256, size), plus originals it lacks on purpose."""

    files: dict[str, tuple[str, int]]
    damaged: dict[str, str] = field(default_factory=dict)  # member name -> reason

    @property
    def total_bytes(self) -> int:
        return sum(size for _sha, size in self.files.values())

    def holds(self, name: str, sha: str) -> bool:
        """Whether the original ``name`` is in the archive with hash ``sha`` or known damaged."""
        entry = self.files.get(name)
        return (entry is not None and entry[0] == sha) or name in self.damaged


def safe_member(name: str) -> str:
    """``name`` if it is a plain relative path inside the archive root, else ValueError (zip-slip)."""
    if not name or "\\" in name or "\x00" in name:
        raise ValueError(f"unsafe file name {name!r}")
    p = PurePosixPath(name)
    if p.is_absolute() or ":" in p.parts[0] or any(part in ("", ".", "..") for part in p.parts):
        raise ValueError(f"unsafe file name {name!r}")
    if posixpath.normpath(name) != name:
        raise ValueError(f"unsafe file name {name!r}")
    return name


def damaged(path: Path, reason: str) -> InvalidInputError:
    return InvalidInputError(path, f"not a usable Skintrack backup: {reason}; nothing was restored")


def _check_directory(zf: zipfile.ZipFile, path: Path, limits: ArchiveLimits) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > limits.members + 1:
        raise damaged(path, f"it has {len(infos)} members, more than the limit of {limits.members}")
    by_name: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        try:
            safe_member(info.filename)
        except ValueError as exc:
            raise damaged(path, str(exc)) from exc
        if info.filename in by_name:
            raise damaged(path, f"{info.filename} appears twice")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise damaged(path, f"{info.filename} uses an unsupported compression method")
        if info.file_size > limits.member_bytes:
            raise damaged(path, f"{info.filename} would unpack to {_gb(info.file_size)}, over the limit")
        if info.file_size > limits.ratio_floor and info.file_size > limits.ratio * max(info.compress_size, 1):
            raise damaged(
                path,
                f"{info.filename} would unpack to {_gb(info.file_size)} from {info.compress_size} bytes "
                "(a compression ratio no photo or database has)",
            )
        total += info.file_size
        by_name[info.filename] = info
    if total > limits.total_bytes:
        raise damaged(path, f"it would unpack to {_gb(total)}, over the limit")
    return by_name


def _gb(size: int) -> str:
    return f"{size / _GIB:.1f} GB" if size >= _GIB // 10 else f"{size / 1024**2:.1f} MB"


def read_manifest(zf: zipfile.ZipFile, path: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> Contents:
    """The manifest, checked against the zip's directory and the limits."""
    infos = _check_directory(zf, path, limits)
    info = infos.get(MANIFEST)
    if info is None:
        raise damaged(path, "manifest.json is missing")
    if info.file_size > limits.manifest_bytes:
        raise damaged(path, f"manifest.json would unpack to {_gb(info.file_size)}, over the limit")
    try:
        raw = zf.read(info)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise damaged(path, f"manifest.json cannot be read ({exc})") from exc
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise damaged(path, "manifest.json is not valid JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise damaged(path, "manifest.json is not a Skintrack backup manifest")
    version = manifest.get("version")
    if not isinstance(version, int) or version < 1:
        raise damaged(path, "manifest.json has no valid format version")
    if version > FORMAT_VERSION:
        raise damaged(path, f"made by a newer Skintrack (backup format {version})")
    files = _files(manifest.get("files"), path)
    if DB_NAME not in files:
        raise damaged(path, "the manifest does not list the database")
    names = set(infos) - {MANIFEST}
    missing = sorted(set(files) - names)
    if missing:
        raise damaged(path, f"{len(missing)} file(s) listed in the manifest are missing, e.g. {missing[0]}")
    extra = sorted(names - set(files))
    if extra:
        raise damaged(path, f"{len(extra)} file(s) are not listed in the manifest, e.g. {extra[0]}")
    for name, (sha, size) in files.items():
        if infos[name].file_size != size:
            raise damaged(path, f"{name} does not have the size the manifest lists")
        if name.startswith("originals/") and PurePosixPath(name).stem != sha:
            raise damaged(path, f"{name} is not named after its checksum")
    return Contents(files, _damaged_list(manifest.get("damaged", {}), path))


def _files(raw: object, path: Path) -> dict[str, tuple[str, int]]:
    if not isinstance(raw, dict):
        raise damaged(path, "the manifest does not list the files")
    files: dict[str, tuple[str, int]] = {}
    for name, entry in raw.items():
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        size = entry.get("size") if isinstance(entry, dict) else None
        if not isinstance(sha, str) or not _SHA_RE.match(sha) or not isinstance(size, int) or size < 0:
            raise damaged(path, f"the manifest entry of {str(name)[:80]!r} is invalid")
        try:
            safe_member(name)
        except ValueError as exc:
            raise damaged(path, str(exc)) from exc
        if not _expected_member(name):
            raise damaged(path, f"{str(name)[:80]!r} is not a file a Skintrack backup contains")
        files[name] = (sha, size)
    return files


def _expected_member(name: str) -> bool:
    """Only the database and originals named by their hash (no ``-wal``, no cache, nothing else)."""
    match = _ORIGINAL_RE.match(name)
    return name == DB_NAME or (match is not None and match.group(3) in SUPPORTED_SUFFIXES)


def _damaged_list(raw: object, path: Path) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise damaged(path, "the manifest's list of damaged originals is invalid")
    return {k: v[:200] for k, v in raw.items()}


def open_archive(path: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> zipfile.ZipFile:
    """The zip, once its directory is known to be of a reasonable size (zipfile loads it whole)."""
    if not path.is_file():
        raise InvalidInputError(path, "no such file")
    try:
        entries, directory_bytes = _directory_size(path)
    except OSError as exc:
        raise damaged(path, f"cannot be read ({exc.strerror or exc})") from exc
    if entries > limits.members + 1:
        raise damaged(path, f"it has {entries} members, more than the limit of {limits.members}")
    if directory_bytes > limits.manifest_bytes:
        raise damaged(path, f"its zip directory takes {_gb(directory_bytes)}, over the limit")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise damaged(path, f"not a readable zip archive ({exc})") from exc


def _directory_size(path: Path) -> tuple[int, int]:
    """(entries, bytes) of the zip's central directory, read from its end records; (0, 0) if none.

    A zip without end record is left for zipfile to refuse with its own message.
    """
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        tail_start = max(0, size - (_EOCD_SEARCH + 22))
        fh.seek(tail_start)
        tail = fh.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return 0, 0
        _disk, _cd_disk, _here, entries, cd_size, _cd_offset, _comment = struct.unpack(
            "<HHHHIIH", tail[at + 4 : at + 22]
        )
        if entries != 0xFFFF and cd_size != 0xFFFFFFFF:
            return entries, cd_size
        locator = tail_start + at - 20  # zip64 end-of-directory locator, just before the end record
        if locator < 0:
            return entries, cd_size
        fh.seek(locator)
        raw = fh.read(20)
        if raw[:4] != b"PK\x06\x07":
            return entries, cd_size
        (record_at,) = struct.unpack("<Q", raw[8:16])
        fh.seek(record_at)
        record = fh.read(56)
        if record[:4] != b"PK\x06\x06" or len(record) < 56:
            return entries, cd_size
        entries64, cd_size64 = struct.unpack("<QQ", record[32:48])
        return entries64, cd_size64


def verify_backup(
    zip_path: str | os.PathLike[str],
    token: CancelToken | None = None,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> Generator[Progress, None, Contents]:
    """Check names, limits and every sha256 without writing anything; InvalidInputError if damaged."""
    token = token or CancelToken()
    path = Path(zip_path)
    with open_archive(path, limits) as zf:
        contents = read_manifest(zf, path, limits)
        total = len(contents.files)
        for i, (name, (sha, size)) in enumerate(sorted(contents.files.items()), start=1):
            token.raise_if_cancelled()
            yield Progress(i - 1, total, f"checking {i} of {total}")
            if hash_member(zf, name, path) != (sha, size):
                raise damaged(path, f"{name} does not match its checksum in the manifest")
        yield Progress(total, total, "archive verified")
    return contents


def hash_member(zf: zipfile.ZipFile, name: str, path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    try:
        with zf.open(name) as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise damaged(path, f"{name} is damaged ({exc})") from exc
    return digest.hexdigest(), size
