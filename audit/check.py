"""Verify a workspace: SQLite integrity, GeoPackage registration, the signed history, and the data against it.

``check_workspace`` (``python main.py check WS``, *Tools → Verify workspace*):

1. recovers an interrupted write first: a hot ``-journal`` beside the file is
   rolled back by SQLite (opened read-write once), and the result says so;
2. SQLite integrity and GeoPackage registration;
3. the change log (audit.changelog): unbroken hash chain, head in the
   metadata, every signature valid, every signer listed in the workspace,
   no signature stripped after the first signed entry. A workspace whose
   schema signs its history but whose log or head is gone is an alarm;
4. the data against the log: replaying every entry's row hashes gives the
   rows each logged table should hold and their content hashes; every row
   added, changed or deleted outside Lantern is named (table, id, kind).

``accept_outside_edits`` records the current outside edits (QGIS is a
legitimate editor) as one signed reconciliation entry naming who accepted them.

What a passing check proves, and what it does not
-------------------------------------------------
- Every row of the logged tables (feature layers, annotations, assessment
  answers, action plan, estimates, signers) is exactly as the last Lantern
  change, import or acceptance left it: a row edited, moved, inserted or
  deleted with another tool (sqlite3, QGIS, GDAL) is named, unless it was
  accepted — and an acceptance is itself a signed entry naming who accepted.
- The history is the one its signers wrote: changing any entry, dropping,
  emptying or truncating the log, deleting the head, or rewriting entries and
  recomputing every hash fails, because each entry is signed with an Ed25519
  key that never enters the workspace (for cutting entries off the end, see
  below). Stripping signatures fails too (once
  an entry is signed, every later one must be, and a workspace of the signing
  schema must have signed entries).
- It does **not** prove who sits behind a key. Anyone whose key has signed —
  an insider, or whoever copies that user's key file — can rewrite entries
  and re-sign everything from that point with their own key; a forger can
  also start the history over with a fresh key. Check then passes on that
  workspace alone, but the signers (fingerprints and entry ranges) it prints
  change, and the rewrite is exposed by every copy that left earlier: exports
  and reports print the head hash and signer fingerprint
  (``changelog.history_anchor``), and a genuine later history still contains
  that head as one of its entries. So an insider can rewrite their own
  entries, but not silently while an export with a later head exists.
- Cutting the newest entries off *and* resetting the head to the last kept
  entry is not visible in the workspace alone when those entries touched no
  rows (e.g. a police export's record): only an anchor printed after them
  shows it. An export prints the head from before its own log entry, so the
  recipient's copy cannot vouch for that entry; keep the recipient's receipt.
- A workspace can be made to look like one from before signed history
  (schema lowered, signature columns dropped): check then reports "chained,
  not signed" — never "OK, signed" — and the anchors above no longer match.
- Tables the log does not describe (workspace metadata, layer origins,
  read-only partner tables, which the package import verifies) are outside
  this comparison; a new data table with rows is reported as outside edits.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from audit import changelog
from layers import place_outline, queries
from layers.catalogue import layer_kinds
from layers.errors import LanternError
from layers.i18n import _, ngettext
from layers.migrations import CHANGE_LOG_TABLE, current_version

try:  # the workspace's recovery when the workspace module is there (a bare check needs only sqlite3)
    from layers.workspace import recover_interrupted_write as recover_workspace_write
except ImportError:  # pragma: no cover - layers.workspace is always shipped
    recover_workspace_write = None

GPKG_APPLICATION_ID = 0x47504B47
SHOWN_EDITS = 20  # outside edits named one per line; the rest are counted


@dataclass(frozen=True)
class OutsideEdit:
    table: str
    row_id: int
    kind: str  # "added", "changed" or "deleted"

    def __str__(self) -> str:
        return {
            "added": _("{table} row {id} was added outside Lantern"),
            "changed": _("{table} row {id} was changed outside Lantern"),
            "deleted": _("{table} row {id} was deleted outside Lantern"),
        }[self.kind].format(table=self.table, id=self.row_id)


@dataclass
class CheckResult:
    problems: list[str]
    entries: int = 0
    notes: list[str] = field(default_factory=list)
    outside_edits: list[OutsideEdit] = field(default_factory=list)
    head: str | None = None
    fingerprint: str | None = None
    signers: list = field(default_factory=list)
    recovered: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def recover_interrupted_write(path: Path) -> tuple[bool, str | None]:
    """Let SQLite roll back a hot journal (a write cut short by a crash), as the workspace does on open.

    Returns (recovered, problem): whether a journal was rolled back, and a
    message when recovery was needed but impossible.
    """
    journal = path.with_name(path.name + "-journal")
    wal = path.with_name(path.name + "-wal")

    def pending() -> bool:
        return (journal.exists() and journal.stat().st_size > 0) or (wal.exists() and wal.stat().st_size > 0)

    if recover_workspace_write is not None:  # the workspace's own recovery (it also respects a live writer's lock)
        try:
            return bool(recover_workspace_write(path)), None
        except LanternError as exc:
            return False, str(exc)
    if not pending():
        return False, None
    try:
        queries.first_read(path)
    except sqlite3.Error as exc:
        return False, _("{name}: an interrupted write could not be recovered ({e}); the file was not judged").format(
            name=path.name, e=exc)
    return not pending(), None


def compare_rows(conn, expected: dict[str, dict[int, str]]) -> list[OutsideEdit]:
    """Every row of the logged tables that differs from what the log says it is."""
    edits: list[OutsideEdit] = []
    tables = set(expected) | set(changelog.trackable_tables(conn))
    for table in sorted(tables):
        want = expected.get(table, {})
        have = changelog.current_row_hashes(conn, table) if changelog.table_exists(conn, table) else {}
        for rid in sorted(have):
            if rid not in want:
                edits.append(OutsideEdit(table, rid, "added"))
            elif have[rid] != want[rid]:
                edits.append(OutsideEdit(table, rid, "changed"))
        edits.extend(OutsideEdit(table, rid, "deleted") for rid in sorted(set(want) - set(have)))
    return edits


def _history(conn) -> tuple[changelog.HistoryReport | None, list[str]]:
    """Read the log; problems with the history itself (not with the rows)."""
    schema = current_version(conn)
    registered = set(queries.registered_contents(conn))
    if not changelog.table_exists(conn, CHANGE_LOG_TABLE):
        if schema >= 3 or CHANGE_LOG_TABLE in registered:
            return None, [_("the change log is missing: its table was dropped")]
        return None, []
    head = changelog.head_hash(conn)
    report = changelog.read_history(conn, head, schema)
    problems = []
    if schema >= changelog.SIGNED_SCHEMA and report.entries == 0:
        problems.append(_("the change log is empty: its entries were deleted") if head else
                        _("the change log is empty and its head is missing: the history was deleted"))
    else:
        problems.extend(str(p) for p in report.problems)
    signing_columns = changelog.signing_columns(conn)
    if schema < changelog.SIGNED_SCHEMA and signing_columns:
        problems.append(_("the workspace's schema version was lowered to {v}, but its history is of the signed "
                          "kind").format(v=schema))
    return report, problems


def _registration_problems(conn) -> list[str]:
    """Tables GeoPackage readers would not see: unregistered, or features without a geometry column entry."""
    registered = queries.registered_contents(conn)
    problems = [_("table {t} is not registered in gpkg_contents").format(t=table)
                for table in queries.user_tables(conn) if table not in registered]
    geometry_tables = queries.geometry_tables(conn)
    return problems + [_("feature table {t} has no entry in gpkg_geometry_columns").format(t=table)
                       for table, data_type in registered.items()
                       if data_type == "features" and table not in geometry_tables]


def _outline_copy_problems(conn) -> list[str]:
    """The outline tables GIS programs read that are not an exact copy of the places' outlines."""
    problems = []
    for table, n in place_outline.copy_differences(conn, layer_kinds().values()).items():
        problems.append(_("{t}, the copy of the places' outlines that GIS programs show, is missing or damaged "
                          "(opening the workspace in Lantern makes it again)")
                        .format(t=table) if n < 0 else
                        ngettext("{t}, the copy of the places' outlines that GIS programs show, differs from "
                                 "them in {n} row: a program changed it directly (opening the workspace in "
                                 "Lantern makes it again)",
                                 "{t}, the copy of the places' outlines that GIS programs show, differs from "
                                 "them in {n} rows: a program changed it directly (opening the workspace in "
                                 "Lantern makes it again)", n).format(t=table, n=n))
    for table, n in place_outline.misplaced_areas(conn, layer_kinds().values()).items():
        problems.append(ngettext("{t}: {n} place holds an area where its position belongs (another program wrote "
                                 "it): GIS programs show it wrongly; import it again with Lantern",
                                 "{t}: {n} places hold an area where their position belongs (another program wrote "
                                 "them): GIS programs show them wrongly; import them again with Lantern", n)
                        .format(t=table, n=n))
    return problems


def check_workspace(path: str | Path) -> CheckResult:
    path = Path(path)
    if not path.is_file():
        return CheckResult([_("{name}: no such file").format(name=path.name)])
    recovered, problem = recover_interrupted_write(path)
    if problem:
        return CheckResult([problem])
    notes = [_("recovered an interrupted write (a crash left a journal; SQLite rolled it back)")] if recovered else []
    conn = queries.read_only_connection(path)
    try:
        try:
            integrity = queries.integrity_check(conn)
        except sqlite3.DatabaseError as exc:
            return CheckResult([_("{name}: not an SQLite database ({e})").format(name=path.name, e=exc)],
                               notes=notes, recovered=recovered)
        result = CheckResult([], notes=notes, recovered=recovered)
        problems = result.problems
        if integrity != [("ok",)]:
            problems.append(_("SQLite integrity check failed: {r}").format(r="; ".join(r[0] for r in integrity[:3])))
        if queries.application_id(conn) != GPKG_APPLICATION_ID:
            problems.append(_("not a GeoPackage (application_id)"))
            return result
        problems.extend(_registration_problems(conn) + _outline_copy_problems(conn))
        report, history_problems = _history(conn)
        problems.extend(history_problems)
        schema = current_version(conn)
        if report is not None:
            result.entries = report.entries
            result.notes.extend(report.notes)
            result.signers = report.signers
        if schema >= changelog.SIGNED_SCHEMA or (report is not None and report.has_row_hashes):
            edits = compare_rows(conn, report.expected if report is not None else {})
            result.outside_edits = edits
            if report is None or report.entries == 0:
                if edits:
                    problems.append(ngettext("{n} row has no history (the change log is gone)",
                                             "{n} rows have no history (the change log is gone)",
                                             len(edits)).format(n=len(edits)))
            else:
                problems.extend(str(e) for e in edits[:SHOWN_EDITS])
                if len(edits) > SHOWN_EDITS:
                    problems.append(ngettext("… and {n} more row changed outside Lantern",
                                             "… and {n} more rows changed outside Lantern",
                                             len(edits) - SHOWN_EDITS).format(n=len(edits) - SHOWN_EDITS))
        elif report is not None:
            result.notes.append(_("rows were not compared with the history: the workspace predates row hashes "
                                  "(open it in Lantern once to record them)"))
        if report is not None:
            anchor = changelog.history_anchor(conn)
            result.head, result.fingerprint = anchor["head"], anchor["fingerprint"]
        return result
    finally:
        conn.close()


def describe(result: CheckResult) -> list[str]:
    """The lines every check prints besides its problems: head, signers, notes."""
    lines = list(result.notes)
    if result.head:
        lines.append(_("history head: {h}").format(h=result.head))
    if result.fingerprint:
        lines.append(_("signed by key: {fp}").format(fp=result.fingerprint))
    if len(result.signers) > 1:
        for s in result.signers:
            lines.append(ngettext("  key {fp}: {n} entry ({a}–{b})", "  key {fp}: {n} entries ({a}–{b})", s.count).format(fp=s.fingerprint, n=s.count, a=s.first,
                                                                        b=s.last))
    return lines


class AcceptRefused(LanternError):
    """Outside edits cannot be accepted (no author, or the history itself is broken)."""


def accept_outside_edits(workspace, author: str) -> list[OutsideEdit]:
    """Record the current outside edits as one signed reconciliation entry naming who accepted them.

    Refused when the history itself fails verification: accepting rows cannot
    repair a forged or deleted log. Returns the accepted edits (none: nothing written).
    """
    author = (author or "").strip()
    if not author:
        raise AcceptRefused(_("accepting outside edits needs the name of who accepts them (--author, or your name "
                              "in the settings)"))
    with workspace.atomic() as db:
        conn = db.conn
        report, problems = _history(conn)
        if report is None or problems:
            raise AcceptRefused(_("the history itself failed verification ({p}); outside edits cannot be accepted "
                                  "over it").format(p=problems[0] if problems else _("no change log")))
        edits = compare_rows(conn, report.expected)
        if not edits:
            return []
        rows: dict[str, list[int]] = {}
        for e in edits:
            rows.setdefault(e.table, []).append(e.row_id)
        counts = {k: sum(e.kind == k for e in edits) for k in ("added", "changed", "deleted")}
        changelog.append(db, author=author, action="accept outside edits", table="*", row_id=None, before=None,
                         after={"accepted_by": author, **counts,
                                "rows": [[e.table, e.row_id, e.kind] for e in edits[:1000]]},
                         rows=rows)
    return edits
