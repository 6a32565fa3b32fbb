"""Exceptions shared by every layer; each carries the CLI exit code of DESIGN.md."""

from __future__ import annotations

from pathlib import Path

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_ALIGNMENT_FAILED = 3
EXIT_INVALID_INPUT = 4


class SkintrackError(Exception):
    """Base class: an expected failure with a message meant for the user."""

    exit_code = EXIT_ERROR


class UsageError(SkintrackError):
    """The user asked for something that does not make sense (unknown region, bad date...)."""

    exit_code = EXIT_USAGE


class InvalidInputError(SkintrackError):
    """A file cannot be used; the message names the file and the reason."""

    exit_code = EXIT_INVALID_INPUT

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class AlignmentFailedError(SkintrackError):
    """No trustworthy alignment exists between two photos."""

    exit_code = EXIT_ALIGNMENT_FAILED


class LibraryError(SkintrackError):
    """The library on disk is missing, damaged, locked or of an unknown version."""

    exit_code = EXIT_ERROR


class Cancelled(SkintrackError):
    """A long job was cancelled by the user."""

    exit_code = EXIT_ERROR
