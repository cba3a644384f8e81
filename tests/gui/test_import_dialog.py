"""The import dialog: a constant value per field, and skipping rows that cannot be imported."""
import pytest

pytestmark = pytest.mark.gui


def test_constant_value_and_skip_invalid_in_the_import_dialog(make_window, demo_copy, qtbot, tmp_path):
    from gui.import_dialog import ImportDialog

    window = make_window(demo_copy)
    src = tmp_path / "sites.csv"
    src.write_text("lon,lat,name\n24.94,60.17,Site A\n24.95,nan,Site B\n24.96,60.18,Site C\n")
    dialog = ImportDialog(src, "worksites", window)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled() and "row 2:" in dialog.status.text()
    dialog.skip_invalid_box.setChecked(True)
    assert ok.isEnabled(), dialog.status.text()
    assert "sector" in dialog.status.text() and "'other'" in dialog.status.text()  # the default, with a notice
    assert "sites.csv.skipped.csv" in dialog.status.text()
    row = [dialog.constants_table.item(r, 0).data(256) for r in range(dialog.constants_table.rowCount())].index("sector")
    combo = dialog.constants_table.cellWidget(row, 1)
    combo.setCurrentIndex(combo.findData("construction"))
    assert dialog.constants() == {"sector": "construction"}
    assert "'other'" not in dialog.status.text()
    from layers.importers import import_file

    before = window.session.workspace.count("worksites")
    report = import_file(window.session.workspace, src, dialog.kind_id, dialog.layer, dialog.mapping(),
                         constants=dialog.constants(), skip_invalid=dialog.skip_invalid)
    assert report.count == 2 and window.session.workspace.count("worksites") == before + 2
    assert set(window.session.workspace.read_layer("worksites")["sector"].iloc[-2:]) == {"construction"}
