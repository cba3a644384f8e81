"""The questionnaire tree: whole section names and questions (wrapped, never cut), and saving an answer keeps
the open sections, the selected question and the scroll position."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from gui.tooltips import plain_tip

pytestmark = pytest.mark.gui

ID_ROLE = Qt.ItemDataRole.UserRole


def _state(tree):
    tops = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    return ({t.data(0, ID_ROLE) for t in tops if t.isExpanded()}, tree.currentItem().data(0, ID_ROLE),
            tree.verticalScrollBar().value())


def test_saving_an_answer_keeps_expansion_selection_and_scroll(demo_window, qtbot):
    from audit.assessment import questions

    panel = demo_window.assessment_panel
    panel.parentWidget().raise_()
    tree = panel.tree
    for i in (1, 4):
        tree.topLevelItem(i).setExpanded(True)
    section = tree.topLevelItem(4)
    child = next(section.child(k) for k in range(section.childCount())
                 if questions()[section.child(k).data(0, ID_ROLE)]["type"] == "number")
    tree.setCurrentItem(child)
    tree.scrollToItem(child)
    qtbot.waitUntil(lambda: tree.verticalScrollBar().value() > 0, timeout=5000)
    before = _state(tree)
    question = child.data(0, ID_ROLE)
    assert panel.save_answer(question, {"value": 7})
    assert _state(tree) == before
    assert tree.currentItem().text(1) == "7"
    demo_window.actions["undo"].trigger()  # and once more through undo
    assert _state(tree) == before and tree.currentItem().text(1) == ""


def test_a_new_section_keeps_the_open_ones(demo_window):
    from audit.assessment import sections

    panel = demo_window.assessment_panel
    tree = panel.tree
    tree.topLevelItem(2).setExpanded(True)
    opened = tree.topLevelItem(2).data(0, ID_ROLE)
    legacy = sections(legacy=True)[-1]
    count = tree.topLevelItemCount()
    assert panel.save_answer(legacy["questions"][0]["id"], {"text": "an answer from version 1"})
    assert tree.topLevelItemCount() == count + 1  # the tree was rebuilt with the kept section
    assert [tree.topLevelItem(i).data(0, ID_ROLE) for i in range(tree.topLevelItemCount())
            if tree.topLevelItem(i).isExpanded()] == [opened]


def test_long_section_names_and_questions_wrap_in_a_narrow_dock(demo_window, qtbot):
    from gui.assessment_panel import AssessmentPanel

    panel = AssessmentPanel(demo_window.session, demo_window.notify)  # as in a narrow dock
    qtbot.addWidget(panel)
    panel.resize(360, 700)
    panel.show()
    panel.refresh()
    qtbot.waitExposed(panel)
    tree = panel.tree
    assert tree.columnWidth(0) < 260
    tops = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    longest = max(tops, key=lambda t: len(t.text(0)))
    longest.setExpanded(True)
    metrics = tree.fontMetrics()
    assert metrics.horizontalAdvance(longest.text(0)) > tree.columnWidth(0)  # it cannot fit on one line
    delegate = tree.itemDelegate()
    for item in [longest] + [longest.child(k) for k in range(longest.childCount())]:
        index = tree.indexFromItem(item)
        needed = metrics.boundingRect(QRect(0, 0, delegate.text_width(index), 100_000),
                                      int(Qt.TextFlag.TextWordWrap), item.text(0)).height()
        assert tree.visualItemRect(item).height() >= needed, item.text(0)
    assert tree.visualItemRect(longest).height() >= 2 * metrics.lineSpacing()
    assert longest.toolTip(0).startswith(plain_tip(longest.text(0))[:-len("</qt>")]) and longest.toolTip(1) == longest.toolTip(0)


def test_a_panel_off_screen_fills_its_tree_when_it_is_shown(session, qtbot):
    """Opening a workspace does not build the questionnaire of a tab nobody looks at; showing it does."""
    from gui.assessment_panel import AssessmentPanel

    panel = AssessmentPanel(session, lambda *args: None)
    qtbot.addWidget(panel)
    session.opened.emit()  # as opening a workspace does
    assert panel.tree.topLevelItemCount() == 0  # hidden: nothing built yet
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.tree.topLevelItemCount() > 0 and panel.plan.rowCount() > 0
    count = panel.tree.topLevelItemCount()
    panel.tree.clear()
    session.opened.emit()  # shown: refreshed at once, as before
    assert panel.tree.topLevelItemCount() == count
