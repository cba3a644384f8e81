"""The tamper suite: every attack on the data or its signed history is named by check; Lantern's own edits are not.

Each attack starts from a workspace that passes check (the positive control),
changes it with raw sqlite3 — as anyone with the file could — and expects
check to fail with the specific finding.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import shapely

from audit import changelog
from audit.check import accept_outside_edits, check_workspace
from audit.commands import DeleteRow, History, UpdateRow
from layers import gpkg_geometry, keys
from layers.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
YESTERDAY = "2026-01-05"


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """A workspace with imported cases, places, an annotation and an answer, all through Lantern."""
    from audit.annotations import annotate, annotation_values, new_place
    from audit.assessment import answer
    from layers.importers import import_file

    folder = tmp_path_factory.mktemp("tamper")
    os.environ.setdefault("LANTERN_KEY_DIR", str(folder / "keys"))  # module-scoped: one author key
    path = folder / "w.gpkg"
    src = folder / "cases.csv"
    src.write_text("lon,lat,reported,forms,status\n24.10,56.95,2025-03,labour,potential\n"
                   "24.11,56.95,2025-04,sexual,identified\n24.12,56.96,2025-05,labour,potential\n")
    with Workspace.create(path) as ws:
        import_file(ws, src, "reported_cases")
        h = History(ws, "Auditor A")
        fid = h.do(new_place("places_of_concern", 24.94, 60.17, {"name": "Yard", "category": "clinic"})).row_id
        h.do(annotate(annotation_values("places_of_concern", fid, indicators_seen=["gen_controlled"],
                                        observed=YESTERDAY, confidence="high", source="own_observation",
                                        author="Auditor A")))
        h.do(answer(ws, "homeless.count", number=60, source="Social services", author="Auditor A"))
    os.environ.pop("LANTERN_KEY_DIR", None)
    return path


@pytest.fixture
def ws_path(original, tmp_path):
    path = tmp_path / "w.gpkg"
    shutil.copy(original, path)
    result = check_workspace(path)
    assert result.ok and not result.outside_edits, result.problems  # the positive control
    return path


def _sql(path, *statements, params=()):
    conn = sqlite3.connect(path)
    gpkg_geometry.register_functions(conn)  # GDAL's triggers on feature tables
    for sql in statements:
        conn.execute(sql, params) if params else conn.execute(sql)
    conn.commit()
    conn.close()


def _fails(path, *expected):
    result = check_workspace(path)
    assert not result.ok
    text = "\n".join(result.problems)
    for e in expected:
        assert e in text, text
    return result


# -- the data -----------------------------------------------------------------------------


def test_editing_a_case_is_named(ws_path):
    _sql(ws_path, "UPDATE reported_cases SET status = 'potential' WHERE fid = 2")
    result = _fails(ws_path, "reported_cases row 2 was changed outside Lantern")
    assert [(e.table, e.row_id, e.kind) for e in result.outside_edits] == [("reported_cases", 2, "changed")]


def test_moving_a_case_is_named(ws_path):
    blob = gpkg_geometry.encode([shapely.Point(24.5, 56.5)])[0]
    _sql(ws_path, "UPDATE reported_cases SET geom = ? WHERE fid = 1", params=(blob,))
    _fails(ws_path, "reported_cases row 1 was changed outside Lantern")


def test_deleting_a_case_is_named(ws_path):
    _sql(ws_path, "DELETE FROM reported_cases WHERE fid = 3")
    _fails(ws_path, "reported_cases row 3 was deleted outside Lantern")


def test_inserting_a_case_is_named(ws_path):
    blob = gpkg_geometry.encode([shapely.Point(24.2, 56.9)])[0]
    _sql(ws_path, "INSERT INTO reported_cases (geom, reported, forms, status) VALUES (?, '2025-06', 'labour', 'potential')", params=(blob,))
    _fails(ws_path, "reported_cases row 4 was added outside Lantern")


def test_deleting_an_annotation_is_named(ws_path):
    _sql(ws_path, "DELETE FROM annotations WHERE id = 1")
    _fails(ws_path, "annotations row 1 was deleted outside Lantern")


def test_editing_an_answer_and_the_action_plan_is_named(ws_path):
    _sql(ws_path, "UPDATE assessment_answers SET answer_number = 6 WHERE id = 1",
         "UPDATE action_plan SET status = 'done' WHERE id = 1")
    _fails(ws_path, "assessment_answers row 1 was changed", "action_plan row 1 was changed")


def test_a_same_value_rewrite_is_not_an_edit(ws_path):
    _sql(ws_path, "UPDATE reported_cases SET status = status", "UPDATE annotations SET note = note")
    assert check_workspace(ws_path).ok


def test_a_new_empty_column_is_not_an_edit(ws_path):
    _sql(ws_path, "ALTER TABLE action_plan ADD COLUMN qgis_note TEXT")
    assert check_workspace(ws_path).ok


def test_dropping_a_logged_table_names_its_rows(ws_path):
    _sql(ws_path, "DROP TABLE annotations", "DELETE FROM gpkg_contents WHERE table_name = 'annotations'")
    _fails(ws_path, "annotations row 1 was deleted outside Lantern")


# -- the log ------------------------------------------------------------------------------


def test_dropping_the_log_is_an_alarm(ws_path):
    _sql(ws_path, "DROP TABLE change_log", "DELETE FROM gpkg_contents WHERE table_name = 'change_log'")
    _fails(ws_path, "the change log is missing")


def test_emptying_the_log_is_an_alarm(ws_path):
    _sql(ws_path, "DELETE FROM change_log")
    _fails(ws_path, "the change log is empty")


def test_deleting_log_and_head_is_an_alarm(ws_path):
    _sql(ws_path, "DELETE FROM change_log", "DELETE FROM workspace_meta WHERE key = 'change_log_head'")
    _fails(ws_path, "the change log is empty and its head is missing")


def test_deleting_the_head_is_an_alarm(ws_path):
    _sql(ws_path, "DELETE FROM workspace_meta WHERE key = 'change_log_head'")
    _fails(ws_path, "no change-log head")


def test_cutting_the_newest_entry_and_its_head_leaves_its_rows_unexplained(ws_path):
    _sql(ws_path, "DELETE FROM change_log WHERE id = (SELECT max(id) FROM change_log)",
         "UPDATE workspace_meta SET value = (SELECT hash FROM change_log ORDER BY id DESC LIMIT 1)"
         " WHERE key = 'change_log_head'")
    _fails(ws_path, "assessment_answers row 1 was added outside Lantern")


def _entries(conn):
    cols = ["id", *changelog._FIELDS, "hash", "row_hashes", "signer", "signature"]
    rows = conn.execute(f"SELECT {', '.join(cols)} FROM change_log ORDER BY id").fetchall()
    return [dict(zip(cols, r)) for r in rows]


def _rewrite(path, target: int, change, key=None, strip_from: int | None = None):
    """Change entry ``target`` and recompute every later hash and the head, as a forger would.

    With ``key`` the rewritten entries are re-signed (and attributed) to it;
    with ``strip_from`` the signatures (and row hashes) of entries from there on are removed.
    """
    conn = sqlite3.connect(path)
    previous = changelog.GENESIS
    for e in _entries(conn):
        if e["id"] < target:
            previous = e["hash"]
            continue
        if e["id"] == target:
            change(e)
        e["prev_hash"] = previous
        if strip_from is not None and e["id"] >= strip_from:
            e["signer"] = e["signature"] = e["row_hashes"] = None
        elif key is not None:
            e["signer"] = key.public.text
        e["hash"] = changelog.entry_hash(e)
        if key is not None and e["signer"] is not None:
            e["signature"] = key.sign(changelog.signing_payload(e["hash"]))
        conn.execute("UPDATE change_log SET author=?, after=?, prev_hash=?, hash=?, row_hashes=?, signer=?, "
                     "signature=? WHERE id=?", (e["author"], e["after"], e["prev_hash"], e["hash"],
                                               e["row_hashes"], e["signer"], e["signature"], e["id"]))
        previous = e["hash"]
    conn.execute("UPDATE workspace_meta SET value=? WHERE key='change_log_head'", (previous,))
    conn.commit()
    conn.close()


def _new_author(e):
    e["author"] = "Someone else"


def test_a_rewritten_and_rehashed_chain_fails_on_its_signature(ws_path):
    _rewrite(ws_path, 3, _new_author)
    result = _fails(ws_path, "change log entry 3 does not match its signature")
    assert "entry 3 was altered" not in "\n".join(result.problems)  # every hash was recomputed: only keys tell


def test_hiding_an_edit_by_rewriting_its_row_hashes_fails(ws_path):
    _sql(ws_path, "UPDATE reported_cases SET status = 'potential' WHERE fid = 2")
    conn = sqlite3.connect(ws_path)
    new = changelog.row_hashes(conn, "reported_cases", [2])["2"]
    conn.close()

    def cover(e):
        hashes = json.loads(e["row_hashes"])
        hashes["reported_cases"]["2"] = new
        e["row_hashes"] = json.dumps(hashes, sort_keys=True, separators=(",", ":"))

    _rewrite(ws_path, 2, cover)  # entry 2 is the import
    result = _fails(ws_path, "entry 2 does not match its signature")
    assert not result.outside_edits  # the data now matches the forged log; the signature does not


def test_a_signature_forged_with_another_key_fails(ws_path):
    _rewrite(ws_path, 3, _new_author, key=keys.generate())
    _fails(ws_path, "are signed by key", "which the workspace's list of signers does not hold")


def test_adding_the_forgers_key_to_the_signers_fails(ws_path):
    forger = keys.generate()
    _rewrite(ws_path, 3, _new_author, key=forger)
    _sql(ws_path, "INSERT INTO change_log_signers (public_key, fingerprint, first_entry, added) VALUES (?, ?, 3, '')",
         params=(forger.public.text, forger.public.fingerprint))
    _fails(ws_path, "change_log_signers row 2 was added outside Lantern")


def test_swapping_the_signer_key_fails(ws_path):
    _sql(ws_path, "UPDATE change_log_signers SET public_key = ? WHERE id = 1", params=(keys.generate().public.text,))
    _fails(ws_path, "change_log_signers row 1 was changed outside Lantern", "list of signers does not hold")


def test_stripping_later_signatures_fails(ws_path):
    _rewrite(ws_path, 3, _new_author, strip_from=3)
    _fails(ws_path, "change log entry 3 is not signed although an earlier entry is")


def test_stripping_every_signature_fails(ws_path):
    _rewrite(ws_path, 1, _new_author, strip_from=1)
    _fails(ws_path, "no change log entry is signed")


def test_lowering_the_schema_version_fails(ws_path):
    _rewrite(ws_path, 1, _new_author, strip_from=1)
    _sql(ws_path, "UPDATE workspace_meta SET value = '4' WHERE key = 'schema_version'")
    _fails(ws_path, "schema version was lowered")


# -- what passes -----------------------------------------------------------------------------


def test_lantern_edits_undo_redo_imports_and_exports_pass(ws_path, tmp_path):
    from audit.export_log import log_export
    from layers.importers import import_file

    src = tmp_path / "hubs.csv"
    src.write_text("lon,lat,name\n24.1,56.9,A\n24.2,56.9,B\n")
    out = tmp_path / "export.pdf"
    out.write_bytes(b"%PDF-1.4 synthetic")
    with Workspace.open(ws_path) as ws:  # another installation's key signs from here on
        h = History(ws, "Auditor B")
        h.do(UpdateRow("reported_cases", 1, {"status": "identified"}))
        h.do(DeleteRow("annotations", 1))
        h.undo()
        h.redo()
        h.undo()
        h.do(UpdateRow("action_plan", 2, {"status": "done"}))
        import_file(ws, src, "transport_hubs")
        log_export(ws, "police", "pdf", "Inspector", "Auditor B", [out])
    result = check_workspace(ws_path)
    assert result.ok and not result.outside_edits, result.problems
    assert len(result.signers) == 2 and result.fingerprint == keys.installation_key().public.fingerprint
    assert changelog.history_anchor(ws_path) == {"head": result.head, "fingerprint": result.fingerprint}
    with Workspace.open(ws_path) as ws:
        assert changelog.history_anchor(ws) == changelog.history_anchor(ws_path)


def _cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ})


def test_check_prints_head_and_signer(ws_path):
    result = _cli("check", ws_path)
    assert result.returncode == 0, result.stderr
    anchor = changelog.history_anchor(sqlite3.connect(ws_path))
    assert f"history head: {anchor['head']}" in result.stdout and f"signed by key: {anchor['fingerprint']}" in result.stdout


def test_accepting_outside_edits_is_one_signed_entry(ws_path):
    _sql(ws_path, "UPDATE reported_cases SET status = 'potential' WHERE fid = 2", "DELETE FROM annotations WHERE id = 1")
    refused = _cli("check", ws_path, "--accept")
    assert refused.returncode == 2 and "needs the name" in refused.stderr
    result = _cli("check", ws_path, "--accept", "--author", "Reviewer R")
    assert result.returncode == 0, result.stderr
    assert "accepted 2 outside edits (by Reviewer R)" in result.stdout
    conn = sqlite3.connect(ws_path)
    last, author, action, after, signer = conn.execute(
        "SELECT id, author, action, after, signer FROM change_log ORDER BY id DESC LIMIT 1").fetchone()
    conn.close()
    record = json.loads(after)
    assert (author, action, record["accepted_by"], record["changed"], record["deleted"]) == (
        "Reviewer R", "accept outside edits", "Reviewer R", 1, 1)
    assert signer and check_workspace(ws_path).ok
    _rewrite(ws_path, last, _new_author)  # the acceptance is signed like any entry
    _fails(ws_path, "does not match its signature")


def test_accepting_cannot_repair_a_deleted_history(ws_path):
    from audit.check import AcceptRefused

    _sql(ws_path, "DELETE FROM change_log")
    with Workspace.open(ws_path) as ws:
        with pytest.raises(AcceptRefused, match="history itself failed"):
            accept_outside_edits(ws, "Reviewer R")
    assert not check_workspace(ws_path).ok


def test_an_old_workspace_migrates_and_checks(tmp_path):
    path = tmp_path / "old.gpkg"
    shutil.copy(ROOT / "tests" / "fixtures" / "workspace_v1.gpkg", path)
    assert check_workspace(path).ok  # before migration: nothing to compare yet, no false alarm
    Workspace.open(path).close()
    result = check_workspace(path)
    assert result.ok and not result.outside_edits, result.problems
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT action FROM change_log").fetchall() == [("baseline",)]


def test_entries_from_before_signing_are_unsigned_not_forged(tmp_path, monkeypatch):
    from layers import migrations

    path = tmp_path / "old.gpkg"
    shutil.copy(ROOT / "tests" / "fixtures" / "workspace_v1.gpkg", path)
    later = {v: migrations._MIGRATIONS.pop(v) for v in sorted(migrations._MIGRATIONS) if v >= 5}  # 5 signs
    try:  # a workspace of schema 4, edited by a Lantern that did not sign
        with Workspace.open(path) as ws:
            assert ws.schema_version == 4
            History(ws, "Old Lantern").do(UpdateRow("action_plan", 1, {"status": "done"}))
            History(ws, "Old Lantern").do(UpdateRow("action_plan", 2, {"status": "done"}))
        old = check_workspace(path)
        assert old.ok and any("chained but not signed" in n for n in old.notes)
    finally:
        migrations._MIGRATIONS.update(later)
    Workspace.open(path).close()
    result = check_workspace(path)
    assert result.ok and any("entries 1–2 were written before Lantern signed" in n for n in result.notes)
    _sql(path, "UPDATE action_plan SET status = 'planned' WHERE id = 1")
    _fails(path, "action_plan row 1 was changed outside Lantern")


# -- an interrupted write ---------------------------------------------------------------


def test_a_hot_journal_is_recovered_not_called_a_non_database(ws_path):
    crash = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA cache_size = 1')\n"
        "c.execute('BEGIN')\n"
        "c.execute('CREATE TABLE junk (x)')\n"
        "c.execute('DELETE FROM change_log')\n"
        "c.execute('UPDATE action_plan SET notes = hex(randomblob(3000))')\n"
        "os._exit(9)\n"  # a crash: no commit, no rollback; the journal stays
    )
    subprocess.run([sys.executable, "-c", crash, str(ws_path)], check=False)
    journal = ws_path.with_name(ws_path.name + "-journal")
    assert journal.exists() and journal.stat().st_size > 0
    with open(ws_path, "r+b") as fh:  # the crash tore the first page mid-write
        fh.write(b"\0" * 100)
    result = check_workspace(ws_path)
    assert result.ok, result.problems
    assert result.recovered and any("recovered an interrupted write" in n for n in result.notes)
    assert not journal.exists() or journal.stat().st_size == 0
