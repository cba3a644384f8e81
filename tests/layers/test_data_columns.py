"""The GeoPackage schema extension (layers.data_columns): labels of every column, enum constraints of every
choice field, read by GDAL as coded field domains; the file stays a valid GeoPackage."""
import re
import sqlite3
import subprocess

import pytest

from layers.catalogue import layer_kinds
from layers.data_columns import CONSTRAINT_PREFIX, constraint_name, write_data_columns
from layers.qgis_styles import write_layer_styles

VALIDATOR = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"


def _write(path, language="en", styles=False):
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        if styles:
            write_layer_styles(conn, language)
        n = write_data_columns(conn, language)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return n


def _rows(path, sql, *args):
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _enum_fields():
    return [(k, f) for k in layer_kinds().values() for f in k.fields if f.type == "enum"]


def test_the_schema_extension_is_declared_as_the_spec_asks(workspace):
    path = workspace.path
    workspace.close()
    _write(path)
    _write(path)
    ext = _rows(path, "SELECT table_name, column_name, scope FROM gpkg_extensions WHERE extension_name = 'gpkg_schema'"
                      " ORDER BY table_name")
    assert ext == [("gpkg_data_column_constraints", None, "read-write"), ("gpkg_data_columns", None, "read-write")]


@pytest.mark.parametrize("language", ["en", "lv"])
def test_every_column_has_its_label_and_every_choice_field_its_values(workspace, language):
    path = workspace.path
    workspace.close()
    _write(path, language)
    titles = {(t, c): (name, title, cons) for t, c, name, title, cons in
              _rows(path, "SELECT table_name, column_name, name, title, constraint_name FROM gpkg_data_columns")}
    for k in layer_kinds().values():
        for f in k.fields:
            name, title, cons = titles[(k.id, f.name)]
            assert name == title == getattr(f, language), (k.id, f.name)
            assert cons == (constraint_name(k.id, f.name) if f.type == "enum" else None), (k.id, f.name)
    for k, f in _enum_fields():
        values = _rows(path, "SELECT value, description FROM gpkg_data_column_constraints WHERE constraint_name = ?"
                             " AND constraint_type = 'enum' ORDER BY rowid", constraint_name(k.id, f.name))
        assert values == [(c.id, getattr(c, language)) for c in f.choices], (k.id, f.name)


def test_writing_again_replaces_only_lanterns_rows(workspace):
    path = workspace.path
    workspace.close()
    _write(path, "en")
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO gpkg_data_column_constraints (constraint_name, constraint_type, value, description)"
                 " VALUES ('their_list', 'enum', 'x', 'X')")
    conn.execute("INSERT INTO gpkg_data_columns (table_name, column_name, name, title, constraint_name)"
                 " VALUES ('annotations', 'confidence', 'Their confidence', 'Their confidence', 'their_list')")
    conn.commit()
    conn.close()
    before = _rows(path, "SELECT count(*) FROM gpkg_data_column_constraints")[0][0]
    _write(path, "lv")
    _write(path, "lv")
    assert _rows(path, "SELECT count(*) FROM gpkg_data_column_constraints")[0][0] == before
    assert _rows(path, "SELECT name FROM gpkg_data_columns WHERE table_name = 'annotations'") == [("Their confidence",)]
    theirs = "SELECT count(*) FROM gpkg_data_column_constraints WHERE constraint_name = 'their_list'"
    assert _rows(path, theirs) == [(1,)]
    mine = _rows(path, "SELECT DISTINCT description FROM gpkg_data_column_constraints WHERE value = 'female'"
                       " AND substr(constraint_name, 1, ?) = ?", len(CONSTRAINT_PREFIX), CONSTRAINT_PREFIX)
    assert mine == [("Sieviete",)]  # the English rows are gone, not doubled


def test_a_table_left_out_of_a_copy_leaves_no_rows_behind(workspace):
    """An export that drops a table and writes the description again keeps the file valid (GeoPackage req. 104)."""
    path = workspace.path
    workspace.close()
    _write(path, "en")
    conn = sqlite3.connect(path)
    for table in ("gpkg_geometry_columns", "gpkg_contents", "gpkg_extensions"):
        conn.execute(f"DELETE FROM {table} WHERE table_name = 'reported_cases'")
    conn.execute("DROP TABLE reported_cases")
    conn.commit()
    conn.close()
    _write(path, "en")
    assert _rows(path, "SELECT count(*) FROM gpkg_data_columns WHERE table_name = 'reported_cases'") == [(0,)]
    assert _rows(path, "SELECT count(*) FROM gpkg_data_column_constraints WHERE constraint_name LIKE ?",
                 constraint_name("reported_cases", "%")) == [(0,)]
    assert _rows(path, "SELECT count(*) FROM gpkg_data_columns WHERE table_name = 'worksites'")[0][0] > 0


def test_nothing_is_committed_inside_the_callers_transaction(workspace):
    path = workspace.path
    workspace.close()
    conn = sqlite3.connect(path, isolation_level=None)
    tables = ("gpkg_data_columns", "gpkg_data_column_constraints", "layer_styles")
    for table in tables:  # a workspace gets them when made: start from none
        conn.execute(f'DELETE FROM "{table}"')
    conn.execute("BEGIN")
    write_layer_styles(conn, "lv")
    write_data_columns(conn, "lv")
    assert conn.in_transaction
    assert all(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] > 0 for t in tables)
    conn.execute("ROLLBACK")
    assert [conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables] == [0, 0, 0]
    conn.close()


def test_the_demo_stays_a_valid_geopackage_and_gdal_reads_the_value_lists(demo_copy):
    _write(demo_copy, "lv", styles=True)
    result = subprocess.run(["/usr/bin/python3", VALIDATOR, "-k", "--extra", "--warning-as-error", str(demo_copy)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    k = layer_kinds()["reported_cases"]
    info = subprocess.run(["ogrinfo", "-so", str(demo_copy), k.id], capture_output=True, text=True)
    assert info.returncode == 0 and "Warning" not in info.stderr and "ERROR" not in info.stderr, info.stderr
    domains = dict(re.findall(r"^(\w+): String .*domain name=(\S+)$", info.stdout, re.M))
    assert domains == {f.name: constraint_name(k.id, f.name) for f in k.fields if f.type == "enum"}
    sex = k.field("sex")
    shown = subprocess.run(["ogrinfo", str(demo_copy), "-fielddomain", constraint_name(k.id, "sex")],
                           capture_output=True, text=True)
    assert "Type: coded" in shown.stdout
    coded = re.findall(r"^    (\S+): (.+)$", shown.stdout, re.M)
    assert coded == [(c.id, c.lv) for c in sex.choices]  # Latvian letters survive: "Vīrietis", "Nav zināms"


def strip(path) -> None:
    """Take Lantern's QGIS styles and schema description out of a file (for positive controls)."""
    conn = sqlite3.connect(path)
    for table in ("layer_styles", "gpkg_data_columns", "gpkg_data_column_constraints"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (table,))
        conn.execute("DELETE FROM gpkg_extensions WHERE table_name = ?", (table,))
    conn.commit()
    conn.close()


def test_without_the_tables_gdal_sees_free_text(demo_copy):
    """Positive control of the domain check above: without the tables there are no field domains."""
    strip(demo_copy)
    result = subprocess.run(["/usr/bin/python3", VALIDATOR, "-k", "--extra", "--warning-as-error", str(demo_copy)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    info = subprocess.run(["ogrinfo", "-so", str(demo_copy), "reported_cases"], capture_output=True, text=True)
    assert info.returncode == 0 and "domain name=" not in info.stdout
