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

    def boom(*_a, **_k):
        Path(_a[3]).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setitem(export_service.WRITERS, "gif", boom)
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
