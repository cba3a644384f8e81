"""GeoJSON, GeoPackage and Shapefile (folder or .zip), read with pyogrio.

A Shapefile's text encoding is the one asked for, else its .cpg (or the .dbf's own language mark, which
GDAL reads), else detected from the .dbf's records (layers.importers.encoding) with a notice: without
this, GDAL reads a .dbf without .cpg as Latin-1 and Latvian letters come out garbled.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import shapely
import shapely.errors

from layers.errors import InputError
from layers.i18n import _
from layers.importers import encoding as text_encoding

VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")


def _gdal_path(path: Path) -> str:
    """The GDAL dataset name: shapefile folders and zips are read in place."""
    if path.suffix.lower() == ".zip":
        if not zipfile.is_zipfile(path):
            raise InputError(path, _("not a readable zip archive"))
        with zipfile.ZipFile(path) as zf:
            if not any(n.lower().endswith(".shp") for n in zf.namelist()):
                raise InputError(path, _("the zip archive holds no shapefile (.shp)"))
        return f"/vsizip/{path}"
    if path.is_dir():
        if not any(p.suffix.lower() == ".shp" for p in path.iterdir()):
            raise InputError(path, _("the folder holds no shapefile (.shp)"))
    return str(path)


def list_layers(path: str | Path) -> list[str]:
    """Names of the layers in a (multi-layer) vector file."""
    import pyogrio
    from pyogrio.errors import DataSourceError

    path = Path(path)
    try:
        return [str(name) for name, _geom in pyogrio.list_layers(_gdal_path(path))]
    except DataSourceError as exc:
        raise InputError(path, _("cannot be read as a GIS file: {e}").format(e=_short(exc))) from exc


def _short(exc: Exception) -> str:
    """GDAL's message without paths and driver jargon."""
    text = str(exc).splitlines()[0]
    if "not recognized as being in a supported file format" in text or "not recognised" in text:
        return _("the content is not a recognised GIS format; the file may be damaged or have the wrong extension")
    if "malformed" in text or "not a database" in text or "Unexpected end" in text or "truncated" in text.lower():
        return _("the file is damaged or incomplete (cut off while being copied?)")
    return text.split("; It might help", 1)[0][:200]


#: Features per batch when a file is read in batches.
BATCH_ROWS = 50_000


def _layer_of(path: Path, layer: str | None) -> str:
    """The layer to read: the one named, or the file's only one."""
    if not path.exists():
        raise InputError(path, _("no such file"))
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(path, _("the file is empty"))
    layers = list_layers(path)
    if not layers:
        raise InputError(path, _("the file holds no layers"))
    if layer is None:
        if len(layers) > 1:
            raise InputError(
                path, _("the file has several layers; choose one of: {layers}").format(layers=", ".join(layers))
            )
        return layers[0]
    if layer not in layers:
        raise InputError(
            path, _("no layer named '{layer}'; the file has: {layers}").format(layer=layer, layers=", ".join(layers))
        )
    return layer


def read(path: str | Path, layer: str | None = None, encoding: str | None = None):
    """A GeoDataFrame from a vector file; the layer must be named when there are several. ``encoding``: a
    Shapefile's text encoding (None: its .cpg, else detected)."""
    return next(read_batches(path, layer, batch_rows=0, encoding=encoding))


def _dbf_parts(path: Path, layer: str) -> tuple[bytes | None, bool]:
    """The Shapefile layer's .dbf bytes (None: not a Shapefile, or no .dbf), and whether a .cpg declares its
    encoding or the .dbf carries a language mark (GDAL then reads it right)."""
    def named(names, suffix):
        return next((n for n in names if Path(n).stem == layer and Path(n).suffix.lower() == suffix), None)

    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            dbf, cpg = named(names, ".dbf"), named(names, ".cpg")
            data = zf.read(dbf) if dbf else None
    elif path.is_dir() or path.suffix.lower() == ".shp":
        folder = path if path.is_dir() else path.parent
        names = [str(p.name) for p in folder.iterdir()]
        dbf, cpg = named(names, ".dbf"), named(names, ".cpg")
        data = (folder / dbf).read_bytes() if dbf else None
    else:
        return None, False
    declared = cpg is not None or (data is not None and len(data) > 29 and data[29] != 0)
    return data, declared


def _records(dbf: bytes) -> bytes:
    """The .dbf's records (the header is binary)."""
    start = int.from_bytes(dbf[8:10], "little") if len(dbf) >= 10 else len(dbf)
    return dbf[start:].rstrip(b"\x1a")


def text_encoding_of(path: Path, layer: str, encoding: str | None) -> tuple[str | None, list[str]]:
    """The encoding pyogrio should decode a Shapefile's text with (None: GDAL's own, from .cpg), and notices.
    Other formats declare UTF-8 and ignore ``encoding``."""
    try:
        dbf, declared = _dbf_parts(path, layer)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(path, _("cannot be read as a GIS file: {e}").format(e=exc)) from None
    if dbf is None:
        return None, []
    records = _records(dbf)
    if encoding:
        chosen = text_encoding.requested(path, encoding)
        error = text_encoding.first_error([records], chosen)
        if error is not None:
            raise text_encoding.not_readable(path, encoding, *error)
        return chosen, []
    if declared:
        return None, []
    found = text_encoding.detect(lambda: [records])
    if found is None:
        raise InputError(path, _("the Shapefile has no .cpg naming its text encoding, and its text is neither UTF-8 "
                                 "nor Windows-1257; give its encoding"))
    return found, [] if found == "utf-8" else [text_encoding.notice(path, found)]


def read_batches(path: str | Path, layer: str | None = None, batch_rows: int = BATCH_ROWS,
                 encoding: str | None = None):
    """``read`` a batch of features at a time (GeoDataFrames; row problems counted within each batch). The
    first batch carries the reading's notices in ``attrs["notices"]``. ``batch_rows`` 0: all at once."""
    path = Path(path)
    layer = _layer_of(path, layer)
    encoding, notices = text_encoding_of(path, layer, encoding)
    for frame in _batches(path, layer, batch_rows, encoding):
        frame.attrs["notices"], notices = notices, []
        yield frame


def _batches(path: Path, layer: str, batch_rows: int, encoding: str | None):
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    if not batch_rows:
        yield _read_part(path, layer, encoding=encoding)
        return
    try:
        total = pyogrio.read_info(_gdal_path(path), layer=layer)["features"]
    except (DataSourceError, DataLayerError, ValueError, RuntimeError, UnicodeDecodeError) as exc:
        raise InputError(path, _("cannot be read as a GIS file: {e}").format(e=_short(exc))) from exc
    if 0 <= total <= batch_rows:
        yield _read_part(path, layer, encoding=encoding)
        return
    skip = 0
    while True:
        frame = _read_part(path, layer, skip, batch_rows, encoding)
        if len(frame) or not skip:
            yield frame
        skip += len(frame)
        if len(frame) < batch_rows:
            return


def _read_part(path: Path, layer: str, skip: int = 0, count: int | None = None, encoding: str | None = None):
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        return pyogrio.read_dataframe(_gdal_path(path), layer=layer, skip_features=skip, max_features=count,
                                      encoding=encoding)
    except shapely.errors.GEOSException:
        return _read_repairing(path, layer, skip, count, encoding)  # e.g. an unclosed ring: GDAL reads it, GEOS will not
    except (DataSourceError, DataLayerError, ValueError, RuntimeError, UnicodeDecodeError) as exc:
        raise InputError(path, _("cannot be read as a GIS file: {e}").format(e=_short(exc))) from exc


def _read_repairing(path: Path, layer: str, skip: int = 0, count: int | None = None, encoding: str | None = None):
    """Read with geometries decoded one by one: unclosed rings are closed (counted in
    ``attrs["closed_rings"]``), a geometry that still cannot be decoded is a row problem."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    part = {"skip_features": skip, "max_features": count, "encoding": encoding}
    try:
        frame = pyogrio.read_dataframe(_gdal_path(path), layer=layer, read_geometry=False, **part)
        meta, _index, wkb, _fields = pyogrio.raw.read(_gdal_path(path), layer=layer, columns=[], **part)
    except (DataSourceError, DataLayerError, ValueError, RuntimeError) as exc:
        raise InputError(path, _("cannot be read as a GIS file: {e}").format(e=_short(exc))) from exc
    strict = shapely.from_wkb(wkb, on_invalid="ignore")
    fixed = shapely.from_wkb(wkb, on_invalid="fix")
    failed = shapely.is_missing(strict) & ~np.array([w is None for w in wkb], dtype=bool)
    closed = failed & ~shapely.is_missing(fixed)
    problems = {int(i): _("a geometry that cannot be read") for i in np.flatnonzero(failed & shapely.is_missing(fixed))}
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(fixed, index=frame.index), crs=meta.get("crs"))
    gdf.attrs["closed_rings"] = int(closed.sum())
    gdf.attrs["row_problems"] = problems
    return gdf
