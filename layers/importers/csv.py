"""CSV files with longitude/latitude columns."""
from __future__ import annotations

import csv as csv_module
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
    """Points from a CSV; coordinates are in ``crs`` (WGS 84 lon/lat by default).

    Rows whose coordinates are missing, not numbers, NaN or infinite get no geometry and a
    problem in ``attrs["row_problems"]`` ({row index: problem}); layers.features decides.
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(path, _("no such file"))
    if path.stat().st_size == 0:
        raise InputError(path, _("the file is empty"))
    raw = path.read_bytes()
    if b"\x00" in raw[:65536]:
        raise InputError(path, _("cannot be read as CSV: the file holds binary data, not text"))
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            path, _("cannot be read as CSV: it is not UTF-8 text (byte 0x{byte:02X} at position {pos}); "
                    "save it as \"CSV UTF-8\" and try again").format(byte=raw[exc.start], pos=exc.start)
        ) from None
    if not raw.decode("utf-8-sig").strip():
        raise InputError(path, _("the file is empty"))
    csv_module.field_size_limit(max(csv_module.field_size_limit(), 64 * 1024 * 1024))  # long notes are fine
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None, engine="python")
    except pd.errors.EmptyDataError:
        raise InputError(path, _("the file is empty")) from None
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, csv_module.Error) as exc:
        raise InputError(path, _("cannot be read as CSV ({e})").format(e=str(exc).splitlines()[0])) from None
    lon, lat = coordinate_columns(frame.columns)
    if lon is None or lat is None:
        raise InputError(
            path,
            _("no coordinate columns found; name them lon/lat, lng/lat, longitude/latitude or x/y"),
        )
    if len(frame) == 0:
        raise InputError(path, _("the file holds no features (only a header row)"))
    xs = pd.to_numeric(frame[lon].str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(frame[lat].str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
    missing = (frame[lon].str.strip() == "") | (frame[lat].str.strip() == "")
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    problems = {}
    for i in np.flatnonzero(bad):
        problems[int(i)] = (_("missing coordinates") if missing.iloc[i]
                            else _("coordinates that are not numbers ({x}, {y})").format(
                                x=frame[lon].iloc[i][:30], y=frame[lat].iloc[i][:30]))
    attrs = frame.drop(columns=[lon, lat])
    points = gpd.points_from_xy(np.where(bad, 0.0, xs), np.where(bad, 0.0, ys))
    geometry = np.asarray(points, dtype=object)
    geometry[bad] = None
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geometry, crs=crs), crs=crs)
    gdf.attrs["row_problems"] = problems
    return gdf
