"""Trend series from stored measurements + journal, and the Qt-free matplotlib figure."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from skintrack.export.chart import trend_figure
from skintrack.export.trend_series import trend_series
from skintrack.library import Library
from skintrack.library.models import MeasurementRecord

T0 = datetime(2026, 1, 10, 9, 0)


def metrics(dl: float, db: float, dita: float, area_mm2: float | None, **extra: object) -> dict:
    m = {
        "calibration": "card",
        "mean_delta_L": dl,
        "mean_delta_b": db,
        "mean_delta_ita": dita,
        "noise_delta_L": 0.8,
        "darkened_area_px": 100 * (area_mm2 or 0),
        "darkened_area_mm2": area_mm2,
        "darkened_fraction": 0.001 * (area_mm2 or 0),
        "patches": [],
    }
    m.update(extra)
    return m


def build(lib: Library, tmp: Path, n: int = 4, control: bool = False) -> tuple[int, list[int]]:
    region = lib.add_region("Forearm")
    ids = []
    rng = np.random.default_rng(0)
    for i in range(n):
        path = tmp / f"p{i}.png"
        cv2.imwrite(str(path), (rng.random((48, 64, 3)) * 255).astype(np.uint8))
        ids.append(lib.import_file(region.id, path, taken_at=T0 + timedelta(days=30 * i)).photo.id)
    lib.set_reference(region.id, ids[0])
    for i, pid in enumerate(ids[1:], start=1):
        extra = (
            {"control": {"mean_delta_L": -0.2 * i, "mean_delta_b": 0.1, "mean_delta_ita": -0.3}}
            if control
            else {}
        )
        lib.save_measurement(
            MeasurementRecord(
                pid, ids[0], "card", metrics(-1.5 * i, -0.7 * i, -2.0 * i, 5.0 * i, **extra), "t"
            )
        )
    # a measurement against another reference must not leak into the series
    lib.save_measurement(MeasurementRecord(ids[2], ids[1], "card", metrics(-99, 0, 0, 1), "t"))
    lib.add_journal(T0 + timedelta(days=5), "dose", substance="kratom", amount=4, unit="g")
    lib.add_journal(T0 + timedelta(days=40), "sun", notes="beach")
    lib.add_journal(T0 - timedelta(days=400), "dose", substance="old")  # outside the range
    return region.id, ids


def test_series_values_reference_and_journal(library_dir: Path, tmp_path: Path) -> None:
    with Library.open(library_dir) as lib:
        rid, ids = build(lib, tmp_path)
        s = trend_series(lib, rid)
    assert s.region_name == "Forearm" and s.reference_id == ids[0]
    assert [p.photo_id for p in s.points] == ids
    assert s.points[0].is_reference
    assert s.values("L") == pytest.approx([0.0, -1.5, -3.0, -4.5])
    assert s.values("b") == pytest.approx([0.0, -0.7, -1.4, -2.1])
    assert s.values("ITA") == pytest.approx([0.0, -2.0, -4.0, -6.0])
    area, label = s.area()
    assert area == pytest.approx([0.0, 5.0, 10.0, 15.0]) and "mm²" in label
    assert [j.kind for j in s.journal] == ["dose", "sun"]
    assert "kratom" in s.journal[0].label and "4 g" in s.journal[0].label
    assert not s.has_control and s.controls("L") == [None] * 4
    assert s.threshold_L == 3.0


def test_control_patch_series(library_dir: Path, tmp_path: Path) -> None:
    with Library.open(library_dir) as lib:
        rid, _ = build(lib, tmp_path, control=True)
        s = trend_series(lib, rid)
    assert s.has_control
    assert s.controls("L") == pytest.approx([0.0, -0.2, -0.4, -0.6])


def test_unmeasured_photos_are_left_out(library_dir: Path, tmp_path: Path) -> None:
    with Library.open(library_dir) as lib:
        rid, ids = build(lib, tmp_path)
        path = tmp_path / "late.png"
        cv2.imwrite(str(path), np.zeros((10, 10, 3), np.uint8) + 100)
        lib.import_file(rid, path, taken_at=T0 + timedelta(days=200))
        s = trend_series(lib, rid)
    assert len(s.points) == len(ids)


@pytest.mark.parametrize("metric", ["L", "b", "ITA"])
def test_figure_png_and_svg(library_dir: Path, tmp_path: Path, metric: str) -> None:
    with Library.open(library_dir) as lib:
        rid, _ = build(lib, tmp_path, control=True)
        s = trend_series(lib, rid)
    fig = trend_figure(s, metric)
    gids = {a.get_gid() for ax in fig.axes for a in [*ax.lines, *ax.collections, *ax.patches]}
    assert {"watched", "control", "journal-dose", "journal-sun", "area"} <= gids
    if metric == "L":
        assert "noise-band" in gids
        assert "threshold" not in gids  # a per-pixel threshold does not belong on a chart of means
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png")
    fig.savefig(svg, format="svg")
    assert png.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.getvalue()[:500]


def test_figure_reuse_and_empty(library_dir: Path) -> None:
    with Library.open(library_dir) as lib:
        region = lib.add_region("Empty")
        s = trend_series(lib, region.id)
    assert s.points == []
    fig = trend_figure(s, "L")
    again = trend_figure(s, "b", fig=fig)
    assert again is fig and len(fig.axes) == 1
    with pytest.raises(ValueError):
        trend_figure(s, "a*")


def test_module_is_qt_and_pyplot_free() -> None:
    import skintrack.export.chart as chart

    text = Path(chart.__file__).read_text()
    assert "import matplotlib.pyplot" not in text and "from matplotlib import pyplot" not in text
    assert "PySide6" not in text
