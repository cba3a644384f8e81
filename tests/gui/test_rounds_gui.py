"""Edit → Audit rounds… and Tools → Compare rounds… in the window: create a round (undoable), annotate into it,
compare two rounds, see the change on the map, export what the command line writes."""
from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QDate

from audit import rounds
from audit.check import check_workspace

pytestmark = pytest.mark.gui


def _fill(form, name: str, starts: dt.date, ends: dt.date, teams: str = "") -> None:
    form.name_edit.setText(name)
    form.starts.setDate(QDate(starts.year, starts.month, starts.day))
    form.ends.setDate(QDate(ends.year, ends.month, ends.day))
    form.teams.setText(teams)


def _row_named(table, name: str) -> int:
    return next(r for r in range(table.rowCount()) if table.item(r, 0).text() == name)


def _select_row(table, row: int) -> None:
    from PySide6.QtCore import QItemSelectionModel

    flags = QItemSelectionModel.SelectionFlag
    table.selectionModel().setCurrentIndex(table.model().index(row, 0), flags.ClearAndSelect | flags.Rows)


def test_create_a_round_then_undo_it(demo_window, qtbot):
    w = demo_window
    w.actions["rounds"].trigger()
    dialog = w.audit.rounds_dialog
    qtbot.waitUntil(dialog.isVisible)
    before = dialog.table.rowCount()  # the demo's two synthetic rounds
    assert before == len(rounds.rounds(w.session.workspace)) == 2 and not dialog.unassigned.isVisibleTo(dialog)
    form = dialog.add(interactive=False)
    today = dt.date.today()
    _fill(form, "Spring", today, today - dt.timedelta(days=1))
    form.accept()
    assert form.result() != form.DialogCode.Accepted and "cannot end" in form.error.text()  # stays open, says why
    assert len(rounds.rounds(w.session.workspace)) == before
    _fill(form, "Spring", today - dt.timedelta(days=700), today, "Social services, NGO")
    form.accept()
    assert form.result() == form.DialogCode.Accepted
    assert dialog.table.rowCount() == before + 1
    assert dialog.table.item(_row_named(dialog.table, "Spring"), 2).text() == "Social services, NGO"
    assert w.actions["undo"].text() == "&Undo Add audit round Spring"
    w.actions["undo"].trigger()
    assert dialog.table.rowCount() == before
    w.actions["redo"].trigger()
    assert dialog.table.rowCount() == before + 1
    _select_row(dialog.table, _row_named(dialog.table, "Spring"))
    edit = dialog.edit_selected(interactive=False)
    assert edit.name_edit.text() == "Spring"
    edit.name_edit.setText("Spring 2026")
    edit.accept()
    assert _row_named(dialog.table, "Spring 2026") >= 0
    dialog.reject()
    assert check_workspace(w.session.workspace.path).ok


def test_the_annotation_form_saves_into_the_round_of_its_date(demo_window):
    w = demo_window
    ws = w.session.workspace
    today = dt.date.today()
    # started after the demo's Round 2: the latest started round holding a date wins
    w.session.do(rounds.add_round(ws, "Earlier", today - dt.timedelta(days=120), today - dt.timedelta(days=61)))
    w.session.do(rounds.add_round(ws, "Now", today - dt.timedelta(days=60), today))
    earlier = rounds.resolve(ws, "Earlier").id
    fid = int(w.session.frames["worksites"].index[0])
    form = w.audit.open_annotation_form("worksites", fid, interactive=False)
    form.select_all.setChecked(True)
    form.author_edit.setText("Auditor T")
    day = today - dt.timedelta(days=100)
    form.date_edit.setDate(QDate(day.year, day.month, day.day))
    form.accept()
    assert form.result() == form.DialogCode.Accepted, form.error_label.text()
    newest = ws.db.conn.execute("SELECT round_id, observed FROM annotations ORDER BY id DESC").fetchone()
    assert newest == (earlier, day.isoformat())


def test_compare_two_rounds_see_the_change_and_export(demo_window, qtbot, tmp_path, js):
    w = demo_window
    dialog = w.tools.open_round_compare(interactive=False)  # the demo's two synthetic rounds
    dialog.show()
    assert (dialog.first.currentText().startswith("Round 1"), dialog.second.currentText().startswith("Round 2")) == (
        True, True)
    dialog.profile.setCurrentIndex(dialog.profile.findData("police"))
    with qtbot.waitSignal(dialog.run().succeeded, timeout=60000):
        pass
    qtbot.waitUntil(lambda: dialog.result is not None)
    names = [dialog.places.item(r, 0).text() for r in range(dialog.places.rowCount())]
    assert any(n.startswith("Synthetic place") for n in names)  # police: places by name
    assert dialog.estimates.rowCount() > 0 and dialog.indicators.rowCount() > 0
    overlay = w.session.overlays["round_change"]
    assert overlay.layers[0].geojson["features"] and overlay.legends[0]["title"] == "Change of the risk index"
    cells = len(overlay.layers[0].geojson["features"])
    qtbot.waitUntil(lambda: "round_change" in js(w, "lantern.info()")["layers"], timeout=10000)  # on the map
    assert js(w, "lantern.info()")["layers"]["round_change"]["count"] == cells
    assert "Change of the risk index" in js(w, "document.getElementById('lantern-legend').textContent")
    dialog.profile.setCurrentIndex(dialog.profile.findData("public"))
    with qtbot.waitSignal(dialog.run().succeeded, timeout=60000):
        pass
    qtbot.waitUntil(lambda: dialog.result.profile == "public")
    shown = [dialog.places.item(r, c).text() for r in range(dialog.places.rowCount()) for c in range(2)]
    assert not any("Synthetic place" in t for t in shown) and "fewer than 5" in shown  # the demo's few places
    tips = [f["properties"]["tip"] for f in w.session.overlays["round_change"].layers[0].geojson["features"]]
    assert tips and not any("Reported cases" in t for t in tips)  # public cells: the index only
    task = dialog.export(out_dir=str(tmp_path / "out"))
    with qtbot.waitSignal(task.done, timeout=60000):
        pass
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"places.csv", "cells.csv", "change_map.pdf"}
    dialog.reject()
    assert "round_change" not in w.session.overlays  # closing the dialog takes its overlay off the map
    qtbot.waitUntil(lambda: "round_change" not in js(w, "lantern.info()")["layers"], timeout=10000)
