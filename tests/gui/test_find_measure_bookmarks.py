"""Find (Ctrl+F), bookmarks (Ctrl+B), the cursor in LKS-92, keyboard map navigation (Ctrl+M), measure
(Ctrl+Shift+M): each from the window, as a user reaches for it."""
from __future__ import annotations

import pytest
from pyproj import Geod, Transformer
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from layers.bookmarks import TABLE, list_bookmarks
from layers.search import fold
from layers.workspace import Workspace


def _show(window, js, qtbot, lat, lng, zoom):
    js(window, f"lantern.setView({lat}, {lng}, {zoom})")
    qtbot.waitUntil(lambda: window.map_view.last_view is not None and abs(window.map_view.last_view[0] - lat) < 1e-6
                    and window.map_view.last_view[2] == zoom, timeout=10000)
    return window.map_view.last_view


def _find(window, qtbot, text):
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.find_bar.hasFocus, timeout=5000)
    qtbot.keyClicks(window.find_bar, text)
    qtbot.waitUntil(lambda: window.find_bar.settled and window.find_bar.text() == text, timeout=10000)
    return window.find_bar.hits


def _choose(window, qtbot, row=0):
    popup = window.find_bar.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=5000)
    popup.setCurrentIndex(window.find_bar.model.index(row, 0))
    QTest.keyClick(popup, Qt.Key.Key_Return)


def test_find_without_diacritics_selects_the_place(demo_window, js, qtbot):
    hits = _find(demo_window, qtbot, "kyproksen lahetysto")
    assert hits[0].kind == "places_of_concern" and hits[0].label.startswith("Kyproksen lähetystö")
    _choose(demo_window, qtbot)
    expected = {"id": "places_of_concern", "fid": hits[0].fid}
    qtbot.waitUntil(lambda: demo_window.session.selection == ("places_of_concern", hits[0].fid), timeout=5000)
    qtbot.waitUntil(lambda: js(demo_window, "lantern.info()")["selected"] == expected, timeout=10000)


def test_find_a_street_shows_it_on_the_map(demo_window, js, qtbot):
    _show(demo_window, js, qtbot, 60.10, 24.80, 12)  # somewhere else first
    hits = _find(demo_window, qtbot, "ETELARANTA")
    street = next(h for h in hits if h.kind == "basemap_roads")
    assert street.label == "Eteläranta" and {h.label for h in hits[:3]} == {"Eteläranta"}  # exact names first
    _choose(demo_window, qtbot, hits.index(street))
    qtbot.waitUntil(lambda: abs(demo_window.map_view.last_view[0] - street.lat) < 1e-4
                    and abs(demo_window.map_view.last_view[1] - street.lon) < 1e-4, timeout=10000)
    assert demo_window.map_view.last_view[2] >= 14  # close enough to see the street


def test_find_does_not_offer_what_is_not_allow_listed(demo_window, qtbot):
    """A shelter is found by name, never by its address (safe housing)."""
    ws = demo_window.session.workspace
    rows = ws.db.conn.execute("SELECT fid, name, json_extract(osm_tags, '$.\"addr:street\"') FROM shelters "
                              "WHERE json_extract(osm_tags, '$.\"addr:street\"') IS NOT NULL").fetchall()
    fid, name, street = rows[0]
    hits = _find(demo_window, qtbot, fold(name))  # typed without diacritics (keyClicks types ASCII only)
    assert ("shelters", fid) in {(h.kind, h.fid) for h in hits}  # positive control: the name is searchable
    shelters_on_street = {f for f, _n, s in rows if s == street}
    demo_window.find_bar.clear()
    qtbot.keyClicks(demo_window.find_bar, fold(street))
    qtbot.waitUntil(lambda: demo_window.find_bar.settled, timeout=10000)
    found = {(h.kind, h.fid) for h in demo_window.find_bar.hits}
    assert not {("shelters", f) for f in shelters_on_street} & found


def test_cursor_position_in_lks92(demo_window):
    demo_window.map_view.bridge.cursorMoved(56.9496, 24.1052)
    easting, northing = Transformer.from_crs("EPSG:4326", "EPSG:3059", always_xy=True).transform(24.1052, 56.9496)
    text = demo_window.grid_label.text()
    assert f"X {northing:.0f} m" in text and f"Y {easting:.0f} m" in text
    assert "56.94960" in demo_window.coords_label.text()


def test_bookmark_add_go_and_delete(demo_window, js, qtbot):
    w = demo_window
    _show(w, js, qtbot, 60.1699, 24.9384, 16)
    QTest.keyClick(w, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.bookmarks.ask is not None and w.bookmarks.ask.isVisible(), timeout=5000)
    w.bookmarks.ask.setTextValue("Esplanadi")
    w.bookmarks.ask.accept()
    marks = list_bookmarks(w.session.workspace.db.conn)
    assert [(b.name, round(b.lat, 4), round(b.lng, 4), b.zoom) for b in marks] == [("Esplanadi", 60.1699, 24.9384, 16)]
    _show(w, js, qtbot, 60.10, 24.80, 12)
    menu = w.actions["bookmarks"].menu()
    menu.aboutToShow.emit()
    go = next(a for a in menu.actions() if a.text() == "Esplanadi")
    go.trigger()
    qtbot.waitUntil(lambda: abs(w.map_view.last_view[0] - 60.1699) < 1e-4 and w.map_view.last_view[2] == 16,
                    timeout=10000)
    dialog = w.bookmarks.manage()
    assert dialog.list.count() == 1
    dialog.delete_button.click()
    assert dialog.list.count() == 0 and list_bookmarks(w.session.workspace.db.conn) == []


def test_bookmark_on_a_read_only_workspace_says_so(make_window, demo_copy, js, qtbot):
    holder = Workspace.open(demo_copy)
    holder.claim()  # another Lantern writes this file: the window opens it read-only
    try:
        w = make_window(demo_copy)
        assert w.session.workspace.read_only
        _show(w, js, qtbot, 60.1699, 24.9384, 16)
        w.actions["bookmark_add"].trigger()
        assert "read-only" in (w.last_error or "")
        assert w.bookmarks.ask is None
        assert w.session.workspace.db.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name=?", (TABLE,)).fetchone() is None
    finally:
        holder.close()


def test_tab_reaches_the_map(demo_window, qtbot):
    target = demo_window.map_view.view.focusProxy()
    demo_window.find_bar.setFocus()
    qtbot.waitUntil(demo_window.find_bar.hasFocus, timeout=5000)
    for _press in range(10):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        if target.hasFocus():
            break
    assert target.hasFocus()


def test_keyboard_moves_and_zooms_the_map(demo_window, js, qtbot):
    w = demo_window
    start = _show(w, js, qtbot, 60.1699, 24.9384, 15)
    w.find_bar.setFocus()
    QTest.keyClick(w.find_bar, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    target = w.map_view.view.focusProxy()
    qtbot.waitUntil(target.hasFocus, timeout=5000)
    qtbot.waitUntil(lambda: js(w, "document.activeElement.classList.contains('leaflet-container')"), timeout=5000)
    QTest.keyClick(target, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: w.map_view.last_view[1] > start[1] + 1e-6, timeout=10000)
    QTest.keyClick(target, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: w.map_view.last_view[0] > start[0] + 1e-6, timeout=10000)
    zoom = w.map_view.last_view[2]
    QTest.keyClick(target, Qt.Key.Key_Plus)
    qtbot.waitUntil(lambda: w.map_view.last_view[2] > zoom, timeout=10000)
    QTest.keyClick(target, Qt.Key.Key_Minus)
    qtbot.waitUntil(lambda: w.map_view.last_view[2] == zoom, timeout=10000)


def test_measure_distance_and_area(demo_window, js, qtbot):
    w = demo_window
    QTest.keyClick(w, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert w.session.mode == "polygon" and w.measure.measuring and w.actions["measure"].isChecked()
    assert w.measure.isVisible()
    ring = [(24.940, 60.166), (24.946, 60.166), (24.946, 60.170), (24.940, 60.170)]
    js(w, f"lantern.drawPolygon({[list(p) for p in ring]})")
    qtbot.waitUntil(lambda: w.measure.result is not None, timeout=10000)
    geod = Geod(ellps="WGS84")
    lons, lats = zip(*ring)
    area, perimeter = geod.polygon_area_perimeter(lons, lats)
    assert w.measure.result["area_m2"] == pytest.approx(abs(area), rel=1e-6)
    assert w.measure.result["perimeter_m"] == pytest.approx(perimeter, rel=1e-6)
    assert w.measure.result["length_m"] == pytest.approx(geod.line_length(lons, lats), rel=1e-6)
    assert "ha" in w.measure.label.text() and "km" in w.measure.label.text()
    assert w.session.mode is None and not w.actions["measure"].isChecked()
    w.measure.close_button.click()
    assert not w.measure.isVisible()


def test_escape_cancels_measuring(demo_window, qtbot):
    w = demo_window
    w.actions["measure"].trigger()
    assert w.measure.isVisible()
    w.map_view.bridge.modeEnded()  # what the page says on Esc
    assert w.session.mode is None and not w.measure.isVisible() and w.measure.result is None
