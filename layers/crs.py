"""The metric coordinate system distances, areas and grids are measured in.

Coordinates are stored in EPSG:4326. In Latvia, Lantern measures in Latvia's own grid, LKS-92 / Latvia TM
(EPSG:3059), so every municipality's hexagons, distances and partner counts agree: Rīga (UTM 35N) and
Jūrmala (UTM 34N) would otherwise fall in different UTM zones, and their grids would never line up.
Elsewhere it is the UTM zone of the place (pyproj's choice, through geopandas).
"""
from __future__ import annotations

#: LKS-92 / Latvia TM
LKS92 = "EPSG:3059"
#: W, S, E, N in degrees: where LKS-92 is used (Latvia and a margin; its area of use per EPSG)
LATVIA = (20.9, 55.6, 28.3, 58.1)


def in_latvia(bounds) -> bool:
    """Whether a W, S, E, N box lies within Latvia (where LKS-92 applies)."""
    w, s, e, n = bounds
    return w >= LATVIA[0] and s >= LATVIA[1] and e <= LATVIA[2] and n <= LATVIA[3]


def metric_crs_for(bounds):
    """The metric CRS for a W, S, E, N box (degrees): LKS-92 within Latvia, else its UTM zone."""
    if bounds is None or in_latvia(bounds):
        return LKS92
    import geopandas as gpd

    w, s, e, n = bounds
    return gpd.GeoSeries.from_xy([w, e], [s, n], crs=4326).estimate_utm_crs()


def metric_crs(data):
    """The metric CRS for a GeoDataFrame or GeoSeries (any CRS): LKS-92 within Latvia, else its UTM zone."""
    if len(data) == 0:
        return LKS92
    w, s, e, n = data.to_crs(4326).total_bounds
    return metric_crs_for((float(w), float(s), float(e), float(n)))
