"""The risk surface counts cases a batch at a time (layers.point_batches) instead of reading every case into a
GeoDataFrame: the figures, the surface and the plan must be exactly those of reading them all at once.

The reference below is the earlier implementation, kept verbatim as the oracle.
"""
import datetime as dt
import struct

import geopandas as gpd
import numpy as np
import pytest
import shapely

from audit.annotations import annotation_values, annotate, place_assessments
from audit.commands import History, Macro
from layers import gpkg_geometry, hexgrid, point_batches as pb
from layers.catalogue import kind as get_kind
from layers.features import prepare
from layers.workspace import Workspace
from mapping import risk_surface
from mapping.outreach import OutreachParams, plan_outreach
from mapping.risk_surface import SurfaceParams, compute


# -- the earlier implementation (the oracle) --------------------------------------------------------------

def old_places_component(workspace, cells, metric, p):
    from audit.annotations import place_assessments

    levels = place_assessments(workspace, p.as_of or dt.date.today(), forms=p.forms)
    pts, wts, frames = [], [], {}
    for (table, fid), assessment in levels.items():
        weight = p.level_weights.get(assessment.level, 0.0)
        if weight <= 0:
            continue
        frame = frames.get(table)
        if frame is None:
            frame = frames[table] = workspace.read_layer(table)
        if fid in frame.index:
            pts.append(frame.geometry.loc[fid].representative_point())
            wts.append(weight)
    located, wts = risk_surface.published_points(gpd.GeoSeries(pts, crs=4326).to_crs(metric), wts, p.profile)
    return risk_surface._bin(cells, located, wts, p.cell_size)


def old_cases_component(workspace, cells, metric, p, progress=None):
    from audit.filters import forms_match

    cases_frame = workspace.read_layer("reported_cases")
    if p.forms is not None:
        cases_frame = cases_frame[[forms_match(f, p.forms) for f in cases_frame["forms"]]]
    case_points, ones = risk_surface.published_points(cases_frame.geometry.to_crs(metric), np.ones(len(cases_frame)),
                                                      p.profile)
    return risk_surface._bin(cells, case_points, ones, p.cell_size)


def old_way(monkeypatch):
    monkeypatch.setattr(risk_surface, "_cases_component", old_cases_component)
    monkeypatch.setattr(risk_surface, "_places_component", old_places_component)


# -- a synthetic district: clustered cases (cells on both sides of the minimum), places, annotations ------

def _frame(rows: dict, xs, ys):
    return gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(xs, ys), crs=4326)


def _add(ws, kind_id, frame):
    prepared = prepare(f"synthetic {kind_id}", frame, get_kind(kind_id))
    ws.insert_rows(kind_id, prepared.rows, prepared.geometries)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    rng = np.random.default_rng(14)
    path = tmp_path_factory.mktemp("scale") / "synthetic.gpkg"
    ws = Workspace.create(path, name="Synthetic city")
    w, s = 24.90, 60.15
    n_hubs, n_services, n_places = 60, 40, 120
    _add(ws, "transport_hubs", _frame({"name": [f"Hub {i}" for i in range(n_hubs)],
                                       "hub_type": rng.choice(["railway_station", "bus_station", "tram_stop"], n_hubs)},
                                      w + 0.08 * rng.random(n_hubs), s + 0.05 * rng.random(n_hubs)))
    _add(ws, "services", _frame({"name": [f"Service {i}" for i in range(n_services)],
                                 "service_type": rng.choice(["ngo", "health", "legal_aid"], n_services)},
                                w + 0.08 * rng.random(n_services), s + 0.05 * rng.random(n_services)))
    # half the places in four tight clusters: public cells with at least 5 assessed places exist too
    spots = np.column_stack([w + 0.08 * rng.random(4), s + 0.05 * rng.random(4)])[np.arange(n_places // 2) % 4]
    px = np.r_[spots[:, 0] + rng.normal(0, 0.0004, len(spots)), w + 0.08 * rng.random(n_places - len(spots))]
    py = np.r_[spots[:, 1] + rng.normal(0, 0.0002, len(spots)), s + 0.05 * rng.random(n_places - len(spots))]
    places = _frame({"name": [f"Place {i}" for i in range(n_places)],
                     "category": rng.choice(["street_activity", "migrant_commerce", "gathering_place"], n_places)},
                    px, py)
    # some places are areas: their representative point is what counts
    places.loc[::7, "geometry"] = places.geometry[::7].to_crs(3067).buffer(60).to_crs(4326)
    _add(ws, "places_of_concern", places)
    # cases: dense clusters (cells far above the minimum), a sparse spread (cells of 1-4) and exact
    # duplicates of a few points
    centres = np.column_stack([w + 0.08 * rng.random(25), s + 0.05 * rng.random(25)])
    which = rng.integers(0, len(centres), 25_000)
    lon = np.r_[centres[which, 0] + rng.normal(0, 0.003, len(which)), w + 0.08 * rng.random(3_000)]
    lat = np.r_[centres[which, 1] + rng.normal(0, 0.0015, len(which)), s + 0.05 * rng.random(3_000)]
    n = len(lon)
    _add(ws, "reported_cases", _frame({
        "reported": rng.choice(["2024-01", "2025-06"], n),
        "forms": rng.choice(["labour", "sexual", "begging", "labour;sexual"], n),
        "status": rng.choice(["identified", "potential"], n)}, lon, lat))
    history = History(ws, author="Tester")
    today = dt.date.today()
    notes = []
    for fid in range(1, n_places + 1, 2):
        for back in (10, 300):
            notes.append(annotate(annotation_values(
                "places_of_concern", fid, indicators_seen=rng.choice(
                    ["lab_long_hours", "lab_passport_held", "sex_pimp", "gen_minor", "beg_forced"], 2,
                    replace=False).tolist(),
                observed=(today - dt.timedelta(days=back + int(fid))).isoformat(),
                confidence=rng.choice(["low", "medium", "high"]), source="own_observation", author="Tester")))
    history.do(Macro(notes, label="annotations"))
    ws.close()
    return path


def _surfaces(path, monkeypatch, params: SurfaceParams):
    with Workspace.open(path) as ws:
        new = compute(ws, params).cells
        with monkeypatch.context() as m:
            old_way(m)
            old = compute(ws, params).cells
    return new, old


CASES = [SurfaceParams(profile="public"), SurfaceParams(profile="partner", cell_size=500),
         SurfaceParams(profile="police"), SurfaceParams(profile="police", cell_size=150, forms=frozenset({"labour"})),
         SurfaceParams(profile="partner", cell_size=1000, level_weights={"none": 0, "low": 0.3, "elevated": 1.7,
                                                                         "high": 3.1})]


@pytest.mark.parametrize("params", CASES, ids=lambda p: f"{p.profile}-{p.cell_size:.0f}")
@pytest.mark.parametrize("where", ["demo", "synthetic"])
def test_surface_is_the_same_as_reading_every_case(where, params, demo_file, synthetic, monkeypatch):
    monkeypatch.setattr(pb, "BATCH_ROWS", 4_000)  # many batches, and the tally folds them (more than 8)
    path = demo_file if where == "demo" else synthetic
    new, old = _surfaces(path, monkeypatch, params)
    assert old["cases"].sum() > 0, "the control: the cases component holds something"
    assert old["places"].sum() > 0 or where == "demo", "the control: the assessed places count"
    for column in ("cell", "people", "places", "cases", "risk"):
        assert np.array_equal(new[column].to_numpy(), old[column].to_numpy()), column
    assert new.geometry.equals(old.geometry)


@pytest.mark.parametrize("profile", ["public", "police"])
@pytest.mark.parametrize("where", ["demo", "synthetic"])
def test_plan_is_the_same_as_reading_every_case(where, profile, demo_file, synthetic, monkeypatch):
    path = demo_file if where == "demo" else synthetic
    params = OutreachParams(k=4, radius=450, profile=profile)
    with Workspace.open(path) as ws:
        new = plan_outreach(ws, params)
        with monkeypatch.context() as m:
            old_way(m)
            old = plan_outreach(ws, params)
    assert new.plan.sites == old.plan.sites and len(new.plan.sites) == 4
    assert new.plan.gains == old.plan.gains
    assert (new.plan.covered, new.plan.total, new.plan.bound) == (old.plan.covered, old.plan.total, old.plan.bound)
    assert new.sites.drop(columns="geometry").equals(old.sites.drop(columns="geometry"))


def test_cases_are_read_in_batches_not_all_at_once(synthetic, monkeypatch):
    """The cases component never builds the whole layer: read_layer of the cases is an error here."""
    monkeypatch.setattr(pb, "BATCH_ROWS", 5_000)
    seen = []
    real = pb._batch

    def spy(rows, columns):
        seen.append(len(rows))
        return real(rows, columns)

    monkeypatch.setattr(pb, "_batch", spy)
    with Workspace.open(synthetic) as ws:
        original = ws.read_layer

        def guarded(kind_id):
            assert kind_id != "reported_cases", "the cases were read whole"
            return original(kind_id)

        monkeypatch.setattr(ws, "read_layer", guarded)
        cells = compute(ws, SurfaceParams(profile="partner")).cells
    assert cells["cases"].sum() > 0
    assert max(seen) <= 5_000 and sum(seen) >= 28_000


# -- the pieces ----------------------------------------------------------------------------------------------

def _blob(x: float, y: float, envelope: bool = True, big_endian: bool = False) -> bytes:
    if big_endian:
        wkb = struct.pack(">BIdd", 0, 1, x, y)
    else:
        wkb = struct.pack("<BIdd", 1, 1, x, y)
    flags = 0b11 if envelope else 0b01
    head = b"GP" + bytes([0, flags]) + struct.pack("<i", 4326)
    return head + (struct.pack("<4d", x, x, y, y) if envelope else b"") + wkb


@pytest.mark.parametrize("envelope", [True, False])
def test_point_blobs_decode_like_shapely(envelope):
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(-180, 180, 500), rng.uniform(-90, 90, 500)
    blobs = [_blob(x, y, envelope) for x, y in zip(xs, ys)]
    assert pb._simple_points(blobs) is not None  # the numpy path was taken
    x, y, present = pb.blob_xy(blobs)
    assert present.all() and np.array_equal(x, xs) and np.array_equal(y, ys)


def test_unusual_blobs_fall_back_to_shapely():
    polygon = shapely.box(1, 2, 3, 4)
    blobs = [_blob(1.5, 2.5, big_endian=True), None, gpkg_geometry.encode([shapely.Point()])[0],
             gpkg_geometry.encode([polygon])[0], _blob(5.0, 6.0)]
    assert pb._simple_points(blobs) is None
    x, y, present = pb.blob_xy(blobs)
    assert present.tolist() == [True, False, False, True, True]
    rep = polygon.representative_point()
    assert (x[0], y[0], x[3], y[3], x[4], y[4]) == (1.5, 2.5, rep.x, rep.y, 5.0, 6.0)
    # encoded by the project's own writer (with envelopes): the numpy path, the same numbers
    points = shapely.points(np.random.default_rng(2).uniform(0, 10, (100, 2)))
    x, y, present = pb.blob_xy(gpkg_geometry.encode(points))
    assert present.all() and np.array_equal(x, shapely.get_x(points)) and np.array_equal(y, shapely.get_y(points))


def test_tally_in_batches_equals_populated_at_once():
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(0, 400, 20_000), rng.uniform(-5_000, 5_000, 2_000), [-1e6, 1e6]]
    y = np.r_[rng.normal(0, 300, 20_000), rng.uniform(-5_000, 5_000, 2_000), [1e6, -1e6]]
    weights = rng.integers(1, 5, len(x)).astype(float)
    tally = pb.CellTally(250)
    for start in range(0, len(x), 1_000):  # 22 batches: folded twice
        tally.add(x[start:start + 1_000], y[start:start + 1_000], weights[start:start + 1_000])
    keys, counts, sums = tally.result(5)
    want = hexgrid.populated(x, y, 250, 5, weights)
    assert len(keys) and (counts < 5).sum() == 0
    assert np.array_equal(keys, want[0]) and np.array_equal(counts, want[1]) and np.array_equal(sums, want[2])
    assert pb.CellTally(250).result(5)[0].shape == (0, 2)


def test_places_are_read_by_fid(synthetic):
    with Workspace.open(synthetic) as ws:
        frame = ws.read_layer("places_of_concern")
        wanted = [7, 8, 15, 1, 10_000]  # 8 and 15 are areas; 10,000 does not exist
        got = [b for b in pb.point_batches(ws, "places_of_concern", fids=wanted)]
        assert place_assessments(ws)  # the synthetic district has assessed places
    fids = np.concatenate([b.fids for b in got])
    assert fids.tolist() == [1, 7, 8, 15]
    rep = frame.geometry.loc[fids].representative_point()
    assert np.array_equal(np.concatenate([b.x for b in got]), rep.x.to_numpy())
    assert np.array_equal(np.concatenate([b.y for b in got]), rep.y.to_numpy())


# -- the plan's figures: what is covered is what the chosen sites cover, whichever bound is used -------------

@pytest.mark.parametrize("lp_limit", [0, 10**9], ids=["no LP", "LP"])
@pytest.mark.parametrize("seed", range(6))
def test_covered_risk_is_the_chosen_sites_cover_not_a_bound(seed, lp_limit, monkeypatch):
    """The greedy once reported its last bound as the risk covered (and crashed when the LP was skipped)."""
    from mapping import site_selection as ss

    monkeypatch.setattr(ss, "LP_LIMIT_NONZEROS", lp_limit)
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3000, size=(4, 2))
    demand = centres[rng.integers(4, size=300)] + rng.normal(0, 300, size=(300, 2))
    inst = ss.Instance.build(rng.uniform(0, 3000, size=(40, 2)), demand, rng.uniform(0.1, 5, size=300), 350)
    plan = ss.greedy(inst, 4)
    union = np.unique(np.concatenate([inst.cover[j] for j in plan.sites]))
    assert plan.covered == pytest.approx(inst.weights[union].sum(), rel=1e-12)
    assert plan.covered == pytest.approx(sum(plan.gains), rel=1e-9)
    assert plan.bound >= plan.covered and (plan.bound_source != "LP relaxation" or lp_limit)


@pytest.mark.parametrize("name", ["reported_cases", "places_of_concern"])
@pytest.mark.parametrize("where", ["demo", "synthetic"])
def test_shared_hex_counts_are_the_same_as_from_the_whole_layer(where, name, demo_file, synthetic, monkeypatch):
    """Partner exports and reports publish these counts: counted in batches, the same cells and counts."""
    from audit.redaction import district_bounds, district_crs, hex_counts, layer_hex_counts

    monkeypatch.setattr(pb, "BATCH_ROWS", 3_000)
    with Workspace.open(demo_file if where == "demo" else synthetic) as ws:
        metric, frame = district_crs(ws), ws.read_layer(name)
        w, s, e, n = district_bounds(ws)
        for size, minimum, extent in ((250, 5, None), (500, 2, (w, s, (w + e) / 2, n)), (250, 1, None)):
            old = hex_counts(frame, size, minimum, metric, extent)
            new = layer_hex_counts(ws, name, size, minimum, metric, extent)
            assert len(old) > 0 or (minimum > 1 and name != "reported_cases")
            assert new["cell"].tolist() == old["cell"].tolist()
            assert new["count"].equals(old["count"])
            assert new.geometry.geom_equals_exact(old.geometry, 0).all()


def test_planning_stops_when_cancelled_while_counting_cases(synthetic, monkeypatch):
    from mapping.risk_surface import Cancelled

    monkeypatch.setattr(pb, "BATCH_ROWS", 2_000)
    steps = []

    def progress(fraction, message):
        steps.append(fraction)

    with Workspace.open(synthetic) as ws:
        counting = lambda: len([f for f in steps if 0.42 < f < 0.54]) >= 2  # noqa: E731 (two batches counted)
        with pytest.raises(Cancelled):
            plan_outreach(ws, OutreachParams(k=3), progress=progress, cancelled=counting)
        assert max(steps) < 0.54, "it stopped while counting, not after"
        steps.clear()
        plan = plan_outreach(ws, OutreachParams(k=3), progress=progress, cancelled=lambda: False)  # the control
    assert len(plan.sites) == 3 and max(steps) == 1.0
    assert len([f for f in steps if 0.42 < f <= 0.54]) >= 10  # progress while the cases are counted
