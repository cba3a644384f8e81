import datetime as dt

import pytest

from audit.risk import RiskRules, assess

TODAY = dt.date(2026, 6, 1)
RULES = RiskRules(half_life_days=180, window_days=730, other_weight=1,
                  confidence_factor={"low": 0.5, "medium": 0.8, "high": 1.0},
                  thresholds=(("low", 1.0), ("elevated", 4.0), ("high", 8.0)))


def ann(days_ago, indicators, confidence="high", other=None):
    return {"observed": (TODAY - dt.timedelta(days=days_ago)).isoformat(), "indicators": indicators,
            "confidence": confidence, "other_text": other}


def test_no_annotations_no_risk():
    result = assess([], TODAY, RULES)
    assert (result.level, result.score, result.drivers) == ("none", 0.0, [])


def test_strong_fresh_signs_make_a_high_level():
    # gen_no_documents 3 + gen_controlled 3 + lab_cannot_quit 3 = 9, fresh, high confidence
    result = assess([ann(0, ["gen_no_documents", "gen_controlled", "lab_cannot_quit"])], TODAY, RULES)
    assert result.score == pytest.approx(9.0)
    assert result.level == "high"
    assert {d for d, _ in result.drivers} == {"gen_no_documents", "gen_controlled", "lab_cannot_quit"}


def test_signs_decay_with_age_half_life():
    fresh = assess([ann(0, ["gen_no_documents"])], TODAY, RULES).score
    half = assess([ann(180, ["gen_no_documents"])], TODAY, RULES).score
    quarter = assess([ann(360, ["gen_no_documents"])], TODAY, RULES).score
    assert half == pytest.approx(fresh / 2) and quarter == pytest.approx(fresh / 4)


def test_annotations_outside_the_window_or_in_the_future_do_not_count():
    assert assess([ann(731, ["gen_no_documents"])], TODAY, RULES).score == 0
    assert assess([ann(-1, ["gen_no_documents"])], TODAY, RULES).score == 0


def test_confidence_scales_the_contribution():
    high = assess([ann(0, ["lab_low_pay"], "high")], TODAY, RULES).score
    low = assess([ann(0, ["lab_low_pay"], "low")], TODAY, RULES).score
    assert low == pytest.approx(high * 0.5)


def test_levels_follow_the_thresholds():
    assert assess([ann(0, ["gen_no_local_language"])], TODAY, RULES).level == "low"  # 1.0
    assert assess([ann(0, ["lab_low_pay", "lab_long_hours"])], TODAY, RULES).level == "elevated"  # 4.0
    # the same signs a year ago: 4 × 0.25 = 1.0 → low
    assert assess([ann(360, ["lab_low_pay", "lab_long_hours"])], TODAY, RULES).level == "low"


def test_other_observation_counts_and_drivers_are_ordered():
    result = assess([ann(0, ["gen_no_local_language"], other="workers sleep in the container")], TODAY, RULES)
    assert result.score == pytest.approx(2.0)
    assert "other" in dict(result.drivers)


def test_forms_filter_keeps_only_matching_indicators():
    result = assess([ann(0, ["sex_pimp", "lab_low_pay"])], TODAY, RULES, forms={"labour"})
    assert dict(result.drivers) == {"lab_low_pay": 2.0}


def test_explanation_names_the_drivers():
    text = assess([ann(0, ["sex_pimp"])], TODAY, RULES).explain()
    assert "Low" in text and "pimp" in text
