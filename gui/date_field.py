"""A date field as every form shows one: ISO order, a calendar to pick from, today when no date is given."""
from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QDateEdit


def date_edit(day=None) -> QDateEdit:
    """A date field on ``day`` (a datetime.date), or on today."""
    edit = QDateEdit(QDate(day.year, day.month, day.day) if day else QDate.currentDate())
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setCalendarPopup(True)
    return edit
