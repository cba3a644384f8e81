"""Hexagonal grids in a metric CRS, and fast binning of points into them.

Pointy-top hexagons in axial coordinates (q, r). ``cell_size`` is the distance
between the centres of neighbouring cells (= the hexagon's flat-to-flat
width); the circumradius is cell_size / √3. Binning is plain numpy (cube
rounding), which is what makes a million points take a fraction of a second.
"""
from __future__ import annotations

import numpy as np

SQRT3 = np.sqrt(3.0)


def radius(cell_size: float) -> float:
    return cell_size / SQRT3


def axial(x, y, cell_size: float) -> tuple[np.ndarray, np.ndarray]:
    """The (q, r) cell of each point (arrays of metric x, y)."""
    s = radius(cell_size)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    qf = (SQRT3 / 3 * x - y / 3) / s
    rf = (2 / 3 * y) / s
    # cube rounding: round all three, fix the one with the largest error
    xf, zf = qf, rf
    yf = -xf - zf
    rx, ry, rz = np.round(xf), np.round(yf), np.round(zf)
    dx, dy, dz = np.abs(rx - xf), np.abs(ry - yf), np.abs(rz - zf)
    fix_x = (dx > dy) & (dx > dz)
    fix_z = ~fix_x & (dz >= dy)
    rx = np.where(fix_x, -ry - rz, rx)
    rz = np.where(fix_z, -rx - ry, rz)
    return rx.astype(np.int64), rz.astype(np.int64)


def centres(q, r, cell_size: float) -> tuple[np.ndarray, np.ndarray]:
    s = radius(cell_size)
    q = np.asarray(q, dtype=float)
    r = np.asarray(r, dtype=float)
    return s * (SQRT3 * q + SQRT3 / 2 * r), s * 1.5 * r


def polygons(q, r, cell_size: float):
    """Shapely hexagons for cells (q, r)."""
    import shapely

    s = radius(cell_size)
    cx, cy = centres(q, r, cell_size)
    angles = np.deg2rad(np.arange(6) * 60 - 30)
    xs = cx[:, None] + s * np.cos(angles)[None, :]
    ys = cy[:, None] + s * np.sin(angles)[None, :]
    rings = np.stack([xs, ys], axis=-1)
    return shapely.polygons(np.concatenate([rings, rings[:, :1]], axis=1))


def covering(bounds: tuple[float, float, float, float], cell_size: float) -> tuple[np.ndarray, np.ndarray]:
    """(q, r) of every cell whose centre lies within the bounds grown by one cell."""
    minx, miny, maxx, maxy = bounds
    pad = cell_size
    q0, r0 = axial([minx - pad, maxx + pad, minx - pad, maxx + pad], [miny - pad, miny - pad, maxy + pad, maxy + pad],
                   cell_size)
    qs = np.arange(q0.min() - 2, q0.max() + 3)
    rs = np.arange(r0.min() - 2, r0.max() + 3)
    qq, rr = np.meshgrid(qs, rs)
    qq, rr = qq.ravel(), rr.ravel()
    cx, cy = centres(qq, rr, cell_size)
    inside = (cx >= minx - pad) & (cx <= maxx + pad) & (cy >= miny - pad) & (cy <= maxy + pad)
    return qq[inside], rr[inside]


def count(q_cells, r_cells, x, y, cell_size: float) -> np.ndarray:
    """How many of the points (x, y) fall in each of the given cells."""
    q, r = axial(x, y, cell_size)
    index = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(q_cells, r_cells))}
    counts = np.zeros(len(index), dtype=np.int64)
    if len(q) == 0:
        return counts
    keys, n = np.unique(np.stack([q, r], axis=1), axis=0, return_counts=True)
    for (a, b), c in zip(keys, n):
        i = index.get((int(a), int(b)))
        if i is not None:
            counts[i] += c
    return counts
