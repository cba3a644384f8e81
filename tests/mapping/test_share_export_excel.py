"""CSV and GeoJSON folder exports read well in Excel and GDAL: BOM, Latvian letters, no 'nan', attribute tables
as CSV, the excel-lv dialect, and the formula guard on real export content."""
import csv
import json
import shutil

import pyogrio
import pytest

from layers.errors import LanternError
from layers.workspace import Workspace
from tests.mapping.conftest import annotated_copy
from mapping.share_export import export

STREET = "Brīvības iela — ā ē ī ū š ž č ķ ļ ņ ģ"  # a made-up note: no personal data
CELL_ID = "-13867_30817"
FORMULA = "=HYPERLINK(\"http://example.invalid\",\"x\")"


@pytest.fixture(scope="module")
def latvian_demo(demo_file, tmp_path_factory):
    return annotated_copy(demo_file, tmp_path_factory.mktemp("excel"), "Auditor", (STREET, CELL_ID, FORMULA))


def _export(path, fmt, out, profile="police", **kw):
    with Workspace.open(path) as ws:
        return export(ws, profile, fmt, out, recipient="Liaison officer", confirm_police=True, author="A", **kw)[0]


def _rows(path, delimiter=","):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), path.name  # UTF-8 with BOM: Excel in cp1257 reads the letters
    return list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=delimiter))


@pytest.fixture(scope="module")
def csv_folder(latvian_demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("csv") / "out"
    return _export(latvian_demo, "csv", out)


def test_csv_has_a_bom_and_keeps_latvian_letters(csv_folder):
    notes = [row for row in _rows(next(f for f in csv_folder if f.name == "annotations.csv"))]
    column = notes[0].index("note")
    cells = [row[column] for row in notes[1:]]
    assert STREET in cells  # control: the note is in the export, letters intact
    # what Excel does without a BOM: the bytes read in the Windows Baltic code page garble the letters
    assert STREET.encode("utf-8").decode("cp1257", errors="replace") != STREET


def test_no_nan_anywhere(csv_folder):
    files = [f for f in csv_folder if f.suffix == ".csv"]
    assert files
    empty = 0
    for f in files:
        for row in _rows(f):
            assert "nan" not in row and "NaN" not in row and "NaT" not in row and "None" not in row, f.name
            empty += row.count("")
    assert empty > 0  # control: the demo has missing values, and they are written as empty cells


def test_formula_guard_on_export_content(csv_folder):
    rows = _rows(next(f for f in csv_folder if f.name == "annotations.csv"))
    cells = [row[rows[0].index("note")] for row in rows[1:]]
    assert "'" + FORMULA in cells and FORMULA not in cells  # the real formula is neutralised
    assert CELL_ID in cells and "'" + CELL_ID not in cells  # the cell id is not touched


def test_excel_lv_dialect(latvian_demo, tmp_path):
    files = _export(latvian_demo, "csv", tmp_path / "out", csv_dialect="excel-lv")
    rows = _rows(next(f for f in files if f.name == "transport_hubs.csv"), delimiter=";")
    lon = rows[0].index("lon")
    values = [row[lon] for row in rows[1:] if row[lon]]
    assert values and all("," in v and "." not in v for v in values)
    assert all(20 < float(v.replace(",", ".")) < 29 for v in values)


def test_unknown_dialect_is_refused_before_anything_is_written(latvian_demo, tmp_path):
    with pytest.raises(LanternError, match="dialect"):
        _export(latvian_demo, "csv", tmp_path / "out", csv_dialect="excel-xx")
    assert not (tmp_path / "out").exists()


def test_geojson_folder_writes_attribute_tables_as_csv_and_every_geojson_opens(latvian_demo, tmp_path):
    files = _export(latvian_demo, "geojson", tmp_path / "out")
    names = {f.name for f in files}
    assert "annotations.csv" in names and "annotations.geojson" not in names  # an attribute table: CSV
    geojsons = [f for f in files if f.suffix == ".geojson"]
    assert geojsons
    for f in geojsons:
        info = pyogrio.read_info(f)  # GDAL opens it
        assert info["features"] == len(json.loads(f.read_text(encoding="utf-8"))["features"]) > 0
        assert info["geometry_type"] is not None, f.name  # a layer of features ("Unknown": mixed types)
        assert "NaN" not in f.read_text(encoding="utf-8")
    if shutil.which("ogrinfo"):
        import subprocess

        for f in geojsons:
            result = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(f)], capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
    rows = _rows(tmp_path / "out" / "annotations.csv")
    assert STREET in [row[rows[0].index("note")] for row in rows[1:]]


def test_geojson_export_replaces_an_earlier_one_with_its_csv_tables(latvian_demo, tmp_path):
    _export(latvian_demo, "geojson", tmp_path / "out")
    files = _export(latvian_demo, "geojson", tmp_path / "out", overwrite=True)  # its own CSV is not "foreign"
    assert "annotations.csv" in {f.name for f in files}
