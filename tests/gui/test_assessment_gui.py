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
    assert "(1/7)" in top.text(0)
    assert any(top.child(i).text(1) == "42" for i in range(top.childCount()))
    log = demo_window.session.workspace.db.conn.execute(
        "SELECT action FROM change_log WHERE table_name = 'assessment_answers'").fetchall()
    assert log == [("insert",)]
    demo_window.actions["undo"].trigger()
    assert "(0/7)" in next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                           if panel.tree.topLevelItem(i).text(0).startswith("Homeless people")).text(0)


def test_action_plan_cells_are_edited_through_commands(demo_window):
    panel = demo_window.assessment_panel
    assert panel.plan.rowCount() == 10
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
    gaps = demo_window.tools.show_gaps(distance=250)
    assert len(gaps) > 0
    qtbot.waitUntil(lambda: js(demo_window, "lantern.info()")["layers"].get("service_gaps", {}).get("count") == len(gaps))


def test_report_from_the_window(demo_window, qtbot, tmp_path):
    task = demo_window.files.export_report(tmp_path / "report.pdf", "lv", "partner")
    with qtbot.waitSignal(task.done, timeout=120000):
        pass
    assert (tmp_path / "report.pdf").stat().st_size > 10000 and (tmp_path / "report.html").exists()
