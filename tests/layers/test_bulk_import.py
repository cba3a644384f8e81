"""Bulk imports in batches: the same rows, checks, messages and signed history as one batch (issue 14).

Each test imports with a tiny batch size so that several batches, the R-tree bulk load, one change-log
entry per batch and the whole-file rules across batches are exercised on small files.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3

import numpy as np
import pandas as pd
import pytest
import shapely

from audit.check import check_workspace
from layers import gpkg_geometry, history_store
from layers.catalogue import kind
from layers.errors import InputError
from layers.features import normalise, normalise_one
from layers.importers import import_file
from layers.values import coerce, coerce_many
from tests.conftest import file_digest


def _reference_hashes(cursor):
    """The row hash as it was first written, one row at a time (the format workspaces are signed with)."""
    names = [d[0] for d in cursor.description][1:]
    order = sorted(range(len(names)), key=names.__getitem__)
    for rowid, *values in cursor:
        parts = []
        for i in order:
            v = values[i]
            if v is None:
                continue
            tag = {bytes: b"b", str: b"t", int: b"i", float: b"r"}[type(v)]
            b = tag + (v if type(v) is bytes else (repr(v) if type(v) is float else str(v)).encode("utf-8"))
            parts.append(names[i].encode("utf-8") + b"\x00" + len(b).to_bytes(8, "big") + b)
        yield rowid, hashlib.sha256(b"".join(parts)).hexdigest()[:32]


def _cases(path, n, bad=()):
    rows = [f"{24.9 + i * 1e-4:.6f},{60.15 + (i % 97) * 1e-4:.6f},2024-{1 + i % 12:02d},"
            f"{'labour' if i % 3 else 'labour;sexual'},{'potential' if i % 2 else 'identified'}" for i in range(n)]
    for i in bad:
        rows[i] = rows[i].replace("potential", "maybe").replace("identified", "maybe")
    path.write_text("lon,lat,reported,forms,status\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _rtree_ok(ws, table="reported_cases"):
    conn = ws.db.conn
    assert conn.execute(f"SELECT rtreecheck('rtree_{table}_geom')").fetchone()[0] == "ok"
    indexed = {r[0] for r in conn.execute(f'SELECT id FROM "rtree_{table}_geom"')}
    assert indexed == {r[0] for r in conn.execute(f'SELECT fid FROM "{table}"')}
    count = conn.execute("SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?", (table,)).fetchone()[0]
    assert count == ws.count(table)


def test_row_hashes_by_column_equal_the_reference_row_by_row():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (fid INTEGER PRIMARY KEY, geom BLOB, a TEXT, b REAL, c INTEGER, \"ü\" TEXT)")
    rng = np.random.default_rng(3)
    rows = [(i, bytes(rng.integers(0, 255, 20, dtype=np.uint8)) if i % 5 else None,
             ["x", "ÿ́", None, "long " * 40][i % 4], [0.1, None, -0.0, 1e300, 3.0][i % 5],
             [None, 1, -7, 2**40][i % 4], "é" if i % 7 else None) for i in range(1, 300)]
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", rows)
    reference = dict(_reference_hashes(conn.execute("SELECT rowid, * FROM t")))
    assert history_store.current_row_hashes(conn, "t") == reference
    columns = list(zip(*conn.execute("SELECT * FROM t")))  # as SQLite returns them (-0.0 comes back as 0.0)
    names = ["fid", "geom", "a", "b", "c", "ü"]
    assert dict(zip(range(1, 300), history_store.hash_columns(names, columns))) == reference


@pytest.mark.parametrize("field_name, values", [
    ("forms", ["labour", "Labour;sexual", "x", None, " ", "[\"labour\"]", "[broken", "labour", float("nan")]),
    ("reported", ["2024-01", "2024-13", "2024-1-05", None, pd.Timestamp("2020-02-03"), "soon"]),
    ("referral_made", [True, False, "yes", "nē", "maybe", None, 1, 0.0, 2]),
    ("status", ["potential", "IDENTIFIED", "other", "", None]),
])
def test_coerce_many_gives_the_values_and_messages_of_coerce(field_name, values):
    field = kind("reported_cases").field(field_name)
    stored, problems = coerce_many(field, pd.Series(values, dtype=object))
    for i, raw in enumerate(values):
        try:
            assert stored[i] == coerce(field, raw) and i not in problems
        except ValueError as exc:
            assert problems[i] == str(exc) and stored[i] is None


def test_vectorised_normalise_equals_feature_by_feature():
    geoms = np.array([shapely.Point(1, 2), shapely.MultiPoint([(1, 2)]), shapely.MultiPoint([(1, 2), (3, 4)]),
                      shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]),
                      shapely.LineString([(0, 0), (1, 1)]), shapely.MultiLineString([[(0, 0), (1, 1)]]),
                      shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (2, 2)])]),
                      shapely.LinearRing([(0, 0), (1, 0), (1, 1), (0, 0)])], dtype=object)
    got = normalise(geoms)
    for g, want in zip(got, [normalise_one(g) for g in geoms]):
        assert g.geom_type == want.geom_type and g.equals(want) and shapely.to_wkb(g) == shapely.to_wkb(want)


def test_rtree_bulk_load_matches_sqlite_inserts_and_keeps_working():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE a USING rtree(id, minx, maxx, miny, maxy)")
    conn.execute("CREATE VIRTUAL TABLE b USING rtree(id, minx, maxx, miny, maxy)")
    rng = np.random.default_rng(5)
    x, y = rng.random(5000) * 360 - 180, rng.random(5000) * 180 - 90
    bounds = np.column_stack([x, y, x + rng.random(5000), y + rng.random(5000)])
    ids = np.arange(1, 5001) * 2
    gpkg_geometry.fill_rtree(conn, "a", ids, gpkg_geometry.rtree_bounds(bounds))
    conn.executemany("INSERT INTO b VALUES (?, ?, ?, ?, ?)",
                     zip(ids.tolist(), bounds[:, 0].tolist(), bounds[:, 2].tolist(), bounds[:, 1].tolist(),
                         bounds[:, 3].tolist()))
    assert sorted(conn.execute("SELECT * FROM a")) == sorted(conn.execute("SELECT * FROM b"))
    query = "SELECT id FROM {} WHERE minx <= 10 AND maxx >= -10 AND miny <= 5 AND maxy >= -5 ORDER BY id"
    assert conn.execute(query.format("a")).fetchall() == conn.execute(query.format("b")).fetchall()
    conn.execute("INSERT INTO a VALUES (1, 0, 1, 0, 1)")
    conn.execute("DELETE FROM a WHERE id < 2000")
    assert conn.execute("SELECT rtreecheck('a')").fetchone()[0] == "ok"


def test_an_import_in_batches_is_one_entry_per_batch_and_verifies(workspace, tmp_path):
    src = _cases(tmp_path / "cases.csv", 23)
    report = import_file(workspace, src, "reported_cases", batch_rows=5)
    assert report.count == 23 and list(report.fids) == list(range(1, 24))
    entries = [json.loads(a) for (a,) in workspace.db.conn.execute(
        "SELECT after FROM change_log WHERE action = 'import' ORDER BY id")]
    assert [e["part"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[-1]["parts"] == 5 and entries[-1]["total"] == 23 and sum(e["count"] for e in entries) == 23
    _rtree_ok(workspace)
    again = import_file(workspace, src, "reported_cases", batch_rows=50)  # a second import: one entry, fids go on
    assert list(again.fids) == list(range(24, 47))
    last = json.loads(workspace.db.conn.execute("SELECT after FROM change_log ORDER BY id DESC LIMIT 1").fetchone()[0])
    assert "part" not in last and last["count"] == 23 and last["first_fid"] == 24
    _rtree_ok(workspace)
    frame = workspace.read_layer("reported_cases")
    assert len(frame) == 46 and frame["forms"].iloc[0] == '["sexual", "labour"]'
    ws_path = workspace.path
    workspace.close()
    result = check_workspace(ws_path)
    assert result.ok, result.problems


def test_batches_give_the_same_layer_as_one_batch(tmp_path):
    from layers.workspace import Workspace

    src = _cases(tmp_path / "cases.csv", 40)
    frames = []
    for batch in (7, 1000):
        with Workspace.create(tmp_path / f"w{batch}.gpkg") as ws:
            import_file(ws, src, "reported_cases", batch_rows=batch)
            frames.append(ws.read_layer("reported_cases"))
            extent = ws.db.conn.execute(
                "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name='reported_cases'").fetchone()
            assert extent == tuple(frames[-1].total_bounds)
    pd.testing.assert_frame_equal(frames[0], frames[1])


def test_a_bad_row_in_a_late_batch_refuses_the_file_and_changes_nothing(workspace, tmp_path):
    src = _cases(tmp_path / "cases.csv", 30, bad=(3, 26, 27, 28, 29, 25, 24))
    before = file_digest(workspace.path)
    with pytest.raises(InputError) as err:
        import_file(workspace, src, "reported_cases", batch_rows=4)
    message = str(err.value)
    assert message.startswith("cases.csv: 7 rows cannot be imported: row 4: field 'status'")
    assert "row 25:" in message and "and 2 more" in message and "--skip-invalid" in message
    assert file_digest(workspace.path) == before


def test_skipped_rows_across_batches_keep_their_row_numbers(workspace, tmp_path):
    src = _cases(tmp_path / "cases.csv", 12, bad=(1, 9))
    report = import_file(workspace, src, "reported_cases", skip_invalid=True, batch_rows=4)
    assert report.count == 10 and [r for r, _p in report.skipped] == [2, 10]
    lines = report.skipped_file.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,problem,reported,forms,status,geometry_wkt"
    assert lines[1].startswith('2,"field \'status\'') and lines[2].startswith("10,") and "POINT" in lines[2]
    _rtree_ok(workspace)


def test_whole_file_rules_hold_across_batches(workspace, tmp_path):
    src = tmp_path / "far.csv"
    src.write_text("lon,lat,name,hub_type\n" + "".join(f"{500000 + i},{6000000 + i},H{i},tram_stop\n"
                                                       for i in range(9)), encoding="utf-8")
    with pytest.raises(InputError, match="outside the valid range .* the data spans x 500000…500008"):
        import_file(workspace, src, "transport_hubs", batch_rows=4)
    assert workspace.count("transport_hubs") == 0


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_vector_files_are_read_in_batches(workspace, tmp_path, suffix):
    import geopandas as gpd

    src = tmp_path / f"hubs{suffix}"
    gpd.GeoDataFrame({"name": [f"H{i}" for i in range(8)], "hub_type": ["tram_stop"] * 8},
                     geometry=shapely.points(np.arange(8) * 0.01 + 24.1, np.full(8, 56.9)), crs=4326).to_file(src)
    report = import_file(workspace, src, "transport_hubs", batch_rows=3)
    assert report.count == 8
    assert list(workspace.read_layer("transport_hubs")["name"]) == [f"H{i}" for i in range(8)]
    parts = workspace.db.conn.execute("SELECT count(*) FROM change_log WHERE action = 'import'").fetchone()[0]
    assert parts == 3
    _rtree_ok(workspace, "transport_hubs")
