"""The demo district's local network of actors: SYNTHETIC, invented for the demo — no real organisation, office
or person. Contact points are offices; phone numbers use the non-existent country code +000 and e-mail addresses
the reserved domain .example. One agreement is overdue and one is due within 90 days, so the window and the
report have something to show."""
from __future__ import annotations

import datetime as dt

from audit.actors import add_actor
from audit.commands import History
from layers.i18n import N_, _

# (name, sector, roles, contact point, staff, trained, agreement (days ago), renewal (days ahead), needs)
_ACTORS = [
    (N_("District social service (synthetic)"), "social_services",
     ["identification", "first_contact", "referral", "long_term"], N_("Social service crisis unit"), 24, 9, 400, 40,
     N_("Indicators of labour exploitation; interviews with an interpreter")),
    (N_("Municipal police, city centre precinct (synthetic)"), "municipal_police",
     ["identification", "first_contact", "safe_travel", "referral"], N_("Duty officer, city centre precinct"), 40, 12,
     800, -30, N_("Refresher on the referral procedure")),
    (N_("Emergency department, city hospital (synthetic)"), "health", ["identification", "crisis_help", "health_care"],
     N_("Emergency department, social work desk"), 60, 6, None, None,
     N_("Signs of trafficking in patients; confidentiality")),
    (N_("Vocational school (synthetic)"), "schools", ["identification", "prevention"],
     N_("School psychologist's office"), 35, 0, None, None, N_("Online recruitment: what teachers can notice")),
    (N_("Anti-trafficking NGO (synthetic)"), "ngo",
     ["first_contact", "hotline", "crisis_help", "shelter", "legal_aid", "long_term", "reintegration"],
     N_("NGO helpline desk (24/7)"), 12, 12, 300, 430, ""),
    (N_("Building workers' union (synthetic)"), "unions", ["identification", "legal_aid", "prevention"],
     N_("Union legal advice office"), 8, 3, 100, 630, ""),
    (N_("City library (synthetic)"), "libraries", ["identification", "prevention"], N_("Library information desk"),
     15, 4, None, None, ""),
    (N_("Taxi company (synthetic)"), "transport", ["identification"], N_("Dispatch centre"), 120, 30, 200, 165,
     N_("A short briefing for drivers")),
]


def _values(n: int, entry: tuple, today: dt.date) -> dict:
    name, sector, roles, point, staff, trained, signed, renewal, needs = entry
    return {"name": _(name), "sector": sector, "roles": roles, "contact_point": _(point),
            "contact_phone": f"+000 000 {n:04d}", "contact_email": f"contact{n}@district.example",
            "agreement_date": (today - dt.timedelta(signed)).isoformat() if signed else None,
            "agreement_scope": _("Identification and referral of (potential) victims") if signed else None,
            "agreement_renewal": (today + dt.timedelta(renewal)).isoformat() if signed else None,
            "staff": staff, "staff_trained": trained,
            "trained_on": (today - dt.timedelta(60 + 20 * n)).isoformat() if trained else None,
            "training_needs": _(needs) if needs else None}


def add_synthetic_actors(ws, today: dt.date | None = None) -> int:
    """Add the synthetic actors through the command path (so the change log shows them); their number."""
    today = today or dt.date.today()
    history = History(ws, author=_("Demo auditor A (synthetic)"))
    for n, entry in enumerate(_ACTORS, start=1):
        history.do(add_actor(ws, _values(n, entry, today)))
    return len(_ACTORS)
