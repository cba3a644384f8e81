"""An offline district map for phones: the workspace's basemap as raster MBTiles, an ODK Collect offline layer.

Raster, not vector: ODK Collect shows vector (pbf) MBTiles only with its Mapbox engine, and then unstyled, each
layer in a colour the app picks; its documentation says "In general, you should build raster (.jpg or .png)
MBTiles files" (docs.getodk.org, *Using Offline Maps*).

Only the layers named in ``BASEMAP_KINDS`` are read (an allow-list: a new layer kind is never drawn just because
nobody listed it as sensitive), in the app's own styles (``data/layer_kinds.json``), with no labels: no reported
case, place, annotation or name can reach the file. Each zoom is drawn with matplotlib (Agg) in blocks of
``BLOCK`` × ``BLOCK`` tiles, which are then cut into 256-pixel tiles (Web Mercator, XYZ), encoded as PNG and
stored with TMS rows (``layers.mbtiles``). The file is built beside its destination and moved into place only
when complete (``layers.output.staged_files``).
"""
from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from layers.catalogue import kind as get_kind
from layers.errors import LanternError
from layers.i18n import _

#: the only layers drawn, bottom to top (an allow-list; each must be a basemap kind of the catalogue)
BASEMAP_KINDS = ("basemap_water", "basemap_buildings", "basemap_roads", "basemap_railways")
TILE = 256
BLOCK = 8  # tiles a side drawn at once: 2,048 px images, few enough draws, little memory
#: the map page's own background (mapping/static/lantern_map.css)
BACKGROUND = "#e6e8eb"
#: a walking team's zooms: 13 shows a district, 17 a street's house entrances
DEFAULT_MIN_ZOOM, DEFAULT_MAX_ZOOM = 13, 17
LOWEST_ZOOM, HIGHEST_ZOOM = 10, 19
#: line widths grow beyond the app's zooms (its weights suit zooms 13–15): at 17 a street of 3 px is a hairline
WIDTH_SCALE = {16: 1.5, 17: 2.0, 18: 3.0, 19: 4.0}
#: refuse a map of more tiles than this (zoom 19 of a city: millions of tiles, gigabytes)
MAX_TILES = 250_000
EARTH = 6378137.0
WORLD = 2 * math.pi * EARTH  # metres around the Web Mercator world

Progress = Callable[[int, int], None]


class Cancelled(LanternError):
    """Writing the field map was cancelled; nothing was written."""


@dataclass
class FieldMapReport:
    """What was written: tiles and bytes of tile data per zoom, and the time taken."""

    path: Path
    tiles: dict[int, int] = field(default_factory=dict)
    bytes: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    zoom_seconds: dict[int, float] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes.values())


# -- Web Mercator tiles ---------------------------------------------------------------------------

def mercator(lon: float, lat: float) -> tuple[float, float]:
    lat = max(min(lat, 85.0511), -85.0511)
    return math.radians(lon) * EARTH, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * EARTH


def tile_range(extent: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """XYZ tiles (x0, y0, x1, y1, inclusive) covering ``extent`` (W, S, E, N in degrees) at zoom ``z``."""
    n = 1 << z
    (x0, y0), (x1, y1) = mercator(extent[0], extent[3]), mercator(extent[2], extent[1])

    def col(x):
        return min(max(int((x + WORLD / 2) / WORLD * n), 0), n - 1)

    def row(y):
        return min(max(int((WORLD / 2 - y) / WORLD * n), 0), n - 1)

    return col(x0), row(y0), col(x1), row(y1)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Web Mercator (minx, miny, maxx, maxy) of XYZ tile ``z/x/y``."""
    size = WORLD / (1 << z)
    return -WORLD / 2 + x * size, WORLD / 2 - (y + 1) * size, -WORLD / 2 + (x + 1) * size, WORLD / 2 - y * size


def tile_counts(extent, min_zoom: int, max_zoom: int) -> dict[int, int]:
    """Tiles per zoom of a map of ``extent``: what a dialog can show before anything is drawn."""
    counts = {}
    for z in range(min_zoom, max_zoom + 1):
        x0, y0, x1, y1 = tile_range(extent, z)
        counts[z] = (x1 - x0 + 1) * (y1 - y0 + 1)
    return counts


def basemap_extent(workspace) -> tuple[float, float, float, float] | None:
    """W, S, E, N of the basemap layers alone (never of the cases or places)."""
    return workspace.bounds(BASEMAP_KINDS)


# -- the layers, in Web Mercator ----------------------------------------------------------------

@dataclass
class _Layer:
    kind_id: str
    geoms: np.ndarray  # shapely geometries in EPSG:3857
    classes: np.ndarray  # the style's classifying value per geometry (None where unclassified)
    tree: object  # shapely STRtree of geoms


def _allowed_kinds() -> tuple[str, ...]:
    for kind_id in BASEMAP_KINDS:
        if not get_kind(kind_id).is_basemap:  # the allow-list may only ever name basemap layers
            raise ValueError(f"{kind_id} is not a basemap layer")
    return BASEMAP_KINDS


def _read_layers(workspace) -> list[_Layer]:
    import shapely

    layers = []
    for kind_id in _allowed_kinds():
        frame = workspace.read_layer(kind_id)
        frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
        if not len(frame):
            continue
        geoms = np.asarray(frame.to_crs(3857).geometry.values, dtype=object)
        column = get_kind(kind_id).style.classify
        classes = frame[column].to_numpy(dtype=object) if column else np.full(len(frame), None, dtype=object)
        layers.append(_Layer(kind_id, geoms, classes, shapely.STRtree(geoms)))
    return layers


# -- drawing ------------------------------------------------------------------------------------

def _line_styles(kind_id: str, z: int) -> list[tuple[object, dict]]:
    """(class value or None for every other class, style) of a line layer, thinnest first, so wide roads
    are drawn over narrow ones; classes the app leaves out at zoom ``z`` (``layers.tiles``) are left out."""
    from layers.tiles import left_out

    style = get_kind(kind_id).style
    base = {"color": style.color, "weight": style.weight, "dash": style.dash}
    skipped = set(left_out(kind_id, z))
    entries = [(None, base)]
    entries += [(c, {**base, **s}) for c, s in (style.classes or {}).items() if c not in skipped]
    return sorted(entries, key=lambda e: e[1]["weight"])


def _linestyle(dash: str | None, width: float):
    """A Leaflet dash array (pixels) as a matplotlib dash pattern (matplotlib scales dashes by the width)."""
    if not dash or dash == "none":
        return "solid"
    return 0, tuple(float(v) / max(width, 0.1) for v in dash.replace(",", " ").split())


def _line_segments(geoms) -> list[np.ndarray]:
    import shapely

    parts = shapely.get_parts(geoms)
    parts = parts[np.isin(shapely.get_type_id(parts), (1, 2))]  # LineString, LinearRing
    if not len(parts):
        return []
    coords, index = shapely.get_coordinates(parts, return_index=True)
    return np.split(coords, np.flatnonzero(np.diff(index)) + 1)


def _draw_lines(ax, layer: _Layer, picked: np.ndarray, z: int) -> None:
    from matplotlib.collections import LineCollection

    styles = _line_styles(layer.kind_id, z)
    every_class = set((get_kind(layer.kind_id).style.classes or {}))
    scale = WIDTH_SCALE.get(z, 1.0)
    for value, style in styles:
        classes = layer.classes[picked]
        if value is None:  # the layer's own style: classes the catalogue does not style
            mask = np.array([c not in every_class for c in classes], dtype=bool)
        else:
            mask = classes == value
        segments = _line_segments(layer.geoms[picked[mask]])
        if segments:
            width = style["weight"] * scale
            dashes = _linestyle(style.get("dash"), width)
            ax.add_collection(LineCollection(segments, colors=style["color"], linewidths=width, linestyles=[dashes],
                                             capstyle="round" if dashes == "solid" else "butt",
                                             joinstyle="round"), autolim=False)


def _draw_areas(ax, layer: _Layer, picked: np.ndarray) -> None:
    from matplotlib.colors import to_rgba
    from matplotlib.patches import PathPatch

    from mapping.print_style import area_path

    path = area_path(layer.geoms[picked])
    if path is None:
        return
    style = get_kind(layer.kind_id).style
    ax.add_artist(PathPatch(path, facecolor=to_rgba(style.fill_color, style.fill_opacity),
                            edgecolor=style.color, linewidth=style.weight))


def _drawn(layer: _Layer, z: int) -> bool:
    from layers.tiles import zooms

    return z >= zooms(layer.kind_id)[0]


def render_block(layers: list[_Layer], z: int, bounds: tuple[float, float, float, float], columns: int,
                 rows: int) -> np.ndarray:
    """An RGB image (rows*256 × columns*256) of the layers within Web Mercator ``bounds`` at zoom ``z``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = columns * TILE, rows * TILE
    fig = Figure(figsize=(width / 72, height / 72), dpi=72, facecolor=BACKGROUND)  # 1 pt = 1 px = Leaflet px
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    pad = 10 * WIDTH_SCALE.get(z, 1.0) * (bounds[2] - bounds[0]) / width  # the widest line's reach, in metres
    box = _box(bounds, pad)
    for layer in layers:
        if not _drawn(layer, z):
            continue
        picked = layer.tree.query(box)
        if not len(picked):
            continue
        picked = np.sort(picked)
        _draw_areas(ax, layer, picked)  # each draws only its own geometry type
        _draw_lines(ax, layer, picked, z)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
    if image.shape[:2] != (height, width):  # matplotlib rounds the figure size to whole pixels
        raise RuntimeError(f"drew {image.shape[1]}×{image.shape[0]} px, not {width}×{height}")
    return image


def _box(bounds, pad: float):
    import shapely

    return shapely.box(bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)


def encode_png(image: np.ndarray) -> bytes:
    """A tile as an 8-bit palette PNG: a basemap has few colours, and a palette tile is a third of RGB's size."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(image).quantize(colors=128, method=Image.Quantize.FASTOCTREE).save(out, "PNG", optimize=False)
    return out.getvalue()


# -- the file -----------------------------------------------------------------------------------

def _blocks(x0: int, y0: int, x1: int, y1: int):
    for by in range(y0, y1 + 1, BLOCK):
        for bx in range(x0, x1 + 1, BLOCK):
            yield bx, by, min(BLOCK, x1 - bx + 1), min(BLOCK, y1 - by + 1)


def _metadata(workspace, extent, min_zoom: int, max_zoom: int) -> dict[str, str]:
    district = workspace.name or Path(workspace.path).stem
    lon, lat = (extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2
    return {
        "name": _("{district}: basemap for field work").format(district=district),
        "format": "png",
        "bounds": ",".join(f"{v:.6f}" for v in extent),
        "center": f"{lon:.6f},{lat:.6f},{min(max_zoom, min_zoom + 2)}",
        "minzoom": str(min_zoom),
        "maxzoom": str(max_zoom),
        "attribution": "© OpenStreetMap contributors",
        "description": _("Water, buildings, roads and railways only: no cases, places or annotations."),
        "type": "baselayer",
        "version": "1",
    }


def _check_zooms(min_zoom: int, max_zoom: int, extent) -> dict[int, int]:
    if not LOWEST_ZOOM <= min_zoom <= max_zoom <= HIGHEST_ZOOM:
        raise ValueError(_("zooms must run from {low} to {high}, the first not above the last").format(
            low=LOWEST_ZOOM, high=HIGHEST_ZOOM))
    counts = tile_counts(extent, min_zoom, max_zoom)
    if sum(counts.values()) > MAX_TILES:
        raise ValueError(_("too many tiles for a phone ({n}); choose a lower last zoom").format(
            n=sum(counts.values())))
    return counts


def write_field_map(workspace, out_path: str | Path, min_zoom: int = DEFAULT_MIN_ZOOM,
                    max_zoom: int = DEFAULT_MAX_ZOOM, progress: Progress | None = None,
                    cancel: Callable[[], bool] | None = None, overwrite: bool = False) -> FieldMapReport:
    """Write the workspace's basemap to ``out_path`` as a raster (PNG) MBTiles file for ODK Collect, zooms
    ``min_zoom`` to ``max_zoom``. ``progress(done, total)`` counts tiles; ``cancel()`` returning True stops
    the work (raises :class:`Cancelled`, nothing written). An existing file is replaced only with ``overwrite``;
    the workspace itself never is (``layers.output``)."""
    from layers.mbtiles import MBTilesWriter
    from layers.output import staged_files

    started = time.perf_counter()
    extent = basemap_extent(workspace)
    if extent is None:
        raise LanternError(_("The workspace has no basemap to put on the field map; import OpenStreetMap data "
                             "first."))
    counts = _check_zooms(min_zoom, max_zoom, extent)
    out_path = Path(out_path)
    report = FieldMapReport(path=out_path)
    with staged_files([out_path], Path(workspace.path), overwrite) as staged:
        layers = _read_layers(workspace)
        writer = MBTilesWriter(staged.paths[0])
        try:
            done, total = 0, sum(counts.values())
            for z in range(min_zoom, max_zoom + 1):
                t = time.perf_counter()
                report.tiles[z], report.bytes[z] = 0, 0
                for bx, by, cols, rows in _blocks(*tile_range(extent, z)):
                    if cancel is not None and cancel():
                        raise Cancelled(_("Writing the field map was cancelled; nothing was written."))
                    west, _s, _e, north = tile_bounds(z, bx, by)
                    _w, south, east, _n = tile_bounds(z, bx + cols - 1, by + rows - 1)
                    image = render_block(layers, z, (west, south, east, north), cols, rows)
                    for j in range(rows):
                        for i in range(cols):
                            data = encode_png(image[j * TILE:(j + 1) * TILE, i * TILE:(i + 1) * TILE])
                            writer.add(z, bx + i, by + j, data)
                            report.tiles[z] += 1
                            report.bytes[z] += len(data)
                    done += cols * rows
                    if progress is not None:
                        progress(done, total)
                report.zoom_seconds[z] = time.perf_counter() - t
            writer.set_metadata(_metadata(workspace, extent, min_zoom, max_zoom))
        finally:
            writer.close()
    report.path = staged.files[0]
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["BASEMAP_KINDS", "Cancelled", "FieldMapReport", "basemap_extent", "tile_counts", "write_field_map"]
