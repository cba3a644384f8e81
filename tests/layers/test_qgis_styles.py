"""QGIS layer styles in the workspace (layers.qgis_styles), checked without QGIS: the QML parses, its
symbols carry the catalogue colours, classes become categories, choice fields value lists with exactly
the catalogue values, aliases are in the language asked. tests/layers/test_qgis_reads_workspace.py
opens the result in QGIS itself."""
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from layers import qgis_styles
from layers.catalogue import layer_kinds
from layers.place_outline import VIEW_SUFFIX
from layers.qgis_styles import STYLE_NAME, TABLE, qgis_color, write_layer_styles

ROOT = Path(__file__).resolve().parents[2]


def _write(path, language="en"):
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        n = write_layer_styles(conn, language)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return n


def _styles(path, defaults_only: bool = True) -> dict[str, ET.Element]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(f"SELECT f_table_name, styleQML FROM {TABLE} WHERE styleName = ?"
                            + (" AND useAsDefault = 1" if defaults_only else ""), (STYLE_NAME,)).fetchall()
    finally:
        conn.close()
    return {table: ET.fromstring(qml) for table, qml in rows}


def _spatial_tables(path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT table_name, upper(geometry_type_name) FROM gpkg_geometry_columns"))
    finally:
        conn.close()


def _symbol_props(symbol: ET.Element) -> list[dict]:
    """Each symbol layer's properties, read from the ``Option`` map QGIS reads first."""
    return [{o.get("name"): o.get("value") for o in layer.find("Option")} for layer in symbol.findall("layer")]


def _widgets(qml: ET.Element) -> dict[str, tuple[str, ET.Element]]:
    return {f.get("name"): (f.find("editWidget").get("type"), f.find("editWidget/config/Option"))
            for f in qml.iter("field")}


def _value_map(config: ET.Element) -> list[tuple[str, str]]:
    """(label, stored value) pairs of a ValueMap configuration, in order."""
    entries = config.find("Option[@name='map']")
    return [(o.get("name"), o.get("value")) for entry in entries for o in entry]


def test_every_layer_gets_one_default_lantern_style_registered_as_a_geopackage_table(workspace):
    ws_path = workspace.path
    workspace.close()
    n = _write(ws_path)
    styles = _styles(ws_path)
    spatial = _spatial_tables(ws_path)
    assert n == len(styles) == len(spatial)
    assert set(styles) == set(spatial)  # every kind table and every outline view
    assert set(layer_kinds()) <= set(styles)
    conn = sqlite3.connect(ws_path)
    assert conn.execute("SELECT data_type FROM gpkg_contents WHERE table_name = ?", (TABLE,)).fetchone() == (
        "attributes",)
    rows = conn.execute(f"SELECT DISTINCT f_table_catalog, f_table_schema, f_geometry_column FROM {TABLE}").fetchall()
    conn.close()
    assert rows == [("", "", "geom")]  # what QGIS's style lookup asks for
    for table, qml in styles.items():
        assert qml.tag == "qgis" and qml.find("renderer-v2") is not None, table
        assert qml.find("layerGeometryType") is None  # QGIS refuses a style of another geometry type


def test_writing_again_replaces_lantern_rows_and_keeps_a_users_own_style(workspace):
    path = workspace.path
    workspace.close()
    _write(path, "en")
    conn = sqlite3.connect(path)
    conn.execute(f"INSERT INTO {TABLE} (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName,"
                 " styleQML, useAsDefault) VALUES ('', '', 'worksites', 'geom', 'mine', '<qgis/>', 1)")
    conn.commit()
    conn.close()
    _write(path, "lv")
    _write(path, "lv")
    conn = sqlite3.connect(path)
    counts = dict(conn.execute(f"SELECT styleName, count(*) FROM {TABLE} GROUP BY styleName"))
    mine = conn.execute(f"SELECT useAsDefault FROM {TABLE} WHERE styleName = 'mine'").fetchone()
    defaults = conn.execute(f"SELECT count(*) FROM {TABLE} WHERE useAsDefault = 1 AND f_table_name = 'worksites'")
    defaults = defaults.fetchone()[0]
    registered = conn.execute("SELECT count(*) FROM gpkg_contents WHERE table_name = ?", (TABLE,)).fetchone()[0]
    conn.close()
    assert counts == {STYLE_NAME: len(_spatial_tables(path)), "mine": 1}
    assert mine == (1,) and defaults == 1  # the user's default stays the default; Lantern's is one to choose
    assert registered == 1
    assert _widgets(_styles(path, defaults_only=False)["worksites"])["sector"][0] == "ValueMap"


def test_nothing_is_committed_inside_the_callers_transaction(workspace):
    path = workspace.path
    workspace.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f'DELETE FROM "{TABLE}"')  # a workspace gets its styles when made: start from none
    conn.execute("BEGIN")
    write_layer_styles(conn, "en")
    assert conn.in_transaction
    assert conn.execute(f'SELECT count(*) FROM "{TABLE}"').fetchone()[0] > 0  # written, not yet committed
    conn.execute("ROLLBACK")
    assert conn.execute(f'SELECT count(*) FROM "{TABLE}"').fetchone()[0] == 0
    conn.close()


def test_an_unknown_language_is_refused(workspace):
    with pytest.raises(ValueError, match="unknown language"):
        write_layer_styles(workspace.db.conn, "de")


def test_symbols_carry_the_catalogue_colours_by_declared_geometry(workspace):
    path = workspace.path
    workspace.close()
    _write(path)
    styles, spatial, kinds = _styles(path), _spatial_tables(path), layer_kinds()
    checked = 0
    for table, qml in styles.items():
        k = kinds.get(table) or kinds[table.removesuffix(VIEW_SUFFIX)]
        renderer = qml.find("renderer-v2")
        if renderer.get("type") != "singleSymbol":
            continue
        symbol = renderer.find("symbols/symbol")
        props = _symbol_props(symbol)[0]
        gtype = spatial[table]
        if gtype == "POINT":
            assert symbol.get("type") == "marker", table
            assert props["color"] == qgis_color(k.style.fill_color, k.style.fill_opacity)
            assert props["outline_color"] == qgis_color(k.style.color)
            assert props["name"] == {"circle": "circle", "square": "square", "diamond": "diamond",
                                     "triangle": "triangle"}[k.style.shape]
        elif gtype == "MULTILINESTRING":
            assert symbol.get("type") == "line" and props["line_color"] == qgis_color(k.style.color), table
        else:
            assert symbol.get("type") == "fill", table
            opacity = qgis_styles.AREA_FILL_OPACITY if table != k.id else k.style.fill_opacity
            assert props["color"] == qgis_color(k.style.fill_color, opacity), table
            assert props["outline_color"] == qgis_color(k.style.color), table
        checked += 1
    assert checked >= 10


def test_classes_become_categories_with_the_class_colours_and_the_rest_in_the_base_style(workspace):
    path = workspace.path
    workspace.close()
    _write(path)
    styles = _styles(path)
    classified = [k for k in layer_kinds().values() if k.style.classify]
    assert classified  # the roads and railways
    for k in classified:
        renderer = styles[k.id].find("renderer-v2")
        assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == k.style.classify
        symbols = {s.get("name"): s for s in renderer.findall("symbols/symbol")}
        categories = {c.get("value"): symbols[c.get("symbol")] for c in renderer.findall("categories/category")}
        assert list(categories) == [*k.style.classes, ""]  # "" = every other value: QGIS's default category
        for value, over in k.style.classes.items():
            props = _symbol_props(categories[value])[0]
            assert props["line_color"] == qgis_color(over.get("color", k.style.color)), value
            assert float(props["line_width"]) == over.get("weight", k.style.weight), value
            dash = over.get("dash", k.style.dash)
            assert props["use_custom_dash"] == ("1" if dash and dash != "none" else "0"), value
        assert _symbol_props(categories[""])[0]["line_color"] == qgis_color(k.style.color)


@pytest.mark.parametrize("language", ["en", "lv"])
def test_choice_fields_list_exactly_the_catalogue_values_and_aliases_are_in_the_language(workspace, language):
    path = workspace.path
    workspace.close()
    _write(path, language)
    styles = _styles(path)
    checked = 0
    for k in layer_kinds().values():
        qml = styles[k.id]
        widgets = _widgets(qml)
        aliases = {a.get("field"): a.get("name") for a in qml.iter("alias")}
        assert widgets["fid"][0] == "Hidden"
        for f in k.fields:
            assert aliases[f.name] == getattr(f, language), (k.id, f.name)
            widget, config = widgets[f.name]
            if f.type == "enum":
                assert widget == "ValueMap", (k.id, f.name)
                empty = [] if f.required else [(qgis_styles.NULL_LABEL, qgis_styles.NULL_VALUE)]
                assert _value_map(config) == empty + [(getattr(c, language), c.id) for c in f.choices]
                checked += 1
            elif f.type == "boolean":
                assert widget == "CheckBox", (k.id, f.name)
            elif f.type in ("date", "month"):
                assert widget == "DateTime", (k.id, f.name)
            else:
                assert widget == "TextEdit", (k.id, f.name)
    assert checked >= 15
    if language == "lv":  # Latvian letters survive the XML and the database
        labels = [label for qml in styles.values() for label, _v in
                  (pair for w, c in _widgets(qml).values() if w == "ValueMap" for pair in _value_map(c))]
        assert "Sieviete" in labels and "Būvniecība" in labels and "Nav zināms" in labels


def test_an_outline_view_is_drawn_as_its_kinds_area_and_is_read_only(workspace):
    """A view ``<kind>_outlines`` (layers.place_outline) registered as MULTIPOLYGON gets the kind's fill."""
    path = workspace.path
    workspace.close()
    conn = sqlite3.connect(path)
    if not conn.execute("SELECT 1 FROM gpkg_contents WHERE table_name = 'worksites_outlines'").fetchone():
        conn.execute('CREATE VIEW worksites_outlines AS SELECT fid, geom, name, sector FROM worksites')
        conn.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)"
                     " VALUES ('worksites_outlines', 'features', 'worksites_outlines', 4326)")
        conn.execute("INSERT INTO gpkg_geometry_columns"
                     " VALUES ('worksites_outlines', 'geom', 'MULTIPOLYGON', 4326, 0, 0)")
        conn.commit()
    conn.close()
    _write(path, "lv")
    qml = _styles(path)["worksites_outlines"]
    k = layer_kinds()["worksites"]
    symbol = qml.find("renderer-v2/symbols/symbol")
    assert symbol.get("type") == "fill"
    props = _symbol_props(symbol)[0]
    assert props["color"] == qgis_color(k.style.fill_color, qgis_styles.AREA_FILL_OPACITY)
    assert props["outline_color"] == qgis_color(k.style.color)
    assert qml.get("readOnly") == "1" and _styles(path)["worksites"].get("readOnly") == "0"
    assert _value_map(_widgets(qml)["sector"][1]) == [(c.lv, c.id) for c in k.field("sector").choices]  # required


def test_a_table_still_declared_geometry_gets_one_rule_per_geometry_type():
    """Until a place table stores POINT, QGIS splits it into a point and a polygon layer sharing one style."""
    k = layer_kinds()["places_of_concern"]
    layer = qgis_styles.StyledLayer("places_of_concern", "geom", "GEOMETRY", k)
    qml = ET.fromstring(qgis_styles.layer_qml(layer, ["fid", "geom", *k.columns], "en"))
    renderer = qml.find("renderer-v2")
    assert renderer.get("type") == "RuleRenderer"
    rules = {r.get("filter"): r.get("symbol") for r in renderer.iter("rule")}
    symbols = {s.get("name"): s for s in renderer.findall("symbols/symbol")}
    assert symbols[rules["geometry_type($geometry) = 'Point'"]].get("type") == "marker"
    assert symbols[rules["geometry_type($geometry) = 'Polygon'"]].get("type") == "fill"


def test_a_partner_layer_is_drawn_in_the_apps_partner_style(workspace):
    import geopandas as gpd
    import pyogrio
    import shapely

    from layers.resources import load_json

    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(24.1, 56.9)], crs="EPSG:4326")
    path = workspace.path
    pyogrio.write_dataframe(frame, path, layer="partner_riga_sites", driver="GPKG", append=True)
    workspace.set_partner_layer("partner_riga_sites", "Partner: Rīga — sites")
    workspace.close()
    _write(path)
    qml = _styles(path)["partner_riga_sites"]
    partner = load_json("styles.json")["styles"]["partner_point"]
    props = _symbol_props(qml.find("renderer-v2/symbols/symbol"))[0]
    assert props["color"] == qgis_color(partner["fill_color"], partner["fill_opacity"])
    assert props["outline_color"] == qgis_color(partner["color"])
    assert qml.get("readOnly") == "1"


def test_the_check_still_passes_after_the_styles_are_written(demo_copy):
    """The styles are derived data: writing them is no edit outside Lantern's history."""
    _write(demo_copy, "lv")
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "check", str(demo_copy)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": OK" in result.stdout


def _sector_alias(path) -> str:
    with sqlite3.connect(path) as conn:
        qml = conn.execute(f'SELECT "styleQML" FROM "{TABLE}" WHERE f_table_name = ? AND "styleName" = ?',
                           ("worksites", STYLE_NAME)).fetchone()[0]
    return ET.fromstring(qml.split("\n", 1)[1]).find(".//aliases/alias[@field='sector']").get("name")


def test_the_workspace_speaks_qgis_in_the_users_language_and_follows_a_change(tmp_path):
    from layers.i18n import using
    from layers.workspace import Workspace

    path = tmp_path / "w.gpkg"
    with using("en"):
        Workspace.create(path).close()
    assert _sector_alias(path) == layer_kinds()["worksites"].field("sector").en
    with using("lv"):
        with Workspace.open(path) as ws:
            assert ws.metadata["qgis_language"] == "lv"
    assert _sector_alias(path) == layer_kinds()["worksites"].field("sector").lv == "Nozare"


def test_opening_never_waits_for_another_writer_to_restyle(tmp_path):
    """The restyling on open is upkeep: when another program holds the write lock, the open goes on."""
    from layers.i18n import using
    from layers.workspace import Workspace

    path = tmp_path / "w.gpkg"
    with using("en"):
        writer = Workspace.create(path)
        writer.claim()
    try:
        with using("lv"):
            with Workspace.open(path) as reader:
                assert reader.metadata["qgis_language"] == "en"  # left for the next open
                assert not reader.read_only
    finally:
        writer.close()
    with using("lv"):
        Workspace.open(path).close()
    assert _sector_alias(path) == "Nozare"
