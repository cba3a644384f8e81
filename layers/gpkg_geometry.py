"""GeoPackage geometry blobs, and the SQL functions GDAL's R-tree triggers need.

Edits go through Python's sqlite3 so that features, metadata and (later) the
change log are written in one transaction. GeoPackage stores geometries as a
small header plus WKB (spec section 2.1.3); shapely does the WKB part.
The R-tree index triggers GDAL creates call ST_IsEmpty/ST_MinX/...; we
register them on every connection so inserts keep the index valid.
"""
from __future__ import annotations

import sqlite3
import struct

import numpy as np
import shapely

_MAGIC = b"GP"
_VERSION = 0
# flags: little-endian (bit 0), envelope type 1 = [minx, maxx, miny, maxy] (bits 1-3)
_FLAGS_ENVELOPE = 0b0000_0011
_FLAGS_EMPTY = 0b0001_0001  # empty geometry flag (bit 4), no envelope, little-endian
_ENVELOPE_SIZES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


_HEADER = np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs_id", "<i4"), ("envelope", "<f8", 4)])


def encode(geometries, srs_id: int = 4326) -> list[bytes | None]:
    """GeoPackage blobs for an array of shapely geometries (None stays None).

    Vectorised: the WKB comes from shapely, the headers (with the [minx, maxx, miny, maxy]
    envelope) from one numpy record array; only the joining of header and WKB is per feature.
    """
    geoms = np.asarray(geometries, dtype=object)
    wkb = shapely.to_wkb(geoms, byte_order=1, flavor="iso")
    bounds = shapely.bounds(geoms)
    empty = shapely.is_empty(geoms)
    headers = np.zeros(len(geoms), dtype=_HEADER)
    headers["magic"], headers["version"], headers["srs_id"] = _MAGIC, _VERSION, srs_id
    headers["flags"] = np.where(empty, _FLAGS_EMPTY, _FLAGS_ENVELOPE)
    headers["envelope"] = bounds[:, [0, 2, 1, 3]]
    raw = headers.tobytes()
    size, short = _HEADER.itemsize, _HEADER.itemsize - 32  # an empty geometry's header has no envelope
    out: list[bytes | None] = []
    for i, (w, e) in enumerate(zip(wkb.tolist(), empty.tolist())):
        if w is None:
            out.append(None)
        else:
            out.append(raw[i * size:i * size + (short if e else size)] + w)
    return out


def _split(blob: bytes) -> tuple[int, bytes]:
    """(flags, wkb) of a GeoPackage blob."""
    if blob[:2] != _MAGIC:
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    envelope = _ENVELOPE_SIZES[(flags >> 1) & 0b111]
    return flags, blob[8 + envelope:]


def decode(blobs) -> np.ndarray:
    """Shapely geometries for GeoPackage blobs."""
    wkbs = [None if b is None else _split(bytes(b))[1] for b in blobs]
    return shapely.from_wkb(np.asarray(wkbs, dtype=object))


def bounds_of(blobs) -> np.ndarray:
    """(minx, miny, maxx, maxy) of each blob, as shapely gives them; NaN for an empty geometry. Read from the
    header's envelope where the blob has one (Lantern's always do: no decoding), else from the geometry."""
    out = np.full((len(blobs), 4), np.nan)
    slow = []
    for i, blob in enumerate(blobs):
        flags = blob[3]
        if (flags >> 4) & 1:
            continue  # empty
        if (flags >> 1) & 0b111 and flags & 1:  # a little-endian envelope: minx, maxx, miny, maxy
            minx, maxx, miny, maxy = struct.unpack_from("<4d", blob, 8)
            out[i] = (minx, miny, maxx, maxy)
        else:
            slow.append(i)
    if slow:
        out[slow] = shapely.bounds(decode([blobs[i] for i in slow]))
    return out


def _geometry(blob):
    return shapely.from_wkb(_split(bytes(blob))[1])


def _bound(index: int):
    def fn(blob):
        if blob is None:
            return None
        flags = blob[3]
        if (flags >> 1) & 0b111:  # envelope present: minx, maxx, miny, maxy
            return struct.unpack_from("<4d", blob, 8)[index]
        g = _geometry(blob)
        if g.is_empty:
            return None
        minx, miny, maxx, maxy = g.bounds
        return (minx, maxx, miny, maxy)[index]

    return fn


def _is_empty(blob):
    if blob is None:
        return None
    return 1 if (blob[3] >> 4) & 1 or _geometry(blob).is_empty else 0


def register_functions(conn: sqlite3.Connection) -> None:
    """Make GDAL's GeoPackage triggers work on a plain sqlite3 connection."""
    conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _bound(i), deterministic=True)


# -- R-tree bulk loading ------------------------------------------------------------------
#
# SQLite's R-tree keeps its tree in three shadow tables: <name>_node (nodeno, data: a 2-byte depth
# (read from the root only), a 2-byte cell count, then cells of an 8-byte id and four float32
# coordinates minx, maxx, miny, maxy, all big-endian; every node blob as long as the root's),
# <name>_rowid (entry id → leaf node) and <name>_parent (node → parent). Inserting a million entries
# one by one costs ~7 µs each; packing them (Sort-Tile-Recursive, as GDAL's own bulk loader does)
# and writing the nodes costs well under one.

_ROUND_TOWARDS, _ROUND_AWAY = 1.0 - 1.0 / 8388608.0, 1.0 + 1.0 / 8388608.0


def rtree_bounds(bounds: np.ndarray) -> np.ndarray:
    """[minx, maxx, miny, maxy] as float32, rounded outwards exactly as SQLite's R-tree rounds them."""
    lo = np.asarray(bounds, dtype=float)[:, [0, 1]]
    hi = np.asarray(bounds, dtype=float)[:, [2, 3]]
    down = lo.astype(np.float32)
    fix = down > lo
    down[fix] = (lo[fix] * np.where(lo[fix] < 0, _ROUND_AWAY, _ROUND_TOWARDS)).astype(np.float32)
    up = hi.astype(np.float32)
    fix = up < hi
    up[fix] = (hi[fix] * np.where(hi[fix] < 0, _ROUND_TOWARDS, _ROUND_AWAY)).astype(np.float32)
    return np.column_stack([down[:, 0], up[:, 0], down[:, 1], up[:, 1]])


def _str_groups(boxes: np.ndarray, fanout: int) -> list[np.ndarray]:
    """Sort-Tile-Recursive: the boxes' indices grouped into nodes of at most ``fanout``."""
    n = len(boxes)
    leaves = -(-n // fanout)
    slices = int(np.ceil(np.sqrt(leaves)))
    cx = boxes[:, 0].astype(float) + boxes[:, 1]
    cy = boxes[:, 2].astype(float) + boxes[:, 3]
    by_x = np.argsort(cx, kind="stable")
    per_slice = slices * fanout
    groups = []
    for start in range(0, n, per_slice):
        part = by_x[start:start + per_slice]
        part = part[np.argsort(cy[part], kind="stable")]
        groups.extend(part[i:i + fanout] for i in range(0, len(part), fanout))
    return groups


def _node_blob(ids: np.ndarray, boxes: np.ndarray, size: int, depth: int = 0) -> bytes:
    cells = np.zeros(len(ids), dtype=[("id", ">i8"), ("box", ">f4", 4)])
    cells["id"], cells["box"] = ids, boxes
    head = depth.to_bytes(2, "big") + len(ids).to_bytes(2, "big")
    body = head + cells.tobytes()
    return body + bytes(size - len(body))


def fill_rtree(conn: sqlite3.Connection, name: str, ids, boxes: np.ndarray) -> None:
    """Replace the R-tree ``name``'s content with the entries ``ids`` / ``boxes`` (from ``rtree_bounds``),
    packed. Call inside a transaction; the R-tree must exist (its root node tells the node size)."""
    q = '"' + name.replace('"', '""')
    size = conn.execute(f'SELECT length(data) FROM {q}_node" WHERE nodeno = 1').fetchone()[0]
    fanout = (size - 4) // 24
    for shadow in ("_node", "_rowid", "_parent"):
        conn.execute(f'DELETE FROM {q}{shadow}"')
    ids = np.asarray(ids, dtype=np.int64)
    boxes = np.asarray(boxes, dtype=np.float32)
    nodes: list[tuple[int, bytes]] = []
    parents: list[tuple[int, int]] = []
    level_ids, level_boxes, depth, next_no = ids, boxes, 0, 2
    leaf = True
    while len(level_ids) > fanout:
        groups = _str_groups(level_boxes, fanout)
        numbers = np.arange(next_no, next_no + len(groups), dtype=np.int64)
        next_no += len(groups)
        up = np.empty((len(groups), 4), dtype=np.float32)
        for no, g in zip(numbers.tolist(), groups):
            nodes.append((no, _node_blob(level_ids[g], level_boxes[g], size)))
            b = level_boxes[g]
            up[no - numbers[0]] = (b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max())
            if leaf:
                conn.executemany(f'INSERT INTO {q}_rowid" (rowid, nodeno) VALUES (?, ?)',
                                 zip(level_ids[g].tolist(), [no] * len(g)))
            else:
                parents.extend((int(child), no) for child in level_ids[g])
        level_ids, level_boxes, depth, leaf = numbers, up, depth + 1, False
    nodes.append((1, _node_blob(level_ids, level_boxes, size, depth)))
    if leaf:
        conn.executemany(f'INSERT INTO {q}_rowid" (rowid, nodeno) VALUES (?, 1)', ((int(i),) for i in level_ids))
    else:
        parents.extend((int(child), 1) for child in level_ids)
    conn.executemany(f'INSERT INTO {q}_node" (nodeno, data) VALUES (?, ?)', nodes)
    conn.executemany(f'INSERT INTO {q}_parent" (nodeno, parentnode) VALUES (?, ?)', parents)
