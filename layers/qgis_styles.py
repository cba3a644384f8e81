"""QGIS styles of a workspace's layers: one QML document per layer, kept in the GeoPackage.

QGIS reads a GeoPackage layer's default style from the table ``layer_styles`` (QGIS's own schema: it
makes the same table when a user saves a style "in the database"). Lantern writes one row per layer,
named ``Lantern`` and used as the default, built from the same catalogue style the app's map draws
(``data/layer_kinds.json``; partner layers from the partner styles of ``data/styles.json``):

- the symbol: a marker of the kind's shape, colour and size for points, a line of its colour, width
  and dash, a fill of its fill colour and opacity with its outline colour for areas; a categorized
  renderer when the style classifies on a field (``classify`` + ``classes``); a table still declared
  GEOMETRY (points and areas, which QGIS opens as two layers) gets one rule per geometry type;
- the fields: aliases in the language asked, a value list (ValueMap) for choice fields, a check box
  for yes/no fields, a date editor for dates and months; the fid (and a place's stored outline) hidden.

The QML carries no ``layerGeometryType``: QGIS refuses a style whose geometry type differs from the
layer's, and the two layers QGIS makes of a GEOMETRY table share one style.
"""
from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

from layers.catalogue import EXTRA_COLUMN, Field, LayerKind, Style, layer_kinds
from layers.history_store import partner_tables
from layers.i18n import SUPPORTED, _, using
from layers.migrations import STYLES_TABLE, register_attributes_table
from layers.place_outline import OUTLINE_COLUMN, VIEW_SUFFIX
from layers.resources import load_json

TABLE = STYLES_TABLE
STYLE_NAME = "Lantern"
QGIS_VERSION = "3.22.0"  # the oldest QGIS this QML was checked with (Debian 12's)
HIDDEN_COLUMNS = ("fid", OUTLINE_COLUMN)  # the key, and a place's outline blob (its view shows it)
#: how the app draws the area of a place (lantern_map.js ``areaStyle``): the kind's colours, lighter
AREA_FILL_OPACITY = 0.18
AREA_WEIGHT = 1
#: QGIS's own schema of the table (QgsOgrProviderMetadata::saveStyle), as GDAL creates it
_SCHEMA = (
    f'CREATE TABLE IF NOT EXISTS "{TABLE}" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,'
    ' "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256),'
    ' "f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT,'
    ' "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30),'
    " \"update_time\" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
)
#: how a ValueMap offers "no value" (QgsValueMapFieldFormatter::NULL_VALUE, shown as QGIS shows it)
NULL_VALUE = "{2839923C-8B7D-419E-B84B-CA2FE9B80EC7}"
NULL_LABEL = "<NULL>"
_SHAPES = {"circle": "circle", "square": "square", "diamond": "diamond", "triangle": "triangle"}


@dataclass(frozen=True)
class StyledLayer:
    """A spatial table (or view) to style: its geometry column and declared type, and where its style comes from."""

    table: str
    geometry_column: str
    geometry_type: str  # as declared in gpkg_geometry_columns, upper case
    kind: LayerKind | None  # None: a partner layer
    outlines: bool = False  # the view of a place kind's areas

    @property
    def read_only(self) -> bool:
        return self.kind is None or self.outlines


# -- which layers --------------------------------------------------------------------------------------


def styled_layers(conn: sqlite3.Connection) -> list[StyledLayer]:
    """Every catalogue layer, outline view and partner layer of the file, in gpkg_geometry_columns' order."""
    kinds = layer_kinds()
    partners = partner_tables(conn)
    rows = conn.execute("SELECT table_name, column_name, upper(geometry_type_name) FROM gpkg_geometry_columns"
                        " ORDER BY rowid").fetchall()
    out = []
    for table, column, gtype in rows:
        base = table[: -len(VIEW_SUFFIX)] if table.endswith(VIEW_SUFFIX) else None
        if table in kinds:
            out.append(StyledLayer(table, column, gtype, kinds[table]))
        elif base in kinds:
            out.append(StyledLayer(table, column, gtype, kinds[base], outlines=True))
        elif table in partners:
            out.append(StyledLayer(table, column, gtype, None))
    return out


def table_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """A table's (or view's) columns in their order."""
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


# -- symbols -------------------------------------------------------------------------------------------


def qgis_color(hex_color: str, opacity: float = 1.0) -> str:
    """``#rrggbb`` and an opacity as QGIS writes a colour: ``r,g,b,a``."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(max(0.0, min(1.0, opacity)) * 255)}"


def _dash(dash: str | None) -> dict:
    if not dash or dash == "none":
        return {"use_custom_dash": "0"}
    return {"use_custom_dash": "1", "customdash": ";".join(dash.replace(",", " ").split()),
            "customdash_unit": "Pixel"}


def _layer(parent: ET.Element, cls: str, props: dict) -> None:
    """A symbol layer, its properties written both ways QGIS reads them (``Option`` map, legacy ``prop``)."""
    el = ET.SubElement(parent, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    _option(el, props)
    for k, v in props.items():
        ET.SubElement(el, "prop", {"k": k, "v": str(v)})


def marker_symbol(style: Style) -> tuple[str, list]:
    return "marker", [("SimpleMarker", {
        "name": _SHAPES.get(style.shape, "circle"), "color": qgis_color(style.fill_color, style.fill_opacity),
        "outline_color": qgis_color(style.color), "outline_style": "solid", "outline_width": str(style.weight),
        "outline_width_unit": "Pixel", "size": str(2 * style.radius), "size_unit": "Pixel",
        "scale_method": "diameter", "joinstyle": "miter"})]


def line_symbol(style: Style, overrides: dict | None = None) -> tuple[str, list]:
    s = {"color": style.color, "weight": style.weight, "dash": style.dash, **(overrides or {})}
    return "line", [("SimpleLine", {
        "line_color": qgis_color(s["color"]), "line_width": str(s["weight"]), "line_width_unit": "Pixel",
        "line_style": "solid", "capstyle": "round", "joinstyle": "round", **_dash(s["dash"])})]


def fill_symbol(style: Style, opacity: float | None = None, weight: float | None = None) -> tuple[str, list]:
    """A fill of the style's fill colour, outlined in its colour (with its dash, as a line layer on top)."""
    opacity = style.fill_opacity if opacity is None else opacity
    weight = style.weight if weight is None else weight
    layers = [("SimpleFill", {"color": qgis_color(style.fill_color, opacity), "style": "solid",
                              "outline_color": qgis_color(style.color), "outline_width": str(weight),
                              "outline_width_unit": "Pixel", "outline_style": "no" if style.dash else "solid",
                              "joinstyle": "miter"})]
    if style.dash:
        layers.append(line_symbol(style, {"weight": weight})[1][0])
    return "fill", layers


def _symbol(parent: ET.Element, name: str, symbol: tuple[str, list]) -> None:
    kind, layers = symbol
    el = ET.SubElement(parent, "symbol", {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1",
                                          "force_rhr": "0"})
    for cls, props in layers:
        _layer(el, cls, props)


def _symbol_for(geometry_type: str, style: Style) -> tuple[str, list]:
    """The symbol of a declared geometry type: a marker, a line or a fill."""
    if "POINT" in geometry_type:
        return marker_symbol(style)
    if "LINESTRING" in geometry_type or geometry_type.endswith("CURVE"):
        return line_symbol(style)
    return fill_symbol(style)


# -- renderers -----------------------------------------------------------------------------------------


def _renderer(parent: ET.Element, kind: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, "renderer-v2", {"type": kind, "symbollevels": "0", "forceraster": "0",
                                                 "enableorderby": "0", **attrs})


def single_renderer(parent: ET.Element, symbol: tuple[str, list]) -> None:
    el = _renderer(parent, "singleSymbol")
    _symbol(ET.SubElement(el, "symbols"), "0", symbol)


def categorized_renderer(parent: ET.Element, attr: str, categories: list[tuple[str, str, tuple]],
                         default: tuple[str, list]) -> None:
    """One category per (value, label, symbol), and every other value in ``default`` (QGIS's empty value)."""
    el = _renderer(parent, "categorizedSymbol", attr=attr)
    cats, syms = ET.SubElement(el, "categories"), ET.SubElement(el, "symbols")
    for i, (value, label, symbol) in enumerate([*categories, ("", "", default)]):
        ET.SubElement(cats, "category", {"value": value, "label": label, "symbol": str(i), "render": "true",
                                         "type": "string"})
        _symbol(syms, str(i), symbol)


def rule_renderer(parent: ET.Element, rules: list[tuple[str, str, tuple]]) -> None:
    """Rules of (filter expression, label, symbol)."""
    el = _renderer(parent, "RuleRenderer")
    root = ET.SubElement(el, "rules", {"key": "{lantern-root}"})
    syms = ET.SubElement(el, "symbols")
    for i, (expression, label, symbol) in enumerate(rules):
        ET.SubElement(root, "rule", {"key": f"{{lantern-rule-{i}}}", "filter": expression, "label": label,
                                     "symbol": str(i)})
        _symbol(syms, str(i), symbol)


def _partner_style(geometry_type: str) -> Style:
    """The neutral style the app draws partner layers in (``mapping.features.partner_layers``)."""
    name = "partner_point" if "POINT" in geometry_type else "partner_area"
    entry = load_json("styles.json")["styles"][name]
    return Style(**{k: v for k, v in entry.items() if k in Style.__dataclass_fields__})


def add_renderer(parent: ET.Element, layer: StyledLayer, language: str) -> None:
    if layer.kind is None:
        single_renderer(parent, _symbol_for(layer.geometry_type, _partner_style(layer.geometry_type)))
        return
    style, gtype = layer.kind.style, layer.geometry_type
    if layer.outlines:
        single_renderer(parent, fill_symbol(style, AREA_FILL_OPACITY, AREA_WEIGHT))
    elif gtype in ("GEOMETRY", "GEOMETRYCOLLECTION"):  # points and areas in one table
        label = _text(layer.kind, language)
        rule_renderer(parent, [("geometry_type($geometry) = 'Point'", label, marker_symbol(style)),
                               ("geometry_type($geometry) = 'Polygon'", label,
                                fill_symbol(style, AREA_FILL_OPACITY, AREA_WEIGHT))])
    elif style.classify and style.classes:
        categorized_renderer(parent, style.classify, [
            (value, value, _symbol_for(gtype, _with(style, over))) for value, over in style.classes.items()],
            _symbol_for(gtype, style))
    else:
        single_renderer(parent, _symbol_for(gtype, style))


def _with(style: Style, overrides: dict) -> Style:
    return replace(style, **{k: v for k, v in overrides.items() if k in Style.__dataclass_fields__})


# -- fields --------------------------------------------------------------------------------------------


def _text(entry: LayerKind | Field, language: str) -> str:
    """A catalogue entry's label in ``language`` (whatever the program's own language)."""
    return getattr(entry, language)


def value_map(f: Field, language: str) -> list[tuple[str, str]]:
    """(label, stored value) of a choice field, in catalogue order; an optional field first offers no value
    (QGIS's NULL entry), else QGIS's form would put the first value into every new feature."""
    empty = [(NULL_LABEL, NULL_VALUE)] if not f.required else []
    return empty + [(getattr(c, language), c.id) for c in f.choices]


def _option(parent: ET.Element, value, name: str | None = None) -> None:
    """A QVariant as QGIS writes it in XML (QgsXmlUtils::writeVariant)."""
    attrs = {"name": name} if name is not None else {}
    if isinstance(value, dict):
        el = ET.SubElement(parent, "Option", {"type": "Map", **attrs})
        for k, v in value.items():
            _option(el, v, k)
    elif isinstance(value, list):
        el = ET.SubElement(parent, "Option", {"type": "List", **attrs})
        for v in value:
            _option(el, v)
    elif isinstance(value, bool):
        ET.SubElement(parent, "Option", {"type": "bool", "value": "true" if value else "false", **attrs})
    elif isinstance(value, int):
        ET.SubElement(parent, "Option", {"type": "int", "value": str(value), **attrs})
    else:
        ET.SubElement(parent, "Option", {"type": "QString", "value": str(value), **attrs})


def editor_widget(f: Field | None, column: str, language: str) -> tuple[str, dict]:
    """QGIS editor widget type and configuration of a column."""
    if column in HIDDEN_COLUMNS:
        return "Hidden", {}
    if f is None:
        return "TextEdit", {"IsMultiline": False, "UseHtml": False}
    if f.type == "enum":
        return "ValueMap", {"map": [{label: value} for label, value in value_map(f, language)]}
    if f.type == "boolean":
        return "CheckBox", {"CheckedState": "", "UncheckedState": "", "TextDisplayMethod": 0}
    if f.type in ("date", "month"):
        fmt = "yyyy-MM-dd" if f.type == "date" else "yyyy-MM"
        return "DateTime", {"allow_null": True, "calendar_popup": True, "display_format": fmt,
                            "field_format": fmt, "field_iso_format": False}
    return "TextEdit", {"IsMultiline": f.name == "description", "UseHtml": False}


def column_alias(k: LayerKind | None, column: str, language: str) -> str | None:
    """The alias QGIS shows for a column: its catalogue label, or a label of Lantern's own columns."""
    if k is None:
        return None
    if column in k.field_names:
        return _text(k.field(column), language)
    if column == EXTRA_COLUMN:
        with using(language):
            return _("Other attributes (JSON)")
    return None


def add_fields(parent: ET.Element, layer: StyledLayer, columns: list[str], language: str) -> None:
    k = layer.kind
    config = ET.SubElement(parent, "fieldConfiguration")
    aliases = ET.SubElement(parent, "aliases")
    for index, column in enumerate(columns):
        if column == layer.geometry_column:
            continue
        f = k.field(column) if k is not None and column in k.field_names else None
        widget, options = editor_widget(f, column, language)
        el = ET.SubElement(ET.SubElement(config, "field", {"name": column, "configurationFlags": "None"}),
                           "editWidget", {"type": widget})
        _option(ET.SubElement(el, "config"), options)
        alias = column_alias(k, column, language)
        ET.SubElement(aliases, "alias", {"field": column, "index": str(index), "name": alias or ""})


# -- the document and the table ------------------------------------------------------------------------


def layer_qml(layer: StyledLayer, columns: list[str], language: str) -> str:
    """The QML of one layer (``columns``: its columns in table order)."""
    if language not in SUPPORTED:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(SUPPORTED)}")
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "LayerConfiguration|Symbology|Fields|Forms",
                               "readOnly": "1" if layer.read_only else "0"})
    add_renderer(root, layer, language)
    add_fields(root, layer, columns, language)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body


def ensure_table(conn: sqlite3.Connection) -> None:
    """``layer_styles`` in QGIS's schema, registered as an attributes table (as QGIS/GDAL register it)."""
    conn.execute(_SCHEMA)
    register_attributes_table(conn, TABLE, "QGIS layer styles")


def write_layer_styles(conn: sqlite3.Connection, language: str) -> int:
    """Replace Lantern's default style of every styled layer (rows named ``Lantern``); returns how many.

    Other styles (a user's, saved from QGIS) stay, and a user's default stays the default. Idempotent; no commit:
    inside the caller's transaction when there is one.
    """
    layers = [(layer, layer_qml(layer, table_columns(conn, layer.table), language)) for layer in styled_layers(conn)]
    ensure_table(conn)
    conn.execute(f'DELETE FROM "{TABLE}" WHERE "styleName" = ?', (STYLE_NAME,))
    users = {tuple(r) for r in conn.execute(
        f'SELECT "f_table_name", "f_geometry_column" FROM "{TABLE}" WHERE "useAsDefault"')}
    conn.executemany(  # the default unless the user chose one of their own styles as the default
        f'INSERT INTO "{TABLE}" ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",'
        ' "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui")'
        " VALUES ('', '', ?, ?, ?, ?, '', ?, ?, '', NULL)",
        [(layer.table, layer.geometry_column, STYLE_NAME, qml, int((layer.table, layer.geometry_column) not in users),
          f"Lantern ({language})") for layer, qml in layers])
    return len(layers)


def style_file(path, language: str) -> None:
    """Write QGIS's styles, aliases and value lists into a GeoPackage Lantern wrote (an export), in one
    transaction. The workspace itself gets them through ``migrations.write_qgis_metadata``."""
    from layers import data_columns

    conn = sqlite3.connect(path)
    try:
        with conn:
            write_layer_styles(conn, language)
            data_columns.write_data_columns(conn, language)
    finally:
        conn.close()
