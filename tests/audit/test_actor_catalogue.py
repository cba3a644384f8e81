"""The catalogue of the local network (data/actor_catalogue.json): complete, consistent, in the guidelines' words."""
from __future__ import annotations

from pathlib import Path


from audit.actor_catalogue import find_id, roles, sectors
from layers.catalogue import forms_of_exploitation
from layers.resources import load_json
from tests.audit.test_glossary import _glossary, avoided_terms, seed_mismatches

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "guidelines-lv.txt"  # the seed guidelines, verbatim


def test_the_sectors_and_roles_the_issue_names_are_there_with_both_languages():
    sector_ids, role_ids = {s["id"] for s in sectors()}, {r["id"] for r in roles()}
    assert {"social_services", "municipal_police", "state_police", "health", "schools", "libraries", "ngo",
            "employers", "unions", "religious", "transport", "municipality", "border_guard"} <= sector_ids
    assert {"identification", "first_contact", "referral", "crisis_help", "shelter", "legal_aid", "health_care",
            "reintegration", "prevention"} <= role_ids
    for entry in [*sectors(), *roles()]:
        assert entry["en"] and entry["lv"] and entry["en"] != entry["lv"] or entry["id"] == "other", entry["id"]
    assert len(sector_ids) == len(sectors()) and len(role_ids) == len(roles())


def test_forms_urgencies_and_steps_are_known_values():
    forms = {f.id for f in forms_of_exploitation()}
    for s in sectors():
        assert set(s["forms"]) <= forms and isinstance(s["minors"], bool), s["id"]
    for r in roles():
        assert set(r["referral"]) <= {"now", "soon", "routine"} and isinstance(r["step"], int), r["id"]


def test_latvian_labels_use_the_guidelines_terms():
    doc = {"actor_catalogue.json": load_json("actor_catalogue.json")}
    assert avoided_terms(doc, _glossary()) == []
    referral = next(r for r in roles() if r["id"] == "referral")
    assert "novirzīšana" in referral["lv"]  # the glossary's term, not "nosūtīšana"


def test_labels_find_their_ids_in_either_language():
    assert find_id(sectors(), "  arodbiedrības ") == "unions" and find_id(sectors(), "Trade unions") == "unions"
    assert find_id(roles(), "Upura novirzīšana") == "referral" and find_id(roles(), "rescue") is None


def test_every_quote_is_on_the_seed_line_it_cites():
    quoted = [e for e in [*sectors(), *roles()] if e.get("seed")]
    assert len(quoted) >= len(sectors()) + len(roles()) - 1  # all but "other"
    assert seed_mismatches(quoted, SEED.read_text(encoding="utf-8")) == []
