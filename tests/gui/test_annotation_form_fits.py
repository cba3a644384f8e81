"""The annotation form fits a 1366×768 laptop: only the indicator list and the history scroll, the buttons
always show, every field is on screen."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QDialogButtonBox

from layers import i18n

pytestmark = pytest.mark.gui

#: 768 px less a taskbar and the dialog's title bar
ROOM = (1366, 700)


def _fields(form):
    return [form.category_combo, form.search, form.select_all, form.show_all, form.indicator_list, form.weight_key,
            form.other_check, form.other_edit, form.note_edit, form.date_edit, form.confidence_combo,
            form.source_combo, form.team_edit, form.author_edit, form.history_table,
            form.buttons.button(QDialogButtonBox.StandardButton.Save),
            form.buttons.button(QDialogButtonBox.StandardButton.Cancel)]


def _place_form(window, new: bool):
    if new:
        form = window.audit.open_annotation_form("places_of_concern", None, lonlat=(24.94, 60.17), interactive=False)
        return form, [form.name_edit] + _fields(form)
    fid = int(window.session.frames["places_of_concern"].index[0])
    form = window.audit.open_annotation_form("places_of_concern", fid, interactive=False)
    return form, _fields(form)


@pytest.mark.parametrize("lang", ["en", "lv"])
@pytest.mark.parametrize("new", [False, True], ids=["existing place", "new place"])
def test_the_form_fits_a_laptop_screen_with_every_field_reachable(demo_window, qtbot, lang, new):
    with i18n.using(lang):
        form, fields = _place_form(demo_window, new)
    qtbot.addWidget(form)
    assert form.sizeHint().height() <= 700 and form.minimumSizeHint().height() <= 700
    assert form.minimumSizeHint().width() <= ROOM[0]
    form.resize(min(form.sizeHint().width(), ROOM[0]), min(form.sizeHint().height(), ROOM[1]))
    form.show()
    qtbot.waitExposed(form)
    assert form.height() <= 700
    box = form.rect()
    for widget in fields:
        where = QRect(widget.mapTo(form, QPoint(0, 0)), widget.size())
        assert widget.isVisible() and box.contains(where), f"{type(widget).__name__} at {where} outside {box}"
        assert widget.height() >= min(widget.minimumSizeHint().height(), 20), type(widget).__name__
    assert form.indicator_list.height() >= 150  # several indicators show at once; the rest scroll in the list


def test_the_form_opens_no_larger_than_the_screen(demo_window):
    fid = int(demo_window.session.frames["places_of_concern"].index[0])
    form = demo_window.audit.open_annotation_form("places_of_concern", fid, interactive=False)
    free = form.screen().availableGeometry()
    assert form.height() <= max(free.height() - 40, form.minimumSizeHint().height())
    assert form.width() <= max(free.width() - 40, form.minimumSizeHint().width())
    form.deleteLater()


def test_the_weights_have_a_key_and_the_fields_have_names(demo_window):
    fid = int(demo_window.session.frames["worksites"].index[0])
    form = demo_window.audit.open_annotation_form("worksites", fid, interactive=False)
    assert "●●●" in form.weight_key.text() and "strong" in form.weight_key.text()
    for widget in _fields(form)[:-2]:
        assert widget.accessibleName() or widget.text(), type(widget).__name__
    assert form.author_edit.accessibleName() == "Author" and form.author_edit.toolTip()
    form.deleteLater()
