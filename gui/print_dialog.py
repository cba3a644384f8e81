"""Print map…: the current view or the district, A4 or A3, portrait or landscape, title and subtitle, the layers,
the profile (with its redaction and disclosure check) and PDF or PNG; the printing runs in a worker."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from audit.disclosure import disclose
from gui.export_dialog import confirm_words, CONFIRM_WORD
from gui.tasks import Task
from layers.catalogue import layer_kinds
from layers.errors import LanternError
from layers.i18n import NAMES, SUPPORTED, _, language
from mapping.share_export import build_bundle


def printable_kinds() -> dict[str, str]:
    """Layer id → label of the layers a print map can show (the basemap is always under the map)."""
    return {k: kd.label for k, kd in layer_kinds().items() if not kd.is_basemap}


class PrintDialog(QDialog):
    """``extent``: W, S, E, N of the current view (None: only the district); ``visible``: the layers shown now."""

    printed = Signal(object)  # the files written

    def __init__(self, session, extent=None, visible: list[str] | None = None, parent=None):
        super().__init__(parent)
        self.session, self.extent, self.task, self.files = session, extent, None, []
        self.setWindowTitle(_("Print map"))
        self._build(visible)
        self._layout()
        self._connect()
        self.refresh()

    # -- widgets -------------------------------------------------------------------------------
    def _build(self, visible) -> None:
        self.current = QRadioButton(_("Current view"))
        self.district = QRadioButton(_("The whole district"))
        self.where = QButtonGroup(self)
        for button in (self.current, self.district):
            self.where.addButton(button)
        self.current.setEnabled(self.extent is not None)
        (self.current if self.extent is not None else self.district).setChecked(True)
        self.paper = _combo([("a4", "A4"), ("a3", "A3")])
        self.orientation = _combo([("landscape", _("Landscape")), ("portrait", _("Portrait"))])
        self.title = QLineEdit()
        self.title.setPlaceholderText(_("Lantern map — {name}").format(name=self.session.workspace.name))
        self.subtitle = QLineEdit()
        self.layers = QListWidget()
        shown = set(visible) if visible is not None else {k for k in printable_kinds() if self.session.is_visible(k)}
        for kind_id, label in printable_kinds().items():
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, kind_id)
            item.setCheckState(Qt.CheckState.Checked if kind_id in shown else Qt.CheckState.Unchecked)
            self.layers.addItem(item)
        self.profile = _combo([("public", _("Public — campaign maps, anyone")),
                               ("partner", _("Partner — NGOs, other municipalities")),
                               ("police", _("Police liaison — full detail, restricted"))])
        self.format = _combo([("pdf", "PDF"), ("png", "PNG")])
        self.lang = _combo([(code, NAMES[code]) for code in SUPPORTED])
        self.lang.setCurrentIndex(self.lang.findData(language()))
        self.path = QLineEdit()
        self.browse = QPushButton(_("Choose…"))
        self.recipient = QLineEdit()
        self.recipient.setPlaceholderText(_("Who receives it (required for police)"))
        self.confirm = QLineEdit()
        self.confirm.setPlaceholderText(_("Type {word} to confirm a police-liaison export").format(
            word=_(CONFIRM_WORD)))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.print_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.print_button.setText(_("Print"))

    def _layout(self) -> None:
        where = QHBoxLayout()
        where.setContentsMargins(0, 0, 0, 0)
        where.addWidget(self.current)
        where.addWidget(self.district)
        path_row = QHBoxLayout()
        path_row.setContentsMargins(0, 0, 0, 0)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        form = QFormLayout()
        for label, widget in ((_("Extent:"), _boxed(where)), (_("Paper:"), self.paper),
                              (_("Orientation:"), self.orientation), (_("Title:"), self.title),
                              (_("Subtitle:"), self.subtitle), (_("Layers:"), self.layers),
                              (_("Profile:"), self.profile), (_("Format:"), self.format),
                              (_("Language:"), self.lang), (_("Save to:"), _boxed(path_row)),
                              (_("Recipient:"), self.recipient), (_("Confirmation:"), self.confirm)):
            form.addRow(label, widget)
        self.layers.setMaximumHeight(150)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)

    def _connect(self) -> None:
        self.browse.clicked.connect(self._browse)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        self.profile.currentIndexChanged.connect(self.refresh)
        self.layers.itemChanged.connect(self.refresh)
        self.format.currentIndexChanged.connect(self._on_format_changed)
        for edit in (self.confirm, self.recipient, self.path):
            edit.textChanged.connect(self._update_button)

    # -- state ---------------------------------------------------------------------------------
    def chosen_layers(self) -> list[str]:
        items = (self.layers.item(i) for i in range(self.layers.count()))
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked]

    def chosen_extent(self):
        return self.extent if self.current.isChecked() else None

    def _browse(self) -> None:
        fmt = self.format.currentData()
        path, _filter = QFileDialog.getSaveFileName(self, _("Print map to"), f"lantern-map.{fmt}",
                                                    f"{fmt.upper()} (*.{fmt})",
                                                    options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.path.setText(path)

    def _on_format_changed(self, _index: int) -> None:
        text = self.path.text().strip()
        if text:
            self.path.setText(str(Path(text).with_suffix("." + self.format.currentData())))

    def refresh(self, *_args) -> None:
        """Redact for the chosen profile and layers and run the disclosure check; say what it found."""
        police = self.profile.currentData() == "police"
        self.confirm.setEnabled(police)
        self.recipient.setEnabled(police)
        try:
            result = disclose(build_bundle(self.session.workspace, self.profile.currentData(),
                                           self.format.currentData(), self.chosen_extent(), self.chosen_layers()))
        except LanternError as exc:
            self.disclosure_ok = False
            self.status.setText(str(exc))
        else:
            self.disclosure_ok = result.ok
            self.status.setText(_("Disclosure check passed.") if result.ok
                                else _("Disclosure check failed:") + "\n" + "\n".join(result.problems))
        self._update_button()

    def _update_button(self) -> None:
        ok = self.disclosure_ok and bool(self.path.text().strip()) and self.task is None
        if self.profile.currentData() == "police":
            ok = ok and self.confirm.text().strip() in confirm_words() and bool(self.recipient.text().strip())
        self.print_button.setEnabled(ok)

    # -- printing ------------------------------------------------------------------------------
    def print_job(self, overwrite: bool = False):
        """``print_map`` with the dialog's choices, read now, as a callable a worker thread may run."""
        from mapping.print_map import print_map

        police = self.profile.currentData() == "police"
        ws, options = self.session.workspace, dict(
            out=Path(self.path.text().strip()), extent=self.chosen_extent(), paper=self.paper.currentData(),
            orientation=self.orientation.currentData(), title=self.title.text().strip(),
            subtitle=self.subtitle.text().strip(), layers=self.chosen_layers(), profile=self.profile.currentData(),
            fmt=self.format.currentData(), lang=self.lang.currentData(), recipient=self.recipient.text().strip(),
            confirm_police=police and self.confirm.text().strip() in confirm_words(), author=self.session.author,
            overwrite=overwrite)
        return lambda: print_map(ws, **options)

    def start(self) -> Task | None:
        """Ask before replacing a file, then print in a worker; the dialog closes when the file is written."""
        target = Path(self.path.text().strip()).with_suffix("." + self.format.currentData())
        overwrite = target.exists()
        if overwrite and QMessageBox.question(
                self, _("Replace existing files?"),
                _("The destination already holds:\n{names}\n\nReplace the files this export writes?").format(
                    names=target)) != QMessageBox.StandardButton.Yes:
            return None
        job = self.print_job(overwrite)
        self.task = Task(lambda progress, cancelled: job(), self)
        self.task.succeeded.connect(self._on_printed)
        self.task.failed.connect(self._on_failed)
        self.busy.show()
        self.status.setText(_("Printing…"))
        self._update_button()
        self.task.start()
        return self.task

    def _on_printed(self, files) -> None:
        self.task, self.files = None, list(files)
        self.busy.hide()
        self.status.setText(_("Printed to {path}").format(path=", ".join(str(f) for f in self.files)))
        self.printed.emit(self.files)
        self.accept()

    def _on_failed(self, exc) -> None:
        self.task = None
        self.busy.hide()
        self.status.setText(_("The map was not printed:") + "\n" + str(exc))
        self._update_button()


def _combo(items) -> QComboBox:
    box = QComboBox()
    for data, text in items:
        box.addItem(text, data)
    return box


def _boxed(layout) -> QWidget:
    box = QWidget()
    box.setLayout(layout)
    return box
