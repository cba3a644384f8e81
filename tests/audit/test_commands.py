"""Every command does, undoes and redoes; every step is logged; the log detects tampering."""
import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import shapely

from audit.annotations import annotate, annotation_values, annotations_of, new_place, new_place_with_annotation, \
    place_assessments
from audit.check import check_workspace
from audit.commands import DeleteRow, History, UpdateRow
from audit.estimates import densities, estimate_values, record_estimate

ROOT = Path(__file__).resolve().parents[2]
YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def _annotation(place_table="places_of_concern", fid=None, **kw):
    values = dict(indicators_seen=["gen_no_documents", "gen_controlled"], observed=YESTERDAY, confidence="high",
                  source="own_observation", author="Auditor A", team="Team 1", note="synthetic note")
    values.update(kw)
    return annotation_values(place_table, fid, **values)


def _state(ws):
    return {t: ws.db.conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall()
            for t in ("places_of_concern", "annotations", "risk_group_estimates")}


@pytest.fixture
def history(workspace):
    return History(workspace, author="Auditor A")


def _log(ws):
    return ws.db.conn.execute(
        "SELECT action, table_name, author FROM change_log WHERE action != 'baseline' ORDER BY id").fetchall()


def test_add_place_do_undo_redo(history, workspace):
    empty = _state(workspace)
    command = history.do(new_place("places_of_concern", 24.94, 60.17, {"name": "Bus yard", "category": "street_activity"}))
    done = _state(workspace)
    assert workspace.count("places_of_concern") == 1
    history.undo()
    assert _state(workspace) == empty
    history.redo()
    assert _state(workspace) == done and command.row_id == 1
    assert _log(workspace) == [("insert", "places_of_concern", "Auditor A"), ("undo insert", "places_of_concern", "Auditor A"),
                               ("insert", "places_of_concern", "Auditor A")]


def test_place_with_annotation_is_one_step(history, workspace):
    empty = _state(workspace)
    macro = history.do(new_place_with_annotation(
        "places_of_concern", 24.94, 60.17, {"name": "Yard", "category": "street_activity"}, _annotation()))
    fid = macro.commands[0].row_id
    assert annotations_of(workspace, "places_of_concern", fid)[0]["author"] == "Auditor A"
    assert place_assessments(workspace)[("places_of_concern", fid)].level == "elevated"
    done = _state(workspace)
    history.undo()
    assert _state(workspace) == empty
    history.redo()
    assert _state(workspace) == done


def test_update_and_delete_do_undo_redo(history, workspace):
    fid = history.do(new_place("places_of_concern", 24.94, 60.17, {"name": "A", "category": "clinic"})).row_id
    note = history.do(annotate(_annotation(fid=fid))).row_id
    for command in (UpdateRow("places_of_concern", fid, {"name": "B"}), UpdateRow("annotations", note, {"note": "edited"}),
                    DeleteRow("annotations", note), DeleteRow("places_of_concern", fid)):
        before = _state(workspace)
        history.do(command)
        after = _state(workspace)
        assert after != before
        history.undo()
        assert _state(workspace) == before
        history.redo()
        assert _state(workspace) == after
        history.undo()
    assert workspace.read_layer("places_of_concern")["name"].tolist() == ["A"]


def test_estimate_do_undo_redo_and_density(history, workspace):
    area = shapely.box(24.93, 60.16, 24.95, 60.17)
    fields = {"risk_group": "homeless", "estimate": 120, "female": 30, "male": 90, "source_institution": "Social services",
              "estimated_on": YESTERDAY, "confidence": "medium"}
    history.do(record_estimate(area, fields))
    frame = densities(workspace.read_layer("risk_group_estimates"))
    # 0.02° of longitude at 60.165°N ≈ 1.108 km, 0.01° of latitude ≈ 1.113 km
    assert frame["area_km2"].iloc[0] == pytest.approx(1.108 * 1.113, rel=0.01)
    assert frame["density"].iloc[0] == pytest.approx(120 / frame["area_km2"].iloc[0])
    history.undo()
    assert workspace.count("risk_group_estimates") == 0
    history.redo()
    assert workspace.count("risk_group_estimates") == 1


def test_estimate_breakdown_cannot_exceed_the_total():
    with pytest.raises(ValueError, match="more than the estimate"):
        estimate_values({"risk_group": "homeless", "estimate": 10, "female": 8, "male": 8,
                         "source_institution": "X", "estimated_on": YESTERDAY, "confidence": "low"})


def test_annotation_values_are_checked():
    with pytest.raises(ValueError, match="unknown indicators"):
        _annotation(indicators_seen=["no_such_indicator"])
    with pytest.raises(ValueError, match="future"):
        _annotation(observed=(dt.date.today() + dt.timedelta(days=3)).isoformat())
    with pytest.raises(ValueError, match="author"):
        _annotation(author=" ")


def test_a_failing_command_changes_nothing(history, workspace):
    before = _state(workspace)
    log_before = _log(workspace)
    with pytest.raises(KeyError):
        history.do(UpdateRow("places_of_concern", 999, {"name": "ghost"}))
    assert _state(workspace) == before and _log(workspace) == log_before
    assert not history.can_undo


# -- tamper detection ------------------------------------------------------------------


@pytest.fixture
def logged(tmp_path):
    from layers.workspace import Workspace

    path = tmp_path / "w.gpkg"
    with Workspace.create(path) as ws:
        h = History(ws, "Auditor A")
        for i in range(4):
            h.do(new_place("places_of_concern", 24.94 + i / 100, 60.17, {"name": f"P{i}", "category": "clinic"}))
    assert check_workspace(path).ok
    return path


def _tamper(path, *statements):
    conn = sqlite3.connect(path)
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


def _check(path):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "check", str(path)], capture_output=True, text=True)


def test_check_passes_on_an_untouched_workspace(logged):
    result = _check(logged)
    assert result.returncode == 0 and "change log of 5 entries" in result.stdout  # a baseline and 4 places


def test_check_detects_a_changed_entry(logged):
    _tamper(logged, "UPDATE change_log SET author = 'Someone else' WHERE id = 3")
    result = _check(logged)
    assert result.returncode == 1 and "entry 3 was altered" in result.stderr


def test_check_detects_a_deleted_entry(logged):
    _tamper(logged, "DELETE FROM change_log WHERE id = 2")
    result = _check(logged)
    assert result.returncode == 1 and "entry 2 is missing" in result.stderr


def test_check_detects_two_reordered_entries(logged):
    cols = "time, author, action, table_name, row_id, before, after, prev_hash, hash"
    _tamper(logged,
            f"CREATE TEMP TABLE a AS SELECT {cols} FROM change_log WHERE id = 2",
            f"CREATE TEMP TABLE b AS SELECT {cols} FROM change_log WHERE id = 3",
            *[f"UPDATE change_log SET {c} = (SELECT {c} FROM b) WHERE id = 2" for c in cols.split(", ")],
            *[f"UPDATE change_log SET {c} = (SELECT {c} FROM a) WHERE id = 3" for c in cols.split(", ")])
    result = _check(logged)
    assert result.returncode == 1 and "entry 2 does not follow entry 1" in result.stderr


def test_check_detects_entries_cut_off_the_end(logged):
    _tamper(logged, "DELETE FROM change_log WHERE id = 5")
    result = _check(logged)
    assert result.returncode == 1 and "cut off the end" in result.stderr


def test_check_detects_an_unregistered_table(logged):
    _tamper(logged, "CREATE TABLE secret_list (id INTEGER PRIMARY KEY, name TEXT)")
    result = _check(logged)
    assert result.returncode == 1 and "secret_list is not registered" in result.stderr


def test_imports_are_logged_too(workspace, tmp_path):
    from layers.importers import import_file

    src = tmp_path / "hubs.csv"
    src.write_text("lon,lat,name\n24.1,56.9,A\n24.2,56.9,B\n")
    import_file(workspace, src, "transport_hubs")
    action, table, after = workspace.db.conn.execute(
        "SELECT action, table_name, after FROM change_log WHERE action = 'import'").fetchone()
    assert (action, table) == ("import", "transport_hubs") and '"count": 2' in after
    assert check_workspace(workspace.path).ok
