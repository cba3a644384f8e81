"""The SQL of the local network of actors (``local_actors``, schema 9): rows, totals per sector, renewals due.

Edits go through the command path (audit.commands over ``Workspace.insert_row`` and friends); this module
only reads. Roles are a JSON array of catalogue ids; dates are ISO text (``YYYY-MM-DD``) in DATE columns.
"""
from __future__ import annotations

import json

from layers.migrations import ACTORS_TABLE

#: the columns a user fills in, in the table's order (``id`` is the key)
COLUMNS = ("name", "sector", "roles", "contact_point", "contact_phone", "contact_email", "address", "lon", "lat",
           "agreement_date", "agreement_scope", "agreement_renewal", "staff", "staff_trained", "trained_on",
           "training_needs", "service_fid", "notes")


def _dicts(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def role_ids(stored) -> list[str]:
    """The role ids of a stored ``roles`` value (a JSON array; a plain id list from another tool also reads)."""
    if stored is None or stored == "":
        return []
    if isinstance(stored, (list, tuple)):
        return [str(r) for r in stored]
    try:
        value = json.loads(stored)
    except (TypeError, ValueError):
        value = [part for part in str(stored).replace(";", ",").split(",")]
    if isinstance(value, str):
        value = [value]
    return [str(r).strip() for r in value if str(r).strip()]


def stored_roles(ids) -> str:
    return json.dumps(list(ids), ensure_ascii=False)


def actor_rows(conn) -> list[dict]:
    """Every actor, by sector then name (case-insensitive), each a dict of every column."""
    return _dicts(conn.execute(f"SELECT * FROM {ACTORS_TABLE} ORDER BY sector, name COLLATE NOCASE, id"))


def actor_row(conn, actor_id: int) -> dict | None:
    rows = _dicts(conn.execute(f"SELECT * FROM {ACTORS_TABLE} WHERE id = ?", (int(actor_id),)))
    return rows[0] if rows else None


def actor_count(conn) -> int:
    return conn.execute(f"SELECT count(*) FROM {ACTORS_TABLE}").fetchone()[0]


def sector_totals(conn) -> list[dict]:
    """Per sector: actors, actors with staff numbers, and staff and trained staff summed over the actors that
    give both numbers (a share is only meaningful over those)."""
    return _dicts(conn.execute(
        f"SELECT sector, count(*) AS actors, "
        f"count(staff) AS with_staff, "
        f"sum(CASE WHEN staff IS NOT NULL AND staff_trained IS NOT NULL THEN staff END) AS staff, "
        f"sum(CASE WHEN staff IS NOT NULL AND staff_trained IS NOT NULL THEN staff_trained END) AS trained "
        f"FROM {ACTORS_TABLE} GROUP BY sector ORDER BY sector"))


def renewals_until(conn, last_day: str) -> list[dict]:
    """Actors whose agreement is to be renewed on or before ``last_day`` (ISO date), earliest first."""
    return _dicts(conn.execute(
        f"SELECT id, name, sector, agreement_date, agreement_renewal FROM {ACTORS_TABLE} "
        f"WHERE agreement_renewal IS NOT NULL AND agreement_renewal != '' AND agreement_renewal <= ? "
        f"ORDER BY agreement_renewal, name COLLATE NOCASE", (last_day,)))


def training_needs(conn) -> list[dict]:
    """Actors that named training needs, by sector then name."""
    return _dicts(conn.execute(
        f"SELECT id, name, sector, training_needs FROM {ACTORS_TABLE} "
        f"WHERE trim(coalesce(training_needs, '')) != '' ORDER BY sector, name COLLATE NOCASE"))


def service_exists(conn, fid: int) -> bool:
    """Whether the services layer has the feature ``fid`` (an actor may link to its entry there)."""
    return conn.execute('SELECT 1 FROM "services" WHERE fid = ?', (int(fid),)).fetchone() is not None


def service_names(conn) -> list[tuple[int, str]]:
    """(fid, name) of every service, by name: the choices for an actor's link to the services layer."""
    return [(int(f), n or "") for f, n in conn.execute('SELECT fid, name FROM "services" ORDER BY name COLLATE NOCASE')]
