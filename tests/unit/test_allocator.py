"""The process shares one malloc arena (glibc), set by the command line's entry point."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from skintrack import allocator

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only"
)


@glibc
def test_one_arena_is_set_on_glibc() -> None:
    assert allocator.share_one_arena() is True


def test_off_linux_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.share_one_arena() is False


def _arenas_after_threads(share: bool) -> int:
    """Arenas glibc made in a fresh process whose threads allocate (malloc_stats: one block each)."""
    code = (
        "import ctypes, threading, numpy as np\n"
        "from skintrack.allocator import share_one_arena\n"
        f"{'share_one_arena()' if share else 'pass'}\n"
        "def work():\n"
        "    [np.ones(1 << 18) for _ in range(20)]\n"
        "ts = [threading.Thread(target=work) for _ in range(4)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "ctypes.CDLL(None).malloc_stats()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stderr.count("Arena ")


@glibc
def test_threads_share_the_main_arena() -> None:
    assert _arenas_after_threads(share=False) > 1  # what glibc does by default
    assert _arenas_after_threads(share=True) == 1


def test_the_command_line_sets_it_first(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from skintrack import cli

    calls: list[bool] = []
    monkeypatch.setattr(cli, "share_one_arena", lambda: calls.append(True) or True)
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert calls == [True]
