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
from audit.estimates import estimate_values
from layers.i18n import label

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
        self.setWindowTitle(self.tr("Record risk-group estimate"))
        self.resize(520, 460)
        self.group_combo = QComboBox()
        for g in risk_groups():
            self.group_combo.addItem(label(g), g["id"])
        self.estimate = _spin(optional=False)
        self.female, self.male = _spin(), _spin()
        self.ages = {name: _spin() for name in ("age_0_17", "age_18_24", "age_25_49", "age_50_plus")}
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText(self.tr("e.g. Municipal social service, NGO outreach team"))
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setMaximumDate(QDate.currentDate())
        self.confidence_combo = QComboBox()
        for c in confidence_levels():
            self.confidence_combo.addItem(label(c), c["id"])
        self.confidence_combo.setCurrentIndex(1)
        self.area_edit = QLineEdit(area_name)
        area_text = self.tr("{km2:.2f} km²").format(km2=area_km2) if area_km2 else ""
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
        form.addRow(self.tr("Area:"), self.area_edit)
        if area_text:
            form.addRow(self.tr("Size:"), QLabel(area_text))
        form.addRow(self.tr("Risk group:"), self.group_combo)
        form.addRow(self.tr("Estimated number:"), self.estimate)
        sexes = QGroupBox(self.tr("By sex, where known"))
        sex_row = QHBoxLayout(sexes)
        for text, spin in ((self.tr("female"), self.female), (self.tr("male"), self.male)):
            sex_row.addWidget(QLabel(text))
            sex_row.addWidget(spin)
        ages = QGroupBox(self.tr("By age, where known"))
        age_row = QHBoxLayout(ages)
        for text, key in (("0–17", "age_0_17"), ("18–24", "age_18_24"), ("25–49", "age_25_49"), ("50+", "age_50_plus")):
            age_row.addWidget(QLabel(text))
            age_row.addWidget(self.ages[key])
        source = QFormLayout()
        source.addRow(self.tr("Source institution:"), self.source_edit)
        source.addRow(self.tr("Date of estimate:"), self.date_edit)
        source.addRow(self.tr("Confidence:"), self.confidence_combo)
        note = QLabel(self.tr("Estimates are numbers for an area, never records of individual people."))
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(sexes)
        layout.addWidget(ages)
        layout.addLayout(source)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

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
            "source_institution": self.source_edit.text().strip(),
            "estimated_on": self.date_edit.date().toString("yyyy-MM-dd"),
            "confidence": self.confidence_combo.currentData(),
            "area_name": self.area_edit.text().strip() or None,
        }

    def accept(self) -> None:
        try:
            if not self.source_edit.text().strip():
                raise ValueError(self.tr("Name the source institution of the estimate."))
            estimate_values(self.fields())
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return
        super().accept()
