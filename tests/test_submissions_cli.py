"""`python main.py import-submissions` and `review-submissions`: the report, --json, --quiet, and a check after each
step (synthetic ODK Central export, tests/submission_exports.py)."""
import json

from tests.conftest import file_digest
from tests.submission_exports import Sub, jpeg_with_exif, write_odk_zip
from tests.test_cli import lantern


def _export(tmp_path):
    subs = [Sub(f"5a1e0000-0000-4000-8000-00000000000{n}", photos=["a.jpg", "lost.jpg"] if n == 1 else [],
                indicators=["gen_minor", "gone_indicator"] if n == 2 else ["gen_controlled"]) for n in (1, 2, 3)]
    return write_odk_zip(tmp_path / "odk.zip", subs, {"a.jpg": jpeg_with_exif()})


def test_import_then_review_with_json_and_check(demo_copy, tmp_path):
    export = _export(tmp_path)
    result = lantern("--json", "import-submissions", export, "--into", demo_copy, "--author", "Reviewer")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["added"], doc["duplicates"], doc["photos"], doc["source"]) == (3, 0, 1, "odk-central-csv")
    assert doc["unmapped"] == {"uuid:5a1e0000-0000-4000-8000-000000000002": ["gone_indicator"]}
    assert doc["missing_photos"] == [["uuid:5a1e0000-0000-4000-8000-000000000001", "lost.jpg"]]
    again = lantern("import-submissions", export, "--into", demo_copy)
    assert again.returncode == 0 and "3 duplicates skipped" in again.stdout and "0 submissions added" in again.stdout
    assert lantern("check", demo_copy).returncode == 0
    accepted = lantern("review-submissions", demo_copy, "--accept", *doc["ids"][:2], "--author", "Reviewer")
    assert accepted.returncode == 0, accepted.stderr
    assert "accepted 2 submissions" in accepted.stdout
    rejected = lantern("-q", "review-submissions", demo_copy, "--reject", doc["ids"][2], "--reason", "Dublikāts")
    assert rejected.returncode == 0 and rejected.stdout == ""
    assert lantern("check", demo_copy).returncode == 0


def test_bad_export_and_bad_review_change_nothing(demo_copy, tmp_path):
    before = file_digest(demo_copy)
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    result = lantern("import-submissions", bad, "--into", demo_copy)
    assert result.returncode != 0 and "notes.csv" in result.stderr and "not changed" in result.stderr
    no_reason = lantern("review-submissions", demo_copy, "--reject", "1")
    assert no_reason.returncode != 0
    assert file_digest(demo_copy) == before
