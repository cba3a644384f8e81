"""A Latvian district report holds no English text of the program: no msgid of the translation catalogue and no
English text of a data catalogue (action plan, questions, indicators, …), in any profile, in its HTML and in its PDF.

The workspace's own data is the municipality's (names of places and services, sources it typed): the test gives
it Latvian names, so what is left in English can only come from the program. An English report of the same
workspace is the positive control: the same search finds the program's English there.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from audit.assessment import answer
from audit.commands import History
from audit.estimates import record_estimate
from layers import i18n
from layers.workspace import Workspace
from mapping.share_export import export

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "data" / "locale" / "lv" / "LC_MESSAGES" / "lantern.po"
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")

# English texts that may stay in a Latvian report, and why.
ALLOWED = {
    "no": "also a Latvian word ('from': 'no centra līdz centram')",
    "OpenStreetMap": "a proper name (the basemap's source and its attribution)",
    "Lantern": "the program's name",
}
PROFILES = ("public", "partner", "police")


@lru_cache(maxsize=1)
def english_texts() -> frozenset[str]:
    """Every English msgid (singular and plural) and every English text of data/*.json that has a Latvian twin."""
    with open(PO, "rb") as fh:
        # a message whose Latvian is the same text (units: "{n} km") is not English left behind
        texts = {s for m in read_po(fh) if m.id and m.string != m.id
                 for s in (m.id if isinstance(m.id, tuple) else (m.id,))}

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("en"), str) and isinstance(node.get("lv"), str):
                texts.add(node["en"])
            texts.update(node[k] for k in node if isinstance(node.get(f"{k}_lv"), str) and isinstance(node[k], str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in (ROOT / "data").glob("*.json"):
        if path.name != "glossary.json":  # the glossary's English column is a list of terms, not program text
            walk(json.loads(path.read_text(encoding="utf-8")))
    return frozenset(t for t in texts if re.search(r"[A-Za-z]{2}", PLACEHOLDER.sub("", t)))


@lru_cache(maxsize=None)
def _pattern(message: str) -> re.Pattern:
    pieces = [re.escape(" ".join(p.split())) for p in PLACEHOLDER.split(message)]
    return re.compile(r"(?<!\w)" + r".{1,80}?".join(pieces) + r"(?!\w)")


def english_in(text: str) -> set[str]:
    """The catalogues' English texts found in ``text`` (whitespace-normalised, whole words, case-sensitive)."""
    text = " ".join(text.split())
    return {m for m in english_texts() if m not in ALLOWED and _pattern(m).search(text)}


def html_text(path: Path) -> str:
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    page = re.sub(r"src='data:[^']*'", "", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_search_sees_english():
    found = english_in("Lantern map. Action plan: 3 risk areas, PUBLIC, planned. Sākums no rīta.")
    assert {"Action plan", "PUBLIC"} <= found and "no" not in found


def _latvian_data(ws) -> None:
    """The municipality's own data in Latvian: names it gave, sources it typed (not the program's texts)."""
    ws.set_metadata("name", "Pilsētas centrs — mācību dati")
    with ws.atomic() as db:
        for table in ("services", "risk_areas", "places_of_concern", "shelters", "worksites", "transport_hubs"):
            db.execute(f"UPDATE {table} SET name = 'Objekts ' || fid")
        db.execute("UPDATE risk_group_estimates SET source_institution = 'Sociālais dienests'")
        db.execute("UPDATE audit_rounds SET name = id || '. kārta', teams = '[\"Ziemeļu grupa\"]'")


@pytest.fixture(scope="module")
def reports(demo_file, tmp_path_factory):
    folder = tmp_path_factory.mktemp("language")
    path = folder / "district.gpkg"
    shutil.copy(demo_file, path)
    out = {}
    with Workspace.open(path) as ws:
        _latvian_data(ws)
        history = History(ws, "Auditore")
        history.do(answer(ws, "homeless.vulnerability", value=["youth", "no_home_or_income"], author="Auditore"))
        history.do(answer(ws, "homeless.count", number=75, source="Sociālais dienests", author="Auditore"))
        area = ws.read_layer("risk_areas").geometry.iloc[0]
        history.do(record_estimate(area, {"risk_group": "migrant_workers", "estimate": 30, "confidence": "medium",
                                          "origin_breakdown": "ukraiņi: 12; lietuvieši: 5",
                                          "source_institution": "Sociālais dienests", "estimated_on": "2026-01-15"}))
        for profile in PROFILES:
            for lang in ("lv", "en"):
                files, _ = export(ws, profile, "report", folder / f"{profile}-{lang}.pdf", lang=lang,
                                  recipient="Policijas sadarbības virsnieks", confirm_police=True)
                out[(profile, lang)] = files
    return out


@pytest.mark.parametrize("profile", PROFILES)
def test_a_latvian_report_holds_no_english(reports, profile):
    pdf, page = reports[(profile, "lv")]
    assert english_in(html_text(page)) == set()
    if shutil.which("pdftotext"):
        assert english_in(pdf_text(pdf)) == set()


@pytest.mark.parametrize("profile", PROFILES)
def test_an_english_report_shows_the_program_english(reports, profile):
    """The positive control: the same search finds the program's English in an English report."""
    pdf, page = reports[(profile, "en")]
    found = english_in(html_text(page))
    assert {"Situation assessment report", "Action plan", "Method notes", "Personal vulnerability factors",
            "Planned"} <= found
    assert len(found) > 40
    if shutil.which("pdftotext"):
        assert {"Situation assessment report", "Action plan"} <= english_in(pdf_text(pdf))


def test_the_latvian_report_shows_the_guidelines_content(reports):
    """The whole action plan, the vulnerability factors and (police only) the origin breakdown, in Latvian."""
    from audit.assessment import plan_catalogue, vulnerability_factors

    pages = {p: html_text(reports[(p, "lv")][1]) for p in PROFILES}
    for profile, text in pages.items():
        text = " ".join(text.split())
        assert all(" ".join(item["action_lv"].split()) in text for item in plan_catalogue()["items"]), profile
        assert all(f["lv"] in text for f in vulnerability_factors()), profile
        assert "Personas ievainojamības faktori" in text and "Bezpajumtnieki (5. tabula)" in text
        assert ("lietuvieši: 5; ukraiņi: 12" in text) == (profile == "police")
    with i18n.using("lv"):
        marking = {p: i18n._(m) for p, m in (("public", "PUBLIC"), ("partner", "PARTNER — not for publication"))}
    assert marking["public"] in pages["public"] and marking["partner"] in pages["partner"]
