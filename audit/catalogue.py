"""The audit's catalogues, read from data/: indicators, place types, risk groups, form choices."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from layers.i18n import label
from layers.resources import load_json


@dataclass(frozen=True)
class Indicator:
    id: str
    en: str
    lv: str
    forms: tuple[str, ...]
    place_types: tuple[str, ...]
    weight: float

    @property
    def label(self) -> str:
        return label({"id": self.id, "en": self.en, "lv": self.lv})

    def text(self, lang: str) -> str:
        return self.lv if lang == "lv" else self.en


@lru_cache(maxsize=None)
def indicators() -> dict[str, Indicator]:
    doc = load_json("indicators.json")
    return {
        d["id"]: Indicator(d["id"], d["en"], d["lv"], tuple(d["forms"]), tuple(d["place_types"]), float(d["weight"]))
        for d in doc["indicators"]
    }


def catalogue_version() -> int:
    return int(load_json("indicators.json")["version"])


def place_types() -> list[dict]:
    return load_json("indicators.json")["place_types"]


def place_type_of(kind_id: str, row: dict) -> str:
    """The 'where to look' type of a place, by its layer and category (data/indicators.json)."""
    for rule in load_json("indicators.json")["place_type_of"]["rules"]:
        if rule["kind"] != kind_id:
            continue
        if rule["values"] == "*" or row.get(rule["field"]) in rule["values"]:
            return rule["place_type"]
    return "any"


def indicators_for(place_type: str) -> list[Indicator]:
    """Indicators to look for at a place of this type: general ones first, then the type's own."""
    everything = list(indicators().values())
    if place_type == "any":
        return everything
    return [i for i in everything if "any" in i.place_types or place_type in i.place_types]


def risk_groups() -> list[dict]:
    return load_json("risk_groups.json")["groups"]


def confidence_levels() -> list[dict]:
    return load_json("annotation_choices.json")["confidence"]


def sources() -> list[dict]:
    return load_json("annotation_choices.json")["sources"]
