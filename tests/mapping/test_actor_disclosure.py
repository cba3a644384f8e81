"""Attack: contact details, agreements, training and notes of a local actor leave only where the allow-list says.

Planted in a copy of the demo: an actor with a phone number, an e-mail address, a contact point, an address, an
agreement's scope, training needs and a police note, each a unique text. Every profile × every format is
exported and every file scanned (folders expanded, GeoPackages also as their rows, PDFs also as their text) with
the scanner of test_disclosure_attacks. Public: name, sector and roles only. Partner: contact details, agreement
and training, never the note. Positive controls: the partner export has the phone, the police export the note,
and the public one the actor's name (the table is there, so the scan is not looking at nothing).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from audit.actors import add_actor
from audit.commands import History
from layers.workspace import Workspace
from tests.mapping.test_disclosure_attacks import FORMATS, PROFILES, _blobs, _export, _variants

PLANTED = {
    "name": "PLANTED-ACTOR Ūdens iela crisis desk",  # public
    "contact_phone": "+371 2999 8877",  # partner
    "contact_email": "planted.desk@actor.example",  # partner
    "contact_point": "PLANTED-POINT Krīzes nodaļa",  # partner
    "address": "PLANTED-ADDRESS Brīvības iela 999",  # partner
    "agreement_scope": "PLANTED-SCOPE referral within 24 hours",  # partner
    "training_needs": "PLANTED-NEEDS interviews with interpreters",  # partner
    "notes": "PLANTED-NOTE the desk's officer is unreliable",  # police
}
PARTNER = {"contact_phone", "contact_email", "contact_point", "address", "agreement_scope", "training_needs"}
TABLE_FORMATS = ("gpkg", "csv", "geojson")  # the formats that carry attribute tables


@pytest.fixture(scope="module")
def planted(demo_file, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("actor") / "demo.gpkg"
    shutil.copy(demo_file, path)
    with Workspace.open(path) as ws:
        History(ws, "Attacker").do(add_actor(ws, {
            **PLANTED, "sector": "social_services", "roles": ["identification", "referral"], "staff": 12,
            "staff_trained": 3, "agreement_date": "2025-01-01", "agreement_renewal": "2027-01-01"}))
    return path


def _found(files: list[Path]) -> dict[str, set[str]]:
    """Planted field → the files it was found in."""
    found: dict[str, set[str]] = {}
    for name, data in _blobs(files).items():
        for column, text in PLANTED.items():
            if any(v in data for v in _variants(text)):
                found.setdefault(column, set()).add(name)
    return found


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("profile", PROFILES)
def test_actor_details_leave_only_at_their_level(planted, tmp_path, profile, fmt):
    found = _found(_export(planted, profile, fmt, tmp_path / "out"))
    allowed = {"public": {"name"}, "partner": {"name"} | PARTNER, "police": set(PLANTED)}[profile]
    leaked = {column: sorted(files)[:2] for column, files in found.items() if column not in allowed}
    assert leaked == {}
    if fmt in TABLE_FORMATS:  # positive controls: what the profile may see is really there
        assert "name" in found
        if profile == "partner":
            assert {"contact_phone", "contact_email", "training_needs"} <= set(found)
        if profile == "police":
            assert "notes" in found


def test_the_scan_finds_the_phone_however_it_is_written(tmp_path):
    """Control for the scanner itself: the phone in a CSV cell, in JSON and in HTML is seen."""
    phone = PLANTED["contact_phone"]
    for i, text in enumerate((f'a;"{phone}";b', '{"p": "%s"}' % phone, f"<td>{phone}</td>")):
        f = tmp_path / f"{i}.txt"
        f.write_text(text, encoding="utf-8")
        assert _found([f]) == {"contact_phone": {str(f)}}
