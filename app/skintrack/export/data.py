"""CSV and JSON of every stored measurement of a region, for spreadsheets and scripts.

One row per photo per metric set (a measurement against the region reference, against the
previous photo...), ISO 8601 dates, units in the CSV headers and in the JSON ``units`` map.
Photos without any measurement still get one row (empty metrics), so nothing looks missing.
Each row names the photo's check-in, its number of shots, whether this photo is the shot
measured for the check-in and the check-in's repeat noise.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime
from typing import Any

from skintrack import NOT_A_DIAGNOSIS, __version__
from skintrack.core.reading import patch_delta_l
from skintrack.export.checkin_rows import CheckinFacts, checkin_facts
from skintrack.export.plan import ExportPlan
from skintrack.library.db import Library
from skintrack.library.models import MeasurementRecord

#: (column, unit) in output order; metric columns are read from the measurement's metrics dict
COLUMNS: tuple[tuple[str, str], ...] = (
    ("region", ""),
    ("body_site", ""),
    ("photo_id", ""),
    ("checkin_id", ""),
    ("checkin_shots", "count"),
    ("measured_shot", ""),
    ("checkin_repeat_noise_L", "L* units"),
    ("taken_at", "ISO 8601"),
    ("original_name", ""),
    ("metric_set", ""),
    ("reference_photo_id", ""),
    ("reference_taken_at", "ISO 8601"),
    ("calibration", ""),
    ("alignment_ok", ""),
    ("alignment_method", ""),
    ("alignment_quality", "0-1"),
    ("mean_delta_L", "L* units"),
    ("mean_delta_b", "b* units"),
    ("mean_delta_ita", "degrees"),
    ("mean_delta_e2000", "CIEDE2000"),
    ("noise_delta_L", "L* units"),
    ("darkened_fraction", "fraction of compared area"),
    ("darkened_area_px", "px"),
    ("darkened_area_mm2", "mm²"),
    ("patch_count", "count"),
    ("patches_delta_L", "L* units, area-weighted"),
    ("patch_kinds", ""),
    ("uniform_change_measurable", ""),
    ("algorithm_version", ""),
)
METRIC_KEYS = (
    "mean_delta_L",
    "mean_delta_b",
    "mean_delta_ita",
    "mean_delta_e2000",
    "noise_delta_L",
    "darkened_fraction",
    "darkened_area_px",
    "darkened_area_mm2",
    "uniform_change_measurable",
)
_SKIP_EXTRA = {"alignment", "patches", "calibration", "mask", "delta_L", "delta_b", "compared_mask"}


def header(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()


def _plain(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _metric_set(reference_id: int, region_ref: int | None, previous_id: int | None) -> str:
    if reference_id == region_ref:
        return "vs reference"
    if reference_id == previous_id:
        return "vs previous"
    return f"vs photo {reference_id}"


def _checkin_columns(fact: CheckinFacts | None) -> dict[str, Any]:
    if fact is None:
        return {}
    return {
        "checkin_id": fact.checkin_id,
        "checkin_shots": fact.shots,
        "measured_shot": fact.measured_shot,
        "checkin_repeat_noise_L": _rounded(fact.repeat_noise_L),
    }


def measurement_rows(lib: Library, plan: ExportPlan) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows (plain dicts keyed by column name) and the names of extra scalar metric columns."""
    photos = {p.id: p for p in lib.list_photos(plan.region_id)}
    order = [p.id for p in photos.values()]
    wanted = set(plan.photo_ids)
    facts = checkin_facts(lib, plan.region_id, plan.reference_id)
    by_photo: dict[int, list[MeasurementRecord]] = {}
    for m in lib.measurements_for_region(plan.region_id):
        by_photo.setdefault(m.photo_id, []).append(m)
    rows: list[dict[str, Any]] = []
    extras: set[str] = set()
    for planned in plan.photos:
        photo = photos.get(planned.photo_id)
        if photo is None or photo.id not in wanted:
            continue
        idx = order.index(photo.id)
        previous_id = order[idx - 1] if idx > 0 else None
        base = {
            "region": plan.region_name,
            "body_site": plan.body_site,
            "photo_id": photo.id,
            **_checkin_columns(facts.get(photo.id)),
            "taken_at": _iso(photo.taken_at),
            "original_name": photo.original_name,
        }
        records = sorted(
            by_photo.get(photo.id, []), key=lambda m: (m.reference_id != plan.reference_id, m.reference_id)
        )
        if not records:
            rows.append({**base, "metric_set": "reference" if planned.is_reference else "not measured"})
            continue
        for m in records:
            metrics = m.metrics or {}
            ref = photos.get(m.reference_id)
            al = lib.alignment(photo.id, m.reference_id)
            row = {
                **base,
                "metric_set": _metric_set(m.reference_id, plan.reference_id, previous_id),
                "reference_photo_id": m.reference_id,
                "reference_taken_at": _iso(ref.taken_at) if ref is not None else None,
                "calibration": m.calibration,
                "alignment_ok": None if al is None else bool(al.ok),
                "alignment_method": None if al is None else al.method,
                "alignment_quality": None if al is None else round(float(al.quality), 4),
                "patch_count": len(metrics.get("patches") or []),
                "patches_delta_L": _rounded(patch_delta_l(metrics)),
                "patch_kinds": " ".join(str(p.get("kind", "")) for p in metrics.get("patches") or []) or None,
                "algorithm_version": m.algorithm_version,
            }
            for key in METRIC_KEYS:
                row[key] = _plain(metrics.get(key))
            for key, value in metrics.items():
                if key in row or key in _SKIP_EXTRA:
                    continue
                if isinstance(value, (int, float, str, bool)) or value is None:
                    row[key] = _plain(value)
                    extras.add(key)
            row["_patches"] = metrics.get("patches") or []
            rows.append(row)
    return rows, sorted(extras)


def to_csv(lib: Library, plan: ExportPlan) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheet programs read ``ΔL``/``mm²`` right)."""
    rows, extras = measurement_rows(lib, plan)
    names = [c for c, _ in COLUMNS] + extras
    units = dict(COLUMNS)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([header(n, units.get(n, "")) for n in names])
    for row in rows:
        writer.writerow(["" if row.get(n) is None else row.get(n) for n in names])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_json(lib: Library, plan: ExportPlan) -> bytes:
    rows, extras = measurement_rows(lib, plan)
    units = {c: u for c, u in COLUMNS if u}
    out_rows = []
    for row in rows:
        clean = {k: v for k, v in row.items() if not k.startswith("_")}
        clean["patches"] = row.get("_patches", [])
        out_rows.append(clean)
    doc = {
        "format": "skintrack-measurements",
        "version": 1,
        "app_version": __version__,
        "region": {"id": plan.region_id, "name": plan.region_name, "body_site": plan.body_site},
        "reference_photo_id": plan.reference_id,
        "date_range": {
            "from": plan.start.isoformat() if plan.start else None,
            "to": plan.end.isoformat() if plan.end else None,
        },
        "units": units,
        "extra_columns": extras,
        "notice": NOT_A_DIAGNOSIS,
        "rows": out_rows,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str).encode("utf-8")
