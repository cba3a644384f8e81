"""Two copies of one shared workspace edited at once, kept in step through a real PostgreSQL/PostGIS server.

Each test makes changes through Lantern's own commands in two copies (two windows, or a window and a field
laptop), syncs them, and checks: each sees the other's change; the history verifies in each copy and in a
fresh pull from the server; a row changed in both is never silently overwritten.
"""
from __future__ import annotations

import psycopg
import pytest

from audit.annotations import annotate, annotation_values
from audit.check import check_workspace
from audit.commands import DeleteRow, History, UpdateRow
from layers import server_sync, server_transfer
from layers.workspace import Workspace


@pytest.fixture
def server(demo_copy, pg_db):
    server_transfer.push(demo_copy, pg_db, author="Tester")
    return pg_db


def _copy(server, tmp_path, name):
    path = tmp_path / f"{name}.gpkg"
    server_sync.pull(server, path, author=name, label=name)
    return Workspace.open(path)


def _first(ws, table):
    key = "fid" if table in ("worksites", "shelters", "reported_cases", "places_of_concern") else "id"
    return ws.db.conn.execute(f'SELECT min("{key}") FROM "{table}"').fetchone()[0]


def _note(table, fid, note):
    return annotation_values(table, fid, indicators_seen=["gen_violence_signs"], observed="2026-11-28",
                             confidence="medium", source="own_observation", author="Tester", note=note)


def _name(ws, fid):
    return ws.db.conn.execute("SELECT name FROM worksites WHERE fid = ?", (fid,)).fetchone()[0]


def _verified(*paths):
    for path in paths:
        result = check_workspace(path)
        assert result.ok, (path.name, result.problems)


def _fresh_pull_verifies(server, tmp_path):
    path = tmp_path / "fresh.gpkg"
    path.unlink(missing_ok=True)
    server_sync.pull(server, path, author="Checker")
    _verified(path)
    return path


def test_each_copy_sees_the_others_change_and_every_history_verifies(server, tmp_path):
    a, b = _copy(server, tmp_path, "anna"), _copy(server, tmp_path, "berzins")
    fid = _first(a, "worksites")
    History(a, "Anna").do(UpdateRow("worksites", fid, {"name": "Renamed by Anna"}))
    History(b, "Berzins").do(annotate(_note("worksites", fid, "seen by Berzins")))
    sent = server_sync.sync(a, server)
    assert sent.in_step and sent.sent_entries == 1
    got = server_sync.sync(b, server)  # b sends its annotation, receives Anna's rename
    assert got.in_step and got.received_entries == 1 and got.sent_entries == 1
    assert _name(b, fid) == "Renamed by Anna"
    back = server_sync.sync(a, server)
    assert back.received_entries == 1
    assert a.db.conn.execute("SELECT count(*) FROM annotations WHERE note = 'seen by Berzins'").fetchone()[0] == 1
    a.close(), b.close()
    _verified(a.path, b.path)
    fresh = _fresh_pull_verifies(server, tmp_path)
    with Workspace.open(fresh) as ws:
        assert _name(ws, fid) == "Renamed by Anna"


def test_new_rows_made_in_two_copies_offline_never_share_an_id(server, tmp_path):
    a, b = _copy(server, tmp_path, "anna"), _copy(server, tmp_path, "berzins")
    made = {}
    for ws, who in ((a, "Anna"), (b, "Berzins")):
        cmd = History(ws, who).do(annotate(_note("worksites", _first(ws, "worksites"), who)))
        made[who] = cmd.row_id
    assert made["Anna"] != made["Berzins"]
    assert server_sync.sync(a, server).in_step and server_sync.sync(b, server).in_step
    server_sync.sync(a, server)
    for ws in (a, b):
        notes = {r[0] for r in ws.db.conn.execute("SELECT note FROM annotations WHERE id IN (?, ?)",
                                                  (made["Anna"], made["Berzins"]))}
        assert notes == {"Anna", "Berzins"}
    a.close(), b.close()
    _verified(a.path, b.path)
    _fresh_pull_verifies(server, tmp_path)


def test_the_same_row_changed_in_both_is_a_conflict_decided_by_the_person(server, tmp_path):
    a, b = _copy(server, tmp_path, "anna"), _copy(server, tmp_path, "berzins")
    fid = _first(a, "worksites")
    History(a, "Anna").do(UpdateRow("worksites", fid, {"name": "Anna's name"}))
    History(b, "Berzins").do(UpdateRow("worksites", fid, {"name": "Berzins' name"}))
    assert server_sync.sync(a, server).in_step
    before = b.db.conn.execute("SELECT count(*) FROM change_log").fetchone()[0]
    clash = server_sync.sync(b, server)
    assert [(c.table, c.row_id) for c in clash.conflicts] == [("worksites", fid)]
    assert clash.conflicts[0].mine["name"] == "Berzins' name" and clash.conflicts[0].theirs["name"] == "Anna's name"
    # nothing was written: not in the copy, not on the server
    assert _name(b, fid) == "Berzins' name"
    assert b.db.conn.execute("SELECT count(*) FROM change_log").fetchone()[0] == before
    with psycopg.connect(server) as pg:
        assert pg.execute("SELECT name FROM worksites WHERE fid = %s", (fid,)).fetchone()[0] == "Anna's name"
    done = server_sync.sync(b, server, resolve={("worksites", fid): "mine"}, author="Berzins")
    assert done.in_step
    server_sync.sync(a, server)
    assert _name(a, fid) == _name(b, fid) == "Berzins' name"
    a.close(), b.close()
    _verified(a.path, b.path)
    _fresh_pull_verifies(server, tmp_path)


def test_choosing_theirs_takes_the_servers_row_and_the_history_still_verifies(server, tmp_path):
    a, b = _copy(server, tmp_path, "anna"), _copy(server, tmp_path, "berzins")
    fid = _first(a, "worksites")
    History(a, "Anna").do(UpdateRow("worksites", fid, {"name": "Anna's name"}))
    History(b, "Berzins").do(DeleteRow("worksites", fid))
    server_sync.sync(a, server)
    clash = server_sync.sync(b, server)
    assert clash.conflicts and clash.conflicts[0].mine is None  # deleted here, renamed there
    assert server_sync.sync(b, server, resolve={("worksites", fid): "theirs"}, author="Berzins").in_step
    assert _name(b, fid) == "Anna's name"
    b.close(), a.close()
    # b's own delete is in the history, then the decision that brought Anna's row back, then the row as it is
    _verified(a.path, b.path)
    import sqlite3
    conn = sqlite3.connect(b.path)
    actions = [r[0] for r in conn.execute("SELECT action FROM change_log ORDER BY id DESC LIMIT 2")]
    conn.close()
    assert actions == ["resolve conflicts", "delete"]
    _fresh_pull_verifies(server, tmp_path)


def test_undo_touches_only_ones_own_change(server, tmp_path):
    from audit.commands import UndoRefused

    a, b = _copy(server, tmp_path, "anna"), _copy(server, tmp_path, "berzins")
    fid = _first(a, "worksites")
    anna = History(a, "Anna")
    anna.do(UpdateRow("worksites", fid, {"name": "Anna's name"}))
    server_sync.sync(a, server)
    server_sync.sync(b, server)
    History(b, "Berzins").do(UpdateRow("worksites", fid, {"name": "Berzins on top"}))
    server_sync.sync(b, server)
    server_sync.sync(a, server)
    assert _name(a, fid) == "Berzins on top"
    with pytest.raises(UndoRefused, match="changed since"):
        anna.undo()
    assert _name(a, fid) == "Berzins on top"  # Berzins' change stands
    other = _first(a, "shelters")
    own = anna.do(UpdateRow("shelters", other, {"name": "Anna's shelter"}))
    assert anna.undo() is own  # positive control: her own, untouched change undoes
    a.close(), b.close()


def test_a_partner_package_is_refused_by_a_copy_with_the_reason(server, demo_copy, tmp_path):
    from layers.errors import InputError
    from layers.packages import import_package
    from mapping.share_export import export

    with Workspace.open(demo_copy) as ws:
        package, _disclosure = export(ws, "partner", "gpkg", tmp_path / "partner.gpkg", author="Tester")
    a = _copy(server, tmp_path, "anna")
    tables = a.db.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    with pytest.raises(InputError, match="cannot take a partner package yet"):
        import_package(a, package[0], trust_new=True, author="Anna")
    assert a.db.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == tables
    a.close()
    with Workspace.open(demo_copy) as plain:  # positive control: a file of its own takes it
        assert import_package(plain, package[0], trust_new=True, author="Anna").tables


def test_copies_signed_on_different_computers_keep_every_history_verifiable(server, tmp_path, monkeypatch):
    """Each computer signs with its own key: a key new to the server is listed, and hashed into the history."""
    fid = None
    copies = []
    for name in ("anna", "berzins"):
        monkeypatch.setenv("LANTERN_KEY_DIR", str(tmp_path / f"keys-{name}"))  # another computer, another key
        ws = _copy(server, tmp_path, name)
        fid = fid or _first(ws, "worksites")
        History(ws, name).do(UpdateRow("worksites", fid, {"name": f"{name}'s"}))
        copies.append((name, ws))
    for name, ws in copies:  # berzins' entry is re-chained after anna's, re-signed with berzins' key
        monkeypatch.setenv("LANTERN_KEY_DIR", str(tmp_path / f"keys-{name}"))
        result = server_sync.sync(ws, server, author=name)
        if result.conflicts:
            assert server_sync.sync(ws, server, author=name, resolve={("worksites", fid): "mine"}).in_step
    for name, ws in copies:
        monkeypatch.setenv("LANTERN_KEY_DIR", str(tmp_path / f"keys-{name}"))
        server_sync.sync(ws, server, author=name)
        ws.close()
    _verified(*(ws.path for _n, ws in copies))
    monkeypatch.setenv("LANTERN_KEY_DIR", str(tmp_path / "keys-checker"))
    fresh = _fresh_pull_verifies(server, tmp_path)
    conn = __import__("sqlite3").connect(fresh)
    assert conn.execute("SELECT count(*) FROM change_log_signers").fetchone()[0] >= 3
    conn.close()
