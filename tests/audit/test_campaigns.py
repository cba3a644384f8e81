"""Campaigns: the audience catalogue in the guidelines' words, and every change as one undoable, logged step."""
import json
import re
from pathlib import Path

import pytest

from audit import campaigns as C
from audit.assessment import plan_campaigns
from audit.catalogue import risk_groups
from audit.check import check_workspace
from audit.commands import History
from layers.errors import InputError
from layers.resources import resource
from tests.audit.campaign_district import CAMPAIGN, FAR, SITE
from tests.audit.test_glossary import _glossary, avoided_terms

#: the guidelines' text where it is at hand (as make glossary-check finds it); the test is skipped elsewhere
SEED = Path(__file__).resolve().parents[1] / "fixtures" / "guidelines-lv.txt"  # the seed guidelines, verbatim


# -- the catalogue ----------------------------------------------------------------------------------


def test_audiences_are_the_guidelines_groups_and_every_risk_group():
    every = C.audiences()
    ids = [a["id"] for a in every]
    assert len(ids) == len(set(ids))
    assert {g["id"] for g in risk_groups()} <= {a["id"] for a in every if a["category"] == "risk_group"}
    professional = {a["id"] for a in every if a["category"] == "professional"}
    assert {"taxi_drivers", "hotel_staff", "bar_restaurant_staff", "librarians", "unions", "school_staff",
            "health_workers"} <= professional
    assert {"employers"} <= {a["id"] for a in every if a["category"] == "business"}
    categories = [a["category"] for a in every]
    assert categories == sorted(categories, key=[c["id"] for c in C.audience_categories()].index)  # grouped
    for entries in (every, C.channels(), C.languages(), C.audience_categories()):
        assert all(e["en"].strip() and e["lv"].strip() for e in entries)
    assert {"lv", "ru", "en", "uk"} <= {x["id"] for x in C.languages()}
    assert {"leaflets", "posters", "social_media", "events", "trainings", "radio_tv"} <= {x["id"] for x in C.channels()}


def test_latvian_labels_use_the_guidelines_own_words():
    catalogue = json.loads(resource("campaign_audiences.json").read_text(encoding="utf-8"))
    assert avoided_terms({"campaign_audiences.json": catalogue}, _glossary()) == []
    seed = SEED.read_text(encoding="utf-8").casefold()
    seed = re.sub(r"\s+", " ", seed)
    labels = {a["id"]: a["lv"] for a in catalogue["audiences"]}
    for audience in ("taxi_drivers", "hotel_staff", "librarians", "interpreters", "procurement_officers",
                     "municipal_police", "unions", "security_guards", "shop_staff", "employment_agency",
                     "migrant_communities", "religious_communities"):
        assert labels[audience].casefold() in seed, audience


# -- commands ---------------------------------------------------------------------------------------


def _state(ws):
    return {t: ws.db.conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall()
            for t in ("campaigns", "campaign_locations")}


@pytest.fixture
def history(workspace):
    return History(workspace, author="Planner")


def _point(ws, lon=SITE[0], lat=SITE[1], name=""):
    return C.location_values(ws, lon=lon, lat=lat, source="map", name=name)


def test_add_edit_delete_undo_redo_and_the_log_verifies(workspace, history):
    empty = _state(workspace)
    added = history.do(C.add_campaign(workspace, {**CAMPAIGN, "action_items": [1, 3]},
                                      [_point(workspace), _point(workspace, *FAR, name="Market")]))
    after_add = _state(workspace)
    c = C.campaign(workspace, "BUS STATION")  # by name, any case
    assert c.audiences == ["taxi_drivers"] and c.action_items == [1, 3] and len(c.locations) == 2
    assert c.locations[1]["name"] == "Market" and c.reach == {"people_reached": 120, "leaflets": 300, "events": None}
    assert added.label == "Add campaign"
    history.do(C.edit_campaign(workspace, c.id, {"events": 2, "name": "Central station"}, [_point(workspace)]))
    after_edit = _state(workspace)
    edited = C.campaign(workspace, c.id)
    assert edited.name == "Central station" and edited.events == 2 and len(edited.locations) == 1
    history.do(C.delete_campaign(workspace, c.id))
    assert C.campaigns(workspace) == []
    history.undo()
    assert _state(workspace) == after_edit  # the same ids come back
    history.undo()
    assert _state(workspace) == after_add
    history.undo()
    assert _state(workspace) == empty
    history.redo()
    history.redo()
    assert _state(workspace) == after_edit
    log = workspace.db.conn.execute("SELECT action, table_name FROM change_log WHERE table_name LIKE 'campaign%'"
                                    " ORDER BY id").fetchall()
    assert ("insert", "campaigns") in log and ("undo delete", "campaigns") in log
    assert ("delete", "campaign_locations") in log
    result = check_workspace(workspace.path)
    assert result.ok, result.problems


def test_an_unchanged_edit_is_no_step(workspace, history):
    history.do(C.add_campaign(workspace, CAMPAIGN, [_point(workspace)]))
    c = C.campaign(workspace, 1)
    assert C.edit_campaign(workspace, 1, {"name": c.name, "people_reached": 120}, c.locations) is None


@pytest.mark.parametrize("change, message", [
    ({"ends": "2025-03-01"}, "ends before it starts"),
    ({"audiences": ["astronauts"]}, "unknown astronauts"),
    ({"languages": "lv,xx"}, "unknown xx"),
    ({"action_items": [999]}, "no item 999"),
    ({"people_reached": -3}, "must not be negative"),
    ({"starts": "1.4.2025"}, "YYYY-MM-DD"),
    ({"catchment": {"type": "Point", "coordinates": [24, 56]}}, "not a GeoJSON polygon"),
    ({"name": " "}, "needs a name"),
    ({"colour": "red"}, "no field colour"),
])
def test_bad_values_are_refused_and_nothing_changes(workspace, history, change, message):
    before = _state(workspace)
    with pytest.raises(ValueError, match=message):
        history.do(C.add_campaign(workspace, {**CAMPAIGN, **change}))
    assert _state(workspace) == before


def test_two_campaigns_may_not_share_a_name(workspace, history):
    history.do(C.add_campaign(workspace, CAMPAIGN))
    with pytest.raises(ValueError, match="already a campaign"):
        C.add_campaign(workspace, {**CAMPAIGN, "name": "bus STATION"})


def test_locations_from_places_and_the_map_are_checked(demo_copy):
    from layers.workspace import Workspace

    with Workspace.open(demo_copy) as ws:
        place = C.location_at_place(ws, "transport_hubs", 1)
        assert place["source"] == "place" and place["place_table"] == "transport_hubs" and place["name"]
        with pytest.raises(ValueError, match="has no row"):
            C.location_at_place(ws, "transport_hubs", 99999)
        with pytest.raises(ValueError, match="cannot hold a campaign location"):
            C.location_values(ws, lon=24.9, lat=60.1, source="place", place_table="reported_cases", place_fid=1)
        with pytest.raises(ValueError, match="longitude and latitude"):
            C.location_values(ws, lon=240, lat=60.1, source="map")


def test_the_sites_of_an_outreach_plan_become_locations(demo_copy):
    from layers.workspace import Workspace
    from mapping.outreach import OutreachParams, plan_outreach

    with Workspace.open(demo_copy) as ws:
        plan = plan_outreach(ws, OutreachParams(k=3))
        found = C.locations_from_plan(ws, plan)
        assert [f["name"] for f in found] == list(plan.sites["name"])
        assert {f["source"] for f in found} == {"outreach"}
        for f, point in zip(found, plan.sites.geometry):
            assert (f["lon"], f["lat"]) == pytest.approx((point.x, point.y))
            if f["place_table"]:
                assert C.campaign_store.feature_name(ws.db.conn, f["place_table"], f["place_fid"]) == f["name"]


def test_the_action_plan_knows_which_campaigns_serve_each_item(workspace, history):
    history.do(C.add_campaign(workspace, {**CAMPAIGN, "action_items": [2, 5]}))
    history.do(C.add_campaign(workspace, {**CAMPAIGN, "name": "Library week", "action_items": [5]}))
    assert plan_campaigns(workspace) == {2: ["Bus station"], 5: ["Bus station", "Library week"]}


def test_a_campaign_file_is_one_step_or_nothing(workspace, history, tmp_path):
    good = tmp_path / "campaigns.json"
    good.write_text(json.dumps([{**CAMPAIGN, "locations": [{"lon": SITE[0], "lat": SITE[1], "name": "Stop"}]},
                                {**CAMPAIGN, "name": "Library week"}]), encoding="utf-8")
    step = history.do(C.import_campaigns(workspace, good))
    assert [c.name for c in C.campaigns(workspace)] == ["Bus station", "Library week"]
    history.undo()
    assert C.campaigns(workspace) == [] and step.label == "Add campaign"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**CAMPAIGN, "name": "Fine"}, {**CAMPAIGN, "name": "Broken", "ends": "2020-01-01"}]),
                   encoding="utf-8")
    before = _state(workspace)
    with pytest.raises(InputError, match="campaign 2: the campaign ends before it starts"):
        history.do(C.import_campaigns(workspace, bad))
    assert _state(workspace) == before
