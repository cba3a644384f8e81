"""The basemap's tiled kinds drawn together: one canvas a tile for water, buildings, roads and railways, each
kind's tiles still fetched from its own URL; a complete paint still waits for every tile in view."""
from __future__ import annotations

import pytest

from tests.gui.test_map_tiles import _paint_after, _with_tiles

PANE = ".leaflet-lanternBasemap-pane"
TILES = f"document.querySelectorAll('{PANE} canvas.leaflet-tile')"


@pytest.fixture
def tiled_window(make_window, demo_copy):
    return make_window(_with_tiles(demo_copy))


def _centre(window):
    w, s, e, n = window.session.workspace.bounds()
    return (s + n) / 2, (w + e) / 2


def test_every_tiled_kind_is_drawn_on_one_canvas_a_tile(tiled_window, js, qtbot):
    from layers import tiles

    w = tiled_window
    lat, lng = _centre(w)
    _paint_after(qtbot, w, f"lantern.setView({lat}, {lng}, 16)")
    info = js(w, "lantern.info()")["layers"]
    shown = [k for k in tiles.TILED_KINDS if info[k]["tiled"] and info[k]["visible"]]
    assert len(shown) >= 3
    for k in shown:  # each kind's own tiles were asked for
        assert any(p.startswith(f"/{k}/") for p in w.map_view.server.tiles_served), k
    # one canvas per tile position, not one per kind and position
    positions = js(w, f"JSON.stringify(Array.prototype.map.call({TILES}, function (c) {{ return c.style.transform"
                      f" + c.parentNode.style.zIndex; }}))")
    assert positions and len(positions) == len(set(positions))


def test_a_paint_waits_until_every_tile_in_view_is_drawn(tiled_window, js, qtbot):
    w = tiled_window
    lat, lng = _centre(w)
    undrawn = f"Array.prototype.filter.call({TILES}, function (c) {{ return !c.classList.contains('leaflet-tile-loaded'); }}).length"
    # positive control: right after a move the new tiles are not drawn yet (they are fetched and drawn later)
    assert js(w, f"(lantern.setView({lat}, {lng + 0.002}, 15), {undrawn})") > 0
    _paint_after(qtbot, w, f"lantern.setView({lat}, {lng - 0.002}, 16)")
    assert js(w, undrawn) == 0
    assert js(w, "lantern.info()")["pending"] == 0


def test_reordering_and_hiding_kinds_redraw_the_shared_tiles(tiled_window, js, qtbot):
    w = tiled_window
    lat, lng = _centre(w)
    _paint_after(qtbot, w, f"lantern.setView({lat}, {lng}, 16)")
    served = len(w.map_view.server.tiles_served)
    before = js(w, "lantern.info()")["layers"]["basemap_roads"]["tilesLoaded"]
    with qtbot.waitSignal(w.map_view.painted, timeout=30000):
        w.session.set_visible("basemap_roads", False)
        w.map_view.request_paint()
    with qtbot.waitSignal(w.map_view.painted, timeout=30000):
        w.session.set_visible("basemap_roads", True)
        w.map_view.request_paint()
    info = js(w, "lantern.info()")
    assert info["layers"]["basemap_roads"]["visible"] and info["pending"] == 0
    assert info["layers"]["basemap_roads"]["tilesLoaded"] > before  # drawn again when shown again
    assert len(w.map_view.server.tiles_served) == served  # from the tiles already parsed: nothing fetched again
