"""How print maps (PDF/PNG of outreach plans, shared maps and reports) draw the offline basemap."""
from __future__ import annotations

import numpy as np
import shapely
from matplotlib.patches import PathPatch
from matplotlib.path import Path

from mapping.features import styles

POLYGON = 3  # shapely's type id

#: kind id → matplotlib style, drawn in this order (water first, railways last); from data/styles.json
BASEMAP_PRINT = styles()["print_basemap"]


def plot_basemap(ax, frames: dict, crs) -> None:
    """Draw the basemap layers among ``frames`` (kind id → GeoDataFrame) under everything else.

    Areas (water, buildings) are drawn as one compound path per layer: a city has 300,000 buildings, and one
    matplotlib patch each took minutes to draw and write."""
    for kind_id, style in BASEMAP_PRINT.items():
        frame = frames.get(kind_id)
        if frame is None or not len(frame):
            continue
        frame = frame.to_crs(crs)
        areas = area_path(frame.geometry.values)
        if areas is not None and "linewidth" not in style:
            # add_artist, not add_patch: add_patch walks every segment of the path to update the axes' limits
            ax.add_artist(PathPatch(areas, facecolor=style["color"], edgecolor="none", linewidth=0, zorder=1))
            x0, y0, x1, y1 = frame.total_bounds
            ax.update_datalim([(x0, y0), (x1, y1)])
            ax.autoscale_view()
        else:
            frame.plot(ax=ax, zorder=1, **style)


def area_path(geometries) -> Path | None:
    """Every polygon ring of ``geometries`` in one matplotlib Path (vectorised with shapely 2); None if there
    are no polygons."""
    parts = shapely.get_parts(geometries[~shapely.is_missing(geometries)])
    polygons = parts[shapely.get_type_id(parts) == POLYGON]
    if not len(polygons):
        return None
    coords, ring = shapely.get_coordinates(shapely.get_rings(polygons), return_index=True)
    codes = np.full(len(coords), Path.LINETO, dtype=Path.code_type)
    starts = np.r_[0, np.flatnonzero(np.diff(ring)) + 1]
    codes[starts] = Path.MOVETO
    codes[np.r_[starts[1:] - 1, len(coords) - 1]] = Path.CLOSEPOLY
    return Path(coords, codes)


def wrapped(text: str, size: float, width_in: float, indent: str = "") -> list[str]:
    """``text`` in lines that fit ``width_in`` inches at ``size`` points (DejaVu Sans: under 0.6 em a letter).

    Print maps wrap their notes themselves: Latvian runs longer than English, and matplotlib's own
    wrapping stops at the figure's edge but not at its foot."""
    import textwrap

    return textwrap.wrap(text, max(20, int(width_in * 72 / (size * 0.6))), subsequent_indent=indent) or [""]


def fit_left_of(fig, artist, right: float, text: str) -> None:
    """Shorten ``artist`` (a figure text showing ``text``) at a word, with "…", until it ends before ``right``
    (a figure fraction): a long title never runs under the marking beside it."""
    renderer = fig.canvas.get_renderer()
    words = text.split()
    while len(words) > 1 and artist.get_window_extent(renderer).x1 > right * fig.bbox.width:
        words.pop()
        artist.set_text(" ".join(words).rstrip(",;:—-( ") + " …")
