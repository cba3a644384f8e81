"""Tools → Local actors…: the register of the local network (sector, roles, trained share, agreement renewal)
with add, edit and delete as undoable steps of the session's history. Contact details, agreements and training
are partner level: the dialog says so, and exports carry them only where the allow-list lets them."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from audit.actors import actors, add_actor, coverage, delete_actor, edit_actor, role_label, sector_label
from gui.accessible import name
from gui.actor_form import ActorForm
from gui.notify import do_command
from gui.tooltips import plain_tip
from layers import actor_store
from layers.errors import LanternError
from layers.i18n import _, integer, ngettext, percent
from layers.migrations import ACTORS_TABLE

OVERDUE, DUE = QColor("#f4c7c3"), QColor("#fce8b2")


def trained_text(row: dict) -> str:
    staff, trained = row.get("staff"), row.get("staff_trained")
    if staff is None or trained is None:
        return "—"
    share = f" ({percent(trained / staff, 0)})" if staff else ""
    return f"{integer(trained)} / {integer(staff)}" + share


class ActorsDialog(QDialog):
    COLUMNS = ("name", "sector", "roles", "contact_point", "trained", "renewal")

    def __init__(self, session, notify, parent=None, today: dt.date | None = None):
        super().__init__(parent)
        self.session, self.notify, self.today = session, notify, today or dt.date.today()
        self.setWindowTitle(_("Local actors"))
        self.resize(1240, 600)
        self.rows: list[dict] = []
        self.form: ActorForm | None = None
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.table = self._build_table()
        note = QLabel(_("Partner level: contact points, agreements and training leave only in partner and police "
                        "exports; public exports show the name, sector and roles. A contact point is an office or a "
                        "role, never a private person."))
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(self._buttons())
        layout.addWidget(note)
        session.edited.connect(self._on_edited)
        self.refresh()

    def _build_table(self) -> QTableWidget:
        table = QTableWidget(0, len(self.COLUMNS))
        table.setHorizontalHeaderLabels([_("Name"), _("Sector"), _("Roles in the chain of assistance"),
                                         _("Contact point"), _("Trained staff"), _("Agreement renewal")])
        table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setWordWrap(True)
        # rows follow the wrapped roles once the stretched column has its width (shown, resized)
        table.horizontalHeader().sectionResized.connect(lambda *_a: QTimer.singleShot(0, table.resizeRowsToContents))
        table.doubleClicked.connect(lambda _index: self.edit_selected())
        table.itemSelectionChanged.connect(self._update_buttons)
        name(table, _("Local actors"))
        for key in ("Return", "Enter"):  # the keyboard's way to open the selected actor
            QShortcut(QKeySequence(key), table, self.edit_selected, context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), table, self.delete_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        return table

    def _buttons(self) -> QHBoxLayout:
        self.add_button, self.edit_button = QPushButton(_("&Add…")), QPushButton(_("&Edit…"))
        self.delete_button, self.close_button = QPushButton(_("&Delete")), QPushButton(_("Close"))
        self.undo_button, self.redo_button = QPushButton(), QPushButton()
        for button, slot in ((self.add_button, self.add), (self.edit_button, self.edit_selected),
                             (self.delete_button, self.delete_selected), (self.undo_button, self._undo),
                             (self.redo_button, self._redo), (self.close_button, self.close)):
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            button.setAutoDefault(False)
        # keys that work anywhere in the dialog (a button's own shortcut loses to the table's key handling)
        for key, slot in ((QKeySequence(Qt.Key.Key_Insert), self.add), (QKeySequence.StandardKey.Undo, self._undo),
                          (QKeySequence.StandardKey.Redo, self._redo)):
            QShortcut(QKeySequence(key), self, slot)
        row = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.delete_button, self.undo_button, self.redo_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.close_button)
        return row

    # -- showing --------------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.rows = actors(self.session.workspace)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            cells = (row["name"], sector_label(row["sector"]), ", ".join(role_label(x) for x in row["roles"]),
                     row.get("contact_point") or "", trained_text(row))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)  # plain text, never HTML
                item.setToolTip(plain_tip(text))
                self.table.setItem(r, c, item)
            self.table.setItem(r, 5, self._renewal_item(row.get("agreement_renewal")))
        for c, widest in ((0, 260), (1, 190), (3, 210), (4, 130), (5, 210)):  # the roles take the rest, wrapped
            self.table.resizeColumnToContents(c)
            self.table.setColumnWidth(c, min(self.table.columnWidth(c), widest))
        self.table.resizeRowsToContents()
        self.summary.setText(self._summary_text())
        self._update_buttons()

    def _renewal_item(self, renewal) -> QTableWidgetItem:
        if not renewal:
            return QTableWidgetItem("—")
        days = (dt.date.fromisoformat(str(renewal)[:10]) - self.today).days
        if days < 0:  # said in words, not by colour alone
            text, color = _("{date} — overdue").format(date=renewal), OVERDUE
        elif days <= 90:
            text, color = ngettext("{date} — due in {n} day", "{date} — due in {n} days", days).format(
                date=renewal, n=days), DUE
        else:
            text, color = str(renewal), None
        item = QTableWidgetItem(text)
        if color is not None:
            item.setBackground(QBrush(color))
        return item

    def _summary_text(self) -> str:
        cov = coverage(self.session.workspace, self.today)
        parts = [ngettext("{n} actor", "{n} actors", cov.overall.actors).format(n=cov.overall.actors)]
        if cov.overall.share is not None:
            parts.append(_("trained: {trained} of {staff} staff ({share})").format(
                trained=integer(cov.overall.trained), staff=integer(cov.overall.staff),
                share=percent(cov.overall.share, 0)))
        parts.append(ngettext("{n} agreement overdue", "{n} agreements overdue", len(cov.overdue)).format(
            n=len(cov.overdue)))
        parts.append(ngettext("{n} due for renewal within 90 days", "{n} due for renewal within 90 days",
                              len(cov.due)).format(n=len(cov.due)))
        return " · ".join(parts)

    def _update_buttons(self) -> None:
        selected = self.selected() is not None
        writable = self.session.writable
        self.add_button.setEnabled(writable)
        self.edit_button.setEnabled(writable and selected)
        self.delete_button.setEnabled(writable and selected)
        history = self.session.history
        for button, stack, text in ((self.undo_button, history.undo_stack if history else [], _("&Undo")),
                                    (self.redo_button, history.redo_stack if history else [], _("&Redo"))):
            button.setEnabled(bool(stack) and writable)
            step = getattr(stack[-1], "label", "") if stack else ""
            button.setText(f"{text} {step}".strip())

    def _undo(self) -> None:
        if self.session.writable and self.session.history is not None and self.session.history.can_undo:
            self.session.undo()

    def _redo(self) -> None:
        if self.session.writable and self.session.history is not None and self.session.history.can_redo:
            self.session.redo()

    def _on_edited(self, tables) -> None:
        if ACTORS_TABLE in tables and self.session.workspace is not None:
            self.refresh()
        else:
            self._update_buttons()

    def selected(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def select_actor(self, actor_id: int) -> None:
        for r, row in enumerate(self.rows):
            if row["id"] == actor_id:
                self.table.selectRow(r)

    # -- changing: each one undoable step -----------------------------------------------------------------------

    def add(self) -> ActorForm:
        return self._open_form(None)

    def edit_selected(self) -> ActorForm | None:
        row = self.selected()
        return self._open_form(row) if row is not None and self.session.writable else None

    def _open_form(self, row: dict | None) -> ActorForm:
        self.form = ActorForm(actor_store.service_names(self.session.workspace.db.conn), row, self)
        self.form.accepted.connect(lambda form=self.form, row=row: self.save(form.values(), row and row["id"]))
        self.form.open()
        return self.form

    def save(self, values: dict, actor_id: int | None = None) -> bool:
        """Add (``actor_id`` None) or change an actor as one step of the session's history."""
        ws = self.session.workspace
        try:
            command = add_actor(ws, values) if actor_id is None else edit_actor(ws, actor_id, values)
        except LanternError as exc:
            self.notify(_("The change was not made"), str(exc))
            return False
        if command is None:  # nothing changed
            return True
        done = do_command(self.session, self.notify, command)
        if done:
            self.select_actor(command.row_id)
        return done

    def delete_selected(self, confirm: bool = True) -> bool:
        row = self.selected()
        if row is None or not self.session.writable:
            return False
        question = "\n".join((_("Delete the local actor '{name}'?").format(name=row["name"]),
                              _("You can undo this (Ctrl+Z).")))
        if confirm and QMessageBox.question(self, _("Delete local actor"), question) != QMessageBox.StandardButton.Yes:
            return False
        return do_command(self.session, self.notify, delete_actor(self.session.workspace, row["id"]))

    def done(self, result: int) -> None:
        self.session.edited.disconnect(self._on_edited, missing_ok=True)
        super().done(result)
