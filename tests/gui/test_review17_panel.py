"""Review of issue 17: the Incoming panel attacked through field data, and used as a new user would.

Tests named ``test_finding_…`` fail on the code as reviewed and say what should hold; the others are
positive controls or behaviour that held up. Field data is attacker-controlled: anyone with the form can
send a submission.
"""
from __future__ import annotations

import shutil
import threading

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from audit import submissions as subs_api
from audit.annotations import annotations_of
from audit.check import check_workspace
from gui.incoming_panel import GOES_TO
from layers.migrations import SUBMISSIONS_TABLE
from mapping import incoming_map
from tests.submission_exports import Sub, jpeg_with_exif, write_odk_zip

pytestmark = pytest.mark.gui

TEAM_COLUMN = 5


def _uuid(n: int) -> str:
    return f"7e171000-0000-4000-8000-{n:012d}"


def _import(window, qtbot, path):
    with qtbot.waitSignal(window.files.submissionsImported, timeout=60000):
        window.files.import_submissions_file(path)
    qtbot.waitUntil(lambda: not window.busy, timeout=10000)
    window.files.submissions_box.close()


def _row_of(panel, uuid: str) -> int:
    return next(r for r, item in enumerate(panel.items) if item.row["instance_id"] == f"uuid:{uuid}")


def _focus_queue(window, qtbot) -> None:
    """Keyboard focus in the queue, as a user tabbing or clicking into it has it (shortcuts need it)."""
    window.incoming_dock.raise_()
    window.activateWindow()
    window.incoming_panel.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.incoming_panel.table, timeout=5000)


def _status(ws, uuid: str) -> str:
    return ws.db.conn.execute(f"SELECT status FROM {SUBMISSIONS_TABLE} WHERE instance_id = ?",
                              (f"uuid:{uuid}",)).fetchone()[0]


# -- rich text in tooltips ----------------------------------------------------------------------------------------


@pytest.fixture
def red_png(tmp_path):
    path = tmp_path / "red.png"
    image = QImage(40, 40, QImage.Format.Format_RGB32)
    image.fill(QColor(255, 0, 0))
    image.save(str(path))
    return path


def _red_pixels_of_tooltip(qtbot, text: str) -> int:
    """Show ``text`` as Qt shows every tooltip and count the red pixels it draws (a picture loaded from disk)."""
    QToolTip.showText(QPoint(60, 60), text)
    label = next((w for w in QApplication.topLevelWidgets() if w.objectName() == "qtooltip_label"), None)
    qtbot.waitUntil(lambda: label is not None and label.isVisible(), timeout=5000)
    image = label.grab().toImage()
    QToolTip.hideText()
    return sum(1 for x in range(image.width()) for y in range(image.height())
               if image.pixelColor(x, y).red() > 240 and image.pixelColor(x, y).green() < 30)


def _markup(red_png) -> str:
    # a local picture stands for any local file; `<img src="/dev/zero">` would make Qt read forever
    return f'<img src="{red_png}" width="40" height="40">'


def test_finding_field_text_in_the_panels_tooltips_is_not_rich_text(demo_window, tmp_path, qtbot, red_png):
    """FINDING: the cells are plain text, but their tooltips (cell.setToolTip(text)) are rich text to Qt
    whenever the text looks like markup: a team name from a phone loads a file from the reviewer's disk into
    the tooltip (and can draw anything there). Escape tooltips (html.escape, or Qt.convertFromPlainText)."""
    w = demo_window
    markup = _markup(red_png)
    _import(w, qtbot, write_odk_zip(tmp_path / "odk.zip", [Sub(_uuid(1), team=markup, new_place_name=markup)], {}))
    panel = w.incoming_panel
    row = _row_of(panel, _uuid(1))
    assert panel.table.item(row, TEAM_COLUMN).text() == markup  # the cell itself is plain text
    assert _red_pixels_of_tooltip(qtbot, markup) > 1000  # positive control: the attack draws the file
    for column in (TEAM_COLUMN,):  # (Goes to names the nearest place here, not the phone's text)
        tip = panel.table.item(row, column).toolTip()
        assert "red.png" in tip  # the data is there ...
        assert _red_pixels_of_tooltip(qtbot, tip) == 0, column  # ... shown as text, not as a picture


def test_finding_accepted_field_text_in_the_annotation_forms_tooltips_is_not_rich_text(
        demo_window, tmp_path, qtbot, red_png):
    """FINDING: once accepted, the phone's note and team reach the annotation form, whose history cells
    (annotation_form._history_table: cell.setToolTip(value)) and photo thumbnails (field_photo_strip:
    item.setToolTip(caption(...))) show them as rich text."""
    w = demo_window
    ws = w.session.workspace
    fid = int(ws.read_layer("worksites").index[0])
    markup = _markup(red_png)
    _import(w, qtbot, write_odk_zip(tmp_path / "odk.zip", [
        Sub(_uuid(1), place=f"worksites-{fid}", team=markup, note=markup, photos=["a.jpg"])],
        {"a.jpg": jpeg_with_exif()}))
    panel = w.incoming_panel
    panel.select_submission(panel.items[_row_of(panel, _uuid(1))].id)
    assert panel.accept_selected()
    form = w.audit.annotation_form("worksites", fid, None)
    qtbot.addWidget(form)
    history = form.history_table
    tips = [history.item(r, c).toolTip() for r in range(history.rowCount()) for c in range(history.columnCount())
            if history.item(r, c) is not None and "red.png" in history.item(r, c).toolTip()]
    tips += [form.photo_strip.item(i).toolTip() for i in range(form.photo_strip.count())]
    assert len(tips) >= 2  # the note's cell and the thumbnail's caption carry the data
    assert _red_pixels_of_tooltip(qtbot, markup) > 1000  # positive control
    assert [_red_pixels_of_tooltip(qtbot, tip) for tip in tips] == [0] * len(tips)


# -- impossible positions ------------------------------------------------------------------------------------------


def test_finding_selecting_a_submission_at_an_impossible_position_raises_nothing(demo_window, tmp_path, qtbot, js):
    """FINDING: a geopoint "inf" is queued as latitude inf; selecting it calls session.show_box, whose
    find_bar.fit_zoom does math.cos(inf): ValueError in a Qt slot (the crash dialog in the app). The import
    should drop impossible positions (tests/audit/test_review17_attacks.py)."""
    w = demo_window
    _import(w, qtbot, write_odk_zip(tmp_path / "odk.zip", [Sub(_uuid(1)), Sub(_uuid(2), lat=float("inf"))], {}))
    w.incoming_dock.raise_()
    panel = w.incoming_panel
    qtbot.waitUntil(lambda: (js(w, "lantern.info()")["layers"].get(incoming_map.SUBMISSIONS_LAYER) or {})
                    .get("count", 0) >= 1, timeout=15000)  # positive control: the honest one is on the map
    panel.select_submission(panel.items[_row_of(panel, _uuid(1))].id)
    panel.select_submission(panel.items[_row_of(panel, _uuid(2))].id)  # pytest-qt fails the test on an exception in the slot
    assert "inf" not in panel.details.toPlainText().lower()


# -- state across workspaces --------------------------------------------------------------------------------------


def test_finding_opening_another_workspace_forgets_the_place_chosen_for_attach(
        demo_window, demo_file, tmp_path, qtbot):
    """FINDING: IncomingPanel.place (the place last clicked on the map, for "Attach to …") survives File →
    Open: in the next workspace "Attach to <name>" is enabled for a place the reviewer never selected there
    (the same fid, another place in another district). Reset ``place`` on session.opened."""
    w = demo_window
    ws = w.session.workspace
    shelter = int(ws.read_layer("shelters").index[0])
    _import(w, qtbot, write_odk_zip(tmp_path / "odk.zip", [Sub(_uuid(1))], {}))
    w.session.select("shelters", shelter)
    w.incoming_panel.select_submission(w.incoming_panel.items[0].id)
    assert w.incoming_panel.attach_button.isEnabled()  # positive control: chosen in this workspace
    other = tmp_path / "other" / "demo.gpkg"
    other.parent.mkdir()
    shutil.copy(demo_file, other)
    with qtbot.waitSignal(w.map_view.mapReady, timeout=30000):
        assert w.open_workspace(other)
    _import(w, qtbot, write_odk_zip(tmp_path / "odk2.zip", [Sub(_uuid(2))], {}))
    panel = w.incoming_panel
    panel.select_submission(panel.items[0].id)
    assert w.session.selection is None or w.session.selection[0] != "shelters"  # nothing selected here
    assert not panel.attach_button.isEnabled(), panel.attach_button.text()


def test_opening_another_workspace_clears_the_queue_and_its_overlay(demo_window, demo_file, tmp_path, qtbot, js):
    """Positive: the queue, the details and the magenta triangles go with the workspace they belong to."""
    w = demo_window
    _import(w, qtbot, write_odk_zip(tmp_path / "odk.zip", [Sub(_uuid(1), note="SECRET-NOTE-A")], {}))
    w.incoming_dock.raise_()
    panel = w.incoming_panel
    panel.select_submission(panel.items[0].id)
    assert "SECRET-NOTE-A" in panel.details.toPlainText()
    qtbot.waitUntil(lambda: incoming_map.SUBMISSIONS_LAYER in js(w, "lantern.info()")["layers"], timeout=15000)
    other = tmp_path / "other" / "demo.gpkg"
    other.parent.mkdir()
    shutil.copy(demo_file, other)
    with qtbot.waitSignal(w.map_view.mapReady, timeout=30000):
        assert w.open_workspace(other)
    assert panel.items == [] and panel.table.rowCount() == 0
    assert "SECRET-NOTE-A" not in panel.details.toPlainText()
    assert incoming_map.NAME not in w.session.overlays
    assert incoming_map.SUBMISSIONS_LAYER not in js(w, "lantern.info()")["layers"]
    assert w.incoming_dock.windowTitle() == "Incoming"


# -- read-only, keyboard ------------------------------------------------------------------------------------------


def test_ctrl_enter_in_a_read_only_workspace_changes_nothing(make_window, demo_copy, tmp_path, qtbot):
    """Positive: the shortcut bypasses the disabled Accept button, but the read-only workspace refuses."""
    from layers.workspace import Workspace

    with Workspace.open(demo_copy) as ws:
        subs_api.import_submissions(ws, write_odk_zip(tmp_path / "odk.zip", [Sub(_uuid(1))], {}))
    holder = Workspace.open(demo_copy, lock_now=True)  # another Lantern holds the write lock
    try:
        w = make_window(demo_copy)
        assert w.session.workspace.read_only
        panel = w.incoming_panel
        _focus_queue(w, qtbot)
        panel.select_submission(panel.items[0].id)
        assert not panel.accept_button.isEnabled() and not panel.reject_button.isEnabled()
        QTest.keyClick(panel.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        assert _status(w.session.workspace, _uuid(1)) == "incoming"
        assert not w.session.history.can_undo
    finally:
        holder.close()


def test_finding_tab_leaves_the_queue_for_the_decision_buttons(demo_window, tmp_path, qtbot):
    """FINDING (keyboard only): Tab inside the queue moves from cell to cell (QAbstractItemView's
    tabKeyNavigation), so a keyboard user never reaches Accept / Reject with Tab. Rows are selected whole:
    table.setTabKeyNavigation(False)."""
    w = demo_window
    _import(w, qtbot, write_odk_zip(tmp_path / "odk.zip", [Sub(_uuid(1)), Sub(_uuid(2))], {}))
    panel = w.incoming_panel
    _focus_queue(w, qtbot)
    panel.select_submission(panel.items[0].id)
    reached = []
    for _ in range(30):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.append(QApplication.focusWidget())
    # 2 rows × 7 columns: 30 presses wrap round the queue twice without ever leaving it
    assert panel.details in reached or panel.accept_button in reached


def test_ctrl_enter_accepts_the_selected_row(demo_window, tmp_path, qtbot):
    """Positive: Ctrl+Enter in the queue accepts what is selected, once; Ctrl+Z undoes it; check stays green."""
    w = demo_window
    ws = w.session.workspace
    fid = int(ws.read_layer("worksites").index[0])
    _import(w, qtbot, write_odk_zip(tmp_path / "odk.zip", [Sub(_uuid(1), place=f"worksites-{fid}")], {}))
    panel = w.incoming_panel
    before = len(annotations_of(ws, "worksites", fid))
    _focus_queue(w, qtbot)
    panel.select_submission(panel.items[0].id)
    QTest.keyClick(panel.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(panel.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # nothing left selected
    assert len(annotations_of(ws, "worksites", fid)) == before + 1 and _status(ws, _uuid(1)) == "accepted"
    w.session.undo()
    assert _status(ws, _uuid(1)) == "incoming" and len(annotations_of(ws, "worksites", fid)) == before
    panel.select_submission(panel.items[0].id)
    assert panel.accept_selected()  # accept again after the undo
    assert _status(ws, _uuid(1)) == "accepted"
    assert check_workspace(ws.path).ok


# -- a decision while an import runs -------------------------------------------------------------------------------


def test_finding_an_accept_made_while_an_import_runs_survives_its_cancel(demo_window, tmp_path, qtbot, monkeypatch):
    """FINDING: the import writes through the window's connection in a worker thread, inside one transaction;
    only the menu's "idle" actions are disabled meanwhile (the progress dialog is modal only once it shows,
    after 300 ms). A decision taken then (the panel's buttons and Ctrl+Enter stay enabled) runs as a
    SAVEPOINT inside the import's transaction: Cancel rolls it back with the import while the undo stack still
    holds it. Decisions (and every session.do) should wait while the window is busy."""
    from audit import submissions

    w = demo_window
    ws = w.session.workspace
    fid = int(ws.read_layer("worksites").index[0])
    _import(w, qtbot, write_odk_zip(tmp_path / "first.zip", [Sub(_uuid(1), place=f"worksites-{fid}")], {}))
    panel = w.incoming_panel
    cleaning, go_on = threading.Event(), threading.Event()
    clean = submissions.clean_photo

    def held(*args, **kwargs):  # the worker holds its transaction open while the reviewer acts
        cleaning.set()
        go_on.wait(30)
        return clean(*args, **kwargs)

    monkeypatch.setattr(submissions, "clean_photo", held)
    second = write_odk_zip(tmp_path / "second.zip", [Sub(_uuid(2), photos=["a.jpg"]), Sub(_uuid(3), photos=["b.jpg"])],
                           {"a.jpg": jpeg_with_exif(), "b.jpg": jpeg_with_exif()})
    task = w.files.import_submissions_file(second)
    qtbot.waitUntil(cleaning.is_set, timeout=30000)
    panel.select_submission(panel.items[_row_of(panel, _uuid(1))].id)
    accepted = panel.accept_button.isEnabled() and panel.accept_selected()
    task.cancel()
    go_on.set()
    qtbot.waitUntil(lambda: not w.busy, timeout=60000)
    count = ws.db.conn.execute(f"SELECT count(*) FROM {SUBMISSIONS_TABLE} WHERE instance_id IN (?, ?)",
                               (f"uuid:{_uuid(2)}", f"uuid:{_uuid(3)}")).fetchone()[0]
    assert count == 0  # the cancel took: the import left nothing
    if not accepted:
        return  # the decision waited for the import: fine
    # the undo stack says "accepted": the workspace must say so too
    assert w.session.history.can_undo
    assert _status(ws, _uuid(1)) == "accepted"


def test_finding_a_refused_batch_names_the_submission_that_blocks_it(demo_window, tmp_path, qtbot):
    """FINDING (usability): a submission whose date is missing (a skipped question, a forged phone) cannot be
    accepted, and a batch holding it is refused whole with Python's own words, "Invalid isoformat string: ''",
    in English even in the Latvian UI, without saying which of the selected rows is the problem. The message
    should name the submission (its date/team or instance id) and say what is wrong in the user's language."""
    w = demo_window
    ws = w.session.workspace
    fid = int(ws.read_layer("worksites").index[0])
    _import(w, qtbot, write_odk_zip(tmp_path / "odk.zip", [
        Sub(_uuid(1), place=f"worksites-{fid}"), Sub(_uuid(2), place=f"worksites-{fid}", observed="")], {}))
    panel = w.incoming_panel
    from PySide6.QtCore import QItemSelectionModel

    flags = QItemSelectionModel.SelectionFlag
    panel.table.selectionModel().select(panel.table.model().index(0, 0), flags.ClearAndSelect | flags.Rows)
    panel.table.selectionModel().select(panel.table.model().index(1, 0), flags.Select | flags.Rows)
    assert not panel.accept_selected()
    message = w.notify.last_error or ""
    assert _status(ws, _uuid(1)) == _status(ws, _uuid(2)) == "incoming"  # nothing half done: good
    assert _uuid(2) in message or "isoformat" not in message, message
    # positive control: the row with a date alone is accepted
    panel.select_submission(panel.items[_row_of(panel, _uuid(1))].id)
    assert panel.accept_selected() and _status(ws, _uuid(1)) == "accepted"
