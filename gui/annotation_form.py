"""The annotation form: an indicator checklist for a place, with its history and risk level."""
from __future__ import annotations

import datetime as dt

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
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from audit.annotations import annotation_values
from audit.catalogue import confidence_levels, indicators_for, place_type_of, place_types, sources
from gui.accessible import name, name_form_fields
from gui.field_photo_strip import PhotoStrip
from gui.tooltips import plain_tip
from layers.catalogue import kind as get_kind
from layers.catalogue import place_categories
from layers.i18n import _, label

ID_ROLE = Qt.ItemDataRole.UserRole
#: the form's size when the screen has room; it fits a 1366×768 laptop (the list and history scroll inside)
FORM_SIZE = (980, 640)
PHOTOS_COLUMN = 4  # the history table's count of photos from the field


class AnnotationForm(QDialog):
    """For an existing place (``fid``) or a new place of concern where the user clicked (``fid`` None).

    Two columns, the place and its indicator checklist on the left, the observation and the place's
    history on the right, the buttons below: only the indicator list and the history scroll.

    ``photos``: the photos from the field per annotation id (audit.field_photos), read with
    ``load_photo(photo id) -> bytes``; they show as a strip of thumbnails under the history (none: no strip)."""

    def __init__(self, kind_id: str, fid: int | None, row: dict, history: list[dict], assessment_text: str,
                 author: str = "", team: str = "", parent=None, photos: dict | None = None, load_photo=None):
        super().__init__(parent)
        self.kind_id, self.fid, self.row = kind_id, fid, dict(row)
        k = get_kind(kind_id)
        title = row.get("name") or _("New place of concern")
        self.setWindowTitle(_("Annotate — {name}").format(name=title))

        self.name_edit = QLineEdit(row.get("name") or "")
        self.name_edit.setPlaceholderText(_("A short, neutral name of the place (no personal names)"))
        self.category_combo = QComboBox()
        if kind_id == "places_of_concern":
            for c in place_categories():
                self.category_combo.addItem(c.label, c.id)
            index = self.category_combo.findData(row.get("category"))
            self.category_combo.setCurrentIndex(max(0, index))
        else:
            self.category_combo.addItem(self._kind_category(k, row), self._kind_category_id(row))
            self.category_combo.setEnabled(False)
        self.place_type_label = QLabel()
        self._make_indicator_inputs()
        self._make_record_inputs(author, team)
        self.risk_label = QLabel(assessment_text)
        self.risk_label.setWordWrap(True)
        self.risk_label.setTextFormat(Qt.TextFormat.PlainText)
        self.photos = photos or {}
        self.history_table = self._history_table(history)
        self._make_photo_strip(history, load_photo)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #a00000;")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        self._layout(fid is None)
        self._describe()
        self._short_combos()
        self._fit_screen()
        self.search.textChanged.connect(self._filter_list)
        self.select_all.toggled.connect(self._on_select_all)
        self.show_all.toggled.connect(self._fill_indicators)
        self.category_combo.currentIndexChanged.connect(self._fill_indicators)
        self.other_check.toggled.connect(self.other_edit.setEnabled)
        self._fill_indicators()

    def _make_indicator_inputs(self) -> None:
        self.search = QLineEdit()
        self.search.setPlaceholderText(_("Search indicators…"))
        self.search.setClearButtonEnabled(True)
        self.select_all = QCheckBox(_("Select all shown"))
        self.show_all = QCheckBox(_("Show indicators of every place type"))
        self.indicator_list = QListWidget()
        self.indicator_list.setWordWrap(True)  # long indicators (Latvian runs longer) wrap instead of scrolling away
        self.indicator_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.indicator_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.indicator_list.setMinimumHeight(150)
        self.weight_key = QLabel(_("Weight of a sign: ● weak · ●● moderate · ●●● strong"))
        self.weight_key.setStyleSheet("color: #555;")
        self.weight_key.setWordWrap(True)
        self.other_check = QCheckBox(_("Other — specify:"))
        self.other_edit = QLineEdit()
        self.other_edit.setEnabled(False)

    def _make_record_inputs(self, author: str, team: str) -> None:
        """Note, date (not in the future), team, author, confidence and source."""
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText(_("What was seen. No names or personal data of people."))
        self.note_edit.setFixedHeight(56)
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setMaximumDate(QDate.currentDate())
        self.team_edit = QLineEdit(team)
        self.author_edit = QLineEdit(author)
        self.confidence_combo = QComboBox()
        for c in confidence_levels():
            self.confidence_combo.addItem(label(c), c["id"])
        self.confidence_combo.setCurrentIndex(1)
        self.source_combo = QComboBox()
        for s in sources():
            self.source_combo.addItem(label(s), s["id"])

    @staticmethod
    def _kind_category_id(row: dict) -> str | None:
        for attr in ("category", "sector", "hub_type", "service_type"):
            if row.get(attr):
                return row[attr]
        return None

    def _kind_category(self, k, row: dict) -> str:
        for attr in ("sector", "hub_type", "service_type"):
            if attr in k.field_names and row.get(attr):
                for c in k.field(attr).choices:
                    if c.id == row[attr]:
                        return f"{k.label}: {c.label}"
        return k.label

    def _layout(self, new_place: bool) -> None:
        left = QVBoxLayout()
        left.addWidget(self._place_box(new_place))
        left.addWidget(self._checklist_box(), 1)
        right = QVBoxLayout()
        right.addWidget(self._observation_box())
        history_box = QGroupBox(_("History of this place"))
        history = QVBoxLayout(history_box)
        history.addWidget(self.history_table, 1)
        if self.photo_strip is not None:
            history.addWidget(self.photos_label)
            history.addWidget(self.photo_strip)
        right.addWidget(history_box, 1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1 if self.photo_strip else 3)  # photos: the history's columns and strip get room
        columns.addLayout(right, 1 if self.photo_strip else 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _place_box(self, new_place: bool) -> QGroupBox:
        box = QGroupBox(_("Place"))
        form = QFormLayout(box)
        if new_place:
            form.addRow(_("Name:"), self.name_edit)
        form.addRow(_("Category:"), self.category_combo)
        form.addRow(_("Look for:"), self.place_type_label)
        form.addRow(_("Current risk:"), self.risk_label)
        name_form_fields(form)
        return box

    def _checklist_box(self) -> QGroupBox:
        box = QGroupBox(_("Observed indicators"))
        checklist = QVBoxLayout(box)
        checklist.addWidget(self.search)
        tools = QHBoxLayout()
        tools.addWidget(self.select_all)
        tools.addWidget(self.show_all)
        tools.addStretch(1)
        checklist.addLayout(tools)
        checklist.addWidget(self.indicator_list, 1)
        checklist.addWidget(self.weight_key)
        other = QHBoxLayout()
        other.addWidget(self.other_check)
        other.addWidget(self.other_edit, 1)
        checklist.addLayout(other)
        return box

    def _observation_box(self) -> QGroupBox:
        box = QGroupBox(_("Observation"))
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # long Latvian labels go above the field
        form.addRow(_("Note:"), self.note_edit)
        form.addRow(_("Observed on:"), self.date_edit)
        form.addRow(_("Confidence:"), self.confidence_combo)
        form.addRow(_("Source:"), self.source_combo)
        form.addRow(_("Audit team:"), self.team_edit)
        form.addRow(_("Author:"), self.author_edit)
        name_form_fields(form)
        return box

    def _describe(self) -> None:
        """Accessible names and tooltips of the controls without a label of their own."""
        name(self.search, _("Search indicators"))
        name(self.indicator_list, _("Observed indicators"))
        name(self.other_edit, _("Other observation"))
        name(self.history_table, _("History of this place"))
        self.search.setToolTip(_("Show only the indicators that contain these words"))
        self.select_all.setToolTip(_("Tick every indicator the list shows now"))
        self.show_all.setToolTip(_("List the indicators of every type of place, not only this one's"))
        self.indicator_list.setToolTip(_("Tick what was observed. The dots are the sign's weight in the risk "
                                         "level: ● weak · ●● moderate · ●●● strong"))
        self.other_edit.setToolTip(_("An observation the list does not have"))
        self.note_edit.setToolTip(_("What was seen. No names or personal data of people."))
        self.date_edit.setToolTip(_("The day of the observation (not in the future)"))
        self.confidence_combo.setToolTip(_("How sure the team is of what it saw"))
        self.source_combo.setToolTip(_("Where the observation comes from"))
        self.team_edit.setToolTip(_("The audit team (remembered for the next annotation)"))
        self.author_edit.setToolTip(_("Who records this annotation (remembered, and written to the change log)"))
        self.history_table.setToolTip(_("Earlier annotations of this place, newest first"))

    def _short_combos(self) -> None:
        """Combos as wide as their column, not as their longest entry (Latvian category names run long)."""
        for combo in (self.category_combo, self.confidence_combo, self.source_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)

    def _fit_screen(self) -> None:
        """Open at FORM_SIZE, or smaller on a small screen (never taller than the screen's free area)."""
        width, height = FORM_SIZE
        screen = (self.parentWidget() or self).screen()
        if screen is not None:
            free = screen.availableGeometry()
            width, height = min(width, free.width() - 40), min(height, free.height() - 40)
        hint = self.minimumSizeHint()
        self.resize(max(width, hint.width()), max(height, hint.height()))

    def _make_photo_strip(self, history: list[dict], load_photo) -> None:
        """The thumbnails of the place's photos, newest annotation first; no strip when there are none."""
        shown = [(photo, ann) for ann in history for photo in self.photos.get(ann["id"], [])]
        self.photo_strip = self.photos_label = None
        if not shown or load_photo is None:
            return
        self.photo_strip = PhotoStrip(shown, load_photo)
        self.photos_label = QLabel(_("Photos from the field ({n})").format(n=len(shown)))
        self.photos_label.setTextFormat(Qt.TextFormat.PlainText)
        self.photos_label.setBuddy(self.photo_strip)
        name(self.photo_strip, _("Photos from the field"))
        self.photo_strip.setToolTip(_("Photos the audit team took here, from accepted field submissions. "
                                      "Double-click one, or press Enter, to see it larger."))

    def _history_table(self, history: list[dict]) -> QTableWidget:
        headers = [_("Observed"), _("Author"), _("Confidence"), _("Indicators"), _("Photos"), _("Note")]
        table = QTableWidget(len(history), len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
        table.setColumnHidden(PHOTOS_COLUMN, not self.photos)  # no photos at this place: no column of zeros
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        import json

        levels = {c["id"]: label(c) for c in confidence_levels()}
        for r, ann in enumerate(history):
            count = len(json.loads(ann["indicators"] or "[]")) + (1 if ann.get("other_text") else 0)
            confidence = levels.get(ann.get("confidence"), ann.get("confidence") or "")
            values = [ann["observed"], ann.get("author") or "", confidence, str(count),
                      str(len(self.photos.get(ann.get("id"), []))), ann.get("note") or ""]
            for c, value in enumerate(values):
                cell = QTableWidgetItem(value)  # plain text, never HTML
                cell.setToolTip(plain_tip(value))
                table.setItem(r, c, cell)
        if not history:
            table.setRowCount(1)
            table.setItem(0, 0, QTableWidgetItem(_("No earlier annotations")))
            table.setSpan(0, 0, 1, len(headers))
        return table

    # -- indicators -------------------------------------------------------------------

    def place_type(self) -> str:
        if self.kind_id == "places_of_concern":
            return place_type_of(self.kind_id, {"category": self.category_combo.currentData()})
        return place_type_of(self.kind_id, self.row)

    def _fill_indicators(self) -> None:
        checked = set(self.checked_indicators())
        ptype = "any" if self.show_all.isChecked() else self.place_type()
        names = {t["id"]: label(t) for t in place_types()}
        self.place_type_label.setText(names.get(self.place_type(), ""))
        self.indicator_list.clear()
        for ind in indicators_for(ptype):
            item = QListWidgetItem(f"{ind.label}  {'●' * int(ind.weight)}")
            item.setData(ID_ROLE, ind.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if ind.id in checked else Qt.CheckState.Unchecked)
            item.setToolTip(_("Weight {w} of 3").format(w=int(ind.weight)))
            self.indicator_list.addItem(item)
        self._filter_list(self.search.text())

    def _filter_list(self, text: str) -> None:
        needle = text.casefold().strip()
        for i in range(self.indicator_list.count()):
            item = self.indicator_list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def _on_select_all(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for i in range(self.indicator_list.count()):
            item = self.indicator_list.item(i)
            if not item.isHidden():
                item.setCheckState(state)

    def checked_indicators(self) -> list[str]:
        return [self.indicator_list.item(i).data(ID_ROLE) for i in range(self.indicator_list.count())
                if self.indicator_list.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, ids) -> None:
        for i in range(self.indicator_list.count()):
            item = self.indicator_list.item(i)
            if item.data(ID_ROLE) in ids:
                item.setCheckState(Qt.CheckState.Checked)

    # -- result -----------------------------------------------------------------------

    def place_fields(self) -> dict:
        """Fields of a new place of concern."""
        return {"name": self.name_edit.text().strip(), "category": self.category_combo.currentData(),
                "description": None}

    def annotation(self) -> dict:
        """Checked annotation values (raises ValueError with a message for the user)."""
        if self.fid is None and not self.name_edit.text().strip():
            raise ValueError(_("Give the new place a name."))
        if not self.checked_indicators() and not (self.other_check.isChecked() and self.other_edit.text().strip()):
            raise ValueError(_("Tick at least one indicator, or describe another observation."))
        observed = self.date_edit.date().toPython()
        return annotation_values(
            self.kind_id, self.fid,
            indicators_seen=self.checked_indicators(),
            observed=observed if isinstance(observed, dt.date) else dt.date.today(),
            confidence=self.confidence_combo.currentData(),
            source=self.source_combo.currentData(),
            author=self.author_edit.text(),
            team=self.team_edit.text(),
            note=self.note_edit.toPlainText(),
            other_text=self.other_edit.text() if self.other_check.isChecked() else "",
            category=self.category_combo.currentData(),
        )

    def accept(self) -> None:
        try:
            self.result_values = self.annotation()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return
        super().accept()
