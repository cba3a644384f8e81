"""--demo opens a fresh copy each time, and File → Reset demo restores the demo in the window."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtWidgets import QMessageBox

from audit import demo
from audit.annotations import all_annotations
from layers.workspace import Workspace

pytestmark = pytest.mark.gui


@pytest.fixture
def cache(tmp_path, demo_file, monkeypatch):
    """An empty demo cache whose builds copy the session's demo (building it from OSM each time is slow)."""
    def build(path, overwrite=True):
        shutil.copyfile(demo_file, path)
        return Workspace.open(path)

    monkeypatch.setattr(demo, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(demo, "build_demo", build)
    yield
    demo.discard_all_copies()  # pytest leaves with os._exit: no atexit


def _count(ws) -> int:
    return sum(len(notes) for notes in all_annotations(ws).values())


def _annotate(window) -> None:
    fid = int(window.session.frames["places_of_concern"].index[0])
    form = window.audit.open_annotation_form("places_of_concern", fid, interactive=False)
    form.set_checked({"gen_minor"})
    form.author_edit.setText("Tester")
    form.note_edit.setPlainText("a test annotation")
    form.accept()
    assert form.result() == form.DialogCode.Accepted, form.error_label.text()


def test_an_annotation_made_in_the_demo_is_gone_when_the_demo_starts_again(cache, make_window):
    from gui.app import workspace_to_open

    cached = str(demo.cached_demo_path())  # what main.py --demo passes to the app
    first = workspace_to_open(cached)
    assert first != cached and demo.is_demo_copy(first)
    window = make_window(first)
    original = _count(window.session.workspace)
    _annotate(window)
    assert _count(window.session.workspace) == original + 1
    window.close()
    again = make_window(workspace_to_open(cached))
    assert _count(again.session.workspace) == original
    assert workspace_to_open("/somewhere/else.gpkg") == "/somewhere/else.gpkg"  # other workspaces open as they are


def test_file_reset_demo_restores_the_demo(cache, make_window, qtbot, monkeypatch):
    window = make_window(demo.fresh_demo_copy())
    used = window.session.workspace.path
    original = _count(window.session.workspace)
    _annotate(window)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.map_view.mapReady, timeout=30000):
        window.actions["reset_demo"].trigger()
    assert asked, "changes to the demo are discarded only when the user agrees"
    assert _count(window.session.workspace) == original
    assert window.session.workspace.path != used and not used.parent.exists()
    assert "fresh copy of the demo" in window.statusBar().currentMessage()


def test_reset_demo_asks_nothing_when_nothing_changed_and_keeps_a_refused_demo(cache, make_window, qtbot,
                                                                                 monkeypatch):
    window = make_window(demo.fresh_demo_copy())
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked without changes"))
    with qtbot.waitSignal(window.map_view.mapReady, timeout=30000):
        window.actions["reset_demo"].trigger()
    _annotate(window)
    kept = window.session.workspace.path
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    window.actions["reset_demo"].trigger()
    assert window.session.workspace.path == kept and kept.exists()
