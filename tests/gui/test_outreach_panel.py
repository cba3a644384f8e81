"""Outreach planning in the window: run in a worker, ranked list, map layers, lock/exclude, export."""
import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def _run(window, qtbot):
    panel = window.outreach_panel
    task = panel.run()
    with qtbot.waitSignal(task.done, timeout=60000):
        pass
    return panel


def test_run_shows_a_ranked_plan_and_map_layers(demo_window, js, qtbot):
    panel = demo_window.outreach_panel
    panel.k.setValue(3)
    panel.radius.setValue(450)
    _run(demo_window, qtbot)
    assert panel.table.rowCount() == 3
    assert [panel.table.item(r, 0).text() for r in range(3)] == ["1", "2", "3"]
    assert "of the total risk" in panel.quality.text()
    qtbot.waitUntil(lambda: "sites" in js(demo_window, "lantern.info()")["layers"], timeout=5000)
    info = js(demo_window, "lantern.info()")
    assert info["layers"]["sites"]["count"] == 3 and info["layers"]["coverage"]["count"] == 3
    assert info["layers"]["risk_surface"]["count"] > 5
    assert "Risk index" in js(demo_window, "document.getElementById('lantern-legend').textContent")
    panel.table.selectRow(1)
    qtbot.waitUntil(lambda: js(demo_window, "lantern.info()")["selected"] == {"id": "sites", "fid": 2})


def test_locked_and_excluded_sites_are_respected_on_re_run(demo_window, qtbot):
    panel = demo_window.outreach_panel
    panel.k.setValue(3)
    _run(demo_window, qtbot)
    first = panel.result.sites["candidate"].tolist()
    panel.table.item(0, 5).setCheckState(Qt.CheckState.Checked)  # exclude the first choice
    panel.table.item(1, 4).setCheckState(Qt.CheckState.Checked)  # lock the second
    _run(demo_window, qtbot)
    again = panel.result.sites["candidate"].tolist()
    assert first[0] not in again and again[0] == first[1]


def test_export_from_the_panel_writes_five_files(demo_window, qtbot, tmp_path):
    panel = demo_window.outreach_panel
    panel.k.setValue(2)
    _run(demo_window, qtbot)
    out = tmp_path / "export"
    task = panel.export(out_dir=str(out))
    with qtbot.waitSignal(task.done, timeout=60000):
        pass
    assert sorted(p.name for p in out.iterdir()) == [
        "outreach.html", "outreach.pdf", "outreach.png", "sites.csv", "sites.gpkg"]


def test_exported_html_makes_no_request_at_all(demo_window, qtbot, tmp_path, open_page):
    """Load outreach.html in a fresh web view whose interceptor records every request."""
    from PySide6.QtCore import QUrl

    panel = demo_window.outreach_panel
    panel.k.setValue(2)
    _run(demo_window, qtbot)
    task = panel.export(out_dir=str(tmp_path / "plan"))
    with qtbot.waitSignal(task.done, timeout=60000):
        pass
    page, guard = open_page(tmp_path / "plan" / "outreach.html")
    result = {}
    page.runJavaScript("JSON.stringify(JSON.parse(lantern.info()).layers.sites)", 0, lambda v: result.setdefault("v", v))
    qtbot.waitUntil(lambda: "v" in result, timeout=5000)
    assert '"count":2' in result["v"]
    assert guard.requests == [QUrl.fromLocalFile(str(tmp_path / "plan" / "outreach.html")).toString()]
    assert page.console == []


def test_a_candidate_drawn_on_the_map_can_be_chosen(demo_window, qtbot, js):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    panel = demo_window.outreach_panel
    panel.add_point_button.click()
    # the page switches mode asynchronously: a click before that would select a feature instead
    qtbot.waitUntil(lambda: js(demo_window, "lantern.info()")["mode"] == "place", timeout=10000)
    size = demo_window.map_view.view.size()
    QTest.mouseClick(demo_window.map_view.view.focusProxy(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(size.width() // 3, size.height() // 2))
    qtbot.waitUntil(lambda: len(panel.extra_points) == 1, timeout=20000)
    for i in range(panel.categories.count()):  # only the drawn site is a candidate
        panel.categories.item(i).setCheckState(Qt.CheckState.Unchecked)
    panel.k.setValue(1)
    _run(demo_window, qtbot)
    assert panel.result.sites["name"].tolist() == ["Drawn site 1"]
