"""What is open and shown, without Qt: the model every window view observes.

As napari's ``ViewerModel`` holds its layers and emits events that its Qt
window only listens to, a :class:`Session` holds the open workspace, its
layers as map layers, their visibility and order, the filters, the places'
risk assessments, the selection, the undo history and the map overlays
(outreach plans, service gaps, density). Views call its methods and redraw
when its psygnal signals fire; they never reach into each other. Everything
here runs and is tested without QtWebEngine.
"""
from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path

from psygnal import Signal

from audit.annotations import PLACE_KINDS, place_assessments
from audit.commands import Command, History
from audit.estimates import TABLE as ESTIMATES
from audit.filters import FilterState, applies_to, row_filter, visible_fids
from layers import queries, viewport
from layers.catalogue import kind as get_kind
from layers.catalogue import layer_kinds
from layers.errors import LanternError
from layers.i18n import _
from layers.migrations import ANNOTATIONS_TABLE
from layers.workspace import Workspace
from mapping.compose import MapLayer, MapOptions, workspace_options
from mapping.layer_frames import LayerFrames
from mapping.viewport_index import DRAW_AT_MOST, VIEWPORT_ABOVE, ViewportIndex


@dataclass
class Overlay:
    """Map layers a tool adds on top of the workspace (an outreach plan, service gaps)."""

    layers: list[MapLayer]
    legends: list[dict] = field(default_factory=list)


class Session:
    """The open workspace and everything about how it is shown."""

    opened = Signal()  # a workspace was opened, created or closed
    reloaded = Signal(bool)  # every layer re-read (opening, an import, an outside change); keep the map's view?
    layers_changed = Signal(tuple)  # these layers were re-read after an edit, undo or redo
    edited = Signal(tuple)  # tables touched by a command, undo or redo
    filters_changed = Signal(object)  # FilterState
    visibility_changed = Signal(str, bool)
    order_changed = Signal(list)  # bottom to top
    current_layer_changed = Signal(object)  # layer id or None
    selection_changed = Signal(object, object, bool)  # layer id, fid (None: nothing), pan the map to it
    focus_requested = Signal(str, int)  # show this feature on the map (e.g. an outreach site), selecting nothing
    view_requested = Signal(object)  # show this box (west, south, east, north) on the map
    activated = Signal(str, int)  # a feature double-clicked: open it (places: the annotation form)
    overlay_changed = Signal(str)  # overlay name
    density_changed = Signal(object)  # choropleth spec or None
    mode_changed = Signal(object)  # None, "place" or "polygon": what the next map clicks do
    point_picked = Signal(object, float, float)  # owner of the mode, lon, lat
    polygon_drawn = Signal(object, object)  # owner of the mode, shapely Polygon
    basemap_changed = Signal(bool)
    message = Signal(str)  # a status message worth showing (outside change, notices)

    def __init__(self, author: str = ""):
        self.busy = False  # a long import writes through the workspace's connection: no edit meanwhile
        self.workspace: Workspace | None = None
        self.frames: LayerFrames = LayerFrames()
        self.counts: dict[str, int] = {}  # features per layer (rows), kept without reading them
        self.versions: dict[str, int] = {}  # bumped each time a layer's rows change
        self._indexes: dict = {}  # (kind, version, filters) -> ViewportIndex
        self._row_counts: dict = {}  # (kind, version, filters) -> rows within the filters
        self._index_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.synthetic: dict[str, bool] = {}
        self.partner: list[MapLayer] = []
        self.assessments: dict = {}
        self.filters = FilterState()
        self.order: list[str] = list(layer_kinds())
        self.visible: dict[str, bool] = {}
        self.current_layer: str | None = None
        self.selection: tuple[str, int] | None = None
        self.history: History | None = None
        self.overlays: dict[str, Overlay] = {}
        self.density_group: str | None = None
        self.mode: str | None = None
        self.mode_owner: object = None
        self.basemap_online = False
        self._author = author

    # -- the workspace ------------------------------------------------------------------

    def open(self, path: str | Path) -> Workspace:
        """Open a workspace file (read-only if another program writes it); raises LanternError."""
        workspace = Workspace.open(path, lock_now="try", what="Lantern window")
        self.set_workspace(workspace)
        return workspace

    def create(self, path: str | Path) -> Workspace:
        path = Path(path)
        workspace = Workspace.create(path, overwrite=path.exists())
        self.set_workspace(workspace)
        return workspace

    def save_as(self, path: str | Path) -> Workspace:
        copy = self.workspace.save_as(Path(path))
        self.set_workspace(copy)
        return copy

    def set_workspace(self, workspace: Workspace) -> None:
        if self.workspace is not None:
            self.workspace.close()
        self.frames.close()
        self.workspace = workspace
        self.history = History(workspace, author=self._author)
        self.filters = FilterState()
        self.overlays.clear()
        self.selection = None
        self.density_group = None
        self.reload()
        self.opened.emit()
        for notice in workspace.notices:  # an interrupted write rolled back, or why it is read-only
            self.message.emit(notice)

    def close(self) -> None:
        if self.workspace is not None:
            self.workspace.close()
        self.workspace = None
        self.history = None
        self.frames.close()
        self.frames = LayerFrames()
        self.counts = {}
        self._indexes = {}
        self.opened.emit()

    @property
    def writable(self) -> bool:
        return self.workspace is not None and not self.workspace.read_only

    @property
    def author(self) -> str:
        return self._author

    @author.setter
    def author(self, name: str) -> None:
        self._author = name
        if self.history is not None:
            self.history.author = name

    def sync_with_disk(self) -> str | None:
        """Reload when another program changed or replaced the file; returns what happened."""
        text = self.workspace.sync_with_disk() if self.workspace is not None else None
        if text:
            self.reload(keep_view=True)
            self.message.emit(text)
        return text

    # -- reading layers -----------------------------------------------------------------

    def reload(self, keep_view: bool = False) -> None:
        """Forget every layer's rows (each is read again when first needed), assess the places, tell the views.

        Nothing here reads a layer's rows: opening a city workspace costs its counts, not its size."""
        ws = self.workspace
        if ws is None:
            return
        self.order = [k for k in self.order if k in layer_kinds()] + [k for k in layer_kinds() if k not in self.order]
        self.frames.close()
        self.frames = LayerFrames(ws, self.order)
        self.counts = {k: ws.count(k) for k in self.order}
        self.versions = {k: self.versions.get(k, 0) + 1 for k in self.order}
        self._indexes = {}
        self.synthetic = {k: bool(ws.layer_info(k)["synthetic"]) for k in self.order}
        from mapping.features import partner_layers

        self.partner = partner_layers(ws)
        self._assess()
        if self.current_layer not in self.frames and self.current_layer not in ws.partner_layers():
            self.current_layer = self.order[-1]
        self.reloaded.emit(keep_view)

    def refresh(self, kinds) -> None:
        """Re-read these layers after an edit (the map is updated, not reloaded)."""
        if self.workspace is None:
            return
        self._assess()
        kinds = tuple(k for k in kinds if k in self.frames)
        for k in kinds:
            self.frames.invalidate(k)
            self.counts[k] = self.workspace.count(k)
            self.versions[k] = self.versions.get(k, 0) + 1
        self.layers_changed.emit(kinds)

    def _assess(self) -> None:
        f = self.filters
        self.assessments = place_assessments(self.workspace, f.as_of(), forms=f.forms, confidence=f.confidence,
                                             date_from=f.date_from)

    def is_visible(self, layer_id: str) -> bool:
        return self.visible.get(layer_id, True)

    def map_layer(self, kind_id: str) -> MapLayer:
        """A workspace layer as the map draws it: styled, with risk levels or densities."""
        from mapping.features import workspace_layer

        return workspace_layer(kind_id, self.frames[kind_id], self.is_visible(kind_id),
                               self.synthetic.get(kind_id, False), self.assessments)

    def viewport_kinds(self) -> set[str]:
        """Layers the map draws from the view's box (too many features to send whole); never the basemap."""
        return {k for k in self.order if self.counts.get(k, 0) > VIEWPORT_ABOVE and not get_kind(k).is_basemap}

    def view_answer(self, kind_id: str, bbox, zoom: float) -> dict:
        """What the map draws of a big layer in ``bbox`` (west, south, east, north) at ``zoom``.

        ``{"mode": "bins", "bins": [[lat, lng, count], ...], "total": n}`` while more than DRAW_AT_MOST
        features (within the filters) are in view, else ``{"mode": "features", "geojson": ...}`` styled as
        ``map_layer``. Safe to call from a worker thread (it reads through that thread's connection)."""
        from layers.layer_reader import read_frame
        from mapping.features import workspace_layer

        index = self._viewport_index(kind_id)
        inside = index.inside(bbox)
        total = int(inside.sum())
        if total > DRAW_AT_MOST:
            return {"mode": "bins", "bins": index.bins(inside, zoom), "total": total}
        where, params = viewport.rows_with_fids(index.fids[inside])
        frame = read_frame(self.frames.connection(), kind_id, where, params)
        layer = workspace_layer(kind_id, frame, self.is_visible(kind_id), self.synthetic.get(kind_id, False),
                                self.assessments)
        return {"mode": "features", "geojson": layer.geojson, "total": total}

    def _viewport_index(self, kind_id: str) -> ViewportIndex:
        rows = row_filter(kind_id, self.filters)
        key = (kind_id, self.versions.get(kind_id, 0), rows)
        with self._index_lock:
            index = self._indexes.get(key)
            if index is None:
                index = ViewportIndex.load(self.frames.connection(), kind_id, rows)
                self._indexes = {k: v for k, v in self._indexes.items() if k[0] != kind_id}
                self._indexes[key] = index
        return index

    def feature_location(self, kind_id: str, fid: int) -> tuple[float, float] | None:
        """(lon, lat) of a feature's box centre, without reading its layer."""
        return viewport.location(self.workspace.db.conn, kind_id, fid)

    def map_layers(self) -> list[MapLayer]:
        """Every layer the map shows, bottom to top, partner layers on top."""
        return [self.map_layer(k) for k in self.order] + self.partner

    def map_options(self) -> MapOptions:
        return workspace_options(self.workspace, basemap=self.basemap_online)

    def layer_rows(self) -> list[dict]:
        """What the layer list shows, bottom to top."""
        rows = [{"id": k, "count": self.counts[k], "visible": self.is_visible(k), "synthetic": self.synthetic[k]}
                for k in self.order]
        return rows + [{"id": p.id, "label": p.label, "count": len(p.geojson["features"]), "visible": p.visible,
                        "partner": True} for p in self.partner]

    def filter_fids(self, kind_id: str) -> set[int] | None:
        """The fids of a layer the filters let through; None when they do not apply to it."""
        if not applies_to(kind_id, self.filters):
            return None  # nothing to read
        return visible_fids(kind_id, self.frames[kind_id], self.filters)

    def filtered_frame(self, kind_id: str):
        frame = self.frames[kind_id]
        fids = self.filter_fids(kind_id)
        return frame if fids is None else frame[frame.index.isin(list(fids))]

    def table(self, layer_id: str | None):
        """(frame, kind, total) for the attribute table; kind is None for read-only partner layers."""
        ws = self.workspace
        if layer_id is not None and ws is not None and layer_id in ws.partner_layers():
            frame = ws.read_partner_layer(layer_id)
            return frame, None, len(frame)
        if layer_id is None or layer_id not in self.frames:
            return None, None, 0
        if self.is_paged(layer_id):
            return self.paged_rows(layer_id), get_kind(layer_id), self.counts[layer_id]
        return self.filtered_frame(layer_id), get_kind(layer_id), self.counts[layer_id]

    def is_paged(self, layer_id: str | None) -> bool:
        """The layer is too big to read whole: its table is read a page at a time (``paged_rows``)."""
        return layer_id in self.viewport_kinds() and not self.frames.is_loaded(layer_id)

    def paged_rows(self, layer_id: str):
        """A big layer's rows within the filters, for its table; counting them is a scan of the layer, so
        a window asks from a worker (this reads through the calling thread's connection)."""
        from mapping.table_rows import PagedRows

        rows = PagedRows(self.frames.connection, layer_id, row_filter(layer_id, self.filters),
                         self.row_count(layer_id))
        rows.load(0)
        return rows

    def date_span(self) -> tuple[dt.date, dt.date] | None:
        """First and last date of the workspace's dated records (cases, annotations, estimates)."""
        conn = self.frames.connection()  # this thread's: a worker may ask (a city's span is a long scan)
        dates = [f"{m}-01" for m in viewport.span(conn, "reported_cases", "reported") if m]
        dates += [d for d in viewport.span(conn, ESTIMATES, "estimated_on") if d]
        dates += [d for d in queries.annotation_date_span(conn) if d]
        if not dates:
            return None
        first = dt.date.fromisoformat(min(dates)[:10])
        return first, max(dt.date.fromisoformat(max(dates)[:10]), dt.date.today())

    def shown_counts(self) -> dict[str, int]:
        """Cases and risk areas within the filters, counted by the database."""
        return {k: self.row_count(k) for k in ("reported_cases", "risk_areas") if k in self.frames}

    def row_count(self, kind_id: str) -> int:
        """Rows of a layer within the filters, counted by the database once per filter state and version."""
        rows = row_filter(kind_id, self.filters)
        if rows is None:
            return self.counts[kind_id]
        key = (kind_id, self.versions.get(kind_id, 0), rows)
        with self._count_lock:  # a second thread asking the same waits for the first's count
            if key not in self._row_counts:
                self._row_counts = {k: v for k, v in self._row_counts.items() if k[0] != kind_id}
                self._row_counts[key] = viewport.count_rows(self.frames.connection(), kind_id, rows)
            return self._row_counts[key]

    def counted(self, kind_id: str) -> bool:
        """Whether ``row_count(kind_id)`` answers at once (no scan): unfiltered, or counted already."""
        rows = row_filter(kind_id, self.filters)
        return rows is None or (kind_id, self.versions.get(kind_id, 0), rows) in self._row_counts

    # -- what is shown --------------------------------------------------------------------

    def set_filters(self, state: FilterState) -> None:
        self.filters = state
        if self.workspace is not None:
            self._assess()
        self.filters_changed.emit(state)
        if self.density_group:
            self.show_density(self.density_group)

    def set_visible(self, layer_id: str, visible: bool) -> None:
        if self.visible.get(layer_id, True) != visible:
            self.visible[layer_id] = visible
            self.visibility_changed.emit(layer_id, visible)

    def set_order(self, layer_ids: list[str]) -> None:
        """Drawing order, bottom to top (partner layers may be listed; they stay on top)."""
        self.order = [k for k in layer_ids if k in layer_kinds()] + [k for k in self.order if k not in layer_ids]
        self.order_changed.emit(list(layer_ids))

    def set_current_layer(self, layer_id: str | None) -> None:
        if layer_id != self.current_layer:
            self.current_layer = layer_id
            if self.selection is not None and self.selection[0] != layer_id:
                self.selection = None
            self.current_layer_changed.emit(layer_id)

    def select(self, layer_id: str | None, fid: int | None, pan: bool = False) -> None:
        """Select a feature (None: nothing); its layer becomes the current one."""
        if layer_id is not None:
            self.set_current_layer(layer_id)
        self.selection = (layer_id, int(fid)) if layer_id is not None and fid is not None else None
        self.selection_changed.emit(layer_id, None if fid is None else int(fid), pan)

    def focus(self, layer_id: str, fid: int) -> None:
        """Pan to and highlight a feature of any map layer, overlays included."""
        self.focus_requested.emit(layer_id, int(fid))

    def show_box(self, bbox) -> None:
        """Show this box (west, south, east, north, EPSG:4326) on the map, as large as fits."""
        self.view_requested.emit(tuple(float(v) for v in bbox))

    def activate(self, layer_id: str, fid: int) -> None:
        self.select(layer_id, fid)
        self.activated.emit(layer_id, int(fid))

    def selected_row(self):
        """(layer id, fid, row) of the selected feature of a workspace layer, or None."""
        if self.selection is None or self.selection[0] not in self.frames:
            return None
        layer_id, fid = self.selection
        if self.frames.is_loaded(layer_id):
            frame = self.frames[layer_id]
        else:  # one row, not the whole layer
            from layers.layer_reader import read_frame

            frame = read_frame(self.workspace.db.conn, layer_id, "t.fid = ?", [int(fid)])
        return (layer_id, fid, frame.loc[fid]) if fid in frame.index else None

    def selected_location(self) -> tuple[float, float] | None:
        """A point (lon, lat) on the selected feature, for distances."""
        found = self.selected_row()
        if found is None or found[2].geometry is None:
            return None
        point = found[2].geometry.representative_point()
        return point.x, point.y

    def set_basemap(self, online: bool) -> None:
        self.basemap_online = online
        self.basemap_changed.emit(online)

    def set_overlay(self, name: str, overlay: Overlay | None) -> None:
        if overlay is None:
            self.overlays.pop(name, None)
        else:
            self.overlays[name] = overlay
        self.overlay_changed.emit(name)

    def show_density(self, group: str | None) -> dict | None:
        """Choropleth of one risk group's estimated density (people per km²); None switches it off."""
        from audit.catalogue import risk_groups
        from audit.estimates import class_breaks, densities
        from layers.i18n import label
        from mapping.features import choropleth

        self.density_group = group
        spec = None
        if group is not None and ESTIMATES in self.frames:
            frame = self.filtered_frame(ESTIMATES)
            frame = densities(frame[frame["risk_group"] == group])
            name = next(label(g) for g in risk_groups() if g["id"] == group)
            spec = choropleth(group, _("{group}: people per km²").format(group=name),
                              class_breaks(frame["density"]) or [0])
            self.set_visible(ESTIMATES, True)
        self.density_changed.emit(spec)
        return spec

    def compute_gaps(self, distance: float, assistance: str | None = "crisis_intervention"):
        """Risk areas and cells with no suitable service within ``distance`` m, and their map overlay.

        Reads the workspace and changes nothing, so a worker thread may run it."""
        from audit.gaps import service_gaps
        from mapping.features import gaps_layer
        from mapping.risk_surface import compute

        ws, frames = self.workspace, self.frames  # the frames read through this thread's own connection
        gaps = service_gaps(frames["services"], frames["risk_areas"], compute(ws).cells, float(distance), assistance,
                            streets=frames["basemap_roads"])
        layer = gaps_layer(gaps, _("Service gaps ({d:.0f} m)").format(d=distance),
                           _("{what} {name}: nearest suitable service {d:.0f} m"))
        return gaps, Overlay([layer])

    def show_gaps(self, distance: float, assistance: str | None = "crisis_intervention"):
        """Compute the service gaps and show them as an overlay."""
        gaps, overlay = self.compute_gaps(distance, assistance)
        self.set_overlay("gaps", overlay)
        return gaps

    # -- map interaction ------------------------------------------------------------------

    def set_mode(self, mode: str | None, owner: object = None) -> None:
        """What the next map clicks do, and who asked: only the owner hears the result."""
        self.mode, self.mode_owner = mode, owner if mode else None
        self.mode_changed.emit(mode)

    def pick_point(self, lon: float, lat: float) -> None:
        """A click on the map while a mode is on."""
        owner = self.mode_owner
        if self.mode == "place":
            self.set_mode(None)
            self.point_picked.emit(owner, lon, lat)

    def finish_polygon(self, polygon) -> None:
        owner = self.mode_owner
        self.set_mode(None)
        self.polygon_drawn.emit(owner, polygon)

    # -- changes --------------------------------------------------------------------------

    def _refuse_while_busy(self) -> None:
        if self.busy:
            raise LanternError(_("An import is running: wait for it to finish (its Cancel would undo this "
                                 "change too)."))

    def do(self, command: Command) -> Command:
        """Run a change as one transaction with its change-log entry; raises LanternError/ValueError."""
        self._refuse_while_busy()
        self.history.do(command)
        self._after(command)
        return command

    def undo(self) -> Command | None:
        self._refuse_while_busy()
        command = self.history.undo() if self.history else None
        if command is not None:
            self._after(command)
        return command

    def redo(self) -> Command | None:
        self._refuse_while_busy()
        command = self.history.redo() if self.history else None
        if command is not None:
            self._after(command)
        return command

    def tables_changed(self, tables) -> None:
        """Tables written outside the undo history (field submissions imported into the queue): tell the views."""
        self.edited.emit(tuple(tables))

    def _after(self, command: Command) -> None:
        tables = tuple(command.tables)
        kinds = {t for t in tables if t != ANNOTATIONS_TABLE}
        if ANNOTATIONS_TABLE in tables:
            kinds |= set(PLACE_KINDS)
        self.refresh(kinds)
        if ESTIMATES in kinds and self.density_group:
            self.show_density(self.density_group)
        self.edited.emit(tables)
