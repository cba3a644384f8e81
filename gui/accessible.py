"""Accessible names for screen readers: a form field is named by its label."""
from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QWidget


def plain(text: str) -> str:
    """A label's text as a screen reader should say it: no mnemonic ampersand, no trailing colon."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip().rstrip(":").rstrip()


def name(widget: QWidget, text: str) -> QWidget:
    widget.setAccessibleName(plain(text))
    return widget


def name_form_fields(form: QFormLayout) -> None:
    """Each field of ``form`` without an accessible name gets its row label's text."""
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label is None or field is None or label.widget() is None or field.widget() is None:
            continue
        if not field.widget().accessibleName():
            name(field.widget(), label.widget().text())
