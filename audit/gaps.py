"""Service gaps: risk areas and risk-surface cells with no suitable service within a distance."""
from __future__ import annotations

import numpy as np

from layers.crs import metric_crs
from layers.i18n import _
from layers.values import stored_ids

#: The one service-gap distance (metres): the GUI's Service gaps, ``lantern gaps`` and the report's gap map.
GAP_DISTANCE = 500


def _offers(value, assistance: str | None) -> bool:
    if assistance is None:
        return True
    return assistance in stored_ids(value)


def _serves_form(value, form: str | None) -> bool:
    if form is None:
        return True
    ids = stored_ids(value)
    return not ids or form in ids


def cell_names(cells, streets=None) -> list[str]:
    """Names a reader can find on a map for risk-surface cells: "near <the nearest named street>" when
    ``streets`` (named lines, e.g. the basemap's roads) are given, else the cell centre's latitude and longitude."""
    centres = cells.geometry.centroid if cells.crs is None or cells.crs.is_projected else \
        cells.geometry.to_crs(metric_crs(cells)).centroid
    if streets is not None and "name" in streets.columns:
        named = streets[streets["name"].notna() & (streets["name"].astype(str).str.strip() != "")]
        named = named[named.geometry.notna()]
        if len(named):
            import shapely

            lines = named.geometry.to_crs(centres.crs).values
            nearest = shapely.STRtree(lines).query_nearest(centres.values, all_matches=False)
            names = {int(i): str(named["name"].iloc[int(j)]) for i, j in zip(*nearest)}
            return [_("near {street}").format(street=names[i]) for i in range(len(centres))]
    points = centres.to_crs(4326)
    return [_("at {lat:.4f}° N, {lon:.4f}° E").format(lat=p.y, lon=p.x) for p in points]


def service_gaps(services, areas, cells, distance_m: float = GAP_DISTANCE, assistance: str | None = None,
                 form: str | None = None, streets=None):
    """A GeoDataFrame (EPSG:4326) of areas and cells whose nearest suitable service is farther than ``distance_m``.

    ``areas``: risk areas; ``cells``: risk-surface cells (with 'risk'); both EPSG:4326 or metric GeoDataFrames.
    Distance is from the area's boundary (0 inside) to the service's position. Cells are named by
    ``cell_names`` (the nearest of ``streets``, or a position), never by an internal id.
    """
    import geopandas as gpd

    pieces = []
    if areas is not None and len(areas):
        pieces.append(gpd.GeoDataFrame({"what": _("risk area"), "name": areas["name"].values, "risk": np.nan},
                                       geometry=areas.geometry.to_crs(4326).values, crs=4326))
    if cells is not None and len(cells):
        cells = cells[cells["risk"] > 0]
        pieces.append(gpd.GeoDataFrame({"what": _("risk cell"), "name": cell_names(cells, streets),
                                        "risk": cells["risk"].values}, geometry=cells.geometry.to_crs(4326).values,
                                       crs=4326))
    if not pieces:
        return gpd.GeoDataFrame({"what": [], "name": [], "risk": [], "nearest_m": []}, geometry=[], crs=4326)
    targets = gpd.GeoDataFrame(__import__("pandas").concat(pieces, ignore_index=True), crs=4326)
    metric = metric_crs(targets)
    suitable = services[services.geometry.notna()]
    suitable = suitable[[_offers(a, assistance) and _serves_form(f, form)
                         for a, f in zip(suitable["assistance"], suitable["serves_forms"])]]
    geoms = targets.to_crs(metric).geometry
    if len(suitable):
        points = suitable.geometry.representative_point().to_crs(metric)
        tree_geoms = points.values
        import shapely

        tree = shapely.STRtree(tree_geoms)
        nearest = tree.query_nearest(geoms.values, return_distance=True, all_matches=False)
        dist = np.full(len(targets), np.inf)
        dist[nearest[0][0]] = nearest[1]
    else:
        dist = np.full(len(targets), np.inf)
    targets["nearest_m"] = np.round(dist, 0)
    return targets[targets["nearest_m"] > distance_m].reset_index(drop=True)
