"""An unexpected error is logged with its traceback and shown in a dialog that names the log."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QTimer

from layers import applog


@pytest.fixture
def crashes(qapp, tmp_path, monkeypatch):
    from gui.crash import CrashHandler

    monkeypatch.setenv("LANTERN_LOG_DIR", str(tmp_path / "logs"))
    applog.stop_logging()
    handler = CrashHandler()
    yield handler
    handler.uninstall()
    applog.stop_logging()
    if handler.dialog is not None:
        handler.dialog.close()


def _boom():
    raise ZeroDivisionError("planted failure")


@pytest.mark.qt_no_exception_capture
def test_an_error_in_the_event_loop_is_logged_and_shown(crashes, qtbot, tmp_path):
    log = tmp_path / "logs" / "lantern.log"
    with qtbot.waitSignal(crashes.shown, timeout=10000) as shown:
        QTimer.singleShot(0, _boom)  # a slot that raises, as a bug in a panel would
    box = shown.args[0]
    assert str(log) in box.text() and "planted failure" in box.text()
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "ZeroDivisionError: planted failure" in text and "_boom" in text


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_worker_thread_reaches_the_dialog_too(crashes, qtbot, tmp_path):
    with qtbot.waitSignal(crashes.shown, timeout=10000) as shown:
        threading.Thread(target=_boom, name="lantern-test-worker").start()
    assert "planted failure" in shown.args[0].text()
    assert "lantern-test-worker" in (tmp_path / "logs" / "lantern.log").read_text(encoding="utf-8")


def test_without_the_handler_nothing_is_logged(qapp, tmp_path, monkeypatch, qtbot):
    """Control: the log is the handler's doing (nothing else writes there)."""
    monkeypatch.setenv("LANTERN_LOG_DIR", str(tmp_path / "logs"))
    applog.stop_logging()
    import sys

    hook = sys.excepthook
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: seen.append(args))
    QTimer.singleShot(0, _boom)
    qtbot.waitUntil(lambda: bool(seen), timeout=10000)
    assert not (tmp_path / "logs" / "lantern.log").exists()
    assert hook is not None


def test_a_log_folder_that_cannot_be_written_is_not_fatal(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LANTERN_LOG_DIR", str(blocker / "logs"))
    applog.stop_logging()
    assert applog.start_logging() is None
    applog.log_exception(ValueError, ValueError("x"), None)  # no handler: nothing happens, nothing raises
