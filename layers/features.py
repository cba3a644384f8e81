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
from itertools import compress
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from layers.privacy import looks_personal
from layers.catalogue import EXTRA_COLUMN, LayerKind
from layers.errors import InputError
from layers.i18n import _, ngettext
from layers.values import coerce, coerce_many, is_missing

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
    #: stored column (every field, and 'extra' where the kind keeps it) → one value per row
    columns: dict[str, list]
    geometries: np.ndarray
    repaired: int = 0
    extra_fields: list[str] = field(default_factory=list)
    ignored_fields: list[str] = field(default_factory=list)
    #: things the user should know (defaults filled in, rings closed)
    notices: list[str] = field(default_factory=list)
    #: rows left out with --skip-invalid: (row number from 1, problem)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rows(self) -> list[dict]:
        """One dict per row (stored column → value); the columns are the faster form."""
        names = list(self.columns)
        return [dict(zip(names, values)) for values in zip(*self.columns.values())]

    def __len__(self) -> int:
        return len(self.geometries)


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


@dataclass
class GeometryStats:
    """What the whole-file geometry rules need, summed over the batches of a file."""

    present: int = 0  # rows with a geometry
    wrong: int = 0  # of those, of a type the layer does not hold
    wrong_types: set = field(default_factory=set)
    usable: int = 0  # rows left after the type, NaN, repair and multi-point checks
    outside: int = 0  # of those, outside longitude −180…180, latitude −90…90
    extent: list = field(default_factory=lambda: [np.inf, np.inf, -np.inf, -np.inf])  # of the usable rows

    def check(self, path: Path, k: LayerKind) -> None:
        """Refuse a file whose every geometry is of another type, or whose every usable row is out of range."""
        if self.present and self.wrong == self.present:  # the whole file is of another type: one message
            raise InputError(
                path,
                _("wrong geometry type for the layer '{kind}': it holds {want}, the file has {found}").format(
                    kind=k.label, want=_(_WANT[k.geometry]), found=", ".join(sorted(self.wrong_types))),
            )
        if self.outside and self.outside == self.usable:  # every usable row: the CRS is wrong, not the rows
            x0, y0, x1, y1 = self.extent
            raise InputError(
                path,
                _("coordinates outside the valid range (longitude −180…180, latitude −90…90): "
                  "the data spans x {x0:.6g}…{x1:.6g}, y {y0:.6g}…{y1:.6g}; is the CRS right?").format(
                    x0=x0, x1=x1, y0=y0, y1=y1),
            )


def _geometries(k: LayerKind, geoms: np.ndarray, stats: GeometryStats) -> tuple[np.ndarray, int, dict[int, str]]:
    """Stored geometries (None where a row has a problem), the number repaired, and {row index: problem};
    ``stats`` gathers what the whole-file rules need (see GeometryStats.check)."""
    problems: dict[int, str] = {}
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any() and not k.geometry_optional:
        problems.update(dict.fromkeys(np.flatnonzero(missing).tolist(), _("no geometry")))
    # features without a position (e.g. a national hotline) stay without one
    out = np.full(len(geoms), None, dtype=object)
    repaired = 0
    present = np.flatnonzero(~missing)
    if len(present):
        done, repaired, bad = _present_geometries(k, geoms[present], stats)
        out[present] = done
        for j, problem in bad.items():
            problems[int(present[j])] = problem
    return out, repaired, problems


def _type_problems(k: LayerKind, geoms: np.ndarray, stats: GeometryStats) -> dict[int, str]:
    """Rows of a geometry type the layer does not hold, and rows with NaN or infinite coordinates."""
    names = _TYPE_NAMES[shapely.get_type_id(geoms)]
    wrong = ~np.isin(names, list(_ALLOWED_TYPES[k.geometry]))
    stats.present += len(geoms)
    stats.wrong += int(wrong.sum())
    stats.wrong_types.update(names[wrong].tolist())
    problems: dict[int, str] = {}
    for i in np.flatnonzero(wrong):
        problems[int(i)] = _("geometry type {found}; the layer holds {want}").format(
            found=names[i], want=_(_WANT[k.geometry]))
    # NaN or infinite coordinates cannot be repaired safely: which point was meant?
    coords, index = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    finite = np.isfinite(coords[:, :2]).all(axis=1)
    if not finite.all():
        for i in np.unique(index[~finite]):
            problems.setdefault(int(i), _("coordinates that are not numbers (NaN or infinity)"))
    return problems


def _present_geometries(k: LayerKind, geoms: np.ndarray, stats: GeometryStats) -> tuple[np.ndarray, int, dict[int, str]]:
    """Type check, repair, normalisation and range check of geometries that exist.

    Vectorised over the whole array: a 300,000-vertex polygon costs no Python work per vertex, and a
    million points no Python work per point.
    """
    problems = _type_problems(k, geoms, stats)
    ok = np.ones(len(geoms), dtype=bool)
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
    stats.usable += int(ok.sum())
    stats.outside += int(outside.sum())
    if ok.any():
        e = stats.extent
        stats.extent = [min(e[0], np.nanmin(bounds[ok, 0])), min(e[1], np.nanmin(bounds[ok, 1])),
                        max(e[2], np.nanmax(bounds[ok, 2])), max(e[3], np.nanmax(bounds[ok, 3]))]
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
    """``normalise_one`` over an array, vectorised for the common types: points and multi-geometries stay,
    single-part multi-points become points, polygons and lines become one-part multi-geometries;
    anything else (collections from a repair) goes feature by feature."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    if not len(geoms):
        return out
    types = shapely.get_type_id(geoms)
    single = (types == 4) & (shapely.get_num_geometries(geoms) == 1)
    out[single] = shapely.get_geometry(geoms[single], 0)
    for type_id, build in ((3, shapely.multipolygons), (1, shapely.multilinestrings)):
        which = np.flatnonzero(types == type_id)
        if len(which):
            out[which] = build(geoms[which], indices=np.arange(len(which)))
    for i in np.flatnonzero((types == 2) | (types == 7) | ((types == 4) & ~single)):
        out[i] = normalise_one(geoms[i])  # per feature, never per vertex
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


def _source(frame, col):
    return frame[col] if col in frame.columns else pd.Series([None] * len(frame), dtype=object)


def _columns(k: LayerKind, frame, mapping: dict, constants: dict) -> tuple[dict[str, list], dict[int, str]]:
    """The stored values of every column, one per record (vectorised: each distinct value of a column is
    checked once), and {row index: problem} — the first field that does not fit, in mapping order."""
    n = len(frame)
    fields = {f.name: f for f in k.fields}
    columns: dict[str, list] = {}
    checked: list[tuple[str, dict[int, str]]] = []
    for col, target in mapping.items():
        if target is IGNORE or target == KEEP_EXTRA or target in constants:
            continue
        columns[target], bad = coerce_many(fields[target], _source(frame, col))
        checked.append((target, bad))
    for f in k.fields:
        if f.name in columns:
            continue
        if f.name in constants:
            columns[f.name] = [constants[f.name]] * n
            continue
        try:
            columns[f.name] = [coerce(f, None)] * n
        except ValueError as exc:
            columns[f.name] = [None] * n
            checked.append((f.name, dict.fromkeys(range(n), str(exc))))
    if k.extra_allowed:
        columns[EXTRA_COLUMN] = _extra(frame, [c for c, t in mapping.items() if t == KEEP_EXTRA])
    problems: dict[int, str] = {}
    for target, bad in checked:
        for i, problem in bad.items():
            if i not in problems:
                problems[i] = _("field '{field}': {problem}").format(field=target, problem=problem)
    return columns, problems


def _present(values) -> np.ndarray:
    """Where a column holds a value (``is_missing`` is false), vectorised for text and numbers."""
    series = pd.Series(values, copy=False)
    if series.dtype == object:
        return ~np.fromiter((is_missing(v) for v in series), dtype=bool, count=len(series))
    present = series.notna().to_numpy(dtype=bool)
    if pd.api.types.is_string_dtype(series.dtype):
        present = present & series.str.strip().ne("").to_numpy(dtype=bool, na_value=False)
    return present


def _extra(frame, sources: list) -> list:
    """The JSON 'extra' value of each record: its kept columns that hold a value, or None."""
    if not sources:  # nothing extra kept (most imports): no loop over the rows
        return [None] * len(frame)
    keep = [(str(c), _source(frame, c).tolist(), _present(_source(frame, c))) for c in sources]
    out: list = []
    for i in range(len(frame)):
        extra = {name: _json_safe(values[i]) for name, values, present in keep if present[i]}
        out.append(json.dumps(extra, ensure_ascii=False) if extra else None)
    return out


def describe_problems(problems: list[tuple[int, str]], total: int | None = None) -> str:
    """'3 rows cannot be imported: row 2: …; row 5: …' (the first few of ``total``, default all listed)."""
    total = len(problems) if total is None else total
    shown = "; ".join(_("row {row}: {problem}").format(row=r, problem=p) for r, p in problems[:SHOWN_PROBLEMS])
    more = total - SHOWN_PROBLEMS
    text = ngettext("{n} row cannot be imported: {rows}", "{n} rows cannot be imported: {rows}",
                    total).format(n=total, rows=shown)
    if more > 0:
        text += ngettext("; and {n} more", "; and {n} more", more).format(n=more)
    return text


@dataclass
class SkippedRow:
    """A row left out: its number (from 1), the problem, its source values and geometry (as read)."""

    row: int
    problem: str
    values: list
    geometry: object


class Preparation:
    """``prepare`` over a file read in batches (``prepare`` is one batch).

    Mapping, constants and defaults are settled from the file's columns before the first batch. Each
    ``batch`` is checked and prepared as it comes (its rows that fit, as PreparedFeatures); the
    whole-file rules — every geometry of another type, every row out of range, rows that cannot be
    imported, nothing left — are applied by ``finish``, with the same messages as for one frame.
    Memory is that of a batch: without ``skip_invalid`` only the first problems are kept.
    """

    def __init__(self, path: str | Path, k: LayerKind, columns: list, mapping: dict | None = None,
                 overrides: dict | None = None, constants: dict | None = None, skip_invalid: bool = False,
                 keep_skipped_rows: bool = False):
        self.path, self.k, self.skip_invalid = Path(path), k, skip_invalid
        self.source_columns = list(columns)
        if mapping is None:
            mapping = {**auto_mapping(columns, k), **(overrides or {})}
        _check_mapping(self.path, k, columns, mapping)
        self.mapping = mapping
        self.constants, self.notices = _fill_missing_fields(self.path, k, mapping, _constants(self.path, k, constants))
        self.keep_skipped_rows = keep_skipped_rows and skip_invalid
        self.stats = GeometryStats()
        self.rows_seen = self.kept = self.repaired = self.closed = self.problem_count = 0
        self.skipped: list[tuple[int, str]] = []
        self.skipped_rows: list[SkippedRow] = []

    @property
    def refusing(self) -> bool:
        """A row cannot be imported and rows are not skipped: the file will be refused (nothing to write)."""
        return bool(self.problem_count) and not self.skip_invalid

    def batch(self, gdf) -> PreparedFeatures:
        """Check and prepare the next rows of the file; the rows that fit."""
        offset, self.rows_seen = self.rows_seen, self.rows_seen + len(gdf)
        read_problems = dict(gdf.attrs.get("row_problems", {}))
        self.closed += int(gdf.attrs.get("closed_rings", 0))
        frame = _to_wgs84(self.path, gdf)
        geoms, repaired, geom_problems = _geometries(self.k, np.asarray(frame.geometry.values, dtype=object),
                                                     self.stats)
        self.repaired += repaired
        columns, row_problems = _columns(self.k, frame.drop(columns=frame.geometry.name), self.mapping,
                                         self.constants)
        problems = {**row_problems, **geom_problems, **read_problems}
        self._note(gdf, offset, problems)
        keep = np.ones(len(frame), dtype=bool)
        keep[list(problems)] = False
        self.kept += int(keep.sum())
        if problems:
            columns = {name: list(compress(values, keep)) for name, values in columns.items()}
        return PreparedFeatures(kind=self.k, columns=columns, geometries=geoms[keep], repaired=repaired,
                                extra_fields=[str(c) for c, t in self.mapping.items() if t == KEEP_EXTRA],
                                ignored_fields=[str(c) for c, t in self.mapping.items() if t is IGNORE])

    def _note(self, gdf, offset: int, problems: dict[int, str]) -> None:
        """Remember the batch's problem rows (all of them when skipping, else the first few)."""
        self.problem_count += len(problems)
        for i in sorted(problems):
            if self.skip_invalid or len(self.skipped) < SHOWN_PROBLEMS:
                self.skipped.append((offset + i + 1, problems[i]))
            if self.keep_skipped_rows:
                record = gdf.iloc[i]
                self.skipped_rows.append(SkippedRow(offset + i + 1, problems[i],
                                                    [record[c] for c in self.source_columns],
                                                    record[gdf.geometry.name]))

    def finish(self) -> None:
        """Apply the whole-file rules (raise InputError), and add the closing notices."""
        if not self.rows_seen:
            raise InputError(self.path, _("the file holds no features"))
        self.stats.check(self.path, self.k)
        if self.problem_count and not self.skip_invalid:
            raise InputError(self.path, describe_problems(self.skipped, self.problem_count)
                             + _(". Fix them, or import the other rows and skip these (--skip-invalid)."))
        if not self.kept:
            raise InputError(self.path, _("no row can be imported; ") + describe_problems(self.skipped))
        if self.closed:
            self.notices.append(ngettext("{n} unclosed ring closed", "{n} unclosed rings closed",
                                         self.closed).format(n=self.closed))


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
    ``skipped`` (row number counted from 1, problem). A file read in batches goes through
    :class:`Preparation` instead, with the same rules.
    """
    path = Path(path)
    if len(gdf) == 0:
        raise InputError(path, _("the file holds no features"))
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    preparation = Preparation(path, k, columns, mapping, overrides, constants, skip_invalid)
    prepared = preparation.batch(gdf)
    preparation.finish()
    prepared.notices, prepared.skipped, prepared.repaired = preparation.notices, preparation.skipped, preparation.repaired
    return prepared
