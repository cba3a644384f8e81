"""Importing GIS files into a workspace layer: one module per format family.

``import_file`` is the one path used by the GUI, the CLI and the tests:
read → check and prepare (layers.features) → insert in one transaction.
Any problem raises InputError before the workspace is touched.
"""
from __future__ import annotations

from dataclasses import dataclass
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

    def summary(self) -> str:
        text = _("Imported {n} feature(s) into '{kind}'.").format(n=self.count, kind=get_kind(self.kind_id).label)
        if self.repaired:
            text += " " + _("{n} invalid geometry(ies) repaired.").format(n=self.repaired)
        if self.extra_fields:
            text += " " + _("Kept in 'extra': {f}.").format(f=", ".join(self.extra_fields))
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
    path: str | Path, kind_id: str, layer: str | None = None, mapping: dict | None = None, overrides: dict | None = None
) -> PreparedFeatures:
    return prepare(path, read_source(path, layer), get_kind(kind_id), mapping, overrides)


def import_file(
    workspace: Workspace,
    path: str | Path,
    kind_id: str,
    layer: str | None = None,
    mapping: dict | None = None,
    overrides: dict | None = None,
) -> ImportReport:
    """Import a file into the kind's layer, all or nothing (see layers.features.prepare for the mappings)."""
    path = Path(path)
    prepared = prepare_file(path, kind_id, layer, mapping, overrides)
    with workspace.atomic():
        fids = workspace.insert_rows(kind_id, prepared.rows, prepared.geometries)
        workspace.set_layer_info(kind_id, source=path.name)
        workspace.log_import(kind_id, path.name, fids)
    return ImportReport(
        kind_id=kind_id,
        source=path,
        count=len(fids),
        repaired=prepared.repaired,
        extra_fields=prepared.extra_fields,
        ignored_fields=prepared.ignored_fields,
        fids=fids,
    )


__all__ = ["ImportReport", "import_file", "prepare_file", "read_source", "list_layers", "auto_mapping", "format_of"]
