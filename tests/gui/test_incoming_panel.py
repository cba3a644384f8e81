"""The Incoming panel: File → Import field submissions…, the queue on the map beside each submission's place,
and the reviewer's decisions (accept, attach to another place, new place, reject) as undoable steps."""
from __future__ import annotations

import json

import pytest

from audit.annotations import annotations_of
from gui.incoming_panel import FLAGS, GOES_TO
from layers.migrations import SUBMISSIONS_TABLE
from mapping import incoming_map
from tests.submission_exports import Sub, jpeg_with_exif, write_odk_zip

pytestmark = pytest.mark.gui


def _uuid(n: int) -> str:
    return f"5a1e0000-0000-4000-8000-{n:012d}"


def _export(tmp_path, ws):
    """One submission naming a worksite, one 20 m from another worksite (no place named), one far from every
    place (a new place), one of a place type with no default layer far away."""
    sites = ws.read_layer("worksites")
    named, near = int(sites.index[0]), int(sites.index[1])
    p0, p1 = sites.geometry.iloc[0].representative_point(), sites.geometry.iloc[1].representative_point()
    batch = [
        Sub(_uuid(1), place=f"worksites-{named}", lat=p0.y, lon=p0.x, photos=["a.jpg"]),
        Sub(_uuid(2), place="new", lat=p1.y + 0.00018, lon=p1.x, new_place_name="Aiz sētas", photos=["b.jpg"]),
        Sub(_uuid(3), place="new", place_type="street", indicators=["gen_controlled"], lat=p0.y + 0.02, lon=p0.x,
            new_place_name="Stūris pie tirgus"),
        Sub(_uuid(4), place="new", place_type="workplace", indicators=["gen_controlled", "lab_gone_id"],
            catalogue_version=1, lat=p0.y - 0.02, lon=p0.x, new_place_name="Noliktava"),
    ]
    media = {"a.jpg": jpeg_with_exif(), "b.jpg": jpeg_with_exif()}
    return write_odk_zip(tmp_path / "odk.zip", batch, media), named, near


def _import(window, qtbot, path):
    with qtbot.waitSignal(window.files.submissionsImported, timeout=60000):
        window.files.import_submissions_file(path)
    qtbot.waitUntil(lambda: not window.busy, timeout=10000)


def _row_of(panel, uuid: str) -> int:
    return next(r for r, item in enumerate(panel.items) if item.row["instance_id"] == f"uuid:{uuid}")


def _id_of(panel, uuid: str) -> int:
    return panel.items[_row_of(panel, uuid)].id


def _status(ws, uuid: str) -> str:
    return ws.db.conn.execute(f"SELECT status FROM {SUBMISSIONS_TABLE} WHERE instance_id = ?",
                              (f"uuid:{uuid}",)).fetchone()[0]


def test_import_fills_the_queue_and_shows_it_on_the_map(demo_window, tmp_path, qtbot, js):
    w = demo_window
    path, named, near = _export(tmp_path, w.session.workspace)
    _import(w, qtbot, path)
    panel = w.incoming_panel
    assert len(panel.items) == 4 and panel.table.rowCount() == 4
    assert w.incoming_dock.windowTitle().endswith("(4)")
    text = w.files.submissions_box.text()
    assert "4 submissions added" in text and "2 photos stored" in text
    assert "lab_gone_id" in text  # an answer that did not map is named
    # the submission naming a place goes to it; the one near a worksite to that worksite; the far one to a new place
    goes_to = {item.row["instance_id"][5:]: panel.table.item(r, GOES_TO).text() for r, item in enumerate(panel.items)}
    site_name = str(w.session.workspace.get_row("worksites", near)["name"] or "")
    assert "nearest" in goes_to[_uuid(2)] and site_name in goes_to[_uuid(2)]
    assert goes_to[_uuid(3)].startswith("New place") and "Stūris pie tirgus" in goes_to[_uuid(3)]
    assert panel.table.item(_row_of(panel, _uuid(4)), FLAGS).text() == "⚠"
    # the Incoming tab is raised after an import: its submissions are on the map, tied to their places
    qtbot.waitUntil(lambda: js(w, "lantern.info()")["layers"].get(incoming_map.SUBMISSIONS_LAYER, {})
                    .get("count") == 4, timeout=15000)
    links = js(w, "lantern.info()")["layers"][incoming_map.LINKS_LAYER]["count"]
    assert links == 2  # named and nearest; the new places have no place yet
    # selecting a row highlights that submission on the map
    panel.select_submission(_id_of(panel, _uuid(1)))
    qtbot.waitUntil(lambda: (js(w, "lantern.info()")["selected"] or {}).get("id") == incoming_map.SUBMISSIONS_LAYER,
                    timeout=10000)
    # positive control of the map check: another tab hides the queue from the map
    w.findChild(type(w.incoming_dock), "layers_dock").raise_()
    qtbot.waitUntil(lambda: incoming_map.SUBMISSIONS_LAYER not in js(w, "lantern.info()")["layers"], timeout=10000)


def test_accepting_a_batch_is_one_undo_step(demo_window, tmp_path, qtbot):
    w = demo_window
    ws = w.session.workspace
    path, named, near = _export(tmp_path, ws)
    _import(w, qtbot, path)
    panel = w.incoming_panel
    before = {k: len(annotations_of(ws, "worksites", k)) for k in (named, near)}
    panel.table.clearSelection()
    for uuid in (_uuid(1), _uuid(2)):
        panel.table.selectionModel().select(
            panel.table.model().index(_row_of(panel, uuid), 0),
            panel.table.selectionModel().SelectionFlag.Select | panel.table.selectionModel().SelectionFlag.Rows)
    assert panel.accept_button.isEnabled()
    assert panel.accept_selected()
    after = {k: len(annotations_of(ws, "worksites", k)) for k in (named, near)}
    assert after == {named: before[named] + 1, near: before[near] + 1}  # each to the place shown
    assert len(panel.items) == 2 and w.incoming_dock.windowTitle().endswith("(2)")
    assert "Accept submissions" in w.actions["undo"].text()
    w.session.undo()  # one step undoes both
    assert {k: len(annotations_of(ws, "worksites", k)) for k in (named, near)} == before
    assert _status(ws, _uuid(1)) == _status(ws, _uuid(2)) == "incoming" and len(panel.items) == 4


def test_attach_to_the_place_selected_on_the_map(demo_window, tmp_path, qtbot):
    w = demo_window
    ws = w.session.workspace
    path, named, _near = _export(tmp_path, ws)
    _import(w, qtbot, path)
    panel = w.incoming_panel
    shelter = int(ws.read_layer("shelters").index[0])
    panel.select_submission(_id_of(panel, _uuid(3)))
    assert not panel.attach_button.isEnabled()  # no place selected yet
    w.session.select("shelters", shelter)
    panel.select_submission(_id_of(panel, _uuid(3)))
    assert panel.attach_button.isEnabled()
    assert panel.attach()
    notes = annotations_of(ws, "shelters", shelter)
    assert any(json.loads(n["indicators"]) == ["gen_controlled"] for n in notes)
    assert _status(ws, _uuid(3)) == "accepted"


def test_new_place_from_a_submission(demo_window, tmp_path, qtbot):
    w = demo_window
    ws = w.session.workspace
    path, _named, _near = _export(tmp_path, ws)
    _import(w, qtbot, path)
    panel = w.incoming_panel
    count = ws.count("places_of_concern")
    panel.select_submission(_id_of(panel, _uuid(4)))
    # a category the catalogue does not know is refused, with a message, and nothing changes
    assert not panel.new_place({"kind": "places_of_concern", "fields": {"category": "nope", "name": "Noliktava B"}})
    assert w.notify.last_error and ws.count("places_of_concern") == count and _status(ws, _uuid(4)) == "incoming"
    assert panel.new_place({"kind": "places_of_concern",
                            "fields": {"category": "construction_site", "name": "Noliktava B"}})
    assert ws.count("places_of_concern") == count + 1
    frame = ws.read_layer("places_of_concern")
    made = frame[frame["name"] == "Noliktava B"]
    assert len(made) == 1 and len(annotations_of(ws, "places_of_concern", int(made.index[0]))) == 1


def test_reject_needs_a_reason_and_changes_only_the_queue(demo_window, tmp_path, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    w = demo_window
    ws = w.session.workspace
    path, _named, _near = _export(tmp_path, ws)
    _import(w, qtbot, path)
    panel = w.incoming_panel
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *args: told.append(args[2]))
    panel.select_submission(_id_of(panel, _uuid(2)))
    assert not panel.reject_selected("   ")
    assert told and _status(ws, _uuid(2)) == "incoming"
    annotations = ws.db.conn.execute("SELECT count(*) FROM annotations").fetchone()[0]
    assert panel.reject_selected("Dublikāts: tā pati vieta jau atzīmēta")
    assert _status(ws, _uuid(2)) == "rejected" and ws.db.conn.execute("SELECT count(*) FROM annotations").fetchone()[0] == annotations
    panel.status.setCurrentIndex(panel.status.findData("rejected"))
    assert [i.row["instance_id"] for i in panel.items] == [f"uuid:{_uuid(2)}"]
    assert "Dublikāts" in panel._describe(panel.items[0])


def test_a_cancelled_import_changes_nothing(demo_window, tmp_path, qtbot, monkeypatch):
    import threading

    from audit import submissions

    w = demo_window
    ws = w.session.workspace
    path, _named, _near = _export(tmp_path, ws)
    cleaning, go_on = threading.Event(), threading.Event()
    clean = submissions.clean_photo

    def held(*args, **kwargs):  # the worker waits in the first photo until the user has pressed Cancel
        cleaning.set()
        go_on.wait(30)
        return clean(*args, **kwargs)

    monkeypatch.setattr(submissions, "clean_photo", held)
    task = w.files.import_submissions_file(path)
    qtbot.waitUntil(cleaning.is_set, timeout=30000)
    from PySide6.QtWidgets import QPushButton

    task.progress_dialog.findChild(QPushButton).click()  # the dialog's Cancel button
    assert task.cancel_requested
    go_on.set()
    qtbot.waitUntil(lambda: not w.busy, timeout=60000)
    assert ws.db.conn.execute(f"SELECT count(*) FROM {SUBMISSIONS_TABLE}").fetchone()[0] == 0
    assert w.incoming_panel.table.rowCount() == 0 and w.notify.last_error is None
    # positive control: the same import, not cancelled, adds them
    _import(w, qtbot, path)
    assert ws.db.conn.execute(f"SELECT count(*) FROM {SUBMISSIONS_TABLE}").fetchone()[0] == 4


def test_a_submissions_photos_show_beside_it_and_only_its_own(demo_window, tmp_path, qtbot):
    w = demo_window
    path, _named, _near = _export(tmp_path, w.session.workspace)
    _import(w, qtbot, path)
    panel = w.incoming_panel
    panel.select_submission(_id_of(panel, _uuid(1)))
    strip = panel.photo_strip
    assert strip is not None and strip.count() == 1
    qtbot.waitUntil(lambda: strip.built == {0}, timeout=10000)
    image = strip.item(0).icon().pixmap(72, 72).toImage()
    colour = image.pixelColor(36, 36)  # jpeg_with_exif paints (200, 120, 40): the thumbnail is the photo
    assert abs(colour.red() - 200) < 12 and abs(colour.green() - 120) < 12 and abs(colour.blue() - 40) < 12
    viewer = strip.open_viewer(0)
    assert viewer.isVisible()
    viewer.close()
    panel.select_submission(_id_of(panel, _uuid(3)))  # no photos: no strip
    assert panel.photo_strip is None


def test_import_from_odk_central_through_the_window(demo_window, tmp_path, qtbot, monkeypatch):
    """File → Import field submissions from ODK Central…: the recorded server's submissions reach the queue; a
    refusing server is one message and nothing changes (the fake server of tests/odk_central_fake.py)."""
    from layers.importers import odk_central
    from tests.odk_central_fake import FORM, PROJECT, TABLE, FakeCentral, write_config

    monkeypatch.setenv("PYODK_CONFIG_FILE", str(write_config(tmp_path)))
    monkeypatch.setenv("PYODK_CACHE_FILE", str(tmp_path / "pyodk_cache.toml"))
    fake, connect = FakeCentral(), odk_central.connect
    monkeypatch.setattr(odk_central, "connect", lambda path=None: fake.mount(connect(path)))
    w = demo_window
    ws = w.session.workspace
    fake.fail("GET", TABLE, 403)
    w.files.import_odk_central_form(f"{PROJECT}/{FORM}")
    qtbot.waitUntil(lambda: not w.busy and w.notify.last_error is not None, timeout=60000)
    assert "403" in w.notify.last_error or "right" in w.notify.last_error
    assert ws.db.conn.execute(f"SELECT count(*) FROM {SUBMISSIONS_TABLE}").fetchone()[0] == 0
    assert w.files.import_odk_central_form("not a form/") is None and "PROJECT_ID/FORM_ID" in w.notify.last_error
    good = FakeCentral()
    fake.routes = good.routes
    with qtbot.waitSignal(w.files.submissionsImported, timeout=60000):
        w.files.import_odk_central_form(f"{PROJECT}/{FORM}")
    qtbot.waitUntil(lambda: not w.busy, timeout=10000)
    assert len(w.incoming_panel.items) == 3 and fake.hosts == {"central.example.lv"}


def test_view_show_panel_brings_the_incoming_tab_forward(demo_window, qtbot):
    w = demo_window
    menu = w.actions["panels"].menu()
    titles = [a.text() for a in menu.actions()]
    assert titles[0] == "Layers" and titles[-1] == "Incoming"
    incoming = menu.actions()[-1]
    assert incoming.shortcut().toString() == f"Alt+{len(titles)}"
    w.findChild(type(w.incoming_dock), "layers_dock").raise_()
    qtbot.waitUntil(lambda: not w.incoming_panel.isVisible() or w.incoming_panel.visibleRegion().isEmpty(), timeout=5000)
    incoming.trigger()
    qtbot.waitUntil(lambda: w.incoming_panel.shown, timeout=5000)
