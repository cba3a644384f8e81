"""What a map view needs from a big layer, asked of the GeoPackage's R-tree instead of every row.

A city workspace holds a million reported cases: the window must not read
them all to draw a map of one street. These queries answer, for the box in
view: how many features (after the filters), their counts per grid cell
when there are too many to draw, and which ones to draw when zoomed in.
Filters arrive as plain values (the audit layer turns its FilterState into
a :class:`RowFilter`), so the SQL stays here.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from layers import place_outline
from layers.catalogue import kind


@dataclass(frozen=True)
class RowFilter:
    """Plain conditions on a layer's rows: a multi-choice column that must share a value with ``any_of``
    (rows with no values pass), and a text column (ISO dates or months) within [low, high]."""

    choice_column: str | None = None
    any_of: tuple[str, ...] | None = None
    range_column: str | None = None
    low: str | None = None
    high: str | None = None

    def sql(self) -> tuple[str, list]:
        """An SQL condition on the layer's table aliased ``t`` ("" when nothing is filtered)."""
        parts, params = [], []
        if self.choice_column and self.any_of is not None:
            # a stored multi-choice value is a JSON list of catalogue ids: '"id"' occurs in it exactly when
            # the id is one of its items (2.5x faster than json_each over a million rows)
            col = f't."{self.choice_column}"'
            found = " OR ".join(f"instr({col}, ?) > 0" for _ in self.any_of) or "0"
            parts.append(f"({col} IS NULL OR {col} NOT LIKE '[%' OR {col} = '[]' OR {found})")
            params += [json.dumps(v) for v in self.any_of]
        if self.range_column and (self.low or self.high):
            col = f't."{self.range_column}"'
            if self.low:
                parts.append(f"({col} IS NULL OR {col} >= ?)")
                params.append(self.low)
            if self.high:
                parts.append(f"({col} IS NULL OR {col} <= ?)")
                params.append(self.high)
        return " AND ".join(parts), params


def _rtree(kind_id: str) -> str:
    kind(kind_id)  # only catalogue layers: the name goes into SQL
    return f'"rtree_{kind_id}_geom"'


def boxes_source(conn: sqlite3.Connection, kind_id: str) -> str:
    """The features' boxes as an SQL source (id, minx, maxx, miny, maxy): the layer's R-tree; for places, an
    area's box from its outline's R-tree instead of its position's (layers.place_outline), so an area is
    found wherever it is in view."""
    k = kind(kind_id)
    outlines = place_outline.rtree_name(kind_id)
    if not place_outline.has_outline(k) or not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (outlines,)).fetchone():
        return _rtree(kind_id)
    return (f'(SELECT id, minx, maxx, miny, maxy FROM {_rtree(kind_id)} WHERE id NOT IN (SELECT id FROM "{outlines}")'
            f' UNION ALL SELECT id, minx, maxx, miny, maxy FROM "{outlines}")')


def _box_sql(bbox) -> tuple[str, list]:
    if bbox is None:
        return "", []
    w, s, e, n = bbox
    return "r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?", [w, e, s, n]


def _where(conn: sqlite3.Connection, kind_id: str, bbox, row_filter: RowFilter | None) -> tuple[str, str, list]:
    """FROM clause and WHERE condition over the R-tree ``r`` (joined to the table ``t`` when filtered)."""
    box, params = _box_sql(bbox)
    cond, fparams = (row_filter or RowFilter()).sql()
    source = f"{boxes_source(conn, kind_id)} AS r"
    if cond:
        source += f' JOIN "{kind_id}" AS t ON t.fid = r.id'
    where = " AND ".join(p for p in (box, cond) if p)
    return source, where, params + fparams


def count(conn: sqlite3.Connection, kind_id: str, bbox=None, row_filter: RowFilter | None = None) -> int:
    """Features of a layer with a geometry in ``bbox`` (west, south, east, north; None: anywhere)."""
    source, where, params = _where(conn, kind_id, bbox, row_filter)
    sql = f"SELECT count(*) FROM {source}" + (f" WHERE {where}" if where else "")
    return conn.execute(sql, params).fetchone()[0]


def count_rows(conn: sqlite3.Connection, kind_id: str, row_filter: RowFilter | None = None) -> int:
    """Rows of a layer (with or without a geometry) that pass ``row_filter``."""
    kind(kind_id)
    cond, params = (row_filter or RowFilter()).sql()
    sql = f'SELECT count(*) FROM "{kind_id}" AS t' + (f" WHERE {cond}" if cond else "")
    return conn.execute(sql, params).fetchone()[0]


def bins(conn: sqlite3.Connection, kind_id: str, bbox, cell: tuple[float, float],
         row_filter: RowFilter | None = None) -> list[tuple[float, float, int]]:
    """(lon, lat, count) per grid cell of ``cell`` = (dx, dy) degrees, for the features in ``bbox``.

    The cells are fixed to the grid (multiples of dx, dy), so panning does not move them; each is
    placed at the mean position of its features."""
    dx, dy = cell
    source, where, params = _where(conn, kind_id, bbox, row_filter)
    sql = (f"SELECT avg((r.minx + r.maxx) / 2), avg((r.miny + r.maxy) / 2), count(*) FROM {source}"
           + (f" WHERE {where}" if where else "")
           + " GROUP BY CAST(floor((r.minx + r.maxx) / 2 / ?) AS INTEGER), CAST(floor((r.miny + r.maxy) / 2 / ?) AS INTEGER)")
    return [(x, y, c) for x, y, c in conn.execute(sql, params + [dx, dy])]


def fids_in(conn: sqlite3.Connection, kind_id: str, bbox, row_filter: RowFilter | None = None) -> str:
    """An SQL condition selecting the rows (table alias ``t``) with a geometry in ``bbox``, and its params."""
    box, params = _box_sql(bbox)
    source = boxes_source(conn, kind_id)
    return (f"t.fid IN (SELECT r.id FROM {source} AS r" + (f" WHERE {box})" if box else ")")), params


def location(conn: sqlite3.Connection, kind_id: str, fid: int) -> tuple[float, float] | None:
    """(lon, lat) of the centre of a feature's bounding box, or None (no such feature, or no geometry)."""
    row = conn.execute(f"SELECT (minx + maxx) / 2, (miny + maxy) / 2 FROM {boxes_source(conn, kind_id)} WHERE id = ?",
                       (int(fid),)).fetchone()
    return None if row is None else (row[0], row[1])


def span(conn: sqlite3.Connection, kind_id: str, column: str) -> tuple[str | None, str | None]:
    """Smallest and largest non-empty value of a column (dates and months sort as text)."""
    k = kind(kind_id)
    if column not in k.columns:
        raise KeyError(column)
    return conn.execute(f'SELECT min("{column}"), max("{column}") FROM "{kind_id}" '
                        f'WHERE "{column}" IS NOT NULL AND "{column}" != \'\'').fetchone()


def boxes(conn: sqlite3.Connection, kind_id: str, row_filter: RowFilter | None = None):
    """(fids, minx, miny, maxx, maxy) numpy arrays of every feature's bounding box passing ``row_filter``."""
    import numpy as np

    if row_filter is None or not row_filter.sql()[0]:
        found = _rtree_leaves(conn, f"rtree_{kind(kind_id).id}_geom")
        if found is not None and boxes_source(conn, kind_id) != _rtree(kind_id):  # places: areas by their outline
            areas = _rtree_leaves(conn, place_outline.rtree_name(kind_id))
            found = None if areas is None else np.concatenate([found[~np.isin(found["id"], areas["id"])], areas])
        if found is not None:
            return (found["id"].astype(np.int64), *(found[c].astype(np.float64) for c in ("minx", "miny", "maxx", "maxy")))
    source, where, params = _where(conn, kind_id, None, row_filter)
    sql = f"SELECT r.id, r.minx, r.miny, r.maxx, r.maxy FROM {source}" + (f" WHERE {where}" if where else "")
    rows = conn.execute(sql, params).fetchall()
    if not rows:
        empty = np.zeros(0)
        return np.zeros(0, dtype=np.int64), empty, empty, empty, empty
    table = np.asarray(rows, dtype=np.float64)
    return (table[:, 0].astype(np.int64), table[:, 1], table[:, 2], table[:, 3], table[:, 4])


def rows_with_fids(fids) -> tuple[str, list]:
    """An SQL condition (table alias ``t``) selecting the rows with these fids, and its params."""
    import json

    return "t.fid IN (SELECT value FROM json_each(?))", [json.dumps([int(f) for f in fids])]


def page_condition(kind_id: str, offset: int, limit: int, row_filter: RowFilter | None = None) -> tuple[str, list]:
    """An SQL condition (alias ``t``) selecting rows ``offset`` .. ``offset + limit`` (by fid) among those
    passing ``row_filter``, and its params."""
    kind(kind_id)
    cond, params = (row_filter or RowFilter()).sql()
    inner = f'SELECT fid FROM "{kind_id}" AS t' + (f" WHERE {cond}" if cond else "") + " ORDER BY fid LIMIT ? OFFSET ?"
    return f"t.fid IN ({inner})", [*params, limit, offset]


def rank_of(conn: sqlite3.Connection, kind_id: str, fid: int, row_filter: RowFilter | None = None) -> int:
    """The position of ``fid`` among a layer's rows passing ``row_filter`` ordered by fid, or -1."""
    kind(kind_id)
    cond, params = (row_filter or RowFilter()).sql()
    extra = f" AND {cond}" if cond else ""
    if conn.execute(f'SELECT 1 FROM "{kind_id}" AS t WHERE t.fid = ?{extra}', [fid, *params]).fetchone() is None:
        return -1
    return conn.execute(f'SELECT count(*) FROM "{kind_id}" AS t WHERE t.fid < ?{extra}', [fid, *params]).fetchone()[0]


#: a cell of a 2-D SQLite R*Tree node: the feature's rowid, then its box as big-endian float32s
_RTREE_CELL = [("id", ">i8"), ("minx", ">f4"), ("maxx", ">f4"), ("miny", ">f4"), ("maxy", ">f4")]


def _rtree_leaves(conn: sqlite3.Connection, name: str):
    """Every leaf cell of a layer's R-tree, read from its node blobs (a million boxes in 0.2 s, where
    selecting them row by row takes 1.8 s); None when the tree is not as expected (then ask SQL).

    The format is SQLite's R*Tree (sqlite.org/rtree.html, "Integrity check" describes the node blob):
    a node holds a 2-byte depth (root only), a 2-byte cell count, then its cells; the root is node 1."""
    import numpy as np

    try:
        nodes = dict(conn.execute(f'SELECT nodeno, data FROM "{name}_node"').fetchall())
        expected = conn.execute(f'SELECT count(*) FROM "{name}_rowid"').fetchone()[0]
    except sqlite3.Error:
        return None
    cell = np.dtype(_RTREE_CELL)

    def cells(number: int):
        blob = nodes[number]
        return np.frombuffer(blob, dtype=cell, count=int.from_bytes(blob[2:4], "big"), offset=4)

    try:
        level = [1]
        for _ in range(int.from_bytes(nodes[1][:2], "big")):
            level = [int(child) for number in level for child in cells(number)["id"]]
        leaves = np.concatenate([cells(number) for number in level]) if level else np.zeros(0, dtype=cell)
    except (KeyError, ValueError):
        return None
    return leaves if len(leaves) == expected else None
