"""The outreach-targeting map export: HTML, PDF, PNG, and the sites as GeoPackage and CSV.

A plan is made for one profile (public by default). Its export is a bundle
like every other export: the basemap, the risk surface as cells (computed
with that profile's suppression, with the fields its allow-list names), the
chosen sites (from layers the profile receives at exact positions) and their
walking-distance circles. The bundle passes the same disclosure check, and
every file states the profile it was made for.
"""
from __future__ import annotations

import csv
from pathlib import Path

from audit.disclosure import Disclosure, require
from audit.export_log import log_export, require_confirmation
from audit.redaction import Bundle, SharedLayer, derived_about, redact, select_fields, share_rule
from layers.catalogue import layer_kinds
from layers.i18n import _, using
from layers.output import staged_folder
from mapping.compose import MapLayer, MapOptions, layer_from_frame, write_map
from mapping.features import map_layer, marking_color, palette, print_kwargs, styles, text_color
from mapping.outreach import OutreachPlan
from mapping.print_style import BASEMAP_PRINT, fit_left_of, plot_basemap, wrapped
from mapping.risk_surface import method_text

RISK_BREAKS = palette("risk_index")["breaks"]
RISK_COLORS = palette("risk_index")["colors"]
SITE_COLUMNS = ["rank", "name", "category", "marginal_gain", "marginal_share", "covered_risk", "cells_covered",
                "groups_reached", "reason"]
PAPER = {"a4": (11.69, 8.27), "a3": (16.54, 11.69)}  # landscape, inches
# no creation time in print files: the same plan gives the same bytes
_PRINT_METADATA = {".pdf": {"CreationDate": None}, ".png": {"Software": None}}


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


def marking(bundle: Bundle) -> str:
    if bundle.profile == "public":
        return _("PUBLIC — aggregated data; contains no case locations, notes or names")
    return bundle.marking


def plan_layers(plan: OutreachPlan) -> list[SharedLayer]:
    """The plan's own results, cut to the allow-list of the profile it was made for."""
    profile = plan.params.profile
    cells = plan.surface.to_wgs84()
    cells = cells[cells["risk"] > 0].reset_index(drop=True)
    sources = tuple(sorted({k for k in plan.sites["kind"] if k}))
    return [
        SharedLayer("risk_surface", _("Risk surface"), select_fields(cells, share_rule("risk_surface", profile)["fields"]),
                    profile, "cells", derived_about("risk_surface")),
        SharedLayer("campaign_sites", _("Campaign sites"),
                    select_fields(plan.sites, share_rule("campaign_sites", profile)["fields"]), profile, "sites",
                    sources=sources),
        SharedLayer("coverage", _("Walking distance ({r:.0f} m)").format(r=plan.params.radius),
                    select_fields(plan.coverage, share_rule("coverage", profile)["fields"]), profile, "circles"),
    ]


def plan_bundle(plan: OutreachPlan, workspace) -> Bundle:
    """What the plan's files may hold: the basemap and the plan's results, for the plan's profile."""
    bundle = redact(workspace, plan.params.profile, only=[k for k, kd in layer_kinds().items() if kd.is_basemap])
    for layer in plan_layers(plan):
        bundle.add(layer)
    return bundle


def surface_layer(cells) -> MapLayer:
    """The risk surface as a map layer, from the cells' allow-listed columns (the tooltip shows only those)."""
    return map_layer("risk_surface", _("Risk surface"), cells, "risk_surface", tips=_cell_tip,
                     props=[{"fill": risk_color(risk)} for risk in cells["risk"]])


def _cell_tip(row: dict) -> str:
    tip = _("Risk index {risk:.0f}").format(risk=row["risk"])
    if "people" in row:
        tip += "\n" + _("People in risk groups (estimated): {people:.0f}").format(people=row["people"])
    if "cases" in row:
        tip += "\n" + _("Reported cases: {cases}").format(cases=int(row["cases"]))
    return tip


def sites_layers(sites, coverage: SharedLayer) -> list[MapLayer]:
    ranks = [int(r) for r in coverage.frame["rank"]]
    return [
        map_layer("coverage", coverage.label, coverage.frame, "walking_distance", fids=ranks,
                  tips=[_("Walking distance of site {rank}").format(rank=r) for r in ranks]),
        map_layer("sites", _("Campaign sites"), sites, "campaign_sites", fids=[int(r) for r in sites["rank"]],
                  tips=[f"{int(row.rank)}. {row.name} · {row.category}\n{row.reason}" for row in sites.itertuples()]),
    ]


def _basemap_layers(bundle: Bundle) -> list[MapLayer]:
    return [layer_from_frame(k, bundle.layers[k].frame) for k, kd in layer_kinds().items()
            if kd.is_basemap and k in bundle.layers]


def _sources(bundle: Bundle) -> list[str]:
    lines = [_("Data: Lantern workspace '{name}'").format(name=bundle.workspace_name)]
    if bundle.attribution:
        lines.append(bundle.attribution)
    if bundle.anchor_text:
        lines.append(bundle.anchor_text)
    return lines


def write_html(bundle: Bundle, plan: OutreachPlan, path: Path, online_basemap: bool = False) -> Path:
    layers = [*_basemap_layers(bundle), surface_layer(bundle.layers["risk_surface"].frame),
              *sites_layers(bundle.layers["campaign_sites"].frame, bundle.layers["coverage"])]
    info = {"title": _("Outreach targeting map"), "marking": marking(bundle),
            "lines": [bundle.created[:10], plan.quality_text(), *_sources(bundle), method_text(plan.surface.params)]}
    options = MapOptions(title=_("Outreach targeting map"), assets="inline", basemap=online_basemap,
                         bounds=tuple(plan.surface.to_wgs84().total_bounds), attribution=bundle.attribution,
                         extra_legends=[risk_legend()], info=info)
    return write_map(path, layers, options)


def write_sites(bundle: Bundle, gpkg: Path, csv_path: Path) -> None:
    """sites.gpkg and sites.csv, each row marked with the profile's marking."""
    import pyogrio

    sites = bundle.layers["campaign_sites"].frame
    columns = [c for c in sites.columns if c != "geometry"]
    pyogrio.write_dataframe(sites.assign(marking=marking(bundle)), gpkg, layer="sites", driver="GPKG",
                            dataset_options={"VERSION": "1.3"})
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["marking", *columns, "lon", "lat"])
        for row, geom in zip(sites[columns].itertuples(index=False), sites.geometry):
            writer.writerow([marking(bundle), *[safe_cell(v) for v in row], round(geom.x, 6), round(geom.y, 6)])


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


def _print_footer(fig, bundle: Bundle, plan: OutreachPlan, width: float, height: float) -> float:
    """Date and plan quality, the sources, and the method, wrapped to the page from its foot up.

    Returns the height they take (a fraction of the page): the map starts above it.
    """
    blocks = [(f"{bundle.created[:10]}  ·  {plan.quality_text()}", 7, None), ("  ·  ".join(_sources(bundle)), 7, None),
              (method_text(plan.surface.params), 6, text_color())]
    y = 0.015
    for text, size, color in reversed(blocks):
        lines = wrapped(text, size, width * 0.96)
        fig.text(0.02, y, "\n".join(lines), fontsize=size, va="bottom", color=color, linespacing=1.25)
        y += len(lines) * size * 1.25 * 1.2 / 72 / height + 0.004
    return y


def render_print(bundle: Bundle, plan: OutreachPlan, path: Path, paper: str = "a4", dpi: int = 150) -> Path:
    """A print-ready landscape map (PDF or PNG by the file suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D

    metric = plan.surface.crs
    width, height = PAPER[paper]
    fig = plt.figure(figsize=(width, height))
    bottom = _print_footer(fig, bundle, plan, width, height)  # the notes under the map take what they need
    ax = fig.add_axes([0.02, bottom + 0.01, 0.64, 0.88 - bottom])
    ax.set_axis_off()
    shown = bundle.layers["risk_surface"].frame.to_crs(metric)
    view = shown.total_bounds if len(shown) else plan.surface.cells.total_bounds
    pad = 300
    plot_basemap(ax, {k: bundle.layers[k].frame for k in BASEMAP_PRINT if k in bundle.layers}, metric)
    surface_style = print_kwargs("risk_surface", color=[risk_color(v) for v in shown["risk"]], cmap=None)
    shown.plot(ax=ax, zorder=2, **surface_style)
    ring = print_kwargs("walking_distance", edgecolor=None)
    ring["color"] = styles()["styles"]["walking_distance"]["color"]
    bundle.layers["coverage"].frame.to_crs(metric).boundary.plot(ax=ax, zorder=3, **ring)
    sites = bundle.layers["campaign_sites"].frame.to_crs(metric)
    site = print_kwargs("campaign_sites")
    ax.scatter(sites.geometry.x, sites.geometry.y, s=site["markersize"], color=site["color"],
               edgecolor=site["edgecolor"], zorder=4)
    for rank, geom in zip(sites["rank"], sites.geometry):
        ax.text(geom.x, geom.y, str(rank), color=site["label_color"], ha="center", va="center", fontsize=8,
                fontweight="bold",
                zorder=5)
    ax.set_xlim(view[0] - pad, view[2] + pad)
    ax.set_ylim(view[1] - pad, view[3] + pad)
    ax.set_aspect("equal")
    span = ax.get_xlim()[1] - ax.get_xlim()[0]
    _scalebar(ax, max(100, round(span / 5, -2)))
    _north_arrow(ax)

    title = _("Outreach targeting map — {name}").format(name=bundle.workspace_name)
    fit_left_of(fig, fig.text(0.02, 0.965, title, fontsize=14, fontweight="bold", va="top"), 0.98, title)
    fig.text(0.02, 0.925, marking(bundle), fontsize=8, va="top", color="white",
             bbox={"facecolor": marking_color(bool(bundle.stamp)), "edgecolor": "none", "pad": 3})
    handles = [Patch(facecolor=c, edgecolor=surface_style["edgecolor"], alpha=surface_style["alpha"], label=r["label"])
               for c, r in zip(RISK_COLORS, risk_legend()["rows"])]
    handles += [Line2D([0], [0], marker="o", color="w", markerfacecolor=site["color"], markersize=10,
                       label=_("Campaign site (rank)")),
                Line2D([0], [0], color=ring["color"], linestyle=ring["linestyle"], label=_("Walking distance {r:.0f} m").format(
                    r=plan.params.radius))]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.68, 0.9), fontsize=8, frameon=False,
               title=_("Risk index (0–100)"), title_fontsize=9)
    lines = [line for r in bundle.layers["campaign_sites"].frame.itertuples()
             for line in wrapped(f"{int(r.rank)}. {r.name} — {r.category}", 8, width * 0.3, indent="    ")][:24]
    fig.text(0.68, 0.56, _("Sites, in order of choice") + "\n" + "\n".join(lines), fontsize=8, va="top")
    fig.savefig(path, dpi=dpi, metadata=_PRINT_METADATA[path.suffix.lower()])
    plt.close(fig)
    return path


def export_plan(plan: OutreachPlan, workspace, out_dir: str | Path, paper: str = "a4", online_basemap: bool = False,
                progress=None, overwrite: bool = False, recipient: str = "", confirm_police: bool = False,
                author: str = "", lang: str | None = None) -> tuple[dict[str, Path], Disclosure]:
    """Check the plan's bundle, then write the five files into ``out_dir``; returns their paths and the check.

    The files are written beside the folder and moved in only when all five
    are done; the workspace itself, or a folder holding it, is refused. A
    police plan needs the confirmation and a recipient, and is logged. Maps, markings and legends are in
    ``lang`` (None: the current language).
    """
    say = progress or (lambda f, m: None)
    out = Path(out_dir)
    names = ("outreach.html", "outreach.pdf", "outreach.png", "sites.gpkg", "sites.csv")
    with using(lang):
        require_confirmation(plan.params.profile, recipient, confirm_police)
        bundle = plan_bundle(plan, workspace)
        disclosure = require(bundle)
        with staged_folder(out, workspace.path, overwrite) as staged:
            tmp = {name: staged.path / name for name in names}
            say(0.1, _("Writing the interactive map"))
            write_html(bundle, plan, tmp["outreach.html"], online_basemap)
            say(0.4, _("Drawing the print map"))
            render_print(bundle, plan, tmp["outreach.pdf"], paper)
            render_print(bundle, plan, tmp["outreach.png"], paper, dpi=110)
            say(0.9, _("Writing the sites"))
            write_sites(bundle, tmp["sites.gpkg"], tmp["sites.csv"])
    files = {name: out / name for name in names}
    log_export(workspace, plan.params.profile, "outreach", recipient, author, list(files.values()))
    say(1.0, _("Export done"))
    return files, disclosure


__all__ = ["export_plan", "plan_bundle", "render_print", "write_html", "write_sites", "safe_cell"]
