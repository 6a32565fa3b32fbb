"""The PDF report lists each check-in's capture quality."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PIL import Image

from skintrack.demo import synth
from skintrack.export.plan import ExportOptions, plan_for_region
from skintrack.export.quality_section import quality_rows
from skintrack.library import Library
from skintrack.library.quality_store import qualities_for_region
from skintrack.progress import CancelToken
from skintrack.services.checkin import run_import
from skintrack.services.export import run_export
from skintrack.ui.tasks import drive


def test_pdf_report_shows_capture_quality(tmp_path: Path) -> None:
    import pypdf

    skin = synth.make_skin((900, 700), seed=5)
    files = []
    for i, kw in enumerate([{}, {"exposure": 2.8}]):
        path = tmp_path / f"p{i}.jpg"
        Image.fromarray(synth.photograph(skin, synth.Pose(), (800, 600), seed=i, **kw)[0]).save(path)
        files.append(path)
    with Library.open(tmp_path / "lib") as lib:
        region = lib.add_region("Arm")
        first = run_import(lib, region.id, files[:1], taken_at=datetime(2025, 3, 1, 9, 0))
        lib.set_reference(region.id, first.imported[0].id)
        run_import(lib, region.id, files[1:], taken_at=datetime(2025, 4, 1, 9, 0))
        plan = plan_for_region(lib, region.id, "pdf", options=ExportOptions(size=300))
        out = tmp_path / "report.pdf"
        drive(lambda t: run_export(lib, plan, out, t), CancelToken(), lambda p: None)
        stored = qualities_for_region(lib, region.id)
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(str(out)).pages)
    assert "Capture quality per check-in" in text
    assert "2025-04-01 poor" in text and "Too bright" in text
    assert "2025-03-01 good" in text
    assert len(stored) == 2


def test_quality_rows_say_when_a_photo_was_never_checked() -> None:
    from skintrack.export.frames import Frame

    frame = Frame(7, datetime(2024, 1, 2), False, None, None, None, None, True, 0.9, "features", False)  # type: ignore[arg-type]
    assert quality_rows({}, [frame]) == [
        ["2024-01-02", "not checked", "imported before capture checks existed"]
    ]
