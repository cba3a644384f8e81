"""The change in the risk surface between two audit rounds, per hexagonal cell, and a plain summary for reports.

Each round's surface is built like ``mapping.risk_surface`` for the same profile and on the same grid, from
that round's rows only: its risk-group estimates (the latest per group and area; public: the middle of their
class), and its annotated places weighted by the risk level that round's annotations give them (public and
partner: counted on the fixed 250 m sharing grid first, a grid cell with fewer than 5 counting as none).
Reported cases: police surfaces count the cases reported within each round's dates; public and partner
surfaces use all cases, as every surface they receive does — split by round, two published counts could be
differenced into a small one — so in their comparison cases cancel out.

Both rounds are scaled together (each component by its largest cell in either round), so an index of 40 means
the same in both and the change is the later index minus the earlier. A change is thus computed only from
what the profile may see: a suppressed count is zero in both rounds before anything is subtracted. Cells
outside the part of the district both rounds cover are left out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from audit.round_compare import common_area, compare, positions, round_assessments, round_estimates
from audit.rounds import Round, resolve
from layers.i18n import N_, _, decimal
from layers.resources import load_json
from mapping import risk_surface
from mapping.risk_surface import SurfaceParams, band_value, checkpoint, published_points

#: classes of the change of the risk index (upper bounds) and their colours: falls blue, rises red
CHANGE_BREAKS = (-20.0, -5.0, 5.0, 20.0, 100.0)
CHANGE_COLORS = ("#2166ac", "#92c5de", "#f0f0f0", "#f4a582", "#b2182b")
CHANGE_TEXT = (N_("fell by more than 20"), N_("fell by 5–20"), N_("changed by less than 5"), N_("rose by 5–20"),
               N_("rose by more than 20"))
COMPONENTS = ("people", "places", "cases")


@dataclass
class ChangeSurface:
    """Cells (metric CRS) with each round's components and index, and the change of the index."""

    cells: object  # GeoDataFrame: q, r, cell, {people,places,cases,risk}_{from,to}, change
    crs: object
    profile: str
    first: Round
    second: Round
    params: SurfaceParams

    def to_wgs84(self):
        return self.cells.to_crs(4326)


def change_surface(ws, first, second, profile: str = "public", cell_size: float = 250.0, progress=None,
                   cancelled=None) -> ChangeSurface:
    """The risk surface of rounds ``first`` and ``second`` (Round, id or name) for ``profile``, and its change."""
    say = progress or (lambda f, m: None)
    a, b = resolve(ws, first), resolve(ws, second)
    p = SurfaceParams(cell_size=cell_size, profile=profile)
    say(0.05, _("Building the hexagonal grid"))
    cells, metric = risk_surface._grid(ws, p)
    checkpoint(cancelled)
    area = common_area(a, b)
    shared_cases = None if profile == "police" else risk_surface._cases_component(ws, cells, metric, p)
    for n, (suffix, r) in enumerate((("from", a), ("to", b))):
        say(0.2 + 0.35 * n, _("Computing the risk surface of {round}").format(round=r.name))
        cells[f"people_{suffix}"] = _people(ws, cells, metric, r, area, p)
        checkpoint(cancelled)
        cells[f"places_{suffix}"] = _places(ws, cells, metric, r, area, p)
        cells[f"cases_{suffix}"] = shared_cases if shared_cases is not None else _round_cases(ws, cells, metric, r, p)
        checkpoint(cancelled)
    say(0.9, _("Combining"))
    cells = _combine(cells, p.weights)
    cells = _kept(cells, area)
    say(1.0, _("Risk surface ready"))
    return ChangeSurface(cells, metric, profile, a, b, p)


def _people(ws, cells, metric, r: Round, area, p: SurfaceParams) -> np.ndarray:
    estimates = round_estimates(ws.read_layer("risk_group_estimates"), r, area).set_index("fid").to_crs(metric)
    if p.profile == "public":  # the public sees estimates only as their classes
        bands = load_json("sensitivity.json")["banded"]["bands"]
        estimates = estimates.assign(estimate=[band_value(n, bands) if n == n and n is not None else 0
                                               for n in estimates["estimate"]])
    return risk_surface._people(cells, estimates, p.groups)


def _places(ws, cells, metric, r: Round, area, p: SurfaceParams) -> np.ndarray:
    """The round's assessed places binned into the cells by the weight of their level (suppressed as for the
    profile's risk surface)."""
    import geopandas as gpd
    import shapely

    levels = round_assessments(ws, r)
    weighted = {k: p.level_weights.get(a.level, 0.0) for k, a in levels.items()}
    where = positions(ws, [k for k, w in weighted.items() if w > 0])
    found = [(xy, weighted[k]) for k, xy in sorted(where.items())
             if area is None or area.covers(shapely.Point(xy))]
    points = gpd.GeoSeries.from_xy([xy[0] for xy, _w in found], [xy[1] for xy, _w in found], crs=4326).to_crs(metric)
    located, weights = published_points(points, [w for _xy, w in found], p.profile)
    return risk_surface._bin(cells, located, weights, p.cell_size)


def _round_cases(ws, cells, metric, r: Round, p: SurfaceParams) -> np.ndarray:
    """Police: the cases reported in the months the round spans, counted per cell."""
    from pyproj import Transformer

    from layers import hexgrid
    from layers.point_batches import point_batches

    first, last = (str(r.starts or "0000-00")[:7], str(r.ends or "9999-99")[:7])
    to_metric = Transformer.from_crs("EPSG:4326", metric, always_xy=True)
    counts = np.zeros(len(cells))
    for batch in point_batches(ws, "reported_cases", ("reported",)):
        keep = np.array([bool(m) and first <= str(m)[:7] <= last for m in batch.columns["reported"]], dtype=bool)
        if keep.any():
            x, y = to_metric.transform(batch.x[keep], batch.y[keep])
            counts += hexgrid.count(cells["q"].to_numpy(), cells["r"].to_numpy(), x, y, p.cell_size,
                                    weights=np.ones(len(x)))
    return counts


def _combine(cells, weights: dict):
    """Each round's index on one scale (each component divided by its largest cell in either round)."""
    total = sum(weights.values()) or 1.0
    for suffix in ("from", "to"):
        index = np.zeros(len(cells))
        for name in COMPONENTS:
            top = max(cells[f"{name}_from"].max(), cells[f"{name}_to"].max()) if len(cells) else 0
            if top > 0:
                index += weights.get(name, 0.0) * cells[f"{name}_{suffix}"].to_numpy() / top
        cells[f"risk_{suffix}"] = np.round(100 * index / total, 1)
    cells["change"] = np.round(cells["risk_to"] - cells["risk_from"], 1)
    cells["cell"] = [f"{a}_{b}" for a, b in zip(cells["q"], cells["r"])]
    for name in ("cases_from", "cases_to"):
        cells[name] = cells[name].astype(int)
    for name in ("people_from", "people_to", "places_from", "places_to"):
        cells[name] = np.round(cells[name], 1)
    return cells


def _kept(cells, area):
    """Cells with risk in either round, whose centre lies in the part both rounds cover."""
    keep = (cells["risk_from"] > 0) | (cells["risk_to"] > 0)
    if area is not None:
        import geopandas as gpd

        covered = gpd.GeoSeries([area], crs=4326).to_crs(cells.crs).iloc[0]
        keep &= cells.geometry.centroid.within(covered)
    return cells[keep].reset_index(drop=True)


# -- classes, for maps -------------------------------------------------------------------------------------------


def change_class(value: float) -> int:
    return next((i for i, upper in enumerate(CHANGE_BREAKS) if value < upper), len(CHANGE_BREAKS) - 1)


def change_color(value: float) -> str:
    return CHANGE_COLORS[change_class(value)]


def class_counts(changes) -> list[int]:
    index = [change_class(v) for v in changes]
    return [index.count(i) for i in range(len(CHANGE_BREAKS))]


def change_legend(changes=()) -> dict:
    """The change classes as a legend ({"title", "rows"}), with the number of cells in each when given."""
    counts = class_counts(changes) if len(changes) else None
    rows = [{"color": c, "label": _(t) + (f" ({counts[i]})" if counts else "")}
            for i, (c, t) in enumerate(zip(CHANGE_COLORS, CHANGE_TEXT))]
    return {"title": _("Change of the risk index"), "rows": list(reversed(rows))}


def cell_tip(row: dict) -> str:
    """A cell's tooltip from its allow-listed columns."""
    tip = _("Risk index {a} → {b} (change {c})").format(a=decimal(row["risk_from"]), b=decimal(row["risk_to"]),
                                                       c=("+" if row["change"] > 0 else "") + decimal(row["change"]))
    if "people_from" in row:
        tip += "\n" + _("People in risk groups (estimated): {a} → {b}").format(a=decimal(row["people_from"], 0),
                                                                              b=decimal(row["people_to"], 0))
    if "cases_from" in row:
        tip += "\n" + _("Reported cases: {a} → {b}").format(a=int(row["cases_from"]), b=int(row["cases_to"]))
    return tip


# -- a plain summary for reports -------------------------------------------------------------------------------


def cell_summary(cells) -> dict:
    """How many cells rose, fell or stayed within 5 points, and the largest rise and fall."""
    change = list(cells["change"]) if len(cells) else []
    counts = class_counts(change)
    return {"cells": len(change), "rose": counts[3] + counts[4], "fell": counts[0] + counts[1],
            "little_change": counts[2], "largest_rise": max([0.0, *change]), "largest_fall": min([0.0, *change])}


def round_summary(ws, from_round, to_round, profile: str = "public", cell_size: float = 250.0) -> dict:
    """Everything a report says about progress between two rounds, as plain data (dicts, lists, numbers, text)
    cut to ``profile``: the rounds, the tables of ``audit.round_compare`` and a summary of the cell changes."""
    comparison = compare(ws, from_round, to_round, profile)
    change = change_surface(ws, comparison.first, comparison.second, profile, cell_size)
    return {"profile": profile, "from": comparison.first.as_dict(profile), "to": comparison.second.as_dict(profile),
            "places": comparison.places, "drivers": comparison.drivers, "estimates": comparison.estimates,
            "estimate_areas": comparison.estimate_areas, "indicators": comparison.indicators,
            "cells": cell_summary(change.cells), "notes": comparison.notes}


__all__ = ["ChangeSurface", "change_surface", "change_legend", "change_color", "cell_tip", "cell_summary",
           "round_summary"]
