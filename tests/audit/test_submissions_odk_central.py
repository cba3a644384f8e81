"""Importing from ODK Central's OData feed (pyodk) into the Incoming queue: the same queue as the CSV export gives,
duplicates skipped, photos stripped, and a failing server changing nothing. Recorded synthetic responses served
by a fake transport (tests/odk_central_fake.py); no request reaches a network."""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from audit import submissions as subs_api
from audit.check import check_workspace
from layers.errors import LanternError
from layers.importers import odk_central
from layers.migrations import PHOTOS_TABLE, SUBMISSIONS_TABLE
from layers.workspace import Workspace
from tests.conftest import file_digest
from tests.odk_central_fake import FORM, FORM_PATH, HOST, PASSWORD, PROJECT, TABLE, FakeCentral, same_subs, \
    write_config
from tests.submission_exports import GPS_TEXT, jpeg_with_exif, write_odk_zip

UUID = "uuid:5a1e0000-0000-4000-8000-00000000000{}".format


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.setenv("PYODK_CONFIG_FILE", str(write_config(tmp_path)))
    monkeypatch.setenv("PYODK_CACHE_FILE", str(tmp_path / "pyodk_cache.toml"))
    fake, connect = FakeCentral(), odk_central.connect
    monkeypatch.setattr(odk_central, "connect", lambda path=None: fake.mount(connect(path)))  # the real client
    return fake


def _queue(ws) -> dict[str, dict]:
    return {r["instance_id"]: {k: v for k, v in r.items() if k not in ("id", "source", "received")}
            for r in ws.db[SUBMISSIONS_TABLE].rows}


def test_odata_and_the_csv_zip_give_the_same_queue(fake, tmp_path):
    media = {"a.jpg": jpeg_with_exif(), "b.jpg": jpeg_with_exif()}
    with Workspace.create(tmp_path / "csv.gpkg", name="CSV") as ws:
        by_csv = subs_api.import_submissions(ws, write_odk_zip(tmp_path / "odk.zip", same_subs(), media))
        csv_queue, csv_photos = _queue(ws), [(p["instance_id"], p["name"]) for p in ws.db[PHOTOS_TABLE].rows]
    with Workspace.create(tmp_path / "odata.gpkg", name="OData") as ws:
        steps = []
        by_odata = subs_api.import_from_odk_central(ws, PROJECT, FORM, author="Recenzente",
                                                    progress=lambda f, m: steps.append(f))
        odata_queue, odata_photos = _queue(ws), [(p["instance_id"], p["name"]) for p in ws.db[PHOTOS_TABLE].rows]
        sources = {r["source"] for r in ws.db[SUBMISSIONS_TABLE].rows}
    assert steps[0] == 0.0 and steps[-1] == 1.0 and steps == sorted(steps)
    assert sources == {odk_central.ODK_ODATA} and by_odata.source == odk_central.ODK_ODATA
    assert odata_queue[UUID(2)].pop("form_version") == "1.0fedcba987"  # the older form that made it
    csv_queue[UUID(2)].pop("form_version")
    assert odata_queue == csv_queue and len(odata_queue) == 3
    assert odata_queue[UUID(1)]["note"].startswith("Strādnieki guļ būvvagoniņā")
    assert json.loads(odata_queue[UUID(2)]["unmapped"]) == ["lab_retired_in_v1"]
    assert odata_photos == csv_photos == [(UUID(1), "a.jpg"), (UUID(1), "b.jpg")]
    assert (by_odata.added, by_odata.photos, by_odata.missing_photos, by_odata.unmapped) == \
        (by_csv.added, by_csv.photos, by_csv.missing_photos, by_csv.unmapped)
    assert by_odata.missing_photos == [(UUID(1), "gone.jpg")]
    assert fake.hosts == {HOST}


def test_one_change_log_entry_naming_the_server_and_not_the_password(fake, demo_copy):
    with Workspace.open(demo_copy) as ws:
        log_before = ws.db["change_log"].count
        subs_api.import_from_odk_central(ws, PROJECT, FORM, author="Recenzente")
        assert ws.db["change_log"].count == log_before + 1
        entry = ws.db.conn.execute("SELECT action, table_name, after FROM change_log ORDER BY id DESC").fetchone()
    after = json.loads(entry[2])
    assert entry[:2] == ("import", SUBMISSIONS_TABLE) and after["instance_ids"] == [UUID(n) for n in (1, 2, 3)]
    assert after["source"] == f"https://{HOST}/v1/projects/{PROJECT}/forms/{FORM}.svc"
    assert PASSWORD not in entry[2]
    assert check_workspace(demo_copy).ok


def test_a_second_import_skips_every_duplicate(fake, demo_copy, tmp_path):
    with Workspace.open(demo_copy) as ws:
        first = subs_api.import_from_odk_central(ws, PROJECT, FORM)
        again = subs_api.import_from_odk_central(ws, PROJECT, FORM)
        assert (first.added, first.duplicates) == (3, 0)
        assert (again.added, again.duplicates, again.photos) == (0, 3, 0)
        assert ws.db[SUBMISSIONS_TABLE].count == 3 and ws.db[PHOTOS_TABLE].count == 2
        zipped = write_odk_zip(tmp_path / "odk.zip", same_subs(), {})  # the same submissions, exported as CSV
        assert subs_api.import_submissions(ws, zipped).duplicates == 3
    assert check_workspace(demo_copy).ok


def test_photos_from_the_server_carry_no_exif(fake, demo_copy):
    with Workspace.open(demo_copy) as ws:
        subs_api.import_from_odk_central(ws, PROJECT, FORM)
        stored = list(ws.db[PHOTOS_TABLE].rows)
    served = fake.routes[("GET", f"{FORM_PATH}/submissions/{UUID(1)}/attachments/a.jpg")][1]
    assert GPS_TEXT.encode() in served and b"Exif" in served  # positive control: the server's copy has it
    assert len(stored) == 2
    for photo in stored:
        assert GPS_TEXT.encode() not in photo["data"] and b"Exif" not in photo["data"]
        with Image.open(io.BytesIO(photo["data"])) as im:
            assert dict(im.getexif()) == {}


@pytest.mark.parametrize("method, path, status", [
    ("POST", "/v1/sessions", 401),
    ("GET", TABLE, 403),
    ("GET", TABLE, 500),
    ("GET", f"{FORM_PATH}/submissions/{UUID(1)}/attachments/b.jpg", 500),  # fails after rows were inserted
])
def test_a_failing_server_leaves_the_workspace_unchanged(fake, demo_copy, method, path, status):
    before = file_digest(demo_copy)
    fake.fail(method, path, status)
    with Workspace.open(demo_copy) as ws, pytest.raises(LanternError, match=f"HTTP {status}"):
        subs_api.import_from_odk_central(ws, PROJECT, FORM)
    assert file_digest(demo_copy) == before
    good = FakeCentral()  # positive control: the same call with good answers changes the workspace
    fake.routes = good.routes
    with Workspace.open(demo_copy) as ws:
        assert subs_api.import_from_odk_central(ws, PROJECT, FORM).added == 3
    assert file_digest(demo_copy) != before


def test_no_server_configured_is_a_clear_error_and_changes_nothing(tmp_path, monkeypatch, demo_copy):
    monkeypatch.setenv("PYODK_CONFIG_FILE", str(tmp_path / "absent.toml"))
    before = file_digest(demo_copy)
    with Workspace.open(demo_copy) as ws, pytest.raises(LanternError, match="no ODK Central server is configured"):
        subs_api.import_from_odk_central(ws, PROJECT, FORM)
    assert file_digest(demo_copy) == before
