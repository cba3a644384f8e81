import json
import re

import geopandas as gpd
import pytest
import shapely

from layers.workspace import Workspace
from mapping.assets import map_assets
from mapping.compose import (
    OSM_TILES_URL,
    MapOptions,
    layer_from_frame,
    render,
    tip_text,
    workspace_layers,
)
from layers.catalogue import kind

URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
BODIES = re.compile(r"(<script[^>]*>).*?(</script>)|(<style[^>]*>).*?(</style>)", re.S)


def markup(html: str) -> str:
    """The page without the bodies of inline scripts and styles (library code mentions URLs in strings)."""
    return BODIES.sub(lambda m: "".join(g or "" for g in m.groups()), html)


@pytest.fixture
def demo_layers(demo_file):
    with Workspace.open(demo_file) as ws:
        return workspace_layers(ws), ws.bounds()


def test_every_asset_is_an_installed_file():
    assets = map_assets()
    assert {a.name for a in assets} >= {"leaflet", "leaflet_css", "lantern"}
    for a in assets:
        assert a.path.is_file(), a.path


def test_app_map_loads_only_local_files(demo_layers):
    layers, bounds = demo_layers
    html = render(layers, MapOptions(bounds=bounds, app_bridge=True))
    urls = URL.findall(html)
    assert urls, "the page links its assets"
    assert all(u.startswith(("file://", "qrc:")) for u in urls), urls
    assert "http://" not in html and "https://" not in html


def test_inline_map_is_self_contained(demo_layers):
    layers, bounds = demo_layers
    html = render(layers, MapOptions(bounds=bounds, assets="inline"))
    assert URL.findall(markup(html)) == []
    assert "http://" not in markup(html) and "https://" not in markup(html)
    assert "window.lantern" in html and "Leaflet" in html
    assert "qwebchannel" not in html


def test_online_basemap_only_when_asked(demo_layers):
    layers, bounds = demo_layers
    assert OSM_TILES_URL not in render(layers, MapOptions(bounds=bounds))
    on = render(layers, MapOptions(bounds=bounds, basemap=True))
    assert json.dumps(OSM_TILES_URL)[1:-1] in on.replace("\\/", "/")
    assert "OpenStreetMap contributors" in on


def test_layers_carry_fid_and_a_text_tip_only(demo_layers, demo_file):
    from layers.workspace import Workspace

    layers, _ = demo_layers
    cases = next(lyr for lyr in layers if lyr.id == "reported_cases")
    with Workspace.open(demo_file) as ws:
        assert len(cases.geojson["features"]) == ws.count("reported_cases") > 0
    for feature in cases.geojson["features"]:
        assert set(feature["properties"]) == {"fid", "tip"}
        assert feature["properties"]["tip"].startswith("Reported case")
    assert cases.synthetic and cases.definition()["synthetic"]


def test_hostile_names_cannot_break_out_of_the_script():
    frame = gpd.GeoDataFrame(
        {"name": ["</script><script>alert(1)</script>"], "category": ["clinic"], "description": [None]},
        geometry=[shapely.Point(24.1, 56.9)], crs=4326,
    )
    html = render([layer_from_frame("places_of_concern", frame)])
    assert "<script>alert(1)" not in html
    assert "alert(1)" in html  # still there, as inert escaped text


def test_tip_text_uses_labels():
    k = kind("places_of_concern")
    assert tip_text(k, {"name": "Station square", "category": "transport_hub"}).startswith("Station square · Transport hub")
    cases = kind("reported_cases")
    assert tip_text(cases, {"reported": "2025-03", "forms": '["labour"]'}) == (
        "Reported case · 2025-03 · Labour exploitation / forced labour"
    )
