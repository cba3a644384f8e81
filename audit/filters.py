"""Filters of the audit view: forms of exploitation, a date range, confidence.

Plain functions over data frames, so the map and the attribute table (and
exports later) follow the same rule.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from layers.values import stored_ids


@dataclass(frozen=True)
class FilterState:
    forms: frozenset[str] | None = None  # None: every form
    date_from: str | None = None  # ISO dates, inclusive
    date_to: str | None = None
    confidence: frozenset[str] | None = None  # None: every confidence

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.forms, self.date_from, self.date_to, self.confidence))

    def as_of(self) -> dt.date:
        """The date risk levels are assessed at: the end of the range, or today."""
        return dt.date.fromisoformat(self.date_to) if self.date_to else dt.date.today()


def forms_match(value, forms) -> bool:
    if forms is None:
        return True
    ids = stored_ids(value)
    return not ids or bool(set(ids) & forms)


def _in_range(value, state: FilterState, month: bool = False) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return True
    text = str(value)
    start = state.date_from[:7] if (month and state.date_from) else state.date_from
    end = state.date_to[:7] if (month and state.date_to) else state.date_to
    return (start is None or text >= start) and (end is None or text <= end)


#: the layers the filters apply to (cases and risk areas by form and date, estimates by date and confidence)
FILTERED_KINDS = ("reported_cases", "risk_areas", "risk_group_estimates")


def applies_to(kind_id: str, state: FilterState) -> bool:
    """Whether ``state`` hides any of a layer's rows: the filters are set, and the layer is one they filter."""
    return state.active and kind_id in FILTERED_KINDS


def visible_fids(kind_id: str, frame, state: FilterState) -> set[int] | None:
    """The fids of a layer that pass the filters; None when the filters do not apply to it."""
    if not applies_to(kind_id, state):
        return None
    if kind_id == "reported_cases":
        return {int(fid) for fid, forms, month in zip(frame.index, frame["forms"], frame["reported"])
                if forms_match(forms, state.forms) and _in_range(month, state, month=True)}
    if kind_id == "risk_areas":
        return {int(fid) for fid, forms in zip(frame.index, frame["forms"]) if forms_match(forms, state.forms)}
    if kind_id == "risk_group_estimates":
        return {int(fid) for fid, day, conf in zip(frame.index, frame["estimated_on"], frame["confidence"])
                if _in_range(day, state) and (state.confidence is None or conf in state.confidence)}
    return None


def row_filter(kind_id: str, state: FilterState):
    """The filters as plain SQL conditions on a layer's rows (layers.viewport.RowFilter), or None when
    they do not apply to it; the same rule as :func:`visible_fids`, asked of the database."""
    from layers.viewport import RowFilter

    if not state.active:
        return None
    forms = None if state.forms is None else tuple(sorted(state.forms))
    if kind_id == "reported_cases":
        return RowFilter("forms", forms, "reported", state.date_from and state.date_from[:7],
                         state.date_to and state.date_to[:7])
    if kind_id == "risk_areas":
        return RowFilter("forms", forms)
    return None
