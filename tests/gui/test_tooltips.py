"""Data in tooltips is shown as text: a name or note that looks like HTML never loads a file or runs markup."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gui.tooltips import plain_tip

ROOT = Path(__file__).resolve().parents[2]
#: tooltips whose text is the app's own (translated or computed from the catalogue), not data
UI_TEXT = ("_(", "plain_tip(", '""', "method_text()", "self.origin_edit.placeholderText()",
           "self.source_edit.placeholderText()")
ATTACK = '<img src="/dev/zero"><b>bold</b> & more\nline two'


def test_plain_tip_shows_the_characters_as_typed(qapp):
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(plain_tip(ATTACK))
    assert doc.toPlainText() == ATTACK and "<img" not in doc.toHtml()
    # positive control: the same text as a bare tooltip is taken for markup: an image, bold, characters lost
    doc.setHtml(ATTACK)
    assert doc.toPlainText() != ATTACK and "<img" in doc.toHtml()
    assert plain_tip("") == "" and plain_tip(None) == ""


def _tooltip_arguments():
    for path in sorted((ROOT / "gui").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"\.setToolTip\(\s*(?:\w+,\s*)?(.+)", text):
            yield path.name, text[:match.start()].count("\n") + 1, match.group(1).strip()


@pytest.mark.parametrize("where", [f"{n}:{line}" for n, line, _a in _tooltip_arguments()])
def test_every_tooltip_is_ui_text_or_plain_data(where):
    """A tooltip is the app's own text, or data passed through plain_tip (a new tooltip of data fails here)."""
    argument = next(a for n, line, a in _tooltip_arguments() if f"{n}:{line}" == where)
    assert argument.startswith(UI_TEXT), f"{where}: setToolTip({argument} — wrap data in plain_tip()"


def test_a_note_with_markup_in_the_annotation_history_stays_text(qtbot):
    from gui.annotation_form import AnnotationForm

    history = [{"id": 1, "observed": "2026-11-20", "author": ATTACK, "confidence": "high", "indicators": "[]",
                "note": ATTACK, "team": ""}]
    form = AnnotationForm("worksites", 1, {"name": "X"}, history, "", parent=None)
    qtbot.addWidget(form)
    cell = form.history_table.item(0, 1)
    assert cell.text() == ATTACK and cell.toolTip() == plain_tip(ATTACK)
