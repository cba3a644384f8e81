"""`lantern push` / `lantern pull` / `lantern server-roles` against a real PostgreSQL/PostGIS server.

A file goes up, a field laptop pulls a copy, both sides edit, the laptop pushes its batch later: the conflict
is listed and nothing written until the person decides; every history verifies at the end.
"""
from __future__ import annotations

import json

import psycopg

from audit.commands import History, UpdateRow
from layers.workspace import Workspace
from tests.test_cli import lantern


def _rename(path, fid, name, who):
    with Workspace.open(path) as ws:
        History(ws, who).do(UpdateRow("worksites", fid, {"name": name}))


def _first_worksite(path):
    with Workspace.open(path) as ws:
        return ws.db.conn.execute("SELECT min(fid) FROM worksites").fetchone()[0]


def test_push_pull_and_a_field_batch_with_a_conflict(demo_copy, pg_db, tmp_path):
    up = lantern("--json", "push", demo_copy, pg_db, "--author", "Ilze")
    assert up.returncode == 0, up.stderr
    assert json.loads(up.stdout)["rows"] > 1000
    office, laptop = tmp_path / "office.gpkg", tmp_path / "laptop.gpkg"
    for path in (office, laptop):
        got = lantern("pull", pg_db, path, "--author", "Ilze")
        assert got.returncode == 0, got.stderr
    fid = _first_worksite(office)
    _rename(office, fid, "Office name", "Ilze")
    _rename(laptop, fid, "Laptop name", "Pauls")
    assert lantern("push", office, pg_db).returncode == 0

    clash = lantern("push", laptop, pg_db)  # the laptop comes back online
    assert clash.returncode == 1
    assert f"Worksites {fid}: Name is 'Laptop name' here, 'Office name' on the server" in clash.stderr
    with psycopg.connect(pg_db) as pg:
        assert pg.execute("SELECT name FROM worksites WHERE fid = %s", (fid,)).fetchone()[0] == "Office name"

    bad = lantern("push", laptop, pg_db, "--resolve", f"worksites:{fid}=both")
    assert bad.returncode == 2 and "TABLE:ID=mine" in bad.stderr
    done = lantern("--json", "push", laptop, pg_db, "--resolve", f"worksites:{fid}=theirs", "--author", "Pauls")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["conflicts"] == []
    assert lantern("pull", pg_db, office).returncode == 0  # an existing copy: brought in step
    for path in (office, laptop):
        checked = lantern("check", path)
        assert checked.returncode == 0, checked.stderr
        with Workspace.open(path) as ws:
            assert ws.db.conn.execute("SELECT name FROM worksites WHERE fid = ?", (fid,)).fetchone()[0] == "Office name"


def test_push_into_an_occupied_database_is_refused_with_the_reason(demo_copy, pg_db):
    assert lantern("push", demo_copy, pg_db).returncode == 0
    again = lantern("push", demo_copy, pg_db)
    assert again.returncode == 2 and "holds a Lantern workspace already" in again.stderr


def test_server_roles_lists_what_each_role_may_read(demo_copy, pg_db):
    assert lantern("push", demo_copy, pg_db).returncode == 0
    out = lantern("--json", "server-roles", pg_db)
    assert out.returncode == 0, out.stderr
    roles = json.loads(out.stdout)["roles"]
    assert "reported_cases" in roles["lantern_auditor"]["reads"]
    assert "reported_cases" not in roles["lantern_planner"]["reads"]
    assert "reported_cases" in roles["lantern_police"]["reads_logged"]
