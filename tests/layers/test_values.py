import json

import pytest

from layers.catalogue import kind
from layers.values import coerce

cases = kind("reported_cases")
worksites = kind("worksites")


@pytest.mark.parametrize(
    "raw, expected",
    [("2025-03", "2025-03"), ("2025-3-17", "2025-03"), ("2025-03-17T10:00:00", "2025-03")],
)
def test_months_keep_month_precision_only(raw, expected):
    assert coerce(cases.field("reported"), raw) == expected


def test_enum_accepts_id_or_label_in_either_language():
    status = cases.field("status")
    assert coerce(status, "identified") == "identified"
    assert coerce(status, "Potential victim") == "potential"
    assert coerce(status, "Identificēts upuris") == "identified"
    with pytest.raises(ValueError, match="potential, identified"):
        coerce(status, "suspected")


def test_multi_enum_is_stored_as_a_json_list_in_catalogue_order():
    forms = cases.field("forms")
    assert json.loads(coerce(forms, "labour; sexual")) == ["sexual", "labour"]
    assert coerce(forms, '["labour","sexual"]') == coerce(forms, ["sexual", "labour"])
    with pytest.raises(ValueError):
        coerce(forms, "")  # required


def test_required_missing_value_is_refused():
    with pytest.raises(ValueError, match="required"):
        coerce(cases.field("status"), None)


def test_numbers_booleans_and_minimum():
    assert coerce(worksites.field("workers_estimate"), "12") == 12
    assert coerce(worksites.field("workers_estimate"), 12.0) == 12
    with pytest.raises(ValueError, match="whole number"):
        coerce(worksites.field("workers_estimate"), "1.5")
    with pytest.raises(ValueError, match="minimum"):
        coerce(worksites.field("workers_estimate"), -3)
    assert coerce(worksites.field("migrant_workers"), "jā") == 1
    assert coerce(worksites.field("migrant_workers"), False) == 0
    with pytest.raises(ValueError, match="yes/no"):
        coerce(worksites.field("migrant_workers"), "maybe")
