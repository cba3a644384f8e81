"""The OK / Cancel row of a dialog, its OK button saying what it does."""
from __future__ import annotations

from PySide6.QtWidgets import QDialogButtonBox


def ok_cancel(dialog, ok_text: str, accept=None) -> QDialogButtonBox:
    """OK (named ``ok_text``) runs ``accept`` (default: the dialog's accept), Cancel rejects."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(accept or dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons
