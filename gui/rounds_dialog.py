"""Edit → Audit rounds…: the rounds with how many annotations and estimates each holds; add or edit one.

Each save is one undoable step through the session's history (``audit.rounds``), like every edit.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from audit import rounds
from gui.date_field import date_edit
from gui.accessible import name, name_form_fields
from layers.i18n import _

WHOLE_DISTRICT = -1  # the area combo's data for "the whole district"


class RoundForm(QDialog):
    """A round's name, dates, teams, the part of the district it covers, and notes."""

    def __init__(self, ws, current: rounds.Round | None = None, parent=None):
        super().__init__(parent)
        self.ws, self.current = ws, current
        self.setWindowTitle(_("Edit audit round") if current else _("New audit round"))
        self.name_edit = QLineEdit(current.name if current else "")
        self.name_edit.setPlaceholderText(_("e.g. Spring 2026"))
        self.starts = date_edit(current.starts if current else None)
        self.ends = date_edit(current.ends if current else None)
        self.teams = QLineEdit(", ".join(current.teams) if current else "")
        self.teams.setPlaceholderText(_("e.g. social services, municipal police, NGO outreach team"))
        self.area = self._area_choice(current)
        self.notes = QLineEdit(current.notes if current else "")
        self.error = QLabel()
        self.error.setStyleSheet("color: #a00000;")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        self._layout()

    def _area_choice(self, current) -> QComboBox:
        combo = QComboBox()
        combo.addItem(_("The whole district"), WHOLE_DISTRICT)
        areas = self.ws.read_layer("risk_areas")
        for fid, area_name in zip(areas.index, areas["name"]):
            combo.addItem(_("Risk area: {name}").format(name=area_name or fid), int(fid))
        self.area_shapes = dict(zip(areas.index.astype(int), areas.geometry))
        if current is not None and current.area:
            combo.addItem(_("As recorded"), None)  # keep the round's own outline unless another is chosen
            combo.setCurrentIndex(combo.count() - 1)
        return combo

    def _layout(self) -> None:
        form = QFormLayout()
        form.addRow(_("Name:"), self.name_edit)
        form.addRow(_("Starts:"), self.starts)
        form.addRow(_("Ends:"), self.ends)
        form.addRow(_("Teams:"), self.teams)
        form.addRow(_("Covers:"), self.area)
        form.addRow(_("Notes:"), self.notes)
        name_form_fields(form)
        hint = QLabel(_("New annotations and estimates go to the round whose dates hold their date (else to the "
                        "latest round). Changing a round's dates does not move what it already holds."))
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def chosen_area(self):
        data = self.area.currentData()
        if data is None:
            return self.current.area if self.current else None
        return None if data == WHOLE_DISTRICT else self.area_shapes[data]

    def values(self) -> dict:
        return {"name": self.name_edit.text(), "starts": self.starts.date().toString("yyyy-MM-dd"),
                "ends": self.ends.date().toString("yyyy-MM-dd"), "teams": self.teams.text(),
                "area": self.chosen_area(), "notes": self.notes.text()}

    def command(self):
        """The undoable step this form describes; raises ValueError naming what is wrong."""
        v = self.values()
        if self.current is None:
            return rounds.add_round(self.ws, v["name"], v["starts"], v["ends"], v["teams"], v["area"], v["notes"])
        return rounds.edit_round(self.ws, self.current.id, **v)

    def accept(self) -> None:
        """Stay open, saying what is wrong, until the round is valid."""
        try:
            self.result_command = self.command()
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        super().accept()


class RoundsDialog(QDialog):
    """The list of rounds; Add… and Edit… open a RoundForm and save it through ``do(command) -> bool``."""

    COLUMNS = ("name", "dates", "teams", "covers", "annotations", "estimates")

    def __init__(self, session, do, parent=None):
        super().__init__(parent)
        self.session, self.do = session, do
        self.setWindowTitle(_("Audit rounds"))
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([_("Name"), _("Dates"), _("Teams"), _("Covers"), _("Annotations"),
                                              _("Estimates")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        name(self.table, _("Audit rounds"))
        self.unassigned = QLabel()
        self.unassigned.setWordWrap(True)
        self.add_button = QPushButton(_("Add…"))
        self.edit_button = QPushButton(_("Edit…"))
        self.add_button.clicked.connect(lambda: self.add())
        self.edit_button.clicked.connect(lambda: self.edit_selected())
        self._layout()
        session.edited.connect(self._on_edited)
        self.finished.connect(lambda _result: session.edited.disconnect(self._on_edited))
        self.refresh()

    def _layout(self) -> None:
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.edit_button)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        row.addWidget(close)
        intro = QLabel(_("A round is one pass over the district: its annotations and estimates are compared with "
                         "another round's in Tools → Compare rounds…"))
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.unassigned)
        layout.addLayout(row)
        self.resize(760, 360)

    def _on_edited(self, tables) -> None:
        self.refresh()

    def refresh(self) -> None:
        ws = self.session.workspace
        self.rounds = rounds.rounds(ws)
        counts = rounds.row_counts(ws)
        self.table.setRowCount(len(self.rounds))
        for r, item in enumerate(self.rounds):
            n = counts.get(item.id, {})
            cells = [item.name, item.dates, ", ".join(item.teams) or "—",
                     _("the whole district") if item.area is None else _("part of the district"),
                     str(n.get("annotations", 0)), str(n.get("estimates", 0))]
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if c >= 4:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, cell)
        loose = counts.get(None, {})
        self.unassigned.setText(_("Without a round: {a} annotations, {e} estimates (they join the first round you "
                                  "add).").format(a=loose.get("annotations", 0), e=loose.get("estimates", 0)))
        self.unassigned.setVisible(bool(loose.get("annotations") or loose.get("estimates")))
        writable = bool(self.session.writable)
        self.add_button.setEnabled(writable)
        self.edit_button.setEnabled(writable and bool(self.rounds))

    def selected(self) -> rounds.Round | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rounds[rows[0].row()] if rows else None

    def form(self, current: rounds.Round | None = None) -> RoundForm:
        return RoundForm(self.session.workspace, current, self)

    def add(self, interactive: bool = True) -> RoundForm:
        return self._open(self.form(), interactive)

    def edit_selected(self, interactive: bool = True) -> RoundForm | None:
        current = self.selected()
        return self._open(self.form(current), interactive) if current is not None else None

    def _open(self, form: RoundForm, interactive: bool) -> RoundForm:
        form.accepted.connect(lambda: self.do(form.result_command))
        if interactive:
            form.open()
        return form
