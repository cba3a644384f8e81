"""Point layers read a batch at a time, as coordinate arrays: analyses that only count points (a million
reported cases per grid cell) need memory for one batch and the grid, never a GeoDataFrame of every row.

GeoPackage point blobs are decoded with numpy: a header (8 bytes plus an envelope of 0, 32, 48 or 64 bytes)
then little-endian WKB (byte order, type, x, y). A batch whose blobs are not all of that one simple shape
(big-endian WKB, mixed envelopes, other geometry types) is decoded by shapely instead, with the same result.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from layers import gpkg_geometry
from layers.catalogue import kind
from layers.workspace import FID_COLUMN, GEOMETRY_COLUMN

BATCH_ROWS = 200_000
_ENVELOPE = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_POINT_TYPES = (1, 1001, 2001, 3001)  # ISO WKB Point, Point Z, Point M, Point ZM: x and y come first


@dataclass
class PointBatch:
    fids: np.ndarray  # int64
    x: np.ndarray  # float64 (longitude, EPSG:4326)
    y: np.ndarray
    columns: dict  # requested column name -> list of values


def point_batches(workspace, kind_id: str, columns: tuple[str, ...] = (), fids=None,
                  batch_rows: int | None = None):
    """Yield the points of layer ``kind_id`` (all, or only ``fids``) as PointBatch, in fid order.

    Missing and empty geometries are left out. Non-point geometries give their representative point
    (shapely's ``point_on_surface``), as ``GeoSeries.representative_point`` would.
    """
    conn = workspace.db.conn
    batch_rows = batch_rows or BATCH_ROWS
    k = kind(kind_id)
    unknown = [c for c in columns if c not in k.columns]
    if unknown:
        raise ValueError(f"{kind_id} has no column {unknown[0]!r}")
    select = ", ".join(f'"{c}"' for c in (FID_COLUMN, GEOMETRY_COLUMN, *columns))
    if fids is None:
        cursor = conn.execute(f'SELECT {select} FROM "{kind_id}" ORDER BY {FID_COLUMN}')
        chunks = iter(lambda: cursor.fetchmany(batch_rows), [])
    else:
        chunks = _rows_of(conn, kind_id, select, sorted({int(f) for f in fids}), batch_rows)
    for rows in chunks:
        batch = _batch(rows, columns)
        if len(batch.fids):
            yield batch


def _rows_of(conn, kind_id: str, select: str, fids: list[int], batch_rows: int):
    step = min(batch_rows, 30_000)  # well under SQLite's limit on bound parameters
    for start in range(0, len(fids), step):
        part = fids[start:start + step]
        marks = ",".join("?" * len(part))
        yield conn.execute(f'SELECT {select} FROM "{kind_id}" WHERE {FID_COLUMN} IN ({marks}) ORDER BY {FID_COLUMN}',
                           part).fetchall()


def _batch(rows: list[tuple], columns: tuple[str, ...]) -> PointBatch:
    fids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    blobs = [r[1] for r in rows]
    x, y, present = blob_xy(blobs)
    values = {c: [r[2 + i] for r, keep in zip(rows, present) if keep] for i, c in enumerate(columns)}
    return PointBatch(fids[present], x[present], y[present], values)


def blob_xy(blobs: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y of each GeoPackage blob (a point, or the representative point of another geometry) and a mask
    of those present (not missing, not empty)."""
    n = len(blobs)
    fast = _simple_points(blobs)
    if fast is not None:
        return fast
    import shapely

    geoms = gpkg_geometry.decode(blobs) if n else np.zeros(0, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    x, y = np.full(n, np.nan), np.full(n, np.nan)
    if present.any():
        shown = geoms[present]
        points = np.where(shapely.get_type_id(shown) == 0, shown, shapely.point_on_surface(shown))
        x[present], y[present] = shapely.get_x(points), shapely.get_y(points)
    return x, y, present


def _simple_points(blobs: list):
    """The numpy decoding, when every blob is a non-empty little-endian 2D-first point with one envelope size."""
    if not blobs:
        return None
    try:
        lengths = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    except TypeError:  # a missing geometry
        return None
    size = int(lengths[0])
    if size < 29 or (lengths != size).any():
        return None
    raw = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), size)
    flags = raw[:, 3]
    if (flags != flags[0]).any() or flags[0] & 0b0001_0000 or (raw[:, :2] != (71, 80)).any():  # empty, not "GP"
        return None
    envelope = _ENVELOPE.get((int(flags[0]) >> 1) & 0b111)
    if envelope is None:
        return None
    wkb = 8 + envelope
    if size < wkb + 21 or (raw[:, wkb] != 1).any():  # 1: little-endian WKB
        return None
    types = raw[:, wkb + 1:wkb + 5].copy().view("<u4").ravel()
    if not np.isin(types, _POINT_TYPES).all():
        return None
    xy = raw[:, wkb + 5:wkb + 21].copy().view("<f8")
    x, y = xy[:, 0].copy(), xy[:, 1].copy()
    present = ~(np.isnan(x) & np.isnan(y))  # POINT EMPTY is written as NaN, NaN
    return x, y, present


class CellTally:
    """Points counted per hexagonal cell (see ``layers.hexgrid``), a batch at a time: memory grows with the
    cells that hold points, not with the points.

    ``result`` gives what ``hexgrid.populated`` gives for all the points at once: the same cells in the same
    order, the same counts, and the same sums (exactly so for integer-valued weights such as counts).
    """

    _OFFSET = np.int64(2**31)

    def __init__(self, cell_size: float):
        self.cell_size = cell_size
        self.keys: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []
        self.sums: list[np.ndarray] = []

    def add(self, x, y, weights=None) -> None:
        from layers import hexgrid

        x = np.asarray(x, dtype=float)
        if not len(x):
            return
        weights = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
        q, r = hexgrid.axial(x, np.asarray(y, dtype=float), self.cell_size)
        keys, inverse, counts = np.unique(self._key(q, r), return_inverse=True, return_counts=True)
        self.keys.append(keys)
        self.counts.append(counts)
        self.sums.append(np.bincount(inverse.ravel(), weights=weights, minlength=len(keys)))
        if len(self.keys) > 8:  # fold the batches seen so far: memory stays one grid's worth
            self._fold()

    def _key(self, q: np.ndarray, r: np.ndarray) -> np.ndarray:
        """One unsigned integer per cell whose order is the order of (q, r) (what ``np.unique(axis=0)`` sorts by)."""
        return ((q + self._OFFSET).astype(np.uint64) << np.uint64(32)) | (r + self._OFFSET).astype(np.uint64)

    def _fold(self) -> None:
        keys, inverse = np.unique(np.concatenate(self.keys), return_inverse=True)
        self.counts = [np.bincount(inverse.ravel(), weights=np.concatenate(self.counts),
                                   minlength=len(keys)).astype(np.int64)]
        self.sums = [np.bincount(inverse.ravel(), weights=np.concatenate(self.sums), minlength=len(keys))]
        self.keys = [keys]

    def result(self, minimum: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(keys (n, 2) of q, r; point counts; sums of the weights) of the cells holding at least ``minimum``."""
        if not self.keys:
            return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        self._fold()
        keys, counts, sums = self.keys[0], self.counts[0], self.sums[0]
        q = (keys >> np.uint64(32)).astype(np.int64) - self._OFFSET
        r = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64) - self._OFFSET
        keep = counts >= minimum
        return np.column_stack([q, r])[keep], counts[keep], sums[keep]
