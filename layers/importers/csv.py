"""CSV files with longitude/latitude columns, or x/y in another coordinate system (``crs``, e.g. EPSG:3059).

The text encoding is the one asked for, else detected (layers.importers.encoding). Points are returned in
EPSG:4326. x/y columns that look like LKS-92 metres, with no ``crs`` given, are refused with the remedy.
"""
from __future__ import annotations

import csv as csv_module
from pathlib import Path

from layers.errors import InputError
from layers.i18n import _
from layers.importers import encoding as text_encoding

LONGITUDE_NAMES = ("longitude", "lon", "lng", "long", "x", "garums", "lon_wgs84", "x_coord", "easting")
LATITUDE_NAMES = ("latitude", "lat", "y", "platums", "lat_wgs84", "y_coord", "northing")
#: LKS-92 / Latvia TM (EPSG:3059) over Latvia: eastings, northings in metres
LKS92_EASTINGS = (300_000, 770_000)
LKS92_NORTHINGS = (160_000, 450_000)


def _find(columns, names) -> str | None:
    folded = {str(c).strip().casefold(): c for c in columns}
    for name in names:
        if name in folded:
            return folded[name]
    return None


def coordinate_columns(columns) -> tuple[str | None, str | None]:
    return _find(columns, LONGITUDE_NAMES), _find(columns, LATITUDE_NAMES)


#: Rows per batch when a CSV is read in batches.
BATCH_ROWS = 50_000


def read(path: str | Path, crs: str | None = None, encoding: str | None = None):
    """Points (EPSG:4326) from a CSV whose coordinates are in ``crs`` (None: WGS 84 lon/lat), in ``encoding``
    (None: detected).

    Rows whose coordinates are missing, not numbers, NaN or infinite get no geometry and a
    problem in ``attrs["row_problems"]`` ({row index: problem}); layers.features decides.
    """
    import pandas as pd

    frames = list(read_batches(path, crs, encoding=encoding))
    if len(frames) == 1:
        return frames[0]
    problems, offset = {}, 0
    for frame in frames:
        problems.update({offset + i: p for i, p in frame.attrs["row_problems"].items()})
        offset += len(frame)
    gdf = pd.concat(frames, ignore_index=True)
    gdf.attrs["row_problems"] = problems
    gdf.attrs["notices"] = frames[0].attrs.get("notices", [])
    return gdf


def _blocks(path: Path):
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            yield block


def _check_text(path: Path, encoding: str | None = None) -> tuple[str, list[str]]:
    """The encoding to read the file with, and the notices; refuse a file that is empty, binary, or not text
    in ``encoding`` (None: UTF-8, or detected Windows-1257), reading it a block at a time."""
    if not path.is_file():
        raise InputError(path, _("no such file"))
    if path.stat().st_size == 0:
        raise InputError(path, _("the file is empty"))
    with open(path, "rb") as fh:
        if b"\x00" in fh.read(65536):
            raise InputError(path, _("cannot be read as CSV: the file holds binary data, not text"))
    chosen, notices = (text_encoding.requested(path, encoding) if encoding else "utf-8"), []
    error = text_encoding.first_error(_blocks(path), chosen)
    if error is not None and encoding:
        raise text_encoding.not_readable(path, encoding, *error)
    if error is not None:
        if not text_encoding.looks_baltic(_blocks(path)):
            _not_utf8(path, *error)
        chosen, notices = text_encoding.BALTIC, [text_encoding.notice(path, text_encoding.BALTIC)]
    chosen = "utf-8-sig" if chosen == "utf-8" else chosen
    if not any(block.decode(chosen, errors="replace").lstrip("\ufeff").strip() for block in _blocks(path)):
        raise InputError(path, _("the file is empty"))
    return chosen, notices


def _not_utf8(path: Path, byte: int, pos: int):
    """Refuse a file that is not UTF-8; when its bytes are text in Windows-1257, naming an encoding may help."""
    if text_encoding.first_error(_blocks(path), text_encoding.BALTIC) is None:
        problem = _("cannot be read as CSV: it is not UTF-8 text (byte 0x{byte:02X} at position {pos}); save it as "
                    "\"CSV UTF-8\", or give its encoding (e.g. cp1257), and try again")
    else:
        problem = _("cannot be read as CSV: it is not UTF-8 text (byte 0x{byte:02X} at position {pos}); save it as "
                    "\"CSV UTF-8\" and try again")
    raise InputError(path, problem.format(byte=byte, pos=pos)) from None


def _delimiter(path: Path, encoding: str) -> str | None:
    """The delimiter pandas' python engine would sniff from the first line (None: it cannot tell)."""
    with open(path, encoding=encoding, newline="") as fh:
        line = fh.readline()
    try:
        return csv_module.Sniffer().sniff(line).delimiter
    except csv_module.Error:
        return None


def _whole(path: Path, encoding: str):
    """The file read at once by pandas' python engine (the reference reading, and its messages)."""
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, sep=None, engine="python")
    except pd.errors.EmptyDataError:
        raise InputError(path, _("the file is empty")) from None
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, csv_module.Error) as exc:
        raise InputError(path, _("cannot be read as CSV ({e})").format(e=str(exc).splitlines()[0])) from None


def _chunks(path: Path, batch_rows: int, encoding: str):
    """The file's records as DataFrames of text, ``batch_rows`` at a time (pandas' C parser with the
    delimiter the python engine would sniff); a file it cannot parse is read by ``_whole`` for its message."""
    import pandas as pd

    sep = _delimiter(path, encoding)
    csv_module.field_size_limit(max(csv_module.field_size_limit(), 64 * 1024 * 1024))  # long notes are fine
    if sep is None:
        yield _whole(path, encoding)
        return
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, sep=sep, engine="c",
                             chunksize=batch_rows)
        header = True
        for chunk in reader:
            header = False
            yield chunk
        if header:  # only a header row: pandas yields nothing, so read it for the columns
            yield pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, sep=sep, nrows=0)
    except pd.errors.EmptyDataError:
        raise InputError(path, _("the file is empty")) from None
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, csv_module.Error) as exc:
        _whole(path, encoding)  # raises the reference message
        raise InputError(path, _("cannot be read as CSV ({e})").format(e=str(exc).splitlines()[0])) from None


def read_batches(path: str | Path, crs: str | None = None, batch_rows: int = BATCH_ROWS,
                 encoding: str | None = None):
    """``read`` a batch of rows at a time (GeoDataFrames; row problems counted within each batch). The first
    batch carries the reading's notices in ``attrs["notices"]`` (an encoding that was detected)."""
    path = Path(path)
    source_crs = _source_crs(path, crs)
    encoding, notices = _check_text(path, encoding)
    columns, swap = None, False
    for frame in _chunks(path, batch_rows, encoding):
        if columns is None:
            columns = coordinate_columns(frame.columns)
            if columns[0] is None or columns[1] is None:
                raise InputError(
                    path, _("no coordinate columns found; name them lon/lat, lng/lat, longitude/latitude or x/y"))
            if len(frame) == 0:
                raise InputError(path, _("the file holds no features (only a header row)"))
            if source_crs is not None and _axes_swapped(_points(frame, *columns, source_crs), source_crs):
                swap = True
                notices.append(_("{name}: the {x} column holds northings and the {y} column eastings (as surveyors "
                                 "in Latvia write X and Y); they were read that way round").format(
                                     name=path.name, x=columns[0], y=columns[1]))
        points = _points(frame, *(columns[::-1] if swap else columns), source_crs)
        if source_crs is None:
            _refuse_lks92(path, points)
        else:
            points = points.to_crs("EPSG:4326")
        points.attrs["notices"], notices = notices, []
        yield points


def _source_crs(path: Path, crs: str | None):
    """The pyproj CRS asked for (None: lon/lat); an unknown one is refused, naming the file."""
    if crs is None or not str(crs).strip():
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(str(crs).strip())
    except CRSError:
        raise InputError(path, _("unknown coordinate system '{crs}'; give one such as EPSG:3059 (LKS-92) or "
                                 "EPSG:4326 (longitude/latitude)").format(crs=crs)) from None


def _inside_fraction(points, bounds) -> float:
    """The share of ``points`` (any CRS) inside a W, S, E, N box in degrees."""
    lonlat = points.to_crs("EPSG:4326").geometry
    w, s, e, n = bounds
    return float(((lonlat.x >= w) & (lonlat.x <= e) & (lonlat.y >= s) & (lonlat.y <= n)).mean())


def _axes_swapped(points, source_crs) -> bool:
    """Whether the x/y columns hold the coordinates the other way round: as given, at most half the points
    fall inside the coordinate system's area of use (pyproj), swapped, 9 in 10 do. Latvian surveyors write X
    for the northing of LKS-92; a file with x = northing would otherwise land in the sea, far from Latvia."""
    import geopandas as gpd

    area = source_crs.area_of_use
    present = points[points.geometry.notna()]
    if area is None or not len(present) or not source_crs.is_projected:
        return False
    bounds = (area.west, area.south, area.east, area.north)
    swapped = gpd.GeoDataFrame(geometry=gpd.points_from_xy(present.geometry.y, present.geometry.x), crs=present.crs)
    return _inside_fraction(present, bounds) <= 0.5 and _inside_fraction(swapped, bounds) >= 0.9


def _refuse_lks92(path: Path, points) -> None:
    """Refuse points whose x/y are plainly LKS-92 metres read as longitude/latitude: say how to import them."""
    import numpy as np

    geoms = points.geometry[points.geometry.notna()]
    if not len(geoms):
        return
    xs, ys = geoms.x.to_numpy(), geoms.y.to_numpy()

    def inside(values, bounds):
        return (values >= bounds[0]) & (values <= bounds[1])

    lks = (inside(xs, LKS92_EASTINGS) & inside(ys, LKS92_NORTHINGS)) | (
        inside(xs, LKS92_NORTHINGS) & inside(ys, LKS92_EASTINGS))
    if np.mean(lks) >= 0.9:
        raise InputError(path, _("the x/y columns look like LKS-92 (EPSG:3059) metres, not longitude/latitude: "
                                 "is the CRS right? Import with the coordinate system EPSG:3059 (--crs EPSG:3059)"))


def _points(frame, lon: str, lat: str, crs=None):
    """The records as points; rows without usable coordinates get none, and a problem."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    frame = frame.reset_index(drop=True)
    xs = pd.to_numeric(frame[lon].str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(frame[lat].str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    problems = {}
    for i in np.flatnonzero(bad):
        x, y = frame[lon].iloc[i], frame[lat].iloc[i]
        x, y = ("" if not isinstance(x, str) else x), ("" if not isinstance(y, str) else y)
        problems[int(i)] = (_("missing coordinates") if not x.strip() or not y.strip()
                            else _("coordinates that are not numbers ({x}, {y})").format(x=x[:30], y=y[:30]))
    attrs = frame.drop(columns=[lon, lat])
    geometry = np.asarray(gpd.points_from_xy(np.where(bad, 0.0, xs), np.where(bad, 0.0, ys)), dtype=object)
    geometry[bad] = None
    crs = "EPSG:4326" if crs is None else crs
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geometry, crs=crs), crs=crs)
    gdf.attrs["row_problems"] = problems
    return gdf
