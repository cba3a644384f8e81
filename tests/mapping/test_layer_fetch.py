"""The app's page fetches features (lantern://layer/<id>); exports embed them; stubs define layers without them."""
from __future__ import annotations

import json

from layers.workspace import Workspace
from mapping.assets import map_assets
from mapping.compose import MapOptions, layer_from_frame, layer_stub, layer_url, render, workspace_layers


def test_app_page_holds_definitions_only(demo_file):
    with Workspace.open(demo_file) as ws:
        layers, bounds = workspace_layers(ws), ws.bounds()
    fetched = render(layers, MapOptions(bounds=bounds, app_bridge=True, fetch_layers=True))
    embedded = render(layers, MapOptions(bounds=bounds, assets="inline"))
    assert '"Feature"' not in fetched and '"Feature"' in embedded
    for layer in layers:
        assert json.dumps(layer_url(layer.id)) in fetched
    assert json.dumps(layer_url("reported_cases")) not in embedded  # an export stays one self-contained file
    assert len(fetched) < len(embedded) / 5


def test_stubs_render_without_building_features(demo_file):
    stubs = [layer_stub("reported_cases", synthetic=True), layer_stub("worksites", visible=False)]
    html = render(stubs, MapOptions(fetch_layers=True))
    assert "lantern://layer/reported_cases" in html and "lantern://layer/worksites" in html


def test_stub_defines_the_layer_as_the_built_one(demo_file):
    with Workspace.open(demo_file) as ws:
        for kind_id in ("reported_cases", "basemap_roads", "risk_group_estimates", "places_of_concern"):
            built = layer_from_frame(kind_id, ws.read_layer(kind_id), visible=False, synthetic=True)
            stub = layer_stub(kind_id, visible=False, synthetic=True)
            assert stub.geojson is None and stub.definition() == built.definition()


def test_point_features_as_before(demo_file):
    import shapely

    with Workspace.open(demo_file) as ws:
        frame = ws.read_layer("reported_cases")
    layer = layer_from_frame("reported_cases", frame)
    first = layer.geojson["features"][0]
    geom = frame.geometry.iloc[0]
    assert first["geometry"] == json.loads(shapely.to_geojson(geom))
    assert first["properties"]["fid"] == int(frame.index[0])


def test_layer_urls_are_escaped_and_versioned():
    assert layer_url("reported_cases") == "lantern://layer/reported_cases"
    assert layer_url("partner a/b", 3) == "lantern://layer/partner%20a%2Fb?v=3"


def test_marker_clustering_is_a_local_asset():
    names = {a.name: a for a in map_assets()}
    assert names["markercluster"].path.is_file() and names["markercluster_css"].path.is_file()
    assert names["markercluster"].uri().startswith("file://")
    order = [a.name for a in map_assets()]
    assert order.index("leaflet") < order.index("markercluster") < order.index("lantern")
