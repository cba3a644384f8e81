import sqlite3
import subprocess

import pytest
import shapely

from layers import migrations, place_outline
from layers.catalogue import layer_kinds
from layers.errors import WorkspaceError
from layers.features import prepare
from layers.workspace import Workspace
from tests.conftest import file_digest

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"


def _sql(path, query, *args):
    with sqlite3.connect(path) as conn:
        return conn.execute(query, args).fetchall()


def _hub_frame(names_and_points):
    import geopandas as gpd

    return gpd.GeoDataFrame(
        {"name": [n for n, _ in names_and_points], "hub_type": ["railway_station"] * len(names_and_points)},
        geometry=[shapely.Point(p) for _, p in names_and_points],
        crs=4326,
    )


def test_new_workspace_is_a_geopackage_1_3(workspace):
    path = workspace.path
    assert _sql(path, "PRAGMA application_id")[0][0] == 0x47504B47
    assert _sql(path, "PRAGMA user_version")[0][0] == 10300


def test_feature_tables_are_registered_in_epsg_4326(workspace):
    rows = dict(_sql(workspace.path, "SELECT table_name, srs_id FROM gpkg_contents WHERE data_type='features'"))
    outlines = place_outline.outline_tables(layer_kinds().values())
    assert rows == {k: 4326 for k in [*layer_kinds(), *outlines]}
    geom = dict(_sql(workspace.path, "SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
    assert geom["risk_areas"] == "MULTIPOLYGON"
    assert geom["reported_cases"] == "POINT"


def test_attribute_tables_are_registered_as_attributes(workspace):
    rows = _sql(workspace.path, "SELECT table_name, srs_id FROM gpkg_contents WHERE data_type='attributes'")
    assert sorted(rows) == sorted([(migrations.LAYER_INFO_TABLE, None), (migrations.META_TABLE, None),
                                   (migrations.ANNOTATIONS_TABLE, None), (migrations.CHANGE_LOG_TABLE, None),
                                   (migrations.ANSWERS_TABLE, None), (migrations.ACTION_PLAN_TABLE, None),
                                   (migrations.SIGNERS_TABLE, None), (migrations.STYLES_TABLE, None),
                                   (migrations.SUBMISSIONS_TABLE, None), (migrations.PHOTOS_TABLE, None),
                                   (migrations.ROUNDS_TABLE, None), (migrations.CAMPAIGNS_TABLE, None),
                                   (migrations.CAMPAIGN_SITES_TABLE, None), (migrations.CONTACTS_TABLE, None),
                                   (migrations.ACTORS_TABLE, None)])


def test_metadata_holds_name_and_schema_version(workspace):
    assert workspace.name == "Test district"
    assert workspace.schema_version == migrations.latest_version()
    assert workspace.metadata["schema_version"] == str(migrations.latest_version())


def test_round_trip_write_reopen_compare(workspace):
    k = layer_kinds()["worksites"]
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"name": ["Farm A", "Café B"], "sector": ["agriculture", "restaurant"], "migrant_workers": ["yes", "no"],
         "workers_estimate": [40, None], "owner_note": ["seasonal", None]},
        geometry=[shapely.Point(24.1, 56.95), shapely.Point(24.12, 56.96)], crs=4326,
    )
    prepared = prepare("in.geojson", frame, k)
    fids = workspace.insert_rows("worksites", prepared.rows, prepared.geometries)
    path = workspace.path
    workspace.close()

    with Workspace.open(path) as ws:
        back = ws.read_layer("worksites")
        assert list(back.index) == fids
        assert list(back["name"]) == ["Farm A", "Café B"]
        assert list(back["sector"]) == ["agriculture", "restaurant"]
        assert list(back["migrant_workers"]) == [True, False]
        assert back["workers_estimate"].iloc[0] == 40 and back["workers_estimate"].isna().iloc[1]
        assert back["extra"].iloc[0] == '{"owner_note": "seasonal"}'
        assert back.geometry.iloc[1].equals(shapely.Point(24.12, 56.96))
        # the file is readable by GDAL, with the same features
        import pyogrio

        gdal = pyogrio.read_dataframe(path, layer="worksites")
        assert list(gdal["name"]) == ["Farm A", "Café B"]
        assert gdal.geometry.iloc[0].equals(shapely.Point(24.1, 56.95))


def test_edits_keep_spatial_index_extent_and_counts_true(workspace):
    prepared = prepare("in.geojson", _hub_frame([("A", (24.0, 56.0)), ("B", (25.0, 57.5))]), layer_kinds()["transport_hubs"])
    workspace.insert_rows("transport_hubs", prepared.rows, prepared.geometries)
    path = workspace.path
    assert _sql(path, "SELECT count(*) FROM rtree_transport_hubs_geom")[0][0] == 2
    assert _sql(path, "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name='transport_hubs'")[0][0] == 2
    extent = _sql(path, "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name='transport_hubs'")[0]
    assert extent == (24.0, 56.0, 25.0, 57.5)
    workspace.delete_rows("transport_hubs", [1])
    assert _sql(path, "SELECT count(*) FROM rtree_transport_hubs_geom")[0][0] == 1


def test_a_failed_transaction_leaves_the_file_unchanged(workspace):
    before = file_digest(workspace.path)
    prepared = prepare("in.geojson", _hub_frame([("A", (24.0, 56.0))]), layer_kinds()["transport_hubs"])
    with pytest.raises(RuntimeError):
        with workspace.atomic():
            workspace.insert_rows("transport_hubs", prepared.rows, prepared.geometries)
            workspace.set_metadata("name", "changed")
            raise RuntimeError("crash in the middle of an edit")
    assert workspace.count("transport_hubs") == 0
    assert workspace.name == "Test district"
    assert file_digest(workspace.path) == before


def test_create_refuses_to_overwrite(workspace):
    with pytest.raises(WorkspaceError, match="already exists"):
        Workspace.create(workspace.path)


def test_open_refuses_non_geopackages(tmp_path):
    text = tmp_path / "notes.gpkg"
    text.write_text("not a database at all, just text that is long enough to not be empty" * 20)
    with pytest.raises(WorkspaceError, match="notes.gpkg"):
        Workspace.open(text)
    with pytest.raises(WorkspaceError, match="no such file"):
        Workspace.open(tmp_path / "missing.gpkg")


def test_open_refuses_a_geopackage_that_is_not_a_workspace(tmp_path):
    import pyogrio

    other = tmp_path / "other.gpkg"
    pyogrio.write_dataframe(_hub_frame([("A", (24.0, 56.0))]), other, layer="stations")
    before = file_digest(other)
    with pytest.raises(WorkspaceError, match="not a Lantern workspace"):
        Workspace.open(other)
    assert file_digest(other) == before


def test_pending_migration_is_applied_on_open(workspace, monkeypatch):
    path = workspace.path
    workspace.close()
    version = migrations.latest_version() + 1

    def add_notes_table(db):
        db["district_notes"].create({"id": int, "text": str}, pk="id")
        migrations.register_attributes_table(db.conn, "district_notes")

    monkeypatch.setitem(migrations._MIGRATIONS, version, add_notes_table)
    with Workspace.open(path) as ws:
        assert ws.schema_version == version
        assert ws.db["district_notes"].exists()
    assert ("district_notes", "attributes") in _sql(path, "SELECT table_name, data_type FROM gpkg_contents")


def test_failing_migration_rolls_back_completely(workspace, monkeypatch):
    path = workspace.path
    workspace.close()
    before = file_digest(path)
    version = migrations.latest_version() + 1

    def broken(db):
        db["half_done"].create({"id": int}, pk="id")
        raise RuntimeError("migration bug")

    monkeypatch.setitem(migrations._MIGRATIONS, version, broken)
    with pytest.raises(RuntimeError, match="migration bug"):
        Workspace.open(path)
    assert file_digest(path) == before
    assert not _sql(path, "SELECT name FROM sqlite_master WHERE name='half_done'")


def test_save_as_copies_everything(workspace, tmp_path):
    prepared = prepare("in.geojson", _hub_frame([("A", (24.0, 56.0))]), layer_kinds()["transport_hubs"])
    workspace.insert_rows("transport_hubs", prepared.rows, prepared.geometries)
    copy = workspace.save_as(tmp_path / "copy.gpkg")
    try:
        assert copy.path.name == "copy.gpkg"
        assert copy.count("transport_hubs") == 1
        assert copy.name == "Test district"
    finally:
        copy.close()


def test_demo_workspace_passes_ogrinfo_without_warnings(demo_file):
    result = subprocess.run(["ogrinfo", "-so", "-al", str(demo_file)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    for k in layer_kinds():
        assert f"Layer name: {k}" in result.stdout


def test_demo_workspace_passes_gdal_geopackage_validator(demo_file):
    result = subprocess.run(
        ["/usr/bin/python3", VALIDATOR, "-k", "--extra", "--warning-as-error", str(demo_file)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_schema_1_workspace_is_migrated_and_stays_valid(tmp_path):
    """Old files keep loading: the fixture was written by schema version 1."""
    import shutil

    old = tmp_path / "old.gpkg"
    shutil.copy(ROOT / "tests" / "fixtures" / "workspace_v1.gpkg", old)
    assert _sql(old, "SELECT value FROM workspace_meta WHERE key='schema_version'") == [("1",)]
    with Workspace.open(old) as ws:
        assert ws.schema_version == migrations.latest_version()
        assert ws.count("worksites") == 30 and ws.count("reported_cases") == 36
        assert {"osm_type", "osm_id", "osm_tags"} <= set(ws.read_layer("worksites").columns)
        assert ws.db["basemap_roads"].exists()
        assert ws.db.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    geom = dict(_sql(old, "SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
    assert geom["worksites"] == "POINT" and geom["worksites_outlines"] == "MULTIPOLYGON"
    assert geom["reported_cases"] == "POINT"
    result = subprocess.run(["/usr/bin/python3", VALIDATOR, "-k", "--extra", "--warning-as-error", str(old)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
