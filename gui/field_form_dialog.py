"""Tools → Field form…: the place type(s), the form's languages and a folder; the files are written in a worker."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from audit.catalogue import place_types
from audit.field_form import ALL, export_field_form
from mapping.field_map import DEFAULT_MAX_ZOOM, DEFAULT_MIN_ZOOM, write_field_map
from gui.accessible import name, name_form_fields
from layers.i18n import NAMES, _, label, language

#: the offline map's file in the form's folder
MAP_FILE = "basemap.mbtiles"
#: the language choices: which languages the form has, the first shown first on the phone
LANGUAGE_ORDERS = (("lv", "en"), ("en", "lv"), ("lv",), ("en",))


class FieldFormDialog(QDialog):
    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.overwrite = False
        self.setWindowTitle(_("Field form for phones"))
        self.place_type = QComboBox()
        self.place_type.addItem(_("Every place type (the team chooses)"), ALL)
        for t in place_types():
            self.place_type.addItem(label(t), t["id"])
        self.langs = QComboBox()
        for order in LANGUAGE_ORDERS:
            self.langs.addItem(", ".join(NAMES[code] for code in order), ",".join(order))  # data: "lv,en"
        self.langs.setCurrentIndex(0 if language() == "lv" else 1)
        self.folder = QLineEdit(str(self._default_folder()))
        browse = QPushButton(_("Choose…"))
        browse.clicked.connect(self._choose_folder)
        where = QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow(_("Place type:"), self.place_type)
        form.addRow(_("Languages:"), self.langs)
        form.addRow(_("Folder:"), where)
        self.with_map = QCheckBox(_("Offline map of the district for the phone ({file}, zooms {low}–{high})").format(
            file=MAP_FILE, low=DEFAULT_MIN_ZOOM, high=DEFAULT_MAX_ZOOM))
        self.with_map.setChecked(True)
        self.with_map.setToolTip(_("The basemap only (streets, buildings, water, railways) as raster tiles ODK "
                                   "Collect shows offline: no cases, no places of concern, no annotations."))
        form.addRow("", self.with_map)
        name_form_fields(form)
        name(self.folder, _("Folder"))
        name(browse, _("Choose a folder"))
        note = QLabel(_("For ODK Collect or KoBoToolbox: the form (.xlsx and .xml) and places.csv, to upload "
                        "together. places.csv lists only what a public export shows: no places of concern, no "
                        "shelters, no notes, authors or annotations."))
        note.setWordWrap(True)
        note.setStyleSheet("color: #555;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.write_button = buttons.addButton(_("Write form"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def _default_folder(self) -> Path:
        ws = self.session.workspace
        return Path(ws.path).with_name(f"{Path(ws.path).stem}-field-form") if ws is not None else Path.home()

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, _("Folder for the field form"), self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def accept(self) -> None:
        """Ask before replacing files in a folder that is not empty."""
        path = Path(self.folder.text().strip())
        if not self.folder.text().strip():
            return
        found = sorted(path.iterdir()) if path.is_dir() else []
        if found:
            names = "\n".join(p.name for p in found[:8]) + ("\n…" if len(found) > 8 else "")
            answer = QMessageBox.question(self, _("Replace existing files?"), _(
                "The folder already holds:\n{names}\n\nReplace the files the field form writes?").format(names=names))
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.overwrite = bool(found)
        super().accept()

    def job(self):
        """The export with the dialog's choices, read now, as ``fn(progress, cancelled)`` for a worker."""
        ws, place_type, langs = self.session.workspace, self.place_type.currentData(), self.langs.currentData()
        out, overwrite, with_map = Path(self.folder.text().strip()), self.overwrite, self.with_map.isChecked()

        def run(progress, cancelled):
            result = export_field_form(ws, place_type, langs, out, overwrite=overwrite,
                                       progress=lambda f, m: progress(f / 2 if with_map else f, m))
            if with_map:
                message = _("Drawing the offline map…")
                report = write_field_map(ws, out / MAP_FILE, overwrite=True, cancel=cancelled,
                                         progress=lambda done, total: progress(0.5 + done / max(total, 1) / 2, message))
                result.files = [*result.files, report.path]
            return result

        return run
