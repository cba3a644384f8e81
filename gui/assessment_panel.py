"""The assessment tab: the questionnaire (progress per section) and the action plan — edits are undoable commands."""
from __future__ import annotations

from PySide6.QtCore import QDate, QRect, QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QRadioButton,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audit.annotations import PLACE_KINDS
from audit.assessment import (
    answer,
    answers,
    display_value,
    options,
    plan_campaigns,
    plan_item_text,
    plan_items,
    plan_status_label,
    progress,
    questions,
    sections,
    stored_values,
    typed_value,
    update_plan_item,
)
from audit.catalogue import confidence_levels
from gui.accessible import name, name_form_fields
from gui.notify import do_command
from gui.checklist import check_item, ticked
from gui.tooltips import plain_tip
from layers.catalogue import kind as get_kind
from layers.i18n import _, label, language, decimal
from layers.resources import load_json

ID_ROLE = Qt.ItemDataRole.UserRole
#: layers whose features a "place on the map" answer can name
ANSWER_PLACE_KINDS = (*PLACE_KINDS, "risk_areas")


class _Amount(QDoubleSpinBox):
    """A number shown without trailing zeros (12, 7.5), in the user's locale."""

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt API
        return self.locale().toString(float(value), "g", 12)


def _amount(maximum: float, suffix: str = "") -> _Amount:
    spin = _Amount()
    spin.setRange(0, maximum)
    spin.setDecimals(2)
    spin.setSuffix(suffix)
    spin.setAccelerated(True)
    return spin


def _checklist(entries, checked) -> QListWidget:
    """A list of checkable rows: ``entries`` (data, text); ``checked`` the data ticked at the start."""
    widget = QListWidget()
    for data, text in entries:
        widget.addItem(check_item(data, text, checked))
    return widget


def place_name(kind_id: str, fid: int, frames: dict) -> str:
    """"Layer: name" of a feature of the workspace (its number when it has no name or is gone)."""
    frame = frames.get(kind_id)
    name = None
    if frame is not None and fid in frame.index and "name" in frame.columns:
        name = frame.at[fid, "name"]
    name = str(name) if isinstance(name, str) and name.strip() else f"#{fid}"
    return f"{get_kind(kind_id).label}: {name}"


def answer_text(question: dict, row: dict, frames: dict) -> str:
    """An answer as the panel shows it: places by their names, everything else as the report writes it."""
    value = typed_value(question, row)
    if question["type"] == "place" and isinstance(value, dict):
        parts = [place_name(p["kind"], p["fid"], frames) if "kind" in p else f"{decimal(p['lat'], 5)}; {decimal(p['lon'], 5)}"
                 for p in value.get("places", [])]
        return "; ".join(parts + ([value["note"]] if value.get("note") else []))
    return display_value(question, row, language())


class AnswerDialog(QDialog):
    """One question: an input for its answer type, then source, date, confidence and author.

    ``places``: (kind, fid) of the workspace's places a ``place`` answer can name, ``frames`` their data;
    ``selected``: the feature selected on the map (offered first, and ticked for a new answer).
    """

    def __init__(self, question: dict, existing: dict | None, author: str, places=(), frames=None,
                 selected=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Answer"))
        self.resize(600, 520 if question["type"] in ("list", "place") else 360)
        self.question, self.kind = question, question["type"]
        current = typed_value(question, existing) if existing else None
        self.input = self._make_input(current, list(places), frames or {}, selected)
        self.comment = QLineEdit((existing or {}).get("answer_text") or "" if self.kind in ("number", "share") else "")
        self.comment.setPlaceholderText(_("Optional: what the number means, how it was counted"))
        self.source = QLineEdit((existing or {}).get("source_institution") or "")
        self.source.setPlaceholderText(_("e.g. Municipal social service, State Police"))
        self.date = QDateEdit(QDate.currentDate())
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.date.setCalendarPopup(True)
        self.confidence = QComboBox()
        for c in confidence_levels():
            self.confidence.addItem(label(c), c["id"])
        self.confidence.setCurrentIndex(max(0, self.confidence.findData((existing or {}).get("confidence")
                                                                        or "medium")))
        self.author = QLineEdit(author)
        self.error = QLabel()
        self.error.setStyleSheet("color: #a00000;")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._layout()

    def _layout(self) -> None:
        form = QFormLayout(self)
        heading = QLabel(label(self.question))
        heading.setWordWrap(True)
        heading.setStyleSheet("font-weight: bold;")
        form.addRow(heading)
        kinds = {t["id"]: label(t) for t in load_json("assessment_questions.json")["answer_types"]}
        form.addRow(_("Answer type:"), QLabel(kinds.get(self.kind, self.kind)))
        form.addRow(_("Answer:"), self.input)
        if self.kind in ("number", "share"):
            form.addRow(_("Comment:"), self.comment)
        if self.kind == "place":
            form.addRow(_("Description:"), self.place_note)
        form.addRow(_("Source institution:"), self.source)
        form.addRow(_("Date:"), self.date)
        form.addRow(_("Confidence:"), self.confidence)
        form.addRow(_("Author:"), self.author)
        form.addRow(self.error)
        form.addRow(self.buttons)
        name_form_fields(form)

    def _make_input(self, current, places: list, frames: dict, selected) -> QWidget:
        kind = self.kind
        if kind in ("number", "share"):
            self.amount = _amount(100 if kind == "share" else 1e9, " %" if kind == "share" else "")
            self.amount.setValue(current if isinstance(current, float) else 0)
            return self.amount
        if kind == "yes_no":
            self.yes, self.no = QRadioButton(_("Yes")), QRadioButton(_("No"))
            self.yes_no = QButtonGroup(self)
            box, row = QWidget(), QHBoxLayout()
            for button in (self.yes, self.no):
                self.yes_no.addButton(button)
                row.addWidget(button)
            row.addStretch(1)
            row.setContentsMargins(0, 0, 0, 0)
            box.setLayout(row)
            if isinstance(current, bool):
                (self.yes if current else self.no).setChecked(True)
            return box
        if kind == "list":
            return self._list_input(current if isinstance(current, list) else [])
        if kind == "place":
            return self._place_input(current if isinstance(current, dict) else None, places, frames, selected)
        self.line = QLineEdit("" if current is None else str(current))
        return self.line

    def _list_input(self, current: list) -> QWidget:
        choices = options(self.question)
        known = {o["id"] for o in choices}
        self.choices = _checklist([(o["id"], label(o)) for o in choices], set(current))
        self.other = QLineEdit("; ".join(v for v in current if v not in known))
        self.other.setPlaceholderText(_("Others, separated by semicolons"))
        name(self.choices, _("Answer"))
        name(self.other, self.other.placeholderText())
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.choices, 1)
        layout.addWidget(self.other)
        return box

    def _place_input(self, current: dict | None, places: list, frames: dict, selected) -> QWidget:
        chosen = {(p["kind"], p["fid"]) for p in (current or {}).get("places", []) if "kind" in p}
        self.points = [p for p in (current or {}).get("places", []) if "kind" not in p]  # kept as they were
        if selected is not None:
            places = [selected] + [p for p in places if p != selected]
            if current is None:
                chosen.add(selected)
        places = places + sorted(chosen - set(places))
        self.places = _checklist([(p, place_name(p[0], p[1], frames)) for p in places], chosen)
        self.place_note = QLineEdit((current or {}).get("note") or "")
        self.place_note.setPlaceholderText(_("Or describe the place: a street, a district"))
        search = QLineEdit()
        search.setPlaceholderText(_("Search places…"))
        name(search, search.placeholderText().rstrip("…"))
        name(self.places, _("Answer"))
        name(self.place_note, self.place_note.placeholderText())
        search.setClearButtonEnabled(True)
        search.textChanged.connect(lambda text: [
            self.places.item(i).setHidden(text.casefold().strip() not in self.places.item(i).text().casefold())
            for i in range(self.places.count())])
        hint = QLabel(_("Tick the places on the map this answer is about. The place selected on the map is "
                        "listed first."))
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555;")
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(hint)
        layout.addWidget(search)
        layout.addWidget(self.places, 1)
        return box

    def value(self):
        """The typed answer for audit.assessment.answer(value=...)."""
        kind = self.kind
        if kind in ("number", "share"):
            return self.amount.value()
        if kind == "yes_no":
            return True if self.yes.isChecked() else False if self.no.isChecked() else None
        if kind == "list":
            others = [v.strip() for v in self.other.text().split(";") if v.strip()]
            return ticked(self.choices) + others
        if kind == "place":
            return {"places": [{"kind": k, "fid": int(f)} for k, f in ticked(self.places)] + self.points,
                    "note": self.place_note.text().strip()}
        return self.line.text()

    def values(self) -> dict:
        comment = self.comment.text().strip() if self.kind in ("number", "share") else ""
        return {"value": self.value(), "text": comment, "source": self.source.text(),
                "answered_on": self.date.date().toString("yyyy-MM-dd"),
                "confidence": self.confidence.currentData(), "author": self.author.text()}

    def accept(self) -> None:
        """Check the answer against its type here, so a mistake is shown beside it."""
        values = self.values()
        try:
            stored_values(self.question, text=values["text"], value=values["value"])
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        super().accept()


class WrappingDelegate(QStyledItemDelegate):
    """Rows as tall as their text wrapped to the column's width.

    Qt's own delegate asks for one line whatever the width, so a narrow dock elided
    section names and questions ("Migrant workers (incl. EU citizens), irregu…")."""

    MARGIN = 8  # the style's text margins, left and right

    def __init__(self, view):
        super().__init__(view)
        self.view = view
        view.header().sectionResized.connect(lambda *_a: view.doItemsLayout())

    def _depth(self, index) -> int:
        depth, parent = 0, index.parent()
        while parent.isValid():
            depth, parent = depth + 1, parent.parent()
        return depth

    def text_width(self, index) -> int:
        width = self.view.columnWidth(index.column()) - self.MARGIN
        if index.column() == 0:  # the branch arrows and the indentation
            width -= self.view.indentation() * (self._depth(index) + (1 if self.view.rootIsDecorated() else 0))
        return max(width, 24)

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 - Qt API
        hint = super().sizeHint(option, index)
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not text:
            return hint
        box = option.fontMetrics.boundingRect(QRect(0, 0, self.text_width(index), 100_000),
                                              int(Qt.TextFlag.TextWordWrap), str(text))
        return QSize(hint.width(), max(hint.height(), box.height() + 4))


class AssessmentPanel(QWidget):
    def __init__(self, session, notify, parent=None):
        super().__init__(parent)
        self.session, self.notify = session, notify
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([_("Question"), _("Answer")])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(False)
        self.tree.setColumnWidth(1, 120)
        self.tree.setWordWrap(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.tree.setUniformRowHeights(False)
        self.tree.setItemDelegate(WrappingDelegate(self.tree))
        self.tree.itemDoubleClicked.connect(self._on_question)
        name(self.tree, _("Questionnaire"))
        self.tree.setToolTip(_("Double-click a question to answer it"))
        self.plan = QTableWidget(0, 6)
        self.plan.setHorizontalHeaderLabels([_("Goal"), _("Action"), _("Status"), _("Responsible"), _("Due"),
                                             _("Campaigns")])
        self.plan.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.plan.setWordWrap(True)
        self.plan.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        self.plan.itemChanged.connect(self._on_plan_changed)
        name(self.plan, _("Action plan"))
        self.plan.setToolTip(_("Double-click a status, a responsible or a due date to change it"))
        answer_button = QPushButton(_("Answer the selected question…"))
        answer_button.setToolTip(_("Open the selected question's answer form (or double-click the question)"))
        answer_button.clicked.connect(lambda: self._on_question(self.tree.currentItem()))
        q_tab = QWidget()
        q_layout = QVBoxLayout(q_tab)
        q_layout.addWidget(self.tree)
        q_layout.addWidget(answer_button)
        tabs = QTabWidget()
        tabs.addTab(q_tab, _("Questionnaire"))
        tabs.addTab(self.plan, _("Action plan"))
        QVBoxLayout(self).addWidget(tabs)
        self.statuses = {s["id"]: plan_status_label(s["id"]) for s in load_json("action_plan.json")["statuses"]}
        self._stale = False
        session.edited.connect(lambda tables: self.refresh())
        session.opened.connect(self.refresh)

    def refresh(self) -> None:
        """Show the workspace's answers and plan; a panel not on screen (another tab is) does it when shown."""
        ws = self.session.workspace
        if ws is None:
            return
        if not self.isVisible():
            self._stale = True  # opening a city: the questionnaire's 150 rows wait until the tab is chosen
            return
        self._stale = False
        self._fill_tree(answers(ws), {p["section"]: p for p in progress(ws)})
        self._fill_plan(plan_items(ws))

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _expanded(self) -> tuple[set[str], str | None]:
        """The sections open now and the question selected, to be kept across a refresh."""
        opened = {self.tree.topLevelItem(i).data(0, ID_ROLE) for i in range(self.tree.topLevelItemCount())
                  if self.tree.topLevelItem(i).isExpanded()}
        current = self.tree.currentItem()
        return opened, current.data(0, ID_ROLE) if current is not None else None

    def _shown_sections(self, done: dict) -> list[dict]:
        # the kept version-1 questions show only when one of them was answered
        return [section for section in sections(legacy=True) if section["id"] in done]

    def _tree_ids(self) -> list:
        tree = self.tree
        return [(top.data(0, ID_ROLE), [top.child(k).data(0, ID_ROLE) for k in range(top.childCount())])
                for top in (tree.topLevelItem(i) for i in range(tree.topLevelItemCount()))]

    def _fill_tree(self, given: dict, done: dict) -> None:
        """Show the answers and progress. The same questions are updated in place, so the open sections, the
        selected question and the scroll position stay as the user left them after an answer is saved."""
        shown = self._shown_sections(done)
        scrolled = None
        if self._tree_ids() != [(sec["id"], [q["id"] for q in sec["questions"]]) for sec in shown]:
            scrolled = self.tree.verticalScrollBar().value()
            self._rebuild_tree(shown)
        frames = self.session.frames
        for i, section in enumerate(shown):
            top, p = self.tree.topLevelItem(i), done[section["id"]]
            section_name = label(section)
            progress_text = _("{answered}/{total}").format(answered=p["answered"], total=p["total"])
            summary = _("{section}: {answered} of {total} questions answered").format(
                section=section_name, answered=p["answered"], total=p["total"])
            for column, text, tip in ((0, section_name, summary), (1, progress_text, summary)):
                top.setText(column, text)
                top.setToolTip(column, plain_tip(tip))
            for k, q in enumerate(section["questions"]):
                a = given.get(q["id"])
                text = "" if a is None else answer_text(q, a, frames)
                child = top.child(k)
                child.setText(0, label(q))
                child.setToolTip(0, plain_tip(label(q)))
                child.setText(1, text)
                child.setToolTip(1, plain_tip(text))
        if scrolled is not None:
            self.tree.doItemsLayout()
            self.tree.verticalScrollBar().setValue(scrolled)

    def _rebuild_tree(self, shown: list[dict]) -> None:
        """New (empty) items for the sections shown, keeping the open sections and the selection."""
        opened, current = self._expanded()
        self.tree.clear()
        for section in shown:
            top = QTreeWidgetItem(["", ""])
            top.setData(0, ID_ROLE, section["id"])
            for q in section["questions"]:
                child = QTreeWidgetItem(["", ""])
                child.setData(0, ID_ROLE, q["id"])
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(section["id"] in opened)
            for item in [top] + [top.child(k) for k in range(top.childCount())]:
                if item.data(0, ID_ROLE) == current:
                    self.tree.setCurrentItem(item)

    def _fill_plan(self, items: list[dict]) -> None:
        self.plan.blockSignals(True)
        self.plan.setRowCount(len(items))
        serving = plan_campaigns(self.session.workspace)  # the campaigns that serve each item (read-only here)
        for r, item in enumerate(items):
            text = plan_item_text(item)
            for c, key in enumerate(("goal", "action", "status", "responsible", "due_date", "campaigns")):
                value = {"goal": text["goal"], "action": text["action"],
                         "campaigns": ", ".join(serving.get(item["id"], [])),
                         "status": self.statuses.get(item["status"], item["status"] or "")
                         }.get(key, item.get(key) or "")
                cell = QTableWidgetItem(value)
                cell.setToolTip(plain_tip(value))
                cell.setData(ID_ROLE, (item["id"], key))
                if key in ("goal", "action", "campaigns"):
                    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.plan.setItem(r, c, cell)
        self.plan.blockSignals(False)

    def places(self) -> list[tuple[str, int]]:
        """The features a place answer can name: audited places and risk areas, layer by layer."""
        frames = self.session.frames
        return [(k, int(fid)) for k in ANSWER_PLACE_KINDS if k in frames for fid in frames[k].index]

    def _on_question(self, item, _column=0) -> None:
        if item is None or item.data(0, ID_ROLE) not in questions():
            return
        qid = item.data(0, ID_ROLE)
        ws = self.session.workspace
        selection = self.session.selection
        selected = (selection[0], int(selection[1])) if selection and selection[0] in self.session.frames else None
        dialog = AnswerDialog(questions()[qid], answers(ws).get(qid), self.session.author, self.places(),
                              self.session.frames, selected, self)
        dialog.accepted.connect(lambda: self.save_answer(qid, dialog.values()))
        dialog.open()
        self.last_dialog = dialog

    def save_answer(self, question_id: str, values: dict) -> bool:
        try:
            command = answer(self.session.workspace, question_id, **values)
        except ValueError as exc:
            self.notify(_("The answer was not saved"), str(exc))
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
            self.notify(_("The action plan was not changed"), str(exc))
            self.refresh()
            return
        do_command(self.session, self.notify, command)
