"""A workspace file that is a copy of a shared workspace: where it came from, and what changed in it since.

A copy keeps two small tables of its own, which never go to the server and which GIS programs do not list
(they are not registered in ``gpkg_contents``):

* ``lantern_replica``: key/value state: the server it came from (without password), the server's history
  entry it was last in step with (``base``), the server's transaction watermark (``watermark``: every server
  change older than it is in this copy) and the copy's block of ids for new rows (``layers.row_ids``);
* ``lantern_replica_changes``: every row changed in this copy since it was last in step, one line per
  (table, row id), recorded by temporary triggers that each connection to a copy installs. Temporary
  triggers live only in the connection, so the file's own schema stays what QGIS and GDAL know; whatever
  path a change takes through Lantern (commands, imports, the Incoming queue), it is recorded.
"""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager

from layers.history_store import quote

STATE_TABLE = "lantern_replica"
CHANGES_TABLE = "lantern_replica_changes"
_APPLYING = "lantern_replica_applying"  # a temporary table: present while server changes are being written


def is_replica(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (STATE_TABLE,)).fetchone() \
        is not None


def make(conn: sqlite3.Connection, state: dict[str, str]) -> None:
    """Turn a freshly pulled file into a copy (inside the caller's transaction)."""
    conn.execute(f"CREATE TABLE {STATE_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute(f"CREATE TABLE {CHANGES_TABLE} (table_name TEXT NOT NULL, row_key INTEGER NOT NULL, "
                 "PRIMARY KEY (table_name, row_key))")
    for key, value in state.items():
        set_state(conn, key, value)


def state(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute(f"SELECT key, value FROM {STATE_TABLE}").fetchall()) if is_replica(conn) else {}


def set_state(conn: sqlite3.Connection, key: str, value) -> None:
    conn.execute(f"INSERT INTO {STATE_TABLE} (key, value) VALUES (?, ?) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, str(value)))


def base(state_of_copy: dict) -> tuple[int, str]:
    """The server's history entry (id, hash) a copy was last in step with, from its ``state``."""
    entry_id, entry_hash = state_of_copy["base"].split(",")
    return int(entry_id), entry_hash


def set_base(conn: sqlite3.Connection, entry_id: int, entry_hash: str) -> None:
    set_state(conn, "base", f"{entry_id},{entry_hash}")


def _data_tables(conn: sqlite3.Connection) -> list[str]:
    from layers.server_schema import data_tables

    return [t for t in data_tables(conn) if not t.startswith("lantern_replica")]


def capture_changes(conn: sqlite3.Connection) -> None:
    """Install this connection's temporary triggers recording changed rows (a no-op for a file of its own)."""
    if not is_replica(conn):
        return
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_APPLYING} (x INTEGER)")
    for table in _data_tables(conn):
        q, name_text = quote(table), "'" + table.replace("'", "''") + "'"
        for op, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            name = quote(f"lantern_capture_{op.lower()}_{table}")
            # not INSERT OR IGNORE: an outer statement's conflict rule (an upsert's) would override it
            record = " ".join(f"INSERT INTO {CHANGES_TABLE} (table_name, row_key) SELECT {name_text}, {row}.rowid "
                              f"WHERE NOT EXISTS (SELECT 1 FROM {CHANGES_TABLE} WHERE table_name = {name_text} "
                              f"AND row_key = {row}.rowid);" for row in rows)
            conn.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS {name} AFTER {op} ON main.{q} "
                         f"WHEN NOT EXISTS (SELECT 1 FROM temp.{_APPLYING}) BEGIN {record} END")


@contextmanager
def applying(conn: sqlite3.Connection):
    """While server changes are written into the copy: they are not this copy's own changes."""
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_APPLYING} (x INTEGER)")
    conn.execute(f"INSERT INTO temp.{_APPLYING} VALUES (1)")
    try:
        yield
    finally:
        conn.execute(f"DELETE FROM temp.{_APPLYING}")


def pending(conn: sqlite3.Connection) -> dict[str, list[int]]:
    """The rows changed in this copy since it was last in step with the server, by table."""
    out: dict[str, list[int]] = {}
    for table, key in conn.execute(f"SELECT table_name, row_key FROM {CHANGES_TABLE} ORDER BY table_name, row_key"):
        out.setdefault(table, []).append(key)
    return out


def clear_pending(conn: sqlite3.Connection) -> None:
    conn.execute(f"DELETE FROM {CHANGES_TABLE}")
