"""What a GIS program shows of a partner package is what was signed: a digest of the whole file.

The manifest signs the hash of every layer Lantern reads. But a recipient may open the same file in
QGIS, which also shows the outline copies, the styles (``layer_styles``), the value lists, the layers'
titles and extents in ``gpkg_contents``, metadata, R-trees (a missing entry hides a feature), triggers
(which fire when QGIS edits) and any table someone adds. Rather than list what QGIS reads — a list an
attacker only has to step outside of — the exporter signs a digest of everything in the file but the
manifest itself (``content`` in the manifest), and the importer recomputes it from the file as it is.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

MANIFEST_TABLE = "lantern_manifest"
#: system tables that hold a row about the manifest table itself, and the column naming it
_ABOUT_TABLES = {"gpkg_contents": "table_name", "gpkg_ogr_contents": "table_name", "gpkg_extensions": "table_name",
                 "gpkg_geometry_columns": "table_name", "gpkg_data_columns": "table_name", "sqlite_sequence": "name"}


def _schema(conn: sqlite3.Connection) -> list[tuple]:
    """Every object of the file (tables, views, indexes, triggers) but the manifest table's own."""
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    return [r for r in rows if r[2].casefold() != MANIFEST_TABLE]


def content_digest(conn: sqlite3.Connection) -> str:
    """SHA-256 of the file's content apart from the manifest: every object's definition, then every row of
    every table (virtual tables through their shadow tables) in rowid order, values with their types."""
    digest = hashlib.sha256()
    schema = _schema(conn)
    for row in schema:
        digest.update(json.dumps(row).encode("utf-8"))
    for kind, name, _table, sql in schema:
        if kind != "table" or (sql or "").upper().startswith("CREATE VIRTUAL TABLE"):
            continue
        about = _ABOUT_TABLES.get(name)
        where = f' WHERE lower("{about}") != ?' if about else ""
        digest.update(b"\x00table\x00" + name.encode("utf-8"))
        params = (MANIFEST_TABLE,) if about else ()
        for row in conn.execute(f'SELECT * FROM "{name}"{where} ORDER BY rowid', params):
            digest.update(repr(row).encode("utf-8"))
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    """``content_digest`` of a file, read-only."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return content_digest(conn)
    finally:
        conn.close()
