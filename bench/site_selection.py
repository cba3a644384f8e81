"""Site-selection benchmark on random clustered instances in a 10 km square, r = 800 m.

(a) 200 candidates × 2,000 demand cells, k = 10 and (b) 1,000 × 10,000, k = 20:
    Lantern's heuristic (lazy greedy + swaps) against spopt's exact MCLP (CBC),
    both measured here: objective ratio (target ≥ 0.98) and speed-up (target ≥ 20×).
(c) 2,000 × 50,000, k = 30 (CBC finds no solution within 200 s on these machines):
    the heuristic's time (target ≤ 2 s) and its certified gap against the
    Lagrangian-relaxation bound (the LP relaxation itself takes minutes at this size)
    and the submodular bound.
Set BENCH_SKIP_B=1 to skip (b), whose spopt baseline takes over a minute.
Last line: key=value figures.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mapping.site_selection import Instance, greedy, lagrangian_bound  # noqa: E402

RADIUS = 800.0


def instance(n: int, m: int, seed: int) -> Instance:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 10_000, size=(25, 2))
    demand = centres[rng.integers(len(centres), size=m)] + rng.normal(0, 700, size=(m, 2))
    candidates = np.vstack([centres[rng.integers(len(centres), size=n // 2)] + rng.normal(0, 900, size=(n // 2, 2)),
                            rng.uniform(0, 10_000, size=(n - n // 2, 2))])
    return Instance.build(candidates, demand, rng.lognormal(0, 1, size=m), RADIUS)


def spopt_exact(inst: Instance, k: int, time_limit: float = 600) -> tuple[float, float, int]:
    import pulp
    from spopt.locate import MCLP

    start = time.perf_counter()
    cost = np.full((len(inst.weights), len(inst.cover)), 2 * RADIUS)
    for j, idx in enumerate(inst.cover):
        cost[idx, j] = 0.0
    model = MCLP.from_cost_matrix(cost, inst.weights, RADIUS, k)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    elapsed = time.perf_counter() - start
    chosen = [j for j, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]
    covered = np.zeros(len(inst.weights), dtype=bool)
    for j in chosen:
        covered[inst.cover[j]] = True
    return float(inst.weights[covered].sum()), elapsed, model.problem.sol_status


def heuristic(inst: Instance, k: int):
    start = time.perf_counter()
    plan = greedy(inst, k, lp_bound=False)
    return plan, time.perf_counter() - start


def compare(name: str, n: int, m: int, k: int, seed: int) -> dict:
    inst = instance(n, m, seed)
    plan, t_heur = heuristic(inst, k)
    optimum, t_exact, status = spopt_exact(inst, k)
    ratio = plan.covered / optimum
    print(f"({name}) {n}x{m} k={k}: heuristic {plan.covered:.1f} in {t_heur:.3f} s; spopt {optimum:.1f} in "
          f"{t_exact:.1f} s (sol_status {status}); ratio {ratio:.4f}, speed-up {t_exact / t_heur:.0f}x")
    return {f"{name}_objective_ratio": ratio, f"{name}_speedup": t_exact / t_heur}


def large() -> dict:
    inst = instance(2000, 50_000, 3)
    plan, t_heur = heuristic(inst, 30)
    start = time.perf_counter()
    lagrange = lagrangian_bound(inst, 30, incumbent=plan.covered)
    t_bound = time.perf_counter() - start
    bound = min(plan.bound, lagrange)
    gap = (bound - plan.covered) / bound
    print(f"(c) 2000x50000 k=30: heuristic {plan.covered:.1f} in {t_heur:.2f} s; submodular bound {plan.bound:.1f}; "
          f"Lagrangian bound {lagrange:.1f} in {t_bound:.1f} s; certified gap {gap:.4f}")
    return {"c_heuristic_s": t_heur, "c_certified_gap": gap, "c_bound_s": t_bound}


def main() -> None:
    figures = compare("a", 200, 2000, 10, 1)
    if not os.environ.get("BENCH_SKIP_B"):
        figures.update(compare("b", 1000, 10_000, 20, 2))
    figures.update(large())
    print(" ".join(f"{k}={v:.4g}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
