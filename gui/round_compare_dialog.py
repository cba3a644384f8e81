"""Tools → Compare rounds…: two audit rounds and a profile; the tables of what changed and the change map.

The comparison runs in a worker (``mapping.round_export.compute``); the change of the risk index per cell is
shown on the map as an overlay, cut to the chosen profile like everything it exports. Export… writes what
``python main.py compare`` writes, in a worker; a police comparison asks for the typed confirmation and the
recipient first.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
)

from audit import rounds
from audit.disclosure import profile_label
from audit.redaction import PROFILES, select_fields, share_rule
from audit.round_compare import change_text, count_text, group_label, level_text, status_label
from gui.accessible import name
from gui.tasks import run_with_progress
from gui.tooltips import plain_tip
from layers.i18n import _, ngettext
from mapping.features import map_layer
from mapping.round_change import cell_tip, change_color, change_legend
from mapping.session import Overlay

OVERLAY = "round_change"  # the overlay's name in the session


def _table(headers: list[str], label: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setWordWrap(True)
    table.horizontalHeader().sectionResized.connect(lambda *_args: table.resizeRowsToContents())  # wrapped text
    name(table, label)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem("" if text is None else str(text))
            item.setToolTip(plain_tip(item.text()))
            table.setItem(r, c, item)
    table.resizeRowsToContents()


class RoundCompareDialog(QDialog):
    def __init__(self, session, notify, parent=None):
        super().__init__(parent)
        self.session, self.notify = session, notify
        self.result = None
        self.setWindowTitle(_("Compare audit rounds"))
        self.first, self.second = QComboBox(), QComboBox()
        for r in rounds.rounds(session.workspace):
            self.first.addItem(r.title, r.id)
            self.second.addItem(r.title, r.id)
        self.second.setCurrentIndex(self.second.count() - 1)
        self.first.setCurrentIndex(max(0, self.first.count() - 2))
        self.profile = QComboBox()
        for p in PROFILES:
            self.profile.addItem(profile_label(p), p)
        self.compare_button = QPushButton(_("Compare"))
        self.compare_button.clicked.connect(lambda: self.run())
        self.compare_button.setEnabled(self.first.count() >= 2)
        self.export_button = QPushButton(_("Export…"))
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(lambda: self.export())
        self.summary = QLabel(_("Choose two rounds and whom the comparison is for.") if self.first.count() >= 2 else
                              _("There is only one audit round: add another in Edit → Audit rounds…"))
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self._tables()
        self._layout()
        self.finished.connect(lambda _result: self.session.set_overlay(OVERLAY, None))

    def _tables(self) -> None:
        self.places = _table([_("Change"), _("Places")], _("Places"))
        self.estimates = _table([_("Risk group"), _("Earlier round"), _("Later round"), _("Change")],
                                _("Risk-group estimates"))
        self.indicators = _table([_("Indicator"), _("Earlier round"), _("Later round"), _("Change")], _("Indicators"))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.places, _("Places"))
        self.tabs.addTab(self.estimates, _("Estimates"))
        self.tabs.addTab(self.indicators, _("Indicators"))

    def _layout(self) -> None:
        choose = QHBoxLayout()
        for text, widget in ((_("From:"), self.first), (_("To:"), self.second), (_("For:"), self.profile)):
            label = QLabel(text)
            label.setBuddy(widget)
            name(widget, text)
            choose.addWidget(label)
            choose.addWidget(widget, 1)
        choose.addWidget(self.compare_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.export_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(choose)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        self.resize(900, 560)

    # -- comparing --------------------------------------------------------------------------------------------

    def choice(self) -> tuple[int, int, str]:
        return self.first.currentData(), self.second.currentData(), self.profile.currentData()

    def run(self):
        """Compare in a worker; the tables and the map overlay follow."""
        from mapping.round_export import compute

        first, second, profile = self.choice()
        if first == second:
            self.summary.setText(_("Choose two different rounds."))
            return None
        ws = self.session.workspace
        self.compare_button.setEnabled(False)
        self.task = run_with_progress(
            self, _("Comparing the rounds…"),
            lambda report, cancelled: compute(ws, first, second, profile, progress=report, cancelled=cancelled),
            on_done=self.show_result, notifier=self.notify, failure_title=_("The rounds were not compared"), owner=self)
        self.task.done.connect(lambda: self.compare_button.setEnabled(True))
        return self.task

    def show_result(self, result) -> None:
        self.result = result
        c = result.comparison
        self._show_places(c)
        _fill(self.estimates, [[group_label(r["risk_group"]), *self._estimate_values(r), change_text(r)]
                               for r in c.estimates] +
              [[f"{group_label(r['risk_group'])} · {r['area_name'] or '—'}", *self._estimate_values(r),
                change_text(r)] for r in c.estimate_areas])  # partner, police: each area estimated in both
        _fill(self.indicators, [[r["wording"], count_text(r["places_from"]), count_text(r["places_to"]),
                                 change_text(r)] for r in c.indicators])
        self.summary.setText("\n".join(c.notes))
        self._show_map(result)
        self.export_button.setEnabled(True)

    def _show_places(self, c) -> None:
        if c.profile != "police":
            self.places.setColumnCount(2)
            self.places.setHorizontalHeaderLabels([_("Change"), _("Places")])
            _fill(self.places, [[status_label(r["status"]), count_text(r["count"])] for r in c.places] +
                  [[_("Drove risk up") if r["direction"] == "up" else _("Drove risk down"),
                    ngettext("{text}: {n} place", "{text}: {n} places", r["places"]).format(text=r["wording"],
                                                                                          n=r["places"])]
                   for r in c.drivers])
            return
        self.places.setColumnCount(4)
        self.places.setHorizontalHeaderLabels([_("Place"), _("Change"), _("Risk level"), _("What drove it")])
        self.places.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        _fill(self.places, [[r["name"], status_label(r["status"]),
                             f"{level_text(r['level_from'])} → {level_text(r['level_to'])}", r["drivers"]]
                            for r in c.places])

    @staticmethod
    def _estimate_values(r: dict) -> list[str]:
        if "band_from" in r:
            return [r["band_from"] or "—", r["band_to"] or "—"]
        return [str(v) if v is not None else "—" for v in (r["estimate_from"], r["estimate_to"])]

    def _show_map(self, result) -> None:
        cells = select_fields(result.surface.to_wgs84(), share_rule("round_change", result.profile)["fields"])
        layer = map_layer(OVERLAY, _("Change of the risk index"), cells, "risk_surface", tips=cell_tip,
                          props=[{"fill": change_color(v)} for v in cells["change"]])
        self.session.set_overlay(OVERLAY, Overlay([layer], [change_legend(list(cells["change"]))]))

    # -- exporting --------------------------------------------------------------------------------------------

    def export(self, out_dir: str | None = None, recipient: str | None = None):
        """Write the tables and the print map (in a worker), as the command line's compare does."""
        from mapping.round_export import export_comparison

        if self.result is None:
            return None
        profile = self.result.profile
        if profile == "police" and recipient is None:
            recipient = self._police_recipient()
            if recipient is None:
                return None
        if out_dir is None:
            out_dir = QFileDialog.getExistingDirectory(self, _("Export the comparison to…"))
            if not out_dir:
                return None
        overwrite = self._may_replace(Path(out_dir))
        if overwrite is None:
            return None
        ws, result, author = self.session.workspace, self.result, self.session.author
        c = result.comparison

        def write(report, cancelled):
            return export_comparison(ws, c.first, c.second, Path(out_dir), profile, overwrite=overwrite,
                                     recipient=recipient or "", confirm_police=profile == "police", author=author,
                                     progress=report, result=result)[0]

        self.export_task = run_with_progress(
            self, _("Exporting…"), write, on_done=lambda files: self.notify.finished(
                ngettext("Wrote {n} file to {dir}", "Wrote {n} files to {dir}", len(files)).format(
                    n=len(files), dir=out_dir), files),
            notifier=self.notify, failure_title=_("Export failed"), cancellable=False, owner=self)
        return self.export_task

    def _police_recipient(self) -> str | None:
        from PySide6.QtWidgets import QInputDialog

        from gui.export_dialog import CONFIRM_WORD, confirm_hint, confirm_words

        title = _("Police-liaison comparison")
        word, ok = QInputDialog.getText(self, title, _(
            "This comparison names places of concern and shows exact counts. Type {word} to confirm:").format(
            word=_(CONFIRM_WORD)))
        if not ok:
            return None
        if word.strip() not in confirm_words():
            self.notify(title, confirm_hint(word))
            return None
        who, ok = QInputDialog.getText(self, title, _("Who receives it?"))
        return who.strip() if ok and who.strip() else None

    def _may_replace(self, folder: Path) -> bool | None:
        if not folder.is_dir() or not any(folder.iterdir()):
            return False
        answer = QMessageBox.question(self, _("Folder not empty"), _(
            "{folder} already holds files. Replace the comparison's files there (other files are kept)?").format(
            folder=folder))
        return True if answer == QMessageBox.StandardButton.Yes else None

