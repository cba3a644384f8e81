"""--quiet and --json on the command line: one JSON document that matches the workspace, nothing with --quiet.

Most commands run in-process (main.main with capsys); the language tests run main.py in a child process, so the
Latvian language never leaks into other tests.
"""
import csv
import io
import json
import sqlite3

import pyogrio
import pytest

import main as cli
from layers import gpkg_geometry
from layers.workspace import Workspace
from tests.conftest import file_digest
from tests.test_cli import lantern


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv, code=0):
    rc, out, err = run(capsys, *argv)
    assert rc == code, err
    assert out.endswith("\n") and out.count("\n") == 1, out  # exactly one document, on one line
    return json.loads(out), err


def not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def hubs_csv(path, rows):
    path.write_text("lon,lat,name,hub_type\n" + "".join(f"{r}\n" for r in rows), encoding="utf-8")
    return path


# -- demo ------------------------------------------------------------------------------------------------------


def test_demo_json_counts_what_the_workspace_holds(tmp_path, capsys):
    out = tmp_path / "d.gpkg"
    doc, _err = run_json(capsys, "--json", "demo", out)
    assert doc["file"] == str(out) and out.exists()
    with Workspace.open(out) as ws:
        assert doc["counts"] == {k: ws.count(k) for k in doc["counts"]}
        assert doc["counts"]["reported_cases"] == ws.count("reported_cases") >= 24
        synthetic = {k for k in doc["counts"] if ws.layer_info(k)["synthetic"]}
    assert set(doc["synthetic_layers"]) == synthetic and "reported_cases" in synthetic
    assert "worksites" not in synthetic  # real OSM places


def test_demo_quiet_writes_and_prints_nothing_and_text_is_not_json(tmp_path, capsys):
    rc, out, err = run(capsys, "demo", tmp_path / "q.gpkg", "-q")
    assert rc == 0 and out == "" and err == ""
    assert (tmp_path / "q.gpkg").exists()
    rc, out, _err = run(capsys, "demo", tmp_path / "t.gpkg")  # the positive control: people get a sentence
    assert rc == 0 and "SYNTHETIC" in out and not_json(out)


# -- check --------------------------------------------------------------------------------------------------------


def _log_entries(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM change_log").fetchone()[0]


def _tamper(path) -> int:
    """Rename a transport hub with raw SQL, as anyone with the file could; the row's fid."""
    conn = sqlite3.connect(path)
    gpkg_geometry.register_functions(conn)  # GDAL's triggers on feature tables
    fid = conn.execute("SELECT min(fid) FROM transport_hubs").fetchone()[0]
    conn.execute("UPDATE transport_hubs SET name = 'Renamed outside' WHERE fid = ?", (fid,))
    conn.commit()
    conn.close()
    return fid


def test_check_json_ok_then_tampered(demo_copy, capsys):
    doc, err = run_json(capsys, "--json", "check", demo_copy)
    assert doc["ok"] is True and doc["problems"] == [] and doc["outside_edits"] == 0
    assert doc["workspace"] == str(demo_copy)
    assert doc["log_entries"] == _log_entries(demo_copy) > 0
    assert err == ""

    fid = _tamper(demo_copy)
    doc, err = run_json(capsys, "check", demo_copy, "--json", code=1)
    assert doc["ok"] is False and doc["problems"]
    assert doc["outside_edits"] == 1
    assert doc["outside_edit_rows"] == [{"table": "transport_hubs", "row": fid, "change": "changed"}]
    assert doc["problems"][0] in err  # the person's message is on stderr too


def test_check_quiet_ok_is_silent_and_a_failure_still_goes_to_stderr(demo_copy, capsys):
    assert run(capsys, "check", demo_copy, "--quiet") == (0, "", "")
    _tamper(demo_copy)
    rc, out, err = run(capsys, "-q", "check", demo_copy)
    assert rc == 1 and out == "" and "outside Lantern" in err
    rc, out, err = run(capsys, "check", demo_copy)  # the positive control: without -q the lines are there
    assert rc == 1 and "history head" in err


def test_the_same_document_before_or_after_the_command(demo_copy, capsys):
    before, _err = run_json(capsys, "--json", "check", demo_copy)
    after, _err = run_json(capsys, "check", "--json", demo_copy)
    assert before == after


# -- import -------------------------------------------------------------------------------------------------------


def test_import_json_refused_file_then_skipped_row(tmp_path, capsys):
    path = tmp_path / "w.gpkg"
    Workspace.create(path).close()
    src = hubs_csv(tmp_path / "hubs.csv", ["24.1,56.95,A,railway_station", "nan,56.95,B,bus_station",
                                           "24.2,56.96,Čiekurkalns,tram_stop"])
    before = file_digest(path)
    doc, err = run_json(capsys, "--json", "import", src, "--kind", "transport_hubs", "--into", path, code=2)
    assert set(doc) == {"error", "details"} and "hubs.csv" in doc["error"] and "row 2" in doc["error"]
    assert doc["details"] == ["the workspace was not changed"]
    assert err.startswith("error: ") and "row 2" in err
    assert file_digest(path) == before

    doc, _err = run_json(capsys, "import", src, "--kind", "transport_hubs", "--into", path, "--skip-invalid",
                         "--json")
    with Workspace.open(path) as ws:
        names = sorted(ws.read_layer("transport_hubs")["name"])
        assert doc["imported"] == ws.count("transport_hubs") == 2
    assert names == ["A", "Čiekurkalns"]
    assert doc["skipped"] == 1 and [r["row"] for r in doc["skipped_rows"]] == [2]
    assert doc["layer"] == "transport_hubs" and doc["source"] == str(src) and doc["workspace"] == str(path)
    assert doc["skipped_file"] == str(tmp_path / "hubs.csv.skipped.csv")
    assert "nan" in open(doc["skipped_file"], encoding="utf-8-sig").read()


def test_import_quiet(tmp_path, capsys):
    path = tmp_path / "w.gpkg"
    Workspace.create(path).close()
    src = hubs_csv(tmp_path / "hubs.csv", ["24.1,56.95,A,railway_station"])
    assert run(capsys, "import", src, "--kind", "transport_hubs", "--into", path, "-q") == (0, "", "")
    with Workspace.open(path) as ws:
        assert ws.count("transport_hubs") == 1
    rc, out, err = run(capsys, "import", tmp_path / "none.csv", "--kind", "transport_hubs", "--into", path, "-q")
    assert rc == 2 and out == "" and err.startswith("error: ")  # errors are still said


# -- plan-outreach, export ----------------------------------------------------------------------------------------


def test_plan_outreach_json_matches_the_files_written(demo_copy, tmp_path, capsys):
    out = tmp_path / "plan"
    doc, _err = run_json(capsys, "--json", "plan-outreach", demo_copy, "--sites", 3, "--out", out)
    sites = doc["sites"]
    assert [s["rank"] for s in sites] == [1, 2, 3]
    assert sorted(doc["files"]) == sorted(str(out / n) for n in ("outreach.html", "outreach.pdf", "outreach.png",
                                                                   "sites.gpkg", "sites.csv"))
    with open(out / "sites.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == [s["name"] for s in sites]
    written = pyogrio.read_dataframe(out / "sites.gpkg")
    for site, point in zip(sites, written.geometry):
        assert isinstance(site["lon"], float) and isinstance(site["lat"], float)
        assert site["lon"] == pytest.approx(point.x, abs=1e-6) and site["lat"] == pytest.approx(point.y, abs=1e-6)
        assert site["category"] and site["category_id"] and site["reason"]
    assert 0 < doc["share"] <= 1 and 0 <= doc["gap"] <= 1 and doc["covered"] <= doc["bound"] + 1e-9
    assert doc["covered"] == pytest.approx(doc["share"] * doc["total"])
    assert isinstance(doc["proven_optimal"], bool) and doc["quality"].startswith("The 3 sites cover")


def test_export_json_lists_the_files_and_what_left(demo_copy, tmp_path, capsys):
    out = tmp_path / "shared"
    doc, _err = run_json(capsys, "export", demo_copy, "--profile", "public", "--format", "geojson", "--out", out,
                         "--json")
    assert doc["profile"] == "public" and doc["format"] == "geojson"
    assert sorted(doc["files"]) == sorted(str(p) for p in out.iterdir())
    layers = {row["layer"]: row for row in doc["disclosure"]["layers"]}
    assert "reported_cases" not in layers  # public: no cases
    assert layers["places_of_concern"]["form"] == "hex_counts"
    hubs = pyogrio.read_dataframe(out / "transport_hubs.geojson")
    assert layers["transport_hubs"]["features"] == len(hubs) > 0
    assert set(layers["transport_hubs"]["fields"]) <= set(hubs.columns)


def test_export_quiet_writes_and_prints_nothing(demo_copy, tmp_path, capsys):
    out = tmp_path / "map.html"
    assert run(capsys, "--quiet", "export", demo_copy, "--profile", "public", "--format", "html", "--out", out) == (
        0, "", "")
    assert out.exists()


# -- referral, gaps -----------------------------------------------------------------------------------------------


def test_referral_json_is_the_list_people_see(demo_copy, capsys):
    argv = ("referral", demo_copy, "--at", "24.94,60.17", "--urgency", "now")
    doc, _err = run_json(capsys, "--json", *argv)
    rc, text, _err = run(capsys, *argv)
    lines = text.strip().splitlines()
    assert rc == 0 and doc["services"] and len(doc["services"]) == len(lines)
    for service, line in zip(doc["services"], lines):
        assert line.startswith(f"{service['name']} ({service['type']})")
        assert service["distance_m"] is None or isinstance(service["distance_m"], int)
        assert service["open_now"] in (True, False, None)


def test_gaps_json(demo_copy, capsys):
    doc, _err = run_json(capsys, "gaps", demo_copy, "--distance", 100, "--json")
    rc, text, _err = run(capsys, "gaps", demo_copy, "--distance", 100)
    assert rc == 0 and doc["distance_m"] == 100
    assert doc["gaps"] and text.strip().splitlines()[-1].startswith(f"{len(doc['gaps'])} gaps")
    assert {g["type"] for g in doc["gaps"]} <= {"risk_area", "risk_cell"}
    assert all(g["nearest_m"] > 100 for g in doc["gaps"])
    assert all(24 < g["lon"] < 25.5 and 59.5 < g["lat"] < 60.5 for g in doc["gaps"])  # central Helsinki


# -- the options themselves ---------------------------------------------------------------------------------------


def test_quiet_and_json_together_are_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["check", "w.gpkg", "--quiet", "--json"])
    out, err = capsys.readouterr()
    assert stop.value.code == 2
    assert "not allowed with argument" in err and "--json" in err
    assert "not allowed with argument" in json.loads(out)["error"]


def test_a_command_line_error_with_json_is_also_json(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--json", "gaps"])
    out, err = capsys.readouterr()
    assert "WORKSPACE.gpkg" in json.loads(out)["error"] and "WORKSPACE.gpkg" in err


def test_json_needs_a_command(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--json"])
    assert stop.value.code == 2 and "COMMAND" in capsys.readouterr().err


def test_a_missing_workspace_is_a_json_error(tmp_path, capsys):
    doc, err = run_json(capsys, "--json", "gaps", tmp_path / "missing.gpkg", code=2)
    assert list(doc) == ["error"] and "missing.gpkg" in doc["error"] and err.startswith("error: ")


def test_notes_go_to_stderr_and_into_the_document_never_to_stdout(demo_copy, capsys):
    with sqlite3.connect(demo_copy) as conn:  # a newer schema: the workspace opens read-only, with a note
        conn.execute("UPDATE workspace_meta SET value = '999' WHERE key = 'schema_version'")
    doc, err = run_json(capsys, "--json", "gaps", demo_copy)
    assert "note: " in err and "newer version" in err
    assert len(doc["notices"]) == 1 and "newer version" in doc["notices"][0]
    assert run(capsys, "gaps", demo_copy, "-q") == (0, "", "")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_progress_bar_stays_off_stdout_with_json_and_away_with_quiet(demo_copy, tmp_path, capsys, monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    doc, _err = run_json(capsys, "--json", "plan-outreach", demo_copy, "--sites", 2, "--out", tmp_path / "a")
    assert doc["sites"] and "[###" in terminal.getvalue()  # the bar was drawn, on stderr
    quiet = _Terminal()
    monkeypatch.setattr("sys.stderr", quiet)
    rc, out, _err = run(capsys, "plan-outreach", demo_copy, "--sites", 2, "--out", tmp_path / "b", "-q")
    assert rc == 0 and out == "" and quiet.getvalue() == ""


# -- language: numbers stay numbers, people's text stays Latvian ---------------------------------------------------


def test_latvian_json_keeps_numbers_as_numbers(demo_copy, tmp_path):
    result = lantern("--json", "plan-outreach", demo_copy, "--sites", 2, "--out", tmp_path / "p", LANTERN_LANG="lv")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert isinstance(doc["share"], float) and isinstance(doc["radius_m"], float)
    for site in doc["sites"]:
        assert isinstance(site["marginal_share"], float) and isinstance(site["covered_risk"], float)
        assert isinstance(site["cells_covered"], int) and isinstance(site["lon"], float)
    assert "pievieno" in doc["sites"][0]["reason"]  # the reason is the person's text, in Latvian
    text = lantern("plan-outreach", demo_copy, "--sites", 2, "--out", tmp_path / "q", LANTERN_LANG="lv")
    assert text.returncode == 0 and not_json(text.stdout)
    assert f"{doc['sites'][0]['marginal_share'] * 100:.1f}".replace(".", ",") in text.stdout  # decimal comma

    gaps = lantern("gaps", demo_copy, "--distance", "100", "--json", LANTERN_LANG="lv")
    assert gaps.returncode == 0, gaps.stderr
    doc = json.loads(gaps.stdout)
    assert doc["distance_m"] == 100.0 and all(isinstance(g["nearest_m"], float) for g in doc["gaps"])


def test_json_is_utf8_whatever_the_terminal(tmp_path):
    path = tmp_path / "w.gpkg"
    Workspace.create(path).close()
    src = hubs_csv(tmp_path / "Čiekurkalns.csv", ["24.1,56.95,A,railway_station"])
    result = lantern("--json", "import", src, "--kind", "transport_hubs", "--into", path, PYTHONIOENCODING="ascii")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == str(src)  # not \u escapes, not an encoding error
    assert "Čiekurkalns" in result.stdout
    failed = lantern("--json", "--lang", "lv", "gaps", tmp_path / "Rīga.gpkg", PYTHONIOENCODING="ascii")
    assert failed.returncode == 2 and "Rīga.gpkg" in json.loads(failed.stdout)["error"]


def test_jsonable_unwraps_numpy_and_pandas_and_refuses_nan():
    import math

    import numpy as np
    import pandas as pd

    from layers.cli_output import dumps, jsonable

    from pathlib import Path

    value = {"a": np.int64(3), "b": np.float64("nan"), "c": [np.inf, 1.5], "d": pd.NA, "e": Path("x", "y.gpkg"),
             "f": {"z", "y"}, "g": np.bool_(True), "h": np.array([1, 2])}
    assert jsonable(value) == {"a": 3, "b": None, "c": [None, 1.5], "d": None, "e": str(Path("x", "y.gpkg")),
                               "f": ["y", "z"], "g": True, "h": [1, 2]}
    assert type(jsonable(np.int64(3))) is int and type(jsonable(np.float32(0.5))) is float
    assert "NaN" not in dumps({"x": math.nan}) and json.loads(dumps({"x": math.inf})) == {"x": None}


def test_the_help_lists_both_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    out = capsys.readouterr().out
    assert "-q, --quiet" in out and "--json" in out and "[-q | --json]" in out
