"""Lantern — a desktop GIS for municipal teams working against human trafficking.

Thin command line over the library: parses arguments and calls one function.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

COMMANDS = ("demo", "import", "import-osm", "check", "checklist", "plan-outreach", "export", "import-package",
            "trust-key", "report", "referral", "gaps", "answer")

EPILOG = """commands:
  python main.py [WORKSPACE.gpkg] [--demo] [--screenshot OUT.png]
                         open the app (on a workspace, or on the demo district)
  python main.py demo OUT.gpkg
                         write the demo district workspace (synthetic data)
  python main.py import SOURCE --kind KIND --into WORKSPACE.gpkg [--layer NAME] [--map COLUMN=FIELD]
                 [--set FIELD=VALUE] [--skip-invalid]
                         import a GeoJSON, GeoPackage, Shapefile (.shp, folder, .zip) or CSV file
  python main.py import-osm FILE.osm.pbf --out WORKSPACE.gpkg [--bbox W,S,E,N] [--clip-layer KIND]
                         turn an OpenStreetMap extract into places and an offline basemap
  python main.py check WORKSPACE.gpkg [--accept --author NAME]
                         verify integrity, GeoPackage registration, the signed change log and the data against it
  python main.py plan-outreach WORKSPACE.gpkg --sites K --radius METRES --out DIR [--profile P] [--cell-size M] [--overwrite]
                         choose K campaign sites; write outreach.html/.pdf/.png, sites.gpkg and sites.csv
  python main.py export WORKSPACE.gpkg --profile public|partner|police --format html|pdf|png|gpkg|csv|geojson|report
                 --out PATH [--recipient NAME] [--confirm-police] [--overwrite]
                         share the workspace at the profile's level of detail (csv/geojson: PATH is a folder)
  python main.py import-package PACKAGE.gpkg --into WORKSPACE.gpkg [--trust-new]
                         add a partner's signed package, verified and read-only
  python main.py trust-key PACKAGE.gpkg | trust-key --list
                         trust the key that signed a package (shows fingerprint and municipality); list trusted keys
  python main.py report WORKSPACE.gpkg --out report.pdf [--lang en|lv] [--profile P] [--recipient NAME] [--confirm-police]
                         the district report (PDF and an HTML twin), made like every export for sharing
  python main.py referral WORKSPACE.gpkg [--form F] [--sex S] [--age-band A] [--language L] [--urgency now|soon|routine] [--at LON,LAT]
                         suitable services for a situation, nearest first (nothing is stored)
  python main.py gaps WORKSPACE.gpkg [--distance M] [--assistance TYPE] [--form F]
                         risk areas and cells with no suitable service nearby
  python main.py answer WORKSPACE.gpkg QUESTION_ID (--text T | --number N) [--source S] [--author A]
                         answer a situation-assessment question (logged like every edit)
  python main.py checklist --place-type TYPE [--lang en|lv] --out FILE.pdf
                         print the indicator checklist for a place type (one page, for work on foot)
Run 'python main.py COMMAND --help' for a command's options.
"""


def _app_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lantern",
        description="Lantern: map human-trafficking risk in a district, offline and privately.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("workspace", nargs="?", help="workspace file (.gpkg) to open")
    p.add_argument("--demo", action="store_true", help="open the demo district (synthetic data)")
    p.add_argument("--screenshot", metavar="OUT.png", help="render the window once the map is ready, save it and exit")
    return p


def _demo_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lantern demo", description="Write the demo district workspace (synthetic data).")
    p.add_argument("out", metavar="OUT.gpkg", help="file to write")
    p.add_argument("--overwrite", action="store_true", help="replace OUT.gpkg if it exists (it may be a real workspace)")
    return p


def _import_parser() -> argparse.ArgumentParser:
    from layers.catalogue import layer_kinds

    p = argparse.ArgumentParser(prog="lantern import", description="Import a GIS file into a workspace layer.")
    p.add_argument("source", help="GeoJSON, GeoPackage, Shapefile (.shp, folder or .zip) or CSV with lon/lat columns")
    p.add_argument("--kind", required=True, choices=list(layer_kinds()), help="layer to import into")
    p.add_argument("--into", required=True, metavar="WORKSPACE.gpkg", help="workspace file (must exist)")
    p.add_argument("--layer", help="source layer name, for files with several layers")
    p.add_argument(
        "--map", action="append", default=[], metavar="COLUMN=FIELD",
        help="map a source column to a field; FIELD '-' drops the column, 'extra' keeps it in the extra column",
    )
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="give every imported feature this value for FIELD (e.g. --set sector=construction)")
    p.add_argument("--skip-invalid", action="store_true",
                   help="import the rows that fit and write the others, with reasons, to SOURCE.skipped.csv")
    return p


def _osm_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lantern import-osm",
        description="Import an OpenStreetMap extract: places by data/osm_tag_mapping.json, and an offline basemap.",
    )
    p.add_argument("source", metavar="FILE.osm.pbf", help="OpenStreetMap extract")
    p.add_argument("--out", required=True, metavar="WORKSPACE.gpkg", help="workspace to create, or to add to")
    p.add_argument("--bbox", metavar="W,S,E,N", help="keep only what lies in this box (degrees)")
    p.add_argument("--clip-layer", metavar="KIND", help="clip to the polygons of this layer of an existing workspace")
    return p


def _bbox(text: str | None):
    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise SystemExit(f"--bbox expects four numbers W,S,E,N, got {text!r}") from None
    if len(values) != 4:
        raise SystemExit(f"--bbox expects four numbers W,S,E,N, got {text!r}")
    return values


def _terminal_progress(stream=sys.stderr):
    """A one-line text progress bar on a terminal; silent when output is piped."""
    if not stream.isatty():
        return None

    def show(fraction: float, message: str) -> None:
        filled = int(round(30 * fraction))
        stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {message[:50]:<50}")
        if fraction >= 1:
            stream.write("\n")
        stream.flush()

    return show


def cmd_import_osm(argv: list[str]) -> int:
    args = _osm_parser().parse_args(argv)
    from layers.errors import LanternError
    from layers.osm import import_osm

    try:
        report = import_osm(args.source, args.out, _bbox(args.bbox), args.clip_layer, progress=_terminal_progress())
    except LanternError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        print(f"{args.out} was not changed" if Path(args.out).exists() else "nothing was written", file=sys.stderr)
        return 2
    print(report.summary())
    print(f"wrote {args.out} in {report.seconds:.2f} s")
    return 0


def cmd_check(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lantern check",
                                description="Verify a workspace; exit 1 naming the first problem found.")
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--accept", action="store_true",
                   help="first record the rows changed outside Lantern (e.g. in QGIS) as one signed change-log entry")
    p.add_argument("--author", default="", help="who accepts the outside edits (written to the change log)")
    args = p.parse_args(argv)
    from audit.check import accept_outside_edits, check_workspace, describe

    from layers.errors import LanternError
    from layers.workspace import recover_interrupted_write

    try:
        if recover_interrupted_write(args.workspace):
            print(f"note: {args.workspace}: a write interrupted by a crash was rolled back before the check",
                  file=sys.stderr)
    except LanternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.accept:
        from layers.workspace import Workspace

        try:
            with Workspace.open(args.workspace) as ws:
                accepted = accept_outside_edits(ws, args.author)
        except LanternError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{args.workspace}: accepted {len(accepted)} outside edits (by {args.author.strip()})")
    result = check_workspace(args.workspace)
    if not result.ok:
        for problem in result.problems:
            print(f"{args.workspace}: {problem}", file=sys.stderr)
        for line in describe(result):
            print(f"{args.workspace}: {line}", file=sys.stderr)
        return 1
    print(f"{args.workspace}: OK (integrity, GeoPackage registration, change log of {result.entries} entries)")
    for line in describe(result):
        print(f"{args.workspace}: {line}")
    return 0


def cmd_checklist(argv: list[str]) -> int:
    from audit.catalogue import place_types

    p = argparse.ArgumentParser(prog="lantern checklist",
                                description="A one-page PDF indicator checklist for a place type.")
    p.add_argument("--place-type", required=True, choices=[t["id"] for t in place_types()])
    p.add_argument("--lang", default="en", choices=["en", "lv"])
    p.add_argument("--out", required=True, metavar="FILE.pdf")
    args = p.parse_args(argv)
    from audit.field_checklist import write_checklist

    pages = write_checklist(args.out, args.place_type, args.lang)
    print(f"wrote {args.out} ({pages} page)")
    return 0


def _csv_set(text: str | None):
    return None if not text else frozenset(t.strip() for t in text.split(",") if t.strip())


def cmd_plan_outreach(argv: list[str]) -> int:
    from mapping.outreach import candidate_categories, default_categories

    p = argparse.ArgumentParser(prog="lantern plan-outreach",
                                description="Choose campaign sites that cover the most risk, and export the plan.")
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--sites", type=int, default=5, metavar="K", help="number of sites (default 5)")
    p.add_argument("--radius", type=float, default=500, metavar="METRES", help="walking distance (default 500 m)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the five files")
    p.add_argument("--cell-size", type=float, default=250, metavar="M", help="hexagon size (default 250 m)")
    p.add_argument("--groups", metavar="ID,ID", help="risk groups to target (default: all)")
    p.add_argument("--forms", metavar="ID,ID", help="forms of exploitation (default: all)")
    p.add_argument("--categories", metavar="ID,ID", default=",".join(default_categories()),
                   help="candidate categories: " + ", ".join(c["id"] for c in candidate_categories()))
    p.add_argument("--method", choices=["greedy", "exact"], default="greedy")
    p.add_argument("--paper", choices=["a4", "a3"], default="a4")
    p.add_argument("--profile", choices=["public", "partner", "police"], default="public",
                   help="who the plan is for (default public): decides candidate layers and suppression")
    p.add_argument("--overwrite", action="store_true", help="replace files of an earlier plan in DIR")
    p.add_argument("--recipient", default="", help="who receives a police plan (required for police)")
    p.add_argument("--confirm-police", action="store_true", help="confirm a police-liaison plan")
    p.add_argument("--author", default="", help="who exports (written to the change log)")
    args = p.parse_args(argv)
    from layers.errors import LanternError
    from layers.workspace import Workspace
    from mapping.outreach import OutreachParams, plan_outreach
    from mapping.outreach_export import export_plan
    from mapping.risk_surface import SurfaceParams
    from audit.export_log import require_confirmation

    try:
        require_confirmation(args.profile, args.recipient, args.confirm_police)  # before the plan is computed
    except LanternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    params = OutreachParams(k=args.sites, radius=args.radius, method=args.method, profile=args.profile,
                            categories=sorted(_csv_set(args.categories) or []),
                            surface=SurfaceParams(cell_size=args.cell_size, groups=_csv_set(args.groups),
                                                  forms=_csv_set(args.forms)))
    try:
        with Workspace.open(args.workspace, lock_now=args.profile == "police") as ws:  # police: the log needs the write lock
            plan = plan_outreach(ws, params, progress=_terminal_progress())
            files, _disclosure = export_plan(plan, ws, args.out, paper=args.paper, overwrite=args.overwrite,
                                             recipient=args.recipient, confirm_police=args.confirm_police,
                                             author=args.author)
    except (LanternError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for row in plan.sites.itertuples():
        print(f"{row.rank}. {row.name} ({row.category}): {row.reason}")
    print(plan.quality_text())
    print("wrote " + ", ".join(str(f) for f in files.values()))
    return 0


def cmd_export(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lantern export", description=(
        "Export for sharing. Every format passes one redaction step and a disclosure check. public: no cases, "
        "places only as hex counts, estimates as bands; partner: cases as hex counts (<5 suppressed), places "
        "geomasked, no notes or authors; police: full detail, needs --confirm-police and --recipient, is stamped "
        "RESTRICTED and logged."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--profile", required=True, choices=["public", "partner", "police"])
    p.add_argument("--format", required=True, choices=["html", "pdf", "png", "gpkg", "csv", "geojson", "report"])
    p.add_argument("--out", required=True, metavar="PATH",
                   help="file (html, pdf, png, gpkg; report: the PDF, its HTML twin beside it) or folder (csv, geojson)")
    p.add_argument("--lang", choices=["en", "lv"], default="en", help="language of the report")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file or folder contents")
    p.add_argument("--recipient", default="", help="who receives the export (required for police)")
    p.add_argument("--confirm-police", action="store_true", help="confirm a police-liaison export")
    p.add_argument("--author", default="", help="who exports (written to the change log)")
    p.add_argument("--bbox", metavar="W,S,E,N", help="only this extent")
    args = p.parse_args(argv)
    from layers.errors import LanternError
    from layers.workspace import Workspace
    from mapping.share_export import export

    try:
        with Workspace.open(args.workspace, lock_now=args.profile == "police") as ws:  # police: the log needs the write lock
            files, disclosure = export(ws, args.profile, args.format, args.out, recipient=args.recipient,
                                       confirm_police=args.confirm_police, author=args.author,
                                       extent=_bbox(args.bbox), overwrite=args.overwrite, lang=args.lang)
    except LanternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(disclosure.summary())
    print("wrote " + ", ".join(str(f) for f in files))
    return 0


def cmd_import_package(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lantern import-package",
                                description="Add a partner package's layers, read-only, after checking its "
                                            "signature and hashes.")
    p.add_argument("package", metavar="PACKAGE.gpkg")
    p.add_argument("--into", required=True, metavar="WORKSPACE.gpkg")
    p.add_argument("--trust-new", action="store_true",
                   help="trust the package's key if it is new (check its fingerprint with the sender first)")
    args = p.parse_args(argv)
    from layers.errors import LanternError
    from layers.packages import import_package
    from layers.workspace import Workspace

    try:
        with Workspace.open(args.into, lock_now=True) as ws:
            report = import_package(ws, args.package, trust_new=args.trust_new)
    except LanternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def cmd_trust_key(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lantern trust-key", description=(
        "Trust the key that signed a partner package (after verifying the package), or list the trusted keys. "
        "Check the fingerprint with the sender before trusting it."))
    p.add_argument("package", nargs="?", metavar="PACKAGE.gpkg")
    p.add_argument("--list", action="store_true", help="list the trusted partner keys")
    args = p.parse_args(argv)
    if bool(args.package) == args.list:
        p.error("give a PACKAGE.gpkg or --list")
    from layers import trust
    from layers.errors import LanternError
    from layers.packages import trust_package_key

    try:
        if args.list:
            for entry in trust.trusted_keys():
                print(entry.line())
            return 0
        signer, added = trust_package_key(args.package)
    except LanternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"fingerprint: {signer.fingerprint}\nmunicipality: {signer.municipality}")
    print("trusted from now on" if added else "already trusted")
    return 0


def cmd_report(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lantern report", description=(
        "The district report: a PDF and an HTML twin, made like every export for sharing (the same redaction, "
        "disclosure check and, for police, confirmation, recipient, stamp and change-log entry)."))
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--out", required=True, metavar="report.pdf")
    p.add_argument("--lang", choices=["en", "lv"], default="en")
    p.add_argument("--profile", choices=["public", "partner", "police"], default="public")
    p.add_argument("--recipient", default="", help="who receives the report (required for police)")
    p.add_argument("--confirm-police", action="store_true", help="confirm a police-liaison report")
    p.add_argument("--author", default="", help="who exports (written to the change log)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing report")
    args = p.parse_args(argv)
    from layers.errors import LanternError
    from layers.workspace import Workspace
    from mapping.share_export import export

    try:
        with Workspace.open(args.workspace, lock_now=args.profile == "police") as ws:  # police: the log needs the write lock
            files, _disclosure = export(ws, args.profile, "report", args.out, recipient=args.recipient,
                                        confirm_police=args.confirm_police, author=args.author,
                                        overwrite=args.overwrite, lang=args.lang)
    except LanternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("wrote " + " and ".join(str(f) for f in files))
    return 0


def cmd_referral(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lantern referral",
                                description="Suitable services for an anonymous situation, nearest first. Nothing is stored.")
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--form")
    p.add_argument("--sex", choices=["female", "male", "other"])
    p.add_argument("--age-band")
    p.add_argument("--language", help="ISO 639-1 code, e.g. lv, ru, en")
    p.add_argument("--urgency", choices=["now", "soon", "routine"], default="soon")
    p.add_argument("--at", metavar="LON,LAT", help="where the person is")
    args = p.parse_args(argv)
    from audit.referral import Situation, suitable_services
    from layers.workspace import Workspace

    at = tuple(float(v) for v in args.at.split(",")) if args.at else None
    with Workspace.open(args.workspace) as ws:
        rows = suitable_services(ws.read_layer("services"), Situation(args.form, args.sex, args.age_band,
                                                                      args.language, args.urgency), at)
    for r in rows:
        where = f"{r['distance_m']} m, ~{r['walk_min']} min walk" if r["distance_m"] is not None else "no address"
        status = {True: "open now", False: "closed now", None: "hours unknown"}[r["open_now"]]
        print(f"{r['name']} ({r['type']}) · {where} · {status} · {r['phone']} · {', '.join(r['offers'])}")
    if not rows:
        print("no suitable service found")
    return 0


def cmd_gaps(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lantern gaps", description="Risk areas and cells without a suitable service nearby.")
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("--distance", type=float, default=500)
    p.add_argument("--assistance")
    p.add_argument("--form")
    args = p.parse_args(argv)
    from audit.gaps import service_gaps
    from layers.workspace import Workspace
    from mapping.risk_surface import compute

    with Workspace.open(args.workspace) as ws:
        gaps = service_gaps(ws.read_layer("services"), ws.read_layer("risk_areas"), compute(ws).cells, args.distance,
                            args.assistance, args.form)
    for row in gaps.itertuples():
        print(f"{row.what}: {row.name} · nearest suitable service {row.nearest_m:.0f} m")
    print(f"{len(gaps)} gap(s) farther than {args.distance:.0f} m")
    return 0


def cmd_answer(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="lantern answer", description="Answer a situation-assessment question.")
    p.add_argument("workspace", metavar="WORKSPACE.gpkg")
    p.add_argument("question")
    p.add_argument("--text", default="")
    p.add_argument("--number")
    p.add_argument("--source", default="")
    p.add_argument("--confidence", default="medium", choices=["low", "medium", "high"])
    p.add_argument("--author", default="")
    args = p.parse_args(argv)
    from audit.assessment import answer
    from audit.commands import History
    from layers.workspace import Workspace

    try:
        with Workspace.open(args.workspace) as ws:
            History(ws, args.author).do(answer(ws, args.question, text=args.text, number=args.number,
                                               source=args.source, confidence=args.confidence, author=args.author))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("answer recorded")
    return 0


def _mapping(pairs: list[str]) -> dict:
    from layers.features import IGNORE

    out = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep:
            raise SystemExit(f"--map expects COLUMN=FIELD, got {pair!r}")
        out[column] = IGNORE if target == "-" else target
    return out


def _constants(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"--set expects FIELD=VALUE, got {pair!r}")
        out[name.strip()] = value
    return out


def cmd_demo(argv: list[str]) -> int:
    args = _demo_parser().parse_args(argv)
    from layers.demo import build_demo

    from layers.catalogue import layer_kinds

    if Path(args.out).exists() and not args.overwrite:
        print(f"error: {args.out} exists; nothing was written (use --overwrite to replace it with the demo)",
              file=sys.stderr)
        return 2
    with build_demo(args.out) as ws:
        counts = ", ".join(f"{k} {ws.count(k)}" for k in layer_kinds())
    print(f"wrote {args.out}: real OpenStreetMap places of central Helsinki (© OpenStreetMap contributors)"
          f" with SYNTHETIC reported cases and risk areas ({counts})")
    return 0


def cmd_import(argv: list[str]) -> int:
    args = _import_parser().parse_args(argv)
    from layers.errors import LanternError
    from layers.importers import import_file
    from layers.workspace import Workspace

    try:
        with Workspace.open(args.into) as ws:
            report = import_file(ws, args.source, args.kind, args.layer, overrides=_mapping(args.map),
                                 constants=_constants(args.set), skip_invalid=args.skip_invalid)
    except LanternError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("the workspace was not changed", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def cmd_app(argv: list[str]) -> int:
    args = _app_parser().parse_args(argv)
    workspace = args.workspace
    if args.demo:
        from layers.demo import cached_demo_path

        workspace = str(cached_demo_path())
    from gui.app import run

    return run(workspace, screenshot=args.screenshot)


def _print_notice(text: str) -> None:
    print(f"note: {text}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        commands = {"demo": cmd_demo, "import": cmd_import, "import-osm": cmd_import_osm, "check": cmd_check,
                    "checklist": cmd_checklist, "plan-outreach": cmd_plan_outreach, "export": cmd_export,
                    "import-package": cmd_import_package, "report": cmd_report, "referral": cmd_referral,
                    "gaps": cmd_gaps, "answer": cmd_answer, "trust-key": cmd_trust_key}
        from layers.errors import LanternError
        from layers.workspace import notice_hooks

        if _print_notice not in notice_hooks:
            notice_hooks.append(_print_notice)
        try:
            return commands[argv[0]](argv[1:])
        except LanternError as exc:  # e.g. a workspace held by another writer, read-only, or a full disk
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return cmd_app(argv)


if __name__ == "__main__":
    sys.exit(main())
