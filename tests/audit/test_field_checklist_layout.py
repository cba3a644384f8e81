"""The checklist's header: every label ends before its writing line starts, each line is long enough to write
on, in English and in Latvian; the dots before the indicators have a key."""
from __future__ import annotations

import subprocess

import pytest
from reportlab.pdfgen import canvas as rl_canvas

from audit import field_checklist
from audit.catalogue import place_types
from layers.i18n import using

FONT = "LanternSans"


class Recording(rl_canvas.Canvas):
    """A canvas that remembers the strings and lines drawn on it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.strings, self.lines = [], []

    def drawString(self, x, y, text, *args, **kwargs):  # noqa: N802 - reportlab API
        self.strings.append((x, y, text, self._fontsize))
        return super().drawString(x, y, text, *args, **kwargs)

    def line(self, x1, y1, x2, y2):
        self.lines.append((x1, y1, x2, y2))
        return super().line(x1, y1, x2, y2)


@pytest.fixture
def drawn(monkeypatch):
    made = []

    def record(*args, **kwargs):
        made.append(Recording(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(rl_canvas, "Canvas", record)
    return made


@pytest.mark.parametrize("lang", ["en", "lv"])
@pytest.mark.parametrize("place_type", [t["id"] for t in place_types()])
def test_each_label_ends_before_its_writing_line(tmp_path, drawn, lang, place_type):
    from reportlab.pdfbase.pdfmetrics import stringWidth

    field_checklist.write_checklist(tmp_path / "list.pdf", place_type, lang)
    c = drawn[0]
    with using(lang):
        labels = [f"{field_checklist._texts()[k]}:" for k in ("place", "date", "team")]
    header = [(x, y, text, size) for x, y, text, size in c.strings if text in labels]
    assert [text for *_xy, text, _size in header] == labels
    for x, y, text, size in header:
        ends = x + stringWidth(text, FONT, size)
        line = next(ln for ln in c.lines if abs(ln[1] - (y - 3)) < 0.5 and ln[0] >= ends - 0.01 and ln[0] - ends < 10)
        assert line[0] - ends >= 3, f"{text!r} runs into its line"
        assert line[2] - line[0] >= 90, f"the line after {text!r} is too short to write on"
        others = [s for s in header if s[2] != text and abs(s[1] - y) < 0.5 and s[0] > x]
        assert all(line[2] + 8 <= s[0] for s in others), f"the line after {text!r} runs into the next label"


@pytest.mark.parametrize("lang, words", [("en", ["weak", "moderate", "strong"]), ("lv", ["vāja", "vidēja", "spēcīga"])])
def test_the_weight_dots_have_a_key(tmp_path, lang, words):
    out = tmp_path / "list.pdf"
    field_checklist.write_checklist(out, "street", lang)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    key = next(line for line in text.splitlines() if "●●●" in line and words[2] in line)
    assert all(word in key for word in words) and "●●" in key
