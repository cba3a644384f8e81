"""The demo opens as a fresh copy: what a user tries in it is gone at the next start; the cache stays pristine."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from audit import demo
from audit.annotations import all_annotations, annotate, annotation_values
from audit.commands import History
from layers.workspace import Workspace


@pytest.fixture
def cache(tmp_path, demo_file, monkeypatch):
    """An empty demo cache whose builds copy the session's demo (building it from OSM each time is slow)."""
    builds = []

    def build(path, overwrite=True):
        builds.append(path)
        shutil.copyfile(demo_file, path)
        return Workspace.open(path)

    monkeypatch.setattr(demo, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(demo, "build_demo", build)
    yield builds
    demo.discard_all_copies()  # pytest leaves with os._exit: no atexit


def _annotate(path) -> int:
    with Workspace.open(path) as ws:
        fid = int(ws.read_layer("places_of_concern").index[0])
        History(ws, author="Tester").do(annotate(annotation_values(
            "places_of_concern", fid, indicators_seen=["gen_minor"], observed=dt.date.today(), confidence="high",
            source="own_observation", author="Tester", note="a test annotation")))
        return _count(ws)


def _count(ws) -> int:
    return sum(len(notes) for notes in all_annotations(ws).values())


def _annotations(path) -> int:
    with Workspace.open(path) as ws:
        return _count(ws)


def test_a_change_in_one_demo_session_is_gone_in_the_next(cache):
    first = demo.fresh_demo_copy()
    original = _annotations(first)
    assert _annotate(first) == original + 1
    second = demo.fresh_demo_copy()
    assert second != first and _annotations(second) == original
    assert _annotations(demo.cached_demo_path()) == original and len(cache) == 1  # built once, never written
    assert demo.is_demo_copy(first) and demo.is_demo_copy(second) and not demo.is_demo_copy(demo.cached_demo_path())


def test_a_cache_changed_in_place_is_rebuilt(cache):
    """Earlier versions opened the cached file itself, so the user's experiments were saved into it."""
    path = demo.cached_demo_path()
    original = _annotations(path)
    _annotate(path)
    assert demo.cached_demo_path() == path and len(cache) == 2
    assert _annotations(path) == original
    assert demo.cached_demo_path() == path and len(cache) == 2  # pristine now: not built again


def test_the_cached_demo_is_recognised_and_copies_are_discarded(cache):
    assert demo.is_cached_demo(demo.cached_demo_path())
    copy = demo.fresh_demo_copy()
    assert not demo.is_cached_demo(copy) and copy.is_file()
    demo.discard_demo_copy(copy)
    assert not copy.parent.exists() and not demo.is_demo_copy(copy)
