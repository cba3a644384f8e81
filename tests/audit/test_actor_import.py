"""A CSV of local actors: one undoable step; unknown sectors, roles and columns refused, naming rows and columns."""
from __future__ import annotations

import pytest

from audit.actor_import import import_actors
from audit.actors import actors
from audit.check import check_workspace
from audit.commands import History
from layers.errors import InputError

GOOD = ("name;sector;roles;contact_point;staff;staff_trained;agreement_date;agreement_renewal\n"
        "Sociālais dienests;Sociālais dienests;identification, referral;Krīzes nodaļa;20;5;2025-01-01;2027-01-01\n"
        "Valsts policija;state_police;Identificēšana;Dežūrdaļa;;;;\n")


def _csv(tmp_path, text: str, encoding: str = "utf-8"):
    path = tmp_path / "actors.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_a_register_imports_as_one_undoable_step_and_the_log_verifies(workspace, tmp_path):
    found = import_actors(workspace, _csv(tmp_path, GOOD))
    assert found.count == 2 and found.warnings == []
    history = History(workspace, "T")
    history.do(found.command)
    rows = actors(workspace)
    assert [(r["name"], r["sector"], r["roles"], r["staff"]) for r in rows] == [
        ("Sociālais dienests", "social_services", ["identification", "referral"], 20),
        ("Valsts policija", "state_police", ["identification"], None)]
    history.undo()
    assert actors(workspace) == []
    history.redo()
    workspace.close()
    result = check_workspace(workspace.path)
    assert result.ok and result.outside_edits == []


def test_a_baltic_encoded_file_is_read_with_a_notice(workspace, tmp_path):
    found = import_actors(workspace, _csv(tmp_path, GOOD, "cp1257"))
    assert found.count == 2 and "cp1257" in found.notices[0]


def test_unknown_sectors_and_roles_refuse_the_file_naming_the_rows(workspace, tmp_path):
    text = GOOD + "Taksometri;taxis;identification;Dispečeri;;;;\nSkola;schools;rescue;Direktora birojs;;;;\n"
    with pytest.raises(InputError) as refused:
        import_actors(workspace, _csv(tmp_path, text))
    message = str(refused.value)
    assert "nothing was imported" in message
    assert "row 3: Sector: unknown sector 'taxis'" in message and "row 4: Roles in the chain of assistance: " \
                                                                "unknown role 'rescue'" in message
    assert "row 1" not in message and "row 2" not in message
    assert workspace.db.conn.execute("SELECT count(*) FROM local_actors").fetchone()[0] == 0


def test_a_column_the_register_does_not_know_is_refused(workspace, tmp_path):
    text = "name;sector;roles;personas_kods\nSkola;schools;identification;010190-12345\n"
    with pytest.raises(InputError, match="unknown columns: personas_kods"):
        import_actors(workspace, _csv(tmp_path, text))


def test_a_personal_code_in_a_row_is_refused_and_a_personal_name_warned(workspace, tmp_path):
    coded = "name,sector,roles,notes\nSkola,schools,identification,skolēns 010190-12345\n"
    with pytest.raises(InputError, match="row 1: Notes: looks like a personal code"):
        import_actors(workspace, _csv(tmp_path, coded))
    named = "name,sector,roles,contact_point\nSkola,schools,identification,Jānis Bērziņš\n"
    found = import_actors(workspace, _csv(tmp_path, named))
    assert found.count == 1 and found.warnings[0].startswith("row 1: Contact point: 'Jānis Bērziņš' looks like")


def test_an_actor_already_in_the_register_is_refused(workspace, tmp_path):
    History(workspace, "T").do(import_actors(workspace, _csv(tmp_path, GOOD)).command)
    with pytest.raises(InputError, match=r"row 2: 'Valsts policija' \(state_police\) is already in the register"):
        import_actors(workspace, _csv(tmp_path, GOOD))


def test_an_export_of_the_register_reads_back(workspace, tmp_path):
    """A partner CSV export carries a marking column and roles separated by semicolons: it imports again."""
    text = ('marking,name,sector,roles,contact_point\n'
            '"PARTNER — not for publication",Skola,schools,"identification; prevention",Direktora birojs\n')
    found = import_actors(workspace, _csv(tmp_path, text))
    History(workspace, "T").do(found.command)
    assert actors(workspace)[0]["roles"] == ["identification", "prevention"]
