"""Importing GIS files into a workspace layer: one module per format family.

``import_file`` is the one path used by the GUI, the CLI and the tests:
read → check and prepare (layers.features) → insert in one transaction.
Any problem raises InputError before the workspace is touched.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from layers.catalogue import kind as get_kind
from layers.errors import InputError
from layers.features import PreparedFeatures, auto_mapping, prepare
from layers.i18n import _
from layers.importers import csv as csv_format
from layers.importers import vector
from layers.workspace import Workspace

SUPPORTED = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "Shapefile (zip)",
    ".csv": "CSV",
}


@dataclass
class ImportReport:
    kind_id: str
    source: Path
    count: int
    repaired: int
    extra_fields: list[str]
    ignored_fields: list[str]
    fids: list[int]
    notices: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    skipped_file: Path | None = None

    def summary(self) -> str:
        text = _("Imported {n} feature(s) into '{kind}'.").format(n=self.count, kind=get_kind(self.kind_id).label)
        if self.repaired:
            text += " " + _("{n} invalid geometry(ies) repaired.").format(n=self.repaired)
        if self.extra_fields:
            text += " " + _("Kept in 'extra': {f}.").format(f=", ".join(self.extra_fields))
        for notice in self.notices:
            text += " " + _("Notice: {notice}.").format(notice=notice)
        if self.skipped and self.skipped_file:
            text += " " + _("Skipped {n} row(s) that cannot be imported; they are listed with the reasons in {file}.").format(
                n=len(self.skipped), file=self.skipped_file)
        elif self.skipped:
            text += " " + _("Skipped {n} row(s) that cannot be imported.").format(n=len(self.skipped))
        return text


def format_of(path: str | Path) -> str:
    path = Path(path)
    if path.is_dir():
        return "Shapefile"
    fmt = SUPPORTED.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            path, _("unsupported file type '{ext}'; Lantern reads {formats}").format(
                ext=path.suffix or "?", formats="GeoJSON, GeoPackage, Shapefile (.shp, folder or .zip), CSV")
        )
    return fmt


def list_layers(path: str | Path) -> list[str]:
    return [] if format_of(path) == "CSV" else vector.list_layers(path)


def read_source(path: str | Path, layer: str | None = None):
    """A GeoDataFrame from any supported file (CSV coordinates are WGS 84)."""
    if format_of(path) == "CSV":
        return csv_format.read(path)
    return vector.read(path, layer)


def prepare_file(
    path: str | Path,
    kind_id: str,
    layer: str | None = None,
    mapping: dict | None = None,
    overrides: dict | None = None,
    constants: dict | None = None,
    skip_invalid: bool = False,
) -> PreparedFeatures:
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's "non closed ring": we say it in the report
        frame = read_source(path, layer)
    return prepare(path, frame, get_kind(kind_id), mapping, overrides, constants, skip_invalid)


def skipped_file_for(source: Path, workspace_path: Path) -> Path:
    """Where the rows left out go: beside the source, or beside the workspace if that folder is not writable."""
    name = source.name + ".skipped.csv"
    folder = source.parent
    if os.access(folder, os.W_OK):
        return folder / name
    return Path(workspace_path).parent / name


def write_skipped(target: Path, source: Path, frame, skipped: list[tuple[int, str]]) -> Path:
    """The skipped rows, with row number and reason first, then their own columns (geometry as WKT).

    Written under a temporary name and moved into place; cells that a spreadsheet would run as a
    formula are neutralised."""
    import csv as csv_lib

    def cell(value) -> str:
        text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
        return "'" + text if text[:1] in ("=", "+", "-", "@") else text

    columns = [c for c in frame.columns if c != frame.geometry.name] if frame is not None else []
    tmp = target.with_name(target.name + ".part")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as out:
            w = csv_lib.writer(out)
            w.writerow(["row", "problem", *map(str, columns), "geometry_wkt"])
            for row, problem in skipped:
                values = []
                if frame is not None and 0 < row <= len(frame):
                    record = frame.iloc[row - 1]
                    values = [cell(record[c]) for c in columns]
                    geom = record[frame.geometry.name]
                    values.append("" if geom is None else cell(_safe_wkt(geom)))
                w.writerow([row, cell(problem), *values])
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(target, _("cannot write the list of skipped rows: {e}").format(e=exc.strerror or exc)) from None
    return target


def _safe_wkt(geom) -> str:
    try:
        return geom.wkt
    except Exception:  # noqa: BLE001 - a geometry that cannot be written is shown as nothing
        return ""


def import_file(
    workspace: Workspace,
    path: str | Path,
    kind_id: str,
    layer: str | None = None,
    mapping: dict | None = None,
    overrides: dict | None = None,
    constants: dict | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import a file into the kind's layer, all or nothing (see layers.features.prepare for the mappings).

    With ``skip_invalid`` the rows that cannot be imported are left out and written, with their
    reasons, to ``<source>.skipped.csv`` (see ``skipped_file_for``); the report names it.
    """
    path = Path(path)
    prepared = prepare_file(path, kind_id, layer, mapping, overrides, constants, skip_invalid)
    with workspace.atomic():
        fids = workspace.insert_rows(kind_id, prepared.rows, prepared.geometries)
        workspace.set_layer_info(kind_id, source=path.name)
        workspace.log_import(kind_id, path.name, fids)
    skipped_file = None
    if prepared.skipped:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                frame = read_source(path, layer)
            except InputError:
                frame = None
        try:
            skipped_file = write_skipped(skipped_file_for(path, workspace.path), path, frame, prepared.skipped)
        except InputError as exc:  # the import is done: say so, and that the list is missing
            prepared.notices.append(str(exc))
    return ImportReport(
        kind_id=kind_id,
        source=path,
        count=len(fids),
        repaired=prepared.repaired,
        extra_fields=prepared.extra_fields,
        ignored_fields=prepared.ignored_fields,
        fids=fids,
        notices=prepared.notices,
        skipped=prepared.skipped,
        skipped_file=skipped_file,
    )


__all__ = ["ImportReport", "import_file", "skipped_file_for", "write_skipped", "prepare_file", "read_source", "list_layers", "auto_mapping", "format_of"]
