"""The report tells the story over time: progress since the previous round, campaigns, the actor network and
its training, the action plan with what is overdue — each cut to the report's profile."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from audit.actors import add_actor
from audit.annotations import annotate, annotation_values
from audit.campaigns import add_campaign
from audit.commands import History
from audit.rounds import add_round, rounds
from layers.migrations import ACTION_PLAN_TABLE
from layers.workspace import Workspace
from mapping.share_export import export

PHONE = "+371 2000 1234"


@pytest.fixture
def story(demo_copy):
    """The demo with a second round holding new findings, an actor with a planted phone, an overdue plan item."""
    with Workspace.open(demo_copy) as ws:
        history = History(ws, "Tests")
        today = dt.date.today()
        if not rounds(ws):  # a demo made before rounds: its findings become a first round
            history.do(add_round(ws, "Pavasaris 2026", dt.date(2020, 1, 1), today - dt.timedelta(days=11)))
        history.do(add_round(ws, "Rudens 2026", today - dt.timedelta(days=10), today))
        worksites = ws.read_layer("worksites")
        for fid in worksites.index[:12]:
            history.do(annotate(annotation_values("worksites", int(fid), indicators_seen=["gen_no_documents",
                       "lab_long_hours", "gen_controlled"], observed=today.isoformat(), confidence="high",
                       source="own_observation", author="Tests", team="A", note="")))
        history.do(add_actor(ws, {"name": "Sociālais dienests", "sector": "social_services",
                                  "roles": ["identification", "referral"], "contact_point": "Krīzes nodaļa",
                                  "contact_phone": PHONE, "staff": 10, "staff_trained": 4}))
        hub = ws.read_layer("transport_hubs").geometry.iloc[0].representative_point()
        history.do(add_campaign(ws, {"name": "Autoosta rudenī", "starts": "2026-06-01", "ends": "2026-06-30",
                                     "audiences": ["taxi_drivers"], "languages": ["lv", "ru"],
                                     "channels": ["leaflets"], "people_reached": 120, "leaflets": 300},
                                locations=[{"name": "Autoosta", "lon": hub.x, "lat": hub.y, "source": "map"}]))
        ws.db.conn.execute(f"UPDATE {ACTION_PLAN_TABLE} SET due_date = '2020-01-31', status = 'planned' "
                           f"WHERE id = (SELECT min(id) FROM {ACTION_PLAN_TABLE})")
    return demo_copy


def _html(path, profile, tmp_path, lang="en") -> str:
    with Workspace.open(path) as ws:
        files, _disclosure = export(ws, profile, "report", tmp_path / f"{profile}-{lang}.pdf", lang=lang,
                                    recipient="Tests", confirm_police=profile == "police", author="Tests")
    return next(f for f in files if f.suffix == ".html").read_text(encoding="utf-8")


def _section(html: str, title: str) -> str:
    return html.split(f"<h2>{title}</h2>", 1)[1].split("<h2>", 1)[0]


TRAINED = re.compile(r"\d+ / \d+ \(\d+")  # "13 / 34 (38%)": trained of staff


def test_the_report_tells_what_changed_since_the_previous_round(story, tmp_path):
    html = _html(story, "partner", tmp_path)
    progress = _section(html, "Progress since the previous round")
    assert "Rudens 2026" in progress and ("Places: new" in progress or "Places: risk up" in progress)
    actors = _section(html, "The local actor network")
    assert "Social services" in actors and TRAINED.search(actors)  # training coverage, partner level
    assert "2020-01-31 — Overdue" in html
    assert PHONE not in html  # the register's contact details are not the report's business


def test_the_public_report_shows_no_training_numbers_or_contacts(story, tmp_path):
    actors = _section(_html(story, "public", tmp_path), "The local actor network")
    assert "Social services" in actors  # public: sectors and how many actors
    assert not TRAINED.search(actors) and PHONE not in actors
    # positive control: the same register in the partner report shows the trained share
    assert TRAINED.search(_section(_html(story, "partner", tmp_path), "The local actor network"))


def test_a_single_round_says_there_is_nothing_to_compare_yet(tmp_path):
    import shutil

    path = tmp_path / "v6.gpkg"  # a workspace from before rounds
    shutil.copy(Path(__file__).resolve().parents[1] / "fixtures" / "workspace_v6_areas.gpkg", path)
    with Workspace.open(path) as ws:
        assert len(rounds(ws)) < 2
    html = _html(path, "public", tmp_path)
    assert "None recorded." in _section(html, "Progress since the previous round")


def test_the_latvian_report_has_the_sections_in_latvian(story, tmp_path):
    html = _html(story, "partner", tmp_path, lang="lv")
    assert "Pārmaiņas kopš iepriekšējās apzināšanas kārtas" in html and "Nokavēts" in html


def test_the_report_shows_each_campaign_with_its_reach_and_an_honest_evaluation(story, tmp_path):
    campaigns = _section(_html(story, "partner", tmp_path), "Campaigns and their evaluation")
    assert "Autoosta rudenī" in campaigns and "leaflets: 300" in campaigns
    assert "not proof of cause" in campaigns  # the evaluation's first caveat travels with it
