"""Schema 9 on existing workspaces: every annotation and estimate lands in a first round spanning their dates,
logged as one signed baseline entry, and the workspace still verifies (and still catches an edit)."""
import shutil
import sqlite3
from pathlib import Path

import pytest

from audit import rounds
from audit.annotations import new_place
from audit.check import check_workspace
from audit.commands import History, InsertRow
from audit.estimates import record_estimate
from layers import migrations
from layers.workspace import Workspace
from tests.rounds_fixture import lonlat, note, square

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.parametrize("fixture", ["workspace_v1.gpkg", "workspace_v6_areas.gpkg"])
def test_old_workspaces_without_annotations_migrate_with_no_round(tmp_path, fixture):
    path = tmp_path / fixture
    shutil.copy(FIXTURES / fixture, path)
    with Workspace.open(path) as ws:
        assert ws.schema_version == migrations.latest_version() >= 9
        assert rounds.rounds(ws) == [] and rounds.row_counts(ws) == {}
        assert "round_id" in ws.db["annotations"].columns_dict
        assert "round_id" in ws.db["risk_group_estimates"].columns_dict
    result = check_workspace(path)
    assert result.ok and not result.outside_edits, result.problems


def _schema_8_with_rows(path: Path) -> tuple[list[int], list[int]]:
    """A schema-8 workspace (copied from the v6 fixture) with annotations and estimates written as Lantern 8
    wrote them: no round."""
    later = {v: migrations._MIGRATIONS.pop(v) for v in sorted(migrations._MIGRATIONS) if v >= 9}
    try:
        with Workspace.open(path) as ws:
            assert ws.schema_version == 8 and "round_id" not in ws.db["annotations"].columns_dict
            history = History(ws, "Lantern 8 user")
            fid = history.do(new_place("places_of_concern", *lonlat(0, 0), {"name": "P", "category": "school"})).row_id
            notes = [history.do(InsertRow("annotations", note(fid, ["gen_minor"], day))).row_id
                     for day in (_day(2024, 3, 5), _day(2024, 9, 30))]
            estimates = []
            for day in (_day(2024, 1, 15), _day(2024, 6, 1)):
                command = record_estimate(square(0, 0), {"risk_group": "homeless", "estimate": 9, "confidence": "low",
                                                         "source_institution": "NGO", "estimated_on": day.isoformat()})
                values = {k: v for k, v in command.values.items() if k != "round_id"}
                estimates.append(history.do(InsertRow("risk_group_estimates", values)).row_id)
    finally:
        migrations._MIGRATIONS.update(later)
    return notes, estimates


def _day(*ymd):
    import datetime as dt

    return dt.date(*ymd)


def test_existing_annotations_and_estimates_go_to_a_first_round_logged_and_signed(tmp_path):
    path = tmp_path / "old.gpkg"
    shutil.copy(FIXTURES / "workspace_v6_areas.gpkg", path)
    notes, estimates = _schema_8_with_rows(path)
    assert check_workspace(path).ok
    with Workspace.open(path) as ws:  # migration 9 runs here
        (first,) = rounds.rounds(ws)
        assert first.name == migrations.FIRST_ROUND_NAME
        assert (first.starts, first.ends) == (_day(2024, 1, 15), _day(2024, 9, 30))  # spans every date
        assert rounds.row_counts(ws) == {first.id: {"annotations": 2, "estimates": 2}}
        entry = ws.db.conn.execute("SELECT action, author, signature FROM change_log ORDER BY id DESC").fetchone()
    assert entry[:2] == ("baseline", "Lantern") and entry[2]
    result = check_workspace(path)
    assert result.ok and not result.outside_edits, result.problems
    # the baseline covers the new column: moving a row to another round outside Lantern is caught
    conn = sqlite3.connect(path)
    conn.execute("UPDATE annotations SET round_id = NULL WHERE id = ?", (notes[0],))
    conn.commit()
    conn.close()
    tampered = check_workspace(path)
    assert not tampered.ok and any(e.table == "annotations" and e.row_id == notes[0] for e in tampered.outside_edits)


def test_a_migrated_workspace_keeps_assigning_rounds(tmp_path):
    path = tmp_path / "old.gpkg"
    shutil.copy(FIXTURES / "workspace_v6_areas.gpkg", path)
    _schema_8_with_rows(path)
    with Workspace.open(path) as ws:
        from audit.annotations import annotate

        first = rounds.rounds(ws)[0]
        fid = int(ws.db.conn.execute("SELECT max(place_fid) FROM annotations").fetchone()[0])
        later = History(ws, "Tester").do(annotate(note(fid, ["gen_minor"], _day(2025, 2, 1)))).row_id
        assert ws.get_row("annotations", later)["round_id"] == first.id  # no round holds it: the latest
    assert check_workspace(path).ok
