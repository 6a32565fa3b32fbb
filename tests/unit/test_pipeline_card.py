"""One measurement everywhere: two photos of a region with the printed calibration card.

``analyze --region`` must store calibration "card" and an area in mm², and the trend chart's
series, the CSV, the PDF, the compare view's pair and ``skintrack compare`` on the same two files
must all show the same numbers.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from skintrack.cli import main
from skintrack.core import colour
from skintrack.core.align import scale_matrix
from skintrack.core.card import CARD_SIZE_MM, render_card_rgb
from skintrack.demo import synth
from skintrack.library.db import Library
from skintrack.services import pipeline

PHOTO = (1200, 900)
CARD_PX = 380  # card width on the skin (body px = photo px at scale 1)
WATCHED = [[[330.0, 240.0], [870.0, 240.0], [870.0, 660.0], [330.0, 660.0]]]


def _body(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(skin, later skin with a grey-blue patch), linear reflectance, with the card taped on both."""
    pw, ph = PHOTO
    bw, bh = int(pw * 1.6), int(ph * 1.6)
    skin = synth.make_skin((bw, bh), seed=seed, hair_density=0.2)
    patch = synth.blob_mask((bw, bh), seed + 3, (bw / 2 + 20, bh / 2), 90.0)
    later = synth.darken(skin, patch, synth.Darkening(-8.0, "grey-blue"))
    card = render_card_rgb(dpi=CARD_PX / CARD_SIZE_MM[0] * 25.4)
    card_lin = colour.srgb_to_linear(card.astype(np.float32) / 255.0) * np.float32(0.85)  # paper, not a light
    ch, cw = card.shape[:2]
    y0, x0 = bh // 2 + 170, bw // 2 - 560  # lower left of the frame, clear of the watched area
    for body in (skin, later):
        body[y0 : y0 + ch, x0 : x0 + cw] = card_lin
    return skin, later


def _write(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("card_photos")
    skin, later = _body(seed=11)
    ref, _ = synth.photograph(skin, synth.Pose(), PHOTO, synth.Lighting(), seed=1)
    lighting = synth.Lighting(gain=0.88, white_balance=(1.05, 1.0, 0.93), gradient=(0.1, -0.06))
    moved, _ = synth.photograph(later, synth.Pose(rotation=4.0, shift=(25.0, -12.0)), PHOTO, lighting, seed=2)
    return _write(folder / "ref.jpg", ref), _write(folder / "later.jpg", moved)


@pytest.fixture(scope="module")
def analysed(photos, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A library with the two photos, analysed through the CLI."""
    root = tmp_path_factory.mktemp("card_library")
    with Library.open(root) as lib:
        rid = lib.add_region("forearm").id
        t0 = datetime(2025, 3, 1, 9, 0)
        ids = [
            lib.import_file(rid, p, taken_at=t0 + timedelta(days=42 * i)).photo.id
            for i, p in enumerate(photos)
        ]
        lib.set_areas(rid, watched=WATCHED)
    assert main(["--library", str(root), "analyze", "--region", "forearm"]) == 0
    return {"root": root, "region": rid, "ids": ids}


def _stored(analysed: dict) -> dict:
    with Library.open(analysed["root"], create=False) as lib:
        m = lib.measurement(analysed["ids"][1], analysed["ids"][0])
    assert m is not None
    return {"calibration": m.calibration, **m.metrics}


def test_analyze_stores_card_calibration_and_an_area_in_mm2(analysed) -> None:
    m = _stored(analysed)
    assert m["calibration"] == "card", m.get("notes")
    assert m["darkened_area_mm2"] is not None and m["darkened_area_mm2"] > 10
    assert m["patches"] and all(p["area_mm2"] is not None for p in m["patches"])
    assert m["card"]["ref_residual_delta_e_mean"] is not None


def test_compare_gives_the_same_numbers_as_the_stored_measurement(analysed, photos, tmp_path, capsys) -> None:
    roi = pipeline.rasterise(WATCHED, scale_matrix(1.0, 1.0), (PHOTO[1], PHOTO[0]))
    mask = tmp_path / "watched.png"
    cv2.imwrite(str(mask), roi.astype(np.uint8) * 255)
    capsys.readouterr()
    rc = main(
        [
            "--library",
            str(analysed["root"]),
            "compare",
            str(photos[0]),
            str(photos[1]),
            "--roi",
            str(mask),
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    m = _stored(analysed)
    assert out["calibration"] == m["calibration"] == "card"
    for key in (
        "darkened_area_mm2",
        "darkened_area_px",
        "darkened_fraction",
        "mean_delta_L",
        "noise_delta_L",
    ):
        assert out[key] == m[key], key
    assert out["alignment"]["homography"] == m["alignment"]["homography"]


def test_trend_chart_series_shows_the_stored_area(analysed) -> None:
    from skintrack.export.trend_series import trend_series

    m = _stored(analysed)
    with Library.open(analysed["root"], create=False) as lib:
        series = trend_series(lib, analysed["region"])
    later = next(p for p in series.points if not p.is_reference)
    assert later.area_mm2 == m["darkened_area_mm2"]
    assert later.value("L") == m["mean_delta_L"]
    values, label = series.area()
    assert "mm²" in label and values[-1] == m["darkened_area_mm2"]


def _export(analysed: dict, fmt: str, out: Path) -> Path:
    from skintrack.export.plan import ExportOptions, plan_for_region
    from skintrack.progress import CancelToken
    from skintrack.services.export import run_export

    with Library.open(analysed["root"], create=False) as lib:
        plan = plan_for_region(lib, analysed["region"], fmt, options=ExportOptions(size=400))
        for _ in run_export(lib, plan, out, CancelToken()):
            pass
    return out


def test_csv_shows_the_stored_numbers(analysed, tmp_path) -> None:
    m = _stored(analysed)
    text = _export(analysed, "csv", tmp_path / "m.csv").read_text(encoding="utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(text)) if r["metric_set"] == "vs reference"]
    assert len(rows) == 1
    assert rows[0]["calibration"] == "card"
    assert float(rows[0]["darkened_area_mm2 (mm²)"]) == m["darkened_area_mm2"]
    assert float(rows[0]["mean_delta_L (L* units)"]) == m["mean_delta_L"]


def test_pdf_shows_the_stored_numbers(analysed, tmp_path) -> None:
    import pypdf

    m = _stored(analysed)
    reader = pypdf.PdfReader(str(_export(analysed, "pdf", tmp_path / "r.pdf")))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    from skintrack.core import formatting

    assert formatting.area(m["darkened_area_mm2"]) in text  # the app's one area format (cm² from 100 mm²)
    assert formatting.signed(m["mean_delta_L"]) in text
    assert "card" in text and "calibration card in the photo" in text


def test_compare_view_pair_has_the_stored_numbers(analysed) -> None:
    from skintrack.services.analysis import aligned_pair

    m = _stored(analysed)
    a, b = analysed["ids"]
    with Library.open(analysed["root"], create=False) as lib:
        pair = aligned_pair(lib, analysed["region"], a, b)
    assert pair.change is not None and pair.change.calibration == "card"
    for key in ("darkened_area_mm2", "mean_delta_L", "noise_delta_L"):
        assert pair.metrics[key] == m[key], key
