"""The register of local actors: commands (undo, redo, a log that verifies), the checks and their messages,
training coverage on a hand-built register, and what a report's summary holds per profile."""
from __future__ import annotations

import datetime as dt

import pytest

from audit import actors
from audit.actor_checks import holds_personal_code, looks_like_a_person, problems_of, warnings
from audit.check import check_workspace
from audit.commands import History
from layers.errors import ValidationError
from layers.i18n import using

TODAY = dt.date(2026, 11, 29)


def actor(name="District social service", sector="social_services", roles=("identification", "referral"), **more):
    return {"name": name, "sector": sector, "roles": list(roles), **more}


def _log(ws) -> list[tuple]:
    return ws.db.conn.execute("SELECT action, row_id FROM change_log WHERE table_name = 'local_actors' "
                              "ORDER BY id").fetchall()


def test_add_edit_delete_are_undoable_logged_steps_and_the_log_verifies(workspace):
    history = History(workspace, "Tester")
    added = history.do(actors.add_actor(workspace, actor(contact_point="Crisis unit", staff=10, staff_trained=2)))
    history.do(actors.edit_actor(workspace, added.row_id, {"staff_trained": 4}))
    assert actors.actors(workspace)[0]["staff_trained"] == 4
    history.undo()
    assert actors.actors(workspace)[0]["staff_trained"] == 2
    history.redo()
    history.do(actors.delete_actor(workspace, added.row_id))
    assert actors.actors(workspace) == []
    history.undo()  # the deleted actor comes back with the same id and values
    back = actors.actors(workspace)
    assert [(a["id"], a["name"], a["roles"], a["staff_trained"]) for a in back] == [
        (added.row_id, "District social service", ["identification", "referral"], 4)]
    assert [a for a, _id in _log(workspace)] == ["insert", "update", "undo update", "update", "delete",
                                                 "undo delete"]
    workspace.close()
    result = check_workspace(workspace.path)
    assert result.ok and result.outside_edits == [], result.problems


def test_an_actor_added_outside_lantern_is_named_by_the_check(workspace):
    """Control for the test above: the check does look at the register."""
    History(workspace, "T").do(actors.add_actor(workspace, actor()))
    workspace.db.conn.execute("UPDATE local_actors SET contact_point = 'changed with sqlite'")
    workspace.db.conn.commit()
    workspace.close()
    edits = check_workspace(workspace.path).outside_edits
    assert [(e.table, e.kind) for e in edits] == [("local_actors", "changed")]


def test_an_edit_that_changes_nothing_is_no_step(workspace):
    added = History(workspace, "T").do(actors.add_actor(workspace, actor()))
    assert actors.edit_actor(workspace, added.row_id, {"name": "  District   social service "}) is None


@pytest.mark.parametrize("values, message", [
    (actor(name=" "), "Name: an actor needs a name"),
    (actor(sector="polize"), "Sector: unknown sector 'polize'; choose one of: social_services"),
    (actor(roles=["identification", "rescue"]), "unknown role 'rescue'; choose from: identification"),
    (actor(roles=[]), "choose at least one role in the chain of assistance"),
    (actor(contact_point="duty officer 010190-12345"), "Contact point: looks like a personal code (personas kods)"),
    (actor(notes="called about 32123412345"), "Notes: looks like a personal code"),
    (actor(contact_phone="call Anna"), "Contact phone: 'call Anna' is not a phone number"),
    (actor(contact_email="crisis at riga.lv"), "Contact e-mail: 'crisis at riga.lv' is not an e-mail address"),
    (actor(agreement_date="31.03.2026"), "Agreement date: '31.03.2026' is not a date like 2026-03-31"),
    (actor(agreement_date="2026-03-31", agreement_renewal="2026-03-31"),
     "Agreement renewal: 2026-03-31 must come after the agreement date 2026-03-31"),
    (actor(staff=10, staff_trained=12), "Trained staff: 12 is more than the staff (10)"),
    (actor(staff=-1), "Staff: '-1' is not a whole number of 0 or more"),
    (actor(lon=24.1), "Position: give both longitude and latitude in degrees, or neither"),
])
def test_refusals_name_the_field_and_the_problem(workspace, values, message):
    with pytest.raises(ValidationError) as refused:
        actors.add_actor(workspace, values)
    assert message in str(refused.value)
    assert workspace.db.conn.execute("SELECT count(*) FROM local_actors").fetchone()[0] == 0


def test_every_problem_is_named_at_once_and_in_latvian_too(workspace):
    values = actor(sector="x", staff=1, staff_trained=2, agreement_date="2026-02-01", agreement_renewal="2026-01-01")
    assert len(problems_of(values)[1]) == 3
    with using("lv"):
        _stored, problems = problems_of(values)
    assert any(p.startswith("Nozare:") for p in problems) and any("Apmācīt" in p for p in problems), problems


def test_a_link_to_a_missing_service_is_refused(workspace):
    with pytest.raises(ValidationError, match="services directory has no entry 999"):
        actors.add_actor(workspace, actor(service_fid=999))


def test_sectors_and_roles_may_be_named_by_their_labels_in_either_language():
    stored, problems = problems_of({**actor(sector="Arodbiedrības"), "roles": "Identificēšana; legal aid"})
    assert problems == [] and stored["sector"] == "unions" and stored["roles"] == '["identification", "legal_aid"]'


@pytest.mark.parametrize("text, code", [("010190-12345", True), ("31129912345", True), ("32123412345", True),
                                        ("+371 67075344", False), ("37167075344", False),
                                        ("LV80BANK0000435195001", False), ("2026-03-31", False), ("28612120", False)])
def test_personal_codes_are_told_from_phone_and_account_numbers(text, code):
    assert holds_personal_code(f"x {text} y") is code


@pytest.mark.parametrize("text, person", [("Jānis Bērziņš", True), ("Caroline Smith", True),
                                          ("Bērziņa kundze", True), ("Mr Smith", True), ("Sociālā dienesta krīzes nodaļa", False),
                                          ("Valsts policija", False), ("Duty officer", False),
                                          ("Resursu centrs Marta", False), ("Anna", False)])
def test_the_person_name_heuristic(text, person):
    assert looks_like_a_person(text) is person


def test_a_personal_looking_contact_is_warned_about_not_refused(workspace):
    values = actor(contact_point="Jānis Bērziņš", contact_email="janis.berzins@riga.example")
    found = warnings(values)
    assert len(found) == 2 and "looks like a person's name" in found[0] and "name.surname@" in found[1]
    assert History(workspace, "T").do(actors.add_actor(workspace, values)).row_id  # stored all the same
    assert warnings(actor(contact_point="Krīzes nodaļa", contact_email="krize@riga.example")) == []


# -- coverage on a hand-built register ----------------------------------------------------------------------------


def _register(ws) -> None:
    history = History(ws, "T")
    for values in (
        actor("Social service A", staff=20, staff_trained=5, agreement_date="2024-01-01",
              agreement_renewal="2026-11-01", training_needs="Interviews with an interpreter"),  # 28 days overdue
        actor("Social service B", staff=10, staff_trained=5, agreement_date="2025-01-01",
              agreement_renewal="2027-01-27"),  # due in 59 days
        actor("City police", "municipal_police", ("identification", "first_contact"), staff=30, staff_trained=30,
              agreement_date="2025-06-01", agreement_renewal="2027-06-01"),  # not yet due
        actor("Library", "libraries", ("identification", "prevention"), staff=8),  # trained staff unknown
        actor("Taxi firm", "transport", ("identification",), training_needs="A short briefing"),
    ):
        history.do(actors.add_actor(ws, values))


def test_coverage_per_sector_and_overall(workspace):
    _register(workspace)
    cov = actors.coverage(workspace, TODAY)
    by_sector = {s.sector: (s.actors, s.staff, s.trained, s.share) for s in cov.sectors}
    assert by_sector == {"social_services": (2, 30, 10, 10 / 30), "municipal_police": (1, 30, 30, 1.0),
                         "libraries": (1, 0, 0, None), "transport": (1, 0, 0, None)}
    assert (cov.overall.actors, cov.overall.staff, cov.overall.trained) == (5, 60, 40)
    assert cov.overall.share == pytest.approx(2 / 3)
    assert cov.without_staff_numbers == 2  # the library and the taxi firm are left out of the shares
    assert [(r.name, r.days) for r in cov.overdue] == [("Social service A", -28)]
    assert [(r.name, r.days) for r in cov.due] == [("Social service B", 59)]
    assert [n["name"] for n in cov.needs] == ["Social service A", "Taxi firm"]
    assert [r.name for r in actors.coverage(workspace, TODAY, within_days=200).due] == ["Social service B",
                                                                                       "City police"]


def test_the_report_summary_holds_only_what_the_profile_may_see(workspace):
    _register(workspace)
    History(workspace, "T").do(actors.edit_actor(workspace, 1, {"contact_phone": "+371 60000000",
                                                                "notes": "PLANTED police note"}))
    public, partner, police = (actors.actor_summary(workspace, p, TODAY) for p in ("public", "partner", "police"))
    assert public["count"] == partner["count"] == 5
    assert {k for a in public["actors"] for k in a} == {"name", "sector", "sector_label", "roles", "role_labels"}
    for absent in ("overall", "renewals", "training_needs"):
        assert absent not in public
    assert {"staff", "share"}.isdisjoint(public["sectors"][0])
    assert str(public).count("60000000") == 0 and "PLANTED" not in str(public)
    assert partner["overall"]["share"] == pytest.approx(2 / 3)
    assert [r["name"] for r in partner["renewals"]["overdue"]] == ["Social service A"]
    assert partner["actors"][0]["contact_phone"] == "+371 60000000"  # control: partners get the contact
    assert "PLANTED" not in str(partner) and police["actors"][0]["notes"] == "PLANTED police note"
    assert {r["id"]: r["actors"] for r in public["roles"]}["identification"] == 5
    with pytest.raises(ValueError):
        actors.actor_summary(workspace, "press")


def test_the_export_table_follows_the_allow_list(workspace):
    _register(workspace)
    public = actors.shared_actors(workspace, "public")
    partner = actors.shared_actors(workspace, "partner")
    assert list(public.frame.columns) == ["name", "sector", "roles"] and public.form == "table"
    assert "contact_phone" in partner.frame.columns and "notes" not in partner.frame.columns
    assert public.frame["roles"].iloc[0] == "identification; referral"
