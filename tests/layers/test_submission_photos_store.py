"""The store's reads of accepted submissions' photos: listing without the blobs, one photo's data by id, and
any number of annotation ids in one query."""
from __future__ import annotations

import io

from PIL import Image

from audit import submissions as subs_api
from audit.commands import History
from layers import submission_store
from layers.migrations import SUBMISSIONS_TABLE
from layers.workspace import Workspace
from tests.submission_exports import Sub, write_odk_zip


def jpeg(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, "JPEG")
    return out.getvalue()


def test_listing_leaves_the_data_unless_asked_and_takes_many_ids(demo_copy, tmp_path):
    with Workspace.open(demo_copy) as ws:
        fid = int(ws.read_layer("worksites").index[0])
        sub = Sub("f0710000-0000-4000-8000-000000000001", place=f"worksites-{fid}", photos=["a.jpg", "b.jpg"])
        path = write_odk_zip(tmp_path / "odk.zip", [sub], {"a.jpg": jpeg((255, 0, 0)), "b.jpg": jpeg((0, 0, 255))})
        (queue_id,) = subs_api.import_submissions(ws, path).ids
        History(ws, "Reviewer").do(subs_api.accept(ws, queue_id, "Reviewer"))
        annotation_id = ws.get_row(SUBMISSIONS_TABLE, queue_id)["annotation_id"]
        many = [*range(100_000, 140_000), annotation_id]  # more ids than SQLite takes as parameters
        listed = submission_store.accepted_photos(ws.db.conn, many)
        assert [(r["name"], r["annotation_id"], r["instance_id"]) for r in listed] == \
            [("a.jpg", annotation_id, f"uuid:{sub.uuid}"), ("b.jpg", annotation_id, f"uuid:{sub.uuid}")]
        assert all("data" not in r and r["bytes"] > 0 for r in listed)
        full = submission_store.accepted_photos(ws.db.conn, [annotation_id], with_data=True)
        assert [len(r["data"]) for r in full] == [r["bytes"] for r in listed]
        assert [submission_store.photo_data(ws.db.conn, r["id"]) for r in listed] == [r["data"] for r in full]
        assert submission_store.accepted_photos(ws.db.conn, []) == []
        assert submission_store.accepted_photos(ws.db.conn, [annotation_id + 1]) == []
