"""How print maps (PDF/PNG of outreach plans, shared maps and reports) draw the offline basemap."""
from __future__ import annotations

from mapping.features import styles

#: kind id → matplotlib style, drawn in this order (water first, railways last); from data/styles.json
BASEMAP_PRINT = styles()["print_basemap"]


def plot_basemap(ax, frames: dict, crs) -> None:
    """Draw the basemap layers among ``frames`` (kind id → GeoDataFrame) under everything else."""
    for kind_id, style in BASEMAP_PRINT.items():
        frame = frames.get(kind_id)
        if frame is not None and len(frame):
            frame.to_crs(crs).plot(ax=ax, zorder=1, **style)
