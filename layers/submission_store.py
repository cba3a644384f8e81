"""The SQL of the Incoming queue (``incoming_submissions``) and its photos (``submission_photos``)."""
from __future__ import annotations

import json

from layers import history_store, row_ids
from layers.migrations import ANNOTATIONS_TABLE, PHOTOS_TABLE, SUBMISSIONS_TABLE

QUEUE_COLUMNS = ("instance_id", "source", "received", "submitted", "form_id", "form_version", "catalogue_version",
                 "lon", "lat", "place_key", "new_place_name", "place_type", "indicators", "unmapped", "other_text",
                 "note", "observed", "team", "author", "confidence", "source_of_information", "status")
PHOTO_COLUMNS = ("instance_id", "name", "mime", "data", "bytes")


def known_instance_ids(conn) -> set[str]:
    return {r[0] for r in conn.execute(f"SELECT instance_id FROM {SUBMISSIONS_TABLE}")}


def _insert(conn, table: str, columns, rows) -> list[int]:
    sql = f"INSERT INTO {table} (rowid, {', '.join(columns)}) VALUES (?, {', '.join('?' * len(columns))})"
    ids = []
    for row in rows:  # one by one: each row's id (a few thousand rows: milliseconds)
        ids.append(conn.execute(sql, [row_ids.next_ids(conn, table), *(row.get(c) for c in columns)]).lastrowid)
    return ids


def _insert_photos(conn, photos) -> dict[str, str]:
    """Insert photos one at a time; their row hashes (as the change log computes them), by row id, computed from
    the values written, so logging them never reads the blobs back all at once."""
    names = ("id", *PHOTO_COLUMNS)
    hashes = {}
    sql = (f"INSERT INTO {PHOTOS_TABLE} (rowid, {', '.join(PHOTO_COLUMNS)}) "
           f"VALUES (?, {', '.join('?' * len(PHOTO_COLUMNS))})")
    for photo in photos:
        values = [photo.get(c) for c in PHOTO_COLUMNS]
        row_id = conn.execute(sql, [row_ids.next_ids(conn, PHOTOS_TABLE), *values]).lastrowid
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


# -- photos of accepted submissions (the annotation form and the place's history) --------------------------------

ACCEPTED_PHOTO_COLUMNS = ("id", "name", "mime", "bytes", "instance_id", "annotation_id")


def _has_queue(conn) -> bool:
    """Whether the queue's tables exist (a workspace of an older schema opened read-only has none)."""
    found = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
                         (SUBMISSIONS_TABLE, PHOTOS_TABLE)).fetchone()[0]
    return found == 2


def accepted_photos(conn, annotation_ids, *, with_data: bool = False) -> list[dict]:
    """The photos of the submissions accepted into these annotations, by annotation then photo id: id, name,
    mime, bytes, instance_id, annotation_id (and ``data`` only when asked: a form lists photos without
    reading every full-size one).

    A submission counts only while it is ``accepted`` (an undone accept is ``incoming`` again) and while its
    annotation is the one the accept created: annotation ids are rowids, which SQLite hands out again once
    the highest is deleted (a deleted place takes its annotations along), so the annotation must carry the
    submission's observation date and have been created no later than the decision.
    """
    ids = sorted({int(i) for i in annotation_ids})
    if not ids or not _has_queue(conn):
        return []
    columns = ", ".join(f"p.{c}" for c in ("id", "name", "mime", "bytes", "instance_id"))
    data = ", p.data" if with_data else ""
    cursor = conn.execute(
        f"SELECT {columns}, s.annotation_id{data} FROM {PHOTOS_TABLE} AS p "
        f"JOIN {SUBMISSIONS_TABLE} AS s ON s.instance_id = p.instance_id "
        f"JOIN {ANNOTATIONS_TABLE} AS a ON a.id = s.annotation_id "
        "WHERE s.status = 'accepted' AND s.annotation_id IN (SELECT value FROM json_each(?)) "
        "AND a.observed = s.observed AND a.created <= s.decided "
        "ORDER BY s.annotation_id, p.id", (json.dumps(ids),))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r)) for r in cursor]


def photo_data(conn, photo_id: int) -> bytes | None:
    """One stored photo's bytes (None when there is no such photo)."""
    if not _has_queue(conn):
        return None
    row = conn.execute(f"SELECT data FROM {PHOTOS_TABLE} WHERE id = ?", (int(photo_id),)).fetchone()
    return None if row is None else row[0]


def photo_ids_of(conn, instance_id: str) -> list[int]:
    """The ids of a submission's photos, oldest first (without reading them)."""
    return [r[0] for r in conn.execute(f"SELECT id FROM {PHOTOS_TABLE} WHERE instance_id = ? ORDER BY id",
                                       (instance_id,))]
