"""Small read queries the layers above need: GeoPackage registration and integrity, and date spans.

Raw SQL lives in ``layers`` only; ``audit`` (the workspace check, annotations)
and ``gui`` call these instead of writing their own.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from layers.migrations import ANNOTATIONS_TABLE

_INTERNAL_PREFIXES = ("gpkg_", "rtree_", "sqlite_", "lantern_replica")  # the last: a shared copy's own state


def read_only_connection(path: str | Path) -> sqlite3.Connection:
    """A read-only sqlite3 connection to the file at ``path`` (nothing written, no journal rolled back)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def first_read(path: str | Path) -> None:
    """Open ``path`` read-write and read it once: SQLite rolls back a hot journal at the first read."""
    conn = sqlite3.connect(path, timeout=5)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        conn.close()


def integrity_check(conn) -> list[tuple]:
    """SQLite's ``PRAGMA integrity_check`` rows (``[("ok",)]`` when intact)."""
    return conn.execute("PRAGMA integrity_check").fetchall()


def application_id(conn) -> int:
    return conn.execute("PRAGMA application_id").fetchone()[0]


def user_tables(conn) -> list[str]:
    """Every table but SQLite's, the GeoPackage's own and the R-tree indexes."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return [r[0] for r in rows if not r[0].startswith(_INTERNAL_PREFIXES)]


def registered_contents(conn) -> dict[str, str]:
    """gpkg_contents: table name -> data type (``features``, ``attributes``)."""
    return dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())


def geometry_tables(conn) -> set[str]:
    """The tables listed in gpkg_geometry_columns."""
    return {r[0] for r in conn.execute("SELECT table_name FROM gpkg_geometry_columns")}


def annotation_date_span(conn) -> tuple[str | None, str | None]:
    """The earliest and latest ``observed`` date of the annotations (None, None when there are none)."""
    first, last = conn.execute(f"SELECT min(observed), max(observed) FROM {ANNOTATIONS_TABLE}").fetchone()
    return first, last


def annotations_of(db, place_table: str, place_fid: int) -> list[dict]:
    """Every annotation of one place, newest first."""
    return list(db[ANNOTATIONS_TABLE].rows_where(
        "place_table = ? AND place_fid = ?", [place_table, int(place_fid)], order_by="observed DESC, id DESC"))


def annotations_where(db, date_from: str | None = None, date_to: str | None = None,
                      confidence: set[str] | None = None):
    """The annotations observed in [date_from, date_to] with one of the ``confidence`` levels (None: any)."""
    where, args = ["1 = 1"], []
    if date_from:
        where.append("observed >= ?")
        args.append(date_from)
    if date_to:
        where.append("observed <= ?")
        args.append(date_to)
    if confidence is not None:
        where.append(f"confidence IN ({', '.join('?' * len(confidence))})")
        args.extend(sorted(confidence))
    return db[ANNOTATIONS_TABLE].rows_where(" AND ".join(where), args)


def kept_feature_count(conn, table: str) -> int | None:
    """``gpkg_ogr_contents.feature_count`` of a table when GDAL's insert and delete triggers keep it
    current (both present, and a value set), else None: then count the rows."""
    names = {f"trigger_insert_feature_count_{table}", f"trigger_delete_feature_count_{table}"}
    try:
        found = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?)", tuple(names))}
        if found != names:
            return None
        row = conn.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE lower(table_name) = lower(?)",
                           (table,)).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None or row[0] is None else int(row[0])
