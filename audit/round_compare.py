"""Compare two audit rounds: places, risk-group estimates and indicators, as one audience may see them.

Each round is judged on its own rows: a place's risk in a round is the risk assessment
(``audit.annotations.place_assessments``) of that round's annotations only, on the round's last day; its
estimates are that round's estimates (where a round holds several of one group for one area, the latest
counts). Where either round covers only part of the district, only what lies in both parts is compared.

What each profile sees (``data/sensitivity.json``, derived ``round_*``):

- **police**: every place by name with both risk levels, scores and what drove the change; every number.
- **partner / public**: no place names and no per-place risk (the audit's findings are police-only):
  places only as counts per kind of change, drivers only as counts of places. A count below the minimum (5)
  is withheld exactly like a zero, in both rounds; a change computed from a withheld count is withheld; a
  change smaller than the minimum is never given as a number ("small change"), only its direction when the
  published counts show it. Estimates: partner sees the numbers (as in its exports) but the same rule for
  small changes; public sees only their classes.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from audit.annotations import place_assessments
from audit.catalogue import indicators, place_type_of
from audit.disclosure import DisclosureError
from audit.redaction import PROFILES, minimum_count
from audit.risk import LEVELS, Assessment, level_label
from audit.rounds import Round, assessment_date, resolve
from layers import round_store
from layers.i18n import N_, _, decimal
from layers.values import stored_ids

STATUSES = ("new", "gone", "up", "down", "same")
STATUS_TEXT = {"new": N_("new"), "gone": N_("no longer found"), "up": N_("risk up"), "down": N_("risk down"),
               "same": N_("risk level unchanged")}
TREND_TEXT = {"more": N_("more"), "fewer": N_("fewer"), "same": N_("no change"),
              "small": N_("small change (fewer than {k} either way)"), "new": N_("only in the later round"),
              "ended": N_("only in the earlier round"), "same_class": N_("same class")}
TOP_DRIVERS = 3


def status_label(status: str) -> str:
    return _(STATUS_TEXT[status])


def trend_label(trend: str) -> str:
    return _(TREND_TEXT[trend]).format(k=minimum_count())


@dataclass
class PlaceChange:
    key: tuple[str, int]
    status: str
    first: Assessment | None
    second: Assessment | None
    deleted: bool = False
    drivers: list[tuple[str, float]] = field(default_factory=list)  # indicator, change of its contribution


@dataclass
class Comparison:
    """Two rounds compared for one profile: tables of plain rows (keys as in the allow-list), and notes."""

    profile: str
    first: Round
    second: Round
    places: list[dict]
    drivers: list[dict]
    estimates: list[dict]
    estimate_areas: list[dict]
    indicators: list[dict]
    notes: list[str] = field(default_factory=list)
    common_area: object = None  # shapely geometry both rounds cover, or None (the whole district)


def compare(ws, first, second, profile: str = "public") -> Comparison:
    """Compare round ``first`` with the later round ``second`` (Round, id or name) for ``profile``."""
    if profile not in PROFILES:
        raise ValueError(_("unknown profile {p!r}; choose public, partner or police").format(p=profile))
    a, b = resolve(ws, first), resolve(ws, second)
    if a.id == b.id:
        raise ValueError(_("choose two different rounds to compare"))
    area = common_area(a, b)
    changes = place_changes(ws, a, b, area)
    groups, areas = estimate_rows(ws, a, b, area, profile)
    result = Comparison(profile, a, b, place_rows(ws, changes, profile), driver_rows(changes, profile), groups, areas,
                        indicator_rows(ws, a, b, area, profile), common_area=area)
    result.notes = _notes(ws, result)
    return result


def common_area(a: Round, b: Round):
    """The part of the district both rounds cover (None: the whole district)."""
    shapes = [g for g in (a.geometry(), b.geometry()) if g is not None]
    if not shapes:
        return None
    return shapes[0] if len(shapes) == 1 else shapes[0].intersection(shapes[1])


# -- places ---------------------------------------------------------------------------------------------------


def positions(ws, keys) -> dict[tuple[str, int], tuple[float, float]]:
    """(lon, lat) of places (their representative point); deleted places are missing."""
    from layers.point_batches import point_batches

    found = {}
    for table in sorted({t for t, _f in keys}):
        for batch in point_batches(ws, table, fids=[f for t, f in keys if t == table]):
            found.update({(table, int(f)): (x, y) for f, x, y in zip(batch.fids, batch.x, batch.y)})
    return found


def _inside(keys, where: dict, area) -> set:
    """The keys whose place lies in ``area`` (all when there is no area; a deleted place, whose position is no
    longer known, only then)."""
    if area is None:
        return set(keys)
    import shapely

    return {k for k in keys if k in where and area.covers(shapely.Point(where[k]))}


def round_assessments(ws, r: Round) -> dict[tuple[str, int], Assessment]:
    """Each place annotated in round ``r``, assessed from that round's annotations only."""
    return place_assessments(ws, assessment_date(ws, r), round_id=r.id)


def place_changes(ws, a: Round, b: Round, area=None) -> list[PlaceChange]:
    """What happened to each place annotated in either round (within ``area``)."""
    before, after = round_assessments(ws, a), round_assessments(ws, b)
    keys = set(before) | set(after)
    where = positions(ws, keys)
    changes = []
    for key in sorted(_inside(keys, where, area)):
        first, second = before.get(key), after.get(key)
        status = _status(first, second)
        if key not in where:
            status = "gone"  # the place itself was deleted since
        changes.append(PlaceChange(key, status, first, second, key not in where, _driver_changes(first, second, status)))
    return changes


def _status(first: Assessment | None, second: Assessment | None) -> str:
    if first is None:
        return "new"
    if second is None:
        return "gone"
    up = LEVELS.index(second.level) - LEVELS.index(first.level)
    return "up" if up > 0 else "down" if up < 0 else "same"


def _driver_changes(first, second, status: str) -> list[tuple[str, float]]:
    """The indicators whose contribution changed most in the direction of the change (top 3)."""
    before = dict(first.drivers) if first else {}
    after = dict(second.drivers) if second else {}
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in set(before) | set(after)}
    sign = -1 if status in ("down", "gone") else 1
    moved = sorted(((k, d) for k, d in delta.items() if d * sign > 1e-9), key=lambda kv: (-abs(kv[1]), kv[0]))
    return moved[:TOP_DRIVERS]


def _driver_text(drivers: list[tuple[str, float]]) -> str:
    catalogue = indicators()
    return "; ".join(f"{catalogue[i].label if i in catalogue else _('other observation')} "
                     f"{'+' if d > 0 else '−'}{decimal(abs(d))}" for i, d in drivers)


def place_rows(ws, changes: list[PlaceChange], profile: str) -> list[dict]:
    """Police: one row per place, by name. Others: how many places per kind of change (small counts withheld)."""
    if profile != "police":
        counts = Counter(c.status for c in changes)
        return [{"status": s, "count": _published_count(counts.get(s, 0), profile)} for s in STATUSES]
    order = {s: i for i, s in enumerate(STATUSES)}
    rows = []
    for c in sorted(changes, key=lambda c: (order[c.status], c.key)):
        row = ws.get_row(*c.key) or {}
        rows.append({"place_table": c.key[0], "place_fid": c.key[1],
                     "name": row.get("name") or (_("(deleted)") if c.deleted else ""),
                     "place_type": place_type_of(c.key[0], row), "status": c.status,
                     "level_from": c.first.level if c.first else None,
                     "level_to": c.second.level if c.second else None,
                     "score_from": round(c.first.score, 2) if c.first else None,
                     "score_to": round(c.second.score, 2) if c.second else None,
                     "drivers": _driver_text(c.drivers)})
    return rows


def driver_rows(changes: list[PlaceChange], profile: str) -> list[dict]:
    """How many places each indicator drove up (new or higher risk) or down (lower risk or no longer found)."""
    counted: Counter = Counter()
    for c in changes:
        direction = "up" if c.status in ("new", "up") else "down" if c.status in ("down", "gone") else None
        for ind, _delta in c.drivers if direction else ():
            counted[(ind, direction)] += 1
    catalogue = indicators()
    rows = [{"indicator": ind, "wording": catalogue[ind].label if ind in catalogue else _("other observation"),
             "direction": direction, "places": n}
            for (ind, direction), n in counted.items() if profile == "police" or n >= minimum_count()]
    return sorted(rows, key=lambda r: (r["direction"] != "up", -r["places"], r["indicator"]))


# -- counts and their change, as a profile may see them ----------------------------------------------------------


def _published_count(n: int, profile: str) -> int | None:
    """A count of places (or of records) for ``profile``: withheld (None) below the minimum, zero included."""
    return n if profile == "police" or n >= minimum_count() else None


def change_cells(a, b, profile: str, exact_values: bool = False) -> dict | None:
    """{"from", "to", "change", "trend"} of two rounds' numbers as ``profile`` may see them; None when the row
    may not be published at all (both counts withheld). ``exact_values``: the numbers themselves may be shown
    (estimates to partners); only the change is held to the minimum then."""
    if profile == "police":
        change = b - a
        return {"from": a, "to": b, "change": change, "trend": _trend(change)}
    k = minimum_count()
    shown_a = a if exact_values or a >= k else None
    shown_b = b if exact_values or b >= k else None
    if shown_a is None and shown_b is None:
        return None
    if shown_a is None or shown_b is None:  # one withheld: the direction is plain, the number is not given
        return {"from": shown_a, "to": shown_b, "change": None, "trend": "more" if shown_a is None else "fewer"}
    change = b - a
    if abs(change) < k:
        return {"from": shown_a, "to": shown_b, "change": None, "trend": "small"}
    return {"from": shown_a, "to": shown_b, "change": change, "trend": _trend(change)}


def _trend(change) -> str:
    return "more" if change > 0 else "fewer" if change < 0 else "same"


# -- indicators -----------------------------------------------------------------------------------------------


def indicator_places(ws, r: Round, area=None) -> dict[str, int]:
    """At how many distinct places (within ``area``) each indicator was observed in round ``r``."""
    seen: dict[str, set] = {}
    rows = round_store.annotations_of_round(ws.db, r.id)
    keys = {(row["place_table"], int(row["place_fid"])) for row in rows if row["place_fid"] is not None}
    inside = _inside(keys, positions(ws, keys) if area is not None else {}, area)
    for row in rows:
        key = (row["place_table"], int(row["place_fid"])) if row["place_fid"] is not None else None
        if key in inside:
            for ind in stored_ids(row["indicators"]):
                seen.setdefault(ind, set()).add(key)
    return {ind: len(places) for ind, places in seen.items()}


def indicator_rows(ws, a: Round, b: Round, area, profile: str) -> list[dict]:
    """Indicators seen at more or fewer places, with the guidelines' wording."""
    before, after = indicator_places(ws, a, area), indicator_places(ws, b, area)
    catalogue = indicators()
    rows = []
    for ind in [i for i in catalogue if i in before or i in after]:
        cells = change_cells(before.get(ind, 0), after.get(ind, 0), profile)
        if cells is not None:
            rows.append({"indicator": ind, "wording": catalogue[ind].label, "places_from": cells["from"],
                         "places_to": cells["to"], "change": cells["change"], "trend": cells["trend"]})
    order = {"more": 0, "fewer": 1, "small": 2, "same": 3}
    return sorted(rows, key=lambda r: (order[r["trend"]], -abs(r["change"] or 0), r["indicator"]))


# -- estimates ------------------------------------------------------------------------------------------------


def round_estimates(frame, r: Round, area=None):
    """Round ``r``'s estimates (within ``area``), the latest one per risk group and area, with an ``area_key``."""
    import shapely

    rows = frame[frame["round_id"] == r.id]
    if area is not None and len(rows):
        rows = rows[[area.covers(p) for p in rows.geometry.representative_point()]]
    keys = [("name", str(n).strip().casefold()) if isinstance(n, str) and n.strip()
            else ("shape", shapely.set_precision(g, 1e-6).normalize().wkb_hex) for n, g in
            zip(rows["area_name"], rows.geometry)]
    rows = rows.assign(area_key=keys, _day=rows["estimated_on"].fillna("").astype(str))
    rows = rows.reset_index().sort_values(["_day", "fid"])
    return rows.drop_duplicates(["risk_group", "area_key"], keep="last")


def estimate_rows(ws, a: Round, b: Round, area, profile: str) -> tuple[list[dict], list[dict]]:
    """Per risk group: the rounds' sums and their change; per area estimated in both rounds (partner, police)."""
    frame = ws.read_layer("risk_group_estimates")
    before, after = round_estimates(frame, a, area), round_estimates(frame, b, area)
    sums_a = before.groupby("risk_group")["estimate"].sum().to_dict()
    sums_b = after.groupby("risk_group")["estimate"].sum().to_dict()
    n_a, n_b = before["risk_group"].value_counts().to_dict(), after["risk_group"].value_counts().to_dict()
    groups = [_estimate_row({"risk_group": g, "areas_from": int(n_a.get(g, 0)), "areas_to": int(n_b.get(g, 0))},
                            sums_a.get(g), sums_b.get(g), profile) for g in _group_order(set(sums_a) | set(sums_b))]
    if profile == "public":
        return groups, []
    both = before.merge(after, on=["risk_group", "area_key"], suffixes=("_from", "_to"))
    areas = [_estimate_row({"risk_group": row.risk_group, "area_name": _text(row.area_name_to) or _text(row.area_name_from)},
                           row.estimate_from, row.estimate_to, profile) for row in both.itertuples()]
    return groups, sorted(areas, key=lambda r: (r["risk_group"], r["area_name"] or ""))


def _text(value) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _group_order(groups: set) -> list[str]:
    from audit.catalogue import risk_groups

    known = [g["id"] for g in risk_groups()]
    return [g for g in known if g in groups] + sorted(g for g in groups if g not in known)


def _estimate_row(row: dict, a, b, profile: str) -> dict:
    a = None if a is None or a != a else int(a)
    b = None if b is None or b != b else int(b)
    if profile == "public":
        return {**row, "band_from": band(a), "band_to": band(b), "trend": _band_trend(a, b)}
    if a is None or b is None:
        return {**row, "estimate_from": a, "estimate_to": b, "change": None, "trend": "new" if a is None else "ended"}
    cells = change_cells(a, b, profile, exact_values=True)
    return {**row, "estimate_from": a, "estimate_to": b, "change": cells["change"], "trend": cells["trend"]}


def band(n: int | None) -> str | None:
    """The published class of an estimated number (data/sensitivity.json 'banded')."""
    from audit.redaction import banded
    import pandas as pd

    return None if n is None else banded(pd.DataFrame({"estimate": [n]}), _bands())["estimate_class"].iloc[0]


def _bands() -> list[int]:
    from layers.resources import load_json

    return load_json("sensitivity.json")["banded"]["bands"]


def _band_trend(a: int | None, b: int | None) -> str:
    if a is None or b is None:
        return "new" if a is None else "ended"
    index = [sum(n >= lower for lower in _bands()[1:]) for n in (a, b)]
    return "more" if index[1] > index[0] else "fewer" if index[1] < index[0] else "same_class"


# -- notes and the check --------------------------------------------------------------------------------------


def _notes(ws, c: Comparison) -> list[str]:
    k = minimum_count()
    notes = [_("{a} ({da}) compared with {b} ({db}). Each place is assessed from its round's annotations only, "
               "as of {aa} and {ab}. New: annotated only in the later round; no longer found: annotated only in the "
               "earlier round, or deleted since.").format(a=c.first.name, da=c.first.dates, b=c.second.name,
                                                         db=c.second.dates, aa=assessment_date(ws, c.first),
                                                         ab=assessment_date(ws, c.second))]
    if c.common_area is not None:
        notes.append(_("At least one round covers only part of the district: only what lies in the part both "
                       "rounds cover is compared."))
    if c.profile != "police":
        notes.append(_("Counts below {k} are withheld in both rounds, like an empty count; a change computed from a "
                       "withheld count is withheld too, and a change smaller than {k} is never given as a number. "
                       "No place is named and no place's risk level is shown.").format(k=k))
    if c.profile == "public":
        notes.append(_("Estimates are shown only as classes."))
    return notes


def published_problems(c: Comparison) -> list[str]:
    """Anything in a public or partner comparison that the rules above forbid (empty for police)."""
    if c.profile == "police":
        return []
    k = minimum_count()

    def small(value) -> bool:
        return value is not None and 0 < abs(value) < k

    problems = []
    if any("name" in r or small(r.get("count")) for r in c.places):
        problems.append(_("round comparison: a place name or a count below {k}").format(k=k))
    if any(r["places"] < k for r in c.drivers):
        problems.append(_("round comparison: a driver counted at fewer than {k} places").format(k=k))
    for r in c.indicators:
        if small(r["places_from"]) or small(r["places_to"]) or small(r["change"]):
            problems.append(_("round comparison: {what} shows a number below {k}").format(what=r["indicator"], k=k))
    for r in c.estimates + c.estimate_areas:
        if small(r.get("change")) or (c.profile == "public" and ("estimate_from" in r or "change" in r)):
            problems.append(_("round comparison: an estimate or its change shown too exactly"))
    return problems


def require_published(c: Comparison) -> None:
    problems = published_problems(c)
    if problems:
        raise DisclosureError(_("The disclosure check stopped the export:") + "\n" + "\n".join(problems))


def level_text(level: str | None) -> str:
    return level_label(level) if level else "—"




# -- words for people (the window's tables, the command line) ------------------------------------------------


def count_text(value) -> str:
    """A published count: the number, or 'fewer than 5' where it is withheld."""
    return str(value) if value is not None else _("fewer than {k}").format(k=minimum_count())


def change_text(row: dict) -> str:
    """A row's change: '+7', '−3', or its trend in words where the number is not given."""
    change = row.get("change")
    if change is not None and change != 0:
        return f"{'+' if change > 0 else '−'}{abs(change)}"
    return trend_label(row["trend"])


def group_label(group_id: str) -> str:
    from audit.catalogue import risk_groups
    from layers.i18n import label

    return next((label(g) for g in risk_groups() if g["id"] == group_id), group_id)
