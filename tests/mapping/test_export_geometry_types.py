"""Every export GeoPackage holds one geometry type per table, as the workspace does (layers.place_outline).

The demo's transport hubs and worksites mix places mapped as points and as areas; QGIS would split
such a table in two. Each profile's GeoPackage must store them as positions (POINT) plus the areas'
outlines, pass GDAL's validator, and a partner package must still import exactly what was signed.
"""
import shutil
import sqlite3
import subprocess

import pytest
import shapely

from layers import gpkg_geometry
from layers.workspace import Workspace
from mapping.share_export import export

VALIDATOR = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"


def _types_by_table(path) -> dict[str, set[int]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM gpkg_geometry_columns")]
        out = {}
        for t in tables:
            blobs = [r[0] for r in conn.execute(f'SELECT geom FROM "{t}" WHERE geom IS NOT NULL')]
            out[t] = set(shapely.get_type_id(gpkg_geometry.decode(blobs)).tolist()) if blobs else set()
    return out


def _mixed(types: dict[str, set[int]]) -> list[str]:
    """Tables holding points and areas together (Polygon and MultiPolygon are one kind for QGIS)."""
    kind = {0: "point", 4: "point", 1: "line", 5: "line", 3: "area", 6: "area"}
    return sorted(t for t, ids in types.items() if len({kind.get(i, i) for i in ids}) > 1)


@pytest.mark.parametrize("profile", ["public", "partner", "police"])
def test_each_profile_writes_one_geometry_type_per_table(demo_file, tmp_path, profile):
    path = tmp_path / "demo.gpkg"
    shutil.copy(demo_file, path)
    with Workspace.open(path) as ws:
        mixed_source = [k for k in ("transport_hubs", "worksites")
                        if len(set(ws.read_layer(k).geometry.dropna().geom_type)) > 1]
        out = tmp_path / f"{profile}.gpkg"
        export(ws, profile, "gpkg", out, recipient="Test unit", confirm_police=profile == "police")
    assert mixed_source, "the demo no longer mixes points and areas: this test would prove nothing"
    types = _types_by_table(out)
    assert _mixed(types) == []
    copies = [t for t in types if t.endswith("_outlines")]
    assert copies and all(types[t] <= {6} for t in copies)
    validated = subprocess.run(["/usr/bin/python3", VALIDATOR, "--warning-as-error", str(out)],
                               capture_output=True, text=True)
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_the_mixed_check_sees_a_mixed_table():
    """Positive control for ``_mixed``."""
    assert _mixed({"worksites": {0, 6}, "roads": {5}, "areas": {3, 6}}) == ["worksites"]
