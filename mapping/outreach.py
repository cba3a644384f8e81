"""An outreach plan: the risk surface, candidate sites, and the chosen campaign sites with reasons."""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import numpy as np

from layers.i18n import N_, _, label, ngettext, percent
from layers.resources import load_json
from mapping import site_selection
from mapping.risk_surface import Surface, SurfaceParams, checkpoint, compute


def candidate_categories() -> list[dict]:
    return load_json("outreach_candidates.json")["categories"]


def default_categories() -> list[str]:
    return [c["id"] for c in candidate_categories() if c.get("default")]


def candidates(workspace, categories, extra_points=(), profile: str = "public") -> "object":
    """Candidate sites (GeoDataFrame, EPSG:4326): name, category, kind, fid. ``extra_points``: (lon, lat, name).

    Only layers that ``profile`` receives at exact positions give candidates
    (a public plan never names a shelter or a place of concern). In a police
    plan places with annotations are not candidates (a campaign there could
    warn the suspects). Public and partner plans do not look at annotations at
    all: leaving an audited public place out would itself tell which one was
    audited.
    """
    from audit.redaction import share_rule

    import geopandas as gpd
    import shapely

    from audit.annotations import all_annotations

    wanted = [c for c in candidate_categories() if c["id"] in set(categories)]
    rows, geoms = [], []
    seen = set(all_annotations(workspace)) if profile == "police" else set()  # (kind, fid) of annotated places
    frames = {}
    for cat in wanted:
        for source in cat["from"]:
            kind_id = source["kind"]
            rule = share_rule(kind_id, profile)
            if rule is None or rule["form"] != "features":
                continue
            frame = frames.setdefault(kind_id, workspace.read_layer(kind_id))
            values = frame[source["field"]]
            chosen = frame if source["values"] == "*" else frame[values.isin(source["values"])]
            for fid, name, geom in zip(chosen.index, chosen["name"], chosen.geometry):
                if (kind_id, int(fid)) in seen or geom is None:
                    continue
                seen.add((kind_id, int(fid)))
                rows.append({"name": name, "category": cat["id"], "category_label": label(cat), "kind": kind_id,
                             "fid": int(fid)})
                geoms.append(geom.representative_point() if geom.geom_type != "Point" else geom)
    for lon, lat, name in extra_points:
        rows.append({"name": name, "category": "drawn", "category_label": _("Drawn by the planner"), "kind": "",
                     "fid": -1})
        geoms.append(shapely.Point(lon, lat))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326) if rows else gpd.GeoDataFrame(
        {"name": [], "category": [], "category_label": [], "kind": [], "fid": []}, geometry=[], crs=4326)


@dataclass
class OutreachParams:
    k: int = 5
    radius: float = 500.0
    surface: SurfaceParams = field(default_factory=SurfaceParams)
    categories: list[str] = field(default_factory=default_categories)
    method: str = "greedy"  # or "exact"
    locked: list[int] = field(default_factory=list)  # candidate indices
    excluded: list[int] = field(default_factory=list)
    extra_points: list[tuple[float, float, str]] = field(default_factory=list)
    profile: str = "public"  # who the plan is made for: decides candidates and the surface's suppression


@dataclass
class OutreachPlan:
    params: OutreachParams
    surface: Surface
    candidates: object  # GeoDataFrame 4326
    plan: site_selection.Plan
    sites: object  # GeoDataFrame 4326, one row per chosen site, ranked
    coverage: object  # GeoDataFrame 4326: the walking-distance circle of each site

    def quality_text(self) -> str:
        p = self.plan
        text = ngettext("The {k} site covers {share} of the total risk.", "The {k} sites cover {share} of the total risk.",
                        len(p.sites)).format(k=len(p.sites), share=percent(p.share))
        if p.proven_optimal:
            text += " " + _("This plan is proven optimal.")
        else:
            if "time limit reached" in p.method:
                text += " " + _("The exact search stopped at its time limit, before it could prove the plan optimal.")
            source = _(BOUND_NAMES[p.bound_source]) if p.bound_source in BOUND_NAMES else p.bound_source
            text += " " + _("Certified gap to the optimum: at most {gap} ({source} bound).").format(
                gap=percent(p.gap), source=source)
        return text


#: where a plan's bound comes from (mapping.site_selection's names), in words for the reader
BOUND_NAMES = {"submodular": N_("submodularity"), "Lagrangian": N_("Lagrangian relaxation"),
               "LP relaxation": N_("LP relaxation"), "HiGHS": N_("HiGHS solver")}


def _groups_reached(estimates, circle) -> list[str]:
    if len(estimates) == 0:
        return []
    hit = estimates[estimates.intersects(circle)]
    return sorted(set(hit["risk_group"]))


def plan_outreach(workspace, params: OutreachParams | None = None, progress=None, cancelled=None) -> OutreachPlan:
    """Compute the risk surface, the candidates, and choose k sites.

    ``progress(fraction, message)``; ``cancelled() -> bool`` is asked between steps and while the cases are
    counted: when it says yes, ``mapping.risk_surface.Cancelled`` is raised (the panel's worker passes both)."""
    import geopandas as gpd

    p = params or OutreachParams()
    p = replace(p, surface=replace(p.surface, profile=p.profile))
    say = progress or (lambda f, m: None)
    surface = compute(workspace, p.surface, progress=lambda f, m: say(0.6 * f, m), cancelled=cancelled)
    metric = surface.crs
    cands = candidates(workspace, p.categories, p.extra_points, p.profile)
    checkpoint(cancelled)
    if len(cands) == 0:
        raise ValueError(_("no candidate sites: choose other categories, or draw candidate points"))
    say(0.65, ngettext("Choosing {k} site among {n} candidates", "Choosing {k} sites among {n} candidates", p.k).format(
        k=p.k, n=len(cands)))
    cells = surface.cells
    demand = cells[cells["risk"] > 0]
    centres = np.column_stack([demand.geometry.centroid.x, demand.geometry.centroid.y])
    cand_metric = cands.to_crs(metric)
    cand_xy = np.column_stack([cand_metric.geometry.x, cand_metric.geometry.y])
    instance = site_selection.Instance.build(cand_xy, centres, demand["risk"].to_numpy(), p.radius)
    if p.method == "exact":
        plan = site_selection.exact(instance, p.k, p.locked, p.excluded)
    else:
        plan = site_selection.greedy(instance, p.k, p.locked, p.excluded)
    checkpoint(cancelled)
    say(0.9, _("Explaining the choice"))
    estimates = workspace.read_layer("risk_group_estimates").to_crs(metric)
    rows, circles = _explain_sites(plan, instance, cands, cand_metric, estimates, p)
    sites = gpd.GeoDataFrame(rows, geometry=[cands.geometry.iloc[j] for j in plan.sites], crs=4326)
    coverage = gpd.GeoDataFrame({"rank": [r["rank"] for r in rows]}, geometry=circles, crs=metric).to_crs(4326)
    say(1.0, _("Plan ready"))
    return OutreachPlan(p, surface, cands, plan, sites, coverage)



def _explain_sites(plan, instance, cands, cand_metric, estimates, p: OutreachParams):
    """One row per chosen site, in order of choice (what it adds, whom it reaches, why), and its circle."""
    from audit.catalogue import risk_groups

    group_names = {g["id"]: label(g) for g in risk_groups()}
    rows, circles = [], []
    for rank, (j, gain) in enumerate(zip(plan.sites, plan.gains), start=1):
        idx = instance.cover[j]
        circle = cand_metric.geometry.iloc[j].buffer(p.radius, quad_segs=32)
        groups = [group_names.get(g, g) for g in _groups_reached(estimates, circle)]
        share_gain = gain / plan.total if plan.total else 0
        reason = _("adds {gain} of the district's risk; covers {cells} cells").format(gain=percent(share_gain), cells=len(idx))
        if groups:
            reason += "; " + _("reaches: {groups}").format(groups=" | ".join(groups))
        if j in p.locked:
            reason = _("locked in by the planner") + "; " + reason
        rows.append({
            "rank": rank,
            "name": cands["name"].iloc[j],
            "category": cands["category_label"].iloc[j],
            "marginal_gain": round(float(gain), 2),
            "marginal_share": round(float(share_gain), 4),
            "covered_risk": round(float(instance.weights[idx].sum()), 2),
            "cells_covered": int(len(idx)),
            "groups_reached": " | ".join(groups),
            "reason": reason,
            "candidate": int(j),
            "kind": cands["kind"].iloc[j],
        })
        circles.append(circle)
    return rows, circles

def plan_json(plan: OutreachPlan) -> str:
    """A compact summary (for logs and tests)."""
    return json.dumps({"sites": plan.sites["name"].tolist(), "share": plan.plan.share, "gap": plan.plan.gap})
