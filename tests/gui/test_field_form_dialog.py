"""Tools → Field form for phones…: the dialog writes the form's files in a worker and names them when done."""
import csv
import io

import pytest
from PySide6.QtWidgets import QMessageBox

pytestmark = pytest.mark.gui


def test_the_tools_menu_offers_the_field_form(demo_window):
    action = demo_window.actions["field_form"]
    assert action.isEnabled() and action in demo_window.menuBar().actions()[3].menu().actions()


def test_the_dialog_writes_the_form_and_names_the_files(demo_window, qtbot, tmp_path):
    dialog = demo_window.tools.open_field_form(interactive=False)
    dialog.place_type.setCurrentIndex(dialog.place_type.findData("street"))
    dialog.langs.setCurrentIndex(dialog.langs.findData("en,lv"))
    dialog.folder.setText(str(tmp_path / "form"))
    dialog.accept()  # an empty destination: nothing to ask
    assert dialog.result() == dialog.DialogCode.Accepted and dialog.overwrite is False
    task = demo_window.tools.write_field_form(dialog)
    notify = demo_window.notify
    qtbot.waitUntil(lambda: notify.last_finished is not None or notify.last_error is not None, timeout=60000)
    assert demo_window.notify.last_error is None, demo_window.notify.last_error
    names = sorted(p.name for p in (tmp_path / "form").iterdir())
    assert names == ["basemap.mbtiles", "lantern-field-street.xlsx", "lantern-field-street.xml", "places.csv"]
    assert dialog.with_map.isChecked()  # the offline map is written by default, beside the form
    box = demo_window.notify.last_finished
    assert all(n in box.text() for n in names) and task.cancel_requested is False
    xml = (tmp_path / "form" / "lantern-field-street.xml").read_text(encoding="utf-8")
    assert 'lang="English (en)" default="true()"' in xml  # the order chosen in the dialog
    rows = list(csv.reader(io.StringIO((tmp_path / "form" / "places.csv").read_text(encoding="utf-8"))))
    assert rows[0][0] == "name" and len(rows) > 100


def test_a_folder_that_is_not_empty_is_replaced_only_when_agreed(demo_window, qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "form"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    answers = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answers.pop(0))
    dialog = demo_window.tools.open_field_form(interactive=False)
    dialog.folder.setText(str(folder))
    answers.append(QMessageBox.StandardButton.No)
    dialog.accept()
    assert dialog.result() != dialog.DialogCode.Accepted
    answers.append(QMessageBox.StandardButton.Yes)
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted and dialog.overwrite is True
    demo_window.tools.write_field_form(dialog)
    qtbot.waitUntil(lambda: demo_window.notify.last_finished is not None, timeout=60000)
    assert (folder / "lantern-field-all.xml").is_file() and (folder / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_the_offline_map_can_be_left_out(demo_window, qtbot, tmp_path):
    dialog = demo_window.tools.open_field_form(interactive=False)
    dialog.folder.setText(str(tmp_path / "form"))
    dialog.with_map.setChecked(False)
    dialog.accept()
    demo_window.tools.write_field_form(dialog)
    notify = demo_window.notify
    qtbot.waitUntil(lambda: notify.last_finished is not None or notify.last_error is not None, timeout=60000)
    assert notify.last_error is None, notify.last_error
    assert "basemap.mbtiles" not in {p.name for p in (tmp_path / "form").iterdir()}
