"""Situation assessment: referral, gaps, questionnaire, action plan, report."""
import datetime as dt
import json
import re
import subprocess

import geopandas as gpd
import numpy as np
import pytest
import shapely

from audit.assessment import add_plan_item, answer, answers, plan_items, progress, questions, update_plan_item
from audit.commands import History
from audit.gaps import service_gaps
from audit.referral import Situation, is_open, suitable_services
from layers.features import prepare
from layers.catalogue import kind
from layers.resources import load_json
from layers.workspace import Workspace

MONDAY_NOON = dt.datetime(2026, 11, 23, 12, 0)
SATURDAY_NIGHT = dt.datetime(2026, 11, 28, 23, 0)


def _services(rows):
    frame = gpd.GeoDataFrame([{k: v for k, v in r.items() if k != "xy"} for r in rows],
                             geometry=[shapely.Point(r["xy"]) if r.get("xy") else None for r in rows], crs=4326)
    prepared = prepare("services.geojson", frame, kind("services"))
    out = gpd.GeoDataFrame(prepared.rows, geometry=list(prepared.geometries), crs=4326)
    out.index = range(1, len(out) + 1)
    return out


HAND_BUILT = [
    {"name": "Far crisis centre", "service_type": "crisis_centre", "assistance": "crisis_intervention",
     "hours": "24/7", "languages": "lv, ru", "xy": (24.20, 56.95)},
    {"name": "Near women's NGO", "service_type": "ngo", "assistance": "hotline;referral", "serves_sex": "female",
     "serves_forms": "sexual", "hours": "Mo-Fr 10:00-18:00", "languages": "lv, en", "xy": (24.106, 56.950)},
    {"name": "Youth shelter", "service_type": "shelter", "assistance": "safe_place", "serves_ages": "minors",
     "hours": "24/7", "languages": "lv", "xy": (24.12, 56.95)},
    {"name": "National hotline", "service_type": "hotline", "assistance": "hotline", "hours": "24/7",
     "languages": "lv, en, ru"},
    {"name": "Labour lawyers", "service_type": "legal_aid", "assistance": "long_term", "serves_forms": "labour",
     "serves_ages": "adults", "hours": "Mo-Th 09:00-15:00", "languages": "lv", "xy": (24.11, 56.951)},
]


@pytest.mark.parametrize("hours, when, expected", [
    ("24/7", SATURDAY_NIGHT, True), ("Mo-Fr 10:00-18:00", MONDAY_NOON, True),
    ("Mo-Fr 10:00-18:00", SATURDAY_NIGHT, False), ("Mo-Fr 10:00-18:00; Sa 20:00-23:30", SATURDAY_NIGHT, True),
    ("10:00-11:00", MONDAY_NOON, False), ("by appointment", MONDAY_NOON, None), ("", MONDAY_NOON, None),
])
def test_opening_hours(hours, when, expected):
    assert is_open(hours, when) is expected


def test_referral_filters_and_orders_nearest_first():
    services = _services(HAND_BUILT)
    here = (24.105, 56.950)
    woman = suitable_services(services, Situation(form="sexual", sex="female", language="en"), here, MONDAY_NOON)
    assert [r["name"] for r in woman] == ["Near women's NGO", "National hotline"]  # others: language, age, form
    assert woman[0]["distance_m"] < 100 and woman[0]["open_now"] is True
    assert woman[1]["distance_m"] is None  # no address: listed last
    minor = suitable_services(services, Situation(age_band="14-17", language="lv"), here, MONDAY_NOON)
    # adults-only lawyers drop out; a service for women stays when the person's sex is not given
    assert [r["name"] for r in minor] == ["Near women's NGO", "Youth shelter", "Far crisis centre", "National hotline"]
    assert "works with minors" in minor[1]["why"]
    distances = [r["distance_m"] for r in minor if r["distance_m"] is not None]
    assert distances == sorted(distances)
    urgent = suitable_services(services, Situation(urgency="now", language="lv"), here, SATURDAY_NIGHT)
    assert {r["name"] for r in urgent} == {"Far crisis centre", "Youth shelter", "National hotline"}
    assert all(r["open_now"] for r in urgent)
    walk = minor[1]
    assert walk["walk_min"] == round(walk["distance_m"] * 1.3 / (5000 / 60))


def test_gaps_match_a_brute_force_check():
    rng = np.random.default_rng(4)
    services = _services([{"name": f"S{i}", "service_type": "crisis_centre",
                           "assistance": "crisis_intervention" if i % 2 else "referral",
                           "xy": (24.10 + rng.uniform(0, 0.04), 56.94 + rng.uniform(0, 0.02))} for i in range(8)])
    areas = gpd.GeoDataFrame({"name": [f"A{i}" for i in range(15)]}, crs=4326, geometry=[
        shapely.Point(24.09 + rng.uniform(0, 0.06), 56.935 + rng.uniform(0, 0.03)).buffer(0.001) for _ in range(15)])
    gaps = service_gaps(services, areas, None, 600, assistance="crisis_intervention")
    metric = areas.estimate_utm_crs()
    suitable = services[[('"crisis_intervention"' in a) for a in services["assistance"]]].to_crs(metric)
    expected = set()
    for name, geom in zip(areas["name"], areas.to_crs(metric).geometry):
        if min(geom.distance(p) for p in suitable.geometry) > 600:
            expected.add(name)
    assert set(gaps["name"]) == expected and 0 < len(expected) < 15


def test_questionnaire_round_trip_progress_and_change_log(workspace):
    history = History(workspace, "Auditor")
    qs = questions()
    assert len(qs) >= 150 and all(q["en"] and q["lv"] for q in qs.values())
    history.do(answer(workspace, "homeless.count", number=60, source="Social services", author="Auditor"))
    history.do(answer(workspace, "offenders.known", text="Recruiters at the bus station", author="Auditor"))
    history.do(answer(workspace, "homeless.count", number=75, source="Social services", author="Auditor"))  # revision
    stored = answers(workspace)
    assert stored["homeless.count"]["answer_number"] == 75 and stored["offenders.known"]["answer_text"].startswith("Recruiters")
    sections = {p["section"]: p for p in progress(workspace)}
    assert sections["group_homeless"]["answered"] == 1 and sections["offenders"]["answered"] == 1
    log = workspace.db.conn.execute("SELECT action, table_name FROM change_log WHERE action != 'baseline' ORDER BY id").fetchall()
    assert log == [("insert", "assessment_answers"), ("insert", "assessment_answers"), ("update", "assessment_answers")]
    history.undo()
    assert answers(workspace)["homeless.count"]["answer_number"] == 60
    with pytest.raises(ValueError, match="text answer"):
        answer(workspace, "offenders.known", number=3)
    with pytest.raises(ValueError, match="unknown question"):
        answer(workspace, "nope", text="x")


def test_action_plan_is_prefilled_and_editable(workspace):
    items = plan_items(workspace)
    n = len(load_json("action_plan.json")["items"])
    assert len(items) == n >= 26 and {i["goal"] for i in items} >= {"Prevention", "Better assistance to victims"}
    history = History(workspace, "Planner")
    history.do(update_plan_item(items[0]["id"], status="in_progress", responsible="Social department",
                                due_date="2027-03-31"))
    history.do(add_plan_item("Prevention", "Train taxi drivers", "Taxi companies"))
    items = plan_items(workspace)
    assert items[0]["status"] == "in_progress" and items[-1]["action"] == "Train taxi drivers"
    with pytest.raises(ValueError, match="status"):
        update_plan_item(items[0]["id"], status="finished")
    history.undo()
    history.undo()
    assert plan_items(workspace)[0]["status"] == "planned" and len(plan_items(workspace)) == n


@pytest.fixture(scope="module")
def reports(demo_file, tmp_path_factory):
    import shutil

    from mapping.share_export import export

    folder = tmp_path_factory.mktemp("reports")
    path = folder / "demo.gpkg"
    shutil.copy(demo_file, path)
    out = {}
    with Workspace.open(path) as ws:
        History(ws, "A").do(answer(ws, "offenders.known", text="Secret lead about recruiter X", author="A"))
        cases = [(g.x, g.y) for g in ws.read_layer("reported_cases").geometry]
        texts = sorted({t for row in ws.db.conn.execute("SELECT note, author FROM annotations") for t in row if t})
        for profile in ("public", "partner", "police"):
            for lang in ("en", "lv"):
                out[(profile, lang)] = export(ws, profile, "report", folder / f"{profile}-{lang}.pdf", lang=lang,
                                              recipient="Liaison officer", confirm_police=True)[0]
    return out, cases, texts + ["Secret lead about recruiter X"]


SECTIONS = {"en": ["Situation assessment report", "Maps", "Risk-group estimates", "Indicators observed",
                   "Services by assistance type", "Service gaps", "Assessment questionnaire", "Action plan",
                   "Data sources and dates", "Method notes"],
            "lv": ["Situācijas apzināšanas ziņojums", "Kartes", "Riska grupu aplēses", "Novērotie indikatori",
                   "Pakalpojumi pa palīdzības veidiem", "Pakalpojumu trūkumi", "Situācijas apzināšanas anketa",
                   "Rīcības plāns", "Datu avoti un datumi", "Piezīmes par metodi"]}


@pytest.mark.parametrize("profile", ["public", "partner", "police"])
@pytest.mark.parametrize("lang", ["en", "lv"])
def test_report_sections_and_no_leaks(reports, profile, lang):
    out, cases, texts = reports
    pdf, html_twin = out[(profile, lang)]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    for section in SECTIONS[lang]:
        assert section in text, section
    assert re.search(r"^Pages:\s+([4-9]|\d\d)$", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                               text=True).stdout, re.M)
    page = html_twin.read_text(encoding="utf-8")
    assert SECTIONS[lang][0] in page and "<script" not in page
    everything = text + page
    if profile != "police":
        assert not [t for t in texts if t in everything]
        for x, y in cases:
            assert f"{x:.4f}" not in everything or f"{y:.4f}" not in everything
    else:
        assert {"en": "RESTRICTED", "lv": "IEROBEŽOTA PIEEJAMĪBA"}[lang] in text
        assert "Secret lead about recruiter X" in everything
