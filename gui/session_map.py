"""The map pane observing the session: it redraws what the session says is shown.

The MapView itself knows nothing of workspaces; this binding turns session
events into small map updates (a layer replaced, a filter, the selection)
and the map's clicks back into session calls.

The basemap is drawn from the workspace's vector tiles (layers/tiles) when
they were made from the layer's current rows; otherwise from GeoJSON. A
big basemap layer (``tiles.TILE_ABOVE`` rows) without fresh tiles gets them
in the background: cut in a worker (child processes), stored in one
transaction per layer on the UI thread, then the layer is swapped for its
tiles. Not in import-osm itself: cutting a city takes ~26 s, three times the
import.
"""
from __future__ import annotations

import math
import sys
import tempfile
import threading

from PySide6.QtCore import QObject, Signal

from audit.annotations import PLACE_KINDS
from gui.map_view import MapView
from layers import tiles as vtiles
from layers.catalogue import kind as get_kind
from mapping.compose import layer_stub
from mapping.features import tile_layer
from mapping.session import Session


class TileCut(QObject):
    """Cuts a workspace's tiles in a Python thread (child processes do the work) and reports ``finished``
    on the UI thread: {kind: files} or the exception. ``stop`` ends it within ~50 ms, storing nothing."""

    finished = Signal(object)

    def __init__(self, path, kinds, counts):
        super().__init__()
        self.folder = tempfile.TemporaryDirectory(prefix="lantern-tiles-")
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(path, kinds, counts), name="lantern-tiles",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self, path, kinds, counts) -> None:
        try:
            result = vtiles.cut_tiles(path, kinds, self.folder.name, cancel=self._cancel.is_set, counts=counts)
        except BaseException as exc:  # noqa: BLE001 - reported on the UI thread
            result = exc
        self.finished.emit(result)

    def stop(self) -> None:
        self._cancel.set()
        self._thread.join(timeout=10)


class SessionMap:
    def __init__(self, session: Session, view: MapView):
        self.session, self.view = session, view
        s = session
        s.reloaded.connect(self.show_all)
        s.layers_changed.connect(self.replace)
        s.filters_changed.connect(self.apply_filters)
        s.visibility_changed.connect(view.set_visible)
        s.order_changed.connect(view.set_order)
        s.selection_changed.connect(self.select)
        s.focus_requested.connect(lambda layer_id, fid: self.select(layer_id, fid, True))
        s.overlay_changed.connect(self.show_overlay)
        s.view_requested.connect(self.show_box)
        s.density_changed.connect(lambda spec: view.set_choropleth("risk_group_estimates", spec))
        s.mode_changed.connect(view.set_mode)
        s.basemap_changed.connect(self.set_basemap)
        view.featureClicked.connect(self._on_clicked)
        view.featureActivated.connect(s.activate)
        view.mapClicked.connect(lambda lat, lng: s.pick_point(lng, lat))
        view.polygonDrawn.connect(s.finish_polygon)
        view.modeCancelled.connect(lambda: s.set_mode(None))
        view.disposing.connect(self.stop_tiles)
        self.overlay_layers: dict[str, list[str]] = {}  # overlay name -> the ids of its layers on the map
        self.tiled: dict[str, str] = {}  # kind -> fingerprint of the fresh tiles the page draws it from
        self.tile_task: TileCut | None = None
        self._tiles_again = False

    def show_all(self, keep_view: bool = False) -> None:
        """Load the page with every layer, then the filters, overlays and density on top.

        The workspace's layers go as definitions only: each is built (``session.map_layer``) when
        the page asks for its features, in the map's worker thread, so opening stays responsive."""
        s = self.session
        self._find_tiles()
        layers = [self._stub(k) for k in s.order] + s.partner
        self.view.show_layers(layers, s.map_options(), keep_view=keep_view, source=s.map_layer,
                              view_source=s.view_answer)
        self.start_tiles()
        self._filters()
        for name in s.overlays:
            self.show_overlay(name)
        if s.density_group:
            s.show_density(s.density_group)

    def _filters(self) -> None:
        big = self.session.viewport_kinds()  # filtered by the app when the page asks for the view
        for k in self.session.frames:
            if k in big:
                continue
            fids = self.session.filter_fids(k)
            if fids is not None:
                self.view.set_filter(k, fids)

    def _stub(self, kind_id: str):
        s = self.session
        visible, synthetic = s.is_visible(kind_id), s.synthetic.get(kind_id, False)
        made_from = self.tiled.get(kind_id)
        if made_from:
            return tile_layer(kind_id, visible=visible, synthetic=synthetic, version=made_from[:16])
        return layer_stub(kind_id, visible=visible, synthetic=synthetic, viewport=kind_id in s.viewport_kinds())

    def replace(self, kinds) -> None:
        tiled = [k for k in kinds if k in vtiles.TILED_KINDS]
        if tiled:
            self._find_tiles(tiled)
        for k in kinds:
            self.view.replace_layer(self._stub(k))
        self._filters()
        if tiled:
            self.start_tiles()

    # -- vector tiles ------------------------------------------------------------------

    def _find_tiles(self, kinds=None) -> None:
        """Which basemap layers have tiles of their current rows (all of them, or ``kinds`` again)."""
        ws = self.session.workspace
        if ws is None:
            self.tiled = {}
        else:
            for k in kinds if kinds is not None else vtiles.TILED_KINDS:
                made_from = vtiles.fresh_fingerprint(ws, k)
                if made_from:
                    self.tiled[k] = made_from
                else:
                    self.tiled.pop(k, None)
            if kinds is None:
                self.tiled = {k: v for k, v in self.tiled.items() if k in vtiles.TILED_KINDS}
        self.view.set_tile_source(ws.path if ws is not None and self.tiled else None)

    def start_tiles(self) -> None:
        """Cut tiles for the big basemap layers that lack fresh ones, in a worker (a writable workspace only)."""
        ws = self.session.workspace
        if ws is None or ws.read_only:
            return
        if self.tile_task is not None:
            self._tiles_again = True  # look again when this build is done
            return
        kinds = [k for k in vtiles.TILED_KINDS if k not in self.tiled and vtiles.worth_tiling(ws, k)]
        if not kinds:
            return
        made_from = {k: vtiles.fingerprint(ws.db.conn, k) for k in kinds}
        cut = self.tile_task = TileCut(ws.path, kinds, {k: ws.count(k) for k in kinds})
        cut.finished.connect(lambda result: self._tiles_cut(cut, ws, result, made_from))
        cut.start()

    def _tiles_cut(self, cut: TileCut, ws, result, made_from: dict) -> None:
        """On the UI thread: store what was cut (if the workspace and its rows are still those), show it."""
        try:
            if cut is not self.tile_task:
                return  # stopped meanwhile
            self.tile_task = None
            if isinstance(result, BaseException):
                if not isinstance(result, vtiles.Cancelled):
                    print(f"lantern: {result}", file=sys.stderr)  # the GeoJSON basemap stays: nothing is lost
                return
            if ws is self.session.workspace:
                self._store(ws, result, made_from)
        finally:
            cut.folder.cleanup()
        if self._tiles_again:
            self._tiles_again = False
            self.start_tiles()

    def _store(self, ws, parts: dict, made_from: dict) -> None:
        stored = [k for k in parts if vtiles.store_tiles(ws, k, parts[k], made_from[k])]
        for k in stored:
            self.tiled[k] = made_from[k]
        if stored:
            self.view.set_tile_source(ws.path)
        for k in stored:
            self.view.replace_layer(self._stub(k))

    def stop_tiles(self) -> None:
        """Stop a build (the window closes): its child processes end within 50 ms, nothing is stored."""
        cut, self.tile_task = self.tile_task, None
        self._tiles_again = False
        if cut is not None:
            cut.stop()

    def apply_filters(self, _state) -> None:
        """Places are re-assessed within the filters; other layers are filtered in the page, big ones by
        the app when the page asks again for what is in view."""
        big = self.session.viewport_kinds()
        for k in self.session.frames:
            if k in PLACE_KINDS:
                self.view.replace_layer(self._stub(k))
            elif k in big:
                self.view.refresh_view(k)
            if not get_kind(k).is_basemap and k not in big:
                self.view.set_filter(k, self.session.filter_fids(k))

    def select(self, layer_id, fid, pan: bool) -> None:
        if layer_id is None or fid is None:
            return
        at = None
        if pan and layer_id in self.session.viewport_kinds():  # the page may not hold it: say where it is
            found = self.session.feature_location(layer_id, fid)
            at = None if found is None else (found[1], found[0])
        self.view.select_feature(layer_id, fid, pan=pan, at=at)

    def show_box(self, bbox) -> None:
        from gui.find_bar import fit_zoom

        west, south, east, north = bbox
        if not all(math.isfinite(v) for v in bbox):
            return  # nowhere on the map (a position no phone can take)
        zoom = fit_zoom(bbox, min(self.view.width(), self.view.height()))
        self.view.run_js(f"lantern.setView({(south + north) / 2!r}, {(west + east) / 2!r}, {int(zoom)});")

    def show_overlay(self, name: str) -> None:
        """Draw an overlay's layers; the layers it no longer has (all of them, when it is gone) are removed."""
        overlay = self.session.overlays.get(name)
        layers = overlay.layers if overlay is not None else []
        for layer_id in set(self.overlay_layers.get(name, ())) - {layer.id for layer in layers}:
            self.view.remove_layer(layer_id)
        self.overlay_layers[name] = [layer.id for layer in layers]
        if overlay is None:
            return
        for layer in overlay.layers:
            self.view.replace_layer(layer)
        if overlay.legends:
            self.view.set_extra_legends(overlay.legends)

    def set_basemap(self, online: bool) -> None:
        # reload so the page starts with the new network policy (a live page may keep the old one)
        self.view.set_basemap(online)
        if self.session.workspace is not None:
            self.show_all(keep_view=True)

    def _on_clicked(self, layer_id: str, fid: int) -> None:
        if not layer_id or fid < 0:
            self.session.select(None, None)
        else:
            self.session.select(layer_id, fid, pan=False)
