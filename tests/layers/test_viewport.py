"""The R-tree queries big layers are drawn and paged with agree with reading every row."""
from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from audit.filters import FilterState, row_filter, visible_fids
from layers import viewport
from layers.layer_reader import read_frame

N = 1500


@pytest.fixture
def cases(workspace):
    """A workspace with N cases, some with missing, empty or odd forms and months (the filter's edge cases)."""
    rng = np.random.default_rng(11)
    forms = [json.dumps(["labour"]), json.dumps(["sexual", "begging"]), json.dumps([]), None, "labour",
             json.dumps(["criminality"])]
    months = ["2019-05", "2021-01", "2023-12", None, "2025-06"]
    xs, ys = 24.9 + 0.1 * rng.random(N), 60.15 + 0.05 * rng.random(N)
    columns = {"reported": [months[i % len(months)] for i in range(N)],
               "forms": [forms[i % len(forms)] for i in range(N)],
               "status": ["potential"] * N}
    workspace.insert_columns("reported_cases", columns, shapely.points(xs, ys))
    return workspace


STATES = [FilterState(forms=frozenset({"labour"})),
          FilterState(forms=frozenset({"sexual", "criminality"}), date_from="2021-01-01", date_to="2024-01-31"),
          FilterState(date_to="2020-12-31"),
          FilterState(forms=frozenset())]


@pytest.mark.parametrize("state", STATES)
def test_sql_filter_lets_through_exactly_what_the_frame_filter_does(cases, state):
    conn = cases.db.conn
    frame = cases.read_layer("reported_cases")
    expected = visible_fids("reported_cases", frame, state)
    assert 0 < len(expected) < N or state.forms == frozenset()
    cond, params = row_filter("reported_cases", state).sql()
    got = {r[0] for r in conn.execute(f"SELECT fid FROM reported_cases AS t WHERE {cond}", params)}
    assert got == expected
    assert viewport.count_rows(conn, "reported_cases", row_filter("reported_cases", state)) == len(expected)


def test_positive_control_a_wrong_filter_is_seen(cases):
    """The comparison above can fail: dropping the 'no forms passes' rule changes the answer."""
    state = STATES[0]
    broken = viewport.RowFilter("forms", ("labour",))
    cond, params = broken.sql()
    cond = cond.replace("t.\"forms\" IS NULL OR ", "")
    got = {r[0] for r in cases.db.conn.execute(f'SELECT fid FROM reported_cases AS t WHERE {cond}', params)}
    assert got != visible_fids("reported_cases", cases.read_layer("reported_cases"), state)


def test_counts_bins_and_boxes_agree_with_the_geometries(cases):
    conn = cases.db.conn
    frame = cases.read_layer("reported_cases")
    box = (24.92, 60.16, 24.97, 60.19)
    inside = frame.geometry.intersects(shapely.box(*box))
    assert viewport.count(conn, "reported_cases", box) == int(inside.sum()) > 0
    state = STATES[1]
    rf = row_filter("reported_cases", state)
    keep = visible_fids("reported_cases", frame, state)
    assert viewport.count(conn, "reported_cases", box, rf) == len(keep & set(frame.index[inside]))
    cells = viewport.bins(conn, "reported_cases", box, (0.01, 0.01))
    assert sum(c for *_, c in cells) == int(inside.sum())
    fids, minx, miny, maxx, maxy = viewport.boxes(conn, "reported_cases")
    assert sorted(fids.tolist()) == sorted(frame.index.tolist())
    fid = int(frame.index[7])
    lon, lat = viewport.location(conn, "reported_cases", fid)
    assert frame.geometry.loc[fid].distance(shapely.Point(lon, lat)) < 1e-5
    assert viewport.location(conn, "reported_cases", 10 ** 9) is None


def test_pages_and_ranks_follow_the_fid_order(cases):
    conn = cases.db.conn
    fids = sorted(cases.read_layer("reported_cases").index)
    where, params = viewport.page_condition("reported_cases", 100, 50)
    assert read_frame(conn, "reported_cases", where, params).index.tolist() == fids[100:150]
    state = STATES[1]
    frame = cases.read_layer("reported_cases")
    keep = sorted(visible_fids("reported_cases", frame, state))
    where, params = viewport.page_condition("reported_cases", 10, 20, row_filter("reported_cases", state))
    assert read_frame(conn, "reported_cases", where, params).index.tolist() == keep[10:30]
    assert viewport.rank_of(conn, "reported_cases", keep[17], row_filter("reported_cases", state)) == 17
    assert viewport.rank_of(conn, "reported_cases", fids[321]) == 321
    assert viewport.rank_of(conn, "reported_cases", -5) == -1


def test_span_skips_missing_values_and_refuses_unknown_columns(cases):
    assert viewport.span(cases.db.conn, "reported_cases", "reported") == ("2019-05", "2025-06")
    with pytest.raises(KeyError):
        viewport.span(cases.db.conn, "reported_cases", "reported; DROP TABLE x")


def test_only_catalogue_layers_reach_the_sql(cases):
    with pytest.raises(KeyError):
        viewport.count(cases.db.conn, 'reported_cases" --')


def test_boxes_read_from_the_rtree_nodes_match_sql(cases):
    """The node-blob reader gives exactly the boxes SQLite's own R-tree query gives (ids and float32 bounds)."""
    conn = cases.db.conn
    leaves = viewport._rtree_leaves(conn, "rtree_reported_cases_geom")
    assert leaves is not None and len(leaves) == N
    rows = sorted(conn.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_reported_cases_geom").fetchall())
    got = sorted(zip(leaves["id"].tolist(), *(leaves[c].astype(float).tolist() for c in ("minx", "maxx", "miny", "maxy"))))
    assert got == rows


def test_a_tree_that_does_not_add_up_falls_back_to_sql(cases, monkeypatch):
    """Positive control: a node table that loses cells is noticed (the count check), and SQL answers instead."""
    conn = cases.db.conn
    real = conn.execute("SELECT nodeno, data FROM rtree_reported_cases_geom_node").fetchall()
    broken = [(no, data[:4 + 24 * 3] if no != 1 else data) for no, data in real]

    class Conn:
        def execute(self, sql, *args):
            if sql.endswith('_node"'):
                class Rows:
                    def fetchall(self):
                        return broken
                return Rows()
            return conn.execute(sql, *args)

    assert viewport._rtree_leaves(Conn(), "reported_cases") is None
    fids, *_ = viewport.boxes(conn, "reported_cases")
    assert len(fids) == N


def test_the_kept_feature_count_follows_every_change(cases, tmp_path):
    """Workspace.count reads GeoPackage's kept count: it must equal a real count after inserts, bulk imports,
    deletes; without its triggers it is not trusted (positive control: a stale kept count is ignored)."""
    import pandas as pd

    from layers.importers import import_file
    from layers.queries import kept_feature_count

    conn = cases.db.conn
    real = lambda: conn.execute("SELECT count(*) FROM reported_cases").fetchone()[0]  # noqa: E731
    assert kept_feature_count(conn, "reported_cases") == real() == cases.count("reported_cases") == N
    csv = tmp_path / "more.csv"
    pd.DataFrame({"lon": [24.95] * 30, "lat": [60.17] * 30, "reported": "2024-01", "forms": "labour",
                  "status": "potential"}).to_csv(csv, index=False)
    import_file(cases, csv, "reported_cases")
    with cases.atomic():
        cases.delete_row("reported_cases", 1)
    assert cases.count("reported_cases") == real() == N + 29
    # without the delete trigger the kept count goes stale: it is then not used
    conn.execute("DROP TRIGGER trigger_delete_feature_count_reported_cases")
    with cases.atomic():
        cases.delete_row("reported_cases", 2)
    assert kept_feature_count(conn, "reported_cases") is None
    assert cases.count("reported_cases") == real() == N + 28
