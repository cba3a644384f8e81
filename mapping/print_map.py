"""Print the current view: one map, on A4 or A3, for one profile, as PDF or PNG (no Qt).

It is a share export of format pdf/png with print options: the same redaction of the chosen profile, the
same disclosure check on what is about to be written, the same refusal of the workspace as destination,
and for police the same confirmation, stamp and change-log entry (``mapping.share_export.export``).
"""
from __future__ import annotations

import math
from pathlib import Path

from layers.i18n import _
from mapping.print_layout import PrintOptions, page_size

FORMATS = ("pdf", "png")
TILE = 256  # Web Mercator tile size in pixels (Leaflet)


def view_extent(lat: float, lng: float, zoom: float, width_px: int, height_px: int) -> tuple[float, ...]:
    """W, S, E, N of a Leaflet view (centre and zoom, as ``MapView.last_view`` keeps them) of the given size."""
    scale = TILE * 2 ** zoom  # pixels around the world

    def to_px(la, ln):
        s = math.sin(math.radians(max(min(la, 85.0511), -85.0511)))
        return (ln + 180) / 360 * scale, (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * scale

    def to_lonlat(x, y):
        return x / scale * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / scale))))

    cx, cy = to_px(lat, lng)
    w, n = to_lonlat(cx - width_px / 2, cy - height_px / 2)
    e, s = to_lonlat(cx + width_px / 2, cy + height_px / 2)
    return w, s, e, n


def print_map(workspace, *, out: str | Path, extent=None, paper: str = "A4", orientation: str = "landscape",
              title: str = "", subtitle: str = "", layers: list[str] | None = None, profile: str = "public",
              fmt: str | None = None, lang: str = "en", recipient: str = "", confirm_police: bool = False,
              author: str = "", overwrite: bool = False) -> list[Path]:
    """Print ``layers`` (kind ids; None: all the profile receives) of ``workspace`` within ``extent`` (W, S, E, N;
    None: the district) for ``profile``; returns the file written. ``fmt``: pdf or png (default: ``out``'s suffix)."""
    from mapping.share_export import export

    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".") or "pdf").lower()
    if fmt not in FORMATS:
        raise ValueError(_("unknown print format {f!r}; choose pdf or png").format(f=fmt))
    page_size(paper, orientation)  # refuses an unknown paper or orientation before anything is read
    if layers is not None:
        from layers.catalogue import layer_kinds

        unknown = [k for k in layers if k not in layer_kinds()]
        if unknown:
            raise ValueError(_("unknown layer {k!r}; choose from {all}").format(k=unknown[0],
                                                                             all=", ".join(layer_kinds())))
    if out.suffix.lower() != f".{fmt}":
        out = out.with_suffix(f".{fmt}")
    options = PrintOptions(paper=paper.lower(), orientation=orientation, title=title, subtitle=subtitle,
                           layers=list(layers) if layers is not None else None,
                           extent=tuple(extent) if extent is not None else None)
    files, _disclosure = export(workspace, profile, fmt, out, recipient=recipient, confirm_police=confirm_police,
                                author=author, extent=options.extent, overwrite=overwrite, lang=lang,
                                print_options=options)
    return files


__all__ = ["FORMATS", "print_map", "view_extent"]
