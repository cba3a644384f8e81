"""python main.py rounds / compare: list and add rounds, compare two, with --json and --quiet."""
import json

import pytest

import main as cli
from layers.workspace import Workspace
from tests.rounds_fixture import build


@pytest.fixture
def district(tmp_path):
    path = tmp_path / "district.gpkg"
    build(path)
    return path


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_rounds_lists_adds_and_refuses_bad_dates(district, capsys):
    code, out, _err = run(capsys, "rounds", district)
    assert code == 0 and "1. Round A" in out and "teams: Team" in out and "5 annotations, 4 estimates" in out
    code, out, _err = run(capsys, "--json", "rounds", district, "--add", "Round C", "--starts", "2030-01-01",
                          "--ends", "2030-02-01", "--teams", "NGO", "Municipal police", "--area", "Market risk zone")
    assert code == 2 and json.loads(out) == {"error": "no risk area 'Market risk zone'"}
    code, out, _err = run(capsys, "--json", "rounds", district, "--add", "Round C", "--starts", "2030-01-01",
                          "--ends", "2030-02-01", "--teams", "NGO", "Municipal police", "--author", "Tester")
    listed = json.loads(out)["rounds"]
    assert code == 0 and [r["name"] for r in listed] == ["Round A", "Round B", "Round C"]
    assert listed[2]["teams"] == ["NGO", "Municipal police"] and listed[2]["whole_district"]
    code, _out, err = run(capsys, "rounds", district, "--add", "Round D", "--starts", "2030-03-01", "--ends",
                          "2030-02-01")
    assert code == 2 and "cannot end" in err
    code, out, _err = run(capsys, "--json", "rounds", district, "--edit", "round c", "--rename", "Winter 2030")
    assert code == 0 and json.loads(out)["rounds"][2]["name"] == "Winter 2030"


def test_compare_writes_the_tables_and_the_map(district, tmp_path, capsys):
    out_dir = tmp_path / "cmp"
    code, out, _err = run(capsys, "compare", district, "--from", "Round A", "--to", "2", "--out", out_dir)
    assert code == 0
    assert "Round A" in out and "Estimate, Homeless people: 10–49 → 50–199 (more)" in out
    assert {p.name for p in out_dir.iterdir()} == {"places.csv", "drivers.csv", "estimates.csv", "indicators.csv",
                                                   "cells.csv", "change_map.pdf", "change_map.png"}
    code, out, _err = run(capsys, "compare", district, "--from", "1", "--to", "Round B", "--out", out_dir,
                          "--profile", "partner", "--json", "--overwrite")
    document = json.loads(out)
    assert code == 0 and document["profile"] == "partner" and "teams" in document["from"]
    assert {r["risk_group"]: r["change"] for r in document["estimates"]}["migrant_workers"] == 40
    assert any(f.endswith("estimate_areas.csv") for f in document["files"])
    assert {layer["layer"] for layer in document["disclosure"]["layers"]} >= {"round_places", "round_change"}


def test_compare_quiet_and_police_refusal(district, tmp_path, capsys):
    code, out, err = run(capsys, "--quiet", "compare", district, "--from", "Round A", "--to", "Round B", "--out",
                         tmp_path / "q")
    assert code == 0 and out == "" and err == "" and (tmp_path / "q" / "cells.csv").exists()
    code, _out, err = run(capsys, "compare", district, "--from", "Round A", "--to", "Round B", "--out",
                          tmp_path / "p", "--profile", "police")
    assert code == 2 and "confirmation" in err and not (tmp_path / "p").exists()
    code, _out, err = run(capsys, "compare", district, "--from", "Round A", "--to", "Round A", "--out", tmp_path / "x")
    assert code == 2 and "two different rounds" in err
    with Workspace.open(district) as ws:
        assert ws.db.conn.execute("SELECT count(*) FROM change_log WHERE action = 'export'").fetchone()[0] == 0
