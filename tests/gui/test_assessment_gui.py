"""The situation assessment in the window: questionnaire, action plan, referral helper, gaps, report."""
import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def test_answering_a_question_updates_progress_and_is_undoable(demo_window):
    panel = demo_window.assessment_panel
    assert panel.save_answer("homeless.count", {"text": "", "number": 42, "source": "Social services",
                                                "answered_on": "2026-11-01", "confidence": "high", "author": "T"})
    top = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
               if panel.tree.topLevelItem(i).text(0).startswith("Homeless people"))
    assert top.text(1) == "1/4"  # progress in the answer column, so a long section name cannot hide it
    assert "1 of 4 questions answered" in top.toolTip(0)
    assert any(top.child(i).text(1) == "42" for i in range(top.childCount()))
    log = demo_window.session.workspace.db.conn.execute(
        "SELECT action FROM change_log WHERE table_name = 'assessment_answers'").fetchall()
    assert log == [("insert",)]
    demo_window.actions["undo"].trigger()
    assert next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                if panel.tree.topLevelItem(i).text(0).startswith("Homeless people")).text(1) == "0/4"


def test_action_plan_cells_are_edited_through_commands(demo_window):
    panel = demo_window.assessment_panel
    from audit.assessment import plan_catalogue_items

    assert panel.plan.rowCount() == len(plan_catalogue_items())  # every action the guidelines name
    panel.plan.item(0, 3).setText("Social department")
    row = demo_window.session.workspace.db.conn.execute("SELECT responsible FROM action_plan ORDER BY id LIMIT 1").fetchone()
    assert row == ("Social department",)
    panel.plan.item(0, 2).setText("Done")
    assert demo_window.session.workspace.db.conn.execute("SELECT status FROM action_plan ORDER BY id LIMIT 1").fetchone() == ("done",)
    assert not (panel.plan.item(0, 1).flags() & Qt.ItemFlag.ItemIsEditable)  # the guidelines' actions stay


def test_referral_helper_lists_services_nearest_first_and_stores_nothing(demo_window):
    demo_window.layer_panel.select_layer("places_of_concern")
    demo_window.attribute_table.selectRow(0)
    before = demo_window.session.workspace.db.conn.execute("SELECT count(*) FROM change_log").fetchone()[0]
    dialog = demo_window.tools.open_referral(interactive=False)
    assert dialog.location is not None
    dialog.form.setCurrentIndex(dialog.form.findData("sexual"))
    dialog.sex.setCurrentIndex(dialog.sex.findData("female"))
    results = dialog.search()
    assert results and dialog.table.rowCount() == len(results)
    located = [r["distance_m"] for r in results if r["distance_m"] is not None]
    assert located == sorted(located)
    assert any("Drošā māja" in r["name"] for r in results)  # the national hotline has no address but is listed
    assert demo_window.session.workspace.db.conn.execute("SELECT count(*) FROM change_log").fetchone()[0] == before


def test_service_gaps_become_a_map_layer(demo_window, js, qtbot):
    task = demo_window.tools.show_gaps(distance=250)  # in a worker: the window keeps repainting
    with qtbot.waitSignal(task.succeeded, timeout=60000):
        pass
    gaps = demo_window.tools.gaps
    assert len(gaps) > 0 and str(len(gaps)) in demo_window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: js(demo_window, "lantern.info()")["layers"].get("service_gaps", {}).get("count") == len(gaps))


def test_report_from_the_window(demo_window, qtbot, tmp_path):
    task = demo_window.files.export_report(tmp_path / "report.pdf", "lv", "partner")
    with qtbot.waitSignal(task.done, timeout=120000):
        pass
    assert (tmp_path / "report.pdf").stat().st_size > 10000 and (tmp_path / "report.html").exists()


def _question(kind: str) -> dict:
    from audit.assessment import sections

    return next(q for s in sections() for q in s["questions"] if q["type"] == kind)


def test_the_question_dialog_offers_the_input_of_each_answer_type(demo_window, qtbot):
    """Number, share, yes/no, text, list (checkboxes from the catalogue) and place (features of the workspace)."""
    from audit.assessment import answers, options
    from gui.assessment_panel import AnswerDialog

    panel = demo_window.assessment_panel
    place_fid = int(demo_window.session.frames["places_of_concern"].index[0])
    selected = ("places_of_concern", place_fid)

    def dialog(kind):
        d = AnswerDialog(_question(kind), None, "T", panel.places(), demo_window.session.frames, selected, panel)
        qtbot.addWidget(d)
        return d

    share = dialog("share")
    assert share.amount.maximum() == 100 and share.amount.suffix() == " %"
    share.amount.setValue(35)
    yes_no = dialog("yes_no")
    yes_no.accept()  # neither chosen: refused beside the question
    assert yes_no.result() != yes_no.DialogCode.Accepted and yes_no.error.text()
    yes_no.no.setChecked(True)
    listed = dialog("list")
    assert listed.choices.count() == len(options(_question("list")))
    listed.choices.item(1).setCheckState(Qt.CheckState.Checked)
    listed.other.setText("Parish church")
    place = dialog("place")
    assert place.places.item(0).data(Qt.ItemDataRole.UserRole) == selected  # the selected feature first, ticked
    assert place.places.item(0).checkState() == Qt.CheckState.Checked
    place.place_note.setText("near the station")
    text = dialog("text")
    text.line.setText("Seasonal work in summer")
    values = {kind: d.values()["value"] for kind, d in
              (("share", share), ("yes_no", yes_no), ("list", listed), ("place", place), ("text", text))}
    assert values == {"share": 35, "yes_no": False, "list": [options(_question("list"))[1]["id"], "Parish church"],
                      "place": {"places": [{"kind": "places_of_concern", "fid": place_fid}],
                                "note": "near the station"},
                      "text": "Seasonal work in summer"}
    for kind, d in (("share", share), ("yes_no", yes_no), ("list", listed), ("place", place), ("text", text)):
        assert panel.save_answer(_question(kind)["id"], d.values()), kind
    shown = {panel.tree.topLevelItem(i).child(j).data(0, Qt.ItemDataRole.UserRole):
             panel.tree.topLevelItem(i).child(j).text(1)
             for i in range(panel.tree.topLevelItemCount()) for j in range(panel.tree.topLevelItem(i).childCount())}
    assert shown[_question("share")["id"]] == "35 %" and shown[_question("yes_no")["id"]] == "no"
    assert "Parish church" in shown[_question("list")["id"]]
    assert shown[_question("place")["id"]].startswith("Places of concern: ") and "near the station" in shown[
        _question("place")["id"]]
    stored = answers(panel.session.workspace)[_question("place")["id"]]
    again = AnswerDialog(_question("place"), stored, "T", panel.places(), demo_window.session.frames, None, panel)
    # an edit starts from the stored answer
    assert again.values()["value"]["places"] == [{"kind": "places_of_concern", "fid": place_fid}]


def test_saving_an_answer_keeps_the_open_sections_open(demo_window):
    from audit.assessment import questions

    panel = demo_window.assessment_panel
    top = panel.tree.topLevelItem(2)
    top.setExpanded(True)
    child = next(top.child(i) for i in range(top.childCount())
                 if questions()[top.child(i).data(0, Qt.ItemDataRole.UserRole)]["type"] == "number")
    question = child.data(0, Qt.ItemDataRole.UserRole)
    panel.tree.setCurrentItem(child)
    assert panel.save_answer(question, {"value": 3})
    top = panel.tree.topLevelItem(2)
    assert top.isExpanded() and not panel.tree.topLevelItem(0).isExpanded()
    assert panel.tree.currentItem().data(0, Qt.ItemDataRole.UserRole) == question


def test_old_answers_stay_visible_in_the_kept_section(demo_window):
    from audit.assessment import sections

    legacy = sections(legacy=True)[-1]
    panel = demo_window.assessment_panel
    assert panel.save_answer(legacy["questions"][0]["id"], {"text": "an answer from version 1"})
    names = [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())]
    assert names[-1] == legacy["en"]
