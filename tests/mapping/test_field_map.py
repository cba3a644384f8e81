"""The offline field map (raster MBTiles for ODK Collect): a valid file, rows flipped as the spec says, and
nothing but the basemap in it — proved by planting cases, a place of concern, a risk area and an annotation
at an empty spot, with a basemap building planted the same way as the positive control."""
import io
import math
import shutil
import sqlite3
from contextlib import closing

import numpy as np
import pytest
import shapely
from PIL import Image

from audit.annotations import annotate, annotation_values
from audit.commands import History
from layers.output import DestinationError
from layers.workspace import Workspace
from mapping import field_map
from mapping.field_map import BACKGROUND, Cancelled, write_field_map

SECRET_PLACE = "Zzyzx Night Bar planted"
SECRET_NOTE = "Planted note: twelve workers sleep on site, passports held by Qwerty"
SECRET_AREA = "Planted risk area Xylophone"
ZOOMS = (13, 17)


def _spec_row_to_xyz(z: int, tile_row: int) -> int:
    """MBTiles 1.3: tile_row is TMS (0 at the south); web maps count from the north."""
    return 2 ** z - 1 - tile_row


def _pixel_of(lon: float, lat: float, z: int) -> tuple[int, int, int, int]:
    """(tile x, tile y, pixel column, pixel row) of a position at zoom ``z``, by the slippy-map formula."""
    n = 2 ** z
    fx = (lon + 180) / 360 * n
    s = math.sin(math.radians(lat))
    fy = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n
    return int(fx), int(fy), int((fx % 1) * 256), int((fy % 1) * 256)


def _tiles(path) -> dict[tuple[int, int, int], bytes]:
    with closing(sqlite3.connect(path)) as conn:
        return {(z, x, _spec_row_to_xyz(z, row)): bytes(data)
                for z, x, row, data in conn.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")}


def _rgb(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def _background_mask(image: np.ndarray) -> np.ndarray:
    bg = np.array([int(BACKGROUND[i:i + 2], 16) for i in (1, 3, 5)])
    return np.abs(image - bg).max(axis=2) <= 8  # the palette may move a colour by a few levels


def _drawn_near(tiles, lon: float, lat: float, z: int, radius: int = 3) -> int:
    """Non-background pixels within ``radius`` px of a position at zoom ``z`` (its tile must exist)."""
    x, y, col, row = _pixel_of(lon, lat, z)
    image = _rgb(tiles[(z, x, y)])
    window = image[max(row - radius, 0):row + radius + 1, max(col - radius, 0):col + radius + 1]
    return int((~_background_mask(window)).sum())


def _empty_spots(ws, count: int, clear_m: float = 70) -> list[shapely.Point]:
    """Positions inside the basemap's extent with no basemap feature within ``clear_m`` metres."""
    import geopandas as gpd

    frames = [ws.read_layer(k).to_crs(3857) for k in field_map.BASEMAP_KINDS]
    everything = shapely.union_all([f.geometry.union_all() for f in frames if len(f)])
    w, s, e, n = ws.bounds(field_map.BASEMAP_KINDS)
    grid = gpd.GeoSeries([shapely.Point(x, y) for x in np.linspace(w, e, 25)[2:-2] for y in np.linspace(s, n, 25)[2:-2]],
                         crs=4326)
    far = grid[grid.to_crs(3857).distance(everything).to_numpy() > clear_m]
    spots: list[shapely.Point] = []
    for p in far:
        if all(shapely.distance(p, q) > 0.002 for q in spots):
            spots.append(p)
    assert len(spots) >= count, "the demo has no empty spots left for the test"
    return spots[:count]


def _square(p: shapely.Point, half_deg: float = 0.0004) -> shapely.Polygon:
    return shapely.box(p.x - half_deg, p.y - half_deg * 0.5, p.x + half_deg, p.y + half_deg * 0.5)


@pytest.fixture(scope="module")
def planted(demo_file, tmp_path_factory):
    """A demo copy with secrets planted at one empty spot, a basemap building at another, and a case far
    outside the district; returns (workspace path, secret spot, control spot, far case)."""
    path = tmp_path_factory.mktemp("fieldmap") / "demo.gpkg"
    shutil.copy(demo_file, path)
    with Workspace.open(path) as ws:
        secret, control = _empty_spots(ws, 2)
        area = _square(secret)
        far = shapely.Point(secret.x + 0.2, secret.y + 0.1)  # ~12 km away
        cluster = [shapely.Point(secret.x + dx, secret.y + dy) for dx in np.linspace(-3e-4, 3e-4, 7)
                   for dy in np.linspace(-1.5e-4, 1.5e-4, 5)]
        ws.insert_rows("reported_cases", [{"reported": "2026-10-01", "status": "open"}] * (len(cluster) + 1),
                       [*cluster, far])
        fid = ws.insert_rows("places_of_concern", [{"name": SECRET_PLACE, "category": "gathering_place"}], [area])[0]
        ws.insert_rows("risk_areas", [{"name": SECRET_AREA}], [area.buffer(0.0002)])
        History(ws, "Tester").do(annotate(annotation_values(
            "places_of_concern", fid, indicators_seen=["gen_controlled"], observed="2026-10-02", confidence="high",
            source="police", author="Tester", note=SECRET_NOTE)))
        ws.insert_rows("basemap_buildings", [{"name": "Control building", "class": "yes"}], [_square(control)])
    return path, secret, control, far


@pytest.fixture(scope="module")
def written(planted, tmp_path_factory):
    path, secret, control, far = planted
    out = tmp_path_factory.mktemp("fieldmap-out") / "district.mbtiles"
    read = []
    original = Workspace.read_layer

    def spying(self, kind_id):
        read.append(kind_id)
        return original(self, kind_id)

    Workspace.read_layer = spying
    try:
        with Workspace.open(path) as ws:
            report = write_field_map(ws, out, min_zoom=ZOOMS[0], max_zoom=ZOOMS[1])
    finally:
        Workspace.read_layer = original
    return report, _tiles(out), read


def test_the_file_is_a_raster_mbtiles_with_the_spec_s_metadata(written):
    report, tiles, _read = written
    with closing(sqlite3.connect(report.path)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        meta = dict(conn.execute("SELECT name, value FROM metadata"))
        columns = [r[1] for r in conn.execute("PRAGMA table_info(tiles)")]
    assert {"tiles", "metadata"} <= tables
    assert columns == ["zoom_level", "tile_column", "tile_row", "tile_data"]
    assert {"name", "format", "bounds", "center", "minzoom", "maxzoom", "attribution", "type"} <= set(meta)
    assert meta["format"] == "png" and meta["type"] == "baselayer"
    assert (meta["minzoom"], meta["maxzoom"]) == ("13", "17")
    assert meta["attribution"] == "© OpenStreetMap contributors"
    w, s, e, n = map(float, meta["bounds"].split(","))
    lon, lat, zoom = meta["center"].split(",")
    assert w < float(lon) < e and s < float(lat) < n and 13 <= int(zoom) <= 17
    for data in tiles.values():
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and image.size == (256, 256)
    assert sum(report.tiles.values()) == len(tiles)
    assert sum(report.bytes.values()) == sum(len(d) for d in tiles.values())


def test_rows_are_tms_a_known_building_falls_in_its_tile(planted, written):
    path, *_ = planted
    _report, tiles, _read = written
    with Workspace.open(path) as ws:
        buildings = ws.read_layer("basemap_buildings")
    big = buildings.geometry.iloc[int(buildings.to_crs(3857).area.argmax())]
    inside = big.representative_point()
    x, y, col, row = _pixel_of(inside.x, inside.y, 17)
    image = _rgb(tiles[(17, x, y)])
    assert not _background_mask(image[row:row + 1, col:col + 1]).all()
    # the row read the other way round (XYZ taken for TMS) is another tile, and there the building is not
    wrong = (17, x, 2 ** 17 - 1 - y)
    assert wrong not in tiles


def test_no_case_place_risk_area_or_annotation_reaches_a_tile(planted, written):
    _path, secret, control, _far = planted
    _report, tiles, read = written
    for z in range(ZOOMS[0], ZOOMS[1] + 1):
        assert _drawn_near(tiles, secret.x, secret.y, z) == 0, f"something drawn at the planted secrets, zoom {z}"
        if z >= 14:  # buildings are drawn from zoom 14, as in the app
            assert _drawn_near(tiles, control.x, control.y, z) > 0, f"the control building is missing at {z}"
    assert set(read) == set(field_map.BASEMAP_KINDS)


def test_a_case_far_outside_the_district_does_not_widen_the_map(planted, written):
    path, _secret, _control, far = planted
    report, tiles, _read = written
    with Workspace.open(path) as ws:
        basemap = ws.bounds(field_map.BASEMAP_KINDS)
        everything = ws.bounds()
    assert everything[2] >= far.x  # the case is in the workspace, far east of the basemap
    with closing(sqlite3.connect(report.path)) as conn:
        bounds = tuple(map(float, conn.execute("SELECT value FROM metadata WHERE name='bounds'").fetchone()[0]
                           .split(",")))
    assert bounds == pytest.approx(basemap, abs=1e-6)
    x, y, _c, _r = _pixel_of(far.x, far.y, 15)
    assert (15, x, y) not in tiles


def test_no_secret_text_is_anywhere_in_the_file(written):
    report, _tiles, _read = written
    data = report.path.read_bytes()
    for secret in (SECRET_PLACE, SECRET_NOTE, SECRET_AREA, "Control building"):
        assert secret.encode() not in data
    assert b"basemap for field work" in data  # the scan reads the metadata it would find a secret in


def test_the_zoom_range_is_respected(demo_copy, tmp_path):
    with Workspace.open(demo_copy) as ws:
        report = write_field_map(ws, tmp_path / "z.mbtiles", min_zoom=15, max_zoom=16)
    tiles = _tiles(report.path)
    assert {z for z, _x, _y in tiles} == {15, 16}
    assert set(report.tiles) == {15, 16} and all(report.tiles.values())
    assert report.tiles[16] >= 2 * report.tiles[15]


def test_cancel_writes_nothing_and_refusals(demo_copy, tmp_path):
    out = tmp_path / "maps" / "c.mbtiles"
    out.parent.mkdir()
    with Workspace.open(demo_copy) as ws:
        with pytest.raises(Cancelled):
            write_field_map(ws, out, min_zoom=13, max_zoom=14, cancel=lambda: True)
        assert list(out.parent.iterdir()) == []
        with pytest.raises(DestinationError):
            write_field_map(ws, demo_copy, min_zoom=13, max_zoom=13, overwrite=True)
        out.write_bytes(b"old")
        with pytest.raises(DestinationError):
            write_field_map(ws, out, min_zoom=13, max_zoom=13)
        assert out.read_bytes() == b"old"
        with pytest.raises(ValueError):
            write_field_map(ws, tmp_path / "x.mbtiles", min_zoom=16, max_zoom=14)
        seen = []
        write_field_map(ws, out, min_zoom=13, max_zoom=13, overwrite=True, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert out.read_bytes()[:16] == b"SQLite format 3\x00"


def test_an_empty_workspace_is_refused(workspace, tmp_path):
    from layers.errors import LanternError

    with pytest.raises(LanternError):
        write_field_map(workspace, tmp_path / "e.mbtiles")
    assert not (tmp_path / "e.mbtiles").exists()
