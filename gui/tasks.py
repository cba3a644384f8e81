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
