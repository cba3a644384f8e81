"""The outreach planning panel: targets, k, r, candidates → a ranked plan beside the map → Export…"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audit.catalogue import risk_groups
from gui.accessible import name, name_form_fields
from gui.tooltips import plain_tip
from layers.catalogue import forms_of_exploitation
from layers.i18n import _, label, ngettext, percent
from mapping.outreach import OutreachParams, candidate_categories
from mapping.risk_surface import SurfaceParams, method_text
from mapping.session import Overlay

#: who asked for the map's click mode
OUTREACH_SITE = "outreach site"

ID_ROLE = Qt.ItemDataRole.UserRole


def _checklist(entries, checked) -> QListWidget:
    widget = QListWidget()
    for entry_id, text in entries:
        item = QListWidgetItem(text)
        item.setData(ID_ROLE, entry_id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked(entry_id) else Qt.CheckState.Unchecked)
        widget.addItem(item)
    _fit_rows(widget)
    return widget


def _fit_rows(view) -> None:
    """Show every row (these lists are short): the panel's one scroll area does the scrolling."""
    view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    if isinstance(view, QTableWidget):  # rows as tall as the vertical header makes them, below the column titles
        rows, header = view.verticalHeader().length(), view.horizontalHeader().sizeHint().height()
    else:
        rows, header = sum(view.sizeHintForRow(r) for r in range(view.count())), 0
    view.setFixedHeight(rows + header + 2 * view.frameWidth() + 2)


def _checked(widget: QListWidget) -> list[str]:
    return [widget.item(i).data(ID_ROLE) for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked]


def _spin(low: int, high: int, value: float, step: int = 1, suffix: str = "") -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setValue(int(value))
    spin.setSuffix(suffix)
    return spin


class OutreachPanel(QWidget):
    siteSelected = Signal(int)  # rank

    def __init__(self, session, notify, parent=None):
        super().__init__(parent)
        self.session, self.notify = session, notify
        self.result = None
        self.locked: set[int] = set()
        self.excluded: set[int] = set()
        self.extra_points: list[tuple[float, float, str]] = []
        self._make_inputs()
        self._make_outputs()
        session.point_picked.connect(self._on_point_picked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._scroll_area())
        self._name_controls()
        self.setToolTip(method_text())
        self._on_profile_changed(0)

    def _make_inputs(self) -> None:
        """The plan's settings, starting at OutreachParams' defaults."""
        self.groups = _checklist([(g["id"], label(g)) for g in risk_groups()], lambda _i: True)
        self.forms = _checklist([(f.id, f.label) for f in forms_of_exploitation()], lambda _i: True)
        self.categories = _checklist([(c["id"], label(c)) for c in candidate_categories()],
                                     lambda i: next(c for c in candidate_categories() if c["id"] == i).get("default"))
        defaults = OutreachParams(categories=[])
        self.k = _spin(1, 50, defaults.k)
        self.radius = _spin(100, 5000, defaults.radius, 50, " m")
        self.cell = _spin(50, 2000, defaults.surface.cell_size, 50, " m")
        self.weights = {}
        for key in ("people", "places", "cases"):
            spin = QDoubleSpinBox()
            spin.setRange(0, 10)
            spin.setSingleStep(0.5)
            spin.setValue(defaults.surface.weights[key])
            self.weights[key] = spin
        self.profile = QComboBox()
        self.profile.addItem(_("Public — campaign material, anyone"), "public")
        self.profile.addItem(_("Partner — NGOs, other municipalities"), "partner")
        self.profile.addItem(_("Police liaison — restricted"), "police")
        self.profile.setToolTip(_("Who the plan is for. A public plan chooses only among public places and "
                                        "ignores cells with fewer than 5 cases or audited places."))
        self.profile.currentIndexChanged.connect(self._on_profile_changed)
        self.method = QComboBox()
        self.method.addItem(_("Fast (greedy, with certified gap)"), "greedy")
        self.method.addItem(_("Exact (HiGHS; says if not proven optimal)"), "exact")
        self.add_point_button = QPushButton(_("Add a candidate site on the map"))
        self.add_point_button.setToolTip(_("Click the map where a campaign could be held (Esc cancels)"))
        self.add_point_button.clicked.connect(self._on_add_point)
        self.points_label = QLabel()

    def _make_outputs(self) -> None:
        """Run and Export, the plan's quality, and the ranked sites with lock and exclude boxes."""
        self.run_button = QPushButton(_("Run"))
        self.run_button.clicked.connect(self.run)
        self.online_basemap = QCheckBox()  # its text is a wrapping label beside it: a check box never wraps
        self.online_basemap_label = QLabel(_("Online basemap in the HTML (it will request map tiles)"))
        self.online_basemap_label.setWordWrap(True)
        self.online_basemap_label.setBuddy(self.online_basemap)
        self.export_button = QPushButton(_("Export…"))
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export)
        self.quality = QLabel()
        self.quality.setWordWrap(True)
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels([_("#"), _("Site"), _("Category"), _("Gain"),
                                              _("Lock"), _("Exclude")])
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the site's name takes the rest
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)  # a long name ends in … (full name in the tooltip)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._on_row)
        self.table.itemChanged.connect(self._on_lock_changed)
        _fit_rows(self.table)

    def _scroll_area(self) -> QScrollArea:
        """Settings, buttons and the ranked sites in one scroll area (no scrolling inside scrolling)."""
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self._settings())
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)
        online = QHBoxLayout()
        online.addWidget(self.online_basemap, 0, Qt.AlignmentFlag.AlignTop)
        online.addWidget(self.online_basemap_label, 1)
        layout.addLayout(online)
        layout.addWidget(self.quality)
        layout.addWidget(self.table)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll = scroll
        return scroll

    def _name_controls(self) -> None:
        """Accessible names for screen readers (form fields are named after their labels)."""
        for widget, text in ((self.groups, _("Risk groups:")), (self.forms, _("Forms of exploitation:")),
                             (self.online_basemap, self.online_basemap_label.text()), (self.run_button, _("Run")),
                             (self.export_button, _("Export…")), (self.table, _("Campaign sites")),
                             (self.add_point_button, self.add_point_button.text())):
            name(widget, text)
        for key, text in (("people", _("people")), ("places", _("places")), ("cases", _("cases"))):
            name(self.weights[key], text)
        name_form_fields(self.plan_form)

    def _settings(self) -> QWidget:
        targets = QGroupBox(_("Target"))
        t = QVBoxLayout(targets)
        t.addWidget(QLabel(_("Risk groups:")))
        t.addWidget(self.groups)
        t.addWidget(QLabel(_("Forms of exploitation:")))
        t.addWidget(self.forms)
        plan_box = QGroupBox(_("Plan"))
        form = QFormLayout(plan_box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a long label puts its field below
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.plan_form = form
        form.addRow(_("Plan for:"), self.profile)
        form.addRow(_("Sites (k):"), self.k)
        form.addRow(_("Walking distance (r):"), self.radius)
        form.addRow(_("Cell size:"), self.cell)
        weights = QGridLayout()  # each weight's name above its box: three side by side fit a narrow panel
        for column, (key, text) in enumerate((("people", _("people")), ("places", _("places")),
                                              ("cases", _("cases")))):
            weights.addWidget(QLabel(text), 0, column)
            weights.addWidget(self.weights[key], 1, column)
        wrap = QWidget()
        wrap.setLayout(weights)
        weights.setContentsMargins(0, 0, 0, 0)
        form.addRow(_("Weights:"), wrap)
        form.addRow(_("Method:"), self.method)
        form.addRow(_("Candidates:"), self.categories)
        form.addRow(self.add_point_button)
        form.addRow(self.points_label)
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(targets)
        settings_layout.addWidget(plan_box)
        return settings

    def _on_profile_changed(self, _index: int) -> None:
        """Filters by form apply only to police plans: a filtered count could be differenced against the published one."""
        police = self.profile.currentData() == "police"
        self.forms.setEnabled(police)
        self.forms.setToolTip("" if police else _("Only police plans filter by form of exploitation; public and "
                                                       "partner plans count every case."))

    def params(self) -> OutreachParams:
        groups = _checked(self.groups)
        forms = _checked(self.forms)
        return OutreachParams(
            k=self.k.value(), radius=float(self.radius.value()), method=self.method.currentData(),
            categories=_checked(self.categories), locked=sorted(self.locked), excluded=sorted(self.excluded),
            extra_points=list(self.extra_points), profile=self.profile.currentData(),
            surface=SurfaceParams(
                cell_size=float(self.cell.value()),
                groups=None if len(groups) == self.groups.count() else frozenset(groups),
                forms=None if len(forms) == self.forms.count() else frozenset(forms),
                weights={k: s.value() for k, s in self.weights.items()}),
        )

    # -- candidates drawn by the planner -----------------------------------------------------

    def _on_add_point(self) -> None:
        self.session.set_mode("place", OUTREACH_SITE)
        self.notify.status(_("Click the map where a campaign could be held"))

    def _on_point_picked(self, owner, lon: float, lat: float) -> None:
        if owner == OUTREACH_SITE:
            self.add_point(lon, lat, _("Drawn site {n}").format(n=len(self.extra_points) + 1))

    def add_point(self, lon: float, lat: float, name: str) -> None:
        self.extra_points.append((lon, lat, name))
        n = len(self.extra_points)
        self.points_label.setText(ngettext("{n} candidate site drawn on the map", "{n} candidate sites drawn on the map",
                                           n).format(n=n))

    # -- running ------------------------------------------------------------------------

    def run(self, _checked_state=False, wait: bool = False):
        """Compute the plan in a worker; the window keeps repainting. Cancel drops the plan."""
        from gui.tasks import run_with_progress
        from mapping.outreach import plan_outreach

        ws, params = self.session.workspace, self.params()
        if ws is None:
            return None
        task = run_with_progress(self.window(), _("Planning outreach…"),
                                 lambda report, cancelled: plan_outreach(ws, params, progress=report,
                                                                         cancelled=cancelled),
                                 on_done=self.show_plan, notifier=self.notify, failure_title=_("Planning failed"),
                                 owner=self)
        self.run_button.setEnabled(False)
        task.done.connect(lambda: self.run_button.setEnabled(True))
        self.task = task
        return task

    def show_plan(self, plan) -> None:
        from mapping.outreach_export import plan_layers, risk_legend, sites_layers, surface_layer

        self.result = plan
        self.quality.setText(plan.quality_text())
        self.table.blockSignals(True)
        self.table.setRowCount(len(plan.sites))
        for r, row in enumerate(plan.sites.itertuples()):
            share = percent(float(row.marginal_share))  # 12,5% in Latvian
            cells = [str(row.rank), row.name, row.category, share]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tip(f"{row.name}\n{row.reason}" if c == 1 else row.reason))  # the whole name, if cut
                self.table.setItem(r, c, item)
            for c, chosen in ((4, self.locked), (5, self.excluded)):
                box = QTableWidgetItem()
                box.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
                box.setCheckState(Qt.CheckState.Checked if row.candidate in chosen else Qt.CheckState.Unchecked)
                box.setData(ID_ROLE, int(row.candidate))
                self.table.setItem(r, c, box)
        self.table.blockSignals(False)
        _fit_rows(self.table)
        shown = {layer.name: layer for layer in plan_layers(plan)}  # what the plan's profile may see
        layers = [surface_layer(shown["risk_surface"].frame),
                  *sites_layers(shown["campaign_sites"].frame, shown["coverage"])]
        self.session.set_overlay("outreach", Overlay(layers, [risk_legend()]))
        self.export_button.setEnabled(True)

    def _on_lock_changed(self, item: QTableWidgetItem) -> None:
        if item.column() not in (4, 5):
            return
        candidate = item.data(ID_ROLE)
        target = self.locked if item.column() == 4 else self.excluded
        other = self.excluded if item.column() == 4 else self.locked
        if item.checkState() == Qt.CheckState.Checked:
            target.add(candidate)
            other.discard(candidate)
        else:
            target.discard(candidate)
        self.run_button.setText(_("Re-run"))

    def _on_row(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.result is not None:
            rank = int(self.table.item(rows[0].row(), 0).text())
            self.session.focus("sites", rank)
            self.siteSelected.emit(rank)

    # -- exporting ----------------------------------------------------------------------

    def export(self, _checked_state=False, out_dir: str | None = None, recipient: str | None = None):
        """Export the plan (in a worker). A police plan asks for the recipient and the typed confirmation."""
        from gui.tasks import run_with_progress
        from mapping.outreach_export import export_plan

        if self.result is None:
            return None
        police = self.result.params.profile == "police"
        if police and recipient is None:
            recipient = self._police_recipient()
            if recipient is None:
                return None
        if out_dir is None:
            out_dir = QFileDialog.getExistingDirectory(self, _("Export the outreach plan to…"))
            if not out_dir:
                return None
        overwrite = self._may_replace(Path(out_dir))
        if overwrite is None:
            return None
        plan, ws = self.result, self.session.workspace
        online = self.online_basemap.isChecked()
        author = self.session.author

        def write(report, cancelled):
            files = export_plan(plan, ws, Path(out_dir), online_basemap=online, progress=report,
                                overwrite=overwrite, recipient=recipient or "", confirm_police=police,
                                author=author)[0]
            return list(files.values())  # the paths, in the plan's order

        self.export_task = run_with_progress(
            self.window(), _("Exporting…"), write, on_done=lambda files: self.notify.finished(
                ngettext("Wrote {n} file to {dir}", "Wrote {n} files to {dir}", len(files)).format(
                    n=len(files), dir=out_dir), files),
            notifier=self.notify, failure_title=_("Export failed"), cancellable=False, owner=self)
        return self.export_task

    def _police_recipient(self) -> str | None:
        """The recipient of a police plan, once the user typed the confirmation word; None if they did not."""
        from PySide6.QtWidgets import QInputDialog

        from gui.export_dialog import CONFIRM_WORD, confirm_hint, confirm_words

        word, ok = QInputDialog.getText(self, _("Police-liaison plan"), _(
            "This plan shows reported-case counts and places of concern. Type {word} to confirm:").format(
            word=_(CONFIRM_WORD)))
        if not ok:
            return None
        if word.strip() not in confirm_words():  # say why nothing happens, and what is expected
            self.notify(_("Police-liaison plan"), confirm_hint(word))
            return None
        name, ok = QInputDialog.getText(self, _("Police-liaison plan"), _("Who receives it?"))
        return name.strip() if ok and name.strip() else None

    def _may_replace(self, folder: Path) -> bool | None:
        """False: the folder is new or empty; True: the user agreed to replace; None: the user declined."""
        if not folder.is_dir() or not any(folder.iterdir()):
            return False
        answer = QMessageBox.question(self, _("Folder not empty"), _(
            "{folder} already holds files. Replace the plan's five files there (other files are kept)?").format(
            folder=folder))
        return True if answer == QMessageBox.StandardButton.Yes else None


__all__ = ["OutreachPanel"]
