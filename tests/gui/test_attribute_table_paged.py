"""A big layer's attribute table: counted and read in workers, a page at a time; the UI thread never scans."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from audit.filters import FilterState
from gui.attribute_table import PLACEHOLDER
from layers import viewport
from mapping.viewport_index import VIEWPORT_ABOVE
from tests.gui.conftest import add_cases

MANY = VIEWPORT_ABOVE + 1500
CASES = "reported_cases"


@pytest.fixture
def big_window(make_window, demo_copy, tmp_path):
    add_cases(demo_copy, MANY, 8, tmp_path)
    return make_window(demo_copy)


@pytest.fixture
def scans(monkeypatch):
    """The threads that counted rows or read a page of rows (the two scans a big table needs)."""
    seen = []
    count, read = viewport.count_rows, viewport.page_condition

    def counting(*args, **kwargs):
        seen.append(threading.current_thread() is threading.main_thread())
        return count(*args, **kwargs)

    def paging(*args, **kwargs):
        seen.append(threading.current_thread() is threading.main_thread())
        return read(*args, **kwargs)

    monkeypatch.setattr(viewport, "count_rows", counting)
    monkeypatch.setattr(viewport, "page_condition", paging)
    return seen


def show_cases(w, qtbot):
    w.session.set_current_layer(CASES)
    qtbot.waitUntil(lambda: w.attribute_table.settled, timeout=20000)


def test_the_table_of_a_big_layer_is_counted_and_read_off_the_ui_thread(big_window, qtbot, scans):
    w = big_window
    table, model = w.attribute_table, w.attribute_table.table_model
    show_cases(w, qtbot)
    assert model.rowCount() == w.session.counts[CASES] > VIEWPORT_ABOVE
    assert not w.session.frames.is_loaded(CASES)  # the table never read the layer whole

    w.session.set_filters(FilterState(date_from="2025-01-01"))
    assert "…" in w.count_label.text()  # says it is counting, at once
    qtbot.waitUntil(lambda: table.settled, timeout=20000)
    frame = w.session.workspace.read_layer(CASES)
    expected = frame[frame["reported"] >= "2025-01"]
    assert model.rowCount() == len(expected)

    # a row far down: a placeholder until its page is read, then that row's values
    row = len(expected) // 2  # (the first and last rows are read to size the columns)
    column = model.column_of("reported")
    assert model.index(row, column).data() == PLACEHOLDER
    qtbot.waitUntil(lambda: model.index(row, column).data() != PLACEHOLDER, timeout=20000)
    assert model.fid_at(row) == int(expected.index[row])
    assert model.index(row, column).data() == expected["reported"].iloc[row]
    assert model.headerData(row, Qt.Orientation.Vertical) == str(expected.index[row])

    assert scans and not any(scans), "a count or a page of the big layer was read on the UI thread"


def test_the_positive_control_sees_a_scan_on_the_ui_thread(big_window, scans):
    """The spy can see a failure: the session's own (blocking) table call scans on the calling thread."""
    w = big_window
    w.session.set_filters(FilterState(date_from="2025-01-01"))
    w.session.table(CASES)
    assert any(scans)


def test_only_the_latest_filters_answer(big_window, qtbot):
    w = big_window
    show_cases(w, qtbot)
    for month in ("2024-01-01", "2025-01-01", "2030-01-01", "2024-06-01"):  # quicker than the counts
        w.session.set_filters(FilterState(date_from=month))
    qtbot.waitUntil(lambda: w.attribute_table.settled, timeout=20000)
    frame = w.session.workspace.read_layer(CASES)
    assert w.attribute_table.table_model.rowCount() == int((frame["reported"] >= "2024-06").sum())
    assert w.attribute_table.table_model.fid_at(0) == int(frame[frame["reported"] >= "2024-06"].index[0])


def test_the_filter_summary_counts_a_big_layer_in_a_worker(big_window, qtbot, scans):
    w = big_window
    panel = w.filter_panel
    w.session.set_filters(FilterState(date_from="2025-01-01"))
    frame = w.session.workspace.read_layer(CASES)
    n = int((frame["reported"] >= "2025-01").sum())
    qtbot.waitUntil(lambda: f"{n:,}".replace(",", "") in panel.summary.text().replace(",", "").replace("\u00a0", ""),
                    timeout=20000)
    assert not any(scans)


def test_an_answer_for_a_table_that_is_gone_is_dropped(demo_copy, tmp_path, qtbot):
    """Deleting a table while it still counts must not crash the process: the worker answers through a
    relay Python owns, and Qt drops the answer for a table that is gone."""
    import shiboken6

    from gui.attribute_table import AttributeTable
    from mapping.session import Session

    add_cases(demo_copy, MANY, 9, tmp_path)
    session = Session(author="Tester")
    session.open(demo_copy)
    table = AttributeTable(session, lambda *args: None)
    rows = table._rows
    session.set_current_layer(CASES)
    table.show_current()  # (whether or not the cases were the current layer already)
    qtbot.waitUntil(lambda: rows.started >= 1, timeout=5000)  # the count runs in the worker
    table.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(table), timeout=5000)
    rows._pool.shutdown(wait=True)  # the count finishes and answers a table that is gone
    qtbot.wait(50)  # the queued answer is delivered or dropped here: a crash would end the test run
    assert shiboken6.isValid(rows)
    session.close()


def test_the_rows_of_a_small_layer_are_shown_at_once(make_window, demo_copy):
    w = make_window(demo_copy)
    w.session.set_current_layer(CASES)
    assert w.attribute_table.settled  # no worker: the demo's layers are read whole
    model = w.attribute_table.table_model
    assert model.rowCount() == w.session.counts[CASES]
    assert model.index(model.rowCount() - 1, model.column_of("reported")).data() not in (None, PLACEHOLDER)


def test_selecting_a_feature_of_a_big_layer_finds_its_row_in_a_worker(big_window, qtbot, monkeypatch):
    w = big_window
    show_cases(w, qtbot)
    located = []
    rank_of = viewport.rank_of

    def spying(*args, **kwargs):
        located.append(threading.current_thread() is threading.main_thread())
        return rank_of(*args, **kwargs)

    monkeypatch.setattr(viewport, "rank_of", spying)
    w.session.set_filters(FilterState(date_from="2025-01-01"))
    qtbot.waitUntil(lambda: w.attribute_table.settled, timeout=20000)
    frame = w.session.workspace.read_layer(CASES)
    kept = frame[frame["reported"] >= "2025-01"]
    row = len(kept) * 2 // 3
    fid = int(kept.index[row])
    w.session.select(CASES, fid)
    qtbot.waitUntil(lambda: w.attribute_table.settled, timeout=20000)
    qtbot.waitUntil(lambda: w.attribute_table.selected_fid() == fid, timeout=20000)
    assert w.attribute_table.selectionModel().selectedRows()[0].row() == row
    assert located and not any(located)

    # a case the filters hide has no row: the selection is cleared
    hidden = int(frame[frame["reported"] < "2025-01"].index[0])
    w.session.select(CASES, hidden)
    qtbot.waitUntil(lambda: w.attribute_table.settled, timeout=20000)
    assert w.attribute_table.selected_fid() is None
