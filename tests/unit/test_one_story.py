"""Reading, badge, trend series and CSV state the same figure from one stored measurement."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from skintrack.core.reading import patch_delta_l, reading
from skintrack.export.data import to_csv
from skintrack.export.plan import plan_for_region
from skintrack.export.trend_series import trend_series
from support.export_library import make_library


def test_reading_badge_chart_and_csv_agree(tmp_path: Path) -> None:
    from skintrack.ui.delegates import indicator

    lib, rid, ids = make_library(tmp_path / "lib", tmp_path / "src", 4)
    with lib:
        stored = lib.measurement(ids[-1], ids[0])
        assert stored is not None
        depth = patch_delta_l(stored.metrics)
        assert depth is not None
        said = reading(stored.metrics)
        assert f"darker by {-depth:.1f} L* units" in said
        badge = indicator(stored.metrics, 3.0)[0]
        assert badge.startswith(f"\u2212{-depth:.1f} L*")
        series = trend_series(lib, rid)
        assert series.points[-1].patches("L") == depth
        rows = list(
            csv.DictReader(io.StringIO(to_csv(lib, plan_for_region(lib, rid, "csv")).decode("utf-8-sig")))
        )
    last = next(r for r in rows if r["photo_id"] == str(ids[-1]) and r["metric_set"] == "vs reference")
    assert float(last["patches_delta_L (L* units, area-weighted)"]) == round(depth, 2)


def test_badge_never_shows_negative_zero() -> None:
    from skintrack.ui.delegates import indicator

    assert indicator({"mean_delta_L": -0.04}, 3.0)[0] == "ΔL* 0.0"
