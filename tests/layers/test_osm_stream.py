"""The streamed OSM import: batches, the rule index, the spooled GUI path, rollback of a stream, the city extract."""
import json
import sqlite3
import sys
from pathlib import Path

import osmium
import pytest

import main
from layers import osm
from layers.osm import Cancelled, helsinki_extract, import_osm, prepare_extract, write_extract
from layers.migrations import CHANGE_LOG_TABLE
from layers.workspace import Workspace
from tests.conftest import file_digest

ROOT = Path(__file__).resolve().parents[2]


def _rows(path):
    """Every layer's rows (without fids), sorted, to compare two imports."""
    from layers.catalogue import layer_kinds

    out = {}
    with sqlite3.connect(path) as conn:
        for kind_id, k in layer_kinds().items():
            cols = ", ".join(f'"{c}"' for c in (*k.columns, "geom"))
            out[kind_id] = sorted(map(repr, conn.execute(f'SELECT {cols} FROM "{kind_id}"')))
    return out


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "h.gpkg"
    return out, import_osm(helsinki_extract(), out)


def test_small_batches_write_the_same_rows_as_one_batch_and_log_each_batch(whole, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(osm, "BATCH_ROWS", 200)
    out = tmp_path / "small.gpkg"
    report = import_osm(helsinki_extract(), out)
    assert report.counts == whole[1].counts and report.skipped == whole[1].skipped
    assert _rows(out) == _rows(whole[0])
    with sqlite3.connect(out) as conn:
        parts = [json.loads(a) for (a,) in conn.execute(
            f"SELECT after FROM {CHANGE_LOG_TABLE} WHERE action='import' AND table_name='basemap_roads'")]
    assert len(parts) == -(-report.counts["basemap_roads"] // 200)  # one entry per batch
    assert parts[-1]["total"] == report.counts["basemap_roads"]
    assert main.main(["check", str(out)]) == 0, capsys.readouterr()


def test_the_rule_index_picks_the_rule_a_scan_of_every_rule_picks():
    places, basemap = osm.tag_mapping()

    def scan(rules, tags, geometry=None):
        return next((r for r in rules if (geometry is None or r.geometry == geometry) and r.matches(tags)), None)

    indexes = [(osm._RuleIndex(places), places, None), (osm._RuleIndex(basemap, "line"), basemap, "line"),
               (osm._RuleIndex(basemap, "area"), basemap, "area")]
    checked = 0
    for obj in osmium.FileProcessor(str(helsinki_extract())):
        tags = dict(obj.tags)
        if tags:
            for index, rules, geometry in indexes:
                assert index.first(tags) == scan(rules, tags, geometry), tags
            checked += 1
    tricky = [{"railway": "station", "station": "subway"}, {"railway": "station"}, {"amenity": "bench"},
              {"public_transport": "station", "station": "subway", "railway": "halt"}]
    for tags in tricky:
        assert indexes[0][0].first(tags) == scan(places, tags)
    assert checked > 5000


def test_batches_never_exceed_the_batch_size():
    reader = osm._Reader(helsinki_extract(), 150)
    sizes = [len(rows) for _kind, rows, _wkb in reader.batches()]
    assert max(sizes) <= 150 and sum(sizes) == reader.matched and len(sizes) > 10


def test_the_spooled_gui_path_writes_what_the_stream_writes(whole, tmp_path, capsys):
    out = tmp_path / "gui.gpkg"
    Workspace.create(out).close()
    extract = prepare_extract(helsinki_extract())
    try:
        assert extract.batch_count > 0
        with Workspace.open(out) as ws:
            report = write_extract(ws, extract)
    finally:
        extract.close()
    assert report.counts == whole[1].counts
    assert _rows(out) == _rows(whole[0])
    assert main.main(["check", str(out)]) == 0, capsys.readouterr()


def test_a_cancel_while_streaming_into_a_workspace_leaves_it_as_it_was(demo_copy):
    before = file_digest(demo_copy)
    calls = []

    def cancel_later():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        import_osm(helsinki_extract(), demo_copy, cancelled=cancel_later, progress=lambda f, m: None)
    assert file_digest(demo_copy) == before


def test_a_refusal_found_after_batches_were_written_rolls_them_back(demo_copy, monkeypatch):
    from layers.errors import InputError
    from layers.features import Preparation

    before = file_digest(demo_copy)
    monkeypatch.setattr(osm, "BATCH_ROWS", 100)

    def refuse(self):
        raise InputError(self.path, "refused at the end")

    monkeypatch.setattr(Preparation, "finish", refuse)
    with pytest.raises(InputError, match="refused at the end"):
        import_osm(helsinki_extract(), demo_copy)
    assert file_digest(demo_copy) == before


def test_the_city_extract_is_tiled_copies_with_unique_ids(tmp_path, monkeypatch):
    monkeypatch.setenv("LANTERN_BENCH_CACHE", str(tmp_path / "cache"))
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from city_extract import city_extract
    finally:
        sys.path.remove(str(ROOT / "bench"))
    path, counts = city_extract(2, 1, buildings_per_tile=50)
    assert city_extract(2, 1, buildings_per_tile=50)[0] == path  # cached
    ids, boxes = {"n": set(), "w": set(), "r": set()}, []
    n = 0
    for obj in osmium.FileProcessor(str(path)):
        ids[obj.type_str()].add(obj.id)
        n += 1
    assert n == counts["objects"] == sum(len(v) for v in ids.values())  # unique within each type
    single = sum(1 for _o in osmium.FileProcessor(str(helsinki_extract())))
    assert counts["objects"] == 2 * single + 2 * 50 * 5
    report = import_osm(path, tmp_path / "city.gpkg")
    assert report.places == 2 * import_osm(helsinki_extract(), tmp_path / "one.gpkg").places
    assert report.counts["basemap_buildings"] >= 2 * 50


def test_the_reader_child_ends_quietly_when_its_parent_goes(monkeypatch):
    """A parent killed (or cancelling) mid-read closes the pipe: the reader child (``_child_main``, run here
    in-process on a pipe whose reading end is already closed) ends quietly, whether the pipe breaks while it
    reports progress from inside the reader or while it sends a batch; a crash test once saw a traceback
    in the log it shares with its parent."""
    import io
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the parent is gone before the first message
    pipe = io.TextIOWrapper(os.fdopen(write_end, "wb"))
    # batches larger than the extract: the first message is a progress report from inside the reader
    monkeypatch.setattr(sys, "argv", ["-c", str(helsinki_extract()), "100000000", "en"])
    monkeypatch.setattr(sys, "stdout", pipe)
    osm._child_main()  # returns: no BrokenPipeError, no error re-raised from sending it
