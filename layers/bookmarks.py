"""Map bookmarks of a workspace: a name and a map view (centre and zoom), kept in the workspace file.

The table is made on first use, registered in gpkg_contents as an attributes
table, and every change is one transaction with its signed change-log entry,
so ``check`` finds no rows without history. Bookmarks are the team's working
views, not data to share: share exports copy an allow-list of tables
(data/sensitivity.json) that does not name this one.
"""
from __future__ import annotations

import sqlite3
from typing import NamedTuple

from layers import history_store
from layers.migrations import register_attributes_table
from layers.search import fold

TABLE = "map_bookmarks"
_SCHEMA = (f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
           "lat REAL NOT NULL, lng REAL NOT NULL, zoom REAL NOT NULL)")


class Bookmark(NamedTuple):
    id: int
    name: str
    lat: float
    lng: float
    zoom: float


def _exists(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (TABLE,)).fetchone() is not None


def list_bookmarks(conn: sqlite3.Connection) -> list[Bookmark]:
    """The workspace's bookmarks by name (none when it has never had one)."""
    if not _exists(conn):
        return []
    rows = [Bookmark(*row) for row in conn.execute(f"SELECT id, name, lat, lng, zoom FROM {TABLE} ORDER BY id")]
    return sorted(rows, key=lambda b: fold(b.name))


def add_bookmark(workspace, name: str, lat: float, lng: float, zoom: float, author: str = "") -> Bookmark:
    """Keep this view under ``name``; raises ValueError for an empty name, LanternError when read-only."""
    name = name.strip()
    if not name:
        raise ValueError("a bookmark needs a name")
    values = {"name": name, "lat": float(lat), "lng": float(lng), "zoom": float(zoom)}
    with workspace.atomic() as db:
        db.conn.execute(_SCHEMA)
        register_attributes_table(db.conn, TABLE, "Map bookmarks (Lantern)")
        cursor = db.conn.execute(f"INSERT INTO {TABLE} (name, lat, lng, zoom) VALUES (?, ?, ?, ?)",
                                 tuple(values.values()))
        row_id = cursor.lastrowid
        history_store.append(db, author=author, action="add bookmark", table=TABLE, row_id=row_id,
                             before=None, after=values)
    return Bookmark(row_id, *values.values())


def delete_bookmark(workspace, bookmark_id: int, author: str = "") -> None:
    """Forget one bookmark (nothing happens if it is gone already)."""
    conn = workspace.db.conn
    if not _exists(conn):
        return
    with workspace.atomic() as db:
        row = db.conn.execute(f"SELECT name, lat, lng, zoom FROM {TABLE} WHERE id=?", (int(bookmark_id),)).fetchone()
        if row is None:
            return
        db.conn.execute(f"DELETE FROM {TABLE} WHERE id=?", (int(bookmark_id),))
        history_store.append(db, author=author, action="delete bookmark", table=TABLE, row_id=int(bookmark_id),
                             before=dict(zip(("name", "lat", "lng", "zoom"), row)), after=None)
