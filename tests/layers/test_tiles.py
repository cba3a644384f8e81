"""Vector tiles of the basemap, kept in the workspace: they decode to the right features, go stale when
the layer changes, a cancel writes nothing, read-only workspaces get none, and no export carries them."""
from __future__ import annotations

import math
import sqlite3

import pytest

from tests.conftest import file_digest

BUILDINGS, ROADS = "basemap_buildings", "basemap_roads"


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def _decode(data: bytes, layer: str, z: int, x: int, y: int, folder):
    """A tile as a GeoDataFrame in EPSG:4326, read back by GDAL's MVT driver (placed by its z/x/y path)."""
    import pyogrio

    path = folder / str(z) / str(x) / f"{y}.pbf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return pyogrio.read_dataframe(path, layer=layer).to_crs(4326)


@pytest.fixture
def tiled(demo_copy):
    """The demo workspace with tiles of its four basemap layers."""
    from layers import tiles
    from layers.workspace import Workspace

    ws = Workspace.open(demo_copy)
    tiles.build_tiles(ws, tiles.TILED_KINDS)
    yield ws
    ws.close()


def test_tiles_decode_to_the_buildings_at_their_place(tiled, tmp_path):
    import geopandas as gpd

    from layers import tiles

    frame = tiled.read_layer(BUILDINGS)
    low, high = tiles.zooms(BUILDINGS)
    for fid in frame.index[:: max(1, len(frame) // 5)][:5]:
        point = frame.geometry[fid].representative_point()
        for z in (low, high):
            x, y = _tile_of(point.x, point.y, z)
            data = tiles.read_tile(tiled, BUILDINGS, z, x, y)
            assert data, (fid, z)
            decoded = _decode(data, BUILDINGS, z, x, y, tmp_path / f"b{fid}")
            here = gpd.GeoSeries([point], crs=4326).to_crs(3067).iloc[0]
            metres = decoded.to_crs(3067).distance(here).min()
            assert metres < 1.0, (fid, z, metres)  # quantised to 4096 steps a tile: ~0.3 m at zoom 15


def test_road_tiles_keep_the_class_the_style_classifies_on(tiled, tmp_path):
    from layers import tiles
    from layers.catalogue import kind

    k = kind(ROADS)
    frame = tiled.read_layer(ROADS)
    mid = frame.geometry.iloc[len(frame) // 2].interpolate(0.5, normalized=True)
    z = tiles.MAX_ZOOM
    x, y = _tile_of(mid.x, mid.y, z)
    decoded = _decode(tiles.read_tile(tiled.path, ROADS, z, x, y), ROADS, z, x, y, tmp_path)
    assert k.style.classify in decoded.columns
    values = set(decoded[k.style.classify].dropna())
    assert values and values <= set(frame[k.style.classify].dropna())
    assert values & set(k.style.classes)  # styled classes come through


def test_no_tile_where_there_is_nothing(tiled):
    from layers import tiles

    assert tiles.read_tile(tiled, BUILDINGS, tiles.MAX_ZOOM, 0, 0) is None
    assert tiles.read_tile(tiled, "risk_areas", tiles.MAX_ZOOM, 0, 0) is None


def test_tiles_go_stale_when_the_layer_changes_and_fresh_after_a_rebuild(tiled):
    from layers import tiles

    assert all(tiles.tiles_fresh(tiled, k) for k in tiles.TILED_KINDS)
    fid = int(tiled.read_layer(BUILDINGS).index[0])
    tiled.delete_rows(BUILDINGS, [fid])
    assert not tiles.tiles_fresh(tiled, BUILDINGS)
    assert tiles.stale_kinds(tiled) == [BUILDINGS]  # the other layers' tiles stay good
    tiles.build_tiles(tiled, [BUILDINGS])
    assert tiles.tiles_fresh(tiled, BUILDINGS)


def test_tiles_cut_before_a_change_are_not_stored(demo_copy, tmp_path):
    from layers import tiles
    from layers.workspace import Workspace

    with Workspace.open(demo_copy) as ws:
        made_from = tiles.fingerprint(ws.db.conn, BUILDINGS)
        parts = tiles.cut_tiles(ws.path, [BUILDINGS], tmp_path)
        ws.delete_rows(BUILDINGS, [int(ws.read_layer(BUILDINGS).index[0])])
        assert not tiles.store_tiles(ws, BUILDINGS, parts[BUILDINGS], made_from)
        assert not tiles.tiles_fresh(ws, BUILDINGS)
        # positive control: the same tiles, cut from the rows as they are, are stored
        assert tiles.store_tiles(ws, BUILDINGS, tiles.cut_tiles(ws.path, [BUILDINGS], tmp_path / "again")[BUILDINGS],
                                 tiles.fingerprint(ws.db.conn, BUILDINGS))
        assert tiles.tiles_fresh(ws, BUILDINGS)


def test_a_cancel_leaves_the_file_byte_identical(demo_copy):
    from layers import tiles
    from layers.workspace import Workspace

    before = file_digest(demo_copy)
    seen = []
    with Workspace.open(demo_copy) as ws:
        with pytest.raises(tiles.Cancelled):
            # cancelled once the first layer has been cut: the others are still being cut
            tiles.build_tiles(ws, tiles.TILED_KINDS, progress=lambda done, total: seen.append(done),
                              cancel=lambda: bool(seen))
    assert seen and file_digest(demo_copy) == before
    # positive control: the same build, not cancelled, changes the file
    with Workspace.open(demo_copy) as ws:
        tiles.build_tiles(ws, tiles.TILED_KINDS)
    assert file_digest(demo_copy) != before


def test_a_read_only_workspace_gets_no_tiles_and_falls_back(demo_copy):
    from layers import tiles
    from layers.workspace import Workspace

    before = file_digest(demo_copy)
    with Workspace.open(demo_copy, lock_now=True):
        with Workspace.open(demo_copy, lock_now="try") as reader:
            assert reader.read_only
            tiles.build_tiles(reader, tiles.TILED_KINDS)
            assert tiles.stale_kinds(reader) == list(tiles.TILED_KINDS)  # the map draws them from GeoJSON
    assert file_digest(demo_copy) == before
    # tiles made by the writer serve a read-only reader too (reading writes nothing)
    with Workspace.open(demo_copy) as ws:
        tiles.build_tiles(ws, [BUILDINGS])
    after = file_digest(demo_copy)
    with Workspace.open(demo_copy, lock_now=True):
        with Workspace.open(demo_copy, lock_now="try") as reader:
            assert reader.read_only and tiles.tiles_fresh(reader, BUILDINGS)
    assert file_digest(demo_copy) == after


def test_tile_tables_are_registered_attributes_tables(tiled):
    from layers.migrations import TILES_STATE_TABLE, TILES_TABLE

    rows = dict(tiled.db.conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    assert rows[TILES_TABLE] == rows[TILES_STATE_TABLE] == "attributes"


def test_check_still_passes_with_tiles(tiled):
    from audit.check import check_workspace

    tiled.close()
    result = check_workspace(tiled.path)
    assert result.ok, result.problems[:3]


def test_check_passes_before_tiles(demo_copy):
    """The control of the test above: the same workspace without tiles is judged intact."""
    from audit.check import check_workspace

    assert check_workspace(demo_copy).ok


def test_a_shared_geopackage_carries_no_tiles(tiled, tmp_path):
    from layers.migrations import TILES_STATE_TABLE, TILES_TABLE
    from mapping.share_export import export

    conn = tiled.db.conn
    assert conn.execute(f"SELECT count(*) FROM {TILES_TABLE}").fetchone()[0] > 0  # control: the source has them
    files, _disclosure = export(tiled, "partner", "gpkg", tmp_path / "shared.gpkg")
    for path in files:
        if path.suffix != ".gpkg":
            continue
        with sqlite3.connect(path) as out:
            names = {r[0] for r in out.execute("SELECT name FROM sqlite_master")}
            registered = {r[0] for r in out.execute("SELECT table_name FROM gpkg_contents")}
        assert not {TILES_TABLE, TILES_STATE_TABLE} & (names | registered)
        assert not any("tile" in n for n in names if not n.startswith(("gpkg_", "rtree_", "sqlite_"))), names


def test_save_as_keeps_fresh_tiles(tiled, tmp_path):
    from layers import tiles

    copy = tiled.save_as(tmp_path / "copy.gpkg")
    try:
        assert all(tiles.tiles_fresh(copy, k) for k in tiles.TILED_KINDS)
    finally:
        copy.close()


def test_tiled_kinds_are_the_basemap():
    from layers import tiles
    from layers.catalogue import layer_kinds

    assert set(tiles.TILED_KINDS) == {k.id for k in layer_kinds().values() if k.is_basemap}
    assert BUILDINGS in tiles.TILED_KINDS and "reported_cases" not in tiles.TILED_KINDS


def test_import_osm_with_tiles_leaves_fresh_tiles(tmp_path, capsys):
    import main
    from layers import tiles
    from layers.osm import helsinki_extract
    from layers.workspace import Workspace

    out = tmp_path / "city.gpkg"
    assert main.main(["import-osm", str(helsinki_extract()), "--out", str(out), "--tiles"]) == 0
    assert "made the map tiles" in capsys.readouterr().out
    with Workspace.open(out) as ws:
        assert tiles.stale_kinds(ws) == []
    # control: without --tiles the import writes none (the window makes them when it needs them)
    plain = tmp_path / "plain.gpkg"
    assert main.main(["import-osm", str(helsinki_extract()), "--out", str(plain)]) == 0
    with Workspace.open(plain) as ws:
        assert tiles.stale_kinds(ws) == list(tiles.TILED_KINDS)


def test_an_exported_map_embeds_features_never_tile_urls():
    from mapping.compose import MapOptions, layer_stub, render
    from mapping.features import tile_layer

    tiled = tile_layer(BUILDINGS)
    app_page = render([tiled], MapOptions(fetch_layers=True, app_bridge=True))
    assert "lantern://tiles/basemap_buildings/" in app_page and "Leaflet.VectorGrid" in app_page  # control
    with pytest.raises(ValueError):  # a self-contained page cannot be made of a layer it has no features of
        render([tiled], MapOptions(assets="inline"))
    built = layer_stub(BUILDINGS)
    built.geojson, built.tiles = {"type": "FeatureCollection", "features": []}, tiled.tiles
    page = render([built], MapOptions(assets="inline"))
    assert '"tiles":' not in page and "lantern://tiles/" not in page  # the definition names no tiles
    assert "__$strToBlobUri" not in page  # and the vector-tile library is left out


def test_shallow_road_tiles_leave_out_footways_and_deeper_ones_keep_them(tiled, tmp_path):
    """Zoomed out, the roads' tiles hold the streets a basemap shows there, not every footway and service road."""
    import pandas as pd

    from layers import tiles
    from layers.catalogue import kind

    column = kind(ROADS).style.classify
    minor = set(tiles.DETAIL_FROM[ROADS])
    frame = tiled.read_layer(ROADS)
    assert minor & set(frame[column].dropna()) and set(frame[column].dropna()) - minor  # the demo has both
    low, high = tiles.zooms(ROADS)
    seen: dict[int, set] = {}
    for z in (low, high):
        rows = tiled.db.conn.execute("SELECT x, y, data FROM lantern_tiles WHERE layer=? AND z=?", (ROADS, z)).fetchall()
        decoded = [_decode(bytes(data), ROADS, z, x, y, tmp_path / f"z{z}-{x}-{y}") for x, y, data in rows]
        classes = pd.concat(decoded)[column].dropna() if decoded else pd.Series(dtype=object)
        seen[z] = set(classes)
    assert seen[low] and not seen[low] & minor  # zoom 13: the streets, no footways
    assert seen[high] & minor  # positive control: zoom 15 keeps them
    assert tiles.left_out(ROADS, low) == tuple(sorted(minor)) and tiles.left_out(ROADS, high) == ()
    assert tiles.left_out(BUILDINGS, low) == ()


def test_zooms_that_leave_out_different_classes_are_cut_apart(tmp_path, demo_copy):
    from layers import tiles

    assert tiles._zoom_runs(ROADS, 13, 15) == [(13, 13), (14, 15)]
    assert tiles._zoom_runs(BUILDINGS, 14, 15) == [(14, 15)]
    with pytest.raises(ValueError):
        tiles.cut_layer(demo_copy, ROADS, 13, 15, tmp_path / "mixed.mbtiles")
