"""The one way the window's parts tell the user something.

Errors open a plain-text message box (never rich text: messages quote file
names and data); news goes to the status bar. Views get a Notifier and
never call each other to report.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMainWindow, QMessageBox

from layers.errors import LanternError
from layers.i18n import _

MAX_NAMES = 8  # files named in a finished message; the rest are counted


def open_url(url: QUrl) -> bool:
    """Open a folder in the desktop's file manager (tests replace this to see the URL without opening it)."""
    return QDesktopServices.openUrl(url)


def output_folder(files) -> Path:
    """The folder that holds every output: their common parent (a written folder counts as its own)."""
    paths = [Path(f) for f in files]
    folders = [p if p.is_dir() else p.parent for p in paths]
    return Path(os.path.commonpath([str(f) for f in folders]))


class Notifier:
    """``notify(title, message)`` shows an error; ``notify.status(text)`` a passing message."""

    def __init__(self, window: QMainWindow):
        self.window = window
        self.last_error: str | None = None
        self.last_box: QMessageBox | None = None
        self.last_finished: QMessageBox | None = None  # the latest "done" message, with Open folder
        self.last_folder_url: QUrl | None = None

    def __call__(self, title: str, message: str) -> None:
        self.last_error = message
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self.window)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.open()
        self.last_box = box

    def status(self, text: str, timeout_ms: int = 8000) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)

    def finished(self, text: str, files) -> QMessageBox | None:
        """A long task wrote ``files``: say so in the status bar and in a non-modal box that names them
        and offers *Open folder*. ``last_folder_url`` is what the button opens."""
        self.status(text, 15000)
        if not files:
            return None
        folder = output_folder(files)
        names = [Path(f).name for f in files]
        listed = "\n".join(names[:MAX_NAMES]) + ("\n…" if len(names) > MAX_NAMES else "")
        where = "" if str(folder) in text else _("In {folder}:").format(folder=folder) + "\n"
        message = f"{text}\n\n{where}{listed}"
        box = QMessageBox(QMessageBox.Icon.Information, _("Done"), message, QMessageBox.StandardButton.NoButton,
                          self.window)
        box.setTextFormat(Qt.TextFormat.PlainText)  # file names are data, never markup
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        url = QUrl.fromLocalFile(str(folder))
        open_button = box.addButton(_("Open folder"), QMessageBox.ButtonRole.ActionRole)
        open_button.setAccessibleName(_("Open folder"))
        open_button.clicked.connect(lambda: open_url(url))
        box.addButton(QMessageBox.StandardButton.Close)
        box.show()
        self.last_finished, self.last_folder_url = box, url
        return box


def do_command(session, notify, command) -> bool:
    """Run a command through the session's history; a refusal is shown, and nothing changes."""
    try:
        session.do(command)
    except (LanternError, ValueError, KeyError) as exc:
        notify(_("The change was not made"), str(exc))
        return False
    return True
