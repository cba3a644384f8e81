"""python main.py actors WS: the register with its coverage, --add, --import, --json and --quiet; referral's actors."""
from __future__ import annotations

from audit.check import check_workspace
from layers.workspace import Workspace
from tests.test_main_cli_output import run, run_json


def _count(path) -> int:
    with Workspace.open(path) as ws:
        return ws.db.conn.execute("SELECT count(*) FROM local_actors").fetchone()[0]


def test_the_list_shows_every_actor_and_the_coverage(demo_copy, capsys):
    rc, text, _err = run(capsys, "actors", demo_copy)
    assert rc == 0
    assert "Social services: District social service (synthetic) · Identification, First contact" in text
    assert "Trained: 76 of 314 staff (24%)" in text
    assert "Agreement overdue since" in text and "Municipal police, city centre precinct (synthetic)" in text
    doc, _err = run_json(capsys, "--json", "actors", demo_copy)
    assert len(doc["actors"]) == 8 and doc["added"] == []
    assert doc["overall"] == {"actors": 8, "staff": 314, "trained": 76, "share": 76 / 314, "without_staff_numbers": 0}
    assert [r["name"] for r in doc["renewals"]["overdue"]] == ["Municipal police, city centre precinct (synthetic)"]


def test_add_logs_one_step_warns_about_a_name_and_keeps_the_log_verifiable(demo_copy, capsys):
    doc, err = run_json(capsys, "actors", demo_copy, "--add", "Valsts robežsardze", "--sector", "border_guard",
                        "--roles", "identification,referral", "--contact-point", "Jānis Bērziņš", "--staff", "10",
                        "--trained", "4", "--renewal", "2027-05-01", "--agreement-date", "2025-05-01",
                        "--author", "Liaison", "--json")
    assert len(doc["added"]) == 1 and "looks like a person's name" in doc["warnings"][0]
    assert "warning: Contact point: 'Jānis Bērziņš'" in err
    with Workspace.open(demo_copy) as ws:
        row = ws.get_row("local_actors", doc["added"][0])
        author = ws.db.conn.execute("SELECT author FROM change_log WHERE table_name = 'local_actors' "
                                    "ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert (row["sector"], row["roles"], row["staff_trained"]) == ("border_guard", '["identification", "referral"]', 4)
    assert author == "Liaison"
    result = check_workspace(demo_copy)
    assert result.ok and result.outside_edits == []


def test_a_refused_add_says_why_and_changes_nothing(demo_copy, capsys):
    rc, out, err = run(capsys, "actors", demo_copy, "--add", "Skola", "--sector", "schools", "--roles",
                       "identification", "--contact-point", "direktors 010190-12345")
    assert rc == 2 and out == ""
    assert "looks like a personal code" in err and "the workspace was not changed" in err
    doc, _err = run_json(capsys, "actors", demo_copy, "--add", "Skola", "--sector", "skolas", "--roles", "x",
                         "--json", code=2)
    assert "unknown sector 'skolas'" in doc["error"] and "unknown role 'x'" in doc["error"]
    assert _count(demo_copy) == 8


def test_import_reads_a_csv_and_names_the_rows_it_refuses(demo_copy, tmp_path, capsys):
    good = tmp_path / "actors.csv"
    good.write_text("name;sector;roles;contact_point\nArodbiedrība;unions;identification;Juriskonsults\n"
                    "Bibliotēka;Bibliotēkas;Identificēšana, prevention;Informācijas punkts\n", encoding="utf-8")
    rc, out, _err = run(capsys, "actors", demo_copy, "--import", good, "--quiet")
    assert rc == 0 and out == "" and _count(demo_copy) == 10
    bad = tmp_path / "bad.csv"
    bad.write_text("name;sector;roles\nA;unions;identification\nB;police;identification\n", encoding="utf-8")
    doc, _err = run_json(capsys, "actors", demo_copy, "--import", bad, "--json", code=2)
    assert "row 2: Sector: unknown sector 'police'" in doc["error"] and "row 1" not in doc["error"]
    assert _count(demo_copy) == 10


def test_referral_lists_fitting_actors_in_its_json_and_beside_the_services(demo_copy, capsys):
    doc, _err = run_json(capsys, "--json", "referral", demo_copy, "--urgency", "now")
    assert doc["actors"][0]["name"] == "Anti-trafficking NGO (synthetic)"
    assert doc["actors"][0]["contact_point"] == "NGO helpline desk (24/7)"
    rc, out, err = run(capsys, "referral", demo_copy, "--urgency", "now")
    assert "partner level" in err and "local actor: Anti-trafficking NGO (synthetic)" in err
    assert "local actor" not in out  # stdout stays the list of services
