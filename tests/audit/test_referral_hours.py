"""Opening hours through opening-hours-py: overnight spans, split hours, day lists, public holidays."""
import datetime as dt

import pytest

from audit.referral import Situation, always_open, is_open, suitable_services
from tests.audit.test_assessment import _services

MONDAY = dt.date(2026, 11, 23)
RIGA = (24.105, 56.950)  # (lon, lat)
HELSINKI = (24.94, 60.17)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm))


@pytest.mark.parametrize("when, expected", [
    (at(MONDAY, "23:30"), True),  # the hand-written parser said closed
    (at(MONDAY + dt.timedelta(days=1), "05:59"), True),  # past midnight, into the next day
    (at(MONDAY, "06:00"), False), (at(MONDAY, "12:00"), False), (at(MONDAY, "22:00"), True)])
def test_overnight_shelter(when, expected):
    assert is_open("Mo-Su 22:00-06:00", when) is expected


def test_overnight_span_belongs_to_the_day_it_starts():
    # Friday night until Saturday 06:00, but not Saturday night
    assert is_open("Fr 22:00-06:00", at(dt.date(2026, 11, 28), "03:00")) is True
    assert is_open("Fr 22:00-06:00", at(dt.date(2026, 11, 28), "23:00")) is False


@pytest.mark.parametrize("hhmm, expected", [("10:00", True), ("13:30", False), ("14:00", True), ("18:00", False)])
def test_split_hours(hhmm, expected):
    assert is_open("09:00-13:00,14:00-18:00", at(MONDAY, hhmm)) is expected


@pytest.mark.parametrize("offset, expected", [(0, True), (1, False), (2, True), (3, False), (4, True), (5, False)])
def test_day_lists(offset, expected):
    assert is_open("Mo,We,Fr", at(MONDAY + dt.timedelta(days=offset), "12:00")) is expected
    assert is_open("Mo,We,Fr 10:00-14:00", at(MONDAY + dt.timedelta(days=offset), "12:00")) is expected


def test_latvian_public_holidays_come_from_the_services_position():
    hours = "Mo-Fr 09:00-17:00; PH off"
    proclamation_day = at(dt.date(2026, 11, 18), "12:00")  # a Wednesday, a public holiday in Latvia only
    assert is_open(hours, proclamation_day, RIGA) is False
    assert is_open(hours, at(dt.date(2026, 11, 19), "12:00"), RIGA) is True  # control: the next day
    assert is_open(hours, proclamation_day, HELSINKI) is True  # not a holiday in Finland
    independence_day = at(dt.date(2024, 12, 6), "12:00")  # a Friday, a public holiday in Finland only
    assert is_open(hours, independence_day, HELSINKI) is False
    assert is_open(hours, independence_day, RIGA) is True
    # without a position the country is unknown: the PH rule cannot apply, the weekly hours still do
    assert is_open(hours, proclamation_day) is True


def test_holiday_hours_in_the_referral_list_use_each_services_place():
    services = _services([
        {"name": "Rīga office", "service_type": "ngo", "hours": "Mo-Fr 09:00-17:00; PH off", "xy": (24.11, 56.95)},
        {"name": "Hotline", "service_type": "hotline", "hours": "Mo-Fr 09:00-17:00; PH off"},
        {"name": "Shelter", "service_type": "shelter", "hours": "Mo-Su 22:00-06:00", "xy": (24.12, 56.95)}])
    holiday = suitable_services(services, Situation(), RIGA, at(dt.date(2026, 11, 18), "12:00"))
    assert {r["name"]: r["open_now"] for r in holiday} == {"Rīga office": False, "Hotline": False, "Shelter": False}
    night = suitable_services(services, Situation(urgency="now"), RIGA, at(dt.date(2026, 11, 18), "23:30"))
    assert [r["name"] for r in night] == ["Shelter"]  # the overnight shelter is open, the office is not


@pytest.mark.parametrize("hours, expected", [
    ("Mo-Su 00:00-24:00", True), ("24/7", True), ("24/7/365", True), ("always", True),
    ("24/7; PH off", False), ("Mo-Su 22:00-06:00", False), ("by appointment", False)])
def test_always_open_uses_the_normalised_rule(hours, expected):
    assert always_open(hours) is expected


@pytest.mark.parametrize("hours", ["by appointment", "ask at the desk", "Mo-Fr 10:00-18:00 unknown"])
def test_unreadable_or_unknown_hours_are_unknown_not_closed(hours):
    assert is_open(hours, at(MONDAY, "12:00")) is None


def test_aware_times_are_read_on_the_local_clock():
    local = at(MONDAY, "23:30").astimezone()  # the machine's own zone, aware
    assert is_open("Mo-Su 22:00-06:00", local) is True
