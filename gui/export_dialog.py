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
from gui.accessible import name, name_form_fields
from layers.errors import LanternError
from layers.i18n import NAMES, SUPPORTED, N_, _, language
from mapping.share_export import build_bundle

CONFIRM_WORD = N_("RESTRICTED")  # typed to confirm a police export: the word in the user's language, or this one


def confirm_words() -> set[str]:
    """The words that confirm a police-liaison export: the translated one and the English one."""
    return {_(CONFIRM_WORD), CONFIRM_WORD}


def confirm_hint(typed: str) -> str:
    """What the confirmation field says under the typed text. Matching stays exact (a deliberate act, not a
    search), so the hint names the word and says when only the capital letters are wrong."""
    word, typed = _(CONFIRM_WORD), typed.strip()
    if typed in confirm_words():
        return _("Confirmed.")
    if not typed:
        return _("Type {word} exactly as shown, in capital letters.").format(word=word)
    if typed.casefold() in {w.casefold() for w in confirm_words()}:
        return _("Almost: type {word} in capital letters. The confirmation must match exactly.").format(word=word)
    return _("This does not match. Type {word} exactly as shown, in capital letters.").format(word=word)


class ExportDialog(QDialog):
    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle(_("Export for sharing"))
        self.resize(640, 560)
        self._make_choices()
        self.overwrite = False
        self.path = QLineEdit()
        browse = QPushButton(_("Choose…"))
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        path_box = QWidget()
        path_box.setLayout(path_row)
        path_row.setContentsMargins(0, 0, 0, 0)
        self.recipient = QLineEdit()
        self.recipient.setPlaceholderText(_("Who receives it (required for police)"))
        self.confirm = QLineEdit()
        self.confirm.setPlaceholderText(_("Type {word} to confirm a police-liaison export").format(
            word=_(CONFIRM_WORD)))
        self.confirm_hint = QLabel()  # live: what the field expects, and why it does not match yet
        self.confirm_hint.setWordWrap(True)
        self.confirm_hint.setTextFormat(Qt.TextFormat.PlainText)
        self.confirm_hint.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.needs = QLabel()  # why Export is greyed out
        self.needs.setWordWrap(True)
        self.needs.setTextFormat(Qt.TextFormat.PlainText)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(_("Export"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._layout(path_box)
        self._name_controls(browse)
        for widget in (self.profile, self.format):
            widget.currentIndexChanged.connect(self.refresh)
        self.format.currentIndexChanged.connect(lambda _i: self.lang.setEnabled(self.format.currentData() == "report"))
        self.lang.setEnabled(False)
        self.format.currentIndexChanged.connect(
            lambda _i: self.csv_dialect.setEnabled(self.format.currentData() in ("csv", "geojson")))
        self.csv_dialect.setEnabled(False)
        for edit in (self.confirm, self.recipient, self.path):
            edit.textChanged.connect(self._update_button)
        self.refresh()

    def _make_choices(self) -> None:
        """The profile, format, report language and CSV dialect boxes."""
        self.profile = QComboBox()
        for pid, text in (("public", _("Public — campaign maps, anyone")),
                          ("partner", _("Partner — NGOs, other municipalities")),
                          ("police", _("Police liaison — full detail, restricted"))):
            self.profile.addItem(text, pid)
        self.format = QComboBox()
        for fmt, text in (("html", _("HTML map")), ("pdf", "PDF"), ("png", "PNG"),
                          ("gpkg", _("GeoPackage (partner package)")), ("csv", _("CSV (a folder)")),
                          ("geojson", _("GeoJSON (a folder)")),
                          ("report", _("District report (PDF and HTML)"))):
            self.format.addItem(text, fmt)
        self.lang = QComboBox()
        for lang in SUPPORTED:
            self.lang.addItem(NAMES[lang], lang)  # each language by its own name
        self.lang.setCurrentIndex(self.lang.findData(language()))
        self.csv_dialect = QComboBox()  # csv, and a geojson folder's tables without geometries
        for dialect, text in (("standard", _("UTF-8, comma, decimal point")),
                              ("excel-lv", _("Excel (Latvian): semicolon, decimal comma"))):
            self.csv_dialect.addItem(text, dialect)

    def _layout(self, path_box: QWidget) -> None:
        form = QFormLayout()
        form.addRow(_("Profile:"), self.profile)
        form.addRow(_("Format:"), self.format)
        form.addRow(_("Report language:"), self.lang)
        form.addRow(_("CSV files:"), self.csv_dialect)
        form.addRow(_("Save to:"), path_box)
        form.addRow(_("Recipient:"), self.recipient)
        form.addRow(_("Confirmation:"), self.confirm)
        form.addRow("", self.confirm_hint)
        self.form = form
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel(_("What will leave the workspace:")))
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.needs)
        layout.addWidget(self.buttons)

    def _name_controls(self, browse: QPushButton) -> None:
        """Accessible names for screen readers: the form's labels, and the controls outside the form."""
        name(self.path, _("Save to:"))
        name(self.confirm, _("Confirmation:"))
        self.confirm.setAccessibleDescription(_("Type {word} to confirm a police-liaison export").format(
            word=_(CONFIRM_WORD)))
        name(browse, _("Choose…"))
        name(self.summary, _("What will leave the workspace:"))
        name_form_fields(self.form)

    def _browse(self) -> None:
        fmt = self.format.currentData()
        if fmt in ("csv", "geojson"):
            path = QFileDialog.getExistingDirectory(self, _("Folder for the export"))
        else:
            suffix = "pdf" if fmt == "report" else fmt
            path, _filter = QFileDialog.getSaveFileName(self, _("Export to"), f"lantern-export.{suffix}",
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
                text += "\n\n" + _("Every page, file and map is stamped “{stamp}”, and the export is written to "
                                   "the change log with the recipient and the files' hashes.").format(
                    stamp=_(POLICE_STAMP))
            self.summary.setPlainText(text)
            self.status.setText(_("Disclosure check passed.") if self.disclosure.ok
                                else _("Disclosure check failed:") + "\n" + "\n".join(self.disclosure.problems))
        self._update_button()

    def _update_button(self) -> None:
        police = self.profile.currentData() == "police"
        self.confirm_hint.setVisible(police)
        self.confirm_hint.setText(confirm_hint(self.confirm.text()) if police else "")
        missing = self.missing()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not missing)
        self.needs.setText(_("To export: {what}").format(what="; ".join(missing)) if missing else "")
        self.needs.setVisible(bool(missing))

    def missing(self) -> list[str]:
        """What the export still needs, in words; empty when Export can be pressed."""
        missing = []
        if not (self.disclosure and self.disclosure.ok):
            missing.append(_("a passed disclosure check"))
        if not self.path.text().strip():
            missing.append(_("choose where to save"))
        if self.profile.currentData() == "police":
            if not self.recipient.text().strip():
                missing.append(_("name the recipient"))
            if self.confirm.text().strip() not in confirm_words():
                missing.append(_("type {word} to confirm").format(word=_(CONFIRM_WORD)))
        return missing

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
                self, _("Replace existing files?"),
                _("The destination already holds:\n{names}\n\nReplace the files this export writes?").format(
                    names=names))
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.overwrite = bool(found)
        super().accept()

    def export_job(self):
        """The export with the dialog's choices, read now, as a callable a worker thread may run."""
        from mapping.share_export import export

        police = self.profile.currentData() == "police"
        ws, profile, fmt, path = (self.session.workspace, self.profile.currentData(), self.format.currentData(),
                                  Path(self.path.text()))
        options = dict(recipient=self.recipient.text(), author=self.session.author, overwrite=self.overwrite,
                       confirm_police=police and self.confirm.text().strip() in confirm_words(),
                       lang=self.lang.currentData(), csv_dialect=self.csv_dialect.currentData())
        return lambda: export(ws, profile, fmt, path, **options)[0]

    def run_export(self):
        """Export with the dialog's choices in the caller's thread; returns the files written."""
        return self.export_job()()
