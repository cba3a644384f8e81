"""Monthly hotline and service contacts from a CSV file: counts only, never personal data.

The columns are an allow-list — ``month`` (YYYY-MM), ``channel`` (hotline or service), ``area`` (a risk area's
name) or ``service`` (a service's name), ``count`` and optionally ``source`` — and anything else refuses the whole
file, with a plain word when a column looks personal (a name, a phone, a personal code). Text cells that hold an
e-mail address or a long run of digits (a phone number, a personal code) are refused too. Every row is checked
before anything is written: a bad month, channel or count, an unknown or ambiguous area, a row given twice or
already recorded refuses the file, naming its first five rows.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

from layers import campaign_store
from layers.errors import InputError
from layers.i18n import _, ngettext
from layers.privacy import looks_personal

COLUMNS = ("month", "channel", "area", "service", "count", "source")
CHANNELS = ("hotline", "service")
AREA_TABLES = {"area": "risk_areas", "service": "services"}
SHOWN_PROBLEMS = 5
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: an e-mail address, a Latvian personal code (DDMMYY-NNNNN), a phone number (7+ digits, maybe spaced)
_PERSONAL_VALUE = re.compile(r"@|\d{6}-\d{5}|(?:\+?\d ?){7,}")


def check_month(text, today: dt.date | None = None) -> str:
    """'YYYY-MM', a real month not after the current one; ValueError says what is wrong."""
    value = str(text or "").strip()
    found = _MONTH.match(value)
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ValueError(_("the month is written YYYY-MM (e.g. 2025-03), not {value!r}").format(value=value))
    if value > (today or dt.date.today()).strftime("%Y-%m"):
        raise ValueError(_("the month {value} is in the future").format(value=value))
    return value


def check_channel(text) -> str:
    value = str(text or "").strip().casefold()
    if value not in CHANNELS:
        raise ValueError(_("the channel is hotline or service, not {value!r}").format(value=str(text or "")))
    return value


def check_count(text) -> int:
    value = str(text if text is not None else "").strip()
    if not value.isdigit():
        raise ValueError(_("a count is a whole number, zero or more, not {value!r}").format(value=value))
    return int(value)


def check_text(text) -> str:
    """A text cell with no e-mail address and no long number in it (those are personal data)."""
    value = str(text or "").strip()
    if _PERSONAL_VALUE.search(value):
        raise ValueError(_("{value!r} looks like personal data (an e-mail address, a phone number or a personal "
                           "code); contacts are counts only").format(value=value))
    return value


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text).casefold().strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def check_columns(path: Path, columns) -> None:
    """Refuse a file with a column that is not on the allow-list (saying so when it looks personal)."""
    personal = [str(c) for c in columns if _fold(c) not in COLUMNS and looks_personal(str(c))]
    if personal:
        raise InputError(path, _("column {columns} looks like personal data (a name, a phone, a personal code); "
                                 "contacts are counts only: remove it and import again").format(
            columns=", ".join(personal)))
    unknown = [str(c) for c in columns if _fold(c) not in COLUMNS]
    if unknown:
        raise InputError(path, _("column {columns} is not one of {allowed}").format(
            columns=", ".join(unknown), allowed=", ".join(COLUMNS)))
    present = {_fold(c) for c in columns}
    missing = [c for c in ("month", "channel", "count") if c not in present]
    if missing:
        raise InputError(path, _("the file has no column {columns}").format(columns=", ".join(missing)))
    if not present & set(AREA_TABLES):
        raise InputError(path, _("the file needs an area or a service column"))


class AreaNames:
    """Risk areas and services by their (folded) names."""

    def __init__(self, conn):
        self.by_name: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for table in AREA_TABLES.values():
            for fid, name in campaign_store.named_features(conn, table):
                self.by_name.setdefault((table, _fold(name)), []).append((fid, name))

    def find(self, table: str, name: str) -> tuple[int, str]:
        found = self.by_name.get((table, _fold(name)), [])
        what = _("risk area") if table == "risk_areas" else _("service")
        if not found:
            raise ValueError(_("no {what} is named {name!r}").format(what=what, name=name))
        if len(found) > 1:
            raise ValueError(_("{n} places of type {what} are named {name!r}").format(n=len(found), what=what,
                                                                                     name=name))
        return found[0]


def contact_row(areas: AreaNames, *, month, channel, count, area="", service="", source="", today=None) -> dict:
    """One stored row from the cells of one record (ValueError names the first problem)."""
    area, service = check_text(area), check_text(service)
    if bool(area) == bool(service):
        raise ValueError(_("give an area or a service, one of the two"))
    table = AREA_TABLES["area" if area else "service"]
    fid, name = areas.find(table, area or service)
    return {"month": check_month(month, today), "channel": check_channel(channel), "area_table": table,
            "area_fid": fid, "area_name": name, "count": check_count(count), "source": check_text(source) or None}


def _key(row: dict) -> tuple:
    return row["month"], row["channel"], row["area_table"], row["area_fid"], row["area_name"]


def read_contacts(path: str | Path, conn, encoding: str | None = None, today: dt.date | None = None) -> list[dict]:
    """The file's rows as ``service_contacts`` rows, every one checked; InputError refuses the file."""
    from layers.importers.csv import _check_text, _whole

    path = Path(path)
    chosen, _notices = _check_text(path, encoding)
    frame = _whole(path, chosen)
    check_columns(path, frame.columns)
    frame.columns = [_fold(c) for c in frame.columns]
    if len(frame) == 0:
        raise InputError(path, _("the file has a header but no rows"))
    areas, recorded = AreaNames(conn), campaign_store.contact_keys(conn)
    rows, problems, seen = [], [], {}
    for number, record in enumerate(frame.to_dict("records"), start=1):
        try:
            row = contact_row(areas, today=today, **{k: record.get(k, "") for k in COLUMNS})
        except ValueError as exc:
            problems.append(_("row {n}: {problem}").format(n=number, problem=exc))
            continue
        if _key(row) in seen:
            problems.append(_("row {n}: the same month, channel and place as row {m}").format(n=number,
                                                                                             m=seen[_key(row)]))
        elif _key(row) in recorded:
            problems.append(_("row {n}: {month} {channel} {place} is already recorded; change it in the window").format(
                n=number, month=row["month"], channel=row["channel"], place=row["area_name"]))
        seen.setdefault(_key(row), number)
        rows.append(row)
    if problems:
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = len(problems) - SHOWN_PROBLEMS
        raise InputError(path, shown + ("; " + ngettext("and {n} more", "and {n} more", more).format(n=more)
                                        if more > 0 else ""))
    return rows
