"""Translation for everything outside gui/: one ``_()`` helper.

Strings are written in English in the code and looked up in
``data/translations/<lang>.json``. Catalogue entries carry their own
``en``/``lv`` texts and are read with :func:`label`.
"""
from __future__ import annotations

import os
from functools import lru_cache

from layers.resources import load_json, resource

SUPPORTED = ("en", "lv")
_language = os.environ.get("LANTERN_LANG", "en") if os.environ.get("LANTERN_LANG") in SUPPORTED else "en"


def set_language(lang: str) -> None:
    global _language
    if lang not in SUPPORTED:
        raise ValueError(f"unsupported language {lang!r}; choose one of {', '.join(SUPPORTED)}")
    _language = lang


def language() -> str:
    return _language


@lru_cache(maxsize=None)
def _messages(lang: str) -> dict[str, str]:
    if lang == "en" or not resource(f"translations/{lang}.json").is_file():
        return {}
    return load_json(f"translations/{lang}.json")


def _(text: str) -> str:
    """Translate a user-visible message into the current language."""
    return _messages(_language).get(text, text)


def label(entry: dict, lang: str | None = None) -> str:
    """The label of a catalogue entry (``{"id", "en", "lv"}``) in the current language."""
    lang = lang or _language
    return entry.get(lang) or entry.get("en") or entry.get("id", "")
