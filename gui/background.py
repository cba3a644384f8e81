"""Work done off the UI thread, answered on it.

A city's workspace turns simple questions (how many cases pass the filters, what is in rows
12,000–12,400) into scans of a million rows; asked on the UI thread, they freeze the window.
:class:`Background` runs them in worker threads and hands each answer back through a queued signal.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal


class Background(QObject):
    """A worker pool whose answers arrive on the UI thread as ``answered(ticket, result)``.

    ``result`` is the function's return value, or the exception it raised. The ticket is whatever the
    caller needs to know what the answer is for (and whether it is still wanted).

    Keep it unparented, held by the widget that uses it: Python owns it, and each pending job holds it
    alive, so a worker finishing after its widget was deleted emits on a live object and Qt drops the
    queued answer for the receiver that is gone (emitting on a deleted object crashes the process).
    """

    answered = Signal(object, object)  # ticket, result or exception

    def __init__(self, name: str, workers: int = 1):
        super().__init__()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self.started = 0  # jobs handed to the pool

    def submit(self, ticket: Any, fn: Callable, *args) -> None:
        """Run ``fn(*args)`` in a worker; its answer comes back as ``answered(ticket, result)``.

        The job reaches the pool once the UI thread is done with the event it is handling: opening a city
        starts several scans, and started at once they would take the CPU from the rest of the opening."""
        QTimer.singleShot(0, self, lambda: self._start(ticket, fn, args))

    def _start(self, ticket, fn: Callable, args) -> None:
        try:
            future = self._pool.submit(fn, *args)
        except RuntimeError:
            return  # shut down meanwhile (the window is closing): nobody waits for this answer
        self.started += 1

        def done(f: Future) -> None:
            if not f.cancelled():
                self.answered.emit(ticket, f.exception() or f.result())

        future.add_done_callback(done)

    def shutdown(self) -> None:
        """Drop the jobs not started (the one running finishes; its answer is still sent)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
