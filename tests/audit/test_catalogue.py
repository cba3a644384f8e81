import pytest

from audit.catalogue import (catalogue_version, indicators, indicators_for, place_type_of, place_types,
                             risk_groups)
from layers.catalogue import forms_of_exploitation


def test_every_indicator_has_both_languages_forms_places_and_a_weight():
    forms = {f.id for f in forms_of_exploitation()}
    types = {t["id"] for t in place_types()}
    assert len(indicators()) >= 30
    for ind in indicators().values():
        assert ind.en.strip() and ind.lv.strip() and ind.en != ind.lv, ind.id
        assert ind.forms and set(ind.forms) <= forms, ind.id
        assert ind.place_types and set(ind.place_types) <= types, ind.id
        assert 1 <= ind.weight <= 3


def test_every_group_of_the_guidelines_is_covered():
    prefixes = {i.split("_")[0] for i in indicators()}
    assert {"gen", "sex", "lab", "beg", "acc"} <= prefixes


def test_every_place_type_and_risk_group_has_both_languages():
    for entry in [*place_types(), *risk_groups()]:
        assert entry["en"] and entry["lv"]
    assert len(risk_groups()) == 13


def test_checklists_are_filtered_by_place_type():
    street = {i.id for i in indicators_for("street")}
    workplace = {i.id for i in indicators_for("workplace")}
    assert "sex_pimp" in street and "sex_pimp" not in workplace
    assert "lab_unsafe" in workplace and "lab_unsafe" not in street
    assert "gen_no_documents" in street and "gen_no_documents" in workplace  # general ones everywhere
    assert len(indicators_for("any")) == len(indicators())


@pytest.mark.parametrize("kind_id, row, expected", [
    ("worksites", {"sector": "hotel"}, "accommodation"),
    ("worksites", {"sector": "construction"}, "workplace"),
    ("places_of_concern", {"category": "gathering_place"}, "street"),
    ("places_of_concern", {"category": "consulate"}, "any"),
    ("transport_hubs", {"hub_type": "tram_stop"}, "street"),
])
def test_place_type_of_a_place(kind_id, row, expected):
    assert place_type_of(kind_id, row) == expected


def test_catalogue_is_versioned():
    assert catalogue_version() >= 1
