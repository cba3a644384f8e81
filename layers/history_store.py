"""The change log's storage: its format, row hashing, signing, appending, and the queries that read it.

This is the write side and the SQL of the hash-chained, signed change log
(its rules and verification are in ``audit.changelog``, which re-exports
what callers need). It lives in ``layers`` because the workspace itself
writes entries — bulk imports, partner packages, the migration that began
signed history — and ``layers`` imports nothing above it. The formats here
(canonical JSON, row hashes, entry hash, signing payload) are what existing
workspaces were signed with: they must not change.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

from layers import keys
from layers.migrations import CHANGE_LOG_TABLE, DERIVED_TABLES, LAYER_INFO_TABLE, META_TABLE, SIGNERS_TABLE, set_meta

GENESIS = "0" * 64
HEAD_KEY = "change_log_head"
SIGNED_SCHEMA = 5  # the schema version from which every entry is signed and records row hashes
FIELDS = ("time", "author", "action", "table_name", "row_id", "before", "after", "prev_hash")
SIGNED_FIELDS = FIELDS + ("row_hashes", "signer")
SIGNATURE_CONTEXT = b"lantern change log entry\n"
# Tables that are the log's own machinery, not data it describes, and derived data (vector tiles) made
# again from the logged layers at will.
UNTRACKED = frozenset({CHANGE_LOG_TABLE, META_TABLE, LAYER_INFO_TABLE}) | DERIVED_TABLES
PARTNER_PREFIX = "partner_"


def to_json(values: dict | None) -> str | None:
    """Row values as canonical JSON; blobs (geometries) as base64."""
    if values is None:
        return None

    def encode(v):
        if isinstance(v, (bytes, bytearray, memoryview)):
            return {"$b64": base64.b64encode(bytes(v)).decode("ascii")}
        return v

    return json.dumps({k: encode(v) for k, v in values.items()}, sort_keys=True, ensure_ascii=False)


def from_json(text: str | None) -> dict | None:
    if text is None:
        return None

    def decode(v):
        if isinstance(v, dict) and set(v) == {"$b64"}:
            return base64.b64decode(v["$b64"])
        return v

    return {k: decode(v) for k, v in json.loads(text).items()}


# -- row hashes ---------------------------------------------------------------------------


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _hash_rows(cursor, chunk: int = 20_000):
    """(rowid, hash) for every row of a ``SELECT rowid, * FROM t`` cursor.

    A row's hash is SHA-256 (first 128 bits, hex) of its non-NULL columns in
    column-name order, each as name, type tag (i/r/t/b) and length-prefixed
    value: integers in decimal, reals as Python's shortest round-trip repr,
    text as UTF-8, blobs (the GeoPackage geometry) as stored. NULLs are left
    out, so adding an empty column (as QGIS may) changes no row's hash.
    Rows are hashed a chunk at a time, column by column (see ``hash_columns``).
    """
    names = [d[0] for d in cursor.description][1:]
    while True:
        rows = cursor.fetchmany(chunk)
        if not rows:
            return
        rowids, *columns = zip(*rows)
        yield from zip(rowids, hash_columns(names, columns))


def _encoded(value) -> bytes:
    """One value's type tag and bytes, as the row hash writes them."""
    t = type(value)
    if t is bytes:
        return b"b" + value
    if t is str:
        return b"t" + value.encode("utf-8")
    if t is int:
        return b"i" + str(value).encode("ascii")
    if t is float:
        return b"r" + repr(value).encode("ascii")
    if t is bool:  # bound as an integer, read back as one
        return b"i" + str(int(value)).encode("ascii")
    return b"?" + repr(value).encode("utf-8")  # pragma: no cover - sqlite3 returns only the four types above


def _column_parts(name: str, values) -> list[bytes]:
    """Each value's part of the row hash input (b"" for NULL): name, length, tag, value."""
    prefix = name.encode("utf-8") + b"\x00"

    def part(value) -> bytes:
        if value is None:
            return b""
        b = _encoded(value)
        return prefix + len(b).to_bytes(8, "big") + b

    kinds = set(map(type, values)) - {type(None)}
    if kinds == {bytes} and None not in values:  # geometries: one comprehension, no call per value
        return [prefix + (len(v) + 1).to_bytes(8, "big") + b"b" + v for v in values]
    if kinds == {int} and None not in values and len(set(values)) == len(values):  # fids
        return [prefix + (len(v) + 1).to_bytes(8, "big") + b"i" + v for v in (str(i).encode("ascii") for i in values)]
    if len(kinds) == 1 and kinds <= {str, int, bool} and len(set(values)) * 4 < len(values):
        cache = {v: part(v) for v in set(values)}  # few distinct values (choices, flags): each encoded once
        return [cache[v] for v in values]
    return [part(v) for v in values]


def hash_columns(names, columns) -> list[str]:
    """The row hashes (as ``_hash_rows``) of rows given column by column: ``columns[i]`` holds the values
    of the column ``names[i]`` as SQLite returns them (None, int, float, str, bytes)."""
    sha = hashlib.sha256
    parts = [_column_parts(names[i], columns[i]) for i in sorted(range(len(names)), key=names.__getitem__)
             if any(v is not None for v in columns[i])]
    if not parts:
        return [sha(b"").hexdigest()[:32]] * (len(columns[0]) if columns else 0)
    return [sha(b"".join(row)).hexdigest()[:32] for row in zip(*parts)]


def rows_digest(hashes) -> str:
    """A digest of rows: SHA-256 of their row hashes in row order (an import entry's ``rows_sha256``)."""
    return hashlib.sha256("".join(hashes).encode("ascii")).hexdigest()


def table_exists(conn, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None


#: rows hashed at a time in a table holding files (the field teams' photos): memory stays flat
BLOB_CHUNK = 64


def _chunk(conn, table: str) -> int:
    """Rows to hash at a time: few where a column holds files (declared BLOB; a place's ``outline``, a geometry,
    is not one), else many."""
    declared = [str(r[2]).upper() for r in conn.execute(f"PRAGMA table_info({quote(table)})") if r[1] != "outline"]
    return BLOB_CHUNK if "BLOB" in declared else 20_000


def current_row_hashes(conn, table: str) -> dict[int, str]:
    """The hash of every row of ``table`` now, by rowid."""
    return dict(_hash_rows(conn.execute(f"SELECT rowid, * FROM {quote(table)}"), _chunk(conn, table)))


def row_hashes(conn, table: str, ids=None) -> dict[str, str | None]:
    """Hashes of the rows ``ids`` of ``table`` (all rows when None); a missing row is None (a tombstone)."""
    if ids is None:
        if not table_exists(conn, table):
            return {}
        return {str(k): v for k, v in current_row_hashes(conn, table).items()}
    ids = sorted({int(i) for i in ids})
    if not ids:
        return {}
    if not table_exists(conn, table):  # a table removed outside Lantern: all its rows are gone
        return {str(i): None for i in ids}
    found: dict[int, str] = {}
    if len(ids) > 50:
        cursor = conn.execute(f"SELECT rowid, * FROM {quote(table)} WHERE rowid BETWEEN ? AND ?", (ids[0], ids[-1]))
        wanted = set(ids)
        found = {k: v for k, v in _hash_rows(cursor) if k in wanted}
    else:
        for i in ids:
            found.update(_hash_rows(conn.execute(f"SELECT rowid, * FROM {quote(table)} WHERE rowid = ?", (i,))))
    return {str(i): found.get(i) for i in ids}


def registered_tables(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents ORDER BY table_name")]


def partner_tables(conn) -> set[str]:
    """Read-only partner tables (imported packages), which the package import logs as a whole."""
    names = {t for t in registered_tables(conn) if t.startswith(PARTNER_PREFIX)}
    if table_exists(conn, LAYER_INFO_TABLE):
        names |= {r[0] for r in conn.execute(
            f"SELECT table_name FROM {LAYER_INFO_TABLE} WHERE source LIKE 'Partner: %'")}
    return names


def trackable_tables(conn) -> list[str]:
    """The data tables whose rows the log describes: every registered table but the log's own and partners'."""
    from layers.catalogue import layer_kinds
    from layers.place_outline import outline_tables

    skipped = UNTRACKED | partner_tables(conn) | outline_tables(layer_kinds().values())
    return [t for t in registered_tables(conn) if t not in skipped and table_exists(conn, t)]


# -- signing ------------------------------------------------------------------------------

_KEYS: dict = {}


def installation_key():
    """This installation's signing key (cached per key folder)."""
    folder = str(keys.key_dir())
    if folder not in _KEYS:
        _KEYS[folder] = keys.installation_key()
    return _KEYS[folder]


def signing_payload(entry_hash_hex: str) -> bytes:
    return SIGNATURE_CONTEXT + entry_hash_hex.encode("ascii")


def ensure_signer(conn, public, entry_id: int) -> int | None:
    """List ``public`` in the signers table; the new row's id, or None when it was listed already."""
    row = conn.execute(f"SELECT id FROM {SIGNERS_TABLE} WHERE public_key = ?", (public.text,)).fetchone()
    if row:
        return None
    from layers.row_ids import next_ids

    cur = conn.execute(
        f"INSERT INTO {SIGNERS_TABLE} (id, public_key, fingerprint, first_entry, added) VALUES (?, ?, ?, ?, ?)",
        (next_ids(conn, SIGNERS_TABLE), public.text, public.fingerprint, entry_id,
         dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")),
    )
    return cur.lastrowid


# -- entries ------------------------------------------------------------------------------


def entry_hash(entry: dict) -> str:
    """An entry's hash. Entries from before signing (no row hashes, no signer) keep their old formula."""
    signed = entry.get("row_hashes") is not None or entry.get("signer") is not None
    fields = SIGNED_FIELDS if signed else FIELDS
    payload = json.dumps([entry.get(f) for f in fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def last_entry(conn) -> tuple[int, str]:
    row = conn.execute(f"SELECT id, hash FROM {CHANGE_LOG_TABLE} ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def signing_columns(conn) -> bool:
    return "signature" in {r[1] for r in conn.execute(f"PRAGMA table_info({CHANGE_LOG_TABLE})")}


def build_entry(*, prev_hash: str, author: str, action: str, table: str, row_id: int | None,
                before: dict | None, after: dict | None, hashes: dict | None = None, key=None) -> dict:
    """One log entry, hashed (and, when ``hashes`` is given, with its row hashes, signed by ``key``).

    The entry is a plain dict of the change log's columns (without ``id``): the workspace file and the
    shared server store write it the same way.
    """
    entry = {
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
        "author": author or "",
        "action": action,
        "table_name": table,
        "row_id": row_id,
        "before": to_json(before),
        "after": to_json(after),
        "prev_hash": prev_hash,
    }
    if hashes is not None:
        key = key or installation_key()
        entry["row_hashes"] = json.dumps(hashes, sort_keys=True, separators=(",", ":"))
        entry["signer"] = key.public.text
        entry["hash"] = entry_hash(entry)
        entry["signature"] = key.sign(signing_payload(entry["hash"]))
    else:
        entry["hash"] = entry_hash(entry)
    return entry


def rechained(entry: dict, prev_hash: str, key=None) -> dict:
    """A signed entry moved to follow ``prev_hash`` (a copy's entries placed after others' on the server):
    the same change, time, author and row hashes; a new hash, signed again by this installation."""
    key = key or installation_key()
    moved = {f: entry.get(f) for f in FIELDS}
    moved["prev_hash"] = prev_hash
    moved["row_hashes"] = entry.get("row_hashes")
    moved["signer"] = key.public.text
    moved["hash"] = entry_hash(moved)
    moved["signature"] = key.sign(signing_payload(moved["hash"]))
    return moved


def append(db, *, author: str, action: str, table: str, row_id: int | None, before: dict | None,
           after: dict | None, rows: dict | None = None, key=None, hashed: dict | None = None) -> dict:
    """Append one signed entry (call inside the transaction of the change it records).

    The row ``row_id`` of ``table`` (when given) and the rows named in ``rows``
    (``{table: [ids]}``, or ``{table: None}`` for all its rows) are hashed as
    they are now — after the change — into the entry's ``row_hashes``. ``hashed``
    (``{table: {"row id": hash}}``) adds hashes the caller computed already from the values it
    wrote (a bulk import: see ``hash_columns``).
    """
    conn = db.conn
    last_id, prev_hash = last_entry(conn)
    hashes = None
    if signing_columns(conn):  # schema >= 5 (during the migration to it, too)
        touched: dict[str, list | None] = {}
        for t, ids in (rows or {}).items():
            touched[t] = None if ids is None else list(ids)
        if row_id is not None and table != "*" and touched.get(table, []) is not None:
            touched.setdefault(table, []).append(row_id)
        key = key or installation_key()
        new_signer = ensure_signer(conn, key.public, last_id + 1)
        if new_signer is not None and touched.get(SIGNERS_TABLE, []) is not None:
            touched.setdefault(SIGNERS_TABLE, []).append(new_signer)
        hashes = {t: row_hashes(conn, t, ids) for t, ids in sorted(touched.items())}
        for t, given in (hashed or {}).items():
            hashes.setdefault(t, {}).update(given)
    entry = build_entry(prev_hash=prev_hash, author=author, action=action, table=table, row_id=row_id,
                        before=before, after=after, hashes=hashes, key=key)
    columns = ", ".join(entry)
    conn.execute(
        f"INSERT INTO {CHANGE_LOG_TABLE} ({columns}) VALUES ({', '.join('?' * len(entry))})", list(entry.values())
    )
    set_meta(db, HEAD_KEY, entry["hash"])
    return entry


def record_baseline(db, *, author: str = "Lantern", action: str = "baseline", note: str = "",
                    tables: list[str] | None = None) -> dict:
    """One entry recording the hash of every row of ``tables`` (default: every trackable table) as it is now.

    Used by the migration that introduced row hashes (rows that existed
    before history recorded them are not outside edits) and by anything that
    writes many rows outside the command path (the demo's synthetic data).
    """
    names = trackable_tables(db.conn) if tables is None else tables
    after = {"tables": names}
    if note:
        after["note"] = note
    return append(db, author=author, action=action, table="*", row_id=None, before=None, after=after,
                  rows={t: None for t in names})


# -- reading the log ----------------------------------------------------------------------


def head_hash(conn) -> str | None:
    """The head hash recorded in the workspace metadata (None when missing)."""
    row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (HEAD_KEY,)).fetchone()
    return row[0] if row else None


def last_signer(conn) -> str | None:
    """The signer (public key text) of the newest entry, or None."""
    row = conn.execute(f"SELECT signer FROM {CHANGE_LOG_TABLE} ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None


def entry_rows(conn, signing: bool):
    """Every entry in id order: id, the FIELDS, hash, and (when ``signing``) row_hashes, signer, signature."""
    extra = ", row_hashes, signer, signature" if signing else ""
    return conn.execute(f"SELECT id, {', '.join(FIELDS)}, hash{extra} FROM {CHANGE_LOG_TABLE} ORDER BY id")


def listed_signers(conn) -> dict[str, int]:
    """The signers table: public key text -> row id (empty when the table is missing)."""
    if not table_exists(conn, SIGNERS_TABLE):
        return {}
    return {k: i for i, k in conn.execute(f"SELECT id, public_key FROM {SIGNERS_TABLE}")}
