"""Measuring on the map, without Qt: geodesic lengths and areas, and a point in Latvia's grid (LKS-92).

Lengths and areas are measured on the WGS 84 ellipsoid (pyproj.Geod), so they
are right anywhere, not only inside the LKS-92 zone. The LKS-92 transformer
(EPSG:3059, Latvia TM) is made once: the status bar asks for every mouse move.
"""
from __future__ import annotations

from functools import lru_cache

from layers.crs import LKS92
from layers.i18n import _, decimal


@lru_cache(maxsize=1)
def _geod():
    from pyproj import Geod

    return Geod(ellps="WGS84")


@lru_cache(maxsize=1)
def _to_lks92():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", LKS92, always_xy=True)


def to_lks92(lat: float, lng: float) -> tuple[float, float]:
    """(X northing, Y easting) in metres, as Latvian maps write LKS-92 coordinates."""
    easting, northing = _to_lks92().transform(lng, lat)
    return northing, easting


def path_length(points: list[tuple[float, float]]) -> float:
    """Metres along the path through ``points`` ((lon, lat) pairs), on the ellipsoid."""
    if len(points) < 2:
        return 0.0
    lons, lats = zip(*points)
    return float(_geod().line_length(lons, lats))


def area_and_perimeter(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(m², m) of the polygon closed through ``points`` ((lon, lat) pairs), on the ellipsoid."""
    if len(points) < 3:
        return 0.0, path_length(points)
    lons, lats = zip(*points)
    area, perimeter = _geod().polygon_area_perimeter(lons, lats)
    return abs(float(area)), float(perimeter)


def polygon_points(polygon) -> list[tuple[float, float]]:
    """A shapely Polygon's vertices, (lon, lat), without the closing repeat."""
    coords = list(polygon.exterior.coords)
    return [(x, y) for x, y in coords[:-1]] if len(coords) > 1 and coords[0] == coords[-1] else coords


def format_length(metres: float) -> str:
    if metres < 1000:
        return _("{n} m").format(n=decimal(metres, 0 if metres >= 100 else 1))
    return _("{n} km").format(n=decimal(metres / 1000, 2 if metres < 10000 else 1))


def format_area(square_metres: float) -> str:
    if square_metres < 10_000:
        return _("{n} m²").format(n=decimal(square_metres, 0))
    if square_metres < 1_000_000:
        return _("{n} ha").format(n=decimal(square_metres / 10_000, 2))
    return _("{n} km²").format(n=decimal(square_metres / 1_000_000, 2))


def grid_text(lat: float, lng: float) -> str:
    """The cursor's position in Latvia's grid, for the status bar (beside its degrees)."""
    x, y = to_lks92(lat, lng)
    return _("LKS-92 X {x} m, Y {y} m").format(x=decimal(x, 0), y=decimal(y, 0))
