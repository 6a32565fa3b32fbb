"""The demo library in two phases: built (regions, photos, areas, journal), then analysed with progress."""

from __future__ import annotations

from pathlib import Path

from skintrack.core.reading import patch_delta_l
from skintrack.demo.build import REGIONS, analyse_demo_library, build_demo_library
from skintrack.library import Library


def test_demo_builds_then_analyses_as_a_separate_phase(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    build = build_demo_library(root, analyse=False)
    steps = []
    while True:
        try:
            steps.append(next(build))
        except StopIteration as stop:
            built = stop.value
            break
    assert built["photos"] == sum(r.check_ins for r in REGIONS)
    assert steps[-1].done == steps[-1].total
    with Library.open(root, create=False) as lib:
        regions = [s.region for s in lib.list_regions()]
        assert sorted(r.name for r in regions) == sorted(r.name for r in REGIONS)
        assert all(r.reference_photo_id is not None for r in regions)
        assert not any(lib.measurements_for_region(r.id) for r in regions)  # nothing analysed yet

    analysis = analyse_demo_library(root)
    done: list[float] = []
    while True:
        try:
            done.append(next(analysis).fraction)
        except StopIteration as stop:
            result = stop.value
            break
    assert done == sorted(done) and done[-1] == 1.0
    assert result["failed"] == 0
    with Library.open(root, create=False) as lib:
        depth = {}
        for s in lib.list_regions():
            r = s.region
            photos = lib.list_photos(r.id)
            last = lib.measurement(photos[-1].id, r.reference_photo_id)
            assert last is not None, r.name
            depth[r.name] = patch_delta_l(last.metrics)
    # the darkening patches are found, the unchanged cheek has none
    assert depth["Left forearm"] is not None and depth["Left forearm"] < -5.0
    assert depth["Back of left hand"] is not None and depth["Back of left hand"] < -4.0
    assert depth["Right cheek"] is None
