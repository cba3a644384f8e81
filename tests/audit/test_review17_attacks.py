"""Review of issue 17 (field submissions): attacks by a phone user on the import and the review steps.

Field data is attacker-controlled: anyone with the form can send a submission. Each attack has a positive
control showing the attack is real (or that the same path works for honest data). Tests marked
"FINDING" fail on the code as reviewed; they say what should hold.
"""
from __future__ import annotations

import io
import json
import math
import shutil
import tracemalloc
import zipfile

import pytest
from PIL import Image

from audit import submissions as api
from audit.annotations import annotations_of
from audit.check import check_workspace
from audit.commands import History
from layers.importers.submissions import read_export
from layers.migrations import PHOTOS_TABLE, SUBMISSIONS_TABLE
from layers.photos import clean_photo
from layers.workspace import Workspace
from tests.submission_exports import Sub, jpeg_with_exif, odk_tables, write_kobo_csv, write_odk_zip


def _uuid(n: int) -> str:
    return f"7e170000-0000-4000-8000-{n:012d}"


@pytest.fixture
def demo_ws(demo_copy):
    with Workspace.open(demo_copy) as ws:
        yield ws


def _rows(ws) -> dict[str, dict]:
    return {r["instance_id"]: r for r in ws.db[SUBMISSIONS_TABLE].rows}


# -- positions ----------------------------------------------------------------------------------------------------


def test_finding_impossible_positions_are_not_queued_as_positions(demo_ws, tmp_path):
    """FINDING: a geopoint of ``inf`` / out of range is stored as the submission's position (the map, show_box
    and the CLI's --json then handle an infinite or impossible coordinate). It should be dropped (position
    unknown, with a notice) or the row refused."""
    bad = [Sub(_uuid(1), lat=float("inf"), lon=24.9), Sub(_uuid(2), lat=95.0, lon=400.0),
           Sub(_uuid(3), lat=-1e308, lon=1e308)]
    good = Sub(_uuid(4), lat=60.1699, lon=24.9384)
    report = api.import_submissions(demo_ws, write_odk_zip(tmp_path / "odk.zip", [*bad, good], {}))
    assert report.added == 4
    rows = _rows(demo_ws)
    # positive control: an honest position is kept as it came
    assert (rows[f"uuid:{_uuid(4)}"]["lon"], rows[f"uuid:{_uuid(4)}"]["lat"]) == (24.9384, 60.1699)
    for sub in bad:
        row = rows[f"uuid:{sub.uuid}"]
        lon, lat = row["lon"], row["lat"]
        assert lon is None or lat is None or (math.isfinite(lon) and math.isfinite(lat)
                                              and -180 <= lon <= 180 and -90 <= lat <= 90), (sub.uuid, lon, lat)


# -- review steps -------------------------------------------------------------------------------------------------


def test_finding_a_batch_naming_a_submission_twice_makes_one_annotation(demo_ws, tmp_path):
    """FINDING: ``accept_batch(ws, [id, id])`` (``review-submissions WS --accept 1 1``) builds both accepts
    before either runs, so one submission becomes TWO annotations, the queue row naming only the second."""
    fid = int(demo_ws.read_layer("worksites").index[0])
    report = api.import_submissions(demo_ws, write_odk_zip(tmp_path / "odk.zip", [
        Sub(_uuid(1), place=f"worksites-{fid}"), Sub(_uuid(2), place=f"worksites-{fid}")], {}))
    history = History(demo_ws, "Reviewer")
    before = len(annotations_of(demo_ws, "worksites", fid))
    # positive control: two different submissions in one batch make two annotations
    history.do(api.accept_batch(demo_ws, report.ids, "Reviewer"))
    assert len(annotations_of(demo_ws, "worksites", fid)) == before + 2
    history.undo()
    assert len(annotations_of(demo_ws, "worksites", fid)) == before
    # the attack: the same id twice
    try:
        history.do(api.accept_batch(demo_ws, [report.ids[0], report.ids[0]], "Reviewer"))
    except ValueError:
        return  # refused: fine
    assert len(annotations_of(demo_ws, "worksites", fid)) == before + 1


def test_accept_undo_accept_again_and_reject_undo_keep_the_workspace_verified(demo_ws, tmp_path):
    """Positive: accept → undo → accept again; reject → undo → accept; the target place deleted meanwhile is
    refused by name; `check` stays green after each step."""
    frame = demo_ws.read_layer("worksites")
    fid, other = int(frame.index[0]), int(frame.index[1])
    report = api.import_submissions(demo_ws, write_odk_zip(tmp_path / "odk.zip", [
        Sub(_uuid(1), place=f"worksites-{fid}", photos=["a.jpg"]), Sub(_uuid(2), place=f"worksites-{other}")],
        {"a.jpg": jpeg_with_exif()}))
    history = History(demo_ws, "Reviewer")
    one, two = report.ids
    history.do(api.accept(demo_ws, one, "Reviewer"))
    history.undo()
    assert check_workspace(demo_ws.path).ok
    history.do(api.accept(demo_ws, one, "Reviewer"))
    row = demo_ws.get_row(SUBMISSIONS_TABLE, one)
    assert row["status"] == "accepted" and demo_ws.get_row("annotations", row["annotation_id"]) is not None
    assert check_workspace(demo_ws.path).ok
    history.do(api.reject(demo_ws, two, "Reviewer", "Dublikāts"))
    history.undo()
    assert demo_ws.get_row(SUBMISSIONS_TABLE, two)["status"] == "incoming"
    from audit.commands import DeleteRow, Macro

    history.do(Macro([*(DeleteRow("annotations", a["id"]) for a in annotations_of(demo_ws, "worksites", other)),
                      DeleteRow("worksites", other)]))
    with pytest.raises(ValueError, match="does not exist"):
        api.accept(demo_ws, two, "Reviewer")
    assert api.queue(demo_ws)[0].candidate_how != "named"  # the queue no longer offers the deleted place
    assert check_workspace(demo_ws.path).ok


# -- photos ---------------------------------------------------------------------------------------------------------


def test_finding_a_kobo_submission_cannot_take_another_submissions_photo(tmp_path):
    """FINDING: a KoBo submission naming a file that sits only in ANOTHER submission's attachment folder gets
    that photo (``_Files.attachment`` falls back to any single file of that name under attachments/)."""
    victim, thief = Sub(_uuid(1), photos=["IMG_2211.jpg"]), Sub(_uuid(2), photos=["IMG_2211.jpg"])
    table = write_kobo_csv(tmp_path / "kobo", [victim, thief], {"IMG_2211.jpg": jpeg_with_exif()})
    shutil.rmtree(tmp_path / "kobo" / "attachments" / "aXk4FormUid" / thief.uuid)  # the thief sent no photo
    export = read_export(table)
    try:
        by_id = {s.instance_id: s for s in export.submissions}
        assert export.photo(by_id[f"uuid:{victim.uuid}"], "IMG_2211.jpg")  # positive control: the owner gets it
        assert export.photo(by_id[f"uuid:{thief.uuid}"], "IMG_2211.jpg") is None
    finally:
        export.files.close()


def test_photo_names_with_paths_and_a_photo_listed_twice(demo_ws, tmp_path):
    """Positive: a name with ``../`` is stored as its base name only; a photo named twice in one submission is
    stored once; a non-image named .jpg is a notice, not a failure; nothing is written outside the workspace."""
    sub = Sub(_uuid(1), photos=["../../../etc/evil.jpg", "../../../etc/evil.jpg", "fake.jpg"])
    with zipfile.ZipFile(tmp_path / "odk.zip", "w") as z:
        for name, data in odk_tables([sub]).items():
            z.writestr(name, data)
        z.writestr("media/evil.jpg", jpeg_with_exif())
        z.writestr("media/fake.jpg", b"<html>not a photo</html>")
    report = api.import_submissions(demo_ws, tmp_path / "odk.zip")
    names = [r["name"] for r in demo_ws.db[PHOTOS_TABLE].rows]
    assert names == ["evil.jpg"] and report.photos == 1
    assert any("fake.jpg" in n for n in report.notices)
    assert check_workspace(demo_ws.path).ok


def _bilevel_png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height), 0).save(out, "PNG")
    return out.getvalue()


def test_finding_a_decompression_bomb_photo_is_refused_or_reduced():
    """FINDING: Pillow only *warns* between MAX_IMAGE_PIXELS and twice that; clean_photo then decodes the
    whole image and copies it three times (a 140 KB PNG of 12,000 × 12,000 took 0.55 GB, a 2.2 MB JPEG of the
    same size 2 GB). A photo past Pillow's bomb limit should be refused (or decoded reduced, e.g. draft())."""
    big = _bilevel_png(10_000, 9_000)  # 90 Mpx, just past Pillow's warning limit (89.5 Mpx); ~20 KB of file
    assert len(big) < 200_000
    try:
        clean = clean_photo(big)
    except ValueError:
        return  # refused: fine
    with Image.open(io.BytesIO(clean.data)) as im:
        assert im.width * im.height <= Image.MAX_IMAGE_PIXELS, im.size


def test_a_12_megapixel_phone_photo_is_kept_at_full_size():
    """Positive control for the test above: a normal phone photo is stored whole."""
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 200, 30)).save(out, "JPEG")
    with Image.open(io.BytesIO(clean_photo(out.getvalue()).data)) as im:
        assert im.size == (4000, 3000)


def test_finding_a_zip_bomb_photo_is_not_read_into_memory(demo_ws, tmp_path):
    """FINDING: an export zip of 0.3 MB holding a 300 MB "photo" made the import allocate ~600 MB (zip.read,
    then Pillow). ZipInfo.file_size (or the file's size on disk) should be checked before reading: a photo
    beyond a sane size is a notice, as an unreadable one is."""
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in odk_tables([Sub(_uuid(1), photos=["big.jpg"])]).items():
            z.writestr(name, data)
        with z.open("media/big.jpg", "w", force_zip64=True) as f:
            for _ in range(300):
                f.write(b"\0" * (1 << 20))
    assert path.stat().st_size < 2_000_000
    tracemalloc.start()
    try:
        report = api.import_submissions(demo_ws, path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.added == 1 and report.photos == 0  # the import itself goes on
    assert peak < 100 * 2**20, f"peak {peak >> 20} MB"


def test_finding_one_long_note_does_not_refuse_the_whole_export(demo_ws, tmp_path):
    """FINDING: Python's csv module refuses a field over 131,072 characters, so ONE submission with a long note
    (a pasted text) refuses the whole export ("field larger than field limit"). Raise csv.field_size_limit
    (or truncate/flag that submission) so the other submissions still come in."""
    export = write_odk_zip(tmp_path / "odk.zip", [Sub(_uuid(1)), Sub(_uuid(2), note="garš teksts " * 15_000)], {})
    report = api.import_submissions(demo_ws, export)
    assert report.added == 2
    # positive control: the long note is kept as it came
    assert len(_rows(demo_ws)[f"uuid:{_uuid(2)}"]["note"]) > 131_072


def test_markup_and_control_characters_are_stored_as_sent(demo_ws, tmp_path):
    """Positive: HTML, right-to-left override, zero-width and newlines in field text are data: stored unchanged
    (the GUI must show them as plain text: see tests/gui/test_review17_panel.py)."""
    team = "<img src=x onerror=alert(1)>\u202eatok\u200b"
    note = "rinda 1\nrinda 2 <script>alert(1)</script>"
    api.import_submissions(demo_ws, write_odk_zip(tmp_path / "odk.zip", [Sub(_uuid(1), team=team, note=note)], {}))
    row = _rows(demo_ws)[f"uuid:{_uuid(1)}"]
    assert (row["team"], row["note"]) == (team, note)
    assert json.loads(row["indicators"])  # the rest of the row is read as usual


def test_the_field_form_carries_nothing_of_the_queue_or_of_accepted_submissions(demo_ws, tmp_path):
    """Positive: places.csv, the XLSForm and the XForm hold no note, team, author or new place's name from a
    submission, waiting, rejected or accepted (into a worksite's annotation and into a new place of concern)."""
    from audit.field_form import export_field_form

    fid = int(demo_ws.read_layer("worksites").index[0])
    planted = {"note": "PLANTED-R17-NOTE", "team": "PLANTED-R17-TEAM", "author": "PLANTED-R17-AUTHOR",
               "new_place_name": "PLANTED-R17-PLACE"}
    report = api.import_submissions(demo_ws, write_odk_zip(tmp_path / "odk.zip", [
        Sub(_uuid(1), place=f"worksites-{fid}", **planted), Sub(_uuid(2), place="new", **planted),
        Sub(_uuid(3), **planted), Sub(_uuid(4), **planted)], {}))
    history = History(demo_ws, "Reviewer")
    history.do(api.accept(demo_ws, report.ids[0], "Reviewer"))
    history.do(api.accept(demo_ws, report.ids[1], "Reviewer", new_place={
        "kind": "places_of_concern", "fields": {"category": "construction_site"}}))
    history.do(api.reject(demo_ws, report.ids[2], "Reviewer", "PLANTED-R17-REASON"))
    assert demo_ws.db.conn.execute("SELECT count(*) FROM places_of_concern WHERE name = ?",
                                   (planted["new_place_name"],)).fetchone()[0] == 1  # the attack has data
    out = tmp_path / "form"
    export_field_form(demo_ws, "all", ("lv", "en"), out, validate=False)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"places.csv"}
    texts = []
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                data = b"".join(z.read(n) for n in z.namelist())
        texts.append(data)
    assert b"worksites-" in b"".join(texts)  # positive control: the places are there
    for secret in [*planted.values(), "PLANTED-R17-REASON"]:
        assert all(secret.encode() not in t for t in texts), secret
