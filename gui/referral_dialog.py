"""Tools → Referral helper: suitable services for an anonymous situation. Nothing about the person is stored."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from audit.referral import Situation, suitable_services
from layers.catalogue import kind as get_kind
from layers.catalogue import forms_of_exploitation


class ReferralDialog(QDialog):
    def __init__(self, session, location=None, parent=None):
        super().__init__(parent)
        self.session = session
        self.location = location
        self.setWindowTitle(self.tr("Referral helper"))
        self.resize(820, 520)
        self.form = QComboBox()
        self.form.addItem(self.tr("(any)"), None)
        for f in forms_of_exploitation():
            self.form.addItem(f.label, f.id)
        self.sex = QComboBox()
        for value, text in ((None, self.tr("(not given)")), ("female", self.tr("female")), ("male", self.tr("male")),
                            ("other", self.tr("other"))):
            self.sex.addItem(text, value)
        self.age = QComboBox()
        self.age.addItem(self.tr("(not given)"), None)
        for c in get_kind("reported_cases").field("age_band").choices:
            self.age.addItem(c.label, c.id)
        self.language = QComboBox()
        self.language.setEditable(True)
        for code in ("", "lv", "ru", "en", "uk", "fi", "ar", "fa", "so", "et"):
            self.language.addItem(code)
        self.urgency = QComboBox()
        for value, text in (("now", self.tr("Now: open services only")), ("soon", self.tr("Soon")),
                            ("routine", self.tr("Routine"))):
            self.urgency.addItem(text, value)
        self.urgency.setCurrentIndex(1)
        where = self.tr("from the selected place") if location else self.tr("no location: distances unknown")
        self.where = QLabel(where)
        search = QPushButton(self.tr("Find services"))
        search.clicked.connect(self.search)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels([self.tr("Service"), self.tr("Type"), self.tr("Distance"),
                                              self.tr("Open now"), self.tr("Phone"), self.tr("Offers")])
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.itemSelectionChanged.connect(self._on_row)
        note = QLabel(self.tr("Nothing about the person is stored. Distances are straight lines; walking times "
                              "assume 5 km/h on a path 1.3 × longer."))
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        form = QFormLayout()
        form.addRow(self.tr("Form of exploitation:"), self.form)
        form.addRow(self.tr("Sex:"), self.sex)
        form.addRow(self.tr("Age band:"), self.age)
        form.addRow(self.tr("Language:"), self.language)
        form.addRow(self.tr("Urgency:"), self.urgency)
        form.addRow(self.tr("Location:"), self.where)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(search)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        self.results: list[dict] = []

    def situation(self) -> Situation:
        return Situation(self.form.currentData(), self.sex.currentData(), self.age.currentData(),
                         self.language.currentText().strip() or None, self.urgency.currentData())

    def search(self) -> list[dict]:
        self.results = suitable_services(self.session.workspace.read_layer("services"), self.situation(),
                                         self.location)
        self.table.setRowCount(len(self.results))
        for r, row in enumerate(self.results):
            if self.location is None:
                distance = "—"
            elif row["distance_m"] is None:
                distance = self.tr("no address")
            else:
                distance = self.tr("{m} m · ~{w} min").format(m=row["distance_m"], w=row["walk_min"])
            status = {True: self.tr("open"), False: self.tr("closed"), None: self.tr("unknown")}[row["open_now"]]
            for c, text in enumerate((row["name"], row["type"], distance, status, row["phone"], ", ".join(row["offers"]))):
                item = QTableWidgetItem(text)  # plain text, never HTML
                item.setToolTip(row["hours"])
                self.table.setItem(r, c, item)
        return self.results

    def _on_row(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            fid = self.results[rows[0].row()]["fid"]
            self.session.focus("services", fid)
