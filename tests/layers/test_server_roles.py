"""Each role reads exactly what it may, enforced by PostgreSQL itself: attacked as each role, through psql too.

The demo is pushed with planted secrets (a note, an author, a team, the geomask secret); then every column of
every table on the server is probed as each role. A planner or police connection must not reach a value the
allow-lists (data/sensitivity.json, data/server_roles.json) keep from it; the auditor's connection reaching
the same planted values is the positive control that the probe can see them.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess

import psycopg
import pytest
from psycopg import sql

from layers import server_roles, server_transfer
from layers.resources import load_json
from layers.workspace import Workspace

NOTE = "PLANTED-NOTE-7f3a"
AUTHOR = "PLANTED-AUTHOR-91c2"
TEAM = "PLANTED-TEAM-44e0"
SECRET = "PLANTED-GEOMASK-SECRET-0b9d"
from tests.pg_cluster import LOGINS as USERS  # noqa: E402 - each role's login


def _plant(path):
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE annotations SET note = ?, author = ?, team = ? WHERE id = (SELECT min(id) FROM annotations)",
                     (NOTE, AUTHOR, TEAM))
    conn.close()
    with Workspace.open(path) as ws:
        from audit.check import accept_outside_edits
        assert accept_outside_edits(ws, "Tester")
        ws.set_metadata("geomask_secret", SECRET)


@pytest.fixture
def shared(demo_copy, pg_db, pg_cluster):
    _plant(demo_copy)
    server_transfer.push(demo_copy, pg_db, author="Tester")
    from tests.pg_cluster import give_logins

    return {"dsn": pg_db, "as": give_logins(pg_cluster, pg_db), "cases": _case_points(pg_db)}


def _case_points(dsn):
    """The cases as the server writes them out (full precision), to look for in what a role could read."""
    with psycopg.connect(dsn) as pg:
        return [r[0] for r in pg.execute("SELECT ST_AsText(geom) FROM reported_cases")]


def _columns(dsn):
    with psycopg.connect(dsn) as pg:
        return pg.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
                          "AND table_name NOT IN ('spatial_ref_sys', 'geometry_columns', 'geography_columns') "
                          "ORDER BY table_name, ordinal_position").fetchall()


def _probe(dsn, columns):
    """Every (table, column) this connection can read, and the text of every value it read."""
    readable, seen = set(), []
    with psycopg.connect(dsn) as pg:
        for table, column in columns:
            try:
                with pg.transaction():
                    expr = sql.SQL("ST_AsText({})" if column == "geom" else "{}::text").format(sql.Identifier(column))
                    rows = pg.execute(sql.SQL("SELECT {} FROM {}").format(expr, sql.Identifier(table))).fetchall()
            except psycopg.errors.InsufficientPrivilege:
                continue
            readable.add((table, column))
            seen.extend(str(r[0]) for r in rows if r[0] is not None)
    return readable, "\n".join(seen)


def _expected(role, columns):
    """What the allow-lists let ``role`` read, worked out here from the two JSON files (not from plan())."""
    roles = load_json("server_roles.json")
    spec = roles["roles"][role]
    if role == "admin":
        return set(columns)
    if spec.get("reads") == "all":  # the access machinery and the police read log are the administrator's
        return {(t, c) for t, c in columns if t not in ("lantern_read_log", "lantern_role_tables")}
    shares = load_json("sensitivity.json")["layers"]
    profile = spec["reads_profile"]
    allowed = set()
    for table, column in columns:
        base = table.removesuffix("_outlines")
        share = shares.get(base, {}).get("share", {}).get(profile, {})
        free = (table in spec["writes"] or table in roles["everyone_reads"] or table in roles["catalogue_tables"]
                or table == "workspace_meta")
        if free or (table == "change_log" and column in roles["log_chain_columns"]):
            allowed.add((table, column))
        elif share.get("form") in ("features", "table") and (
                column in share["fields"] or column == "lantern_row_version"
                or (share["form"] == "features" and column in ("fid", "geom"))):
            allowed.add((table, column))
    return allowed


@pytest.mark.parametrize("role", ["planner", "police", "auditor", "admin"])
def test_each_role_reads_exactly_what_the_allow_lists_give_it(shared, role):
    columns = _columns(shared["dsn"])
    readable, _text = _probe(shared["as"](role), columns)
    assert readable == _expected(role, columns)


def test_a_planner_reaches_no_case_note_author_or_secret_while_an_auditor_does(shared):
    columns = _columns(shared["dsn"])
    _r, planner = _probe(shared["as"]("planner"), columns)
    _r, police = _probe(shared["as"]("police"), columns)
    _r, auditor = _probe(shared["as"]("auditor"), columns)
    for planted in (NOTE, AUTHOR, TEAM, SECRET):
        assert planted in auditor  # positive control: the probe sees what is there
        assert planted not in planner
    assert SECRET not in police  # the geomask secret leaves for nobody
    assert NOTE in police  # the police profile lists annotation notes
    for x in shared["cases"]:
        assert x in auditor and x not in planner


def test_catalogues_show_a_role_only_its_own_tables(shared):
    with psycopg.connect(shared["as"]("planner")) as pg:
        contents = {r[0] for r in pg.execute("SELECT table_name FROM gpkg_contents")}
        counts = {r[0] for r in pg.execute("SELECT table_name FROM gpkg_ogr_contents")}
        keys = {r[0] for r in pg.execute("SELECT key FROM workspace_meta")}
    assert "worksites" in contents and "campaigns" in contents  # positive control
    assert not {"reported_cases", "annotations", "places_of_concern"} & (contents | counts)
    assert "geomask_secret" not in keys and "schema_version" in keys


def _psql(shared, role, statement):
    return subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-d", shared["as"](role), "-c", statement],
        capture_output=True, text=True, timeout=60)


def test_psql_as_a_planner_cannot_read_case_points_or_notes(shared):
    for statement in ("SELECT ST_AsText(geom) FROM reported_cases", "SELECT count(*) FROM reported_cases",
                      "SELECT note FROM annotations", "SELECT before, after FROM change_log",
                      "SET ROLE lantern_auditor", "ALTER TABLE reported_cases DISABLE ROW LEVEL SECURITY",
                      "CREATE TABLE copy_of_cases AS SELECT 1"):
        done = _psql(shared, "planner", statement)
        assert done.returncode != 0, statement
        assert "permission denied" in done.stderr or "must be" in done.stderr, (statement, done.stderr)
    done = _psql(shared, "auditor", "SELECT count(*) FROM reported_cases")  # positive control
    assert done.returncode == 0 and int(done.stdout) > 0


def test_history_is_append_only_for_everyone_but_the_administrator(shared):
    for statement in ("DELETE FROM change_log", "UPDATE change_log SET author = 'x'", "TRUNCATE change_log"):
        done = _psql(shared, "auditor", statement)
        assert done.returncode != 0 and "permission denied" in done.stderr, statement


def test_a_planner_may_log_changes_only_to_what_it_may_write(shared):
    with psycopg.connect(shared["as"]("planner")) as pg:
        last_id, last_hash = pg.execute("SELECT id, hash FROM change_log ORDER BY id DESC LIMIT 1").fetchone()
        insert = ("INSERT INTO change_log (id, time, author, action, table_name, hash, prev_hash) "
                  "VALUES (%s, 'now', 'anna', 'insert', %s, 'h', %s)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with pg.transaction():
                pg.execute(insert, (last_id + 1, "reported_cases", last_hash))
        with pg.transaction():  # positive control: its own table is fine
            pg.execute(insert, (last_id + 1, "campaigns", last_hash))


def _read_log(shared):
    with psycopg.connect(shared["dsn"]) as pg:
        return pg.execute("SELECT who, table_name, query FROM lantern_read_log ORDER BY id").fetchall()


def test_police_reads_of_restricted_layers_are_logged_by_the_database(shared):
    assert _read_log(shared) == []
    with psycopg.connect(shared["as"]("police")) as pg:
        n = pg.execute("SELECT count(*) FROM reported_cases").fetchone()[0]
        pg.execute("SELECT name FROM worksites").fetchall()  # a public layer: not a restricted read
        pg.execute("SELECT note FROM annotations WHERE id > 0").fetchall()
    assert n > 0
    log = _read_log(shared)
    assert [(w, t) for w, t, _q in log] == [("pauls_police", "reported_cases"), ("pauls_police", "annotations")]
    assert "count(*)" in log[0][2]


def test_a_police_read_that_cannot_be_logged_does_not_happen(shared):
    with psycopg.connect(shared["as"]("police")) as pg:
        pg.execute("SET TRANSACTION READ ONLY")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            pg.execute("SELECT count(*) FROM reported_cases").fetchone()
    assert _read_log(shared) == []


def test_the_plan_follows_the_allow_lists_without_a_server(demo_copy):
    conn = sqlite3.connect(demo_copy)
    from layers.server_schema import file_layout
    layouts = file_layout(conn, "demo")
    conn.close()
    plans = {a.role: a for a in server_roles.plan(layouts)}
    assert "reported_cases" not in plans["planner"].reads and "annotations" not in plans["planner"].reads
    assert "places_of_concern" not in plans["planner"].reads  # partner gets them geomasked: computed, not granted
    assert plans["planner"].reads["change_log"] == ["id", "hash"]
    assert {"reported_cases", "annotations", "places_of_concern"} <= plans["police"].logged
    assert "worksites" not in plans["police"].logged
    assert plans["auditor"].read_all and not plans["auditor"].logged
    assert json.dumps(sorted(plans["planner"].writes - {"change_log", "change_log_signers", "workspace_meta"})) == \
        json.dumps(sorted(load_json("server_roles.json")["roles"]["planner"]["writes"]))
