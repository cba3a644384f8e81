"""Monthly contacts from CSV: counts only. Personal columns, personal values, bad months and counts, unknown places
and duplicates refuse the whole file and leave the workspace as it was; a clean file is one undoable step."""
import datetime as dt

import pytest

from audit.check import check_workspace
from audit.commands import History
from audit.contacts import add_contact, contacts, delete_contact, edit_contact, import_contacts
from layers.errors import InputError
from layers.importers.contacts import check_month
from tests.audit.campaign_district import build

HEADER = "month,channel,area,service,count,source"
GOOD = [f"2025-01,hotline,Station square,,7,Hotline log",
        f"2025-02,service,,East social service,12,Social service",
        f"2025-02,hotline,station SQUARE,,3,"]  # names match whatever the case


@pytest.fixture
def district(workspace, tmp_path):
    build(workspace, tmp_path)
    return workspace


def _snapshot(ws):
    conn = ws.db.conn
    return (conn.execute("SELECT * FROM service_contacts ORDER BY id").fetchall(),
            conn.execute("SELECT count(*) FROM change_log").fetchone()[0])


def _csv(tmp_path, lines, header=HEADER, name="contacts.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding=encoding)
    return path


def test_a_clean_file_is_one_undoable_step(district, tmp_path):
    history = History(district, "Clerk")
    step = history.do(import_contacts(district, _csv(tmp_path, GOOD)))
    rows = contacts(district)
    assert [(r["month"], r["channel"], r["area_table"], r["area_name"], r["count"]) for r in rows] == [
        ("2025-01", "hotline", "risk_areas", "Station square", 7),
        ("2025-02", "hotline", "risk_areas", "Station square", 3),
        ("2025-02", "service", "services", "East social service", 12)]
    assert step.label == "Import 3 contact counts"
    assert check_workspace(district.path).ok
    history.undo()
    assert contacts(district) == []


def test_a_semicolon_file_in_windows_1257_is_read(district, tmp_path):
    path = _csv(tmp_path, ["2025-03;hotline;Station square;;4;Uzticības tālrunis"],
                header="month;channel;area;service;count;source", encoding="cp1257")
    History(district, "Clerk").do(import_contacts(district, path))
    assert contacts(district)[0]["source"] == "Uzticības tālrunis"


@pytest.mark.parametrize("column", ["name", "Vārds", "phone", "Personas kods", "e-mail", "address"])
def test_a_personal_column_refuses_the_file_and_nothing_changes(district, tmp_path, column):
    before = _snapshot(district)
    lines = [line + ",x" for line in GOOD]
    with pytest.raises(InputError, match="looks like personal data"):
        History(district, "Clerk").do(import_contacts(district, _csv(tmp_path, lines, HEADER + f",{column}")))
    assert _snapshot(district) == before
    # positive control: the same rows without that column are imported
    History(district, "Clerk").do(import_contacts(district, _csv(tmp_path, GOOD, name="clean.csv")))
    assert len(contacts(district)) == 3


def test_a_column_off_the_allow_list_is_refused(district, tmp_path):
    with pytest.raises(InputError, match="column remarks is not one of month, channel"):
        import_contacts(district, _csv(tmp_path, [line + ",fine" for line in GOOD], HEADER + ",remarks"))


@pytest.mark.parametrize("value", ["28612120", "+371 2861 2120", "010190-12345", "anna@example.lv"])
def test_a_personal_value_in_a_text_cell_is_refused(district, tmp_path, value):
    before = _snapshot(district)
    with pytest.raises(InputError, match="looks like personal data"):
        import_contacts(district, _csv(tmp_path, [f"2025-01,hotline,Station square,,7,{value}"]))
    assert _snapshot(district) == before


@pytest.mark.parametrize("month", ["2025-13", "2025-1", "25-01", "January", "2099-01", ""])
def test_bad_months_are_refused_by_row(district, tmp_path, month):
    before = _snapshot(district)
    lines = [GOOD[0], f"{month},hotline,Station square,,7,"]
    with pytest.raises(InputError, match="row 2: the month"):
        History(district, "Clerk").do(import_contacts(district, _csv(tmp_path, lines)))
    assert _snapshot(district) == before


def test_the_current_month_may_be_entered_the_next_may_not():
    today = dt.date(2026, 3, 31)
    assert check_month("2026-03", today) == "2026-03"
    with pytest.raises(ValueError, match="in the future"):
        check_month("2026-04", today)


@pytest.mark.parametrize("line, message", [
    ("2025-01,phone,Station square,,7,", "the channel is hotline or service"),
    ("2025-01,hotline,Station square,,-1,", "a count is a whole number"),
    ("2025-01,hotline,Station square,,2.5,", "a count is a whole number"),
    ("2025-01,hotline,Nowhere,,2,", "no risk area is named 'Nowhere'"),
    ("2025-01,hotline,Station square,East social service,2,", "an area or a service, one of the two"),
    ("2025-01,hotline,Station square,,7,", "the same month, channel and place as row 1"),
])
def test_bad_rows_refuse_the_whole_file(district, tmp_path, line, message):
    before = _snapshot(district)
    with pytest.raises(InputError, match=message):
        import_contacts(district, _csv(tmp_path, [GOOD[0], line]))
    assert _snapshot(district) == before


def test_counts_already_recorded_are_not_imported_twice(district, tmp_path):
    history = History(district, "Clerk")
    history.do(import_contacts(district, _csv(tmp_path, GOOD)))
    before = _snapshot(district)
    with pytest.raises(InputError, match="already recorded"):
        import_contacts(district, _csv(tmp_path, GOOD, name="again.csv"))
    assert _snapshot(district) == before


def test_the_message_names_five_rows_and_counts_the_rest(district, tmp_path):
    lines = [f"2025-{m:02d},hotline,Nowhere,,1," for m in range(1, 9)]
    with pytest.raises(InputError) as caught:
        import_contacts(district, _csv(tmp_path, lines))
    text = str(caught.value)
    assert "row 5:" in text and "row 6:" not in text and "and 3 more" in text


def test_rows_entered_one_by_one_are_checked_and_undoable(district):
    history = History(district, "Clerk")
    fid = next(fid for fid, name in district.db.conn.execute("SELECT fid, name FROM risk_areas"))
    history.do(add_contact(district, month="2025-01", channel="hotline", count=5, area_table="risk_areas",
                           area_fid=fid))
    row = contacts(district)[0]
    with pytest.raises(ValueError, match="already recorded"):
        add_contact(district, month="2025-01", channel="hotline", count=9, area_table="risk_areas", area_fid=fid)
    with pytest.raises(ValueError, match="personal data"):
        edit_contact(district, row["id"], source="call from 28612120")
    history.do(edit_contact(district, row["id"], count=6))
    assert contacts(district)[0]["count"] == 6
    history.do(delete_contact(district, row["id"]))
    assert contacts(district) == []
    history.undo()
    history.undo()
    assert contacts(district)[0]["count"] == 5
    assert check_workspace(district.path).ok
