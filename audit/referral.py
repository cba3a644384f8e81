"""The referral helper: which services suit a situation, nearest first, open now or not.

Nothing about the person is stored: the situation lives only in memory.
Distances are straight lines in a local metric projection; the walking time
assumes 5 km/h along a path 1.3 × the straight line (a common detour factor in
city centres), because Lantern has no routing network.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from layers.i18n import _
from layers.values import stored_ids

WALK_KMH = 5.0
DETOUR = 1.3
_DAYS = ["mo", "tu", "we", "th", "fr", "sa", "su"]
_SPAN = re.compile(r"^\s*(?:(?P<d1>[a-z]{2})(?:\s*-\s*(?P<d2>[a-z]{2}))?\s+)?(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*$")


@dataclass(frozen=True)
class Situation:
    form: str | None = None  # form of exploitation
    sex: str | None = None  # female / male / other
    age_band: str | None = None  # a reported-case age band, e.g. "14-17"
    language: str | None = None  # ISO 639-1 code
    urgency: str = "soon"  # "now" (must be open now), "soon", "routine"


_ALWAYS = ("24/7", "24/7/365", "always", "mo-su 00:00-24:00", "00:00-24:00")


def always_open(hours: str | None) -> bool:
    """Open around the clock ('24/7', 'Mo-Su 00:00-24:00')."""
    return _text(hours).strip().casefold() in _ALWAYS


def is_open(hours: str | None, when: dt.datetime) -> bool | None:
    """Open at ``when``? '24/7', 'Mo-Fr 10:00-18:00; Sa 10:00-14:00' (None: hours unknown or unreadable)."""
    if not _text(hours).strip():
        return None
    text = str(hours).strip().casefold()
    if text in ("24/7", "24/7/365", "always"):
        return True
    day = _DAYS[when.weekday()]
    minute = when.hour * 60 + when.minute
    understood = False
    for part in text.split(";"):
        m = _SPAN.match(part)
        if not m:
            continue
        understood = True
        d1, d2 = m.group("d1"), m.group("d2")
        if d1 and d1 not in _DAYS or d2 and d2 not in _DAYS:
            continue
        days = _DAYS if not d1 else (_DAYS[_DAYS.index(d1):_DAYS.index(d2) + 1] if d2 else [d1])
        start = int(m.group("h1")) * 60 + int(m.group("m1"))
        end = int(m.group("h2")) * 60 + int(m.group("m2"))
        if day in days and start <= minute < end:
            return True
    return False if understood else None


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
    if location is not None and len(located):
        here = gpd.GeoSeries([shapely.Point(location)], crs=4326)
        metric = here.estimate_utm_crs()
        d = located.geometry.representative_point().to_crs(metric).distance(here.to_crs(metric).iloc[0])
        distances = dict(zip(located.index, d))
    out = []
    for fid, row in zip(services.index, services.drop(columns="geometry").to_dict("records")):
        ok, why = _serves(row, situation)
        if not ok:
            continue
        open_now = is_open(row.get("hours"), when)
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
