"""Import of every format, and every bad-input case: message names file and problem, workspace unchanged."""
import json
import zipfile

import geopandas as gpd
import pytest
import shapely

from layers.errors import InputError
from layers.importers import import_file, list_layers
from tests.conftest import file_digest

# two places in Riga, lon/lat
RIGA = [(24.1052, 56.9496), (24.1210, 56.9562)]


def _hubs(crs=4326):
    frame = gpd.GeoDataFrame(
        {"NAME": ["Central station", "Bus station"], "Hub_Type": ["railway_station", "Bus station"],
         "platforms": [8, 14]},
        geometry=[shapely.Point(p) for p in RIGA], crs=4326,
    )
    return frame.to_crs(crs)


def _write(frame, path, **kw):
    frame.to_file(path, engine="pyogrio", **kw)
    return path


def test_geojson_maps_fields_case_insensitively_and_keeps_unknown_ones(workspace, tmp_path):
    src = _write(_hubs(), tmp_path / "hubs.geojson", driver="GeoJSON")
    report = import_file(workspace, src, "transport_hubs")
    assert report.count == 2 and report.repaired == 0
    assert report.extra_fields == ["platforms"]
    layer = workspace.read_layer("transport_hubs")
    assert list(layer["name"]) == ["Central station", "Bus station"]
    assert list(layer["hub_type"]) == ["railway_station", "bus_station"]  # label → id
    assert [json.loads(e) for e in layer["extra"]] == [{"platforms": 8}, {"platforms": 14}]


def test_geopackage_with_several_layers_needs_a_layer_choice(workspace, tmp_path):
    src = tmp_path / "many.gpkg"
    _write(_hubs(), src, layer="stations")
    _write(_hubs().iloc[:1], src, layer="other", mode="a")
    assert sorted(list_layers(src)) == ["other", "stations"]
    before = file_digest(workspace.path)
    with pytest.raises(InputError, match=r"many\.gpkg: the file has several layers; choose one of: .*stations"):
        import_file(workspace, src, "transport_hubs")
    assert file_digest(workspace.path) == before
    assert import_file(workspace, src, "transport_hubs", layer="other").count == 1


@pytest.mark.parametrize("packaging", ["shp", "folder", "zip"])
def test_shapefile_in_latvian_crs_is_reprojected(workspace, tmp_path, packaging):
    folder = tmp_path / "shape"
    folder.mkdir()
    _write(_hubs(crs=3059), folder / "hubs.shp")  # LKS-92 / Latvia TM
    src = {"shp": folder / "hubs.shp", "folder": folder, "zip": tmp_path / "hubs.zip"}[packaging]
    if packaging == "zip":
        with zipfile.ZipFile(src, "w") as zf:
            for f in folder.iterdir():
                zf.write(f, f.name)
    import_file(workspace, src, "transport_hubs")
    layer = workspace.read_layer("transport_hubs")
    for geom, (lon, lat) in zip(layer.geometry, RIGA):
        assert geom.x == pytest.approx(lon, abs=1e-7) and geom.y == pytest.approx(lat, abs=1e-7)


@pytest.mark.parametrize("lon, lat", [("lon", "lat"), ("Longitude", "Latitude"), ("lng", "lat"), ("X", "Y")])
def test_csv_with_common_coordinate_headers(workspace, tmp_path, lon, lat):
    src = tmp_path / "cases.csv"
    src.write_text(
        f"{lon},{lat},reported,forms,status,sex\n"
        "24.1052,56.9496,2025-03,labour,potential,female\n"
        "24.1210,56.9562,2025-04-12,sexual;labour,identified,male\n",
        encoding="utf-8",
    )
    report = import_file(workspace, src, "reported_cases")
    assert report.count == 2
    cases = workspace.read_layer("reported_cases")
    assert list(cases["reported"]) == ["2025-03", "2025-04"]
    assert json.loads(cases["forms"].iloc[1]) == ["sexual", "labour"]
    assert cases.geometry.iloc[0].equals(shapely.Point(RIGA[0]))


def test_places_can_be_points_or_areas(workspace, tmp_path):
    frame = gpd.GeoDataFrame(
        {"name": ["Market hall", "Library"], "category": ["migrant_commerce", "free_internet"]},
        geometry=[shapely.box(24.10, 56.94, 24.11, 56.95), shapely.Point(24.12, 56.95)], crs=4326,
    )
    import_file(workspace, _write(frame, tmp_path / "places.geojson", driver="GeoJSON"), "places_of_concern")
    types = list(workspace.read_layer("places_of_concern").geometry.geom_type)
    assert types == ["MultiPolygon", "Point"]


def test_polygons_are_refused_where_only_points_may_go(workspace, tmp_path):
    frame = gpd.GeoDataFrame({"reported": ["2025-01"], "forms": ["labour"], "status": ["potential"]},
                             geometry=[shapely.box(24.10, 56.94, 24.11, 56.95)], crs=4326)
    with pytest.raises(InputError, match="it holds points, the file has Polygon"):
        import_file(workspace, _write(frame, tmp_path / "c.geojson", driver="GeoJSON"), "reported_cases")


def test_invalid_polygons_are_repaired_and_counted(workspace, tmp_path):
    bowtie = shapely.Polygon([(24.10, 56.94), (24.12, 56.96), (24.12, 56.94), (24.10, 56.96), (24.10, 56.94)])
    square = shapely.box(24.13, 56.94, 24.14, 56.95)
    frame = gpd.GeoDataFrame({"name": ["bowtie", "square"]}, geometry=[bowtie, square], crs=4326)
    src = _write(frame, tmp_path / "areas.geojson", driver="GeoJSON")
    report = import_file(workspace, src, "risk_areas")
    assert report.repaired == 1
    areas = workspace.read_layer("risk_areas")
    assert areas.geometry.is_valid.all()
    assert areas.geometry.iloc[0].geom_type == "MultiPolygon"
    assert areas.geometry.iloc[0].area == pytest.approx(shapely.make_valid(bowtie).area)
    assert areas.geometry.iloc[0].area > 0


# -- bad input: one clear message naming the file and the problem; the workspace is unchanged ----------


def _garbage(tmp_path):
    p = tmp_path / "broken.geojson"
    p.write_bytes(b"\x00\x01 this is { not json ]]")
    return p, "broken.geojson", "cannot be read"


def _empty_file(tmp_path):
    p = tmp_path / "empty.geojson"
    p.write_bytes(b"")
    return p, "empty.geojson", "empty"


def _no_features(tmp_path):
    p = tmp_path / "nothing.geojson"
    p.write_text('{"type": "FeatureCollection", "features": []}')
    return p, "nothing.geojson", "no features"


def _no_crs(tmp_path):
    _write(_hubs(crs=3059), tmp_path / "noprj.shp")
    (tmp_path / "noprj.prj").unlink()
    return tmp_path / "noprj.shp", "noprj.shp", "unknown CRS"


def _wrong_geometry(tmp_path):
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.LineString([(24.1, 56.9), (24.2, 57.0)])], crs=4326)
    return _write(frame, tmp_path / "lines.geojson", driver="GeoJSON"), "lines.geojson", "wrong geometry type"


def _out_of_range(tmp_path):
    p = tmp_path / "projected.csv"
    p.write_text("x,y,name\n1506000,9312000,A\n")  # metres, but not Latvia's grid
    return p, "projected.csv", "outside the valid range"


def _lks92_without_crs(tmp_path):
    p = tmp_path / "lks92.csv"
    p.write_text("x,y,name\n506000,312000,A\n")  # LKS-92 easting/northing in Riga, read as lon/lat
    return p, "lks92.csv", "--crs EPSG:3059"


def _no_coordinate_columns(tmp_path):
    p = tmp_path / "table.csv"
    p.write_text("name,city\nA,Riga\n")
    return p, "table.csv", "no coordinate columns"


def _personal_field_in_cases(tmp_path):
    p = tmp_path / "cases.csv"
    p.write_text("lon,lat,reported,forms,status,victim_name\n24.1,56.9,2025-03,labour,potential,X\n")
    return p, "cases.csv", "victim_name"


def _bad_value(tmp_path):
    p = tmp_path / "cases.csv"
    p.write_text("lon,lat,reported,forms,status\n24.1,56.9,2025-03,labour,potential\n24.1,56.9,2025-03,labour,maybe\n")
    return p, "cases.csv", "row 2: field 'status'"


def _unsupported(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    return p, "notes.txt", "unsupported file type"


def _missing(tmp_path):
    return tmp_path / "gone.geojson", "gone.geojson", "no such file"


BAD_INPUTS = {
    "unreadable": (_garbage, "transport_hubs"),
    "empty file": (_empty_file, "transport_hubs"),
    "no features": (_no_features, "transport_hubs"),
    "unknown CRS": (_no_crs, "transport_hubs"),
    "wrong geometry type": (_wrong_geometry, "transport_hubs"),
    "coordinates out of range": (_out_of_range, "transport_hubs"),
    "LKS-92 x/y without --crs": (_lks92_without_crs, "transport_hubs"),
    "CSV without coordinates": (_no_coordinate_columns, "transport_hubs"),
    "personal field in cases": (_personal_field_in_cases, "reported_cases"),
    "value not allowed": (_bad_value, "reported_cases"),
    "unsupported format": (_unsupported, "transport_hubs"),
    "missing file": (_missing, "transport_hubs"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gets_a_clear_message_and_changes_nothing(workspace, tmp_path, case):
    make, kind_id = BAD_INPUTS[case]
    src_dir = tmp_path / "src"
    src_dir.mkdir()
    path, name, problem = make(src_dir)
    # a workspace with content, so "unchanged" means something
    import_file(workspace, _write(_hubs(), tmp_path / "seed.geojson", driver="GeoJSON"), "transport_hubs")
    before = file_digest(workspace.path)
    counts = {k: workspace.count(k) for k in ("transport_hubs", "reported_cases")}
    with pytest.raises(InputError) as err:
        import_file(workspace, path, kind_id)
    message = str(err.value)
    assert message.startswith(f"{name}: "), message
    assert problem in message, message
    assert "\n" not in message
    assert file_digest(workspace.path) == before
    assert {k: workspace.count(k) for k in counts} == counts
