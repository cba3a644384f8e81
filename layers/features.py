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

from layers.privacy import looks_personal
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
    #: things the user should know (defaults filled in, rings closed)
    notices: list[str] = field(default_factory=list)
    #: rows left out with --skip-invalid: (row number from 1, problem)
    skipped: list[tuple[int, str]] = field(default_factory=list)

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


#: How many row problems a refusal lists.
SHOWN_PROBLEMS = 5

#: Where a file has no column for a required field, the value every row gets (with a notice):
#: an enum's catch-all choice "other", or "unknown" for text. Reported cases get none: a case's
#: facts are never made up, so their files stay strict.
UNKNOWN_TEXT = "unknown"
CATCH_ALL_CHOICE = "other"

_TYPE_NAMES = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                        "MultiLineString", "MultiPolygon", "GeometryCollection"])


def _geometries(path: Path, k: LayerKind, geoms: np.ndarray) -> tuple[np.ndarray, int, dict[int, str]]:
    """Stored geometries (None where a row has a problem), the number repaired, and {row index: problem}."""
    problems: dict[int, str] = {}
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any() and not k.geometry_optional:
        for i in np.flatnonzero(missing):
            problems[int(i)] = _("no geometry")
    # features without a position (e.g. a national hotline) stay without one
    out = np.array([None] * len(geoms), dtype=object)
    repaired = 0
    present = np.flatnonzero(~missing)
    if len(present):
        done, repaired, bad = _present_geometries(path, k, geoms[present])
        out[present] = done
        for j, problem in bad.items():
            problems[int(present[j])] = problem
    return out, repaired, problems


def _present_geometries(path: Path, k: LayerKind, geoms: np.ndarray) -> tuple[np.ndarray, int, dict[int, str]]:
    """Type check, repair, normalisation and range check of geometries that exist.

    Vectorised over the whole array: a 300,000-vertex polygon costs no Python work per vertex.
    """
    n = len(geoms)
    problems: dict[int, str] = {}
    names = _TYPE_NAMES[shapely.get_type_id(geoms)]
    wrong = ~np.isin(names, list(_ALLOWED_TYPES[k.geometry]))
    if wrong.all():  # the whole file is of another type: one message, not one per row
        found = ", ".join(sorted(set(names[wrong])))
        raise InputError(
            path,
            _("wrong geometry type for the layer '{kind}': it holds {want}, the file has {found}").format(
                kind=k.label, want=_(_WANT[k.geometry]), found=found),
        )
    for i in np.flatnonzero(wrong):
        problems[int(i)] = _("geometry type {found}; the layer holds {want}").format(
            found=names[i], want=_(_WANT[k.geometry]))
    # NaN or infinite coordinates cannot be repaired safely: which point was meant?
    coords, index = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    finite = np.isfinite(coords[:, :2]).all(axis=1)
    if not finite.all():
        for i in np.unique(index[~finite]):
            problems.setdefault(int(i), _("coordinates that are not numbers (NaN or infinity)"))
    ok = np.ones(n, dtype=bool)
    ok[list(problems)] = False
    geoms = geoms.copy()
    geoms[~ok] = None
    invalid = ok & ~shapely.is_valid(geoms)
    repaired = int(invalid.sum())
    if repaired:
        # "structure" keeps what the rings enclose; it is also far faster than "linework" on big rings
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    geoms[ok] = normalise(geoms[ok])
    empty = ok & shapely.is_empty(geoms)
    for i in np.flatnonzero(empty):
        problems[int(i)] = _("no points, lines or area left after repair")
    multi = ok & ~empty & (shapely.get_type_id(geoms) == 4)  # several points in one feature: which is the place?
    for i in np.flatnonzero(multi):
        problems[int(i)] = _("a multi-point feature with several points cannot go into a point layer")
    ok &= ~empty & ~multi
    bounds = shapely.bounds(geoms)
    outside = ok & ((bounds[:, 0] < -180) | (bounds[:, 2] > 180) | (bounds[:, 1] < -90) | (bounds[:, 3] > 90))
    if outside.any() and outside.sum() == ok.sum():  # every usable row: the CRS is wrong, not the rows
        xmin, ymin = np.nanmin(bounds[ok, 0]), np.nanmin(bounds[ok, 1])
        xmax, ymax = np.nanmax(bounds[ok, 2]), np.nanmax(bounds[ok, 3])
        raise InputError(
            path,
            _("coordinates outside the valid range (longitude −180…180, latitude −90…90): "
              "the data spans x {x0:.6g}…{x1:.6g}, y {y0:.6g}…{y1:.6g}; is the CRS right?").format(
                x0=xmin, x1=xmax, y0=ymin, y1=ymax),
        )
    for i in np.flatnonzero(outside):
        problems[int(i)] = _("coordinates outside longitude −180…180, latitude −90…90")
    geoms[list(problems)] = None
    return geoms, repaired, problems


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
    out = np.empty(len(geoms), dtype=object)
    out[:] = [normalise_one(g) for g in geoms]  # per feature, never per vertex
    return out


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


def default_for(k: LayerKind, f) -> str | None:
    """The value a required field gets when the file has no column for it (None: the file is refused)."""
    if k.personal_data_free or not f.required:
        return None
    if f.type == "enum" and CATCH_ALL_CHOICE in f.allowed:
        return CATCH_ALL_CHOICE
    if f.type == "text":
        return UNKNOWN_TEXT
    return None


def _constants(path: Path, k: LayerKind, constants: dict | None) -> dict:
    """Checked constant values (field → stored value), e.g. from --set sector=construction."""
    out = {}
    for name, raw in (constants or {}).items():
        if name not in k.field_names:
            raise InputError(path, _("a constant for unknown field '{field}'; the layer '{kind}' has: {fields}").format(
                field=name, kind=k.label, fields=", ".join(k.field_names)))
        try:
            out[name] = coerce(k.field(name), raw)
        except ValueError as exc:
            raise InputError(path, _("constant for field '{field}': {problem}").format(field=name, problem=exc)) from None
    return out


def _fill_missing_fields(path: Path, k: LayerKind, mapping: dict, constants: dict) -> tuple[dict, list[str]]:
    """Constants for required fields the file lacks: the kind's default, with a notice; else refuse."""
    targets = {t for t in mapping.values() if t not in (IGNORE, KEEP_EXTRA)}
    notices, refused = [], []
    filled = dict(constants)
    for f in k.fields:
        if not f.required or f.name in targets or f.name in filled:
            continue
        default = default_for(k, f)
        if default is None:
            refused.append(f.name)
        else:
            filled[f.name] = default
            notices.append(_("the file has no '{field}' column: every feature got '{value}'").format(
                field=f.name, value=default))
    if refused:
        raise InputError(
            path, _("required fields have no source column: {f}; map a column to them or give a constant value "
                    "(--set FIELD=VALUE)").format(f=", ".join(refused))
        )
    return filled, notices


def _rows(path: Path, k: LayerKind, frame, mapping: dict, constants: dict) -> tuple[list[dict | None], dict[int, str]]:
    """One stored row per record (None where a value does not fit), and {row index: problem}."""
    rows: list[dict | None] = []
    problems: dict[int, str] = {}
    fields = {f.name: f for f in k.fields}
    for i, record in enumerate(frame.to_dict("records")):
        row: dict = dict(constants)
        extra: dict = {}
        problem = None
        for col, target in mapping.items():
            value = record.get(col)
            if target is IGNORE or target in constants:
                continue
            if target == KEEP_EXTRA:
                if not is_missing(value):
                    extra[str(col)] = _json_safe(value)
                continue
            try:
                row[target] = coerce(fields[target], value)
            except ValueError as exc:
                problem = problem or _("field '{field}': {problem}").format(field=target, problem=exc)
        for f in k.fields:
            if f.name not in row:
                try:
                    row[f.name] = coerce(f, None)
                except ValueError as exc:
                    problem = problem or _("field '{field}': {problem}").format(field=f.name, problem=exc)
        if k.extra_allowed:
            row[EXTRA_COLUMN] = json.dumps(extra, ensure_ascii=False) if extra else None
        if problem:
            problems[i] = problem
            rows.append(None)
        else:
            rows.append(row)
    return rows, problems


def describe_problems(problems: list[tuple[int, str]]) -> str:
    """'3 row(s) cannot be imported: row 2: …; row 5: …' (the first few)."""
    shown = "; ".join(_("row {row}: {problem}").format(row=r, problem=p) for r, p in problems[:SHOWN_PROBLEMS])
    more = len(problems) - SHOWN_PROBLEMS
    text = _("{n} row(s) cannot be imported: {rows}").format(n=len(problems), rows=shown)
    if more > 0:
        text += _("; and {n} more").format(n=more)
    return text


def prepare(
    path: str | Path,
    gdf,
    k: LayerKind,
    mapping: dict | None = None,
    overrides: dict | None = None,
    constants: dict | None = None,
    skip_invalid: bool = False,
) -> PreparedFeatures:
    """Check ``gdf`` (read from ``path``) against kind ``k``; raise InputError naming the problem.

    ``mapping`` is a complete column → field mapping (the GUI's dialog);
    without it the automatic one is used, with ``overrides`` on top (the CLI's --map).
    ``constants`` gives fields one value for every row (the CLI's --set); a column mapped to
    such a field is not used. Required fields the file lacks get the kind's default (see
    ``default_for``) with a notice. Rows that cannot be imported refuse the whole file,
    listing the first few — unless ``skip_invalid``, when they are left out and returned in
    ``skipped`` (row number counted from 1, problem).
    """
    path = Path(path)
    if len(gdf) == 0:
        raise InputError(path, _("the file holds no features"))
    read_problems = dict(gdf.attrs.get("row_problems", {}))
    closed = int(gdf.attrs.get("closed_rings", 0))
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    if mapping is None:
        mapping = {**auto_mapping(columns, k), **(overrides or {})}
    _check_mapping(path, k, columns, mapping)
    fixed = _constants(path, k, constants)
    fixed, notices = _fill_missing_fields(path, k, mapping, fixed)
    gdf = _to_wgs84(path, gdf)
    geoms, repaired, geom_problems = _geometries(path, k, np.asarray(gdf.geometry.values, dtype=object))
    rows, row_problems = _rows(path, k, gdf.drop(columns=gdf.geometry.name), mapping, fixed)
    problems = {**row_problems, **geom_problems, **read_problems}
    listed = [(i + 1, problems[i]) for i in sorted(problems)]
    if listed and not skip_invalid:
        raise InputError(path, describe_problems(listed)
                         + _(". Fix them, or import the other rows and skip these (--skip-invalid)."))
    keep = np.array([i not in problems for i in range(len(rows))], dtype=bool)
    if not keep.any():
        raise InputError(path, _("no row can be imported; ") + describe_problems(listed))
    if closed:
        notices.append(_("{n} unclosed ring(s) closed").format(n=closed))
    return PreparedFeatures(
        kind=k,
        rows=[r for r, kept in zip(rows, keep) if kept],
        geometries=geoms[keep],
        repaired=repaired,
        extra_fields=[str(c) for c, t in mapping.items() if t == KEEP_EXTRA],
        ignored_fields=[str(c) for c, t in mapping.items() if t is IGNORE],
        notices=notices,
        skipped=listed,
    )
