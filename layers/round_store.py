"""The audit rounds table and the rounds of annotations and estimates: the SQL ``audit.rounds`` needs.

A round is one pass over the district (``audit_rounds``: name, starts, ends, teams, area, notes, created).
Annotations and risk-group estimates carry the ``round_id`` of the round they belong to (schema 9).
Dates are ISO text (``YYYY-MM-DD``), so they compare as text.
"""
from __future__ import annotations

from layers.migrations import ANNOTATIONS_TABLE, ESTIMATES_TABLE, ROUNDS_TABLE

#: the tables whose rows belong to a round, with their key and the date that decides the round
DATED = {ANNOTATIONS_TABLE: ("id", "observed"), ESTIMATES_TABLE: ("fid", "estimated_on")}


def _exists(db, table: str) -> bool:
    return db[table].exists()


def list_rounds(db) -> list[dict]:
    """Every round, earliest start first (rounds without dates last), then by id."""
    if not _exists(db, ROUNDS_TABLE):
        return []
    return list(db[ROUNDS_TABLE].rows_where(order_by="starts IS NULL, starts, id"))


def get_round(db, round_id: int) -> dict | None:
    rows = list(db[ROUNDS_TABLE].rows_where("id = ?", [int(round_id)])) if _exists(db, ROUNDS_TABLE) else []
    return rows[0] if rows else None


def round_containing(db, day: str) -> int | None:
    """The round whose dates hold ``day`` (several: the one started last); None when none does."""
    if not _exists(db, ROUNDS_TABLE):
        return None
    row = db.conn.execute(f"SELECT id FROM {ROUNDS_TABLE} WHERE starts <= ? AND ends >= ? "
                          "ORDER BY starts DESC, id DESC LIMIT 1", (day, day)).fetchone()
    return None if row is None else int(row[0])


def latest_round(db) -> int | None:
    """The round started last (rounds without a start count as earliest); None when there are no rounds."""
    if not _exists(db, ROUNDS_TABLE):
        return None
    row = db.conn.execute(f"SELECT id FROM {ROUNDS_TABLE} ORDER BY starts IS NOT NULL DESC, starts DESC, id DESC "
                          "LIMIT 1").fetchone()
    return None if row is None else int(row[0])


def rows_per_round(db) -> dict[int | None, dict[str, int]]:
    """round id (None: no round) -> {table: number of its rows} for annotations and estimates."""
    counts: dict[int | None, dict[str, int]] = {}
    for table in DATED:
        if not _exists(db, table) or "round_id" not in db[table].columns_dict:
            continue
        for round_id, n in db.conn.execute(f'SELECT round_id, count(*) FROM "{table}" GROUP BY round_id'):
            counts.setdefault(round_id, {})[table] = int(n)
    return counts


def rows_without_round(db) -> list[tuple[str, int, str | None]]:
    """(table, row id, its date) of every annotation and estimate that belongs to no round."""
    found = []
    for table, (key, date) in DATED.items():
        if not _exists(db, table) or "round_id" not in db[table].columns_dict:
            continue
        found += [(table, int(i), d) for i, d in db.conn.execute(
            f'SELECT "{key}", "{date}" FROM "{table}" WHERE round_id IS NULL ORDER BY "{key}"')]
    return found


def rows_outside_their_round(db, starts: str, ends: str) -> list[tuple[str, int, str]]:
    """(table, row id, its date) of the rows dated within [starts, ends] whose own round's dates do not hold
    their date (they joined the latest round for want of a better one)."""
    found = []
    for table, (key, date) in DATED.items():
        if not _exists(db, table) or "round_id" not in db[table].columns_dict:
            continue
        found += [(table, int(i), d) for i, d in db.conn.execute(
            f'SELECT t."{key}", t."{date}" FROM "{table}" AS t JOIN {ROUNDS_TABLE} AS r ON r.id = t.round_id '
            f'WHERE substr(t."{date}", 1, 10) BETWEEN ? AND ? '
            f'AND NOT (substr(t."{date}", 1, 10) BETWEEN r.starts AND r.ends) ORDER BY t."{key}"', (starts, ends))]
    return found


def annotations_of_round(db, round_id: int) -> list[dict]:
    """Every annotation of one round, oldest first."""
    return list(db[ANNOTATIONS_TABLE].rows_where("round_id = ?", [int(round_id)], order_by="observed, id"))


def observed_span(db, round_id: int) -> tuple[str | None, str | None]:
    """The earliest and latest observation date of a round's annotations."""
    return db.conn.execute(f"SELECT min(observed), max(observed) FROM {ANNOTATIONS_TABLE} WHERE round_id = ?",
                           (int(round_id),)).fetchone()
