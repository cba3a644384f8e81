"""File → Connect to shared workspace…: a wrong address is named and the dialog stays; a password never
leaves it but through chosen()."""
from __future__ import annotations

from gui.connect_dialog import ConnectDialog


def test_a_wrong_address_is_named_and_the_dialog_stays(qtbot):
    dialog = ConnectDialog("")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.address.setText("district.gpkg")
    dialog._accept()
    assert dialog.isVisible() and "postgresql://" in dialog.problem.text()
    dialog.address.setText("postgresql://ilze@server/district")
    dialog.password.setText("pw")
    dialog._accept()
    assert not dialog.isVisible() and dialog.result() == ConnectDialog.DialogCode.Accepted
    assert dialog.chosen() == ("postgresql://ilze@server/district", "pw", False)


def test_without_a_keyring_remembering_is_offered_no_more(qtbot, monkeypatch):
    from layers import server_secrets

    monkeypatch.setattr(server_secrets, "available", lambda: False)
    dialog = ConnectDialog("")
    qtbot.addWidget(dialog)
    assert not dialog.remember.isEnabled() and "no keyring" in dialog.remember.toolTip()
    monkeypatch.setattr(server_secrets, "available", lambda: True)
    assert ConnectDialog("").remember.isEnabled()  # positive control
