"""Double-click on a place, on the map or in the attribute table, opens its annotation form."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication

pytestmark = pytest.mark.gui


def double_click(widget, x: float, y: float) -> None:
    """A real double-click for Chromium: two presses and releases 40 ms apart by their timestamps.

    (QTest spaces its clicks by more than the double-click interval, and QTest.mouseDClick sends a
    press and a Qt double-click event, which Chromium does not count as a second click.)"""
    local = QPointF(x, y)
    start = 10**9
    for i, kind in enumerate([QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease] * 2):
        buttons = Qt.MouseButton.LeftButton if kind == QEvent.Type.MouseButtonPress else Qt.MouseButton.NoButton
        event = QMouseEvent(kind, local, widget.mapToGlobal(local), Qt.MouseButton.LeftButton, buttons,
                            Qt.KeyboardModifier.NoModifier)
        event.setTimestamp(start + 40 * i)
        QApplication.sendEvent(widget, event)


def _close_forms(window) -> None:
    for form in list(window.audit.open_forms.values()):
        form.reject()


def test_activating_a_place_opens_its_form_once(demo_window, qtbot):
    w = demo_window
    fid = int(w.session.frames["places_of_concern"].index[0])
    w.map_view.bridge.featureActivated("places_of_concern", fid)  # what the page sends on a double-click
    qtbot.waitUntil(lambda: ("places_of_concern", fid) in w.audit.open_forms, timeout=5000)
    form = w.audit.open_forms[("places_of_concern", fid)]
    assert form.isVisible() and form.fid == fid and form.kind_id == "places_of_concern"
    assert w.session.selection == ("places_of_concern", fid)
    w.map_view.bridge.featureActivated("places_of_concern", fid)  # a second activation raises the same form
    assert list(w.audit.open_forms) == [("places_of_concern", fid)]
    form.reject()
    assert not w.audit.open_forms


def test_activating_a_case_opens_no_form(demo_window, qtbot):
    w = demo_window
    fid = int(w.session.frames["reported_cases"].index[0])
    w.map_view.bridge.featureActivated("reported_cases", fid)
    assert w.session.selection == ("reported_cases", fid) and not w.audit.open_forms


def test_a_real_double_click_on_a_place_opens_its_form(demo_window, js, qtbot):
    w = demo_window
    fid = int(w.session.frames["places_of_concern"].index[0])
    zoom = js(w, "lantern.info()")["zoom"]
    point = js(w, f"lantern.featurePoint('places_of_concern', {fid})")
    with qtbot.waitSignal(w.map_view.featureClicked, timeout=5000):  # the page answers clicks at all
        double_click(w.map_view.view.focusProxy(), point["x"], point["y"])
    try:
        qtbot.waitUntil(lambda: ("places_of_concern", fid) in w.audit.open_forms, timeout=3000)
        assert js(w, "lantern.info()")["zoom"] == zoom  # the map did not zoom in instead
    finally:
        _close_forms(w)


def table_double_click(table, index) -> None:
    """Press, release, double-click, release: what Qt delivers for a real double-click (QTest.mouseDClick leaves
    out the first release, and the view then ignores the double-click)."""
    viewport, point = table.viewport(), QPointF(table.visualRect(index).center())
    for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick,
                 QEvent.Type.MouseButtonRelease):
        buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
        QApplication.sendEvent(viewport, QMouseEvent(kind, point, viewport.mapToGlobal(point), Qt.MouseButton.LeftButton,
                                                     buttons, Qt.KeyboardModifier.NoModifier))


def test_double_click_on_a_place_row_opens_its_form_and_f2_still_edits(demo_window, qtbot):
    w = demo_window
    table = w.attribute_table
    w.session.set_current_layer("places_of_concern")
    fid = table.table_model.fid_at(2)
    table_double_click(table, table.table_model.index(2, 1))
    qtbot.waitUntil(lambda: ("places_of_concern", fid) in w.audit.open_forms, timeout=5000)
    assert table.state() != QAbstractItemView.State.EditingState
    _close_forms(w)
    table.setFocus()
    table.setCurrentIndex(table.table_model.index(2, 1))
    QTest.keyClick(table, Qt.Key.Key_F2)
    assert table.state() == QAbstractItemView.State.EditingState
    QTest.keyClick(table.focusWidget(), Qt.Key.Key_Escape)


def test_double_click_on_another_layers_row_edits_it(demo_window, qtbot):
    w = demo_window
    table = w.attribute_table
    w.session.set_current_layer("risk_areas")  # not a place: no annotation form
    column = table.table_model.column_of("name")
    index = table.table_model.index(0, column)
    table_double_click(table, index)
    assert table.state() == QAbstractItemView.State.EditingState and not w.audit.open_forms
    QTest.keyClick(table.focusWidget(), Qt.Key.Key_Escape)


def test_a_place_rows_menu_offers_annotate_and_other_rows_do_not(demo_window, qtbot):
    w = demo_window
    table = w.attribute_table
    w.session.set_current_layer("places_of_concern")
    index = table.table_model.index(0, 1)
    menu = table.row_menu(index)
    texts = [a.text() for a in menu.actions()]
    assert texts[0] == "Annotate…" and "Edit" in texts and menu.defaultAction().text() == "Annotate…"
    menu.actions()[0].trigger()
    fid = table.table_model.fid_at(0)
    qtbot.waitUntil(lambda: ("places_of_concern", fid) in w.audit.open_forms, timeout=5000)
    _close_forms(w)
    w.session.set_current_layer("reported_cases")
    texts = [a.text() for a in table.row_menu(table.table_model.index(0, 1)).actions()]
    assert "Annotate…" not in texts and "Zoom to feature" in texts


def test_a_read_only_workspace_opens_no_form(demo_window, qtbot, monkeypatch):
    w = demo_window
    fid = int(w.session.frames["places_of_concern"].index[0])
    monkeypatch.setattr(type(w.session), "writable", property(lambda self: False))
    w.map_view.bridge.featureActivated("places_of_concern", fid)
    assert not w.audit.open_forms
    assert "read-only" in w.statusBar().currentMessage()
