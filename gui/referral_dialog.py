"""Tools → Referral helper: suitable services for an anonymous situation, and the local actors whose role fits
(with their contact points: partner-level information). Nothing about the person is stored."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audit.actors import actors
from audit.referral import Situation, suitable_services
from audit.referral_actors import suitable_actors
from gui.accessible import name, name_form_fields
from gui.tooltips import plain_tip
from layers.catalogue import forms_of_exploitation
from layers.catalogue import kind as get_kind
from layers.i18n import _


NAME_WIDTH = 280  # pixels: a longer service name wraps onto a second line


class ReferralDialog(QDialog):
    def __init__(self, session, location=None, parent=None):
        super().__init__(parent)
        self.session = session
        self.location = location
        self.setWindowTitle(_("Referral helper"))
        self.resize(980, 660)
        self._build_inputs()
        where = _("from the selected place") if location else _("no location: distances unknown")
        self.where = QLabel(where)
        search = QPushButton(_("Find services"))
        search.clicked.connect(self.search)
        self.table = self._build_table()
        self.actors_table = self._build_actors_table()
        note = QLabel(_("Nothing about the person is stored. Distances are straight lines; walking times "
                              "assume 5 km/h on a path 1.3 × longer."))
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        form = QFormLayout()
        form.addRow(_("Form of exploitation:"), self.form)
        form.addRow(_("Sex:"), self.sex)
        form.addRow(_("Age band:"), self.age)
        form.addRow(_("Language:"), self.language)
        form.addRow(_("Urgency:"), self.urgency)
        form.addRow(_("Location:"), self.where)
        name_form_fields(form)
        name(search, _("Find services"))
        name(self.table, _("Service"))
        name(self.actors_table, _("Local actor"))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(search)
        layout.addWidget(self._tables(), 1)
        layout.addWidget(note)
        self.results: list[dict] = []
        self.actor_results: list[dict] = []

    def _build_inputs(self) -> None:
        """What the helper asks: the situation, never the person."""
        self.form = QComboBox()
        self.form.addItem(_("(any)"), None)
        for f in forms_of_exploitation():
            self.form.addItem(f.label, f.id)
        self.sex = QComboBox()
        for value, text in ((None, _("(not given)")), ("female", _("female")), ("male", _("male")),
                            ("other", _("other"))):
            self.sex.addItem(text, value)
        self.age = QComboBox()
        self.age.addItem(_("(not given)"), None)
        for c in get_kind("reported_cases").field("age_band").choices:
            self.age.addItem(c.label, c.id)
        self.language = QComboBox()
        self.language.setEditable(True)
        for code in ("", "lv", "ru", "en", "uk", "fi", "ar", "fa", "so", "et"):
            self.language.addItem(code)
        self.urgency = QComboBox()
        for value, text in (("now", _("Now: open services only")), ("soon", _("Soon")),
                            ("routine", _("Routine"))):
            self.urgency.addItem(text, value)
        self.urgency.setCurrentIndex(1)

    def _build_table(self) -> QTableWidget:
        table = QTableWidget(0, 6)
        table.setHorizontalHeaderLabels([_("Service"), _("Type"), _("Distance"),
                                         _("Open now"), _("Phone"), _("Offers")])
        table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setWordWrap(True)  # a long name wraps onto a second line instead of being cut
        # rows follow the wrapped text when a column changes width (the dialog is shown or resized, a scroll
        # bar comes or goes), once the layout has settled
        table.horizontalHeader().sectionResized.connect(
            lambda *_a: QTimer.singleShot(0, table.resizeRowsToContents))
        table.itemSelectionChanged.connect(self._on_row)
        return table

    def _build_actors_table(self) -> QTableWidget:
        table = QTableWidget(0, 5)
        table.setHorizontalHeaderLabels([_("Local actor"), _("Role in the chain of assistance"), _("Contact point"),
                                         _("Phone"), _("E-mail")])
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setWordWrap(True)
        table.horizontalHeader().sectionResized.connect(  # rows follow the wrapped roles, as above
            lambda *_a: QTimer.singleShot(0, table.resizeRowsToContents))
        return table

    def _tables(self) -> QSplitter:
        """Services above, the local actors whose role fits below (partner level: said above the table)."""
        heading = QLabel(_("Local actors whose role fits (partner level: contact points are for the cooperation "
                           "network, never for publication)"))
        heading.setWordWrap(True)
        heading.setBuddy(self.actors_table)
        lower = QWidget()
        column = QVBoxLayout(lower)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(heading)
        column.addWidget(self.actors_table, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        return splitter

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
                distance = _("no address")
            else:
                distance = _("{m} m · ~{w} min").format(m=row["distance_m"], w=row["walk_min"])
            status = _("open 24/7") if row["always_open"] else \
                {True: _("open"), False: _("closed"), None: _("unknown")}[row["open_now"]]
            cells = (row["name"], row["type"], distance, status, row["phone"], ", ".join(row["offers"]))
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)  # plain text, never HTML
                item.setToolTip(plain_tip("\n".join(t for t in (row["name"], text if c == 5 else "", row["hours"]) if t)))
                self.table.setItem(r, c, item)
        for c in range(5):  # types, distances and phones as far as they fit; names wrap at a readable width
            self.table.resizeColumnToContents(c)
            self.table.setColumnWidth(c, min(self.table.columnWidth(c), NAME_WIDTH if c == 0 else 200))
        self.table.resizeRowsToContents()
        self._show_actors(self.situation())
        return self.results

    def _show_actors(self, situation: Situation) -> list[dict]:
        self.actor_results = suitable_actors(actors(self.session.workspace), situation)
        self.actors_table.setRowCount(len(self.actor_results))
        for r, row in enumerate(self.actor_results):
            cells = (f"{row['name']} ({row['sector']})", ", ".join(row["roles"]), row["contact_point"],
                     row["contact_phone"], row["contact_email"])
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)  # plain text, never HTML
                item.setToolTip(plain_tip("\n".join([row["name"], *row["why"]])))
                self.actors_table.setItem(r, c, item)
        for c, widest in ((0, 240), (2, 200), (3, 130), (4, 200)):  # the roles take the rest, wrapped
            self.actors_table.resizeColumnToContents(c)
            self.actors_table.setColumnWidth(c, min(self.actors_table.columnWidth(c), widest))
        self.actors_table.resizeRowsToContents()
        return self.actor_results

    def _on_row(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            fid = self.results[rows[0].row()]["fid"]
            self.session.focus("services", fid)
