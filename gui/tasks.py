"""Long work off the GUI thread, with progress and cancel.

The work is a plain function ``fn(progress, cancelled)`` from the library
(``progress(fraction, message)``, ``cancelled() -> bool``); only this module
knows about threads. Progress and results reach the GUI as queued signals.
"""
from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, QThread, Signal


class _Runner(QObject):
    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, fn):
        super().__init__()
        self._fn = fn
        self.cancel_event = threading.Event()  # set from the GUI thread, read by the work

    def run(self) -> None:
        try:
            result = self._fn(self.progressed.emit, self.cancel_event.is_set)
        except BaseException as exc:  # reported to the GUI, never lost in the thread
            exc.formatted = traceback.format_exc()
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)


class Task(QObject):
    """Runs ``fn`` in a QThread. Signals: progressed(fraction, message), succeeded(result), failed(exception)."""

    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, fn, parent=None):
        super().__init__(parent)
        self._thread = QThread()
        self._runner = _Runner(fn)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.progressed.connect(self.progressed)
        self._runner.succeeded.connect(self._on_succeeded)
        self._runner.failed.connect(self._on_failed)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._runner.cancel_event.set()

    @property
    def cancel_requested(self) -> bool:
        return self._runner.cancel_event.is_set()

    def _finish(self) -> None:
        self._thread.quit()
        self._thread.wait()
        self.done.emit()

    def _on_succeeded(self, result) -> None:
        self._finish()
        self.succeeded.emit(result)

    def _on_failed(self, exc) -> None:
        self._finish()
        self.failed.emit(exc)


def run_with_progress(parent, label: str, fn, *, on_done, notifier, failure_title: str,
                      cancellable: bool = True, owner: QObject | None = None) -> Task:
    """Run ``fn(progress, cancelled)`` in a Task behind a window-modal progress dialog.

    The dialog shows a busy bar until ``fn`` reports progress, then a percentage. On success
    ``on_done(result)`` runs after the dialog closed, unless the user cancelled; a failure goes to
    ``notifier(failure_title, message)``. Work that stages its files and moves them in at the end is
    not ``cancellable``: the dialog has no Cancel button. The dialog is ``task.progress_dialog``.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QProgressDialog

    from layers.i18n import _

    dialog = QProgressDialog(label, _("Cancel"), 0, 0, parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)  # reaching 100 % is not the end: the result still has to arrive
    dialog.setAutoReset(False)
    task = Task(fn, owner or parent)
    task.progress_dialog = dialog
    if cancellable:
        dialog.canceled.connect(task.cancel)
    else:
        dialog.setCancelButton(None)
    task.progressed.connect(lambda fraction, message: _show_progress(dialog, fraction, message))

    def close() -> bool:
        cancelled = task.cancel_requested
        if cancellable:
            dialog.canceled.disconnect(task.cancel)  # close() emits canceled: it must not cancel a finished task
        dialog.close()
        return cancelled

    task.succeeded.connect(lambda result: None if close() else on_done(result))
    task.failed.connect(lambda exc: None if close() else notifier(failure_title, str(exc)))  # a cancel is no failure
    task.start()
    return task


def _show_progress(dialog, fraction: float, message: str) -> None:
    if dialog.maximum() == 0:  # the first report turns the busy bar into a percentage
        dialog.setRange(0, 100)
    dialog.setValue(int(fraction * 100))
    if message:
        dialog.setLabelText(message)
