"""GUI fixtures: a main window on a copy of the demo, and a way to ask the page."""
from __future__ import annotations

import json

import pytest


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "lantern.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings):
    from gui.main_window import MainWindow

    windows = []

    def make(path=None):
        window = MainWindow(settings=settings)
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        if path is not None:
            with qtbot.waitSignal(window.map_view.mapReady, timeout=30000):
                assert window.open_workspace(path)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
    qtbot.wait(50)


@pytest.fixture
def demo_window(make_window, demo_copy):
    return make_window(demo_copy)


@pytest.fixture
def js(qtbot):
    """Run JS in a window's map and return its (JSON-decoded) result."""

    def run(window, code: str):
        # Only strings cross the bridge: PySide6 mishandles some JS values (arrays arrive as '', and
        # booleans have been seen to upset reference counts at interpreter exit).
        box = {}
        window.map_view.run_js(f"JSON.stringify({code})", lambda value: box.setdefault("value", value))
        qtbot.waitUntil(lambda: "value" in box, timeout=10000)
        value = json.loads(box["value"]) if box["value"] else None
        return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value

    return run
