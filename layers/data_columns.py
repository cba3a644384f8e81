"""The workspace's schema described for every GIS: the GeoPackage schema extension (``gpkg_schema``).

``gpkg_data_columns`` gives each column of a catalogue layer (and of a place kind's outline view)
its label in the user's language; a choice field (``enum``) names an enum constraint in
``gpkg_data_column_constraints``: one row per allowed value, the stored value with its label. GDAL
reads such a constraint as a coded field domain, so QGIS, ogrinfo and every GDAL program see the value
list, not free text. (A ``multi_enum`` field holds a JSON list, which no enum constraint describes:
its description lists the values.)

Lantern's rows are the layers' own rows and the constraints named ``lantern_…``; rows others added
stay. Written again when the language changes (``write_data_columns`` is idempotent).
"""
from __future__ import annotations

import sqlite3

from layers.catalogue import EXTRA_COLUMN, Field, LayerKind
from layers.i18n import SUPPORTED, _, using
from layers.qgis_styles import StyledLayer, column_alias, styled_layers, table_columns

EXTENSION = "gpkg_schema"
DEFINITION = "http://www.geopackage.org/spec130/#extension_schema"
CONSTRAINT_PREFIX = "lantern_"
#: the tables as GeoPackage 1.3 declares them (Annex F.9 / Table 23 and 25)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,"
    " name TEXT, title TEXT, description TEXT, mime_type TEXT, constraint_name TEXT,"
    " CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name), CONSTRAINT gdc_tn UNIQUE (table_name, name))",
    "CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL,"
    " constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC,"
    " max_is_inclusive BOOLEAN, description TEXT,"
    " CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))",
)


def constraint_name(kind_id: str, field_name: str) -> str:
    """The enum constraint of a kind's choice field (GDAL shows it as the field domain's name)."""
    return f"{CONSTRAINT_PREFIX}{kind_id}_{field_name}"


def ensure_tables(conn: sqlite3.Connection) -> None:
    """The two tables and their gpkg_extensions rows (GeoPackage req. for the schema extension)."""
    for sql in _SCHEMA:
        conn.execute(sql)
    conn.execute("CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,"
                 " extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,"
                 " CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))")
    for table in ("gpkg_data_columns", "gpkg_data_column_constraints"):
        if not conn.execute("SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND extension_name = ?",
                            (table, EXTENSION)).fetchone():
            conn.execute("INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)"
                         " VALUES (?, NULL, ?, ?, 'read-write')", (table, EXTENSION, DEFINITION))


def _description(f: Field | None, column: str, language: str) -> str | None:
    with using(language):
        if f is not None and f.type == "multi_enum":
            values = ", ".join(f"{c.id} ({getattr(c, language)})" for c in f.choices)
            return _("A list of values, stored as JSON: {values}").format(values=values)
        if f is not None and f.type == "month":
            return _("A month, stored as YYYY-MM")
        if f is None and column == EXTRA_COLUMN:
            return _("Attributes the layer does not declare, stored as JSON")
    return None


def column_rows(layer: StyledLayer, columns: list[str], language: str) -> list[tuple]:
    """gpkg_data_columns rows of a layer: (table, column, name, title, description, mime type, constraint).
    ``name`` and ``title`` are both the label: GDAL reads ``name`` as the field's alias (alternative name)."""
    k: LayerKind = layer.kind
    rows = []
    for column in columns:
        f = k.field(column) if column in k.field_names else None
        title = column_alias(k, column, language)
        if title is None:
            continue
        constraint = constraint_name(k.id, f.name) if f is not None and f.type == "enum" and f.choices else None
        # mime_type stays NULL: the spec keeps it for BLOBs, and GDAL would read 'application/json' text as a
        # JSON field, which QGIS then edits as a map
        rows.append((layer.table, column, title, title, _description(f, column, language), None, constraint))
    return rows


def constraint_rows(k: LayerKind, language: str) -> list[tuple]:
    """gpkg_data_column_constraints rows (enum) of a kind's choice fields: (name, 'enum', value, label)."""
    return [(constraint_name(k.id, f.name), "enum", c.id, getattr(c, language))
            for f in k.fields if f.type == "enum" for c in f.choices]


def write_data_columns(conn: sqlite3.Connection, language: str) -> int:
    """Describe every catalogue layer's and outline view's columns, in ``language``; returns the rows written.

    Replaces Lantern's own rows (its layers' columns, its ``lantern_…`` constraints) and leaves others', but
    drops rows of tables no longer in the file. Idempotent; no commit: inside the caller's transaction when
    there is one.
    """
    if language not in SUPPORTED:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(SUPPORTED)}")
    layers = [layer for layer in styled_layers(conn) if layer.kind is not None]
    columns = [row for layer in layers for row in column_rows(layer, table_columns(conn, layer.table), language)]
    kinds = {layer.kind.id: layer.kind for layer in layers}
    constraints = [row for k in kinds.values() for row in constraint_rows(k, language)]
    ensure_tables(conn)
    own = (len(CONSTRAINT_PREFIX), CONSTRAINT_PREFIX)
    conn.execute("DELETE FROM gpkg_data_column_constraints WHERE substr(constraint_name, 1, ?) = ?", own)
    conn.executemany("DELETE FROM gpkg_data_columns WHERE table_name = ? AND column_name = ?",
                     [row[:2] for row in columns])
    conn.execute("DELETE FROM gpkg_data_columns WHERE substr(constraint_name, 1, ?) = ?", own)
    # rows of tables that are gone (e.g. left out of an export) break GeoPackage req. 104, whoever wrote them
    conn.execute("DELETE FROM gpkg_data_columns WHERE table_name NOT IN (SELECT table_name FROM gpkg_contents)")
    # OR IGNORE: a name a user gave one of their own columns (GDAL 3.7+ keeps aliases here) stays theirs
    conn.executemany("INSERT OR IGNORE INTO gpkg_data_columns (table_name, column_name, name, title, description,"
                     " mime_type, constraint_name) VALUES (?, ?, ?, ?, ?, ?, ?)", columns)
    conn.executemany("INSERT INTO gpkg_data_column_constraints (constraint_name, constraint_type, value,"
                     " description) VALUES (?, ?, ?, ?)", constraints)
    return len(columns) + len(constraints)

