"""GUI fixtures: a main window on a copy of the demo, and a way to ask the page."""
from __future__ import annotations

import json

import pytest

from gui.map_view import register_url_scheme

# the map's lantern:// scheme can only be registered before pytest-qt's qapp creates the QApplication
register_url_scheme()


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
            # mapReady = the page's first complete paint (layers added, two animation frames), not its load
            with qtbot.waitSignal(window.map_view.mapReady, timeout=30000):
                assert window.open_workspace(path)
            assert window.map_view.is_painted
        windows.append(window)
        return window

    yield make
    import shiboken6

    for window in windows:
        if shiboken6.isValid(window):
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


@pytest.fixture
def open_page(qtbot):
    """Load an HTML file in a fresh web view whose interceptor records every request; yields (page, guard)."""
    from PySide6.QtCore import QUrl
    from PySide6.QtWebEngineCore import QWebEngineProfile
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from gui.map_view import MapPage, RequestGuard

    opened = []

    def load(path):
        profile = QWebEngineProfile()
        guard = RequestGuard()
        profile.setUrlRequestInterceptor(guard)
        page = MapPage(profile)
        view = QWebEngineView()
        view.setPage(page)
        view.resize(900, 600)
        view.show()
        with qtbot.waitSignal(page.loadFinished, timeout=30000):
            page.load(QUrl.fromLocalFile(str(path)))
        opened.append((view, page, profile))
        return page, guard

    yield load
    for view, page, _profile in opened:
        view.setPage(None)
        page.deleteLater()
        view.deleteLater()
    qtbot.wait(50)


def add_cases(path, count: int, seed: int, folder) -> None:
    """Import ``count`` synthetic reported cases, spread over the workspace's extent, from a CSV."""
    import numpy as np
    import pandas as pd

    from layers.importers import import_file
    from layers.workspace import Workspace

    with Workspace.open(path) as ws:
        w, s, e, n = ws.bounds()
        rng = np.random.default_rng(seed)
        csv = folder / "cases.csv"
        pd.DataFrame({"lon": w + (e - w) * rng.random(count), "lat": s + (n - s) * rng.random(count),
                      "reported": rng.choice(["2024-03", "2025-06"], count), "forms": "labour",
                      "status": "potential"}).to_csv(csv, index=False)
        import_file(ws, csv, "reported_cases")
