"""Lantern — a desktop GIS for municipal teams working against human trafficking.

Thin command line over the library: each command parses its options and calls one function.
``python main.py [WORKSPACE.gpkg] [--demo] [--screenshot OUT.png]`` (no command) opens the app.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from layers import cli_output, i18n
from layers.errors import LanternError
from layers.i18n import N_, _, decimal, integer, ngettext

ROOT = Path(__file__).resolve().parent
DESCRIPTION = N_("Lantern: map human-trafficking risk in a district, offline and privately.")

# argparse's own words (usage, section titles, its error messages) go through our catalogue: argparse looks up the
# module globals ``_`` and ``ngettext`` each time it shows a text, so binding them here translates them all.
argparse._ = _
argparse.ngettext = ngettext
ARGPARSE_MESSAGES = (  # the texts argparse (Python 3.10-3.13) shows to a user, so extraction puts them in the catalogue
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("show program's version number and exit"), N_("argument %(argument_name)s: %(message)s"),
    N_("unrecognized arguments: %s"), N_("not allowed with argument %s"), N_("ignored explicit argument %r"),
    N_("the following arguments are required: %s"), N_("one of the arguments %s is required"),
    N_("expected one argument"), N_("expected at most one argument"), N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"), N_("unexpected option string: %s"),
    N_("invalid %(type)s value: %(value)r"), N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("%(prog)s: error: %(message)s\n"), N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
)


def _argparse_plural(n: int) -> str:
    """argparse's one plural message, here so that extraction puts it in the catalogue too."""
    return ngettext("expected %s argument", "expected %s arguments", n)


def _version() -> str:
    """The installed package's version, else the one in pyproject.toml (running from a checkout)."""
    from importlib import metadata

    try:
        return metadata.version("lantern-gis")
    except metadata.PackageNotFoundError:
        text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
        found = re.search(r'^\[project\][^\[]*?^version\s*=\s*"([^"]+)"', text, re.M | re.S)
        return found.group(1) if found else "unknown"


# -- option values -------------------------------------------------------------------------------


def _bbox(text: str):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise argparse.ArgumentTypeError(_("expects four numbers W,S,E,N, got {text!r}").format(text=text))
    return values


def _lonlat(text: str):
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(_("expects two numbers LON,LAT, got {text!r}").format(text=text)) from None
    return lon, lat


def _column_map(pair: str):
    """--map COLUMN=FIELD, FIELD '-' drops the column."""
    from layers.features import IGNORE

    column, sep, target = pair.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(_("expects COLUMN=FIELD, got {pair!r}").format(pair=pair))
    return column, IGNORE if target == "-" else target


def _constant(pair: str):
    """--set FIELD=VALUE."""
    name, sep, value = pair.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(_("expects FIELD=VALUE, got {pair!r}").format(pair=pair))
    return name.strip(), value


def _id_list(choices: list[str]):
    """A comma list of catalogue ids (None when empty); each id must be one of ``choices``."""

    def parse(text: str):
        items = [t.strip() for t in text.split(",") if t.strip()]
        for item in items:
            if item not in choices:
                raise argparse.ArgumentTypeError(_("invalid choice: {item!r} (choose from {choices})").format(
                    item=item, choices=", ".join(map(repr, choices))))
        return frozenset(items) or None

    return parse


def _field_choices(kind_id: str, field: str) -> list[str]:
    from layers.catalogue import kind

    return [c.id for c in kind(kind_id).field(field).choices]


def _forms() -> list[str]:
    from layers.catalogue import forms_of_exploitation

    return [c.id for c in forms_of_exploitation()]


def _kinds() -> list[str]:
    from layers.catalogue import layer_kinds

    return list(layer_kinds())


def _profiles() -> list[str]:
    from audit.redaction import PROFILES

    return list(PROFILES)


_bar = {"open": False}  # a progress bar is on the terminal's last line: an error starts on a new line
OUTPUT = cli_output.Output()  # this run's output mode (--quiet, --json); main() sets it


def _terminal_progress(stream=None):
    """A one-line text progress bar on a terminal (stderr); silent when output is piped or --quiet."""
    stream = sys.stderr if stream is None else stream
    if OUTPUT.quiet or not stream.isatty():
        return None

    def show(fraction: float, message: str) -> None:
        filled = int(round(30 * fraction))
        stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {message[:50]:<50}")
        if fraction >= 1:
            stream.write("\n")
        stream.flush()
        _bar["open"] = fraction < 1

    return show


def _police_lock(args) -> bool:
    return args.profile == "police"  # police: the change log needs the write lock


# -- commands: each parses around one library call ---------------------------------------------


def cmd_demo(args) -> int:
    from audit.demo import build_demo

    from layers.catalogue import kind, layer_kinds

    if Path(args.out).exists() and not args.overwrite:
        raise LanternError(_("{out} exists; nothing was written (use --overwrite to replace it with the demo)").format(
            out=args.out))
    with build_demo(args.out) as ws:
        numbers = {k: ws.count(k) for k in layer_kinds()}
        synthetic = [k for k in layer_kinds() if ws.layer_info(k)["synthetic"]]
    counts = ", ".join(f"{kind(k).label} {n}" for k, n in numbers.items())
    OUTPUT.say(_("wrote {out}: real OpenStreetMap places of central Helsinki (© OpenStreetMap contributors)"
                 " with SYNTHETIC reported cases and risk areas ({counts})").format(out=args.out, counts=counts))
    OUTPUT.result(file=args.out, counts=numbers, synthetic_layers=synthetic,
                  attribution="© OpenStreetMap contributors")
    return 0


def _add_demo(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("write the demo district workspace (synthetic data)"),
                       description=_("Write the demo district workspace (synthetic data)."))
    p.add_argument("out", metavar="OUT.gpkg", help=_("file to write"))
    p.add_argument("--overwrite", action="store_true",
                   help=_("replace OUT.gpkg if it exists (it may be a real workspace)"))
    p.set_defaults(func=cmd_demo)


def cmd_import(args) -> int:
    from layers.importers import import_file
    from layers.workspace import Workspace

    with Workspace.open(args.into) as ws:
        report = import_file(ws, args.source, args.kind, args.layer, overrides=dict(args.map),
                             constants=dict(args.set), skip_invalid=args.skip_invalid, encoding=args.encoding,
                             crs=args.crs)
    OUTPUT.say(report.summary())
    OUTPUT.result(**cli_output.import_result(report, args.into))
    return 0


def _add_import(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("import a GeoJSON, GeoPackage, Shapefile (.shp, folder, .zip) or CSV file"),
                       description=_("Import a GIS file into a workspace layer."))
    p.add_argument("source", metavar="SOURCE",
                   help=_("GeoJSON, GeoPackage, Shapefile (.shp, folder or .zip) or CSV with lon/lat columns"))
    p.add_argument("--kind", required=True, choices=_kinds(), metavar="KIND",
                   help=_("layer to import into: %(choices)s"))
    p.add_argument("--into", required=True, metavar="WORKSPACE.gpkg", help=_("workspace file (must exist)"))
    p.add_argument("--layer", metavar="NAME", help=_("source layer name, for files with several layers"))
    p.add_argument("--map", action="append", default=[], type=_column_map, metavar="COLUMN=FIELD",
                   help=_("map a source column to a field; FIELD '-' drops the column, "
                          "'extra' keeps it in the extra column"))
    p.add_argument("--set", action="append", default=[], type=_constant, metavar="FIELD=VALUE",
                   help=_("give every imported feature this value for FIELD (e.g. --set sector=construction)"))
    p.add_argument("--skip-invalid", action="store_true",
                   help=_("import the rows that fit and write the others, with reasons, to SOURCE.skipped.csv"))
    p.add_argument("--encoding", metavar="ENCODING",
                   help=_("text encoding of a CSV or Shapefile, e.g. utf-8 or cp1257 (default: a Shapefile's .cpg, "
                          "else detected: UTF-8, or Windows-1257 with a notice)"))
    p.add_argument("--crs", metavar="CRS",
                   help=_("coordinate system of a CSV's x/y columns, e.g. EPSG:3059 for LKS-92 (default: longitude/"
                          "latitude, EPSG:4326); the points are stored in EPSG:4326"))
    p.set_defaults(func=cmd_import, after_error=lambda args: [_("the workspace was not changed")])


def cmd_import_osm(args) -> int:
    from layers.osm import import_osm

    report = import_osm(args.source, args.out, args.bbox, args.clip_layer, progress=_terminal_progress())
    OUTPUT.say(report.summary())
    OUTPUT.say(_("wrote {out} in {seconds} s").format(out=args.out, seconds=decimal(report.seconds, 2)))
    OUTPUT.result(**cli_output.osm_result(report, args.out))
    if args.tiles:
        OUTPUT.result(tiles=_build_tiles(Path(args.out)))
    return 0


def _build_tiles(path: Path) -> dict:
    """Cut the basemap into the workspace's vector tiles now (else the window does it when it first shows it);
    what happened, for --json."""
    import time

    from layers import tiles
    from layers.workspace import Workspace

    start = time.perf_counter()
    progress = _terminal_progress()
    try:
        with Workspace.open(path, lock_now=True) as ws:
            tiles.build_tiles(ws, tiles.TILED_KINDS, progress=(lambda done, total: progress(
                done / total, _("map tiles"))) if progress else None)
    except LanternError as exc:  # the import itself is written: say so, not "nothing was written"
        OUTPUT.warn(_("the map tiles were not made ({error}); the window makes them when it shows the workspace")
                    .format(error=exc))
        return {"made": False, "error": str(exc)}
    seconds = time.perf_counter() - start
    OUTPUT.say(_("made the map tiles in {seconds} s").format(seconds=decimal(seconds, 1)))
    return {"made": True, "seconds": round(seconds, 1)}


def _add_import_osm(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("turn an OpenStreetMap extract into places and an offline basemap"),
                       description=_("Import an OpenStreetMap extract: places by data/osm_tag_mapping.json, "
                                     "and an offline basemap."))
    p.add_argument("source", metavar="FILE.osm.pbf", help=_("OpenStreetMap extract"))
    p.add_argument("--out", required=True, metavar="WORKSPACE.gpkg", help=_("workspace to create, or to add to"))
    p.add_argument("--bbox", type=_bbox, metavar="W,S,E,N", help=_("keep only what lies in this box (degrees)"))
    p.add_argument("--clip-layer", choices=_kinds(), metavar="KIND",
                   help=_("clip to the polygons of this layer of an existing workspace"))
    p.add_argument("--tiles", action="store_true",
                   help=_("also cut the basemap into vector tiles for the map now (about 30 s for a city); "
                          "otherwise the window does it, in the background, when it first shows a big basemap"))
    p.set_defaults(func=cmd_import_osm, after_error=lambda args: [
        _("{out} was not changed").format(out=args.out) if Path(args.out).exists() else _("nothing was written")])


def cmd_check(args) -> int:
    from audit.check import accept_outside_edits, check_workspace, describe

    from layers.workspace import Workspace, recover_interrupted_write

    if recover_interrupted_write(args.workspace):
        _print_notice(_("{workspace}: a write interrupted by a crash was rolled back before the check").format(
            workspace=args.workspace))
    if args.accept:
        with Workspace.open(args.workspace) as ws:
            accepted = accept_outside_edits(ws, args.author)
        OUTPUT.say(ngettext("{workspace}: accepted {n} outside edit (by {author})",
                            "{workspace}: accepted {n} outside edits (by {author})", len(accepted)).format(
            workspace=args.workspace, n=len(accepted), author=args.author.strip()))
        OUTPUT.result(accepted=len(accepted))
    result = check_workspace(args.workspace)
    OUTPUT.result(**cli_output.check_result(args.workspace, result))
    if result.ok:
        OUTPUT.say(ngettext("{workspace}: OK (integrity, GeoPackage registration, change log of {n} entry)",
                            "{workspace}: OK (integrity, GeoPackage registration, change log of {n} entries)",
                            result.entries).format(workspace=args.workspace, n=result.entries))
    for problem in result.problems:  # a failed check is an error: on stderr, even with --quiet
        OUTPUT.warn(f"{args.workspace}: {problem}")
    for line in describe(result):
        (OUTPUT.say if result.ok else OUTPUT.inform)(f"{args.workspace}: {line}")
    return 0 if result.ok else 1


def _add_check(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("verify integrity, GeoPackage registration, the signed change log and the "
                                    "data against it"),
                       description=_("Verify a workspace; exit 1 naming the first problem found."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--accept", action="store_true",
                   help=_("first record the rows changed outside Lantern (e.g. in QGIS) as one signed change-log "
                          "entry"))
    p.add_argument("--author", default="", help=_("who accepts the outside edits (written to the change log)"))
    p.set_defaults(func=cmd_check)


def cmd_checklist(args) -> int:
    from audit.field_checklist import write_checklist

    lang = args.lang or i18n.language()
    pages = write_checklist(args.out, args.place_type, lang)
    OUTPUT.say(ngettext("wrote {out} ({n} page)", "wrote {out} ({n} pages)", pages).format(out=args.out, n=pages))
    OUTPUT.result(files=[args.out], pages=pages, place_type=args.place_type, lang=lang)
    return 0


def _add_checklist(sub, name: str) -> None:
    from audit.catalogue import place_types

    p = sub.add_parser(name, help=_("print the indicator checklist for a place type (one page, for work on foot)"),
                       description=_("A one-page PDF indicator checklist for a place type."))
    p.add_argument("--place-type", required=True, choices=[t["id"] for t in place_types()], metavar="TYPE",
                   help=_("one of: %(choices)s"))
    p.add_argument("--lang", choices=i18n.SUPPORTED, help=_("language of the checklist (default: the language of "
                                                             "the messages)"))
    p.add_argument("--out", required=True, metavar="FILE.pdf", help=_("the PDF to write"))
    p.set_defaults(func=cmd_checklist)


def cmd_field_form(args) -> int:
    from audit.field_form import export_field_form
    from layers.workspace import Workspace

    with Workspace.open(args.workspace) as ws:
        result = export_field_form(ws, args.place_type, args.lang, args.out, overwrite=args.overwrite,
                                   progress=_terminal_progress())
    OUTPUT.say(ngettext("{n} place in places.csv", "{n} places in places.csv", result.places).format(n=result.places))
    OUTPUT.say(_("checked by pyxform and ODK Validate") if result.odk_validated else
               _("checked by pyxform; ODK Validate did not run (it needs Java)"))
    for warning in result.warnings:
        OUTPUT.warn(warning)
    OUTPUT.say(_("wrote {files}").format(files=", ".join(str(f) for f in result.files)))
    OUTPUT.result(workspace=args.workspace, files=[str(f) for f in result.files], place_type=result.place_type,
                  languages=list(result.langs), places=result.places, indicators=result.indicators,
                  version=result.version, odk_validated=result.odk_validated, warnings=result.warnings)
    return 0


def _add_field_form(sub, name: str) -> None:
    from audit.catalogue import place_types
    from audit.field_form import ALL

    p = sub.add_parser(name, help=_("write a field form for phones (XLSForm, its XForm and places.csv) for ODK "
                                    "Collect or KoBoToolbox"),
                       description=_("A field form from the indicator catalogue, for ODK Collect or KoBoToolbox: "
                                     "the XLSForm, its XForm and places.csv (public places only)."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--place-type", required=True, choices=[*[t["id"] for t in place_types()], ALL], metavar="TYPE",
                   help=_("one of: %(choices)s"))
    p.add_argument("--lang", default="lv,en", metavar="LANG,LANG",
                   help=_("languages of the form, the first shown first (default: %(default)s)"))
    p.add_argument("--out", required=True, metavar="DIR", help=_("folder for the form's files"))
    p.add_argument("--overwrite", action="store_true", help=_("replace the files of an earlier form in DIR"))
    p.set_defaults(func=cmd_field_form)


def cmd_field_map(args) -> int:
    from layers.workspace import Workspace
    from mapping.field_map import write_field_map

    with Workspace.open(args.workspace) as ws:
        report = write_field_map(ws, args.out, min_zoom=args.min_zoom, max_zoom=args.max_zoom,
                                 overwrite=args.overwrite)
    for zoom in sorted(report.tiles):
        OUTPUT.say(_("zoom {z}: {n} tiles, {mb} MB").format(z=zoom, n=integer(report.tiles[zoom]),
                                                           mb=decimal(report.bytes[zoom] / 1e6, 2)))
    OUTPUT.say(_("wrote {out} ({mb} MB) in {seconds} s").format(
        out=report.path, mb=decimal(report.total_bytes / 1e6, 1), seconds=decimal(report.seconds, 1)))
    OUTPUT.result(workspace=args.workspace, file=str(report.path), tiles={str(z): n for z, n in report.tiles.items()},
                  bytes={str(z): n for z, n in report.bytes.items()}, total_bytes=report.total_bytes,
                  seconds=round(report.seconds, 2))
    return 0


def _add_field_map(sub, name: str) -> None:
    from mapping.field_map import DEFAULT_MAX_ZOOM, DEFAULT_MIN_ZOOM

    p = sub.add_parser(name, help=_("write the district's basemap as an offline map for phones (MBTiles for ODK "
                                    "Collect)"),
                       description=_("The basemap only (streets, buildings, water, railways) as raster tiles ODK "
                                     "Collect shows offline: no cases, no places of concern, no annotations."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--out", required=True, metavar="FILE.mbtiles")
    p.add_argument("--min-zoom", type=int, default=DEFAULT_MIN_ZOOM, help=_("first zoom (default: %(default)s)"))
    p.add_argument("--max-zoom", type=int, default=DEFAULT_MAX_ZOOM, help=_("last zoom (default: %(default)s)"))
    p.add_argument("--overwrite", action="store_true", help=_("replace FILE if it exists"))
    p.set_defaults(func=cmd_field_map)


def cmd_plan_outreach(args) -> int:
    from audit.export_log import require_confirmation
    from layers.workspace import Workspace
    from mapping.outreach import OutreachParams, plan_outreach
    from mapping.outreach_export import export_plan
    from mapping.risk_surface import SurfaceParams

    require_confirmation(args.profile, args.recipient, args.confirm_police)  # before the plan is computed
    params = OutreachParams(k=args.sites, radius=args.radius, method=args.method, profile=args.profile,
                            categories=sorted(args.categories or []),
                            surface=SurfaceParams(cell_size=args.cell_size, groups=args.groups, forms=args.forms))
    with Workspace.open(args.workspace, lock_now=_police_lock(args)) as ws:
        plan = plan_outreach(ws, params, progress=_terminal_progress())
        files, _disclosure = export_plan(plan, ws, args.out, paper=args.paper, overwrite=args.overwrite,
                                         recipient=args.recipient, confirm_police=args.confirm_police,
                                         author=args.author, lang=args.lang or i18n.language(),
                                         csv_dialect=args.csv_dialect)
    for row in plan.sites.itertuples():
        OUTPUT.say(f"{row.rank}. {row.name} ({row.category}): {row.reason}")
    OUTPUT.say(plan.quality_text())
    OUTPUT.say(_("wrote {files}").format(files=", ".join(str(f) for f in files.values())))
    OUTPUT.result(workspace=args.workspace, **cli_output.plan_result(plan, files.values()))
    return 0


def _add_plan_outreach(sub, name: str) -> None:
    from audit.catalogue import risk_groups
    from mapping.outreach import OutreachParams, candidate_categories, default_categories

    defaults = OutreachParams(categories=[])
    categories = [c["id"] for c in candidate_categories()]
    p = sub.add_parser(name, help=_("choose K campaign sites; write outreach.html/.pdf/.png, sites.gpkg "
                                    "and sites.csv"),
                       description=_("Choose campaign sites that cover the most risk, and export the plan."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--sites", type=int, default=defaults.k, metavar="K",
                   help=_("number of sites (default %(default)s)"))
    p.add_argument("--radius", type=float, default=defaults.radius, metavar="METRES",
                   help=_("walking distance (default %(default).0f m)"))
    p.add_argument("--out", required=True, metavar="DIR", help=_("folder for the five files"))
    p.add_argument("--cell-size", type=float, default=defaults.surface.cell_size, metavar="M",
                   help=_("hexagon size (default %(default).0f m)"))
    p.add_argument("--groups", type=_id_list([g["id"] for g in risk_groups()]), metavar="ID,ID",
                   help=_("risk groups to target (default: all)"))
    p.add_argument("--forms", type=_id_list(_forms()), metavar="ID,ID",
                   help=_("forms of exploitation (default: all)"))
    p.add_argument("--categories", type=_id_list(categories), metavar="ID,ID", default=",".join(default_categories()),
                   help=_("candidate categories: {ids}").format(ids=", ".join(categories)))
    p.add_argument("--method", choices=["greedy", "exact"], default="greedy",
                   help=_("greedy: fast; exact: proven optimal, for smaller districts (default %(default)s)"))
    p.add_argument("--paper", choices=["a4", "a3"], default="a4", help=_("paper size of the print map"))
    p.add_argument("--lang", choices=i18n.SUPPORTED,
                   help=_("language of the print map and the interactive map (default: the language of the messages)"))
    p.add_argument("--profile", choices=_profiles(), default="public",
                   help=_("who the plan is for (default public): decides candidate layers and suppression"))
    _add_output_options(p, overwrite=_("replace files of an earlier plan in DIR"),
                        recipient=_("who receives the plan (required for police)"),
                        confirm=_("confirm a police-liaison plan"))
    from layers.spreadsheet import DEFAULT_DIALECT, DIALECTS

    p.add_argument("--csv-dialect", choices=list(DIALECTS), default=DEFAULT_DIALECT,
                   help=_("sites.csv: 'standard' (comma, decimal point) or 'excel-lv' (semicolon, decimal comma); "
                          "both UTF-8 with BOM"))
    p.set_defaults(func=cmd_plan_outreach, bad_input=(ValueError,))


def _add_output_options(p, overwrite: str, recipient: str, confirm: str) -> None:
    """The options every output made for sharing takes: replacing, and the police recipient and confirmation."""
    p.add_argument("--overwrite", action="store_true", help=overwrite)
    p.add_argument("--recipient", default="", metavar="NAME", help=recipient)
    p.add_argument("--confirm-police", action="store_true", help=confirm)
    p.add_argument("--author", default="", metavar="NAME", help=_("who exports (written to the change log)"))


def cmd_export(args) -> int:
    from layers.workspace import Workspace
    from mapping.share_export import export

    with Workspace.open(args.workspace, lock_now=_police_lock(args)) as ws:
        files, disclosure = export(ws, args.profile, args.format, args.out, recipient=args.recipient,
                                   confirm_police=args.confirm_police, author=args.author,
                                   extent=args.bbox, overwrite=args.overwrite, lang=args.lang or i18n.language(),
                                   csv_dialect=args.csv_dialect)
    OUTPUT.say(disclosure.summary())
    OUTPUT.say(_("wrote {files}").format(files=", ".join(str(f) for f in files)))
    OUTPUT.result(workspace=args.workspace, profile=args.profile, format=args.format, files=[str(f) for f in files],
                  disclosure=cli_output.disclosure_result(disclosure))
    return 0


def _add_export(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("share the workspace at the profile's level of detail "
                                    "(csv/geojson: PATH is a folder)"), description=_(
        "Export for sharing. Every format passes one redaction step and a disclosure check. public: no cases, "
        "places only as hex counts, estimates as bands; partner: cases as hex counts (<5 suppressed), places "
        "geomasked, no notes or authors; police: full detail, needs --confirm-police and --recipient, is stamped "
        "RESTRICTED and logged."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--profile", required=True, choices=_profiles(), help=_("who receives it: %(choices)s"))
    p.add_argument("--format", required=True, choices=["html", "pdf", "png", "gpkg", "csv", "geojson", "report"],
                   help=_("file format: %(choices)s"))
    p.add_argument("--out", required=True, metavar="PATH",
                   help=_("file (html, pdf, png, gpkg; report: the PDF, its HTML twin beside it) "
                          "or folder (csv, geojson)"))
    p.add_argument("--lang", choices=i18n.SUPPORTED,
                   help=_("language of the maps and the report (default: the language of the messages)"))
    _add_output_options(p, overwrite=_("replace an existing file or folder contents"),
                        recipient=_("who receives the export (required for police)"),
                        confirm=_("confirm a police-liaison export"))
    p.add_argument("--bbox", type=_bbox, metavar="W,S,E,N", help=_("only this extent"))
    from layers.spreadsheet import DEFAULT_DIALECT, DIALECTS

    p.add_argument("--csv-dialect", choices=list(DIALECTS), default=DEFAULT_DIALECT,
                   help=_("CSV files (csv, and geojson's tables without geometries): 'standard' (comma, decimal "
                          "point) or 'excel-lv' (semicolon, decimal comma, as Excel in Latvian opens them); both "
                          "UTF-8 with BOM"))
    p.set_defaults(func=cmd_export)


def cmd_import_package(args) -> int:
    from layers.packages import import_package
    from layers.workspace import Workspace

    with Workspace.open(args.into, lock_now=True) as ws:
        report = import_package(ws, args.package, trust_new=args.trust_new)
    OUTPUT.say(report.summary())
    OUTPUT.result(package=args.package, workspace=args.into, **cli_output.jsonable(report))
    return 0


def _add_import_package(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("add a partner's signed package, verified and read-only"),
                       description=_("Add a partner package's layers, read-only, after checking its signature "
                                     "and hashes."))
    p.add_argument("package", metavar="PACKAGE.gpkg", help=_("the partner's package"))
    p.add_argument("--into", required=True, metavar="WORKSPACE.gpkg", help=_("workspace file (must exist)"))
    p.add_argument("--trust-new", action="store_true",
                   help=_("trust the package's key if it is new (check its fingerprint with the sender first)"))
    p.set_defaults(func=cmd_import_package)


def cmd_trust_key(args) -> int:
    from layers import trust
    from layers.packages import trust_package_key

    if args.list:
        entries = trust.trusted_keys()
        for entry in entries:
            OUTPUT.say(entry.line())
        OUTPUT.result(keys=[{"fingerprint": e.fingerprint, "municipality": e.municipality, "trusted": e.trusted}
                            for e in entries])
        return 0
    signer, added = trust_package_key(args.package)
    OUTPUT.say(_("fingerprint: {fp}").format(fp=signer.fingerprint))
    OUTPUT.say(_("municipality: {name}").format(name=signer.municipality))
    OUTPUT.say(_("trusted from now on") if added else _("already trusted"))
    OUTPUT.result(package=args.package, fingerprint=signer.fingerprint, municipality=signer.municipality,
                  newly_trusted=added)
    return 0


def _add_trust_key(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("trust the key that signed a package (shows fingerprint and "
                                    "municipality); list trusted keys"), description=_(
        "Trust the key that signed a partner package (after verifying the package), or list the trusted keys. "
        "Check the fingerprint with the sender before trusting it."))
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("package", nargs="?", metavar="PACKAGE.gpkg", help=_("the partner's package"))
    what.add_argument("--list", action="store_true", help=_("list the trusted partner keys"))
    p.set_defaults(func=cmd_trust_key)


def cmd_report(args) -> int:
    from layers.workspace import Workspace
    from mapping.share_export import export

    with Workspace.open(args.workspace, lock_now=_police_lock(args)) as ws:
        files, disclosure = export(ws, args.profile, "report", args.out, recipient=args.recipient,
                                   confirm_police=args.confirm_police, author=args.author,
                                   overwrite=args.overwrite, lang=args.lang or i18n.language())
    OUTPUT.say(_("wrote {pdf} and {html}").format(pdf=files[0], html=files[1]) if len(files) == 2
               else _("wrote {files}").format(files=", ".join(str(f) for f in files)))
    OUTPUT.result(workspace=args.workspace, profile=args.profile, files=[str(f) for f in files],
                  disclosure=cli_output.disclosure_result(disclosure))
    return 0


def _add_report(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("the district report (PDF and an HTML twin), made like every export "
                                    "for sharing"), description=_(
        "The district report: a PDF and an HTML twin, made like every export for sharing (the same redaction, "
        "disclosure check and, for police, confirmation, recipient, stamp and change-log entry)."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--out", required=True, metavar="report.pdf", help=_("the PDF to write (its HTML twin beside it)"))
    p.add_argument("--lang", choices=i18n.SUPPORTED,
                   help=_("language of the report (default: the language of the messages)"))
    p.add_argument("--profile", choices=_profiles(), default="public",
                   help=_("who receives it: %(choices)s (default %(default)s)"))
    _add_output_options(p, overwrite=_("replace an existing report"),
                        recipient=_("who receives the report (required for police)"),
                        confirm=_("confirm a police-liaison report"))
    p.set_defaults(func=cmd_report)


def cmd_print_map(args) -> int:
    from layers.workspace import Workspace
    from mapping.print_map import print_map

    with Workspace.open(args.workspace, lock_now=_police_lock(args)) as ws:
        files = print_map(ws, out=args.out, extent=args.bbox, paper=args.paper, orientation=args.orientation,
                          title=args.title, subtitle=args.subtitle, layers=sorted(args.layers) if args.layers else None,
                          profile=args.profile, fmt=args.format, lang=args.lang or i18n.language(),
                          recipient=args.recipient, confirm_police=args.confirm_police, author=args.author,
                          overwrite=args.overwrite)
    OUTPUT.say(_("wrote {files}").format(files=", ".join(str(f) for f in files)))
    OUTPUT.result(workspace=args.workspace, profile=args.profile, files=[str(f) for f in files])
    return 0


def _add_print_map(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("print a map of the workspace (PDF or PNG, A4 or A3) for a profile"),
                       description=_("Print a map: the chosen layers within an extent, with legend, scale bar, "
                                     "north arrow, grid and the profile's marking, made like every export for "
                                     "sharing (the same redaction and disclosure check)."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--out", required=True, metavar="FILE", help=_("the PDF or PNG to write"))
    p.add_argument("--format", choices=["pdf", "png"], help=_("file format (default: from FILE's suffix)"))
    p.add_argument("--bbox", type=_bbox, metavar="W,S,E,N", help=_("only this extent (default: the district)"))
    p.add_argument("--paper", choices=["A4", "A3"], type=str.upper, default="A4", help=_("paper size"))
    p.add_argument("--orientation", choices=["landscape", "portrait"], default="landscape",
                   help=_("page orientation (default %(default)s)"))
    p.add_argument("--title", default="", help=_("title (default: the workspace's name)"))
    p.add_argument("--subtitle", default="", help=_("subtitle (default: the profile)"))
    p.add_argument("--layers", type=_id_list(_kinds()), metavar="ID,ID",
                   help=_("layers to show (default: all the profile receives)"))
    p.add_argument("--profile", choices=_profiles(), default="public",
                   help=_("who receives it: %(choices)s (default %(default)s)"))
    p.add_argument("--lang", choices=i18n.SUPPORTED,
                   help=_("language of the map (default: the language of the messages)"))
    _add_output_options(p, overwrite=_("replace an existing file"),
                        recipient=_("who receives the map (required for police)"),
                        confirm=_("confirm a police-liaison map"))
    p.set_defaults(func=cmd_print_map, bad_input=(ValueError,))


def cmd_referral(args) -> int:
    from audit.referral import Situation, suitable_services
    from layers.workspace import Workspace

    from audit.actors import actors
    from audit.referral_actors import suitable_actors

    situation = Situation(args.form, args.sex, args.age_band, args.language, args.urgency)
    with Workspace.open(args.workspace) as ws:
        rows = suitable_services(ws.read_layer("services"), situation, args.at)
        fitting = suitable_actors(actors(ws), situation)  # partner level: contact points of the local network
    for r in rows:
        where = (_("{m} m, ~{min} min walk").format(m=r["distance_m"], min=r["walk_min"])
                 if r["distance_m"] is not None else _("no address"))
        status = {True: _("open now"), False: _("closed now"), None: _("hours unknown")}[r["open_now"]]
        OUTPUT.say(f"{r['name']} ({r['type']}) · {where} · {status} · {r['phone']} · {', '.join(r['offers'])}")
    if not rows:
        OUTPUT.say(_("no suitable service found"))
    if fitting:  # beside the result (stdout stays the list of services): partner-level contacts, on stderr
        OUTPUT.inform(_("Local actors whose role fits — partner level: their contact points are for the "
                        "cooperation network, never for publication"))
    for a in fitting:
        OUTPUT.inform(_("local actor: {name} ({sector}) · {roles} · {contact}").format(
            name=a["name"], sector=a["sector"], roles=", ".join(a["roles"]),
            contact=" · ".join(x for x in (a["contact_point"], a["contact_phone"], a["contact_email"]) if x)))
    OUTPUT.result(workspace=args.workspace, services=rows, actors=fitting)
    return 0


def _add_referral(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("suitable services for a situation, nearest first (nothing is stored)"),
                       description=_("Suitable services for an anonymous situation, nearest first. "
                                     "Nothing is stored."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--form", choices=_forms(), metavar="F", help=_("form of exploitation: %(choices)s"))
    p.add_argument("--sex", choices=_field_choices("services", "serves_sex"), help=_("the person's sex"))
    p.add_argument("--age-band", choices=_field_choices("reported_cases", "age_band"), metavar="A",
                   help=_("the person's age band: %(choices)s"))
    p.add_argument("--language", metavar="CODE", help=_("the person's language, an ISO 639-1 code, e.g. lv, ru, en"))
    p.add_argument("--urgency", choices=["now", "soon", "routine"], default="soon",
                   help=_("how soon help is needed (default %(default)s)"))
    p.add_argument("--at", type=_lonlat, metavar="LON,LAT", help=_("where the person is"))
    p.set_defaults(func=cmd_referral)


def cmd_gaps(args) -> int:
    from audit.gaps import service_gaps
    from layers.workspace import Workspace
    from mapping.risk_surface import compute

    with Workspace.open(args.workspace) as ws:
        gaps = service_gaps(ws.read_layer("services"), ws.read_layer("risk_areas"), compute(ws).cells, args.distance,
                            args.assistance, args.form, streets=ws.read_layer("basemap_roads"))
    for row in gaps.itertuples():
        OUTPUT.say(_("{what}: {name} · nearest suitable service {m:.0f} m").format(what=row.what, name=row.name,
                                                                                   m=row.nearest_m))
    OUTPUT.say(ngettext("{n} gap farther than {m:.0f} m", "{n} gaps farther than {m:.0f} m", len(gaps)).format(
        n=len(gaps), m=args.distance))
    OUTPUT.result(workspace=args.workspace, **cli_output.gaps_result(gaps, args.distance))
    return 0


def _gap_distance() -> float:
    from audit.gaps import GAP_DISTANCE

    return float(GAP_DISTANCE)


def _add_gaps(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("risk areas and cells with no suitable service nearby"),
                       description=_("Risk areas and cells without a suitable service nearby."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--distance", type=float, default=_gap_distance(), metavar="METRES",
                   help=_("no suitable service within this distance (default %(default).0f m)"))
    p.add_argument("--assistance", choices=_field_choices("services", "assistance"), metavar="TYPE",
                   help=_("only services offering this assistance: %(choices)s"))
    p.add_argument("--form", choices=_forms(), metavar="F", help=_("only services for this form: %(choices)s"))
    p.set_defaults(func=cmd_gaps)


def cmd_answer(args) -> int:
    from audit.assessment import answer
    from audit.commands import History
    from layers.workspace import Workspace

    with Workspace.open(args.workspace) as ws:
        History(ws, args.author).do(answer(ws, args.question, text=args.text, number=args.number,
                                           source=args.source, confidence=args.confidence, author=args.author))
    OUTPUT.say(_("answer recorded"))
    OUTPUT.result(workspace=args.workspace, question=args.question, recorded=True)
    return 0


def _add_answer(sub, name: str) -> None:
    from audit.catalogue import confidence_levels

    p = sub.add_parser(name, help=_("answer a situation-assessment question (logged like every edit)"),
                       description=_("Answer a situation-assessment question."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("question", metavar="QUESTION_ID", help=_("the question's id in the catalogue"))
    p.add_argument("--text", default="", help=_("a text answer"))
    p.add_argument("--number", help=_("a number answer"))
    p.add_argument("--source", default="", help=_("where the answer comes from"))
    p.add_argument("--confidence", default="medium", choices=[c["id"] for c in confidence_levels()],
                   help=_("how reliable the answer is: %(choices)s (default %(default)s)"))
    p.add_argument("--author", default="", metavar="NAME", help=_("who answers (written to the change log)"))
    p.set_defaults(func=cmd_answer, bad_input=(ValueError,))


def cmd_import_submissions(args) -> int:
    from audit.submissions import import_from_odk_central, import_submissions
    from layers.importers.odk_central import parse_form
    from layers.workspace import Workspace

    if bool(args.export) == bool(args.odk_central):
        raise LanternError(_("give an EXPORT or --odk-central PROJECT_ID/FORM_ID, one of the two"))
    form = parse_form(args.odk_central) if args.odk_central else None
    with Workspace.open(args.into) as ws:
        if form:
            report = import_from_odk_central(ws, *form, author=args.author, progress=_terminal_progress())
        else:
            report = import_submissions(ws, args.export, author=args.author, progress=_terminal_progress())
    OUTPUT.say(ngettext("{n} submission added to the Incoming queue", "{n} submissions added to the Incoming queue",
                        report.added).format(n=report.added))
    OUTPUT.say(ngettext("{n} duplicate skipped (same instance id)", "{n} duplicates skipped (same instance id)",
                        report.duplicates).format(n=report.duplicates))
    OUTPUT.say(ngettext("{n} photo stored, metadata removed", "{n} photos stored, metadata removed",
                        report.photos).format(n=report.photos))
    for instance_id, ids in report.unmapped.items():
        OUTPUT.warn(_("{id}: indicators not in today's catalogue: {ids}").format(id=instance_id, ids=", ".join(ids)))
    for instance_id, name in report.missing_photos:
        OUTPUT.warn(_("{id}: photo {name} is missing from the export").format(id=instance_id, name=name))
    for notice in report.notices:
        OUTPUT.inform(notice)
    OUTPUT.result(workspace=args.into, export=args.export, odk_central=args.odk_central, source=report.source,
                  added=report.added, duplicates=report.duplicates, photos=report.photos, ids=report.ids,
                  unmapped=report.unmapped, missing_photos=[list(m) for m in report.missing_photos],
                  notices=report.notices, seconds=round(report.seconds, 3))
    return 0


def _add_import_submissions(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("put field submissions (ODK Central CSV zip, KoBoToolbox CSV or XLSX export) "
                                    "into the workspace's Incoming queue for review"),
                       description=_("Read an ODK Central or KoBoToolbox export into the Incoming queue: nothing "
                                     "reaches the audit until a reviewer accepts it. Photos are stored without "
                                     "metadata; duplicates are skipped."))
    p.add_argument("export", nargs="?", metavar="EXPORT",
                   help=_("the export: a zip, its unpacked folder, or the CSV/XLSX file"))
    p.add_argument("--odk-central", metavar="PROJECT_ID/FORM_ID",
                   help=_("read the form's submissions and photos from ODK Central (OData, through pyodk) instead "
                          "of an EXPORT; the server, user and password come from pyodk's configuration file "
                          "(PYODK_CONFIG_FILE, else ~/.pyodk_config.toml), never from Lantern"))
    p.add_argument("--into", required=True, metavar="WORKSPACE.gpkg", help=_("workspace file (must exist)"))
    p.add_argument("--author", default="", metavar="NAME", help=_("who imports (written to the change log)"))
    p.set_defaults(func=cmd_import_submissions, after_error=lambda args: [_("the workspace was not changed")])


def cmd_review_submissions(args) -> int:
    from audit import submissions
    from audit.commands import History
    from layers.workspace import Workspace

    with Workspace.open(args.workspace) as ws:
        history = History(ws, args.author)
        if args.accept:
            history.do(submissions.accept_batch(ws, args.accept, args.author))
            OUTPUT.say(ngettext("accepted {n} submission", "accepted {n} submissions", len(args.accept)).format(
                n=len(args.accept)))
        else:
            history.do(submissions.reject(ws, args.reject, args.author, args.reason))
            OUTPUT.say(_("rejected submission {id}").format(id=args.reject))
    OUTPUT.result(workspace=args.workspace, accepted=args.accept or [], rejected=[args.reject] if args.reject else [])
    return 0


def _add_review_submissions(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("accept or reject submissions of the Incoming queue (logged, like every edit)"),
                       description=_("Accept submissions (each as an annotation of the place it names, or of a new "
                                     "place) or reject one with a reason."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--accept", nargs="+", type=int, metavar="ID", help=_("queue ids to accept"))
    what.add_argument("--reject", type=int, metavar="ID", help=_("the queue id to reject (needs --reason)"))
    p.add_argument("--reason", default="", metavar="TEXT", help=_("why the submission is rejected"))
    p.add_argument("--author", default="", metavar="NAME", help=_("who reviews (written to the change log)"))
    p.set_defaults(func=cmd_review_submissions, bad_input=(ValueError,))


def cmd_actors(args) -> int:
    from audit import actors
    from audit.actor_import import import_actors
    from audit.commands import History
    from layers.workspace import Workspace

    with Workspace.open(args.workspace) as ws:
        history, notes = History(ws, args.author), []
        if args.add:
            values = {"name": args.add, "sector": args.sector, "roles": args.roles, "contact_point": args.contact_point,
                      "contact_phone": args.phone, "contact_email": args.email, "address": args.address,
                      "agreement_date": args.agreement_date, "agreement_scope": args.agreement_scope,
                      "agreement_renewal": args.renewal, "staff": args.staff, "staff_trained": args.trained,
                      "trained_on": args.trained_on, "training_needs": args.training_needs}
            notes = actors.warnings(values)
            added = [history.do(actors.add_actor(ws, values)).row_id]
        elif args.import_csv:
            found = import_actors(ws, args.import_csv)
            notes = found.warnings
            for notice in found.notices:
                OUTPUT.inform(notice)
            added = [c.row_id for c in history.do(found.command).commands]
        else:
            added = []
        for note in notes:
            OUTPUT.warn(_("warning: {text}").format(text=note))
        rows, summary = actors.actors(ws), actors.actor_summary(ws, "police")
        shown = [] if added else [actors.actor_line(r) for r in rows] + actors.coverage_lines(actors.coverage(ws))
        for line in shown:
            OUTPUT.say(line)
    if added:
        OUTPUT.say(ngettext("added {n} local actor", "added {n} local actors", len(added)).format(n=len(added)))
    OUTPUT.result(workspace=args.workspace, added=added, warnings=notes, actors=rows,
                  **{k: summary[k] for k in ("sectors", "overall", "renewals", "training_needs")})
    return 0


def _add_actors(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("the local actors who identify and help victims: list with training coverage, "
                                    "add one, or import a CSV (logged, like every edit)"),
                       description=_("List the register of local actors with its training coverage and agreements "
                                     "due, add an actor, or import a CSV of actors. A contact point is an office or "
                                     "a role, never a private person."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--add", metavar="NAME", help=_("add an actor of this name (the organisation or office)"))
    what.add_argument("--import", dest="import_csv", metavar="CSV",
                      help=_("import actors from a CSV with the register's columns (name, sector, roles, …)"))
    p.add_argument("--sector", metavar="S", help=_("the actor's sector, an id of the catalogue, e.g. social_services"))
    p.add_argument("--roles", metavar="A,B", help=_("roles in the chain of assistance, e.g. identification,referral"))
    for option, dest, meta, text in (
            ("--contact-point", "contact_point", "TEXT", _("an office or a role, never a private person")),
            ("--phone", "phone", "PHONE", _("the contact point's phone")),
            ("--email", "email", "E-MAIL", _("the contact point's e-mail")),
            ("--address", "address", "TEXT", _("the actor's address")),
            ("--agreement-date", "agreement_date", "YYYY-MM-DD", _("date of the cooperation agreement")),
            ("--agreement-scope", "agreement_scope", "TEXT", _("what the agreement covers")),
            ("--renewal", "renewal", "YYYY-MM-DD", _("date the agreement is to be renewed")),
            ("--staff", "staff", "N", _("staff who may meet victims")),
            ("--trained", "trained", "N", _("of them, staff trained on the indicators")),
            ("--trained-on", "trained_on", "YYYY-MM-DD", _("date of the last training")),
            ("--training-needs", "training_needs", "TEXT", _("training the actor still needs"))):
        p.add_argument(option, dest=dest, metavar=meta, help=text)
    p.add_argument("--author", default="", metavar="NAME", help=_("who makes the change (written to the change log)"))
    p.set_defaults(func=cmd_actors, after_error=lambda args: [_("the workspace was not changed")])


COMMANDS = {"demo": _add_demo, "import": _add_import, "import-osm": _add_import_osm, "check": _add_check,
            "checklist": _add_checklist, "plan-outreach": _add_plan_outreach, "export": _add_export,
            "import-package": _add_import_package, "trust-key": _add_trust_key, "report": _add_report,
            "print-map": _add_print_map, "referral": _add_referral, "gaps": _add_gaps,
            "answer": _add_answer, "field-form": _add_field_form,
            "field-map": _add_field_map, "import-submissions": _add_import_submissions,
            "review-submissions": _add_review_submissions, "actors": _add_actors}  # name -> adds its subparser


# -- campaigns and their evaluation (issue 18) ---------------------------------------------------


def _place_ref(text: str):
    """--place LAYER:FID."""
    kind_id, sep, fid = text.partition(":")
    if not sep or not fid.strip().isdigit():
        raise argparse.ArgumentTypeError(_("expects LAYER:FID, e.g. transport_hubs:3, got {text!r}").format(text=text))
    return kind_id.strip(), int(fid)


def _campaign_step(ws, args):
    """The one change ``campaigns`` makes: add (options or a file) or delete."""
    from audit import campaigns

    if args.delete:
        return campaigns.delete_campaign(ws, campaigns.campaign(ws, args.delete).id)
    if args.file:
        return campaigns.import_campaigns(ws, args.file)
    values = {"name": args.add, "starts": args.starts, "ends": args.ends, "audiences": args.audiences,
              "languages": args.languages, "channels": args.channels, "materials": args.materials,
              "people_reached": args.people, "leaflets": args.leaflets, "events": args.events,
              "action_items": args.action_items}
    locations = [campaigns.location_values(ws, lon=lon, lat=lat, source="map") for lon, lat in args.at]
    locations += [campaigns.location_at_place(ws, kind_id, fid) for kind_id, fid in args.place]
    return campaigns.add_campaign(ws, values, locations)


def cmd_campaigns(args) -> int:
    from audit.campaigns import campaigns
    from audit.commands import History
    from layers.workspace import Workspace

    with Workspace.open(args.workspace) as ws:
        if args.add or args.file or args.delete:
            step = History(ws, args.author).do(_campaign_step(ws, args))
            OUTPUT.say(_("{what}: done").format(what=step.label))
        listed = campaigns(ws)
    for c in listed:
        OUTPUT.say(f"{c.id}. {c.summary()}")
    if not listed:
        OUTPUT.say(_("no campaigns recorded"))
    OUTPUT.result(workspace=args.workspace, campaigns=[c.to_dict() for c in listed])
    return 0


def _add_campaigns(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("list the prevention campaigns; add one (options or a JSON file) or delete one "
                                    "(logged like every edit)"),
                       description=_("Prevention campaigns: their dates, audiences, languages, channels, reach, "
                                     "locations and the action-plan items they serve."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--add", metavar="NAME", help=_("add a campaign with this name (needs --starts and --ends)"))
    what.add_argument("--file", metavar="FILE.json", help=_("add the campaigns of a JSON file (one step)"))
    what.add_argument("--delete", metavar="NAME|ID", help=_("delete a campaign and its locations"))
    p.add_argument("--starts", metavar="YYYY-MM-DD", help=_("first day of the campaign"))
    p.add_argument("--ends", metavar="YYYY-MM-DD", help=_("last day of the campaign"))
    p.add_argument("--audiences", default="", metavar="ID,ID", help=_("audiences: professional groups, risk groups"))
    p.add_argument("--languages", default="", metavar="CODE,CODE", help=_("languages, e.g. lv,ru,en"))
    p.add_argument("--channels", default="", metavar="ID,ID", help=_("channels, e.g. leaflets,posters,events"))
    p.add_argument("--materials", default="", metavar="TEXT", help=_("materials used"))
    p.add_argument("--people", type=int, metavar="N", help=_("people reached"))
    p.add_argument("--leaflets", type=int, metavar="N", help=_("leaflets handed out"))
    p.add_argument("--events", type=int, metavar="N", help=_("events held"))
    p.add_argument("--action-items", default="", metavar="ID,ID", help=_("action-plan items the campaign serves"))
    p.add_argument("--at", action="append", default=[], type=_lonlat, metavar="LON,LAT",
                   help=_("a location of the campaign (repeat for more)"))
    p.add_argument("--place", action="append", default=[], type=_place_ref, metavar="LAYER:FID",
                   help=_("a place of the workspace as a location, e.g. transport_hubs:3 (repeat for more)"))
    p.add_argument("--author", default="", metavar="NAME", help=_("who records it (written to the change log)"))
    p.set_defaults(func=cmd_campaigns, bad_input=(ValueError,))


def cmd_evaluate(args) -> int:
    from audit.evaluation import evaluate
    from audit.evaluation_output import lines, write_evaluation
    from audit.export_log import log_export, require_confirmation
    from layers.workspace import Workspace

    if args.out:
        require_confirmation(args.profile, args.recipient, args.confirm_police)
    with Workspace.open(args.workspace, lock_now=_police_lock(args) and bool(args.out)) as ws:
        result = evaluate(ws, args.campaign, args.profile, months=args.months, radius=args.radius)
        files = write_evaluation(result, args.out, args.overwrite, args.csv_dialect) if args.out else []
        if files:
            log_export(ws, args.profile, "evaluation", args.recipient, args.author, files)
    for line in lines(result):
        OUTPUT.say(line)
    if files:
        OUTPUT.say(_("wrote {files}").format(files=", ".join(str(f) for f in files)))
    OUTPUT.result(workspace=args.workspace, files=[str(f) for f in files], **result.to_dict())
    return 0


def _add_evaluate(sub, name: str) -> None:
    from audit.evaluation import DEFAULT_RADIUS
    from layers.spreadsheet import DEFAULT_DIALECT, DIALECTS

    p = sub.add_parser(name, help=_("compare before and after a campaign, in its catchment and a comparison area "
                                    "(difference-in-differences; small counts suppressed below police level)"),
                       description=_("Hotline and service contacts, referrals and reported cases in equal windows "
                                     "before and after a campaign, in its catchment and in a comparison area, with "
                                     "the ratio of rate ratios and its exact 95 % interval. No causal claim."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--campaign", required=True, metavar="NAME|ID", help=_("the campaign, by name or number"))
    p.add_argument("--profile", choices=_profiles(), default="public",
                   help=_("who the figures are for: %(choices)s (default %(default)s)"))
    p.add_argument("--months", type=int, metavar="N",
                   help=_("length of each window (default: the campaign's own months, at least 3)"))
    p.add_argument("--radius", type=float, default=DEFAULT_RADIUS, metavar="METRES",
                   help=_("catchment: walking distance around each location (default %(default).0f m)"))
    p.add_argument("--out", metavar="DIR", help=_("also write the table (CSV) and the evaluation (JSON) here"))
    p.add_argument("--csv-dialect", choices=list(DIALECTS), default=DEFAULT_DIALECT,
                   help=_("the CSV: 'standard' (comma, decimal point) or 'excel-lv' (semicolon, decimal comma)"))
    _add_output_options(p, overwrite=_("replace the files of an earlier evaluation in DIR"),
                        recipient=_("who receives the files (required for police)"),
                        confirm=_("confirm a police-liaison evaluation"))
    p.set_defaults(func=cmd_evaluate, bad_input=(ValueError,))


def cmd_import_contacts(args) -> int:
    from audit.commands import History
    from audit.contacts import import_contacts
    from layers.workspace import Workspace

    with Workspace.open(args.into) as ws:
        step = History(ws, args.author).do(import_contacts(ws, args.csv, args.encoding))
    n = len(step.commands)
    OUTPUT.say(ngettext("{n} monthly contact count imported into {workspace}",
                        "{n} monthly contact counts imported into {workspace}", n).format(n=n, workspace=args.into))
    OUTPUT.result(workspace=args.into, source=args.csv, imported=n)
    return 0


def _add_import_contacts(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("import monthly hotline and service contact counts (CSV: month, channel, "
                                    "area or service, count, source); no personal data"),
                       description=_("Import monthly counts of hotline and service contacts per risk area or "
                                     "service. Only the columns month, channel, area, service, count and source are "
                                     "read; any other column, a bad month or count, an unknown area, or a count "
                                     "already recorded refuses the whole file."))
    p.add_argument("csv", metavar="CSV", help=_("the counts, one row per month, channel and area or service"))
    p.add_argument("--into", required=True, metavar="WORKSPACE.gpkg", help=_("workspace file (must exist)"))
    p.add_argument("--encoding", metavar="ENCODING", help=_("text encoding, e.g. utf-8 or cp1257 (default: detected)"))
    p.add_argument("--author", default="", metavar="NAME", help=_("who imports (written to the change log)"))
    p.set_defaults(func=cmd_import_contacts, bad_input=(ValueError,),
                   after_error=lambda args: [_("the workspace was not changed")])


COMMANDS.update({"campaigns": _add_campaigns, "evaluate": _add_evaluate, "import-contacts": _add_import_contacts})


def cmd_rounds(args) -> int:
    from audit import rounds
    from audit.commands import History
    from layers.workspace import Workspace

    with Workspace.open(args.workspace) as ws:
        if args.add or args.edit:
            History(ws, args.author).do(_round_change(ws, args))
            OUTPUT.say(_("audit round saved"))
        counts = rounds.row_counts(ws)
        listed = [{**r.as_dict(), **counts.get(r.id, {"annotations": 0, "estimates": 0})} for r in rounds.rounds(ws)]
    for r in listed:
        OUTPUT.say(_("{id}. {name} · {starts} – {ends} · teams: {teams} · {a} annotations, {e} estimates").format(
            id=r["id"], name=r["name"], starts=r["starts"] or "—", ends=r["ends"] or "—",
            teams=", ".join(r["teams"]) or "—", a=r["annotations"], e=r["estimates"]))
    if not listed:
        OUTPUT.say(_("no audit rounds yet"))
    unassigned = counts.get(None, {"annotations": 0, "estimates": 0})
    OUTPUT.result(workspace=args.workspace, rounds=listed, without_round=unassigned)
    return 0


def _round_change(ws, args):
    from audit import rounds

    area = _risk_area_shape(ws, args.area) if args.area else None
    if args.add:
        return rounds.add_round(ws, args.add, args.starts, args.ends, args.teams or (), area, args.notes or "")
    changes = {k: v for k, v in (("name", args.rename), ("starts", args.starts), ("ends", args.ends),
                                 ("teams", args.teams), ("notes", args.notes), ("area", area)) if v is not None}
    if args.whole_district:
        changes["area"] = None
    return rounds.edit_round(ws, rounds.resolve(ws, args.edit).id, **changes)


def _risk_area_shape(ws, which: str):
    """The outline of a risk area, by its name or fid."""
    areas = ws.read_layer("risk_areas")
    found = areas[(areas["name"].astype(str).str.casefold() == which.casefold()) |
                  (areas.index.astype(str) == which)]
    if not len(found):
        raise ValueError(_("no risk area {which!r}").format(which=which))
    return found.geometry.iloc[0]


def _add_rounds(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("list the audit rounds, or add or edit one (logged, undoable in the window)"),
                       description=_("Audit rounds: each pass over the district has a name, dates, teams and the "
                                     "part of the district it covers. New annotations and estimates go to the round "
                                     "whose dates hold their date (else the latest round)."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--add", metavar="NAME", help=_("add a round with this name"))
    what.add_argument("--edit", metavar="ROUND", help=_("edit a round (its name or id)"))
    p.add_argument("--starts", metavar="YYYY-MM-DD", help=_("first day of the round"))
    p.add_argument("--ends", metavar="YYYY-MM-DD", help=_("last day of the round"))
    p.add_argument("--teams", nargs="+", metavar="TEAM", help=_("the teams that work in the round"))
    p.add_argument("--area", metavar="RISK_AREA",
                   help=_("the round covers only this risk area (its name or id; default: the whole district)"))
    p.add_argument("--whole-district", action="store_true", help=_("(--edit) the round covers the whole district"))
    p.add_argument("--rename", metavar="NAME", help=_("(--edit) the round's new name"))
    p.add_argument("--notes", metavar="TEXT", help=_("notes on the round"))
    p.add_argument("--author", default="", metavar="NAME", help=_("who changes the rounds (written to the change log)"))
    p.set_defaults(func=cmd_rounds, bad_input=(ValueError,))


def cmd_compare(args) -> int:
    from layers.workspace import Workspace
    from mapping.round_export import export_comparison, summary_lines
    from mapping.round_change import cell_summary

    with Workspace.open(args.workspace, lock_now=_police_lock(args)) as ws:
        files, disclosure, result = export_comparison(
            ws, args.from_round, args.to_round, args.out, args.profile, lang=args.lang or i18n.language(),
            overwrite=args.overwrite, recipient=args.recipient, confirm_police=args.confirm_police, author=args.author,
            csv_dialect=args.csv_dialect, cell_size=args.cell_size, progress=_terminal_progress())
    for line in summary_lines(result):
        OUTPUT.say(line)
    OUTPUT.say(_("wrote {files}").format(files=", ".join(str(f) for f in files)))
    c = result.comparison
    OUTPUT.result(workspace=args.workspace, profile=args.profile,
                  **{"from": c.first.as_dict(args.profile), "to": c.second.as_dict(args.profile)},
                  places=c.places, drivers=c.drivers, estimates=c.estimates, estimate_areas=c.estimate_areas,
                  indicators=c.indicators, cells=cell_summary(result.surface.cells), notes=c.notes,
                  files=[str(f) for f in files], disclosure=cli_output.disclosure_result(disclosure))
    return 0


def _add_compare(sub, name: str) -> None:
    from layers.spreadsheet import DEFAULT_DIALECT, DIALECTS

    p = sub.add_parser(name, help=_("compare two audit rounds: CSV tables and a print map of the risk change"),
                       description=_("What changed between two audit rounds: places new, no longer found, with risk "
                                     "up or down and what drove it; risk-group estimates; indicators seen more or less "
                                     "often; the change of the risk index per cell. Written as CSV tables and a print "
                                     "map (PDF and PNG) for a profile, with its suppression applied to both rounds "
                                     "and to their difference."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--from", dest="from_round", required=True, metavar="ROUND", help=_("the earlier round (name or id)"))
    p.add_argument("--to", dest="to_round", required=True, metavar="ROUND", help=_("the later round (name or id)"))
    p.add_argument("--out", required=True, metavar="DIR", help=_("folder for the tables and the print map"))
    p.add_argument("--profile", choices=_profiles(), default="public",
                   help=_("who receives it: %(choices)s (default %(default)s)"))
    p.add_argument("--lang", choices=i18n.SUPPORTED,
                   help=_("language of the tables and the map (default: the language of the messages)"))
    p.add_argument("--cell-size", type=float, default=250.0, metavar="M",
                   help=_("hexagon size (default %(default).0f m)"))
    p.add_argument("--csv-dialect", choices=list(DIALECTS), default=DEFAULT_DIALECT,
                   help=_("'standard' (comma, decimal point) or 'excel-lv' (semicolon, decimal comma); both UTF-8 "
                          "with BOM"))
    _add_output_options(p, overwrite=_("replace files of an earlier comparison in DIR"),
                        recipient=_("who receives the comparison (required for police)"),
                        confirm=_("confirm a police-liaison comparison"))
    p.set_defaults(func=cmd_compare, bad_input=(ValueError,))


COMMANDS.update({"rounds": _add_rounds, "compare": _add_compare})


# -- the shared workspace on PostgreSQL/PostGIS ----------------------------------------------------------------


def _decisions(args, conflicts) -> dict:
    """The person's decisions from --keep (all conflicts) and --resolve TABLE:ID=mine|theirs (one each)."""
    chosen = {(c.table, c.row_id): args.keep for c in conflicts} if args.keep else {}
    for item in args.resolve:
        try:
            row, choice = item.rsplit("=", 1)
            table, row_id = row.rsplit(":", 1)
            key = (table, int(row_id))
        except ValueError:
            raise ValueError(_("--resolve takes TABLE:ID=mine or TABLE:ID=theirs, not {item!r}").format(item=item))
        if choice not in ("mine", "theirs"):
            raise ValueError(_("--resolve takes TABLE:ID=mine or TABLE:ID=theirs, not {item!r}").format(item=item))
        chosen[key] = choice
    return chosen


def _sync_copy(args) -> int:
    from layers import server_sync
    from layers.workspace import Workspace

    with Workspace.open(args.workspace, lock_now=True) as ws:
        result = server_sync.sync(ws, args.server, author=args.author)
        decided = _decisions(args, result.conflicts) if result.conflicts else {}
        if result.conflicts and decided and all((c.table, c.row_id) in decided for c in result.conflicts):
            result = server_sync.sync(ws, args.server, resolve=decided, author=args.author)
    OUTPUT.result(workspace=args.workspace, sent_rows=result.sent_rows, sent_entries=result.sent_entries,
                  received_rows=result.received_rows, received_entries=result.received_entries,
                  conflicts=[{"table": c.table, "id": c.row_id, "differences": server_sync.conflict_lines(c)}
                             for c in result.conflicts])
    if result.conflicts:
        OUTPUT.warn(ngettext("{workspace}: {n} row was changed here and on the server; nothing was sent or received:",
                             "{workspace}: {n} rows were changed here and on the server; nothing was sent or received:",
                             len(result.conflicts)).format(workspace=args.workspace, n=len(result.conflicts)))
        for c in result.conflicts:
            for line in server_sync.conflict_lines(c):
                OUTPUT.warn("  " + line)
        OUTPUT.warn(_("decide with --keep mine|theirs, or --resolve TABLE:ID=mine|theirs for each row"))
        return 1
    OUTPUT.say(_("{workspace}: in step with the server (sent {sent} changes, received {received})").format(
        workspace=args.workspace, sent=result.sent_entries, received=result.received_entries))
    return 0


def cmd_push(args) -> int:
    from layers import server_sync, server_transfer
    from layers.workspace import Workspace

    with Workspace.open(args.workspace) as ws:
        copy = server_sync.is_copy(ws)
    if copy:
        return _sync_copy(args)
    report = server_transfer.push(args.workspace, args.server, author=args.author)
    OUTPUT.say(_("{workspace}: {rows} rows of {tables} tables are on the server now; the move is in its "
                 "history").format(workspace=args.workspace, rows=integer(report.rows), tables=report.tables))
    OUTPUT.result(workspace=args.workspace, tables=report.tables, rows=report.rows,
                  geometries_rewritten=report.rewritten_count, history_head=report.entry_hash)
    return 0


def cmd_pull(args) -> int:
    from layers import server_sync

    if Path(args.workspace).exists():
        return _sync_copy(args)
    result = server_sync.pull(args.server, args.workspace, author=args.author, label=args.label or args.workspace)
    OUTPUT.say(_("{workspace}: a copy of the shared workspace ({rows} rows); work on it, offline too, and "
                 "`lantern push` it back").format(workspace=args.workspace, rows=integer(result.received_rows)))
    OUTPUT.result(workspace=args.workspace, rows=result.received_rows)
    return 0


def cmd_server_roles(args) -> int:
    from layers import server_sync

    roles = server_sync.apply_roles(args.server)
    for access in roles:
        OUTPUT.say(_("{role}: reads {reads} tables, writes {writes}").format(
            role=access.pg_role, reads=len(access.reads), writes=len(access.writes)))
    OUTPUT.result(roles={a.pg_role: {"reads": sorted(a.reads), "writes": sorted(a.writes),
                                     "reads_logged": sorted(a.logged)} for a in roles})
    return 0


_SERVER_HELP = N_("the server: postgresql://USER@HOST/DATABASE, or service=NAME (pg_service.conf); the password "
                  "comes from ~/.pgpass or the service file, never from the command line")


def _add_sync_options(p) -> None:
    p.add_argument("--author", default="", metavar="NAME", help=_("who moves it (written to the change log)"))
    p.add_argument("--keep", choices=["mine", "theirs"],
                   help=_("decide every conflict one way: keep this copy's rows (mine) or the server's (theirs)"))
    p.add_argument("--resolve", action="append", default=[], metavar="TABLE:ID=mine|theirs",
                   help=_("decide one conflict (repeat for each)"))


def _add_push(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("put a workspace file on a PostGIS server, or send a copy's changes back"),
                       description=_("A workspace file goes into an empty PostGIS database, history and all. A copy "
                                     "made by `lantern pull` sends its changes and receives the others'; a row "
                                     "changed on both sides is listed and nothing is written until you decide."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("server", metavar="SERVER", help=_(_SERVER_HELP))
    _add_sync_options(p)
    p.set_defaults(func=cmd_push, bad_input=(ValueError,))


def _add_pull(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("make a copy of a shared workspace to work on (offline too), or bring one in "
                                    "step"),
                       description=_("A new file: a copy of the shared workspace, its history verifiable, the copy "
                                     "recorded in the server's history. An existing copy: brought in step (its "
                                     "changes sent, the others' received)."))
    p.add_argument("server", metavar="SERVER", help=_(_SERVER_HELP))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--label", default="", help=_("what the server's history calls this copy (default: its file name)"))
    _add_sync_options(p)
    p.set_defaults(func=cmd_pull, bad_input=(ValueError,))


def _add_server_roles(sub, name: str) -> None:
    p = sub.add_parser(name, help=_("give the auditor, planner, police and administrator roles their access on the "
                                    "server again"),
                       description=_("Grants, column privileges and row-level security from data/sensitivity.json "
                                     "and data/server_roles.json; run it as the database's owner."))
    p.add_argument("server", metavar="SERVER", help=_(_SERVER_HELP))
    p.set_defaults(func=cmd_server_roles)


COMMANDS.update({"push": _add_push, "pull": _add_pull, "server-roles": _add_server_roles})


# -- the app (no command) ------------------------------------------------------------------------


def open_app(args) -> int:
    workspace = args.workspace
    if args.demo:
        from audit.demo import cached_demo_path

        workspace = str(cached_demo_path())
    from gui.app import run  # Qt only here

    return run(workspace, screenshot=args.screenshot, size=args.size)


class _WholeHelp(argparse.Action):
    """-h without a command: the help of the whole command line, commands included."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=_("show this help message and exit"))

    def __call__(self, parser, namespace, values, option_string=None):
        build_parser().print_help()
        parser.exit()


def _add_app_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                   help=_("show program's version number and exit"))
    p.add_argument("--lang", choices=i18n.SUPPORTED,
                   help=_("language of the messages, the window and the documents: %(choices)s (default: "
                          "LANTERN_LANG, else the system locale, else en)"))
    app = p.add_argument_group(_("the app (no COMMAND)"))
    app.add_argument("workspace", nargs="?", metavar="WORKSPACE.gpkg", help=_("workspace file (.gpkg) to open"))
    app.add_argument("--demo", action="store_true", help=_("open the demo district (synthetic data)"))
    app.add_argument("--screenshot", metavar="OUT.png",
                     help=_("render the window once the map is ready, save it and exit (exit 3 if the map stays "
                            "blank)"))
    app.add_argument("--size", metavar="WIDTHxHEIGHT", type=_window_size, default=None,
                     help=_("window size in pixels, e.g. 1366x768 (for screenshots: what a laptop shows)"))
    p.set_defaults(func=open_app)


def _window_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a window size like 1366x768: {text}").format(text=text)) from None
    if not (320 <= width <= 10000 and 240 <= height <= 10000):
        raise argparse.ArgumentTypeError(_("not a window size like 1366x768: {text}").format(text=text))
    return width, height


class _Parser(argparse.ArgumentParser):
    """argparse, remembering its error message so that --json can also give it as {"error": ...} on stdout."""

    last_error: str | None = None

    def error(self, message):
        _Parser.last_error = message
        super().error(message)


OUTPUT_FLAGS = ("-q", "--quiet", "--json")


def _add_output_mode(p: argparse.ArgumentParser) -> None:
    """--quiet and --json, which every command takes (before or after its name), one or the other."""
    group = p.add_argument_group(_("output of a command"))
    mode = group.add_mutually_exclusive_group()
    mode.add_argument("-q", "--quiet", action="store_true",
                      help=_("print nothing but errors (on stderr); the exit code says how it went"))
    mode.add_argument("--json", action="store_true",
                      help=_("print the result as one JSON document on stdout (UTF-8, keys in English, numbers "
                             "as numbers; an error as its \"error\" key)"))


def _app_parser() -> argparse.ArgumentParser:
    """The options of the app mode alone (no command): light, so the app starts without the catalogues."""
    p = _Parser(prog="lantern", description=_(DESCRIPTION), add_help=False)
    p.add_argument("-h", "--help", action=_WholeHelp)
    _add_app_options(p)
    return p


def build_parser(names=COMMANDS) -> argparse.ArgumentParser:
    """The whole command line: the app options and one subparser per command (of ``names``); its help is the
    top-level help."""
    prefix = _("usage: ")
    app_usage = _app_parser().format_usage().removeprefix(prefix).strip()
    command_usage = _("COMMAND [options]")
    p = _Parser(prog="lantern", description=_(DESCRIPTION),
                usage=f"{app_usage}\n{' ' * len(prefix)}%(prog)s {command_usage}")
    _add_app_options(p)
    _add_output_mode(p)
    sub = p.add_subparsers(title=_("commands"), metavar="COMMAND", dest="command", prog="lantern",
                           help=_("run 'lantern COMMAND --help' for a command's options"))
    for name in names:
        COMMANDS[name](sub, name)
        _add_output_mode(sub.choices[name])
    return p


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Command name → its parser."""
    return next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))


# -- running -------------------------------------------------------------------------------------


def _looks_like_workspace(arg: str) -> bool:
    from layers.server import is_server_address

    return bool(Path(arg).suffix) or "/" in arg or os.sep in arg or Path(arg).exists() or is_server_address(arg)


def _output_flags_after_command(argv: list[str]) -> list[str]:
    """``argv`` with the --quiet/--json given before a command moved just after its name, where its parser reads
    them (a leading ``--lang LANG`` is already applied and dropped). Without a command they are refused."""
    flags, rest = [], list(argv)
    while rest:
        if rest[0] in OUTPUT_FLAGS:
            flags.append(rest.pop(0))
        elif rest[0] == "--lang" and len(rest) > 1 and rest[1] in i18n.SUPPORTED:
            del rest[:2]
        elif rest[0].startswith("--lang=") and rest[0].partition("=")[2] in i18n.SUPPORTED:
            del rest[0]
        else:
            break
    if not flags:
        return argv
    if rest and rest[0] in COMMANDS:
        return [rest[0], *flags, *rest[1:]]
    if rest and rest[0].startswith("-"):
        return argv  # --help, or an app option: the app's parser answers
    build_parser([]).error(_("{options} must come with a COMMAND, e.g. lantern --json check WORKSPACE.gpkg").format(
        options=" ".join(flags)))


def _parse(argv: list[str]) -> argparse.Namespace:
    """A known command is parsed by its parser; anything else is the app's options (or an unknown command)."""
    if argv and argv[0] in COMMANDS:
        return commands(build_parser([argv[0]]))[argv[0]].parse_args(argv[1:])
    if argv and not argv[0].startswith("-") and not _looks_like_workspace(argv[0]):
        build_parser([]).error(_("unknown command {command!r} (choose from {choices})").format(
            command=argv[0], choices=", ".join(COMMANDS)))
    return _app_parser().parse_args(argv)


def _print_notice(text: str) -> None:
    """A workspace's notice (e.g. opened read-only): on stderr, listed in --json's document, silent with --quiet."""
    OUTPUT.notice(text, _("note: {text}").format(text=text))


def guarded(args: argparse.Namespace) -> int:
    """The one error wrapper: a Lantern error (or a command's bad input) is one line on stderr and exit 2; with
    --json the result, or the error, is then written as one JSON document."""
    try:
        with OUTPUT.running():
            code = args.func(args)
    except (LanternError, *getattr(args, "bad_input", ())) as exc:  # e.g. a held, read-only or missing workspace
        details = list(getattr(args, "after_error", lambda _args: [])(args))
        OUTPUT.warn(("\n" if _bar["open"] else "") + _("error: {message}").format(message=exc))
        for line in details:
            OUTPUT.warn(line)
        OUTPUT.error(str(exc), details)
        code = 2
    except Exception as exc:  # a bug: the traceback goes to stderr as always, --json still gets its one document
        OUTPUT.error(f"{type(exc).__name__}: {exc}", [])
        OUTPUT.emit()
        raise
    OUTPUT.emit()
    return code


def _output_mode(args: argparse.Namespace) -> str:
    return "json" if getattr(args, "json", False) else "quiet" if getattr(args, "quiet", False) else "text"


def _parse_for(argv: list[str]) -> argparse.Namespace:
    """Parse; when --json was asked for and the command line is wrong, also say so as {"error": ...} on stdout."""
    _Parser.last_error = None
    try:
        return _parse(_output_flags_after_command(argv))
    except SystemExit as exc:
        asked = argv[:argv.index("--")] if "--" in argv else argv
        if exc.code and "--json" in asked and _Parser.last_error:
            cli_output.write_utf8(sys.stdout, cli_output.dumps({"error": _Parser.last_error}) + "\n")
        raise


def _language_option(argv: list[str]) -> tuple[str | None, list[str]]:
    """The value of the first ``--lang`` (anywhere, so it applies before anything prints), and ``argv`` without a
    leading global ``--lang LANG`` (the commands see their own)."""
    chosen = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            chosen = argv[i + 1]
        elif arg.startswith("--lang="):
            chosen = arg.partition("=")[2]
        if chosen is not None:
            break
    if chosen not in i18n.SUPPORTED:
        return None, argv  # none, or a bad value: the parser says what is allowed
    rest = list(argv)
    while rest and (rest[0] == "--lang" and len(rest) > 1 or rest[0].startswith("--lang=")):
        rest = rest[2:] if rest[0] == "--lang" else rest[1:]
    return chosen, rest


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    lang, argv = _language_option(argv)
    if lang:
        i18n.set_language(lang)
        os.environ["LANTERN_LANG"] = lang  # the window (and any child process) starts in the same language
    args = _parse_for(argv)
    global OUTPUT
    OUTPUT = cli_output.Output(_output_mode(args))
    if args.func is not open_app:
        from layers.workspace import notice_hooks

        if _print_notice not in notice_hooks:
            notice_hooks.append(_print_notice)
    return guarded(args)


def run() -> int:
    """``main``, ending quietly when the reader of our output goes away (``lantern check W | head -1``)."""
    try:
        return main()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 0


if __name__ == "__main__":
    sys.exit(run())
