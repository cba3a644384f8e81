"""The map widget: a QWebEngineView showing the Leaflet page composed by mapping/.

Owns the view, the QWebChannel and the one bridge object. Loads the map
from a file (setHtml stops at 2 MB and cannot reach local assets), queues
JS calls until the page says it is ready (no nested event loops), emits
mapReady only once the page reports its first complete paint, and sends
small updates (visibility, order, selection) instead of reloading.
Network requests are recorded and, unless the online basemap is on,
blocked: a sensitive map must not tell a tile server where you look.

The page holds only the layers' definitions; it fetches each layer's
features from ``lantern://layer/<id>``, which the view's ``LayerServer``
answers from the current MapLayers. Layers not built yet (``geojson`` None)
are built when the page asks, off the UI thread, so opening a workspace with
100,000 features does not freeze the window. Layers drawn from vector tiles
(``MapLayer.tiles``) ask for ``lantern://tiles/<kind>/<z>/<x>/<y>.pbf`` instead,
answered from the workspace file given to ``set_tile_source`` (layers/tiles),
in worker threads. ``register_url_scheme`` must run before the QApplication
exists (gui/app.create_application does it).
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import shiboken6
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QUrl, Signal, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gui.background import Background
from layers.i18n import _
from mapping.compose import (
    LAYER_SCHEME,
    OSM_ATTRIBUTION,
    OSM_TILES_URL,
    MapLayer,
    MapOptions,
    layer_url,
    view_url,
    write_map,
)

#: layers with at most this many features, already built, are answered at once on the UI thread
SMALL_LAYER = 5000
#: the path of a tile request: /<kind>/<z>/<x>/<y>.pbf
_TILE_PATH = re.compile(r"^/([A-Za-z0-9_]+)/(\d{1,2})/(\d{1,7})/(\d{1,7})\.pbf$")


def register_url_scheme() -> bool:
    """Register ``lantern://`` with QtWebEngine: only possible before the QApplication exists.

    A local scheme that a ``file://`` page may fetch from (no CORS headers needed); never a network
    address, so the RequestGuard lets it through. Returns whether it is registered now.
    """
    name = LAYER_SCHEME.encode()
    if QWebEngineUrlScheme.schemeByName(QByteArray(name)).name() == QByteArray(name):
        return True
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is not None:
        return False  # too late: Qt would only warn
    scheme = QWebEngineUrlScheme(QByteArray(name))
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setDefaultPort(-1)  # QWebEngineUrlScheme::PortUnspecified
    flags = QWebEngineUrlScheme.Flag
    scheme.setFlags(flags.LocalScheme | flags.LocalAccessAllowed | flags.CorsEnabled | flags.FetchApiAllowed)
    QWebEngineUrlScheme.registerScheme(scheme)
    return True


def _compose_page(folder: Path, layers, options) -> Path:
    """Write the page (map.html in ``folder``) at once: the page never reads a half-written file."""
    path = folder / "map.html"
    part = folder / "map.html.part"
    write_map(part, layers, options)
    os.replace(part, path)
    return path


_warming = []


def warm_up() -> None:
    """Load, in a background thread, what the first opening needs and takes long to load: the current
    language's number formats (Babel's locale data, ~0.1 s) and folium (the page's composer, ~0.4 s).
    Started as the application starts, it runs while Qt and QtWebEngine build the window."""
    import importlib
    import threading

    if _warming or "folium" in sys.modules:
        return

    def load() -> None:
        from layers.i18n import integer

        integer(0)
        importlib.import_module("folium")

    _warming.append(threading.Thread(target=load, name="lantern-warm-up", daemon=True))
    _warming[0].start()


def warming() -> bool:
    """The start-up loading (warm_up) is still running."""
    return bool(_warming) and _warming[0].is_alive()


def encode_layer(layer: MapLayer, source=None, batch: int = 2000) -> bytes:
    """A layer's GeoJSON as the page fetches it; a layer not built yet is built by ``source(layer_id)``.

    Encoded ``batch`` features at a time: one json.dumps of 100,000 features holds the GIL for
    ~0.4 s, and the UI thread would wait for it."""
    if layer.geojson is None:
        layer = source(layer.id)
    dumps = lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":"))  # noqa: E731
    features = layer.geojson.get("features", [])
    rest = dumps({k: v for k, v in layer.geojson.items() if k != "features"})
    parts = [dumps(features[i:i + batch])[1:-1] for i in range(0, len(features), batch)]
    head = rest[:-1] + ("," if rest != "{}" else "")
    return (head + '"features":[' + ",".join(parts) + "]}").encode("utf-8")


class _Relay(QObject):
    """Carries a worker's answer to the UI thread (queued), whatever happened to the server meanwhile."""

    built = Signal(object, object)  # job, bytes or an exception
    tile_read = Signal(object, object)  # job, bytes (b"" where there is no tile) or an exception


def _report(relay: _Relay, signal: str, job):
    """A future's done-callback that sends its result (or exception) through ``relay``'s ``signal``; a cancelled
    one, nothing. It holds the relay alive until the future is done."""
    def done(future) -> None:
        if not future.cancelled():
            getattr(relay, signal).emit(job, future.exception() or future.result())

    return done


class LayerServer(QWebEngineUrlSchemeHandler):
    """Answers ``lantern://layer/<id>`` with that layer's GeoJSON (application/json), and
    ``lantern://tiles/<kind>/<z>/<x>/<y>.pbf`` with a vector tile of the workspace (application/x-protobuf;
    an empty body where there is no tile).

    Small layers already built are answered at once; the others are built and encoded in one worker
    thread and answered on the UI thread when ready, so the event loop never waits for them. Tiles are
    read in two more worker threads, each on its own read-only connection to the workspace file.
    """


    def __init__(self, parent=None):
        super().__init__(parent)
        self.layers: dict[str, MapLayer] = {}
        self.source = None  # layer id -> MapLayer, for layers given without their features
        self.view_source = None  # (layer id, (w, s, e, n), zoom) -> dict, for big layers drawn by view
        self.views_served: list[str] = []  # view requests answered (diagnostics, tests)
        self.served: list[str] = []  # layer ids answered, in order (diagnostics, tests)
        self.tiles_served: list[str] = []  # tile paths answered, in order (diagnostics, tests)
        self.tile_reader = None  # layers.tiles.TileReader of the workspace, or None: no tiles
        # two: a layer or view answer waiting on SQLite (which lets go of the GIL) does not hold up the next
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lantern-layers")
        self._tile_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lantern-tiles")
        self._closed = False
        # workers report through a relay owned by Python, not through this server: a worker finishing after
        # the window closed must not emit on a deleted object (a crash); Qt drops the relay's queued
        # answers for a server that is gone
        self._relay = _Relay()
        self._relay.built.connect(self._reply)
        self._relay.tile_read.connect(self._reply_tile)

    def set_tile_source(self, path) -> None:
        """Serve tiles from the workspace file at ``path`` (None: no tiles; their requests fail)."""
        from layers.tiles import TileReader

        old, self.tile_reader = self.tile_reader, (TileReader(path) if path else None)
        if old is not None:
            self._tile_pool.submit(old.close)  # after the reads already queued on it

    def set_layers(self, layers: list[MapLayer], source=None, view_source=None) -> None:
        self.layers = {layer.id: layer for layer in layers}
        self.source = source
        self.view_source = view_source

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:  # noqa: N802 - Qt API
        url = job.requestUrl()
        if url.host() == "tiles":
            self._serve_tile(job, url.path(QUrl.ComponentFormattingOption.FullyDecoded))
            return
        if url.host() == "view":
            self._serve_view(job, url)
            return
        layer = self.layers.get(url.path(QUrl.ComponentFormattingOption.FullyDecoded).strip("/"))
        if url.host() != "layer" or layer is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        if layer.geojson is not None and len(layer.geojson.get("features", ())) <= SMALL_LAYER:
            self._reply(job, encode_layer(layer))
            return
        if self._closed:
            job.fail(QWebEngineUrlRequestJob.Error.RequestAborted)
            return
        future = self._pool.submit(encode_layer, layer, self.source)
        future.add_done_callback(_report(self._relay, "built", job))

    def _serve_view(self, job, url: QUrl) -> None:
        """``lantern://view/<id>?b=W,S,E,N&z=ZOOM``: what to draw of a big layer in that box, from the worker."""
        from PySide6.QtCore import QUrlQuery

        layer = self.layers.get(url.path(QUrl.ComponentFormattingOption.FullyDecoded).strip("/"))
        query = QUrlQuery(url)
        try:
            bbox = tuple(float(v) for v in query.queryItemValue("b").split(","))
            zoom = float(query.queryItemValue("z"))
            if len(bbox) != 4 or not all(map(math.isfinite, (*bbox, zoom))):
                raise ValueError
        except ValueError:
            bbox = None
        if layer is None or not layer.viewport or bbox is None or self.view_source is None or self._closed:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound if not self._closed
                     else QWebEngineUrlRequestJob.Error.RequestAborted)
            return
        source, layer_id = self.view_source, layer.id

        def answer() -> bytes:
            return json.dumps(source(layer_id, bbox, zoom), ensure_ascii=False, separators=(",", ":")).encode()

        future = self._pool.submit(answer)
        future.add_done_callback(_report(self._relay, "built", job))

    def _serve_tile(self, job, path: str) -> None:
        match = _TILE_PATH.match(path)
        reader = self.tile_reader
        if match is None or reader is None or self._closed:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound if not self._closed
                     else QWebEngineUrlRequestJob.Error.RequestAborted)
            return
        kind_id, z, x, y = match.group(1), *(int(v) for v in match.groups()[1:])

        def read():
            return reader.read(kind_id, z, x, y) or b""

        future = self._tile_pool.submit(read)
        future.add_done_callback(_report(self._relay, "tile_read", job))

    def _reply_tile(self, job, data) -> None:
        if not shiboken6.isValid(job):
            return  # the page went away, or Leaflet dropped the tile (panned past it)
        if isinstance(data, BaseException):
            print(_("The map tile {url} could not be read: {error}").format(
                url=job.requestUrl().toString(), error=repr(data)), file=sys.stderr)
            job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)
            return
        buffer = QBuffer(job)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.tiles_served.append(job.requestUrl().path())
        job.reply(QByteArray(b"application/x-protobuf"), buffer)

    def _reply(self, job, data) -> None:
        if not shiboken6.isValid(job):
            return  # the page went away (reloaded) before the layer was ready
        if isinstance(data, BaseException):
            print(_("The map layer {url} could not be built: {error}").format(
                url=job.requestUrl().toString(), error=repr(data)), file=sys.stderr)
            job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)
            return
        buffer = QBuffer(job)  # lives as long as the job
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.served.append(job.requestUrl().path().strip("/"))
        job.reply(QByteArray(b"application/json"), buffer)

    def shutdown(self) -> None:
        """No more layers: the window is closing (a page still loading gets failures, not a hang)."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        reader, self.tile_reader = self.tile_reader, None
        if reader is not None:
            self._tile_pool.submit(reader.close)
        self._tile_pool.shutdown(wait=False, cancel_futures=False)


class MapBridge(QObject):
    """The object the page sees as ``bridge``; its slots receive plain values."""

    pageReady = Signal()
    pagePainted = Signal(int)
    clicked = Signal(str, int)
    moved = Signal(float, float)
    activated = Signal(str, int)
    mapClickedAt = Signal(float, float)
    polygon = Signal(str)
    viewMoved = Signal(float, float, float)
    modeCancelled = Signal()

    @Slot()
    def ready(self) -> None:
        self.pageReady.emit()

    @Slot(int)
    def painted(self, count: int) -> None:
        self.pagePainted.emit(count)

    @Slot(str, int)
    def featureClicked(self, layer_id: str, fid: int) -> None:  # noqa: N802 - JS name
        self.clicked.emit(layer_id, fid)

    @Slot(float, float)
    def cursorMoved(self, lat: float, lng: float) -> None:  # noqa: N802 - JS name
        self.moved.emit(lat, lng)

    @Slot(str, int)
    def featureActivated(self, layer_id: str, fid: int) -> None:  # noqa: N802 - JS name
        self.activated.emit(layer_id, fid)

    @Slot(float, float)
    def mapClicked(self, lat: float, lng: float) -> None:  # noqa: N802 - JS name
        self.mapClickedAt.emit(lat, lng)

    @Slot(str)
    def polygonDrawn(self, ring_json: str) -> None:  # noqa: N802 - JS name
        self.polygon.emit(ring_json)

    @Slot(float, float, float)
    def viewChanged(self, lat: float, lng: float, zoom: float) -> None:  # noqa: N802 - JS name
        self.viewMoved.emit(lat, lng, zoom)

    @Slot()
    def modeEnded(self) -> None:  # noqa: N802 - JS name
        self.modeCancelled.emit()


class RequestGuard(QWebEngineUrlRequestInterceptor):
    """Records every request the page makes; blocks http(s) unless allowed."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.allow_network = False
        self.requests: list[str] = []
        self.blocked: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:  # noqa: N802 - Qt API
        url = info.requestUrl().toString()
        self.requests.append(url)
        if info.requestUrl().scheme() in ("http", "https", "ws", "wss") and not self.allow_network:
            self.blocked.append(url)
            info.block(True)

    def network_requests(self) -> list[str]:
        return [u for u in self.requests if u.split(":", 1)[0] in ("http", "https", "ws", "wss")]


class MapPage(QWebEnginePage):
    """Keeps the page's console messages, for diagnostics and tests."""

    def __init__(self, profile, parent=None):
        super().__init__(profile, parent)
        self.console: list[str] = []

    def javaScriptConsoleMessage(self, level, message, line, source):  # noqa: N802 - Qt API
        self.console.append(f"{source}:{line}: {message}")


class MapView(QWidget):
    """Shows a map and exposes small, queued operations on it."""

    #: the map's first complete paint after a (re)load: layers added and two animation frames drawn
    mapReady = Signal()
    #: every complete paint the page reports (the first one, and each one asked for with request_paint)
    painted = Signal()
    featureClicked = Signal(str, int)
    featureActivated = Signal(str, int)
    cursorMoved = Signal(float, float)
    mapClicked = Signal(float, float)
    polygonDrawn = Signal(object)  # a shapely Polygon
    modeCancelled = Signal()
    #: the view is about to go (the window closes): stop work that would answer it
    disposing = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        warm_up()
        self._tmpdir = tempfile.TemporaryDirectory(prefix="lantern-map-")
        self._ready = False
        self._painted = False
        self._queue: list[tuple[str, object]] = []
        self.basemap_on = False
        self._composer = Background("lantern-compose")
        self._composer.answered.connect(self._on_composed)
        self._loads = 0  # pages asked for; the latest is loaded when composed

        self.profile = QWebEngineProfile(self)  # off-the-record: no disk cache, no cookies
        self.guard = RequestGuard(self)
        self.profile.setUrlRequestInterceptor(self.guard)
        self.server = LayerServer(self)
        self.profile.installUrlSchemeHandler(QByteArray(LAYER_SCHEME.encode()), self.server)
        self._versions: dict[str, int] = {}
        self.page = MapPage(self.profile, self)
        settings = self.page.settings()
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, True)
        settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False)

        self.bridge = MapBridge(self)
        self.channel = QWebChannel(self)
        self.channel.registerObject("bridge", self.bridge)
        self.page.setWebChannel(self.channel)

        self.view = QWebEngineView(self)
        self.view.setPage(self.page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

        self.last_view: tuple[float, float, float] | None = None
        self.bridge.pageReady.connect(self._on_ready)
        self.bridge.pagePainted.connect(self._on_painted)
        self.bridge.clicked.connect(self.featureClicked)
        self.bridge.activated.connect(self.featureActivated)
        self.bridge.moved.connect(self.cursorMoved)
        self.bridge.mapClickedAt.connect(self.mapClicked)
        self.bridge.polygon.connect(self._on_polygon)
        self.bridge.viewMoved.connect(self._on_view_moved)
        self.bridge.modeCancelled.connect(self.modeCancelled)

    # -- loading ----------------------------------------------------------------------

    def set_tile_source(self, path) -> None:
        """The workspace file the page's vector tiles are read from (None: none). Layers given with
        ``tiles`` (mapping.features.tile_layer) need it before the page asks for them."""
        self.server.set_tile_source(path)

    def show_layers(self, layers: list[MapLayer], options: MapOptions, keep_view: bool = False,
                    source=None, view_source=None) -> None:
        """(Re)load the page with these layers. Calls made before it is ready are queued.

        The page gets the layers' definitions and fetches their features from the LayerServer;
        a layer given without features (``geojson`` None) is built by ``source(layer_id)``, in a
        worker thread, when the page asks for it.
        """
        if keep_view and self.last_view is not None:
            options.view = self.last_view
        self._ready = False
        self._painted = False
        self._queue.clear()
        self.server.set_layers(layers, source, view_source)
        options.app_bridge = True
        options.fetch_layers = True
        options.basemap = self.basemap_on
        # composed in a worker (folium and its templates take ~20 ms, and the first time wait for folium's
        # import); the page loads when it is written, if no newer show_layers came meanwhile
        self._loads += 1
        self._composer.submit(self._loads, _compose_page, Path(self._tmpdir.name), layers, options)

    def _on_composed(self, number: int, path) -> None:
        if number != self._loads:
            return  # a newer page is being composed, or the view is gone
        if isinstance(path, BaseException):
            print(_("The map could not be composed: {error}").format(error=repr(path)), file=sys.stderr)
            return
        self.page.load(QUrl.fromLocalFile(str(path)))

    @property
    def is_ready(self) -> bool:
        return self._ready

    @property
    def is_painted(self) -> bool:
        """The page has reported a complete paint since it was (re)loaded: what mapReady means."""
        return self._painted

    def _on_ready(self) -> None:
        # the channel works: run what was queued, then ask the page to report its next
        # complete paint (JS calls run in order, so that paint includes the queued changes)
        self._ready = True
        queued, self._queue = self._queue, []
        for code, callback in queued:
            self._run_now(code, callback)
        self.request_paint()

    def request_paint(self) -> None:
        """Ask the page to report (``painted``) once two more animation frames have been drawn."""
        self.run_js("lantern.reportPainted();")

    def _on_painted(self, _count: int) -> None:
        if not self._ready:
            return  # a report from a page that has since been replaced
        first = not self._painted
        self._painted = True
        self.painted.emit()
        if first:
            self.mapReady.emit()

    def _run_now(self, code: str, callback) -> None:
        if callback is None:
            self.page.runJavaScript(code)
        else:
            self.page.runJavaScript(code, 0, callback)

    def run_js(self, code: str, callback=None) -> None:
        """Run JS on the map now if it is ready, else once it is."""
        if self._ready:
            self._run_now(code, callback)
        else:
            self._queue.append((code, callback))

    # -- small updates ----------------------------------------------------------------

    def set_visible(self, layer_id: str, visible: bool) -> None:
        self.run_js(f"lantern.setVisible({json.dumps(layer_id)}, {json.dumps(bool(visible))});")

    def set_order(self, layer_ids_bottom_to_top: list[str]) -> None:
        self.run_js(f"lantern.setOrder({json.dumps(list(layer_ids_bottom_to_top))});")

    def select_feature(self, layer_id: str, fid: int, pan: bool = True, at=None) -> None:
        """Highlight a feature; ``pan`` shows it. ``at`` (lat, lng): where it is, for a big layer whose
        features in view are all the page has."""
        at_js = json.dumps(None if at is None else [float(at[0]), float(at[1])])
        self.run_js(f"lantern.select({json.dumps(layer_id)}, {int(fid)}, {json.dumps(pan)}, {at_js});")

    def refresh_view(self, layer_id: str) -> None:
        """A big layer's view answers changed (filters): the page asks again for what is in view."""
        self.run_js(f"lantern.refreshLayer({json.dumps(layer_id)});")

    def set_basemap(self, on: bool) -> None:
        """Online OSM tiles. Network requests are allowed only while this is on."""
        self.basemap_on = on
        self.guard.allow_network = on
        self.page.settings().setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, on)
        self.run_js(
            f"lantern.setBasemap({json.dumps(on)}, {json.dumps(OSM_TILES_URL)}, {json.dumps(OSM_ATTRIBUTION)});"
            if on
            else "lantern.setBasemap(false);"
        )

    def replace_layer(self, layer: MapLayer) -> None:
        """New data for one layer, without reloading the page (after an edit); the page fetches them.

        A layer without features (``geojson`` None) is built by the source given to show_layers; a layer
        with ``tiles`` is drawn from them (its tiles' URL should differ from the old one's)."""
        self.server.layers[layer.id] = layer
        version = self._versions[layer.id] = self._versions.get(layer.id, 0) + 1
        url = None if layer.tiles else view_url(layer.id, version) if layer.viewport else layer_url(layer.id, version)
        self.run_js(f"lantern.reloadLayer({json.dumps(layer.definition())}, {json.dumps(url)});")

    def set_extra_legends(self, sections: list[dict]) -> None:
        self.run_js(f"lantern.setExtraLegends({json.dumps(sections)});")

    def remove_layer(self, layer_id: str) -> None:
        self.run_js(f"lantern.removeLayer({json.dumps(layer_id)});")

    def set_filter(self, layer_id: str, fids) -> None:
        value = "null" if fids is None else json.dumps(sorted(int(f) for f in fids))
        self.run_js(f"lantern.setFilter({json.dumps(layer_id)}, {value});")

    def set_choropleth(self, layer_id: str, choropleth: dict | None) -> None:
        self.run_js(f"lantern.setChoropleth({json.dumps(layer_id)}, {json.dumps(choropleth)});")

    def set_mode(self, mode: str | None) -> None:
        """None, "place" (next click creates a place) or "polygon" (clicks draw an area)."""
        self.run_js(f"lantern.setMode({json.dumps(mode)});")

    def _on_polygon(self, ring_json: str) -> None:
        import shapely

        ring = json.loads(ring_json)
        polygon = shapely.Polygon(ring)
        self.polygonDrawn.emit(polygon)

    def _on_view_moved(self, lat: float, lng: float, zoom: float) -> None:
        self.last_view = (lat, lng, zoom)

    def dispose(self) -> None:
        """Release the page before the profile (avoids Qt's 'profile still in use' warning)."""
        self.disposing.emit()
        self._loads += 1  # a page still being composed is not loaded
        self.view.setPage(None)
        self.page.deleteLater()
        self.server.shutdown()
        self._tmpdir.cleanup()
