"""Turning raw attribute values (from files, forms, the CLI) into a field's stored value.

Each function returns the stored value or raises ``ValueError`` with a
message that says what was wrong; callers add the row and field.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re

from layers.catalogue import Field
from layers.i18n import _

_TRUE = {"true", "t", "yes", "y", "1", "jā", "ja", "x"}
_FALSE = {"false", "f", "no", "n", "0", "nē", "ne", ""}
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[T ].*)?$")
_LIST_SPLIT = re.compile(r"[;,|]")


def is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if type(value).__name__ in ("datetime64", "timedelta64"):  # numpy's own NaT
        import numpy as np

        return bool(np.isnat(value))
    return isinstance(value, str) and value.strip() == ""


def stored_ids(value) -> list[str]:
    """The ids of a stored multi_enum value (a JSON list); [] when missing or not a list."""
    if isinstance(value, (list, tuple, set)):
        return list(value)
    if isinstance(value, str) and value.startswith("["):
        return json.loads(value)
    return []


def _choice_id(field: Field, raw) -> str:
    text = str(raw).strip()
    folded = text.casefold()
    for c in field.choices:
        if folded in (c.id.casefold(), c.en.casefold(), c.lv.casefold()):
            return c.id
    allowed = ", ".join(c.id for c in field.choices)
    raise ValueError(_("{value!r} is not one of: {allowed}").format(value=text, allowed=allowed))


def _multi(field: Field, raw) -> str:
    if isinstance(raw, (list, tuple, set)):
        items = list(raw)
    else:
        text = str(raw).strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(_("{value!r} is not a valid list").format(value=text)) from exc
        else:
            items = [p for p in _LIST_SPLIT.split(text) if p.strip()]
    ids = {_choice_id(field, item) for item in items}
    # keep catalogue order so equal sets are stored identically
    return json.dumps([c.id for c in field.choices if c.id in ids])


def _month(raw) -> str:
    if isinstance(raw, (dt.date, dt.datetime)):
        return f"{raw.year:04d}-{raw.month:02d}"
    m = _MONTH.match(str(raw).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(_("{value!r} is not a month (YYYY-MM)").format(value=raw))
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def _date(raw) -> str:
    if isinstance(raw, (dt.date, dt.datetime)):
        return raw.strftime("%Y-%m-%d")
    try:
        return dt.date.fromisoformat(str(raw).strip()[:10]).isoformat()
    except ValueError as exc:
        raise ValueError(_("{value!r} is not a date (YYYY-MM-DD)").format(value=raw)) from exc


def _boolean(raw) -> int:
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return int(raw)
    text = str(raw).strip().casefold()
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise ValueError(_("{value!r} is not yes/no").format(value=raw))


def _number(field: Field, raw, kind: type):
    try:
        number = float(str(raw).strip().replace(",", ".")) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(_("{value!r} is not a number").format(value=raw)) from exc
    if kind is int:
        if not number.is_integer():
            raise ValueError(_("{value!r} is not a whole number").format(value=raw))
        number = int(number)
    if field.minimum is not None and number < field.minimum:
        raise ValueError(_("{value!r} is below the minimum {minimum:g}").format(value=raw, minimum=field.minimum))
    return number


def coerce(field: Field, raw):
    """The stored value of ``raw`` for ``field`` (None when missing)."""
    if is_missing(raw):
        if field.required:
            raise ValueError(_("a value is required"))
        return None
    if field.type == "text":
        return str(raw).strip()
    if field.type == "integer":
        return _number(field, raw, int)
    if field.type == "real":
        return _number(field, raw, float)
    if field.type == "boolean":
        return _boolean(raw)
    if field.type == "month":
        return _month(raw)
    if field.type == "date":
        return _date(raw)
    if field.type == "enum":
        return _choice_id(field, raw)
    if field.type == "multi_enum":
        value = _multi(field, raw)
        if field.required and value == "[]":
            raise ValueError(_("at least one value is required"))
        return value
    raise ValueError(f"unknown field type {field.type!r}")  # pragma: no cover - catalogue is validated


def _coerce_unique(field: Field, uniques) -> tuple[list, list]:
    """``coerce`` of each distinct value once: (stored values, problems), None where there is none."""
    stored, problems = [], []
    for raw in uniques:
        try:
            stored.append(coerce(field, raw))
            problems.append(None)
        except ValueError as exc:
            stored.append(None)
            problems.append(str(exc))
    return stored, problems


def _uniform(values) -> bool:
    """Whether distinct values can be told apart by equality alone (1, 1.0 and True are equal but store
    differently): a column of one dtype, or an object column of text only."""
    import pandas as pd

    if values.dtype != object:
        return True
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def coerce_many(field: Field, values) -> tuple[list, dict[int, str]]:
    """``coerce`` over a column, each distinct value checked once: (stored values, {position: problem}).

    The same values and messages as ``coerce`` row by row; a column of a few thousand distinct
    values among a million rows costs a few thousand checks.
    """
    import numpy as np
    import pandas as pd

    values = pd.Series(values, copy=False).reset_index(drop=True)
    if not _uniform(values):
        uniques, codes = list(values), np.arange(len(values))
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        uniques = [*uniques.tolist(), None]  # Python values, as row by row; code -1 (missing) → the last entry
    stored, problems = _coerce_unique(field, uniques)
    out = np.empty(len(stored), dtype=object)
    out[:] = stored
    column = out[codes].tolist()
    bad = np.flatnonzero(np.array([p is not None for p in problems], dtype=bool)[codes])
    return column, {int(i): problems[codes[i]] for i in bad}
