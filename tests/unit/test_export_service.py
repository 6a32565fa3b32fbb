"""services.export: cancel or failure leaves no file and no temp file; CLI export."""

from __future__ import annotations

from pathlib import Path

import pytest

from skintrack.errors import Cancelled
from skintrack.export.plan import ExportOptions, plan_for_region
from skintrack.progress import CancelToken
from skintrack.services import export as export_service
from support.export_library import make_library


@pytest.fixture
def lib(tmp_path: Path):
    lib, rid, ids = make_library(tmp_path / "lib", tmp_path / "src", 3)
    yield lib, rid, ids
    lib.close()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fmt,name", [("gif", "a.gif"), ("mp4", "a.mp4"), ("pdf", "a.pdf")])
def test_cancel_leaves_nothing(lib, tmp_path: Path, fmt: str, name: str) -> None:
    db, rid, _ = lib
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    token = CancelToken()
    plan = plan_for_region(db, rid, fmt, options=ExportOptions(size=160))
    gen = export_service.run_export(db, plan, out_dir / name, token)
    steps = [next(gen), next(gen)]
    assert steps[0].total == plan.steps
    token.cancel()
    with pytest.raises(Cancelled):
        list(gen)
    assert _leftovers(out_dir) == []


def test_closing_the_generator_leaves_nothing(lib, tmp_path: Path) -> None:
    db, rid, _ = lib
    plan = plan_for_region(db, rid, "gif", options=ExportOptions(size=160))
    gen = export_service.run_export(db, plan, tmp_path / "x.gif")
    next(gen)
    gen.close()
    assert not (tmp_path / "x.gif").exists() and not list(tmp_path.glob("*.skt-tmp"))


def test_writer_failure_leaves_nothing_and_keeps_old_file(lib, tmp_path: Path, monkeypatch) -> None:
    db, rid, _ = lib
    out = tmp_path / "keep.gif"
    out.write_bytes(b"old")

    class Boom:
        """An encoder whose disk fills up after the first frame."""

        def __init__(self, _plan, tmp: Path, _out: Path) -> None:
            self.tmp = tmp

        def add(self, _image) -> None:
            self.tmp.write_bytes(b"partial")
            raise OSError("disk full")

        def close(self) -> int:
            raise AssertionError("never reached")

        def abort(self) -> None:
            pass

    monkeypatch.setitem(export_service.STREAMED, "gif", Boom)
    plan = plan_for_region(db, rid, "gif", options=ExportOptions(size=160))
    with pytest.raises(OSError, match="disk full"):
        list(export_service.run_export(db, plan, out))
    assert out.read_bytes() == b"old" and not list(tmp_path.glob("*.skt-tmp"))


def test_preview_first_frame_and_data(lib) -> None:
    db, rid, _ = lib
    img = export_service.render_preview(db, plan_for_region(db, rid, "gif", options=ExportOptions(size=160)))
    assert img.ndim == 3 and max(img.shape[:2]) >= 150
    pdf = export_service.render_preview(db, plan_for_region(db, rid, "pdf", options=ExportOptions(size=160)))
    assert pdf.shape[1] > 2 * img.shape[1]  # reference and latest side by side
    text = export_service.render_preview(db, plan_for_region(db, rid, "csv"))
    assert text.startswith("region,")


def test_cli_export(lib, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from skintrack.cli import main

    db, _rid, ids = lib
    root = str(db.root)
    out = tmp_path / "cli.gif"
    args = ["--library", root, "export", "--region", "Left forearm", "--format", "gif", "--out", str(out)]
    assert main([*args, "--size", "160", "--frame-ms", "300", "--photos", f"{ids[0]},{ids[2]}"]) == 0
    assert out.is_file() and "exported 2 check-ins" in capsys.readouterr().out
    assert main([*args[:-2], "--out", str(tmp_path / "x.png")]) == 2  # wrong suffix for gif
    assert main([*args, "--from", "2030-01-01"]) == 2
    assert main(["--library", root, "export", "--region", "Nope", "--format", "csv", "--out", str(out)]) == 2
    with pytest.raises(SystemExit) as exc:
        main([*args, "--from", "not-a-date"])
    assert exc.value.code == 2
    csv_out = tmp_path / "m.csv"
    assert (
        main(
            [
                "export",
                "--library",
                root,
                "--region",
                "Left forearm",
                "--format",
                "csv",
                "--out",
                str(csv_out),
            ]
        )
        == 0
    )
    assert csv_out.read_text("utf-8-sig").startswith("region,")


@pytest.mark.parametrize("fmt", ["gif", "mp4"])
def test_timelapse_frames_are_encoded_while_rendering(lib, tmp_path: Path, monkeypatch, fmt: str) -> None:
    """A timelapse holds a few frames at a time, not the whole region: each frame reaches the
    encoder before frames far behind it are rendered."""
    from skintrack.export.frames import FrameRenderer

    db, rid, _ = lib
    events: list[str] = []
    real_render = FrameRenderer.render

    def render(self, planned, token=None):
        frame = real_render(self, planned, token)
        events.append("render")
        return frame

    real_open = export_service.STREAMED[fmt]

    def opener(plan, tmp, out):
        sink = real_open(plan, tmp, out)
        add = sink.add
        sink.add = lambda image: (events.append("add"), add(image))[1]
        return sink

    monkeypatch.setattr(FrameRenderer, "render", render)
    monkeypatch.setitem(export_service.STREAMED, fmt, opener)
    monkeypatch.setattr(export_service, "RENDER_THREADS", 1)
    plan = plan_for_region(db, rid, fmt, options=ExportOptions(size=160))
    out = tmp_path / f"t.{fmt}"
    list(export_service.run_export(db, plan, out))
    assert out.is_file() and events.count("add") == len(plan.photos) == 3
    held = max(events[: i + 1].count("render") - events[: i + 1].count("add") for i in range(len(events)))
    assert held <= export_service.RENDER_THREADS + 1
    assert events.index("add") < len(events) - 1 - events[::-1].index("render")  # not all rendered first


def test_gif_writer_matches_one_shared_palette_and_keeps_only_samples(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image, ImageSequence

    from skintrack.export.gif import PALETTE_SAMPLE_PIXELS, GifWriter, shared_palette

    rng = np.random.default_rng(0)
    frames = [np.clip(rng.normal(120 + 12 * i, 30, (90, 120, 3)), 0, 255).astype(np.uint8) for i in range(6)]
    writer = GifWriter(tmp_path / "t.gif", 250, len(frames), spool_dir=tmp_path)
    for f in frames:
        writer.add(f)
    assert sum(s.size for s in writer._samples) <= 3 * PALETTE_SAMPLE_PIXELS * 1.2
    assert writer.close() == 6
    assert [p.name for p in tmp_path.iterdir()] == ["t.gif"]  # the spool is gone
    palette = shared_palette(frames)
    gif = Image.open(tmp_path / "t.gif")
    assert gif.info["loop"] == 0 and gif.n_frames == 6
    for frame, want in zip(ImageSequence.Iterator(gif), frames, strict=True):
        quantised = Image.fromarray(want).quantize(palette=palette, dither=Image.Dither.NONE)
        assert np.array_equal(np.asarray(frame.convert("RGB")), np.asarray(quantised.convert("RGB")))
        assert frame.info["duration"] == 250
