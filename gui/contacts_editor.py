"""Tools → Monthly contacts…: the hotline and service contacts the municipality counts each month, per risk area
or service — numbers only, never personal data. Each row added, changed or removed, and each CSV import, is one
undoable step."""
from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from audit.contacts import add_contact, area_choices, contacts, delete_contact, edit_contact, import_contacts
from gui.accessible import name_form_fields
from gui.campaign_dialog import ID_ROLE, fill_table, make_table
from gui.notify import do_command
from layers.catalogue import kind as get_kind
from layers.errors import LanternError
from layers.i18n import _
from layers.migrations import CONTACTS_TABLE


def channel_labels() -> dict[str, str]:
    return {"hotline": _("Hotline"), "service": _("Service")}


class ContactForm(QDialog):
    """One month's count for one channel and one risk area or service."""

    def __init__(self, session, existing: dict | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Contact count"))
        row = existing or {}
        self.month = QDateEdit(QDate.fromString(row["month"], "yyyy-MM") if row else QDate.currentDate().addMonths(-1))
        self.month.setDisplayFormat("yyyy-MM")
        self.channel = QComboBox()
        for key, text in channel_labels().items():
            self.channel.addItem(text, key)
        self.channel.setCurrentIndex(max(0, self.channel.findData(row.get("channel", "hotline"))))
        self.place = QComboBox()
        for table, fid, place in area_choices(session.workspace):
            self.place.addItem(f"{place} ({get_kind(table).label})", (table, fid))
        if row:
            self.place.setCurrentIndex(max(0, self.place.findData((row["area_table"], row["area_fid"]))))
        self.count = QSpinBox()
        self.count.setRange(0, 1_000_000)
        self.count.setValue(int(row.get("count") or 0))
        self.source = QLineEdit(row.get("source") or "")
        self.source.setPlaceholderText(_("e.g. hotline log, social service register"))
        note = QLabel(_("Numbers only: no names, phone numbers or personal codes."))
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        for text, widget in ((_("Month:"), self.month), (_("Channel:"), self.channel),
                             (_("Risk area or service:"), self.place), (_("Count:"), self.count),
                             (_("Source:"), self.source)):
            form.addRow(text, widget)
        form.addRow(note)
        form.addRow(buttons)
        name_form_fields(form)

    def values(self) -> dict:
        table, fid = self.place.currentData() or (None, None)
        return {"month": self.month.date().toString("yyyy-MM"), "channel": self.channel.currentData(),
                "area_table": table, "area_fid": fid, "count": self.count.value(), "source": self.source.text()}


class ContactsEditor(QDialog):
    def __init__(self, session, notify, parent=None):
        super().__init__(parent)
        self.session, self.notify = session, notify
        self.setWindowTitle(_("Monthly contacts"))
        self.resize(820, 520)
        self.table = make_table([_("Month"), _("Channel"), _("Risk area or service"), _("Count"), _("Source")],
                                _("Monthly contacts"))
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemDoubleClicked.connect(lambda _item: self.edit())
        intro = QLabel(_("How many people contacted the hotline or a service each month, by risk area or service. "
                         "Numbers only: the campaign evaluation compares them before and after each campaign."))
        intro.setWordWrap(True)
        row = QHBoxLayout()
        for text, handler in ((_("Add…"), self.add), (_("Edit…"), self.edit), (_("Delete"), self.delete),
                              (_("Import CSV…"), self.import_file)):
            button = QPushButton(text)
            button.clicked.connect(lambda _checked=False, h=handler: h())
            button.setEnabled(session.writable)
            row.addWidget(button)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(close)
        session.edited.connect(self._on_edited)
        self.finished.connect(lambda _r: session.edited.disconnect(self._on_edited))
        self.refresh()

    def refresh(self) -> None:
        if self.session.workspace is None:
            return
        self.rows = contacts(self.session.workspace)
        channels = channel_labels()
        fill_table(self.table, [[r["month"], channels.get(r["channel"], r["channel"]), r["area_name"] or "",
                                 str(r["count"]), r["source"] or ""] for r in self.rows], [r["id"] for r in self.rows])

    def _on_edited(self, tables) -> None:
        if CONTACTS_TABLE in tables:
            self.refresh()

    def selected_id(self) -> int | None:
        item = self.table.item(self.table.currentRow(), 0) if self.table.currentRow() >= 0 else None
        return item.data(ID_ROLE) if item is not None else None

    def _run(self, make) -> bool:
        try:
            command = make()
        except (ValueError, LanternError) as exc:
            self.notify(_("The change was not made"), str(exc))
            return False
        return command is None or do_command(self.session, self.notify, command)

    def save_form(self, form: ContactForm, row_id: int | None = None) -> bool:
        ws = self.session.workspace
        if row_id is None:
            return self._run(lambda: add_contact(ws, **form.values()))
        return self._run(lambda: edit_contact(ws, row_id, **form.values()))

    def add(self) -> ContactForm:
        form = ContactForm(self.session, None, self)
        form.accepted.connect(lambda: self.save_form(form))
        form.open()
        self.last_form = form
        return form

    def edit(self) -> ContactForm | None:
        row_id = self.selected_id()
        found = [r for r in self.rows if r["id"] == row_id]
        if not found or not self.session.writable:
            return None
        form = ContactForm(self.session, found[0], self)
        form.accepted.connect(lambda: self.save_form(form, row_id))
        form.open()
        self.last_form = form
        return form

    def delete(self) -> bool:
        row_id = self.selected_id()
        return row_id is not None and self._run(lambda: delete_contact(self.session.workspace, row_id))

    def import_file(self, path: str | None = None) -> bool:
        if path is None:
            path, _filter = QFileDialog.getOpenFileName(self, _("Import monthly contacts"), "",
                                                        _("CSV files (*.csv)"))
            if not path:
                return False
        return self._run(lambda: import_contacts(self.session.workspace, path))
