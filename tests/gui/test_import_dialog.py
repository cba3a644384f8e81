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


def test_import_dialog_encoding_and_crs_settings(make_window, demo_copy, qtbot, tmp_path):
    from pyproj import Transformer

    from gui.import_dialog import ImportDialog
    from layers.importers import import_file

    window = make_window(demo_copy)
    name = "Stacija ā ē ī ū š ž č ķ ļ ņ ģ"  # a made-up place
    x, y = Transformer.from_crs(4326, 3059, always_xy=True).transform(24.1211, 56.9466)
    src = tmp_path / "lks.csv"
    src.write_bytes(f"x,y,name,hub_type\n{x:.2f},{y:.2f},{name},tram_stop\n".encode("cp1257"))
    dialog = ImportDialog(src, "transport_hubs", window)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled() and "EPSG:3059" in dialog.status.text()  # refused, with the remedy
    assert dialog.crs_combo.isEnabled() and dialog.encoding_combo.isEnabled()
    dialog.crs_combo.setCurrentIndex(dialog.crs_combo.findData("EPSG:3059"))
    assert ok.isEnabled(), dialog.status.text()
    assert "cp1257" in dialog.status.text()  # the detected encoding is a notice
    assert dialog.import_options() == {"encoding": None, "crs": "EPSG:3059"}
    dialog.encoding_combo.setCurrentIndex(dialog.encoding_combo.findData("utf-8"))
    assert not ok.isEnabled() and "lks.csv: cannot be read as utf-8" in dialog.status.text()
    dialog.encoding_combo.setCurrentIndex(dialog.encoding_combo.findData("cp1257"))
    assert ok.isEnabled() and "cp1257" not in dialog.status.text()
    dialog.crs_combo.setEditText("EPSG:99999")  # a typed code that does not exist
    dialog.crs_combo.lineEdit().editingFinished.emit()
    assert not ok.isEnabled() and "unknown coordinate system 'EPSG:99999'" in dialog.status.text()
    dialog.crs_combo.setEditText("EPSG:3059")
    dialog.crs_combo.lineEdit().editingFinished.emit()
    assert ok.isEnabled() and dialog.crs == "EPSG:3059"
    ws = window.session.workspace
    report = import_file(ws, src, dialog.kind_id, dialog.layer, dialog.mapping(), **dialog.import_options())
    layer = ws.read_layer("transport_hubs")
    assert report.count == 1 and layer["name"].iloc[-1] == name
    assert abs(layer.geometry.iloc[-1].x - 24.1211) < 1e-6 and abs(layer.geometry.iloc[-1].y - 56.9466) < 1e-6


def test_import_dialog_disables_crs_for_files_that_declare_it(make_window, demo_copy, qtbot, tmp_path):
    import geopandas as gpd
    import shapely

    from gui.import_dialog import ImportDialog

    window = make_window(demo_copy)
    src = tmp_path / "hubs.geojson"
    gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.Point(24.1, 56.9)], crs=4326).to_file(src)
    dialog = ImportDialog(src, "transport_hubs", window)
    qtbot.addWidget(dialog)
    assert not dialog.crs_combo.isEnabled() and not dialog.encoding_combo.isEnabled()
    assert dialog.import_options() == {"encoding": None, "crs": None}


def test_the_window_imports_with_the_dialogs_encoding_and_crs(make_window, demo_copy, qtbot, tmp_path, monkeypatch):
    """File → Import: what the dialog was set to reaches the import (an LKS-92 CSV lands where it should)."""
    from pyproj import Transformer

    import gui.file_controller as controller
    from gui.import_dialog import ImportDialog

    window = make_window(demo_copy)
    x, y = Transformer.from_crs(4326, 3059, always_xy=True).transform(24.1211, 56.9466)
    src = tmp_path / "lks.csv"
    src.write_bytes(f"x,y,name,hub_type\n{x:.2f},{y:.2f},Tilts ā,tram_stop\n".encode("cp1257"))

    class Chosen(ImportDialog):  # the user picks LKS-92 and Windows-1257, then OK
        def __init__(self, *args):
            super().__init__(*args)
            self.crs_combo.setCurrentIndex(self.crs_combo.findData("EPSG:3059"))
            self.encoding_combo.setCurrentIndex(self.encoding_combo.findData("cp1257"))

    monkeypatch.setattr(controller, "ImportDialog", Chosen)
    before = window.session.workspace.count("transport_hubs")
    assert window.files.import_file(src, "transport_hubs", interactive=False)
    layer = window.session.workspace.read_layer("transport_hubs")
    assert window.session.workspace.count("transport_hubs") == before + 1
    assert layer["name"].iloc[-1] == "Tilts ā"
    assert abs(layer.geometry.iloc[-1].x - 24.1211) < 1e-6 and abs(layer.geometry.iloc[-1].y - 56.9466) < 1e-6

    # positive control: without the dialog's settings the same file is refused, and nothing is added
    monkeypatch.setattr(controller, "ImportDialog", ImportDialog)
    messages = []
    monkeypatch.setattr(window.files, "notify", lambda *args: messages.append(args))
    assert not window.files.import_file(src, "transport_hubs", interactive=False)
    assert window.session.workspace.count("transport_hubs") == before + 1
    assert messages and "EPSG:3059" in str(messages[-1])
