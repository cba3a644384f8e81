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

import json
from contextlib import closing
from dataclasses import dataclass, field

from layers.history_store import (  # the log's storage, row hashing and signing (re-exported: the log's API)
    FIELDS,
    GENESIS,
    HEAD_KEY,
    PARTNER_PREFIX,
    SIGNATURE_CONTEXT,
    SIGNED_FIELDS,
    SIGNED_SCHEMA,
    UNTRACKED,
    append,
    current_row_hashes,
    entry_hash,
    entry_rows,
    from_json,
    head_hash,
    installation_key,
    last_signer,
    listed_signers,
    partner_tables,
    quote,
    record_baseline,
    row_hashes,
    signing_columns,
    signing_payload,
    table_exists,
    to_json,
    trackable_tables,
)
from layers.i18n import _, ngettext
from layers.keys import PublicKey
from layers.migrations import CHANGE_LOG_TABLE, current_version
from layers.queries import read_only_connection

_FIELDS = FIELDS
__all__ = [
    "FIELDS", "GENESIS", "HEAD_KEY", "PARTNER_PREFIX", "SIGNATURE_CONTEXT", "SIGNED_FIELDS", "SIGNED_SCHEMA",
    "UNTRACKED", "append", "current_row_hashes", "entry_hash", "from_json", "installation_key", "partner_tables",
    "quote", "record_baseline", "row_hashes", "signing_columns", "signing_payload", "table_exists", "to_json",
    "trackable_tables", "history_anchor", "read_history", "verify", "ChainProblem", "Signer", "HistoryReport",
]


def history_anchor(workspace_or_conn) -> dict:
    """What anchors a copy to this history: the head hash and the fingerprint of the key that signed it.

    Accepts a Workspace, a sqlite_utils Database, a sqlite3 connection or a path.

    Print both on every export and report; a later check of the workspace
    must show the same head somewhere in its log (as an entry's hash).
    """
    if isinstance(workspace_or_conn, (str, bytes)) or hasattr(workspace_or_conn, "__fspath__"):
        with closing(read_only_connection(workspace_or_conn)) as conn:
            return history_anchor(conn)
    conn = getattr(workspace_or_conn, "db", workspace_or_conn)
    conn = getattr(conn, "conn", conn)
    head = head_hash(conn)
    fingerprint = None
    if table_exists(conn, CHANGE_LOG_TABLE) and signing_columns(conn):
        signer = last_signer(conn)
        if signer:
            try:
                fingerprint = PublicKey.from_text(signer).fingerprint
            except ValueError:
                fingerprint = None
    return {"head": head, "fingerprint": fingerprint}


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
    try:
        return PublicKey.from_text(text or "").fingerprint
    except (ValueError, TypeError):
        return _("(not a key)")


@dataclass
class _Walk:
    """What reading the log has seen so far, entry by entry."""

    listed: dict[str, int]
    previous_hash: str = GENESIS
    previous_id: int = 0
    chain_broken: bool = False
    first_signed: int | None = None
    bad_signatures: list[int] = field(default_factory=list)
    unlisted: dict[str, list[int]] = field(default_factory=dict)
    stripped: list[int] = field(default_factory=list)
    by_signer: dict[str, Signer] = field(default_factory=dict)
    keys: dict[str, PublicKey | None] = field(default_factory=dict)


def read_history(conn, head: str | None, schema_version: int) -> HistoryReport:
    """Verify the chain, every signature and the signers, and replay the row hashes."""
    report = HistoryReport()
    signing = signing_columns(conn)
    walk = _Walk(listed=listed_signers(conn) if signing else {})
    for row in entry_rows(conn, signing):
        entry_id, entry, stored, row_hash_text, signer, signature = _unpack_entry(row, signing)
        report.entries += 1
        if not walk.chain_broken:
            _check_link(report, walk, entry_id, entry, stored)
        walk.previous_hash, walk.previous_id = stored, entry_id
        _check_signature(report, walk, entry_id, stored, row_hash_text, signer, signature)
        if row_hash_text is not None:
            _replay_row_hashes(report, entry_id, row_hash_text)
    report.signers = list(walk.by_signer.values())
    if not walk.chain_broken and (head or GENESIS) != walk.previous_hash:
        report.problems.append(_head_problem(report, walk, head))
    _report_signature_problems(report, walk, schema_version)
    _add_notes(report, walk, schema_version)
    return report


def _unpack_entry(row, signing: bool) -> tuple:
    """One stored row as (id, entry fields, stored hash, row hashes text, signer, signature)."""
    entry_id = row[0]
    entry = dict(zip(_FIELDS, row[1:1 + len(_FIELDS)]))
    stored = row[1 + len(_FIELDS)]
    row_hash_text, signer, signature = row[2 + len(_FIELDS):] if signing else (None, None, None)
    entry["row_hashes"], entry["signer"] = row_hash_text, signer
    return entry_id, entry, stored, row_hash_text, signer, signature


def _check_link(report: HistoryReport, walk: _Walk, entry_id: int, entry: dict, stored) -> None:
    """Whether the entry follows the one before it and still has its own hash; the first break stops the check."""
    problem = None
    if entry_id != walk.previous_id + 1:
        problem = ChainProblem(entry_id, _(
            "change log entry {n} is missing (entries jump from {a} to {b})").format(
            n=walk.previous_id + 1, a=walk.previous_id, b=entry_id))
    elif entry["prev_hash"] != walk.previous_hash:
        problem = ChainProblem(entry_id, _(
            "change log entry {n} does not follow entry {p}: an entry was removed, reordered or altered"
        ).format(n=entry_id, p=walk.previous_id))
    elif entry_hash(entry) != stored:
        problem = ChainProblem(entry_id, _("change log entry {n} was altered after it was written").format(
            n=entry_id))
    if problem:
        report.problems.append(problem)
        walk.chain_broken = True


def _check_signature(report: HistoryReport, walk: _Walk, entry_id: int, stored, row_hash_text,
                     signer, signature) -> None:
    """Count an unsigned entry, or verify a signed one and note its signer."""
    if signer is None and signature is None:
        if walk.first_signed is not None or row_hash_text is not None:
            walk.stripped.append(entry_id)
        else:
            report.unsigned += 1
        return
    if walk.first_signed is None:
        walk.first_signed = entry_id
    key = _key(walk, signer)
    ok = key is not None and signature is not None and key.verify(signature, signing_payload(stored or ""))
    if not ok:
        walk.bad_signatures.append(entry_id)
    elif signer not in walk.listed:
        walk.unlisted.setdefault(signer, []).append(entry_id)
    fp = _fingerprint(signer)
    s = walk.by_signer.setdefault(fp, Signer(fp, entry_id, entry_id))
    s.last, s.count = entry_id, s.count + 1


def _key(walk: _Walk, signer) -> PublicKey | None:
    """The signer's public key (None when it is not a key), read once per signer."""
    if signer not in walk.keys:
        try:
            walk.keys[signer] = PublicKey.from_text(signer or "")
        except (ValueError, TypeError):
            walk.keys[signer] = None
    return walk.keys[signer]


def _replay_row_hashes(report: HistoryReport, entry_id: int, row_hash_text: str) -> None:
    """Apply one entry's row hashes to the rows the log says exist (null deletes a row)."""
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


def _head_problem(report: HistoryReport, walk: _Walk, head: str | None) -> ChainProblem:
    """The log's last hash is not the head the workspace recorded: the head was deleted or entries cut off."""
    if head is None and report.entries:
        return ChainProblem(None, _(
            "the workspace metadata has no change-log head: it was deleted"))
    return ChainProblem(walk.previous_id + 1 if report.entries else 1, _(
        "the change log ends at entry {n}, but the workspace recorded a later entry: entries were cut off the end"
    ).format(n=walk.previous_id))


def _report_signature_problems(report: HistoryReport, walk: _Walk, schema_version: int) -> None:
    """Bad, unlisted, removed and missing signatures, each reported once."""
    bad = walk.bad_signatures
    if bad:
        report.problems.append(ChainProblem(bad[0], ngettext(
            "change log entry {n} does not match its signature: it was rewritten without the signer's key "
            "({count} entry fails: {ids})",
            "change log entry {n} does not match its signature: it was rewritten without the signer's key "
            "({count} entries fail: {ids})", len(bad)).format(n=bad[0], count=len(bad), ids=_id_ranges(bad))))
    for signer, ids in walk.unlisted.items():
        report.problems.append(ChainProblem(ids[0], _(
            "change log entries {ids} are signed by key {fp}, which the workspace's list of signers does not hold"
        ).format(ids=_id_ranges(ids), fp=_fingerprint(signer))))
    stripped = walk.stripped
    if stripped:
        report.problems.append(ChainProblem(stripped[0], ngettext(
            "change log entry {n} is not signed although an earlier entry is: signatures were removed "
            "({count} entry: {ids})",
            "change log entry {n} is not signed although an earlier entry is: signatures were removed "
            "({count} entries: {ids})", len(stripped)).format(n=stripped[0], count=len(stripped), ids=_id_ranges(stripped))))
    if schema_version >= SIGNED_SCHEMA and report.entries and walk.first_signed is None:
        report.problems.append(ChainProblem(None, _(
            "no change log entry is signed, although this workspace's schema signs every entry: signatures "
            "were removed")))


def _add_notes(report: HistoryReport, walk: _Walk, schema_version: int) -> None:
    """A note on entries written before Lantern signed its history."""
    if report.unsigned and walk.first_signed is not None:
        report.notes.append(_("entries 1–{n} were written before Lantern signed its history: chained, not "
                              "signed").format(n=report.unsigned))
    elif report.unsigned and schema_version < SIGNED_SCHEMA:
        report.notes.append(_("the history is chained but not signed: the workspace predates signed history "
                              "(open it in Lantern once to start signing)"))


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
    report = read_history(conn, head, current_version(conn))
    return report.problems[0] if report.problems else None
