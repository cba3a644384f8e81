"""What a GIS program shows of a partner package is what was signed.

The signature covers the manifest, and the manifest the hash of every layer Lantern reads. But a
recipient may open the same file in QGIS, which shows every table registered in it, the outline
copies (``<layer>_outlines``, layers.place_outline), the default styles (``layer_styles``) and the value
lists (``gpkg_data_columns``). So a package is accepted only when it holds nothing else than the
signed layers and what Lantern itself writes beside them (an allow-list of tables), its outline copies
are exactly the signed layers' areas, and its styles and value lists are exactly what Lantern writes for
those layers in one of its languages.
"""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from layers import place_outline
from layers.i18n import SUPPORTED, _

MANIFEST_TABLE = "lantern_manifest"
#: what Lantern writes for QGIS, compared with what it would write (columns that do not vary between writes)
QGIS_TABLES = {
    "layer_styles": ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                     "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui"),
    "gpkg_data_columns": ("table_name", "column_name", "name", "title", "description", "mime_type",
                          "constraint_name"),
    "gpkg_data_column_constraints": ("constraint_name", "constraint_type", "value", "min", "min_is_inclusive",
                                     "max", "max_is_inclusive", "description"),
}
_SYSTEM = ("gpkg_", "sqlite_")


def _allowed(layers) -> set[str]:
    names = set(layers) | {place_outline.outline_table(n) for n in layers}
    return names | {MANIFEST_TABLE, *QGIS_TABLES} | {f"rtree_{n}_geom" for n in names}


def unexpected_tables(conn: sqlite3.Connection, layers) -> list[str]:
    """Tables and views of the file that are neither a signed layer nor what Lantern writes beside them."""
    allowed = _allowed(layers)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
    return sorted(n for n in names if not n.startswith(_SYSTEM) and n not in allowed
                  and not any(n.startswith(f"{r}_") for r in allowed if r.startswith("rtree_")))


def outline_copy_matches(path: Path, name: str, frame, fid_index: bool) -> bool:
    """Whether the file's ``<name>_outlines`` holds exactly the areas of the signed layer ``frame`` (joined,
    as Lantern reads it): the same rows, attributes and geometries, or no table when it has no areas."""
    import pyogrio

    from layers.packages import layer_hash

    _stored, expected = place_outline.split_frame(frame) if "geometry" in frame.columns else (frame, None)
    table = place_outline.outline_table(name)
    present = table in {row[0] for row in pyogrio.list_layers(path)}
    if expected is None or not present:
        return expected is None and not present
    copy = pyogrio.read_dataframe(path, layer=table, fid_as_index=fid_index)
    if fid_index:
        copy.index.name = frame.index.name
    return layer_hash(copy) == layer_hash(expected)


def _rows(conn: sqlite3.Connection) -> dict[str, list]:
    out = {}
    for table, columns in QGIS_TABLES.items():
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone():
            cols = ", ".join(f'"{c}"' for c in columns)
            out[table] = sorted(map(repr, conn.execute(f'SELECT {cols} FROM "{table}"')))
    return out


def qgis_metadata_matches(path: Path) -> bool:
    """Whether the file's styles and value lists are exactly what Lantern writes for its layers in one of its
    languages (none at all is also fine: QGIS then shows its defaults, nothing forged)."""
    from layers import qgis_styles

    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        held = _rows(conn)
        foreign = "layer_styles" in held and conn.execute(
            "SELECT count(*) FROM layer_styles WHERE styleName IS NOT ?", (qgis_styles.STYLE_NAME,)).fetchone()[0]
    finally:
        conn.close()
    if not held:
        return True
    if foreign:
        return False  # a style Lantern did not write (QGIS might open the layer with it)
    with tempfile.TemporaryDirectory() as folder:
        for language in SUPPORTED:
            copy = Path(folder) / f"{language}.gpkg"
            shutil.copyfile(path, copy)
            qgis_styles.style_file(copy, language)
            again = sqlite3.connect(copy)
            try:
                if _rows(again) == held:
                    return True
            finally:
                again.close()
    return False


def problems(path: Path, manifest: dict, frames: dict) -> list[str]:
    """Why what QGIS would show of the package differs from what was signed (empty: nothing)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        extra = unexpected_tables(conn, manifest["layers"])
    finally:
        conn.close()
    found = []
    if extra:
        found.append(_("it holds tables that were not signed ({t})").format(t=", ".join(extra[:5])))
    for name, info in manifest["layers"].items():
        if not outline_copy_matches(path, name, frames[name], info["form"] == "features"):
            found.append(_("the areas of layer {name} that GIS programs show differ from the signed layer")
                         .format(name=name))
    if not qgis_metadata_matches(path):
        found.append(_("its styles or value lists for GIS programs were altered"))
    return found
