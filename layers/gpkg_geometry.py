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


def encode(geometries, srs_id: int = 4326) -> list[bytes | None]:
    """GeoPackage blobs for an array of shapely geometries (None stays None)."""
    geoms = np.asarray(geometries, dtype=object)
    wkb = shapely.to_wkb(geoms, byte_order=1, flavor="iso")
    bounds = shapely.bounds(geoms)
    empty = shapely.is_empty(geoms)
    out: list[bytes | None] = []
    for g, w, b, e in zip(geoms, wkb, bounds, empty):
        if g is None:
            out.append(None)
        elif e:
            out.append(_MAGIC + struct.pack("<BBi", _VERSION, _FLAGS_EMPTY, srs_id) + w)
        else:
            header = struct.pack("<BBi4d", _VERSION, _FLAGS_ENVELOPE, srs_id, b[0], b[2], b[1], b[3])
            out.append(_MAGIC + header + w)
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
