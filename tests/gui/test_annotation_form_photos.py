"""Photos from the field in the annotation form: a Photos column in the place's history, a strip of thumbnails
made from the stored photos, a viewer with the keyboard; no strip where a place has no accepted photos."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QWidget

from audit import submissions as subs_api
from gui.annotation_form import PHOTOS_COLUMN
from gui.audit_controller import AuditController
from gui.field_photo_strip import THUMB, PhotoViewer
from layers import i18n
from layers.migrations import SUBMISSIONS_TABLE
from tests.submission_exports import Sub, write_odk_zip

pytestmark = pytest.mark.gui

RED, BLUE = (255, 0, 0), (0, 0, 255)
ROOM = (1366, 700)  # 768 px less a taskbar and the title bar (as tests/gui/test_annotation_form_fits.py)


def jpeg(colour, size=(640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


class Notify:
    def __init__(self):
        self.messages = []

    def __call__(self, *args):
        self.messages.append(args)

    def status(self, *args):
        self.messages.append(args)


@pytest.fixture
def audit(session, settings, qtbot):
    """An AuditController on the session, and the places: a worksite with an accepted submission carrying a
    red and a blue photo; a transport hub with a rejected and a waiting one (photos stored, not accepted)."""
    ws = session.workspace
    site = int(ws.read_layer("worksites").index[0])
    hub = int(ws.read_layer("transport_hubs").index[0])
    batch = [Sub("f0720000-0000-4000-8000-000000000001", place=f"worksites-{site}", photos=["red.jpg", "blue.jpg"]),
             Sub("f0720000-0000-4000-8000-000000000002", place=f"transport_hubs-{hub}", photos=["r2.jpg"]),
             Sub("f0720000-0000-4000-8000-000000000003", place=f"transport_hubs-{hub}", photos=["r3.jpg"])]
    media = {"red.jpg": jpeg(RED), "blue.jpg": jpeg(BLUE), "r2.jpg": jpeg(RED), "r3.jpg": jpeg(RED)}
    ids = subs_api.import_submissions(ws, write_odk_zip(session.workspace.path.parent / "odk.zip", batch, media)).ids
    session.do(subs_api.accept(ws, ids[0], "Reviewer"))
    session.do(subs_api.reject(ws, ids[1], "Reviewer", "Dublikāts"))
    parent = QWidget()
    qtbot.addWidget(parent)
    controller = AuditController(session, Notify(), settings, parent)
    controller.places = {"site": site, "hub": hub}
    controller.accepted_annotation = ws.get_row(SUBMISSIONS_TABLE, ids[0])["annotation_id"]
    return controller


def _form(audit, qtbot, table, fid, lang="en"):
    with i18n.using(lang):
        form = audit.annotation_form(table, fid, None if fid is not None else {"name": "", "category": None})
    qtbot.addWidget(form)
    return form


def _centre(image) -> QColor:
    return image.pixelColor(image.width() // 2, image.height() // 2)


def _is(colour: QColor, rgb) -> bool:
    return all(abs(a - b) < 40 for a, b in zip((colour.red(), colour.green(), colour.blue()), rgb))


def test_the_history_counts_photos_and_the_strip_shows_them(audit, qtbot):
    form = _form(audit, qtbot, "worksites", audit.places["site"])
    table, strip = form.history_table, form.photo_strip
    assert not table.isColumnHidden(PHOTOS_COLUMN)
    assert table.horizontalHeaderItem(PHOTOS_COLUMN).text() == "Photos"
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "2026-11-20")
    assert table.item(row, PHOTOS_COLUMN).text() == "2"
    assert form.photos_label.text() == "Photos from the field (2)"
    assert strip.count() == 2 and strip.built == set()  # nothing decoded before the form shows
    form.show()
    qtbot.waitExposed(form)
    qtbot.waitUntil(lambda: strip.built == {0, 1}, timeout=5000)
    thumbs = [strip.item(i).icon().pixmap(THUMB, THUMB).toImage() for i in range(2)]
    # a 640×480 photo: 72×54 centred on a transparent square (upright and landscape thumbnails line up)
    assert (thumbs[0].width(), thumbs[0].height()) == (THUMB, THUMB)
    assert thumbs[0].pixelColor(THUMB // 2, 2).alpha() == 0 and _is(thumbs[0].pixelColor(THUMB // 2, 12), RED)
    assert _is(_centre(thumbs[0]), RED) and _is(_centre(thumbs[1]), BLUE)
    assert strip.item(0).text() == "2026-11-20" and "Komanda Ziemeļi" in strip.item(0).toolTip()
    assert strip.isVisible() and form.photos_label.isVisible()


def test_double_click_opens_the_viewer_and_the_keys_step_and_close(audit, qtbot):
    form = _form(audit, qtbot, "worksites", audit.places["site"])
    form.show()
    qtbot.waitExposed(form)
    strip = form.photo_strip
    where = strip.visualItemRect(strip.item(1)).center()
    # a real double-click: QTest.mouseDClick sends only the second press, which a view ignores without the first
    QTest.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where)
    QTest.mouseDClick(strip.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where)
    viewer = strip.viewer
    assert isinstance(viewer, PhotoViewer)
    qtbot.waitExposed(viewer)
    assert viewer.index == 1 and _is(_centre(viewer.image_label.pixmap().toImage()), BLUE)
    assert viewer.caption_label.text() == "Observed on 2026-11-20 · audit team: Komanda Ziemeļi"
    assert viewer.position_label.text() == "Photo 2 of 2"
    shown = viewer.image_label.pixmap()
    assert shown.width() <= viewer.image_label.width() and shown.height() <= viewer.image_label.height()
    QTest.keyClick(viewer, Qt.Key.Key_Right)  # the last photo: stays
    assert viewer.index == 1
    QTest.keyClick(viewer, Qt.Key.Key_Left)
    assert viewer.index == 0 and viewer.position_label.text() == "Photo 1 of 2"
    assert _is(_centre(viewer.image_label.pixmap().toImage()), RED)
    assert strip.currentRow() == 0  # the strip follows the viewer
    QTest.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.isVisible() and form.isVisible()


def test_enter_opens_the_photo_without_saving_the_form(audit, qtbot):
    form = _form(audit, qtbot, "worksites", audit.places["site"])
    form.show()
    qtbot.waitExposed(form)
    form.indicator_list.item(0).setCheckState(Qt.CheckState.Checked)  # the form could be saved now
    form.author_edit.setText("Auditor T")
    strip = form.photo_strip
    strip.setFocus()
    strip.setCurrentRow(0)
    QTest.keyClick(strip, Qt.Key.Key_Return)
    assert strip.viewer is not None and strip.viewer.index == 0
    assert form.isVisible() and form.result() != QDialog.DialogCode.Accepted and not form.error_label.text()
    QTest.keyClick(strip.viewer, Qt.Key.Key_Escape)
    # positive control: Enter in a line edit does reach the Save button, so the check above could fail
    form.team_edit.setFocus()
    QTest.keyClick(form.team_edit, Qt.Key.Key_Return)
    assert form.result() == QDialog.DialogCode.Accepted


def test_no_strip_and_no_column_where_no_photo_was_accepted(audit, qtbot):
    form = _form(audit, qtbot, "transport_hubs", audit.places["hub"])  # one rejected, one waiting
    assert form.photo_strip is None and form.photos_label is None
    assert form.history_table.isColumnHidden(PHOTOS_COLUMN)
    new = _form(audit, qtbot, "places_of_concern", None)
    assert new.photo_strip is None


def test_the_viewer_says_when_a_photo_cannot_be_shown(qtbot):
    from audit.field_photos import FieldPhoto

    photo = FieldPhoto(1, "x.jpg", "image/jpeg", 4, "uuid:x", 1)
    viewer = PhotoViewer([(photo, {"observed": "2026-11-20", "team": ""})], lambda _id: b"junk", 0)
    qtbot.addWidget(viewer)
    assert viewer.image.isNull() and "cannot be shown" in viewer.image_label.text()
    assert viewer.caption_label.text() == "Observed on 2026-11-20 · no audit team given"


@pytest.mark.parametrize("lang", ["en", "lv"])
def test_the_form_with_photos_fits_a_laptop_screen(audit, qtbot, lang):
    form = _form(audit, qtbot, "worksites", audit.places["site"], lang)
    assert form.sizeHint().height() <= ROOM[1] and form.minimumSizeHint().height() <= ROOM[1]
    assert form.minimumSizeHint().width() <= ROOM[0]
    form.resize(min(form.sizeHint().width(), ROOM[0]), min(form.sizeHint().height(), ROOM[1]))
    form.show()
    qtbot.waitExposed(form)
    box = form.rect()
    for widget in (form.history_table, form.photos_label, form.photo_strip, form.indicator_list, form.buttons):
        where = QRect(widget.mapTo(form, QPoint(0, 0)), widget.size())
        assert widget.isVisible() and box.contains(where), f"{type(widget).__name__} at {where} outside {box}"
    assert form.history_table.height() >= 60 and form.indicator_list.height() >= 150
