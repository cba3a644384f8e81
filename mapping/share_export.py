"""Exports for sharing: one redacted bundle (audit.redaction) → HTML, PDF, PNG, GeoPackage, CSV, GeoJSON or report.

Every format goes through ``export``: redact → disclosure check → write
beside the destination → move into place → (police) log the export with the
files' hashes. Writers take only the bundle, never the workspace. A
destination that is the workspace (or its journal, or a folder holding it)
is refused, and an existing one is replaced only when asked to. Police exports need an
explicit confirmation and carry the RESTRICTED stamp (in the export's language) on every page, file and
map. A GeoPackage export is also a *partner package*: it carries a manifest
(municipality, profile, date, catalogue versions, a hash per layer) signed
with this installation's key, that ``layers.packages.import_package`` verifies.
"""
from __future__ import annotations

import json
from pathlib import Path

from audit.disclosure import Disclosure, profile_label, require
from audit.export_log import ConfirmationRequired, log_export, require_confirmation
from audit.redaction import Bundle, SharedLayer, redact
from layers import package_view, place_outline, qgis_styles
from layers.errors import LanternError
from layers.i18n import _, language, using
from layers.output import staged_files, staged_folder
from layers.packages import FORMAT as PACKAGE_FORMAT
from layers.packages import layer_hash, manifest_rows, sign_manifest, write_manifest
from layers.spreadsheet import DEFAULT_DIALECT, csv_writer, using_dialect
from layers.spreadsheet import dialect as csv_dialect_named
from mapping.compose import MapLayer, MapOptions, layer_from_frame, write_map
from mapping.features import map_layer
from mapping.print_layout import (PrintDocument, PrintOptions, Sheet, furnish, legend, metric_bounds, paragraph,
                                  set_view)
from mapping.print_style import BASEMAP_PRINT, draw_layer, plot_basemap

FORMATS = ("html", "pdf", "png", "gpkg", "csv", "geojson", "report")
FOLDER_FORMATS = ("csv", "geojson")
MANIFEST_TABLE = "lantern_manifest"


def _map_layer(layer: SharedLayer, bundle: Bundle, notes: dict) -> MapLayer:
    from layers.catalogue import layer_kinds

    frame = layer.frame
    if layer.form == "features" and layer.name in layer_kinds():
        tips = None
        if bundle.profile == "police" and notes.get(layer.name):
            # police see the latest note as text in the tooltip (textContent in the page: never HTML)
            tips = {fid: f"{row.get('name') or ''}\n{notes[layer.name][fid]}" for fid, row in
                    zip(frame.index, frame.drop(columns="geometry").to_dict("records")) if fid in notes[layer.name]}
        return layer_from_frame(layer.name, frame, tips=tips)
    return map_layer(layer.name, layer.label, frame, "shared_point" if layer.form == "geomasked" else "shared_area",
                     tips=lambda row: _shared_tip(layer.label, row))


def _shared_tip(label: str, row: dict) -> str:
    tip = label
    if "count" in row:
        tip += f": {row['count']}"
    if "estimate_class" in row:
        tip += f": {row.get('risk_group')} {row['estimate_class']}"
    if row.get("category"):
        tip += f" · {row['category']}"
    return tip


def _latest_notes(bundle: Bundle) -> dict:
    """(place table → fid → latest note), from the annotations the bundle carries (police only)."""
    notes: dict = {}
    table = bundle.layers.get("annotations")
    if table is None or "note" not in table.frame.columns:
        return notes
    rows = table.frame.dropna(subset=["note"]).sort_values(["observed", "id"])
    for place, fid, note in zip(rows["place_table"], rows["place_fid"], rows["note"]):
        notes.setdefault(place, {})[int(fid)] = note
    return notes


def write_html(bundle: Bundle, path: Path) -> None:
    notes = _latest_notes(bundle)
    layers = [_map_layer(l, bundle, notes) for l in bundle.layers.values() if l.spatial and len(l.frame)]
    bounds = bundle.bounds
    info = {"title": _("Lantern map — {name}").format(name=bundle.workspace_name), "marking": bundle.marking,
            "lines": [bundle.created[:10], *bundle.notes, *([bundle.attribution] if bundle.attribution else []),
                      bundle.anchor_text]}
    write_map(path, layers, MapOptions(title=bundle.marking, assets="inline", bounds=bounds,
                                       attribution=bundle.attribution, info=info))


def write_print(bundle: Bundle, path: Path, options: PrintOptions | None = None) -> None:
    """The print map (PDF or PNG by the suffix) in the one print layout: legend with classes and counts,
    grid reference, scale bar, north arrow, date, sources, attribution, marking and the sharing rules."""
    doc = compose_print(bundle, options)
    try:
        doc.save(path, dpi=110)
    finally:
        doc.close()


def print_sheet(bundle: Bundle, title: str = "", subtitle: str = "", marking: str | None = None,
                method: list[str] | None = None) -> Sheet:
    """The texts every print page of a bundle carries."""
    sources = [_("Data: Lantern workspace '{name}'").format(name=bundle.workspace_name)]
    if bundle.anchor_text:
        sources.append(bundle.anchor_text)
    notes = [*(method if method is not None else bundle.notes)]
    if bundle.synthetic:
        notes.insert(0, _("Contains synthetic demo data."))
    return Sheet(title or _("Lantern map — {name}").format(name=bundle.workspace_name), marking or bundle.marking,
                 bundle.created[:10], subtitle or _("Profile: {p}").format(p=profile_label(bundle.profile)),
                 restricted=bool(bundle.stamp), stamp=bundle.stamp, sources=sources, attribution=bundle.attribution,
                 method=notes)


def compose_print(bundle: Bundle, options: PrintOptions | None = None) -> PrintDocument:
    """The print map's pages, not yet saved (tests look at them)."""
    opts = options or PrintOptions()
    doc = PrintDocument(print_sheet(bundle, opts.title, opts.subtitle), opts.paper, opts.orientation)
    ax, crs = doc.ax, bundle.crs
    spatial = [l for l in bundle.layers.values() if l.spatial and len(l.frame)]
    view = opts.extent or bundle.bounds
    if view is None and spatial:
        view = tuple(spatial[0].frame.total_bounds)
    limits = set_view(ax, metric_bounds(view, crs)) if view is not None else None
    ax.set_autoscale_on(False)
    plot_basemap(ax, {l.name: l.frame for l in spatial}, crs)
    thematic = sorted((l for l in spatial if l.name not in BASEMAP_PRINT), key=_draw_order)
    return draw_map(doc, thematic, crs, limits)


def draw_map(doc: PrintDocument, layers: list, crs, limits) -> PrintDocument:
    """Draw ``layers`` over the basemap, then the grid, scale and north arrow, and the legend: classed
    layers with their classes and counts, the others as one list. Shared by every print map."""
    ax = doc.ax
    simple, classed = [], []
    for i, layer in enumerate(layers):
        blocks = draw_layer(ax, layer, crs, zorder=2 + i)
        (classed if blocks and blocks[0].kind == "heading" else simple).extend(blocks)
    if limits is not None:
        set_view(ax, limits, pad=0)
    doc.grid = furnish(ax, crs)
    doc.flow([*classed, *(legend(_("Layers"), [b.entry for b in simple]) if simple else []),
              *paragraph(doc.grid.note())])
    return doc


def _draw_order(layer: SharedLayer) -> int:
    """Areas first, then cells, then points: nothing hides a point."""
    geom = layer.frame.geometry.dropna()
    point = len(geom) and geom.iloc[0].geom_type in ("Point", "MultiPoint")
    return 2 if point else (1 if layer.form in ("hex_counts", "cells") else 0)


def write_gpkg(bundle: Bundle, path: Path) -> None:
    """A partner package: the layers, and a manifest signed with this installation's key (layers.packages)."""
    import pandas as pd
    import pyogrio

    hashes = {}
    for layer in bundle.layers.values():
        frame = layer.frame.reset_index(drop=layer.form != "features")
        if layer.spatial:  # one geometry type per table, as in the workspace (layers.place_outline)
            stored, outlines = place_outline.split_frame(frame)
            pyogrio.write_dataframe(stored, path, layer=layer.name, driver="GPKG",
                                    dataset_options={"VERSION": "1.3"} if not path.exists() else None,
                                    append=path.exists())
            if outlines is not None:
                pyogrio.write_dataframe(outlines, path, layer=place_outline.outline_table(layer.name), driver="GPKG",
                                        promote_to_multi=True, append=True)
        else:
            pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=layer.name, driver="GPKG", append=path.exists())
        hashes[layer.name] = layer_hash(layer.frame)
    qgis_styles.style_file(path, language())  # QGIS shows the layers styled, with value lists
    content = package_view.file_digest(path)  # everything written so far: what QGIS shows is signed too
    manifest, signature = sign_manifest(package_manifest(bundle, hashes, content))
    write_manifest(path, manifest_rows(manifest, signature))


def package_manifest(bundle: Bundle, hashes: dict, content: str) -> dict:
    from audit.catalogue import catalogue_version
    from layers.resources import load_json

    return {
        "format": PACKAGE_FORMAT,
        "municipality": bundle.workspace_name,
        "profile": bundle.profile,
        "marking": bundle.marking,
        "created": bundle.created,
        "catalogues": {"indicators": catalogue_version(), "layer_kinds": load_json("layer_kinds.json")["version"],
                       "sensitivity": load_json("sensitivity.json")["version"]},
        "rules": bundle.notes,
        "history": bundle.anchor,  # the exporter's history head and key: anchors the history outside the building
        "layers": {name: {"label": bundle.layers[name].label, "form": bundle.layers[name].form, "sha256": h,
                          "features": len(bundle.layers[name].frame)} for name, h in hashes.items()},
        "content": content,
    }


def _filled(bundle: Bundle) -> list[SharedLayer]:
    """Layers with rows: a folder export writes no empty files (each file carries the marking on every row)."""
    return [layer for layer in bundle.layers.values() if len(layer.frame)]


def write_about(bundle: Bundle, folder: Path) -> None:
    """ABOUT.txt in a folder export: the marking, the profile, the date and the rules the data was shared under."""
    lines = [bundle.marking, _("Profile: {p}").format(p=profile_label(bundle.profile)), bundle.created,
             *([bundle.attribution] if bundle.attribution else []), bundle.anchor_text, "", *bundle.notes]
    (folder / "ABOUT.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_csv(bundle: Bundle, folder: Path) -> None:
    """One CSV per layer (UTF-8 with BOM, in the dialect in use: layers.spreadsheet): the marking on every row;
    points as lon/lat, other geometries as WKT."""
    folder.mkdir(parents=True, exist_ok=True)
    write_about(bundle, folder)
    for layer in _filled(bundle):
        write_layer_csv(bundle, layer, folder / f"{layer.name}.csv")


def write_layer_csv(bundle: Bundle, layer: SharedLayer, path: Path) -> None:
    frame = layer.frame
    columns = [c for c in frame.columns if c != "geometry"]
    extra = ["lon", "lat", "wkt"] if layer.spatial else []
    geoms = frame.geometry if layer.spatial else [None] * len(frame)
    with csv_writer(path) as write:
        write(["marking", *columns, *extra])
        for record, geom in zip(frame[columns].to_dict("records"), geoms):
            cells = [bundle.marking, *[record[c] for c in columns]]
            if layer.spatial:
                cells += _geometry_cells(geom)
            write(cells)


def _geometry_cells(geom) -> list:
    if geom is None or geom.is_empty:
        return ["", "", ""]
    if geom.geom_type == "Point":
        return [round(geom.x, 7), round(geom.y, 7), ""]
    return ["", "", geom.wkt]


def write_geojson(bundle: Bundle, folder: Path) -> None:
    """One GeoJSON file per layer with geometries; a table without geometries is a CSV (GeoJSON holds features)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_about(bundle, folder)
    for layer in _filled(bundle):
        if not layer.spatial:
            write_layer_csv(bundle, layer, folder / f"{layer.name}.csv")
            continue
        data = json.loads(layer.frame.to_json(drop_id=layer.form != "features"))
        data.update({"marking": bundle.marking, "profile": bundle.profile, "name": layer.label,
                     "rules": bundle.notes, "history": bundle.anchor})
        (folder / f"{layer.name}.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _export_names(fmt: str) -> set[str]:
    """The file names a folder export of ``fmt`` can write."""
    from audit.redaction import ATTRIBUTE_TABLES
    from layers.catalogue import layer_kinds
    from layers.migrations import ACTORS_TABLE
    from layers.resources import load_json

    tables = [*layer_kinds(), *ATTRIBUTE_TABLES, ACTORS_TABLE, *load_json("sensitivity.json")["derived"]]
    suffixes = {fmt, "csv"}  # a geojson export writes its tables without geometries as CSV
    return {"ABOUT.txt", *(f"{t}.{s}" for t in tables for s in suffixes)}


def _earlier_export(folder: Path, fmt: str) -> list[Path]:
    """The files of an earlier export in ``folder``; refuses a folder that holds anything else.

    Replacing an export must not leave a layer of the earlier one behind (a
    police table beside a public ABOUT.txt), and must not delete anything
    that is not Lantern's.
    """
    from layers.output import DestinationError

    if not folder.is_dir():
        return []
    names = _export_names(fmt)
    files = sorted(folder.iterdir())
    foreign = [p.name for p in files if p.name not in names or not p.is_file()]
    if foreign:
        problem = _("the folder holds files that are not a Lantern {fmt} export ({names}); choose an empty folder")
        raise DestinationError(folder, problem.format(fmt=fmt, names=", ".join(foreign[:3])))
    return files


def _targets(fmt: str, out: Path) -> list[Path]:
    return [out.with_suffix(".pdf"), out.with_suffix(".html")] if fmt == "report" else [out]


def _write(bundle: Bundle, fmt: str, out: Path, workspace, overwrite: bool, lang: str,
           print_options: PrintOptions | None = None, csv_dialect: str = DEFAULT_DIALECT) -> list[Path]:
    """Write into temporary names beside ``out``; move into place only when every file is done."""
    from mapping.report import write_report

    if fmt in FOLDER_FORMATS:
        earlier = _earlier_export(out, fmt) if overwrite else []
        with staged_folder(out, workspace.path, overwrite) as staged, using_dialect(csv_dialect):
            (write_csv if fmt == "csv" else write_geojson)(bundle, staged.path)
        for stale in set(earlier) - set(staged.files):  # a layer this export does not hold must not stay behind
            stale.unlink(missing_ok=True)
        return staged.files
    with staged_files(_targets(fmt, out), workspace.path, overwrite) as staged:
        if fmt == "report":
            write_report(bundle, staged.paths[0], staged.paths[1], lang)
        elif fmt in ("pdf", "png"):
            write_print(bundle, staged.paths[0], print_options)
        else:
            {"html": write_html, "gpkg": write_gpkg}[fmt](bundle, staged.paths[0])
    return list(staged.targets)


def check_request(profile: str, fmt: str, recipient: str, confirm_police: bool,
                  csv_dialect: str = DEFAULT_DIALECT) -> None:
    """Refuse an unknown format or CSV dialect, and a police export without its confirmation and recipient."""
    if fmt not in FORMATS:
        raise LanternError(_("unknown format {f!r}; choose one of {all}").format(f=fmt, all=", ".join(FORMATS)))
    csv_dialect_named(csv_dialect)
    require_confirmation(profile, recipient, confirm_police)


def build_bundle(workspace, profile: str, fmt: str, extent=None, only=None) -> Bundle:
    """The redacted bundle an export of ``fmt`` holds (a report adds its maps' and tables' derived results).

    ``only``: the layers wanted (a print map of some layers); the basemap always comes with a map."""
    if only is not None:
        from layers.catalogue import layer_kinds

        only = [*only, *(k for k, kd in layer_kinds().items() if kd.is_basemap)]
    bundle = redact(workspace, profile, extent, only=only)
    _add_local_actors(bundle, workspace, only)
    if fmt == "report":
        from mapping.report import add_report_parts

        add_report_parts(bundle, workspace)
    return bundle


def _add_local_actors(bundle: Bundle, workspace, only=None) -> None:
    """The register of local actors (schema 9), cut to the profile's allow-list, unless redaction already
    carries it or only some layers are wanted."""
    from audit.actors import shared_actors
    from layers.migrations import ACTORS_TABLE

    if ACTORS_TABLE in bundle.layers or (only is not None and ACTORS_TABLE not in only):
        return
    layer = shared_actors(workspace, bundle.profile)
    if layer is not None:
        bundle.add(layer)


def export(workspace, profile: str, fmt: str, out: str | Path, recipient: str = "", confirm_police: bool = False,
           author: str = "", extent=None, overwrite: bool = False, lang: str = "en",
           print_options: PrintOptions | None = None,
           csv_dialect: str = DEFAULT_DIALECT) -> tuple[list[Path], Disclosure]:
    """Redact, check, write; for police, log recipient, time, profile, files and hashes. Returns (files, disclosure).

    ``fmt`` "report" writes the district report: ``out`` (PDF) and its HTML twin. Everything the export
    carries (markings, layer names, notes, ABOUT.txt, the report's derived parts) is in ``lang``.
    ``print_options`` (pdf, png): paper, orientation, title, subtitle and the layers of the print map.
    ``csv_dialect`` (csv, geojson's tables): "standard" or "excel-lv" (layers.spreadsheet).
    """
    out = Path(out)
    with using(lang):
        check_request(profile, fmt, recipient, confirm_police, csv_dialect)
        only = print_options.layers if print_options is not None and fmt in ("pdf", "png") else None
        bundle = build_bundle(workspace, profile, fmt, extent, only)
        disclosure = require(bundle)
        files = _write(bundle, fmt, out, workspace, overwrite, lang, print_options, csv_dialect)
    log_export(workspace, profile, fmt, recipient, author, files)
    return files, disclosure


__all__ = ["ConfirmationRequired", "FORMATS", "build_bundle", "check_request", "export", "layer_hash"]
