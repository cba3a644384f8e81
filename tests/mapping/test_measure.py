"""Geodesic lengths and areas, and LKS-92 coordinates, checked against independent references."""
from __future__ import annotations

import pytest
import shapely

from layers.i18n import using
from mapping.measure import (
    area_and_perimeter,
    format_area,
    format_length,
    grid_text,
    path_length,
    polygon_points,
    to_lks92,
)


def test_a_degree_of_latitude_is_about_111_km():
    assert path_length([(24.0, 56.0), (24.0, 57.0)]) == pytest.approx(111_360, rel=2e-3)
    assert path_length([(24.0, 56.0)]) == 0.0


def test_area_matches_the_same_square_in_lks92():
    from pyproj import Transformer

    ring = [(24.10, 56.94), (24.12, 56.94), (24.12, 56.96), (24.10, 56.96)]
    area, perimeter = area_and_perimeter(ring)
    to_grid = Transformer.from_crs("EPSG:4326", "EPSG:3059", always_xy=True)
    planar = shapely.Polygon([to_grid.transform(x, y) for x, y in ring])
    assert area == pytest.approx(planar.area, rel=2e-3)  # the grid's scale error is below 0.1 % here
    assert perimeter == pytest.approx(planar.length, rel=2e-3)
    assert area_and_perimeter(list(reversed(ring)))[0] == pytest.approx(area)  # clockwise too


def test_polygon_points_drop_the_closing_vertex():
    assert polygon_points(shapely.Polygon([(0, 0), (1, 0), (1, 1)])) == [(0, 0), (1, 0), (1, 1)]


def test_riga_in_lks92():
    x, y = to_lks92(56.9496, 24.1052)  # Rīga, Old Town: X (northing) ≈ 312 km, Y (easting) ≈ 506 km
    assert 300_000 < x < 320_000 and 500_000 < y < 510_000


def test_units_switch_and_speak_latvian():
    assert format_length(12.34) == "12.3 m" and format_length(1500) == "1.50 km"
    assert format_area(900) == "900 m²" and format_area(25_000) == "2.50 ha" and format_area(3e6) == "3.00 km²"
    with using("lv"):
        assert format_area(25_000) == "2,50 ha"
        assert grid_text(56.9496, 24.1052).startswith("LKS-92 X ")
