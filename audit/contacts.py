"""Monthly hotline and service contacts: counts per month and risk area or service, recorded as undoable steps.

The municipality records how many people contacted the hotline or a service in a month, by area or by service —
numbers only, no personal data (``layers.importers.contacts`` checks every value). A file import is one step;
a row entered, changed or removed in the window is one step each. ``audit.evaluation`` reads them.
"""
from __future__ import annotations

from pathlib import Path

from audit.commands import DeleteRow, InsertRow, Macro, UpdateRow
from layers import campaign_store
from layers.i18n import _, ngettext
from layers.importers.contacts import AREA_TABLES, CHANNELS, check_channel, check_count, check_month, check_text, \
    read_contacts
from layers.migrations import CONTACTS_TABLE

__all__ = ["CHANNELS", "AREA_TABLES", "import_contacts", "add_contact", "edit_contact", "delete_contact",
           "contacts", "area_choices"]


def contacts(ws, first: str | None = None, last: str | None = None, channel: str | None = None) -> list[dict]:
    return campaign_store.contact_rows(ws.db.conn, first, last, channel)


def area_choices(ws) -> list[tuple[str, int, str]]:
    """(table, fid, name) of every risk area and service a count can be recorded for."""
    return [(table, fid, name) for table in AREA_TABLES.values()
            for fid, name in campaign_store.named_features(ws.db.conn, table)]


def import_contacts(ws, path: str | Path, encoding: str | None = None) -> Macro:
    """One step adding every row of a contacts CSV; the file is refused whole (InputError) when a row is wrong."""
    rows = read_contacts(path, ws.db.conn, encoding)
    label = ngettext("Import {n} contact count", "Import {n} contact counts", len(rows)).format(n=len(rows))
    return Macro([InsertRow(CONTACTS_TABLE, row, label=label) for row in rows], label=label)


def _checked(ws, *, month, channel, count, area_table, area_fid, source="") -> dict:
    if area_table not in AREA_TABLES.values():
        raise ValueError(_("give an area or a service, one of the two"))
    name = campaign_store.feature_name(ws.db.conn, area_table, int(area_fid))
    if name is None:
        raise ValueError(_("{table} has no row {id}").format(table=area_table, id=area_fid))
    return {"month": check_month(month), "channel": check_channel(channel), "area_table": area_table,
            "area_fid": int(area_fid), "area_name": name or f"#{area_fid}", "count": check_count(count),
            "source": check_text(source) or None}


def _refuse_duplicate(ws, row: dict, row_id: int | None = None) -> None:
    key = (row["month"], row["channel"], row["area_table"], row["area_fid"], row["area_name"])
    found = campaign_store.contact_keys(ws.db.conn).get(key)
    if found is not None and found != row_id:
        raise ValueError(_("{month} {channel} {place} is already recorded").format(
            month=row["month"], channel=row["channel"], place=row["area_name"]))


def add_contact(ws, **values) -> InsertRow:
    """A count for one month, channel and risk area or service (``area_table``, ``area_fid``)."""
    row = _checked(ws, **values)
    _refuse_duplicate(ws, row)
    return InsertRow(CONTACTS_TABLE, row, label=_("Add contact count"))


def edit_contact(ws, row_id: int, **values) -> UpdateRow | None:
    current = ws.get_row(CONTACTS_TABLE, row_id)
    if current is None:
        raise ValueError(_("{table} has no row {id}").format(table=CONTACTS_TABLE, id=row_id))
    merged = {k: current[k] for k in ("month", "channel", "count", "area_table", "area_fid", "source")}
    row = _checked(ws, **{**merged, "source": merged["source"] or "", **values})
    _refuse_duplicate(ws, row, row_id)
    changes = {k: v for k, v in row.items() if current.get(k) != v}
    return UpdateRow(CONTACTS_TABLE, row_id, changes, label=_("Edit contact count")) if changes else None


def delete_contact(ws, row_id: int) -> DeleteRow:
    if ws.get_row(CONTACTS_TABLE, row_id) is None:
        raise ValueError(_("{table} has no row {id}").format(table=CONTACTS_TABLE, id=row_id))
    return DeleteRow(CONTACTS_TABLE, row_id, label=_("Delete contact count"))

