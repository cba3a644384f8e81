"""The one way the window's parts tell the user something.

Errors open a plain-text message box (never rich text: messages quote file
names and data); news goes to the status bar. Views get a Notifier and
never call each other to report.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox

from layers.errors import LanternError
from layers.i18n import _


class Notifier:
    """``notify(title, message)`` shows an error; ``notify.status(text)`` a passing message."""

    def __init__(self, window: QMainWindow):
        self.window = window
        self.last_error: str | None = None
        self.last_box: QMessageBox | None = None

    def __call__(self, title: str, message: str) -> None:
        self.last_error = message
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self.window)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()
        self.last_box = box

    def status(self, text: str, timeout_ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)


def do_command(session, notify, command) -> bool:
    """Run a command through the session's history; a refusal is shown, and nothing changes."""
    try:
        session.do(command)
    except (LanternError, ValueError, KeyError) as exc:
        notify(_("The change was not made"), str(exc))
        return False
    return True
