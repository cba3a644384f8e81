"""The basemap drawn from the workspace's vector tiles: the page asks lantern://tiles/..., the painted map
shows the buildings, hiding the layer hides them, nothing goes to the network; big basemaps get their
tiles in the background, small ones are not written to."""
from __future__ import annotations

import numpy as np
import pytest

BUILDINGS = "basemap_buildings"


def _with_tiles(path):
    from layers import tiles
    from layers.workspace import Workspace

    with Workspace.open(path) as ws:
        tiles.build_tiles(ws, tiles.TILED_KINDS)
    return path


def _fill_pixels(window, color: str) -> int:
    """How many pixels of the map are exactly ``color`` (#rrggbb)."""
    from PySide6.QtGui import QImage

    image = window.map_view.view.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine() // 4, 4)[:, :width]
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return int(((raw[..., 2] == r) & (raw[..., 1] == g) & (raw[..., 0] == b)).sum())


def _pixels_until(qtbot, window, color: str, ok) -> int:
    """Wait until the grabbed map's count of ``color`` pixels satisfies ``ok``; return it. The page's paint
    report comes after its frames are drawn, but a grab can still show the frame before (software
    compositing), so the pixels themselves are waited for."""
    seen = []
    qtbot.waitUntil(lambda: ok(seen.append(_fill_pixels(window, color)) or seen[-1]), timeout=10000)
    return seen[-1]


def _paint_after(qtbot, window, code: str) -> None:
    """Run ``code`` on the map, then wait for its next complete paint (visible tiles loaded and drawn)."""
    with qtbot.waitSignal(window.map_view.painted, timeout=30000):
        window.map_view.run_js(code)
        window.map_view.request_paint()


@pytest.fixture
def tiled_window(make_window, demo_copy):
    return make_window(_with_tiles(demo_copy))


def _buildings_only(qtbot, window) -> None:
    """Hide every layer but the basemap and show a block of buildings up close."""
    from layers.catalogue import kind

    s = window.session
    for k in s.order:
        if not kind(k).is_basemap:
            s.set_visible(k, False)
    frame = s.workspace.read_layer(BUILDINGS)
    centre = frame.geometry.union_all().centroid
    _paint_after(qtbot, window, f"lantern.setView({centre.y}, {centre.x}, 17)")


def test_the_basemap_is_drawn_from_tiles_served_by_the_app(tiled_window, js, qtbot):
    from layers.catalogue import kind

    w = tiled_window
    info = js(w, "lantern.info()")
    assert info["pending"] == 0
    for k in ("basemap_water", "basemap_roads", "basemap_railways"):
        assert info["layers"][k]["tiled"] and info["layers"][k]["tilesLoaded"] >= 1, k
    requested = [u for u in w.map_view.guard.requests if u.startswith("lantern://tiles/")]
    assert any(u.startswith("lantern://tiles/basemap_roads/") for u in requested)
    assert not any(u.startswith("lantern://layer/basemap_") for u in w.map_view.guard.requests)  # no GeoJSON
    _buildings_only(qtbot, w)
    assert js(w, "lantern.info()")["layers"][BUILDINGS]["tilesLoaded"] >= 1
    assert any(p.startswith(f"/{BUILDINGS}/") for p in w.map_view.server.tiles_served)
    fill = kind(BUILDINGS).style.fill_color
    _pixels_until(qtbot, w, fill, lambda n: n > 5000)  # a block of buildings at zoom 17 fills much of the map
    assert w.map_view.guard.network_requests() == []


def test_hiding_the_tiled_layer_hides_the_buildings(tiled_window, js, qtbot):
    from layers.catalogue import kind

    w = tiled_window
    _buildings_only(qtbot, w)
    fill = kind(BUILDINGS).style.fill_color
    shown = _pixels_until(qtbot, w, fill, lambda n: n > 5000)
    with qtbot.waitSignal(w.map_view.painted, timeout=30000):
        w.session.set_visible(BUILDINGS, False)
        w.map_view.request_paint()
    assert not js(w, "lantern.info()")["layers"][BUILDINGS]["visible"]
    _pixels_until(qtbot, w, fill, lambda n: n < shown / 50)
    with qtbot.waitSignal(w.map_view.painted, timeout=30000):
        w.session.set_visible(BUILDINGS, True)
        w.map_view.request_paint()
    assert js(w, "lantern.info()")["layers"][BUILDINGS]["visible"]
    _pixels_until(qtbot, w, fill, lambda n: n > shown / 2)


def test_tiles_made_from_old_rows_are_not_used(make_window, demo_copy, js):
    from layers.workspace import Workspace

    _with_tiles(demo_copy)
    with Workspace.open(demo_copy) as ws:  # changed after the tiles were made
        ws.delete_rows(BUILDINGS, [int(ws.read_layer(BUILDINGS).index[0])])
    w = make_window(demo_copy)
    info = js(w, "lantern.info()")["layers"]
    assert not info[BUILDINGS]["tiled"] and info["basemap_roads"]["tiled"]
    assert any(u.startswith(f"lantern://layer/{BUILDINGS}") for u in w.map_view.guard.requests)
    assert not any(u.startswith(f"lantern://tiles/{BUILDINGS}/") for u in w.map_view.guard.requests)


def test_a_small_basemap_is_drawn_from_geojson_and_the_file_is_not_written(demo_window, js):
    from layers.migrations import TILES_TABLE

    w = demo_window
    assert w.session_map.tile_task is None and w.session_map.tiled == {}
    assert not js(w, "lantern.info()")["layers"][BUILDINGS]["tiled"]
    assert not w.session.workspace.db[TILES_TABLE].exists()


def test_a_big_basemap_gets_its_tiles_in_the_background(make_window, demo_copy, js, qtbot, monkeypatch):
    from layers import tiles

    monkeypatch.setattr(tiles, "TILE_ABOVE", 1)  # the demo's basemap counts as big
    w = make_window(demo_copy)
    assert not js(w, "lantern.info()")["layers"][BUILDINGS]["tiled"]  # GeoJSON meanwhile
    qtbot.waitUntil(lambda: w.session_map.tile_task is None and BUILDINGS in w.session_map.tiled, timeout=60000)
    assert tiles.tiles_fresh(w.session.workspace, BUILDINGS)
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["layers"][BUILDINGS]["tiled"], timeout=10000)
    qtbot.waitUntil(lambda: any(u.startswith("lantern://tiles/basemap_roads/") for u in w.map_view.guard.requests),
                    timeout=10000)


def test_closing_the_window_during_a_build_stops_it(make_window, demo_copy, qtbot, monkeypatch):
    from tests.conftest import file_digest

    from layers import tiles

    monkeypatch.setattr(tiles, "TILE_ABOVE", 1)
    w = make_window(demo_copy)
    assert w.session_map.tile_task is not None
    before = file_digest(demo_copy)
    w.close()
    qtbot.waitUntil(lambda: w.session_map.tile_task is None, timeout=10000)
    assert file_digest(demo_copy) == before
