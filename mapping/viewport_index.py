"""The positions of a big layer's features, for drawing only what is in view at the zoom's detail.

A map of a million reported cases cannot hold a million markers. For a layer
above :data:`VIEWPORT_ABOVE` features the page asks, after each pan or zoom,
what to draw in its box: per-cell counts while more than :data:`DRAW_AT_MOST`
features are in view, else the features themselves. The feature boxes come
from the GeoPackage's R-tree once per layer version and filter state (16
bytes a feature); each answer is then numpy over those arrays.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from layers import viewport

#: layers with more features than this are drawn from the view's box (others are sent whole)
VIEWPORT_ABOVE = 5000
#: at most this many features are drawn one by one; above it the page shows counts per cell
DRAW_AT_MOST = 1000
#: a count cell's size on screen, in pixels
CELL_PX = 96


@dataclass
class ViewportIndex:
    """Fids and bounding boxes (float64 degrees) of a layer's features with a geometry."""

    fids: np.ndarray
    minx: np.ndarray
    miny: np.ndarray
    maxx: np.ndarray
    maxy: np.ndarray

    def __post_init__(self):
        # box centres and the cells' latitude, once per load: every answer bins these
        self.cx = (self.minx + self.maxx) / 2
        self.cy = (self.miny + self.maxy) / 2
        self.lat0 = float(np.median(self.miny)) if len(self.miny) else 0.0

    @classmethod
    def load(cls, conn, kind_id: str, row_filter=None) -> "ViewportIndex":
        fids, minx, miny, maxx, maxy = viewport.boxes(conn, kind_id, row_filter)
        return cls(fids, minx, miny, maxx, maxy)

    def inside(self, bbox) -> np.ndarray:
        """Which features' boxes meet ``bbox`` (west, south, east, north)."""
        w, s, e, n = bbox
        return (self.maxx >= w) & (self.minx <= e) & (self.maxy >= s) & (self.miny <= n)

    def bins(self, mask: np.ndarray, zoom: float) -> list[list]:
        """[lat, lng, count] per grid cell of about CELL_PX pixels at ``zoom``, placed at its features' mean."""
        x, y = self.cx[mask], self.cy[mask]
        if not len(x):
            return []
        dx = CELL_PX * 360.0 / (256.0 * 2 ** float(zoom))
        dy = dx * math.cos(math.radians(self.lat0))
        i = np.floor(x / dx).astype(np.int64)
        j = np.floor(y / dy).astype(np.int64)
        i -= i.min()
        j -= j.min()
        key = i * (int(j.max()) + 1) + j
        if int(key.max()) > 4 * len(key) + 4096:  # features far apart (a huge area's centre): cells by sorting
            key = np.unique(key, return_inverse=True)[1].reshape(-1)
        # a view holds a few hundred cells: counting into an array of them beats sorting (np.unique) the points
        counts = np.bincount(key)
        sx = np.bincount(key, weights=x)
        sy = np.bincount(key, weights=y)
        used = np.flatnonzero(counts)
        return [[round(float(b / c), 6), round(float(a / c), 6), int(c)]
                for a, b, c in zip(sx[used], sy[used], counts[used])]
