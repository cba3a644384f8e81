"""Tools → Local actors…: creating an actor with the keyboard, undoable; the form's refusals; overdue agreements
highlighted; the referral helper's actors; no English left under Latvian."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gui.actors_dialog import DUE, OVERDUE, ActorsDialog
from tests.gui.test_latvian import english_sources, language, latvian_demo, still_english, widget_texts  # noqa: F401

pytestmark = pytest.mark.gui


def _log(window) -> list[str]:
    return [a for (a,) in window.session.workspace.db.conn.execute(
        "SELECT action FROM change_log WHERE table_name = 'local_actors' ORDER BY id")]


def _open(window, qtbot) -> ActorsDialog:
    window.actions["actors"].trigger()  # the menu row: Tools → Local actors…
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, ActorsDialog) and w.isVisible())
    qtbot.addWidget(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)  # its keyboard shortcuts work in the active window
    return dialog


def test_an_actor_is_created_with_the_keyboard_as_one_undoable_step(demo_window, qtbot):
    dialog = _open(demo_window, qtbot)
    before, logged = dialog.table.rowCount(), len(_log(demo_window))
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Insert)  # Add…
    form = dialog.form
    qtbot.waitUntil(form.isVisible)
    qtbot.keyClicks(form.name_edit, "Valsts robe")  # QTest types ASCII only: the Latvian letters are inserted
    form.name_edit.insert("žsardze, Rīgas pārvalde")
    form.sector.setFocus()
    form.sector.setCurrentIndex(form.sector.findData("border_guard"))
    form.roles.setFocus()
    for role in ("identification", "referral"):
        row = next(i for i in range(form.roles.count()) if form.roles.item(i).data(Qt.ItemDataRole.UserRole) == role)
        form.roles.setCurrentRow(row)
        qtbot.keyClick(form.roles.viewport(), Qt.Key.Key_Space)  # space ticks the current role
    assert form.checked_roles() == ["identification", "referral"]
    qtbot.keyClicks(form.contact_point, "Border duty desk")
    form.staff.setFocus()
    form.staff.selectAll()
    qtbot.keyClicks(form.staff, "12")
    form.trained.selectAll()
    qtbot.keyClicks(form.trained, "4")
    qtbot.keyClick(form.save_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not form.isVisible())
    assert dialog.table.rowCount() == before + 1
    added = dialog.selected()  # the new actor is selected
    assert (added["name"], added["sector"], added["roles"], added["staff"], added["staff_trained"]) == (
        "Valsts robežsardze, Rīgas pārvalde", "border_guard", ["identification", "referral"], 12, 4)
    assert _log(demo_window)[logged:] == ["insert"]
    assert dialog.undo_button.text() == "&Undo Add local actor" and demo_window.actions["undo"].isEnabled()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.keyClick(dialog.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert dialog.table.rowCount() == before and _log(demo_window)[logged:] == ["insert", "undo insert"]
    dialog.redo_button.click()
    assert dialog.table.rowCount() == before + 1


def test_the_form_says_what_is_wrong_and_stays_open(demo_window, qtbot):
    dialog = _open(demo_window, qtbot)
    form = dialog.add()
    qtbot.waitUntil(form.isVisible)
    form.name_edit.setText("Skola")
    form.staff.setValue(3)
    form.trained.setValue(5)
    qtbot.keyClicks(form.contact_point, "Janis Berzins")
    assert "looks like a person's name" in form.warning.text()  # warned while typing
    form.save_button.click()
    assert form.isVisible() and "choose at least one role" in form.errors.text()
    assert "Trained staff: 5 is more than the staff (3)" in form.errors.text()
    assert _log(demo_window) == ["insert"] * 8  # only the demo's actors


def test_an_edit_and_a_delete_are_steps_too(demo_window, qtbot):
    dialog = _open(demo_window, qtbot)
    dialog.table.selectRow(0)
    form = dialog.edit_selected()
    form.needs.setText("Interviewing minors")
    form.save_button.click()
    assert dialog.rows[0]["training_needs"] == "Interviewing minors"
    dialog.table.selectRow(0)
    name = dialog.rows[0]["name"]
    assert dialog.delete_selected(confirm=False)
    assert name not in {r["name"] for r in dialog.rows}
    dialog.undo_button.click()
    assert name in {r["name"] for r in dialog.rows}
    assert _log(demo_window)[8:] == ["update", "delete", "undo delete"]


def test_overdue_and_due_agreements_are_highlighted_in_words_and_colour(demo_window, qtbot):
    dialog = _open(demo_window, qtbot)
    renewals = {dialog.rows[r]["name"]: dialog.table.item(r, 5) for r in range(dialog.table.rowCount())}
    overdue = renewals["Municipal police, city centre precinct (synthetic)"]
    due = renewals["District social service (synthetic)"]
    assert overdue.text().endswith("— overdue") and overdue.background().color() == OVERDUE
    assert "due in" in due.text() and due.background().color() == DUE
    later = renewals["Anti-trafficking NGO (synthetic)"]
    assert "—" not in later.text() and later.background().style() == Qt.BrushStyle.NoBrush  # control
    assert "1 agreement overdue" in dialog.summary.text() and "trained: 76 of 314 staff" in dialog.summary.text()


def test_the_referral_helper_lists_the_actors_whose_role_fits(demo_window, qtbot):
    dialog = demo_window.tools.open_referral(interactive=False)
    qtbot.addWidget(dialog)
    dialog.urgency.setCurrentIndex(dialog.urgency.findData("now"))
    dialog.search()
    names = [dialog.actors_table.item(r, 0).text() for r in range(dialog.actors_table.rowCount())]
    assert names[0] == "Anti-trafficking NGO (synthetic) (NGOs)"
    assert dialog.actors_table.item(0, 2).text() == "NGO helpline desk (24/7)"
    assert not any("school" in n.lower() or "library" in n.lower() for n in names)  # prevention is no referral
    dialog.urgency.setCurrentIndex(dialog.urgency.findData("routine"))
    dialog.form.setCurrentIndex(dialog.form.findData("labour"))
    dialog.search()
    assert dialog.actors_table.item(0, 0).text().startswith("Building workers' union (synthetic)")
    assert dialog.actors_table.accessibleName() == "Local actor"
    assert dialog.table.rowCount() == len(dialog.results) > 0  # the services are still listed


def test_no_english_is_left_under_latvian(language, make_window, latvian_demo, qtbot):
    language("lv")
    window = make_window(latvian_demo)
    dialog = _open(window, qtbot)
    dialog.table.selectRow(1)
    form = dialog.edit_selected()
    referral = window.tools.open_referral(interactive=False)
    qtbot.addWidget(referral)
    referral.search()
    referral.show()
    qtbot.waitUntil(lambda: form.isVisible() and referral.isVisible())
    texts = [(w, t) for d in (dialog, form, referral) for w, t in widget_texts(d) if t and t.strip()]
    assert len(texts) > 100
    assert still_english(texts, english_sources()) == []
    assert dialog.windowTitle() == "Pašvaldībā esošās iestādes un organizācijas"  # the guidelines' own words
