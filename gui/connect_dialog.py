"""File → Connect to shared workspace…: which server, as whom; the password is kept only in memory.

A ``pg_service.conf`` service (``service=district``) or ``~/.pgpass`` keeps the password out of Lantern
altogether; a password typed here is used for this session, or kept in the system keyring when asked, and
never written to the settings.
"""
from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDialog, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from gui.dialog_buttons import ok_cancel
from layers import server_secrets
from layers.i18n import _
from layers.server import is_server_address


class ConnectDialog(QDialog):
    def __init__(self, last_address: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle(_("Connect to shared workspace"))
        layout = QVBoxLayout(self)
        about = QLabel(_("Lantern works on a copy of the shared workspace on this computer and keeps it in step "
                         "with the server: your changes are sent after each edit, others' arrive within seconds, "
                         "and you can go on working offline."))
        about.setWordWrap(True)
        layout.addWidget(about)
        form = QFormLayout()
        self.address = QLineEdit(last_address)
        self.address.setPlaceholderText("postgresql://ilze@server/district  ·  service=district")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(_("empty: from ~/.pgpass or the service file"))
        form.addRow(_("Server:"), self.address)
        form.addRow(_("Password:"), self.password)
        self.remember = QCheckBox(_("Remember the password in this computer's keyring"))
        if not server_secrets.available():
            self.remember.setEnabled(False)
            self.remember.setToolTip(_("This computer has no keyring: the password is used for this session only."))
        form.addRow("", self.remember)
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        layout.addWidget(ok_cancel(self, _("Connect"), self._accept))
        self.resize(560, 220)

    def _accept(self) -> None:
        if not is_server_address(self.address.text().strip()):
            self.problem.setText(_("Give the server as postgresql://USER@HOST/DATABASE or service=NAME."))
            return
        self.accept()

    def chosen(self) -> tuple[str, str | None, bool]:
        """The address as typed, the password (None when left empty), and whether to keep it in the keyring."""
        return self.address.text().strip(), self.password.text() or None, self.remember.isChecked()
