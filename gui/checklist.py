"""Checkable list rows (a choice question's options, a campaign's audiences): made and read one way."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from gui.tooltips import plain_tip

ID_ROLE = Qt.ItemDataRole.UserRole


def check_item(data, text: str, checked) -> QListWidgetItem:
    """A row showing ``text`` (its whole text in the tooltip), holding ``data``, ticked when ``data`` is in
    ``checked``."""
    item = QListWidgetItem(text)
    item.setData(ID_ROLE, data)
    item.setToolTip(plain_tip(text))
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Checked if data in checked else Qt.CheckState.Unchecked)
    return item


def ticked(widget: QListWidget) -> list:
    """The data of the ticked rows, in order (rows without data, such as headings, are never counted)."""
    return [widget.item(i).data(ID_ROLE) for i in range(widget.count())
            if widget.item(i).data(ID_ROLE) is not None and widget.item(i).checkState() == Qt.CheckState.Checked]
