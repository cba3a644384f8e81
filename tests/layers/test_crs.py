"""Latvia is measured in LKS-92, so two municipalities' grids, distances and counts agree."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from layers import hexgrid
from layers.crs import LKS92, metric_crs, metric_crs_for

RIGA = (24.1052, 56.9496)  # the city centre
JURMALA = (23.7703, 56.9680)  # Majori, ~20 km west, in the neighbouring UTM zone
HELSINKI = (24.9384, 60.1699)


def points(*lonlats):
    return gpd.GeoSeries([shapely.Point(p) for p in lonlats], crs=4326)


def test_riga_and_jurmala_share_one_grid_where_utm_would_split_them():
    riga, jurmala = points(RIGA), points(JURMALA)
    # positive control: UTM puts the two neighbours in different zones (34N and 35N)
    assert riga.estimate_utm_crs() != jurmala.estimate_utm_crs()
    assert metric_crs(riga) == metric_crs(jurmala) == LKS92

    # a point on their border is in the same 500 m hexagon whichever municipality's export counts it
    border = points((23.95, 56.96))
    cells = [hexgrid.axial(*border.to_crs(metric_crs(town)).iloc[0].xy, 500) for town in (riga, jurmala)]
    assert cells[0] == cells[1]
    # ... where each town's own UTM zone would put it in cells that do not match
    utm = [hexgrid.axial(*border.to_crs(town.estimate_utm_crs()).iloc[0].xy, 500) for town in (riga, jurmala)]
    assert utm[0] != utm[1]


def test_outside_latvia_the_local_utm_zone_is_used():
    helsinki = points(HELSINKI)
    assert metric_crs(helsinki) == helsinki.estimate_utm_crs() != LKS92
    assert metric_crs_for(None) == LKS92  # nothing to place: Lantern's home grid
    both = points(RIGA, HELSINKI)  # a box reaching out of Latvia is not measured in LKS-92
    assert metric_crs(both) != LKS92


def test_distances_in_lks92_match_the_ellipsoid():
    from pyproj import Geod

    pair = points(RIGA, JURMALA).to_crs(LKS92)
    flat = float(pair.iloc[0].distance(pair.iloc[1]))
    _, _, geodesic = Geod(ellps="GRS80").inv(*RIGA, *JURMALA)
    assert abs(flat - geodesic) / geodesic < 0.001  # Latvia TM's scale error is well under 0.1 % here
    assert np.isfinite(flat)
