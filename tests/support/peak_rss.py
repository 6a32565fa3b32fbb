"""The command line in a child process that reports its peak resident memory, for the benchmarks."""

from __future__ import annotations

#: ``python -c LAUNCHER ARGS…`` runs ``skintrack ARGS…`` and prints ``VMHWM_KB n`` on stderr at exit.
LAUNCHER = r"""
import atexit, runpy, sys

def _peak() -> None:
    with open("/proc/self/status") as f:
        kb = next(int(x.split()[1]) for x in f if x.startswith("VmHWM:"))
    print(f"VMHWM_KB {kb}", file=sys.stderr)

atexit.register(_peak)
sys.argv = ["skintrack", *sys.argv[1:]]
runpy.run_module("skintrack", run_name="__main__")
"""


def peak_mb(stderr: str) -> float:
    """The child's peak RSS in MB from its stderr (0 when it died before reporting it)."""
    kb = next((int(x.split()[1]) for x in stderr.splitlines() if x.startswith("VMHWM_KB")), 0)
    return kb / 1024
