"""The referral helper's second list: the local actors whose roles fit the situation, with their contact point.

Which roles fit depends on how soon help is needed (each role's ``referral`` urgencies in
``data/actor_catalogue.json``: now → first contact, crisis help, safe accommodation, …; routine → long-term
support, integration, return, …). Among them, actors of a sector close to the form of exploitation (unions and
inspectors for labour exploitation, …) or working with children (for a minor) come first, then actors with
trained staff. Nothing about the person is stored. Contact points are partner-level information: the window
and the command that show them are for the municipality and its partners, never for publication.
"""
from __future__ import annotations

from audit.actor_catalogue import role_label, roles, sector, sector_label
from layers.i18n import _

MINOR_BANDS = ("0-13", "14-17")


def fitting_roles(urgency: str) -> list[str]:
    """The roles in the chain of assistance that fit a situation of this urgency, in the chain's order."""
    return [r["id"] for r in sorted(roles(), key=lambda r: r["step"]) if urgency in r.get("referral", [])]


def _fit(actor: dict, situation, wanted: list[str]) -> tuple[int, list[str], list[str]]:
    """(score, fitting role ids, why) — score 0: the actor has no fitting role."""
    fitting = [r for r in wanted if r in actor["roles"]]
    if not fitting:
        return 0, [], []
    why = [_("role: {roles}").format(roles=", ".join(role_label(r) for r in fitting))]
    score = len(fitting)
    entry = sector(actor["sector"]) or {}
    if situation.form and situation.form in entry.get("forms", []):
        score += 2
        why.append(_("sector close to this form of exploitation"))
    if situation.age_band in MINOR_BANDS and entry.get("minors"):
        score += 2
        why.append(_("works with children"))
    if actor.get("staff_trained"):
        score += 1
        why.append(_("staff trained"))
    return score, fitting, why


def _share(actor: dict) -> float | None:
    staff, trained = actor.get("staff"), actor.get("staff_trained")
    return trained / staff if staff and trained is not None else None


def suitable_actors(actors: list[dict], situation) -> list[dict]:
    """Actors (audit.actors.actors' rows) with a role that fits ``situation`` (audit.referral.Situation), best
    fit first: {"id", "name", "sector", "roles" (the fitting ones, as labels), "contact_point", "contact_phone",
    "contact_email", "trained_share", "why", "service_fid"}."""
    wanted = fitting_roles(situation.urgency)
    found = []
    for actor in actors:
        score, fitting, why = _fit(actor, situation, wanted)
        if score:
            found.append((score, actor, fitting, why))
    found.sort(key=lambda f: (-f[0], str(f[1]["name"]).casefold()))
    return [{"id": int(a["id"]), "name": a["name"], "sector": sector_label(a["sector"]),
             "roles": [role_label(r) for r in fitting], "contact_point": a.get("contact_point") or "",
             "contact_phone": a.get("contact_phone") or "", "contact_email": a.get("contact_email") or "",
             "trained_share": _share(a), "why": why, "service_fid": a.get("service_fid")}
            for _score, a, fitting, why in found]
