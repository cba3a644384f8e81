"""The workspace opens once the window is drawn and the start-up loading is done (or has taken too long)."""
from __future__ import annotations

import threading

import gui.app as app_module
import gui.map_view as map_view


def _held_warm_up(monkeypatch):
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="lantern-warm-up-test")
    thread.start()
    monkeypatch.setattr(map_view, "_warming", [thread])
    return release, thread


def test_the_opening_waits_for_the_warm_up(qapp, qtbot, monkeypatch):
    release, thread = _held_warm_up(monkeypatch)
    opened, told = [], []
    try:
        app_module.open_when_ready(lambda: opened.append("ws") or True, told.append)
        qtbot.wait(150)  # the event loop runs; the warm-up still holds
        assert opened == [] and map_view.warming()
    finally:
        release.set()
        thread.join()
    qtbot.waitUntil(lambda: opened == ["ws"], timeout=5000)
    assert told == [True]


def test_a_warm_up_that_takes_too_long_does_not_hold_the_opening(qapp, qtbot, monkeypatch):
    release, thread = _held_warm_up(monkeypatch)
    monkeypatch.setattr(app_module, "WARM_UP_WAIT_S", 0.2)
    opened = []
    try:
        app_module.open_when_ready(lambda: opened.append("ws") or False)
        qtbot.waitUntil(lambda: opened == ["ws"], timeout=5000)
        assert map_view.warming()  # opened while the warm-up was still running
    finally:
        release.set()
        thread.join()
