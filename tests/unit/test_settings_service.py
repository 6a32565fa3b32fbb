"""library.settings: ChangeSettings in the library (keys, defaults, bad values, migration)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from skintrack.core.change import ChangeSettings
from skintrack.library import settings as svc


@pytest.fixture
def lib(library_dir: Path):
    from skintrack.library.db import Library

    with Library.open(library_dir) as lib:
        yield lib


def test_keys_are_the_schema_field_names() -> None:
    assert svc.setting_keys() == tuple(f.name for f in dataclasses.fields(ChangeSettings))
    assert "noise_k" in svc.setting_keys() and "threshold_L" in svc.setting_keys()


def test_an_empty_library_gives_the_schema_defaults(lib) -> None:
    assert svc.load_settings(lib) == ChangeSettings()
    assert svc.load_settings(None) == ChangeSettings()


def test_save_stores_only_changes_and_load_reads_them_back(lib) -> None:
    assert not svc.save_settings(lib, ChangeSettings())
    assert lib.get_setting("noise_k") is None  # defaults are not written down
    wanted = dataclasses.replace(ChangeSettings(), threshold_L=4.5, noise_k=2.5, illumination_degree=1)
    assert svc.save_settings(lib, wanted)
    assert svc.load_settings(lib) == wanted
    assert lib.get_setting("noise_k") == 2.5
    assert not svc.save_settings(lib, wanted)


def test_overrides_win_and_bad_overrides_raise(lib) -> None:
    lib.set_setting("threshold_L", 4.0)
    s = svc.load_settings(lib, {"threshold_L": "5", "noise_k": None})
    assert s.threshold_L == 5.0 and s.noise_k == ChangeSettings().noise_k
    with pytest.raises(ValueError, match="threshold_L"):
        svc.load_settings(lib, {"threshold_L": "dark"})
    with pytest.raises(ValueError, match="unknown setting"):
        svc.load_settings(lib, {"threshold": 3})


def test_a_bad_stored_value_falls_back_to_the_default_and_is_logged(lib, caplog) -> None:
    svc.migrate(lib)
    lib.set_setting("threshold_L", "very dark")
    lib.set_setting("illumination_degree", 1.5)
    s = svc.load_settings(lib)
    assert s.threshold_L == ChangeSettings().threshold_L
    assert s.illumination_degree == ChangeSettings().illumination_degree
    assert "threshold_L" in caplog.text and "illumination_degree" in caplog.text


def test_migration_rewrites_old_values_with_their_field_types(lib) -> None:
    # what the preferences dialog and the old analysis service wrote: floats for every key
    lib.set_setting("threshold_L", 4)
    lib.set_setting("illumination_degree", 1.0)
    lib.set_setting("analysis_side", "1200")
    lib.set_setting("noise_k", "not a number")
    assert lib.get_setting(svc.SETTINGS_VERSION_KEY) is None
    assert svc.migrate(lib) == svc.SETTINGS_VERSION
    assert lib.get_setting(svc.SETTINGS_VERSION_KEY) == svc.SETTINGS_VERSION
    assert lib.get_setting("threshold_L") == 4.0 and isinstance(lib.get_setting("threshold_L"), float)
    assert lib.get_setting("illumination_degree") == 1 and isinstance(
        lib.get_setting("illumination_degree"), int
    )
    assert lib.get_setting("analysis_side") == 1200
    assert lib.get_setting("noise_k") == "not a number"  # left alone: the default applies, nothing lost
    s = svc.load_settings(lib)
    assert (s.threshold_L, s.illumination_degree, s.analysis_side) == (4.0, 1, 1200)
    assert s.noise_k == ChangeSettings().noise_k


def test_load_migrates_a_library_once(lib, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(svc, "MIGRATIONS", (lambda store: calls.append(store),))
    svc.load_settings(lib)
    svc.load_settings(lib)
    assert len(calls) == 1


def test_compare_uses_the_library_settings_when_there_is_a_library(lib, library_dir, tmp_path) -> None:
    import argparse

    from skintrack.commands import measure_cmds

    lib.set_setting("threshold_L", 5.5)
    assert measure_cmds._settings(argparse.Namespace(library=str(library_dir))).threshold_L == 5.5
    nowhere = argparse.Namespace(library=str(tmp_path / "no-library"))
    assert measure_cmds._settings(nowhere) == ChangeSettings()
    assert not (tmp_path / "no-library").exists()  # compare never creates a library
