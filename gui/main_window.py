"""The main window: layer panel, map, attribute table, status bar, menus."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
)

from audit.annotations import PLACE_KINDS, place_assessments
from audit.filters import FilterState, visible_fids
from gui.attribute_table import AttributeTable
from gui.audit_controller import AuditController
from gui.filter_panel import FilterPanel
from gui.layer_panel import LayerPanel
from gui.map_view import MapView
from layers import queries
from layers.catalogue import kind as get_kind
from layers.catalogue import layer_kinds
from layers.errors import LanternError
from layers.workspace import Workspace
from mapping.compose import layer_from_frame, workspace_options

MAX_RECENT = 8
WINDOW_STATE_VERSION = 4  # bump when docks are added or renamed
GPKG_FILTER = "Lantern workspace (*.gpkg)"
IMPORT_FILTER = "GIS files (*.geojson *.json *.gpkg *.shp *.zip *.csv);;All files (*)"
OSM_FILTER = "OpenStreetMap extracts (*.osm.pbf *.pbf);;All files (*)"


class MainWindow(QMainWindow):
    workspaceChanged = Signal()

    def __init__(self, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings or QSettings()
        self.workspace: Workspace | None = None
        self.frames: dict = {}
        self.assessments: dict = {}
        self.filters = FilterState()

        self.map_view = MapView(self)
        self.setCentralWidget(self.map_view)
        self.layer_panel = LayerPanel(self)
        self.attribute_table = AttributeTable(self)
        self._add_dock(self.layer_panel, self.tr("Layers"), Qt.DockWidgetArea.LeftDockWidgetArea, "layers_dock")
        self.layer_panel.setMinimumWidth(345)
        self._add_dock(
            self.attribute_table, self.tr("Attribute table"), Qt.DockWidgetArea.BottomDockWidgetArea, "table_dock"
        )

        self.coords_label = QLabel()
        self.count_label = QLabel()
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().addPermanentWidget(self.coords_label)

        self.filter_panel = FilterPanel(self)
        filter_dock = self._add_dock(self.filter_panel, self.tr("Filters"), Qt.DockWidgetArea.LeftDockWidgetArea,
                                     "filters_dock")
        self.tabifyDockWidget(self.findChild(QDockWidget, "layers_dock"), filter_dock)
        self.findChild(QDockWidget, "layers_dock").raise_()

        from gui.outreach_panel import OutreachPanel

        self.outreach_panel = OutreachPanel(self)
        outreach_dock = self._add_dock(self.outreach_panel, self.tr("Outreach planning"),
                                       Qt.DockWidgetArea.LeftDockWidgetArea, "outreach_dock")
        self.tabifyDockWidget(filter_dock, outreach_dock)
        self.findChild(QDockWidget, "layers_dock").raise_()

        self._build_menus()
        self.audit = AuditController(self, self.settings)
        from gui.assessment_panel import AssessmentPanel

        self.assessment_panel = AssessmentPanel(self)
        assessment_dock = self._add_dock(self.assessment_panel, self.tr("Assessment"),
                                         Qt.DockWidgetArea.LeftDockWidgetArea, "assessment_dock")
        self.tabifyDockWidget(outreach_dock, assessment_dock)
        self.findChild(QDockWidget, "layers_dock").raise_()
        tools = self.audit.tools_menu
        tools.addSeparator()
        self.referral_action = tools.addAction(self.tr("&Referral helper…"), self.open_referral)
        self.gaps_action = tools.addAction(self.tr("Service &gaps…"), self.show_gaps)
        self.report_action = QAction(self.tr("Export assessment &report…"), self)
        self.report_action.triggered.connect(self._on_report)
        self.file_menu.insertAction(self.quit_action, self.report_action)
        self._connect()
        self._restore_geometry()
        self._update_title()

    # -- construction -----------------------------------------------------------------

    def _add_dock(self, widget, title: str, area, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        file_menu = self.file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.new_action = self._action(self.tr("&New workspace…"), self._on_new, "Ctrl+N")
        self.open_action = self._action(self.tr("&Open workspace…"), self._on_open, "Ctrl+O")
        self.recent_menu = file_menu.addMenu(self.tr("Open &recent"))
        self.import_action = self._action(self.tr("&Import layer…"), self._on_import, "Ctrl+I")
        self.import_osm_action = self._action(self.tr("Import &OpenStreetMap extract…"), self._on_import_osm, "Ctrl+Shift+I")
        self.save_as_action = self._action(self.tr("Save workspace &as…"), self._on_save_as, "Ctrl+Shift+S")
        self.share_action = self._action(self.tr("&Export for sharing…"), self._on_share, "Ctrl+Shift+X")
        self.import_package_action = self._action(self.tr("Import &partner package…"), self._on_import_package)
        self.quit_action = self._action(self.tr("&Quit"), self.close, "Ctrl+Q")
        file_menu.insertAction(self.recent_menu.menuAction(), self.new_action)
        file_menu.insertAction(self.recent_menu.menuAction(), self.open_action)
        file_menu.addSeparator()
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.import_osm_action)
        file_menu.addAction(self.import_package_action)
        file_menu.addSeparator()
        file_menu.addAction(self.share_action)
        file_menu.addSeparator()
        file_menu.addAction(self.save_as_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self._fill_recent_menu()

        view_menu = self.view_menu = self.menuBar().addMenu(self.tr("&View"))
        basemap_menu = view_menu.addMenu(self.tr("&Basemap"))
        self.basemap_action = self._action(
            self.tr("Online OpenStreetMap tiles (sends your map area to the tile server)"),
            self._on_basemap_toggled,
            checkable=True,
        )
        basemap_menu.addAction(self.basemap_action)
        self.zoom_layer_action = self._action(self.tr("Zoom to selected feature"), self._on_zoom_selected, "Ctrl+J")
        view_menu.addAction(self.zoom_layer_action)

        help_menu = self.help_menu = self.menuBar().addMenu(self.tr("&Help"))
        help_menu.addAction(self._action(self.tr("&Method: risk surface and site selection"), self._on_method_help))
        help_menu.addAction(self._action(self.tr("&About Lantern"), self._on_about))

        for action in (self.import_action, self.import_osm_action, self.save_as_action, self.zoom_layer_action,
                       self.share_action, self.import_package_action):
            action.setEnabled(False)

    def _connect(self) -> None:
        self.layer_panel.visibilityChanged.connect(self._on_visibility_changed)
        self.layer_panel.orderChanged.connect(self.map_view.set_order)
        self.layer_panel.currentLayerChanged.connect(self._on_current_layer_changed)
        self.attribute_table.featureSelected.connect(self._on_row_selected)
        self.map_view.featureClicked.connect(self._on_feature_clicked)
        self.map_view.cursorMoved.connect(self._on_cursor_moved)
        self.filter_panel.filtersChanged.connect(self.apply_filters)

    # -- workspace --------------------------------------------------------------------

    def open_workspace(self, path: str | Path) -> bool:
        """Open a workspace file; on failure show why and keep the current one."""
        try:
            workspace = Workspace.open(path, lock_now="try", what="Lantern window")  # read-only if another writer has it
        except LanternError as exc:
            self._error(self.tr("Cannot open workspace"), str(exc))
            return False
        self._set_workspace(workspace)
        self._remember_recent(Path(path))
        return True

    def _set_workspace(self, workspace: Workspace) -> None:
        if self.workspace is not None:
            self.workspace.close()
        self.workspace = workspace
        for action in (self.import_action, self.import_osm_action, self.save_as_action, self.zoom_layer_action,
                       self.share_action, self.import_package_action):
            action.setEnabled(True)
        self.audit.workspace_opened(workspace)
        self.filters = FilterState()
        self.reload()
        self.assessment_panel.refresh()
        self._set_date_span()
        if workspace.notices:  # an interrupted write rolled back, or why it is read-only
            self.statusBar().showMessage(" ".join(workspace.notices), 20000)
        if not hasattr(self, "disk_timer"):  # notice changes made on disk by another program
            from PySide6.QtCore import QTimer

            self.disk_timer = QTimer(self, interval=1500, timeout=self.check_disk)
            self.disk_timer.start()
        self.workspaceChanged.emit()

    def check_disk(self) -> None:
        """The file was changed or replaced by someone else: reload what is shown, and say so."""
        message = self.workspace.sync_with_disk() if self.workspace is not None else None
        if message:
            self.reload(keep_view=True)
            self.statusBar().showMessage(message, 10000)

    def reload(self, keep_view: bool = False) -> None:
        """Read every layer and redraw the map, keeping visibility, order and the current layer."""
        ws = self.workspace
        if ws is None:
            return
        current = self.layer_panel.current_layer()
        order = [k for k in self.layer_panel.layer_ids() if k in layer_kinds()] or list(layer_kinds())
        order += [k for k in layer_kinds() if k not in order]
        visible = {k: self.layer_panel.is_visible(k) if self.layer_panel.item_for(k) else True for k in order}
        self.frames = {k: ws.read_layer(k) for k in order}
        self.synthetic = {k: bool(ws.layer_info(k)["synthetic"]) for k in order}
        self._assess()
        partner = self._partner_layers()
        self.layer_panel.set_layers(
            [{"id": k, "count": len(self.frames[k]), "visible": visible[k], "synthetic": self.synthetic[k]}
             for k in order]
            + [{"id": p.id, "label": p.label, "count": len(p.geojson["features"]), "visible": p.visible,
                "partner": True} for p in partner]
        )
        layers = [self._map_layer(k, visible[k]) for k in order] + partner
        self.map_view.show_layers(layers, workspace_options(ws), keep_view=keep_view)
        for k in order:
            fids = visible_fids(k, self.frames[k], self.filters)
            if fids is not None:
                self.map_view.set_filter(k, fids)
        self.layer_panel.select_layer(current or order[-1])
        self._show_table(self.layer_panel.current_layer())
        self._update_title()

    def _partner_layers(self):
        """Imported partner layers: read-only, drawn on top in a neutral style, labelled with their origin."""
        from mapping.features import partner_layers

        return partner_layers(self.workspace)

    def _assess(self) -> None:
        f = self.filters
        self.assessments = place_assessments(self.workspace, f.as_of(), forms=f.forms, confidence=f.confidence,
                                             date_from=f.date_from)

    def _map_layer(self, kind_id: str, visible: bool = True):
        from audit.estimates import densities

        frame = self.frames[kind_id]
        risk = extra = tips = None
        if kind_id in PLACE_KINDS:
            risk = {fid: (a.level, a.explain()) for (table, fid), a in self.assessments.items() if table == kind_id}
        elif kind_id == "risk_group_estimates":
            dense = densities(frame)
            extra = {int(fid): {"group": g, "density": round(float(d), 1)}
                     for fid, g, d in zip(dense.index, dense["risk_group"], dense["density"])}
            groups = {c.id: c.label for c in get_kind(kind_id).field("risk_group").choices}
            tips = {int(fid): self.tr("{group}: {n} people, {d:.0f} per km² · {src}, {date} ({conf})").format(
                group=groups.get(r.risk_group, r.risk_group), n=r.estimate, d=r.density, src=r.source_institution,
                date=r.estimated_on, conf=r.confidence) for fid, r in zip(dense.index, dense.itertuples())}
        return layer_from_frame(kind_id, frame, visible=visible, synthetic=self.synthetic.get(kind_id, False),
                                risk=risk, tips=tips, extra=extra)

    def refresh_layers(self, kind_ids) -> None:
        """After an edit: re-read these layers and send them to the map, without reloading the page."""
        ws = self.workspace
        if ws is None:
            return
        self._assess()
        for k in kind_ids:
            if k not in self.frames:
                continue
            self.frames[k] = ws.read_layer(k)
            self.map_view.replace_layer(self._map_layer(k, self.layer_panel.is_visible(k)))
            fids = visible_fids(k, self.frames[k], self.filters)
            if fids is not None:
                self.map_view.set_filter(k, fids)
            self.layer_panel.update_count(k, len(self.frames[k]))
        current = self.layer_panel.current_layer()
        if current in kind_ids:
            selected = self.attribute_table.selected_fid()
            self._show_table(current)
            if selected is not None:
                self.attribute_table.select_fid(selected)

    def filtered_frame(self, kind_id: str):
        frame = self.frames[kind_id]
        fids = visible_fids(kind_id, frame, self.filters)
        return frame if fids is None else frame[frame.index.isin(list(fids))]

    def apply_filters(self, state: FilterState) -> None:
        """The map and the attribute table follow the filters; risk levels are assessed within them."""
        self.filters = state
        if self.workspace is None:
            return
        self._assess()
        for k in self.frames:
            if k in PLACE_KINDS:
                self.map_view.replace_layer(self._map_layer(k, self.layer_panel.is_visible(k)))
            elif not get_kind(k).is_basemap:
                self.map_view.set_filter(k, visible_fids(k, self.frames[k], state))
        if self.audit.density_group:
            self.audit.show_density(self.audit.density_group)
        self._show_table(self.layer_panel.current_layer())
        shown = {k: len(self.filtered_frame(k)) for k in ("reported_cases", "risk_areas")}
        self.filter_panel.summary.setText(self.tr("Shown: {cases} reported case(s), {areas} risk area(s)").format(
            cases=shown["reported_cases"], areas=shown["risk_areas"]) if state.active else "")

    def _set_date_span(self) -> None:
        """The time slider spans the workspace's dated records (cases, annotations, estimates)."""
        import datetime as dt

        dates = [f"{m}-01" for m in self.frames.get("reported_cases", {}).get("reported", []) if m]
        dates += [d for d in self.frames.get("risk_group_estimates", {}).get("estimated_on", []) if d]
        dates += [d for d in queries.annotation_date_span(self.workspace.db.conn) if d]
        if dates:
            first = dt.date.fromisoformat(min(dates)[:10])
            last = max(dt.date.fromisoformat(max(dates)[:10]), dt.date.today())
            self.filter_panel.set_date_span(first, last)

    def select_feature(self, layer_id: str, fid: int) -> None:
        """Select a feature in the panel, the table and on the map."""
        self.layer_panel.select_layer(layer_id)
        self.attribute_table.select_fid(fid)
        self.map_view.select_feature(layer_id, fid, pan=False)

    def _show_table(self, layer_id: str | None) -> None:
        if layer_id is not None and self.workspace is not None and layer_id in self.workspace.partner_layers():
            frame = self.workspace.read_partner_layer(layer_id)
            self.attribute_table.set_frame(frame, None)  # read-only: no kind, so nothing is editable
            self.count_label.setText(self.tr("Partner layer (read-only): {n} feature(s)").format(n=len(frame)))
            return
        if layer_id is None or layer_id not in self.frames:
            self.attribute_table.set_frame(None, None)
            self.count_label.setText("")
            return
        frame = self.filtered_frame(layer_id)
        self.attribute_table.set_frame(frame, get_kind(layer_id))
        total = len(self.frames[layer_id])
        text = self.tr("{layer}: {n} feature(s)").format(layer=get_kind(layer_id).label, n=total)
        if len(frame) != total:
            text += " " + self.tr("({n} shown by the filters)").format(n=len(frame))
        self.count_label.setText(text)

    def _update_title(self) -> None:
        if self.workspace is None:
            self.setWindowTitle(self.tr("Lantern"))
        else:
            self.setWindowTitle(
                self.tr("{name} — {file} — Lantern").format(name=self.workspace.name, file=self.workspace.path.name)
                + (" " + self.tr("(read-only)") if self.workspace.read_only else "")
            )

    # -- handlers ---------------------------------------------------------------------

    def _on_visibility_changed(self, layer_id: str, visible: bool) -> None:
        self.map_view.set_visible(layer_id, visible)

    def _on_current_layer_changed(self, layer_id: str) -> None:
        self._show_table(layer_id)

    def _on_row_selected(self, fid: int) -> None:
        layer_id = self.layer_panel.current_layer()
        if layer_id:
            self.map_view.select_feature(layer_id, fid, pan=True)

    def _on_feature_clicked(self, layer_id: str, fid: int) -> None:
        if not layer_id or fid < 0:
            self.attribute_table.clearSelection()
            return
        if self.layer_panel.current_layer() != layer_id:
            self.layer_panel.select_layer(layer_id)
        self.attribute_table.select_fid(fid)
        self.statusBar().showMessage(self.tr("Selected feature {fid} of {layer}").format(
            fid=fid, layer=get_kind(layer_id).label), 4000)

    def _on_cursor_moved(self, lat: float, lng: float) -> None:
        self.coords_label.setText(self.tr("Lat {lat:.5f}, Lon {lng:.5f} (WGS 84)").format(lat=lat, lng=lng))

    def _on_zoom_selected(self) -> None:
        fid = self.attribute_table.selected_fid()
        layer_id = self.layer_panel.current_layer()
        if fid is not None and layer_id:
            self.map_view.select_feature(layer_id, fid, pan=True)

    def _on_basemap_toggled(self, on: bool) -> None:
        # reload so the page starts with the new network policy (a live page may keep the old one)
        self.map_view.set_basemap(on)
        self.reload(keep_view=True)
        self.statusBar().showMessage(
            self.tr("Online basemap on: tile requests reveal the map area to openstreetmap.org")
            if on else self.tr("Online basemap off: the map makes no network requests"), 6000)

    def _on_new(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(self, self.tr("New workspace"), "", GPKG_FILTER)
        if not path:
            return
        path = Path(path).with_suffix(".gpkg")
        try:
            workspace = Workspace.create(path, overwrite=path.exists())
        except LanternError as exc:
            self._error(self.tr("Cannot create workspace"), str(exc))
            return
        self._set_workspace(workspace)
        self._remember_recent(path)

    def _on_open(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, self.tr("Open workspace"), "", GPKG_FILTER)
        if path:
            self.open_workspace(path)

    def _on_save_as(self) -> None:
        if self.workspace is None:
            return
        path, _filter = QFileDialog.getSaveFileName(self, self.tr("Save workspace as"), "", GPKG_FILTER)
        if not path:
            return
        try:
            copy = self.workspace.save_as(Path(path).with_suffix(".gpkg"))
        except (LanternError, OSError) as exc:
            self._error(self.tr("Cannot save workspace"), str(exc))
            return
        self._set_workspace(copy)
        self._remember_recent(copy.path)

    def _on_import(self) -> None:
        if self.workspace is None:
            return
        path, _filter = QFileDialog.getOpenFileName(self, self.tr("Import layer"), "", IMPORT_FILTER)
        if path:
            self.import_file(path)

    def import_file(self, path: str | Path, kind_id: str | None = None, interactive: bool = True) -> bool:
        """Run the import dialog for ``path``; on success reload the map."""
        from gui.import_dialog import ImportDialog
        from layers.importers import import_file

        dialog = ImportDialog(path, kind_id or self.layer_panel.current_layer(), self)
        if interactive and dialog.exec() != ImportDialog.DialogCode.Accepted:
            return False
        try:
            report = import_file(self.workspace, path, dialog.kind_id, dialog.layer, dialog.mapping(),
                                 constants=dialog.constants(), skip_invalid=dialog.skip_invalid)
        except LanternError as exc:
            self._error(self.tr("Import failed — the workspace is unchanged"), str(exc))
            return False
        self.reload()
        self.layer_panel.select_layer(report.kind_id)
        self.statusBar().showMessage(report.summary(), 8000)
        return True

    def _on_import_osm(self) -> None:
        if self.workspace is None:
            return
        path, _filter = QFileDialog.getOpenFileName(self, self.tr("Import OpenStreetMap extract"), "", OSM_FILTER)
        if path:
            self.import_osm_extract(path)

    def import_osm_extract(self, path: str | Path, bbox=None):
        """Import an OSM extract into the open workspace in a worker, with a cancellable progress dialog.

        The worker reads and validates the extract (writing nothing); the result is
        then written into the open workspace in one transaction, so a cancel or an
        error changes nothing and the file is never swapped under the connection.
        """
        from gui.tasks import Task
        from layers.osm import prepare_extract

        progress = QProgressDialog(self.tr("Reading {name}…").format(name=Path(path).name), self.tr("Cancel"), 0, 100, self)
        progress.setWindowTitle(self.tr("Import OpenStreetMap extract"))
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.setValue(0)
        task = Task(lambda report, cancelled: prepare_extract(path, bbox, progress=report, cancelled=cancelled), self)
        task.progressed.connect(lambda fraction, message: (progress.setValue(int(fraction * 100)), progress.setLabelText(message)))
        progress.canceled.connect(task.cancel)
        task.succeeded.connect(lambda result: self._on_osm_imported(result, progress))
        task.failed.connect(lambda exc: self._on_osm_failed(exc, progress))
        self.osm_task, self.osm_progress = task, progress
        for action in (self.import_action, self.import_osm_action, self.open_action, self.new_action):
            action.setEnabled(False)
        task.start()
        return task

    def _end_osm_task(self, progress: QProgressDialog) -> None:
        progress.close()
        for action in (self.import_action, self.import_osm_action, self.open_action, self.new_action):
            action.setEnabled(True)

    def _on_osm_imported(self, extract, progress: QProgressDialog) -> None:
        from layers.osm import Cancelled, write_extract

        if self.osm_task.cancel_requested:  # Cancel pressed while the last objects were read: nothing is written
            self._on_osm_failed(Cancelled(self.tr("Import cancelled; nothing was changed.")), progress)
            return
        self._end_osm_task(progress)
        try:  # written in place, in one transaction: the file is never swapped under an open connection
            report = write_extract(self.workspace, extract)
        except LanternError as exc:
            self._error(self.tr("OpenStreetMap import failed — the workspace is unchanged"), str(exc))
            return
        self.reload()
        self.statusBar().showMessage(report.summary(), 15000)

    def _on_osm_failed(self, exc: BaseException, progress: QProgressDialog) -> None:
        from layers.osm import Cancelled

        self._end_osm_task(progress)
        if isinstance(exc, Cancelled):
            self.last_error = str(exc)
            self.statusBar().showMessage(str(exc), 8000)
        elif isinstance(exc, LanternError):
            self._error(self.tr("OpenStreetMap import failed — the workspace is unchanged"), str(exc))
        else:
            self._error(self.tr("OpenStreetMap import failed — the workspace is unchanged"),
                        f"{type(exc).__name__}: {exc}\n\n{getattr(exc, 'formatted', '')}")

    def _on_share(self, _checked=False, fmt: str | None = None) -> None:
        from gui.export_dialog import ExportDialog

        if self.workspace is None:
            return
        dialog = ExportDialog(self)
        if fmt:
            dialog.format.setCurrentIndex(dialog.format.findData(fmt))
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        try:
            files = dialog.run_export()
        except (LanternError, OSError) as exc:
            self._error(self.tr("Export stopped — nothing was shared"), str(exc))
            return
        where = files[0].parent if files else ""
        self.statusBar().showMessage(self.tr("Exported {n} file(s) to {where}").format(n=len(files), where=where), 10000)

    def _on_import_package(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, self.tr("Import partner package"), "", GPKG_FILTER)
        if path:
            self.import_package(path)

    def import_package(self, path) -> bool:
        from layers.packages import import_package

        try:
            report = import_package(self.workspace, path, ask=lambda signer: self._ask_trust(signer, path))
        except LanternError as exc:
            self._error(self.tr("Package refused — the workspace is unchanged"), str(exc))
            return False
        self.reload(keep_view=True)
        self.statusBar().showMessage(report.summary(), 10000)
        return True

    def _ask_trust(self, signer, path) -> bool:
        """First package from a new key: show its fingerprint and municipality (as plain text) and ask."""
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Trust this partner's key?"), signer.question(path),
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def open_referral(self, interactive: bool = True):
        from gui.referral_dialog import ReferralDialog

        if self.workspace is None:
            return None
        layer_id, fid = self.layer_panel.current_layer(), self.attribute_table.selected_fid()
        location = None
        if fid is not None and layer_id in self.frames:
            geom = self.frames[layer_id].geometry.loc[fid]
            if geom is not None:
                point = geom.representative_point()
                location = (point.x, point.y)
        dialog = ReferralDialog(self, location)
        if interactive:
            dialog.open()
        return dialog

    def show_gaps(self, distance: float | None = None, assistance: str | None = "crisis_intervention"):
        """Risk areas and cells without a suitable service within a distance: a map layer and a table."""
        from PySide6.QtWidgets import QInputDialog

        from audit.gaps import GAP_DISTANCE, service_gaps
        from mapping.features import gaps_layer
        from mapping.risk_surface import compute

        if self.workspace is None:
            return None
        if distance is None:
            distance, ok = QInputDialog.getInt(self, self.tr("Service gaps"),
                                               self.tr("No service offering crisis intervention within (m):"),
                                               GAP_DISTANCE, 50, 10000, 50)
            if not ok:
                return None
        gaps = service_gaps(self.workspace.read_layer("services"), self.workspace.read_layer("risk_areas"),
                            compute(self.workspace).cells, float(distance), assistance)
        self.map_view.replace_layer(gaps_layer(gaps, self.tr("Service gaps ({d:.0f} m)").format(d=distance),
                                               self.tr("{what} {name}: nearest suitable service {d:.0f} m")))
        self.statusBar().showMessage(self.tr("{n} gap(s): risk areas or cells farther than {d:.0f} m from a suitable "
                                             "service").format(n=len(gaps), d=distance), 10000)
        self.gaps = gaps
        return gaps

    def _on_report(self) -> None:
        """The district report is one format of Export for sharing: the same dialog, set to the report."""
        self._on_share(fmt="report")

    def export_report(self, path, lang: str = "en", profile: str = "public", recipient: str = "",
                      confirm_police: bool = False, overwrite: bool = False):
        """Write the district report in a worker (the same export path, checks and log as every shared file)."""
        from gui.tasks import Task
        from mapping.share_export import export

        ws = self.workspace
        author = str(self.settings.value("audit/author", "") or "")
        progress = QProgressDialog(self.tr("Writing the report…"), self.tr("Cancel"), 0, 0, self)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)
        task = Task(lambda report, cancelled: export(ws, profile, "report", path, recipient=recipient,
                                                     confirm_police=confirm_police, author=author,
                                                     overwrite=overwrite, lang=lang)[0], self)
        task.succeeded.connect(lambda files: (progress.close(), self.statusBar().showMessage(
            self.tr("Report written: {pdf} and {html}").format(pdf=files[0], html=files[1]), 10000)))
        task.failed.connect(lambda exc: (progress.close(), self._error(self.tr("The report was not written"), str(exc))))
        self.report_task = task
        task.start()
        return task

    def _on_method_help(self) -> None:
        from mapping import site_selection
        from mapping.risk_surface import method_text

        text = method_text() + "\n\n" + (site_selection.__doc__ or "").strip()
        box = QMessageBox(QMessageBox.Icon.Information, self.tr("Method"), text, QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()

    def _on_about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About Lantern"),
            self.tr(
                "Lantern — a desktop GIS for municipal teams working against human trafficking.\n\n"
                "Works offline; online tiles only when you switch them on. "
                "Reported cases carry no personal identifiers."
            ),
        )

    def _error(self, title: str, message: str) -> None:
        self.last_error = message
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()

    # -- settings ---------------------------------------------------------------------

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value or []]

    def _remember_recent(self, path: Path) -> None:
        path_s = str(path.resolve())
        recent = [path_s] + [p for p in self.recent_files() if p != path_s]
        self.settings.setValue("recent_files", recent[:MAX_RECENT])
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for i, path in enumerate(recent):
            action = self.recent_menu.addAction(f"&{i + 1} {Path(path).name}")
            action.setToolTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_workspace(p))
        self.recent_menu.setEnabled(bool(recent))

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 880)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state, WINDOW_STATE_VERSION)  # ignored when saved by an older layout

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(WINDOW_STATE_VERSION))
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None
        self.map_view.dispose()
        super().closeEvent(event)
