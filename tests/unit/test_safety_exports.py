"""MP4 export safety through the real CLI: a failing or lying ffmpeg never replaces a good earlier
export, and the leftovers of a killed export are swept by the next one."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import pytest
from safety_library_support import Cli, make_jpeg

from skintrack.library import Library

_FAKE_FFMPEG = """#!{python}
import os, sys
args = sys.argv[1:]
if "rawvideo" in args:  # encoding: swallow the frames, write something that is not a video
    sys.stdin.buffer.read()
    with open(args[-1], "wb") as out:
        out.write(b"not an mp4 at all")
    sys.exit({status})
os.execv({real!r}, [{real!r}, *args])  # reading back: the real ffmpeg judges the file
"""


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "library")
    with Library.open(cli.library) as lib:
        region = lib.add_region("Arm")
        for i in range(2):
            lib.import_file(
                region.id, make_jpeg(tmp_path / f"p{i}.jpg", i, taken=f"2024:0{i + 1}:01 10:00:00")
            )
    return cli


def _fake_ffmpeg(tmp_path: Path, status: int) -> dict[str, str]:
    script = tmp_path / f"ffmpeg-{status}"
    real = imageio_ffmpeg.get_ffmpeg_exe()
    script.write_text(_FAKE_FFMPEG.format(python=sys.executable, status=status, real=real))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"IMAGEIO_FFMPEG_EXE": str(script)}


@pytest.mark.parametrize(
    ("status", "message"), [(1, "ffmpeg failed with exit status 1"), (0, "does not read back")]
)
def test_a_broken_mp4_never_replaces_a_good_earlier_export(
    cli: Cli, tmp_path: Path, status: int, message: str
) -> None:
    out = tmp_path / "out" / "timelapse.mp4"
    out.parent.mkdir()
    out.write_bytes(b"the good export from last week")
    result = cli(
        "export",
        "--region",
        "Arm",
        "--format",
        "mp4",
        "--out",
        str(out),
        "--size",
        "96",
        env=_fake_ffmpeg(tmp_path, status),
    )
    assert result.returncode == 1, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr
    assert out.read_bytes() == b"the good export from last week"
    assert [p.name for p in out.parent.iterdir()] == ["timelapse.mp4"]  # no temp file left


def test_the_next_export_sweeps_temp_files_of_a_killed_one(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "timelapse.mp4"
    stale = tmp_path / ".timelapse.mp4.999999999-0a1b.skt-tmp"
    stale.write_bytes(b"half a video of someone's skin")
    live = tmp_path / f".timelapse.mp4.{os.getpid()}-0a1b.skt-tmp"  # a running export's: left alone
    live.write_bytes(b"being written")
    result = cli("export", "--region", "Arm", "--format", "mp4", "--out", str(out), "--size", "96")
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 0 and not stale.exists() and live.exists()
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 2


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_an_mp4_export_killed_midway_keeps_the_good_export_and_the_next_run_cleans_up(
    cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "timelapse.mp4"
    out.write_bytes(b"the good export from last week")
    slow = tmp_path / "ffmpeg-slow"  # has started writing, then hangs until its parent is gone
    slow.write_text(
        f"#!{sys.executable}\nimport os, sys, time\nparent = os.getppid()\nargs = sys.argv[1:]\n"
        "open(args[-1], 'wb').write(b'half a video')\nsys.stdin.buffer.read()\n"
        "while os.getppid() == parent:\n    time.sleep(0.05)\n"
    )
    slow.chmod(0o700)
    cmd = [sys.executable, "-m", "skintrack", "export", "--region", "Arm", "--format", "mp4"]
    cmd += ["--out", str(out), "--size", "96", "--library", str(cli.library)]
    env = {**cli.env, "IMAGEIO_FFMPEG_EXE": str(slow)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(".timelapse.mp4.*.skt-tmp")):  # wait for the temp file to exist
            assert proc.poll() is None and time.monotonic() < deadline, "the export never started writing"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert out.read_bytes() == b"the good export from last week"
    assert len(list(tmp_path.glob(".timelapse.mp4.*.skt-tmp"))) == 1  # the kill left its temp file

    result = cli("export", "--region", "Arm", "--format", "mp4", "--out", str(out), "--size", "96")
    assert result.returncode == 0, result.stderr
    assert not list(tmp_path.glob(".timelapse.mp4.*.skt-tmp"))
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 2
