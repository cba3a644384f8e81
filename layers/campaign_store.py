"""The SQL of prevention campaigns, their locations and the monthly service contacts (schema 9, issue 18).

Reads only: every change goes through ``audit.commands`` (``audit.campaigns``, ``audit.contacts``), so the change
log sees it. Lists (audiences, languages, channels, action items) are stored as JSON arrays of catalogue ids.
"""
from __future__ import annotations

import sqlite3

from layers.migrations import ACTION_PLAN_TABLE, CAMPAIGN_SITES_TABLE, CAMPAIGNS_TABLE, CONTACTS_TABLE


def _dicts(cursor: sqlite3.Cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _exists(conn: sqlite3.Connection, table: str) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    return found is not None


def campaign_rows(conn: sqlite3.Connection) -> list[dict]:
    """Every campaign, earliest first."""
    if not _exists(conn, CAMPAIGNS_TABLE):
        return []
    return _dicts(conn.execute(f"SELECT * FROM {CAMPAIGNS_TABLE} ORDER BY starts, id"))


def campaign_row(conn: sqlite3.Connection, campaign_id: int) -> dict | None:
    rows = _dicts(conn.execute(f"SELECT * FROM {CAMPAIGNS_TABLE} WHERE id = ?", (int(campaign_id),)))
    return rows[0] if rows else None


def find_campaign(conn: sqlite3.Connection, key: str | int) -> dict | None:
    """A campaign by its id (a number) or its name (case-insensitive; the first of that name)."""
    text = str(key).strip()
    if text.isdigit():
        row = campaign_row(conn, int(text))
        if row is not None:
            return row
    wanted = text.casefold()
    return next((r for r in campaign_rows(conn) if (r["name"] or "").strip().casefold() == wanted), None)


def location_rows(conn: sqlite3.Connection, campaign_id: int | None = None) -> list[dict]:
    """The locations of one campaign (None: of every campaign), in the order they were added."""
    if not _exists(conn, CAMPAIGN_SITES_TABLE):
        return []
    if campaign_id is None:
        return _dicts(conn.execute(f"SELECT * FROM {CAMPAIGN_SITES_TABLE} ORDER BY campaign_id, id"))
    return _dicts(conn.execute(f"SELECT * FROM {CAMPAIGN_SITES_TABLE} WHERE campaign_id = ? ORDER BY id",
                               (int(campaign_id),)))


def serving(conn: sqlite3.Connection) -> dict[int, list[tuple[int, str]]]:
    """Action-plan row id → the campaigns (id, name) that serve it."""
    if not _exists(conn, CAMPAIGNS_TABLE):
        return {}
    rows = conn.execute(f"SELECT j.value, c.id, c.name FROM {CAMPAIGNS_TABLE} AS c, json_each(c.action_items) AS j "
                        "WHERE json_valid(c.action_items) ORDER BY c.starts, c.id")
    out: dict[int, list[tuple[int, str]]] = {}
    for item, campaign_id, name in rows:
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit()):
            out.setdefault(int(item), []).append((campaign_id, name))
    return out


def action_item_ids(conn: sqlite3.Connection) -> set[int]:
    return {r[0] for r in conn.execute(f"SELECT id FROM {ACTION_PLAN_TABLE}")} if _exists(conn, ACTION_PLAN_TABLE) \
        else set()


def contact_rows(conn: sqlite3.Connection, first: str | None = None, last: str | None = None,
                 channel: str | None = None) -> list[dict]:
    """Monthly contact counts, optionally from month ``first`` to ``last`` ('YYYY-MM', inclusive) and of one
    channel; by month, channel and area."""
    if not _exists(conn, CONTACTS_TABLE):
        return []
    where, params = [], []
    for clause, value in (("month >= ?", first), ("month <= ?", last), ("channel = ?", channel)):
        if value is not None:
            where.append(clause)
            params.append(value)
    sql = f"SELECT * FROM {CONTACTS_TABLE}" + (" WHERE " + " AND ".join(where) if where else "")
    return _dicts(conn.execute(sql + " ORDER BY month, channel, area_name, id", params))


def contact_keys(conn: sqlite3.Connection) -> dict[tuple, int]:
    """(month, channel, area_table, area_fid, area_name) of each recorded count → its row id."""
    return {(r["month"], r["channel"], r["area_table"], r["area_fid"], r["area_name"]): r["id"]
            for r in contact_rows(conn)}


def named_features(conn: sqlite3.Connection, table: str) -> list[tuple[int, str]]:
    """(fid, name) of a layer's features that have a name."""
    if not _exists(conn, table):
        return []
    return [(int(f), n) for f, n in conn.execute(f'SELECT fid, name FROM "{table}" WHERE name IS NOT NULL '
                                                 "AND trim(name) != '' ORDER BY fid")]


def feature_name(conn: sqlite3.Connection, table: str, fid: int) -> str | None:
    """A feature's name ('' when it has none); None when the layer has no such feature."""
    if not _exists(conn, table):
        return None
    row = conn.execute(f'SELECT name FROM "{table}" WHERE fid = ?', (int(fid),)).fetchone()
    return None if row is None else (row[0] or "")


def cases_between(conn: sqlite3.Connection, first: str, last: str):
    """Reported cases of the months ``first`` to ``last`` ('YYYY-MM', inclusive), as a GeoDataFrame."""
    from layers.layer_reader import read_frame

    return read_frame(conn, "reported_cases", "t.reported >= ? AND t.reported <= ?", (first, last))
