"""Export for sharing…: profile, format (the district report too), destination, recipient; the disclosure check;
police confirmation; a question before anything existing is replaced."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from audit.disclosure import disclose
from audit.redaction import POLICE_STAMP
from layers.errors import LanternError
from mapping.share_export import build_bundle

CONFIRM_WORD = "RESTRICTED"


class ExportDialog(QDialog):
    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(self.tr("Export for sharing"))
        self.resize(640, 560)
        self.profile = QComboBox()
        for pid, text in (("public", self.tr("Public — campaign maps, anyone")),
                          ("partner", self.tr("Partner — NGOs, other municipalities")),
                          ("police", self.tr("Police liaison — full detail, restricted"))):
            self.profile.addItem(text, pid)
        self.format = QComboBox()
        for fmt, text in (("html", "HTML map"), ("pdf", "PDF"), ("png", "PNG"),
                          ("gpkg", self.tr("GeoPackage (partner package)")), ("csv", self.tr("CSV (a folder)")),
                          ("geojson", self.tr("GeoJSON (a folder)")),
                          ("report", self.tr("District report (PDF and HTML)"))):
            self.format.addItem(text, fmt)
        self.lang = QComboBox()
        self.lang.addItem("English", "en")
        self.lang.addItem("Latviešu", "lv")
        self.overwrite = False
        self.path = QLineEdit()
        browse = QPushButton(self.tr("Choose…"))
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        path_box = QWidget()
        path_box.setLayout(path_row)
        path_row.setContentsMargins(0, 0, 0, 0)
        self.recipient = QLineEdit()
        self.recipient.setPlaceholderText(self.tr("Who receives it (required for police)"))
        self.confirm = QLineEdit()
        self.confirm.setPlaceholderText(self.tr("Type {word} to confirm a police-liaison export").format(word=CONFIRM_WORD))
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Export"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._layout(path_box)
        for widget in (self.profile, self.format):
            widget.currentIndexChanged.connect(self.refresh)
        self.format.currentIndexChanged.connect(lambda _i: self.lang.setEnabled(self.format.currentData() == "report"))
        self.lang.setEnabled(False)
        for edit in (self.confirm, self.recipient, self.path):
            edit.textChanged.connect(self._update_button)
        self.refresh()

    def _layout(self, path_box: QWidget) -> None:
        form = QFormLayout()
        form.addRow(self.tr("Profile:"), self.profile)
        form.addRow(self.tr("Format:"), self.format)
        form.addRow(self.tr("Report language:"), self.lang)
        form.addRow(self.tr("Save to:"), path_box)
        form.addRow(self.tr("Recipient:"), self.recipient)
        form.addRow(self.tr("Confirmation:"), self.confirm)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("What will leave the workspace:")))
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _browse(self) -> None:
        fmt = self.format.currentData()
        if fmt in ("csv", "geojson"):
            path = QFileDialog.getExistingDirectory(self, self.tr("Folder for the export"))
        else:
            suffix = "pdf" if fmt == "report" else fmt
            path, _filter = QFileDialog.getSaveFileName(self, self.tr("Export to"), f"lantern-export.{suffix}",
                                                        f"{suffix.upper()} (*.{suffix})",
                                                        options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.path.setText(path)

    def refresh(self) -> None:
        """Redact and run the disclosure check for the chosen profile; show what would leave."""
        police = self.profile.currentData() == "police"
        self.confirm.setEnabled(police)
        try:
            self.disclosure = disclose(build_bundle(self.session.workspace, self.profile.currentData(),
                                                    self.format.currentData()))
        except LanternError as exc:
            self.disclosure = None
            self.status.setText(str(exc))
        else:
            text = self.disclosure.summary()
            if police:
                text += "\n\n" + self.tr("Every page, file and map is stamped “{stamp}”, and the export is written to "
                                         "the change log with the recipient and the files' hashes.").format(stamp=POLICE_STAMP)
            self.summary.setPlainText(text)
            self.status.setText(self.tr("Disclosure check passed.") if self.disclosure.ok
                                else self.tr("Disclosure check failed:") + "\n" + "\n".join(self.disclosure.problems))
        self._update_button()

    def _update_button(self) -> None:
        ok = bool(self.disclosure and self.disclosure.ok and self.path.text().strip())
        if self.profile.currentData() == "police":
            ok = ok and self.confirm.text().strip() == CONFIRM_WORD and bool(self.recipient.text().strip())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def existing(self) -> list[Path]:
        """What the export would replace: existing files, or the files of a non-empty folder."""
        path = Path(self.path.text().strip())
        fmt = self.format.currentData()
        if fmt in ("csv", "geojson"):
            return sorted(path.iterdir()) if path.is_dir() else []
        targets = [path.with_suffix(".pdf"), path.with_suffix(".html")] if fmt == "report" else [path]
        return [t for t in targets if t.exists()]

    def accept(self) -> None:
        """Ask before replacing anything; the export itself refuses the workspace whatever the answer."""
        found = self.existing()
        if found:
            names = "\n".join(str(p) for p in found[:8]) + ("\n…" if len(found) > 8 else "")
            answer = QMessageBox.question(
                self, self.tr("Replace existing files?"),
                self.tr("The destination already holds:\n{names}\n\nReplace the files this export writes?").format(
                    names=names))
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.overwrite = bool(found)
        super().accept()

    def run_export(self):
        """Export with the dialog's choices (in the caller's thread); returns the files written."""
        from mapping.share_export import export

        police = self.profile.currentData() == "police"
        files, _disclosure = export(
            self.session.workspace, self.profile.currentData(), self.format.currentData(), Path(self.path.text()),
            recipient=self.recipient.text(), author=self.session.author,
            confirm_police=police and self.confirm.text().strip() == CONFIRM_WORD, overwrite=self.overwrite,
            lang=self.lang.currentData())
        return files
