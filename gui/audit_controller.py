"""The audit in the window: annotate places, record estimates, undo/redo, verify, print checklists.

Every change goes through the session's history (audit.commands.History), so
it is one transaction with its change-log entry, and undoable.
"""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from audit.annotations import PLACE_KINDS, annotate, annotations_of, new_place_with_annotation
from audit.catalogue import place_types, risk_groups
from audit.check import accept_outside_edits as accept_edits
from audit.check import check_workspace, describe
from audit.commands import Command, DeleteRow, Macro
from audit.demo import discard_demo_copy, fresh_demo_copy, is_demo_copy
from audit.estimates import record_estimate
from audit.field_checklist import write_checklist
from audit.field_photos import photo_bytes, photos_of_annotations
from gui.annotation_form import AnnotationForm
from gui.estimate_form import EstimateForm
from gui.notify import do_command
from layers.catalogue import kind as get_kind
from layers.crs import metric_crs
from layers.errors import LanternError
from layers.i18n import N_, NAMES, SUPPORTED, _, label, language, ngettext
from layers.migrations import ANNOTATIONS_TABLE

#: who asked for the map's click or polygon mode
NEW_PLACE, ESTIMATE_AREA = "new place", "estimate area"
DEMO_NOTICE = N_("This is a fresh copy of the demo: your changes are discarded when Lantern closes "
                 "(File → Save workspace as… keeps them; File → Reset demo starts again).")


class AuditController(QObject):
    """Handlers of the Edit and Tools audit commands; it talks to the session, never to other views."""

    def __init__(self, session, notify, settings: QSettings, parent):
        super().__init__(parent)
        self.session, self.notify, self.settings = session, notify, settings
        self.parent_widget = parent
        session.activated.connect(self._on_feature_activated)
        session.point_picked.connect(self._on_point_picked)
        session.polygon_drawn.connect(self._on_polygon_drawn)
        session.author = self.author
        self.open_forms: dict[tuple[str, int], AnnotationForm] = {}  # one form per place: a second open raises it

    @property
    def author(self) -> str:
        return str(self.settings.value("audit/author", "") or "")

    def fill_density_menu(self, menu) -> None:
        """View → Risk-group density: none, or one group's people per km²."""
        self.density_group_actions = group = QActionGroup(self)
        group.setExclusive(True)
        for gid, text in [(None, _("None"))] + [(g["id"], label(g)) for g in risk_groups()]:
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(gid is None)
            action.setData(gid)
            group.addAction(action)
        group.triggered.connect(lambda a: self.show_density(a.data()))

    # -- the one path for changes ---------------------------------------------------------

    def do(self, command: Command) -> bool:
        return do_command(self.session, self.notify, command)

    def undo(self) -> None:
        try:
            self.session.undo()
        except LanternError as exc:
            self.notify(_("Nothing was undone"), str(exc))

    def redo(self) -> None:
        try:
            self.session.redo()
        except LanternError as exc:
            self.notify(_("Nothing was redone"), str(exc))

    # -- deleting features ------------------------------------------------------------------

    def delete_selected(self, confirm: bool = True) -> bool:
        found = self.session.selected_row()
        if found is None:
            return False
        layer_id, fid, _row = found
        ws = self.session.workspace
        notes = annotations_of(ws, layer_id, fid) if layer_id in PLACE_KINDS else []
        if confirm:
            question = _("Delete feature {fid} of '{layer}'?").format(fid=fid, layer=get_kind(layer_id).label)
            if notes:
                question += "\n" + ngettext("Its {n} annotation is deleted with it.",
                                             "Its {n} annotations are deleted with it.", len(notes)).format(n=len(notes))
            question += "\n" + _("You can undo this (Ctrl+Z).")
            if QMessageBox.question(self.parent_widget, _("Delete feature"),
                                    question) != QMessageBox.StandardButton.Yes:
                return False
        steps = [DeleteRow(ANNOTATIONS_TABLE, n["id"]) for n in notes] + [DeleteRow(layer_id, fid)]
        return self.do(Macro(steps, label=_("Delete feature")))

    # -- annotating -------------------------------------------------------------------------

    def annotate_selected(self) -> None:
        found = self.session.selected_row()
        if found is None or found[0] not in PLACE_KINDS:
            QMessageBox.information(self.parent_widget, _("Annotate place"), _(
                "Select a place first (click it on the map or in the table), or switch on "
                "Edit → Add place of concern and click the map."))
            return
        self.open_annotation_form(found[0], found[1])

    def _on_feature_activated(self, layer_id: str, fid: int) -> None:
        """A place double-clicked on the map or in the table, or *Annotate* in the table's menu."""
        if layer_id not in PLACE_KINDS:
            return
        if not self.session.writable:
            self.notify.status(_("The workspace is read-only: places cannot be annotated"), 6000)
            return
        self.open_annotation_form(layer_id, fid)

    def annotation_form(self, layer_id: str, fid: int | None, row: dict | None = None):
        s = self.session
        history = annotations_of(s.workspace, layer_id, fid) if fid is not None else []
        assessment = s.assessments.get((layer_id, fid)) if fid is not None else None
        text = assessment.explain() if assessment else _("No risk signs recorded")
        if row is None:
            frame = s.frames[layer_id]
            row = frame.drop(columns=frame.geometry.name).loc[fid].to_dict()
        ws = s.workspace
        photos = photos_of_annotations(ws, [a["id"] for a in history]) if history else {}
        return AnnotationForm(layer_id, fid, row, history, text, author=self.author,
                              team=str(self.settings.value("audit/team", "") or ""), parent=self.parent_widget,
                              photos=photos, load_photo=lambda photo_id: photo_bytes(ws, photo_id))

    def open_annotation_form(self, layer_id: str, fid: int | None, lonlat=None, interactive: bool = True):
        key = (layer_id, int(fid)) if fid is not None else None
        if key in self.open_forms:  # already open (a double-click can arrive twice): bring it forward
            form = self.open_forms[key]
            form.raise_()
            form.activateWindow()
            return form
        form = self.annotation_form(layer_id, fid, None if fid is not None else {"name": "", "category": None})
        form.lonlat = lonlat
        form.accepted.connect(lambda: self._save_annotation(form))
        if interactive:
            if key is not None:
                self.open_forms[key] = form
                form.finished.connect(lambda _result: self.open_forms.pop(key, None))
            form.open()
        return form

    def _save_annotation(self, form) -> None:
        values = form.result_values
        self.settings.setValue("audit/author", values["author"])
        self.settings.setValue("audit/team", values["team"] or "")
        self.session.author = values["author"]
        if form.fid is None:
            lon, lat = form.lonlat
            command = new_place_with_annotation("places_of_concern", lon, lat, form.place_fields(), values)
        else:
            command = annotate(values)
        if self.do(command):
            fid = form.fid if form.fid is not None else command.commands[0].row_id
            self.session.select(form.kind_id, fid)

    def add_place_mode(self, on: bool) -> None:
        self.session.set_mode("place" if on else None, NEW_PLACE)
        if on:
            self.notify.status(_("Click the map where the new place is (Esc to stop)"))

    def _on_point_picked(self, owner, lon: float, lat: float) -> None:
        if owner == NEW_PLACE:
            self.open_annotation_form("places_of_concern", None, lonlat=(lon, lat))

    # -- estimates --------------------------------------------------------------------------

    def draw_mode(self, on: bool) -> None:
        self.session.set_mode("polygon" if on else None, ESTIMATE_AREA)
        if on:
            self.notify.status(_("Click the corners of the area; double-click or Enter to finish, "
                                 "Esc to cancel"), 10000)

    def _on_polygon_drawn(self, owner, polygon) -> None:
        if owner == ESTIMATE_AREA:
            self.open_estimate_form(polygon)

    def estimate_for_selected_area(self) -> None:
        found = self.session.selected_row()
        if found is None or found[0] != "risk_areas":
            QMessageBox.information(self.parent_widget, _("Risk-group estimate"),
                                    _("Select a risk area first, or draw an area on the map."))
            return
        row = found[2]
        self.open_estimate_form(row.geometry, area_name=row["name"])

    def estimate_form(self, polygon, area_name: str = ""):
        area = gpd.GeoSeries([polygon], crs=4326)
        km2 = float(area.to_crs(metric_crs(area)).area.iloc[0] / 1e6)
        return EstimateForm(area_name, km2, self.parent_widget)

    def open_estimate_form(self, polygon, area_name: str = "", interactive: bool = True):
        form = self.estimate_form(polygon, area_name)
        form.accepted.connect(lambda: self.do(record_estimate(polygon, form.fields())))
        if interactive:
            form.open()
        return form

    def open_rounds(self, _checked=False, interactive: bool = True):
        """Edit → Audit rounds…: the rounds with their counts; adding or editing one is an undoable step."""
        from gui.rounds_dialog import RoundsDialog

        if self.session.workspace is None:
            return None
        self.rounds_dialog = RoundsDialog(self.session, self.do, self.parent_widget)
        if interactive:
            self.rounds_dialog.open()
        return self.rounds_dialog

    def show_density(self, group: str | None) -> None:
        """Choropleth of the chosen group's estimated density (people per km²)."""
        self.session.show_density(group)

    # -- the demo ---------------------------------------------------------------------------

    def announce_demo(self) -> None:
        ws = self.session.workspace
        if ws is not None and is_demo_copy(ws.path):
            self.notify.status(_(DEMO_NOTICE), 30000)

    def reset_demo(self, *_checked, confirm: bool = True) -> bool:
        """File → Reset demo: open a fresh copy of the demo district; the copy in use (and its changes) is dropped."""
        ws = self.session.workspace
        old = ws.path if ws is not None and is_demo_copy(ws.path) else None
        changed = old is not None and self.session.history is not None and self.session.history.can_undo
        question = _("Discard your changes to the demo and start again from a fresh copy?")
        if confirm and changed and QMessageBox.question(
                self.parent_widget, _("Reset demo"), question) != QMessageBox.StandardButton.Yes:
            return False
        try:
            self.session.open(fresh_demo_copy())
        except (LanternError, OSError) as exc:
            self.notify(_("Cannot open the demo"), str(exc))
            return False
        if old is not None:
            discard_demo_copy(old)
        self.announce_demo()
        return True

    # -- tools ------------------------------------------------------------------------------

    def verify(self) -> bool:
        result = check_workspace(self.session.workspace.path)
        details = "\n".join(describe(result))
        if result.ok:
            n = result.entries
            self.notify.status(ngettext(
                "Workspace verified: integrity, registration and a change log of {n} entry are intact",
                "Workspace verified: integrity, registration and a change log of {n} entries are intact",
                n).format(n=n), 10000)
            QMessageBox.information(self.parent_widget, _("Verify workspace"), ngettext(
                "The workspace is intact.\n\nSQLite integrity: OK\nGeoPackage registration: OK\n"
                "Change log: {n} entry, hash chain unbroken, signatures valid, data as logged",
                "The workspace is intact.\n\nSQLite integrity: OK\nGeoPackage registration: OK\n"
                "Change log: {n} entries, hash chain unbroken, signatures valid, data as logged",
                n).format(n=n) + ("\n\n" + details if details else ""))
        else:
            hint = "\n\n" + _("If these rows were edited on purpose (e.g. in QGIS): Tools → Accept outside "
                                "edits.") if result.outside_edits else ""
            self.notify(_("The workspace failed verification"),
                        "\n".join(result.problems) + ("\n\n" + details if details else "") + hint)
        return result.ok

    def accept_outside_edits(self) -> int:
        """Record the rows changed outside Lantern as one signed change-log entry naming who accepted them."""
        author = self.author
        if not author:
            author, ok = QInputDialog.getText(self.parent_widget, _("Accept outside edits"), _("Your name:"))
            if not ok or not author.strip():
                return 0
            self.settings.setValue("audit/author", author.strip())
        try:
            accepted = accept_edits(self.session.workspace, author)
        except LanternError as exc:
            self.notify(_("Outside edits were not accepted"), str(exc))
            return 0
        self.notify.status(ngettext("{n} outside edit accepted by {who} and logged",
                                    "{n} outside edits accepted by {who} and logged", len(accepted)).format(
            n=len(accepted), who=author.strip()), 10000)
        return len(accepted)

    def print_checklist(self) -> None:
        parent = self.parent_widget
        names = [label(t) for t in place_types()]
        choice, ok = QInputDialog.getItem(parent, _("Field checklist"), _("Place type:"), names, 0, False)
        if not ok:
            return
        place_type = place_types()[names.index(choice)]["id"]
        languages = [NAMES[code] for code in SUPPORTED]  # each language by its own name
        chosen, ok = QInputDialog.getItem(parent, _("Field checklist"), _("Language:"), languages,
                                          SUPPORTED.index(language()), False)
        if not ok:
            return
        lang = SUPPORTED[languages.index(chosen)]
        path, _filter = QFileDialog.getSaveFileName(parent, _("Save checklist"),
                                                    f"checklist-{place_type}-{lang}.pdf", "PDF (*.pdf)")
        if not path:
            return
        try:
            write_checklist(Path(path), place_type, lang)
        except (LanternError, OSError) as exc:
            self.notify(_("Cannot write the checklist"), str(exc))
            return
        self.notify.status(_("Checklist written to {path}").format(path=path))
