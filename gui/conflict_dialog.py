"""Rows changed here and on the server since the copy was last in step: the person decides, row by row.

Nothing is overwritten before this dialog is answered; Cancel leaves both sides as they are (the rows wait,
and the status bar says so).
"""
from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout,
)

from gui.dialog_buttons import ok_cancel
from gui.tooltips import plain_tip
from layers.i18n import N_, _, ngettext
from layers.server_sync import Conflict, conflict_lines

CHOICES = (("theirs", N_("Keep the server's")), ("mine", N_("Keep mine")))


class ConflictDialog(QDialog):
    def __init__(self, conflicts: list[Conflict], server: str, parent=None):
        super().__init__(parent)
        self.conflicts = conflicts
        self.setWindowTitle(_("Changed here and on the server"))
        layout = QVBoxLayout(self)
        intro = QLabel(ngettext(
            "{n} row was changed in this copy and, meanwhile, on {server}. Nothing was sent or received yet: "
            "choose which version of each to keep.",
            "{n} rows were changed in this copy and, meanwhile, on {server}. Nothing was sent or received yet: "
            "choose which version of each to keep.", len(conflicts)).format(n=len(conflicts), server=server))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(len(conflicts), 3, self)
        self.table.setHorizontalHeaderLabels([_("Row"), _("What differs"), _("Keep")])
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().hide()
        self.choices: list[QComboBox] = []
        for i, c in enumerate(conflicts):
            self.table.setItem(i, 0, QTableWidgetItem(f"{c.table} {c.row_id}"))
            lines = [line.split(": ", 1)[-1] for line in conflict_lines(c)]
            item = QTableWidgetItem("; ".join(lines))
            item.setToolTip(plain_tip("\n".join(lines)))
            self.table.setItem(i, 1, item)
            combo = QComboBox()
            for value, label in CHOICES:
                combo.addItem(_(label), value)
            self.table.setCellWidget(i, 2, combo)
            self.choices.append(combo)
        header = self.table.horizontalHeader()
        for column, mode in ((0, QHeaderView.ResizeMode.ResizeToContents), (1, QHeaderView.ResizeMode.Stretch),
                             (2, QHeaderView.ResizeMode.ResizeToContents)):
            header.setSectionResizeMode(column, mode)  # the choice is always whole; the differences wrap
        self.table.setWordWrap(True)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table)
        row = QHBoxLayout()
        for value, label in ((v, _("All: {choice}").format(choice=_(t))) for v, t in CHOICES):
            button = QPushButton(label)
            button.clicked.connect(lambda _checked=False, v=value: self.choose_all(v))
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(ok_cancel(self, _("Keep these and sync")))
        self.resize(760, 320)

    def choose_all(self, value: str) -> None:
        for combo in self.choices:
            combo.setCurrentIndex(combo.findData(value))

    def decisions(self) -> dict[tuple[str, int], str]:
        return {c.key: combo.currentData() for c, combo in zip(self.conflicts, self.choices)}
