"""Risk-group estimates: how many people of a group are in an area (aggregates only)."""
from __future__ import annotations

import json
import math

from audit.commands import InsertRow
from audit.rounds import InsertInRound
from layers import gpkg_geometry
from layers.catalogue import kind as get_kind
from layers.crs import metric_crs
from layers.i18n import _
from layers.values import coerce

TABLE = "risk_group_estimates"
BREAKDOWNS = (("female", "male"), ("age_0_17", "age_18_24", "age_25_49", "age_50_plus"))


ORIGIN_FIELD = "origin_breakdown"


def origin_breakdown(value) -> dict[str, int]:
    """The ethnic or national-origin breakdown as {origin: number of people} (empty when not given).

    Accepts a dict, its JSON text, or "origin: n; origin: n" as typed in a form. Numbers are whole
    and not negative; origins are named (the guidelines ask for estimates by sex, age and ethnic
    origin, chapter 3) — aggregates only, never a person.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {}
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            value = {}
            for part in text.replace("\n", ";").split(";"):
                if not part.strip():
                    continue
                name, sep, n = part.rpartition(":") if ":" in part else part.rpartition(" ")
                if not sep or not name.strip():
                    raise ValueError(_("write the origin breakdown as 'origin: number; origin: number'"))
                value[name.strip()] = n.strip()
    if not isinstance(value, dict):
        raise ValueError(_("write the origin breakdown as 'origin: number; origin: number'"))
    out: dict[str, int] = {}
    for name, n in value.items():
        name = str(name).strip()
        try:
            number = float(n)
        except (TypeError, ValueError):
            raise ValueError(_("{origin}: {n!r} is not a number").format(origin=name, n=n)) from None
        if not name or number < 0 or number != int(number):
            raise ValueError(_("{origin}: the number of people must be a whole number, not negative").format(
                origin=name or "?"))
        out[name] = out.get(name, 0) + int(number)
    return out


def format_origin_breakdown(value) -> str:
    """"origin: n; origin: n" for forms and reports ("" when there is none)."""
    return "; ".join(f"{k}: {v}" for k, v in origin_breakdown(value).items())


def estimate_values(fields: dict) -> dict:
    """Checked field values; the sex, age and origin breakdowns may not exceed the total."""
    k = get_kind(TABLE)
    row = {f.name: coerce(f, fields.get(f.name)) for f in k.fields if f.name != ORIGIN_FIELD}
    if ORIGIN_FIELD in k.field_names:
        origins = origin_breakdown(fields.get(ORIGIN_FIELD))
        row[ORIGIN_FIELD] = json.dumps(origins, ensure_ascii=False, sort_keys=True) if origins else None
        if origins and sum(origins.values()) > row["estimate"]:
            raise ValueError(_("the origin breakdown adds up to {n}, more than the estimate {total}").format(
                n=sum(origins.values()), total=row["estimate"]))
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
    return InsertInRound(TABLE, row, label=_("Record risk-group estimate"), date_field="estimated_on")


def densities(frame):
    """Estimated people per km² of each estimate area (areas measured in a local metric CRS)."""
    if len(frame) == 0:
        return frame.assign(area_km2=[], density=[])
    metric = frame.to_crs(metric_crs(frame))
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
