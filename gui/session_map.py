"""The map pane observing the session: it redraws what the session says is shown.

The MapView itself knows nothing of workspaces; this binding turns session
events into small map updates (a layer replaced, a filter, the selection)
and the map's clicks back into session calls.
"""
from __future__ import annotations

from audit.annotations import PLACE_KINDS
from gui.map_view import MapView
from layers.catalogue import kind as get_kind
from mapping.compose import layer_stub
from mapping.session import Session


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
        s.focus_requested.connect(lambda layer_id, fid: view.select_feature(layer_id, fid, pan=True))
        s.overlay_changed.connect(self.show_overlay)
        s.density_changed.connect(lambda spec: view.set_choropleth("risk_group_estimates", spec))
        s.mode_changed.connect(view.set_mode)
        s.basemap_changed.connect(self.set_basemap)
        view.featureClicked.connect(self._on_clicked)
        view.featureActivated.connect(s.activate)
        view.mapClicked.connect(lambda lat, lng: s.pick_point(lng, lat))
        view.polygonDrawn.connect(s.finish_polygon)
        view.modeCancelled.connect(lambda: s.set_mode(None))

    def show_all(self, keep_view: bool = False) -> None:
        """Load the page with every layer, then the filters, overlays and density on top.

        The workspace's layers go as definitions only: each is built (``session.map_layer``) when
        the page asks for its features, in the map's worker thread, so opening stays responsive."""
        s = self.session
        layers = [self._stub(k) for k in s.order] + s.partner
        self.view.show_layers(layers, s.map_options(), keep_view=keep_view, source=s.map_layer)
        self._filters()
        for name in s.overlays:
            self.show_overlay(name)
        if s.density_group:
            s.show_density(s.density_group)

    def _filters(self) -> None:
        for k in self.session.frames:
            fids = self.session.filter_fids(k)
            if fids is not None:
                self.view.set_filter(k, fids)

    def _stub(self, kind_id: str):
        s = self.session
        return layer_stub(kind_id, visible=s.is_visible(kind_id), synthetic=s.synthetic.get(kind_id, False))

    def replace(self, kinds) -> None:
        for k in kinds:
            self.view.replace_layer(self._stub(k))
        self._filters()

    def apply_filters(self, _state) -> None:
        """Places are re-assessed within the filters; other layers are filtered in the page."""
        for k in self.session.frames:
            if k in PLACE_KINDS:
                self.view.replace_layer(self._stub(k))
            if not get_kind(k).is_basemap:
                self.view.set_filter(k, self.session.filter_fids(k))

    def select(self, layer_id, fid, pan: bool) -> None:
        if layer_id is not None and fid is not None:
            self.view.select_feature(layer_id, fid, pan=pan)

    def show_overlay(self, name: str) -> None:
        overlay = self.session.overlays.get(name)
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
