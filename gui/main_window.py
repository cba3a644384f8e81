"""The main window: it lays out the views of one Session and builds the menus from the actions table.

It holds no workspace state of its own. The session (mapping/session.py) is
the model; the layer list, map, attribute table and panels observe it, and
the controllers (file, audit, tools) handle the menu commands.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QActionGroup, QCloseEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QToolBar

from gui.actions import build_menus, update_actions
from gui.assessment_panel import AssessmentPanel
from gui.attribute_table import AttributeTable
from gui.audit_controller import ESTIMATE_AREA, NEW_PLACE, AuditController
from gui.bookmarks import Bookmarks
from gui.file_controller import FileController
from gui.filter_panel import FilterPanel
from gui.find_bar import FindBar
from gui.incoming_panel import IncomingPanel
from gui.layer_panel import LayerPanel
from gui.map_view import MapView
from gui.measure import MeasureTool
from gui.notify import Notifier
from gui.outreach_panel import OutreachPanel
from gui.panels_menu import fill_panels_menu
from gui.session_map import SessionMap
from gui.shared_controller import SharedController, is_shared_address
from gui.tools_controller import ToolsController
from layers import i18n
from layers.catalogue import kind as get_kind
from layers.i18n import _, decimal
from mapping.measure import grid_text
from mapping.session import Session

WINDOW_STATE_VERSION = 5  # bump when docks are added or renamed
DISK_CHECK_MS = 1500  # how often to look for changes made to the file by another program


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings or QSettings()
        self.session = session = Session()
        self.notify = Notifier(self)
        self.busy = False

        self.map_view = MapView(self)
        self.setCentralWidget(self.map_view)
        self.session_map = SessionMap(session, self.map_view)
        self._build_docks()
        self.coords_label, self.count_label = QLabel(), QLabel()
        self.statusBar().addPermanentWidget(self.count_label)
        self.statusBar().addPermanentWidget(self.coords_label)
        self._build_gis_tools()

        self.files = FileController(session, self.notify, self.settings, self)
        self.audit = AuditController(session, self.notify, self.settings, self)
        self.tools = ToolsController(session, self.notify, self)
        self.shared = SharedController(session, self.notify, self.settings, self)
        self.actions = build_menus(self.menuBar(), self, {"window": self, "files": self.files, "audit": self.audit,
                                                          "tools": self.tools, "find": self.find_bar,
                                                          "shared": self.shared,
                                                          "bookmarks": self.bookmarks, "measure": self.measure})
        for name in ("bookmark_add", "measure"):
            self.gis_toolbar.addAction(self.actions[name])
        self._observe()
        self.disk_timer = QTimer(self, interval=DISK_CHECK_MS, timeout=self.session.sync_with_disk)
        self._restore_geometry()
        self._update()

    def _add_dock(self, widget, title: str, area, name: str, tab_with: QDockWidget | None = None) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        if tab_with is not None:
            self.tabifyDockWidget(tab_with, dock)
        return dock

    def _build_docks(self) -> None:
        s, left = self.session, Qt.DockWidgetArea.LeftDockWidgetArea
        self.layer_panel = LayerPanel(s, self)
        self.layer_panel.setMinimumWidth(345)
        self.attribute_table = AttributeTable(s, self.notify, self)
        self.filter_panel = FilterPanel(s, self)
        self.outreach_panel = OutreachPanel(s, self.notify, self)
        self.assessment_panel = AssessmentPanel(s, self.notify, self)
        layers = self._add_dock(self.layer_panel, _("Layers"), left, "layers_dock")
        self._add_dock(self.attribute_table, _("Attribute table"), Qt.DockWidgetArea.BottomDockWidgetArea,
                       "table_dock")
        filters = self._add_dock(self.filter_panel, _("Filters"), left, "filters_dock", tab_with=layers)
        outreach = self._add_dock(self.outreach_panel, _("Outreach planning"), left, "outreach_dock",
                                  tab_with=filters)
        assessment = self._add_dock(self.assessment_panel, _("Assessment"), left, "assessment_dock",
                                    tab_with=outreach)
        self.incoming_panel = IncomingPanel(s, self.notify, self)
        self.incoming_dock = self._add_dock(self.incoming_panel, _("Incoming"), left, "incoming_dock",
                                            tab_with=assessment)
        self.incoming_panel.countChanged.connect(lambda n: self.incoming_dock.setWindowTitle(
            _("Incoming ({n})").format(n=n) if n else _("Incoming")))  # how many wait, seen from any tab
        self.incoming_dock.visibilityChanged.connect(self.incoming_panel.set_on_screen)
        layers.raise_()

    def _build_gis_tools(self) -> None:
        """Find box (a toolbar), LKS-92 position and the measure panel (status bar), bookmarks."""
        self.find_bar = FindBar(self.session, self.map_view, self.notify, self)
        self.find_bar.setFixedWidth(360)
        self.gis_toolbar = toolbar = QToolBar(_("Find"), self)
        toolbar.setObjectName("find_toolbar")
        toolbar.setMovable(False)
        toolbar.addWidget(self.find_bar)
        self.addToolBar(toolbar)
        self.grid_label = QLabel()
        self.grid_label.setToolTip(_("LKS-92 / Latvia TM (EPSG:3059): X northing, Y easting, in metres"))
        self.statusBar().addPermanentWidget(self.grid_label)
        self.measure = MeasureTool(self.session, self.notify, self)
        self.statusBar().addWidget(self.measure)
        self.bookmarks = Bookmarks(self.session, self.map_view, self.notify, self)

    def _observe(self) -> None:
        """The window's own parts follow the session: title, enabled commands, status bar."""
        s = self.session
        for event in (s.opened, s.edited, s.selection_changed, s.mode_changed):
            event.connect(self._update)
        s.opened.connect(lambda: self.disk_timer.start() if s.workspace is not None else self.disk_timer.stop())
        s.message.connect(lambda text: self.notify.status(text, 15000))
        s.selection_changed.connect(self._on_selection)
        self.files.busyChanged.connect(self._set_busy)
        self.files.submissionsImported.connect(lambda _n: self.incoming_dock.raise_())
        self.incoming_panel.import_button.clicked.connect(self.actions["import_submissions"].trigger)
        self.attribute_table.summaryChanged.connect(self.count_label.setText)
        self.map_view.cursorMoved.connect(lambda lat, lng: self.coords_label.setText(
            _("Lat {lat}, Lon {lng} (WGS 84)").format(lat=decimal(lat, 5), lng=decimal(lng, 5))))
        self.map_view.cursorMoved.connect(lambda lat, lng: self.grid_label.setText(grid_text(lat, lng)))

    def _update(self, *_args) -> None:
        s = self.session
        update_actions(self.actions, s, self.busy)
        self.actions["add_place"].setChecked(s.mode == "place" and s.mode_owner == NEW_PLACE)
        self.actions["draw_estimate"].setChecked(s.mode == "polygon" and s.mode_owner == ESTIMATE_AREA)
        self.actions["measure"].setChecked(self.measure.measuring)
        ws, where = s.workspace, self.shared.where()  # a shared copy is named by its server, not its file
        if ws is None:
            self.setWindowTitle(_("Lantern"))
        else:
            self.setWindowTitle(_("{name} — {file} — Lantern").format(name=ws.name, file=where or ws.path.name)
                                + (" " + _("(read-only)") if ws.read_only else ""))

    def _set_busy(self, busy: bool) -> None:
        """A long import runs: commands that would write wait, and so does the check for outside changes (the
        import writes through the window's own connection)."""
        self.busy = busy
        self.session.busy = busy
        self.incoming_panel.set_busy(busy)
        if busy:
            self.disk_timer.stop()
        elif self.session.workspace is not None:
            self.disk_timer.start()
        self._update()

    def _on_selection(self, layer_id, fid, _pan) -> None:
        if layer_id is not None and fid is not None and layer_id in self.session.frames:
            self.notify.status(_("Selected feature {fid} of {layer}").format(
                fid=fid, layer=get_kind(layer_id).label), 4000)

    # -- commands the window itself handles ------------------------------------------------

    def open_workspace(self, path: str | Path):
        return self.shared.open_address(str(path)) if is_shared_address(path) else self.files.open_workspace(path)

    def toggle_basemap(self, on: bool) -> None:
        self.session.set_basemap(on)
        self.notify.status(
            _("Online basemap on: tile requests reveal the map area to openstreetmap.org")
            if on else _("Online basemap off: the map makes no network requests"), 6000)

    def fill_panels_menu(self, menu) -> None:
        fill_panels_menu(self, menu)

    def fill_language_menu(self, menu) -> None:
        """View → Language: every supported language by its own name, the current one checked."""
        self.language_group = group = QActionGroup(menu)
        for lang in i18n.SUPPORTED:
            action = menu.addAction(i18n.NAMES[lang])
            action.setCheckable(True)
            action.setChecked(lang == i18n.language())
            action.setData(lang)
            group.addAction(action)
        group.triggered.connect(lambda action: self.choose_language(action.data()))

    def choose_language(self, lang: str) -> None:
        """Remember the language for the next start (the window's texts are built once, at start-up)."""
        self.settings.setValue("language", lang)
        self.settings.sync()
        self.notify.status(_("The language will be {language} from the next start of Lantern.").format(
            language=i18n.NAMES[lang]), 15000)

    def print_map(self) -> None:
        """File → Print map…: the current view (or the district), the visible layers, a profile."""
        from gui.print_dialog import PrintDialog, printable_kinds
        from mapping.print_map import view_extent

        extent = None
        if self.map_view.last_view is not None:
            lat, lng, zoom = self.map_view.last_view
            extent = view_extent(lat, lng, zoom, self.map_view.view.width(), self.map_view.view.height())
        visible = [k for k in printable_kinds() if self.session.is_visible(k)]
        dialog = PrintDialog(self.session, extent, visible, self)
        dialog.printed.connect(lambda files: self.notify.finished(_("Map printed"), files))
        dialog.open()

    def focus_map(self) -> None:
        """Ctrl+M: keyboard focus to the map, where Leaflet pans with the arrow keys and zooms with +/−."""
        self.map_view.view.setFocus()
        self.map_view.run_js("var c = document.querySelector('.leaflet-container'); if (c) c.focus();")

    def zoom_to_selected(self) -> None:
        if self.session.selection is not None:
            self.session.select(*self.session.selection, pan=True)

    @property
    def last_error(self) -> str | None:
        return self.notify.last_error

    # -- settings ---------------------------------------------------------------------

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
        self.disk_timer.stop(), self.shared.stop()
        self.find_bar.dispose()
        self.session.close()
        self.map_view.dispose()
        super().closeEvent(event)
