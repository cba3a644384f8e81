"""The change log: every change appended, each entry hash-chained to the one before.

An entry's hash covers its own content and the previous entry's hash, so
editing, deleting or reordering a logged entry breaks the chain at that
entry. The newest hash is also kept in the workspace metadata, so cutting
entries off the end is detected too. This makes tampering *evident*; it does
not stop someone who rewrites the whole chain and the metadata.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from layers.i18n import _
from layers.migrations import CHANGE_LOG_TABLE, set_meta

GENESIS = "0" * 64
HEAD_KEY = "change_log_head"
_FIELDS = ("time", "author", "action", "table_name", "row_id", "before", "after", "prev_hash")


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


def entry_hash(entry: dict) -> str:
    payload = json.dumps([entry.get(f) for f in _FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _head(conn) -> str:
    row = conn.execute(f"SELECT hash FROM {CHANGE_LOG_TABLE} ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else GENESIS


def append(db, *, author: str, action: str, table: str, row_id: int | None, before: dict | None,
           after: dict | None) -> dict:
    """Append one entry (call inside the transaction of the change it records)."""
    entry = {
        "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds"),
        "author": author or "",
        "action": action,
        "table_name": table,
        "row_id": row_id,
        "before": to_json(before),
        "after": to_json(after),
        "prev_hash": _head(db.conn),
    }
    entry["hash"] = entry_hash(entry)
    columns = ", ".join(entry)
    db.conn.execute(
        f"INSERT INTO {CHANGE_LOG_TABLE} ({columns}) VALUES ({', '.join('?' * len(entry))})", list(entry.values())
    )
    set_meta(db, HEAD_KEY, entry["hash"])
    return entry


@dataclass
class ChainProblem:
    entry_id: int | None
    message: str

    def __str__(self) -> str:
        return self.message


def verify(conn, head: str | None) -> ChainProblem | None:
    """The first broken entry of the chain, or None when it is intact."""
    rows = conn.execute(
        f"SELECT id, {', '.join(_FIELDS)}, hash FROM {CHANGE_LOG_TABLE} ORDER BY id"
    ).fetchall()
    previous_hash, previous_id = GENESIS, 0
    for row in rows:
        entry_id, *values, stored = row
        entry = dict(zip(_FIELDS, values))
        if entry_id != previous_id + 1:
            return ChainProblem(entry_id, _("change log entry {n} is missing (entries jump from {a} to {b})").format(
                n=previous_id + 1, a=previous_id, b=entry_id))
        if entry["prev_hash"] != previous_hash:
            return ChainProblem(entry_id, _(
                "change log entry {n} does not follow entry {p}: an entry was removed, reordered or altered").format(
                n=entry_id, p=previous_id))
        if entry_hash(entry) != stored:
            return ChainProblem(entry_id, _("change log entry {n} was altered after it was written").format(n=entry_id))
        previous_hash, previous_id = stored, entry_id
    if (head or GENESIS) != previous_hash:
        return ChainProblem(previous_id + 1 if rows else 1, _(
            "the change log ends at entry {n}, but the workspace recorded a later entry: entries were cut off the end"
        ).format(n=previous_id))
    return None
