"""Places stored as one geometry type: a position (POINT) and, for places mapped as areas, an outline.

A place (a transport hub, worksite, shelter, service or place of concern) may be mapped as a point
or as an area. A GeoPackage table that mixes both is split by QGIS into two layers, and its rows
without a position into neither. So the place tables store ``geom`` as POINT — the node, or a
point on the surface of the area — and the area itself in the BLOB column ``outline`` (a
GeoPackage geometry, NULL for points). A copy kept by triggers, the table ``<kind>_outlines``
(MULTIPOLYGON), shows the outlines to GIS programs. Lantern reads a place as its outline when it has one
(:func:`geometry_sql`), so everything above this module sees the same geometries as before.
"""
from __future__ import annotations

import sqlite3

import numpy as np
import shapely

from layers import gpkg_geometry
from layers.catalogue import LayerKind

OUTLINE_COLUMN = "outline"
VIEW_SUFFIX = "_outlines"
SRS_ID = 4326
MOVE_BATCH = 20_000  # rows the migration reads at a time


def has_outline(k: LayerKind) -> bool:
    """Whether the kind's places may be areas (catalogue geometry ``Geometry``): stored as position + outline."""
    return k.geometry == "Geometry"


def outline_table(kind_id: str) -> str:
    return kind_id + VIEW_SUFFIX


def geometry_sql(conn: sqlite3.Connection, k: LayerKind, alias: str = "t") -> str:
    """The SQL expression of a place's geometry as Lantern uses it: its outline, else its position (a
    workspace from before schema 7 opened read-only has no outlines: its areas are in ``geom``)."""
    if has_outline(k) and OUTLINE_COLUMN in _columns(conn, k.id):
        return f'COALESCE({alias}."{OUTLINE_COLUMN}", {alias}."geom")'
    return f'{alias}."geom"'


def split(geometries) -> tuple[np.ndarray, np.ndarray]:
    """(positions, outlines) of geometries: points stay, areas get a point on their surface and keep
    their polygons (as MultiPolygon) as the outline; missing geometries stay missing in both."""
    geoms = np.asarray(geometries, dtype=object)
    positions = geoms.copy()
    outlines = np.full(len(geoms), None, dtype=object)
    present = ~shapely.is_missing(geoms)
    areal = np.zeros(len(geoms), dtype=bool)
    areal[present] = np.isin(shapely.get_type_id(geoms[present]), (3, 6))  # Polygon, MultiPolygon
    areal &= ~shapely.is_empty(geoms)
    if areal.any():
        polys = geoms[areal]
        positions[areal] = shapely.point_on_surface(polys)
        outlines[areal] = [p if p.geom_type == "MultiPolygon" else shapely.MultiPolygon([p]) for p in polys]
    return positions, outlines


# -- the schema ------------------------------------------------------------------------------------------


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def _mirror_columns(conn: sqlite3.Connection, k: LayerKind) -> list[tuple[str, str]]:
    """(name, declared type) of the catalogue's columns of the place table, which the outline table repeats.
    Only the catalogue's: a field a user adds (or drops) in QGIS stays the user's, and its name never
    reaches the triggers' SQL."""
    declared = {r[1]: r[2] for r in conn.execute(f'PRAGMA table_info("{k.id}")')}
    return [(c, declared[c]) for c in k.columns if c in declared]


def create_outline_table(conn: sqlite3.Connection, k: LayerKind) -> None:
    """The ``<kind>_outlines`` table (MULTIPOLYGON), kept equal to the places' outlines by triggers.

    GeoPackage wants each feature table's geometry column declared with its type, which a BLOB column
    of the place table cannot be; so the outlines GIS programs see are a copy, made again here and
    kept by SQLite itself on every insert, update and delete of a place (by Lantern or by QGIS). It is
    derived data: the change log tracks the place table's ``outline``, not this copy."""
    name = outline_table(k.id)
    columns = _mirror_columns(conn, k)
    for trigger in ("insert", "update", "delete"):
        conn.execute(f'DROP TRIGGER IF EXISTS "{name}_{trigger}"')
    conn.execute(f'DROP TABLE IF EXISTS "{rtree_name(k.id)}"')
    conn.execute("DELETE FROM gpkg_extensions WHERE table_name = ?", (name,))
    conn.execute(f'DROP TABLE IF EXISTS "{name}"')
    defs = ", ".join(['"fid" INTEGER PRIMARY KEY NOT NULL', '"geom" MULTIPOLYGON',
                      *(f'"{c}" {t}' for c, t in columns)])
    conn.execute(f'CREATE TABLE "{name}" ({defs})')
    names = ", ".join(['"fid"', '"geom"', *(f'"{c}"' for c, _t in columns)])
    new = ", ".join(["NEW.fid", f'NEW."{OUTLINE_COLUMN}"', *(f'NEW."{c}"' for c, _t in columns)])
    copy = f'INSERT INTO "{name}" ({names}) SELECT {new} WHERE NEW."{OUTLINE_COLUMN}" IS NOT NULL;'
    conn.execute(f'CREATE TRIGGER "{name}_insert" AFTER INSERT ON "{k.id}" BEGIN {copy} END')
    conn.execute(f'CREATE TRIGGER "{name}_update" AFTER UPDATE ON "{k.id}" BEGIN '
                 f'DELETE FROM "{name}" WHERE fid = OLD.fid; {copy} END')
    conn.execute(f'CREATE TRIGGER "{name}_delete" AFTER DELETE ON "{k.id}" BEGIN '
                 f'DELETE FROM "{name}" WHERE fid = OLD.fid; END')
    old = ", ".join(["fid", f'"{OUTLINE_COLUMN}"', *(f'"{c}"' for c, _t in columns)])
    conn.execute(f'INSERT INTO "{name}" ({names}) SELECT {old} FROM "{k.id}" WHERE "{OUTLINE_COLUMN}" IS NOT NULL')
    conn.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (name,))
    conn.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (name,))
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)"
        " VALUES (?, 'features', ?, ?, ?)", (name, name, f"{k.en}: outlines of the places mapped as areas", SRS_ID))
    conn.execute("INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m)"
                 " VALUES (?, 'geom', 'MULTIPOLYGON', ?, 0, 0)", (name, SRS_ID))
    _create_rtree(conn, k)
    update_outline_extent(conn, k.id)


def rtree_name(kind_id: str) -> str:
    """The GeoPackage R-tree of a kind's outline table: each area's box (the place table's holds its position)."""
    return f"rtree_{outline_table(kind_id)}_geom"


def _create_rtree(conn: sqlite3.Connection, k: LayerKind) -> None:
    """The outline table's R-tree, with the triggers GDAL gave the place table (same GeoPackage extension),
    renamed: maps, searches and QGIS find an area wherever it is in view, not only at its position."""
    name, rtree, place_rtree = outline_table(k.id), rtree_name(k.id), f"rtree_{k.id}_geom"
    triggers = conn.execute("SELECT sql FROM sqlite_master WHERE type='trigger' AND tbl_name=? AND name LIKE ?",
                            (k.id, f"{place_rtree}_%")).fetchall()
    if not triggers:
        return  # the place table has no R-tree (set aside or never made): neither does its copy
    conn.execute(f'CREATE VIRTUAL TABLE "{rtree}" USING rtree(id, minx, maxx, miny, maxy)')
    conn.execute(f'INSERT INTO "{rtree}" SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom)'
                 f' FROM "{name}" WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)')
    for (sql,) in triggers:
        conn.execute(sql.replace(f'"{place_rtree}', f'"{rtree}').replace(f'ON "{k.id}"', f'ON "{name}"'))
    conn.execute("INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope)"
                 " VALUES (?, 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree',"
                 " 'write-only')", (name,))


def update_outline_extent(conn: sqlite3.Connection, kind_id: str) -> None:
    """The outline table's extent in gpkg_contents, from the outlines."""
    row = conn.execute('SELECT min(ST_MinX(geom)), min(ST_MinY(geom)), max(ST_MaxX(geom)), max(ST_MaxY(geom))'
                       f' FROM "{outline_table(kind_id)}"').fetchone()
    conn.execute("UPDATE gpkg_contents SET min_x=?, min_y=?, max_x=?, max_y=?, last_change=? WHERE table_name=?",
                 (*row, _now(), outline_table(kind_id)))


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def outline_tables(kinds) -> frozenset[str]:
    """The outline tables of ``kinds`` (derived data: not logged, compared or exported)."""
    return frozenset(outline_table(k.id) for k in kinds if has_outline(k))


def add_outline_column(conn: sqlite3.Connection, k: LayerKind) -> None:
    if OUTLINE_COLUMN not in _columns(conn, k.id):
        conn.execute(f'ALTER TABLE "{k.id}" ADD COLUMN "{OUTLINE_COLUMN}" BLOB')


def move_areas_to_outline(conn: sqlite3.Connection, k: LayerKind) -> list[int]:
    """Rows whose ``geom`` is an area: the area goes to ``outline``, ``geom`` becomes a point on it.
    Returns the fids changed. GDAL's R-tree triggers follow the new positions."""
    changed: list[int] = []
    after = 0
    while True:  # a batch at a time: memory stays flat on a city of areas
        rows = conn.execute(f'SELECT fid, geom FROM "{k.id}" WHERE fid > ? AND geom IS NOT NULL AND '
                            f'"{OUTLINE_COLUMN}" IS NULL ORDER BY fid LIMIT ?', (after, MOVE_BATCH)).fetchall()
        if not rows:
            return changed
        after = rows[-1][0]
        fids = np.array([r[0] for r in rows], dtype=np.int64)
        positions, outlines = split(gpkg_geometry.decode([r[1] for r in rows]))
        moved = np.array([o is not None for o in outlines], dtype=bool)
        if moved.any():
            conn.executemany(f'UPDATE "{k.id}" SET geom = ?, "{OUTLINE_COLUMN}" = ? WHERE fid = ?',
                             zip(gpkg_geometry.encode(positions[moved], SRS_ID),
                                 gpkg_geometry.encode(outlines[moved], SRS_ID), (int(f) for f in fids[moved])))
            changed += [int(f) for f in fids[moved]]


def copy_differences(conn: sqlite3.Connection, kinds) -> dict[str, int]:
    """Outline tables that are not an exact copy of their places' outlines: table -> rows that differ
    (-1: the table is gone). A program that edits the copy directly would show GIS users areas
    Lantern does not have; ``check`` reports it, and opening the workspace in Lantern remakes it."""
    out = {}
    for k in kinds:
        if not has_outline(k) or not _exists(conn, k.id) or OUTLINE_COLUMN not in _columns(conn, k.id):
            continue  # not a place kind, or a workspace from before schema 7 (no copies yet)
        name = outline_table(k.id)
        if not _exists(conn, name):
            out[name] = -1
            continue
        columns = [c for c, _t in _mirror_columns(conn, k)]
        if [c for c in _columns(conn, name) if c not in ("fid", "geom")] != columns:
            out[name] = -1
            continue
        cols = ", ".join(f'"{c}"' for c in columns)
        source = f'SELECT fid, "{OUTLINE_COLUMN}", {cols} FROM "{k.id}" WHERE "{OUTLINE_COLUMN}" IS NOT NULL'
        copy = f'SELECT fid, geom, {cols} FROM "{name}"'
        n = conn.execute(f"SELECT count(*) FROM (SELECT fid FROM ({source} EXCEPT {copy})"
                         f" UNION SELECT fid FROM ({copy} EXCEPT {source}))").fetchone()[0]
        if n:
            out[name] = n
    return out


def _exists(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None


# -- files that leave: the same storage in export GeoPackages ----------------------------------------------


def split_frame(frame):
    """A layer that mixes points and areas, as an export GeoPackage stores it: (the layer with each
    place's position as its geometry and the area's exact WKB (hex) in ``outline``, the areas alone as
    MultiPolygons for GIS programs); ``(frame, None)`` when the layer holds one kind of geometry.
    :func:`join_frame` gives back the layer exactly (its hash in a partner package's manifest holds)."""
    import geopandas as gpd

    geoms = np.asarray(frame.geometry.values, dtype=object)
    positions, outlines = split(geoms)
    areal = np.array([o is not None for o in outlines], dtype=bool)
    points = ~areal & ~shapely.is_missing(geoms)
    if not areal.any() or not points.any():
        return frame, None
    wkb = np.full(len(geoms), None, dtype=object)
    wkb[areal] = shapely.to_wkb(geoms[areal], hex=True)  # text: GDAL writes an object column as TEXT
    stored = frame.copy()
    stored[OUTLINE_COLUMN] = wkb
    stored = stored.set_geometry(gpd.GeoSeries(positions, index=frame.index, crs=frame.crs))
    copy = frame[areal].copy()
    copy = copy.set_geometry(gpd.GeoSeries(outlines[areal], index=copy.index, crs=frame.crs))
    return stored, copy


def join_frame(frame):
    """The layer :func:`split_frame` stored: the areas back from ``outline``, the column dropped."""
    if OUTLINE_COLUMN not in frame.columns:
        return frame
    values = frame[OUTLINE_COLUMN].to_numpy(dtype=object)
    areal = np.array([isinstance(v, (str, bytes)) and len(v) > 0 for v in values], dtype=bool)
    geoms = np.asarray(frame.geometry.values, dtype=object).copy()
    if areal.any():
        geoms[areal] = shapely.from_wkb(list(values[areal]))
    joined = frame.drop(columns=[OUTLINE_COLUMN])
    return joined.set_geometry(type(frame.geometry)(geoms, index=frame.index, crs=frame.crs))


_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _is_point_blob(blob) -> bool:
    """Whether a GeoPackage geometry blob holds a point (read from its header and WKB type, no parsing)."""
    blob = bytes(blob)
    start = 8 + _ENVELOPE_BYTES.get((blob[3] >> 1) & 0b111, 0)
    order = "little" if blob[start] == 1 else "big"
    wkb_type = int.from_bytes(blob[start + 1:start + 5], order)
    return (wkb_type & 0x0FFFFFFF) % 1000 == 1


def misplaced_areas(conn: sqlite3.Connection, kinds) -> dict[str, int]:
    """Place tables whose position column holds something else than a point (another program wrote an area
    there, e.g. ``ogr2ogr -append``): table -> rows. Lantern still reads them as areas; GIS programs do not."""
    out = {}
    for k in kinds:
        if not has_outline(k) or not _exists(conn, k.id) or OUTLINE_COLUMN not in _columns(conn, k.id):
            continue
        n = sum(1 for (blob,) in conn.execute(f'SELECT geom FROM "{k.id}" WHERE geom IS NOT NULL')
                if not _is_point_blob(blob))
        if n:
            out[k.id] = n
    return out
