"""Reading a workspace layer's rows into a GeoDataFrame, from any connection.

``Workspace.read_layer`` reads a whole layer through the workspace's own
connection; the window reads layers in worker threads (each with its own
read-only connection, see :func:`thread_connection`) and, for big layers,
only the rows in view (``where``), so both share this one reader.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from layers import gpkg_geometry, place_outline
from layers.catalogue import kind

SRS_ID = 4326
GEOMETRY_COLUMN = "geom"
FID_COLUMN = "fid"


def read_frame(conn: sqlite3.Connection, kind_id: str, where: str = "", params=()):
    """Rows of a catalogue layer as a GeoDataFrame indexed by fid (EPSG:4326), ordered by fid.

    ``where`` is an SQL condition on the layer's table (aliased ``t``) with ``params``."""
    import geopandas as gpd
    import pandas as pd

    k = kind(kind_id)
    cols = ", ".join([f't."{FID_COLUMN}"', place_outline.geometry_sql(conn, k), *(f't."{c}"' for c in k.columns)])
    sql = f'SELECT {cols} FROM "{kind_id}" AS t' + (f" WHERE {where}" if where else "") + f" ORDER BY t.{FID_COLUMN}"
    rows = conn.execute(sql, tuple(params)).fetchall()
    columns = list(zip(*rows)) if rows else [[] for _ in range(2 + len(k.columns))]
    data = {c: list(v) for c, v in zip(k.columns, columns[2:])}
    for f in k.fields:
        if f.type == "boolean":
            data[f.name] = pd.array([None if v is None else bool(v) for v in data[f.name]], dtype="boolean")
        elif f.type == "integer":
            data[f.name] = pd.array(data[f.name], dtype="Int64")
        elif f.type == "real":
            data[f.name] = pd.array(data[f.name], dtype="Float64")
    index = pd.Index(columns[0], name=FID_COLUMN, dtype="int64")
    geometry = gpd.GeoSeries(gpkg_geometry.decode(columns[1]), index=index, crs=f"EPSG:{SRS_ID}")
    return gpd.GeoDataFrame(data, geometry=geometry, index=index)


class ThreadConnections:
    """One read-only connection to a workspace file per thread (sqlite3 connections stay in their thread).

    Readers in worker threads see every committed change; they never write, so they cannot
    disturb the window's own connection or the workspace's write lock."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()  # each thread's connection, closed when both are gone

    def get(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10, check_same_thread=False)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Forget the connections; each closes when its thread lets go of it.

        Closing a connection another thread is reading through crashes the process (sqlite3 does not
        guard it), so nothing is closed here: a worker still reading keeps its connection until it is
        done, then the last reference goes and sqlite3 closes it."""
        self._local = threading.local()
