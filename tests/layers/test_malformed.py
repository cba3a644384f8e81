"""A corpus of malformed files for every importer (GeoJSON, GeoPackage, Shapefile, zipped Shapefile, CSV).

Each ends in one clear message naming the file, with the workspace byte-identical — or in an
import that says in its report what it repaired or filled in.
"""
from __future__ import annotations

import json
import os
import sqlite3
import struct
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.errors import InputError
from layers.importers import import_file
from tests.conftest import file_digest

FORMATS = ("geojson", "gpkg", "shp", "zip", "csv")
SQUARE = shapely.box(24.10, 56.94, 24.11, 56.95)
BOWTIE = shapely.Polygon([(24.10, 56.94), (24.12, 56.96), (24.12, 56.94), (24.10, 56.96), (24.10, 56.94)])
GARBAGE = bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8))


def _write(frame, folder, fmt, stem="data"):
    """``frame`` in format ``fmt``; returns the path to import."""
    if fmt == "csv":
        path = folder / f"{stem}.csv"
        out = frame.drop(columns="geometry").copy()
        out.insert(0, "lat", [g.y for g in frame.geometry])
        out.insert(0, "lon", [g.x for g in frame.geometry])
        out.to_csv(path, index=False)
        return path
    if fmt == "geojson":
        path = folder / f"{stem}.geojson"
        frame.to_file(path, driver="GeoJSON", engine="pyogrio")
        return path
    if fmt == "gpkg":
        path = folder / f"{stem}.gpkg"
        frame.to_file(path, layer=stem, engine="pyogrio")
        return path
    shp_dir = folder / f"{stem}_shp"
    shp_dir.mkdir(exist_ok=True)
    frame.to_file(shp_dir / f"{stem}.shp", engine="pyogrio")
    if fmt == "shp":
        return shp_dir / f"{stem}.shp"
    path = folder / f"{stem}.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    return path


def _points(n=3, **columns):
    data = {"name": [f"Hub {i}" for i in range(n)], "hub_type": ["tram_stop"] * n, **columns}
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(24.10 + i / 100, 56.95) for i in range(n)], crs=4326)


def _areas(geoms):
    return gpd.GeoDataFrame({"name": [f"Area {i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=4326)


def _suffix(fmt):
    return {"shp": ".shp", "zip": ".zip", "csv": ".csv", "gpkg": ".gpkg", "geojson": ".geojson"}[fmt]


# -- cases: each returns (path, kind, expected) where expected is ("refused", text) or ("imported", check) ----


def empty(folder, fmt):
    path = folder / f"empty{_suffix(fmt)}"
    path.write_bytes(b"")
    return path, "transport_hubs", ("refused", "empty")


def truncated(folder, fmt):
    path = _write(_points(50), folder, fmt, "cut")
    if fmt in ("shp",):
        target = path  # the .shp itself, cut in half
    else:
        target = path
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    expected = ("imported", None) if fmt == "csv" else ("refused", "")
    if fmt == "csv":  # a cut CSV is a shorter CSV; its last line may be half a row
        expected = ("either", "")
    return path, "transport_hubs", expected


def not_that_format(folder, fmt):
    path = folder / f"letter{_suffix(fmt)}"
    path.write_text("Dear colleague,\nplease find the places attached.\n")
    return path, "transport_hubs", ("refused", "no coordinate columns" if fmt == "csv" else "")


def binary_garbage(folder, fmt):
    path = folder / f"noise{_suffix(fmt)}"
    path.write_bytes(GARBAGE)
    return path, "transport_hubs", ("refused", "")


def nan_and_infinity(folder, fmt):
    frame = _points(4)
    frame.geometry = [shapely.Point(24.1, 56.95), shapely.Point(float("nan"), 56.95),
                      shapely.Point(24.1, float("inf")), shapely.Point(float("-inf"), 56.9)]
    if fmt == "geojson":
        path = folder / "nan.geojson"
        features = [{"type": "Feature", "properties": {"name": f"Hub {i}", "hub_type": "tram_stop"},
                     "geometry": {"type": "Point", "coordinates": c}}
                    for i, c in enumerate(["[24.1, 56.95]", "[NaN, 56.95]", "[24.1, Infinity]", "[-Infinity, 56.9]"])]
        text = json.dumps({"type": "FeatureCollection", "features": features})
        for c in ("[24.1, 56.95]", "[NaN, 56.95]", "[24.1, Infinity]", "[-Infinity, 56.9]"):
            text = text.replace(json.dumps(c), c)
        path.write_text(text)
    elif fmt == "csv":
        path = folder / "nan.csv"
        path.write_text("lon,lat,name,hub_type\n24.1,56.95,A,tram_stop\nnan,56.95,B,tram_stop\n"
                        "24.1,inf,C,tram_stop\n-Infinity,56.9,D,tram_stop\n")
    elif fmt == "gpkg":
        path = _write(_points(4), folder, fmt, "nan")
        with sqlite3.connect(path) as db:
            for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):  # the R-tree triggers
                db.create_function(name, 1, lambda blob: 0)
            for fid, point in enumerate(frame.geometry, start=1):
                wkb = struct.pack("<BIdd", 1, 1, point.x, point.y)
                db.execute("UPDATE nan SET geom = ? WHERE fid = ?", (_gpkg_blob(wkb), fid))
    else:  # GDAL will not write non-finite values: patch them into the .shp's point records
        path = _write(_points(4), folder, fmt, "nan")
        shp = next(folder.rglob("nan.shp"))
        data = bytearray(shp.read_bytes())
        for i, point in enumerate(frame.geometry):
            data[100 + 28 * i + 12: 100 + 28 * i + 28] = struct.pack("<dd", point.x, point.y)
        shp.write_bytes(bytes(data))
        if fmt == "zip":
            with zipfile.ZipFile(path, "w") as zf:
                for f in shp.parent.iterdir():
                    zf.write(f, f.name)
    return path, "transport_hubs", ("refused", "row 2:")


def _gpkg_blob(wkb: bytes, srs_id: int = 4326) -> bytes:
    return b"GP" + bytes([0, 0x01]) + struct.pack("<i", srs_id) + wkb


def _unclosed_wkb() -> bytes:
    ring = [(24.10, 56.94), (24.11, 56.94), (24.11, 56.95), (24.10, 56.95)]  # last point ≠ first
    return struct.pack("<BIII", 1, 3, 1, len(ring)) + b"".join(struct.pack("<dd", *p) for p in ring)


def unclosed_ring(folder, fmt):
    if fmt == "csv":
        raise ValueError("not applicable: CSV holds points only")
    ring = [[24.10, 56.94], [24.11, 56.94], [24.11, 56.95], [24.10, 56.95]]
    if fmt == "geojson":
        path = folder / "open.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "Open"}, "geometry": {"type": "Polygon", "coordinates": [ring]}},
            {"type": "Feature", "properties": {"name": "Closed"},
             "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]}}]}))
    elif fmt == "gpkg":
        path = _write(_areas([SQUARE, SQUARE]), folder, "gpkg", "open")
        with sqlite3.connect(path) as db:
            for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):  # the R-tree triggers
                db.create_function(name, 1, lambda blob: 0)
            db.execute("UPDATE open SET geom = ? WHERE fid = 1", (_gpkg_blob(_unclosed_wkb()),))
    else:  # shapefiles store closed rings; GDAL writes them closed whatever it is given
        raise ValueError("not applicable: a shapefile's rings are closed by the format")

    def check(ws, report):
        areas = ws.read_layer("risk_areas")
        assert len(areas) == 2 and areas.geometry.is_valid.all()
        assert any("unclosed ring" in n for n in report.notices)
    return path, "risk_areas", ("imported", check)


def self_intersecting(folder, fmt):
    if fmt == "csv":
        raise ValueError("not applicable: CSV holds points only")
    path = _write(_areas([BOWTIE, SQUARE]), folder, fmt, "bowtie")

    def check(ws, report):
        assert report.repaired == 1 and "repaired" in report.summary()
        assert ws.read_layer("risk_areas").geometry.is_valid.all()
    return path, "risk_areas", ("imported", check)


def wrong_crs(folder, fmt):
    """Metres in the LKS-92 grid, labelled (or taken) as degrees."""
    frame = _points(2).to_crs(3059).set_crs(4326, allow_override=True)
    if fmt in ("shp", "zip"):
        path = _write(_points(2).to_crs(3059), folder, fmt, "grid")
        prj = next(folder.rglob("grid.prj"))
        prj.write_text("this is not a projection ]]")
        if fmt == "zip":
            with zipfile.ZipFile(path, "w") as zf:
                for f in prj.parent.iterdir():
                    zf.write(f, f.name)
        return path, "transport_hubs", ("refused", "")
    return _write(frame, folder, fmt, "grid"), "transport_hubs", ("refused", "is the CRS right?")


def huge_attribute(folder, fmt):
    note = "x" * 300_000
    if fmt in ("shp", "zip"):
        note = "x" * 254  # a dBASE field holds at most 254 characters
    path = _write(_points(2, note=[note, "short"]), folder, fmt, "huge")

    def check(ws, report):
        extra = json.loads(ws.read_layer("transport_hubs")["extra"].iloc[-2])
        assert extra["note"] == note
    return path, "transport_hubs", ("imported", check)


def wrong_types(folder, fmt):
    frame = gpd.GeoDataFrame(
        {"reported": ["2025-03", "yesterday", "2025-05"], "forms": ["labour"] * 3, "status": ["potential"] * 3},
        geometry=[shapely.Point(24.1, 56.95)] * 3, crs=4326)
    return _write(frame, folder, fmt, "types"), "reported_cases", ("refused", "row 2: field 'reported'")


def missing_required_field(folder, fmt):
    frame = gpd.GeoDataFrame({"name": ["Site A", "Site B"]}, geometry=[shapely.Point(24.1, 56.95)] * 2, crs=4326)

    def check(ws, report):
        assert list(ws.read_layer("worksites")["sector"]) == ["other", "other"]
        assert any("sector" in n for n in report.notices) and "sector" in report.summary()
    return _write(frame, folder, fmt, "sites"), "worksites", ("imported", check)


def missing_required_field_of_a_case(folder, fmt):
    frame = gpd.GeoDataFrame({"reported": ["2025-03"], "forms": ["labour"]},
                             geometry=[shapely.Point(24.1, 56.95)], crs=4326)
    return _write(frame, folder, fmt, "cases"), "reported_cases", ("refused", "required fields have no source column: status")


def latin1_bytes(folder, fmt):
    text = "lon,lat,name,hub_type\n24.1,56.95,Café Rīga,tram_stop\n"
    if fmt == "csv":
        path = folder / "latin1.csv"
        path.write_bytes(text.replace("Rīga", "Riga").encode("latin-1"))
        return path, "transport_hubs", ("refused", "not UTF-8")
    # other formats declare or imply their encoding; GDAL reads them, so this is the CSV's case
    raise ValueError("not applicable: latin-1 bytes matter for CSV, whose encoding is not declared")


CASES = {f.__name__: f for f in (
    empty, truncated, not_that_format, binary_garbage, nan_and_infinity, unclosed_ring, self_intersecting,
    wrong_crs, huge_attribute, wrong_types, missing_required_field, missing_required_field_of_a_case, latin1_bytes)}


# combinations a format cannot express (CSV holds points; shapefiles store closed rings; only CSV has no declared
# encoding) are left out of the matrix rather than skipped
NOT_APPLICABLE = {("unclosed_ring", "csv"), ("unclosed_ring", "shp"), ("unclosed_ring", "zip"),
                  ("self_intersecting", "csv"), *(("latin1_bytes", f) for f in FORMATS if f != "csv")}


@pytest.mark.parametrize("case,fmt", [(c, f) for c in sorted(CASES) for f in FORMATS if (c, f) not in NOT_APPLICABLE])
def test_malformed_file(workspace, tmp_path, case, fmt):
    folder = tmp_path / "src"
    folder.mkdir()
    path, kind_id, (outcome, expected) = CASES[case](folder, fmt)
    import_file(workspace, _write(_points(2), tmp_path, "geojson", "seed"), "transport_hubs")  # some content
    before = file_digest(workspace.path)
    try:
        report = import_file(workspace, path, kind_id)
    except InputError as err:
        message = str(err)
        assert outcome in ("refused", "either"), message
        assert message.startswith(f"{path.name}: "), message
        assert "\n" not in message and "Traceback" not in message
        assert expected in message, message
        assert file_digest(workspace.path) == before
        return
    assert outcome in ("imported", "either"), f"{case}/{fmt} was imported: {report.summary()}"
    if callable(expected):
        expected(workspace, report)


# -- --skip-invalid, constants, empty CSV ------------------------------------------------------------------


def test_bad_rows_are_listed_and_refused_by_default(workspace, tmp_path):
    rows = "".join(f"24.1,56.9{i},Hub {i},tram_stop\n" for i in range(20))
    src = tmp_path / "hubs.csv"
    src.write_text("lon,lat,name,hub_type\n" + rows + "nan,56.9,Bad 1,tram_stop\n" + ",56.9,Bad 2,tram_stop\n"
                   + "".join(f"24.1,inf,Bad {i},tram_stop\n" for i in range(3, 10)))
    before = file_digest(workspace.path)
    with pytest.raises(InputError) as err:
        import_file(workspace, src, "transport_hubs")
    message = str(err.value)
    assert message.startswith("hubs.csv: 9 rows cannot be imported: row 21: ")
    assert "row 22: missing coordinates" in message and "and 4 more" in message and "--skip-invalid" in message
    assert file_digest(workspace.path) == before


def test_skip_invalid_imports_the_rest_and_writes_the_skipped_rows_beside_the_source(workspace, tmp_path):
    src = tmp_path / "cases.csv"
    src.write_text("lon,lat,reported,forms,status\n24.1,56.9,2025-03,labour,potential\n"
                   "nan,56.9,2025-03,labour,potential\n24.1,56.9,2025-03,labour,maybe\n"
                   "24.2,56.9,2025-04,sexual,identified\n")
    report = import_file(workspace, src, "reported_cases", skip_invalid=True)
    assert report.count == 2 and workspace.count("reported_cases") == 2
    assert [r for r, _ in report.skipped] == [2, 3]
    assert report.skipped_file == tmp_path / "cases.csv.skipped.csv"
    raw = report.skipped_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the file as UTF-8 (Latvian letters)
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "row,problem,reported,forms,status,geometry_wkt"
    assert lines[1].startswith('2,"coordinates that are not numbers (nan, 56.9)"') and "maybe" in lines[2]
    assert str(report.skipped_file) in report.summary()


def test_skipped_rows_go_beside_the_workspace_when_the_source_folder_is_not_writable(workspace, tmp_path,
                                                                                    monkeypatch):
    import layers.importers as importers

    folder = tmp_path / "elsewhere"
    folder.mkdir()
    src = folder / "hubs.csv"
    src.write_text("lon,lat,name,hub_type\n24.1,56.9,A,tram_stop\nx,56.9,B,tram_stop\n")
    real = os.access
    monkeypatch.setattr(importers.os, "access", lambda p, mode: False if str(p) == str(folder) else real(p, mode))
    report = import_file(workspace, src, "transport_hubs", skip_invalid=True)
    assert report.skipped_file == workspace.path.parent / "hubs.csv.skipped.csv"
    assert report.skipped_file.exists()


def test_nothing_left_to_import_is_refused_even_when_skipping(workspace, tmp_path):
    src = tmp_path / "hubs.csv"
    src.write_text("lon,lat,name,hub_type\nnan,56.9,A,tram_stop\n")
    before = file_digest(workspace.path)
    with pytest.raises(InputError, match=r"^hubs\.csv: no row can be imported; 1 row cannot"):
        import_file(workspace, src, "transport_hubs", skip_invalid=True)
    assert file_digest(workspace.path) == before
    assert not (tmp_path / "hubs.csv.skipped.csv").exists()


def test_a_constant_fills_a_field_the_file_lacks(workspace, tmp_path):
    src = tmp_path / "sites.csv"
    src.write_text("lon,lat,name\n24.1,56.9,Site A\n")
    report = import_file(workspace, src, "worksites", constants={"sector": "Construction"})
    assert list(workspace.read_layer("worksites")["sector"]) == ["construction"]
    assert report.notices == []


def test_a_bad_constant_is_refused(workspace, tmp_path):
    src = tmp_path / "sites.csv"
    src.write_text("lon,lat,name\n24.1,56.9,Site A\n")
    with pytest.raises(InputError, match="sites.csv: constant for field 'sector': 'mining' is not one of"):
        import_file(workspace, src, "worksites", constants={"sector": "mining"})
    with pytest.raises(InputError, match="constant for unknown field 'colour'"):
        import_file(workspace, src, "worksites", constants={"colour": "red"})


def test_reported_cases_stay_strict_about_unknown_columns(workspace, tmp_path):
    src = tmp_path / "cases.csv"
    src.write_text("lon,lat,reported,forms,status,phone\n24.1,56.9,2025-03,labour,potential,123\n")
    with pytest.raises(InputError, match="fields not known to the layer"):
        import_file(workspace, src, "reported_cases", skip_invalid=True, constants={"status": "potential"})


@pytest.mark.parametrize("content", ["lon,lat,name,hub_type\n", "\ufefflon,lat,name\r\n", "\n\n  \n"])
def test_an_empty_csv_is_refused_with_its_name(workspace, tmp_path, content):
    src = tmp_path / "nothing.csv"
    src.write_text(content, encoding="utf-8")
    before = file_digest(workspace.path)
    with pytest.raises(InputError, match=r"^nothing\.csv: (the file is empty|the file holds no features)"):
        import_file(workspace, src, "transport_hubs")
    assert file_digest(workspace.path) == before


def test_cli_import_with_set_and_skip_invalid(tmp_path, capsys):
    import main
    from layers.workspace import Workspace

    Workspace.create(tmp_path / "w.gpkg").close()
    src = tmp_path / "sites.csv"
    src.write_text("lon,lat,name\n24.1,56.9,Site A\n24.1,nan,Site B\n")
    before = file_digest(tmp_path / "w.gpkg")
    assert main.main(["import", str(src), "--kind", "worksites", "--into", str(tmp_path / "w.gpkg")]) == 2
    err = capsys.readouterr().err
    assert "sites.csv: 1 row cannot be imported: row 2:" in err and "Traceback" not in err
    assert file_digest(tmp_path / "w.gpkg") == before
    assert main.main(["import", str(src), "--kind", "worksites", "--into", str(tmp_path / "w.gpkg"),
                      "--set", "sector=construction", "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert "Imported 1 feature into" in out and "sites.csv.skipped.csv" in out
