"""Attack: field submissions (their notes, positions' teams and photos) never leave the workspace in an export.

A synthetic ODK Central export (tests/submission_exports.py) is imported into a copy of the demo: a note and
a team name planted in the queue, a string planted in a photo's EXIF and JPEG comment. Every file of every
public and partner export — and of police ones: the queue and photos are confidential, for every profile,
until a reviewer accepts a submission as an annotation — is byte-scanned with the disclosure suite's scanner.
Positive controls: the same scanner finds the planted note and team in the workspace file, and the EXIF
string in the photo as it came from the phone.
"""
from __future__ import annotations

import shutil

import pytest

from audit import submissions
from audit.redaction import layer_level, share_rule
from layers.workspace import Workspace
from tests.mapping.test_disclosure_attacks import FORMATS, _blobs, _export, _fix_dates_and_hashes, _variants
from tests.submission_exports import GPS_TEXT, Sub, jpeg_with_exif, write_odk_zip

NOTE = "PLANTED-QUEUE-NOTE kravas mašīnā gulēja trīs jaunieši"
TEAM = "PLANTED-QUEUE-TEAM Dienvidi"


@pytest.fixture(scope="module")
def with_queue(demo_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("queue")
    path = folder / "demo.gpkg"
    shutil.copy(demo_file, path)
    export = write_odk_zip(folder / "odk.zip", [Sub("5a1e0000-0000-4000-8000-00000000abcd", note=NOTE, team=TEAM,
                                                    photos=["p.jpg"])], {"p.jpg": jpeg_with_exif()})
    with Workspace.open(path) as ws:
        assert submissions.import_submissions(ws, export).photos == 1
    return path


def _found(files, texts) -> list:
    return [(name, t) for name, data in _blobs(files).items() for t in texts if any(v in data for v in _variants(t))]


def test_the_queue_is_declared_confidential_for_every_profile():
    for table in ("incoming_submissions", "submission_photos"):
        assert layer_level(table) == "confidential"
        assert all(share_rule(table, p) is None for p in ("public", "partner", "police"))


def test_positive_controls_the_scanner_sees_what_was_planted(with_queue):
    assert {t for _n, t in _found([with_queue], [NOTE, TEAM])} == {NOTE, TEAM}
    assert GPS_TEXT.encode() in jpeg_with_exif()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("profile", ["public", "partner", "police"])
def test_no_export_carries_the_queue_or_its_photos(with_queue, tmp_path, monkeypatch, profile, fmt):
    _fix_dates_and_hashes(monkeypatch)
    files = _export(with_queue, profile, fmt, tmp_path / "out")
    assert files
    assert _found(files, [NOTE, TEAM, GPS_TEXT]) == []
    for data in _blobs(files).values():
        assert b"incoming_submissions" not in data and b"submission_photos" not in data
