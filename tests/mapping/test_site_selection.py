"""Site selection on small instances with a known optimum (brute force)."""
import itertools

import numpy as np
import pytest

from layers import hexgrid
from mapping import site_selection
from mapping.site_selection import Instance, exact, greedy, lp_relaxation_bound


def brute_force(inst, k, locked=(), excluded=()):
    best = -1.0
    pool = [j for j in range(len(inst.cover)) if j not in excluded and j not in locked]
    for combo in itertools.combinations(pool, k - len(locked)):
        covered = np.zeros(len(inst.weights), dtype=bool)
        for j in (*locked, *combo):
            covered[inst.cover[j]] = True
        best = max(best, float(inst.weights[covered].sum()))
    return best


def random_instance(seed, n=12, m=80, radius=300.0):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 2000, size=(3, 2))
    demand = centres[rng.integers(3, size=m)] + rng.normal(0, 250, size=(m, 2))
    return Instance.build(rng.uniform(0, 2000, size=(n, 2)), demand, rng.uniform(0.1, 5, size=m), radius)


@pytest.mark.parametrize("seed", range(8))
def test_greedy_is_within_its_certified_bound_and_exact_equals_brute_force(seed):
    inst = random_instance(seed)
    k = 3
    optimum = brute_force(inst, k)
    plan = greedy(inst, k)
    assert plan.covered <= optimum + 1e-9
    assert plan.bound >= optimum - 1e-6, "the certified bound must never be below the optimum"
    assert plan.covered >= (1 - plan.gap) * plan.bound - 1e-9
    assert plan.covered >= (1 - 1 / np.e) * optimum  # the classic greedy guarantee, as a sanity check
    best = exact(inst, k)
    assert best.proven_optimal and best.covered == pytest.approx(optimum)


def test_lp_bound_is_an_upper_bound():
    for seed in range(5):
        inst = random_instance(seed)
        assert lp_relaxation_bound(inst, 3) >= brute_force(inst, 3) - 1e-6


def test_locked_and_excluded_sites_are_respected():
    inst = random_instance(3)
    free = greedy(inst, 3)
    excluded = [free.sites[0]]
    locked = [j for j in range(len(inst.cover)) if j not in free.sites][:1]
    plan = greedy(inst, 3, locked=locked, excluded=excluded)
    assert plan.sites[0] == locked[0] and excluded[0] not in plan.sites and len(plan.sites) == 3
    optimum = brute_force(inst, 3, locked=locked, excluded=excluded)
    assert plan.bound >= optimum - 1e-6
    best = exact(inst, 3, locked=locked, excluded=excluded)
    assert best.covered == pytest.approx(optimum) and locked[0] in best.sites and excluded[0] not in best.sites


def test_impossible_requests_are_refused():
    inst = random_instance(1, n=4)
    with pytest.raises(ValueError, match="locked"):
        greedy(inst, 1, locked=[0, 1])
    with pytest.raises(ValueError, match="both"):
        greedy(inst, 2, locked=[0], excluded=[0])
    with pytest.raises(ValueError, match="fewer than"):
        greedy(inst, 4, excluded=[0])


def test_marginal_gains_add_up_to_the_covered_risk():
    inst = random_instance(5)
    plan = greedy(inst, 4)
    assert sum(plan.gains) == pytest.approx(plan.covered)
    assert plan.gains == sorted(plan.gains, reverse=True)


def test_hex_binning_matches_point_in_polygon():
    import geopandas as gpd

    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 3000, 3000), rng.uniform(0, 3000, 3000)
    q, r = hexgrid.covering((0, 0, 3000, 3000), 250)
    cells = gpd.GeoDataFrame({"i": range(len(q))}, geometry=hexgrid.polygons(q, r, 250))
    joined = gpd.sjoin(gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y)), cells, predicate="within")
    assert (np.bincount(joined["i"], minlength=len(q)) == hexgrid.count(q, r, x, y, 250)).all()
    # neighbouring centres are cell_size apart
    cx, cy = hexgrid.centres(np.array([0, 1]), np.array([0, 0]), 250)
    assert np.hypot(cx[1] - cx[0], cy[1] - cy[0]) == pytest.approx(250)


def test_lagrangian_bound_is_an_upper_bound_and_close_to_the_lp():
    from mapping.site_selection import lagrangian_bound

    for seed in range(5):
        inst = random_instance(seed, n=15, m=150)
        optimum = brute_force(inst, 3)
        lagrange = lagrangian_bound(inst, 3, incumbent=greedy(inst, 3, lp_bound=False).covered)
        lp = lp_relaxation_bound(inst, 3)
        assert lagrange >= optimum - 1e-6
        assert lagrange >= lp - 1e-6  # the LP is the best a Lagrangian bound can reach
        assert lagrange <= lp * 1.05 + 1e-6  # and the subgradient gets near it
    inst = random_instance(2, n=15, m=150)
    assert lagrangian_bound(inst, 3, locked=[0], excluded=[1]) >= brute_force(inst, 3, locked=[0], excluded=[1]) - 1e-6
