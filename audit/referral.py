"""The referral helper: which services suit a situation, nearest first, open now or not.

Nothing about the person is stored: the situation lives only in memory.
Distances are straight lines in a local metric projection; the walking time
assumes 5 km/h along a path 1.3 × the straight line (a common detour factor in
city centres), because Lantern has no routing network.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from layers.crs import metric_crs
from layers.i18n import _
from layers.values import stored_ids

WALK_KMH = 5.0
DETOUR = 1.3
_ALIASES = {"24/7/365": "24/7", "always": "24/7"}  # common in hand-typed service lists, not OSM syntax


@dataclass(frozen=True)
class Situation:
    form: str | None = None  # form of exploitation
    sex: str | None = None  # female / male / other
    age_band: str | None = None  # a reported-case age band, e.g. "14-17"
    language: str | None = None  # ISO 639-1 code
    urgency: str = "soon"  # "now" (must be open now), "soon", "routine"


@lru_cache(maxsize=4096)
def _parse(text: str, where: tuple[float, float] | None):
    """OSM opening_hours (opening-hours-py) or None when unreadable. ``where`` = (lon, lat) lets the library
    find the country, hence its public holidays ("PH off"); without it PH rules never apply."""
    from opening_hours import OpeningHours

    text = _ALIASES.get(text.casefold(), text)
    try:
        if where is not None:
            try:
                return OpeningHours(text, coords=(where[1], where[0]), auto_timezone=False)
            except Exception:  # noqa: BLE001 — coordinates outside any known country: no holidays, still usable
                pass
        return OpeningHours(text)
    except Exception:  # noqa: BLE001 — ParserError: free text such as "by appointment"
        return None


def always_open(hours: str | None) -> bool:
    """Open around the clock ('24/7', 'Mo-Su 00:00-24:00'; not '24/7; PH off')."""
    parsed = _parse(_text(hours).strip(), None)
    return parsed is not None and str(parsed.normalize()) == "24/7"


def is_open(hours: str | None, when: dt.datetime, where: tuple[float, float] | None = None) -> bool | None:
    """Open at ``when`` (the service's local wall-clock time)? None: hours missing, unreadable or "unknown".

    Full OSM syntax: overnight spans ('Mo-Su 22:00-06:00'), split hours ('09:00-13:00,14:00-18:00'), day lists
    ('Mo,We,Fr'), and public holidays ('PH off') when ``where`` (lon, lat) places the service in a country."""
    parsed = _parse(_text(hours).strip(), None if where is None else (float(where[0]), float(where[1])))
    if parsed is None:
        return None
    if when.tzinfo is not None:  # the hours are a wall clock; the user is where the services are
        when = when.astimezone().replace(tzinfo=None)
    if parsed.is_unknown(when):
        return None
    return bool(parsed.is_open(when))


def _ids(value) -> set[str]:
    return set(stored_ids(value))


def _serves(row: dict, s: Situation) -> tuple[bool, list[str]]:
    """(suitable, why) — an empty list on the service means it serves everyone."""
    why = []
    forms, sexes, ages = _ids(row.get("serves_forms")), _ids(row.get("serves_sex")), _ids(row.get("serves_ages"))
    if s.form:
        if forms and s.form not in forms:
            return False, []
        why.append(_("serves this form of exploitation") if forms else _("serves every form"))
    if s.sex and sexes and s.sex not in sexes:
        return False, []
    if s.age_band:
        minor = s.age_band in ("0-13", "14-17")
        if ages and ("minors" if minor else "adults") not in ages:
            return False, []
        if minor and "minors" in ages:
            why.append(_("works with minors"))
    if s.language:
        languages = {x.strip().casefold() for x in str(row.get("languages") or "").split(",") if x.strip()}
        if languages and s.language.casefold() not in languages and row.get("service_type") != "interpretation":
            return False, []
        if s.language.casefold() in languages:
            why.append(_("speaks {lang}").format(lang=s.language))
    return True, why


def _text(value) -> str:
    from layers.values import is_missing

    return "" if is_missing(value) else str(value)


def suitable_services(services, situation: Situation, location=None, when: dt.datetime | None = None) -> list[dict]:
    """Suitable services, nearest first (those without a position last), with distance, walk time and open status.

    ``services``: the workspace's services layer (GeoDataFrame, EPSG:4326); ``location``: (lon, lat) or None.
    """
    import geopandas as gpd
    import shapely

    from layers.catalogue import kind as get_kind

    when = when or dt.datetime.now()
    assistance = {c.id: c.label for c in get_kind("services").field("assistance").choices}
    types = {c.id: c.label for c in get_kind("services").field("service_type").choices}
    distances = {}
    located = services[services.geometry.notna()]
    points = located.geometry.representative_point()
    places = dict(zip(located.index, zip(points.x.round(3), points.y.round(3))))  # for public holidays
    if location is not None and len(located):
        here = gpd.GeoSeries([shapely.Point(location)], crs=4326)
        metric = metric_crs(here)
        d = points.to_crs(metric).distance(here.to_crs(metric).iloc[0])
        distances = dict(zip(located.index, d))
    out = []
    for fid, row in zip(services.index, services.drop(columns="geometry").to_dict("records")):
        ok, why = _serves(row, situation)
        if not ok:
            continue
        open_now = is_open(row.get("hours"), when, places.get(fid, location))
        if situation.urgency == "now" and open_now is not True:
            continue
        metres = distances.get(fid)
        out.append({
            "fid": int(fid), "name": row["name"], "type": types.get(row.get("service_type"), row.get("service_type")),
            "offers": [assistance[a] for a in assistance if a in _ids(row.get("assistance"))],
            "distance_m": None if metres is None else round(float(metres)),
            "walk_min": None if metres is None else round(metres * DETOUR / (WALK_KMH * 1000 / 60)),
            "open_now": open_now, "always_open": always_open(row.get("hours")),
            "phone": _text(row.get("phone")), "hours": _text(row.get("hours")),
            "accepts_undocumented": bool(row.get("accepts_undocumented")), "why": why,
        })
    out.sort(key=_now_first if situation.urgency == "now" else _nearest_first)
    return out


def _nearest_first(r: dict) -> tuple:
    return r["distance_m"] is None, r["distance_m"] or 0, r["name"]


def _now_first(r: dict) -> tuple:
    """Help needed now: services open around the clock first; among them, lines without an address (reached
    by phone from wherever the person is) before places one has to walk to; then the rest, nearest first."""
    return not r["always_open"], r["distance_m"] is not None, r["distance_m"] or 0, r["name"]
