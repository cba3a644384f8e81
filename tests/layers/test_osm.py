"""OpenStreetMap import on the real Helsinki extract bundled in data/osm/.

Expected counts are derived independently from the raw file with a few lines
of plain pyosmium (a SimpleHandler over nodes and ways), not through the
importer's code path.
"""
import json
import sqlite3

import osmium
import pytest
import shapely

from layers.errors import InputError
from layers.osm import Cancelled, helsinki_extract, import_osm
from layers.workspace import Workspace
from tests.conftest import file_digest

TAGS = [
    ("railway", "station"), ("railway", "tram_stop"), ("amenity", "ferry_terminal"), ("amenity", "embassy"),
    ("office", "diplomatic"), ("amenity", "library"), ("tourism", "hotel"), ("amenity", "nightclub"),
    ("amenity", "restaurant"), ("amenity", "bar"), ("amenity", "school"), ("leisure", "park"),
    ("amenity", "social_facility"), ("shop", "hairdresser"), ("landuse", "construction"), ("amenity", "clinic"),
]
PLACE_KINDS = ("transport_hubs", "worksites", "shelters", "places_of_concern")


class RawCounter(osmium.SimpleHandler):
    """Tagged nodes, and closed ways whose nodes are all in the file."""

    def __init__(self, node_ids):
        super().__init__()
        self.node_ids = node_ids
        self.counts = {t: 0 for t in TAGS}

    def _count(self, tags):
        for key, value in TAGS:
            if tags.get(key) == value:
                self.counts[(key, value)] += 1

    def node(self, n):
        self._count(n.tags)

    def way(self, w):
        refs = [r.ref for r in w.nodes]
        if len(refs) >= 4 and refs[0] == refs[-1] and all(r in self.node_ids for r in refs):
            self._count(w.tags)


class NodeIds(osmium.SimpleHandler):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def node(self, n):
        self.ids.add(n.id)


@pytest.fixture(scope="module")
def raw_counts():
    ids = NodeIds()
    ids.apply_file(str(helsinki_extract()))
    counter = RawCounter(ids.ids)
    counter.apply_file(str(helsinki_extract()))
    return counter.counts


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    out = tmp_path_factory.mktemp("osm") / "h.gpkg"
    report = import_osm(helsinki_extract(), out)
    return out, report


def _imported_places(path):
    with Workspace.open(path) as ws:
        return {k: ws.read_layer(k) for k in PLACE_KINDS}


def test_imported_counts_match_an_independent_count_of_the_raw_file(helsinki, raw_counts):
    frames = _imported_places(helsinki[0])
    imported = {t: 0 for t in TAGS}
    for frame in frames.values():
        for osm_type, tags in zip(frame["osm_type"], frame["osm_tags"]):
            if osm_type in ("node", "way"):
                tags = json.loads(tags)
                for key, value in TAGS:
                    if tags.get(key) == value:
                        imported[(key, value)] += 1
    assert imported == raw_counts
    assert sum(1 for n in raw_counts.values() if n > 0) >= 12, raw_counts


def test_places_keep_osm_ids_tags_and_names(helsinki):
    for kind_id, frame in _imported_places(helsinki[0]).items():
        assert len(frame) > 0, kind_id
        assert set(frame["osm_type"]) <= {"node", "way", "relation"}
        assert frame["osm_id"].notna().all()
        assert frame["name"].str.len().gt(0).all()
        tags = [json.loads(t) for t in frame["osm_tags"]]
        assert all(isinstance(t, dict) and t for t in tags)
    hubs = _imported_places(helsinki[0])["transport_hubs"]
    station = hubs[hubs["hub_type"] == "railway_station"]
    assert len(station) >= 1


def test_areas_stay_polygons(helsinki):
    frames = _imported_places(helsinki[0])
    ways = [g for f in frames.values() for g, t in zip(f.geometry, f["osm_type"]) if t in ("way", "relation")]
    nodes = [g for f in frames.values() for g, t in zip(f.geometry, f["osm_type"]) if t == "node"]
    assert ways and all(g.geom_type == "MultiPolygon" for g in ways)
    assert nodes and all(g.geom_type == "Point" for g in nodes)


def test_offline_basemap_layers_are_filled(helsinki):
    out, report = helsinki
    assert report.counts["basemap_roads"] > 1000 and report.counts["basemap_buildings"] > 100
    assert report.counts["basemap_railways"] > 50 and report.counts["basemap_water"] > 0
    with Workspace.open(out) as ws:
        roads = ws.read_layer("basemap_roads")
        assert {"primary", "residential", "footway"} <= set(roads["class"])
        assert set(roads.geometry.geom_type) == {"MultiLineString"}
        assert ws.metadata["osm_attribution"] == "© OpenStreetMap contributors"
        assert ws.layer_info("worksites")["source"] == "OpenStreetMap: Helsinki.osm.pbf"


def test_objects_cut_by_the_extract_edge_are_reported(helsinki):
    report = helsinki[1]
    assert report.skipped > 0  # a plain bbox cut: some ways reference nodes outside it
    assert "cut by the extract's edge" in report.summary()


def test_bbox_clips_to_the_box(tmp_path):
    box = (24.940, 60.166, 24.948, 60.172)
    report = import_osm(helsinki_extract(), tmp_path / "c.gpkg", bbox=box)
    assert report.clipped > 0 and report.outside > 0
    area = shapely.box(*box).buffer(1e-9)
    with Workspace.open(tmp_path / "c.gpkg") as ws:
        for kind_id in (*PLACE_KINDS, "basemap_roads", "basemap_buildings"):
            assert all(area.contains(g) for g in ws.read_layer(kind_id).geometry), kind_id


def test_clip_to_a_workspace_polygon_layer(tmp_path):
    import geopandas as gpd

    from layers.importers import import_file

    target = tmp_path / "w.gpkg"
    boundary = shapely.box(24.944, 60.168, 24.950, 60.174)
    with Workspace.create(target) as ws:
        src = tmp_path / "area.geojson"
        gpd.GeoDataFrame({"name": ["study area"]}, geometry=[boundary], crs=4326).to_file(src)
        import_file(ws, src, "risk_areas")
    import_osm(helsinki_extract(), target, clip_layer="risk_areas")
    with Workspace.open(target) as ws:
        places = ws.read_layer("worksites")
        assert len(places) > 0
        assert all(boundary.buffer(1e-9).contains(g) for g in places.geometry)
        assert ws.count("risk_areas") == 1  # own data kept


# -- bad input: clear message, nothing left behind ----------------------------------


def _truncated(tmp_path):
    data = helsinki_extract().read_bytes()
    p = tmp_path / "truncated.osm.pbf"
    p.write_bytes(data[: len(data) // 2])
    return p, "damaged, truncated"


def _corrupt(tmp_path):
    data = bytearray(helsinki_extract().read_bytes())
    data[2000:6000] = b"\xff" * 4000
    p = tmp_path / "corrupt.osm.pbf"
    p.write_bytes(bytes(data))
    return p, "damaged, truncated"


def _not_pbf(tmp_path):
    p = tmp_path / "notes.osm.pbf"
    p.write_text("this is not an OpenStreetMap file\n" * 50)
    return p, "damaged, truncated"


def _wrong_extension(tmp_path):
    p = tmp_path / "map.geojson"
    p.write_text("{}")
    return p, "not an OpenStreetMap extract"


def _nothing_matches(tmp_path):
    p = tmp_path / "benches.osm.pbf"
    with osmium.SimpleWriter(str(p)) as writer:
        for i in range(1, 6):
            writer.add_node(osmium.osm.mutable.Node(id=i, location=(24.94 + i / 1000, 60.17), tags={"amenity": "bench"}))
    return p, "no OpenStreetMap objects in the file match the tag mapping"


CASES = {"truncated": _truncated, "corrupt": _corrupt, "not a PBF": _not_pbf,
         "wrong extension": _wrong_extension, "no matching features": _nothing_matches}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_extract_gives_a_clear_message_and_no_file(tmp_path, case):
    src_dir = tmp_path / "src"
    src_dir.mkdir()
    path, problem = CASES[case](src_dir)
    out = tmp_path / "out" / "new.gpkg"
    with pytest.raises(InputError) as err:
        import_osm(path, out)
    assert str(err.value).startswith(f"{path.name}: ") and problem in str(err.value), str(err.value)
    assert list(out.parent.iterdir()) == []  # no half-written workspace, no temporary file


def test_bbox_that_misses_the_data_leaves_an_existing_workspace_unchanged(demo_copy):
    before = file_digest(demo_copy)
    with pytest.raises(InputError, match="does not overlap"):
        import_osm(helsinki_extract(), demo_copy, bbox=(21.0, 56.9, 21.1, 57.0))  # Liepāja, not Helsinki
    assert file_digest(demo_copy) == before
    assert [p.name for p in demo_copy.parent.iterdir() if p.name.startswith(".lantern")] == []


def test_cancel_leaves_nothing_behind(tmp_path):
    out = tmp_path / "x.gpkg"
    with pytest.raises(Cancelled):
        import_osm(helsinki_extract(), out, cancelled=lambda: True)
    assert list(tmp_path.iterdir()) == []


def test_progress_is_reported_up_to_done(tmp_path):
    seen = []
    import_osm(helsinki_extract(), tmp_path / "p.gpkg", progress=lambda f, m: seen.append(f))
    assert len(seen) >= 5 and seen == sorted(seen) and seen[-1] == 1.0


def test_result_is_a_valid_geopackage(helsinki):
    with sqlite3.connect(helsinki[0]) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
