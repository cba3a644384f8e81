"""Attacks on a shared workspace (PostgreSQL/PostGIS), as a malicious or careless user would make them.

Every test logs in as one of the people of ``tests/layers/test_server_roles.py`` (a planner, a police liaison, an
auditor, an administrator: members of the group roles) on a throwaway cluster with trust authentication, so only
grants, row-level security and Lantern's own code stand between them and the data.

A test that passes is a defence that holds. A test marked ``hole`` demonstrates a hole: it asserts what should be
true, fails today (``xfail(strict=True)``), and starts failing the run once the hole is closed, so the marker must
then go. Positive controls inside a hole's test raise ``ControlFailed`` (not an AssertionError), so a probe that
went blind fails the run instead of passing as an expected failure.
"""
from __future__ import annotations

import sqlite3
import subprocess
import threading
import time

import psycopg
import pytest
from psycopg import sql

from audit.annotations import annotate, annotation_values
from audit.check import check_workspace
from audit.commands import History, UpdateRow
from layers import replica, row_ids, server_roles, server_sync, server_transfer
from layers.errors import LanternError, ServerError
WRITE_LOCK = 7_305_001  # the advisory lock the history used before it became a table lock any writer, and only a writer, may take
from layers.workspace import Workspace

from tests.pg_cluster import LOGINS as USERS  # noqa: E402 - each role's login
PLANNER_WROTE = "PLANNER-NOTE-5c1e"


def hole(reason: str):
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason="HOLE: " + reason)


def bug(reason: str):
    return pytest.mark.xfail(strict=True, raises=AssertionError, reason="BUG: " + reason)


class ControlFailed(Exception):
    """A positive control failed: the probe could not have seen the hole (or the defence)."""


def control(condition, what: str) -> None:
    if not condition:
        raise ControlFailed(what)


def wait_for(condition, what: str, limit: float = 60.0) -> None:
    """Poll a real condition (a thread's end, a backend's wait) up to ``limit`` seconds."""
    end = time.monotonic() + limit
    while not condition():
        if time.monotonic() > end:
            raise ControlFailed("never happened: " + what)
        time.sleep(0.02)


# -- the shared workspace under attack ---------------------------------------------------------------------------


def _plant_campaign_at_a_place_of_concern(path) -> None:
    """A campaign whose location is a place of concern, made as Lantern makes it (by an auditor, before the push)."""
    from audit import campaigns

    with Workspace.open(path) as ws:
        fid = ws.db.conn.execute("SELECT min(fid) FROM places_of_concern").fetchone()[0]
        values = {"name": "Outreach at a place of concern", "starts": "2026-04-01", "ends": "2026-04-30",
                  "audiences": ["taxi_drivers"], "languages": ["lv"], "channels": ["leaflets"]}
        at = campaigns.location_at_place(ws, "places_of_concern", fid)
        History(ws, "Ilze").do(campaigns.add_campaign(ws, values, [at]))


@pytest.fixture
def shared(demo_copy, pg_db, pg_cluster):
    _plant_campaign_at_a_place_of_concern(demo_copy)
    server_transfer.push(demo_copy, pg_db, author="Tester")
    from tests.pg_cluster import give_logins

    return {"dsn": pg_db, "as": give_logins(pg_cluster, pg_db)}


def _as(shared, role, autocommit=True):
    return psycopg.connect(shared["as"](role), autocommit=autocommit)


def _su(shared):
    return psycopg.connect(shared["dsn"], autocommit=True)


def _one(shared, query, params=()):
    with _su(shared) as pg:
        return pg.execute(query, params).fetchone()[0]


def _read_log(shared):
    with _su(shared) as pg:
        return pg.execute("SELECT who, table_name, query FROM lantern_read_log ORDER BY id").fetchall()


def _pull(shared, tmp_path, name, role="admin"):
    path = tmp_path / f"{name}.gpkg"
    server_sync.pull(shared["as"](role), path, author=name, label=name)
    return path


def _sync(shared, ws, role="admin", **kw):
    """Sync as an administrator's login (an auditor's fails on its own: see the test of auditors' syncs)."""
    return server_sync.sync(ws, shared["as"](role), **kw)


def _in_thread(target):
    """Run ``target`` in a thread; its result or exception lands in the returned dict under "out"."""
    box: dict = {}

    def run():
        try:
            box["out"] = target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["out"] = exc

    box["thread"] = threading.Thread(target=run, daemon=True)
    box["thread"].start()
    return box


def _lantern_waits_for_a_lock(shared, kind=None) -> bool:
    """Whether a Lantern connection to this database is waiting for a lock (``kind``: the wait event)."""
    with _su(shared) as pg:
        return pg.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'Lantern' "
            "AND wait_event_type = 'Lock' AND (%s::text IS NULL OR wait_event = %s)", (kind, kind)).fetchone()[0] > 0


# == confidentiality: planners ====================================================================================


@hole("any role reads the number of reported cases from pg_class.reltuples / pg_stat_user_tables (the push's "
      "CREATE INDEX sets reltuples); server_roles promises that not even a layer's feature count leaks")
def test_a_planner_cannot_count_the_cases(shared):
    n = _one(shared, "SELECT count(*) FROM reported_cases")
    with _as(shared, "planner") as pg:
        try:
            pg.execute("SELECT count(*) FROM reported_cases")
            control(False, "a planner may count the cases directly")
        except psycopg.errors.InsufficientPrivilege:
            pass
        seen = pg.execute("SELECT reltuples FROM pg_class WHERE oid = 'public.reported_cases'::regclass").fetchall()
        seen += pg.execute("SELECT n_live_tup FROM pg_stat_user_tables "
                           "WHERE relid = 'public.reported_cases'::regclass").fetchall()
    control(n > 0, "the demo has cases")
    assert n not in {r[0] for r in seen}


def test_a_planner_does_not_hear_when_cases_change(shared):
    """Notifications go to a channel whose name only those who may take a copy can read."""
    with _su(shared) as pg:
        channel = pg.execute("SELECT name FROM lantern_channel").fetchone()[0]
    with _as(shared, "planner") as planner, _as(shared, "auditor") as auditor:
        planner.execute("LISTEN lantern_changes")  # the name a planner might guess
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            planner.execute("SELECT name FROM lantern_channel")
        auditor.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        with _as(shared, "auditor") as pg:
            pg.execute("UPDATE reported_cases SET status = status WHERE fid = (SELECT min(fid) FROM reported_cases)")
        heard = [n.payload for n in auditor.notifies(timeout=30, stop_after=1)]
        overheard = [n.payload for n in planner.notifies(timeout=1)]
    control(heard == ["reported_cases"], "an auditor listening on the channel hears the case change")
    assert overheard == []


def test_a_planner_cannot_locate_a_place_of_concern_through_a_campaign(shared):
    with _as(shared, "planner") as pg:
        try:
            pg.execute("SELECT ST_AsText(geom) FROM places_of_concern")
            control(False, "a planner may read places of concern directly")
        except psycopg.errors.InsufficientPrivilege:
            pass
        spots = pg.execute("SELECT lon, lat, name FROM campaign_locations").fetchall()
    with _su(shared) as pg:
        control(pg.execute("SELECT count(*) FROM campaign_locations WHERE place_table = 'places_of_concern'")
                .fetchone()[0] == 1, "the planted location is on the server")
        # closer than the geomask's smallest move (data/sensitivity.json geomask.min_m): no masked position is
        near = [pg.execute("SELECT count(*) FROM places_of_concern WHERE ST_DWithin(geom::geography, "
                           "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 50)", (lon, lat)).fetchone()[0]
                for lon, lat, _name in spots]
        names = {r[0] for r in pg.execute("SELECT name FROM places_of_concern")}
    with _as(shared, "auditor") as pg:  # positive control: the location is there for those who may see the place
        control(pg.execute("SELECT count(*) FROM campaign_locations WHERE place_table = 'places_of_concern'")
                .fetchone()[0] == 1, "an auditor reads the location at the place of concern")
    assert not any(near) and not names & {name for _lon, _lat, name in spots}


def test_statistics_show_no_value_of_a_column_or_table_a_role_may_not_read(shared):
    with _su(shared) as pg:
        pg.execute("ANALYZE")
        every = {tuple(r) for r in pg.execute("SELECT tablename, attname FROM pg_stats WHERE schemaname = 'public'")}
        notes = [r[0] for r in pg.execute("SELECT note FROM annotations WHERE note IS NOT NULL")]
    control(("reported_cases", "status") in every and ("annotations", "note") in every, "ANALYZE made statistics")
    for role in ("planner", "police"):
        with _as(shared, role) as pg:
            seen = {tuple(r) for r in pg.execute("SELECT tablename, attname FROM pg_stats WHERE schemaname = 'public'")}
            values = " ".join(str(r[0]) for r in pg.execute(
                "SELECT most_common_vals::text FROM pg_stats WHERE schemaname = 'public'") if r[0])
        assert ("spatial_ref_sys", "srid") in seen, role  # positive control: statistics of a table without RLS show
        assert not {t for t, _c in seen} & {"reported_cases", "annotations", "places_of_concern", "change_log"}, role
        assert notes and not any(n in values for n in notes), role


def test_catalogue_and_bookkeeping_tables_show_a_planner_nothing_of_hidden_tables(shared):
    hidden = {"reported_cases", "annotations", "places_of_concern", "incoming_submissions"}
    queries = {"lantern_file_schema": "SELECT tbl_name FROM lantern_file_schema",
               "lantern_file_columns": "SELECT table_name FROM lantern_file_columns",
               "lantern_tombstones": "SELECT table_name FROM lantern_tombstones",
               "gpkg_geometry_columns": "SELECT table_name FROM gpkg_geometry_columns",
               "layer_styles": "SELECT f_table_name FROM layer_styles",
               "gpkg_data_columns": "SELECT table_name FROM gpkg_data_columns"}
    with _as(shared, "auditor") as pg:  # a deletion of a case leaves a tombstone for the probe to find
        pg.execute("DELETE FROM reported_cases WHERE fid = (SELECT max(fid) FROM reported_cases)")
    for name, query in queries.items():
        with _su(shared) as pg:
            everything = {r[0] for r in pg.execute(query)}
        with _as(shared, "planner") as pg:
            seen = {r[0] for r in pg.execute(query)}
        if name in ("lantern_file_schema", "lantern_file_columns", "lantern_tombstones"):
            assert everything & hidden, name  # positive control: the probe would see them
        assert not seen & hidden, name
    with _as(shared, "planner") as pg:
        for statement in ("SELECT * FROM lantern_id_blocks", "SELECT * FROM lantern_role_tables",
                          "SELECT * FROM lantern_read_log", "SELECT before FROM change_log",
                          "COPY (SELECT 1) TO '/tmp/lantern-attack'", "SELECT * FROM pg_read_file('postgresql.conf')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                pg.execute(statement)


def test_errors_echo_no_value_a_planner_may_not_read(shared):
    """A duplicate key or a failing row in a table the planner may write but not read reveals nothing of it."""
    with _su(shared) as pg:
        last_id = pg.execute("SELECT max(id) FROM change_log").fetchone()[0]
        author = pg.execute("SELECT author FROM change_log WHERE id = %s", (last_id,)).fetchone()[0]
    with _as(shared, "planner") as pg:
        with pytest.raises((psycopg.errors.UniqueViolation, psycopg.errors.RaiseException)) as dup:
            pg.execute("INSERT INTO change_log (id, time, author, action, table_name, hash, prev_hash) "
                       "VALUES (%s, 'now', 'anna', 'insert', 'campaigns', 'h', 'p')", (last_id,))
    text = f"{dup.value} {dup.value.diag.message_detail}"
    assert "duplicate key" in text or "must follow" in text  # positive control: the probe hit the existing entry
    assert author and author not in text and dup.value.diag.message_detail is None


def test_definer_functions_ignore_temporary_look_alikes_and_crafted_names(shared):
    with _as(shared, "planner") as pg:
        pg.execute("CREATE TEMP TABLE lantern_role_tables (pg_role text, table_name text)")
        pg.execute("INSERT INTO pg_temp.lantern_role_tables VALUES ('lantern_planner', 'reported_cases'), "
                   "('lantern_planner', 'annotations')")
        control(pg.execute("SELECT count(*) FROM lantern_role_tables").fetchone()[0] == 2,
                "the planner's look-alike comes first on its own search path")
        assert pg.execute("SELECT lantern_may_read('reported_cases')").fetchone()[0] is False
        assert pg.execute("SELECT lantern_may_read(%s)", ("x' OR true OR '",)).fetchone()[0] is False
        assert pg.execute("SELECT lantern_may_read('worksites')").fetchone()[0] is True  # positive control
        listed = {r[0] for r in pg.execute("SELECT table_name FROM gpkg_contents")}
        assert "worksites" in listed and not listed & {"reported_cases", "annotations"}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pg.execute("SELECT 1 FROM reported_cases")
    with _as(shared, "police") as pg:  # a look-alike read log would swallow the police's record
        pg.execute("CREATE TEMP TABLE lantern_read_log (id bigserial, at timestamptz DEFAULT now(), "
                   "statement_at timestamptz, pid integer, who text, table_name text, query text)")
        n = pg.execute("SELECT count(*) FROM reported_cases").fetchone()[0]
        assert pg.execute("SELECT count(*) FROM pg_temp.lantern_read_log").fetchone()[0] == 0
    assert n > 0 and [(w, t) for w, t, _q in _read_log(shared)] == [("pauls_police", "reported_cases")]


def test_a_planner_cannot_make_copies_delete_a_case(shared, tmp_path):
    path = _pull(shared, tmp_path, "office")
    fid = _one(shared, "SELECT min(fid) FROM reported_cases")
    with _as(shared, "planner") as pg:
        try:
            pg.execute("CREATE TEMP TABLE reported_cases (fid bigint)")
            pg.execute("CREATE TRIGGER forged AFTER DELETE ON pg_temp.reported_cases FOR EACH ROW "
                       "EXECUTE FUNCTION public.lantern_tombstone('fid')")
            pg.execute("INSERT INTO pg_temp.reported_cases VALUES (%s)", (fid,))
            pg.execute("DELETE FROM pg_temp.reported_cases")
        except psycopg.errors.InsufficientPrivilege:
            pass  # the fix: the planner may not use the function
    control(_one(shared, "SELECT count(*) FROM reported_cases WHERE fid = %s", (fid,)) == 1, "the case is there")
    with Workspace.open(path) as ws:
        done = _sync(shared, ws)
        kept = ws.db.conn.execute("SELECT count(*) FROM reported_cases WHERE fid = ?", (fid,)).fetchone()[0]
    control(done.in_step, "the sync went through")
    assert kept == 1


def test_a_planner_cannot_stall_every_sync(shared, tmp_path):
    path = _pull(shared, tmp_path, "office")
    with _as(shared, "planner") as squatter:
        control(squatter.execute("SELECT pg_try_advisory_lock(%s)", (WRITE_LOCK,)).fetchone()[0], "lock taken")

        def run():
            with Workspace.open(path) as ws:
                return _sync(shared, ws)

        box = _in_thread(run)
        wait_for(lambda: not box["thread"].is_alive() or _lantern_waits_for_a_lock(shared, "advisory"),
                 "the sync finished or waits for the lock")
        stalled = box["thread"].is_alive()
        squatter.execute("SELECT pg_advisory_unlock_all()")
    box["thread"].join(60)
    control(not box["thread"].is_alive() and not isinstance(box.get("out"), BaseException), "the sync ends")
    assert not stalled


def test_a_planner_may_not_claim_id_blocks(shared):
    with _as(shared, "planner") as pg:
        try:
            pg.execute("SELECT lantern_claim_block('anna')")
        except psycopg.errors.InsufficientPrivilege:
            pass
    control(_one(shared, "SELECT count(*) FROM lantern_id_blocks") >= 1, "the block table is there")
    assert _one(shared, "SELECT count(*) FROM lantern_id_blocks WHERE claimed_by = 'anna_planner'") == 0


# == confidentiality: the police read log =========================================================================


def _rollback(pg):
    pg.execute("BEGIN")
    got = pg.execute("SELECT count(*), string_agg(status, ',') FROM reported_cases").fetchone()
    pg.execute("ROLLBACK")
    return got[1]


def _savepoint(pg):
    pg.execute("BEGIN")
    pg.execute("SAVEPOINT s")
    got = pg.execute("SELECT string_agg(note, '|') FROM annotations").fetchone()[0]
    pg.execute("ROLLBACK TO SAVEPOINT s")
    pg.execute("COMMIT")
    return got


def _failing_cast(pg):
    try:
        pg.execute("SELECT 1 FROM annotations WHERE note::integer = 0")
    except psycopg.errors.InvalidTextRepresentation as exc:
        return str(exc)  # the error quotes the note it could not cast
    return ""


@pytest.mark.parametrize("how", [_rollback, _savepoint, _failing_cast], ids=["rollback", "savepoint", "error"])
def test_a_police_read_always_leaves_its_record(shared, pg_cluster, how):
    """lantern_read_log is in the reader's transaction, which the reader may roll back; the server's own log is
    not: the record there stays (and a gap in the table's ids shows that a row was rolled back)."""
    with _su(shared) as pg:
        values = [r[0] for r in pg.execute("SELECT note FROM annotations WHERE note IS NOT NULL")]
        values += [r[0] for r in pg.execute("SELECT status FROM reported_cases WHERE status IS NOT NULL")]
    before = pg_cluster.server_log().count("lantern read: pauls_police read")
    with _as(shared, "police") as pg:
        got = how(pg)
    control(got and any(v in got for v in values), "the police got confidential values out")
    assert pg_cluster.server_log().count("lantern read: pauls_police read") > before


def _copy_out(pg):
    with pg.cursor().copy("COPY reported_cases (fid, status) TO STDOUT") as cp:
        return b"".join(bytes(b) for b in cp)


def _cursor(pg):
    pg.execute("BEGIN")
    pg.execute("DECLARE c CURSOR FOR SELECT fid FROM reported_cases")
    got = pg.execute("FETCH 5 FROM c").fetchall()
    pg.execute("COMMIT")
    return got


def _notice(pg):
    heard = []
    pg.add_notice_handler(lambda d: heard.append(d.message_primary))
    pg.execute("DO $$ BEGIN RAISE NOTICE '%', (SELECT string_agg(status, ',') FROM reported_cases); END $$")
    return heard


def _temp_function(pg):
    pg.execute("CREATE FUNCTION pg_temp.cases() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM reported_cases'")
    return pg.execute("SELECT pg_temp.cases()").fetchone()[0]


def _prepared(pg):
    pg.execute("PREPARE p AS SELECT fid FROM reported_cases WHERE fid > $1")
    return pg.execute("EXECUTE p(0)").fetchall()


POLICE_READS = {
    "copy": _copy_out,
    "cte": lambda pg: pg.execute("WITH x AS (SELECT * FROM reported_cases) SELECT count(*) FROM x").fetchone()[0],
    "subquery in a public table's query": lambda pg: pg.execute(
        "SELECT name, (SELECT count(*) FROM reported_cases) FROM worksites LIMIT 1").fetchall(),
    "exists probe": lambda pg: pg.execute(
        "SELECT EXISTS (SELECT 1 FROM reported_cases WHERE status IS NOT NULL)").fetchone()[0],
    "cursor": _cursor,
    "notice": _notice,
    "temporary view": lambda pg: (pg.execute("CREATE TEMP VIEW v AS SELECT * FROM reported_cases"),
                                  pg.execute("SELECT count(*) FROM v").fetchone()[0])[1],
    "temporary function": _temp_function,
    "prepared statement": _prepared,
    "explain analyze": lambda pg: pg.execute("EXPLAIN ANALYZE SELECT * FROM reported_cases").fetchall(),
    "own log call first": lambda pg: pg.execute(
        "SELECT lantern_log_read('reported_cases'), (SELECT count(*) FROM reported_cases)").fetchone()[1],
}


@pytest.mark.parametrize("how", list(POLICE_READS), ids=list(POLICE_READS))
def test_every_way_the_police_read_a_restricted_table_is_logged(shared, how):
    with _as(shared, "police") as pg:
        got = POLICE_READS[how](pg)
    assert got  # positive control: the read returned something
    assert ("pauls_police", "reported_cases") in {(w, t) for w, t, _q in _read_log(shared)}


def _padded(pg):
    padding = "/*" + "x" * 2100 + "*/ "
    return pg.execute(padding + "SELECT string_agg(status, ',') FROM reported_cases").fetchone()[0]


@pytest.mark.parametrize("how", [_cursor, _prepared, _padded], ids=["cursor", "prepared statement", "padding"])
def test_the_read_log_says_what_the_police_read(shared, how):
    with _as(shared, "police") as pg:
        control(how(pg), "the read returned something")
    log = [q for _w, t, q in _read_log(shared) if t == "reported_cases"]
    control(log, "the read was recorded")
    assert all("reported_cases" in q for q in log)


def test_the_police_cannot_erase_or_bypass_their_read_log(shared):
    with _as(shared, "police") as pg:
        assert pg.execute("SELECT count(*) FROM reported_cases").fetchone()[0] > 0
        for statement in ("DELETE FROM lantern_read_log", "UPDATE lantern_read_log SET who = 'x'",
                          "TRUNCATE lantern_read_log", "INSERT INTO lantern_read_log (table_name) VALUES ('x')",
                          "SELECT * FROM lantern_read_log", "SET ROLE lantern_auditor",
                          "SELECT * FROM reported_cases FOR SHARE", "SELECT * FROM reported_cases FOR UPDATE",
                          "ALTER TABLE reported_cases DISABLE ROW LEVEL SECURITY",
                          "ALTER POLICY lantern_police_read ON reported_cases USING (true)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                pg.execute(statement)
        pg.execute("SET row_security = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pg.execute("SELECT count(*) FROM annotations")
    assert [(w, t) for w, t, _q in _read_log(shared)] == [("pauls_police", "reported_cases")]


def test_the_police_cannot_read_case_counts_unlogged(shared):
    n = _one(shared, "SELECT count(*) FROM reported_cases")
    with _as(shared, "police") as pg:
        count = pg.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'reported_cases'").fetchone()
        box = pg.execute("SELECT min_x, max_x FROM gpkg_contents WHERE table_name = 'reported_cases'").fetchone()
    control(count == (n,) and box, "the catalogue holds the count and extent of the cases")
    assert _read_log(shared)


# == integrity: history ===========================================================================================


def test_an_auditor_cannot_rewrite_history_or_lanterns_own_tables(shared):
    with _as(shared, "auditor") as pg:
        for statement in ("DELETE FROM change_log_signers", "UPDATE change_log_signers SET public_key = 'x'",
                          "TRUNCATE change_log_signers",
                          "INSERT INTO change_log (id, time, action, table_name, hash, prev_hash) "
                          "SELECT id, time, action, table_name, 'x', prev_hash FROM change_log WHERE id = 1 "
                          "ON CONFLICT (id) DO UPDATE SET hash = 'x'",
                          "ALTER TABLE change_log DISABLE TRIGGER ALL",
                          "DROP POLICY lantern_auditor_write ON change_log",
                          "INSERT INTO lantern_tombstones VALUES ('worksites', 1, 1)", "DELETE FROM lantern_tombstones",
                          "UPDATE lantern_file_schema SET sql = 'x'", "DELETE FROM lantern_id_blocks",
                          "UPDATE lantern_sqlite_sequence SET seq = 0", "SELECT * FROM lantern_read_log",
                          "INSERT INTO lantern_role_tables VALUES ('lantern_planner', 'reported_cases')",
                          "SET session_replication_role = replica"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                pg.execute(statement)
        # positive control: the auditor does write data and history
        assert pg.execute("UPDATE worksites SET name = name WHERE fid = (SELECT min(fid) FROM worksites)").rowcount == 1


def test_a_direct_change_on_the_server_is_named_by_check_of_a_later_copy(shared, tmp_path):
    before = _pull(shared, tmp_path, "before")
    result = check_workspace(before)
    assert result.ok, result.problems  # positive control: a copy of the untouched server verifies
    fid = _one(shared, "SELECT min(fid) FROM reported_cases")
    with _as(shared, "auditor") as pg:
        pg.execute("UPDATE reported_cases SET status = 'closed by SQL' WHERE fid = %s", (fid,))
    after = check_workspace(_pull(shared, tmp_path, "after"))
    assert f"reported_cases row {fid} was changed outside Lantern" in after.problems


def test_a_planner_cannot_rewrite_workspace_wide_metadata(shared):
    version = _one(shared, "SELECT value FROM workspace_meta WHERE key = 'schema_version'")
    with _as(shared, "planner") as pg:
        control(pg.execute("SELECT value FROM workspace_meta WHERE key = 'schema_version'").fetchone() == (version,),
                "the planner reads the key")
        try:
            pg.execute("UPDATE workspace_meta SET value = '999' WHERE key = 'schema_version'")
        except psycopg.errors.InsufficientPrivilege:
            pass
    assert _one(shared, "SELECT value FROM workspace_meta WHERE key = 'schema_version'") == version


def test_the_server_refuses_a_history_entry_that_breaks_the_chain(shared, tmp_path):
    last_id = _one(shared, "SELECT max(id) FROM change_log")
    with _as(shared, "planner") as pg:
        try:
            pg.execute("INSERT INTO change_log (id, time, author, action, table_name, hash, prev_hash) "
                       "VALUES (%s, 'now', 'anna', 'update', 'campaigns', 'h', 'not the last hash')", (last_id + 1,))
        except psycopg.Error:
            pass
    assert _one(shared, "SELECT count(*) FROM change_log WHERE id > %s", (last_id,)) == 0


def test_a_planner_cannot_make_every_later_pull_fail(shared, tmp_path):
    _pull(shared, tmp_path, "before")  # positive control: the server can be pulled
    with _as(shared, "planner") as pg:
        key, top = pg.execute("SELECT min(public_key), max(id) FROM change_log_signers").fetchone()
        try:
            pg.execute("INSERT INTO change_log_signers (id, public_key) VALUES (%s, %s)", (top + 1, key))
        except psycopg.Error:
            pass
    try:
        _pull(shared, tmp_path, "after")
        pulled = True
    except (LanternError, sqlite3.Error):
        pulled = False
    assert pulled


# == integrity: copies and sync ===================================================================================


def _name(ws, fid):
    return ws.db.conn.execute("SELECT name FROM worksites WHERE fid = ?", (fid,)).fetchone()[0]


def test_an_auditors_copy_syncs_after_another_copy_wrote(shared, tmp_path):
    path = _pull(shared, tmp_path, "ilze", role="auditor")
    with Workspace.open(path) as ws:
        fid = ws.db.conn.execute("SELECT min(fid) FROM worksites").fetchone()[0]
        History(ws, "Ilze").do(UpdateRow("worksites", fid, {"name": "Ilze 1"}))
        control(_sync(shared, ws, role="auditor").in_step, "an auditor syncs when no one else wrote")
    _pull(shared, tmp_path, "laptop", role="auditor")  # another copy: one more entry on the server
    with Workspace.open(path) as ws:
        History(ws, "Ilze").do(UpdateRow("worksites", fid, {"name": "Ilze 2"}))
        try:
            done = _sync(shared, ws, role="auditor")
        except ServerError as exc:
            done = exc
    assert not isinstance(done, ServerError), done
    assert _one(shared, "SELECT name FROM worksites WHERE fid = %s", (fid,)) == "Ilze 2"


def test_a_conflict_that_changed_again_is_shown_again(shared, tmp_path):
    a, b = (Workspace.open(_pull(shared, tmp_path, n)) for n in ("anna", "berzins"))
    try:
        fid = a.db.conn.execute("SELECT min(fid) FROM worksites").fetchone()[0]
        History(a, "Anna").do(UpdateRow("worksites", fid, {"name": "Anna 1"}))
        control(_sync(shared, a).in_step, "Anna's first change is sent")
        History(b, "Berzins").do(UpdateRow("worksites", fid, {"name": "Berzins"}))
        shown = _sync(shared, b)
        control([c.theirs["name"] for c in shown.conflicts] == ["Anna 1"], "the conflict is shown")
        History(a, "Anna").do(UpdateRow("worksites", fid, {"name": "Anna 2"}))  # while Berzins decides
        control(_sync(shared, a).in_step, "Anna's second change is sent")
        again = _sync(shared, b, resolve={("worksites", fid): "mine"}, author="Berzins")
        on_server = _one(shared, "SELECT name FROM worksites WHERE fid = %s", (fid,))
    finally:
        a.close(), b.close()
    assert again.conflicts and on_server == "Anna 2"


def test_a_sync_does_not_overwrite_a_concurrent_edit_made_on_the_server(shared, tmp_path):
    path = _pull(shared, tmp_path, "office")
    rid = _one(shared, "SELECT min(id) FROM action_plan")
    with Workspace.open(path) as ws:
        History(ws, "Ilze").do(UpdateRow("action_plan", rid, {"status": "done"}))
    planner = _as(shared, "planner", autocommit=False)
    try:
        planner.execute("UPDATE action_plan SET notes = %s WHERE id = %s", (PLANNER_WROTE, rid))  # not yet committed

        def run():
            with Workspace.open(path) as ws:
                return _sync(shared, ws)

        box = _in_thread(run)
        wait_for(lambda: not box["thread"].is_alive() or _lantern_waits_for_a_lock(shared),
                 "the sync finished or waits for the planner's row")
        control(box["thread"].is_alive(), "the sync reached the planner's row while the planner's edit was open")
        planner.commit()
    finally:
        planner.close()
    box["thread"].join(60)
    out = box.get("out")
    notes = _one(shared, "SELECT notes FROM action_plan WHERE id = %s", (rid,))
    refused = isinstance(out, LanternError) or (isinstance(out, server_sync.SyncResult) and bool(out.conflicts))
    assert refused or notes == PLANNER_WROTE


def test_a_key_changed_on_the_server_leaves_no_ghost_row_in_copies(shared, tmp_path):
    path = _pull(shared, tmp_path, "office")
    rid = _one(shared, "SELECT min(id) FROM action_plan")
    with _as(shared, "planner") as pg:
        try:
            pg.execute("UPDATE action_plan SET id = 990001 WHERE id = %s", (rid,))
        except psycopg.Error:
            pass  # a fix may refuse the change of a key
    with Workspace.open(path) as ws:
        done = _sync(shared, ws)
        mine = {r[0] for r in ws.db.conn.execute("SELECT id FROM action_plan")}
    with _su(shared) as pg:
        theirs = {r[0] for r in pg.execute("SELECT id FROM action_plan")}
    control(done.in_step, "the sync went through")
    assert mine == theirs


def test_two_copies_syncing_at_the_same_moment_lose_nothing(shared, tmp_path):
    paths = [_pull(shared, tmp_path, n) for n in ("anna", "berzins")]
    with Workspace.open(paths[0]) as ws:
        fids = [r[0] for r in ws.db.conn.execute("SELECT fid FROM worksites ORDER BY fid LIMIT 2")]
    for path, fid, who in zip(paths, fids, ("Anna", "Berzins")):
        with Workspace.open(path) as ws:
            History(ws, who).do(UpdateRow("worksites", fid, {"name": f"Renamed by {who}"}))
            History(ws, who).do(annotate(annotation_values(
                "worksites", fid, indicators_seen=["gen_violence_signs"], observed="2026-11-28", confidence="medium",
                source="own_observation", author=who, note=f"note by {who}")))
    start = threading.Barrier(2)

    def syncer(path):
        def run():
            with Workspace.open(path) as ws:
                start.wait(30)
                return _sync(shared, ws)
        return run

    boxes = [_in_thread(syncer(p)) for p in paths]
    for box in boxes:
        box["thread"].join(120)
        assert not box["thread"].is_alive() and box["out"].in_step, box.get("out")
    for path in paths:  # each receives what the other sent
        with Workspace.open(path) as ws:
            assert _sync(shared, ws).in_step
    for path in [*paths, _pull(shared, tmp_path, "fresh")]:
        with Workspace.open(path) as ws:
            assert [_name(ws, f) for f in fids] == ["Renamed by Anna", "Renamed by Berzins"], path.name
            notes = {r[0] for r in ws.db.conn.execute("SELECT note FROM annotations")}
            assert {"note by Anna", "note by Berzins"} <= notes, path.name
        result = check_workspace(path)
        assert result.ok, (path.name, result.problems)


def test_a_copy_given_another_copys_id_block_meets_a_conflict_not_a_silent_overwrite(shared, tmp_path):
    a_path, b_path = _pull(shared, tmp_path, "anna"), _pull(shared, tmp_path, "berzins")
    conn = sqlite3.connect(a_path)
    block = conn.execute(f"SELECT value FROM {replica.STATE_TABLE} WHERE key = ?", (row_ids.BLOCK_KEY,)).fetchone()[0]
    conn.close()
    conn = sqlite3.connect(b_path)  # a careless copy of the state: the same block in two copies
    with conn:
        conn.execute(f"UPDATE {replica.STATE_TABLE} SET value = ? WHERE key = ?", (block, row_ids.BLOCK_KEY))
    conn.close()
    made = {}
    for path, who in ((a_path, "Anna"), (b_path, "Berzins")):
        with Workspace.open(path) as ws:
            fid = ws.db.conn.execute("SELECT min(fid) FROM worksites").fetchone()[0]
            made[who] = History(ws, who).do(annotate(annotation_values(
                "worksites", fid, indicators_seen=["gen_violence_signs"], observed="2026-11-28", confidence="medium",
                source="own_observation", author=who, note=f"note by {who}"))).row_id
    control(made["Anna"] == made["Berzins"], "the two copies gave the same id")
    with Workspace.open(a_path) as ws:
        assert _sync(shared, ws).in_step
    with Workspace.open(b_path) as ws:
        clash = _sync(shared, ws)
    assert [(c.table, c.row_id) for c in clash.conflicts] == [("annotations", made["Anna"])]
    assert _one(shared, "SELECT note FROM annotations WHERE id = %s", (made["Anna"],)) == "note by Anna"


def test_a_copy_synced_with_a_restored_server_misses_nothing(shared, tmp_path, pg_cluster):
    from tests import pg_cluster as pc

    with _su(shared) as pg:  # an old server has used many transaction ids: make sure this one has
        pg.execute("CREATE TEMP TABLE burn (i int)")
        pg.execute("DO $$ BEGIN FOR i IN 1..6000 LOOP BEGIN INSERT INTO burn VALUES (i); "
                   "EXCEPTION WHEN others THEN NULL; END; END LOOP; END $$")
    path = _pull(shared, tmp_path, "laptop")
    dump = tmp_path / "workspace.dump"
    subprocess.run([str(pg_cluster.bin / "pg_dump"), "-Fc", "-f", str(dump), "-d", shared["dsn"]], check=True,
                   capture_output=True)
    new = pc.Cluster()
    try:
        with psycopg.connect(new.dsn(), autocommit=True) as pg:
            pg.execute("CREATE DATABASE moved")
            for role in ("admin", "auditor", "planner", "police"):
                pg.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(server_roles.pg_role(role))))
        subprocess.run([str(new.bin / "pg_restore"), "--single-transaction", "-d", new.dsn("moved"), str(dump)],
                       check=True, capture_output=True)
        moved = new.dsn("moved")
        with psycopg.connect(moved, autocommit=True) as pg:
            fid = pg.execute("SELECT min(fid) FROM worksites").fetchone()[0]
            pg.execute("UPDATE worksites SET name = 'Renamed after the move' WHERE fid = %s", (fid,))
        with Workspace.open(path) as ws:
            try:
                server_sync.sync(ws, moved)
                refused = False
            except ServerError:
                refused = True  # the fix may refuse the server instead
            name = _name(ws, fid)
    finally:
        new.stop()
    assert refused or name == "Renamed after the move"


# == pushing a hostile file =======================================================================================

HOSTILE_TABLE = "notes'); CREATE TABLE IF NOT EXISTS injected_by_a_table_name (x int); --"
HOSTILE_COLUMN = 'col"; DROP TABLE worksites; --'


def _add_table(path, table, column):
    t, c = (name.replace('"', '""') for name in (table, column))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(f'CREATE TABLE "{t}" (id INTEGER PRIMARY KEY, "{c}" TEXT)')
        conn.execute(f'INSERT INTO "{t}" VALUES (1, \'kept\')')
        conn.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier) VALUES (?, 'attributes', ?)",
                     (table, table[:40]))
    conn.close()


def test_a_hostile_table_name_runs_no_sql_on_the_server(demo_copy, pg_db):
    _add_table(demo_copy, HOSTILE_TABLE, "value")
    try:
        server_transfer.push(demo_copy, pg_db, author="Tester")
    except ServerError:
        pass  # a fix may refuse such a name
    with psycopg.connect(pg_db) as pg:
        control(pg.execute("SELECT to_regclass('worksites')").fetchone()[0], "the push went through")
        injected = pg.execute("SELECT to_regclass('injected_by_a_table_name')").fetchone()[0]
    assert injected is None


def test_a_hostile_column_name_is_only_a_name(demo_copy, pg_db, tmp_path):
    _add_table(demo_copy, "odd_names", HOSTILE_COLUMN)
    server_transfer.push(demo_copy, pg_db, author="Tester")
    with psycopg.connect(pg_db) as pg:
        assert pg.execute("SELECT to_regclass('worksites')").fetchone()[0] == "worksites"
        got = pg.execute(sql.SQL("SELECT {} FROM odd_names").format(sql.Identifier(HOSTILE_COLUMN))).fetchall()
    assert got == [("kept",)]
    back = tmp_path / "back.gpkg"
    server_sync.pull(pg_db, back, author="Tester")
    conn = sqlite3.connect(back)
    column = HOSTILE_COLUMN.replace('"', '""')
    assert conn.execute(f'SELECT "{column}" FROM odd_names').fetchall() == [("kept",)]
    conn.close()
