"""Risk-group estimates: how many people of a group are in an area (aggregates only)."""
from __future__ import annotations

from audit.commands import InsertRow
from layers import gpkg_geometry
from layers.catalogue import kind as get_kind
from layers.i18n import _
from layers.values import coerce

TABLE = "risk_group_estimates"
BREAKDOWNS = (("female", "male"), ("age_0_17", "age_18_24", "age_25_49", "age_50_plus"))


def estimate_values(fields: dict) -> dict:
    """Checked field values; the sex and age breakdowns may not exceed the total."""
    k = get_kind(TABLE)
    row = {f.name: coerce(f, fields.get(f.name)) for f in k.fields}
    for parts in BREAKDOWNS:
        given = [row[p] for p in parts if row[p] is not None]
        if given and sum(given) > row["estimate"]:
            raise ValueError(_("the breakdown {parts} adds up to {n}, more than the estimate {total}").format(
                parts=" + ".join(parts), n=sum(given), total=row["estimate"]))
    return row


def record_estimate(geometry, fields: dict) -> InsertRow:
    """A command recording an estimate for a drawn polygon or a risk area's shape."""
    import shapely

    from layers.features import normalise_one

    if geometry is None or geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(_("an estimate needs an area (a polygon)"))
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    geometry = normalise_one(geometry)
    if geometry.is_empty:
        raise ValueError(_("the area is empty"))
    row = estimate_values(fields)
    row["geom"] = gpkg_geometry.encode([geometry])[0]
    return InsertRow(TABLE, row, label=_("Record risk-group estimate"))


def densities(frame):
    """Estimated people per km² of each estimate area (areas measured in a local metric CRS)."""
    if len(frame) == 0:
        return frame.assign(area_km2=[], density=[])
    metric = frame.to_crs(frame.estimate_utm_crs())
    area_km2 = metric.geometry.area / 1e6
    return frame.assign(area_km2=area_km2.values, density=(frame["estimate"].astype(float) / area_km2).values)


def class_breaks(values, classes: int = 5) -> list[float]:
    """Quantile class breaks (upper bounds), deduplicated; at least one class."""
    import numpy as np

    values = np.asarray([v for v in values if v == v], dtype=float)
    if len(values) == 0:
        return []
    classes = max(1, min(classes, len(values)))
    qs = np.quantile(values, np.linspace(0, 1, classes + 1)[1:])
    digits = 0 if values.max() >= 10 else 1
    return sorted({float(np.ceil(q * 10**digits) / 10**digits) for q in qs})
