"""Deleting a region for good, once no photo (not even one in the trash) belongs to it.

Rows of other tables that name the region without ``ON DELETE CASCADE`` (the region's dated
check-ins, say) hold nothing once its photos are gone; they are found from the schema's foreign
keys, so a table added later is covered without a change here.
"""

from __future__ import annotations

import sqlite3

from skintrack.errors import UsageError
from skintrack.library.db import Library


def _dependents(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table, column) pairs that reference ``region(id)`` and do not cascade."""
    found: list[tuple[str, str]] = []
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for fk in conn.execute(f'PRAGMA foreign_key_list("{table}")'):
            # columns: id, seq, table, from, to, on_update, on_delete, match
            if fk[2] == "region" and str(fk[6]).upper() != "CASCADE" and table != "photo":
                found.append((table, fk[3]))
    return found


def delete_empty_region(lib: Library, region_id: int) -> bool:
    """Delete the region when it has no photos at all; False (and nothing changed) otherwise."""
    with lib.write_lock() as conn:
        if conn.execute("SELECT 1 FROM region WHERE id = ?", (region_id,)).fetchone() is None:
            raise UsageError(f"no region with id {region_id}")
        if conn.execute("SELECT 1 FROM photo WHERE region_id = ? LIMIT 1", (region_id,)).fetchone():
            return False
        for table, column in _dependents(conn):
            conn.execute(f'DELETE FROM "{table}" WHERE "{column}" = ?', (region_id,))
        conn.execute("DELETE FROM region WHERE id = ?", (region_id,))
    return True
