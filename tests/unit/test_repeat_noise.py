"""Repeat noise: ΔL* between aligned repeat shots of one check-in, measured with the pipeline on
generated photos with known noise, the best shot of a check-in, and the detection floor."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from skintrack.cli import main
from skintrack.core.quality import CheckResult, QualityReport, QualityThresholds
from skintrack.export.chart import trend_figure
from skintrack.export.trend_series import trend_series
from skintrack.library import Library, MeasurementRecord, RepeatNoiseRecord
from skintrack.library.quality_store import qualities_for_region, save_quality
from skintrack.library.settings import load_settings, save_settings
from skintrack.progress import run_steps
from skintrack.services import analysis, repeat_noise

W, H = 420, 320


def skin(seed: int) -> np.ndarray:
    """A textured skin-like picture (float RGB 0..255) an aligner can lock onto."""
    rng = np.random.default_rng(seed)
    lum = np.zeros((H + 40, W + 40), np.float32)
    for sigma, amp in ((20, 12.0), (5, 8.0), (1.5, 6.0)):
        n = cv2.GaussianBlur(rng.standard_normal(lum.shape).astype(np.float32), (0, 0), sigma)
        lum += amp * n / n.std()
    for _ in range(250):
        cv2.circle(lum, (int(rng.uniform(0, W + 40)), int(rng.uniform(0, H + 40))), 1, -25, -1)
    base = 150 + lum
    return np.stack([base, base * 0.78, base * 0.66], -1)


def shot(canvas: np.ndarray, shift: tuple[int, int], noise_l: float, seed: int) -> np.ndarray:
    """A crop of ``canvas`` with smooth lightness noise of standard deviation ``noise_l`` (L*)."""
    x, y = 20 + shift[0], 20 + shift[1]
    rgb = np.clip(canvas[y : y + H, x : x + W], 0, 255).astype(np.float32) / 255
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    if noise_l:
        n = cv2.GaussianBlur(
            np.random.default_rng(seed).standard_normal((H, W)).astype(np.float32), (0, 0), 6
        )
        lab[..., 0] += noise_l * n / n.std()
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255 + 0.5, 0, 255).astype(np.uint8)


def write(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 97])
    return path


@pytest.fixture
def lib(library_dir: Path):
    with Library.open(library_dir) as library:
        yield library


T0 = datetime(2025, 1, 1, 9, 0)


def add_checkin(lib: Library, region_id: int, paths: list[Path], day: int) -> int:
    checkin = lib.add_checkin(region_id)
    for i, path in enumerate(paths):
        when = T0 + timedelta(days=day, minutes=i)
        lib.import_file(region_id, path, taken_at=when, checkin_id=checkin.id)
    return checkin.id


# --------------------------------------------------------------------------- pure


def test_repeat_statistics_gives_the_spread_and_offset_of_known_noise() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(-1.5, 2.0, 20000)
    values[:50] = np.nan
    values[50:300] = 40.0  # a few outliers (a hair that moved) barely move a robust spread
    stats = repeat_noise.repeat_statistics(values)
    assert stats is not None
    assert stats.robust_std == pytest.approx(2.0, rel=0.06)
    assert stats.abs_mean == pytest.approx(abs(np.nanmean(values)), rel=1e-6)
    assert stats.pixels == 20000 - 50
    assert repeat_noise.repeat_statistics(np.ones(repeat_noise.MIN_PIXELS - 1)) is None


def test_region_noise_is_the_median_and_the_floor_is_k_times_it() -> None:
    from skintrack.core.change import ChangeSettings

    records = {
        i: RepeatNoiseRecord(i, {"robust_std_delta_L": v}, "repeat-1") for i, v in enumerate([0.5, 2.0, 1.0])
    }
    records[9] = RepeatNoiseRecord(9, {"robust_std_delta_L": None}, "repeat-1")
    assert repeat_noise.region_repeat_noise(records) == (1.0, 3)
    settings = ChangeSettings(threshold_L=3.0, repeat_noise_k=4.0)
    raised, info = repeat_noise.with_repeat_floor(settings, (1.0, 3))
    assert raised.threshold_L == 4.0 and info is not None and info["raised"] and info["k"] == 4.0
    kept, info = repeat_noise.with_repeat_floor(settings, (0.5, 1))
    assert kept.threshold_L == 3.0 and info is not None and not info["raised"]
    assert repeat_noise.with_repeat_floor(settings, None) == (settings, None)


# --------------------------------------------------------------------------- on photos


def test_repeat_noise_of_generated_shots_follows_their_known_noise(lib: Library, tmp_path: Path) -> None:
    canvas = skin(3)
    region = lib.add_region("Arm")
    add_checkin(lib, region.id, [write(tmp_path / "ref.jpg", shot(canvas, (0, 0), 0.0, 0))], 0)
    measured = {}
    for level in (0.5, 2.0):
        paths = [
            write(tmp_path / f"{level}-{i}.jpg", shot(canvas, (6 * i, -4 * i), level, int(10 * level) + i))
            for i in range(2)
        ]
        checkin = lib.checkin(add_checkin(lib, region.id, paths, 30 if level < 1 else 60))
        result = repeat_noise.measure_repeats(
            lib, lib.region(region.id), checkin, checkin.photo_ids[0], load_settings(lib)
        )
        assert result.alignments and result.alignments[0].ok  # the second shot was aligned
        measured[level] = result.record.metrics
    for level, metrics in measured.items():
        expected = math.sqrt(2) * level  # the difference of two shots, each with noise `level`
        assert metrics["robust_std_delta_L"] == pytest.approx(expected, rel=0.3)
        assert metrics["abs_mean_delta_L"] < 0.3 * expected
        assert metrics["pairs"] == 1 and metrics["area"] == "whole overlap"
    assert measured[2.0]["robust_std_delta_L"] > 2.5 * measured[0.5]["robust_std_delta_L"]


def test_analysis_stores_repeat_noise_and_raises_the_threshold(
    lib: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    canvas = skin(4)
    region = lib.add_region("Arm")
    add_checkin(lib, region.id, [write(tmp_path / "ref.jpg", shot(canvas, (0, 0), 0.0, 0))], 0)
    paths = [write(tmp_path / f"s{i}.jpg", shot(canvas, (5, 3 * i), 2.5, i)) for i in range(2)]
    checkin_id = add_checkin(lib, region.id, paths, 30)
    settings = load_settings(lib)
    settings.repeat_noise_k = 2.0
    save_settings(lib, settings)
    steps = []
    job = analysis.analyze_region(lib, region.id)
    while True:
        try:
            steps.append(next(job).message)
        except StopIteration:
            break
    # the repeat shots come first, so each of the 3 pairs is measured once, with the floor
    assert steps.count("measured the repeat shots") == 1
    assert sum(m.startswith("analysed ") for m in steps) == 3
    stored = lib.repeat_noise(checkin_id)
    assert stored is not None and stored.metrics["robust_std_delta_L"] > 2.0
    floor = 2.0 * stored.metrics["robust_std_delta_L"]
    for photo_id in lib.checkin(checkin_id).photo_ids:
        metrics = lib.measurement(photo_id, lib.region(region.id).reference_photo_id or 1).metrics
        assert metrics["repeat_noise"]["k"] == 2.0
        assert metrics["repeat_noise"]["floor_L"] == pytest.approx(floor, abs=0.051)
        assert metrics["thresholds"]["threshold_L"] == pytest.approx(floor, abs=0.051)
        assert any("repeat-shot noise" in note for note in metrics["notes"])
    # up to date: a second run measures nothing again
    report = run_steps(analysis.analyze_region(lib, region.id))
    assert report.analysed == 0
    # the CLI reports the same repeat noise and floor
    lib.close()
    assert main(["--library", str(lib.root), "analyze", "--region", "Arm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["repeat_noise"]["floor_L"] == pytest.approx(floor, abs=0.051)
    assert {r["checkin_id"] for r in out["photos"]} >= {checkin_id}
    assert main(["--library", str(lib.root), "analyze", "--region", "Arm"]) == 0
    assert "repeat-shot noise" in capsys.readouterr().out


def test_the_best_quality_shot_measures_the_check_in(lib: Library, tmp_path: Path) -> None:
    canvas = skin(5)
    region = lib.add_region("Arm")
    paths = [write(tmp_path / f"s{i}.jpg", shot(canvas, (i, 0), 0.0, i)) for i in range(3)]
    checkin = lib.checkin(add_checkin(lib, region.id, paths, 0))
    status = {checkin.photo_ids[0]: "fail", checkin.photo_ids[1]: "pass", checkin.photo_ids[2]: "warn"}
    for photo_id, overall in status.items():
        report = QualityReport({"sharpness": CheckResult("sharpness", 1.0, overall, "advice")})
        save_quality(lib, photo_id, report, QualityThresholds())
    photo_id, why = repeat_noise.best_shot(checkin, qualities_for_region(lib, region.id))
    assert photo_id == checkin.photo_ids[1]
    assert why == "best of 3 shots (quality pass)"
    assert repeat_noise.measured_shots(lib, region.id)[photo_id][0].id == checkin.id


# --------------------------------------------------------------------------- the trend chart


def _measurement(photo_id: int, reference_id: int, dl: float) -> MeasurementRecord:
    metrics = {"calibration": "card", "mean_delta_L": dl, "noise_delta_L": 0.4, "patches": []}
    return MeasurementRecord(photo_id, reference_id, "card", metrics, "t")


def _band(fig) -> tuple[str, float]:
    """The noise band's legend label and its half-height at the last check-in."""
    band = next(c for ax in fig.axes for c in ax.collections if c.get_gid() == "noise-band")
    top = max(
        float(y) for x, y in band.get_paths()[0].vertices if x == max(band.get_paths()[0].vertices[:, 0])
    )
    return band.get_label(), top


def test_chart_shows_one_point_per_check_in_and_the_repeat_noise_band(lib: Library, tmp_path: Path) -> None:
    canvas = skin(6)
    region = lib.add_region("Arm")
    ref = add_checkin(lib, region.id, [write(tmp_path / "ref.jpg", shot(canvas, (0, 0), 0.0, 0))], 0)
    paths = [write(tmp_path / f"s{i}.jpg", shot(canvas, (i + 2, 1), 0.0, i)) for i in range(2)]
    later = lib.checkin(add_checkin(lib, region.id, paths, 30))
    ref_id = lib.checkin(ref).photo_ids[0]
    lib.set_reference(region.id, ref_id)
    first, second = later.photo_ids
    save_quality(
        lib,
        first,
        QualityReport({"sharpness": CheckResult("sharpness", 1, "fail", "Blur")}),
        QualityThresholds(),
    )
    save_quality(
        lib,
        second,
        QualityReport({"sharpness": CheckResult("sharpness", 1, "pass", "")}),
        QualityThresholds(),
    )
    lib.save_measurement(_measurement(first, ref_id, -9.0))
    lib.save_measurement(_measurement(second, ref_id, -2.0))

    series = trend_series(lib, region.id)
    assert [p.photo_id for p in series.points] == [ref_id, second]  # the sharp shot, not the blurred one
    assert series.points[1].shot_note == "best of 2 shots (quality pass)"
    assert series.values("L") == [0.0, -2.0]
    label, top = _band(trend_figure(series, "L"))
    assert label.startswith("measurement noise") and top == pytest.approx(series.noise_k * 0.4)

    lib.save_repeat_noise(RepeatNoiseRecord(later.id, {"robust_std_delta_L": 1.2}, "repeat-1"))
    series = trend_series(lib, region.id)
    assert series.repeat_noise == 1.2 and series.points[1].repeat_noise == 1.2
    label, top = _band(trend_figure(series, "L"))
    assert label.startswith("repeat-shot noise") and top == pytest.approx(series.repeat_k * 1.2)


def test_analysis_is_one_progress_over_both_phases_and_decodes_each_photo_once(
    lib: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canvas = skin(5)
    region = lib.add_region("Arm")
    add_checkin(lib, region.id, [write(tmp_path / "ref.jpg", shot(canvas, (0, 0), 0.0, 0))], 0)
    paths = [write(tmp_path / f"r{i}.jpg", shot(canvas, (4, 2 * i), 1.5, 20 + i)) for i in range(2)]
    add_checkin(lib, region.id, paths, 30)
    decoded: list[str] = []
    real_load = analysis.pipeline.load

    def counting_load(path: object, *args: object, **kwargs: object) -> object:
        decoded.append(str(path))
        return real_load(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis.pipeline, "load", counting_load)
    steps = []
    job = analysis.analyze_region(lib, region.id)
    while True:
        try:
            steps.append(next(job))
        except StopIteration:
            break
    assert any(s.message == "measured the repeat shots" for s in steps)
    # shot pairs (1) and pairs (3: both shots vs the reference, the second vs the first) in one count
    assert {s.total for s in steps} == {4}
    done = [s.done for s in steps]
    assert done == sorted(done) and done[-1] == 4
    assert len(decoded) == len(set(decoded)) == 3  # the repeat pair used the analysis photo cache
