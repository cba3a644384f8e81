"""Where the map's JavaScript and CSS come from — decided here, once.

Leaflet comes from the installed ``xstatic-leaflet`` package, its marker
clustering from ``xstatic-leaflet-markercluster``, the vector-tile drawing
(Leaflet.VectorGrid, vendored with its licence) from ``mapping/static/vendor``,
Lantern's own bridge from ``mapping/static``. Never a CDN: maps must work with no network.
Two modes: ``file`` links the installed files (for the app's QWebEngineView,
which loads the map from a file) and ``inline`` embeds them (for exported
maps that must be one self-contained file).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from layers.resources import package_file

#: Loaded by the app's page only; a Qt resource, not a network address.
QWEBCHANNEL_JS = "qrc:///qtwebchannel/qwebchannel.js"


@dataclass(frozen=True)
class Asset:
    name: str
    kind: str  # "js" or "css"
    path: Path

    def uri(self) -> str:
        return self.path.resolve().as_uri()

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _leaflet_dir() -> Path:
    import xstatic.pkg.leaflet as xleaflet

    return Path(xleaflet.BASE_DIR)


def _markercluster_dir() -> Path:
    import xstatic.pkg.leaflet_markercluster as xcluster

    return Path(xcluster.BASE_DIR)


def _static(name: str) -> Path:
    return Path(str(package_file("mapping", f"static/{name}")))


def map_assets(tiles: bool = True) -> list[Asset]:
    """The assets of a Lantern map, in load order. ``tiles``: with Leaflet.VectorGrid, which draws the
    app's vector tiles (an exported map embeds its features and leaves it out)."""
    leaflet, cluster = _leaflet_dir(), _markercluster_dir()
    vectorgrid = [Asset("vectorgrid", "js", _static("vendor/Leaflet.VectorGrid.bundled.min.js"))] if tiles else []
    return [
        Asset("leaflet_css", "css", leaflet / "leaflet.css"),
        Asset("markercluster_css", "css", cluster / "MarkerCluster.css"),
        Asset("lantern_css", "css", _static("lantern_map.css")),
        Asset("leaflet", "js", leaflet / "leaflet.js"),
        Asset("markercluster", "js", cluster / "leaflet.markercluster.js"),
        *vectorgrid,
        Asset("lantern", "js", _static("lantern_map.js")),
    ]
