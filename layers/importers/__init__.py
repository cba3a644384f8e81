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
from layers.features import Preparation, PreparedFeatures, SkippedRow, auto_mapping
from layers.i18n import _, ngettext
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
    fids: range | list[int]
    notices: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    skipped_file: Path | None = None

    def summary(self) -> str:
        text = ngettext("Imported {n} feature into '{kind}'.", "Imported {n} features into '{kind}'.", self.count).format(
            n=self.count, kind=get_kind(self.kind_id).label)
        if self.repaired:
            text += " " + ngettext("{n} invalid geometry repaired.", "{n} invalid geometries repaired.",
                                self.repaired).format(n=self.repaired)
        if self.extra_fields:
            text += " " + _("Kept in 'extra': {f}.").format(f=", ".join(self.extra_fields))
        for notice in self.notices:
            text += " " + _("Notice: {notice}.").format(notice=notice)
        if self.skipped and self.skipped_file:
            text += " " + ngettext("Skipped {n} row that cannot be imported; it is listed with the reason in {file}.",
                                "Skipped {n} rows that cannot be imported; they are listed with the reasons in {file}.",
                                len(self.skipped)).format(
                n=len(self.skipped), file=self.skipped_file)
        elif self.skipped:
            text += " " + ngettext("Skipped {n} row that cannot be imported.", "Skipped {n} rows that cannot be imported.",
                                len(self.skipped)).format(n=len(self.skipped))
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


def read_source(path: str | Path, layer: str | None = None, encoding: str | None = None, crs: str | None = None):
    """A GeoDataFrame from any supported file, in EPSG:4326 for CSV. ``encoding``: of a CSV or Shapefile (None:
    declared or detected); ``crs``: of a CSV's x/y columns (None: longitude/latitude). Notices of the reading
    (an encoding detected) are in ``attrs["notices"]``."""
    if format_of(path) == "CSV":
        return csv_format.read(path, crs, encoding)
    return vector.read(path, layer, encoding)


def read_batches(path: str | Path, layer: str | None = None, batch_rows: int | None = None,
                 encoding: str | None = None, crs: str | None = None):
    """``read_source`` a batch of rows at a time, so memory is bounded by the batch, not the file."""
    if format_of(path) == "CSV":
        return csv_format.read_batches(path, crs, batch_rows or csv_format.BATCH_ROWS, encoding)
    if crs:
        raise InputError(path, _("a coordinate system can be given only for a CSV; this file declares its own"))
    return vector.read_batches(path, layer, batch_rows or vector.BATCH_ROWS, encoding)


def skipped_file_for(source: Path, workspace_path: Path) -> Path:
    """Where the rows left out go: beside the source, or beside the workspace if that folder is not writable."""
    name = source.name + ".skipped.csv"
    folder = source.parent
    if os.access(folder, os.W_OK):
        return folder / name
    return Path(workspace_path).parent / name


def write_skipped(target: Path, columns: list, skipped: list[SkippedRow]) -> Path:
    """The skipped rows, with row number and reason first, then their own columns (geometry as WKT).

    Written as every CSV Lantern writes (layers.spreadsheet: UTF-8 with BOM, so Excel shows Latvian letters;
    empty cells empty; cells a spreadsheet would run as a formula neutralised), under a temporary name and
    moved into place."""
    from layers.spreadsheet import csv_writer

    tmp = target.with_name(target.name + ".part")
    try:
        with csv_writer(tmp) as write:
            write(["row", "problem", *map(str, columns), "geometry_wkt"])
            for row in skipped:
                write([row.row, row.problem, *row.values, None if row.geometry is None else _safe_wkt(row.geometry)])
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
    batch_rows: int | None = None,
    encoding: str | None = None,
    crs: str | None = None,
) -> ImportReport:
    """Import a file into the kind's layer, all or nothing (see layers.features.prepare for the mappings).

    The file is read, checked and written a batch at a time (``batch_rows``, default 50,000) in one
    transaction, each batch one signed import entry of the change log; a file that is refused, or a
    failure anywhere, rolls the whole import back. Problems of the file as a whole (it cannot be read,
    columns refused) are found in the first batch, before the workspace is touched.

    With ``skip_invalid`` the rows that cannot be imported are left out and written, with their
    reasons, to ``<source>.skipped.csv`` (see ``skipped_file_for``); the report names it.

    ``encoding`` (CSV, Shapefile; None: declared or detected, with a notice) and ``crs`` (a CSV's x/y
    columns; None: longitude/latitude) are the reading's settings; a bad value is refused, naming the file.
    """
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's "non closed ring": we say it in the report
        batches = read_batches(path, layer, batch_rows, encoding, crs)
        first = next(batches, None)
        if first is None or len(first) == 0:
            raise InputError(path, _("the file holds no features"))
        preparation = Preparation(path, get_kind(kind_id), [c for c in first.columns if c != first.geometry.name],
                                  mapping, overrides, constants, skip_invalid, keep_skipped_rows=True)
        preparation.notices[:0] = first.attrs.get("notices", [])
        prepared = preparation.batch(first)
        with workspace.atomic():
            bulk = workspace.bulk_insert(kind_id, source=path.name)
            for frame in _rest(prepared, batches, preparation):
                if not preparation.refusing:
                    bulk.add(frame.columns, frame.geometries)
            preparation.finish()
            bulk.close()
            workspace.set_layer_info(kind_id, source=path.name)
    return _report(workspace, path, kind_id, prepared, preparation, bulk)


def _rest(first: PreparedFeatures, batches, preparation: Preparation):
    """The first prepared batch, then each further batch as it is read and prepared."""
    yield first
    for frame in batches:
        if len(frame):
            yield preparation.batch(frame)


def _report(workspace: Workspace, path: Path, kind_id: str, first: PreparedFeatures, preparation: Preparation,
            bulk) -> ImportReport:
    """The report of a finished import; the skipped rows written out (a failure to write them is a notice)."""
    skipped_file = None
    if preparation.skipped_rows:
        try:
            skipped_file = write_skipped(skipped_file_for(path, workspace.path), preparation.source_columns,
                                         preparation.skipped_rows)
        except InputError as exc:  # the import is done: say so, and that the list is missing
            preparation.notices.append(str(exc))
    return ImportReport(
        kind_id=kind_id,
        source=path,
        count=bulk.count,
        repaired=preparation.repaired,
        extra_fields=first.extra_fields,
        ignored_fields=first.ignored_fields,
        fids=range(bulk.next_fid - bulk.count, bulk.next_fid),
        notices=preparation.notices,
        skipped=preparation.skipped,
        skipped_file=skipped_file,
    )


__all__ = ["ImportReport", "import_file", "skipped_file_for", "write_skipped", "read_source", "read_batches", "list_layers", "auto_mapping", "format_of"]
