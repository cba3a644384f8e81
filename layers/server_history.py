"""The shared workspace's change log on the server: appending a signed entry, and the entries' columns.

A push (the file's move), a copy handed out and a copy's entries all end up here; each appender holds the
history's write lock, so the entry it builds follows the newest one on the server.
"""
from __future__ import annotations

import datetime as dt

from layers import history_store
from layers.migrations import CHANGE_LOG_TABLE, META_TABLE, SIGNERS_TABLE
from layers.server_schema import COLUMNS_TABLE

ENTRY_COLUMNS = ("id", *history_store.FIELDS, "hash", "row_hashes", "signer", "signature")


def add_signer(pg, public, entry_id: int) -> dict[str, str]:
    """List ``public`` among the server's signers; its row's hash, by row id (for the entry it first signs)."""
    from layers.row_ids import BLOCK_SIZE

    # an id below every copy's block (layers.row_ids): a row added on the server never meets a copy's
    row_id = pg.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {SIGNERS_TABLE} WHERE id < %s",
                        (BLOCK_SIZE,)).fetchone()[0]
    values = {"id": row_id, "public_key": public.text, "fingerprint": public.fingerprint, "first_entry": entry_id,
              "added": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    pg.execute(f"INSERT INTO {SIGNERS_TABLE} ({', '.join(values)}) VALUES ({', '.join(['%s'] * len(values))})",
               list(values.values()))
    names = [r[0] for r in pg.execute(f"SELECT column_name FROM {COLUMNS_TABLE} WHERE table_name = %s ORDER BY ord",
                                      (SIGNERS_TABLE,))]
    return {str(row_id): history_store.hash_columns(names, [[values.get(n)] for n in names])[0]}


def append(pg, *, author: str, action: str, after: dict, hashes: dict | None = None) -> dict:
    """Append one signed entry after the server's newest (call holding the write lock); the entry, with its id.
    A key new to the server is listed first, and its row hashed into the entry, as every append does."""
    last = pg.execute(f"SELECT id, hash FROM {CHANGE_LOG_TABLE} ORDER BY id DESC LIMIT 1").fetchone()
    last_id, prev = last if last else (0, history_store.GENESIS)
    key = history_store.installation_key()
    hashes = {t: dict(v) for t, v in (hashes or {}).items()}
    if not pg.execute(f"SELECT 1 FROM {SIGNERS_TABLE} WHERE public_key = %s", (key.public.text,)).fetchone():
        hashes.setdefault(SIGNERS_TABLE, {}).update(add_signer(pg, key.public, last_id + 1))
    entry = {"id": last_id + 1, **history_store.build_entry(
        prev_hash=prev, author=author, action=action, table="*", row_id=None, before=None, after=after,
        hashes=hashes, key=key)}
    insert(pg, [entry])
    return entry


def insert(pg, entries: list[dict]) -> None:
    """Write whole entries (ids included) and move the server's history head to the last one."""
    if not entries:
        return
    cols = list(ENTRY_COLUMNS)
    with pg.cursor() as cur:
        cur.executemany(f"INSERT INTO {CHANGE_LOG_TABLE} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                        [[e.get(c) for c in cols] for e in entries])
    pg.execute(f"UPDATE {META_TABLE} SET value = %s WHERE key = %s", (entries[-1]["hash"], history_store.HEAD_KEY))
