"""The local network of actors (guidelines ch. 4–5): who can identify and help victims, and how well prepared.

Each actor has a sector and roles in the chain of assistance (``data/actor_catalogue.json``), a contact point
that is a role or an office — never a private person —, its cooperation agreement (date, scope, renewal) and
its training (staff, trained staff, when, needs). Adding, editing and deleting are commands (audit.commands),
so each is one undoable, logged step. The catalogue is read by audit.actor_catalogue, the checks are in
audit.actor_checks, the referral helper's choice of actors in audit.referral_actors, a CSV import in
audit.actor_import.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from audit.actor_catalogue import catalogue, renewal_warning_days, role_label, roles, sector_label, sectors
from audit.actor_checks import checked, warnings
from layers.actor_store import role_ids
from audit.commands import DeleteRow, InsertRow, UpdateRow
from layers import actor_store
from layers.errors import ValidationError
from layers.i18n import _, label
from layers.migrations import ACTORS_TABLE

__all__ = ["Coverage", "Renewal", "SectorCoverage", "actor_summary", "actors", "add_actor", "catalogue", "coverage",
           "delete_actor", "edit_actor", "renewal_warning_days", "role_label", "roles", "sector_label", "sectors",
           "shared_actors", "actor_line", "coverage_lines", "warnings"]


# -- commands -------------------------------------------------------------------------------------------------


def add_actor(workspace, values: dict) -> InsertRow:
    """The command that adds an actor; raises ValidationError naming every problem of ``values``."""
    return InsertRow(ACTORS_TABLE, checked(workspace, values), label=_("Add local actor"))


def _existing(workspace, actor_id: int) -> dict:
    row = actor_store.actor_row(workspace.db.conn, actor_id)
    if row is None:
        raise ValidationError(_("there is no local actor {id}").format(id=actor_id))
    return row


def edit_actor(workspace, actor_id: int, changes: dict) -> UpdateRow | None:
    """The command that changes an actor (the whole row is checked again); None when nothing would change."""
    current = _existing(workspace, actor_id)
    merged = {k: v for k, v in current.items() if k != "id"} | dict(changes)
    values = checked(workspace, merged)
    changed = {k: v for k, v in values.items() if current.get(k) != v}
    return UpdateRow(ACTORS_TABLE, int(actor_id), changed, label=_("Edit local actor")) if changed else None


def delete_actor(workspace, actor_id: int) -> DeleteRow:
    _existing(workspace, actor_id)
    return DeleteRow(ACTORS_TABLE, int(actor_id), label=_("Delete local actor"))


def actors(workspace) -> list[dict]:
    """Every actor (a dict of its columns, ``roles`` as a list of ids), by sector in the catalogue's order (social
    services first), then name."""
    order = {s["id"]: i for i, s in enumerate(sectors())}
    rows = [{**row, "roles": role_ids(row["roles"])} for row in actor_store.actor_rows(workspace.db.conn)]
    return sorted(rows, key=lambda r: order.get(r["sector"], len(order)))  # stable: names stay in order


# -- training coverage and agreements -------------------------------------------------------------------------


@dataclass
class SectorCoverage:
    sector: str
    label: str
    actors: int
    staff: int = 0  # summed over the actors that give both staff and trained staff
    trained: int = 0

    @property
    def share(self) -> float | None:
        """Trained share of the staff; None when no actor of the sector gives both numbers."""
        return self.trained / self.staff if self.staff else None


@dataclass
class Renewal:
    id: int
    name: str
    sector: str
    renewal: dt.date
    days: int  # from today; negative: overdue

    @property
    def overdue(self) -> bool:
        return self.days < 0


@dataclass
class Coverage:
    sectors: list[SectorCoverage]
    overall: SectorCoverage
    overdue: list[Renewal] = field(default_factory=list)
    due: list[Renewal] = field(default_factory=list)  # within renewal_warning_days, not overdue
    needs: list[dict] = field(default_factory=list)  # {"id", "name", "sector", "training_needs"}
    without_staff_numbers: int = 0  # actors left out of the shares


def coverage(workspace, today: dt.date | None = None, within_days: int | None = None) -> Coverage:
    """Trained share per sector and overall, agreements overdue or due for renewal, training needs listed."""
    conn = workspace.db.conn
    today = today or dt.date.today()
    within = renewal_warning_days() if within_days is None else within_days
    order = {s["id"]: i for i, s in enumerate(sectors())}
    totals = sorted(actor_store.sector_totals(conn), key=lambda r: order.get(r["sector"], len(order)))
    per_sector = [SectorCoverage(r["sector"], sector_label(r["sector"]), r["actors"], int(r["staff"] or 0),
                                 int(r["trained"] or 0)) for r in totals]
    overall = SectorCoverage("", _("All sectors"), sum(s.actors for s in per_sector),
                             sum(s.staff for s in per_sector), sum(s.trained for s in per_sector))
    last_day = (today + dt.timedelta(within)).isoformat()
    renewals = [_renewal(r, today) for r in actor_store.renewals_until(conn, last_day)]
    rows = actor_store.actor_rows(conn)
    unknown = sum(1 for r in rows if r["staff"] is None or r["staff_trained"] is None)
    return Coverage(per_sector, overall, [r for r in renewals if r.overdue], [r for r in renewals if not r.overdue],
                    actor_store.training_needs(conn), unknown)


def _renewal(row: dict, today: dt.date) -> Renewal:
    when = dt.date.fromisoformat(str(row["agreement_renewal"])[:10])
    return Renewal(int(row["id"]), row["name"], row["sector"], when, (when - today).days)


# -- the report's plain data, cut to a profile ----------------------------------------------------------------


def _allowed(profile: str) -> list[str]:
    from audit.redaction import PROFILES, share_rule

    if profile not in PROFILES:
        raise ValueError(_("unknown profile {p!r}; choose public, partner or police").format(p=profile))
    rule = share_rule(ACTORS_TABLE, profile)
    return list(rule["fields"]) if rule else []


def _actor_entry(row: dict, fields: list[str], lang: str | None) -> dict:
    entry = {f: row.get(f) for f in fields if f != "roles"}
    if "sector" in fields:
        entry["sector_label"] = sector_label(row["sector"], lang)
    if "roles" in fields:
        entry["roles"] = list(row["roles"])
        entry["role_labels"] = [role_label(r, lang) for r in row["roles"]]
    return entry


def _renewal_entry(r: Renewal) -> dict:
    return {"id": r.id, "name": r.name, "sector": r.sector, "renewal": r.renewal.isoformat(), "days": r.days}


def actor_summary(workspace, profile: str, today: dt.date | None = None, lang: str | None = None) -> dict:
    """The actor network for a report made for ``profile``, as plain data, holding only what the allow-list
    (data/sensitivity.json, ``local_actors``) lets that profile see: names, sectors and roles for everyone;
    training coverage, agreements due and training needs only where their fields are allowed; contact
    details only where they are allowed."""
    fields = _allowed(profile)
    rows = actors(workspace)
    summary: dict = {"profile": profile, "fields": fields, "count": len(rows) if fields else 0,
                     "actors": [_actor_entry(r, fields, lang) for r in rows] if fields else []}
    if not fields:
        return summary
    summary["roles"] = [{"id": r["id"], "label": label(r, lang), "actors": n} for r in roles()
                        if (n := sum(r["id"] in a["roles"] for a in rows))]
    cov = coverage(workspace, today)
    trained = {"staff", "staff_trained"} <= set(fields)
    summary["sectors"] = [{"id": s.sector, "label": sector_label(s.sector, lang), "actors": s.actors,
                           **({"staff": s.staff, "trained": s.trained, "share": s.share} if trained else {})}
                          for s in cov.sectors]
    if trained:
        summary["overall"] = {"actors": cov.overall.actors, "staff": cov.overall.staff,
                              "trained": cov.overall.trained, "share": cov.overall.share,
                              "without_staff_numbers": cov.without_staff_numbers}
    if "agreement_renewal" in fields:
        summary["renewals"] = {"overdue": [_renewal_entry(r) for r in cov.overdue],
                               "due": [_renewal_entry(r) for r in cov.due], "within_days": renewal_warning_days()}
    if "training_needs" in fields:
        summary["training_needs"] = [{"name": n["name"], "sector": n["sector"],
                                      "sector_label": sector_label(n["sector"], lang), "needs": n["training_needs"]}
                                     for n in cov.needs]
    return summary


# -- what leaves in an export ---------------------------------------------------------------------------------


def shared_actors(workspace, profile: str):
    """The register as an export for ``profile`` carries it (audit.redaction.SharedLayer, form "table"): only
    the allow-listed columns; roles as ids separated by semicolons. None when the profile receives none."""
    from audit.redaction import SharedLayer, select_fields, share_rule

    rule = share_rule(ACTORS_TABLE, profile)
    if rule is None:
        return None
    frame = workspace.read_table(ACTORS_TABLE)
    if "roles" in frame.columns:
        frame = frame.assign(roles=["; ".join(role_ids(v)) for v in frame["roles"]])
    return SharedLayer(ACTORS_TABLE, _("Local actors"), select_fields(frame, rule["fields"]).reset_index(drop=True),
                       profile, rule["form"])


# -- in words (the command line) -------------------------------------------------------------------------------


def actor_line(row: dict) -> str:
    """One actor in one line: sector, name, roles, contact point, trained staff, renewal."""
    trained = ""
    if row.get("staff") is not None and row.get("staff_trained") is not None:
        trained = _("trained {trained} of {staff}").format(trained=row["staff_trained"], staff=row["staff"])
    renewal = _("renewal {date}").format(date=row["agreement_renewal"]) if row.get("agreement_renewal") else ""
    parts = [", ".join(role_label(r) for r in row["roles"]), row.get("contact_point") or "", trained, renewal]
    return f"{sector_label(row['sector'])}: {row['name']} · " + " · ".join(p for p in parts if p)


def coverage_lines(cov: Coverage) -> list[str]:
    """The training coverage per sector and overall, the agreements overdue or due, the training needs."""
    from layers.i18n import percent

    def share(s: SectorCoverage) -> str:
        return "—" if s.share is None else percent(s.share, 0)

    lines = [_("Trained: {trained} of {staff} staff ({share})").format(
        trained=cov.overall.trained, staff=cov.overall.staff, share=share(cov.overall))]
    lines += [f"  {s.label}: {share(s)}" for s in cov.sectors]
    lines += [_("Agreement overdue since {date}: {name}").format(date=r.renewal.isoformat(), name=r.name)
              for r in cov.overdue]
    lines += [_("Agreement due for renewal on {date}: {name}").format(date=r.renewal.isoformat(), name=r.name)
              for r in cov.due]
    lines += [_("Training needs of {name}: {needs}").format(name=n["name"], needs=n["training_needs"])
              for n in cov.needs]
    return lines
