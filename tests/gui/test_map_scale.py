"""Many features: the page holds layer definitions only, features come through lantern://, big point
layers are clustered on canvas and still select, filter and answer clicks; nothing goes to the network."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from tests.gui.conftest import add_cases

#: more than the page's CLUSTER_ABOVE (2,000): drawn on canvas, clustered at low zoom
MANY = 2500


def _page_html(window) -> str:
    from pathlib import Path

    return (Path(window.map_view._tmpdir.name) / "map.html").read_text(encoding="utf-8")


@pytest.fixture
def many_cases_window(make_window, demo_copy, tmp_path):
    add_cases(demo_copy, MANY, 3, tmp_path)
    return make_window(demo_copy)


def test_page_holds_definitions_and_layers_arrive_through_the_scheme(demo_window, js):
    w = demo_window
    html = _page_html(w)
    assert len(html.encode()) < 60_000, "the page should not embed the layers' features"
    assert '"Feature"' not in html and "lantern://layer/reported_cases" in html
    info = js(w, "lantern.info()")
    assert info["pending"] == 0
    for kind_id, frame in w.session.frames.items():
        layer = info["layers"][kind_id]
        assert layer["loaded"] and layer["count"] == len(frame.geometry.dropna()), kind_id
        assert not layer["clustered"]
        assert any(u.startswith(f"lantern://layer/{kind_id}") for u in w.map_view.guard.requests)
    assert set(w.map_view.server.served) >= set(w.session.frames)
    assert w.map_view.guard.network_requests() == []


def test_replaced_layer_comes_through_the_scheme_after_an_edit(demo_window, js, qtbot):
    from audit.commands import DeleteRow

    w = demo_window
    fid = int(w.session.frames["worksites"].index[0])
    before = js(w, "lantern.info()")["layers"]["worksites"]["count"]
    w.session.do(DeleteRow("worksites", fid))
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["layers"]["worksites"]["count"] == before - 1, timeout=10000)
    assert any(u.startswith("lantern://layer/worksites?v=") for u in w.map_view.guard.requests)


def test_unknown_layer_is_not_found(demo_window, js, qtbot):
    w = demo_window
    js(w, "(window.probe = 'waiting', fetch('lantern://layer/nothing_here').then("
          "function (r) { window.probe = r.status; }, function () { window.probe = 'failed'; }), 1)")
    qtbot.waitUntil(lambda: js(w, "window.probe") != "waiting", timeout=10000)
    assert js(w, "window.probe") in (404, "failed")


def test_many_points_are_clustered_and_still_select_filter_and_click(many_cases_window, js, qtbot):
    from audit.filters import FilterState

    w = many_cases_window
    frame = w.session.frames["reported_cases"]
    info = js(w, "lantern.info()")["layers"]["reported_cases"]
    assert info["clustered"] and info["count"] == info["shown"] == len(frame)
    assert js(w, "document.querySelectorAll('.lantern-cluster').length") > 0

    # select: the map zooms in until the point is out of its cluster, and highlights it
    fid = int(frame.index[len(frame) // 2])
    w.session.select("reported_cases", fid, pan=True)
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["selected"] == {"id": "reported_cases", "fid": fid}, timeout=10000)
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["zoom"] >= 18, timeout=10000)

    # a real click on a drawn point selects it in the window (other layers hidden, the point clear of the legend)
    w.session.select(None, None)
    for kind_id in w.session.frames:
        w.session.set_visible(kind_id, kind_id == "reported_cases")
    geom = frame.geometry.loc[fid]
    js(w, f"lantern.setView({geom.y - 0.00027}, {geom.x + 0.0008}, 18)")  # the point ~150 px left, 100 px up
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["layers"]["worksites"]["visible"] is False, timeout=10000)
    point = js(w, f"lantern.featurePoint('reported_cases', {fid})")
    with qtbot.waitSignal(w.map_view.featureClicked, timeout=10000) as clicked:
        QTest.mouseClick(w.map_view.view.focusProxy(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(round(point["x"]), round(point["y"])))
    assert clicked.args[0] == "reported_cases" and w.session.selection[0] == "reported_cases"

    # filters rebuild the cluster group's markers
    w.session.set_filters(FilterState(date_from="2025-01-01"))
    expected = int((frame["reported"] >= "2025-01").sum())
    assert 0 < expected < len(frame)
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["layers"]["reported_cases"]["shown"] == expected, timeout=10000)
    w.session.set_filters(FilterState())
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["layers"]["reported_cases"]["shown"] == len(frame),
                    timeout=10000)
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["pending"] == 0, timeout=10000)
    assert w.map_view.guard.network_requests() == []


def test_a_count_marker_names_its_layer_and_its_whole_count(make_window, demo_copy, tmp_path, js, qtbot):
    """Counts of several layers share a cell and can overlap: each marker's tooltip says whose count it is."""
    from layers.catalogue import kind as get_kind
    from mapping.viewport_index import VIEWPORT_ABOVE
    from tests.gui.conftest import add_cases

    add_cases(demo_copy, VIEWPORT_ABOVE + 1500, 8, tmp_path)
    w = make_window(demo_copy)
    qtbot.waitUntil(lambda: js(w, "document.querySelectorAll('.lantern-cluster').length") > 0, timeout=15000)
    titles = js(w, "Array.prototype.map.call(document.querySelectorAll('.lantern-cluster'), "
                   "function (d) { return d.title + '|' + d.textContent; })")
    label = get_kind("reported_cases").label
    cases = [t for t in titles if t.startswith(label + ":")]
    assert cases, titles[:5]
    for t in cases:
        title, shown = t.split("|")
        assert int(title.split(":")[1].strip().replace(",", "").replace("\u00a0", "").replace(" ", "")) == int(shown)
