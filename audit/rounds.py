"""Audit rounds: one pass over the district (guidelines ch. 3: assess the situation, then come back).

A round has a name, a date range, the teams that worked in it and the part of the district it covers (None:
the whole district). Every annotation and risk-group estimate belongs to a round. Which one is decided in one
place, :class:`InsertInRound` — the command every path uses to insert them (the annotation form, field
submissions, the estimate form, the demo): the round whose dates hold the observation (or estimate) date;
several: the one started last; none: the latest round; no rounds at all: none, until the first round is made,
which then takes in the rows that had none. A new round also takes in the rows dated within it that sat in the
latest round only because no round held their date. Rounds are created and edited through the undo history,
like every change. Changing a round's dates does not move rows: a row keeps the round it was recorded in.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from audit.commands import InsertRow, Macro, UpdateRow
from layers import round_store
from layers.i18n import _
from layers.migrations import ROUNDS_TABLE


@dataclass(frozen=True)
class Round:
    id: int
    name: str
    starts: dt.date | None
    ends: dt.date | None
    teams: tuple[str, ...] = ()
    area: str | None = None  # GeoJSON geometry (EPSG:4326); None: the whole district
    notes: str = ""

    @classmethod
    def from_row(cls, row: dict) -> "Round":
        return cls(int(row["id"]), row["name"], _date_or_none(row.get("starts")), _date_or_none(row.get("ends")),
                   tuple(parse_teams(row.get("teams"))), row.get("area") or None, row.get("notes") or "")

    @property
    def dates(self) -> str:
        """'2025-03-01 – 2025-05-31' ('—' for a missing date)."""
        return f"{self.starts or '—'} – {self.ends or '—'}"

    @property
    def title(self) -> str:
        return f"{self.name} ({self.dates})"

    def geometry(self):
        """The district part the round covers as a shapely geometry, or None (the whole district)."""
        if not self.area:
            return None
        import shapely

        return shapely.from_geojson(self.area)

    def as_dict(self, profile: str | None = None) -> dict:
        """Plain values (for --json and reports); the area stays in the workspace. ``profile``: only the fields
        its allow-list names for rounds (public: no teams, no notes)."""
        values = {"id": self.id, "name": self.name, "starts": _iso(self.starts), "ends": _iso(self.ends),
                  "teams": list(self.teams), "notes": self.notes, "whole_district": self.area is None}
        if profile is None:
            return values
        from audit.redaction import share_rule

        allowed = set((share_rule(ROUNDS_TABLE, profile) or {}).get("fields", ()))
        return {k: v for k, v in values.items() if k in allowed or k in ("id", "whole_district")}


def _date_or_none(value) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def parse_teams(value) -> list[str]:
    """Teams as a list of names: a JSON list, a list, or text separated by commas or new lines."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = json.loads(text)
        else:
            value = text.replace("\n", ",").split(",")
    teams = []
    for team in value:
        if not isinstance(team, str):
            raise ValueError(_("a team is named by text, not {value!r}").format(value=team))
        if team.strip() and team.strip() not in teams:
            teams.append(team.strip())
    return teams


def rounds(ws) -> list[Round]:
    """Every round of the workspace, earliest first."""
    return [Round.from_row(r) for r in round_store.list_rounds(ws.db)]


def get(ws, round_id: int) -> Round:
    row = round_store.get_round(ws.db, round_id)
    if row is None:
        raise ValueError(_("there is no audit round {id}").format(id=round_id))
    return Round.from_row(row)


def resolve(ws, which) -> Round:
    """A round by its name (any case) or its id; raises ValueError naming the rounds there are."""
    if isinstance(which, Round):
        return which
    text = str(which).strip()
    known = rounds(ws)
    for r in known:
        if r.name.casefold() == text.casefold():
            return r
    if text.isdigit():
        for r in known:
            if r.id == int(text):
                return r
    names = ", ".join(f"{r.id}: {r.name}" for r in known) or _("none yet")
    raise ValueError(_("no audit round {which!r}; the rounds are: {names}").format(which=text, names=names))


def round_for(ws, day) -> int | None:
    """The round a row dated ``day`` belongs to: the round holding the date (several: the one started last),
    else the latest round, else None (no rounds)."""
    if day:
        found = round_store.round_containing(ws.db, str(day)[:10])
        if found is not None:
            return found
    return round_store.latest_round(ws.db)


def _parse_date(value, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip()[:10])
    except ValueError:
        raise ValueError(_("{what}: a date like 2025-03-31 is needed, not {value!r}").format(
            what=what, value=value)) from None


def _area_text(area) -> str | None:
    """A round's area as GeoJSON text: None (whole district), a shapely polygon, or GeoJSON text."""
    if area is None or area == "":
        return None
    import shapely

    geometry = shapely.from_geojson(area) if isinstance(area, str) else area
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
        raise ValueError(_("a round's area must be a polygon"))
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    return shapely.to_geojson(geometry)


def round_values(ws, name: str, starts, ends, teams=(), area=None, notes: str = "",
                 round_id: int | None = None) -> dict:
    """A checked round row: a name no other round has, starts ≤ ends, teams as text; raises ValueError."""
    name = (name or "").strip()
    if not name:
        raise ValueError(_("a round needs a name"))
    if any(r.name.casefold() == name.casefold() and r.id != round_id for r in rounds(ws)):
        raise ValueError(_("there is already an audit round named {name!r}").format(name=name))
    first, last = _parse_date(starts, _("start")), _parse_date(ends, _("end"))
    if first > last:
        raise ValueError(_("a round cannot end ({ends}) before it starts ({starts})").format(ends=last, starts=first))
    return {"name": name, "starts": first.isoformat(), "ends": last.isoformat(),
            "teams": json.dumps(parse_teams(teams), ensure_ascii=False), "area": _area_text(area),
            "notes": (notes or "").strip() or None}


@dataclass
class InsertInRound(InsertRow):
    """Insert an annotation or an estimate into its round (see the module's docstring).

    ``date_field`` names the row's date. A ``round_id`` given in the values is kept (it must exist); otherwise
    the round is chosen when the command first runs, inside its transaction, so every path gets the same
    rule. A redo re-inserts the row into the round it had.
    """

    date_field: str = ""

    def apply(self, ctx) -> None:
        if callable(self.values):
            self.values = self.values()
        chosen = self.values.get("round_id")
        if chosen is None:
            self.values = {**self.values, "round_id": round_for(ctx.workspace, self.values.get(self.date_field))}
        elif round_store.get_round(ctx.workspace.db, chosen) is None:
            raise ValueError(_("there is no audit round {id}").format(id=chosen))
        super().apply(ctx)


@dataclass
class JoinRound(UpdateRow):
    """A row that had no round joins the one the rule gives it once a new round exists (the round is chosen
    when the step first runs, after the new round was inserted)."""

    day: str | None = None

    def apply(self, ctx) -> None:
        if not self.changes:
            self.changes = {"round_id": round_for(ctx.workspace, self.day)}
        super().apply(ctx)


def add_round(ws, name: str, starts, ends, teams=(), area=None, notes: str = "") -> Macro:
    """One undoable step: a new round; the annotations and estimates that had no round, and those dated within
    the new round that sat in the latest round only for want of one holding their date, join their round."""
    values = round_values(ws, name, starts, ends, teams, area, notes)
    values["created"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    steps = [InsertRow(ROUNDS_TABLE, values, label=_("Add audit round"))]
    moving = round_store.rows_without_round(ws.db) + round_store.rows_outside_their_round(
        ws.db, values["starts"], values["ends"])
    steps += [JoinRound(table, row_id, {}, day=day) for table, row_id, day in moving]
    return Macro(steps, label=_("Add audit round {name}").format(name=values["name"]))


def edit_round(ws, round_id: int, **changes) -> UpdateRow:
    """Change a round's name, dates, teams, area or notes (the others stay); rows keep their round."""
    current = get(ws, round_id)
    merged = {"name": current.name, "starts": current.starts, "ends": current.ends, "teams": list(current.teams),
              "area": current.area, "notes": current.notes, **changes}
    values = round_values(ws, merged["name"], merged["starts"], merged["ends"], merged["teams"], merged["area"],
                          merged["notes"], round_id=round_id)
    row = round_store.get_round(ws.db, round_id)
    changed = {k: v for k, v in values.items() if row.get(k) != v}
    if not changed:
        raise ValueError(_("nothing to change"))
    return UpdateRow(ROUNDS_TABLE, round_id, changed, label=_("Edit audit round {name}").format(name=values["name"]))


def row_counts(ws) -> dict[int | None, dict[str, int]]:
    """Round id (None: no round) -> {"annotations": n, "estimates": n}."""
    from layers.migrations import ANNOTATIONS_TABLE, ESTIMATES_TABLE

    return {rid: {"annotations": c.get(ANNOTATIONS_TABLE, 0), "estimates": c.get(ESTIMATES_TABLE, 0)}
            for rid, c in round_store.rows_per_round(ws.db).items()}


def assessment_date(ws, r: Round) -> dt.date:
    """The day a round's places are assessed on: its end, or its last observation if later (rows after the
    latest round's end belong to it), never after today."""
    _first, last = round_store.observed_span(ws.db, r.id)
    days = [d for d in (r.ends, _date_or_none(last)) if d is not None]
    return min(max(days), dt.date.today()) if days else dt.date.today()
