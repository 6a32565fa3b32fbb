"""Exports name each photo's check-in: CSV columns, and the PDF lists a check-in's shots as one
entry with their repeat noise (read with csv and pypdf)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from skintrack.export.plan import ExportOptions, plan_for_region
from skintrack.library import RepeatNoiseRecord
from skintrack.progress import CancelToken
from skintrack.services.export import run_export
from skintrack.ui.tasks import drive
from support.export_library import make_library


def _export(lib, rid: int, fmt: str, out: Path) -> Path:
    plan = plan_for_region(lib, rid, fmt, options=ExportOptions(size=240))
    drive(lambda t: run_export(lib, plan, out, t), CancelToken(), lambda p: None)
    return out


@pytest.fixture
def grouped(tmp_path: Path):
    """Four photos; the last two are repeat shots of one check-in with a stored repeat noise."""
    lib, rid, ids = make_library(tmp_path / "lib", tmp_path / "src", 4)
    checkin = lib.group_photos([ids[2], ids[3]])
    lib.save_repeat_noise(RepeatNoiseRecord(checkin.id, {"robust_std_delta_L": 0.734}, "repeat-1/test"))
    yield lib, rid, ids, checkin.id
    lib.close()


def test_csv_names_the_check_in_its_shots_the_measured_one_and_repeat_noise(grouped, tmp_path: Path) -> None:
    lib, rid, ids, checkin_id = grouped
    out = _export(lib, rid, "csv", tmp_path / "m.csv")
    rows = {int(r["photo_id"]): r for r in csv.DictReader(io.StringIO(out.read_text("utf-8-sig")))}
    assert {
        "checkin_id",
        "checkin_shots (count)",
        "measured_shot",
        "checkin_repeat_noise_L (L* units)",
    } <= set(next(iter(rows.values())))
    assert rows[ids[2]]["checkin_id"] == rows[ids[3]]["checkin_id"] == str(checkin_id)
    assert rows[ids[0]]["checkin_id"] not in ("", str(checkin_id))
    assert rows[ids[2]]["checkin_shots (count)"] == "2" and rows[ids[1]]["checkin_shots (count)"] == "1"
    # no stored capture quality: the earlier shot stands for the check-in
    assert (rows[ids[2]]["measured_shot"], rows[ids[3]]["measured_shot"]) == ("True", "False")
    assert rows[ids[3]]["checkin_repeat_noise_L (L* units)"] == "0.73"
    assert rows[ids[1]]["checkin_repeat_noise_L (L* units)"] == ""


def test_pdf_lists_the_shots_of_one_check_in_as_one_entry_with_repeat_noise(grouped, tmp_path: Path) -> None:
    import pypdf

    lib, rid, _ids, _checkin_id = grouped
    out = _export(lib, rid, "pdf", tmp_path / "r.pdf")
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(str(out)).pages)
    assert "3, 4 photos" in text  # check-ins, not photos, are counted
    assert "2 shots" in text and "repeat 0.73" in text
    table = text[text.index("Measurements per check-in") : text.index("Negative ΔL*")]
    assert table.count("2025-") == 3, table  # one row per check-in
