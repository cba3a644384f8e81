"""Copies of a shared workspace kept in step with the server: make a copy, then sync it (send and receive).

Lantern works on a copy (a GeoPackage, ``layers.replica``): everything it does runs unchanged on it, and a
field laptop can go on offline. ``sync`` brings a copy and the server into step, in one server transaction
holding the history's write lock:

1. what others changed since the copy was last in step (rows whose version is at or above the copy's
   watermark, deletions, history entries) is read;
2. a row changed both here and there, to different values, is a *conflict*: nothing is written, and the
   conflicts are returned for the person to decide (``resolve``: keep mine / keep theirs); never silently
   overwritten either way;
3. otherwise the others' rows and entries are written into the copy, this copy's own entries are moved to
   follow them (same changes, signed again by this installation), and this copy's changed rows and entries are
   written to the server.

The copy's history is then the server's, entry for entry, so ``lantern check`` verifies either.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from layers import history_store, replica, row_ids, server_history
from layers.server_history import ENTRY_COLUMNS
from layers.errors import ServerError
from layers.i18n import _
from layers.migrations import CHANGE_LOG_TABLE, META_TABLE
from layers.server_roles import APPEND_ONLY
from layers.server import connect, describe, server_error, without_password
from layers.server_schema import (
    CHANNEL_TABLE, TOMBSTONES_TABLE, VERSION_COLUMN, WRITE_LOCK_TABLE, TableLayout, is_lantern_server, quote,
    server_layouts,
)
from layers.server_transfer import insert_sql, rows_down, rows_up, select_sql

# tables kept in step but never in conflict: the history's own machinery, and what is derived from other rows
_NO_CONFLICT_PREFIXES = ("gpkg_", "lantern_")
_NO_CONFLICT = {CHANGE_LOG_TABLE, META_TABLE, "change_log_signers", "layer_info", "layer_styles"}


@dataclass
class Conflict:
    """A row changed both in this copy and on the server since they were last in step."""
    table: str
    row_id: int
    mine: dict | None    # the row here (None: deleted here)
    theirs: dict | None  # the row on the server (None: deleted there)
    version: int         # the server's version of it, as seen

    @property
    def key(self) -> tuple[str, int]:
        return self.table, self.row_id


@dataclass
class SyncResult:
    sent_rows: int = 0
    sent_entries: int = 0
    received_rows: int = 0
    received_entries: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    changed_tables: set[str] = field(default_factory=set)

    @property
    def in_step(self) -> bool:
        return not self.conflicts


# -- making a copy ----------------------------------------------------------------------------------------------


def pull(address: str, path: str | Path, *, author: str, label: str = "", password: str | None = None) -> SyncResult:
    """A new copy of the shared workspace at ``address`` in the file ``path``; the server's history records
    who took it and the block of ids it was given (when the account may write history)."""
    import os

    import psycopg

    from layers.errors import StorageError
    from layers.files import sibling_temp
    from layers.server_transfer import _build_file, _sqlite

    path = Path(path)
    if path.exists():
        raise StorageError(path, _("the file exists already; choose another name"))
    pg = connect(address, password=password)
    try:
        with pg.transaction():  # read committed: after the lock, the newest entry is the one this follows
            _require_workspace(pg, address)
            _refuse_partial_reader(pg, address)
            _take_write_lock(pg)
            block = pg.execute("SELECT lantern_claim_block(%s)", (label or path.name,)).fetchone()[0]
            _log_on_server(pg, author, "copy", {"to": label or path.name, "id_block": block})
        # the copy itself: one snapshot of the server, read without the lock (others' syncs go on meanwhile;
        # each writes its rows and entries in one transaction, so any snapshot is whole)
        pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        pg.read_only = True
        with pg.transaction():
            watermark = _watermark(pg)  # the first statement: it fixes the snapshot the copy is read from
            with sibling_temp(path) as tmp:
                report = _build_file(pg, tmp, None)
                conn = _sqlite(tmp)
                with conn:
                    conn.execute("BEGIN")
                    first, last = row_ids.block_range(block)
                    replica.make(conn, {"server": describe(address), "address": without_password(address),
                                        "watermark": watermark, row_ids.BLOCK_KEY: f"{first},{last}",
                                        "own_versions": "[]"})
                    replica.set_base(conn, *history_store.last_entry(conn))
                conn.close()
                os.replace(tmp, path)
        return SyncResult(received_rows=report.rows)
    except psycopg.Error as exc:
        raise server_error(address, exc) from None
    finally:
        pg.close()


def _require_workspace(pg, address: str) -> None:
    if not is_lantern_server(pg):
        raise ServerError(_("{server}: this database holds no Lantern workspace").format(server=describe(address)))


def _refuse_partial_reader(pg, address: str) -> None:
    """Copies are whole: an account that may read only part of the workspace (a planner, the police) uses it
    on the server (QGIS, psql) until partial copies exist."""
    layouts = server_layouts(pg)
    hidden = [layout.name for layout in layouts
              if not pg.execute("SELECT has_table_privilege(%s, 'SELECT')", (quote(layout.name),)).fetchone()[0]]
    if hidden:
        raise ServerError(_("{server}: this account may read only part of the workspace (not {tables}); a copy "
                            "in Lantern needs an auditor's or administrator's account").format(
            server=describe(address), tables=", ".join(hidden[:3])))


def _watermark(pg) -> int:
    """Every server transaction older than this has ended: its changes are in what is read now."""
    return int(pg.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint").fetchone()[0])


def _log_on_server(pg, author: str, action: str, after: dict) -> dict | None:
    """Append a signed entry to the server's history (holding the write lock); None when this account may not."""
    if not pg.execute(f"SELECT has_table_privilege('{CHANGE_LOG_TABLE}', 'INSERT')").fetchone()[0]:
        return None
    return server_history.append(pg, author=author, action=action, after=after)


def _insert_local(conn, entries: list[dict]) -> None:
    """Write whole entries (ids included) into the copy's change log."""
    conn.executemany(f"INSERT INTO {CHANGE_LOG_TABLE} ({', '.join(ENTRY_COLUMNS)}) "
                     f"VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})",
                     [[e.get(c) for c in ENTRY_COLUMNS] for e in entries])


# -- syncing ----------------------------------------------------------------------------------------------------


def is_copy(ws) -> bool:
    return replica.is_replica(ws.db.conn)


def unsent_entries(ws) -> int:
    """History entries made in the copy since it was last in step (what waits to be sent)."""
    conn = ws.db.conn
    if not replica.is_replica(conn):
        return 0
    base_id, _hash = replica.base(replica.state(conn))
    return conn.execute(f"SELECT count(*) FROM {CHANGE_LOG_TABLE} WHERE id > ?", (base_id,)).fetchone()[0]


def server_of(ws) -> str | None:
    """The address (without password) of the server a copy came from; None for a file of its own."""
    return replica.state(ws.db.conn).get("address") if replica.is_replica(ws.db.conn) else None


def sync(ws, address: str, *, resolve: dict[tuple[str, int], str] | None = None, author: str = "",
         password: str | None = None) -> SyncResult:
    """Bring the copy ``ws`` and the server into step (see the module's docstring). ``resolve`` decides
    conflicts found before: ``{(table, row id): "mine" | "theirs"}``; a conflict it does not name, or one that
    changed again on the server since, is returned again and nothing is written."""
    import psycopg

    conn = ws.db.conn
    if not replica.is_replica(conn):
        raise ServerError(_("{file} is not a copy of a shared workspace").format(file=ws.path.name))
    state = replica.state(conn)
    base_id, watermark = replica.base(state)[0], int(state["watermark"])
    own = set(json.loads(state.get("own_versions", "[]")))
    pg = connect(address, password=password)
    try:
        # the copy commits after the server: a server that refuses leaves the copy as it was
        with ws.atomic(), pg.transaction():
            _take_write_lock(pg)
            _refuse_another_history(pg, address, state, watermark)
            new_watermark = _watermark(pg)
            layouts = {layout.name: layout for layout in server_layouts(pg)}
            pending = replica.pending(conn)
            _hold_rows(pg, layouts, pending)
            theirs = _remote_rows(pg, layouts, watermark)
            their_entries = _server_entries(pg, base_id)
            seen = json.loads(state.get("conflicts_seen", "{}"))
            conflicts = _conflicts(conn, layouts, pending, theirs, own, resolve or {}, seen)
            if conflicts:  # what the person is shown: a decision counts only for the version it was made on
                replica.set_state(conn, "conflicts_seen", json.dumps({f"{c.table}:{c.row_id}": c.version
                                                                      for c in conflicts}))
                return SyncResult(conflicts=conflicts)
            result = _exchange(ws, pg, layouts, pending, theirs, their_entries, base_id, resolve or {}, author)
            txid = int(pg.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0])
            sent = {txid} if result.sent_rows or result.sent_entries else set()
            replica.set_state(conn, "watermark", new_watermark)
            replica.set_state(conn, "own_versions", json.dumps(sorted(v for v in own | sent if v >= new_watermark)))
        return result
    except psycopg.Error as exc:
        raise server_error(address, exc) from None
    finally:
        pg.close()


def _take_write_lock(pg) -> None:
    """The history's write lock: one writer appends at a time. A table lock (EXCLUSIVE needs UPDATE on it,
    which only writing roles have), not an advisory lock, which any login could take and hold."""
    pg.execute(f"LOCK TABLE {WRITE_LOCK_TABLE} IN EXCLUSIVE MODE")


def _refuse_another_history(pg, address: str, state: dict, watermark: int) -> None:
    """A copy syncs only with the history it came from: the server must still hold the copy's base entry, and
    its transaction ids must not have gone back (a server restored from a backup, or moved with pg_restore)."""
    base_id, base_hash = replica.base(state)
    row = pg.execute(f"SELECT hash FROM {CHANGE_LOG_TABLE} WHERE id = %s", (base_id,)).fetchone()
    now = int(pg.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()[0])
    if row is None or row[0] != base_hash or now < watermark:
        raise ServerError(_("{server}: this server's history is not the one this copy was taken from (restored "
                            "from a backup, or moved?); nothing was changed: take a new copy, and bring this copy's "
                            "changes over by hand").format(server=describe(address)))


def _hold_rows(pg, layouts: dict[str, TableLayout], pending: dict[str, list[int]]) -> None:
    """Lock the server's rows this copy changed, so that an edit made on the server meanwhile (QGIS, psql)
    waits for this sync and is then compared, instead of being overwritten."""
    for table, keys in pending.items():
        layout = layouts.get(table)
        if layout is not None and table not in APPEND_ONLY:  # history's own rows are only ever added
            pg.execute(f"SELECT 1 FROM {quote(table)} WHERE {quote(layout.key)} = ANY(%s) FOR UPDATE", (keys,))


def _remote_rows(pg, layouts: dict[str, TableLayout], watermark: int) -> dict[str, dict[int, tuple]]:
    """Rows written on the server at or after ``watermark``: table -> {row id: (version, values or None)}."""
    out: dict[str, dict[int, tuple]] = {}
    for table, row_key, version in pg.execute(
            f"SELECT table_name, row_key, version FROM {TOMBSTONES_TABLE} WHERE version >= %s", (watermark,)):
        if table in layouts:
            out.setdefault(table, {})[int(row_key)] = (int(version), None)
    for table, layout in layouts.items():
        rows = pg.execute(f"SELECT {VERSION_COLUMN}, {select_sql(layout)} FROM {quote(table)} "
                          f"WHERE {VERSION_COLUMN} >= %s", (watermark,)).fetchall()
        if rows:
            converted = rows_down(layout, [r[1:] for r in rows])
            for (version, *_rest), row in zip(rows, converted):
                out.setdefault(table, {})[int(row[0])] = (int(version), row[1:])
    return out


def _server_entries(pg, after_id: int) -> list[dict]:
    cur = pg.execute(f"SELECT {', '.join(ENTRY_COLUMNS)} FROM {CHANGE_LOG_TABLE} WHERE id > %s ORDER BY id",
                     (after_id,))
    return [dict(zip(ENTRY_COLUMNS, r)) for r in cur]


def _local_row(conn: sqlite3.Connection, layout: TableLayout, row_id: int) -> tuple | None:
    cols = ", ".join(quote(c.name) for c in layout.columns)
    return conn.execute(f"SELECT {cols} FROM {quote(layout.name)} WHERE rowid = ?", (row_id,)).fetchone()


def _conflicts(conn, layouts, pending, theirs, own, resolve, seen) -> list[Conflict]:
    found = []
    for table, keys in pending.items():
        if table in _NO_CONFLICT or table.startswith(_NO_CONFLICT_PREFIXES) or table.endswith("_outlines"):
            continue
        layout = layouts.get(table)
        remote = theirs.get(table, {})
        for key in keys:
            if key not in remote or layout is None:
                continue
            version, values = remote[key]
            if version in own:
                continue  # this copy's own earlier send
            mine = _local_row(conn, layout, key)
            if mine == values:
                continue  # both made the same change
            if resolve.get((table, key)) in ("mine", "theirs") and seen.get(f"{table}:{key}") == version:
                continue  # decided, on the very version that is there now
            names = [c.name for c in layout.columns]
            found.append(Conflict(table, key, None if mine is None else dict(zip(names, mine)),
                                  None if values is None else dict(zip(names, values)), version))
    return found


def _exchange(ws, pg, layouts, pending, theirs, their_entries, base_id, resolve, author) -> SyncResult:
    """Write the others' changes into the copy and the copy's into the server (conflicts decided)."""
    conn = ws.db.conn
    result = SyncResult()
    wanted = sorted({c.srid for layout in layouts.values() for c in layout.columns if c.srid})
    known = {r[0] for r in pg.execute("SELECT srid FROM spatial_ref_sys WHERE srid = ANY(%s)", (wanted,))}
    ours = [dict(zip(ENTRY_COLUMNS, r)) for r in conn.execute(
        f"SELECT {', '.join(ENTRY_COLUMNS)} FROM {CHANGE_LOG_TABLE} WHERE id > ? ORDER BY id", (base_id,))]
    with replica.applying(conn):
        conn.execute(f"DELETE FROM {CHANGE_LOG_TABLE} WHERE id > ?", (base_id,))
        taken_back = {k for k, v in resolve.items() if v == "theirs"}
        result.received_rows = _apply_theirs(conn, layouts, theirs, pending, taken_back, result.changed_tables)
        _insert_local(conn, their_entries)
        result.received_entries = len(their_entries)
        moved = _rechain(conn, ours, their_entries, base_id)
        if resolve:
            moved = [*moved, _log_decisions(conn, resolve, author)]
        if moved and moved[-1] is not (ours[-1] if ours else None):  # signed here: the server must know the key
            pending = {**pending, "change_log_signers": sorted(
                set(pending.get("change_log_signers", [])) | set(_own_signer_row(conn)))}
        result.sent_rows = _send_rows(conn, pg, layouts, pending, taken_back, known)
        server_history.insert(pg, moved)
        result.sent_entries = len(moved)
        if moved:
            history_store.set_meta(ws.db, history_store.HEAD_KEY, moved[-1]["hash"])
        _recount(pg, {t for t in pending if t in layouts})
        replica.clear_pending(conn)
        replica.set_base(conn, *history_store.last_entry(conn))
        replica.set_state(conn, "conflicts_seen", "{}")
    return result


def _log_decisions(conn, resolve: dict[tuple[str, int], str], author: str) -> dict:
    """One signed entry recording the person's decisions on conflicts, and the rows as they stand after them
    (so the history's last word on each is what the copy and the server hold)."""
    last_id, prev = history_store.last_entry(conn)
    key = history_store.installation_key()
    tables: dict[str, list[int]] = {}
    for table, row_id in resolve:
        tables.setdefault(table, []).append(row_id)
    hashes = {t: history_store.row_hashes(conn, t, ids) for t, ids in sorted(tables.items())}
    decided = {"mine": sorted(f"{t}:{i}" for (t, i), v in resolve.items() if v == "mine"),
               "theirs": sorted(f"{t}:{i}" for (t, i), v in resolve.items() if v == "theirs")}
    entry = {"id": last_id + 1, **history_store.build_entry(
        prev_hash=prev, author=author, action="resolve conflicts", table="*", row_id=None, before=None,
        after=decided, hashes=hashes, key=key)}
    history_store.ensure_signer(conn, key.public, entry["id"])
    _insert_local(conn, [entry])
    return entry


def _own_signer_row(conn) -> list[int]:
    key = history_store.installation_key()
    row = conn.execute("SELECT id FROM change_log_signers WHERE public_key = ?", (key.public.text,)).fetchone()
    return [row[0]] if row else []


def _apply_theirs(conn, layouts, theirs, pending, take_theirs, changed: set[str]) -> int:
    """Write the server's changed rows into the copy. A row this copy changed too keeps this copy's value
    (its conflicts were decided, or both made the same change, or it is this copy's own earlier send),
    except where the person chose theirs."""
    n = 0
    # catalogue tables last: their counts and extents then hold, not what the data tables' triggers added
    order = sorted(theirs, key=lambda t: (t.startswith("gpkg_") or t in (META_TABLE, "layer_info"), t))
    for table in order:
        if table == CHANGE_LOG_TABLE:
            continue
        layout = layouts[table]
        mine = set(pending.get(table, []))
        for key, (_version, values) in theirs[table].items():
            if key in mine and (table, key) not in take_theirs:
                continue
            _write_local(conn, layout, key, values)
            n += 1
        changed.add(table)
    return n


def _write_local(conn, layout: TableLayout, key: int, values: tuple | None) -> None:
    q = quote(layout.name)
    if values is None:
        conn.execute(f"DELETE FROM {q} WHERE rowid = ?", (key,))
        return
    sets = ", ".join(f"{quote(c.name)} = ?" for c in layout.columns)
    if conn.execute(f"UPDATE {q} SET {sets} WHERE rowid = ?", (*values, key)).rowcount == 0:
        conn.execute(insert_sql(layout), (key, *values))


def _rechain(conn, ours: list[dict], their_entries: list[dict], base_id: int) -> list[dict]:
    """This copy's entries placed after the server's newest one (unchanged when the server had none new)."""
    if not ours:
        return []
    if their_entries:
        key = history_store.installation_key()
        prev_id, prev_hash = their_entries[-1]["id"], their_entries[-1]["hash"]
        moved = []
        for e in ours:
            m = {"id": prev_id + 1, **history_store.rechained(e, prev_hash, key)}
            moved.append(m)
            prev_id, prev_hash = m["id"], m["hash"]
        history_store.ensure_signer(conn, key.public, moved[0]["id"])
    else:
        moved = ours
    _insert_local(conn, moved)
    return moved


def _send_rows(conn, pg, layouts, pending, taken_back, known) -> int:
    """Write this copy's changed rows to the server (deleted ones deleted), but those taken back ("theirs")."""
    n = 0
    for table, keys in pending.items():
        layout = layouts.get(table)
        if layout is None or table == CHANGE_LOG_TABLE:
            continue
        keys = [k for k in keys if (table, k) not in taken_back]
        present = {k: row for k in keys if (row := _local_row(conn, layout, k)) is not None}
        gone = [k for k in keys if k not in present]
        append_only = table in APPEND_ONLY  # history's tables: added to, never updated (the roles may not)
        with pg.cursor() as cur:
            if gone and not append_only:
                cur.executemany(f"DELETE FROM {quote(table)} WHERE {quote(layout.key)} = %s", [(k,) for k in gone])
            if present:
                ids = list(present)
                cols = layout.server_columns()
                updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in cols if c != layout.key)
                on_conflict = "DO NOTHING" if append_only else f"DO UPDATE SET {updates}"
                cur.executemany(f"INSERT INTO {quote(table)} ({', '.join(map(quote, cols))}) "
                                f"VALUES ({', '.join(['%s'] * len(cols))}) "
                                f"ON CONFLICT ({quote(layout.key)}) {on_conflict}",
                                rows_up(layout, ids, [present[k] for k in ids], known))
        n += len(keys)
    return n


def _recount(pg, tables: set[str]) -> None:
    """Feature counts on the server from its rows (each copy sent its own count, which saw only its rows)."""
    for table in tables:
        count = f"(SELECT count(*) FROM {quote(table)})"
        pg.execute(f"UPDATE gpkg_ogr_contents SET feature_count = {count} "
                   f"WHERE table_name = %s AND feature_count IS DISTINCT FROM {count}", (table,))


# -- words for people -------------------------------------------------------------------------------------------


def _names(table: str) -> tuple[str, dict[str, str]]:
    """A layer's name and its fields' names in the user's language (a table Lantern does not declare: as is)."""
    from layers.catalogue import layer_kinds

    k = layer_kinds().get(table)
    if k is None:
        return table, {}
    return k.label, {f.name: f.label for f in k.fields}


def conflict_lines(conflict: Conflict) -> list[str]:
    """What differs in a conflict, field by field (a geometry is named, not printed)."""
    layer, labels = _names(conflict.table)
    where = f"{layer} {conflict.row_id}"
    if conflict.mine is None:
        return [_("{row}: deleted here, changed on the server").format(row=where)]
    if conflict.theirs is None:
        return [_("{row}: changed here, deleted on the server").format(row=where)]
    lines = []
    for name in conflict.mine:
        mine, theirs = conflict.mine[name], conflict.theirs.get(name)
        if mine == theirs:
            continue
        field = labels.get(name, name)
        if isinstance(mine, (bytes, bytearray)) or isinstance(theirs, (bytes, bytearray)):
            lines.append(_("{row}: {field} differs (a geometry or file)").format(row=where, field=field))
        else:
            lines.append(_("{row}: {field} is {mine!r} here, {theirs!r} on the server").format(
                row=where, field=field, mine=mine, theirs=theirs))
    return lines


def apply_roles(address: str) -> list:
    """Give every role its access again (after a table was added, or to repair grants changed by hand)."""
    import psycopg

    from layers import server_roles

    pg = connect(address)
    try:
        with pg.transaction():
            _require_workspace(pg, address)
            return server_roles.apply(pg, server_layouts(pg))
    except psycopg.Error as exc:
        raise server_error(address, exc) from None
    finally:
        pg.close()


class ChangeListener:
    """Hears the server say that a table changed (LISTEN/NOTIFY), so a window syncs within a moment of a commit
    elsewhere instead of polling. One connection of its own; ``wait`` blocks up to ``timeout`` seconds."""

    def __init__(self, address: str, password: str | None = None):
        from psycopg import sql

        self.conn = connect(address, autocommit=True, password=password)
        channel = self.conn.execute(f"SELECT name FROM {CHANNEL_TABLE}").fetchone()[0]  # only copy-makers read it
        self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

    def wait(self, timeout: float) -> set[str]:
        """The tables changed since the last call (empty when nothing came within ``timeout``)."""
        tables = {n.payload for n in self.conn.notifies(timeout=timeout, stop_after=1)}
        if tables:  # a commit touches several tables: their notifications arrive together, take them all
            tables |= {n.payload for n in self.conn.notifies(timeout=0)}
        return tables

    def close(self) -> None:
        self.conn.close()
