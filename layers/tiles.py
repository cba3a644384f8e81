"""Vector tiles of the map's big layers, kept in the workspace (``lantern_tiles``).

The basemap (hundreds of thousands of buildings on a city) is too big to hand
to the map page as GeoJSON. GDAL's MVT driver (through pyogrio) cuts each
layer into Mapbox Vector Tiles, zoom ``MIN_ZOOM`` to ``MAX_ZOOM`` (the page
overzooms beyond, and draws ``MIN_ZOOM`` tiles scaled down below it), keeping
the attribute the layer's style classifies on. Each zoom is cut in a child
process (GDAL's writer is single-threaded, and a child can be stopped at once
on a cancel); the tiles are then stored with one transaction per layer.

Tiles are derived data: ``lantern_tiles_state`` records, per layer, a
fingerprint of the rows they were made from (count, last fid, the
GeoPackage's last change, the last change-log entry of the table, the
cutting scheme), so tiles of changed data are never taken for current ones
(``tiles_fresh``). The tables are made at the first build (no schema
change); read-only workspaces get none. ``read_tile`` reads a tile on its own
read-only connection, from any thread.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path
from typing import Callable

from layers.catalogue import kind as get_kind, layer_kinds
from layers.errors import LanternError
from layers.queries import kept_feature_count
from layers.i18n import _
from layers.migrations import CHANGE_LOG_TABLE, TILES_STATE_TABLE, TILES_TABLE, register_attributes_table

MIN_ZOOM, MAX_ZOOM = 13, 15
#: layers cut from a deeper zoom, and not drawn above it: a city's 300,000 buildings at zoom 13 are
#: 20,000 specks a tile (~20 s to draw zoomed out, and 11 s to cut); the roads and water show the city there
FIRST_ZOOM = {"basemap_buildings": 14}
#: classes left out of a layer's shallower tiles, as basemaps do (class -> the first zoom it is cut at): zoomed
#: out, a city's 31,000 footways, paths and service roads are specks that made two thirds of each zoom-13 tile
DETAIL_FROM = {"basemap_roads": {c: 14 for c in ("footway", "path", "cycleway", "steps", "pedestrian", "service")}}
#: how tiles are cut; part of the fingerprint, so a change here makes every stored tile stale
SCHEME = (f"gdal-mvt/z{MIN_ZOOM}-{MAX_ZOOM}/{sorted(FIRST_ZOOM.items())}/"
          f"{sorted((k, sorted(v.items())) for k, v in DETAIL_FROM.items())}/extent4096/v2")
#: a tile may hold this many bytes before GDAL coarsens it (its default, 500 kB, coarsens city tiles at z13)
MAX_TILE_BYTES = 2_000_000
#: basemap layers with this many rows get tiles when a window shows them (smaller ones only if asked)
TILE_ABOVE = 20_000
#: layers with more rows are cut one zoom per process (in parallel); smaller ones whole, in one process
SPLIT_ZOOMS_ABOVE = 20_000

Progress = Callable[[int, int], None]


class Cancelled(LanternError):
    """Building tiles was cancelled; the workspace is as it was."""


def zooms(kind_id: str) -> tuple[int, int]:
    """The first and last zoom a layer's tiles are cut at."""
    return FIRST_ZOOM.get(kind_id, MIN_ZOOM), MAX_ZOOM


def left_out(kind_id: str, z: int) -> tuple[str, ...]:
    """The classes of a layer not in its tiles of zoom ``z`` (``DETAIL_FROM``)."""
    return tuple(sorted(c for c, first in DETAIL_FROM.get(kind_id, {}).items() if z < first))


def _zoom_runs(kind_id: str, low: int, high: int) -> list[tuple[int, int]]:
    """``low``..``high`` split into runs of zooms that leave out the same classes (each run is cut at once)."""
    runs: list[tuple[int, int]] = []
    for z in range(low, high + 1):
        if runs and left_out(kind_id, z) == left_out(kind_id, runs[-1][0]):
            runs[-1] = (runs[-1][0], z)
        else:
            runs.append((z, z))
    return runs


def _where(kind_id: str, z: int) -> str | None:
    """An OGR SQL condition keeping the rows drawn at zoom ``z`` (None: all)."""
    skipped = left_out(kind_id, z)
    if not skipped:
        return None
    column = get_kind(kind_id).style.classify
    names = ", ".join("'" + c.replace("'", "''") + "'" for c in skipped)
    return f'"{column}" IS NULL OR "{column}" NOT IN ({names})'


def tiled_kinds() -> tuple[str, ...]:
    """The layer kinds drawn from vector tiles when their tiles are fresh: the basemap."""
    return tuple(k.id for k in layer_kinds().values() if k.is_basemap)


TILED_KINDS = tiled_kinds()


# -- freshness ------------------------------------------------------------------------------

def _table_exists(conn, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone() is not None


def fingerprint(conn: sqlite3.Connection, kind_id: str) -> str:
    """What the layer's rows are now, cheaply: any import, edit, undo or GDAL write changes it.

    The row count is GeoPackage's kept one where its triggers keep it (a lookup; counting a city's
    300,000 buildings reads the table, ~30 ms a layer, on the UI thread as the window opens)."""
    get_kind(kind_id)
    last = conn.execute(f'SELECT max(fid) FROM "{kind_id}"').fetchone()[0]
    count = kept_feature_count(conn, kind_id)
    if count is None:
        count = conn.execute(f'SELECT count(*) FROM "{kind_id}"').fetchone()[0]
    change = conn.execute("SELECT last_change FROM gpkg_contents WHERE table_name=?", (kind_id,)).fetchone()
    logged = None
    if _table_exists(conn, CHANGE_LOG_TABLE):
        logged = conn.execute(f"SELECT max(id) FROM {CHANGE_LOG_TABLE} WHERE table_name IN (?, '*')",
                              (kind_id,)).fetchone()[0]
    text = "|".join(str(v) for v in (SCHEME, kind_id, count, last, change and change[0], logged))
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_fingerprint(conn, kind_id: str) -> str | None:
    if not _table_exists(conn, TILES_STATE_TABLE):
        return None
    row = conn.execute(f"SELECT fingerprint FROM {TILES_STATE_TABLE} WHERE layer=?", (kind_id,)).fetchone()
    return row[0] if row else None


def fresh_fingerprint(workspace, kind_id: str) -> str | None:
    """The fingerprint of the layer's tiles if they were made from its current rows, else None."""
    conn = workspace.db.conn
    stored = _stored_fingerprint(conn, kind_id)
    return stored if stored is not None and stored == fingerprint(conn, kind_id) else None


def tiles_fresh(workspace, kind_id: str) -> bool:
    """The layer has tiles, made from its current rows."""
    return fresh_fingerprint(workspace, kind_id) is not None


def worth_tiling(workspace, kind_id: str) -> bool:
    """Whether to cut tiles for this layer unasked: a tiled kind with ``TILE_ABOVE`` rows or more (below,
    its GeoJSON is small enough, and a workspace is not written to just for being opened)."""
    return kind_id in TILED_KINDS and workspace.count(kind_id) >= TILE_ABOVE


def stale_kinds(workspace, kind_ids=TILED_KINDS) -> list[str]:
    """Which of ``kind_ids`` have no tiles of their current rows."""
    return [k for k in kind_ids if not tiles_fresh(workspace, k)]


# -- cutting (child processes) ----------------------------------------------------------------

def _start_cut(source: Path, kind_id: str, low: int, high: int, out: Path):
    """``python -c`` running ``_cut_main``: zooms ``low``..``high`` of one layer into an MBTiles file."""
    import subprocess
    import sys

    import layers

    root = str(Path(next(iter(layers.__path__))).resolve().parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    code = "from layers.tiles import _cut_main; _cut_main()"
    return subprocess.Popen([sys.executable, "-c", code, str(source), kind_id, str(low), str(high), str(out)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def cut_layer(source: str | Path, kind_id: str, low: int, high: int, out: str | Path) -> None:
    """Cut zooms ``low``..``high`` of a workspace layer into the MBTiles file ``out`` (GDAL's MVT driver),
    leaving out the classes that zooms leave out (``left_out``: the same for every zoom of the range)."""
    import warnings

    import pyogrio.raw

    if len({left_out(kind_id, z) for z in range(int(low), int(high) + 1)}) > 1:
        raise ValueError(f"zooms {low}-{high} of {kind_id} leave out different classes: cut them apart")
    classify = get_kind(kind_id).style.classify
    meta, _fids, geometry, field_data = pyogrio.raw.read(source, layer=kind_id, columns=[classify] if classify else [],
                                                         where=_where(kind_id, int(low)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "a tile was coarsened": said by GDAL, not a failure
        pyogrio.raw.write(out, geometry, field_data, meta["fields"], layer=kind_id, driver="MVT",
                          geometry_type=meta["geometry_type"], crs=meta["crs"],
                          dataset_options={"FORMAT": "MBTILES", "MINZOOM": low, "MAXZOOM": high, "COMPRESS": "NO",
                                           "MAX_SIZE": MAX_TILE_BYTES})


def _cut_main() -> None:
    import sys

    cut_layer(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])


def cut_tiles(source: str | Path, kind_ids, folder: str | Path, progress: Progress | None = None,
              cancel: Callable[[], bool] | None = None, workers: int | None = None,
              counts: dict[str, int] | None = None) -> dict[str, list[Path]]:
    """Cut every zoom of ``kind_ids`` into MBTiles files in ``folder``, ``workers`` processes at a time.

    Returns kind -> its files. Reads ``source`` only. A cancel stops the children and raises Cancelled.
    Layers whose ``counts`` are 0 are not cut (they have no tiles)."""
    import subprocess

    source, folder = Path(source), Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counts = counts or {}
    jobs = []
    for k in kind_ids:
        if not counts.get(k, 1):
            continue
        low, high = zooms(k)
        if counts.get(k, 0) >= SPLIT_ZOOMS_ABOVE:  # ~9 s a zoom for 300,000 buildings: one process each
            jobs.extend((k, z, z) for z in range(low, high + 1))
        else:  # a process costs ~1 s to start: small layers are cut whole (but for zooms that leave out classes)
            jobs.extend((k, a, b) for a, b in _zoom_runs(k, low, high))
    jobs.sort(key=lambda j: -counts.get(j[0], 0))  # the biggest layers first: the pool ends together
    total, done = len(jobs), 0
    out: dict[str, list[Path]] = {k: [] for k in kind_ids}
    workers = workers or max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                    else os.cpu_count() or 1, 4))
    running: list[tuple] = []
    try:
        while jobs or running:
            while jobs and len(running) < workers:
                kind_id, low, high = jobs.pop(0)
                path = folder / f"{kind_id}-{low}-{high}.mbtiles"
                running.append((_start_cut(source, kind_id, low, high, path), kind_id, path))
            if cancel is not None and cancel():
                raise Cancelled(_("Building the map tiles was cancelled; nothing was changed."))
            proc, kind_id, path = running[0]
            try:
                proc.wait(timeout=0.05)  # a bounded wait, so a cancel is seen within 50 ms
            except subprocess.TimeoutExpired:  # still cutting
                running.append(running.pop(0))
                continue
            running.pop(0)
            error = proc.stderr.read().decode("utf-8", "replace")
            proc.stderr.close()
            if proc.returncode != 0:
                raise LanternError(_("The map tiles of {layer} could not be made: {error}").format(
                    layer=get_kind(kind_id).label, error=error.strip().splitlines()[-1] if error.strip() else
                    proc.returncode))
            out[kind_id].append(path)
            done += 1
            if progress is not None:
                progress(done, total)
    finally:
        for proc, _k, _p in running:
            proc.kill()
            proc.wait()
            proc.stderr.close()
    return out


# -- storing --------------------------------------------------------------------------------

def _create_tables(conn) -> None:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {TILES_TABLE} (id INTEGER PRIMARY KEY, layer TEXT NOT NULL,"
                 " z INTEGER NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL, data BLOB NOT NULL)")
    conn.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {TILES_TABLE}_key ON {TILES_TABLE} (layer, z, x, y)")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {TILES_STATE_TABLE} (id INTEGER PRIMARY KEY, layer TEXT NOT NULL"
                 " UNIQUE, fingerprint TEXT NOT NULL, min_zoom INTEGER, max_zoom INTEGER, tiles INTEGER, made TEXT)")
    register_attributes_table(conn, TILES_TABLE, "Lantern: vector tiles of the map (derived; made again at will)")
    register_attributes_table(conn, TILES_STATE_TABLE, "Lantern: what the stored vector tiles were made from")


def _mbtiles_rows(kind_id: str, path: Path):
    """(layer, z, x, y, data) of an MBTiles file; its rows are TMS (y counted from the south)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        for z, x, row, data in conn.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles"):
            yield kind_id, z, x, (1 << z) - 1 - row, data


def store_tiles(workspace, kind_id: str, parts: list[Path], made_from: str) -> bool:
    """Replace the layer's tiles by those in ``parts``, in one transaction, if its rows are still those
    fingerprinted as ``made_from``. Returns whether they were stored (never in a read-only workspace).
    Runs on the workspace connection's own thread."""
    from datetime import datetime, timezone

    if workspace.read_only:
        return False
    conn = workspace.db.conn
    if fingerprint(conn, kind_id) != made_from:
        return False  # changed while the tiles were cut: these are stale already
    with workspace.atomic():
        _create_tables(conn)
        conn.execute(f"DELETE FROM {TILES_TABLE} WHERE layer=?", (kind_id,))
        n = 0
        for part in parts:
            cursor = conn.executemany(f"INSERT INTO {TILES_TABLE} (layer, z, x, y, data) VALUES (?, ?, ?, ?, ?)",
                                      _mbtiles_rows(kind_id, part))
            n += cursor.rowcount
        conn.execute(
            f"INSERT INTO {TILES_STATE_TABLE} (layer, fingerprint, min_zoom, max_zoom, tiles, made)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(layer) DO UPDATE SET fingerprint=excluded.fingerprint,"
            " min_zoom=excluded.min_zoom, max_zoom=excluded.max_zoom, tiles=excluded.tiles, made=excluded.made",
            (kind_id, made_from, *zooms(kind_id), n, datetime.now(timezone.utc).isoformat(timespec="seconds")))
    return True


def build_tiles(workspace, kind_ids, progress: Progress | None = None,
                cancel: Callable[[], bool] | None = None) -> None:
    """Cut and store the tiles of ``kind_ids`` (one transaction per layer). Nothing is written to a
    read-only workspace; a cancel (raises Cancelled) leaves the workspace as it was."""
    kind_ids = list(kind_ids)
    if workspace.read_only or not kind_ids:
        return
    conn = workspace.db.conn
    made_from = {k: fingerprint(conn, k) for k in kind_ids}
    counts = {k: workspace.count(k) for k in kind_ids}
    with tempfile.TemporaryDirectory(prefix="lantern-tiles-") as folder:
        parts = cut_tiles(workspace.path, kind_ids, folder, progress, cancel, counts=counts)
        for k in kind_ids:
            store_tiles(workspace, k, parts[k], made_from[k])


# -- reading --------------------------------------------------------------------------------

def _read_only(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5, check_same_thread=False)
    conn.execute("PRAGMA query_only = ON")
    return conn


def _select(conn, kind_id: str, z: int, x: int, y: int) -> bytes | None:
    try:
        row = conn.execute(f"SELECT data FROM {TILES_TABLE} WHERE layer=? AND z=? AND x=? AND y=?",
                           (kind_id, int(z), int(x), int(y))).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    return bytes(row[0]) if row else None


def read_tile(source, kind_id: str, z: int, x: int, y: int) -> bytes | None:
    """One stored tile (raw protobuf), or None where there is none. ``source``: a workspace or its path.
    Uses its own read-only connection: safe from any thread, never touches the workspace's connection."""
    path = Path(getattr(source, "path", source))
    with closing(_read_only(path)) as conn:
        return _select(conn, kind_id, z, x, y)


class TileReader:
    """``read_tile`` for a server answering many tiles: one read-only connection per thread, kept open."""

    def __init__(self, path: str | Path):
        from layers.layer_reader import ThreadConnections

        self.path = Path(path)
        self._conns = ThreadConnections(self.path)

    def read(self, kind_id: str, z: int, x: int, y: int) -> bytes | None:
        return _select(self._conns.get(), kind_id, z, x, y)

    def close(self) -> None:
        """Close every thread's connection (call once no thread reads any more)."""
        self._conns.close()


__all__ = ["MIN_ZOOM", "MAX_ZOOM", "zooms", "left_out", "DETAIL_FROM", "TILED_KINDS", "TILE_ABOVE", "tiled_kinds", "tiles_fresh", "fresh_fingerprint",
           "worth_tiling", "stale_kinds", "build_tiles",
           "cut_tiles", "store_tiles", "read_tile", "TileReader", "fingerprint", "Cancelled"]
