"""PDF report: opened with pypdf (pages, text) and rasterised with pypdfium2 (not blank)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skintrack import NOT_A_DIAGNOSIS
from skintrack.export.plan import ExportOptions, plan_for_region
from skintrack.progress import CancelToken
from skintrack.services.export import run_export
from skintrack.ui.tasks import drive
from support.export_library import make_library


def _text(reader) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)


def test_pdf_report_contents(tmp_path: Path) -> None:
    import pypdf
    import pypdfium2

    lib, rid, _ids = make_library(tmp_path / "lib", tmp_path / "src", 4)
    with lib:
        plan = plan_for_region(lib, rid, "pdf", options=ExportOptions(size=300))
        out = tmp_path / "report.pdf"
        drive(lambda t: run_export(lib, plan, out, t), CancelToken(), lambda p: None)
    reader = pypdf.PdfReader(str(out))
    assert 2 <= len(reader.pages) <= 4
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 1 and abs(float(box.height) - 841.9) < 1  # A4
    text = _text(reader)
    assert " ".join(NOT_A_DIAGNOSIS.split()) in text
    for needle in (
        "Left forearm",
        "forearm, dorsal, left",
        "2025-03-01",
        "Journal summary",
        "kratom",
        "Method",
    ):
        assert needle in text, needle
    assert "L* units" in text and "Noise" in text
    pdf = pypdfium2.PdfDocument(str(out))
    page = np.asarray(pdf[0].render(scale=0.6).to_pil().convert("L"))
    assert page.std() > 20 and (page < 250).mean() > 0.05  # real content, not a blank page
    pdf.close()


def test_pdf_single_check_in_without_measurements(tmp_path: Path) -> None:
    import pypdf

    lib, rid, _ids = make_library(tmp_path / "lib", tmp_path / "src", 1, measured=False, watched=False)
    with lib:
        plan = plan_for_region(lib, rid, "pdf", options=ExportOptions(size=200))
        out = tmp_path / "one.pdf"
        drive(lambda t: run_export(lib, plan, out, t), CancelToken(), lambda p: None)
    assert "Left forearm" in _text(pypdf.PdfReader(str(out)))
