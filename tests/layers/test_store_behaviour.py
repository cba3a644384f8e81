"""The same behaviours on both stores: a workspace file, and a copy of a shared workspace on PostgreSQL/PostGIS.

Each behaviour runs unchanged on the two. On the shared store, the copy is then synced and the server has to
hold exactly what the copy holds (every logged table, row for row, through a fresh pull), with a history that
verifies; on the file store the file itself has to verify. So "runs unchanged" means: same result, and the
server agrees.
"""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
import shapely

from audit import rounds
from audit.annotations import annotate, annotation_values, new_place, place_assessments
from audit.campaigns import add_campaign, campaigns
from audit.check import check_workspace
from audit.commands import DeleteRow, History, UpdateRow
from audit.estimates import record_estimate
from layers import history_store, server_sync, server_transfer
from layers.workspace import Workspace


@pytest.fixture(params=["file", "server"])
def store(request, demo_copy, tmp_path):
    """(workspace, finish): ``finish()`` syncs a shared copy and checks the server agrees with it."""
    if request.param == "file":
        ws = Workspace.open(demo_copy)
        yield ws, lambda: _file_verifies(ws)
        ws.close()
        return
    server = request.getfixturevalue("pg_db")
    server_transfer.push(demo_copy, server, author="Tester")
    copy = tmp_path / "copy.gpkg"
    server_sync.pull(server, copy, author="Tester")
    ws = Workspace.open(copy)
    yield ws, lambda: _server_agrees(ws, server, tmp_path)
    ws.close()


def _file_verifies(ws):
    result = check_workspace(ws.path)
    assert result.ok, result.problems


def _logged_rows(path):
    conn = sqlite3.connect(path)
    try:
        tables = history_store.trackable_tables(conn) + ["change_log"]
        return {t: conn.execute(f'SELECT rowid, * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
    finally:
        conn.close()


def _server_agrees(ws, server, tmp_path):
    assert server_sync.sync(ws, server, author="Tester").in_step
    _file_verifies(ws)
    fresh = tmp_path / "fresh.gpkg"
    server_sync.pull(server, fresh, author="Checker")
    mine, theirs = _logged_rows(ws.path), _logged_rows(fresh)
    assert mine.keys() == theirs.keys()
    for table in mine:
        if table == "change_log":  # the fresh copy's own entry follows; the rest is entry for entry the same
            assert theirs[table][:len(mine[table])] == mine[table]
        else:
            assert theirs[table] == mine[table], table
    assert check_workspace(fresh).ok


def _first(ws, table, key="fid"):
    return ws.db.conn.execute(f'SELECT min("{key}") FROM "{table}"').fetchone()[0]


def test_edit_undo_redo_of_a_place(store):
    ws, finish = store
    history = History(ws, "Tester")
    fid = _first(ws, "worksites")
    before = ws.get_row("worksites", fid)
    history.do(UpdateRow("worksites", fid, {"name": "Renamed"}))
    history.undo()
    assert ws.get_row("worksites", fid) == before
    history.redo()
    assert ws.get_row("worksites", fid)["name"] == "Renamed"
    gone = _first(ws, "shelters")
    history.do(DeleteRow("shelters", gone))
    assert ws.get_row("shelters", gone) is None
    finish()


def test_a_new_place_and_its_annotation_raise_its_risk(store):
    ws, finish = store
    history = History(ws, "Tester")
    place = history.do(new_place("worksites", 24.94, 60.17, {"name": "New site", "sector": "car_wash"}))
    values = annotation_values("worksites", place.row_id, indicators_seen=["gen_violence_signs", "gen_minor"],
                               observed=dt.date.today().isoformat(), confidence="high", source="own_observation",
                               author="Tester", note="two signs")
    history.do(annotate(values))
    assessed = place_assessments(ws)
    assert assessed[("worksites", place.row_id)].level != "none"
    finish()


def test_rounds_estimates_and_campaigns(store):
    ws, finish = store
    history = History(ws, "Tester")
    history.do(rounds.add_round(ws, "Winter check", "2026-11-01", "2026-11-30", ["NGO"]))
    square = shapely.box(24.93, 60.16, 24.95, 60.17)
    history.do(record_estimate(square, {"risk_group": "homeless", "estimate": 14, "confidence": "medium",
                                        "source_institution": "Social services", "estimated_on": "2026-11-15"}))
    history.do(add_campaign(ws, {"name": "Night buses", "starts": "2026-11-02", "ends": "2026-11-20",
                                 "audiences": ["taxi_drivers"], "languages": ["lv"], "channels": ["leaflets"],
                                 "people_reached": 80, "leaflets": 200}))
    assert "Winter check" in [r.name for r in rounds.rounds(ws)]
    assert "Night buses" in [c.name for c in campaigns(ws)]
    finish()


def test_a_public_export_and_the_report(store, tmp_path):
    from mapping.share_export import export

    ws, finish = store
    files, disclosure = export(ws, "public", "html", tmp_path / "out" / "map.html", author="Tester")
    assert files and files[0].stat().st_size > 10_000
    report, _ = export(ws, "public", "report", tmp_path / "out" / "report.pdf", author="Tester")
    assert report[0].read_bytes()[:4] == b"%PDF"
    finish()
