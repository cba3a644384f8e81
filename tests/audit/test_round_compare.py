"""Comparing two audit rounds on a hand-built district whose changes are known (tests/rounds_fixture.py)."""
import pytest

from audit import rounds
from audit.commands import History
from audit.round_compare import Comparison, change_cells, compare, published_problems, require_published
from audit.disclosure import DisclosureError
from layers.workspace import Workspace
from tests.rounds_fixture import build, square


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    path = tmp_path_factory.mktemp("rounds") / "district.gpkg"
    return path, build(path, crowd=True)


@pytest.fixture(scope="module")
def police(district):
    with Workspace.open(district[0]) as ws:
        return compare(ws, "Round A", "Round B", "police")


def _by_name(comparison):
    return {r["name"]: r for r in comparison.places}


def test_places_new_gone_up_down_with_their_drivers(police):
    places = _by_name(police)
    assert places["Place new"]["status"] == "new" and places["Place new"]["level_to"] == "elevated"
    assert places["Place gone"]["status"] == "gone" and places["Place gone"]["level_to"] is None
    assert places["(deleted)"]["status"] == "gone"  # the place itself was deleted since round A
    assert places["Place same"]["status"] == "same"
    up, down = places["Place up"], places["Place down"]
    assert (up["status"], up["level_from"], up["level_to"]) == ("up", "low", "high")
    assert "Passport or documents held by the employer +3" in up["drivers"]
    assert (down["status"], down["level_from"], down["level_to"]) == ("down", "elevated", "low")
    assert down["drivers"].startswith("The person appears to be under 18 −3")  # what fell most, first
    assert "No local language" not in down["drivers"]  # it rose: not a driver of the fall


def test_estimates_by_group_and_by_area(police):
    groups = {r["risk_group"]: r for r in police.estimates}
    assert (groups["migrant_workers"]["estimate_from"], groups["migrant_workers"]["estimate_to"]) == (80, 120)
    assert groups["migrant_workers"]["change"] == 40  # the latest of round B's two Market estimates
    assert groups["begging_crime"]["trend"] == "ended" and groups["begging_crime"]["change"] is None
    assert groups["prostitution"]["change"] == 3
    areas = {r["area_name"]: r for r in police.estimate_areas}
    assert set(areas) == {"Market", "Station", "Park"}  # Harbour: only in round A
    assert areas["Station"]["change"] == 30


def test_indicators_seen_more_and_less_often(police):
    found = {r["indicator"]: (r["places_from"], r["places_to"], r["change"]) for r in police.indicators}
    assert found["gen_minor"] == (8, 13, 5)
    assert found["gen_controlled"] == (6, 10, 4)
    assert found["gen_trauma_signs"] == (2, 1, -1) and found["gen_violence_signs"] == (1, 0, -1)
    assert found["gen_no_local_language"] == (1, 1, 0)
    wording = {r["indicator"]: r["wording"] for r in police.indicators}
    assert wording["lab_passport_held"] == "Passport or documents held by the employer"


@pytest.mark.parametrize("profile", ["public", "partner"])
def test_outside_police_no_place_is_named_and_small_numbers_are_withheld(district, profile):
    with Workspace.open(district[0]) as ws:
        c = compare(ws, "Round A", "Round B", profile)
    assert published_problems(c) == []
    assert {r["status"]: r["count"] for r in c.places} == {"new": 7, "gone": None, "up": None, "down": None,
                                                           "same": 7}
    assert all(set(r) == {"status", "count"} for r in c.places)
    indicators = {r["indicator"]: r for r in c.indicators}
    assert set(indicators) == {"gen_minor", "gen_controlled"}  # the rest: below 5 in both rounds
    assert indicators["gen_minor"]["change"] == 5  # a change of 5 may be given …
    assert indicators["gen_controlled"]["change"] is None  # … one of 4 is not, though both counts are shown
    assert indicators["gen_controlled"]["trend"] == "small"
    assert [(d["indicator"], d["places"]) for d in c.drivers] == [("gen_minor", 7)]


def test_estimates_are_classes_for_the_public_and_small_changes_withheld_for_partners(district):
    with Workspace.open(district[0]) as ws:
        public = {r["risk_group"]: r for r in compare(ws, "Round A", "Round B", "public").estimates}
        partner = {r["risk_group"]: r for r in compare(ws, "Round A", "Round B", "partner").estimates}
    assert public["homeless"] == {"risk_group": "homeless", "areas_from": 1, "areas_to": 1, "band_from": "10–49",
                                  "band_to": "50–199", "trend": "more"}
    assert public["migrant_workers"]["trend"] == "same_class"  # 80 → 120: the same class, nothing more said
    assert partner["migrant_workers"]["change"] == 40
    assert partner["prostitution"]["change"] is None and partner["prostitution"]["trend"] == "small"  # 20 → 23


def test_the_published_check_catches_what_the_rules_forbid(police):
    """Positive control: the check that guards every public and partner export sees a small number and a name."""
    sneaky = Comparison("public", police.first, police.second, [{"status": "new", "count": 3}], [], [], [],
                        [{"indicator": "gen_minor", "places_from": 6, "places_to": 8, "change": 2, "trend": "more"}])
    assert len(published_problems(sneaky)) == 2
    with pytest.raises(DisclosureError):
        require_published(sneaky)
    named = Comparison("partner", police.first, police.second, police.places, [], [], [], [])
    assert published_problems(named)
    assert published_problems(police) == []  # police may see everything


@pytest.mark.parametrize("a, b, profile, expected", [
    (8, 13, "public", (8, 13, 5, "more")),
    (6, 10, "public", (6, 10, None, "small")),
    (3, 12, "partner", (None, 12, None, "more")),  # from a withheld count: no number, the direction only
    (12, 2, "public", (12, None, None, "fewer")),
    (2, 4, "public", None),  # both withheld: the row is not published at all
    (2, 4, "police", (2, 4, 2, "more")),
])
def test_change_cells(a, b, profile, expected):
    cells = change_cells(a, b, profile)
    assert (None if cells is None else (cells["from"], cells["to"], cells["change"], cells["trend"])) == expected


def test_only_the_part_both_rounds_cover_is_compared(district, tmp_path):
    import shutil

    path = tmp_path / "part.gpkg"
    shutil.copy(district[0], path)
    with Workspace.open(path) as ws:
        west = square(0, 0, 1000)  # holds only the place that went "up"
        History(ws, "Tester").do(rounds.edit_round(ws, rounds.resolve(ws, "Round B").id, area=west))
        c = compare(ws, "Round A", "Round B", "police")
    assert [r["name"] for r in c.places] == ["Place up"]
    assert c.estimate_areas == [] and any("part of the district" in n for n in c.notes)


def test_two_different_rounds_are_needed(district):
    with Workspace.open(district[0]) as ws:
        with pytest.raises(ValueError, match="two different rounds"):
            compare(ws, "Round A", "round a", "public")
        with pytest.raises(ValueError, match="no audit round 'Round C'"):
            compare(ws, "Round A", "Round C", "public")
