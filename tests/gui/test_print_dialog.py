"""File → Print map…: the dialog's choices reach print_map, the printing runs in a worker, police needs its words."""
from PySide6.QtCore import Qt

from gui.print_dialog import PrintDialog
from mapping.print_map import view_extent


def test_print_the_current_view_in_a_worker(qtbot, session, tmp_path):
    extent = view_extent(60.1699, 24.9384, 16, 900, 700)
    dialog = PrintDialog(session, extent=extent, visible=["transport_hubs", "worksites"])
    qtbot.addWidget(dialog)
    assert dialog.current.isChecked() and dialog.chosen_extent() == extent
    assert dialog.chosen_layers() == ["transport_hubs", "worksites"]
    assert not dialog.print_button.isEnabled()  # no destination yet
    dialog.path.setText(str(tmp_path / "view.pdf"))
    dialog.format.setCurrentIndex(dialog.format.findData("png"))
    assert dialog.path.text().endswith("view.png")
    dialog.orientation.setCurrentIndex(dialog.orientation.findData("portrait"))
    dialog.title.setText("Station area")
    assert dialog.print_button.isEnabled() and "passed" in dialog.status.text()
    with qtbot.waitSignal(dialog.printed, timeout=60000) as printed:
        qtbot.mouseClick(dialog.print_button, Qt.MouseButton.LeftButton)
        assert not dialog.print_button.isEnabled()  # one print at a time
    assert printed.args[0] == [tmp_path / "view.png"]
    assert (tmp_path / "view.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert dialog.result() == PrintDialog.DialogCode.Accepted


def test_without_a_view_only_the_district(qtbot, session):
    dialog = PrintDialog(session)
    qtbot.addWidget(dialog)
    assert not dialog.current.isEnabled() and dialog.district.isChecked() and dialog.chosen_extent() is None


def test_police_needs_recipient_and_confirmation(qtbot, session, tmp_path):
    dialog = PrintDialog(session)
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "police.pdf"))
    dialog.profile.setCurrentIndex(dialog.profile.findData("police"))
    assert not dialog.print_button.isEnabled()
    dialog.recipient.setText("Liaison officer")
    assert not dialog.print_button.isEnabled()
    dialog.confirm.setText("RESTRICTED")
    assert dialog.print_button.isEnabled()
