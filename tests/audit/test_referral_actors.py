"""The referral helper's local actors: the roles that fit the urgency; sector and minors first; contact points."""
from __future__ import annotations

from audit.referral import Situation
from audit.referral_actors import fitting_roles, suitable_actors


def _actor(i, name, sector, roles, trained=None, **more):
    return {"id": i, "name": name, "sector": sector, "roles": roles, "staff": 10 if trained is not None else None,
            "staff_trained": trained, "contact_point": f"{name} desk", "contact_phone": f"+000 {i}",
            "contact_email": "", "service_fid": None, **more}


REGISTER = [
    _actor(1, "Social service", "social_services", ["identification", "first_contact", "referral"], 2),
    _actor(2, "Union", "unions", ["identification", "legal_aid"], 0),
    _actor(3, "NGO shelter", "ngo", ["crisis_help", "shelter"], 5),
    _actor(4, "School", "schools", ["identification", "prevention"]),
    _actor(5, "Library", "libraries", ["prevention"]),
]


def test_fitting_roles_follow_the_urgency():
    assert {"first_contact", "crisis_help", "shelter", "referral"} <= set(fitting_roles("now"))
    assert "reintegration" not in fitting_roles("now") and "reintegration" in fitting_roles("routine")
    assert "prevention" not in fitting_roles("now") + fitting_roles("soon") + fitting_roles("routine")


def test_help_needed_now_lists_first_contact_and_crisis_help_not_prevention():
    found = suitable_actors(REGISTER, Situation(urgency="now"))
    assert [a["name"] for a in found] == ["NGO shelter", "Social service"]
    assert found[0]["contact_point"] == "NGO shelter desk" and found[0]["contact_phone"] == "+000 3"
    assert found[0]["roles"] == ["Crisis intervention / emergency help", "Safe accommodation"]


def test_labour_exploitation_puts_the_union_first_and_a_minor_the_school():
    labour = suitable_actors(REGISTER, Situation(form="labour", urgency="routine"))
    assert labour[0]["name"] == "Union" and "sector close to this form of exploitation" in labour[0]["why"]
    minor = [a["name"] for a in suitable_actors(REGISTER, Situation(age_band="14-17", urgency="soon"))]
    adult = [a["name"] for a in suitable_actors(REGISTER, Situation(age_band="25-34", urgency="soon"))]
    assert minor.index("School") < minor.index("Union")  # a school works with children
    assert adult.index("School") > adult.index("Union")  # control: only for a minor
    assert "Library" not in {a["name"] for a in labour} | set(minor) | set(adult)  # prevention only: never a referral
