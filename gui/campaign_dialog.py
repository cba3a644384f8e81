"""Tools → Campaigns…: the prevention campaigns, each added, edited or deleted as one undoable step, and the
evaluation of the selected one — before and after, catchment and comparison area, with its caveats — as the
chosen audience would see it (small counts suppressed below police level)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from audit.campaigns import campaigns, delete_campaign
from audit.disclosure import profile_label
from audit.evaluation import DEFAULT_RADIUS, evaluate, ratio_text
from audit.evaluation_output import before_after
from audit.redaction import PROFILES
from gui.accessible import name
from gui.campaign_form import CampaignForm
from gui.notify import do_command
from gui.tooltips import plain_tip
from layers.errors import LanternError
from layers.i18n import _, ngettext
from layers.migrations import CAMPAIGN_SITES_TABLE, CAMPAIGNS_TABLE, CONTACTS_TABLE

ID_ROLE = Qt.ItemDataRole.UserRole
WATCHED = frozenset({CAMPAIGNS_TABLE, CAMPAIGN_SITES_TABLE, CONTACTS_TABLE, "reported_cases"})


def make_table(headers: list[str], accessible: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setWordWrap(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().sectionResized.connect(lambda *_a: table.resizeRowsToContents())  # wrapped text fits
    name(table, accessible)
    return table


def fill_table(table: QTableWidget, rows: list[list[str]], data=None) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(plain_tip(text))
            if data is not None and c == 0:
                item.setData(ID_ROLE, data[r])
            table.setItem(r, c, item)
    table.resizeRowsToContents()


class CampaignsDialog(QDialog):
    """``plan()`` gives the outreach panel's current plan (or None) for a new campaign's locations."""

    def __init__(self, session, notify, parent=None, plan=lambda: None, open_contacts=None):
        super().__init__(parent)
        self.session, self.notify, self.plan = session, notify, plan
        self.setWindowTitle(_("Campaigns"))
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.resize(1000, 720)
        self.form: CampaignForm | None = None
        self.evaluation = None
        self.list = make_table([_("Name"), _("Dates"), _("Audiences"), _("Reach"), _("Locations")],
                               _("Campaigns"))
        self.list.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.list.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.list.itemSelectionChanged.connect(self.show_evaluation)
        self.list.itemDoubleClicked.connect(lambda _item: self.edit())
        layout = QVBoxLayout(self)
        self.list.setMaximumHeight(190)  # a few campaigns at a glance; the evaluation gets the room
        layout.addWidget(self.list, 1)
        layout.addLayout(self._buttons(open_contacts))
        layout.addWidget(self._evaluation_box(), 4)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        session.edited.connect(self._on_edited)
        self.finished.connect(lambda _r: session.edited.disconnect(self._on_edited))
        self.refresh()

    def _buttons(self, open_contacts) -> QHBoxLayout:
        row = QHBoxLayout()
        self.buttons = {}
        writable = self.session.writable
        for key, text, handler in (("add", _("Add…"), self.add), ("edit", _("Edit…"), self.edit),
                                   ("delete", _("Delete"), self.delete),
                                   ("contacts", _("Monthly contacts…"), open_contacts)):
            if handler is None:
                continue
            button = QPushButton(text)
            button.clicked.connect(lambda _checked=False, h=handler: h())
            button.setEnabled(writable or key == "contacts")
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        return row

    def _evaluation_box(self) -> QGroupBox:
        self.profile = QComboBox()
        for profile in PROFILES:
            self.profile.addItem(profile_label(profile), profile)
        self.months = QSpinBox()
        self.months.setRange(0, 36)
        self.months.setSpecialValueText(_("the campaign's own, at least 3"))
        self.months.setMinimumWidth(self.months.sizeHint().width() + 12)
        self.radius = QSpinBox()
        self.radius.setRange(50, 5000)
        self.radius.setSingleStep(50)
        self.radius.setSuffix(" m")
        self.radius.setValue(int(DEFAULT_RADIUS))
        for widget in (self.profile, self.months, self.radius):
            (widget.currentIndexChanged if widget is self.profile else widget.valueChanged).connect(
                lambda *_a: self.show_evaluation())
        controls = QHBoxLayout()
        for text, widget in ((_("Figures for:"), self.profile), (_("Window (months):"), self.months),
                             (_("Catchment radius:"), self.radius)):
            caption = QLabel(text)
            caption.setBuddy(widget)
            name(widget, text)
            controls.addWidget(caption)
            controls.addWidget(widget)
        controls.addStretch(1)
        self.outcomes = make_table([_("Outcome"), _("Catchment"), _("Comparison area"), _("Ratio (95 % interval)"),
                                    _("What it says")], _("Evaluation"))
        for column, tip in ((1, _("Catchment, before → after")), (2, _("Comparison area, before → after"))):
            self.outcomes.horizontalHeaderItem(column).setToolTip(plain_tip(tip))
        header = self.outcomes.horizontalHeader()
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.caveats = QLabel()
        self.caveats.setWordWrap(True)
        self.caveats.setTextFormat(Qt.TextFormat.PlainText)
        self.caveats.setStyleSheet("color: #444;")
        box = QGroupBox(_("Evaluation of the selected campaign"))
        layout = QVBoxLayout(box)
        layout.addLayout(controls)
        layout.addWidget(self.outcomes, 1)
        layout.addWidget(self.caveats)
        return box

    # -- the list -----------------------------------------------------------------------------------

    def refresh(self) -> None:
        if self.session.workspace is None:
            return
        chosen = self.selected_id()
        self.items = campaigns(self.session.workspace)
        rows = []
        for c in self.items:
            reach = [str(v) if v is not None else "—" for v in c.reach.values()]
            rows.append([c.name, f"{c.starts.isoformat()} – {c.ends.isoformat()}",
                         ", ".join(c.audience_labels()),
                         _("{people} people, {leaflets} leaflets, {events} events").format(
                             people=reach[0], leaflets=reach[1], events=reach[2]) if set(reach) != {"—"} else "—",
                         ngettext("{n} location", "{n} locations", len(c.locations)).format(n=len(c.locations))])
        self.list.blockSignals(True)
        fill_table(self.list, rows, [c.id for c in self.items])
        self.list.blockSignals(False)
        ids = [c.id for c in self.items]
        if ids:
            self.list.selectRow(ids.index(chosen) if chosen in ids else 0)
        self.show_evaluation()

    def selected_id(self) -> int | None:
        row = self.list.currentRow()
        item = self.list.item(row, 0) if row >= 0 else None
        return item.data(ID_ROLE) if item is not None else None

    def selected(self):
        found = [c for c in getattr(self, "items", []) if c.id == self.selected_id()]
        return found[0] if found else None

    def _on_edited(self, tables) -> None:
        if WATCHED & set(tables):
            self.refresh()

    # -- the evaluation -----------------------------------------------------------------------------

    def show_evaluation(self) -> None:
        c = self.selected()
        self.evaluation = None
        if c is None:
            fill_table(self.outcomes, [])
            self.caveats.setText(_("Add a campaign to see what changed before and after it."))
            return
        try:
            self.evaluation = evaluate(self.session.workspace, c, self.profile.currentData(),
                                       months=self.months.value() or None, radius=self.radius.value())
        except (LanternError, ValueError) as exc:
            fill_table(self.outcomes, [])
            self.caveats.setText(str(exc))
            return
        e = self.evaluation
        fill_table(self.outcomes, [[o.label, *before_after(o, e.floor), ratio_text(o.estimate) or "—",
                                    o.verdict(e.floor)] for o in e.outcomes])
        self.caveats.setText("\n".join(f"• {text}" for text in e.caveats))

    # -- changes ------------------------------------------------------------------------------------

    def _open_form(self, existing) -> CampaignForm:
        if self.form is not None and self.form.isVisible():
            self.form.close()
        self.form = CampaignForm(self.session, self.notify, existing, self.plan, self)
        self.form.show()
        return self.form

    def add(self) -> CampaignForm:
        return self._open_form(None)

    def edit(self) -> CampaignForm | None:
        c = self.selected()
        return self._open_form(c) if c is not None and self.session.writable else None

    def delete(self, confirm: bool = True) -> bool:
        c = self.selected()
        if c is None:
            return False
        if confirm and QMessageBox.question(
                self, _("Delete campaign"), _("Delete the campaign {name!r} and its locations? (Undo brings it "
                                              "back.)").format(name=c.name)) != QMessageBox.StandardButton.Yes:
            return False
        return do_command(self.session, self.notify, delete_campaign(self.session.workspace, c.id))
