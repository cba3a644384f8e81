"""The planner's and the police liaison's dialogs at a 1366×768 window: one scroll area, fields that fit,
a typed confirmation that says what it expects, and a referral list that starts with what is open now."""
import pytest
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QScrollArea,
    QWidget,
)

pytestmark = pytest.mark.gui


def _laptop(window, qtbot):
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366)


def test_outreach_panel_has_one_scroll_area_and_fields_that_fit(demo_window, qtbot):
    _laptop(demo_window, qtbot)
    panel = demo_window.outreach_panel
    panel.parentWidget().raise_()
    panel.k.setValue(5)
    with qtbot.waitSignal(panel.run().succeeded, timeout=60000):
        pass
    qtbot.waitUntil(lambda: panel.table.isVisible())
    scrolls = panel.findChildren(QScrollArea)
    assert scrolls == [panel.scroll]
    parent = panel.parentWidget()
    while parent is not None:  # nor is the panel inside another one
        assert not isinstance(parent, QScrollArea)
        parent = parent.parentWidget()
    # lists and the table show all their rows: nothing scrolls inside the scroll area
    views = [w for w in panel.findChildren(QAbstractScrollArea)  # not the combo boxes' pop-up lists
             if isinstance(w, QAbstractItemView) and not isinstance(w, QHeaderView) and w.window() is panel.window()]
    assert set(views) == {panel.groups, panel.forms, panel.categories, panel.table}
    for view in views:
        assert view.verticalScrollBar().maximum() == 0, view.accessibleName()
        assert view.horizontalScrollBar().maximum() == 0, view.accessibleName()
    assert panel.scroll.horizontalScrollBar().maximum() == 0  # nothing wider than the panel
    for widget in panel.findChildren(QWidget):
        if isinstance(widget, QAbstractSpinBox) and widget.isVisible():
            assert widget.width() >= widget.sizeHint().width(), widget.accessibleName()  # e.g. "500 m" not clipped
        if isinstance(widget, QComboBox) and widget.isVisible():
            assert widget.width() >= widget.minimumSizeHint().width(), widget.accessibleName()
    header = panel.table.horizontalHeader()
    assert header.sectionResizeMode(1) == QHeaderView.ResizeMode.Stretch  # the site's name takes the rest
    for column in (0, 2, 3, 4, 5):
        assert header.sectionResizeMode(column) == QHeaderView.ResizeMode.ResizeToContents
        assert header.sectionSize(column) >= panel.table.sizeHintForColumn(column)
    assert panel.radius.accessibleName() == "Walking distance (r)"
    assert panel.table.rowCount() == 5


def test_typed_confirmation_says_what_it_expects(demo_window, tmp_path):
    from gui.export_dialog import ExportDialog

    dialog = ExportDialog(demo_window.session, demo_window)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    dialog.path.setText(str(tmp_path / "police.html"))
    assert ok.isEnabled() and dialog.confirm_hint.isHidden() and dialog.needs.isHidden()  # public: nothing to type
    dialog.profile.setCurrentIndex(dialog.profile.findData("police"))
    assert "Type RESTRICTED exactly" in dialog.confirm_hint.text()
    dialog.recipient.setText("Inspector")
    dialog.confirm.setText("restricted")
    assert not ok.isEnabled()  # matching stays exact …
    assert "RESTRICTED in capital letters" in dialog.confirm_hint.text()  # … and the hint says why
    assert dialog.needs.text() == "To export: type RESTRICTED to confirm" and not dialog.needs.isHidden()
    dialog.confirm.setText("restrict")
    assert "does not match" in dialog.confirm_hint.text() and not ok.isEnabled()
    dialog.confirm.setText("RESTRICTED")
    assert ok.isEnabled() and dialog.confirm_hint.text() == "Confirmed." and dialog.needs.isHidden()
    dialog.recipient.setText("")
    assert not ok.isEnabled() and "name the recipient" in dialog.needs.text()
    assert dialog.confirm.accessibleName() == "Confirmation" and dialog.profile.accessibleName() == "Profile"


def test_confirmation_hint_in_latvian_names_the_latvian_word():
    from gui.export_dialog import confirm_hint
    from layers import i18n

    with i18n.using("lv"):
        assert "APSTIPRINU" in confirm_hint("apstiprinu") and "lielajiem burtiem" in confirm_hint("apstiprinu")
        assert confirm_hint("APSTIPRINU") == confirm_hint("RESTRICTED") == "Apstiprināts."


def test_referral_now_lists_round_the_clock_lines_first_and_wraps_long_names(demo_window, qtbot):
    from gui.referral_dialog import NAME_WIDTH

    _laptop(demo_window, qtbot)
    demo_window.layer_panel.select_layer("places_of_concern")
    demo_window.attribute_table.selectRow(0)
    dialog = demo_window.tools.open_referral(interactive=False)
    qtbot.addWidget(dialog)
    dialog.urgency.setCurrentIndex(dialog.urgency.findData("now"))
    results = dialog.search()
    first = dialog.table.item(0, 0).text()
    assert "Drošā māja" in first and dialog.table.item(0, 3).text() == "open 24/7"
    always = [r["always_open"] for r in results]
    assert always == sorted(always, reverse=True)  # every round-the-clock service before the others
    dialog.urgency.setCurrentIndex(dialog.urgency.findData("soon"))  # control: soon stays nearest first
    assert "Drošā māja" not in dialog.search()[0]["name"]
    dialog.urgency.setCurrentIndex(dialog.urgency.findData("now"))
    dialog.search()
    dialog.show()
    table = dialog.table  # once shown, every row is as tall as its wrapped text, no taller
    qtbot.waitUntil(lambda: dialog.isVisible() and all(
        table.rowHeight(r) == table.sizeHintForRow(r) for r in range(table.rowCount())))
    assert dialog.width() <= 1366 and dialog.height() <= 768
    assert dialog.table.columnWidth(0) <= NAME_WIDTH and dialog.table.wordWrap()
    long_row = next(r for r in range(dialog.table.rowCount())
                    if dialog.table.fontMetrics().horizontalAdvance(dialog.table.item(r, 0).text())
                    > dialog.table.columnWidth(0))
    assert dialog.table.rowHeight(long_row) > dialog.table.fontMetrics().height() * 1.8  # wrapped, not cut
    assert dialog.table.item(long_row, 0).text() in dialog.table.item(long_row, 0).toolTip()
    assert dialog.urgency.accessibleName() == "Urgency" and dialog.table.accessibleName() == "Service"


def test_police_plan_confirmation_says_why_a_wrong_word_is_refused(demo_window, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    answers = iter([("restricted", True)])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: next(answers))
    assert demo_window.outreach_panel._police_recipient() is None
    assert "type RESTRICTED in capital letters" in demo_window.last_error
    answers = iter([("RESTRICTED", True), ("Inspector", True)])  # control: the exact word goes on to the recipient
    assert demo_window.outreach_panel._police_recipient() == "Inspector"
