"""Screen readers can name the controls of the audit windows: forms, the table, the questionnaire."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
)

pytestmark = pytest.mark.gui

INPUTS = (QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QListWidget)


def _unnamed(dialog) -> list[str]:
    found = []
    from PySide6.QtWidgets import QWidget

    for widget in (w for w in dialog.findChildren(QWidget) if isinstance(w, INPUTS)):
        if isinstance(widget.parentWidget(), (QComboBox, QAbstractSpinBox)):  # the line edit inside a spin box
            continue
        if not widget.accessibleName():
            found.append(f"{type(widget).__name__} {widget.objectName()}")
    return found


def test_every_input_of_the_audit_forms_has_an_accessible_name(demo_window):
    from shapely.geometry import box

    from audit.assessment import questions
    from gui.assessment_panel import AnswerDialog

    w = demo_window
    fid = int(w.session.frames["places_of_concern"].index[0])
    annotation = w.audit.open_annotation_form("places_of_concern", fid, interactive=False)
    estimate = w.audit.open_estimate_form(box(24.94, 60.16, 24.95, 60.17), "Test area", interactive=False)
    answers = [AnswerDialog(q, None, "T", w.assessment_panel.places(), w.session.frames)
               for q in list(questions().values())[:40]]
    for dialog in [annotation, estimate] + answers:
        assert _unnamed(dialog) == [], dialog.windowTitle()
    assert estimate.female.accessibleName() == "By sex, where known: female"
    for button in annotation.findChildren(QAbstractButton):
        if isinstance(button, (QCheckBox, QPushButton)):  # not Qt's own (a line edit's clear button)
            assert button.text() or button.accessibleName()


def test_the_table_and_the_questionnaire_are_named_and_explained(demo_window):
    w = demo_window
    for widget in (w.attribute_table, w.assessment_panel.tree, w.assessment_panel.plan):
        assert widget.accessibleName() and widget.toolTip()
