"""CSV files with longitude/latitude columns."""
from __future__ import annotations

from pathlib import Path

from layers.errors import InputError
from layers.i18n import _

LONGITUDE_NAMES = ("longitude", "lon", "lng", "long", "x", "garums", "lon_wgs84", "x_coord")
LATITUDE_NAMES = ("latitude", "lat", "y", "platums", "lat_wgs84", "y_coord")


def _find(columns, names) -> str | None:
    folded = {str(c).strip().casefold(): c for c in columns}
    for name in names:
        if name in folded:
            return folded[name]
    return None


def coordinate_columns(columns) -> tuple[str | None, str | None]:
    return _find(columns, LONGITUDE_NAMES), _find(columns, LATITUDE_NAMES)


def read(path: str | Path, crs: str = "EPSG:4326"):
    """Points from a CSV; coordinates are in ``crs`` (WGS 84 lon/lat by default)."""
    import geopandas as gpd
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(path, _("no such file"))
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None, engine="python")
    except pd.errors.EmptyDataError:
        raise InputError(path, _("the file is empty")) from None
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise InputError(path, _("cannot be read as CSV ({e})").format(e=str(exc).splitlines()[0])) from None
    lon, lat = coordinate_columns(frame.columns)
    if lon is None or lat is None:
        raise InputError(
            path,
            _("no coordinate columns found; name them lon/lat, lng/lat, longitude/latitude or x/y"),
        )
    xs = pd.to_numeric(frame[lon].str.replace(",", ".", regex=False), errors="coerce")
    ys = pd.to_numeric(frame[lat].str.replace(",", ".", regex=False), errors="coerce")
    bad = xs.isna() | ys.isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0]) + 1
        raise InputError(
            path, _("{n} row(s) have missing or non-numeric coordinates (first: row {row})").format(
                n=int(bad.sum()), row=row)
        )
    attrs = frame.drop(columns=[lon, lat])
    return gpd.GeoDataFrame(attrs, geometry=gpd.points_from_xy(xs, ys), crs=crs)
