"""The risk surface: a hexagonal grid over the district combining three signals.

Method (also shown in the app's help and printed on every export):

1. A hexagonal grid covers the district, in its metric CRS (LKS-92 in
   Latvia, else the district's UTM zone). ``cell_size`` is the distance between neighbouring cell
   centres (default 250 m).
2. Three components per cell:
   - **people**: risk-group estimates of the selected groups, spread over
     the cells they overlap in proportion to the overlapping area;
   - **places**: annotated places, each adding the weight of its risk level
     (low 1, elevated 2, high 4 by default) to the cell it lies in;
   - **cases**: reported cases of the selected forms of exploitation,
     counted per cell (only counts ever leave this step).
3. Each component is divided by its largest cell value (so all run 0–1),
   and the risk index is 100 × the weighted mean of the three, with weights
   the user sees and edits.

For public and partner output (``SurfaceParams.profile``), cases and
assessed places are first counted on the fixed 250 m grid the partner export
publishes, and a grid cell with fewer than the minimum (5) counts as empty
*before* the index is computed: one record never changes what those
audiences see, and no plan reveals more than the published counts. Filters
by form apply only to police surfaces; public surfaces use estimates only as
their bands. The grid's extent follows the layers the audience receives
exactly, never the cases.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np

from audit.redaction import district_bounds, district_crs, fixed_cell_size, minimum_count
from layers.errors import LanternError
from layers.resources import load_json
from layers.i18n import _
from layers import hexgrid
from layers.point_batches import CellTally, point_batches

DEFAULT_WEIGHTS = {"people": 1.0, "places": 1.0, "cases": 1.0}
DEFAULT_LEVEL_WEIGHTS = {"none": 0.0, "low": 1.0, "elevated": 2.0, "high": 4.0}
SMALL_COUNT = minimum_count()


class Cancelled(LanternError):
    """The user cancelled the computation; nothing was written."""


def checkpoint(cancelled) -> None:
    """Stop here (raise Cancelled) when ``cancelled()`` says the user asked to."""
    if cancelled is not None and cancelled():
        raise Cancelled(_("Planning cancelled."))


@dataclass
class SurfaceParams:
    cell_size: float = 250.0
    groups: frozenset[str] | None = None  # None: every risk group
    forms: frozenset[str] | None = None  # None: every form of exploitation
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    level_weights: dict = field(default_factory=lambda: dict(DEFAULT_LEVEL_WEIGHTS))
    as_of: dt.date | None = None
    profile: str = "public"  # who the surface is for: public and partner surfaces suppress small counts


@dataclass
class Surface:
    cells: object  # GeoDataFrame in the metric CRS: q, r, cell, people, places, cases, risk
    crs: object
    params: SurfaceParams

    def to_wgs84(self):
        return self.cells.to_crs(4326)


def method_text(params: SurfaceParams | None = None) -> str:
    """The method in a few sentences, with the weights used — for help and exports."""
    p = params or SurfaceParams()
    w = p.weights
    lw = p.level_weights
    return _(
        "Risk surface: hexagonal cells of {size:.0f} m (centre to centre) in a local metric projection. "
        "Each cell combines (1) risk-group estimates spread over the cells by overlapping area, (2) annotated places "
        "weighted by their risk level (low {low:g}, elevated {el:g}, high {hi:g}), and (3) counts of reported cases. "
        "Each component is scaled to 0–1 by its largest cell; the index is 100 × the weighted mean "
        "(weights: people {wp:g}, places {wpl:g}, cases {wc:g}). In public and partner maps cases and assessed "
        "places are first counted on the fixed 250 m sharing grid, and a grid cell with fewer than {k} counts as a "
        "cell with none: it shows nothing and adds nothing to the index; filters by form of exploitation apply only "
        "to police maps, and public maps use estimates only as their bands. Where a 250 m grid shows too little, "
        "choose a coarser grid (500 or 1000 m)."
    ).format(k=SMALL_COUNT, size=p.cell_size, low=lw["low"], el=lw["elevated"], hi=lw["high"], wp=w["people"], wpl=w["places"],
             wc=w["cases"])


def published_points(points, weights, profile: str):
    """What public and partner surfaces may use of confidential points: cells of the fixed sharing grid.

    For police, the points themselves. Otherwise each point is counted in the
    fixed, origin-anchored grid the partner export publishes (250 m); a grid
    cell with fewer than the minimum is dropped, and a kept one is one point at
    its centre carrying the sum of its weights. Any surface, at any cell size,
    is then a function of counts that may be published anyway, so no two
    plans can be differenced into a small count.
    """
    import geopandas as gpd

    if profile == "police" or len(points) == 0:
        return points, np.asarray(weights, dtype=float)
    size = fixed_cell_size()
    keys, _counts, sums = hexgrid.populated(points.x.to_numpy(), points.y.to_numpy(), size, SMALL_COUNT, weights)
    cx, cy = hexgrid.centres(keys[:, 0], keys[:, 1], size)
    return gpd.GeoSeries.from_xy(cx, cy, crs=points.crs), sums


def band_value(n: float, bands: list[int]) -> float:
    """The middle of an estimate's published band (public surfaces use only what the bands say)."""
    for lower, upper in zip(bands, bands[1:]):
        if n < upper:
            return (max(lower, 1) + upper - 1) / 2
    return float(bands[-1])


def _people(cells, estimates, groups) -> np.ndarray:
    import geopandas as gpd

    people = np.zeros(len(cells))
    if estimates is None or len(estimates) == 0:
        return people
    if groups is not None:
        estimates = estimates[estimates["risk_group"].isin(groups)]
    if len(estimates) == 0:
        return people
    est = estimates[["estimate", "geometry"]].reset_index(drop=True)
    est["est_area"] = est.geometry.area
    grid = gpd.GeoDataFrame({"cell": np.arange(len(cells))}, geometry=cells.geometry.values, crs=cells.crs)
    pieces = gpd.overlay(est.reset_index(names="est"), grid, how="intersection", keep_geom_type=True)
    share = pieces.geometry.area / pieces["est_area"]
    np.add.at(people, pieces["cell"].to_numpy(), (share * pieces["estimate"].astype(float)).to_numpy())
    return people


def _bin(cells, points, weights, cell_size) -> np.ndarray:
    if points is None or len(points) == 0:
        return np.zeros(len(cells))
    return hexgrid.count(cells["q"].to_numpy(), cells["r"].to_numpy(), points.x.to_numpy(), points.y.to_numpy(),
                         cell_size, weights=weights).astype(float)


def compute(workspace, params: SurfaceParams | None = None, progress=None, cancelled=None) -> Surface:
    """The risk surface of a workspace. ``progress(fraction, message)``; ``cancelled() -> bool`` is asked
    between steps and between batches of cases (raises Cancelled)."""
    p = params or SurfaceParams()
    say = progress or (lambda f, m: None)
    say(0.05, _("Building the hexagonal grid"))
    if p.profile != "police":  # a filtered count could be differenced against the published total
        p = replace(p, forms=None)
    cells, metric = _grid(workspace, p)
    checkpoint(cancelled)
    say(0.25, _("Spreading risk-group estimates"))
    people = _people_component(workspace, cells, metric, p)
    checkpoint(cancelled)
    say(0.5, _("Weighting annotated places"))
    places = _places_component(workspace, cells, metric, p)
    checkpoint(cancelled)
    say(0.7, _("Counting reported cases"))

    def counted(fraction: float) -> None:
        checkpoint(cancelled)
        say(0.7 + 0.2 * fraction, _("Counting reported cases"))

    cases = _cases_component(workspace, cells, metric, p, progress=counted)
    say(0.9, _("Combining"))
    _combine(cells, people, places, cases, p.weights)
    say(1.0, _("Risk surface ready"))
    return Surface(cells=cells, crs=metric, params=p)


def _grid(workspace, p: SurfaceParams):
    """The hexagonal cells covering the district the audience receives, and the metric CRS they are in."""
    import geopandas as gpd

    bounds = district_bounds(workspace, p.profile)
    if bounds is None:
        raise ValueError(_("the workspace is empty: there is no district to cover"))
    district = gpd.GeoSeries.from_xy([bounds[0], bounds[2]], [bounds[1], bounds[3]], crs=4326)
    metric = district_crs(workspace)
    box = district.to_crs(metric).total_bounds
    q, r = hexgrid.covering(tuple(box), p.cell_size)
    cells = gpd.GeoDataFrame({"q": q, "r": r}, geometry=hexgrid.polygons(q, r, p.cell_size), crs=metric)
    return cells, metric


def _people_component(workspace, cells, metric, p: SurfaceParams) -> np.ndarray:
    """Risk-group estimates spread over the cells (as the middle of their bands for the public)."""
    estimates = workspace.read_layer("risk_group_estimates").to_crs(metric)
    if p.profile == "public":  # the public sees estimates only as bands
        bands = load_json("sensitivity.json")["banded"]["bands"]
        estimates = estimates.assign(estimate=[band_value(n, bands) if n == n and n is not None else 0
                                               for n in estimates["estimate"]])
    return _people(cells, estimates, p.groups)


def _places_component(workspace, cells, metric, p: SurfaceParams) -> np.ndarray:
    """Assessed places binned into the cells, each weighted by its risk level.

    Only the assessed places' positions are read (their representative points), not the place layers.
    """
    import geopandas as gpd

    from audit.annotations import place_assessments

    levels = place_assessments(workspace, p.as_of or dt.date.today(), forms=p.forms)
    weighted = [(table, fid, p.level_weights.get(a.level, 0.0)) for (table, fid), a in levels.items()]
    weighted = [w for w in weighted if w[2] > 0]
    where: dict[tuple[str, int], tuple[float, float]] = {}
    for table in sorted({t for t, _f, _w in weighted}):
        for batch in point_batches(workspace, table, fids=[f for t, f, _w in weighted if t == table]):
            where.update(((table, int(f)), xy) for f, xy in zip(batch.fids, zip(batch.x, batch.y)))
    found = [(where[(t, f)], w) for t, f, w in weighted if (t, f) in where]  # in the assessments' order
    x = [xy[0] for xy, _w in found]
    y = [xy[1] for xy, _w in found]
    located, wts = published_points(gpd.GeoSeries.from_xy(x, y, crs=4326).to_crs(metric), [w for _xy, w in found],
                                    p.profile)
    return _bin(cells, located, wts, p.cell_size)


def _cases_component(workspace, cells, metric, p: SurfaceParams, progress=None) -> np.ndarray:
    """Reported cases (of the selected forms, for police) counted per cell.

    Read a batch at a time and counted on the way (on the fixed sharing grid first for public and partner
    surfaces): memory follows the grid, not the million cases. Same figures as binning them all at once.
    """
    from pyproj import Transformer

    from audit.filters import forms_match

    to_metric = Transformer.from_crs("EPSG:4326", metric, always_xy=True)
    say = progress or (lambda f: None)
    total = max(workspace.count("reported_cases"), 1)
    shared = CellTally(fixed_cell_size()) if p.profile != "police" else None
    counts = np.zeros(len(cells))
    done = 0
    for batch in point_batches(workspace, "reported_cases", ("forms",) if p.forms is not None else ()):
        x, y = batch.x, batch.y
        if p.forms is not None:
            keep = np.fromiter((forms_match(f, p.forms) for f in batch.columns["forms"]), dtype=bool, count=len(x))
            x, y = x[keep], y[keep]
        mx, my = to_metric.transform(x, y)
        if shared is not None:
            shared.add(mx, my)
        else:
            counts += hexgrid.count(cells["q"].to_numpy(), cells["r"].to_numpy(), mx, my, p.cell_size,
                                    weights=np.ones(len(mx)))
        done += len(batch.fids)
        say(done / total)
    if shared is None:
        return counts
    keys, _counts, sums = shared.result(SMALL_COUNT)
    cx, cy = hexgrid.centres(keys[:, 0], keys[:, 1], fixed_cell_size())
    return hexgrid.count(cells["q"].to_numpy(), cells["r"].to_numpy(), cx, cy, p.cell_size, weights=sums).astype(float)


def _combine(cells, people, places, cases, weights: dict) -> None:
    """Store the components on the cells and the risk index: 100 × the weighted mean of the scaled components."""
    cells["people"] = people
    cells["places"] = places
    cells["cases"] = cases.astype(int)
    total_weight = sum(weights.values()) or 1.0
    index = np.zeros(len(cells))
    for name, values in (("people", people), ("places", places), ("cases", cases)):
        top = values.max() if len(values) else 0
        if top > 0:
            index += weights.get(name, 0.0) * values / top
    cells["risk"] = 100 * index / total_weight
    cells["cell"] = [f"{a}_{b}" for a, b in zip(cells["q"], cells["r"])]
