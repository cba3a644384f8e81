"""A one-page indicator checklist for a place type, in English or Latvian, for audit teams on foot."""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

from audit.catalogue import catalogue_version, indicators_for, place_types
from layers.errors import LanternError
from layers.i18n import _

_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
    "C:/Windows/Fonts/DejaVuSans.ttf",
)
_TEXT = {
    "en": {"title": "Field checklist: signs of human trafficking", "place": "Place", "date": "Date",
           "team": "Team / author", "other": "Other — specify:", "note": "Notes (no names or personal data):",
           "footer": "Lantern · indicator catalogue v{v} · from the CBSS guidelines for municipalities",
           "help": "If a person may be in danger: State Police 67075344 · anti-trafficking hotline 28612120 (24/7)",
           "look": "Look for"},
    "lv": {"title": "Lauka kontrolsaraksts: cilvēku tirdzniecības pazīmes", "place": "Vieta", "date": "Datums",
           "team": "Komanda / autors", "other": "Cits — norādiet:", "note": "Piezīmes (bez vārdiem un personas datiem):",
           "footer": "Lantern · indikatoru katalogs v{v} · pēc CBSS vadlīnijām pašvaldībām",
           "help": "Ja cilvēks var būt briesmās: Valsts policija 67075344 · uzticības tālrunis 28612120 (24/7)",
           "look": "Ko meklēt"},
}


def _font() -> str:
    """A TrueType font with Latvian letters (ā, č, ē, ģ, ī, ķ, ļ, ņ, š, ū, ž)."""
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    if shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True, text=True).stdout
        if found.endswith(".ttf") and Path(found).is_file():
            return found
    raise LanternError(_("no font with Latvian letters found: install DejaVu Sans (Debian: fonts-dejavu-core)"))


_MARGIN = 36  # points, on every side of the page


def write_checklist(out: str | Path, place_type: str, lang: str = "en") -> int:
    """Write the checklist PDF; returns the number of pages (always 1)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    types = _checked_place_types(place_type, lang)
    text = _TEXT[lang]
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
    if lang not in _TEXT:
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
    y -= 18
    for label_text, x in ((text["place"], margin), (text["date"], margin + 250), (text["team"], margin + 370)):
        c.drawString(x, y, f"{label_text}: ")
    c.line(margin + 40, y - 2, margin + 240, y - 2)
    c.line(margin + 285, y - 2, margin + 365, y - 2)
    c.line(margin + 450, y - 2, width - margin, y - 2)
    return y - 16


def _draw_indicators(c, items, lang: str, width: float, y: float) -> float:
    """One tick box per indicator with its weight in dots and its wrapped text; returns the next line's y."""
    margin = _MARGIN
    # fit all indicators on one page: shrink the type if the list is long
    size = 9.5 if len(items) <= 26 else 8.3
    leading = size + 4.2
    c.setFont("LanternSans", size)
    for item in items:
        lines = _wrap(item.text(lang), "LanternSans", size, width - 2 * margin - 40)
        c.rect(margin, y - 2, 8, 8)
        weight = "●" * int(item.weight)
        c.drawString(margin + 14, y, weight)
        for k, line in enumerate(lines):
            c.drawString(margin + 40, y - k * leading, line)
        y -= leading * len(lines) + 2.5
    return y


def _draw_other_and_note(c, text: dict, width: float, y: float) -> None:
    """An "other" box with a line to write on, then three lines for a note."""
    margin = _MARGIN
    y -= 4
    c.rect(margin, y - 2, 8, 8)
    c.drawString(margin + 14, y, text["other"])
    c.line(margin + 120, y - 2, width - margin, y - 2)
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
