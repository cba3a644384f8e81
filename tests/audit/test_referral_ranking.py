"""Urgency "now": services open around the clock rank first; lines without an address before places."""
import pytest

from audit.referral import Situation, always_open, suitable_services
from tests.audit.test_assessment import HAND_BUILT, MONDAY_NOON, _services


@pytest.mark.parametrize("hours, expected", [
    ("24/7", True), (" 24/7 ", True), ("Mo-Su 00:00-24:00", True), ("Mo-Fr 10:00-18:00", False), ("", False),
    (None, False)])
def test_always_open(hours, expected):
    assert always_open(hours) is expected


def test_now_ranks_round_the_clock_services_first():
    services = _services(HAND_BUILT)
    here = (24.105, 56.950)
    now = suitable_services(services, Situation(urgency="now", language="lv"), here, MONDAY_NOON)
    assert [r["name"] for r in now] == ["National hotline", "Youth shelter", "Far crisis centre",
                                        "Near women's NGO", "Labour lawyers"]
    assert [r["always_open"] for r in now] == [True, True, True, False, False]
    # control: when help is needed soon, the nearest comes first and the line without an address last
    soon = suitable_services(services, Situation(urgency="soon", language="lv"), here, MONDAY_NOON)
    assert soon[0]["name"] == "Near women's NGO" and soon[-1]["name"] == "National hotline"
