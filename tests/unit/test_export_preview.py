"""services.export_preview: each format previews what it exports; captions name the real sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from skintrack.errors import Cancelled
from skintrack.export.plan import ExportOptions, plan_for_region
from skintrack.progress import CancelToken
from skintrack.services.export_preview import animation_picks, render_export_preview, spread_picks
from support.export_library import make_library


@pytest.fixture
def lib(tmp_path: Path):
    lib, rid, ids = make_library(tmp_path / "lib", tmp_path / "src", 5)
    yield lib, rid, ids
    lib.close()


def test_picks() -> None:
    assert animation_picks(0) == [] and animation_picks(1) == [0] and animation_picks(2) == [0, 1]
    assert animation_picks(5) == [0, 2, 4] and animation_picks(12) == [0, 5, 11]
    assert spread_picks(3, 8) == [0, 1, 2] and spread_picks(100, 3) == [0, 50, 99]


def test_each_format_previews_itself(lib) -> None:
    db, rid, _ = lib
    opts = ExportOptions(size=1200, frame_ms=400)
    gif = render_export_preview(db, plan_for_region(db, rid, "gif", options=opts))
    assert len(gif.images) == 3 and gif.frame_ms == 400
    assert "frames 1, 3, 5 of 5" in gif.caption and "2.0 s" in gif.caption
    assert max(gif.images[0].shape[:2]) <= 480  # small pixels whatever the export size
    sheet = render_export_preview(db, plan_for_region(db, rid, "contact-sheet", options=opts))
    assert len(sheet.images) == 1 and sheet.frame_ms == 0
    assert sheet.caption.startswith("Contact sheet: 5 check-ins in 2 × 3 tiles")
    pdf = render_export_preview(db, plan_for_region(db, rid, "pdf", options=opts))
    h, w = pdf.images[0].shape[:2]
    assert h > w and "5 check-ins" in pdf.caption
    archive = render_export_preview(db, plan_for_region(db, rid, "zip", options=opts))
    assert "5 aligned JPEGs, 1200 px, no EXIF" in archive.text and archive.images
    csv = render_export_preview(db, plan_for_region(db, rid, "csv"))
    assert csv.text.startswith("region,") and not csv.images and csv.rows[0][0] == "region"


def test_cancelled_preview_stops(lib) -> None:
    db, rid, _ = lib
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        render_export_preview(db, plan_for_region(db, rid, "gif", options=ExportOptions(size=160)), token)
