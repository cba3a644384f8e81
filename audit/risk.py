"""The risk level of a place: a transparent rule over its annotations (data/risk_rules.json).

score = Σ over annotations in the window of
        Σ(weights of observed indicators, 'other' = other_weight) × confidence factor × 0.5^(age / half-life)
level = the highest threshold the score reaches (none below the first).
"""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field

from audit.catalogue import indicators
from layers.i18n import _, label, decimal
from layers.resources import load_json

LEVELS = ("none", "low", "elevated", "high")


@dataclass(frozen=True)
class RiskRules:
    half_life_days: float
    window_days: float
    other_weight: float
    confidence_factor: dict
    thresholds: tuple[tuple[str, float], ...]

    @classmethod
    def load(cls) -> "RiskRules":
        doc = load_json("risk_rules.json")
        return cls(
            half_life_days=float(doc["half_life_days"]),
            window_days=float(doc["window_days"]),
            other_weight=float(doc["other_weight"]),
            confidence_factor={k: float(v) for k, v in doc["confidence_factor"].items()},
            thresholds=tuple((t["level"], float(t["min"])) for t in doc["thresholds"]),
        )

    def level(self, score: float) -> str:
        level = "none"
        for name, minimum in self.thresholds:
            if score >= minimum:
                level = name
        return level


@dataclass
class Assessment:
    level: str = "none"
    score: float = 0.0
    drivers: list[tuple[str, float]] = field(default_factory=list)  # indicator id (or "other"), contribution
    annotations: int = 0

    def explain(self, top: int = 3) -> str:
        """'Elevated (score 5.2): passport held by employer 2.4, …' — for tooltips and the form."""
        head = _("{level} (score {score})").format(level=level_label(self.level), score=decimal(self.score))
        if not self.drivers:
            return head
        names = []
        for ind_id, contribution in self.drivers[:top]:
            text = indicators()[ind_id].label if ind_id in indicators() else _("other observation")
            names.append(f"{text} {decimal(contribution)}")
        return f"{head}: " + "; ".join(names)


def level_label(level: str) -> str:
    for entry in load_json("risk_rules.json")["levels"]:
        if entry["id"] == level:
            return label(entry)
    return level


def level_colors() -> dict[str, str]:
    return {e["id"]: e["color"] for e in load_json("risk_rules.json")["levels"]}


def _date(value) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def assess(annotations: list[dict], as_of: dt.date | None = None, rules: RiskRules | None = None,
           forms: set[str] | None = None) -> Assessment:
    """Assess one place from its annotations (dicts with observed, indicators, other_text, confidence).

    ``forms`` limits the indicators that count to those signalling one of these forms.
    """
    rules = rules or RiskRules.load()
    as_of = as_of or dt.date.today()
    catalogue = indicators()
    contributions: dict[str, float] = defaultdict(float)
    counted = 0
    for ann in annotations:
        age = (as_of - _date(ann["observed"])).days
        if age < 0 or age > rules.window_days:
            continue
        counted += 1
        factor = rules.confidence_factor.get(ann.get("confidence") or "medium", 0.8) * 0.5 ** (age / rules.half_life_days)
        ids = ann["indicators"]
        ids = json.loads(ids) if isinstance(ids, str) else list(ids or [])
        for ind_id in ids:
            ind = catalogue.get(ind_id)
            if ind is None or (forms is not None and not set(ind.forms) & forms):
                continue
            contributions[ind_id] += ind.weight * factor
        if ann.get("other_text") and forms is None:
            contributions["other"] += rules.other_weight * factor
    score = sum(contributions.values())
    drivers = sorted(contributions.items(), key=lambda kv: (-kv[1], kv[0]))
    return Assessment(rules.level(score), score, drivers, counted)
