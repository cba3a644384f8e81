"""Places stored as one geometry type: a POINT position plus the area's outline (layers.place_outline).

The promise: every feature table holds one geometry type (so QGIS shows one layer per table and no
place vanishes); Lantern still sees each area as an area; the outline copy GIS programs read stays
equal to the places, and a copy changed behind Lantern's back is caught; old workspaces migrate
in one transaction and their history stays verifiable.
"""
import shutil
import sqlite3
import subprocess
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from audit.check import check_workspace
from layers import gpkg_geometry, migrations, place_outline
from layers.catalogue import layer_kinds
from layers.features import prepare
from layers.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "workspace_v6_areas.gpkg"  # written by schema 6 (synthetic data)
VALIDATOR = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"
DEPOT = shapely.Polygon([(24.93, 60.16), (24.94, 60.16), (24.94, 60.17), (24.93, 60.17)])


def _geometry_types(path, table: str) -> set[str]:
    """The geometry types actually stored in ``table`` (what QGIS splits a layer by)."""
    with sqlite3.connect(path) as conn:
        blobs = [r[0] for r in conn.execute(f'SELECT geom FROM "{table}" WHERE geom IS NOT NULL')]
    return set(shapely.get_type_id(gpkg_geometry.decode(blobs)).tolist()) if blobs else set()


def _mixed_tables(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM gpkg_geometry_columns")]
    return [t for t in tables if len(_geometry_types(path, t)) > 1]


def _plain_connection(path):
    """A connection as another SQLite program has it, with the ST_* functions GeoPackage R-tree triggers call."""
    conn = sqlite3.connect(path)
    gpkg_geometry.register_functions(conn)
    return conn


@pytest.fixture
def places(tmp_path):
    ws = Workspace.create(tmp_path / "w.gpkg")
    k = layer_kinds()["worksites"]
    sectors = [c.id for c in k.field("sector").choices]
    frame = gpd.GeoDataFrame({"name": ["Depot (area)", "Kiosk (point)", "Yard (area)"], "sector": sectors[:3]},
                             geometry=[DEPOT, shapely.Point(24.95, 60.165), DEPOT.buffer(0.001)], crs=4326)
    prepared = prepare("synthetic.geojson", frame, k)
    fids = ws.insert_rows("worksites", prepared.rows, prepared.geometries)
    ws.log_import("worksites", "synthetic.geojson", fids)
    yield ws, fids
    ws.close()


def test_areas_are_stored_as_a_position_and_an_outline_and_read_back_as_areas(places):
    ws, (depot, kiosk, yard) = places
    layer = ws.read_layer("worksites")
    assert layer.geometry[depot].equals(shapely.MultiPolygon([DEPOT]))  # Lantern still sees the area
    assert layer.geometry[kiosk].geom_type == "Point"
    row = ws.get_row("worksites", depot)
    position = gpkg_geometry.decode([row["geom"]])[0]
    assert position.geom_type == "Point" and DEPOT.contains(position)
    assert ws.get_row("worksites", kiosk)["outline"] is None
    assert _geometry_types(ws.path, "worksites") == {0}  # points only
    assert _geometry_types(ws.path, "worksites_outlines") == {6}  # multipolygons only
    assert _mixed_tables(ws.path) == []


def test_the_mixed_table_check_sees_a_mixed_table(places):
    """Positive control: the same check finds a table that mixes points and areas (schema 6's layout)."""
    ws, (depot, _kiosk, _yard) = places
    with ws.atomic():
        ws.db.conn.execute("UPDATE worksites SET geom = ? WHERE fid = ?", (gpkg_geometry.encode([DEPOT])[0], depot))
    assert _mixed_tables(ws.path) == ["worksites"]


def test_the_outline_copy_follows_every_edit_undo_and_delete(places):
    ws, (depot, _kiosk, yard) = places
    copy = place_outline.outline_table("worksites")

    def copied():
        return {r[0]: r[1] for r in ws.db.conn.execute(f'SELECT fid, name FROM "{copy}"')}

    assert copied() == {depot: "Depot (area)", yard: "Yard (area)"}
    with ws.atomic():
        ws.update_row("worksites", depot, {"name": "Depot, renamed"})
    assert copied()[depot] == "Depot, renamed"
    before = ws.get_row("worksites", yard)
    with ws.atomic():
        ws.delete_row("worksites", yard)
    assert yard not in copied()
    with ws.atomic():  # undo of a delete: the row comes back with every column, its outline too
        ws.insert_row("worksites", before)
    assert copied()[yard] == "Yard (area)"
    assert ws.read_layer("worksites").geometry[yard].equals(shapely.MultiPolygon([DEPOT.buffer(0.001)]))
    assert place_outline.copy_differences(ws.db.conn, layer_kinds().values()) == {}


def test_a_copy_changed_behind_lanterns_back_is_reported_and_remade_on_open(places):
    ws, (depot, _kiosk, _yard) = places
    path = ws.path
    assert check_workspace(path).ok
    ws.close()
    with _plain_connection(path) as conn:  # an attacker moves the area QGIS users see
        moved = gpkg_geometry.encode([shapely.MultiPolygon([shapely.affinity.translate(DEPOT, 0.05)])])[0]
        conn.execute("UPDATE worksites_outlines SET geom = ? WHERE fid = ?", (moved, depot))
    result = check_workspace(path)
    assert not result.ok
    assert any("worksites_outlines" in p and "1" in p for p in result.problems), result.problems
    with Workspace.open(path) as reopened:
        assert any("worksites_outlines" in n for n in reopened.notices)
    assert check_workspace(path).ok


def test_a_dropped_copy_is_reported(places):
    ws, _fids = places
    path = ws.path
    ws.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE worksites_outlines")
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = 'worksites_outlines'")
        conn.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = 'worksites_outlines'")
    assert any("worksites_outlines" in p for p in check_workspace(path).problems)


def test_outline_copies_are_not_tracked_as_rows_of_the_history(places):
    """The copy is derived data: an edit through Lantern logs the place, and check finds no outside edit."""
    ws, _fids = places
    result = check_workspace(ws.path)
    assert result.ok and not result.outside_edits


def test_a_schema_6_workspace_with_areas_migrates_and_its_history_still_verifies(tmp_path):
    old = tmp_path / "v6.gpkg"
    shutil.copy(FIXTURE, old)
    assert _mixed_tables(old) == ["worksites"]  # the fixture mixes an area and a point
    with sqlite3.connect(old) as conn:
        assert conn.execute("SELECT value FROM workspace_meta WHERE key='schema_version'").fetchone() == ("6",)
        area_before = gpkg_geometry.decode([conn.execute("SELECT geom FROM worksites WHERE fid=1").fetchone()[0]])[0]
    with Workspace.open(old) as ws:
        assert ws.schema_version == migrations.latest_version() >= 7
        assert area_before.area > 0 and ws.read_layer("worksites").geometry[1].equals(area_before)
        assert any(e["action"] == "baseline" and "migration 7" in (e["after"] or "")
                   for e in ws.db[migrations.CHANGE_LOG_TABLE].rows)
    assert _mixed_tables(old) == []
    result = check_workspace(old)
    assert result.ok and not result.outside_edits, result.problems
    validated = subprocess.run(["/usr/bin/python3", VALIDATOR, "-k", "--extra", "--warning-as-error", str(old)],
                               capture_output=True, text=True)
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_without_its_baseline_entry_the_migration_would_show_as_outside_edits(tmp_path, monkeypatch):
    """Positive control: the check sees the rows the migration changed when the log does not name them."""
    from layers import history_store

    old = tmp_path / "v6.gpkg"
    shutil.copy(FIXTURE, old)
    real = history_store.append
    monkeypatch.setattr(history_store, "append",
                        lambda db, **kw: None if "migration 7" in str(kw.get("after")) else real(db, **kw))
    Workspace.open(old).close()
    edits = check_workspace(old).outside_edits
    assert [(e.table, e.row_id, e.kind) for e in edits] == [("worksites", 1, "changed")]


def test_a_failing_migration_leaves_the_workspace_at_schema_6(tmp_path, monkeypatch):
    old = tmp_path / "v6.gpkg"
    shutil.copy(FIXTURE, old)
    before = old.read_bytes()

    def fail(conn, k):
        raise sqlite3.OperationalError("disk I/O error (simulated)")

    monkeypatch.setattr(place_outline, "create_outline_table", fail)
    with pytest.raises(Exception):
        Workspace.open(old)
    with sqlite3.connect(old) as conn:
        assert conn.execute("SELECT value FROM workspace_meta WHERE key='schema_version'").fetchone() == ("6",)
        assert conn.execute("SELECT count(*) FROM pragma_table_info('worksites') WHERE name='outline'").fetchone() \
            == (0,)
        assert conn.execute("SELECT sql FROM sqlite_master WHERE name='worksites'").fetchone()[0].count('"geom" GEOMETRY')
    assert _mixed_tables(old) == ["worksites"]
    assert len(old.read_bytes()) == len(before)


def test_date_fields_are_declared_as_dates(places):
    ws, _fids = places
    declared = {(t, r[1]): r[2] for t in ("risk_group_estimates", "annotations", "assessment_answers", "action_plan")
                for r in ws.db.conn.execute(f'PRAGMA table_info("{t}")')}
    assert declared[("risk_group_estimates", "estimated_on")] == "DATE"
    assert declared[("annotations", "observed")] == "DATE"
    assert declared[("assessment_answers", "answered_on")] == "DATE"
    assert declared[("action_plan", "due_date")] == "DATE"
    assert declared[("risk_group_estimates", "area_name")] == "TEXT"  # a control: text stays text


def test_a_schema_6_workspace_opened_read_only_still_shows_its_areas(tmp_path, monkeypatch):
    """A folder that cannot be written opens an old workspace read-only (no migration): its places still read."""
    from layers import workspace as workspace_module

    old = tmp_path / "v6.gpkg"
    shutil.copy(FIXTURE, old)
    monkeypatch.setattr(workspace_module, "_read_only_place", lambda path: True)
    with Workspace.open(old) as ws:
        assert ws.read_only and ws.schema_version == 6
        layer = ws.read_layer("worksites")
        assert layer.geometry[1].geom_type in ("Polygon", "MultiPolygon") and layer.geometry[2].geom_type == "Point"


def test_a_failing_upkeep_never_stops_the_workspace_from_opening(tmp_path, monkeypatch):
    from layers.i18n import using

    path = tmp_path / "w.gpkg"
    with using("en"):
        Workspace.create(path).close()

    def broken(db, language=None):
        raise sqlite3.IntegrityError("UNIQUE constraint failed: gpkg_data_columns.name (simulated)")

    monkeypatch.setattr(migrations, "write_qgis_metadata", broken)
    with using("lv"), Workspace.open(path) as ws:  # the language changed: the styles would be written again
        assert not ws.read_only
        assert any("gpkg_data_columns.name (simulated)" in n for n in ws.notices), ws.notices
        assert ws.metadata["qgis_language"] == "en"  # untouched: the next opening tries again


def test_a_users_own_column_never_breaks_the_copy_or_its_triggers(places):
    """A field a user adds in QGIS (any name) stays theirs: not copied, not in the triggers' SQL, droppable."""
    ws, (depot, _kiosk, _yard) = places
    path = ws.path
    ws.close()
    with _plain_connection(path) as conn:
        conn.execute('ALTER TABLE worksites ADD COLUMN "my ""odd"" field" TEXT')
        conn.execute("UPDATE worksites_outlines SET name = 'stale' WHERE fid = ?", (depot,))  # forces a remake
    with Workspace.open(path) as reopened:
        assert not any("could not" in n for n in reopened.notices), reopened.notices
        with reopened.atomic():
            reopened.update_row("worksites", depot, {"name": "Depot again"})
        copied = reopened.db.conn.execute("SELECT name FROM worksites_outlines WHERE fid = ?", (depot,)).fetchone()
        assert copied == ("Depot again",)
    with _plain_connection(path) as conn:
        conn.execute('ALTER TABLE worksites DROP COLUMN "my ""odd"" field"')  # the user can still drop it


def test_an_area_is_found_wherever_it_is_in_view_searched_and_framed(places):
    """The map's viewport, the search and the layer extent use the area's box, not only its position."""
    from layers import search, viewport

    ws, (depot, kiosk, _yard) = places
    conn = ws.db.conn
    position = gpkg_geometry.decode([ws.get_row("worksites", depot)["geom"]])[0]
    edge = (24.9398, 60.1601, 24.9399, 60.1699)  # a strip along the depot's eastern edge
    assert not shapely.box(*edge).contains(position)
    positions_only = conn.execute("SELECT id FROM rtree_worksites_geom WHERE maxx >= ? AND minx <= ? AND "
                                  "maxy >= ? AND miny <= ?", (edge[0], edge[2], edge[1], edge[3])).fetchall()
    assert (depot,) not in positions_only  # control: the position's R-tree alone misses it
    condition, params = viewport.fids_in(conn, "worksites", edge)
    found = {r[0] for r in conn.execute(f"SELECT t.fid FROM worksites AS t WHERE {condition}", params)}
    assert depot in found and kiosk not in found
    assert viewport.count(conn, "worksites", edge) == len(found)
    fids, minx, miny, maxx, maxy = viewport.boxes(conn, "worksites")
    i = list(fids).index(depot)
    assert (minx[i], maxx[i]) == pytest.approx((24.93, 24.94), abs=1e-5)
    hit = next(h for h in search.search(conn, "depot") if h.fid == depot)
    assert hit.bbox == pytest.approx(DEPOT.bounds, abs=1e-5)
    west, south, east, north = ws.bounds(["worksites"])
    assert west <= 24.93 and east >= 24.95 and north >= 60.17


def test_an_area_another_program_appends_as_a_position_is_reported(places):
    """``ogr2ogr -append`` of a polygon lands in the POINT column (GDAL only warns): check names it."""
    import warnings

    import pyogrio

    ws, _fids = places
    path = ws.path
    ws.close()
    assert not any("holds an area" in p for p in check_workspace(path).problems)  # control
    frame = gpd.GeoDataFrame({"name": ["Appended by GDAL"]}, geometry=[DEPOT.buffer(0.002)], crs=4326)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(frame, path, layer="worksites", append=True)
    problems = check_workspace(path).problems
    assert any(p.startswith("worksites: 1 place holds an area") for p in problems), problems


def test_the_point_test_reads_every_kind_of_blob():
    blobs = gpkg_geometry.encode([shapely.Point(1, 2), shapely.Point(1, 2, 3), DEPOT, shapely.MultiPoint([(0, 0)])])
    assert [place_outline._is_point_blob(b) for b in blobs] == [True, True, False, False]
