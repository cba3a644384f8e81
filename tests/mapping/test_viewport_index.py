"""A big layer's counts per cell: the same cells and counts as sorting the points would give, the cells'
latitude taken once per load, features far apart binned without a huge array; a view's places carry
the same risk levels as the whole layer does."""
from __future__ import annotations

import math

import numpy as np

from mapping import viewport_index
from mapping.viewport_index import CELL_PX, ViewportIndex


def _points(x, y) -> ViewportIndex:
    x, y = np.asarray(x, float), np.asarray(y, float)
    return ViewportIndex(np.arange(len(x)), x, y, x, y)


def _reference_bins(index: ViewportIndex, mask, zoom: float) -> list[list]:
    """The cells by np.unique, as the index binned before (the median latitude of every box's south edge)."""
    x = (index.minx[mask] + index.maxx[mask]) / 2
    y = (index.miny[mask] + index.maxy[mask]) / 2
    dx = CELL_PX * 360.0 / (256.0 * 2 ** float(zoom))
    dy = dx * math.cos(math.radians(float(np.median(index.miny))))
    i, j = np.floor(x / dx).astype(np.int64), np.floor(y / dy).astype(np.int64)
    key = (i - i.min()) * (int(j.max() - j.min()) + 1) + (j - j.min())
    _k, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    sx, sy = np.bincount(inverse, weights=x), np.bincount(inverse, weights=y)
    return [[round(float(b / c), 6), round(float(a / c), 6), int(c)] for a, b, c in zip(sx, sy, counts)]


def test_bins_match_sorting_the_points():
    rng = np.random.default_rng(3)
    index = _points(rng.uniform(24.9, 25.1, 50_000), rng.uniform(60.1, 60.3, 50_000))
    for zoom in (11, 13.4, 15):
        mask = index.inside((24.95, 60.15, 25.05, 60.25))
        got = index.bins(mask, zoom)
        assert got == _reference_bins(index, mask, zoom)
        assert sum(c for _lat, _lng, c in got) == int(mask.sum())


def test_the_cells_latitude_is_taken_once_per_load(monkeypatch):
    rng = np.random.default_rng(4)
    index = _points(rng.uniform(24.9, 25.1, 5000), rng.uniform(60.1, 60.3, 5000))
    expected = index.bins(np.ones(5000, bool), 13)

    def no_median(*_args, **_kwargs):
        raise AssertionError("the median was computed again")

    monkeypatch.setattr(viewport_index.np, "median", no_median)
    assert index.bins(np.ones(5000, bool), 13) == expected
    # positive control: loading an index does take the median (so the patch would have caught a recompute)
    try:
        _points([1.0], [2.0])
    except AssertionError:
        pass
    else:
        raise AssertionError("loading did not take the median")


def test_features_far_apart_are_binned_by_their_own_cells():
    # at zoom 18 a cell is ~0.0005 degrees: a feature on the other side of the world is ~10^5 cells away
    index = _points([24.9, 24.90001, 24.90002, 100.0], [60.1, 60.1, 60.10001, -40.0])
    got = index.bins(np.ones(4, bool), 18)
    assert got == _reference_bins(index, np.ones(4, bool), 18)
    assert sorted(c for _lat, _lng, c in got) == [1, 3]


def test_a_views_places_carry_the_risk_the_whole_layer_shows(session):
    from audit.annotations import PLACE_KINDS

    kind_id = next(k for k in PLACE_KINDS if any(t == k for t, _f in session.assessments))
    whole = {f["properties"]["fid"]: f["properties"].get("risk")
             for f in session.map_layer(kind_id).geojson["features"]}
    assessed = {fid for (t, fid) in session.assessments if t == kind_id}
    assert assessed and any(whole[f] for f in assessed)  # the whole layer shows risk levels
    w, s, e, n = session.workspace.bounds()
    answer = session.view_answer(kind_id, (w, s, e, n), 19)
    assert answer["mode"] == "features"
    shown = {f["properties"]["fid"]: f["properties"] for f in answer["geojson"]["features"]}
    assert assessed <= set(shown)
    for fid, props in shown.items():
        assert props.get("risk") == whole[fid], fid
        if whole[fid]:
            assert "\n" in props["tip"]  # the explanation is in its tooltip
