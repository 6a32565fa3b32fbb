"""A fast subset of the region-matching benchmark: right proposals, nothing wrong marked sure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skintrack.core import images
from skintrack.demo import phone
from skintrack.services.region_match import RegionIndex


def _shared_data() -> Path:
    env = os.environ.get("SKINTRACK_SHARED_DATA")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    for parent in repo.parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    return repo.parent / "shared" / "data"


def _check(case: phone.MatchCase) -> None:
    index = RegionIndex.from_images(case.regions)
    for rgb, truth in case.photos:
        match = index.match(rgb)
        proposed = None if match.proposed is None else match.proposed.name
        assert proposed == truth
        assert match.sure == (truth is not None)
        assert 0.0 <= match.confidence <= 1.0


def test_synthetic_regions_are_recognised_and_unrelated_skin_is_not() -> None:
    _check(phone.synthetic_case(5, 1, 2, size=(640, 480)))


def test_real_photo_regions_are_recognised_and_unrelated_skin_is_not() -> None:
    folder = _shared_data() / "pad-ufes-20"
    files = sorted(folder.glob("*.jpg")) if folder.is_dir() else []
    if len(files) < 4:
        pytest.skip(f"needs PAD-UFES-20 photos in {folder} (set SKINTRACK_SHARED_DATA)")
    photos = [images.decode(f, max_side=800).rgb for f in (*files[:3], files[-1])]
    _check(phone.real_case(photos, 3, 1, 2))
