"""Print maps draw basemap areas as one compound path: every ring of every polygon, holes and all."""
import shapely
from matplotlib.path import Path

from mapping.print_style import area_path


def test_every_ring_becomes_one_closed_subpath():
    square = shapely.box(0, 0, 10, 10)
    holed = shapely.Polygon([(20, 0), (30, 0), (30, 10), (20, 10)], [[(22, 2), (24, 2), (24, 4), (22, 4)]])
    multi = shapely.MultiPolygon([shapely.box(40, 0, 41, 1), shapely.box(50, 0, 51, 1)])
    path = area_path(shapely.from_wkt([square.wkt, holed.wkt, multi.wkt, None, "LINESTRING (0 0, 1 1)"]))
    assert list(path.codes).count(Path.MOVETO) == 5 and list(path.codes).count(Path.CLOSEPOLY) == 5
    assert path.contains_point((5, 5)) and path.contains_point((40.5, 0.5)) and not path.contains_point((35, 5))
    assert path.get_extents().bounds == (0.0, 0.0, 51.0, 10.0)


def test_no_polygons_no_path():
    assert area_path(shapely.from_wkt(["LINESTRING (0 0, 1 1)"])) is None
