"""CSV for spreadsheets: the dialects Lantern writes, empty cells, and the formula guard.

Every CSV is UTF-8 with a byte-order mark, so Excel in any Windows code page (Latvian: 1257) reads
"Brīvības" as written. The "excel-lv" dialect is what Excel with Latvian regional settings opens with a
double click: ``;`` between cells and a decimal comma. Missing values (None, NaN, NaT, pd.NA) are empty
cells, never the word "nan".

The formula guard follows OWASP's CSV-injection advice (prefix a ``'``) but only where a spreadsheet would
evaluate the cell: a text cell whose first character is = @ + - (or the full-width forms), tab, CR, LF or
NUL. A leading + or - is left alone only when the rest is plainly a number or a digits-and-underscores id
(``-12.5``, ``-13867_30817``), or the dash is alone: nothing else is allowed through, so "-1+1" or "-A1"
are neutralised.
"""
from __future__ import annotations

import csv
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from layers.errors import LanternError
from layers.i18n import _
from layers.values import is_missing

#: the encoding of every CSV Lantern writes: UTF-8 with a byte-order mark
ENCODING = "utf-8-sig"


@dataclass(frozen=True)
class Dialect:
    name: str
    delimiter: str
    decimal: str


DIALECTS = {"standard": Dialect("standard", ",", "."), "excel-lv": Dialect("excel-lv", ";", ",")}
DEFAULT_DIALECT = "standard"

#: a first character that makes a spreadsheet read the cell as a formula (or hide what follows)
_FORMULA_START = frozenset("=@+-\t\r\n\0\uff1d\uff20\uff0b\uff0d")
#: after a leading + or -: what is allowed through unchanged (a number, or an id of digits and underscores)
_HARMLESS_SIGNED = re.compile(r"[+-](\d[\d_]*([.,]\d+)?([eE][+-]?\d+)?|[.,]\d+)")


def dialect(name: str) -> Dialect:
    """The dialect called ``name``; an unknown name is refused with the names there are."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise LanternError(_("unknown CSV dialect {name!r}; choose one of {all}").format(
            name=name, all=", ".join(DIALECTS))) from None


def safe_cell(value):
    """``value``, with ``'`` in front when it is text a spreadsheet would evaluate as a formula."""
    if not isinstance(value, str) or not value or value[0] not in _FORMULA_START:
        return value
    if value == "-" or value[0] in "+-" and _HARMLESS_SIGNED.fullmatch(value):  # a lone dash: "none"
        return value
    return "'" + value


def cell(value, decimal: str = "."):
    """What a CSV cell holds: empty for a missing value, numbers with ``decimal``, guarded text."""
    if is_missing(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value)).replace(".", decimal)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return safe_cell(value if isinstance(value, str) else str(value))


_in_use: ContextVar[str] = ContextVar("csv_dialect", default=DEFAULT_DIALECT)


@contextmanager
def using_dialect(name: str):
    """Within the block, CSV files are written in dialect ``name`` (refused when unknown), like i18n.using."""
    dialect(name)
    token = _in_use.set(name)
    try:
        yield
    finally:
        _in_use.reset(token)


@contextmanager
def csv_writer(path: Path, dialect_name: str | None = None):
    """A function writing one row of cells to ``path`` (UTF-8 with BOM, the dialect's separator and decimal mark;
    None: the dialect in use)."""
    chosen = dialect(dialect_name or _in_use.get())
    with open(path, "w", newline="", encoding=ENCODING) as fh:
        writer = csv.writer(fh, delimiter=chosen.delimiter)
        yield lambda cells: writer.writerow([cell(v, chosen.decimal) for v in cells])


__all__ = ["DEFAULT_DIALECT", "DIALECTS", "ENCODING", "cell", "csv_writer", "dialect", "is_missing", "safe_cell", "using_dialect"]
