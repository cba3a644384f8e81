"""Ids for new rows in a copy of a shared workspace: each copy numbers its new rows in a block of its own.

A workspace file numbers new rows as SQLite does (the largest id plus one). Copies of one shared workspace
(a window's local copy, a field laptop's file) would then give the same id to different new rows. So a copy
that came from a server holds an id block (``layers.replica`` state ``id_block``: "first,last"),
handed out by the server once per copy, and numbers its new rows from it: two copies never collide, even
offline, and nothing has to be renumbered when their changes meet. A file with no block numbers as SQLite does.
"""
from __future__ import annotations

import sqlite3

from layers.errors import WorkspaceError
from layers.i18n import _
from layers.replica import STATE_TABLE

BLOCK_KEY = "id_block"
BLOCK_SIZE = 10_000_000


def block_of(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """This copy's id block, or None (a file of its own)."""
    try:
        row = conn.execute(f"SELECT value FROM {STATE_TABLE} WHERE key = ?", (BLOCK_KEY,)).fetchone()
    except sqlite3.OperationalError:  # a file of its own: no copy state
        return None
    if not row:
        return None
    first, last = (int(v) for v in str(row[0]).split(","))
    return first, last


def block_range(number: int) -> tuple[int, int]:
    """The ids of block ``number`` (1, 2, …): block 0 holds the ids a file had before it was shared."""
    return number * BLOCK_SIZE, (number + 1) * BLOCK_SIZE - 1


def next_ids(conn: sqlite3.Connection, table: str, n: int = 1) -> int | None:
    """The first of ``n`` new ids for ``table`` in this copy's block, or None when SQLite may choose."""
    block = block_of(conn)
    if block is None:
        return None
    first, last = block
    name = '"' + table.replace('"', '""') + '"'
    top = conn.execute(f"SELECT max(rowid) FROM {name} WHERE rowid BETWEEN ? AND ?", (first, last)).fetchone()[0]
    start = first if top is None else top + 1
    if start + n - 1 > last:
        raise WorkspaceError(_("this copy of the shared workspace has used all the ids it was given for new rows; "
                               "connect to the server once to be given more"))
    return start
