"""Checking and preparing features for a layer kind, before anything is written.

``prepare`` turns a GeoDataFrame from any source into rows and geometries
that fit a kind: CRS → EPSG:4326, geometry type, repair of invalid
geometries, coordinate range, attribute mapping and value coercion. It only
raises :class:`InputError`; the workspace is untouched until the caller
inserts the result in one transaction.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely

from audit.privacy import looks_personal
from layers.catalogue import EXTRA_COLUMN, LayerKind
from layers.errors import InputError
from layers.i18n import _
from layers.values import coerce, is_missing

#: Mapping target meaning "keep this source column in the JSON extra column".
KEEP_EXTRA = EXTRA_COLUMN
#: Mapping target meaning "drop this source column".
IGNORE = None

_ALLOWED_TYPES = {
    "Point": {"Point", "MultiPoint"},
    "MultiPolygon": {"Polygon", "MultiPolygon"},
    "MultiLineString": {"LineString", "MultiLineString"},
    "Geometry": {"Point", "MultiPoint", "Polygon", "MultiPolygon"},
}
_WANT = {
    "Point": "points",
    "MultiPolygon": "polygons",
    "MultiLineString": "lines",
    "Geometry": "points or polygons",
}


@dataclass
class PreparedFeatures:
    kind: LayerKind
    rows: list[dict]
    geometries: np.ndarray
    repaired: int = 0
    extra_fields: list[str] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


def _fold(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def auto_mapping(columns, k: LayerKind) -> dict[str, str | None]:
    """Source column → kind field by case-insensitive name (or label) match.

    Unmatched columns go to the extra column, or — for kinds that must hold
    no personal data — to no target at all, which ``prepare`` refuses.
    """
    targets = {}
    for f in k.fields:
        for alias in (f.name, f.en, f.lv):
            targets.setdefault(_fold(alias), f.name)
    mapping: dict[str, str | None] = {}
    used: set[str] = set()
    for col in columns:
        target = targets.get(_fold(str(col)))
        if target and target not in used:
            mapping[col] = target
            used.add(target)
        elif k.extra_allowed:
            mapping[col] = KEEP_EXTRA
    return mapping


def _check_mapping(path: Path, k: LayerKind, columns, mapping: dict) -> None:
    unmapped = [c for c in columns if c not in mapping]
    if unmapped and not k.extra_allowed:
        personal = [c for c in unmapped if looks_personal(c)]
        hint = (
            _(" (possible personal data: {cols})").format(cols=", ".join(personal)) if personal else ""
        )
        raise InputError(
            path,
            _(
                "fields not known to the layer '{kind}' are refused, because they could carry personal data: "
                "{cols}{hint}. Remove them from the file, or map them to a known field or to 'ignore'."
            ).format(kind=k.label, cols=", ".join(map(str, unmapped)), hint=hint),
        )
    bad = [t for t in mapping.values() if t not in (IGNORE, KEEP_EXTRA) and t not in k.field_names]
    if bad:
        raise InputError(path, _("mapping names unknown fields: {f}").format(f=", ".join(bad)))
    if KEEP_EXTRA in mapping.values() and not k.extra_allowed:
        raise InputError(path, _("the layer '{kind}' keeps no extra fields").format(kind=k.label))
    targets = [t for t in mapping.values() if t not in (IGNORE, KEEP_EXTRA)]
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        raise InputError(path, _("several columns map to the same field: {f}").format(f=", ".join(dupes)))
    missing = [f.name for f in k.fields if f.required and f.name not in targets]
    if missing:
        raise InputError(
            path, _("required fields have no source column: {f}").format(f=", ".join(missing))
        )


def _to_wgs84(path: Path, gdf):
    from pyproj.exceptions import CRSError

    if gdf.crs is None:
        raise InputError(
            path,
            _("the file has no coordinate reference system (unknown CRS); add one (e.g. a .prj file) and try again"),
        )
    try:
        return gdf.to_crs(4326) if not gdf.crs.equals("EPSG:4326") else gdf
    except (CRSError, ValueError) as exc:
        raise InputError(path, _("unknown coordinate reference system: {e}").format(e=exc)) from exc


def _geometries(path: Path, k: LayerKind, geoms: np.ndarray) -> tuple[np.ndarray, int]:
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any() and not k.geometry_optional:
        raise InputError(
            path, _("{n} feature(s) have no geometry (first: row {row})").format(
                n=int(missing.sum()), row=int(np.flatnonzero(missing)[0]) + 1)
        )
    # features without a position (e.g. a national hotline) stay without one
    out = np.array([None] * len(geoms), dtype=object)
    repaired = 0
    if (~missing).any():
        out[~missing], repaired = _present_geometries(path, k, geoms[~missing])
    return out, repaired


def _present_geometries(path: Path, k: LayerKind, geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Type check, repair, normalisation and range check of geometries that exist."""
    types = shapely.get_type_id(geoms)
    names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                      "MultiLineString", "MultiPolygon", "GeometryCollection"])[types]
    wrong = ~np.isin(names, list(_ALLOWED_TYPES[k.geometry]))
    if wrong.any():
        found = ", ".join(sorted(set(names[wrong])))
        raise InputError(
            path,
            _("wrong geometry type for the layer '{kind}': it holds {want}, the file has {found}").format(
                kind=k.label, want=_(_WANT[k.geometry]), found=found),
        )
    invalid = ~shapely.is_valid(geoms)
    repaired = int(invalid.sum())
    if repaired:
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    geoms = normalise(geoms)
    if shapely.is_empty(geoms).any():
        raise InputError(path, _("some features have no points, lines or area left after repair"))
    if (shapely.get_type_id(geoms) == 4).any():  # several points in one feature: which one is the place?
        raise InputError(path, _("multi-point features with several points cannot go into a point layer"))
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
        raise InputError(
            path,
            _("coordinates outside the valid range (longitude −180…180, latitude −90…90): "
              "the data spans x {x0:.6g}…{x1:.6g}, y {y0:.6g}…{y1:.6g}; is the CRS right?").format(
                x0=xmin, x1=xmax, y0=ymin, y1=ymax),
        )
    return geoms, repaired


def _parts_of(g, types: tuple[str, ...]):
    """The parts of ``g`` of the given types (make_valid may return collections)."""
    out = []
    for part in shapely.get_parts(g):
        if part.geom_type.startswith("Multi") or part.geom_type == "GeometryCollection":
            out.extend(_parts_of(part, types))
        elif part.geom_type in types:
            out.append(part)
    return out


def normalise_one(g):
    """One stored form per family: Point, MultiPolygon or MultiLineString."""
    family = g.geom_type.replace("Multi", "")
    if family == "Point":
        parts = _parts_of(g, ("Point",))
        return parts[0] if len(parts) == 1 else shapely.MultiPoint(parts)
    if family in ("Polygon", "GeometryCollection"):
        polys = _parts_of(g, ("Polygon",))
        if polys or family == "Polygon":
            return shapely.MultiPolygon(polys)
    lines = _parts_of(g, ("LineString",))
    return shapely.MultiLineString(lines)


def normalise(geoms: np.ndarray) -> np.ndarray:
    return np.array([normalise_one(g) for g in geoms], dtype=object)


def _json_safe(value):
    if is_missing(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)  # GDAL reads integer columns with gaps as floats
    return value


def _rows(path: Path, k: LayerKind, frame, mapping: dict) -> list[dict]:
    rows = []
    fields = {f.name: f for f in k.fields}
    for i, record in enumerate(frame.to_dict("records"), start=1):
        row: dict = {}
        extra: dict = {}
        for col, target in mapping.items():
            value = record.get(col)
            if target is IGNORE:
                continue
            if target == KEEP_EXTRA:
                if not is_missing(value):
                    extra[str(col)] = _json_safe(value)
                continue
            try:
                row[target] = coerce(fields[target], value)
            except ValueError as exc:
                raise InputError(
                    path, _("row {row}, field '{field}': {problem}").format(row=i, field=target, problem=exc)
                ) from None
        for f in k.fields:
            if f.name not in row:
                try:
                    row[f.name] = coerce(f, None)
                except ValueError as exc:
                    raise InputError(
                        path, _("row {row}, field '{field}': {problem}").format(row=i, field=f.name, problem=exc)
                    ) from None
        if k.extra_allowed:
            row[EXTRA_COLUMN] = json.dumps(extra, ensure_ascii=False) if extra else None
        rows.append(row)
    return rows


def prepare(
    path: str | Path, gdf, k: LayerKind, mapping: dict | None = None, overrides: dict | None = None
) -> PreparedFeatures:
    """Check ``gdf`` (read from ``path``) against kind ``k``; raise InputError naming the problem.

    ``mapping`` is a complete column → field mapping (the GUI's dialog);
    without it the automatic one is used, with ``overrides`` on top (the CLI's --map).
    """
    path = Path(path)
    if len(gdf) == 0:
        raise InputError(path, _("the file holds no features"))
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    if mapping is None:
        mapping = {**auto_mapping(columns, k), **(overrides or {})}
    _check_mapping(path, k, columns, mapping)
    gdf = _to_wgs84(path, gdf)
    geoms, repaired = _geometries(path, k, np.asarray(gdf.geometry.values, dtype=object))
    rows = _rows(path, k, gdf.drop(columns=gdf.geometry.name), mapping)
    return PreparedFeatures(
        kind=k,
        rows=rows,
        geometries=geoms,
        repaired=repaired,
        extra_fields=[str(c) for c, t in mapping.items() if t == KEEP_EXTRA],
        ignored_fields=[str(c) for c, t in mapping.items() if t is IGNORE],
    )
