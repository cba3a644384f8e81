"""The form of one local actor: who (sector and roles as choices, a contact point that is an office), and the
cooperation agreement and training (dates with QDateEdit, numbers with spin boxes). It only gathers values;
the actors dialog turns them into an undoable command."""
from __future__ import annotations

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
)

from audit.actor_catalogue import roles, sectors
from audit.actor_checks import field_label, problems_of, warnings
from gui.accessible import name, name_form_fields
from gui.date_field import date_edit
from layers.actor_store import role_ids
from layers.i18n import _, label

UNKNOWN = -1


def _spin() -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(UNKNOWN, 100_000)
    spin.setSpecialValueText("—")  # unknown
    spin.setValue(UNKNOWN)
    return spin


def _message_label(color: str) -> QLabel:
    text = QLabel()
    text.setWordWrap(True)
    text.setTextFormat(Qt.TextFormat.PlainText)
    text.setStyleSheet(f"color: {color};")
    return text


class ActorForm(QDialog):
    def __init__(self, services: list[tuple[int, str]], row: dict | None = None, parent=None):
        super().__init__(parent)
        self.row = dict(row or {})
        self.setWindowTitle(_("Edit local actor") if row else _("Add local actor"))
        self.resize(1040, 560)
        self._build_fields(services)
        self.errors, self.warning = _message_label("#a00000"), _message_label("#8a5300")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        columns = QHBoxLayout()
        columns.addWidget(self._who_group(), 1)
        columns.addWidget(self._agreement_group(), 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addWidget(self.warning)
        layout.addWidget(self.errors)
        layout.addWidget(buttons)
        self.set_values(self.row)
        for edit in (self.contact_point, self.email):
            edit.textChanged.connect(self._on_contact_changed)
        self._on_contact_changed()

    def _build_fields(self, services) -> None:
        self.name_edit, self.contact_point = QLineEdit(), QLineEdit()
        self.contact_point.setPlaceholderText(_("an office or a role, e.g. Social service crisis unit"))
        self.phone, self.email, self.address = QLineEdit(), QLineEdit(), QLineEdit()
        self.sector = QComboBox()
        for s in sectors():
            self.sector.addItem(label(s), s["id"])
        self.roles = QListWidget()
        for r in roles():
            item = QListWidgetItem(label(r))
            item.setData(Qt.ItemDataRole.UserRole, r["id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.roles.addItem(item)
        # every role in sight: a hidden one is easily missed
        self.roles.setMinimumHeight(self.roles.sizeHintForRow(0) * self.roles.count() + 2 * self.roles.frameWidth() + 4)
        self.service = QComboBox()
        self.service.addItem(_("(none)"), None)
        for fid, text in services:
            self.service.addItem(text, fid)
        self.has_agreement, self.scope = QCheckBox(_("A cooperation agreement is signed")), QLineEdit()
        self.agreement_date, self.renewal, self.trained_on = date_edit(), date_edit(), date_edit()
        self.trained_known = QCheckBox(_("The date of the last training is known"))
        self.staff, self.trained = _spin(), _spin()
        self.needs, self.notes = QLineEdit(), QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(60)
        self.has_agreement.toggled.connect(self._on_agreement_toggled)
        self.trained_known.toggled.connect(self.trained_on.setEnabled)

    def _who_group(self) -> QGroupBox:
        group = QGroupBox(_("Who"))
        form = QFormLayout(group)
        for text, widget in ((field_label("name"), self.name_edit), (field_label("sector"), self.sector),
                             (field_label("roles"), self.roles), (field_label("contact_point"), self.contact_point),
                             (field_label("contact_phone"), self.phone), (field_label("contact_email"), self.email),
                             (field_label("address"), self.address), (field_label("service_fid"), self.service)):
            form.addRow(text + ":", widget)
        name_form_fields(form)
        return group

    def _agreement_group(self) -> QGroupBox:
        group = QGroupBox(_("Cooperation agreement and training"))
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for widget in (self.scope, self.needs):
            widget.setMinimumWidth(260)
        form.addRow(self.has_agreement)
        for text, widget in ((field_label("agreement_date"), self.agreement_date),
                             (field_label("agreement_renewal"), self.renewal),
                             (field_label("agreement_scope"), self.scope), (field_label("staff"), self.staff),
                             (field_label("staff_trained"), self.trained)):
            form.addRow(text + ":", widget)
        form.addRow(self.trained_known)
        form.addRow(field_label("trained_on") + ":", self.trained_on)
        form.addRow(field_label("training_needs") + ":", self.needs)
        form.addRow(_("Notes (police level only):"), self.notes)
        name_form_fields(form)
        name(self.has_agreement, self.has_agreement.text())
        name(self.trained_known, self.trained_known.text())
        return group

    def _on_agreement_toggled(self, on: bool) -> None:
        for widget in (self.agreement_date, self.renewal, self.scope):
            widget.setEnabled(on)

    def _on_contact_changed(self, *_args) -> None:
        self.warning.setText("\n".join(warnings({"contact_point": self.contact_point.text(),
                                                 "contact_email": self.email.text()})))

    # -- values in and out --------------------------------------------------------------------------------------

    def set_values(self, row: dict) -> None:
        self.name_edit.setText(row.get("name") or "")
        index = self.sector.findData(row.get("sector"))
        self.sector.setCurrentIndex(max(index, 0))
        chosen = set(role_ids(row.get("roles")))
        for i in range(self.roles.count()):
            item = self.roles.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in chosen
                               else Qt.CheckState.Unchecked)
        for edit, column in ((self.contact_point, "contact_point"), (self.phone, "contact_phone"),
                             (self.email, "contact_email"), (self.address, "address"),
                             (self.scope, "agreement_scope"), (self.needs, "training_needs")):
            edit.setText(row.get(column) or "")
        self.notes.setPlainText(row.get("notes") or "")
        self.service.setCurrentIndex(max(self.service.findData(row.get("service_fid")), 0))
        for spin, column in ((self.staff, "staff"), (self.trained, "staff_trained")):
            spin.setValue(UNKNOWN if row.get(column) is None else int(row[column]))
        self._set_date(self.has_agreement, self.agreement_date, row.get("agreement_date"))
        self._set_date(self.has_agreement, self.renewal, row.get("agreement_renewal"))
        self._on_agreement_toggled(self.has_agreement.isChecked())
        self._set_date(self.trained_known, self.trained_on, row.get("trained_on"))
        self.trained_on.setEnabled(self.trained_known.isChecked())

    @staticmethod
    def _set_date(check: QCheckBox, edit: QDateEdit, value) -> None:
        if value:
            edit.setDate(QDate.fromString(str(value)[:10], "yyyy-MM-dd"))
            check.setChecked(True)

    def checked_roles(self) -> list[str]:
        return [self.roles.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.roles.count())
                if self.roles.item(i).checkState() == Qt.CheckState.Checked]

    def values(self) -> dict:
        """The form's values as audit.actors takes them (the position, which the form does not show, kept)."""
        agreement, trained_known = self.has_agreement.isChecked(), self.trained_known.isChecked()

        def day(edit: QDateEdit, on: bool) -> str | None:
            return edit.date().toString("yyyy-MM-dd") if on else None

        def count(spin: QSpinBox) -> int | None:
            return None if spin.value() == UNKNOWN else spin.value()

        return {"name": self.name_edit.text(), "sector": self.sector.currentData(), "roles": self.checked_roles(),
                "contact_point": self.contact_point.text(), "contact_phone": self.phone.text(),
                "contact_email": self.email.text(), "address": self.address.text(),
                "lon": self.row.get("lon"), "lat": self.row.get("lat"),
                "agreement_date": day(self.agreement_date, agreement),
                "agreement_renewal": day(self.renewal, agreement),
                "agreement_scope": self.scope.text() if agreement else None, "staff": count(self.staff),
                "staff_trained": count(self.trained), "trained_on": day(self.trained_on, trained_known),
                "training_needs": self.needs.text(), "service_fid": self.service.currentData(),
                "notes": self.notes.toPlainText()}

    def accept(self) -> None:
        """Save only values that may be stored; otherwise say why, and stay open."""
        _values, problems = problems_of(self.values())
        self.errors.setText("\n".join(problems))
        if not problems:
            super().accept()

