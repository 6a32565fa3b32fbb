"""The measurement settings of a library: one schema (``core.change.ChangeSettings``), one store.

Every setting that changes a measurement is stored in the library (``Library.set_setting``)
under its ChangeSettings field name, so it travels with backups and the CLI, the GUI and the
exports read the same values. Defaults are never written down here: they come from
``ChangeSettings()``. The stored layout has a version (``SETTINGS_VERSION_KEY``); ``migrate``
brings an older library forward once, before the first read.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

from skintrack.core.change import ChangeSettings

log = logging.getLogger(__name__)

SETTINGS_VERSION_KEY = "change_settings_version"
SETTINGS_VERSION = 1

SettingValue = bool | int | float | str  # the type of one ChangeSettings field


class SettingsStore(Protocol):
    """What the service needs from a library (``skintrack.library.db.Library`` has it)."""

    def get_setting(self, key: str, default: object = None) -> object: ...

    def set_setting(self, key: str, value: SettingValue) -> None: ...


def setting_keys() -> tuple[str, ...]:
    """The user-facing keys: ChangeSettings' field names, in schema order."""
    return tuple(f.name for f in dataclasses.fields(ChangeSettings))


def defaults() -> ChangeSettings:
    return ChangeSettings()


def coerce(key: str, value: object) -> SettingValue:
    """``value`` as the type of field ``key`` (ValueError naming the key when it does not fit)."""
    default = getattr(ChangeSettings(), key)
    kind = type(default)
    try:
        if kind is bool:
            truthy = str(value).strip().lower() in ("1", "true", "yes")
            out: SettingValue = value if isinstance(value, bool) else truthy
        elif kind is int:
            as_float = float(value)
            if not math.isfinite(as_float) or as_float != round(as_float):
                raise ValueError
            out = round(as_float)
        elif kind is float:
            out = float(value)
            if not math.isfinite(out):
                raise ValueError
        else:
            out = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"setting {key!r}: {value!r} is not a valid {kind.__name__}") from None
    return out


def _stored_values(lib: SettingsStore) -> Iterator[tuple[str, object, SettingValue]]:
    """(key, stored value, value as its field's type) of every stored setting that fits its field.

    A value that does not fit is logged and left out, so the field's default applies.
    """
    missing = object()
    for key in setting_keys():
        raw = lib.get_setting(key, missing)
        if raw is missing or raw is None:
            continue
        try:
            value = coerce(key, raw)
        except ValueError as exc:
            log.warning("%s; the default %r applies", exc, getattr(ChangeSettings(), key))
            continue
        yield key, raw, value


def _migrate_to_1(lib: SettingsStore) -> None:
    """Layout 1: one key per ChangeSettings field, holding a value of the field's type.

    Libraries without a version stored numbers as floats whatever the field (an illumination
    degree of 2.0) and only the keys the preferences dialog knew; values that fit are rewritten
    with their field's type, values that do not are dropped (the default applies) and logged.
    """
    for key, raw, value in _stored_values(lib):
        if value != raw or type(value) is not type(raw):
            lib.set_setting(key, value)


MIGRATIONS: tuple[Callable[[SettingsStore], None], ...] = (_migrate_to_1,)
assert len(MIGRATIONS) == SETTINGS_VERSION


def migrate(lib: SettingsStore) -> int:
    """Run the settings migrations the library has not had yet; returns the version reached."""
    try:
        version = int(lib.get_setting(SETTINGS_VERSION_KEY, 0) or 0)
    except (TypeError, ValueError):
        version = 0
    if version >= SETTINGS_VERSION:
        return version
    for step in MIGRATIONS[version:]:
        step(lib)
    lib.set_setting(SETTINGS_VERSION_KEY, SETTINGS_VERSION)
    return SETTINGS_VERSION


def load_settings(
    lib: SettingsStore | None = None, overrides: Mapping[str, object] | None = None
) -> ChangeSettings:
    """ChangeSettings from the library (defaults for keys it does not have), then ``overrides``.

    A stored value that does not fit its field is logged and replaced by the default; an
    override that does not fit raises ValueError (it comes from the user right now).
    """
    values: dict[str, SettingValue] = {}
    if lib is not None:
        if int(lib.get_setting(SETTINGS_VERSION_KEY, 0) or 0) < SETTINGS_VERSION:
            migrate(lib)
        values.update((key, value) for key, _raw, value in _stored_values(lib))
    for key, raw in (overrides or {}).items():
        if raw is None:
            continue
        if key not in setting_keys():
            raise ValueError(f"unknown setting {key!r} (known: {', '.join(setting_keys())})")
        values[key] = coerce(key, raw)
    return ChangeSettings(**values)


def save_settings(lib: SettingsStore, settings: ChangeSettings) -> bool:
    """Store the fields that differ from what the library holds; True when something changed."""
    old = load_settings(lib)
    changed = False
    for key in setting_keys():
        new = coerce(key, getattr(settings, key))
        if new != getattr(old, key):
            lib.set_setting(key, new)
            changed = True
    return changed


def settings_digest_basis(settings: ChangeSettings) -> dict[str, SettingValue]:
    """Every setting, by key: what a stored measurement's staleness hash covers."""
    return {key: getattr(settings, key) for key in setting_keys()}
