"""The outreach-targeting map export: HTML, PDF, PNG, and the sites as GeoPackage and CSV.

Only public, aggregated content goes in: the basemap, the risk surface as
cells (cases only as "fewer than 5" or a count ≥ 5), the chosen sites (public
places) with their coverage circles. No reported-case position, no note, no
author's name ever reaches these files.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from layers.catalogue import layer_kinds
from layers.i18n import _
from mapping.compose import MapLayer, MapOptions, layer_from_frame, write_map
from mapping.outreach import OutreachPlan
from mapping.print_style import BASEMAP_PRINT, plot_basemap
from mapping.risk_surface import method_text

RISK_BREAKS = [20, 40, 60, 80, 100]
RISK_COLORS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
MARKING = "PUBLIC — aggregated data; contains no case locations, notes or names"
PAPER = {"a4": (11.69, 8.27), "a3": (16.54, 11.69)}  # landscape, inches


def risk_color(value: float) -> str:
    for upper, color in zip(RISK_BREAKS, RISK_COLORS):
        if value <= upper:
            return color
    return RISK_COLORS[-1]


def risk_legend() -> dict:
    rows, lower = [], 0
    for upper, color in zip(RISK_BREAKS, RISK_COLORS):
        rows.append({"color": color, "label": f"{lower}–{upper}"})
        lower = upper
    return {"title": _("Risk index (0–100)"), "rows": rows}


def surface_layer(plan: OutreachPlan) -> MapLayer:
    import json

    import shapely

    cells = plan.surface.to_wgs84()
    cells = cells[cells["risk"] > 0]
    features = []
    for i, (geom, risk, people, label) in enumerate(zip(cells.geometry, cells["risk"], cells["people"],
                                                       cells["cases_label"]), start=1):
        tip = _("Risk index {risk:.0f}\nReported cases: {cases}\nPeople in risk groups (estimated): {people:.0f}").format(
            risk=risk, cases=label, people=people)
        features.append({"type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)),
                         "properties": {"fid": i, "tip": tip, "fill": risk_color(risk)}})
    style = {"color": "#7f7f7f", "fill_color": "#fd8d3c", "fill_opacity": 0.55, "weight": 0.6, "radius": 6,
             "dash": None, "shape": "polygon", "classify": None, "classes": None}
    return MapLayer("risk_surface", _("Risk surface"), "MultiPolygon", style,
                    {"type": "FeatureCollection", "features": features})


def sites_layers(plan: OutreachPlan) -> list[MapLayer]:
    import json

    import shapely

    circles = [{"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)),
                "properties": {"fid": int(r), "tip": _("Walking distance of site {rank}").format(rank=int(r))}}
               for r, g in zip(plan.coverage["rank"], plan.coverage.geometry)]
    points = [{"type": "Feature", "geometry": json.loads(shapely.to_geojson(g)),
               "properties": {"fid": int(row.rank), "tip": f"{int(row.rank)}. {row.name} · {row.category}\n{row.reason}"}}
              for row, g in zip(plan.sites.itertuples(), plan.sites.geometry)]
    ring_style = {"color": "#08519c", "fill_color": "#6baed6", "fill_opacity": 0.08, "weight": 2, "radius": 6,
                  "dash": "5 4", "shape": "polygon", "classify": None, "classes": None}
    site_style = {"color": "#08306b", "fill_color": "#2171b5", "fill_opacity": 1.0, "weight": 2.5, "radius": 13,
                  "dash": None, "shape": "circle", "classify": None, "classes": None}
    return [
        MapLayer("coverage", _("Walking distance ({r:.0f} m)").format(r=plan.params.radius), "MultiPolygon",
                 ring_style, {"type": "FeatureCollection", "features": circles}),
        MapLayer("sites", _("Campaign sites"), "Point", site_style, {"type": "FeatureCollection", "features": points}),
    ]


def _basemap_layers(workspace) -> list[MapLayer]:
    return [layer_from_frame(k, workspace.read_layer(k)) for k, kd in layer_kinds().items() if kd.is_basemap]


def _sources(workspace) -> list[str]:
    lines = [_("Data: Lantern workspace '{name}'").format(name=workspace.name)]
    if workspace.metadata.get("osm_attribution"):
        lines.append(workspace.metadata["osm_attribution"])
    return lines


def write_html(plan: OutreachPlan, workspace, path: Path, online_basemap: bool = False) -> Path:
    layers = [*_basemap_layers(workspace), surface_layer(plan), *sites_layers(plan)]
    info = {"title": _("Outreach targeting map"), "marking": MARKING,
            "lines": [dt.date.today().isoformat(), plan.quality_text(), *_sources(workspace), method_text(plan.surface.params)]}
    options = MapOptions(title=_("Outreach targeting map"), assets="inline", basemap=online_basemap,
                         bounds=tuple(plan.surface.to_wgs84().total_bounds), attribution=workspace.metadata.get("osm_attribution"),
                         extra_legends=[risk_legend()], info=info)
    return write_map(path, layers, options)


def write_sites(plan: OutreachPlan, gpkg: Path, csv_path: Path) -> None:
    import pyogrio

    columns = ["rank", "name", "category", "marginal_gain", "marginal_share", "covered_risk", "cells_covered",
               "groups_reached", "reason"]
    sites = plan.sites[columns + ["geometry"]]
    pyogrio.write_dataframe(sites, gpkg, layer="sites", driver="GPKG", dataset_options={"VERSION": "1.3"})
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns + ["lon", "lat"])
        for row, geom in zip(sites[columns].itertuples(index=False), sites.geometry):
            writer.writerow([safe_cell(v) for v in row] + [round(geom.x, 6), round(geom.y, 6)])


def safe_cell(value):
    """Neutralise spreadsheet formulas: a text cell starting with = + - @ is prefixed with an apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _scalebar(ax, length_m: float) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x, y = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([x, x + length_m], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    ax.plot([x, x + length_m / 2], [y, y], color="white", linewidth=1.5, solid_capstyle="butt")
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:.0f} m"
    ax.text(x + length_m / 2, y + 0.015 * (y1 - y0), label, ha="center", va="bottom", fontsize=8)


def _north_arrow(ax) -> None:
    ax.annotate("N", xy=(0.95, 0.93), xytext=(0.95, 0.83), xycoords="axes fraction", ha="center", va="center",
                fontsize=12, fontweight="bold", arrowprops={"arrowstyle": "-|>", "color": "black", "linewidth": 1.5})


def render_print(plan: OutreachPlan, workspace, path: Path, paper: str = "a4", dpi: int = 150) -> Path:
    """A print-ready landscape map (PDF or PNG by the file suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D

    metric = plan.surface.crs
    width, height = PAPER[paper]
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes([0.02, 0.1, 0.64, 0.79])
    ax.set_axis_off()
    cells = plan.surface.cells
    view = cells[cells["risk"] > 0].total_bounds if (cells["risk"] > 0).any() else cells.total_bounds
    pad = 300
    plot_basemap(ax, {k: workspace.read_layer(k) for k in BASEMAP_PRINT}, metric)
    shown = cells[cells["risk"] > 0]
    shown.plot(ax=ax, color=[risk_color(v) for v in shown["risk"]], alpha=0.6, edgecolor="#7f7f7f", linewidth=0.3,
               zorder=2)
    plan.coverage.to_crs(metric).boundary.plot(ax=ax, color="#08519c", linewidth=1.2, linestyle="--", zorder=3)
    sites = plan.sites.to_crs(metric)
    ax.scatter(sites.geometry.x, sites.geometry.y, s=150, color="#2171b5", edgecolor="#08306b", zorder=4)
    for rank, geom in zip(sites["rank"], sites.geometry):
        ax.text(geom.x, geom.y, str(rank), color="white", ha="center", va="center", fontsize=8, fontweight="bold",
                zorder=5)
    ax.set_xlim(view[0] - pad, view[2] + pad)
    ax.set_ylim(view[1] - pad, view[3] + pad)
    ax.set_aspect("equal")
    span = ax.get_xlim()[1] - ax.get_xlim()[0]
    _scalebar(ax, max(100, round(span / 5, -2)))
    _north_arrow(ax)

    name = workspace.name if len(workspace.name) <= 60 else workspace.name[:57] + "…"
    fig.text(0.02, 0.965, _("Outreach targeting map — {name}").format(name=name), fontsize=14,
             fontweight="bold", va="top")
    fig.text(0.02, 0.925, MARKING, fontsize=8, va="top", color="white",
             bbox={"facecolor": "#37474f", "edgecolor": "none", "pad": 3})
    handles = [Patch(facecolor=c, edgecolor="#7f7f7f", alpha=0.6, label=r["label"])
               for c, r in zip(RISK_COLORS, risk_legend()["rows"])]
    handles += [Line2D([0], [0], marker="o", color="w", markerfacecolor="#2171b5", markersize=10,
                       label=_("Campaign site (rank)")),
                Line2D([0], [0], color="#08519c", linestyle="--", label=_("Walking distance {r:.0f} m").format(
                    r=plan.params.radius))]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.68, 0.9), fontsize=8, frameon=False,
               title=_("Risk index (0–100)"), title_fontsize=9)
    lines = [f"{int(r.rank)}. {r.name} — {r.category}" for r in plan.sites.itertuples()]
    fig.text(0.68, 0.56, _("Sites, in order of choice") + "\n" + "\n".join(lines[:15]), fontsize=8, va="top",
             wrap=True)
    fig.text(0.02, 0.075, f"{dt.date.today().isoformat()}  ·  {plan.quality_text()}", fontsize=7, va="top")
    fig.text(0.02, 0.055, "  ·  ".join(_sources(workspace)), fontsize=7, va="top")
    fig.text(0.02, 0.035, method_text(plan.surface.params), fontsize=6, va="top", wrap=True, color="#444444")
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def export_plan(plan: OutreachPlan, workspace, out_dir: str | Path, paper: str = "a4", online_basemap: bool = False,
                progress=None) -> dict[str, Path]:
    """Write the five files into ``out_dir``; returns their paths by name."""
    say = progress or (lambda f, m: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / name for name in ("outreach.html", "outreach.pdf", "outreach.png", "sites.gpkg", "sites.csv")}
    say(0.1, _("Writing the interactive map"))
    write_html(plan, workspace, files["outreach.html"], online_basemap)
    say(0.4, _("Drawing the print map"))
    render_print(plan, workspace, files["outreach.pdf"], paper)
    render_print(plan, workspace, files["outreach.png"], paper, dpi=110)
    say(0.9, _("Writing the sites"))
    files["sites.gpkg"].unlink(missing_ok=True)
    write_sites(plan, files["sites.gpkg"], files["sites.csv"])
    say(1.0, _("Export done"))
    return files


__all__ = ["export_plan", "render_print", "write_html", "write_sites", "safe_cell"]
