"""Two windows edit the same district on a real PostgreSQL/PostGIS server and each sees the other's changes.

The windows open the server's address as a user would (`lantern postgresql://…`): each makes its own copy
and keeps it in step, syncing after its edits and when the server says the other committed. A row changed in
both is never overwritten silently: the conflict dialog asks.
"""
from __future__ import annotations

import psycopg
import pytest

from audit.commands import UpdateRow
from layers import server_transfer


@pytest.fixture
def server(demo_copy, pg_db):
    server_transfer.push(demo_copy, pg_db, author="Tester")
    return pg_db


def _open_shared(qtbot, make_window, server, monkeypatch, tmp_path, name):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / name))  # each window: its own installation's copy
    window = make_window()
    window.session.author = name
    window.open_workspace(server)
    qtbot.waitUntil(lambda: window.shared.link is not None, timeout=60000)
    return window


def _name(window, fid):
    return window.session.workspace.db.conn.execute("SELECT name FROM worksites WHERE fid = ?", (fid,)).fetchone()[0]


def _server_name(server, fid):
    with psycopg.connect(server) as pg:
        return pg.execute("SELECT name FROM worksites WHERE fid = %s", (fid,)).fetchone()[0]


def test_each_window_sees_the_others_committed_change(qtbot, make_window, server, monkeypatch, tmp_path):
    anna = _open_shared(qtbot, make_window, server, monkeypatch, tmp_path, "Anna")
    berzins = _open_shared(qtbot, make_window, server, monkeypatch, tmp_path, "Berzins")
    assert anna.session.workspace.path != berzins.session.workspace.path
    assert "shared: lantern_test_admin@" in anna.windowTitle()  # named by its server, not the copy's file
    fid = anna.session.workspace.db.conn.execute("SELECT min(fid) FROM worksites").fetchone()[0]

    anna.session.do(UpdateRow("worksites", fid, {"name": "Seen by Anna"}))
    qtbot.waitUntil(lambda: _server_name(server, fid) == "Seen by Anna", timeout=15000)  # sent after the edit
    qtbot.waitUntil(lambda: _name(berzins, fid) == "Seen by Anna", timeout=15000)  # heard and received
    assert "in step" in berzins.shared.label.text()

    berzins.session.do(UpdateRow("worksites", fid, {"name": "Then Berzins"}))
    qtbot.waitUntil(lambda: _name(anna, fid) == "Then Berzins", timeout=15000)
    assert anna.session.frames.get("worksites").loc[fid, "name"] == "Then Berzins"  # the views read it again


def test_a_row_changed_in_both_windows_is_decided_in_the_conflict_dialog(qtbot, make_window, server, monkeypatch,
                                                                           tmp_path):
    anna = _open_shared(qtbot, make_window, server, monkeypatch, tmp_path, "Anna")
    berzins = _open_shared(qtbot, make_window, server, monkeypatch, tmp_path, "Berzins")
    fid = anna.session.workspace.db.conn.execute("SELECT min(fid) FROM worksites").fetchone()[0]
    berzins.session.busy = True  # Berzins' window does not sync for a moment (as when offline)
    anna.session.do(UpdateRow("worksites", fid, {"name": "Anna's"}))
    qtbot.waitUntil(lambda: _server_name(server, fid) == "Anna's", timeout=15000)
    berzins.session.history.do(UpdateRow("worksites", fid, {"name": "Berzins'"}))
    berzins.session.busy = False

    berzins.shared.sync_now()
    dialog = berzins.shared.conflict_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert dialog.table.rowCount() == 1
    assert "Berzins'" in dialog.table.item(0, 1).text() and "Anna's" in dialog.table.item(0, 1).text()
    assert _server_name(server, fid) == "Anna's"  # nothing was overwritten while the dialog asks
    dialog.choose_all("mine")
    dialog.accept()
    qtbot.waitUntil(lambda: _server_name(server, fid) == "Berzins'", timeout=15000)
    qtbot.waitUntil(lambda: _name(anna, fid) == "Berzins'", timeout=15000)
    assert "in step" in berzins.shared.label.text()


class _MemoryKeyring:
    """A keyring backend in memory (the test machine has none)."""

    def __new__(cls):
        from keyring.backend import KeyringBackend

        class Memory(KeyringBackend):
            priority = 1
            stored: dict = {}

            def get_password(self, service, user):
                return self.stored.get((service, user))

            def set_password(self, service, user, password):
                self.stored[(service, user)] = password

            def delete_password(self, service, user):
                self.stored.pop((service, user), None)

        return Memory()


def _files_holding(folder, secret: bytes) -> list:
    return [p for p in folder.rglob("*") if p.is_file() and secret in p.read_bytes()]


def test_a_typed_password_goes_to_the_keyring_and_nowhere_else(qtbot, make_window, server, monkeypatch, tmp_path,
                                                                 settings):
    import keyring
    import psycopg.conninfo

    from layers import server_secrets

    secret = "S3cret-Pw-9f1c"
    memory = _MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(memory)
    server_secrets._CACHE.clear()
    try:
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
        parts = psycopg.conninfo.conninfo_to_dict(server)
        address = f"postgresql://{parts['user']}:{secret}@/{parts['dbname']}?host={parts['host']}"
        window = make_window()
        window.shared.open_address(address, None, remember=True)  # typed into the address itself, even
        qtbot.waitUntil(lambda: window.shared.link is not None, timeout=60000)
        window.session.do(UpdateRow("worksites", window.session.workspace.db.conn.execute(
            "SELECT min(fid) FROM worksites").fetchone()[0], {"name": "Synced with a password"}))
        qtbot.waitUntil(lambda: window.shared.link.waiting() == 0, timeout=15000)
        settings.sync()
        assert secret in memory.stored.values()  # positive control: it was kept, in the keyring
        assert _files_holding(tmp_path, secret.encode()) == []  # not in the settings, the copy or any log
        (tmp_path / "probe.txt").write_text(f"x{secret}x")
        assert _files_holding(tmp_path, secret.encode()) == [tmp_path / "probe.txt"]  # the scan sees one
    finally:
        keyring.set_keyring(previous)
        server_secrets._CACHE.clear()


def test_offline_the_window_works_on_and_sends_what_waited_once_back(qtbot, make_window, server, monkeypatch,
                                                                      tmp_path):
    window = _open_shared(qtbot, make_window, server, monkeypatch, tmp_path, "Anna")
    link = window.shared.link
    reachable = link.address
    link.address = f"host={tmp_path} port=1 dbname=nowhere user=anna"  # the network is gone
    fid = window.session.workspace.db.conn.execute("SELECT min(fid) FROM worksites").fetchone()[0]
    window.session.do(UpdateRow("worksites", fid, {"name": "Edited offline"}))
    qtbot.waitUntil(lambda: "offline" in window.shared.label.text(), timeout=15000)
    assert "1 change waits" in window.shared.label.text()
    assert _name(window, fid) == "Edited offline"  # the copy has it; nothing was lost
    assert _server_name(server, fid) != "Edited offline"
    link.address = reachable  # back online: the next sync (here: asked for, F9) sends what waited
    window.actions["sync_shared"].trigger()
    qtbot.waitUntil(lambda: _server_name(server, fid) == "Edited offline", timeout=15000)
    assert "in step" in window.shared.label.text()
