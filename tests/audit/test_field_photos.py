"""Photos from the field show with the annotation a submission was accepted into, and nowhere else: not for a
submission still waiting or rejected, not after an undone accept, not on an annotation that took over a
deleted one's id."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from audit import field_photos
from audit import submissions as subs_api
from audit.annotations import annotate, annotation_values, annotations_of
from audit.commands import DeleteRow, History, Macro
from layers import submission_store
from layers.migrations import ANNOTATIONS_TABLE, SUBMISSIONS_TABLE
from layers.workspace import Workspace
from tests.submission_exports import Sub, write_odk_zip

COLOURS = {"red.jpg": (255, 0, 0), "green.jpg": (0, 200, 0), "blue.jpg": (0, 0, 255), "grey.jpg": (128, 128, 128)}


def jpeg(colour, size=(320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def _uuid(n: int) -> str:
    return f"f0700000-0000-4000-8000-{n:012d}"


@pytest.fixture
def demo_ws(demo_copy):
    with Workspace.open(demo_copy) as ws:
        yield ws


@pytest.fixture
def queued(demo_ws, tmp_path):
    """Four submissions naming the same worksite, one photo each: (workspace, worksite fid, queue ids)."""
    fid = int(demo_ws.read_layer("worksites").index[0])
    batch = [Sub(_uuid(n), place=f"worksites-{fid}", photos=[photo]) for n, photo in enumerate(COLOURS, 1)]
    path = write_odk_zip(tmp_path / "odk.zip", batch, {n: jpeg(c) for n, c in COLOURS.items()})
    report = subs_api.import_submissions(demo_ws, path)
    assert report.photos == 4
    return demo_ws, fid, report.ids


def _names(ws, table, fid) -> list[str]:
    return [p.name for photos in field_photos.photos_of_place(ws, table, fid).values() for p in photos]


def test_only_accepted_submissions_show_their_photos(queued):
    ws, fid, ids = queued
    history = History(ws, "Reviewer")
    history.do(subs_api.accept(ws, ids[0], "Reviewer"))
    history.do(subs_api.reject(ws, ids[1], "Reviewer", "Dublikāts"))  # ids[2], ids[3] stay incoming
    grouped = field_photos.photos_of_place(ws, "worksites", fid)
    annotation_id = ws.get_row(SUBMISSIONS_TABLE, ids[0])["annotation_id"]
    assert list(grouped) == [annotation_id]
    assert [(p.name, p.mime, p.annotation_id) for p in grouped[annotation_id]] == \
        [("red.jpg", "image/jpeg", annotation_id)]
    # the other photos are stored (the attack has something to leak) ...
    assert all(submission_store.photos_of(ws.db.conn, ws.get_row(SUBMISSIONS_TABLE, i)["instance_id"]) for i in ids)
    # ... and show as soon as they are accepted (positive control)
    history.do(subs_api.accept(ws, ids[2], "Reviewer"))
    assert sorted(_names(ws, "worksites", fid)) == ["blue.jpg", "red.jpg"]


def test_an_undone_accept_takes_its_photos_away_and_redo_brings_them_back(queued):
    ws, fid, ids = queued
    history = History(ws, "Reviewer")
    history.do(subs_api.accept(ws, ids[3], "Reviewer"))
    assert _names(ws, "worksites", fid) == ["grey.jpg"]
    history.undo()
    assert ws.get_row(SUBMISSIONS_TABLE, ids[3])["status"] == "incoming"
    assert _names(ws, "worksites", fid) == []
    history.redo()
    assert _names(ws, "worksites", fid) == ["grey.jpg"]


def test_photo_bytes_reads_one_stored_photo(queued):
    ws, fid, ids = queued
    History(ws, "Reviewer").do(subs_api.accept(ws, ids[0], "Reviewer"))
    (photo,) = [p for photos in field_photos.photos_of_place(ws, "worksites", fid).values() for p in photos]
    assert not hasattr(photo, "data")  # listing reads no image data
    data = field_photos.photo_bytes(ws, photo.id)
    assert len(data) == photo.bytes
    with Image.open(io.BytesIO(data)) as im:
        assert im.getpixel((160, 120))[0] > 240 and not im.getexif()  # the red photo, stored without EXIF
    assert field_photos.photo_bytes(ws, 10**9) is None


def _delete_place(history, ws, table, fid) -> None:
    """As the window deletes a place: its annotations go with it."""
    notes = [DeleteRow(ANNOTATIONS_TABLE, a["id"]) for a in annotations_of(ws, table, fid)]
    history.do(Macro([*notes, DeleteRow(table, fid)]))


@pytest.mark.parametrize("later", [dict(hours=1), dict(days=-1)], ids=["same date, made later", "other date"])
def test_an_annotation_reusing_a_deleted_ones_id_does_not_get_its_photos(queued, later):
    ws, fid, ids = queued
    history = History(ws, "Reviewer")
    history.do(subs_api.accept(ws, ids[0], "Reviewer"))
    submission = ws.get_row(SUBMISSIONS_TABLE, ids[0])
    assert _names(ws, "worksites", fid) == ["red.jpg"]
    _delete_place(history, ws, "worksites", fid)
    hub = int(ws.read_layer("transport_hubs").index[0])
    decided = dt.datetime.fromisoformat(submission["decided"])
    observed = dt.date.fromisoformat(submission["observed"]) + dt.timedelta(days=min(later.get("days", 0), 0))
    values = annotation_values("transport_hubs", hub, indicators_seen=[], observed=observed, confidence="low",
                               source="own_observation", author="Someone", note="a later visit")
    if "hours" in later:  # a person annotates later: it cannot happen within the second of the accept
        values["created"] = (decided + dt.timedelta(**later)).isoformat(timespec="seconds")
    note = annotate(values)
    history.do(note)
    # the attack is real: SQLite gave the new annotation the deleted one's id, still named by the accepted row
    assert note.row_id == submission["annotation_id"]
    assert ws.get_row(SUBMISSIONS_TABLE, ids[0])["status"] == "accepted"
    naive = ws.db.conn.execute(f"SELECT count(*) FROM {SUBMISSIONS_TABLE} WHERE status = 'accepted' "
                               "AND annotation_id = ?", (note.row_id,)).fetchone()[0]
    assert naive == 1
    assert _names(ws, "transport_hubs", hub) == []


def test_a_workspace_without_the_queue_tables_has_no_photos():
    import sqlite3

    conn = sqlite3.connect(":memory:")
    assert submission_store.accepted_photos(conn, [1, 2]) == []
    assert submission_store.photo_data(conn, 1) is None
