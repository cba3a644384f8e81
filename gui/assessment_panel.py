"""The assessment tab: the questionnaire (progress per section) and the action plan — edits are undoable commands."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audit.assessment import answer, answers, plan_items, progress, questions, sections, update_plan_item
from gui.notify import do_command
from layers.i18n import label
from layers.resources import load_json

ID_ROLE = Qt.ItemDataRole.UserRole


class AnswerDialog(QDialog):
    def __init__(self, question: dict, existing: dict | None, author: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Answer"))
        self.resize(520, 320)
        self.question = question
        self.text = QPlainTextEdit((existing or {}).get("answer_text") or "")
        self.number = QDoubleSpinBox()
        self.number.setRange(-1, 1e9)
        self.number.setSpecialValueText("—")
        value = (existing or {}).get("answer_number")
        self.number.setValue(-1 if value is None else value)
        self.number.setEnabled(bool(question["number"]))
        self.source = QLineEdit((existing or {}).get("source_institution") or "")
        self.date = QDateEdit()
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setCalendarPopup(True)
        from PySide6.QtCore import QDate

        self.date.setDate(QDate.currentDate())
        self.confidence = QComboBox()
        for c in ("low", "medium", "high"):
            self.confidence.addItem(self.tr(c), c)
        self.confidence.setCurrentIndex(1)
        self.author = QLineEdit(author)
        self.error = QLabel()
        self.error.setStyleSheet("color: #a00000;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        heading = QLabel(label(question))
        heading.setWordWrap(True)
        form.addRow(heading)
        form.addRow(self.tr("Answer:"), self.text)
        form.addRow(self.tr("Number:"), self.number)
        form.addRow(self.tr("Source institution:"), self.source)
        form.addRow(self.tr("Date:"), self.date)
        form.addRow(self.tr("Confidence:"), self.confidence)
        form.addRow(self.tr("Author:"), self.author)
        form.addRow(self.error)
        form.addRow(buttons)

    def values(self) -> dict:
        number = self.number.value()
        return {"text": self.text.toPlainText(), "number": None if number < 0 else number,
                "source": self.source.text(), "answered_on": self.date.date().toString("yyyy-MM-dd"),
                "confidence": self.confidence.currentData(), "author": self.author.text()}


class AssessmentPanel(QWidget):
    def __init__(self, session, notify, parent=None):
        super().__init__(parent)
        self.session, self.notify = session, notify
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([self.tr("Question"), self.tr("Answer")])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setWordWrap(True)
        self.tree.itemDoubleClicked.connect(self._on_question)
        self.plan = QTableWidget(0, 5)
        self.plan.setHorizontalHeaderLabels([self.tr("Goal"), self.tr("Action"), self.tr("Status"),
                                             self.tr("Responsible"), self.tr("Due")])
        self.plan.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.plan.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        self.plan.itemChanged.connect(self._on_plan_changed)
        answer_button = QPushButton(self.tr("Answer the selected question…"))
        answer_button.clicked.connect(lambda: self._on_question(self.tree.currentItem()))
        q_tab = QWidget()
        q_layout = QVBoxLayout(q_tab)
        q_layout.addWidget(self.tree)
        q_layout.addWidget(answer_button)
        tabs = QTabWidget()
        tabs.addTab(q_tab, self.tr("Questionnaire"))
        tabs.addTab(self.plan, self.tr("Action plan"))
        QVBoxLayout(self).addWidget(tabs)
        self.statuses = {s["id"]: label(s) for s in load_json("action_plan.json")["statuses"]}
        session.edited.connect(lambda tables: self.refresh())
        session.opened.connect(self.refresh)

    def refresh(self) -> None:
        ws = self.session.workspace
        if ws is None:
            return
        given = answers(ws)
        done = {p["section"]: p for p in progress(ws)}
        self.tree.clear()
        for section in sections():
            p = done[section["id"]]
            top = QTreeWidgetItem([f"{label(section)}  ({p['answered']}/{p['total']})", ""])
            for q in section["questions"]:
                a = given.get(q["id"])
                text = "" if a is None else (a["answer_text"] or f"{a['answer_number']:g}")
                child = QTreeWidgetItem([label(q), text])
                child.setData(0, ID_ROLE, q["id"])
                child.setToolTip(0, label(q))
                top.addChild(child)
            self.tree.addTopLevelItem(top)
        self.plan.blockSignals(True)
        items = plan_items(ws)
        self.plan.setRowCount(len(items))
        for r, item in enumerate(items):
            for c, key in enumerate(("goal", "action", "status", "responsible", "due_date")):
                text = self.statuses.get(item[key], item[key]) if key == "status" else (item[key] or "")
                cell = QTableWidgetItem(text)
                cell.setData(ID_ROLE, (item["id"], key))
                if key in ("goal", "action"):
                    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.plan.setItem(r, c, cell)
        self.plan.blockSignals(False)

    def _on_question(self, item, _column=0) -> None:
        if item is None or item.data(0, ID_ROLE) is None:
            return
        qid = item.data(0, ID_ROLE)
        ws = self.session.workspace
        dialog = AnswerDialog(questions()[qid], answers(ws).get(qid), self.session.author, self)
        dialog.accepted.connect(lambda: self.save_answer(qid, dialog.values()))
        dialog.open()
        self.last_dialog = dialog

    def save_answer(self, question_id: str, values: dict) -> bool:
        try:
            command = answer(self.session.workspace, question_id, **values)
        except ValueError as exc:
            self.notify(self.tr("The answer was not saved"), str(exc))
            return False
        return do_command(self.session, self.notify, command)

    def _on_plan_changed(self, cell: QTableWidgetItem) -> None:
        row_id, key = cell.data(ID_ROLE)
        value = cell.text().strip()
        if key == "status":
            reverse = {v.casefold(): k for k, v in self.statuses.items()} | {k: k for k in self.statuses}
            value = reverse.get(value.casefold(), value)
        try:
            command = update_plan_item(row_id, **{key: value or None})
        except ValueError as exc:
            self.notify(self.tr("The action plan was not changed"), str(exc))
            self.refresh()
            return
        do_command(self.session, self.notify, command)
