"""The command line of campaigns: `campaigns` (list, add, delete), `import-contacts` and `evaluate`, with --json and
--quiet like every command; police files need the confirmation and are logged."""
import csv
import json

import pytest

import main as cli
from layers.workspace import Workspace
from tests.audit.campaign_district import EXPECTED_CASES, SITE, build
from tests.test_cli import lantern


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def district(tmp_path):
    path = tmp_path / "riga.gpkg"
    with Workspace.create(path, name="Rīga test") as ws:
        build(ws, tmp_path)
    return path


def _add(capsys, path, *extra):
    return run(capsys, "--json", "campaigns", path, "--add", "Bus station", "--starts", "2025-04-01", "--ends",
               "2025-04-30", "--audiences", "taxi_drivers,migrants", "--languages", "lv,ru", "--channels", "leaflets",
               "--people", 120, "--leaflets", 300, "--action-items", "1,4", "--at", f"{SITE[0]},{SITE[1]}",
               "--author", "Planner", *extra)


def test_add_list_and_delete(district, capsys):
    code, out, err = _add(capsys, district)
    assert code == 0, err
    listed = json.loads(out)["campaigns"]
    assert [c["name"] for c in listed] == ["Bus station"]
    assert listed[0]["audiences"] == ["taxi_drivers", "migrants"] and listed[0]["action_items"] == [1, 4]
    assert listed[0]["locations"][0]["lon"] == pytest.approx(SITE[0]) and listed[0]["people_reached"] == 120
    code, out, _err = run(capsys, "campaigns", district)
    assert "1. Bus station (2025-04-01 – 2025-04-30)" in out and "120 people reached" in out
    code, out, _err = run(capsys, "--quiet", "campaigns", district, "--delete", "bus station")
    assert code == 0 and out == ""
    assert json.loads(run(capsys, "--json", "campaigns", district)[1])["campaigns"] == []
    code, out, err = run(capsys, "check", district)
    assert code == 0, err


def test_a_bad_campaign_is_refused_with_one_line(district, capsys):
    code, out, err = run(capsys, "--json", "campaigns", district, "--add", "X", "--starts", "2025-04-01", "--ends",
                         "2025-03-01")
    assert code == 2 and json.loads(out)["error"] == "the campaign ends before it starts"
    assert json.loads(run(capsys, "--json", "campaigns", district)[1])["campaigns"] == []


def test_import_contacts_then_evaluate_public_and_police(district, tmp_path, capsys):
    _add(capsys, district)
    source = tmp_path / "contacts.csv"
    source.write_text("month,channel,area,count\n2025-02,hotline,Station square,3\n2025-06,hotline,Station square,"
                      "9\n2025-02,hotline,East market,20\n2025-06,hotline,East market,22\n", encoding="utf-8")
    code, out, err = run(capsys, "--json", "import-contacts", source, "--into", district)
    assert code == 0 and json.loads(out)["imported"] == 4, err
    code, out, err = run(capsys, "--json", "evaluate", district, "--campaign", "Bus station", "--out", tmp_path / "ev")
    doc = json.loads(out)
    assert code == 0, err
    outcomes = {o["outcome"]: o for o in doc["outcomes"]}
    assert {k: outcomes["cases"][k] for k in EXPECTED_CASES} == EXPECTED_CASES  # all at least 5: shown
    hotline = outcomes["hotline"]
    assert hotline["catchment_before"] is None and hotline["catchment_after"] == 9 and hotline["ratio"] is None
    assert any("not proof of cause" in c for c in doc["caveats"]) and len(doc["files"]) == 2
    with open(doc["files"][0], encoding="utf-8-sig", newline="") as fh:
        rows = {r["outcome"]: r for r in csv.DictReader(fh)}
    assert rows["hotline"]["catchment_before"] == "<5" and rows["cases"]["catchment_after"] == "30"
    # police: the small count, but only with the confirmation and a recipient, and the files are logged
    code, out, err = run(capsys, "evaluate", district, "--campaign", "1", "--profile", "police", "--out",
                         tmp_path / "police")
    assert code == 2 and "confirmation" in err and not (tmp_path / "police").exists()
    code, out, err = run(capsys, "--json", "evaluate", district, "--campaign", "1", "--profile", "police", "--out",
                         tmp_path / "police", "--confirm-police", "--recipient", "Officer", "--author", "Liaison")
    police = {o["outcome"]: o for o in json.loads(out)["outcomes"]}
    assert code == 0 and police["hotline"]["catchment_before"] == 3
    with Workspace.open(district) as ws:
        logged = ws.db.conn.execute("SELECT after FROM change_log WHERE action = 'export'").fetchall()
    assert len(logged) == 1 and json.loads(logged[0][0])["recipient"] == "Officer"


def test_a_personal_column_refuses_the_import(district, tmp_path, capsys):
    source = tmp_path / "contacts.csv"
    source.write_text("month,channel,area,count,caller_name\n2025-02,hotline,Station square,3,Anna\n",
                      encoding="utf-8")
    code, out, err = run(capsys, "import-contacts", source, "--into", district)
    assert code == 2 and "looks like personal data" in err and "the workspace was not changed" in err
    with Workspace.open(district) as ws:
        assert ws.db.conn.execute("SELECT count(*) FROM service_contacts").fetchone()[0] == 0


def test_the_commands_have_help_in_latvian():
    result = lantern("--lang", "lv", "evaluate", "--help")
    assert result.returncode == 0 and "salīdzinājuma teritorij" in result.stdout
    assert "--campaign" in lantern("campaigns", "--help").stdout + lantern("evaluate", "--help").stdout
