"""The change log: every change appended, hash-chained, signed, and tied to the rows it touched.

Each entry holds what changed (``before``/``after``), the hash of the entry
before it (``prev_hash``) and its own hash; the newest hash is kept in the
workspace metadata (``change_log_head``), so editing, deleting, reordering or
cutting entries off the end breaks the chain.

Since schema version 5 every entry also holds

- ``row_hashes``: for every row the change touched, a content hash of the row
  as it was *after* the change, or ``null`` (a tombstone) when it was deleted —
  ``{"table": {"row id": "hash" | null}}``. Replaying the log gives the hash
  every row of the logged tables should have now, which ``audit.check``
  compares with the data;
- ``signer`` and ``signature``: the installation's Ed25519 public key
  (layers.keys) and its signature of the entry's hash. The hash covers the
  entry's fields, ``row_hashes``, the signer and the previous hash, so a
  signature vouches for the whole history up to its entry.

Every key that has signed is listed in ``change_log_signers``, a table whose
rows are themselves logged like data rows. Entries written before signing
existed carry no row hashes and no signature and keep their old hash; they
are reported as unsigned but chained.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from layers.i18n import _
from layers.migrations import CHANGE_LOG_TABLE, LAYER_INFO_TABLE, META_TABLE, SIGNERS_TABLE, set_meta

GENESIS = "0" * 64
HEAD_KEY = "change_log_head"
SIGNED_SCHEMA = 5  # the schema version from which every entry is signed and records row hashes
_FIELDS = ("time", "author", "action", "table_name", "row_id", "before", "after", "prev_hash")
_SIGNED_FIELDS = _FIELDS + ("row_hashes", "signer")
SIGNATURE_CONTEXT = b"lantern change log entry\n"
# Tables that are the log's own machinery, not data it describes.
UNTRACKED = frozenset({CHANGE_LOG_TABLE, META_TABLE, LAYER_INFO_TABLE})
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


def _hash_rows(cursor):
    """(rowid, hash) for every row of a ``SELECT rowid, * FROM t`` cursor.

    A row's hash is SHA-256 (first 128 bits, hex) of its non-NULL columns in
    column-name order, each as name, type tag (i/r/t/b) and length-prefixed
    value: integers in decimal, reals as Python's shortest round-trip repr,
    text as UTF-8, blobs (the GeoPackage geometry) as stored. NULLs are left
    out, so adding an empty column (as QGIS may) changes no row's hash.
    """
    names = [d[0] for d in cursor.description][1:]
    order = sorted(range(len(names)), key=names.__getitem__)
    prefixes = [n.encode("utf-8") + b"\x00" for n in names]
    sha = hashlib.sha256
    for rowid, *values in cursor:
        parts = []
        for i in order:
            v = values[i]
            if v is None:
                continue
            t = type(v)
            if t is bytes:
                b = b"b" + v
            elif t is str:
                b = b"t" + v.encode("utf-8")
            elif t is int:
                b = b"i" + str(v).encode("ascii")
            elif t is float:
                b = b"r" + repr(v).encode("ascii")
            else:  # pragma: no cover - sqlite3 returns only the four types above
                b = b"?" + repr(v).encode("utf-8")
            parts.append(prefixes[i] + len(b).to_bytes(8, "big") + b)
        yield rowid, sha(b"".join(parts)).hexdigest()[:32]


def table_exists(conn, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None


def current_row_hashes(conn, table: str) -> dict[int, str]:
    """The hash of every row of ``table`` now, by rowid."""
    return dict(_hash_rows(conn.execute(f"SELECT rowid, * FROM {quote(table)}")))


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


def _registered_tables(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents ORDER BY table_name")]


def partner_tables(conn) -> set[str]:
    """Read-only partner tables (imported packages), which the package import logs as a whole."""
    names = {t for t in _registered_tables(conn) if t.startswith(PARTNER_PREFIX)}
    if table_exists(conn, LAYER_INFO_TABLE):
        names |= {r[0] for r in conn.execute(
            f"SELECT table_name FROM {LAYER_INFO_TABLE} WHERE source LIKE 'Partner: %'")}
    return names


def trackable_tables(conn) -> list[str]:
    """The data tables whose rows the log describes: every registered table but the log's own and partners'."""
    partners = partner_tables(conn)
    return [t for t in _registered_tables(conn)
            if t not in UNTRACKED and t not in partners and table_exists(conn, t)]


# -- signing ------------------------------------------------------------------------------

_KEYS: dict = {}


def installation_key():
    """This installation's signing key (cached per key folder)."""
    from layers import keys

    folder = str(keys.key_dir())
    if folder not in _KEYS:
        _KEYS[folder] = keys.installation_key()
    return _KEYS[folder]


def signing_payload(entry_hash_hex: str) -> bytes:
    return SIGNATURE_CONTEXT + entry_hash_hex.encode("ascii")


def _ensure_signer(conn, public, entry_id: int) -> int | None:
    """List ``public`` in the signers table; the new row's id, or None when it was listed already."""
    row = conn.execute(f"SELECT id FROM {SIGNERS_TABLE} WHERE public_key = ?", (public.text,)).fetchone()
    if row:
        return None
    cur = conn.execute(
        f"INSERT INTO {SIGNERS_TABLE} (public_key, fingerprint, first_entry, added) VALUES (?, ?, ?, ?)",
        (public.text, public.fingerprint, entry_id, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")),
    )
    return cur.lastrowid


# -- entries ------------------------------------------------------------------------------


def entry_hash(entry: dict) -> str:
    """An entry's hash. Entries from before signing (no row hashes, no signer) keep their old formula."""
    signed = entry.get("row_hashes") is not None or entry.get("signer") is not None
    fields = _SIGNED_FIELDS if signed else _FIELDS
    payload = json.dumps([entry.get(f) for f in fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _head(conn) -> tuple[int, str]:
    row = conn.execute(f"SELECT id, hash FROM {CHANGE_LOG_TABLE} ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def _signing_columns(conn) -> bool:
    return "signature" in {r[1] for r in conn.execute(f"PRAGMA table_info({CHANGE_LOG_TABLE})")}


def append(db, *, author: str, action: str, table: str, row_id: int | None, before: dict | None,
           after: dict | None, rows: dict | None = None, key=None) -> dict:
    """Append one signed entry (call inside the transaction of the change it records).

    The row ``row_id`` of ``table`` (when given) and the rows named in ``rows``
    (``{table: [ids]}``, or ``{table: None}`` for all its rows) are hashed as
    they are now — after the change — into the entry's ``row_hashes``.
    """
    conn = db.conn
    last_id, prev_hash = _head(conn)
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
    if _signing_columns(conn):  # schema >= 5 (during the migration to it, too)
        touched: dict[str, list | None] = {}
        for t, ids in (rows or {}).items():
            touched[t] = None if ids is None else list(ids)
        if row_id is not None and table != "*" and touched.get(table, []) is not None:
            touched.setdefault(table, []).append(row_id)
        key = key or installation_key()
        new_signer = _ensure_signer(conn, key.public, last_id + 1)
        if new_signer is not None and touched.get(SIGNERS_TABLE, []) is not None:
            touched.setdefault(SIGNERS_TABLE, []).append(new_signer)
        hashes = {t: row_hashes(conn, t, ids) for t, ids in sorted(touched.items())}
        entry["row_hashes"] = json.dumps(hashes, sort_keys=True, separators=(",", ":"))
        entry["signer"] = key.public.text
        entry["hash"] = entry_hash(entry)
        entry["signature"] = key.sign(signing_payload(entry["hash"]))
    else:
        entry["hash"] = entry_hash(entry)
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


def history_anchor(workspace_or_conn) -> dict:
    """What anchors a copy to this history: the head hash and the fingerprint of the key that signed it.

    Accepts a Workspace, a sqlite_utils Database, a sqlite3 connection or a path.

    Print both on every export and report; a later check of the workspace
    must show the same head somewhere in its log (as an entry's hash).
    """
    if isinstance(workspace_or_conn, (str, bytes)) or hasattr(workspace_or_conn, "__fspath__"):
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(f"file:{workspace_or_conn}?mode=ro", uri=True)) as conn:
            return history_anchor(conn)
    conn = getattr(workspace_or_conn, "db", workspace_or_conn)
    conn = getattr(conn, "conn", conn)
    head = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (HEAD_KEY,)).fetchone()
    fingerprint = None
    if table_exists(conn, CHANGE_LOG_TABLE) and _signing_columns(conn):
        row = conn.execute(f"SELECT signer FROM {CHANGE_LOG_TABLE} ORDER BY id DESC LIMIT 1").fetchone()
        if row and row[0]:
            from layers.keys import PublicKey

            try:
                fingerprint = PublicKey.from_text(row[0]).fingerprint
            except ValueError:
                fingerprint = None
    return {"head": head[0] if head else None, "fingerprint": fingerprint}


# -- verification -------------------------------------------------------------------------


@dataclass
class ChainProblem:
    entry_id: int | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class Signer:
    fingerprint: str
    first: int
    last: int
    count: int = 0


@dataclass
class HistoryReport:
    """What reading the whole log found."""

    problems: list[ChainProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: int = 0
    unsigned: int = 0  # entries from before signing (at the start of the log)
    signers: list[Signer] = field(default_factory=list)
    expected: dict[str, dict[int, str]] = field(default_factory=dict)  # the rows the log says exist, and their hashes
    has_row_hashes: bool = False


def _fingerprint(text: str | None) -> str:
    from layers.keys import PublicKey

    try:
        return PublicKey.from_text(text or "").fingerprint
    except (ValueError, TypeError):
        return _("(not a key)")


def read_history(conn, head: str | None, schema_version: int) -> HistoryReport:
    """Verify the chain, every signature and the signers, and replay the row hashes."""
    from layers.keys import PublicKey

    report = HistoryReport()
    signing = _signing_columns(conn)
    extra = ", row_hashes, signer, signature" if signing else ""
    rows = conn.execute(f"SELECT id, {', '.join(_FIELDS)}, hash{extra} FROM {CHANGE_LOG_TABLE} ORDER BY id")
    listed: dict[str, int] = {}
    if signing and table_exists(conn, SIGNERS_TABLE):
        listed = {k: i for i, k in conn.execute(f"SELECT id, public_key FROM {SIGNERS_TABLE}")}
    previous_hash, previous_id = GENESIS, 0
    chain_broken = False
    first_signed = None
    bad_signatures: list[int] = []
    unlisted: dict[str, list[int]] = {}
    stripped: list[int] = []
    by_signer: dict[str, Signer] = {}
    keys: dict[str, PublicKey | None] = {}
    for row in rows:
        entry_id = row[0]
        entry = dict(zip(_FIELDS, row[1:1 + len(_FIELDS)]))
        stored = row[1 + len(_FIELDS)]
        row_hash_text, signer, signature = row[2 + len(_FIELDS):] if signing else (None, None, None)
        entry["row_hashes"], entry["signer"] = row_hash_text, signer
        report.entries += 1
        if not chain_broken:
            problem = None
            if entry_id != previous_id + 1:
                problem = ChainProblem(entry_id, _(
                    "change log entry {n} is missing (entries jump from {a} to {b})").format(
                    n=previous_id + 1, a=previous_id, b=entry_id))
            elif entry["prev_hash"] != previous_hash:
                problem = ChainProblem(entry_id, _(
                    "change log entry {n} does not follow entry {p}: an entry was removed, reordered or altered"
                ).format(n=entry_id, p=previous_id))
            elif entry_hash(entry) != stored:
                problem = ChainProblem(entry_id, _("change log entry {n} was altered after it was written").format(
                    n=entry_id))
            if problem:
                report.problems.append(problem)
                chain_broken = True
        previous_hash, previous_id = stored, entry_id
        # signatures
        if signer is None and signature is None:
            if first_signed is not None or row_hash_text is not None:
                stripped.append(entry_id)
            else:
                report.unsigned += 1
        else:
            if first_signed is None:
                first_signed = entry_id
            if signer not in keys:
                try:
                    keys[signer] = PublicKey.from_text(signer or "")
                except (ValueError, TypeError):
                    keys[signer] = None
            key = keys[signer]
            ok = key is not None and signature is not None and key.verify(signature, signing_payload(stored or ""))
            if not ok:
                bad_signatures.append(entry_id)
            elif signer not in listed:
                unlisted.setdefault(signer, []).append(entry_id)
            fp = _fingerprint(signer)
            s = by_signer.setdefault(fp, Signer(fp, entry_id, entry_id))
            s.last, s.count = entry_id, s.count + 1
        # the rows the log says exist
        if row_hash_text is not None:
            report.has_row_hashes = True
            try:
                for table, hashes in json.loads(row_hash_text).items():
                    state = report.expected.setdefault(table, {})
                    for rid, h in hashes.items():
                        if h is None:
                            state.pop(int(rid), None)
                        else:
                            state[int(rid)] = h
            except (ValueError, AttributeError, TypeError):
                report.problems.append(ChainProblem(entry_id, _(
                    "change log entry {n} has unreadable row hashes").format(n=entry_id)))
    report.signers = list(by_signer.values())
    if not chain_broken and (head or GENESIS) != previous_hash:
        if head is None and report.entries:
            report.problems.append(ChainProblem(None, _(
                "the workspace metadata has no change-log head: it was deleted")))
        else:
            report.problems.append(ChainProblem(previous_id + 1 if report.entries else 1, _(
                "the change log ends at entry {n}, but the workspace recorded a later entry: entries were cut off the end"
            ).format(n=previous_id)))
    if bad_signatures:
        report.problems.append(ChainProblem(bad_signatures[0], _(
            "change log entry {n} does not match its signature: it was rewritten without the signer's key "
            "({count} entries fail: {ids})").format(n=bad_signatures[0], count=len(bad_signatures),
                                                   ids=_id_ranges(bad_signatures))))
    for signer, ids in unlisted.items():
        report.problems.append(ChainProblem(ids[0], _(
            "change log entries {ids} are signed by key {fp}, which the workspace's list of signers does not hold"
        ).format(ids=_id_ranges(ids), fp=_fingerprint(signer))))
    if stripped:
        report.problems.append(ChainProblem(stripped[0], _(
            "change log entry {n} is not signed although an earlier entry is: signatures were removed "
            "({count} entries: {ids})").format(n=stripped[0], count=len(stripped), ids=_id_ranges(stripped))))
    if schema_version >= SIGNED_SCHEMA and report.entries and first_signed is None:
        report.problems.append(ChainProblem(None, _(
            "no change log entry is signed, although this workspace's schema signs every entry: signatures "
            "were removed")))
    if report.unsigned and first_signed is not None:
        report.notes.append(_("entries 1–{n} were written before Lantern signed its history: chained, not "
                              "signed").format(n=report.unsigned))
    elif report.unsigned and schema_version < SIGNED_SCHEMA:
        report.notes.append(_("the history is chained but not signed: the workspace predates signed history "
                              "(open it in Lantern once to start signing)"))
    return report


def _id_ranges(ids: list[int], limit: int = 5) -> str:
    runs: list[list[int]] = []
    for i in ids:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    text = ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs[:limit])
    return text + (" …" if len(runs) > limit else "")


def verify(conn, head: str | None) -> ChainProblem | None:
    """The first broken entry of the chain, or None when it is intact (signatures included)."""
    from layers.migrations import current_version

    report = read_history(conn, head, current_version(conn))
    return report.problems[0] if report.problems else None
