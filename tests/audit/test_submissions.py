"""The Incoming queue: importing field submissions (synthetic exports in ODK Central's and KoBo's documented
layouts, see tests/submission_exports.py), reviewing them as undoable, logged commands, and the schema."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from audit import submissions as subs_api
from audit.check import check_workspace
from audit.commands import History
from layers.errors import InputError
from layers.migrations import PHOTOS_TABLE, SUBMISSIONS_TABLE, latest_version
from layers.workspace import Workspace
from tests.conftest import file_digest
from tests.submission_exports import GPS_TEXT, Sub, jpeg_with_exif, write_kobo_csv, write_odk_zip

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOTE = "PLANTED-SUBMISSION-NOTE: vīrieši guļ būvvagoniņā"


def _uuid(n: int) -> str:
    return f"5a1e0000-0000-4000-8000-{n:012d}"


@pytest.fixture
def demo_ws(demo_copy):
    with Workspace.open(demo_copy) as ws:
        yield ws


def _worksite(ws) -> tuple[int, object]:
    frame = ws.read_layer("worksites")
    fid = int(frame.index[0])
    return fid, frame.geometry.iloc[0]


def _export(tmp_path, ws) -> tuple[Path, list[Sub]]:
    fid, point = _worksite(ws)
    batch = [
        Sub(_uuid(1), photos=["a.jpg", "gone.jpg"], extra_photos=["b.jpg"], note=NOTE, lat=point.y + 0.0003,
            lon=point.x),
        Sub(_uuid(2), place=f"worksites-{fid}", place_type="workplace", lat=point.y, lon=point.x,
            indicators=["gen_minor", "lab_retired_in_v1", "other"], other_text="Cits: bērni darbā",
            catalogue_version=1),
        Sub(_uuid(3), place="new", place_type="street", indicators=["gen_controlled"], lat=60.25, lon=24.9),  # 9 km off
    ]
    media = {"a.jpg": jpeg_with_exif(), "b.jpg": jpeg_with_exif()}
    return write_odk_zip(tmp_path / "odk.zip", batch, media), batch


def _table_digests(ws, skip=()) -> dict[str, str]:
    conn = ws.db.conn
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    out = {}
    for t in names:
        if t in skip or t.startswith("sqlite_") or t.startswith("rtree_"):
            continue
        rows = conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall()
        out[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def test_import_queues_maps_and_reports(demo_ws, tmp_path):
    path, _batch = _export(tmp_path, demo_ws)
    log_before = demo_ws.db["change_log"].count
    steps = []
    report = subs_api.import_submissions(demo_ws, path, author="Reviewer", progress=lambda f, m: steps.append(f))
    assert steps == sorted(steps) and steps[-1] == 1.0 and len(steps) == 4  # one per new submission, then done
    assert report.added == 3 and report.duplicates == 0 and report.source == "odk-central-csv"
    assert report.unmapped == {f"uuid:{_uuid(2)}": ["lab_retired_in_v1"]}  # "other" is no indicator: not listed
    assert report.missing_photos == [(f"uuid:{_uuid(1)}", "gone.jpg")]
    assert report.photos == 2 and any("catalogue version 1" in n for n in report.notices)
    assert demo_ws.db["change_log"].count == log_before + 1  # ONE signed entry for the whole import
    entry = demo_ws.db.conn.execute("SELECT action, table_name, after FROM change_log ORDER BY id DESC").fetchone()
    assert entry[0] == "import" and entry[1] == SUBMISSIONS_TABLE and f"uuid:{_uuid(3)}" in entry[2]
    rows = {r["instance_id"]: r for r in demo_ws.db[SUBMISSIONS_TABLE].rows}
    first, second = rows[f"uuid:{_uuid(1)}"], rows[f"uuid:{_uuid(2)}"]
    assert first["note"] == NOTE and first["place_key"] is None
    assert first["new_place_name"] == "Būvlaukums pie dzelzceļa"
    assert json.loads(second["indicators"]) == ["gen_minor"] and second["catalogue_version"] == 1
    assert second["other_text"] == "Cits: bērni darbā" and first["status"] == "incoming"
    assert check_workspace(demo_ws.path).ok


@pytest.mark.parametrize("edit", [f"UPDATE {SUBMISSIONS_TABLE} SET note = 'edited' WHERE id = 1",
                                  f"UPDATE {PHOTOS_TABLE} SET data = X'FFD8FF00' WHERE id = 1"])
def test_a_queue_row_changed_outside_lantern_is_caught(demo_copy, tmp_path, edit):
    with Workspace.open(demo_copy) as ws:
        path, _batch = _export(tmp_path, ws)
        subs_api.import_submissions(ws, path)
    assert check_workspace(demo_copy).ok
    with Workspace.open(demo_copy) as ws:  # an edit with plain SQL, as another tool would make it
        ws.db.conn.execute(edit)
        ws.db.conn.commit()
    assert not check_workspace(demo_copy).ok  # the log describes the queue's rows and its photos


def test_duplicates_are_skipped_and_counted(demo_ws, tmp_path):
    path, batch = _export(tmp_path, demo_ws)
    subs_api.import_submissions(demo_ws, path, author="Reviewer")
    again = write_kobo_csv(tmp_path / "kobo", [batch[0], Sub(_uuid(9)), Sub(_uuid(9))], {})  # one old, one twice
    report = subs_api.import_submissions(demo_ws, again, author="Reviewer")
    assert (report.added, report.duplicates) == (1, 2)
    assert demo_ws.db[SUBMISSIONS_TABLE].count == 4
    assert check_workspace(demo_ws.path).ok


def test_stored_photos_carry_no_exif(demo_ws, tmp_path):
    path, _batch = _export(tmp_path, demo_ws)
    subs_api.import_submissions(demo_ws, path)
    stored = list(demo_ws.db[PHOTOS_TABLE].rows)
    assert len(stored) == 2 and {p["name"] for p in stored} == {"a.jpg", "b.jpg"}  # the repeat's photo too
    assert GPS_TEXT.encode() in jpeg_with_exif()  # positive control
    for photo in stored:
        assert GPS_TEXT.encode() not in photo["data"] and b"Exif" not in photo["data"]
        with Image.open(io.BytesIO(photo["data"])) as im:
            assert dict(im.getexif()) == {} and photo["bytes"] == len(photo["data"])


def test_a_bad_file_leaves_the_workspace_unchanged(demo_copy, tmp_path):
    before = file_digest(demo_copy)
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    with Workspace.open(demo_copy) as ws, pytest.raises(InputError, match="broken.zip"):
        subs_api.import_submissions(ws, bad)
    assert file_digest(demo_copy) == before


def test_a_failure_while_writing_rolls_everything_back(demo_copy, tmp_path, monkeypatch):
    with Workspace.open(demo_copy) as ws:
        path, _batch = _export(tmp_path, ws)
    before = file_digest(demo_copy)

    def fail(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(subs_api.submission_store.history_store, "append", fail)  # after the rows were inserted
    with Workspace.open(demo_copy) as ws, pytest.raises(RuntimeError):
        subs_api.import_submissions(ws, path)
    assert file_digest(demo_copy) == before


def test_queue_offers_the_named_place_or_the_nearest_of_its_type(demo_ws, tmp_path):
    path, _batch = _export(tmp_path, demo_ws)
    subs_api.import_submissions(demo_ws, path)
    fid, _point = _worksite(demo_ws)
    items = {i.row["instance_id"]: i for i in subs_api.queue(demo_ws)}
    named = items[f"uuid:{_uuid(2)}"]
    assert (named.candidate, named.candidate_how) == (("worksites", fid), "named")
    near = items[f"uuid:{_uuid(1)}"]  # ~33 m north of the worksite, a workplace, naming a new place
    assert near.candidate_how == "nearest" and near.candidate is not None and near.distance_m < subs_api.NEAR_M
    assert near.photos == 2
    far = items[f"uuid:{_uuid(3)}"]  # 9 km outside the district: no candidate
    assert (far.candidate, far.candidate_how, far.distance_m) == (None, None, None)


def test_an_accepted_batch_is_one_undo_step_with_its_log_entries(demo_ws, tmp_path):
    path, _batch = _export(tmp_path, demo_ws)
    ids = subs_api.import_submissions(demo_ws, path).ids
    queue_before = list(demo_ws.db[SUBMISSIONS_TABLE].rows)
    others_before = _table_digests(demo_ws, skip={"change_log", "workspace_meta", "gpkg_contents",
                                                  "change_log_signers"})
    annotations = demo_ws.db["annotations"].count
    places = demo_ws.count("places_of_concern")
    history = History(demo_ws, "Reviewer")
    log_before = demo_ws.db["change_log"].count
    history.do(subs_api.accept_batch(demo_ws, ids, "Reviewer"))
    assert len(history.undo_stack) == 1
    assert demo_ws.db["annotations"].count == annotations + 3
    assert demo_ws.count("places_of_concern") == places + 2  # the two new places
    rows = {r["id"]: r for r in demo_ws.db[SUBMISSIONS_TABLE].rows}
    assert all(rows[i]["status"] == "accepted" and rows[i]["decided_by"] == "Reviewer" for i in ids)
    note = demo_ws.get_row("annotations", rows[ids[0]]["annotation_id"])
    assert note["note"] == NOTE and note["place_table"] == "places_of_concern"
    linked = demo_ws.get_row("annotations", rows[ids[1]]["annotation_id"])
    assert (linked["place_table"], json.loads(linked["indicators"])) == ("worksites", ["gen_minor"])
    entries = demo_ws.db.conn.execute("SELECT after FROM change_log WHERE id > ? AND table_name = ?",
                                      (log_before, SUBMISSIONS_TABLE)).fetchall()
    assert {json.loads(a)["instance_id"] for (a,) in entries} == {f"uuid:{_uuid(n)}" for n in (1, 2, 3)}
    assert check_workspace(demo_ws.path).ok
    history.undo()
    assert list(demo_ws.db[SUBMISSIONS_TABLE].rows) == queue_before  # the queue as it was
    assert demo_ws.db["annotations"].count == annotations and demo_ws.count("places_of_concern") == places
    assert _table_digests(demo_ws, skip={"change_log", "workspace_meta", "gpkg_contents",
                                         "change_log_signers"}) == others_before
    assert check_workspace(demo_ws.path).ok


def test_accept_to_another_place(demo_ws, tmp_path):
    path, _batch = _export(tmp_path, demo_ws)
    ids = subs_api.import_submissions(demo_ws, path).ids
    hub = int(demo_ws.read_layer("transport_hubs").index[0])
    History(demo_ws, "Reviewer").do(subs_api.accept(demo_ws, ids[1], "Reviewer", place=("transport_hubs", hub)))
    row = demo_ws.get_row(SUBMISSIONS_TABLE, ids[1])
    assert demo_ws.get_row("annotations", row["annotation_id"])["place_fid"] == hub
    with pytest.raises(ValueError, match="already"):
        subs_api.accept(demo_ws, ids[1], "Reviewer")


def test_a_rejected_submission_changes_nothing_but_the_queue(demo_ws, tmp_path):
    path, _batch = _export(tmp_path, demo_ws)
    ids = subs_api.import_submissions(demo_ws, path).ids
    skip = {"change_log", "workspace_meta", "gpkg_contents", "change_log_signers"}
    before = _table_digests(demo_ws, skip=skip)
    with pytest.raises(ValueError, match="reason"):
        subs_api.reject(demo_ws, ids[0], "Reviewer", "  ")
    History(demo_ws, "Reviewer").do(subs_api.reject(demo_ws, ids[0], "Reviewer", "Dublikāts"))
    after = _table_digests(demo_ws, skip=skip)
    assert {t for t in before if before[t] != after[t]} == {SUBMISSIONS_TABLE}
    row = demo_ws.get_row(SUBMISSIONS_TABLE, ids[0])
    assert (row["status"], row["reason"], row["annotation_id"]) == ("rejected", "Dublikāts", None)
    assert check_workspace(demo_ws.path).ok


def test_migration_on_a_version_6_workspace(tmp_path):
    path = tmp_path / "v6.gpkg"
    shutil.copy(FIXTURES / "workspace_v6_areas.gpkg", path)
    with Workspace.open(path) as ws:
        assert ws.schema_version == latest_version() >= 8
        registered = dict(ws.db.conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        assert registered[SUBMISSIONS_TABLE] == registered[PHOTOS_TABLE] == "attributes"
        declared = {r[1]: r[2] for r in ws.db.conn.execute(f"PRAGMA table_info({SUBMISSIONS_TABLE})")}
        assert declared["observed"] == "DATE" and declared["instance_id"] == "TEXT"
    assert check_workspace(path).ok


def test_a_fresh_workspace_has_the_queue(workspace):
    assert workspace.db[SUBMISSIONS_TABLE].exists() and workspace.db[PHOTOS_TABLE].exists()
    with pytest.raises(Exception):  # instance ids are unique
        with workspace.atomic():
            for _ in range(2):
                workspace.insert_row(SUBMISSIONS_TABLE, {"instance_id": "uuid:x", "status": "incoming"})
