"""A city-sized layer: opening reads no rows, the map asks for what is in view, the table pages.

The workspace holds more reported cases than VIEWPORT_ABOVE, so the session treats them as a big layer."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import shapely

from audit.commands import DeleteRow
from audit.filters import FilterState
from layers.values import is_missing
from mapping import layer_frames
from mapping.session import Session
from mapping.table_rows import PAGE, PagedRows
from mapping.viewport_index import DRAW_AT_MOST, VIEWPORT_ABOVE

N = VIEWPORT_ABOVE + 1200


@pytest.fixture
def big(demo_copy):
    from layers.workspace import Workspace

    with Workspace.open(demo_copy) as ws:
        w, s, e, n = ws.bounds()
        rng = np.random.default_rng(5)
        months = np.array(["2023-02", "2024-07", "2025-11"])
        forms = np.array(['["labour"]', '["sexual"]', '["begging","labour"]'])
        columns = {"reported": months[rng.integers(0, 3, N)].tolist(), "forms": forms[rng.integers(0, 3, N)].tolist(),
                   "status": ["potential"] * N}
        with ws.atomic():
            ws.insert_columns("reported_cases", columns, shapely.points(w + (e - w) * rng.random(N),
                                                                          s + (n - s) * rng.random(N)))
    session = Session(author="Tester")
    session.open(demo_copy)
    yield session
    session.close()


@pytest.fixture
def reads(monkeypatch):
    """Whole-layer reads made through the session's lazy frames."""
    seen = []
    real = layer_frames.read_frame

    def counting(conn, kind_id, *args, **kwargs):
        seen.append(kind_id)
        return real(conn, kind_id, *args, **kwargs)

    monkeypatch.setattr(layer_frames, "read_frame", counting)
    return seen


def test_opening_and_the_views_first_questions_read_no_layer(big, reads):
    big.reload()
    rows = big.layer_rows()
    assert {r["id"]: r["count"] for r in rows if not r.get("partner")}["reported_cases"] > N
    assert big.date_span() is not None
    assert big.shown_counts()["reported_cases"] == big.counts["reported_cases"]
    assert all(big.filter_fids(k) is None for k in big.frames)
    rows_, kind, total = big.table("reported_cases")
    assert isinstance(rows_, PagedRows) and len(rows_) == total
    assert reads == []
    # positive control: the counter sees a read when one happens
    big.map_layer("shelters")
    assert reads == ["shelters"]


def test_the_map_gets_counts_when_zoomed_out_and_features_when_zoomed_in(big):
    assert "reported_cases" in big.viewport_kinds() and "basemap_buildings" not in big.viewport_kinds()
    frame = big.workspace.read_layer("reported_cases")
    w, s, e, n = big.workspace.bounds()
    whole = big.view_answer("reported_cases", (w, s, e, n), 13)
    assert whole["mode"] == "bins" and sum(c for *_, c in whole["bins"]) == len(frame) == whole["total"]
    box = (w, s, w + (e - w) / 8, s + (n - s) / 8)
    expected = set(frame.index[frame.geometry.intersects(shapely.box(*box))])
    assert 0 < len(expected) <= DRAW_AT_MOST
    near = big.view_answer("reported_cases", box, 18)
    assert near["mode"] == "features"
    assert {f["properties"]["fid"] for f in near["geojson"]["features"]} == expected


def test_the_view_follows_the_filters_and_the_edits(big):
    w, s, e, n = big.workspace.bounds()
    box = (w, s, w + (e - w) / 6, s + (n - s) / 6)
    big.set_filters(FilterState(forms=frozenset({"sexual"}), date_from="2024-01-01"))
    keep = big.filter_fids("reported_cases")
    answer = big.view_answer("reported_cases", box, 18)
    shown = {f["properties"]["fid"] for f in answer["geojson"]["features"]}
    assert shown and shown <= keep
    gone = min(shown)
    big.do(DeleteRow("reported_cases", gone))
    assert gone not in {f["properties"]["fid"] for f in big.view_answer("reported_cases", box, 18)["geojson"]["features"]}
    big.undo()
    assert gone in {f["properties"]["fid"] for f in big.view_answer("reported_cases", box, 18)["geojson"]["features"]}


def test_a_worker_thread_reads_through_its_own_connection(big):
    w, s, e, n = big.workspace.bounds()
    result, conns = {}, {}

    def work():
        conns["worker"] = big.frames.connection()
        result["answer"] = big.view_answer("reported_cases", (w, s, e, n), 12)
        result["frame"] = big.frames["shelters"]

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert result["answer"]["mode"] == "bins"
    assert len(result["frame"]) == big.counts["shelters"]
    assert conns["worker"] is not big.workspace.db.conn and big.frames.connection() is big.workspace.db.conn


def test_paged_rows_show_what_the_filtered_frame_holds(big):
    for state in (FilterState(), FilterState(forms=frozenset({"labour"}), date_to="2024-12-31")):
        big.set_filters(state)
        frame = big.filtered_frame("reported_cases").drop(columns="geometry")
        big.frames.invalidate("reported_cases")
        paged, _kind, _total = big.table("reported_cases")
        assert len(paged) == len(frame)
        for row in (0, PAGE - 1, PAGE, len(frame) // 2, len(frame) - 1):
            fid = paged.fid_at(row)
            assert fid == frame.index[row]
            assert paged.row_of(fid) == row
            shown = [None if is_missing(v) else v for v in (paged.value(row, c) for c in range(len(paged.columns)))]
            expected = [None if is_missing(v) else v for v in (frame.iat[row, frame.columns.get_loc(col)]
                                                               for col in paged.columns)]
            assert shown == expected


RACE = r"""
import sys, threading
sys.path.insert(0, sys.argv[1])
from mapping.session import Session
s = Session(author="Tester")
s.open(sys.argv[2])
stop = threading.Event()
reads = [0]
errors = []
threading.excepthook = lambda args: errors.append(repr(args.exc_value))  # a reader that dies fails the run

def reader():
    while not stop.is_set():
        frames = s.frames
        frames.invalidate("basemap_roads")
        try:
            frames["basemap_roads"]
            reads[0] += 1
        except KeyError:
            pass

threads = [threading.Thread(target=reader) for _ in range(2)]
for t in threads:
    t.start()
for _ in range(40):  # the main thread drops the readers' connections while they read
    s.reload()
stop.set()
for t in threads:
    t.join()
s.close()
if errors:
    sys.exit("a reader failed: " + errors[0])
print("reads", reads[0])
"""


def test_reloading_while_a_worker_reads_never_crashes(demo_copy):
    """Closing a connection another thread reads through kills the process (a segfault in sqlite3);
    the session must let go of the workers' connections instead. Run in a child process, so a crash is a
    failure here, not the end of the test run."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", RACE, str(root), str(demo_copy)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) > 0  # the workers did read meanwhile


CLOSING_EVERY_CONNECTION = """
from layers import layer_reader
_get = layer_reader.ThreadConnections.get
def get(self):
    conn = _get(self)
    self.__dict__.setdefault("every", []).append(conn)
    return conn
def close(self):
    for conn in self.__dict__.get("every", []):
        conn.close()
layer_reader.ThreadConnections.get, layer_reader.ThreadConnections.close = get, close
"""


def test_positive_control_closing_the_workers_connections_is_seen(demo_copy):
    """The race above does fail when close() closes the connections the workers read through: the process
    either crashes in sqlite3 or a reader dies on the closed connection."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = RACE.replace("from mapping.session import Session",
                        CLOSING_EVERY_CONNECTION + "\nfrom mapping.session import Session")
    result = subprocess.run([sys.executable, "-c", code, str(root), str(demo_copy)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0
