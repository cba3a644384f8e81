"""Campaigns on the map: one diamond per location with the campaign's name, dates and audiences, kept in step with
the workspace by the session (opened, edited, undone)."""
from audit import campaigns as C
from mapping.campaign_map import LAYER, NAME, campaign_overlay
from mapping.features import style


def _add(session, name="Bus station", places=((24.9414, 60.1713),)):
    ws = session.workspace
    session.do(C.add_campaign(ws, {"name": name, "starts": "2025-04-01", "ends": "2025-04-30",
                                   "audiences": ["taxi_drivers", "hotel_staff"]},
                              [C.location_values(ws, lon=lon, lat=lat, source="map") for lon, lat in places]))


def test_no_campaign_no_overlay(session):
    assert campaign_overlay(session.workspace) is None
    assert NAME not in session.overlays


def test_each_location_is_a_diamond_with_the_campaigns_name_dates_and_audiences(session):
    _add(session, places=((24.9414, 60.1713), (24.945, 60.168)))
    overlay = campaign_overlay(session.workspace)
    layer = overlay.layers[0]
    assert layer.id == LAYER and layer.style == style("campaign_location") and layer.style["shape"] == "diamond"
    features = layer.geojson["features"]
    assert len(features) == 2
    tip = features[0]["properties"]["tip"]
    assert tip.splitlines()[0].startswith("Bus station")
    assert "2025-04-01 – 2025-04-30" in tip and "Taxi drivers, Hotel staff" in tip
    assert features[0]["geometry"]["coordinates"] == [24.9414, 60.1713]
    assert {f["properties"]["campaign_id"] for f in features} == {1}


def test_the_overlay_follows_edits_undo_and_a_new_workspace(session, tmp_path):
    from mapping.campaign_map import CampaignOverlay

    follower = CampaignOverlay(session)
    _add(session)
    assert len(session.overlays[NAME].layers[0].geojson["features"]) == 1
    _add(session, "Library week", ((24.95, 60.17), (24.951, 60.171)))
    assert len(session.overlays[NAME].layers[0].geojson["features"]) == 3
    session.undo()
    assert len(session.overlays[NAME].layers[0].geojson["features"]) == 1
    session.undo()
    assert NAME not in session.overlays
    session.redo()
    path = session.workspace.path
    session.close()
    session.open(path)  # opened again: drawn from the file
    assert len(session.overlays[NAME].layers[0].geojson["features"]) == 1
    assert follower.session is session
