"""Privacy rules: what must never be stored about people in reported cases."""
from __future__ import annotations

import unicodedata

from layers.resources import load_json


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def personal_fragments() -> tuple[str, ...]:
    return tuple(load_json("personal_identifiers.json")["fragments"])


def looks_personal(field_name: str) -> bool:
    """True when a field name suggests a personal identifier (name, ID, phone, …)."""
    folded = _fold(str(field_name))
    return any(fragment in folded for fragment in personal_fragments())
