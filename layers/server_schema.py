"""How a workspace file's tables are laid out on a PostgreSQL/PostGIS server, and back.

Every table of the GeoPackage becomes a server table of the same name and columns: geometry columns as
PostGIS ``geometry(type, srid)`` (QGIS reads them as layers), the other columns by their declared SQLite
type (INTEGER/BOOLEAN as ``bigint``, REAL/DOUBLE/NUMERIC as ``double precision``, TEXT/DATE/DATETIME as
``text``, BLOB as ``bytea``). A table without an INTEGER PRIMARY KEY keeps its SQLite rowid in
``lantern_rowid``: the change log's row hashes are keyed by rowid. Every data row carries
``lantern_row_version``: the id of the server transaction that last wrote it, which copies compare to find
what changed since they were last in step, and conflicts.

What only SQLite has (the ``CREATE`` statements of tables, R-tree indexes and triggers) is kept verbatim in
``lantern_file_schema``, so a pull rebuilds the very same GeoPackage.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from layers.errors import ServerError
from layers.history_store import quote
from layers.i18n import _

FILE_SCHEMA_TABLE = "lantern_file_schema"
COLUMNS_TABLE = "lantern_file_columns"
ROWID_COLUMN = "lantern_rowid"
VERSION_COLUMN = "lantern_row_version"
SEQUENCE_TABLE = "lantern_sqlite_sequence"  # the file's sqlite_sequence (AUTOINCREMENT counters), kept

# Python types SQLite returns for the values a server column may hold (what round-trips exactly)
_ALLOWED = {"bigint": "integer", "double precision": "real", "text": "text", "bytea": "blob", "geometry": "blob"}


@dataclass(frozen=True)
class Column:
    name: str
    declared: str
    pg_type: str            # bigint, double precision, text, bytea, geometry
    srid: int | None = None  # geometry columns: the GeoPackage srs_id
    geometry_type: str = ""  # geometry columns: POINT, MULTIPOLYGON, GEOMETRY …
    not_null: bool = False   # declared NOT NULL in the file: the server refuses a NULL the file would


@dataclass(frozen=True)
class TableLayout:
    name: str
    columns: tuple[Column, ...]
    key: str  # the column holding the SQLite rowid on the server: the INTEGER PRIMARY KEY or ROWID_COLUMN
    unique: tuple[tuple[str, ...], ...] = ()  # the file's UNIQUE constraints and indexes (the server keeps them)

    @property
    def own_key(self) -> bool:
        """Whether the key is one of the table's own columns (an INTEGER PRIMARY KEY)."""
        return self.key != ROWID_COLUMN

    def server_columns(self) -> list[str]:
        """The columns read and written on the server, in order: the rowid column first when it is added."""
        names = [c.name for c in self.columns]
        return names if self.own_key else [ROWID_COLUMN, *names]


def pg_type(declared: str) -> str:
    """The server type for a declared SQLite column type (SQLite's affinity rules, section 3.1)."""
    d = declared.upper()
    if "INT" in d or d.startswith("BOOL"):
        return "bigint"
    if any(t in d for t in ("CHAR", "CLOB", "TEXT")) or d in ("DATE", "DATETIME", "TIMESTAMP"):
        return "text"
    if d == "" or "BLOB" in d:
        return "bytea"
    return "double precision"  # REAL, FLOAT, DOUBLE, and the other NUMERIC types


def _geometry_columns(conn: sqlite3.Connection) -> dict[tuple[str, str], tuple[str, int, int, int]]:
    rows = conn.execute("SELECT table_name, column_name, geometry_type_name, srs_id, z, m FROM gpkg_geometry_columns")
    return {(t, c): (str(g).upper(), int(s), int(z or 0), int(m or 0)) for t, c, g, s, z, m in rows}


def virtual_tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE 'CREATE VIRTUAL%'")
    return {r[0] for r in rows}


def shadow_tables(conn: sqlite3.Connection) -> set[str]:
    """The tables an R-tree (or other virtual table) keeps for itself: made again with it."""
    return {f"{v}_{s}" for v in virtual_tables(conn) for s in ("node", "parent", "rowid")}


def data_tables(conn: sqlite3.Connection) -> list[str]:
    """The tables whose rows go to the server: all but SQLite's own and the virtual tables' storage."""
    skipped = shadow_tables(conn) | virtual_tables(conn)
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
        if r[0] not in skipped]


def file_layout(conn: sqlite3.Connection, path_name: str) -> list[TableLayout]:
    """The layout of every data table of a workspace file; a ServerError for a table that cannot go."""
    geometry = _geometry_columns(conn)
    layouts = []
    for table in data_tables(conn):
        info = list(conn.execute(f"PRAGMA table_info({quote(table)})"))
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0] or ""
        if "WITHOUT ROWID" in sql.upper():
            raise ServerError(_("{file}: the table {table} has no row ids (WITHOUT ROWID) and cannot be shared")
                              .format(file=path_name, table=table))
        pks = [r for r in info if r[5]]
        key = pks[0][1] if len(pks) == 1 and str(pks[0][2]).upper() == "INTEGER" else ROWID_COLUMN
        columns = []
        for _cid, name, declared, not_null, *_rest in info:
            if name in (ROWID_COLUMN, VERSION_COLUMN):
                raise ServerError(_("{file}: the table {table} has a column named {column}, which Lantern keeps "
                                    "for itself on the server").format(file=path_name, table=table, column=name))
            g = geometry.get((table, name))
            if g:
                columns.append(Column(name, str(declared), "geometry", srid=g[1], geometry_type=_typmod(*g),
                                      not_null=bool(not_null)))
            else:
                columns.append(Column(name, str(declared), pg_type(str(declared)), not_null=bool(not_null)))
        layouts.append(TableLayout(table, tuple(columns), key, _unique_columns(conn, table)))
    return layouts


def _unique_columns(conn: sqlite3.Connection, table: str) -> tuple[tuple[str, ...], ...]:
    """The column lists of the table's UNIQUE constraints and unique indexes (not its primary key)."""
    found = []
    for _seq, name, unique, origin, *_rest in conn.execute(f"PRAGMA index_list({quote(table)})"):
        if unique and origin != "pk":
            found.append(tuple(r[2] for r in conn.execute(f"PRAGMA index_info({quote(name)})")))
    return tuple(found)


def _typmod(geometry_type: str, srs_id: int, z: int, m: int) -> str:
    base = {"GEOMETRYCOLLECTION": "GeometryCollection", "MULTIPOINT": "MultiPoint",
            "MULTILINESTRING": "MultiLineString", "MULTIPOLYGON": "MultiPolygon", "POINT": "Point",
            "LINESTRING": "LineString", "POLYGON": "Polygon"}.get(geometry_type, "Geometry")
    return base + ("Z" if z == 1 else "") + ("M" if m == 1 else "")


def value_problems(conn: sqlite3.Connection, layout: TableLayout) -> list[str]:
    """Columns holding values of another type than their declaration (SQLite allows it; the server does not)."""
    problems = []
    for c in layout.columns:
        found = {r[0] for r in conn.execute(
            f"SELECT DISTINCT typeof({quote(c.name)}) FROM {quote(layout.name)} WHERE {quote(c.name)} IS NOT NULL")}
        stray = found - {_ALLOWED[c.pg_type]}
        if stray:
            problems.append(_("{table}.{column} is declared {declared} but holds {kinds} values").format(
                table=layout.name, column=c.name, declared=c.declared or "BLOB", kinds=", ".join(sorted(stray))))
    return problems


# -- server DDL -------------------------------------------------------------------------------------------------


def _server_type(c: Column, known_srids: set[int]) -> str:
    if c.pg_type != "geometry":
        return c.pg_type
    srid = c.srid if c.srid in known_srids else 0
    return f"geometry({c.geometry_type}, {srid})"


def create_table_sql(layout: TableLayout, known_srids: set[int]) -> str:
    cols = [] if layout.own_key else [f"{ROWID_COLUMN} bigint PRIMARY KEY"]
    for c in layout.columns:
        pk = " PRIMARY KEY" if c.name == layout.key else (" NOT NULL" if c.not_null else "")
        cols.append(f"{quote(c.name)} {_server_type(c, known_srids)}{pk}")
    cols.append(f"{VERSION_COLUMN} bigint NOT NULL DEFAULT pg_current_xact_id()::text::bigint")
    cols += [f"UNIQUE ({', '.join(map(quote, names))})" for names in layout.unique if names]
    return f"CREATE TABLE {quote(layout.name)} ({', '.join(cols)})"


def literal(text: str) -> str:
    """``text`` as an SQL string literal (for statements built as text: names of tables never run as SQL)."""
    return "'" + str(text).replace("'", "''") + "'"


TOMBSTONES_TABLE = "lantern_tombstones"
BLOCKS_TABLE = "lantern_id_blocks"
WRITE_LOCK_TABLE = "lantern_write_lock"  # locked (EXCLUSIVE) by every writer of the history while it appends
CHANNEL_TABLE = "lantern_channel"  # the name of the notification channel: a secret of those who may hear it

BOOKKEEPING_SQL = f"""
CREATE TABLE {FILE_SCHEMA_TABLE} (
    ord integer PRIMARY KEY, type text NOT NULL, name text NOT NULL, tbl_name text NOT NULL, sql text);
CREATE TABLE {COLUMNS_TABLE} (
    table_name text NOT NULL, ord integer NOT NULL, column_name text NOT NULL, declared text NOT NULL,
    server_type text NOT NULL, srid integer, key_column text NOT NULL, PRIMARY KEY (table_name, ord));
CREATE TABLE {SEQUENCE_TABLE} (name text PRIMARY KEY, seq bigint NOT NULL);
CREATE TABLE {TOMBSTONES_TABLE} (table_name text NOT NULL, row_key bigint NOT NULL, version bigint NOT NULL,
                                 PRIMARY KEY (table_name, row_key));
CREATE INDEX {TOMBSTONES_TABLE}_version ON {TOMBSTONES_TABLE} (version);
CREATE TABLE {BLOCKS_TABLE} (block bigint PRIMARY KEY, claimed_by text NOT NULL DEFAULT session_user,
                             claimed_at timestamptz NOT NULL DEFAULT now(), copy text NOT NULL);
INSERT INTO {BLOCKS_TABLE} (block, copy) VALUES (0, 'the ids of the workspace file first pushed');
CREATE TABLE {WRITE_LOCK_TABLE} (one boolean PRIMARY KEY DEFAULT true CHECK (one));
INSERT INTO {WRITE_LOCK_TABLE} VALUES (true);
CREATE TABLE {CHANNEL_TABLE} (name text NOT NULL);
INSERT INTO {CHANNEL_TABLE} VALUES ('lantern_' || md5(random()::text || clock_timestamp()::text));
CREATE OR REPLACE FUNCTION lantern_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp AS $$
DECLARE last_id bigint; last_hash text;
BEGIN
    SELECT id, hash INTO last_id, last_hash FROM change_log ORDER BY id DESC LIMIT 1;
    IF NEW.hash IS NULL OR NEW.id IS DISTINCT FROM coalesce(last_id, 0) + 1
       OR NEW.prev_hash IS DISTINCT FROM coalesce(last_hash, repeat('0', 64)) THEN
        RAISE EXCEPTION 'a history entry must follow the last one (entry %, after entry %)', NEW.id, last_id;
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION lantern_keep_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a row''s id does not change (delete it and add a new one): copies follow rows by id';
END $$;
CREATE OR REPLACE FUNCTION lantern_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.{VERSION_COLUMN} := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION lantern_tombstone() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp AS $$
DECLARE k bigint;
BEGIN
    IF TG_TABLE_SCHEMA <> 'public' THEN
        RAISE EXCEPTION 'lantern_tombstone() keeps the deletions of the workspace''s own tables only';
    END IF;
    EXECUTE format('SELECT ($1).%I', TG_ARGV[0]) INTO k USING OLD;
    INSERT INTO {TOMBSTONES_TABLE} VALUES (TG_TABLE_NAME, k, pg_current_xact_id()::text::bigint)
        ON CONFLICT (table_name, row_key) DO UPDATE SET version = excluded.version;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION lantern_notify() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_notify((SELECT name FROM {CHANNEL_TABLE}), TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION lantern_claim_block(label text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp AS $$
DECLARE b bigint;
BEGIN
    LOCK TABLE {BLOCKS_TABLE} IN EXCLUSIVE MODE;
    INSERT INTO {BLOCKS_TABLE} (block, copy) SELECT max(block) + 1, label FROM {BLOCKS_TABLE} RETURNING block INTO b;
    RETURN b;
END $$;
"""


def table_triggers_sql(layout: "TableLayout") -> str:
    """Row versions (the writing transaction's id) on insert and update, a tombstone on delete, and one
    notification per changed table per statement."""
    q = quote(layout.name)
    key = literal(layout.key)
    return (f"CREATE INDEX ON {q} ({VERSION_COLUMN});\n"
            f"CREATE TRIGGER lantern_version BEFORE INSERT OR UPDATE ON {q} FOR EACH ROW "
            "EXECUTE FUNCTION lantern_version();\n"
            f"CREATE TRIGGER lantern_tombstone AFTER DELETE ON {q} FOR EACH ROW "
            f"EXECUTE FUNCTION lantern_tombstone({key});\n"
            f"CREATE TRIGGER lantern_keep_key BEFORE UPDATE OF {quote(layout.key)} ON {q} FOR EACH ROW "
            f"WHEN (OLD.{quote(layout.key)} IS DISTINCT FROM NEW.{quote(layout.key)}) "
            "EXECUTE FUNCTION lantern_keep_key();\n"
            f"CREATE TRIGGER lantern_notify AFTER INSERT OR UPDATE OR DELETE ON {q} "
            "FOR EACH STATEMENT EXECUTE FUNCTION lantern_notify();"
            + ("\nCREATE TRIGGER lantern_chain BEFORE INSERT ON change_log FOR EACH ROW "
               "EXECUTE FUNCTION lantern_chain();" if layout.name == "change_log" else ""))


def is_lantern_server(pg) -> bool:
    """Whether the database already holds a Lantern workspace."""
    return pg.execute("SELECT to_regclass(%s) IS NOT NULL", (FILE_SCHEMA_TABLE,)).fetchone()[0]


def server_layouts(pg) -> list[TableLayout]:
    """The table layouts recorded on the server, in the file's order."""
    rows = pg.execute(f"SELECT table_name, column_name, declared, server_type, srid, key_column "
                      f"FROM {COLUMNS_TABLE} ORDER BY table_name, ord").fetchall()
    order = [r[0] for r in pg.execute(f"SELECT name FROM {FILE_SCHEMA_TABLE} WHERE type = 'table' ORDER BY ord")]
    grouped: dict[str, list] = {}
    for table, name, declared, server_type, srid, key in rows:
        grouped.setdefault(table, []).append((name, declared, server_type, srid, key))
    layouts = []
    for table in order:
        if table not in grouped:
            continue
        cols = tuple(Column(n, d, "geometry" if s.startswith("geometry") else s, srid=srid,
                            geometry_type=s[9:-1].split(",")[0] if s.startswith("geometry(") else "")
                     for n, d, s, srid, _k in grouped[table])
        layouts.append(TableLayout(table, cols, grouped[table][0][4]))
    return layouts
