"""A window holds its workspace (one writer) and notices when the file changes on disk (issue 11, item 4)."""
from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from layers import migrations
from layers.workspace import Workspace
from tests.conftest import file_digest

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


def test_a_window_holds_the_workspace_and_a_cli_import_is_refused(demo_window, tmp_path):
    path = demo_window.session.workspace.path
    src = tmp_path / "hubs.csv"
    src.write_text("name,hub_type,lon,lat\nStop,bus_station,24.94,60.17\n", encoding="utf-8")
    before = file_digest(path)
    env = dict(os.environ, LANTERN_LOCK_WAIT="0.5")
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "import", str(src), "--kind", "transport_hubs",
                           "--into", str(path)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "database is locked" not in done.stderr
    assert f"process {os.getpid()} on {socket.gethostname()}" in done.stderr and "Lantern window" in done.stderr
    assert file_digest(path) == before
    # reading is not blocked by the window: check and public exports work
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "check", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_second_window_opens_read_only_and_says_who_holds_it(demo_window, make_window, monkeypatch):
    monkeypatch.setenv("LANTERN_LOCK_WAIT", "0.2")
    second = make_window(demo_window.session.workspace.path)
    assert second.session.workspace.read_only and "Lantern window" in second.session.workspace.read_only
    assert "read-only" in second.windowTitle()
    assert "read-only" in second.statusBar().currentMessage()


def test_the_window_reloads_when_the_file_changes_on_disk(demo_window, qtbot):
    path = demo_window.session.workspace.path
    n = demo_window.session.workspace.count("transport_hubs")
    with sqlite3.connect(path) as conn:  # another program (QGIS, sqlite3) deletes a hub
        conn.execute("DELETE FROM transport_hubs WHERE fid = (SELECT min(fid) FROM transport_hubs)")
    qtbot.waitUntil(lambda: len(demo_window.session.frames["transport_hubs"]) == n - 1, timeout=10000)
    assert "changed by another program" in demo_window.statusBar().currentMessage()


def test_a_newer_schema_shows_read_only_in_title_and_status_bar(make_window, demo_copy):
    with sqlite3.connect(demo_copy) as conn:
        conn.execute("UPDATE workspace_meta SET value = ? WHERE key = 'schema_version'",
                     (str(migrations.latest_version() + 1),))
    window = make_window(demo_copy)
    assert "read-only" in window.windowTitle()
    assert "newer version of Lantern" in window.statusBar().currentMessage()
