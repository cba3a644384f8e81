"""`python main.py field-form`: the files, --json and --quiet, and no silent replacement (issue 17, part 1)."""
import json

from tests.conftest import file_digest
from tests.test_cli import lantern


def test_field_form_command_writes_the_three_files_and_reports_them(demo_copy, tmp_path):
    out = tmp_path / "form"
    result = lantern("--json", "field-form", demo_copy, "--place-type", "all", "--lang", "lv,en", "--out", out)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["lantern-field-all.xlsx", "lantern-field-all.xml", "places.csv"]
    assert sorted(p.rsplit("/", 1)[-1] for p in doc["files"]) == names
    assert doc["place_type"] == "all" and doc["languages"] == ["lv", "en"] and doc["warnings"] == []
    assert doc["places"] == len((out / "places.csv").read_text(encoding="utf-8").splitlines()) - 2  # header, "new"


def test_field_form_command_replaces_only_with_overwrite_and_quiet_is_silent(demo_copy, tmp_path):
    out = tmp_path / "form"
    assert lantern("field-form", demo_copy, "--place-type", "street", "--out", out).returncode == 0
    before = {p.name: file_digest(p) for p in out.iterdir() if p.suffix != ".xlsx"}  # a workbook holds its time
    (out / "places.csv").write_text("changed by hand\n", encoding="utf-8")
    again = lantern("field-form", demo_copy, "--place-type", "street", "--out", out)
    assert again.returncode != 0 and "--overwrite" in again.stderr
    assert (out / "places.csv").read_text(encoding="utf-8") == "changed by hand\n"  # nothing replaced
    quiet = lantern("-q", "field-form", demo_copy, "--place-type", "street", "--out", out, "--overwrite")
    assert quiet.returncode == 0 and quiet.stdout == ""
    assert {p.name: file_digest(p) for p in out.iterdir() if p.suffix != ".xlsx"} == before  # the same, byte for byte


def test_field_form_command_refuses_unknown_types_and_languages(demo_copy, tmp_path):
    bad_type = lantern("field-form", demo_copy, "--place-type", "harbour", "--out", tmp_path / "a")
    assert bad_type.returncode == 2 and "harbour" in bad_type.stderr
    bad_lang = lantern("field-form", demo_copy, "--place-type", "street", "--lang", "lv,de", "--out", tmp_path / "b")
    assert bad_lang.returncode != 0 and "'de'" in bad_lang.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
