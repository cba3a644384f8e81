"""The SQL of the Incoming queue (``incoming_submissions``) and its photos (``submission_photos``)."""
from __future__ import annotations

from layers import history_store
from layers.migrations import PHOTOS_TABLE, SUBMISSIONS_TABLE

QUEUE_COLUMNS = ("instance_id", "source", "received", "submitted", "form_id", "form_version", "catalogue_version",
                 "lon", "lat", "place_key", "new_place_name", "place_type", "indicators", "unmapped", "other_text",
                 "note", "observed", "team", "author", "confidence", "source_of_information", "status")
PHOTO_COLUMNS = ("instance_id", "name", "mime", "data", "bytes")


def known_instance_ids(conn) -> set[str]:
    return {r[0] for r in conn.execute(f"SELECT instance_id FROM {SUBMISSIONS_TABLE}")}


def _insert(conn, table: str, columns, rows) -> list[int]:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    ids = []
    for row in rows:  # one by one: each row's id (a few thousand rows: milliseconds)
        ids.append(conn.execute(sql, [row.get(c) for c in columns]).lastrowid)
    return ids


def _insert_photos(conn, photos) -> dict[str, str]:
    """Insert photos one at a time; their row hashes (as the change log computes them), by row id, computed from
    the values written, so logging them never reads the blobs back all at once."""
    names = ("id", *PHOTO_COLUMNS)
    hashes = {}
    sql = f"INSERT INTO {PHOTOS_TABLE} ({', '.join(PHOTO_COLUMNS)}) VALUES ({', '.join('?' * len(PHOTO_COLUMNS))})"
    for photo in photos:
        values = [photo.get(c) for c in PHOTO_COLUMNS]
        row_id = conn.execute(sql, values).lastrowid
        hashes[str(row_id)] = history_store.hash_columns(names, [[v] for v in (row_id, *values)])[0]
    return hashes


def add_submissions(db, rows: list[dict], photos, *, author: str, source: str) -> dict[str, list[int]]:
    """Insert queue rows and photos (any iterable: a generator keeps one photo in memory at a time; call inside
    a transaction) and log them in ONE signed change-log entry (action ``import``) naming the export, the
    instance ids and the rows' hashes. The new ids by table."""
    queued = _insert(db.conn, SUBMISSIONS_TABLE, QUEUE_COLUMNS, rows)
    photo_hashes = _insert_photos(db.conn, photos)
    if queued or photo_hashes:
        history_store.append(db, author=author, action="import", table=SUBMISSIONS_TABLE, row_id=None, before=None,
                             after={"source": source, "count": len(rows), "photos": len(photo_hashes),
                                    "instance_ids": [r["instance_id"] for r in rows]},
                             rows={SUBMISSIONS_TABLE: queued} if queued else None,
                             hashed={PHOTOS_TABLE: photo_hashes} if photo_hashes else None)
    return {SUBMISSIONS_TABLE: queued, PHOTOS_TABLE: [int(i) for i in photo_hashes]}


def queue_rows(conn, status: str | None = "incoming") -> list[dict]:
    """Queue rows (every status when None), oldest first."""
    where, args = ("WHERE status = ?", (status,)) if status else ("", ())
    cursor = conn.execute(f"SELECT * FROM {SUBMISSIONS_TABLE} {where} ORDER BY id", args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor]


def photos_of(conn, instance_id: str) -> list[dict]:
    cursor = conn.execute(f"SELECT id, name, mime, data, bytes FROM {PHOTOS_TABLE} WHERE instance_id = ? ORDER BY id",
                          (instance_id,))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor]


def photo_counts(conn) -> dict[str, int]:
    """Photos stored per instance id (without reading them)."""
    return dict(conn.execute(f"SELECT instance_id, count(*) FROM {PHOTOS_TABLE} GROUP BY instance_id"))
