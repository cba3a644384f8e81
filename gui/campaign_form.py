"""One campaign's form: name and dates, audiences, languages and channels, reach, the action-plan items it serves,
and its locations — from the current outreach plan, the place selected on the map, or a click on the map.

Saving is one undoable step (``audit.campaigns.add_campaign`` / ``edit_campaign``). The form is not modal, so the
map stays usable while it is open: *Click on the map* hands the next map click to this form only."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from audit import campaigns as catalogue
from audit.assessment import plan_item_text, plan_items
from gui.accessible import name, name_form_fields
from gui.date_field import date_edit
from gui.notify import do_command
from gui.checklist import check_item, ticked
from layers.catalogue import kind as get_kind
from layers.i18n import _, label



def checklist(entries, checked, heading=None) -> QListWidget:
    """Checkable rows (``entries``: (id, text)); ``heading(id)`` gives a bold, unticked group title before a row."""
    widget = QListWidget()
    widget.setWordWrap(True)  # long action-plan items and audiences wrap instead of running off the side
    widget.setResizeMode(QListWidget.ResizeMode.Adjust)
    widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    for entry_id, text in entries:
        title = heading(entry_id) if heading else None
        if title:
            head = QListWidgetItem(title)
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading: not ticked, not selected, drawn plainly
            font = head.font()
            font.setBold(True)
            head.setFont(font)
            widget.addItem(head)
        widget.addItem(check_item(entry_id, text, checked))
    return widget


def _reach_spin(value) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(-1, 10_000_000)
    spin.setSpecialValueText(_("not recorded"))
    spin.setValue(-1 if value is None else int(value))
    spin.setAccelerated(True)
    return spin


class CampaignForm(QDialog):
    """Add (``existing`` None) or edit a campaign. ``plan()`` returns the outreach panel's current plan or None."""

    def __init__(self, session, notify, existing: catalogue.Campaign | None = None, plan=lambda: None, parent=None):
        super().__init__(parent)
        self.session, self.notify, self.existing, self.plan = session, notify, existing, plan
        self.setWindowTitle(_("Edit campaign") if existing else _("Add campaign"))
        self.setWindowModality(Qt.WindowModality.NonModal)  # the map takes clicks while the form is open
        self.resize(640, 560)
        c = existing
        self.locations: list[dict] = [dict(loc) for loc in (c.locations if c else [])]
        self.areas = {"catchment": c.catchment if c else None, "comparison_area": c.comparison_area if c else None}
        self.tabs = QTabWidget()
        self.tabs.addTab(self._general(c), _("Campaign"))
        self.tabs.addTab(self._audience_tab(c), _("Audiences"))
        self.tabs.addTab(self._channel_tab(c), _("Languages and channels"))
        self.tabs.addTab(self._plan_tab(c), _("Action plan"))
        self.tabs.addTab(self._location_tab(), _("Locations"))
        self.error = QLabel()
        self.error.setStyleSheet("color: #a00000;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        session.point_picked.connect(self._on_point_picked)
        session.polygon_drawn.connect(self._on_polygon_drawn)
        self.finished.connect(self._stop_listening)

    # -- the tabs -----------------------------------------------------------------------------------

    def _general(self, c) -> QWidget:
        self.name = QLineEdit(c.name if c else "")
        self.starts, self.ends = date_edit(c.starts if c else None), date_edit(c.ends if c else None)
        self.materials = QLineEdit(c.materials if c else "")
        self.materials.setPlaceholderText(_("e.g. leaflet 'Working abroad safely', poster, film"))
        self.people = _reach_spin(c.people_reached if c else None)
        self.leaflets = _reach_spin(c.leaflets if c else None)
        self.events = _reach_spin(c.events if c else None)
        self.notes = QLineEdit(c.notes if c else "")
        box = QWidget()
        form = QFormLayout(box)
        for text, widget in ((_("Name:"), self.name), (_("Starts:"), self.starts), (_("Ends:"), self.ends),
                             (_("Materials:"), self.materials), (_("People reached:"), self.people),
                             (_("Leaflets handed out:"), self.leaflets), (_("Events:"), self.events),
                             (_("Notes:"), self.notes)):
            form.addRow(text, widget)
        name_form_fields(form)
        return box

    def _audience_tab(self, c) -> QWidget:
        categories = {cat["id"]: label(cat) for cat in catalogue.audience_categories()}
        every = catalogue.audiences()
        first = {}
        for a in every:
            first.setdefault(a["category"], a["id"])
        owner = {a["id"]: a["category"] for a in every}
        self.audiences = checklist([(a["id"], label(a)) for a in every], set(c.audiences if c else []),
                                   heading=lambda i: categories[owner[i]] if first[owner[i]] == i else None)
        name(self.audiences, _("Audiences"))
        return self.audiences

    def _channel_tab(self, c) -> QWidget:
        self.languages = checklist([(x["id"], label(x)) for x in catalogue.languages()], set(c.languages if c else []))
        self.channels = checklist([(x["id"], label(x)) for x in catalogue.channels()], set(c.channels if c else []))
        name(self.languages, _("Languages"))
        name(self.channels, _("Channels"))
        box = QWidget()
        grid = QGridLayout(box)
        grid.addWidget(QLabel(_("Languages:")), 0, 0)
        grid.addWidget(QLabel(_("Channels:")), 0, 1)
        grid.addWidget(self.languages, 1, 0)
        grid.addWidget(self.channels, 1, 1)
        return box

    def _plan_tab(self, c) -> QWidget:
        rows = plan_items(self.session.workspace)
        entries = [(r["id"], f"{r['id']}. {plan_item_text(r)['action']}") for r in rows]
        self.action_items = checklist(entries, set(c.action_items if c else []))
        name(self.action_items, _("Action-plan items this campaign serves"))
        hint = QLabel(_("Tick the action-plan items this campaign serves."))
        hint.setWordWrap(True)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.addWidget(hint)
        layout.addWidget(self.action_items, 1)
        return box

    def _location_tab(self) -> QWidget:
        self.location_list = QListWidget()
        name(self.location_list, _("Locations"))
        buttons = [(_("From the outreach plan"), self.add_plan_sites), (_("Selected place"), self.add_selected),
                   (_("Click on the map"), self.pick_on_map), (_("Remove"), self.remove_location),
                   (_("Draw the catchment"), lambda: self.draw_area("catchment")),
                   (_("Draw the comparison area"), lambda: self.draw_area("comparison_area")),
                   (_("Clear drawn areas"), self.clear_areas)]
        row = QGridLayout()
        self.location_buttons = {}
        for i, (text, handler) in enumerate(buttons):
            button = QPushButton(text)
            button.clicked.connect(handler)
            row.addWidget(button, i // 2, i % 2)
            self.location_buttons[text] = button
        self.location_hint = QLabel(_("Sites from the outreach plan, places of the map, or points you click on "
                                      "the map."))
        self.location_hint.setWordWrap(True)
        self.area_label = QLabel()
        self.area_label.setWordWrap(True)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.addWidget(self.location_hint)
        layout.addWidget(self.location_list, 1)
        layout.addLayout(row)
        layout.addWidget(self.area_label)
        self._show_locations()
        self._show_areas()
        return box

    # -- locations --------------------------------------------------------------------------------

    def _show_locations(self) -> None:
        self.location_list.clear()
        sources = {"outreach": _("outreach plan"), "place": _("place"), "map": _("map")}
        for loc in self.locations:
            where = get_kind(loc["place_table"]).label if loc.get("place_table") else sources[loc["source"]]
            self.location_list.addItem(f"{loc['name']} ({where})")

    def add_locations(self, found: list[dict]) -> None:
        new = [f for f in found if not any(catalogue.same_place(f, loc) for loc in self.locations)]
        self.locations += new
        self._show_locations()

    def add_plan_sites(self) -> None:
        plan = self.plan()
        if plan is None:
            self.location_hint.setText(_("There is no outreach plan: plan one in the Outreach planning tab first."))
            return
        self.add_locations(catalogue.locations_from_plan(self.session.workspace, plan))

    def add_selected(self) -> None:
        selection = self.session.selection
        if selection is None or selection[0] not in catalogue.PLACE_TABLES:
            self.location_hint.setText(_("Select a place on the map or in the table first."))
            return
        self.add_locations([catalogue.location_at_place(self.session.workspace, selection[0], selection[1],
                                                        self.session.selected_location())])

    def pick_on_map(self) -> None:
        self.session.set_mode("place", self)
        self.location_hint.setText(_("Click the map where the campaign took place (Esc to stop)"))

    def _on_point_picked(self, owner, lon: float, lat: float) -> None:
        if owner is self:
            self.add_locations([catalogue.location_values(self.session.workspace, lon=lon, lat=lat, source="map")])

    def remove_location(self) -> None:
        row = self.location_list.currentRow()
        if 0 <= row < len(self.locations):
            del self.locations[row]
            self._show_locations()

    # -- drawn areas (the evaluation's default otherwise: a radius around the locations, the rest of the district)

    def _show_areas(self) -> None:
        catchment = _("drawn on the map") if self.areas["catchment"] is not None else _("around the locations")
        comparison = _("drawn on the map") if self.areas["comparison_area"] is not None else \
            _("the rest of the district")
        self.area_label.setText(_("Catchment: {catchment}. Comparison area: {comparison}.").format(
            catchment=catchment, comparison=comparison))

    def draw_area(self, which: str) -> None:
        self.session.set_mode("polygon", (self, which))
        self.location_hint.setText(_("Click the corners of the area; double-click or Enter to finish, Esc to cancel"))

    def _on_polygon_drawn(self, owner, polygon) -> None:
        if isinstance(owner, tuple) and owner[0] is self:
            self.areas[owner[1]] = polygon
            self._show_areas()

    def clear_areas(self) -> None:
        self.areas = {"catchment": None, "comparison_area": None}
        self._show_areas()

    def _stop_listening(self, _result=0) -> None:
        owner = self.session.mode_owner
        if owner is self or (isinstance(owner, tuple) and owner[0] is self):
            self.session.set_mode(None)
        self.session.point_picked.disconnect(self._on_point_picked)
        self.session.polygon_drawn.disconnect(self._on_polygon_drawn)

    # -- saving -------------------------------------------------------------------------------------

    def values(self) -> dict:
        def count(spin: QSpinBox):
            return None if spin.value() < 0 else spin.value()

        return {"name": self.name.text(), "starts": self.starts.date().toString("yyyy-MM-dd"),
                "ends": self.ends.date().toString("yyyy-MM-dd"), "audiences": ticked(self.audiences),
                "languages": ticked(self.languages), "channels": ticked(self.channels),
                "action_items": ticked(self.action_items), "materials": self.materials.text(),
                "people_reached": count(self.people), "leaflets": count(self.leaflets), "events": count(self.events),
                "notes": self.notes.text(), **self.areas}

    def command(self):
        ws = self.session.workspace
        if self.existing is None:
            return catalogue.add_campaign(ws, self.values(), self.locations)
        return catalogue.edit_campaign(ws, self.existing.id, self.values(), self.locations)

    def save(self) -> bool:
        """Check, then run the change as one step; a problem is shown in the form, which stays open."""
        try:
            command = self.command()
        except ValueError as exc:
            self.error.setText(str(exc))
            return False
        if command is not None and not do_command(self.session, self.notify, command):
            return False
        self.accept()
        return True
