"""How print maps (PDF/PNG of outreach plans, shared maps and reports) draw the offline basemap and the layers:
one colour per layer in every profile, classes with counts for counts per cell, estimates and the risk surface.
The page around the map is ``mapping.print_layout``."""
from __future__ import annotations

import numpy as np
import shapely
from matplotlib.patches import PathPatch
from matplotlib.path import Path

from layers.i18n import _, ngettext
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
            ax.add_artist(PathPatch(areas, facecolor=style["color"], edgecolor="none", linewidth=0, zorder=1,
                                    rasterized=True))  # a city's 300,000 buildings: an image, not vectors
            x0, y0, x1, y1 = frame.total_bounds
            ax.update_datalim([(x0, y0), (x1, y1)])
            ax.autoscale_view()
        else:
            frame.plot(ax=ax, zorder=1, rasterized=True, **style)


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


# -- thematic layers: one colour per layer, whatever the profile --------------------------------------

MARKERS = {"square": "s", "diamond": "D", "circle": "o", "triangle": "^"}


def layer_colors(name: str) -> tuple[str, str]:
    """(fill, outline) of a layer on every print map: a catalogue kind's own colours, else its named style.

    The form a profile receives (exact, masked, counted per cell, banded) never changes the colour."""
    from layers.catalogue import layer_kinds

    kinds = layer_kinds()
    if name in kinds:
        return kinds[name].style.fill_color, kinds[name].style.color
    entry = styles()["styles"].get(name) or styles()["styles"]["shared_area"]
    return entry["fill_color"], entry["color"]


def ramp(name: str, n: int) -> list[str]:
    """``n`` class colours of a layer: its fill colour lightened, up to its fill colour itself (at the middle
    class), then on to its outline colour; the layer's own colour is always one of its classes."""
    from matplotlib.colors import to_hex, to_rgb

    fill, outline = (np.array(to_rgb(c)) for c in layer_colors(name))
    light = fill + (1 - fill) * (1 - styles()["print_classes"]["ramp_start"])
    middle = (n - 1) // 2
    colors = []
    for i in range(n):
        if i <= middle:
            t = i / middle if middle else 1.0
            colors.append(light + (fill - light) * t)
        else:
            colors.append(fill + (outline - fill) * (i - middle) / (n - 1 - middle))
    return [to_hex(c) for c in colors]


def count_classes(minimum: int) -> list[tuple[int, int | None]]:
    """(lower, upper-exclusive or None) classes of counts per cell, the first starting at the sharing minimum."""
    breaks = [minimum, *[b for b in styles()["print_classes"]["counts"] if b > minimum]]
    return [(lo, hi) for lo, hi in zip(breaks, [*breaks[1:], None])]


def class_label(lower: int, upper: int | None) -> str:
    if upper is None:
        return _("{n} or more").format(n=lower)
    return f"{lower}" if upper - 1 == lower else f"{lower}–{upper - 1}"


def _class_of(value, classes) -> int:
    for i, (lo, hi) in enumerate(classes):
        if value >= lo and (hi is None or value < hi):
            return i
    return -1


def _cells(n: int) -> str:
    return ngettext("{n} cell", "{n} cells", n).format(n=n)


def _areas(n: int) -> str:
    return ngettext("{n} area", "{n} areas", n).format(n=n)


def draw_layer(ax, layer, crs, zorder: int = 2) -> list:
    """Draw a shared layer (``audit.redaction.SharedLayer``) on ``ax`` in ``crs``; returns its legend blocks.

    Counts per cell and estimates get classed fills with the number of cells or areas per class; every other
    layer is drawn in its own colour with its number of features."""
    from mapping.print_layout import LegendEntry, legend

    frame = layer.frame[layer.frame.geometry.notna()].to_crs(crs)
    if not len(frame):
        return []
    if layer.form == "hex_counts":
        return draw_counts(ax, layer.name, layer.label, frame, zorder)
    if layer.name == "risk_group_estimates":
        return draw_estimates(ax, layer.label, frame, zorder)
    if layer.form == "cells":
        return draw_risk_cells(ax, frame, zorder)
    fill, outline = layer_colors(layer.name)
    label = f"{layer.label} ({len(frame)})"
    kinds = frame.geometry.geom_type
    points = frame[kinds.isin(["Point", "MultiPoint"])].explode(index_parts=False)
    areas = frame[~kinds.isin(["Point", "MultiPoint"])]
    style = styles()["styles"].get(layer.name, {}).get("print", {})
    alpha = style.get("alpha", 0.35)
    if len(areas):  # a place mapped as an area (a building site) is drawn as that area, in the layer's colours
        areas.plot(ax=ax, color=fill, edgecolor=outline, linewidth=0.9, alpha=alpha, zorder=zorder)
        areas.boundary.plot(ax=ax, color=outline, linewidth=0.9, zorder=zorder)
    marker = _marker(layer.name)
    if len(points):
        ax.scatter(points.geometry.x, points.geometry.y, s=_size(layer.name), c=fill, edgecolors=outline,
                   linewidths=0.6, marker=marker, zorder=zorder + 10, alpha=0.95)
    if len(points) >= len(areas):
        return legend("", [LegendEntry(label, fill, "point", outline, marker=marker,
                                                      layer=layer.name)])[1:]
    return legend("", [LegendEntry(label, fill, "patch", outline, alpha=alpha, layer=layer.name)])[1:]


def _marker(name: str) -> str:
    from layers.catalogue import layer_kinds

    kinds = layer_kinds()
    shape = kinds[name].style.shape if name in kinds else styles()["styles"].get(name, {}).get("shape")
    return MARKERS.get(shape or "circle", "o")


def _size(name: str) -> float:
    return styles()["kind_print"].get(name, {}).get("markersize", styles()["styles"]["thematic"]["print"]["markersize"])


def draw_counts(ax, name: str, label: str, cells, zorder: int = 2) -> list:
    """Counts per hexagon in classes of the layer's colour, each cell labelled with its count where it is large
    enough to read; cells under the sharing minimum are not in the layer at all, and the legend says so."""
    from audit.redaction import minimum_count
    from mapping.print_layout import LegendEntry, legend

    minimum = minimum_count()
    classes = count_classes(minimum)
    colors = ramp(name, len(classes))
    index = np.array([_class_of(int(v), classes) for v in cells["count"]])
    cells.plot(ax=ax, color=[colors[i] for i in index], edgecolor=layer_colors(name)[1], linewidth=0.5, alpha=0.85,
               zorder=zorder)
    _label_cells(ax, cells, [str(int(v)) for v in cells["count"]], zorder + 1,
                 dark=[i >= len(classes) // 2 for i in index])
    entries = [LegendEntry(f"{class_label(lo, hi)}: {_cells(int((index == i).sum()))}", colors[i], "patch",
                           layer_colors(name)[1], alpha=0.85, layer=name) for i, (lo, hi) in enumerate(classes)]
    entries.append(LegendEntry(_("no fill: fewer than {n}, or none (not published)").format(n=minimum), "white",
                               "blank"))
    return legend(_("{label} (number in each cell)").format(label=label), entries)


def _label_cells(ax, cells, texts: list[str], zorder: int, dark: list[bool]) -> None:
    """Write each cell's count at its centre, when the cell is at least about 14 points across on the page."""
    fig = ax.figure
    x0, x1 = ax.get_xlim()
    width_in = ax.get_position().width * fig.get_size_inches()[0]
    if not len(cells):
        return
    bounds = cells.geometry.bounds
    across = float((bounds["maxx"] - bounds["minx"]).median()) / (x1 - x0) * width_in * 72
    if across < 14:
        return
    from matplotlib import patheffects

    centres = cells.geometry.centroid
    for c, text, is_dark in zip(centres, texts, dark):  # above every point, with a halo: always readable
        ax.text(c.x, c.y, text, ha="center", va="center", fontsize=min(9.0, across / 3), parse_math=False,
                color="white" if is_dark else "black", fontweight="bold", zorder=zorder + 100, clip_on=True,
                path_effects=[patheffects.withStroke(linewidth=2, foreground="black" if is_dark else "white")])


def draw_estimates(ax, label: str, frame, zorder: int = 2) -> list:
    """Risk-group estimate areas in classes of the published bands (public receives only the band)."""
    from audit.redaction import banded
    from layers.resources import load_json
    from mapping.print_layout import LegendEntry, legend

    bands = load_json("sensitivity.json")["banded"]["bands"]
    import pandas as pd

    names = list(banded(pd.DataFrame({"estimate": [max(b, 1) for b in bands]}), bands)["estimate_class"])
    classes = frame["estimate_class"] if "estimate_class" in frame.columns else banded(frame, bands)["estimate_class"]
    colors = ramp("risk_group_estimates", len(names))
    index = [names.index(c) if c in names else 0 for c in classes]
    outline = layer_colors("risk_group_estimates")[1]
    frame.plot(ax=ax, color=[colors[i] for i in index], edgecolor=outline, linewidth=0.6, alpha=0.6, zorder=zorder)
    entries = [LegendEntry(f"{n}: {_areas(index.count(i))}", colors[i], "patch", outline, alpha=0.6,
                           layer="risk_group_estimates")
               for i, n in enumerate(names) if index.count(i) or i < len(names) - 1]
    return legend(_("{label} (people, estimated)").format(label=label), entries)


def risk_classes() -> list[tuple[float, float, str]]:
    """(lower, upper, colour) of the risk-index classes."""
    pal = styles()["palettes"]["risk_index"]
    return [(lo, hi, c) for lo, hi, c in zip([0, *pal["breaks"][:-1]], pal["breaks"], pal["colors"])]


def risk_class(value: float) -> int:
    classes = risk_classes()
    return next((i for i, (_lo, hi, _c) in enumerate(classes) if value <= hi), len(classes) - 1)


def draw_risk_cells(ax, cells, zorder: int = 2) -> list:
    """The risk surface in its five classes, with the number of cells in each."""
    from mapping.features import print_kwargs
    from mapping.print_layout import LegendEntry, legend

    classes = risk_classes()
    cells = cells[cells["risk"] > 0]
    index = [risk_class(v) for v in cells["risk"]]
    style = print_kwargs("risk_surface", color=None, cmap=None)
    if len(cells):
        cells.plot(ax=ax, color=[classes[i][2] for i in index], edgecolor=style.get("edgecolor"),
                   linewidth=style.get("linewidth", 0.3), alpha=style.get("alpha", 0.6), zorder=zorder)
    entries = [LegendEntry(f"{lo:g}–{hi:g}: {_cells(index.count(i))}", c, "patch", style.get("edgecolor"),
                           alpha=style.get("alpha", 0.6), layer="risk_surface")
               for i, (lo, hi, c) in enumerate(classes)]
    entries.append(LegendEntry(_("no fill: no risk found"), "white", "blank"))
    return legend(_("Risk index (0–100)"), entries)
