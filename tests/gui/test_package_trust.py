"""The window's question before the first package from a new key: fingerprint and municipality, as plain text."""
from __future__ import annotations

import pytest

from layers.workspace import Workspace

HOSTILE_NAME = '<b>Riga</b><img src=x onerror="window.__xss=1">'


@pytest.fixture
def riga_package(demo_copy, tmp_path, monkeypatch):
    """A package signed by another installation (its own key folder) whose name carries HTML."""
    from layers.keys import installation_key
    from mapping.share_export import export

    riga_keys = tmp_path / "riga_keys"
    monkeypatch.setenv("LANTERN_KEY_DIR", str(riga_keys))
    with Workspace.open(demo_copy) as ws:
        ws.set_metadata("name", HOSTILE_NAME)
        export(ws, "public", "gpkg", tmp_path / "riga.gpkg")
    fingerprint = installation_key(riga_keys).public.fingerprint
    monkeypatch.setenv("LANTERN_KEY_DIR", str(tmp_path / "my_keys"))  # the receiver from here on
    return tmp_path / "riga.gpkg", fingerprint


def test_first_import_from_a_new_key_asks(make_window, riga_package, tmp_path, qtbot, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from layers import trust

    package, fingerprint = riga_package
    mine = tmp_path / "mine.gpkg"
    Workspace.create(mine, name="Neighbour").close()
    w = make_window(mine)
    asked, answers = [], [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]

    def fake_exec(box):
        asked.append((box.text(), box.textFormat(), box.defaultButton() is box.button(QMessageBox.StandardButton.No)))
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    monkeypatch.setattr(QMessageBox, "open", lambda box: None)  # the refusal's message box
    # "No": refused, nothing written, nothing trusted
    assert not w.files.import_package_file(package)
    text, fmt, default_no = asked[0]
    assert fingerprint in text and HOSTILE_NAME in text and package.name in text
    assert fmt == Qt.TextFormat.PlainText and default_no  # shown as text, never HTML; "No" is the default
    assert "not trusted" in w.last_error and trust.trusted_keys() == []
    assert not [i for i in w.layer_panel.layer_ids() if i.startswith("partner_")]
    # "Yes": imported, and the key is remembered under the municipality's name
    with qtbot.waitSignal(w.map_view.mapReady, timeout=30000):
        assert w.files.import_package_file(package)
    assert [i for i in w.layer_panel.layer_ids() if i.startswith("partner_")]
    assert [(t.fingerprint, t.municipality) for t in trust.trusted_keys()] == [(fingerprint, HOSTILE_NAME)]
    # the next package from the same key is not asked about
    other = tmp_path / "other.gpkg"
    Workspace.create(other).close()
    with qtbot.waitSignal(w.map_view.mapReady, timeout=30000):
        assert w.open_workspace(other)
    with qtbot.waitSignal(w.map_view.mapReady, timeout=30000):
        assert w.files.import_package_file(package)
    assert len(asked) == 2
