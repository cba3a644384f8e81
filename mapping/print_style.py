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
