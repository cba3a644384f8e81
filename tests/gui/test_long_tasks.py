"""Long work in the window: one progress helper (progress, cancel, failure) and a finished message that names
the output and offers Open folder (the URL is recorded, nothing is opened)."""
import threading

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QPushButton

pytestmark = pytest.mark.gui


@pytest.fixture
def opened(monkeypatch):
    """Open folder's URLs, recorded instead of opened."""
    urls = []
    monkeypatch.setattr("gui.notify.open_url", lambda url: urls.append(url) or True)
    return urls


def _open_folder(box) -> None:
    next(b for b in box.findChildren(QPushButton) if b.text() == "Open folder").click()


def test_progress_then_result_and_closing_does_not_cancel(qtbot):
    from PySide6.QtWidgets import QWidget

    from gui.tasks import run_with_progress

    parent, release, got, errors = QWidget(), threading.Event(), [], []
    qtbot.addWidget(parent)

    def work(progress, cancelled):
        progress(0.5, "half way")
        release.wait(30)
        return 42

    task = run_with_progress(parent, "Working…", work, on_done=got.append,
                             notifier=lambda *a: errors.append(a), failure_title="failed")
    dialog = task.progress_dialog
    qtbot.waitUntil(lambda: dialog.labelText() == "half way")
    assert (dialog.maximum(), dialog.value()) == (100, 50)  # the busy bar became a percentage
    with qtbot.waitSignal(task.succeeded, timeout=30000):
        release.set()
    assert got == [42] and errors == [] and not task.cancel_requested and not dialog.isVisible()


def test_cancel_drops_the_result(qtbot):
    from PySide6.QtWidgets import QWidget

    from gui.tasks import run_with_progress

    parent, started, got = QWidget(), threading.Event(), []
    qtbot.addWidget(parent)

    def work(progress, cancelled):
        started.set()
        for _ in range(3000):  # the worker polls (at most 30 s); the test waits for signals
            if cancelled():
                break
            threading.Event().wait(0.01)
        return "late result"

    task = run_with_progress(parent, "Working…", work, on_done=got.append, notifier=print, failure_title="x")
    qtbot.waitUntil(started.is_set)
    with qtbot.waitSignal(task.succeeded, timeout=30000):
        task.progress_dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    assert task.cancel_requested and got == []


def test_failure_is_reported_and_staged_work_has_no_cancel_button(qtbot):
    from PySide6.QtWidgets import QWidget

    from gui.tasks import run_with_progress

    parent, errors = QWidget(), []
    qtbot.addWidget(parent)

    def work(progress, cancelled):
        raise ValueError("the disk is full")

    task = run_with_progress(parent, "Writing…", work, on_done=print, notifier=lambda *a: errors.append(a),
                             failure_title="Export failed", cancellable=False)
    assert task.progress_dialog.findChildren(QPushButton) == []
    with qtbot.waitSignal(task.failed, timeout=30000):
        pass
    assert errors == [("Export failed", "the disk is full")]


def test_share_export_ends_with_the_files_and_open_folder(demo_window, qtbot, tmp_path, opened):
    from gui.export_dialog import ExportDialog

    dialog = ExportDialog(demo_window.session, demo_window)
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    dialog.path.setText(str(tmp_path / "share"))
    task = demo_window.files.run_share(dialog.export_job())
    with qtbot.waitSignal(task.succeeded, timeout=60000):
        pass
    box = demo_window.notify.last_finished
    assert box.isVisible() and not box.isModal()
    written = sorted(p.name for p in (tmp_path / "share").iterdir())
    assert written and all(name in box.text() for name in written[:8]) and str(tmp_path / "share") in box.text()
    assert opened == []
    _open_folder(box)
    assert opened == [QUrl.fromLocalFile(str(tmp_path / "share"))]


def test_report_names_both_files_and_opens_their_folder(demo_window, qtbot, tmp_path, opened):
    task = demo_window.files.export_report(tmp_path / "out" / "report.pdf", "en", "public")
    with qtbot.waitSignal(task.succeeded, timeout=120000):
        pass
    box = demo_window.notify.last_finished
    assert "report.pdf" in box.text() and "report.html" in box.text()
    _open_folder(box)
    assert opened == [QUrl.fromLocalFile(str(tmp_path / "out"))]


def test_outreach_export_names_its_five_files(demo_window, qtbot, tmp_path, opened):
    panel = demo_window.outreach_panel
    panel.k.setValue(2)
    with qtbot.waitSignal(panel.run().succeeded, timeout=60000):
        pass
    task = panel.export(out_dir=str(tmp_path / "plan"))
    with qtbot.waitSignal(task.succeeded, timeout=60000):
        pass
    box = demo_window.notify.last_finished
    for name in ("outreach.html", "outreach.pdf", "outreach.png", "sites.csv", "sites.gpkg"):
        assert name in box.text()
    assert str(tmp_path / "plan") in demo_window.statusBar().currentMessage()
    _open_folder(box)
    assert opened == [QUrl.fromLocalFile(str(tmp_path / "plan"))]
