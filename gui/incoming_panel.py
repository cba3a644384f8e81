"""The Incoming panel: field submissions waiting for review, each on the map beside the place it belongs to.

Nothing a team sends reaches the audit until a reviewer decides here. Accept puts the annotation on the
place shown under *Goes to* (the place the team named, else the nearest place of its type, else a new
place); *Attach to* puts it on the place selected on the map instead; *New place…* makes a place where the
team stood; *Reject…* keeps it out, with a reason. Each decision is one undoable, logged step
(audit.submission_review, audit.submissions); several rows selected are decided together, as one step.
"""
from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audit import submission_review as review
from audit import submissions as api
from audit.annotations import PLACE_KINDS
from audit.field_photos import photo_bytes
from gui.accessible import name
from gui.field_photo_strip import PhotoStrip
from gui.notify import do_command
from gui.tooltips import plain_tip
from layers.catalogue import place_categories
from layers.i18n import N_, _, ngettext
from layers.migrations import SUBMISSIONS_TABLE
from mapping import incoming_map

ID_ROLE = Qt.ItemDataRole.UserRole
STATUSES = (("incoming", N_("Waiting for review")), ("accepted", N_("Accepted")), ("rejected", N_("Rejected")),
            (None, N_("All")))
COLUMNS = (N_("Observed"), N_("Goes to"), N_("Indicators"), N_("Photos"), "⚠", N_("Team"), N_("Place type"))
GOES_TO, FLAGS = 1, 4
#: the map shows a submission and its place with this margin around them (degrees; ~50 m)
MARGIN = 0.0005


class NewPlaceDialog(QDialog):
    """The new place a submission creates: its name (as the team wrote it) and its category."""

    def __init__(self, place_name: str, category: str | None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("New place from a submission"))
        self.name_edit = QLineEdit(place_name)
        self.name_edit.setPlaceholderText(_("A short, neutral name of the place (no personal names)"))
        self.category = QComboBox()
        for c in place_categories():
            self.category.addItem(c.label, c.id)
        self.category.setCurrentIndex(max(0, self.category.findData(category)))
        form = QFormLayout(self)
        form.addRow(_("Name:"), self.name_edit)
        form.addRow(_("Category:"), self.category)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def spec(self) -> dict:
        fields = {"category": self.category.currentData()}
        if self.name_edit.text().strip():
            fields["name"] = self.name_edit.text().strip()
        return {"kind": "places_of_concern", "fields": fields}


class IncomingPanel(QWidget):
    """Observes the session (opened, edited, selection); decides through the session's history."""

    countChanged = Signal(int)  # submissions waiting for review

    def __init__(self, session, notify, parent=None):
        super().__init__(parent)
        self.session, self.notify = session, notify
        self.items: list[api.QueueItem] = []
        self.place: tuple[str, int] | None = None  # the place last selected on the map (Attach to)
        self.photo_strip: PhotoStrip | None = None
        self.shown = False
        self._build()
        session.opened.connect(self._on_opened)
        session.reloaded.connect(lambda _keep: self.refresh())
        session.edited.connect(self._on_edited)
        session.selection_changed.connect(self._on_selection)

    # -- layout -----------------------------------------------------------------------

    def _build(self) -> None:
        self.status = QComboBox()
        for value, text in STATUSES:
            self.status.addItem(_(text), value)
        self.status.currentIndexChanged.connect(self.refresh)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.import_button = QPushButton(_("Import field submissions…"))
        self.table = self._make_table()
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setPlaceholderText(_("Select a submission to see what the team recorded."))
        self._make_buttons()
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.import_button)
        self.photo_box = QVBoxLayout()  # the selected submission's photos (a PhotoStrip), when it has any
        below = QWidget()
        details = QVBoxLayout(below)
        details.setContentsMargins(0, 0, 0, 0)
        details.addWidget(self.details, 1)
        details.addLayout(self.photo_box)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(below)
        split.setSizes([300, 200])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addLayout(self.button_rows)
        name(self.status, _("Which submissions to list"))
        name(self.table, _("Field submissions"))
        name(self.details, _("What the team recorded"))

    def _make_table(self) -> QTableWidget:
        table = QTableWidget(0, len(COLUMNS))
        table.setHorizontalHeaderLabels([_(c) if c != "⚠" else c for c in COLUMNS])
        table.horizontalHeaderItem(FLAGS).setToolTip(_("Needs attention: answers that did not map"))
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setTabKeyNavigation(False)  # Tab leaves the queue for the details and the decisions
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(GOES_TO, QHeaderView.ResizeMode.Stretch)
        table.itemSelectionChanged.connect(self._on_rows_selected)
        return table

    def _make_buttons(self) -> None:
        self.accept_button = QPushButton(_("&Accept"))
        self.accept_button.setToolTip(_("Annotate the place under 'Goes to' (Ctrl+Enter)"))
        self.attach_button = QPushButton(_("Attach to selected place"))
        self.attach_button.setToolTip(_("Click a place on the map first, then attach the submission to it"))
        self.new_button = QPushButton(_("&New place…"))
        self.reject_button = QPushButton(_("&Reject…"))
        for button, handler in ((self.accept_button, self.accept_selected), (self.attach_button, self.attach),
                                (self.new_button, self.new_place), (self.reject_button, self.reject_selected)):
            button.clicked.connect(lambda _checked=False, h=handler: h())
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self.table, self.accept_selected,
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.button_rows = QVBoxLayout()
        for pair in ((self.accept_button, self.reject_button), (self.attach_button, self.new_button)):
            row = QHBoxLayout()
            for button in pair:
                row.addWidget(button)
            self.button_rows.addLayout(row)

    # -- the queue --------------------------------------------------------------------

    def _on_opened(self) -> None:
        self.place = None  # a place chosen in the workspace that was open before
        self.refresh()

    def set_busy(self, busy: bool) -> None:
        """A long import runs through the window's connection: no decision until it ends (a decision made
        inside its transaction would be undone by its Cancel)."""
        self.setEnabled(not busy)

    def refresh(self, *_args) -> None:
        ws = self.session.workspace
        chosen = {i.id for i in self.selected_items()}
        self.items = api.queue(ws, self.status.currentData()) if ws is not None else []
        waiting = len(self.items) if self.status.currentData() == "incoming" else (
            len(api.queue(ws)) if ws is not None else 0)
        self._fill(self.items, chosen)
        self.summary.setText(ngettext("{n} submission waits for review", "{n} submissions wait for review",
                                      waiting).format(n=waiting) if ws is not None else "")
        self.import_button.setEnabled(self.session.writable)
        self.countChanged.emit(waiting)
        self._update_buttons()
        self._update_map()

    def _row_cells(self, item) -> list[str]:
        ws, row = self.session.workspace, item.row
        flags = review.warnings(row)
        return [row.get("observed") or "",
                review.target_text(ws, item) if row["status"] == "incoming" else _(dict(STATUSES)[row["status"]]),
                str(len(review.indicator_texts(row))), str(item.photos), "⚠" if flags else "", row.get("team") or "",
                review.place_type_text(row.get("place_type"))]

    def _fill(self, items, chosen: set[int]) -> None:
        table = self.table
        header = table.horizontalHeader()
        table.blockSignals(True)
        table.clearSelection()
        # columns sized to their contents re-measure on every cell set: a queue of 400 took 40 s to fill
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table.setRowCount(len(items))
        for r, item in enumerate(items):
            for c, text in enumerate(self._row_cells(item)):
                cell = QTableWidgetItem(text)  # plain text, never markup
                cell.setData(ID_ROLE, item.id)
                cell.setToolTip(plain_tip(text if c != FLAGS else "\n".join(review.warnings(item.row))))
                table.setItem(r, c, cell)
            if item.id in chosen:
                table.selectionModel().select(table.model().index(r, 0), QItemSelectionModel.SelectionFlag.Select
                                              | QItemSelectionModel.SelectionFlag.Rows)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(GOES_TO, QHeaderView.ResizeMode.Stretch)
        table.blockSignals(False)
        self._on_rows_selected()

    def selected_items(self) -> list[api.QueueItem]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()}) \
            if self.table.selectionModel() else []
        return [self.items[r] for r in rows if r < len(self.items)]

    def select_submission(self, submission_id: int) -> bool:
        """Select that submission's row alone (whatever keys are held: selectRow would extend or toggle)."""
        for r, item in enumerate(self.items):
            if item.id == submission_id:
                flags = QItemSelectionModel.SelectionFlag
                index = self.table.model().index(r, 0)
                self.table.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
                return True
        return False

    def _waiting(self) -> list[api.QueueItem]:
        return [i for i in self.selected_items() if i.row["status"] == "incoming"]

    # -- what is selected -------------------------------------------------------------

    def _on_rows_selected(self) -> None:
        items = self.selected_items()
        self.details.setPlainText(self._describe(items[0]) if len(items) == 1 else ngettext(
            "{n} submission selected", "{n} submissions selected", len(items)).format(n=len(items)) if items else "")
        self._update_buttons()
        self._show_photos(items[0] if len(items) == 1 else None)
        if len(items) == 1 and items[0].row.get("lon") is not None:
            self._show_on_map(items[0])

    def _show_photos(self, item) -> None:
        """The submission's photos as thumbnails (metadata already stripped on import); none: no strip."""
        if self.photo_strip is not None:
            self.photo_box.removeWidget(self.photo_strip)
            self.photo_strip.deleteLater()
            self.photo_strip = None
        ws = self.session.workspace
        ids = review.photo_ids(ws, item) if item is not None and ws is not None else []
        if ids:
            seen = {"observed": item.row.get("observed") or "", "team": item.row.get("team") or ""}
            photos = [(SimpleNamespace(id=i), seen) for i in ids]
            self.photo_strip = PhotoStrip(photos, lambda photo_id: photo_bytes(ws, photo_id), self)
            name(self.photo_strip, _("Photos from the field ({n})").format(n=len(ids)))
            self.photo_box.addWidget(self.photo_strip)

    def _show_on_map(self, item) -> None:
        """Highlight the submission and show it with the place it goes to (both in view, street level at most)."""
        row = item.row
        points = [(row["lon"], row["lat"])]
        if item.candidate is not None and row["status"] == "incoming":
            at = self.session.feature_location(*item.candidate)
            if at is not None:
                points.append(at)
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        self.session.focus(incoming_map.SUBMISSIONS_LAYER, item.id)
        self.session.show_box((min(lons) - MARGIN, min(lats) - MARGIN, max(lons) + MARGIN, max(lats) + MARGIN))

    def _describe(self, item) -> str:
        row = item.row
        lines = [_("Goes to: {target}").format(target=review.target_text(self.session.workspace, item))
                 if row["status"] == "incoming" else _(dict(STATUSES)[row["status"]])]
        if row.get("reason"):
            lines.append(_("Reason: {reason}").format(reason=row["reason"]))
        lines += review.warnings(row)
        lines.append("")
        lines.append(_("Indicators seen:"))
        lines += [f"• {text}" for text in review.indicator_texts(row)] or [_("none")]
        for label_text, value in review.record_lines(row):
            lines.append(f"{label_text}: {value}")
        lines.append(ngettext("{n} photo", "{n} photos", item.photos).format(n=item.photos))
        return "\n".join(lines)

    def _on_selection(self, layer_id, fid, _pan) -> None:
        if layer_id in PLACE_KINDS and fid is not None:
            self.place = (layer_id, int(fid))
            self._update_buttons()
        elif layer_id == incoming_map.SUBMISSIONS_LAYER and fid is not None:
            self.select_submission(int(fid))

    def _update_buttons(self) -> None:
        waiting, writable = self._waiting(), self.session.writable
        one = len(waiting) == 1
        self.accept_button.setEnabled(writable and bool(waiting))
        self.reject_button.setEnabled(writable and bool(waiting))
        self.new_button.setEnabled(writable and one and waiting[0].row.get("lon") is not None)
        place_ok = self.place is not None and self.session.workspace is not None and \
            self.session.workspace.get_row(*self.place) is not None
        self.attach_button.setEnabled(writable and one and place_ok)
        self.attach_button.setText(_("Attach to {place}").format(place=review.place_name(
            self.session.workspace, self.place)) if place_ok else _("Attach to selected place"))

    # -- decisions --------------------------------------------------------------------

    def _do(self, make, done: str) -> bool:
        """Build the command (a refusal is shown) and run it through the session's history."""
        try:
            command = make()
        except (ValueError, KeyError) as exc:
            self.notify(_("The change was not made"), str(exc))
            return False
        if do_command(self.session, self.notify, command):
            self.notify.status(done, 8000)
            return True
        return False

    def accept_selected(self) -> bool:
        items = self._waiting()
        if not items:
            return False
        if len(items) == 1 and items[0].candidate is None and \
                api.new_place_defaults(items[0].row.get("place_type")) is None:
            return self.new_place()  # no place named, none near, no default layer: the reviewer says which
        ws, author = self.session.workspace, self.session.author
        return self._do(lambda: review.accept_as_shown(ws, items, author), ngettext(
            "{n} submission accepted (Ctrl+Z undoes it)", "{n} submissions accepted (Ctrl+Z undoes them)",
            len(items)).format(n=len(items)))

    def attach(self) -> bool:
        items = self._waiting()
        if len(items) != 1 or self.place is None:
            return False
        ws, author, place = self.session.workspace, self.session.author, self.place
        return self._do(lambda: api.accept(ws, items[0].id, author, place=place),
                        _("Submission attached to {place}").format(place=review.place_name(ws, place)))

    def new_place(self, spec: dict | None = None) -> bool:
        items = self._waiting()
        if len(items) != 1:
            return False
        item = items[0]
        if spec is None:
            default = api.new_place_defaults(item.row.get("place_type")) or {"fields": {}}
            dialog = NewPlaceDialog(item.row.get("new_place_name") or "", default["fields"].get("category"), self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
            spec = dialog.spec()
        ws, author = self.session.workspace, self.session.author
        return self._do(lambda: api.accept(ws, item.id, author, new_place=spec),
                        _("New place made from the submission"))

    def reject_selected(self, reason: str | None = None) -> bool:
        items = self._waiting()
        if not items:
            return False
        if reason is None:
            reason, ok = QInputDialog.getText(self, _("Reject submission"), _("Why is it rejected? (kept in the log)"))
            if not ok:
                return False
        if not reason.strip():
            QMessageBox.information(self, _("Reject submission"), _("a reason is required to reject a submission"))
            return False
        ws, author = self.session.workspace, self.session.author
        return self._do(lambda: review.reject_all(ws, [i.id for i in items], author, reason), ngettext(
            "{n} submission rejected", "{n} submissions rejected", len(items)).format(n=len(items)))

    # -- observing --------------------------------------------------------------------

    def _on_edited(self, tables) -> None:
        if SUBMISSIONS_TABLE in tables or any(t in PLACE_KINDS for t in tables):
            self.refresh()

    def set_on_screen(self, visible: bool) -> None:
        """Its dock's tab was selected or left (QDockWidget.visibilityChanged): the queue is on the map only
        while the reviewer looks at it."""
        if visible != self.shown:
            self.shown = visible
            self._update_map()

    def _update_map(self) -> None:
        """The waiting submissions on the map while the panel is in view; nothing of them otherwise."""
        ws = self.session.workspace
        overlay = None
        if self.shown and ws is not None:
            waiting = [i for i in self.items if i.row["status"] == "incoming"]
            overlay = incoming_map.incoming_overlay(ws, waiting, {i.id: review.target_text(ws, i) for i in waiting})
        if overlay is not None or incoming_map.NAME in self.session.overlays:
            self.session.set_overlay(incoming_map.NAME, overlay)
