"""The main window on the demo district, driven as a user would (headless)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtTest import QTest

from layers.catalogue import layer_kinds
from layers.workspace import Workspace
from tests.conftest import file_digest

pytestmark = pytest.mark.gui


def test_demo_opens_with_every_layer_drawn(demo_window, js):
    info = js(demo_window, "lantern.info()")
    with Workspace.open(demo_window.session.workspace.path) as ws:
        # features without a position (national hotlines) are listed, not drawn
        expected = {k: int(ws.read_layer(k).geometry.notna().sum()) for k in layer_kinds()}
    assert {k: v["count"] for k, v in info["layers"].items()} == expected
    assert all(v["visible"] for v in info["layers"].values())
    assert demo_window.map_view.page.console == []  # no JS errors
    panel = demo_window.layer_panel
    assert panel.count() == len(layer_kinds())
    assert panel.layer_ids() == info["order"]
    text = panel.item_for("reported_cases").text()
    assert f"({expected['reported_cases']})" in text and "synthetic" in text


def test_toggling_a_layer_hides_it_on_the_map(demo_window, js, qtbot):
    demo_window.layer_panel.set_visible("worksites", False)
    qtbot.waitUntil(lambda: js(demo_window, "lantern.info()")["layers"]["worksites"]["visible"] is False)
    assert js(demo_window, "document.querySelectorAll('#lantern-legend .lantern-off').length") == 1
    demo_window.layer_panel.set_visible("worksites", True)
    qtbot.waitUntil(lambda: js(demo_window, "lantern.info()")["layers"]["worksites"]["visible"] is True)


def test_dragging_a_layer_changes_the_drawing_order(demo_window, js, qtbot):
    panel = demo_window.layer_panel
    top = panel.layer_ids()[-1]
    assert panel.model().moveRow(QModelIndex(), 0, QModelIndex(), panel.count())  # top → bottom
    qtbot.waitUntil(lambda: js(demo_window, "lantern.info()")["order"][0] == top)
    assert panel.layer_ids()[0] == top


def test_clicking_a_feature_selects_its_row(demo_window, js, qtbot):
    fid = int(demo_window.session.frames["transport_hubs"].index[3])
    demo_window.layer_panel.select_layer("risk_areas")  # the click must switch the table to the clicked layer
    point = js(demo_window, f"lantern.featurePoint('transport_hubs', {fid})")
    target = demo_window.map_view.view.focusProxy()
    QTest.mouseClick(target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(round(point["x"]), round(point["y"])))
    qtbot.waitUntil(lambda: demo_window.attribute_table.selected_fid() == fid, timeout=5000)
    assert demo_window.layer_panel.current_layer() == "transport_hubs"
    assert js(demo_window, "lantern.info()")["selected"] == {"id": "transport_hubs", "fid": fid}


def test_selecting_a_row_highlights_the_feature(demo_window, js, qtbot):
    demo_window.layer_panel.select_layer("shelters")
    fid = int(demo_window.session.frames["shelters"].index[5])
    demo_window.attribute_table.selectRow(5)
    qtbot.waitUntil(lambda: js(demo_window, "lantern.info()")["selected"] == {"id": "shelters", "fid": fid})
    assert js(demo_window, "document.querySelectorAll('.lantern-selected').length") == 1


def test_status_bar_shows_cursor_coordinates_and_counts(demo_window, qtbot):
    demo_window.map_view.bridge.cursorMoved(60.1701, 24.9412)
    assert "60.17010" in demo_window.coords_label.text() and "24.94120" in demo_window.coords_label.text()
    demo_window.layer_panel.select_layer("worksites")
    assert str(len(demo_window.session.frames["worksites"])) in demo_window.count_label.text()


def test_no_network_request_leaves_the_app_with_the_basemap_off(demo_window, js, qtbot):
    guard = demo_window.map_view.guard
    assert guard.requests, "the interceptor sees the page's requests"
    assert guard.network_requests() == []
    # the guard is not blind: switching the basemap on does produce tile requests
    with qtbot.waitSignal(demo_window.map_view.mapReady, timeout=30000):
        demo_window.actions["basemap"].trigger()
    assert js(demo_window, "lantern.info()")["basemap"] is True
    qtbot.waitUntil(lambda: any("tile.openstreetmap.org" in u for u in guard.network_requests()), timeout=20000)
    with qtbot.waitSignal(demo_window.map_view.mapReady, timeout=30000):
        demo_window.actions["basemap"].trigger()
    assert js(demo_window, "lantern.info()")["basemap"] is False
    assert not guard.allow_network


def test_import_through_the_window_updates_map_and_panel(demo_window, js, qtbot, tmp_path):
    src = tmp_path / "more_hubs.csv"
    src.write_text("lon,lat,name,hub_type\n24.94,60.17,New stop,tram_stop\n24.945,60.171,Other stop,tram_stop\n")
    before = demo_window.session.workspace.count("transport_hubs")
    with qtbot.waitSignal(demo_window.map_view.mapReady, timeout=30000):
        assert demo_window.files.import_file(src, "transport_hubs", interactive=False)
    assert demo_window.session.workspace.count("transport_hubs") == before + 2
    assert js(demo_window, "lantern.info()")["layers"]["transport_hubs"]["count"] == before + 2
    assert f"({before + 2})" in demo_window.layer_panel.item_for("transport_hubs").text()


def test_bad_import_through_the_window_shows_the_problem_and_keeps_the_workspace(demo_window, qtbot, tmp_path):
    src = tmp_path / "cases.csv"
    src.write_text("lon,lat,reported,forms,status\n24.94,60.17,2025-01,labour,unknown-status\n")
    before = file_digest(demo_window.session.workspace.path)
    assert not demo_window.files.import_file(src, "reported_cases", interactive=False)
    assert demo_window.last_error.startswith("cases.csv: 1 row cannot be imported: row 1: field 'status'")
    assert file_digest(demo_window.session.workspace.path) == before


def test_import_dialog_offers_ignore_for_refused_case_fields(make_window, demo_copy, qtbot, tmp_path):
    from gui.import_dialog import ImportDialog

    window = make_window(demo_copy)
    src = tmp_path / "cases.csv"
    src.write_text("lon,lat,reported,forms,status,phone\n24.94,60.17,2025-01,labour,potential,555\n")
    dialog = ImportDialog(src, "reported_cases", window)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled() and "phone" in dialog.status.text()
    row = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())].index("phone")
    combo = dialog.table.cellWidget(row, 1)
    combo.setCurrentIndex(combo.findData("__ignore__"))
    assert ok.isEnabled(), dialog.status.text()
    assert dialog.mapping()["phone"] is None


def test_opening_a_bad_file_keeps_the_current_workspace(demo_window, tmp_path):
    bad = tmp_path / "bad.gpkg"
    bad.write_text("nonsense" * 100)
    current = demo_window.session.workspace.path
    assert not demo_window.open_workspace(bad)
    assert "bad.gpkg" in demo_window.last_error
    assert demo_window.session.workspace.path == current


def test_recent_files_and_window_geometry_are_remembered(demo_window, settings):
    assert str(demo_window.session.workspace.path.resolve()) == demo_window.files.recent_files()[0]
    assert demo_window.files.recent_menu.actions()[0].text().endswith(demo_window.session.workspace.path.name)
    demo_window.close()
    assert settings.value("window/geometry") is not None


def test_file_menu_actions_have_shortcuts(demo_window):
    for action in (demo_window.actions["new"], demo_window.actions["open"], demo_window.actions["import"],
                   demo_window.actions["save_as"], demo_window.actions["quit"]):
        assert not action.shortcut().isEmpty(), action.text()


def _no_temp_files(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".lantern")]


def test_osm_import_runs_in_a_worker_and_updates_the_map(make_window, tmp_path, js, qtbot):
    from layers.osm import helsinki_extract

    Workspace.create(tmp_path / "empty.gpkg").close()
    window = make_window(tmp_path / "empty.gpkg")
    steps = []
    task = window.files.import_osm_extract(helsinki_extract())
    task.progressed.connect(lambda fraction, message: steps.append(fraction))
    with qtbot.waitSignal(window.map_view.mapReady, timeout=60000):
        pass
    assert steps and steps[-1] == 1.0
    assert window.session.workspace.count("transport_hubs") > 20
    info = js(window, "lantern.info()")
    assert info["layers"]["basemap_roads"]["count"] > 1000
    assert js(window, "document.querySelector('.leaflet-control-attribution').textContent").endswith(
        "© OpenStreetMap contributors")
    assert _no_temp_files(tmp_path) == []


def test_cancelling_the_osm_import_half_way_changes_nothing(demo_window, qtbot, tmp_path):
    from layers.osm import helsinki_extract

    path = demo_window.session.workspace.path
    before = file_digest(path)
    counts = {k: demo_window.session.workspace.count(k) for k in layer_kinds()}
    from PySide6.QtWidgets import QPushButton

    task = demo_window.files.import_osm_extract(helsinki_extract())
    cancel_button = demo_window.files.osm_progress.findChild(QPushButton)
    # press Cancel at the first progress report, i.e. part-way through reading
    task.progressed.connect(lambda fraction, message: fraction < 0.9 and cancel_button.click())
    with qtbot.waitSignal(task.done, timeout=60000):
        pass
    # the worker may stop at the next check, or finish reading first; either way nothing is written
    qtbot.waitUntil(lambda: "cancelled" in str(demo_window.last_error or "").lower(), timeout=10000)
    assert file_digest(path) == before
    assert {k: demo_window.session.workspace.count(k) for k in layer_kinds()} == counts
    assert _no_temp_files(path.parent) == []
    assert demo_window.actions["import_osm"].isEnabled()
