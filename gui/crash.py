"""The crash handler: an unexpected exception is logged with its traceback and shown in a dialog that names
the log, instead of vanishing into a terminal the user never sees."""
from __future__ import annotations

import sys
import threading
import traceback

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from layers.applog import log_exception, log_file, start_logging
from layers.i18n import _


class CrashHandler(QObject):
    """Installed as ``sys.excepthook`` and ``threading.excepthook``; ``shown`` carries each dialog (for tests)."""

    shown = Signal(object)  # the QMessageBox
    _report = Signal(str)  # from any thread: the error's one-line summary

    def __init__(self, parent=None):
        super().__init__(parent)
        self.log = start_logging() or log_file()
        self.dialog: QMessageBox | None = None
        self._report.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def excepthook(self, exc_type, exc, tb) -> None:
        self._handle(exc_type, exc, tb, "")

    def thread_excepthook(self, args) -> None:
        where = args.thread.name if args.thread is not None else ""
        self._handle(args.exc_type, args.exc_value, args.exc_traceback, where)

    def _handle(self, exc_type, exc, tb, where: str) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous[0](exc_type, exc, tb)
            return
        log_exception(exc_type, exc, tb, where)
        traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
        self._report.emit("".join(traceback.format_exception_only(exc_type, exc)).strip())

    def _show(self, summary: str) -> None:
        if QApplication.instance() is None:
            return
        if self.dialog is not None and self.dialog.isVisible():
            return  # one dialog at a time: a burst of errors is in the log
        self.dialog = QMessageBox(QMessageBox.Icon.Critical, _("Lantern met an unexpected error"),
                                  _("Something went wrong that Lantern did not expect:\n{error}\n\n"
                                    "Your workspace is safe: each change is saved in its own transaction. "
                                    "The details are in the log:\n{log}").format(error=summary, log=self.log),
                                  QMessageBox.StandardButton.Ok, QApplication.activeWindow())
        self.dialog.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.open()
        self.shown.emit(self.dialog)
