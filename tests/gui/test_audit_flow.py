"""The audit in the window: click the map → fill the form → the marker restyles → undo restores it."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from audit.check import check_workspace

pytestmark = pytest.mark.gui


def _risk(js, window, layer, fid):
    return js(window, "lantern.info()")["layers"][layer]["risk"].get(str(fid))


def test_click_map_fill_form_restyle_and_undo(demo_window, js, qtbot):
    w = demo_window
    before = w.session.workspace.count("places_of_concern")
    w.actions["add_place"].trigger()
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["mode"] == "place")
    size = w.map_view.view.size()
    forms = []
    w.audit.open_annotation_form = (lambda original: lambda *a, **k: forms.append(original(*a, **{**k, "interactive": False})) or forms[-1])(w.audit.open_annotation_form)
    # left of the centre: the legend sits bottom-right
    QTest.mouseClick(w.map_view.view.focusProxy(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(size.width() // 4, size.height() // 2))
    qtbot.waitUntil(lambda: bool(forms), timeout=5000)
    form = forms[0]
    assert form.fid is None and form.lonlat is not None
    form.name_edit.setText("Bus yard at night")
    form.category_combo.setCurrentIndex(form.category_combo.findData("street_activity"))
    form.set_checked({"sex_pimp", "gen_controlled", "gen_minor"})
    form.author_edit.setText("Auditor T")
    form.confidence_combo.setCurrentIndex(form.confidence_combo.findData("high"))
    form.accept()
    assert form.result() == form.DialogCode.Accepted, form.error_label.text()
    assert w.session.workspace.count("places_of_concern") == before + 1
    fid = int(w.session.frames["places_of_concern"].index.max())
    qtbot.waitUntil(lambda: _risk(js, w, "places_of_concern", fid) == "high", timeout=5000)
    assert js(w, "document.querySelectorAll('#lantern-legend [data-risk]').length") == 3
    assert w.attribute_table.selected_fid() == fid
    # undo: the place and its annotation are gone, and the map follows
    w.actions["undo"].trigger()
    assert w.session.workspace.count("places_of_concern") == before
    qtbot.waitUntil(lambda: _risk(js, w, "places_of_concern", fid) is None, timeout=5000)
    assert str(fid) not in {str(k) for k in js(w, "lantern.info()")["layers"]["places_of_concern"]["risk"]}
    # redo brings it back at the same level
    w.actions["redo"].trigger()
    qtbot.waitUntil(lambda: _risk(js, w, "places_of_concern", fid) == "high", timeout=5000)
    assert check_workspace(w.session.workspace.path).ok


def test_annotating_an_existing_place_restyles_its_marker(demo_window, js, qtbot):
    w = demo_window
    fid = int(w.session.frames["worksites"].index[0])
    assert _risk(js, w, "worksites", fid) is None
    form = w.audit.open_annotation_form("worksites", fid, interactive=False)
    assert form.place_type() in ("workplace", "street", "accommodation")
    ids = [form.indicator_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(form.indicator_list.count())]
    assert "gen_no_documents" in ids
    form.search.setText("passport")
    shown = [form.indicator_list.item(i) for i in range(form.indicator_list.count())
             if not form.indicator_list.item(i).isHidden()]
    assert shown and all("passport" in item.text().lower() for item in shown)
    form.select_all.setChecked(True)
    form.author_edit.setText("Auditor T")
    form.accept()
    assert form.result() == form.DialogCode.Accepted, form.error_label.text()
    qtbot.waitUntil(lambda: _risk(js, w, "worksites", fid) in ("low", "elevated"), timeout=5000)
    again = w.audit.open_annotation_form("worksites", fid, interactive=False)
    assert again.history_table.rowCount() == 1 and again.history_table.item(0, 1).text() == "Auditor T"
    assert "passport" in again.risk_label.text().lower()


def test_form_refuses_an_empty_checklist(demo_window):
    form = demo_window.audit.open_annotation_form("worksites", int(demo_window.session.frames["worksites"].index[1]),
                                                  interactive=False)
    form.author_edit.setText("A")
    form.accept()
    assert form.result() != form.DialogCode.Accepted
    assert "at least one indicator" in form.error_label.text()


def test_draw_an_area_record_an_estimate_and_see_the_choropleth(demo_window, js, qtbot):
    w = demo_window
    before = w.session.workspace.count("risk_group_estimates")
    forms = []
    w.audit.open_estimate_form = (lambda original: lambda *a, **k: forms.append(original(*a, **{**k, "interactive": False})) or forms[-1])(w.audit.open_estimate_form)
    w.actions["draw_estimate"].trigger()
    js(w, "lantern.drawPolygon([[24.940, 60.166], [24.946, 60.166], [24.946, 60.170], [24.940, 60.170]])")
    qtbot.waitUntil(lambda: bool(forms), timeout=5000)
    form = forms[0]
    form.group_combo.setCurrentIndex(form.group_combo.findData("homeless"))
    form.estimate.setValue(50)
    form.female.setValue(60)  # more than the total: refused
    form.source_edit.setText("Social services")
    form.accept()
    assert "more than the estimate" in form.error_label.text()
    form.female.setValue(20)
    form.origin_edit.setText("Latvian: 40; Roma: 20")  # 60: more than the total, refused too
    form.accept()
    assert "more than the estimate" in form.error_label.text()
    form.origin_edit.setText("Latvian: 12; Roma: 5")
    form.accept()
    assert w.session.workspace.count("risk_group_estimates") == before + 1
    stored = w.session.workspace.db.conn.execute(
        "SELECT origin_breakdown FROM risk_group_estimates ORDER BY fid DESC LIMIT 1").fetchone()[0]
    assert json.loads(stored) == {"Latvian": 12, "Roma": 5}
    w.audit.show_density("homeless")
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["choropleth"] == "homeless", timeout=5000)
    assert "people per km²" in js(w, "document.getElementById('lantern-legend').textContent")


def test_filters_drive_map_and_table(demo_window, js, qtbot):
    w = demo_window
    total = len(w.session.frames["reported_cases"])
    for form_id, box in w.filter_panel.form_boxes.items():
        box.setChecked(form_id == "sexual")
    expected = sum('"sexual"' in f for f in w.session.frames["reported_cases"]["forms"])
    assert 0 < expected < total
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["layers"]["reported_cases"]["shown"] == expected, timeout=5000)
    w.layer_panel.select_layer("reported_cases")
    assert w.attribute_table.model().rowCount() == expected
    w.filter_panel.reset()
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["layers"]["reported_cases"]["shown"] == total, timeout=5000)
    # the time slider: only the last months
    w.filter_panel.from_slider.setValue(w.filter_panel.to_slider.value() - 2)
    state = w.filter_panel.state()
    assert state.date_from is not None
    in_range = sum(m >= state.date_from[:7] for m in w.session.frames["reported_cases"]["reported"])
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["layers"]["reported_cases"]["shown"] == in_range, timeout=5000)


def test_verify_workspace_from_the_tools_menu(demo_window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: shown.append(a[2]))
    assert demo_window.audit.verify()
    assert "hash chain unbroken" in shown[0]


def test_undo_and_redo_have_the_usual_shortcuts(demo_window):
    assert demo_window.actions["undo"].shortcut().toString() == "Ctrl+Z"
    assert demo_window.actions["redo"].shortcut().toString() == "Ctrl+Shift+Z"
    assert not demo_window.actions["undo"].isEnabled()
    assert dt.date.today()  # the demo's synthetic dates are relative to today


def test_edit_in_the_table_and_delete_are_undoable(demo_window, js, qtbot):
    w = demo_window
    w.layer_panel.select_layer("places_of_concern")
    frame = w.session.frames["places_of_concern"]
    fid = int(frame[frame["name"].str.startswith("Synthetic place 1")].index[0])
    row = w.attribute_table.table_model.row_of(fid)
    column = list(frame.drop(columns="geometry").columns).index("name")
    index = w.attribute_table.model().index(row, column)
    assert w.attribute_table.model().flags(index) & Qt.ItemFlag.ItemIsEditable
    assert w.attribute_table.model().setData(index, "Renamed place")
    assert w.session.workspace.read_layer("places_of_concern").loc[fid, "name"] == "Renamed place"
    w.actions["undo"].trigger()
    assert w.session.workspace.read_layer("places_of_concern").loc[fid, "name"].startswith("Synthetic place 1")
    # delete the place: its annotations go with it, and undo brings both back
    notes = w.session.workspace.db.conn.execute("SELECT count(*) FROM annotations WHERE place_table='places_of_concern' "
                                        "AND place_fid=?", (fid,)).fetchone()[0]
    assert notes >= 1
    w.session.select("places_of_concern", fid)
    assert w.audit.delete_selected(confirm=False)
    assert fid not in w.session.workspace.read_layer("places_of_concern").index
    qtbot.waitUntil(lambda: str(fid) not in js(w, "lantern.info()")["layers"]["places_of_concern"]["risk"])
    w.actions["undo"].trigger()
    assert fid in w.session.workspace.read_layer("places_of_concern").index
    assert w.session.workspace.db.conn.execute("SELECT count(*) FROM annotations WHERE place_fid=? AND "
                                       "place_table='places_of_concern'", (fid,)).fetchone()[0] == notes
    assert check_workspace(w.session.workspace.path).ok
