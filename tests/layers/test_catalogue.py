import re

import pytest

from layers.privacy import looks_personal
from layers import catalogue
from layers.catalogue import FIELD_TYPES, layer_kinds, place_categories

CORE_KINDS = {
    "transport_hubs": "Geometry",  # a node or an area (OSM closed way / multipolygon)
    "worksites": "Geometry",
    "shelters": "Geometry",
    "reported_cases": "Point",
    "places_of_concern": "Geometry",
    "risk_areas": "MultiPolygon",
    "basemap_roads": "MultiLineString",
    "basemap_railways": "MultiLineString",
    "basemap_water": "MultiPolygon",
    "basemap_buildings": "MultiPolygon",
}


def test_core_kinds_are_declared_with_their_geometry():
    kinds = layer_kinds()
    assert {k: kinds[k].geometry for k in CORE_KINDS} == CORE_KINDS


@pytest.mark.parametrize("kind_id", sorted(CORE_KINDS))
def test_every_kind_has_labels_fields_and_style(kind_id):
    k = catalogue.kind(kind_id)
    assert k.en and k.lv and k.en != k.lv
    assert k.fields, "a kind without fields"
    for f in k.fields:
        assert f.type in FIELD_TYPES
        assert f.en and f.lv
        if f.type in ("enum", "multi_enum"):
            assert f.choices, f"{kind_id}.{f.name} has no allowed values"
            assert all(c.en and c.lv for c in f.choices)
    assert re.fullmatch(r"#[0-9a-f]{6}", k.style.color)
    assert re.fullmatch(r"#[0-9a-f]{6}", k.style.fill_color)


def test_layer_styles_are_distinct():
    styles = [(k.style.fill_color, k.style.shape) for k in layer_kinds().values() if not k.is_basemap]
    assert len(set(styles)) == len(styles)


def test_basemap_layers_are_drawn_under_the_thematic_ones():
    groups = [k.group for k in layer_kinds().values()]
    assert groups == sorted(groups, key=lambda g: g != "basemap")
    assert groups.count("basemap") == 4


def test_places_keep_their_openstreetmap_provenance():
    for kind_id in ("transport_hubs", "worksites", "shelters", "places_of_concern"):
        assert {"osm_type", "osm_id", "osm_tags"} <= set(catalogue.kind(kind_id).field_names)
    assert "osm_tags" not in catalogue.kind("reported_cases").field_names


def test_fifteen_place_categories_with_english_and_latvian_labels():
    cats = place_categories()
    assert len(cats) == 15
    assert len({c.id for c in cats}) == 15
    assert all(c.en and c.lv for c in cats)
    assert catalogue.kind("places_of_concern").field("category").allowed == {c.id for c in cats}


def test_reported_cases_carry_no_personal_identifiers():
    k = catalogue.kind("reported_cases")
    assert k.personal_data_free
    assert not k.extra_allowed, "a free-form extra column could carry personal data"
    assert "extra" not in k.columns
    assert not [f.name for f in k.fields if looks_personal(f.name)]
    assert k.field("reported").type == "month"  # month precision, not a day
    assert k.field("status").allowed == {"potential", "identified"}


@pytest.mark.parametrize("name", ["Name", "victim_surname", "Personas kods", "e-mail", "Tālrunis", "home_address"])
def test_personal_field_names_are_recognised(name):
    assert looks_personal(name)


@pytest.mark.parametrize("name", ["forms", "status", "age_band", "referral_made", "sector"])
def test_ordinary_field_names_are_not_flagged(name):
    assert not looks_personal(name)


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(KeyError, match="transport_hubs"):
        catalogue.kind("no_such_kind")


def test_a_kind_is_one_declaration(monkeypatch, tmp_path):
    """Adding a declaration is enough for the workspace to hold the new kind."""
    import layers.workspace as workspace_module

    decl = {
        "id": "outreach_points", "en": "Outreach points", "lv": "Informēšanas punkti", "geometry": "Point",
        "fields": [{"name": "name", "type": "text", "required": True, "en": "Name", "lv": "Nosaukums"}],
        "style": {"color": "#000000", "fill_color": "#ffffff"},
    }
    extended = {**layer_kinds(), "outreach_points": catalogue._kind(decl)}
    monkeypatch.setattr(catalogue, "layer_kinds", lambda: extended)
    monkeypatch.setattr(workspace_module, "layer_kinds", lambda: extended)
    ws = workspace_module.Workspace.create(tmp_path / "w.gpkg")
    try:
        assert ws.db["outreach_points"].exists()
        assert ws.count("outreach_points") == 0
    finally:
        ws.close()
