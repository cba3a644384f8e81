"""What changed after a campaign: counts before and after it, in its catchment and in a comparison area.

For each outcome — hotline contacts, service contacts (``service_contacts``: monthly counts per risk area or
service), referrals and reported cases (``reported_cases``: the month reported, ``referral_made``) — four counts:
the catchment before (a0) and after (a1), the comparison area before (b0) and after (b1). The two windows have the
same length: by default the campaign's own months, at least three, just before its first month and just after its
last (the campaign's own months are in neither).

The difference-in-differences is taken on the rate scale: θ = (a1 / a0) ÷ (b1 / b0), the ratio of the two rate
ratios; θ = 1 means the catchment changed as the comparison area did. With the counts taken as Poisson, given each
area's total a1 | a0 + a1 and b1 | b0 + b1 are binomial, and θ is the odds ratio of the 2×2 table
[[a1, a0], [b1, b0]]; its conditional maximum-likelihood estimate and exact 95 % interval are scipy's
(``scipy.stats.contingency.odds_ratio(kind="conditional")``). Extra variation between months (overdispersion)
would make the true interval wider: the caveats say so, and "small numbers" when a count is under 10.

Suppression: below police level a count under the minimum (``audit.redaction.minimum_count``) is not shown
exactly, and no estimate is shown for an outcome with such a count (the estimate would give the count back).
Nothing here claims that a campaign caused a change.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from audit.campaigns import Campaign, campaign, campaigns
from audit.redaction import PROFILES, district_bounds, district_crs, minimum_count, share_rule
from layers import campaign_store
from layers.errors import LanternError
from layers.i18n import N_, _, decimal, language, ngettext, using

DEFAULT_RADIUS = 500.0  # metres of walking distance around each location
MIN_WINDOW_MONTHS = 3
SMALL_COUNT = 10  # a Poisson count under 10 has a relative standard error over 30 %
LEVEL = 0.95
OUTCOMES = {"hotline": N_("Hotline contacts"), "service": N_("Service contacts"), "referrals": N_("Referrals"),
            "cases": N_("Reported cases")}
CELLS = ("catchment_before", "catchment_after", "comparison_before", "comparison_after")


# -- windows ----------------------------------------------------------------------------------------


def month_add(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7]) - 1 + n
    return f"{year + mon // 12:04d}-{mon % 12 + 1:02d}"


def months_between(first: str, last: str) -> int:
    """Months from ``first`` to ``last``, both counted."""
    return (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7]) + 1


@dataclass(frozen=True)
class Windows:
    before: tuple[str, str]  # first and last month, 'YYYY-MM'
    after: tuple[str, str]
    months: int

    def of(self, month: str) -> str | None:
        """'before', 'after' or None for a month."""
        if self.before[0] <= month <= self.before[1]:
            return "before"
        if self.after[0] <= month <= self.after[1]:
            return "after"
        return None


def windows(c: Campaign, months: int | None = None) -> Windows:
    """Equal windows just before the campaign's first month and just after its last."""
    first, last = c.starts.strftime("%Y-%m"), c.ends.strftime("%Y-%m")
    n = int(months) if months else max(months_between(first, last), MIN_WINDOW_MONTHS)
    if n < 1:
        raise ValueError(_("a window is at least one month"))
    return Windows((month_add(first, -n), month_add(first, -1)), (month_add(last, 1), month_add(last, n)), n)


# -- areas ------------------------------------------------------------------------------------------


@dataclass
class Areas:
    catchment: object  # shapely geometry in ``crs``
    comparison: object
    crs: object
    catchment_note: str
    comparison_note: str


def _to_metric(geom, crs):
    import geopandas as gpd

    return gpd.GeoSeries([geom], crs=4326).to_crs(crs).iloc[0]


def areas(ws, c: Campaign, radius: float = DEFAULT_RADIUS) -> Areas:
    """The catchment (drawn, else ``radius`` m around the locations) and the comparison area (drawn, else the
    district's extent), the catchment taken out of the comparison area so no record counts twice."""
    import geopandas as gpd
    import shapely

    crs = district_crs(ws)
    crs_name = getattr(crs, "name", None) or str(crs)
    if c.catchment is not None:
        catchment = _to_metric(c.catchment, crs)
        catchment_note = _("Catchment: the area drawn for the campaign.")
    elif c.locations:
        points = gpd.GeoSeries.from_xy([loc["lon"] for loc in c.locations], [loc["lat"] for loc in c.locations],
                                       crs=4326).to_crs(crs)
        catchment = shapely.union_all(points.buffer(float(radius), quad_segs=32).to_numpy())
        catchment_note = ngettext("Catchment: within {r} m of the campaign's {n} location, measured in {crs}.",
                                  "Catchment: within {r} m of the campaign's {n} locations, measured in {crs}.",
                                  len(c.locations)).format(r=f"{radius:.0f}", n=len(c.locations), crs=crs_name)
    else:
        raise LanternError(_("the campaign {name!r} has no locations and no catchment: add where it took place")
                           .format(name=c.name))
    if c.comparison_area is not None:
        outer = _to_metric(c.comparison_area, crs)
        comparison_note = _("Comparison area: the area drawn for the campaign, outside the catchment.")
    else:
        bounds = district_bounds(ws, "police") or ws.bounds()
        outer = _to_metric(shapely.box(*bounds), crs) if bounds else catchment
        comparison_note = _("Comparison area: the rest of the district (its extent outside the catchment).")
    return Areas(catchment, outer.difference(catchment), crs, catchment_note, comparison_note)


def _where(points, a: Areas) -> list[str | None]:
    """'catchment', 'comparison' or None for each point (a GeoSeries in EPSG:4326)."""
    import shapely

    if len(points) == 0:
        return []
    metric = points.to_crs(a.crs)
    xs, ys = metric.x.to_numpy(), metric.y.to_numpy()
    inside = shapely.contains_xy(a.catchment, xs, ys)
    other = shapely.contains_xy(a.comparison, xs, ys)
    return ["catchment" if i else "comparison" if o else None for i, o in zip(inside, other)]


# -- counting ---------------------------------------------------------------------------------------


def _empty() -> dict[str, dict[str, int]]:
    return {o: dict.fromkeys(CELLS, 0) for o in OUTCOMES}


def _area_points(ws, tables):
    """(table, fid) → a point on that risk area or service (EPSG:4326)."""
    out = {}
    for table in tables:
        frame = ws.read_layer(table)
        for fid, geom in zip(frame.index, frame.geometry):
            if geom is not None and not geom.is_empty:
                out[(table, int(fid))] = geom if geom.geom_type == "Point" else geom.representative_point()
    return out


def count_contacts(ws, a: Areas, w: Windows, counts: dict) -> dict[str, list[str]]:
    """Add the contact counts of the windows to ``counts``; returns, per channel, the window months with no
    count recorded anywhere (they count as none)."""
    import geopandas as gpd

    rows = campaign_store.contact_rows(ws.db.conn, w.before[0], w.after[1])
    rows = [r for r in rows if w.of(r["month"]) and r["channel"] in ("hotline", "service")]
    points = _area_points(ws, sorted({r["area_table"] for r in rows if r["area_table"]}))
    located = [r for r in rows if (r["area_table"], r["area_fid"]) in points]
    where = _where(gpd.GeoSeries([points[(r["area_table"], r["area_fid"])] for r in located], crs=4326), a)
    for row, place in zip(located, where):
        if place is not None:
            counts[row["channel"]][f"{place}_{w.of(row['month'])}"] += int(row["count"] or 0)
    every = [month_add(w.before[0], i) for i in range(w.months)] + [month_add(w.after[0], i) for i in range(w.months)]
    return {ch: [m for m in every if not any(r["month"] == m and r["channel"] == ch for r in rows)]
            for ch in ("hotline", "service")}


def count_cases(ws, a: Areas, w: Windows, counts: dict) -> None:
    """Add the reported cases and referrals of the windows to ``counts``."""
    cases = campaign_store.cases_between(ws.db.conn, w.before[0], w.after[1])
    cases = cases[cases.geometry.notna()]
    referred_flags = cases["referral_made"].fillna(False).astype(bool)  # unknown is not a referral
    for place, month, referred in zip(_where(cases.geometry, a), cases["reported"], referred_flags):
        window = w.of(str(month))
        if place is None or window is None:
            continue
        counts["cases"][f"{place}_{window}"] += 1
        if referred:
            counts["referrals"][f"{place}_{window}"] += 1


# -- the estimate -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    ratio: float  # θ, the ratio of rate ratios (conditional MLE); 0 or inf at the edges
    low: float
    high: float
    level: float = LEVEL

    @property
    def covers_one(self) -> bool:
        return self.low <= 1 <= self.high


def did(a0: int, a1: int, b0: int, b1: int, level: float = LEVEL) -> Estimate | None:
    """The ratio of rate ratios (a1/a0) ÷ (b1/b0) with its exact conditional interval; None when an area has
    no records in either window (nothing to compare)."""
    from scipy.stats.contingency import odds_ratio

    if a0 + a1 == 0 or b0 + b1 == 0 or a0 + b0 == 0 or a1 + b1 == 0:
        return None
    result = odds_ratio([[a1, a0], [b1, b0]], kind="conditional")
    ci = result.confidence_interval(confidence_level=level)
    return Estimate(float(result.statistic), float(ci.low), float(ci.high), level)


# -- the evaluation ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    outcome: str
    shown: dict[str, int | None]  # the four counts as the profile may see them (None: under the minimum)
    status: str  # estimated | suppressed | not_estimable | window_open
    estimate: Estimate | None = None
    small: bool = False

    @property
    def label(self) -> str:
        return _(OUTCOMES[self.outcome])

    def verdict(self, floor: int) -> str:
        """What the numbers allow one to say, and no more."""
        if self.status == "window_open":
            return _("Not estimated yet: the after window has not ended.")
        if self.status == "suppressed":
            return _("Not shown: a count is under {n}, and small numbers are withheld below police level.").format(
                n=floor)
        if self.status == "not_estimable":
            return _("Not estimated: an area or a window has no records.")
        e = self.estimate
        if e.covers_one:
            text = _("No clear difference: the interval includes 1, the same change as in the comparison area.")
        elif e.low > 1:
            text = _("Rose more, or fell less, in the catchment than in the comparison area.")
        else:
            text = _("Fell more, or rose less, in the catchment than in the comparison area.")
        if self.small:
            text = _("Small numbers: a count is under {n}, so the interval is wide.").format(n=SMALL_COUNT) + " " + text
        return text


def ratio_text(e: Estimate | None) -> str:
    """'1,8 (0,9–3,4)' in the reader's decimal style; '' when there is no estimate."""
    if e is None:
        return ""

    def number(v: float) -> str:
        return "∞" if math.isinf(v) else decimal(v, 2)

    return f"{number(e.ratio)} ({number(e.low)}–{number(e.high)})"


def _outcome(name: str, cells: dict[str, int], profile: str, floor: int, window_open: bool) -> Outcome:
    police = profile == "police"
    shown = {k: v if police or v >= floor else None for k, v in cells.items()}
    small = any(v < SMALL_COUNT for v in cells.values())
    if window_open:
        return Outcome(name, shown, "window_open", small=small)
    if any(v is None for v in shown.values()):
        return Outcome(name, shown, "suppressed", small=small)
    estimate = did(cells["catchment_before"], cells["catchment_after"], cells["comparison_before"],
                   cells["comparison_after"])
    return Outcome(name, shown, "not_estimable" if estimate is None else "estimated", estimate, small)


@dataclass
class Evaluation:
    campaign: Campaign
    profile: str
    windows: Windows
    radius: float
    outcomes: list[Outcome]
    caveats: list[str] = field(default_factory=list)
    floor: int = 5

    def table(self) -> list[dict]:
        """One row per outcome, as printed and written: the counts the profile may see, the ratio, the verdict."""
        return [{"outcome": o.outcome, "label": o.label, **{k: o.shown[k] for k in CELLS},
                 "ratio": None if o.estimate is None else o.estimate.ratio,
                 "low": None if o.estimate is None else o.estimate.low,
                 "high": None if o.estimate is None else o.estimate.high,
                 "status": o.status, "small_numbers": o.small, "verdict": o.verdict(self.floor)}
                for o in self.outcomes]

    def to_dict(self) -> dict:
        """Plain data (already suppressed for the profile)."""
        return {"campaign": self.campaign.name, "campaign_id": self.campaign.id, "profile": self.profile,
                "before": list(self.windows.before), "after": list(self.windows.after),
                "months": self.windows.months, "radius_m": self.radius, "outcomes": self.table(),
                "caveats": list(self.caveats)}


def shown_count(value: int | None, floor: int) -> str:
    return f"<{floor}" if value is None else str(value)


def _caveats(c: Campaign, w: Windows, a: Areas, missing: dict, profile: str, floor: int) -> list[str]:
    out = [_("A comparison of areas and periods, not proof of cause: other events, changes in how contacts are "
             "recorded, and chance can explain a difference."),
           _("Before: {b0} to {b1}; after: {a0} to {a1} ({n} months each); the campaign's own months are in neither.")
           .format(b0=w.before[0], b1=w.before[1], a0=w.after[0], a1=w.after[1], n=w.months),
           a.catchment_note, a.comparison_note,
           _("Ratio = (after ÷ before in the catchment) ÷ (after ÷ before in the comparison area); 1 means the same "
             "change in both. Exact 95 % interval with the counts taken as Poisson; extra variation from month to "
             "month would make the true interval wider.")]
    for channel, months in missing.items():
        if months:
            out.append(_("{outcome}: no count recorded for {months}; counted as none.").format(
                outcome=_(OUTCOMES[channel]), months=", ".join(months)))
    if profile != "police":
        out.append(_("Counts under {n} are shown as “<{n}”, and no ratio is made from them.").format(n=floor))
    return out


def evaluate(ws, key, profile: str = "public", months: int | None = None, radius: float = DEFAULT_RADIUS,
             today=None) -> Evaluation:
    """The evaluation of campaign ``key`` (an id, a name or a Campaign) for ``profile``."""
    import datetime as dt

    if profile not in PROFILES:
        raise ValueError(_("unknown profile {p!r}; choose public, partner or police").format(p=profile))
    c = key if isinstance(key, Campaign) else campaign(ws, key)
    w, a = windows(c, months), areas(ws, c, radius)
    counts = _empty()
    missing = count_contacts(ws, a, w, counts)
    count_cases(ws, a, w, counts)
    floor = minimum_count()
    window_open = w.after[1] >= (today or dt.date.today()).strftime("%Y-%m")
    outcomes = [_outcome(name, counts[name], profile, floor, window_open) for name in OUTCOMES]
    return Evaluation(c, profile, w, float(radius), outcomes, _caveats(c, w, a, missing, profile, floor), floor)


def campaign_summaries(ws, profile: str, lang: str | None = None, today=None) -> list[dict]:
    """Every campaign as plain data for the report, in ``lang``: the fields ``profile`` may see
    (data/sensitivity.json), its audiences, languages and channels in words, its reach, and its evaluation,
    already suppressed for ``profile``."""
    from audit import campaigns as catalogue

    allowed = set((share_rule("campaigns", profile) or {"fields": []})["fields"])
    out = []
    with using(lang or language()) as chosen:
        for c in campaigns(ws):
            entry = {"id": c.id, "name": c.name, "starts": c.starts.isoformat(), "ends": c.ends.isoformat()}
            words = {"audiences": catalogue.labels(c.audiences, catalogue.audiences(), chosen),
                     "languages": catalogue.labels(c.languages, catalogue.languages(), chosen),
                     "channels": catalogue.labels(c.channels, catalogue.channels(), chosen),
                     "materials": c.materials, "people_reached": c.people_reached, "leaflets": c.leaflets,
                     "events": c.events, "action_items": c.action_items, "notes": c.notes}
            entry.update({k: v for k, v in words.items() if k in allowed})
            try:
                entry["evaluation"] = evaluate(ws, c, profile, today=today).to_dict()
            except LanternError as exc:
                entry["evaluation"] = {"error": str(exc)}
            out.append(entry)
    return out


def evaluation_rows(summaries: list[dict]) -> list[dict]:
    """The ``campaign_evaluation`` table of ``campaign_summaries`` (its fields are the allow-list's, in
    data/sensitivity.json): one row per campaign and outcome; a count of None is under the minimum (print "<5")."""
    fields = ("outcome", *CELLS, "ratio", "low", "high", "status", "small_numbers", "verdict")
    return [{"campaign": s["name"], **{k: o[k] for k in fields}}
            for s in summaries for o in s.get("evaluation", {}).get("outcomes", [])]


__all__ = ["Areas", "Estimate", "Evaluation", "Outcome", "Windows", "areas", "campaign_summaries", "did", "evaluate",
           "evaluation_rows", "month_add", "months_between", "ratio_text", "shown_count", "windows"]
