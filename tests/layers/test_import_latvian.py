"""Latvian files: a CSV in Windows-1257, a Shapefile without .cpg, and CSV x/y in LKS-92 (EPSG:3059)."""
import geopandas as gpd
import pytest
import shapely
from pyproj import Transformer

from layers.errors import InputError
from layers.importers import import_file
from tests.conftest import file_digest

LETTERS = "ā ē ī ū š ž č ķ ļ ņ ģ Ā Ē Ī Ū Š Ž Č Ķ Ļ Ņ Ģ"
NAME = f"Brīvības stacija {LETTERS}"  # made-up place names, no personal data


def _cp1257_csv(path, header="lon,lat,name,hub_type", row="24.1052,56.9496"):
    path.write_bytes(f"{header}\n{row},{NAME},tram_stop\n".encode("cp1257"))
    return path


def test_cp1257_csv_is_detected_with_a_notice(workspace, tmp_path):
    src = _cp1257_csv(tmp_path / "hubs.csv")
    with pytest.raises(UnicodeDecodeError):
        src.read_bytes().decode("utf-8")  # the fixture really is not UTF-8
    report = import_file(workspace, src, "transport_hubs")
    assert workspace.read_layer("transport_hubs")["name"].iloc[-1] == NAME
    assert any("hubs.csv" in n and "cp1257" in n for n in report.notices), report.notices
    assert "cp1257" in report.summary()


def test_cp1257_csv_with_the_encoding_given_has_no_notice(workspace, tmp_path):
    report = import_file(workspace, _cp1257_csv(tmp_path / "hubs.csv"), "transport_hubs", encoding="cp1257")
    assert workspace.read_layer("transport_hubs")["name"].iloc[-1] == NAME
    assert not any("cp1257" in n for n in report.notices)


def test_wrong_or_unknown_encoding_names_the_file_and_changes_nothing(workspace, tmp_path):
    src = _cp1257_csv(tmp_path / "hubs.csv")
    before = file_digest(workspace.path)
    with pytest.raises(InputError) as err:
        import_file(workspace, src, "transport_hubs", encoding="utf-8")
    assert str(err.value).startswith("hubs.csv: cannot be read as utf-8 text")
    with pytest.raises(InputError) as err:
        import_file(workspace, src, "transport_hubs", encoding="klingon-8")
    assert str(err.value).startswith("hubs.csv: unknown text encoding 'klingon-8'")
    assert file_digest(workspace.path) == before and src.read_bytes().decode("cp1257").count(NAME) == 1


def _shapefile(folder, encoding, cpg=False):
    folder.mkdir()
    frame = gpd.GeoDataFrame({"name": [NAME, "Rīga"], "hub_type": ["tram_stop", "tram_stop"]},
                             geometry=[shapely.Point(24.1052, 56.9496), shapely.Point(24.121, 56.9562)], crs=4326)
    frame.to_file(folder / "hubs.shp", engine="pyogrio", encoding=encoding)
    if not cpg:
        (folder / "hubs.cpg").unlink()
    return folder / "hubs.shp"


def test_shapefile_without_cpg_in_cp1257_keeps_its_letters(workspace, tmp_path):
    import pyogrio

    src = _shapefile(tmp_path / "shape", "cp1257")
    assert pyogrio.read_dataframe(src)["name"].iloc[0] != NAME  # control: GDAL alone garbles it
    report = import_file(workspace, src, "transport_hubs")
    assert list(workspace.read_layer("transport_hubs")["name"].iloc[-2:]) == [NAME, "Rīga"]
    assert any("hubs.shp" in n and "cp1257" in n for n in report.notices), report.notices


@pytest.mark.parametrize("encoding", ["utf-8", "cp1257"])
def test_shapefile_with_cpg_is_read_as_declared(workspace, tmp_path, encoding):
    report = import_file(workspace, _shapefile(tmp_path / "shape", encoding, cpg=True), "transport_hubs")
    assert workspace.read_layer("transport_hubs")["name"].iloc[-2] == NAME and not report.notices


def test_shapefile_encoding_option_overrides_and_a_wrong_one_is_refused(workspace, tmp_path):
    src = _shapefile(tmp_path / "shape", "cp1257")
    before = file_digest(workspace.path)
    with pytest.raises(InputError, match=r"^hubs\.shp: cannot be read as utf-8 text"):
        import_file(workspace, src, "transport_hubs", encoding="utf-8")
    assert file_digest(workspace.path) == before
    import_file(workspace, src, "transport_hubs", encoding="cp1257")
    assert workspace.read_layer("transport_hubs")["name"].iloc[-2] == NAME


# Riga central station and a point in Liepāja, as LKS-92 easting/northing (x/y)
PLACES = [(24.1211, 56.9466), (21.0108, 56.5047)]


def _lks92_csv(path, northing_first: bool = False):
    to_lks = Transformer.from_crs(4326, 3059, always_xy=True)
    pairs = [to_lks.transform(lon, lat) for lon, lat in PLACES]
    rows = [f"{a:.2f};{b:.2f};Vieta {i} {LETTERS};tram_stop" for i, (a, b) in
            enumerate((y, x) if northing_first else (x, y) for x, y in pairs)]
    path.write_text("x;y;name;hub_type\n" + "\n".join(rows) + "\n", encoding="utf-8-sig")
    return path


def test_lks92_csv_imports_at_the_right_place_with_crs(workspace, tmp_path):
    src = _lks92_csv(tmp_path / "lks.csv")
    import_file(workspace, src, "transport_hubs", crs="EPSG:3059")
    layer = workspace.read_layer("transport_hubs").iloc[-2:]
    assert layer.crs.to_epsg() == 4326
    for geom, (lon, lat) in zip(layer.geometry, PLACES):
        assert abs(geom.x - lon) < 1e-6 and abs(geom.y - lat) < 1e-6  # 0.01 m rounding in the file
    assert layer["name"].iloc[0].endswith(LETTERS)


def test_lks92_csv_without_crs_is_refused_with_the_remedy(workspace, tmp_path):
    src = _lks92_csv(tmp_path / "lks.csv")
    before = file_digest(workspace.path)
    with pytest.raises(InputError) as err:
        import_file(workspace, src, "transport_hubs")
    message = str(err.value)
    assert message.startswith("lks.csv: ") and "LKS-92" in message and "--crs EPSG:3059" in message
    assert file_digest(workspace.path) == before


def test_lon_lat_csv_is_not_mistaken_for_lks92(workspace, tmp_path):
    src = tmp_path / "hubs.csv"
    src.write_text("lon,lat,name,hub_type\n24.1211,56.9466,A,tram_stop\n")
    assert import_file(workspace, src, "transport_hubs").count == 1


def test_unknown_crs_names_the_file_and_changes_nothing(workspace, tmp_path):
    src = _lks92_csv(tmp_path / "lks.csv")
    before = file_digest(workspace.path)
    with pytest.raises(InputError, match=r"^lks\.csv: unknown coordinate system 'EPSG:99999'"):
        import_file(workspace, src, "transport_hubs", crs="EPSG:99999")
    with pytest.raises(InputError, match=r"^hubs\.shp: a coordinate system can be given only for a CSV"):
        import_file(workspace, _shapefile(tmp_path / "shape", "utf-8", cpg=True), "transport_hubs", crs="EPSG:3059")
    assert file_digest(workspace.path) == before and src.exists()


def test_non_baltic_non_utf8_csv_is_refused_with_the_remedy_that_fits(workspace, tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("lon,lat,name,hub_type\n24.1,56.95,Café,tram_stop\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"^latin\.csv: .*not UTF-8.*give its encoding"):
        import_file(workspace, latin, "transport_hubs")  # not silently read as Baltic
    assert import_file(workspace, latin, "transport_hubs", encoding="latin-1").count == 1
    odd = tmp_path / "odd.csv"
    odd.write_bytes(b"lon,lat,name,hub_type\n24.1,56.95,x\x81\x83y,tram_stop\n")  # not text in cp1257 either
    with pytest.raises(InputError) as err:
        import_file(workspace, odd, "transport_hubs")
    assert "not UTF-8" in str(err.value) and "give its encoding" not in str(err.value)


def test_lks92_csv_with_x_as_northing_lands_in_latvia_and_says_so(workspace, tmp_path):
    """Latvian surveyors write X for the northing: read as given, Rīga station would fall in the Baltic Sea."""
    src = _lks92_csv(tmp_path / "surveyor.csv", northing_first=True)
    report = import_file(workspace, src, "transport_hubs", crs="EPSG:3059")
    layer = workspace.read_layer("transport_hubs").iloc[-2:]
    for geom, (lon, lat) in zip(layer.geometry, PLACES):
        assert abs(geom.x - lon) < 1e-6 and abs(geom.y - lat) < 1e-6
    assert any("northings" in n and "surveyor.csv" in n for n in report.notices), report.notices


def test_lks92_csv_in_the_usual_order_is_not_swapped(workspace, tmp_path):
    """Control: x = easting stays as it is, with no notice."""
    report = import_file(workspace, _lks92_csv(tmp_path / "usual.csv"), "transport_hubs", crs="EPSG:3059")
    assert not any("northings" in n for n in report.notices)
    geom = workspace.read_layer("transport_hubs").geometry.iloc[-2]
    assert abs(geom.x - PLACES[0][0]) < 1e-6
