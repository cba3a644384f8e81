"""The catalogue of the local network (``data/actor_catalogue.json``): sectors and roles in the chain of
assistance, with their labels in English and in the guidelines' own Latvian words."""
from __future__ import annotations

from layers.i18n import label
from layers.resources import load_json


def catalogue() -> dict:
    return load_json("actor_catalogue.json")


def sectors() -> list[dict]:
    return catalogue()["sectors"]


def roles() -> list[dict]:
    return catalogue()["roles"]


def sector(sector_id: str | None) -> dict | None:
    return next((s for s in sectors() if s["id"] == sector_id), None)


def sector_label(sector_id: str | None, lang: str | None = None) -> str:
    entry = sector(sector_id)
    return label(entry, lang) if entry else (sector_id or "")


def role_label(role_id: str, lang: str | None = None) -> str:
    entry = next((r for r in roles() if r["id"] == role_id), None)
    return label(entry, lang) if entry else role_id


def renewal_warning_days() -> int:
    """How far ahead an agreement's renewal is flagged as due (the guidelines ask for regular review)."""
    return int(catalogue()["renewal_warning_days"])


def find_id(entries: list[dict], text: str) -> str | None:
    """The id of the entry ``text`` names: its id, or its English or Latvian label (case and spacing ignored)."""
    wanted = " ".join(str(text).split()).casefold()
    for entry in entries:
        if wanted in {entry["id"].casefold(), entry["en"].casefold(), entry["lv"].casefold()}:
            return entry["id"]
    return None
