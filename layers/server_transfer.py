"""Moving a whole workspace file onto a PostgreSQL/PostGIS server (``push``), and the table copying that a pull
(``layers.server_sync.pull``) shares with it.

A push is one transaction on the server: one that fails leaves the database as it was. The change log goes
along unchanged and the move is one more signed entry (action ``push``), so ``lantern check`` of a copy pulled
later verifies the whole history, the move included.

Values round-trip exactly (the row hashes depend on it): integers, reals, text and files as they are;
geometries as PostGIS geometries, written back as GeoPackage blobs by ``layers.gpkg_geometry``. A blob that
another program wrote differently (a point without an envelope, say) is stored in Lantern's form, and the
push entry records the new row hashes of those rows.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from layers import gpkg_geometry, history_store, server_history, server_roles
from layers.errors import ServerError
from layers.i18n import _
from layers.server import connect, describe, server_error
from layers.server_schema import (
    BOOKKEEPING_SQL, COLUMNS_TABLE, FILE_SCHEMA_TABLE, SEQUENCE_TABLE, TableLayout, create_table_sql, file_layout,
    is_lantern_server, quote, server_layouts, shadow_tables, table_triggers_sql, value_problems,
)

CHUNK = 5_000
_PRAGMAS = ("application_id", "user_version")


@dataclass
class Transfer:
    """What a push or pull moved."""
    tables: int = 0
    rows: int = 0
    rewritten: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> {rowid: new row hash}
    entry_hash: str = ""

    @property
    def rewritten_count(self) -> int:
        return sum(len(v) for v in self.rewritten.values())


# -- push: file -> server ---------------------------------------------------------------------------------------


def push(path: str | Path, address: str, *, author: str, progress=None) -> Transfer:
    """Copy the workspace file ``path`` into the empty PostGIS database ``address``."""
    import psycopg

    from layers.workspace import Workspace

    path = Path(path)
    ws = Workspace.open(path)
    conn = ws.db.conn
    try:
        conn.execute("BEGIN")  # one snapshot of the file for the whole copy
        layouts = file_layout(conn, path.name)
        problems = [p for layout in layouts for p in value_problems(conn, layout)]
        if problems:
            raise ServerError(_("{file}: cannot go to the server: {problems}").format(
                file=path.name, problems="; ".join(problems[:5])))
        pg = connect(address)
        try:
            with pg.transaction():
                _refuse_occupied(pg, address)
                report = _copy_up(conn, pg, layouts, progress)
                report.entry_hash = _log_push(pg, report, author, path.name, address)
                server_roles.apply(pg, layouts)
                for layout in layouts:
                    pg.execute(table_triggers_sql(layout))
        except psycopg.Error as exc:
            raise server_error(address, exc) from None
        finally:
            pg.close()
        return report
    finally:
        conn.execute("ROLLBACK")
        ws.close()


def _refuse_occupied(pg, address: str) -> None:
    if is_lantern_server(pg):
        raise ServerError(_("{server}: this database holds a Lantern workspace already; nothing was changed")
                          .format(server=describe(address)))
    if not pg.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        try:
            with pg.transaction():
                pg.execute("CREATE EXTENSION postgis")
        except Exception:
            raise ServerError(_("{server}: PostGIS is not enabled in this database, and this account may not "
                                "enable it (ask the administrator: CREATE EXTENSION postgis)").format(
                server=describe(address))) from None


def _copy_up(conn: sqlite3.Connection, pg, layouts: list[TableLayout], progress) -> Transfer:
    pg.execute(BOOKKEEPING_SQL)
    known = {r[0] for r in pg.execute("SELECT srid FROM spatial_ref_sys")}
    report = Transfer(tables=len(layouts))
    for layout in layouts:
        pg.execute(create_table_sql(layout, known))
        for i, c in enumerate(layout.columns):
            pg.execute(f"INSERT INTO {COLUMNS_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s)",
                       (layout.name, i, c.name, c.declared, c.pg_type, c.srid, layout.key))
    _record_file_schema(conn, pg)
    for layout in layouts:
        report.rows += _copy_table_up(conn, pg, layout, known, report)
        if progress:
            progress(layout.name)
    return report


def _record_file_schema(conn: sqlite3.Connection, pg) -> None:
    shadows = shadow_tables(conn)
    rows = [r for r in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                    "WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL ORDER BY rowid")
            if r[1] not in shadows]
    rows += [("pragma", p, "", str(conn.execute(f"PRAGMA {p}").fetchone()[0])) for p in _PRAGMAS]
    with pg.cursor().copy(f"COPY {FILE_SCHEMA_TABLE} (ord, type, name, tbl_name, sql) FROM STDIN") as cp:
        for i, row in enumerate(rows):
            cp.write_row((i, *row))
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        for name, seq in conn.execute("SELECT name, seq FROM sqlite_sequence"):
            pg.execute(f"INSERT INTO {SEQUENCE_TABLE} VALUES (%s, %s)", (name, seq))


def _copy_table_up(conn: sqlite3.Connection, pg, layout: TableLayout, known: set[int], report: Transfer) -> int:
    names = [c.name for c in layout.columns]
    geo = [i for i, c in enumerate(layout.columns) if c.pg_type == "geometry"]
    cursor = conn.execute(f"SELECT rowid, {', '.join(map(quote, names))} FROM {quote(layout.name)}")
    target = ", ".join(map(quote, layout.server_columns()))
    n = 0
    with pg.cursor().copy(f"COPY {quote(layout.name)} ({target}) FROM STDIN") as cp:
        while rows := cursor.fetchmany(CHUNK):
            rowids = [r[0] for r in rows]
            columns = [list(col) for col in zip(*(r[1:] for r in rows))]
            ewkb = {}
            for i in geo:
                c = layout.columns[i]
                columns[i], ewkb[i], changed = _geometry_up(columns[i], c.srid, c.srid if c.srid in known else 0)
                if changed:
                    hashes = history_store.hash_columns(names, [[col[j] for j in changed] for col in columns])
                    report.rewritten.setdefault(layout.name, {}).update(
                        {str(rowids[j]): h for j, h in zip(changed, hashes)})
            for j, rowid in enumerate(rowids):
                values = [ewkb[i][j] if i in ewkb else columns[i][j] for i in range(len(names))]
                cp.write_row(values if layout.own_key else [rowid, *values])
            n += len(rows)
    return n


def _geometry_up(blobs: list, srs_id: int, srid: int) -> tuple[list, list, list[int]]:
    """A geometry column's blobs in Lantern's own encoding, their EWKB (hex) for the server, and the positions
    where Lantern's encoding differs from the file's."""
    geoms = gpkg_geometry.decode(blobs)
    canonical = gpkg_geometry.encode(geoms, srs_id)
    changed = [j for j, (a, b) in enumerate(zip(blobs, canonical)) if a is not None and bytes(a) != b]
    if srid:
        geoms = shapely.set_srid(geoms, srid)
    hexes = shapely.to_wkb(geoms, hex=True, include_srid=bool(srid), flavor="extended").tolist()
    return canonical, [None if b is None else h for b, h in zip(blobs, hexes)], changed


def _log_push(pg, report: Transfer, author: str, file_name: str, address: str) -> str:
    """The push entry on the server (after the file's last entry, now the server's), with the row hashes of the
    geometries stored in Lantern's form."""
    after = {"from": file_name, "to": describe(address), "tables": report.tables, "rows": report.rows,
             "geometries_rewritten": report.rewritten_count}
    return server_history.append(pg, author=author, action="push", after=after, hashes=report.rewritten)["hash"]


# -- pull: server -> file ---------------------------------------------------------------------------------------


def _sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    gpkg_geometry.register_functions(conn)
    return conn


def _build_file(pg, tmp: Path, progress) -> Transfer:
    schema = pg.execute(f"SELECT type, name, tbl_name, sql FROM {FILE_SCHEMA_TABLE} ORDER BY ord").fetchall()
    layouts = server_layouts(pg)
    conn = _sqlite(tmp)
    try:
        conn.execute("BEGIN")
        for kind, name, _tbl, sql in schema:
            if kind == "pragma":
                conn.execute(f"PRAGMA {name} = {int(sql)}")
            elif kind == "table" and not sql.upper().startswith("CREATE VIRTUAL"):
                conn.execute(sql)
        report = Transfer(tables=len(layouts))
        for layout in layouts:
            report.rows += _copy_table_down(pg, conn, layout)
            if progress:
                progress(layout.name)
        for name, seq in pg.execute(f"SELECT name, seq FROM {SEQUENCE_TABLE}"):
            conn.execute("DELETE FROM sqlite_sequence WHERE name = ?", (name,))
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, seq))
        for kind, name, _tbl, sql in schema:
            if kind == "table" and sql.upper().startswith("CREATE VIRTUAL"):
                conn.execute(sql)
                _fill_rtree(conn, name)
        for kind, _name, _tbl, sql in schema:
            if kind in ("index", "trigger", "view"):
                conn.execute(sql)
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    conn.close()
    return report


def select_sql(layout: TableLayout) -> str:
    """The server columns to read a table's rows in SQLite's terms: rowid first, geometries as WKB."""
    cols = [quote(layout.key)] + [f"ST_AsBinary({quote(c.name)})" if c.pg_type == "geometry" else quote(c.name)
                                  for c in layout.columns]
    return ", ".join(cols)


def rows_down(layout: TableLayout, rows: list) -> list[tuple]:
    """Server rows read with ``select_sql`` as SQLite values: (rowid, column values…), geometries as
    GeoPackage blobs in Lantern's encoding."""
    if not rows:
        return []
    columns = [list(col) for col in zip(*rows)]
    for i, c in enumerate(layout.columns):
        if c.pg_type == "geometry":
            wkb = columns[1 + i]
            geoms = shapely.from_wkb(np.asarray([None if w is None else bytes(w) for w in wkb], dtype=object))
            columns[1 + i] = gpkg_geometry.encode(geoms, c.srid or 0)
        elif c.pg_type == "bytea":
            columns[1 + i] = [None if v is None else bytes(v) for v in columns[1 + i]]
    return list(zip(*columns))


def insert_sql(layout: TableLayout) -> str:
    target = ["rowid"] + [quote(c.name) for c in layout.columns]
    return f"INSERT INTO {quote(layout.name)} ({', '.join(target)}) VALUES ({', '.join('?' * len(target))})"


def _copy_table_down(pg, conn: sqlite3.Connection, layout: TableLayout) -> int:
    insert = insert_sql(layout)
    n = 0
    with pg.cursor(name=f"pull_{abs(hash(layout.name))}") as cur:
        cur.itersize = CHUNK
        cur.execute(f"SELECT {select_sql(layout)} FROM {quote(layout.name)} ORDER BY {quote(layout.key)}")
        while rows := cur.fetchmany(CHUNK):
            conn.executemany(insert, rows_down(layout, rows))
            n += len(rows)
    return n


def rows_up(layout: TableLayout, rowids: list[int], rows: list[tuple], known: set[int]) -> list[list]:
    """SQLite rows (column values in layout order) as the server's columns (``server_columns``), geometries as
    EWKB hex."""
    if not rows:
        return []
    columns = [list(col) for col in zip(*rows)]
    for i, c in enumerate(layout.columns):
        if c.pg_type == "geometry":
            srid = c.srid if c.srid in known else 0
            _canonical, columns[i], _changed = _geometry_up(columns[i], c.srid, srid)
    out = [list(r) for r in zip(*columns)]
    return out if layout.own_key else [[rowid, *r] for rowid, r in zip(rowids, out)]


def _fill_rtree(conn: sqlite3.Connection, name: str) -> None:
    """Fill a GeoPackage R-tree (``rtree_<table>_<column>``) from its table in one packed pass, with the entries
    GDAL's triggers would have made (bounds from each blob's envelope, empty geometries left out)."""
    for table, column in conn.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall():
        if name == f"rtree_{table}_{column}":
            pk = next((r[1] for r in conn.execute(f"PRAGMA table_info({quote(table)})") if r[5]), "rowid")
            rows = conn.execute(f"SELECT {quote(pk)}, {quote(column)} FROM {quote(table)} "
                                f"WHERE {quote(column)} IS NOT NULL").fetchall()
            if not rows:
                return
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            bounds = gpkg_geometry.bounds_of([r[1] for r in rows])
            keep = ~np.isnan(bounds).any(axis=1)
            if keep.any():
                gpkg_geometry.fill_rtree(conn, name, ids[keep], gpkg_geometry.rtree_bounds(bounds[keep]))
            return


__all__ = ["Transfer", "push"]
