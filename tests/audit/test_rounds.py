"""Audit rounds: checked values, undoable steps, and the one rule that gives every new annotation and estimate
its round — whichever path inserts it (annotation command, new place, field submission, estimate, CLI)."""
import datetime as dt
import json

import pytest

from audit import rounds
from audit.annotations import annotate, new_place_with_annotation
from audit.check import check_workspace
from audit.commands import History
from audit.estimates import record_estimate
from layers.workspace import Workspace
from tests.rounds_fixture import ROUND_A, ROUND_B, build, lonlat, note, square

DAY = dt.timedelta(days=1)


@pytest.fixture
def two_rounds(tmp_path):
    path = tmp_path / "rounds.gpkg"
    made = build(path)
    with Workspace.open(path) as ws:
        yield ws, made


def _estimate(day: dt.date, n: int = 12) -> dict:
    return {"risk_group": "homeless", "estimate": n, "source_institution": "Social services", "confidence": "medium",
            "estimated_on": day.isoformat()}


def _round_of(ws, table: str, row_id: int):
    return ws.get_row(table, row_id)["round_id"]


def test_values_are_checked(workspace):
    with pytest.raises(ValueError, match="needs a name"):
        rounds.round_values(workspace, "  ", "2025-01-01", "2025-02-01")
    with pytest.raises(ValueError, match="cannot end"):
        rounds.round_values(workspace, "R", "2025-02-01", "2025-01-01")
    with pytest.raises(ValueError, match="a date like"):
        rounds.round_values(workspace, "R", "1.2.2025", "2025-03-01")
    with pytest.raises(ValueError, match="named by text"):
        rounds.round_values(workspace, "R", "2025-01-01", "2025-02-01", teams=["Team", 7])
    values = rounds.round_values(workspace, " Spring ", "2025-01-01", "2025-01-01", teams="social services, NGO,, NGO")
    assert values["name"] == "Spring" and json.loads(values["teams"]) == ["social services", "NGO"]
    History(workspace, "T").do(rounds.add_round(workspace, "Spring", "2025-01-01", "2025-02-01"))
    with pytest.raises(ValueError, match="already an audit round"):
        rounds.add_round(workspace, "spring", "2026-01-01", "2026-02-01")


def test_a_round_is_added_edited_and_undone_through_the_history(workspace):
    history = History(workspace, "Tester")
    history.do(rounds.add_round(workspace, "Spring", "2025-03-01", "2025-05-31", ["NGO"]))
    spring = rounds.resolve(workspace, "spring")
    assert (spring.starts, spring.ends, spring.teams) == (dt.date(2025, 3, 1), dt.date(2025, 5, 31), ("NGO",))
    assert rounds.resolve(workspace, str(spring.id)) == spring
    history.do(rounds.edit_round(workspace, spring.id, ends="2025-06-30", teams=["NGO", "Police"]))
    assert rounds.get(workspace, spring.id).ends == dt.date(2025, 6, 30)
    with pytest.raises(ValueError, match="nothing to change"):
        rounds.edit_round(workspace, spring.id, teams="NGO, Police")
    history.undo()
    assert rounds.get(workspace, spring.id).teams == ("NGO",)
    history.undo()
    assert rounds.rounds(workspace) == []
    with pytest.raises(ValueError, match="no audit round 'Spring'"):
        rounds.resolve(workspace, "Spring")
    actions = [r[0] for r in workspace.db.conn.execute("SELECT action FROM change_log WHERE table_name='audit_rounds'")]
    assert actions == ["insert", "update", "undo update", "undo insert"]
    workspace.close()
    assert check_workspace(workspace.path).ok


def test_the_round_is_the_one_holding_the_date_else_the_latest(two_rounds):
    ws, made = two_rounds
    a, b = made["rounds"]
    history = History(ws, "Tester")
    fid = made["places"]["up"]
    inside_a = history.do(annotate(note(fid, ["gen_minor"], ROUND_A[1] + DAY))).row_id
    between = history.do(annotate(note(fid, ["gen_minor"], ROUND_A[2] + DAY))).row_id  # in no round: the latest
    before_all = history.do(annotate(note(fid, ["gen_minor"], ROUND_A[1] - 30 * DAY))).row_id
    assert [_round_of(ws, "annotations", i) for i in (inside_a, between, before_all)] == [a, b, b]
    # overlapping rounds: the one started last
    overlap = history.do(rounds.add_round(ws, "Summer pass", ROUND_A[1] + 10 * DAY, ROUND_A[2])).commands[0].row_id
    late = history.do(annotate(note(fid, ["gen_minor"], ROUND_A[1] + 20 * DAY))).row_id
    early = history.do(annotate(note(fid, ["gen_minor"], ROUND_A[1] + 5 * DAY))).row_id
    assert (_round_of(ws, "annotations", late), _round_of(ws, "annotations", early)) == (overlap, a)


def test_a_given_round_is_kept_and_an_unknown_one_refused(two_rounds):
    ws, made = two_rounds
    a, _b = made["rounds"]
    history = History(ws, "Tester")
    values = {**note(made["places"]["up"], ["gen_minor"], ROUND_B[2]), "round_id": a}
    kept = history.do(annotate(values)).row_id
    assert _round_of(ws, "annotations", kept) == a
    with pytest.raises(ValueError, match="no audit round 99"):
        history.do(annotate({**values, "round_id": 99}))


def test_without_rounds_rows_have_none_and_the_first_round_takes_them_in(workspace):
    history = History(workspace, "Tester")
    day = dt.date.today() - 10 * DAY
    step = history.do(new_place_with_annotation("places_of_concern", *lonlat(0, 0), {"name": "P", "category":
                                                "street_activity"}, note(None, ["gen_minor"], day)))
    annotation = step.commands[1].row_id
    estimate = history.do(record_estimate(square(0, 0), _estimate(day))).row_id
    assert _round_of(workspace, "annotations", annotation) is None
    assert rounds.row_counts(workspace) == {None: {"annotations": 1, "estimates": 1}}
    history.do(rounds.add_round(workspace, "First", day - 400 * DAY, day - 300 * DAY))  # not even holding their dates
    first = rounds.resolve(workspace, "First").id
    assert _round_of(workspace, "annotations", annotation) == first
    assert _round_of(workspace, "risk_group_estimates", estimate) == first
    # a later round holding their dates takes them from the round they joined only for want of one
    history.do(rounds.add_round(workspace, "Second", day - 30 * DAY, day))
    second = rounds.resolve(workspace, "Second").id
    assert rounds.row_counts(workspace) == {second: {"annotations": 1, "estimates": 1}}
    history.undo()
    assert rounds.row_counts(workspace) == {first: {"annotations": 1, "estimates": 1}}
    history.undo()
    assert _round_of(workspace, "annotations", annotation) is None
    history.redo()
    history.redo()
    assert _round_of(workspace, "risk_group_estimates", estimate) == second
    workspace.close()
    result = check_workspace(workspace.path)
    assert result.ok and not result.outside_edits, result.problems


def test_estimates_and_new_places_get_their_round(two_rounds):
    ws, made = two_rounds
    a, b = made["rounds"]
    history = History(ws, "Tester")
    estimate = history.do(record_estimate(square(0, 0), _estimate(ROUND_A[1] + DAY))).row_id
    between = history.do(record_estimate(square(0, 0), _estimate(ROUND_A[2] + 10 * DAY))).row_id
    step = history.do(new_place_with_annotation("places_of_concern", *lonlat(100, 100), {
        "name": "Q", "category": "street_activity"}, note(None, ["gen_minor"], ROUND_B[1] + DAY)))
    assert _round_of(ws, "risk_group_estimates", estimate) == a
    assert _round_of(ws, "risk_group_estimates", between) == b  # in no round: the latest
    assert _round_of(ws, "annotations", step.commands[1].row_id) == b
    history.undo()
    history.redo()  # the redo puts the row back into the same round
    assert _round_of(ws, "annotations", step.commands[1].row_id) == b


def _queued(ws, tmp_path, observed: dt.date, fid: int) -> int:
    from audit import submissions
    from tests.submission_exports import Sub, write_odk_zip

    sub = Sub("5a1e0000-0000-4000-8000-000000000042", place=f"places_of_concern-{fid}", observed=observed.isoformat(),
              place_type="street", indicators=["gen_minor"])
    report = submissions.import_submissions(ws, write_odk_zip(tmp_path / "odk.zip", [sub], {}), author="Reviewer")
    return report.ids[0] if report.ids else int(ws.db.conn.execute("SELECT max(id) FROM incoming_submissions")
                                                .fetchone()[0])


def test_an_accepted_field_submission_goes_to_the_round_of_its_date(two_rounds, tmp_path):
    from audit import submissions

    ws, made = two_rounds
    a, _b = made["rounds"]
    queued = _queued(ws, tmp_path, ROUND_A[1] + 3 * DAY, made["places"]["up"])
    step = History(ws, "Reviewer").do(submissions.accept(ws, queued, "Reviewer"))
    assert _round_of(ws, "annotations", step.commands[0].row_id) == a


def test_the_command_line_paths_give_the_round_too(two_rounds, tmp_path, capsys):
    import main as cli

    ws, made = two_rounds
    a, _b = made["rounds"]
    queued = _queued(ws, tmp_path, ROUND_A[2] - DAY, made["places"]["down"])
    ws.close()
    assert cli.main(["review-submissions", str(ws.path), "--accept", str(queued), "--author", "Reviewer"]) == 0
    with Workspace.open(ws.path) as again:
        newest = again.db.conn.execute("SELECT round_id, observed FROM annotations ORDER BY id DESC").fetchone()
    assert newest == (a, (ROUND_A[2] - DAY).isoformat())
    capsys.readouterr()
