"""Registered, transactional schema migrations of the workspace file.

Each migration is a function of a sqlite3 connection, registered under the
schema version it produces. ``migrate`` applies the pending ones in order,
each in its own transaction, and records the new version; a failing
migration rolls back and leaves the file at the previous version.
"""
from __future__ import annotations

import sqlite3
from typing import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]
_MIGRATIONS: dict[int, Migration] = {}

META_TABLE = "workspace_meta"
LAYER_INFO_TABLE = "layer_info"


def migration(version: int):
    """Register ``fn`` as the step that brings a workspace to ``version``."""

    def register(fn: Migration) -> Migration:
        if version in _MIGRATIONS:
            raise ValueError(f"two migrations for schema version {version}")
        _MIGRATIONS[version] = fn
        return fn

    return register


def latest_version() -> int:
    return max(_MIGRATIONS)


def register_attributes_table(conn: sqlite3.Connection, table: str, description: str = "") -> None:
    """Declare a non-spatial table in gpkg_contents, as the GeoPackage spec asks."""
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)"
        " VALUES (?, 'attributes', ?, ?, NULL)",
        (table, table, description),
    )


def set_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.conn.execute(
        f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


def current_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (META_TABLE,)
    ).fetchone()
    if not exists:
        return 0
    row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key='schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(db: sqlite_utils.Database) -> list[int]:
    """Apply pending migrations; returns the versions applied."""
    applied = []
    for version in sorted(v for v in _MIGRATIONS if v > current_version(db.conn)):
        with db.atomic():  # one transaction per step: all of it or none of it
            _MIGRATIONS[version](db)
            set_meta(db, "schema_version", str(version))
        applied.append(version)
    return applied


@migration(1)
def _create_metadata_tables(db: sqlite_utils.Database) -> None:
    # GeoPackage requirement 119: attributes tables have an INTEGER PRIMARY KEY;
    # the natural keys get a UNIQUE index instead.
    conn = db.conn
    db[META_TABLE].create({"id": int, "key": str, "value": str}, pk="id", not_null={"key"}, if_not_exists=True)
    db[META_TABLE].create_index(["key"], unique=True, if_not_exists=True)
    register_attributes_table(conn, META_TABLE, "Lantern workspace metadata")
    db[LAYER_INFO_TABLE].create(
        {"id": int, "table_name": str, "synthetic": int, "source": str, "updated": str},
        pk="id",
        not_null={"table_name"},
        if_not_exists=True,
    )
    db[LAYER_INFO_TABLE].create_index(["table_name"], unique=True, if_not_exists=True)
    register_attributes_table(conn, LAYER_INFO_TABLE, "Origin of each layer's data")
