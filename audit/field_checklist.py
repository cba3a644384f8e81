"""A one-page indicator checklist for a place type, in English or Latvian, for audit teams on foot."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

from audit.catalogue import catalogue_version, indicators_for, place_types
from layers.errors import LanternError
from layers.i18n import SUPPORTED, _, using

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
    "C:/Windows/Fonts/DejaVuSans.ttf",
)


def _texts() -> dict[str, str]:
    """The checklist's fixed lines in the current language (write_checklist switches to the checklist's)."""
    return {"title": _("Field checklist: signs of human trafficking"), "place": _("Place"), "date": _("Date"),
            "team": _("Team / author"), "other": _("Other — specify:"),
            "note": _("Notes (no names or personal data):"),
            "footer": _("Lantern · indicator catalogue v{v} · from the CBSS guidelines for municipalities"),
            "help": _("If a person may be in danger: State Police 67075344 · anti-trafficking hotline 28612120 "
                      "(24/7)"),
            "look": _("Look for"),
            "weights": _("Weight of a sign: ● weak · ●● moderate · ●●● strong")}


def _font() -> str:
    """A TrueType font with Latvian letters (ā, č, ē, ģ, ī, ķ, ļ, ņ, š, ū, ž)."""
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    if shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True).stdout
        if found.endswith(".ttf") and Path(found).is_file():
            return found
    import matplotlib

    bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"  # matplotlib ships it
    if bundled.is_file():
        return str(bundled)
    raise LanternError(_("no font with Latvian letters found: install DejaVu Sans (Debian: fonts-dejavu-core)"))


_MARGIN = 36  # points, on every side of the page


def write_checklist(out: str | Path, place_type: str, lang: str = "en") -> int:
    """Write the checklist PDF; returns the number of pages (always 1)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    types = _checked_place_types(place_type, lang)
    with using(lang):
        text = _texts()
    pdfmetrics.registerFont(TTFont("LanternSans", _font()))
    items = indicators_for(place_type)

    width, height = A4
    c = canvas.Canvas(str(out), pagesize=A4)
    c.setTitle(text["title"])
    c.setAuthor("Lantern")
    y = _draw_header(c, text, types[place_type][lang], width, height - _MARGIN)
    y = _draw_indicators(c, items, lang, width, y)
    _draw_other_and_note(c, text, width, y)
    _draw_footer(c, text)
    c.showPage()
    c.save()
    return 1


def _checked_place_types(place_type: str, lang: str) -> dict:
    """The place types by id, once the language and the place type are known to exist."""
    if lang not in SUPPORTED:
        raise LanternError(_("unsupported language {lang!r}").format(lang=lang))
    types = {t["id"]: t for t in place_types()}
    if place_type not in types:
        raise LanternError(_("unknown place type {t!r}; known: {known}").format(t=place_type, known=", ".join(types)))
    return types


def _draw_header(c, text: dict, place_name: str, width: float, y: float) -> float:
    """Title, what to look for, and the place / date / team lines to fill in; returns the next line's y."""
    margin = _MARGIN
    c.setFont("LanternSans", 15)
    c.drawString(margin, y - 6, text["title"])
    y -= 26
    c.setFont("LanternSans", 10)
    c.drawString(margin, y, f"{text['look']}: {place_name}")
    y -= 22
    # the place on a line of its own; the date and the team below, each line starting after its label
    # (labels differ in length between languages) and long enough to write on by hand
    _label_and_line(c, text["place"], margin, y, end=width - margin)
    y -= 22
    date_end = _label_and_line(c, text["date"], margin, y, length=_DATE_LINE)
    _label_and_line(c, text["team"], date_end + _FIELD_GAP, y, end=width - margin)
    y -= 15
    c.setFont("LanternSans", 8)
    c.setFillGray(0.3)
    c.drawString(margin, y, text["weights"])  # the key of the dots before each indicator
    c.setFillGray(0)
    return y - 15


_DATE_LINE = 100  # points of line to write a date on
_FIELD_GAP = 16  # between one field's line and the next field's label
_LABEL_GAP = 5  # between a label and its line


def _label_and_line(c, label_text: str, x: float, y: float, end: float | None = None, length: float = 0) -> float:
    """``label:`` then a line to write on, to ``end`` or ``length`` points long; returns where the line ends."""
    c.setFont("LanternSans", 10)
    label_text = f"{label_text}:"
    c.drawString(x, y, label_text)
    start = x + c.stringWidth(label_text, "LanternSans", 10) + _LABEL_GAP
    end = start + length if end is None else end
    c.line(start, y - 3, end, y - 3)
    return end


_FOOTER_TOP = _MARGIN + 20  # the help line and the catalogue line
_NOTES_HEIGHT = 4 + 18 + 3 * 16 + 12  # the "other" line, the note label, three writing lines, and a gap


def _indicators_height(items, lang: str, width: float, size: float) -> float:
    lines = sum(len(_wrap(item.text(lang), "LanternSans", size, width - 2 * _MARGIN - 40)) for item in items)
    return lines * (size + 4.2) + 2.5 * len(items)


def _indicator_size(items, lang: str, width: float, y: float) -> float:
    """The largest type (9.5 pt down to 6.5 pt) at which every indicator, the notes and the footer fit the page."""
    room = y - _FOOTER_TOP - _NOTES_HEIGHT
    size = 9.5
    while size > 6.5 and _indicators_height(items, lang, width, size) > room:
        size -= 0.25
    return size


def _draw_indicators(c, items, lang: str, width: float, y: float) -> float:
    """One tick box per indicator with its weight in dots and its wrapped text; returns the next line's y."""
    margin = _MARGIN
    size = _indicator_size(items, lang, width, y)  # all on one page, with room for the notes
    leading = size + 4.2
    c.setFont("LanternSans", size)
    for item in items:
        lines = _wrap(item.text(lang), "LanternSans", size, width - 2 * margin - 40)
        c.rect(margin, y - 2, 8, 8)
        c.setFont("LanternSans", min(size, 7))  # the weight's dots: at most three, in the 26 pt before the text
        c.drawString(margin + 13, y + 0.5, "●" * int(item.weight))
        c.setFont("LanternSans", size)
        for k, line in enumerate(lines):
            c.drawString(margin + 40, y - k * leading, line)
        y -= leading * len(lines) + 2.5
    return y


def _draw_other_and_note(c, text: dict, width: float, y: float) -> None:
    """An "other" box with a line to write on, then three lines for a note."""
    margin = _MARGIN
    y -= 4
    c.setFont("LanternSans", 9)
    c.rect(margin, y - 2, 8, 8)
    c.drawString(margin + 14, y, text["other"])
    c.line(margin + 14 + c.stringWidth(text["other"], "LanternSans", c._fontsize) + 4, y - 2, width - margin, y - 2)
    y -= 18
    c.drawString(margin, y, text["note"])
    for _k in range(3):
        y -= 16
        c.line(margin, y, width - margin, y)


def _draw_footer(c, text: dict) -> None:
    """The help line and the catalogue version with today's date."""
    c.setFont("LanternSans", 8)
    c.drawString(_MARGIN, _MARGIN + 12, text["help"])
    c.drawString(_MARGIN, _MARGIN, text["footer"].format(v=catalogue_version()) + f" · {dt.date.today().isoformat()}")


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if stringWidth(trial, font, size) <= width:
            line = trial
        else:
            lines.append(line)
            line = word
    lines.append(line)
    return lines


__all__ = ["write_checklist"]
