"""Photos from the field, as the annotation form and the place's history show them.

A photo belongs to an annotation when the field submission that carried it was accepted into that annotation
(audit.submissions.accept). Photos of submissions still waiting, rejected, or whose accept was undone do not
show. Listing a place's photos reads no image data; ``photo_bytes`` reads one photo when it is shown, so a
place with many full-size photos opens as fast as one without.
"""
from __future__ import annotations

from dataclasses import dataclass

from audit.annotations import annotations_of
from layers import submission_store


@dataclass(frozen=True)
class FieldPhoto:
    id: int
    name: str
    mime: str
    bytes: int
    instance_id: str
    annotation_id: int


def photos_of_annotations(ws, annotation_ids) -> dict[int, list[FieldPhoto]]:
    """The photos of accepted submissions per annotation id (annotations without photos are left out)."""
    grouped: dict[int, list[FieldPhoto]] = {}
    for row in submission_store.accepted_photos(ws.db.conn, annotation_ids):
        photo = FieldPhoto(**{c: row[c] for c in submission_store.ACCEPTED_PHOTO_COLUMNS})
        grouped.setdefault(photo.annotation_id, []).append(photo)
    return grouped


def photos_of_place(ws, table: str, fid: int) -> dict[int, list[FieldPhoto]]:
    """The photos of a place's annotations, per annotation id (no image data is read)."""
    return photos_of_annotations(ws, [a["id"] for a in annotations_of(ws, table, fid)])


def photo_bytes(ws, photo_id: int) -> bytes | None:
    """One photo's stored bytes (metadata already stripped on import), or None when it is gone."""
    return submission_store.photo_data(ws.db.conn, photo_id)
