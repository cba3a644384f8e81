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


#: Rows per batch when a CSV is read in batches.
BATCH_ROWS = 50_000


def read(path: str | Path, crs: str = "EPSG:4326"):
    """Points from a CSV; coordinates are in ``crs`` (WGS 84 lon/lat by default).

    Rows whose coordinates are missing, not numbers, NaN or infinite get no geometry and a
    problem in ``attrs["row_problems"]`` ({row index: problem}); layers.features decides.
    """
    import pandas as pd

    frames = list(read_batches(path, crs))
    if len(frames) == 1:
        return frames[0]
    problems, offset = {}, 0
    for frame in frames:
        problems.update({offset + i: p for i, p in frame.attrs["row_problems"].items()})
        offset += len(frame)
    gdf = pd.concat(frames, ignore_index=True)
    gdf.attrs["row_problems"] = problems
    return gdf


def _check_text(path: Path) -> None:
    """Refuse a file that is empty, binary or not UTF-8, reading it a block at a time."""
    import codecs

    if not path.is_file():
        raise InputError(path, _("no such file"))
    if path.stat().st_size == 0:
        raise InputError(path, _("the file is empty"))
    decoder, offset, content = codecs.getincrementaldecoder("utf-8")(), 0, False
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            if offset == 0 and b"\x00" in block[:65536]:
                raise InputError(path, _("cannot be read as CSV: the file holds binary data, not text"))
            pending = len(decoder.getstate()[0])
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:  # exc.object: the bytes held back from the last block, then this one
                _not_utf8(path, exc.object[exc.start], offset - pending + exc.start)
            content = content or bool(text.lstrip("\ufeff").strip())
            offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        _not_utf8(path, exc.object[exc.start], offset - len(exc.object) + exc.start)
    if not content:
        raise InputError(path, _("the file is empty"))


def _not_utf8(path: Path, byte: int, pos: int):
    raise InputError(
        path, _("cannot be read as CSV: it is not UTF-8 text (byte 0x{byte:02X} at position {pos}); "
                "save it as \"CSV UTF-8\" and try again").format(byte=byte, pos=pos)
    ) from None


def _delimiter(path: Path) -> str | None:
    """The delimiter pandas' python engine would sniff from the first line (None: it cannot tell)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        line = fh.readline()
    try:
        return csv_module.Sniffer().sniff(line).delimiter
    except csv_module.Error:
        return None


def _whole(path: Path):
    """The file read at once by pandas' python engine (the reference reading, and its messages)."""
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=None, engine="python")
    except pd.errors.EmptyDataError:
        raise InputError(path, _("the file is empty")) from None
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, csv_module.Error) as exc:
        raise InputError(path, _("cannot be read as CSV ({e})").format(e=str(exc).splitlines()[0])) from None


def _chunks(path: Path, batch_rows: int):
    """The file's records as DataFrames of text, ``batch_rows`` at a time (pandas' C parser with the
    delimiter the python engine would sniff); a file it cannot parse is read by ``_whole`` for its message."""
    import pandas as pd

    sep = _delimiter(path)
    csv_module.field_size_limit(max(csv_module.field_size_limit(), 64 * 1024 * 1024))  # long notes are fine
    if sep is None:
        yield _whole(path)
        return
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=sep, engine="c",
                             chunksize=batch_rows)
        header = True
        for chunk in reader:
            header = False
            yield chunk
        if header:  # only a header row: pandas yields nothing, so read it for the columns
            yield pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=sep, nrows=0)
    except pd.errors.EmptyDataError:
        raise InputError(path, _("the file is empty")) from None
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, csv_module.Error) as exc:
        _whole(path)  # raises the reference message
        raise InputError(path, _("cannot be read as CSV ({e})").format(e=str(exc).splitlines()[0])) from None


def read_batches(path: str | Path, crs: str = "EPSG:4326", batch_rows: int = BATCH_ROWS):
    """``read`` a batch of rows at a time (GeoDataFrames; row problems counted within each batch)."""
    path = Path(path)
    _check_text(path)
    columns = None
    for frame in _chunks(path, batch_rows):
        if columns is None:
            columns = coordinate_columns(frame.columns)
            if columns[0] is None or columns[1] is None:
                raise InputError(
                    path, _("no coordinate columns found; name them lon/lat, lng/lat, longitude/latitude or x/y"))
            if len(frame) == 0:
                raise InputError(path, _("the file holds no features (only a header row)"))
        yield _points(frame, *columns, crs)


def _points(frame, lon: str, lat: str, crs: str):
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
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geometry, crs=crs), crs=crs)
    gdf.attrs["row_problems"] = problems
    return gdf
