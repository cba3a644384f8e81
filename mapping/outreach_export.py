"""The outreach-targeting map export: HTML, PDF, PNG, and the sites as GeoPackage and CSV.

A plan is made for one profile (public by default). Its export is a bundle
like every other export: the basemap, the risk surface as cells (computed
with that profile's suppression, with the fields its allow-list names), the
chosen sites (from layers the profile receives at exact positions) and their
walking-distance circles. The bundle passes the same disclosure check, and
every file states the profile it was made for.
"""
from __future__ import annotations

from pathlib import Path

from audit.disclosure import Disclosure, require
from audit.export_log import log_export, require_confirmation
from audit.redaction import Bundle, SharedLayer, derived_about, redact, select_fields, share_rule
from layers.catalogue import layer_kinds
from layers.i18n import _, using
from layers.output import staged_folder
from layers.spreadsheet import DEFAULT_DIALECT, csv_writer, dialect, safe_cell
from mapping.compose import MapLayer, MapOptions, layer_from_frame, write_map
from mapping.features import map_layer, palette, print_kwargs, styles
from mapping.outreach import OutreachPlan
from mapping.print_layout import Block, LegendEntry, PrintDocument, furnish, legend, paragraph, set_view
from mapping.print_style import BASEMAP_PRINT, draw_risk_cells, plot_basemap
from mapping.risk_surface import method_text

RISK_BREAKS = palette("risk_index")["breaks"]
RISK_COLORS = palette("risk_index")["colors"]
SITE_COLUMNS = ["rank", "name", "category", "marginal_gain", "marginal_share", "covered_risk", "cells_covered",
                "groups_reached", "reason"]


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


#: a basemap layer with more features than this is left out of the self-contained HTML map (a city's
#: 300,000 buildings made it 95 MB); the PDF and PNG maps still draw it
EMBED_AT_MOST = 50_000


def _basemap_layers(bundle: Bundle) -> tuple[list[MapLayer], list[str]]:
    """The basemap layers to embed, and a line for each one left out."""
    layers, left_out = [], []
    for k, kd in layer_kinds().items():
        if not kd.is_basemap or k not in bundle.layers:
            continue
        frame = bundle.layers[k].frame
        if len(frame) > EMBED_AT_MOST:
            left_out.append(_("{layer} not shown on this map: {n} features are too many to embed in one file "
                              "(the PDF map shows them)").format(layer=kd.label, n=len(frame)))
        else:
            layers.append(layer_from_frame(k, frame))
    return layers, left_out


def _sources(bundle: Bundle) -> list[str]:
    lines = [_("Data: Lantern workspace '{name}'").format(name=bundle.workspace_name)]
    if bundle.attribution:
        lines.append(bundle.attribution)
    if bundle.anchor_text:
        lines.append(bundle.anchor_text)
    return lines


def write_html(bundle: Bundle, plan: OutreachPlan, path: Path, online_basemap: bool = False) -> Path:
    basemap, left_out = _basemap_layers(bundle)
    layers = [*basemap, surface_layer(bundle.layers["risk_surface"].frame),
              *sites_layers(bundle.layers["campaign_sites"].frame, bundle.layers["coverage"])]
    info = {"title": _("Outreach targeting map"), "marking": marking(bundle),
            "lines": [bundle.created[:10], plan.quality_text(), *_sources(bundle), method_text(plan.surface.params),
                      *left_out]}
    options = MapOptions(title=_("Outreach targeting map"), assets="inline", basemap=online_basemap,
                         bounds=tuple(plan.surface.to_wgs84().total_bounds), attribution=bundle.attribution,
                         extra_legends=[risk_legend()], info=info)
    return write_map(path, layers, options)


def write_sites(bundle: Bundle, gpkg: Path, csv_path: Path, csv_dialect: str = DEFAULT_DIALECT) -> None:
    """sites.gpkg and sites.csv, each row marked with the profile's marking."""
    import pyogrio

    sites = bundle.layers["campaign_sites"].frame
    columns = [c for c in sites.columns if c != "geometry"]
    pyogrio.write_dataframe(sites.assign(marking=marking(bundle)), gpkg, layer="sites", driver="GPKG",
                            dataset_options={"VERSION": "1.3"})
    with csv_writer(csv_path, csv_dialect) as write:  # UTF-8 with BOM, empty cells empty, formulas guarded
        write(["marking", *columns, "lon", "lat"])
        for row, geom in zip(sites[columns].itertuples(index=False), sites.geometry):
            write([marking(bundle), *row, round(geom.x, 6), round(geom.y, 6)])


def render_print(bundle: Bundle, plan: OutreachPlan, path: Path, paper: str = "a4", dpi: int = 150) -> Path:
    """A print-ready landscape map (PDF or PNG by the file suffix); the list of sites continues on a second page
    when the first has no room for all of them."""
    doc = compose_print(bundle, plan, paper)
    try:
        return doc.save(path, dpi=dpi)
    finally:
        doc.close()


def _union(a, b):
    if b is None:
        return a
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def compose_print(bundle: Bundle, plan: OutreachPlan, paper: str = "a4") -> PrintDocument:
    """The print map's pages, not yet saved: risk cells in classes, walking distances, numbered sites, and every
    site listed in order of choice with its grid square."""
    from mapping.share_export import print_sheet

    metric = plan.surface.crs
    sheet = print_sheet(bundle, _("Outreach targeting map — {name}").format(name=bundle.workspace_name),
                        plan.quality_text(), marking(bundle), method=[method_text(plan.surface.params)])
    doc = PrintDocument(sheet, paper, "landscape")
    ax = doc.ax
    shown = bundle.layers["risk_surface"].frame.to_crs(metric)
    coverage = bundle.layers["coverage"].frame.to_crs(metric)
    sites = bundle.layers["campaign_sites"].frame.to_crs(metric)
    view = _union(shown.total_bounds if len(shown) else plan.surface.cells.total_bounds,
                  coverage.total_bounds if len(coverage) else None)  # every site and its walking distance on the map
    limits = set_view(ax, view)
    ax.set_autoscale_on(False)
    plot_basemap(ax, {k: bundle.layers[k].frame for k in BASEMAP_PRINT if k in bundle.layers}, metric)
    blocks = draw_risk_cells(ax, shown, zorder=2)
    ring = print_kwargs("walking_distance", edgecolor=None)
    ring["color"] = styles()["styles"]["walking_distance"]["color"]
    if len(coverage):
        coverage.boundary.plot(ax=ax, zorder=3, **ring)
    site = print_kwargs("campaign_sites")
    ax.scatter(sites.geometry.x, sites.geometry.y, s=site["markersize"], color=site["color"],
               edgecolor=site["edgecolor"], zorder=4)
    for rank, geom in zip(sites["rank"], sites.geometry):
        ax.text(geom.x, geom.y, str(rank), color=site["label_color"], ha="center", va="center", fontsize=7,
                fontweight="bold", zorder=5, parse_math=False, clip_on=True)
    set_view(ax, limits, pad=0)
    doc.grid = furnish(ax, metric)
    blocks += legend("", [LegendEntry(_("Campaign site (rank)"), site["color"], "point", site["edgecolor"]),
                          LegendEntry(_("Walking distance {r:.0f} m").format(r=plan.params.radius), ring["color"],
                                      "line", linestyle="--")])[1:]
    blocks += paragraph(doc.grid.note())
    blocks.append(Block("heading", _("Sites, in order of choice ({n})").format(n=len(sites)), size=8.5))
    blocks += [Block("text", f"{int(r.rank)}. {r.name} — {r.category} · {doc.grid.label(g.x, g.y)}", size=7.5)
               for r, g in zip(sites.itertuples(), sites.geometry)]
    doc.flow(blocks, continued=_("Sites, in order of choice") + " — " + _("continued"))
    return doc


def export_plan(plan: OutreachPlan, workspace, out_dir: str | Path, paper: str = "a4", online_basemap: bool = False,
                progress=None, overwrite: bool = False, recipient: str = "", confirm_police: bool = False,
                author: str = "", lang: str | None = None,
                csv_dialect: str = DEFAULT_DIALECT) -> tuple[dict[str, Path], Disclosure]:
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
        dialect(csv_dialect)  # an unknown dialect is refused before anything is written
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
            write_sites(bundle, tmp["sites.gpkg"], tmp["sites.csv"], csv_dialect)
    files = {name: out / name for name in names}
    log_export(workspace, plan.params.profile, "outreach", recipient, author, list(files.values()))
    say(1.0, _("Export done"))
    return files, disclosure


__all__ = ["export_plan", "plan_bundle", "render_print", "write_html", "write_sites", "safe_cell"]
