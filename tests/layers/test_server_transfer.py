"""Push a workspace file to a real PostgreSQL/PostGIS server and pull it back: nothing lost, history verifiable.

The server is a throwaway cluster (tests/pg_cluster.py). Every claim has an attack or a positive control:
a row changed on the server is caught by `check` of the pulled file; a failing push leaves the database empty.
"""
from __future__ import annotations

import sqlite3
import struct

import psycopg
import pytest
import shapely

from audit.check import check_workspace
from layers import gpkg_geometry, server_sync, server_transfer
from layers.errors import LanternError, ServerError, StorageError
from layers.workspace import Workspace

# tables whose rows the move itself adds to (the log, its head, its signers); everything else must be identical
MOVE_TABLES = {"change_log", "workspace_meta", "change_log_signers"}


def _rows(path, table):
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute(f'SELECT rowid, * FROM "{table}"').fetchall(), key=repr)
    finally:
        conn.close()


def _tables(path):
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"),
                      key=repr)
    finally:
        conn.close()


def _log(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, action, hash FROM change_log ORDER BY id").fetchall()
    finally:
        conn.close()


def test_round_trip_keeps_every_row_schema_index_and_history(demo_copy, pg_db, tmp_path):
    before_log = _log(demo_copy)
    pushed = server_transfer.push(demo_copy, pg_db, author="Tester")
    back = tmp_path / "back.gpkg"
    pulled = server_sync.pull(pg_db, back, author="Tester")
    assert pushed.rows > 1000 and pulled.received_rows >= pushed.rows + 2  # + the push and copy entries (+ signer)

    # tables, R-trees, indexes, triggers: the same statements (and the copy's own two tables)
    assert [t for t in _tables(back) if not t[1].startswith("lantern_replica")] == _tables(demo_copy)
    names = [n for kind, n, _sql in _tables(demo_copy) if kind == "table"]
    shadows = {f"{n}_{s}" for n in names if n.startswith("rtree_") for s in ("node", "parent", "rowid")}
    for table in names:  # R-trees compared by what they index, not by how their nodes are packed
        if table not in MOVE_TABLES | shadows:
            assert _rows(back, table) == _rows(demo_copy, table), table
    log = _log(back)
    assert log[:len(before_log)] == before_log  # the history came along unchanged ...
    assert [a for _i, a, _h in log[len(before_log):]] == ["push", "copy"]  # ... and the moves are in it
    result = check_workspace(back)
    assert result.ok, result.problems
    assert result.entries == len(log)
    with Workspace.open(back) as ws:  # it opens as a workspace, every layer readable
        assert ws.count("reported_cases") == len(_rows(demo_copy, "reported_cases"))


def test_server_holds_postgis_geometries_qgis_can_read(demo_copy, pg_db):
    server_transfer.push(demo_copy, pg_db, author="Tester")
    with psycopg.connect(pg_db) as pg:
        kinds = pg.execute("SELECT DISTINCT GeometryType(geom), ST_SRID(geom) FROM reported_cases").fetchall()
        registered = pg.execute("SELECT type, srid FROM geometry_columns WHERE f_table_name = 'worksites'").fetchone()
        n = pg.execute("SELECT count(*) FROM reported_cases").fetchone()[0]
    assert kinds == [("POINT", 4326)]
    assert registered == ("POINT", 4326)
    assert n == len(_rows(demo_copy, "reported_cases"))


def test_a_row_changed_on_the_server_is_caught_in_the_pulled_file(demo_copy, pg_db, tmp_path):
    server_transfer.push(demo_copy, pg_db, author="Tester")
    with psycopg.connect(pg_db) as pg:  # someone edits the server behind Lantern's back (psql, say)
        pg.execute("UPDATE reported_cases SET geom = ST_SetSRID(ST_MakePoint(24.1, 56.9), 4326) "
                   "WHERE fid = (SELECT min(fid) FROM reported_cases)")
    back = tmp_path / "back.gpkg"
    server_sync.pull(pg_db, back, author="Tester")
    result = check_workspace(back)
    assert not result.ok
    assert [(e.table) for e in result.outside_edits] == ["reported_cases"]


def _gdal_point_blob(x, y):
    """A point as GDAL writes it: GeoPackage header without an envelope, then WKB."""
    return b"GP" + bytes([0, 0b0000_0001]) + struct.pack("<i", 4326) + shapely.to_wkb(shapely.Point(x, y), byte_order=1)


def test_a_geometry_another_program_wrote_is_stored_in_lanterns_form_and_logged(demo_copy, pg_db, tmp_path):
    conn = sqlite3.connect(demo_copy)
    gpkg_geometry.register_functions(conn)  # the R-tree triggers call them, as in QGIS
    fid = conn.execute("SELECT min(fid) FROM worksites").fetchone()[0]
    with conn:
        conn.execute("UPDATE worksites SET geom = ? WHERE fid = ?", (_gdal_point_blob(24.11, 56.95), fid))
    conn.close()
    with Workspace.open(demo_copy) as ws:  # the outside edit accepted, as `lantern check --accept` does
        from audit.check import accept_outside_edits
        assert len(accept_outside_edits(ws, "Tester")) == 1
    pushed = server_transfer.push(demo_copy, pg_db, author="Tester")
    assert pushed.rewritten == {"worksites": {str(fid): pushed.rewritten["worksites"][str(fid)]}}
    back = tmp_path / "back.gpkg"
    server_sync.pull(pg_db, back, author="Tester")
    assert check_workspace(back).ok
    conn = sqlite3.connect(back)
    stored = conn.execute("SELECT geom FROM worksites WHERE fid = ?", (fid,)).fetchone()[0]
    conn.close()
    assert stored == gpkg_geometry.encode([shapely.Point(24.11, 56.95)])[0]  # Lantern's form, same position


def test_push_into_a_database_holding_a_workspace_is_refused_and_changes_nothing(demo_copy, pg_db):
    server_transfer.push(demo_copy, pg_db, author="Tester")
    with psycopg.connect(pg_db) as pg:
        before = pg.execute("SELECT count(*), max(id) FROM change_log").fetchone()
    with pytest.raises(ServerError, match="holds a Lantern workspace already"):
        server_transfer.push(demo_copy, pg_db, author="Tester")
    with psycopg.connect(pg_db) as pg:
        assert pg.execute("SELECT count(*), max(id) FROM change_log").fetchone() == before


def _user_tables(dsn):
    with psycopg.connect(dsn) as pg:
        return [r[0] for r in pg.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_name NOT IN ('spatial_ref_sys', 'geometry_columns', 'geography_columns')")]


def test_a_value_the_server_cannot_hold_exactly_is_named_and_nothing_is_written(demo_copy, pg_db):
    conn = sqlite3.connect(demo_copy)
    with conn:  # SQLite keeps text in an INTEGER column; the server would not give it back as it was
        conn.execute("UPDATE annotations SET round_id = 'first' WHERE id = (SELECT min(id) FROM annotations)")
    conn.close()
    with pytest.raises(ServerError, match=r"annotations\.round_id is declared INTEGER but holds text values"):
        server_transfer.push(demo_copy, pg_db, author="Tester")
    assert _user_tables(pg_db) == []


def test_a_push_failing_half_way_leaves_the_database_empty(demo_copy, pg_db):
    seen = []

    def progress(table):
        seen.append(table)
        if len(seen) == 10:
            raise RuntimeError("the network went away")

    with pytest.raises(RuntimeError):
        server_transfer.push(demo_copy, pg_db, author="Tester", progress=progress)
    assert len(seen) == 10  # positive control: it did get half way
    assert _user_tables(pg_db) == []


def test_pull_refuses_an_existing_file_and_a_database_without_a_workspace(demo_copy, pg_db, tmp_path):
    folder = tmp_path / "pulled"
    folder.mkdir()
    with pytest.raises(ServerError, match="holds no Lantern workspace"):
        server_sync.pull(pg_db, folder / "new.gpkg", author="Tester")
    assert list(folder.iterdir()) == []  # no file, no temporary left behind
    server_transfer.push(demo_copy, pg_db, author="Tester")
    before = demo_copy.read_bytes()
    with pytest.raises(StorageError, match="exists already"):
        server_sync.pull(pg_db, demo_copy, author="Tester")
    assert demo_copy.read_bytes() == before


def test_an_unreachable_server_is_named_without_its_password(demo_copy, tmp_path):
    address = f"postgresql://auditor:s3cret-pw@/nowhere?host={tmp_path}&port=1"
    with pytest.raises(ServerError) as err:
        server_sync.pull(address, tmp_path / "x.gpkg", author="Tester")
    assert "cannot connect" in str(err.value) and "auditor@" in str(err.value)
    assert "s3cret" not in str(err.value)
    assert isinstance(err.value, LanternError)


def test_a_backup_restored_into_a_new_database_pulls_a_copy_that_verifies(demo_copy, pg_db, pg_cluster, tmp_path):
    """The backup docs/shared-workspace.md gives: pg_dump -Fc, pg_restore into an empty database, pull, check."""
    import subprocess

    from tests.pg_cluster import new_database

    server_transfer.push(demo_copy, pg_db, author="Tester")
    dump = tmp_path / "district.dump"
    subprocess.run([str(pg_cluster.bin / "pg_dump"), "-Fc", "-f", str(dump), "-d", pg_db], check=True)
    restored = new_database(pg_cluster, "restored_" + tmp_path.name[-12:].replace("-", "_"))
    subprocess.run([str(pg_cluster.bin / "pg_restore"), "--exit-on-error", "-d", restored, str(dump)], check=True,
                   capture_output=True)
    copy = tmp_path / "from-backup.gpkg"
    server_sync.pull(restored, copy, author="Tester")
    result = check_workspace(copy)
    assert result.ok, result.problems
    assert _rows(copy, "reported_cases") == _rows(demo_copy, "reported_cases")
