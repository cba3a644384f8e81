"""`python main.py import-submissions --odk-central PROJECT_ID/FORM_ID --into WS`: the report, --json, --quiet and
the errors, in-process with the fake ODK Central of tests/odk_central_fake.py (recorded synthetic responses, no
network)."""
from __future__ import annotations

import json

import pytest

from layers.importers import odk_central
from tests.conftest import file_digest
from tests.odk_central_fake import FORM, HOST, PROJECT, TABLE, FakeCentral, write_config
from tests.test_main_cli_output import run, run_json

FORM_REF = f"{PROJECT}/{FORM}"


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.setenv("PYODK_CONFIG_FILE", str(write_config(tmp_path)))
    monkeypatch.setenv("PYODK_CACHE_FILE", str(tmp_path / "pyodk_cache.toml"))
    monkeypatch.setenv("LANTERN_LANG", "en")
    fake, connect = FakeCentral(), odk_central.connect
    monkeypatch.setattr(odk_central, "connect", lambda path=None: fake.mount(connect(path)))
    return fake


def test_json_report_then_duplicates_in_text(fake, demo_copy, capsys):
    doc, _err = run_json(capsys, "--json", "import-submissions", "--odk-central", FORM_REF, "--into", demo_copy,
                         "--author", "Recenzente")
    assert (doc["added"], doc["duplicates"], doc["photos"], doc["source"]) == (3, 0, 2, odk_central.ODK_ODATA)
    assert doc["odk_central"] == FORM_REF and doc["export"] is None
    assert doc["missing_photos"] == [["uuid:5a1e0000-0000-4000-8000-000000000001", "gone.jpg"]]
    code, out, _err = run(capsys, "import-submissions", "--odk-central", FORM_REF, "--into", demo_copy)
    assert code == 0 and "3 duplicates skipped" in out and "0 submissions added" in out
    assert fake.hosts == {HOST}
    assert run(capsys, "check", demo_copy)[0] == 0


def test_quiet_prints_only_the_warnings(fake, demo_copy, capsys):
    code, out, err = run(capsys, "-q", "import-submissions", "--odk-central", FORM_REF, "--into", demo_copy)
    assert (code, out) == (0, "") and "gone.jpg" in err and "added" not in err


@pytest.mark.parametrize("argv, words", [
    (["--odk-central", "seven/form"], "PROJECT_ID/FORM_ID"),
    ([], "one of the two"),
    (["some.zip", "--odk-central", FORM_REF], "one of the two"),
])
def test_bad_command_lines_change_nothing(fake, demo_copy, capsys, argv, words):
    before = file_digest(demo_copy)
    code, _out, err = run(capsys, "import-submissions", *argv, "--into", demo_copy)
    assert code == 2 and words in err and "not changed" in err
    assert file_digest(demo_copy) == before and fake.requests == []


def test_a_refusing_server_is_one_json_error(fake, demo_copy, capsys):
    before = file_digest(demo_copy)
    fake.fail("GET", TABLE, 403)
    doc, _err = run_json(capsys, "--json", "import-submissions", "--odk-central", FORM_REF, "--into", demo_copy, code=2)
    assert "refused access (HTTP 403)" in doc["error"] and file_digest(demo_copy) == before


def test_no_configuration_says_what_to_write(tmp_path, monkeypatch, demo_copy, capsys):
    monkeypatch.setenv("PYODK_CONFIG_FILE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("LANTERN_LANG", "en")
    code, _out, err = run(capsys, "import-submissions", "--odk-central", FORM_REF, "--into", demo_copy)
    assert code == 2 and "absent.toml" in err and "base_url" in err and "not changed" in err
