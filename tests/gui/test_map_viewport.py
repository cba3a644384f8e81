"""A layer too big to send whole: the page asks the app for what is in view, counts when zoomed out."""
from __future__ import annotations

import pytest
import shapely

from mapping.viewport_index import DRAW_AT_MOST, VIEWPORT_ABOVE
from tests.gui.conftest import add_cases

MANY = VIEWPORT_ABOVE + 1500


@pytest.fixture
def big_window(make_window, demo_copy, tmp_path):
    add_cases(demo_copy, MANY, 8, tmp_path)
    return make_window(demo_copy)


def cases_info(js, w):
    return js(w, "lantern.info()")["layers"]["reported_cases"]


def test_the_district_shows_counts_and_a_street_shows_the_cases(big_window, js, qtbot):
    w = big_window
    total = w.session.counts["reported_cases"]
    info = cases_info(js, w)
    assert info["viewport"] and info["binned"] and info["bins"] > 1 and info["inView"] == total  # the district, in cells
    assert not any("layer/reported_cases" in u for u in w.map_view.guard.requests)  # never sent whole
    assert any("view/reported_cases" in u for u in w.map_view.guard.requests)
    assert w.session.frames.is_loaded("reported_cases") is False  # the window never read the million

    # zoomed in: the cases in view, one by one, exactly those the workspace has there
    frame = w.session.workspace.read_layer("reported_cases")
    fid = int(frame.index[len(frame) // 3])
    geom = frame.geometry.loc[fid]
    js(w, f"lantern.setView({geom.y}, {geom.x}, 18)")
    qtbot.waitUntil(lambda: not cases_info(js, w)["binned"] and cases_info(js, w)["shown"] > 0, timeout=15000)
    info = cases_info(js, w)
    assert 0 < info["inView"] <= DRAW_AT_MOST and info["shown"] == info["inView"]
    assert js(w, f"lantern.featurePoint('reported_cases', {fid})") != "null"


def test_filters_and_selection_reach_a_big_layer(big_window, js, qtbot):
    from audit.filters import FilterState

    w = big_window
    total = w.session.counts["reported_cases"]
    w.session.set_filters(FilterState(date_from="2025-01-01"))
    expected = len(w.session.filter_fids("reported_cases"))
    assert 0 < expected < total
    qtbot.waitUntil(lambda: cases_info(js, w)["inView"] == expected, timeout=15000)

    # selecting a case far from the view goes there and highlights it, though the page never had it
    frame = w.session.workspace.read_layer("reported_cases")
    keep = sorted(w.session.filter_fids("reported_cases"))
    fid = keep[len(keep) // 2]
    w.session.select("reported_cases", fid, pan=True)
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["zoom"] >= 17, timeout=15000)
    qtbot.waitUntil(lambda: js(w, f"lantern.featurePoint('reported_cases', {fid})") != "null", timeout=15000)
    assert js(w, "lantern.info()")["selected"] == {"id": "reported_cases", "fid": fid}
    point = shapely.Point(frame.geometry.loc[fid].x, frame.geometry.loc[fid].y)
    lat, lng, _zoom = w.map_view.last_view
    assert point.distance(shapely.Point(lng, lat)) < 1e-4  # centred on it

    w.session.set_filters(FilterState())
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["pending"] == 0, timeout=15000)
    assert w.map_view.guard.network_requests() == []


def fetch_status(js, qtbot, w, url: str):
    """The HTTP status the page gets for ``url`` ('refused' when the fetch fails)."""
    js(w, "(window.probe = 'waiting', fetch(" + repr(url) + ").then(function (r) { window.probe = r.status; },"
          " function () { window.probe = 'refused'; }), 1)")
    qtbot.waitUntil(lambda: js(w, "window.probe") != "waiting", timeout=10000)
    return js(w, "window.probe")


def test_a_malformed_view_request_is_refused(big_window, js, qtbot):
    w = big_window
    for query in ("b=1,2,3&z=12", "b=a,b,c,d&z=12", "b=1,2,3,4&z=nan", ""):
        assert fetch_status(js, qtbot, w, f"lantern://view/reported_cases?{query}") in (404, "refused")
    assert fetch_status(js, qtbot, w, "lantern://view/shelters?b=-180,-85,180,85&z=3") in (404, "refused")  # not big
    # positive control: a well-formed request for the big layer is answered
    assert fetch_status(js, qtbot, w, "lantern://view/reported_cases?b=-180,-85,180,85&z=3") == 200
