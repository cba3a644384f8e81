"""The audit in the window: annotate places, record estimates, undo/redo, verify, print checklists.

Every change goes through audit.commands.History, so it is one transaction
with its change-log entry, and undoable.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from audit.annotations import PLACE_KINDS, annotate, annotations_of, new_place_with_annotation
from audit.catalogue import place_types, risk_groups
from audit.commands import Command, History
from audit.estimates import TABLE as ESTIMATES, class_breaks, densities, record_estimate
from layers.errors import LanternError
from layers.i18n import label
from layers.migrations import ANNOTATIONS_TABLE
from mapping.features import choropleth


class AuditController(QObject):
    changed = Signal(tuple)  # tables touched by a do/undo/redo

    def __init__(self, window, settings: QSettings):
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.history: History | None = None
        self.density_group: str | None = None
        self._pending_polygon = None
        self._build_actions()
        mv = window.map_view
        mv.featureActivated.connect(self._on_feature_activated)
        mv.mapClicked.connect(self._on_map_clicked)
        mv.polygonDrawn.connect(self._on_polygon_drawn)
        mv.modeCancelled.connect(self._end_modes)

    # -- actions ----------------------------------------------------------------------

    def _action(self, text, slot, shortcut=None, checkable=False) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        w = self.window
        self.undo_action = self._action(self.tr("&Undo"), self.undo, "Ctrl+Z")
        self.redo_action = self._action(self.tr("&Redo"), self.redo, "Ctrl+Shift+Z")
        self.annotate_action = self._action(self.tr("&Annotate selected place…"), self.annotate_selected, "Ctrl+E")
        self.add_place_action = self._action(self.tr("Add place of &concern on the map"), self._on_add_place_mode,
                                             "Ctrl+Shift+P", checkable=True)
        self.draw_estimate_action = self._action(self.tr("Draw an area for a risk-group &estimate"),
                                                 self._on_draw_mode, "Ctrl+Shift+E", checkable=True)
        self.area_estimate_action = self._action(self.tr("Estimate for the selected &risk area…"),
                                                 self.estimate_for_selected_area)
        self.delete_action = self._action(self.tr("&Delete selected feature"), self.delete_selected, "Del")
        self.verify_action = self._action(self.tr("&Verify workspace"), self.verify)
        self.accept_action = self._action(self.tr("&Accept outside edits…"), self.accept_outside_edits)
        self.checklist_action = self._action(self.tr("Print field &checklist…"), self.print_checklist, "Ctrl+P")

        edit_menu = w.menuBar().addMenu(self.tr("&Edit"))
        w.menuBar().insertMenu(w.view_menu.menuAction(), edit_menu)
        for action in (self.undo_action, self.redo_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        for action in (self.annotate_action, self.add_place_action, self.draw_estimate_action,
                       self.area_estimate_action):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.delete_action)
        tools_menu = self.tools_menu = w.menuBar().addMenu(self.tr("&Tools"))
        w.menuBar().insertMenu(w.help_menu.menuAction(), tools_menu)
        tools_menu.addAction(self.verify_action)
        tools_menu.addAction(self.accept_action)
        tools_menu.addAction(self.checklist_action)

        density_menu = w.view_menu.addMenu(self.tr("Risk-group &density"))
        self.density_group_actions = QActionGroup(self)
        self.density_group_actions.setExclusive(True)
        none = density_menu.addAction(self.tr("None"))
        none.setCheckable(True)
        none.setChecked(True)
        none.setData(None)
        self.density_group_actions.addAction(none)
        for g in risk_groups():
            action = density_menu.addAction(label(g))
            action.setCheckable(True)
            action.setData(g["id"])
            self.density_group_actions.addAction(action)
        self.density_group_actions.triggered.connect(lambda a: self.show_density(a.data()))
        self.edit_actions = (self.annotate_action, self.add_place_action, self.draw_estimate_action,
                             self.area_estimate_action, self.verify_action, self.accept_action, self.delete_action)
        w.attribute_table.table_model.editor = self.edit_value
        self.set_enabled(False)

    def set_enabled(self, on: bool) -> None:
        for action in self.edit_actions:
            action.setEnabled(on)
        self._update_undo_actions()

    def workspace_opened(self, workspace) -> None:
        self.history = History(workspace, author=self.author)
        self.set_enabled(True)
        self._update_undo_actions()

    @property
    def author(self) -> str:
        return str(self.settings.value("audit/author", "") or "")

    def _update_undo_actions(self) -> None:
        h = self.history
        self.undo_action.setEnabled(bool(h and h.can_undo))
        self.redo_action.setEnabled(bool(h and h.can_redo))
        self.undo_action.setText(self.tr("&Undo {what}").format(what=h.undo_stack[-1].label) if h and h.can_undo
                                 else self.tr("&Undo"))
        self.redo_action.setText(self.tr("&Redo {what}").format(what=h.redo_stack[-1].label) if h and h.can_redo
                                 else self.tr("&Redo"))

    # -- the one path for changes ---------------------------------------------------------

    def do(self, command: Command) -> bool:
        try:
            self.history.do(command)
        except (LanternError, ValueError, KeyError) as exc:
            self.window._error(self.tr("The change was not made"), str(exc))
            return False
        self._after(command)
        return True

    def undo(self) -> None:
        if self.history and self.history.can_undo:
            self._after(self.history.undo())

    def redo(self) -> None:
        if self.history and self.history.can_redo:
            self._after(self.history.redo())

    def _after(self, command: Command) -> None:
        self._update_undo_actions()
        tables = command.tables
        kinds = set(t for t in tables if t != ANNOTATIONS_TABLE)
        if ANNOTATIONS_TABLE in tables:
            kinds |= set(PLACE_KINDS)
        self.window.refresh_layers(kinds)
        if ESTIMATES in kinds and self.density_group:
            self.show_density(self.density_group)
        self.changed.emit(tuple(tables))

    # -- editing and deleting features ----------------------------------------------------------

    def edit_value(self, fid: int, field_name: str, text) -> bool:
        """An edit in the attribute table: checked against the field, then run as an undoable command."""
        from audit.commands import UpdateRow
        from layers.catalogue import kind as get_kind
        from layers.values import coerce

        layer_id = self.window.layer_panel.current_layer()
        try:
            value = coerce(get_kind(layer_id).field(field_name), text)
        except ValueError as exc:
            self.window._error(self.tr("Not a valid value"), f"{field_name}: {exc}")
            return False
        return self.do(UpdateRow(layer_id, fid, {field_name: value}, label=self.tr("Edit {field}").format(field=field_name)))

    def delete_selected(self, confirm: bool = True) -> bool:
        from audit.commands import DeleteRow, Macro

        w = self.window
        layer_id, fid = w.layer_panel.current_layer(), w.attribute_table.selected_fid()
        if layer_id is None or fid is None:
            return False
        notes = annotations_of(w.workspace, layer_id, fid) if layer_id in PLACE_KINDS else []
        if confirm:
            question = self.tr("Delete feature {fid} of '{layer}'?").format(fid=fid, layer=w.layer_panel.currentItem().text())
            if notes:
                question += "\n" + self.tr("Its {n} annotation(s) are deleted with it.").format(n=len(notes))
            question += "\n" + self.tr("You can undo this (Ctrl+Z).")
            if QMessageBox.question(w, self.tr("Delete feature"), question) != QMessageBox.StandardButton.Yes:
                return False
        steps = [DeleteRow(ANNOTATIONS_TABLE, n["id"]) for n in notes] + [DeleteRow(layer_id, fid)]
        return self.do(Macro(steps, label=self.tr("Delete feature")))

    # -- annotating -------------------------------------------------------------------------

    def annotate_selected(self) -> None:
        w = self.window
        layer_id, fid = w.layer_panel.current_layer(), w.attribute_table.selected_fid()
        if layer_id not in PLACE_KINDS or fid is None:
            QMessageBox.information(w, self.tr("Annotate place"), self.tr(
                "Select a place first (click it on the map or in the table), or switch on "
                "Edit → Add place of concern and click the map."))
            return
        self.open_annotation_form(layer_id, fid)

    def _on_feature_activated(self, layer_id: str, fid: int) -> None:
        if layer_id in PLACE_KINDS:
            self.open_annotation_form(layer_id, fid)

    def annotation_form(self, layer_id: str, fid: int | None, row: dict | None = None):
        from gui.annotation_form import AnnotationForm

        w = self.window
        history = annotations_of(w.workspace, layer_id, fid) if fid is not None else []
        assessment = w.assessments.get((layer_id, fid)) if fid is not None else None
        text = assessment.explain() if assessment else self.tr("No risk signs recorded")
        if row is None:
            frame = w.frames[layer_id]
            row = frame.drop(columns=frame.geometry.name).loc[fid].to_dict()
        return AnnotationForm(layer_id, fid, row, history, text, author=self.author,
                              team=str(self.settings.value("audit/team", "") or ""), parent=w)

    def open_annotation_form(self, layer_id: str, fid: int | None, lonlat=None, interactive: bool = True):
        form = self.annotation_form(layer_id, fid, None if fid is not None else {"name": "", "category": None})
        form.lonlat = lonlat
        form.accepted.connect(lambda: self._save_annotation(form))
        if interactive:
            form.open()
        return form

    def _save_annotation(self, form) -> None:
        values = form.result_values
        self.settings.setValue("audit/author", values["author"])
        self.settings.setValue("audit/team", values["team"] or "")
        if self.history is not None:
            self.history.author = values["author"]
        if form.fid is None:
            lon, lat = form.lonlat
            command = new_place_with_annotation("places_of_concern", lon, lat, form.place_fields(), values)
        else:
            command = annotate(values)
        if self.do(command):
            fid = form.fid if form.fid is not None else command.commands[0].row_id
            self.window.select_feature(form.kind_id, fid)

    def _on_add_place_mode(self, on: bool) -> None:
        if on:
            self.draw_estimate_action.setChecked(False)
        self.window.map_view.set_mode("place" if on else None)
        if on:
            self.window.statusBar().showMessage(self.tr("Click the map where the new place is (Esc to stop)"), 8000)

    def _on_map_clicked(self, lat: float, lng: float) -> None:
        if not self.add_place_action.isChecked():
            return
        self.add_place_action.setChecked(False)
        self.window.map_view.set_mode(None)
        self.open_annotation_form("places_of_concern", None, lonlat=(lng, lat))

    def _end_modes(self) -> None:
        self.add_place_action.setChecked(False)
        self.draw_estimate_action.setChecked(False)

    # -- estimates --------------------------------------------------------------------------

    def _on_draw_mode(self, on: bool) -> None:
        if on:
            self.add_place_action.setChecked(False)
        self.window.map_view.set_mode("polygon" if on else None)
        if on:
            self.window.statusBar().showMessage(
                self.tr("Click the corners of the area; double-click or Enter to finish, Esc to cancel"), 10000)

    def _on_polygon_drawn(self, polygon) -> None:
        self.draw_estimate_action.setChecked(False)
        self.window.map_view.set_mode(None)
        self.open_estimate_form(polygon)

    def estimate_for_selected_area(self) -> None:
        w = self.window
        fid = w.attribute_table.selected_fid()
        if w.layer_panel.current_layer() != "risk_areas" or fid is None:
            QMessageBox.information(w, self.tr("Risk-group estimate"),
                                    self.tr("Select a risk area first, or draw an area on the map."))
            return
        row = w.frames["risk_areas"].loc[fid]
        self.open_estimate_form(row.geometry, area_name=row["name"])

    def estimate_form(self, polygon, area_name: str = ""):
        import geopandas as gpd

        from gui.estimate_form import EstimateForm

        area = gpd.GeoSeries([polygon], crs=4326)
        km2 = float(area.to_crs(area.estimate_utm_crs()).area.iloc[0] / 1e6)
        return EstimateForm(area_name, km2, self.window)

    def open_estimate_form(self, polygon, area_name: str = "", interactive: bool = True):
        form = self.estimate_form(polygon, area_name)
        form.accepted.connect(lambda: self.do(record_estimate(polygon, form.fields())))
        if interactive:
            form.open()
        return form

    def show_density(self, group: str | None) -> None:
        """Choropleth of the chosen group's estimated density (people per km²)."""
        w = self.window
        self.density_group = group
        if group is None or ESTIMATES not in w.frames:
            w.map_view.set_choropleth(ESTIMATES, None)
            return
        frame = w.filtered_frame(ESTIMATES)
        frame = densities(frame[frame["risk_group"] == group])
        breaks = class_breaks(frame["density"]) or [0]
        name = next(label(g) for g in risk_groups() if g["id"] == group)
        w.layer_panel.set_visible(ESTIMATES, True)
        w.map_view.set_choropleth(ESTIMATES, choropleth(group, self.tr("{group}: people per km²").format(group=name),
                                                        breaks))

    # -- tools ------------------------------------------------------------------------------

    def verify(self) -> bool:
        from audit.check import check_workspace, describe

        w = self.window
        result = check_workspace(w.workspace.path)
        details = "\n".join(describe(result))
        if result.ok:
            w.statusBar().showMessage(self.tr("Workspace verified: integrity, registration and a change log of "
                                              "{n} entries are intact").format(n=result.entries), 10000)
            QMessageBox.information(w, self.tr("Verify workspace"), self.tr(
                "The workspace is intact.\n\nSQLite integrity: OK\nGeoPackage registration: OK\n"
                "Change log: {n} entries, hash chain unbroken, signatures valid, data as logged").format(
                n=result.entries) + ("\n\n" + details if details else ""))
        else:
            hint = self.tr("\n\nIf these rows were edited on purpose (e.g. in QGIS): Tools → Accept outside "
                           "edits.") if result.outside_edits else ""
            w._error(self.tr("The workspace failed verification"),
                     "\n".join(result.problems) + ("\n\n" + details if details else "") + hint)
        return result.ok

    def accept_outside_edits(self) -> int:
        """Record the rows changed outside Lantern as one signed change-log entry naming who accepted them."""
        from audit.check import accept_outside_edits

        w = self.window
        author = self.author
        if not author:
            author, ok = QInputDialog.getText(w, self.tr("Accept outside edits"), self.tr("Your name:"))
            if not ok or not author.strip():
                return 0
            self.settings.setValue("audit/author", author.strip())
        try:
            accepted = accept_outside_edits(w.workspace, author)
        except LanternError as exc:
            w._error(self.tr("Outside edits were not accepted"), str(exc))
            return 0
        w.statusBar().showMessage(self.tr("{n} outside edits accepted by {who} and logged").format(
            n=len(accepted), who=author.strip()), 10000)
        return len(accepted)

    def print_checklist(self) -> None:
        from audit.field_checklist import write_checklist

        w = self.window
        names = [label(t) for t in place_types()]
        choice, ok = QInputDialog.getItem(w, self.tr("Field checklist"), self.tr("Place type:"), names, 0, False)
        if not ok:
            return
        place_type = place_types()[names.index(choice)]["id"]
        lang, ok = QInputDialog.getItem(w, self.tr("Field checklist"), self.tr("Language:"), ["en", "lv"], 0, False)
        if not ok:
            return
        path, _filter = QFileDialog.getSaveFileName(w, self.tr("Save checklist"), f"checklist-{place_type}-{lang}.pdf",
                                                    "PDF (*.pdf)")
        if not path:
            return
        try:
            write_checklist(Path(path), place_type, lang)
        except (LanternError, OSError) as exc:
            w._error(self.tr("Cannot write the checklist"), str(exc))
            return
        w.statusBar().showMessage(self.tr("Checklist written to {path}").format(path=path), 8000)
