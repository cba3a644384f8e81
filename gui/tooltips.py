"""Tooltips that show data as text, never as markup.

Qt renders a tooltip as rich text when it *looks* like HTML (Qt::mightBeRichText), and rich text loads
images, from local files too: a place name or a field note such as ``<img src="/home/…">`` would draw a
file of the reviewer's disk, and ``<img src="/dev/zero">`` would read forever. Every tooltip that holds data
(names from OpenStreetMap, notes from phones, answers typed by users) goes through ``plain_tip``: escaped
and wrapped, so Qt shows the characters as typed.
"""
from __future__ import annotations

import html


def plain_tip(text) -> str:
    """``text`` as a tooltip showing exactly these characters (line breaks kept); empty stays empty."""
    text = "" if text is None else str(text)
    if not text:
        return ""
    return "<qt>" + html.escape(text, quote=False).replace("\n", "<br>") + "</qt>"
