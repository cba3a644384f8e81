"""QGIS sees what Lantern sees: the demo workspace opened in QGIS itself (the system's python3-qgis).

tests/qgis/open_in_qgis.py opens every layer as QGIS's browser does and reports what QGIS shows; this
test compares it with Lantern's own view of the file: one QGIS layer per registered table (none split
in two), every feature, the catalogue colours, a value list of exactly the catalogue values on every
choice field, aliases in the language asked. The same checks on the demo without Lantern's style and
schema tables find unstyled layers and free-text choice fields (the positive control).
"""
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from layers.catalogue import layer_kinds
from layers.place_outline import VIEW_SUFFIX
from layers.qgis_styles import AREA_FILL_OPACITY, NULL_LABEL, NULL_VALUE, TABLE
from tests.layers.test_data_columns import strip

ROOT = Path(__file__).resolve().parents[2]
QGIS_PYTHON = "/usr/bin/python3"
SCRIPT = ROOT / "tests" / "qgis" / "open_in_qgis.py"


def _qgis_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def qgis_report(path: Path) -> dict:
    """What QGIS shows of the file (tests/qgis/open_in_qgis.py, run by the system Python)."""
    probe = subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True, env=_qgis_env())
    if probe.returncode != 0:
        pytest.fail("QGIS's Python bindings are missing for /usr/bin/python3: install the Debian packages "
                    f"'qgis python3-qgis' (CI installs them).\n{probe.stderr[-1000:]}")
    result = subprocess.run([QGIS_PYTHON, str(SCRIPT), str(path)], capture_output=True, text=True, env=_qgis_env(),
                            timeout=600)
    assert result.returncode == 0, f"open_in_qgis.py failed ({result.returncode}):\n{result.stderr[-3000:]}"
    return json.loads(result.stdout)


def _lantern_view(path: Path) -> tuple[dict, dict]:
    """(registered table → row count, spatial table → declared geometry type) as Lantern sees the file.
    ``layer_styles`` is not a layer: QGIS lists it as a system table, not in its browser."""
    conn = sqlite3.connect(path)
    try:
        tables = [t for (t,) in conn.execute("SELECT table_name FROM gpkg_contents") if t != TABLE]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        geometry = dict(conn.execute("SELECT table_name, upper(geometry_type_name) FROM gpkg_geometry_columns"))
    finally:
        conn.close()
    return counts, geometry


def _rgb(hex_color: str) -> str:
    h = hex_color.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4))


def _expected_symbol(table: str, gtype: str) -> dict | None:
    """The colours QGIS should show for a layer: the catalogue style (outline views: the kind's area)."""
    kinds = layer_kinds()
    k = kinds.get(table) or kinds.get(table.removesuffix(VIEW_SUFFIX))
    if k is None:
        return None
    s = k.style
    if "POINT" in gtype:
        return {"type": "marker", "color": s.fill_color, "opacity": s.fill_opacity, "outline": _rgb(s.color)}
    if "LINESTRING" in gtype:
        return {"type": "line", "color": s.color, "opacity": 1.0, "outline": _rgb(s.color)}
    opacity = s.fill_opacity if table in kinds else AREA_FILL_OPACITY
    return {"type": "fill", "color": s.fill_color, "opacity": opacity, "outline": _rgb(s.color)}


def _symbol_problems(name: str, renderer: dict | None, expected: dict) -> list[str]:
    if renderer is None or renderer["type"] not in ("singleSymbol", "categorizedSymbol", "RuleRenderer"):
        return [f"{name}: renderer {renderer and renderer['type']} (not styled by Lantern)"]
    k = layer_kinds().get(name)
    if renderer["type"] == "RuleRenderer":  # a table still declared GEOMETRY: a rule per geometry type
        got = {s["type"]: s["color"] for s in renderer["symbols"]}
        wanted = {"marker": k.style.fill_color, "fill": k.style.fill_color}
        return [] if got == wanted else [f"{name}: rule symbols {got} != {wanted}"]
    if renderer["type"] == "categorizedSymbol":  # classes: each in its colour, the rest in the base style
        wanted = {v: o.get("color", k.style.color) for v, o in k.style.classes.items()} | {"": k.style.color}
        got = {c["value"]: c["symbol"]["color"] for c in renderer["categories"]}
        return [] if got == wanted else [f"{name}: categories {got} != {wanted}"]
    symbol = renderer["symbols"][0]
    outline = (symbol["layers"][0].get("outline_color") or symbol["layers"][0].get("line_color") or "")
    got = {"type": symbol["type"], "color": symbol["color"], "opacity": round(symbol["opacity"], 2),
           "outline": outline.rsplit(",", 1)[0]}
    want = {**expected, "opacity": round(expected["opacity"], 2)}
    return [] if got == want else [f"{name}: symbol {got} != {want}"]


def _field_problems(name: str, layer: dict, language: str) -> list[str]:
    kinds = layer_kinds()
    k = kinds.get(name) or kinds.get(name.removesuffix(VIEW_SUFFIX))
    if k is None:
        return []
    fields = {f["name"]: f for f in layer["fields"]}
    problems = []
    for f in k.fields:
        got = fields.get(f.name)
        if got is None:
            problems.append(f"{name}.{f.name}: missing in QGIS")
            continue
        if got["alias"] != getattr(f, language):
            problems.append(f"{name}.{f.name}: alias {got['alias']!r}")
        if f.type == "enum":
            empty = [] if f.required else [{NULL_LABEL: NULL_VALUE}]  # an optional field may stay empty
            wanted = empty + [{getattr(c, language): c.id} for c in f.choices]
            if got["widget"] != "ValueMap" or got["config"].get("map") != wanted:
                problems.append(f"{name}.{f.name}: {got['widget'] or 'no widget'} instead of a ValueMap of the "
                                "catalogue values")
    return problems


def problems(path: Path, report: dict, language: str) -> list[str]:
    """Everything QGIS shows differently from what Lantern holds (empty when QGIS sees what Lantern sees)."""
    counts, geometry = _lantern_view(path)
    found = []
    names = [s["name"] for s in report["sublayers"]]
    split = sorted({n for n in names if names.count(n) > 1})
    if split:
        found.append(f"tables split into several QGIS layers: {split}")
    if sorted(set(names)) != sorted(counts):
        found.append(f"QGIS layers {sorted(set(names))} != registered tables {sorted(counts)}")
    for layer in report["layers"]:
        name = layer["name"]
        if not layer["valid"]:
            found.append(f"{name}: not valid in QGIS")
        if not split and counts.get(name) != layer["feature_count"]:
            found.append(f"{name}: QGIS counts {layer['feature_count']} features, the table holds {counts.get(name)}")
        expected = _expected_symbol(name, geometry.get(name, ""))
        if expected is not None:
            found += _symbol_problems(name, layer["renderer"], expected)
            found += _field_problems(name, layer, language)
    return found


@pytest.fixture
def demo_for_qgis(demo_copy):
    """The demo as Lantern writes it for a Latvian user: opening it in Latvian rewrites QGIS's metadata."""
    from layers.i18n import using
    from layers.workspace import Workspace

    with using("lv"):
        Workspace.open(demo_copy).close()
    return demo_copy


def test_qgis_shows_a_partner_export_styled_and_unsplit(demo_copy, tmp_path):
    """What leaves for a partner reads as well in QGIS: one layer per table, styled, value lists in Latvian."""
    from layers.workspace import Workspace
    from mapping.share_export import export

    out = tmp_path / "partner.gpkg"
    with Workspace.open(demo_copy) as ws:
        export(ws, "partner", "gpkg", out, lang="lv")
    report = qgis_report(out)
    names = [s["name"] for s in report["sublayers"]]
    assert len(names) == len(set(names)), names  # none split in two
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert all(layer["valid"] for layer in layers.values())
    assert layers["worksites"]["db_styles"][:1] == ["Lantern"]
    assert "worksites_outlines" in layers  # the areas, beside the positions


def test_qgis_shows_the_workspace_styled_with_value_lists_in_latvian(demo_for_qgis):
    report = qgis_report(demo_for_qgis)
    assert problems(demo_for_qgis, report, "lv") == []
    layers = {layer["name"]: layer for layer in report["layers"]}
    assert set(layer_kinds()) <= set(layers)
    assert all(layers[k]["db_styles"][:1] == ["Lantern"] for k in layer_kinds())
    cases = {f["name"]: f for f in layers["reported_cases"]["fields"]}
    assert cases["sex"]["alias"] == "Dzimums" and {"Nav zināms": "unknown"} in cases["sex"]["config"]["map"]
    assert cases["fid"]["widget"] == "Hidden" and cases["referral_made"]["widget"] == "CheckBox"


def test_the_checks_see_an_unstyled_workspace(demo_copy):
    """Positive control: without Lantern's styles and schema tables QGIS shows default symbols and free text."""
    strip(demo_copy)
    report = qgis_report(demo_copy)
    found = problems(demo_copy, report, "lv")
    kinds = layer_kinds()
    unstyled = {p.split(":")[0] for p in found if "symbol" in p or "not styled" in p or "categories" in p}
    assert set(kinds) <= unstyled
    no_list = {p.split(":")[0] for p in found if "instead of a ValueMap" in p}
    assert {f"{k.id}.{f.name}" for k in kinds.values() for f in k.fields if f.type == "enum"} <= no_list
    assert any(p.endswith("alias ''") for p in found)
