"""OpenStreetMap extracts (.osm.pbf) → places and an offline basemap.

Read with pyosmium (libosmium): nodes become points, closed ways and
multipolygon relations become areas (assembled by osmium), open ways become
basemap lines. Which object goes where is data (``data/osm_tag_mapping.json``).
Every place keeps its osm_type, osm_id, name and original tags.

The file is streamed: one pass (osmium's KeyFilter lets through only objects
with a key some rule needs; rules are indexed by key and value, and their
answer remembered per combination of the tag values they read), rows gathered
per layer kind and handed on a batch at a time (``BATCH_ROWS``), their
geometries converted, clipped and checked with shapely's vectorised functions
(``layers.features.Preparation``) and appended through
``Workspace.bulk_insert``, each batch one import entry of the change log.
Memory is that of a few batches, not of the file. ``import_osm`` reads in a
child Python process (``_child_main``) while it prepares and writes, so the two
halves run on two cores; ``prepare_extract`` (the window's worker) reads in a
thread and keeps the prepared batches in an anonymous temporary file until
``write_extract``.

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
from contextlib import closing
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

from layers.catalogue import kind as get_kind
from layers.errors import InputError, LanternError
from layers.files import sibling_temp
from layers.i18n import _, ngettext
from layers.resources import load_json

OSM_ATTRIBUTION = "© OpenStreetMap contributors"
_CHECK_EVERY = 1000  # objects between checks for a cancel (and progress reports)
#: rows per layer kind in one batch: memory is bounded by this, and each batch is one change-log entry
BATCH_ROWS = 25_000
_NAME_KEYS = ("name", "name:en", "name:lv", "brand", "operator")

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
    for key in _NAME_KEYS:
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


class _RuleIndex:
    """Rules indexed by their first match key and value: an object's candidate rules are found from its own
    tags, and the first rule (in file order) that matches wins, as with a scan of every rule."""

    def __init__(self, rules, geometry: str | None = None):
        self.rules = tuple(r for r in rules if geometry is None or r.geometry == geometry)
        self.by_value: dict[tuple[str, str], list[int]] = {}  # (key, value) → rule positions, ascending
        self.by_key: dict[str, list[int]] = {}  # key → positions of rules taking any value of it
        for pos, rule in enumerate(self.rules):
            key, values = rule.match[0]
            if values is None:
                self.by_key.setdefault(key, []).append(pos)
            for value in values or ():
                self.by_value.setdefault((key, value), []).append(pos)
        self.single = tuple(len(r.match) == 1 for r in self.rules)  # the index hit is the whole match

    def first(self, tags: dict) -> OsmRule | None:
        best = len(self.rules)
        for key, value in tags.items():
            for candidates in (self.by_value.get((key, value), ()), self.by_key.get(key, ())):
                for pos in candidates:
                    if pos >= best:
                        break
                    if self.single[pos] or self.rules[pos].matches(tags):
                        best = pos
                        break
        return self.rules[best] if best < len(self.rules) else None


def _layout(kind_id: str) -> list[str]:
    """The columns an OSM batch of a layer kind carries (the same in every batch)."""
    places, basemap = tag_mapping()
    if get_kind(kind_id).is_basemap:
        return ["name", "class"]
    sets = [name for rule in places if rule.kind == kind_id for name, _v in rule.set]
    return ["name", *dict.fromkeys(sets), "osm_type", "osm_id", "osm_tags"]


class _FilePosition:
    """How far osmium's reader has read the file (0…1), from /proc/self/fdinfo; None where there is none."""

    def __init__(self, path: Path):
        self.path, self.size, self.fd = os.path.realpath(path), max(1, path.stat().st_size), None

    def fraction(self) -> float | None:
        try:
            if self.fd is None or os.readlink(f"/proc/self/fd/{self.fd}") != self.path:
                self.fd = next((int(fd) for fd in os.listdir("/proc/self/fd")
                                if os.readlink(f"/proc/self/fd/{fd}") == self.path), None)
            if self.fd is None:
                return None
            with open(f"/proc/self/fdinfo/{self.fd}") as fh:
                return min(1.0, int(fh.readline().split()[1]) / self.size)
        except (OSError, ValueError, IndexError):
            self.fd = None
            return None


def _tag(obj, key: str) -> str | None:
    """One tag's value (None when missing)."""
    try:  # pyosmium 4: the C++ object's own lookup, without the Python TagList around it
        return obj._pyosmium_data.tags_get_value_by_key(key, None)
    except AttributeError:  # another pyosmium: its public TagList
        return obj.tags.get(key)


class _Classifier:
    """Which rules take an object: (place rule, basemap area rule, basemap line rule, the area's and the
    line's basemap class), each or None.

    Only the tags some rule looks at are read (one lookup per key, in C++), and the answer is remembered
    per combination of their values, so the rules are scanned once per kind of object, not per object.
    """

    _MAX_REMEMBERED = 100_000

    def __init__(self):
        places, basemap = tag_mapping()
        self.places, self.lines, self.areas = _RuleIndex(places), _RuleIndex(basemap, "line"), \
            _RuleIndex(basemap, "area")
        self.keys = tuple(sorted({k for r in (*places, *basemap) for k, _v in r.match}
                                 | {r.class_from for r in basemap if r.class_from}))
        self.nones = (None,) * len(self.keys)
        self.known: dict[tuple, tuple] = {}

    def values(self, obj) -> tuple:
        """The object's value of each key the rules look at (None where it has none)."""
        try:  # pyosmium 4: the C++ object's own lookup, without the Python TagList around it
            return tuple(map(obj._pyosmium_data.tags_get_value_by_key, self.keys, self.nones))
        except AttributeError:  # another pyosmium: its public TagList
            tags = obj.tags
            return tuple(map(tags.get, self.keys, self.nones))

    def rules(self, obj) -> tuple:
        values = self.values(obj)
        found = self.known.get(values)
        if found is None:
            if len(self.known) >= self._MAX_REMEMBERED:
                self.known.clear()
            tags = {k: v for k, v in zip(self.keys, values) if v is not None}
            area, line = self.areas.first(tags), self.lines.first(tags)
            found = self.known[values] = (self.places.first(tags), area, line,
                                          area and tags.get(area.class_from or ""),
                                          line and tags.get(line.class_from or ""))
        return found


class _Reader:
    """One pass over an extract: each object that a rule takes becomes a row and its WKB, handed on a batch
    per layer kind at a time (``batches``). Only objects with a key that some rule needs reach Python
    (osmium's KeyFilter); node locations and areas are osmium's."""

    def __init__(self, path: Path, batch_rows: int):
        import osmium

        self.path, self.batch_rows = path, batch_rows
        self.classify = _Classifier()
        self.factory = osmium.geom.WKBFactory()
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.wkb: dict[str, list[str]] = defaultdict(list)
        self.ready: list[tuple[str, list[dict], list[str]]] = []
        # areas expected (closed ways and multipolygon relations a rule takes) and built, of each only those
        # not yet paired with the other; a way's area always comes after the way, and reuses its rules
        self.expected: dict[tuple, tuple] = {}
        self.built: set = set()
        self.broken_lines = self.matched = self.seen = 0
        self.position, self.estimate = _FilePosition(path), max(1, path.stat().st_size // 40)
        self.unnamed: dict[tuple, str] = {}

    @property
    def skipped(self) -> int:
        """Objects cut by the extract's edge: lines with missing nodes, areas that could not be assembled."""
        return self.broken_lines + len(self.expected)

    def _processor(self):
        import osmium

        places, basemap = tag_mapping()
        keys = sorted({r.match[0][0] for r in (*places, *basemap)})  # an object needs one of them to match
        node_keys = sorted({r.match[0][0] for r in places})  # nodes are only ever places
        return osmium.FileProcessor(str(self.path)).with_locations() \
            .with_areas(osmium.filter.KeyFilter(*keys)) \
            .with_filter(osmium.filter.KeyFilter(*node_keys).enable_for(osmium.osm.NODE)) \
            .with_filter(osmium.filter.KeyFilter(*keys).enable_for(osmium.osm.WAY | osmium.osm.RELATION
                                                                    | osmium.osm.AREA))

    def batches(self, check: Callable[[], bool] | None = None):
        """(kind id, rows, WKB) a batch at a time, then what is left of every kind; ends early when ``check``
        (called every few thousand objects) says so."""
        try:
            for obj in self._processor():
                self.seen += 1
                if self.seen % _CHECK_EVERY == 0 and check is not None and check():
                    return
                self._take(obj)
                if self.ready:
                    yield from self.ready
                    self.ready.clear()
        except (LanternError, BrokenPipeError):  # ours, or the reader's parent has gone: not the file's fault
            raise
        except Exception as exc:  # osmium reports damaged data as RuntimeError and friends
            raise _osmium_error(self.path, exc) from exc
        for kind_id in list(self.rows):
            yield kind_id, self.rows.pop(kind_id), self.wkb.pop(kind_id)

    def fraction(self) -> float:
        """How much of the file has been read (an estimate where the read position is not known)."""
        read = self.position.fraction()
        return read if read is not None else min(1.0, self.seen / self.estimate)

    def _take(self, obj) -> None:
        kind = obj.type_str()
        if kind == "a":
            self._area(obj)
        elif kind == "w":
            self._way(obj, self.classify.rules(obj))
        elif kind == "n":
            place = self.classify.rules(obj)[0]
            if place is not None:
                self._place(place, obj, "node", obj.id, self.factory.create_point(obj))
        elif kind == "r" and obj.tags.get("type") in ("multipolygon", "boundary"):
            rules = self.classify.rules(obj)
            key = ("relation", obj.id)
            if (rules[0] is not None or rules[1] is not None) and key not in self.built:
                self.expected[key] = rules
            self.built.discard(key)  # a relation's area may come before the relation

    def _way(self, way, rules: tuple) -> None:
        import osmium

        place, area, line, _area_class, line_class = rules
        if (place is not None or area is not None) and way.is_closed():
            self.expected[("way", way.id)] = rules
        if line is None:
            return
        try:
            self._add(line.kind, (_tag(way, "name"), line_class), self.factory.create_linestring(way))
        except (osmium.InvalidLocationError, RuntimeError):
            self.broken_lines += 1  # nodes outside the extract

    def _area(self, area) -> None:
        from_way = area.from_way()
        origin = ("way" if from_way else "relation", area.orig_id())
        rules = self.expected.get(origin)
        if rules is None:
            if from_way:
                return  # its way was seen, and no place or basemap area rule takes it
            rules = self.classify.rules(area)
        place, basemap, _line, area_class, _line_class = rules
        if place is None and basemap is None:
            return
        try:
            wkb = self.factory.create_multipolygon(area)
        except RuntimeError:
            return
        if self.expected.pop(origin, None) is None:
            self.built.add(origin)
        if place is not None:
            self._place(place, area, origin[0], origin[1], wkb)
        if basemap is not None:
            self._add(basemap.kind, (_tag(area, "name"), area_class), wkb)

    def _add(self, kind_id: str, row, wkb: str) -> None:
        """One row (a dict for places; a tuple in the order of ``_layout`` for basemap features) and its WKB."""
        self.matched += 1
        rows = self.rows[kind_id]
        rows.append(row)
        self.wkb[kind_id].append(wkb)
        if len(rows) >= self.batch_rows:
            self.ready.append((kind_id, self.rows.pop(kind_id), self.wkb.pop(kind_id)))

    def _place(self, rule: OsmRule, obj, osm_type: str, osm_id: int, wkb: str) -> None:
        tags = dict(obj.tags)
        name = next((tags[k] for k in _NAME_KEYS if tags.get(k)), None) or self._unnamed(rule, tags)
        row = {"name": name, **dict(rule.set), "osm_type": osm_type, "osm_id": osm_id,
               "osm_tags": json.dumps(tags, ensure_ascii=False, sort_keys=True)}
        self._add(rule.kind, row, wkb)

    def _unnamed(self, rule: OsmRule, tags: dict) -> str:
        """'(unnamed …)', worked out once per rule and tag value."""
        key = (rule, next((tags[k] for k, _v in rule.match if tags.get(k)), None))
        if key not in self.unnamed:
            self.unnamed[key] = _name(tags, rule)
        return self.unnamed[key]


class _Watch:
    """The caller's side of a read: progress reports and cancel checks (on the caller's thread), and what
    the reader found (objects seen, how far it read, objects cut by the edge, objects a rule took)."""

    def __init__(self, progress: Progress | None, cancelled: Callable[[], bool] | None):
        self.progress, self.cancelled = progress, cancelled
        self.seen, self.read, self.shown = 0, 0.0, 0.0
        self.skipped = self.matched = 0

    def tick(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise Cancelled(_("Import cancelled; nothing was changed."))
        if self.progress is not None:
            self.shown = max(self.shown, min(0.9, 0.05 + 0.85 * self.read))
            self.progress(self.shown, _("Reading OpenStreetMap objects: {n}").format(n=self.seen))


class _Background:
    """A reader running from the moment it is made (so the reading overlaps the making of the workspace, and
    then the preparing and writing of the batches before), in a thread or, with ``process``, in a child
    Python process (``_child_main``; both sides then have a core of their own, where a thread shares the
    GIL). At most a few batches wait, so memory stays bounded; ``batches`` hands them on, raising the
    reader's error if any; ``stop`` ends the reading."""

    def __init__(self, source: Path, batch_rows: int, process: bool = False):
        import queue
        import threading

        self.source, self.waiting, self.halt, self.done = source, queue.Queue(maxsize=2), threading.Event(), object()
        self.seen, self.read, self.skipped, self.matched, self.child = 0, 0.0, 0, 0, None
        self.reader = None if process else _Reader(source, batch_rows)
        if process:
            self.child = _start_child(source, batch_rows)
        self.thread = threading.Thread(target=self._run, name="lantern-osm-reader", daemon=True)
        self.thread.start()

    def _put(self, item) -> None:
        import queue

        while not self.halt.is_set():
            try:
                return self.waiting.put(item, timeout=0.05)
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            for batch in (self._from_child() if self.child else self.reader.batches(self.halt.is_set)):
                self._put(batch)
            if self.reader is not None:
                self.skipped, self.matched = self.reader.skipped, self.reader.matched
            self._put(self.done)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which raises it
            self._put(exc)

    def _from_child(self):
        import pickle

        while True:
            try:
                message = pickle.load(self.child.stdout)
            except EOFError:
                if self.halt.is_set():
                    return
                raise RuntimeError(f"the OSM reader process ended unexpectedly (exit code {self.child.wait()})") \
                    from None
            if message[0] == "batch":
                yield message[1]
            elif message[0] == "progress":
                self.seen, self.read = message[1], message[2]
            elif message[0] == "done":
                self.seen, self.skipped, self.matched = message[1:]
                return
            elif message[0] == "input":
                raise InputError(self.source, message[1])
            else:
                raise RuntimeError(message[1])

    def batches(self, watch: _Watch):
        import queue

        try:
            while True:
                if self.reader is not None:
                    self.seen, self.read = self.reader.seen, self.reader.fraction()
                watch.seen, watch.read = self.seen, self.read
                watch.tick()
                try:
                    item = self.waiting.get(timeout=0.05)
                except queue.Empty:
                    continue
                if item is self.done:
                    watch.skipped, watch.matched = self.skipped, self.matched
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.stop()

    def stop(self) -> None:
        self.halt.set()
        if self.child is not None and self.child.poll() is None:
            self.child.kill()
        self.thread.join()
        if self.child is not None:
            self.child.wait()
            self.child.stdout.close()


def _start_child(source: Path, batch_rows: int):
    """``python -c`` running ``_child_main`` on ``source``, in the current language, its stdout a pipe."""
    import subprocess
    import sys

    import layers
    from layers import i18n

    root = str(Path(next(iter(layers.__path__))).resolve().parent)  # where the package is, for the child
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    code = "from layers.osm import _child_main; _child_main()"
    return subprocess.Popen([sys.executable, "-c", code, str(source), str(batch_rows), i18n.language()],
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)


def _child_main() -> None:
    """The child process of ``_Background(process=True)``: reads ``argv[1]`` and writes pickled messages to
    stdout: batches, progress now and then, and the end or the error."""
    import pickle
    import sys

    from layers import i18n

    i18n.set_language(sys.argv[3])
    out, last = sys.stdout.buffer, [0.0]
    reader = _Reader(Path(sys.argv[1]), int(sys.argv[2]))

    def send(message) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    def report() -> bool:
        if time.monotonic() - last[0] > 0.05:
            send(("progress", reader.seen, reader.fraction()))
            last[0] = time.monotonic()
        return False

    try:
        try:
            for batch in reader.batches(report):
                send(("batch", batch))
            send(("done", reader.seen, reader.skipped, reader.matched))
        except InputError as exc:
            send(("input", exc.problem))
        except BrokenPipeError:
            raise
        except Exception as exc:  # noqa: BLE001 - told to the parent, which raises it
            send(("error", f"{type(exc).__name__}: {exc}"))
    except BrokenPipeError:  # the parent has gone (a cancel, an error, or it was killed): end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit


def _clip(geoms, boundary, report: OsmReport):
    """(geometries cut to the boundary, which rows to keep); counts what was clipped and left out."""
    import numpy as np
    import shapely

    inside = shapely.contains(boundary, geoms)
    touching = inside | shapely.intersects(boundary, geoms)
    cut = touching & ~inside
    geoms = geoms.copy()
    geoms[cut] = shapely.intersection(geoms[cut], boundary)
    keep = touching & ~shapely.is_empty(geoms)
    report.clipped += int((cut & keep).sum())
    report.outside += int((~keep).sum())
    return geoms, np.asarray(keep, dtype=bool)


def _frame(kind_id: str, rows: list[dict], wkbs: list[str], boundary, report: OsmReport):
    """A batch as a GeoDataFrame in the layer's OSM columns, clipped to the boundary if any (None: nothing left)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    fromhex = bytes.fromhex  # osmium gives hex; GEOS parses bytes several times faster
    geoms = shapely.from_wkb(np.array([fromhex(h) for h in wkbs], dtype=object))
    if boundary is not None:
        geoms, keep = _clip(geoms, boundary, report)
        if not keep.all():
            rows = [r for r, k in zip(rows, keep.tolist()) if k]
            geoms = geoms[keep]
    if not rows:
        return None
    layout = _layout(kind_id)
    if isinstance(rows[0], dict):
        columns = {c: [r.get(c) for r in rows] for c in layout}
    else:
        columns = dict(zip(layout, map(list, zip(*rows))))
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=4326)


def _prepared_batches(source: Path, boundary, report: OsmReport, progress: Progress | None,
                      cancelled: Callable[[], bool] | None, background: _Background | None = None):
    """(kind id, PreparedFeatures) a batch at a time, read (by ``background``, else in a thread), clipped and
    checked (layers.features.Preparation); the whole-extract rules are applied once the file is read (raising
    InputError), so the caller writes in one transaction and a refusal rolls it back."""
    from layers.features import Preparation

    if boundary is not None:
        import shapely

        shapely.prepare(boundary)
    watch = _Watch(progress, cancelled)
    preparations: dict[str, Preparation] = {}
    background = background or _Background(source, BATCH_ROWS)
    for kind_id, rows, wkbs in background.batches(watch):
        frame = _frame(kind_id, rows, wkbs, boundary, report)
        if frame is None:
            continue
        if kind_id not in preparations:
            preparations[kind_id] = Preparation(source, get_kind(kind_id), _layout(kind_id))
        prepared = preparations[kind_id].batch(frame)
        if not preparations[kind_id].refusing and len(prepared):
            yield kind_id, prepared
    report.skipped = watch.skipped
    if not watch.matched:
        raise InputError(source, _("no OpenStreetMap objects in the file match the tag mapping (data/osm_tag_mapping.json)"))
    if not any(not get_kind(k).is_basemap for k in preparations):
        raise InputError(
            source, _("the boundary or bbox does not overlap the places in the extract; nothing would be imported")
        )
    for kind_id in sorted(preparations):
        preparations[kind_id].finish()


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


def _write_batches(ws, source: Path, batches, report: OsmReport, progress: Progress | None = None) -> OsmReport:
    """Write prepared batches into ``ws`` as they come: one transaction under its write lock, each batch one
    import entry of the change log (layers.workspace.BulkInsert); the report's counts once committed."""
    from layers.catalogue import layer_kinds

    label = f"OpenStreetMap: {source.name}"
    bulks, repaired = {}, 0
    with ws.atomic(), closing(batches):  # a failed write stops the reading at once
        for kind_id, prepared in batches:
            if kind_id not in bulks:
                bulks[kind_id] = ws.bulk_insert(kind_id, source=label)
            bulks[kind_id].add(prepared.columns, prepared.geometries)
            repaired += prepared.repaired
        if progress is not None:
            progress(0.92, _("Writing the workspace"))
        for kind_id in (k for k in layer_kinds() if k in bulks):
            bulks[kind_id].close()
            ws.set_layer_info(kind_id, source=label)
        ws.set_metadata("osm_attribution", OSM_ATTRIBUTION)
    report.counts.update({k: b.count for k, b in bulks.items()})  # only once committed
    report.repaired += repaired
    return report


def _spool(batches) -> tuple:
    """Prepared batches kept in an anonymous temporary file (memory stays that of one batch); (file, count)."""
    import pickle
    import tempfile

    import shapely

    spool, n = tempfile.TemporaryFile(prefix="lantern-osm-"), 0
    try:
        for kind_id, prepared in batches:
            pickle.dump((kind_id, prepared.columns, shapely.to_wkb(prepared.geometries), prepared.repaired), spool,
                        protocol=pickle.HIGHEST_PROTOCOL)
            n += 1
    except BaseException:
        spool.close()
        raise
    return spool, n


@dataclass
class PreparedExtract:
    """An extract read and validated, ready to be written in one transaction (no workspace touched yet).

    The prepared batches wait in an anonymous temporary file (deleted when closed or collected), so
    memory stays that of one batch however big the extract.
    """

    source: Path
    report: OsmReport
    spool: object = None
    batch_count: int = 0

    def batches(self):
        """(kind id, PreparedFeatures) as spooled; can be read again (the write is all or nothing)."""
        import pickle

        import shapely

        from layers.features import PreparedFeatures

        self.spool.seek(0)
        for _i in range(self.batch_count):
            kind_id, columns, wkb, repaired = pickle.load(self.spool)
            yield kind_id, PreparedFeatures(kind=get_kind(kind_id), columns=columns,
                                            geometries=shapely.from_wkb(wkb), repaired=repaired)

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()


def prepare_extract(source, bbox=None, clip_geometry=None, progress: Progress | None = None,
                    cancelled: Callable[[], bool] | None = None) -> PreparedExtract:
    """Read and validate an extract (the slow part; safe in a worker thread, writes nothing)."""
    source = Path(source)
    _check_source(source)
    report = OsmReport(source=source)
    started = time.perf_counter()
    boundary = _boundary(source, bbox, clip_geometry)
    spool, count = _spool(_prepared_batches(source, boundary, report, progress, cancelled))
    report.seconds = time.perf_counter() - started
    if progress is not None:
        progress(1.0, _("Read; writing the workspace"))
    return PreparedExtract(source, report, spool, count)


def write_extract(ws, extract: PreparedExtract) -> OsmReport:
    """Write a prepared extract into the open workspace ``ws``: one transaction, under its write lock."""
    return _write_batches(ws, extract.source, extract.batches(), extract.report)


def _stream_into(ws, source: Path, bbox, clip_geometry, progress, cancelled,
                 background: _Background | None = None) -> OsmReport:
    """Read, check and write an extract in one pass and one transaction: a batch is written as soon as it is
    prepared, and a refusal, an error or a cancel found later rolls everything back. ``background``: the
    reading, already started."""
    try:
        _check_source(source)
        report = OsmReport(source=source)
        started = time.perf_counter()
        boundary = _boundary(source, bbox, clip_geometry)
        batches = _prepared_batches(source, boundary, report, progress, cancelled, background)
        _write_batches(ws, source, batches, report, progress)
    finally:
        if background is not None:
            background.stop()
    report.seconds = time.perf_counter() - started
    return report


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
    _check_source(source)
    with sibling_temp(target, prefix=".lantern-osm-") as tmp:
        clip_geometry = None
        if target.exists():
            copy_database(target, tmp)
            ws = Workspace.open(tmp)
            if clip_layer:
                clip_geometry = _layer_union(ws, clip_layer, source)
            background = _Background(source, BATCH_ROWS, process=True)
        else:
            if clip_layer:
                raise InputError(source, _("--clip-layer needs an existing workspace to take the boundary from"))
            background = _Background(source, BATCH_ROWS, process=True)  # reads while the workspace is made
            try:
                ws = Workspace.create(tmp, name=source.name.split(".")[0])
            except BaseException:
                background.stop()
                raise
        try:
            report = _stream_into(ws, source, bbox, clip_geometry, progress, cancelled, background)
        finally:
            ws.close()
        if progress is not None:
            progress(1.0, _("Done"))
    return tmp, report


def import_osm(source, out, bbox=None, clip_layer=None, progress=None, cancelled=None) -> OsmReport:
    """Import an extract into ``out`` (created if missing), all or nothing, streamed: read, checked and
    written a batch at a time in one transaction (memory is that of a batch, not of the file).

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
            report = _stream_into(ws, source, bbox, clip_geometry, progress, cancelled,
                                  _Background(source, BATCH_ROWS, process=True))
        if progress is not None:
            progress(1.0, _("Done"))
        return report
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
    """The real OSM extract of central Helsinki bundled as data/osm/Helsinki.osm.pbf (ODbL; used by the demo and
    the tests). A real path: pyosmium reads files, not Traversables."""
    from layers.resources import resource

    return Path(str(resource("osm/Helsinki.osm.pbf")))


__all__ = ["import_osm", "build_osm_workspace", "prepare_extract", "write_extract", "PreparedExtract", "OsmReport", "Cancelled", "tag_mapping",
           "OSM_ATTRIBUTION", "helsinki_extract"]
