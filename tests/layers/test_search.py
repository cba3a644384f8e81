"""Find by name or address: case- and diacritic-insensitive, allow-listed fields only."""
from __future__ import annotations

import json

import pytest
import shapely

from layers import search as search_module
from layers.search import fold, like_pattern, search, searchable


def _add(ws, kind_id, rows, points):
    return ws.insert_rows(kind_id, rows, [shapely.Point(p) for p in points])


@pytest.fixture
def named(workspace):
    ws = workspace
    lines = [shapely.MultiLineString([[(24.10, 56.95), (24.12, 56.96)]]),
             shapely.MultiLineString([[(24.12, 56.96), (24.14, 56.97)]]),
             shapely.MultiLineString([[(24.00, 56.90), (24.01, 56.91)]])]
    ws.insert_rows("basemap_roads", [{"name": "Brīvības iela", "class": "primary"},
                                     {"name": "Brīvības iela", "class": "primary"},
                                     {"name": "Ūdens iela", "class": "residential"}], lines)
    _add(ws, "places_of_concern", [{"name": "Bārs Ēnā", "category": "bar",
                                    "osm_tags": json.dumps({"addr:street": "Čaka iela", "addr:housenumber": "7",
                                                            "phone": "+371 2000 1234"})}], [(24.11, 56.955)])
    _add(ws, "shelters", [{"name": "Patvērums Rīga", "service_type": "shelter",
                           "osm_tags": json.dumps({"addr:street": "Slepenā iela", "addr:housenumber": "3"})}],
         [(24.2, 56.9)])
    _add(ws, "reported_cases", [{"reported": "2026-01", "forms": "labour", "sex": "female", "age_band": "18_24",
                                 "nationality_group": "eu", "status": "open", "source": "hotline",
                                 "referral_made": False}], [(24.11, 56.95)])
    return ws


def test_fold_drops_case_and_diacritics():
    assert fold("Brīvības IELA") == "brivibas iela"
    assert fold("ŠĶĒRSIELA Ļ Ņ Ģ Ž Č") == "skersiela l n g z c"
    assert fold("Yrjönkatu") == "yrjonkatu"
    assert fold(None) == ""


def test_plain_ascii_query_finds_a_latvian_street_once_with_its_whole_box(named):
    hits = search(named.db.conn, "brivibas")
    roads = [h for h in hits if h.kind == "basemap_roads"]
    assert [h.label for h in roads] == ["Brīvības iela"]  # two segments, one street
    west, south, east, north = roads[0].bbox
    assert west == pytest.approx(24.10, abs=1e-4) and east == pytest.approx(24.14, abs=1e-4)
    assert roads[0].lon == pytest.approx(24.12, abs=1e-4)
    assert search(named.db.conn, "BRĪVĪBAS")[0].label == "Brīvības iela"
    assert search(named.db.conn, "udens")[0].label == "Ūdens iela"


def test_address_of_a_place_is_searchable_and_shown(named):
    hits = search(named.db.conn, "caka 7")
    assert [(h.kind, h.label) for h in hits] == [("places_of_concern", "Bārs Ēnā, Čaka iela 7")]
    assert hits[0].lon == pytest.approx(24.11)


def test_fields_outside_the_allow_list_are_not_searched(named):
    conn = named.db.conn
    assert search(conn, "2000 1234") == []  # a phone number in the OSM tags
    assert search(conn, "slepena") == []  # never a shelter's address ...
    assert [h.kind for h in search(conn, "patverums")] == ["shelters"]  # ... but its name (positive control)


def test_reported_cases_are_never_searched(named, monkeypatch):
    assert "reported_cases" not in searchable()
    hostile = dict(searchable())
    hostile["reported_cases"] = {"fields": ["status"]}
    monkeypatch.setattr(search_module, "load_json", lambda name: {"kinds": hostile})
    searchable.cache_clear()
    try:
        with pytest.raises(ValueError, match="reported_cases"):
            searchable()
    finally:
        monkeypatch.undo()
        searchable.cache_clear()
    assert all(h.kind != "reported_cases" for h in search(named.db.conn, "open"))


def test_allow_list_refuses_fields_a_kind_does_not_have(monkeypatch):
    monkeypatch.setattr(search_module, "load_json", lambda name: {"kinds": {"services": {"fields": ["secret"]}}})
    searchable.cache_clear()
    try:
        with pytest.raises(ValueError, match="services"):
            searchable()
    finally:
        monkeypatch.undo()
        searchable.cache_clear()


def test_like_wildcards_in_the_query_are_literal(named):
    assert like_pattern(["100%", "a_b"]) == "%100\\%%a\\_b%"
    assert search(named.db.conn, "%") == []
    assert search(named.db.conn, "_") == []
    assert search(named.db.conn, "   ") == []


def test_search_does_not_write(named):
    conn = named.db.conn
    before = conn.total_changes
    search(conn, "iela")
    assert conn.total_changes == before
