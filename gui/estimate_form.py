"""The risk-group estimate form: how many people of a group in an area, with breakdowns and source."""
from __future__ import annotations

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
)

from audit.catalogue import confidence_levels, risk_groups
from audit.estimates import ORIGIN_FIELD, estimate_values
from gui.accessible import name, name_form_fields
from layers.i18n import _, label, decimal

UNKNOWN = -1


def _spin(maximum: int = 1_000_000, optional: bool = True) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(UNKNOWN if optional else 0, maximum)
    if optional:
        spin.setSpecialValueText("—")
        spin.setValue(UNKNOWN)
    spin.setAccelerated(True)
    return spin


class EstimateForm(QDialog):
    def __init__(self, area_name: str = "", area_km2: float | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Record risk-group estimate"))
        self.resize(560, 560)
        self.group_combo = QComboBox()
        for g in risk_groups():
            self.group_combo.addItem(label(g), g["id"])
        self.estimate = _spin(optional=False)
        self.female, self.male = _spin(), _spin()
        self.ages = {name: _spin() for name in ("age_0_17", "age_18_24", "age_25_49", "age_50_plus")}
        self.origin_edit = QLineEdit()
        self.origin_edit.setPlaceholderText(_("origin: number; origin: number — e.g. Latvian: 12; Roma: 5"))
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText(_("e.g. Municipal social service, NGO outreach team"))
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setMaximumDate(QDate.currentDate())
        self.confidence_combo = QComboBox()
        for c in confidence_levels():
            self.confidence_combo.addItem(label(c), c["id"])
        self.confidence_combo.setCurrentIndex(1)
        self.area_edit = QLineEdit(area_name)
        area_text = _("{km2} km²").format(km2=decimal(area_km2, 2)) if area_km2 else ""
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #a00000;")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self._layout(area_text, buttons)

    def _layout(self, area_text: str, buttons: QDialogButtonBox) -> None:
        form = QFormLayout()
        form.addRow(_("Area:"), self.area_edit)
        if area_text:
            form.addRow(_("Size:"), QLabel(area_text))
        form.addRow(_("Risk group:"), self.group_combo)
        form.addRow(_("Estimated number:"), self.estimate)
        sexes = QGroupBox(_("By sex, where known"))
        sex_row = QHBoxLayout(sexes)
        for text, spin in ((_("female"), self.female), (_("male"), self.male)):
            sex_row.addWidget(QLabel(text))
            sex_row.addWidget(spin)
        ages = QGroupBox(_("By age, where known"))
        age_row = QHBoxLayout(ages)
        for text, key in (("0–17", "age_0_17"), ("18–24", "age_18_24"), ("25–49", "age_25_49"), ("50+", "age_50_plus")):
            age_row.addWidget(QLabel(text))
            age_row.addWidget(self.ages[key])
        origins = QGroupBox(_("By ethnic or national origin, where known"))
        origin_layout = QVBoxLayout(origins)
        origin_layout.addWidget(self.origin_edit)
        origin_hint = QLabel(_("Police only: this breakdown is shared with the police liaison alone, never in "
                               "public or partner exports."))
        origin_hint.setWordWrap(True)
        origin_hint.setStyleSheet("color: #555;")
        origin_layout.addWidget(origin_hint)
        source = QFormLayout()
        source.addRow(_("Source institution:"), self.source_edit)
        source.addRow(_("Date of estimate:"), self.date_edit)
        source.addRow(_("Confidence:"), self.confidence_combo)
        self._describe(form, source, sexes.title(), ages.title(), origins.title())
        note = QLabel(_("Estimates are numbers for an area, never records of individual people."))
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(sexes)
        layout.addWidget(ages)
        layout.addWidget(origins)
        layout.addLayout(source)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _describe(self, form: QFormLayout, source: QFormLayout, sexes: str, ages: str, origins: str) -> None:
        """Accessible names: the form rows by their labels, the breakdowns by their group and column."""
        name_form_fields(form)
        name_form_fields(source)
        for text, spin in ((_("female"), self.female), (_("male"), self.male)):
            name(spin, f"{sexes}: {text}")
        for key, spin in self.ages.items():
            name(spin, f"{ages}: {key.removeprefix('age_').replace('_plus', '+').replace('_', '–')}")
        name(self.origin_edit, origins)
        self.origin_edit.setToolTip(self.origin_edit.placeholderText())
        self.source_edit.setToolTip(self.source_edit.placeholderText())

    @staticmethod
    def _value(spin: QSpinBox):
        return None if spin.value() == UNKNOWN else spin.value()

    def fields(self) -> dict:
        return {
            "risk_group": self.group_combo.currentData(),
            "estimate": self.estimate.value(),
            "female": self._value(self.female),
            "male": self._value(self.male),
            **{k: self._value(s) for k, s in self.ages.items()},
            ORIGIN_FIELD: self.origin_edit.text().strip() or None,
            "source_institution": self.source_edit.text().strip(),
            "estimated_on": self.date_edit.date().toString("yyyy-MM-dd"),
            "confidence": self.confidence_combo.currentData(),
            "area_name": self.area_edit.text().strip() or None,
        }

    def accept(self) -> None:
        try:
            if not self.source_edit.text().strip():
                raise ValueError(_("Name the source institution of the estimate."))
            estimate_values(self.fields())
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return
        super().accept()
