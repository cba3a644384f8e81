"""The questionnaire of the guidelines' tables 1–8, its answer types, the vulnerability factors,
the full action plan, the estimates' origin breakdown and the migration that keeps version-1 answers."""
import json
import sqlite3
from collections import Counter

import pytest
import shapely

from audit.assessment import (answer, answers, display_value, options, plan_catalogue_items, plan_item_text,
                              plan_items, progress, questions, renamed_ids, sections, typed_value,
                              vulnerability_factors, vulnerability_summary)
from audit.catalogue import indicators
from audit.commands import DeleteRow, History, InsertRow, UpdateRow
from audit.estimates import estimate_values, format_origin_breakdown, origin_breakdown, record_estimate
from layers import migrations
from layers.resources import load_json
from layers.workspace import Workspace


def test_the_questionnaire_follows_tables_1_to_8():
    by_table = Counter(s["table"] for s in sections() for _ in s["questions"])
    assert set(by_table) >= {1, 2, 3, 4, 5, 6, 7, 8}
    assert by_table[6] == 18 and by_table[7] == 15  # every question of table 6, every place of table 7
    qs = questions()
    assert len(set(qs)) == len(qs)
    types = Counter(q["type"] for q in qs.values() if not q["id"].startswith("v1."))
    assert set(types) == {"number", "share", "yes_no", "text", "list", "place"}
    # the guidelines' own questions, with their own answer types
    assert qs["begging_crime.organised"]["type"] == "yes_no" and qs["begging_crime.hours"]["type"] == "number"
    assert qs["prostitution.pimps_share"]["type"] == "share"
    assert "suteneri" in qs["prostitution.pimps_share"]["lv"]
    assert qs["origin.poorest_areas"]["type"] == "place"
    assert qs["offenders.sex_buyers"]["type"] == "number" and qs["offenders.demand_programmes"]["type"] == "text"
    assert qs["offenders_labour.subcontractors"]["type"] == "yes_no"
    # every risk group has a section, and every question a Latvian text and a line of the seed
    groups = {g["id"] for g in load_json("risk_groups.json")["groups"]}
    assert groups <= {s.get("risk_group") for s in sections()}
    assert all(q["en"] and q["lv"] and q.get("seed_line", 1) > 0 for q in qs.values())


def test_list_questions_offer_the_tables_institutions_and_the_vulnerability_factors():
    qs = questions()
    institutions = [o["lv"] for o in options(qs["begging_crime.institutions"])]
    assert "Baznīca vai reliģiskās organizācijas" in institutions and "Pašvaldības policija" in institutions
    assert "Seksuālo pakalpojumu pircēji" in [o["lv"] for o in options(qs["prostitution.institutions"])]
    factors = vulnerability_factors()
    assert len(factors) == 11 and len({f["id"] for f in factors}) == 11
    assert all(f["en"] and f["lv"] for f in factors)
    assert [o["id"] for o in options(qs["homeless.vulnerability"])] == [f["id"] for f in factors]


def test_each_answer_type_is_checked_and_stored(workspace):
    h = History(workspace, "Auditor")
    h.do(answer(workspace, "prostitution.pimps_share", value=40, source="NGO"))
    h.do(answer(workspace, "begging_crime.organised", value=True))
    h.do(answer(workspace, "begging_crime.hours", number=9))
    h.do(answer(workspace, "begging_crime.institutions", value=["municipal_police", "churches", "Street team"]))
    h.do(answer(workspace, "homeless.vulnerability", value=["no_home_or_income", "substance_dependence"]))
    h.do(answer(workspace, "migrants.vulnerability", value=["foreigner_status", "no_home_or_income"]))
    h.do(answer(workspace, "origin.poorest_areas", value={"places": [{"kind": "risk_areas", "fid": 1},
                                                                    {"lon": 24.1, "lat": 56.95}], "note": "east"}))
    h.do(answer(workspace, "begging_crime.services", text="nē"))  # typed in a form
    stored, qs = answers(workspace), questions()
    assert stored["prostitution.pimps_share"]["answer_number"] == 40
    assert stored["begging_crime.organised"]["answer_number"] == 1 and stored["begging_crime.services"]["answer_number"] == 0
    assert typed_value(qs["begging_crime.institutions"], stored["begging_crime.institutions"]) == [
        "municipal_police", "churches", "Street team"]
    assert display_value(qs["begging_crime.institutions"], stored["begging_crime.institutions"], "lv") == (
        "Pašvaldības policija, Baznīca vai reliģiskās organizācijas, Street team")
    assert display_value(qs["prostitution.pimps_share"], stored["prostitution.pimps_share"]) == "40 %"
    assert display_value(qs["begging_crime.organised"], stored["begging_crime.organised"], "lv") == "jā"
    place = typed_value(qs["origin.poorest_areas"], stored["origin.poorest_areas"])
    assert place["places"][0] == {"kind": "risk_areas", "fid": 1} and place["note"] == "east"
    summary = {r["id"]: r for r in vulnerability_summary(workspace, "lv")}
    assert len(summary) == 11 and summary["no_home_or_income"]["count"] == 2 and summary["youth"]["count"] == 0
    assert summary["no_home_or_income"]["label"].startswith("Pastāvīgas dzīvesvietas")
    for qid, kw, message in [("prostitution.pimps_share", {"value": 120}, "between 0 and 100"),
                             ("prostitution.pimps_share", {"text": "many"}, "takes a number"),
                             ("begging_crime.organised", {"text": "maybe"}, "yes or no"),
                             ("begging_crime.hours", {"number": -2}, "negative"),
                             ("offenders.known", {"number": 3}, "text answer"),
                             ("homeless.vulnerability", {"value": []}, "at least one"),
                             ("origin.poorest_areas", {"value": {"places": [{"lon": 500, "lat": 1}]}}, "longitude")]:
        with pytest.raises(ValueError, match=message):
            answer(workspace, qid, **kw)
    sections_done = {p["section"]: p for p in progress(workspace)}
    assert sections_done["group_begging_crime"]["answered"] == 4 and "legacy_v1" not in sections_done


def test_indicators_include_the_two_the_digest_left_out():
    ind = indicators()
    assert load_json("indicators.json")["version"] >= 2
    assert "pārtraukt sniegt seksuālos pakalpojumus" in ind["sex_cannot_stop"].lv
    assert "vecumu" in ind["sex_law_unknown"].lv and "prostitūciju" in ind["sex_law_unknown"].lv
    assert ind["sex_cannot_stop"].forms == ("sexual",)


def test_the_action_plan_holds_every_action_in_both_languages(workspace):
    items = plan_catalogue_items()
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) >= 26
    assert {"national_referral_mechanism", "cooperation_agreements", "train_atypical_groups",
            "crime_prevention_integration"} <= set(ids)
    goals = {g["id"] for g in load_json("action_plan.json")["goals"]}
    assert all(i["goal_id"] in goals and i["action_lv"] and i["actors_lv"] for i in items)
    rows = plan_items(workspace)
    assert len(rows) == len(items)
    lv = plan_item_text(rows[0], "lv")
    assert lv["goal"].startswith("Pievērst uzmanību") and lv["action"].startswith("Veikt situācijas apzināšanu")
    History(workspace, "P").do(UpdateRow("action_plan", rows[0]["id"], {"action": "Our own wording"}))
    assert plan_item_text(plan_items(workspace)[0], "lv")["action"] == "Our own wording"  # edited: as written


def test_estimates_take_an_origin_breakdown(workspace):
    assert origin_breakdown("latviešu: 20; romu: 5") == {"latviešu": 20, "romu": 5}
    assert origin_breakdown('{"lietuviešu": 3}') == {"lietuviešu": 3} and origin_breakdown("") == {}
    assert format_origin_breakdown({"a": 1, "b": 2}) == "a: 1; b: 2"
    base = {"risk_group": "homeless", "estimate": 30, "source_institution": "Social services",
            "estimated_on": "2026-01-10", "confidence": "medium"}
    with pytest.raises(ValueError, match="more than the estimate"):
        estimate_values({**base, "origin_breakdown": "latviešu: 25; romu: 10"})
    with pytest.raises(ValueError, match="whole number"):
        estimate_values({**base, "origin_breakdown": "latviešu: -1"})
    area = shapely.box(24.10, 56.94, 24.12, 56.96)
    History(workspace, "A").do(record_estimate(area, {**base, "origin_breakdown": {"romu": 5, "latviešu": 20}}))
    History(workspace, "A").do(record_estimate(area, base))  # an estimate without one stays valid
    frame = workspace.read_layer("risk_group_estimates")
    assert json.loads(frame["origin_breakdown"].iloc[0]) == {"latviešu": 20, "romu": 5}
    assert frame["origin_breakdown"].isna().iloc[1]


def test_only_the_police_profile_receives_the_origin_breakdown():
    share = load_json("sensitivity.json")["layers"]["risk_group_estimates"]["share"]
    assert "origin_breakdown" in share["police"]["fields"]
    assert "origin_breakdown" not in share["partner"]["fields"] + share["public"]["fields"]


def _version_5_workspace(path):
    """A workspace as Lantern with questionnaire and action plan version 1 left it (schema 5)."""
    later = {v: migrations._MIGRATIONS.pop(v) for v in sorted(migrations._MIGRATIONS) if v >= 6}
    try:
        ws = Workspace.create(path)
        v1 = {i["action"] for i in load_json("action_plan.json")["items"][:10]}
        h = History(ws, "Auditor")
        for row in plan_items(ws):
            if row["action"] not in v1:
                h.do(DeleteRow("action_plan", row["id"]))
        h.do(UpdateRow("action_plan", 3, {"status": "done", "notes": "kept"}))
        for qid, text, number in [("prostitution.where", "Old town", None), ("homeless.count", None, 60),
                                  ("offenders.ethics", "Two of five", None), ("origin.leaving", "Via agencies", None)]:
            h.do(InsertRow("assessment_answers", {"question_id": qid, "answer_text": text, "answer_number": number,
                                                  "answered_on": "2025-05-01", "confidence": "medium"}))
        ws.close()
        conn = sqlite3.connect(path)  # the estimates table as Lantern before version 2 made it
        with conn:
            conn.execute('ALTER TABLE risk_group_estimates DROP COLUMN origin_breakdown')
        conn.close()
    finally:
        migrations._MIGRATIONS.update(later)


def test_migration_keeps_version_1_answers_and_statuses(tmp_path):
    from audit.check import check_workspace

    path = tmp_path / "old.gpkg"
    _version_5_workspace(path)
    assert check_workspace(path).ok
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM workspace_meta WHERE key = 'schema_version'").fetchone() == ("5",)
    assert "origin_breakdown" not in {r[1] for r in conn.execute("PRAGMA table_info(risk_group_estimates)")}
    conn.close()
    with Workspace.open(path) as ws:
        assert ws.schema_version >= 6
        stored = answers(ws)
        assert stored["homeless.count"]["answer_number"] == 60  # same question, same id
        assert stored["v1.prostitution.where"]["answer_text"] == "Old town"  # kept under its version-1 question
        assert stored["v1.offenders.ethics"]["answer_text"] == "Two of five"
        assert "offenders.ethics" not in stored and "origin.leaving" not in stored
        qs = questions()
        assert all(qid in qs for qid in stored)  # every stored answer still has its question
        assert "v1." + "origin.leaving" == renamed_ids()["origin.leaving"]
        assert {p["section"] for p in progress(ws)} >= {"legacy_v1"}
        rows = plan_items(ws)
        assert len(rows) == len(plan_catalogue_items())
        assert rows[2]["status"] == "done" and rows[2]["notes"] == "kept"
        assert {r["item_id"] for r in rows if r["item_id"]} >= {"national_referral_mechanism", "cooperation_agreements"}
        assert plan_item_text(rows[2], "lv")["action"].startswith("Apzināt visas pašvaldības")
        assert "origin_breakdown" in ws.db["risk_group_estimates"].columns_dict
    result = check_workspace(path)
    assert result.ok and not result.outside_edits, result.problems
    with Workspace.open(path) as ws:  # a second opening changes nothing
        assert len(plan_items(ws)) == len(plan_catalogue_items())
