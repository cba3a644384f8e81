"""Sharing from the window: the export dialog, police confirmation, partner packages, hostile content."""
import pytest
from PySide6.QtCore import QUrl

from audit.annotations import annotate, annotation_values, new_place
from audit.commands import History
from layers.workspace import Workspace

pytestmark = pytest.mark.gui

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def _probe(js, window_or_page):
    return js(window_or_page, "String(window.__xss === undefined ? 'clean' : window.__xss)")


def test_hostile_names_do_not_execute_in_the_app_map(make_window, demo_copy, js, qtbot):
    with Workspace.open(demo_copy) as ws:
        History(ws, "A").do(new_place("places_of_concern", 24.944, 60.169, {"name": XSS, "category": "clinic"}))
    w = make_window(demo_copy)
    # open every tooltip so that the hostile text is put into the page
    js(w, "(function(){var n=0; for (var k in window) { var m = window[k]; if (m && m.eachLayer && m.getZoom) "
          "{ m.eachLayer(function(l){ if (l.openTooltip && l.getTooltip && l.getTooltip()) { l.openTooltip(); n++; } }); } } return n; })()")
    qtbot.wait(300)
    assert _probe(js, w) == "clean"
    assert js(w, "document.querySelectorAll('[onerror], img[src=\"x\"]').length") == 0  # no element was made
    assert js(w, "document.body.textContent.indexOf('window.__xss=1') >= 0") is True  # shown as text


def test_exported_police_html_does_not_execute_notes(demo_copy, tmp_path, qtbot, open_page):
    from mapping.share_export import export

    with Workspace.open(demo_copy) as ws:
        fid = int(ws.read_layer("places_of_concern").index[0])
        History(ws, "A").do(annotate(annotation_values(
            "places_of_concern", fid, indicators_seen=["gen_controlled"], observed="2026-02-01", confidence="low",
            source="ngo", author="A", note=XSS)))
        export(ws, "police", "html", tmp_path / "police.html", recipient="Inspector", confirm_police=True)
    html = (tmp_path / "police.html").read_text(encoding="utf-8")
    assert "RESTRICTED" in html and "window.__xss=1" in html  # the note is in the file…
    page, guard = open_page(tmp_path / "police.html")
    box = {}
    page.runJavaScript("String((function(){var n=0; for (var k in window) { var m = window[k]; if (m && m.eachLayer && m.getZoom) "
                       "{ m.eachLayer(function(l){ if (l.openTooltip && l.getTooltip && l.getTooltip()) { l.openTooltip(); n++; } }); } }"
                       " return n; })())", 0, lambda v: box.setdefault("n", v))
    qtbot.waitUntil(lambda: "n" in box, timeout=5000)
    qtbot.wait(300)
    page.runJavaScript("String(window.__xss === undefined ? 'clean' : window.__xss) + '|' + "
                       "(document.body.textContent.indexOf('window.__xss=1') >= 0)", 0, lambda v: box.setdefault("p", v))
    qtbot.waitUntil(lambda: "p" in box, timeout=5000)
    assert int(box["n"]) > 0
    assert box["p"] == "clean|true"  # …shown as text, never run
    assert [u for u in guard.requests if not u.startswith("file:")] == []  # no request at all
    # control: the probe does notice when markup is parsed as HTML
    page.runJavaScript("var d = document.createElement('div'); d.innerHTML = " + repr(XSS) + "; document.body.appendChild(d);")
    qtbot.waitUntil(lambda: (page.runJavaScript("String(window.__xss)", 0, lambda v: box.__setitem__("c", v)) or
                             box.get("c") == "1"), timeout=5000)


def test_export_dialog_requires_the_typed_confirmation_for_police(demo_window, tmp_path):
    from gui.export_dialog import CONFIRM_WORD, ExportDialog

    dialog = ExportDialog(demo_window.session, demo_window)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    dialog.path.setText(str(tmp_path / "share.html"))
    assert dialog.disclosure.ok and ok.isEnabled()  # public: no confirmation needed
    assert "Reported cases" not in dialog.summary.toPlainText()
    dialog.profile.setCurrentIndex(dialog.profile.findData("police"))
    assert not ok.isEnabled()
    dialog.recipient.setText("Inspector")
    dialog.confirm.setText("restricted")  # not the exact word
    assert not ok.isEnabled()
    dialog.confirm.setText(CONFIRM_WORD)
    assert ok.isEnabled()
    assert "RESTRICTED" in dialog.summary.toPlainText()
    files = dialog.run_export()
    assert files == [tmp_path / "share.html"]
    entries = demo_window.session.workspace.db.conn.execute(
        "SELECT after FROM change_log WHERE action = 'export'").fetchall()
    assert any('"recipient": "Inspector"' in e[0] for e in entries)


def test_partner_package_shows_read_only_layers(make_window, demo_copy, tmp_path, js, qtbot):
    from mapping.share_export import export

    with Workspace.open(demo_copy) as ws:
        export(ws, "partner", "gpkg", tmp_path / "pkg.gpkg")
    Workspace.create(tmp_path / "mine.gpkg", name="Neighbour").close()
    w = make_window(tmp_path / "mine.gpkg")
    with qtbot.waitSignal(w.map_view.mapReady, timeout=30000):
        assert w.files.import_package_file(tmp_path / "pkg.gpkg")
    partner = [i for i in w.layer_panel.layer_ids() if i.startswith("partner_")]
    assert partner and all("read-only" in w.layer_panel.item_for(i).text() for i in partner)
    info = js(w, "lantern.info()")
    assert all(p in info["layers"] for p in partner)
    cases = next(p for p in partner if p.endswith("reported_cases"))
    w.layer_panel.select_layer(cases)
    model = w.attribute_table.model()
    assert model.rowCount() > 0 and not (model.flags(model.index(0, 0)) & __import__("PySide6.QtCore").QtCore.Qt.ItemFlag.ItemIsEditable)


def test_export_dialog_asks_before_replacing_and_offers_the_report(demo_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from gui.export_dialog import ExportDialog

    target = tmp_path / "district.pdf"
    target.write_bytes(b"an earlier report")
    asked = []
    dialog = ExportDialog(demo_window.session, demo_window)
    dialog.format.setCurrentIndex(dialog.format.findData("report"))
    assert dialog.lang.isEnabled()
    dialog.lang.setCurrentIndex(dialog.lang.findData("lv"))
    dialog.path.setText(str(target))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.No)
    dialog.accept()
    assert asked and dialog.result() != ExportDialog.DialogCode.Accepted and target.read_bytes() == b"an earlier report"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.accept()
    assert dialog.result() == ExportDialog.DialogCode.Accepted and dialog.overwrite
    files = dialog.run_export()
    assert files == [target, tmp_path / "district.html"]
    assert target.read_bytes()[:4] == b"%PDF" and "Situācijas" in files[1].read_text(encoding="utf-8")


def test_export_dialog_refuses_the_workspace_itself(demo_window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from gui.export_dialog import ExportDialog
    from layers.output import DestinationError
    from tests.conftest import file_digest

    ws_path = demo_window.session.workspace.path
    before = file_digest(ws_path)
    dialog = ExportDialog(demo_window.session, demo_window)
    dialog.format.setCurrentIndex(dialog.format.findData("gpkg"))
    dialog.path.setText(str(ws_path))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog.accept()  # the user even agrees to replace it
    with pytest.raises(DestinationError, match="workspace"):
        dialog.run_export()
    assert file_digest(ws_path) == before


def test_an_export_from_the_window_runs_in_a_worker_and_says_where_the_files_went(demo_window, qtbot, tmp_path):
    from gui.export_dialog import ExportDialog

    dialog = ExportDialog(demo_window.session, demo_window)
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    dialog.path.setText(str(tmp_path / "share"))
    task = demo_window.files.run_share(dialog.export_job())
    with qtbot.waitSignal(task.succeeded, timeout=60000):
        pass
    assert sorted(p.suffix for p in (tmp_path / "share").iterdir())  # the folder holds the export
    assert str(tmp_path / "share") in demo_window.statusBar().currentMessage()
    # a refused export (the workspace itself as the destination) says so and writes nothing
    dialog.format.setCurrentIndex(dialog.format.findData("gpkg"))
    workspace = demo_window.session.workspace.path
    before = workspace.read_bytes()
    dialog.path.setText(str(workspace))
    task = demo_window.files.run_share(dialog.export_job())
    with qtbot.waitSignal(task.failed, timeout=60000):
        pass
    assert workspace.name in demo_window.last_error and workspace.read_bytes() == before
