"""PDF report figures read back with pypdf: dose summary, each patch's ΔL* and kind, a full first page."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path

import numpy as np
import pypdf

from skintrack.export.plan import ExportOptions, plan_for_region
from skintrack.export.report_figures import dose_summary
from skintrack.progress import CancelToken
from skintrack.services.export import run_export
from skintrack.ui.tasks import drive
from support.export_library import START, make_library


def _report(tmp_path: Path) -> Path:
    lib, rid, _ids = make_library(tmp_path / "lib", tmp_path / "src", 4)
    with lib:
        for d in range(30):
            lib.add_journal(START + timedelta(days=11 + d), "dose", "kratom", 5.0 if d == 3 else 3.0, "g", "")
        plan = plan_for_region(lib, rid, "pdf", options=ExportOptions(size=300))
        out = tmp_path / "report.pdf"
        drive(lambda t: run_export(lib, plan, out, t), CancelToken(), lambda p: None)
    return out


def _text(reader) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)


def test_dose_summary_never_adds_daily_doses(tmp_path: Path) -> None:
    text = _text(pypdf.PdfReader(str(_report(tmp_path))))
    assert "Total doses" not in text
    # 30 days at 3 g (one at 5 g) plus make_library's 2 g day: range, typical daily dose, days logged
    assert "kratom: logged on 31 days" in text
    assert "daily dose 2–5 g, typically 3 g a day" in text


def test_each_patch_with_its_delta_l_and_kind(tmp_path: Path) -> None:
    reader = pypdf.PdfReader(str(_report(tmp_path)))
    first = " ".join((reader.pages[0].extract_text() or "").split())
    said = re.search(r"darker by (\d+\.\d) L\* units", first)
    heading = re.search(r"area-weighted ΔL\* −(\d+\.\d) L\*", first)
    assert said and heading and said.group(1) == heading.group(1)  # the reading's figure
    rows = re.findall(
        r"(?:^| )(\d+) (−\d+\.\d) ([+−]?\d+\.\d) (\S+ (?:px|mm²|cm²)) (grey-blue|brown|neutral)", first
    )
    assert rows, first
    assert all(r[1].startswith("−") for r in rows)
    text = _text(reader)
    assert "-0.0" not in text and "−0.0" not in text


def test_first_page_is_full_and_captions_readable(tmp_path: Path) -> None:
    import pypdfium2

    out = _report(tmp_path)
    pdf = pypdfium2.PdfDocument(str(out))
    page = np.asarray(pdf[0].render(scale=0.5).to_pil().convert("L"))
    pdf.close()
    h = page.shape[0]
    lower = page[int(h * 0.55) : int(h * 0.92)]
    assert (lower < 240).mean() > 0.04, "the lower half of the first page is empty"

    sizes: list[float] = []

    def visit(text, cm, tm, font, size) -> None:
        if text.strip():
            sizes.append(size * math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3]))

    for p in pypdf.PdfReader(str(out)).pages:
        p.extract_text(visitor_text=visit)
    assert sizes and min(sizes) >= 7.0


def test_dose_summary_rule() -> None:
    from datetime import datetime
    from types import SimpleNamespace as E

    day = datetime(2026, 1, 1, 8)
    entries = [
        E(kind="dose", substance="kratom", amount=2.0, unit="g", at=day),
        E(kind="dose", substance="kratom", amount=2.0, unit="g", at=day + timedelta(hours=8)),
        E(kind="dose", substance="kratom", amount=3.0, unit="g", at=day + timedelta(days=1)),
        E(kind="sun", substance="", amount=None, unit="", at=day),
    ]
    assert dose_summary(entries) == [
        "kratom: logged on 2 days (2026-01-01 to 2026-01-02); daily dose 3–4 g, typically 3.5 g a day."
    ]
