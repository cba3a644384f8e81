"""A hand-built district with two audit rounds and known changes between them (tests of rounds and comparisons).

Places of concern, each in its own 250 m cell (offsets in metres from a point in Rīga):

- ``up``      round A: one weak sign (low)          → round B: three strong signs (high), lab_passport_held among them
- ``down``    round A: trauma + minor (elevated)    → round B: one weak sign (low)
- ``new``     annotated only in round B
- ``gone``    annotated only in round A
- ``deleted`` annotated in round A, the place deleted since (its annotation kept)
- ``same``    the same sign in both rounds

Estimates (areas in a row along the north edge): Market migrant workers 80 → 120 (round B holds an earlier 100 too:
the latest counts), Station homeless 30 → 60, Park prostitution 20 → 23, Harbour begging 15 → (none).
``crowd=True`` adds 12 places farther east: 6 annotated in A (minor + controlled), all 12 in B (minor; 8 of them
also controlled) — counts at or above the minimum, for what public output may show.
"""
from __future__ import annotations

import datetime as dt
import math

import shapely

from audit.annotations import annotate, annotation_values, new_place
from audit.commands import DeleteRow, History
from audit.estimates import record_estimate
from audit.rounds import add_round
from layers.workspace import Workspace

ORIGIN = (24.10, 56.95)
TODAY = dt.date.today()
ROUND_A = ("Round A", TODAY - dt.timedelta(days=500), TODAY - dt.timedelta(days=400))
ROUND_B = ("Round B", TODAY - dt.timedelta(days=150), TODAY - dt.timedelta(days=50))
STRONG = ["lab_passport_held", "gen_controlled", "lab_cannot_quit"]
PLACES = {  # name: (x, y, round A indicators or None, round B indicators or None)
    "up": (500, 500, ["gen_no_local_language"], STRONG),
    "down": (1500, 500, ["gen_trauma_signs", "gen_minor"], ["gen_no_local_language"]),
    "new": (500, 1500, None, ["gen_minor", "gen_controlled"]),
    "gone": (1500, 1500, ["gen_minor"], None),
    "deleted": (2500, 2500, ["gen_violence_signs"], None),
    "same": (2500, 500, ["gen_trauma_signs"], ["gen_trauma_signs"]),
}
ESTIMATES = [  # (area, group, round, estimate, days before the round's end)
    ("Market", "migrant_workers", ROUND_A, 80, 0), ("Market", "migrant_workers", ROUND_B, 100, 60),
    ("Market", "migrant_workers", ROUND_B, 120, 0), ("Station", "homeless", ROUND_A, 30, 0),
    ("Station", "homeless", ROUND_B, 60, 0), ("Park", "prostitution", ROUND_A, 20, 0),
    ("Park", "prostitution", ROUND_B, 23, 0), ("Harbour", "begging_crime", ROUND_A, 15, 0),
]
AREAS = {"Market": 0, "Station": 1000, "Park": 2000, "Harbour": 3000}  # x of each 200 m square, at y = 3600


def lonlat(x: float, y: float) -> tuple[float, float]:
    """A point ``x`` m east and ``y`` m north of ORIGIN."""
    lon0, lat0 = ORIGIN
    return lon0 + x / (111_320 * math.cos(math.radians(lat0))), lat0 + y / 110_540


def square(x: float, y: float, size: float = 200):
    corners = [lonlat(x, y), lonlat(x + size, y), lonlat(x + size, y + size), lonlat(x, y + size)]
    return shapely.Polygon(corners)


def note(fid: int, seen: list[str], day: dt.date, table: str = "places_of_concern") -> dict:
    return annotation_values(table, fid, indicators_seen=seen, observed=day.isoformat(), confidence="high",
                             source="own_observation", author="Tester", team="Team")


def add_place(history: History, x: float, y: float, name: str, category: str = "street_activity") -> int:
    return history.do(new_place("places_of_concern", *lonlat(x, y), {"name": name, "category": category})).row_id


def build(path, crowd: bool = False) -> dict:
    """Write the district to ``path``; returns {"places": name -> fid, "rounds": (id A, id B)}."""
    ws = Workspace.create(path, name="Two rounds")
    try:
        history = History(ws, "Tester")
        for x, y, hub in ((0, 0, "South station"), (3400, 3900, "North station")):  # the public district's extent
            history.do(new_place("transport_hubs", *lonlat(x, y), {"name": hub, "hub_type": "bus_station"}))
        rounds = tuple(history.do(add_round(ws, name, starts, ends, ["Team"])).commands[0].row_id
                       for name, starts, ends in (ROUND_A, ROUND_B))
        fids = {name: add_place(history, x, y, f"Place {name}") for name, (x, y, _a, _b) in PLACES.items()}
        for name, (_x, _y, in_a, in_b) in PLACES.items():
            for seen, (_n, _s, ends) in ((in_a, ROUND_A), (in_b, ROUND_B)):
                if seen:
                    history.do(annotate(note(fids[name], seen, ends)))
        history.do(DeleteRow("places_of_concern", fids["deleted"]))  # the place goes, its annotation stays
        for area, group, (_n, _s, ends), estimate, before in ESTIMATES:
            history.do(record_estimate(square(AREAS[area], 3600), {
                "risk_group": group, "estimate": estimate, "source_institution": "Social services",
                "confidence": "medium", "area_name": area,
                "estimated_on": (ends - dt.timedelta(days=before)).isoformat()}))
        if crowd:
            fids.update(add_crowd(history))
    finally:
        ws.close()
    return {"places": fids, "rounds": rounds}


def add_crowd(history: History) -> dict:
    fids = {}
    for i in range(12):
        fid = add_place(history, 4000 + 400 * (i % 4), 400 * (i // 4), f"Crowd {i + 1}", "migrant_commerce")
        fids[f"crowd{i + 1}"] = fid
        if i < 6:
            history.do(annotate(note(fid, ["gen_minor", "gen_controlled"], ROUND_A[2])))
        history.do(annotate(note(fid, ["gen_minor", "gen_controlled"] if i < 8 else ["gen_minor"], ROUND_B[2])))
    return fids
