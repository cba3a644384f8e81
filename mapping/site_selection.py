"""Choosing campaign sites: the maximal covering location problem (MCLP).

Choose k candidate sites so that the risk within walking distance r of at
least one site is as large as possible. Default: lazy greedy (submodular, so
fast and near-optimal), with an honest quality report — the share of the
total risk covered and a *certified* bound on the optimum: the smaller of the
data-dependent submodular bound (f(S) + the k largest remaining marginal
gains) and, where the instance is small enough, the LP relaxation's optimum
(HiGHS through scipy). Option: exact optimisation, a MILP on the sparse coverage matrix solved by HiGHS
(scipy.optimize.milp), time-limited and honest about whether it proved optimality.
Locked sites are always chosen; excluded ones never.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from layers.i18n import _, ngettext

LP_LIMIT_NONZEROS = 100_000  # above this HiGHS takes 10 s and more (21,000 × 1,000 at 290,000: 10–14 s on 2
# busy cores) for a bound the Lagrangian one comes within a few hundredths of a percent of; it is used alone
EXACT_LIMIT_NONZEROS = 5_000_000  # (site, cell) pairs within reach: the MILP's size, not a dense matrix's
EXACT_TIME_LIMIT = 60.0  # seconds HiGHS may search; past it the plan says it is not proven optimal


@dataclass
class Instance:
    """Candidates and demand in a metric CRS; ``cover[j]`` = demand indices within r of candidate j."""

    candidate_xy: np.ndarray
    demand_xy: np.ndarray
    weights: np.ndarray
    radius: float
    cover: list[np.ndarray] = field(default_factory=list)

    @classmethod
    def build(cls, candidate_xy, demand_xy, weights, radius: float) -> "Instance":
        from scipy.spatial import cKDTree

        candidate_xy = np.asarray(candidate_xy, dtype=float).reshape(-1, 2)
        demand_xy = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
        weights = np.asarray(weights, dtype=float)
        if len(demand_xy) == 0 or len(candidate_xy) == 0:
            cover = [np.zeros(0, dtype=np.int64) for _ in range(len(candidate_xy))]
        else:
            tree = cKDTree(demand_xy)
            cover = [np.asarray(c, dtype=np.int64) for c in tree.query_ball_point(candidate_xy, r=radius)]
        return cls(candidate_xy, demand_xy, weights, float(radius), cover)

    @property
    def total(self) -> float:
        return float(self.weights.sum())

    def matrix(self):
        """The coverage matrix A (demand × candidates, CSR): A[i, j] = 1 when j covers i."""
        from scipy.sparse import coo_matrix

        if getattr(self, "_matrix", None) is None:
            nnz = sum(len(c) for c in self.cover)
            rows = np.concatenate(self.cover) if nnz else np.zeros(0, dtype=np.int64)
            cols = np.repeat(np.arange(len(self.cover)), [len(c) for c in self.cover])
            self._matrix = coo_matrix((np.ones(nnz), (rows, cols)), shape=(len(self.weights), len(self.cover))).tocsr()
        return self._matrix


@dataclass
class Plan:
    sites: list[int]  # candidate indices, in the order chosen
    gains: list[float]  # marginal gain of each site when it was added
    covered: float
    total: float
    bound: float  # certified upper bound on the optimum
    method: str
    proven_optimal: bool = False
    bound_source: str = ""

    @property
    def share(self) -> float:
        return min(1.0, self.covered / self.total) if self.total else 0.0

    @property
    def gap(self) -> float:
        """Certified relative gap to the optimum: (bound − covered) / bound."""
        return 0.0 if self.bound <= 0 else max(0.0, (self.bound - self.covered) / self.bound)


def _gain(inst: Instance, j: int, covered: np.ndarray) -> float:
    idx = inst.cover[j]
    return float(inst.weights[idx][~covered[idx]].sum()) if len(idx) else 0.0


def _check(inst: Instance, k: int, locked, excluded) -> tuple[list[int], set[int]]:
    locked = list(dict.fromkeys(int(j) for j in (locked or [])))
    excluded = {int(j) for j in (excluded or [])}
    if set(locked) & excluded:
        raise ValueError(_("a site cannot be both locked in and excluded"))
    if len(locked) > k:
        raise ValueError(_("more sites are locked in ({n}) than the plan has ({k})").format(n=len(locked), k=k))
    if k > len(inst.candidate_xy) - len(excluded):
        raise ValueError(ngettext("only {n} candidate site is available, fewer than {k}",
                                  "only {n} candidate sites are available, fewer than {k}",
                                  len(inst.candidate_xy) - len(excluded)).format(
            n=len(inst.candidate_xy) - len(excluded), k=k))
    return locked, excluded


def greedy(inst: Instance, k: int, locked=None, excluded=None, lp_bound: bool = True) -> Plan:
    """Lazy greedy + swaps; with ``lp_bound`` also the Lagrangian bound, whose best primal plan, improved by the
    same swaps, replaces the greedy one when it covers more (a Lagrangian heuristic: it escapes the greedy's
    local optimum on large instances at the cost of the bound already being computed)."""
    locked, excluded = _check(inst, k, locked, excluded)
    passes = max(20, 2 * k)
    sites, gains = improve_by_swaps(inst, _greedy_sites(inst, k, locked, excluded), locked, excluded, passes)
    value, method = float(sum(gains)), "greedy + swaps"
    lagrange = None
    if lp_bound:
        lagrange, start = _lagrangian(inst, k, locked, excluded, incumbent=value)
        if start is not None and sorted(start) != sorted(sites) and not _proven(lagrange, value):
            other, other_gains = improve_by_swaps(inst, start, locked, excluded, passes)
            if sum(other_gains) > value + 1e-9 * max(1.0, value):
                sites, gains, value, method = other, other_gains, float(sum(other_gains)), "Lagrangian + swaps"
    covered = np.zeros(len(inst.weights), dtype=bool)
    for j in sites:
        covered[inst.cover[j]] = True
    value = float(inst.weights[covered].sum())
    bound, source = _submodular_bound(inst, sites, covered, k - len(locked), excluded), "submodular"
    if lagrange is not None:
        bound, source = min((bound, source), (lagrange, "Lagrangian"), key=lambda b: b[0])
        if not _proven(bound, value):  # the LP can only tighten a gap that is left
            lp = lp_relaxation_bound(inst, k, locked, excluded)
            if lp is not None and lp < bound:
                bound, source = lp, "LP relaxation"
    return Plan(sites, gains, value, inst.total, max(bound, value), method, _proven(bound, value), source)


def _greedy_sites(inst: Instance, k: int, locked: list[int], excluded: set[int]) -> list[int]:
    """Lazy greedy: add the site with the largest marginal gain, k times (locked sites first)."""
    covered = np.zeros(len(inst.weights), dtype=bool)
    sites = []
    for j in locked:
        sites.append(j)
        covered[inst.cover[j]] = True
    heap = [(-_gain(inst, j, covered), j) for j in range(len(inst.cover)) if j not in excluded and j not in sites]
    heapq.heapify(heap)
    while len(sites) < k and heap:
        _neg, j = heapq.heappop(heap)
        gain = _gain(inst, j, covered)  # stale → recompute; still the best? take it
        if heap and gain < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-gain, j))
            continue
        sites.append(j)
        covered[inst.cover[j]] = True
    return sites


def _proven(bound: float, value: float) -> bool:
    return bound - value <= 1e-9 * max(1, value)


def improve_by_swaps(inst: Instance, sites: list[int], locked, excluded, max_passes: int = 20):
    """Local search after the greedy: swap a chosen site for another while that covers more risk.

    Vectorised with the sparse coverage matrix: for each chosen site s, the
    gain of every candidate j if s left is Aᵀ(w·[count=0]) + Aᵀ(w·[count=1 and s covers]).
    Returns (sites, marginal gains in order).
    """
    a = inst.matrix()
    at = a.T.tocsr()
    w = inst.weights
    sites = list(sites)
    locked = set(locked)
    banned = np.zeros(len(inst.cover), dtype=bool)
    banned[list(excluded)] = True
    for _pass in range(max_passes):
        chosen = np.zeros(len(inst.cover), dtype=bool)
        chosen[sites] = True
        count = np.asarray(a[:, sites].sum(axis=1)).ravel() if sites else np.zeros(len(w))
        base_gain = at @ (w * (count == 0))
        best = (1e-9 * max(1.0, w.sum()), None, None)
        for s in sites:
            if s in locked:
                continue
            exclusive = np.zeros(len(w))
            idx = inst.cover[s]
            only = idx[count[idx] == 1]
            exclusive[only] = w[only]
            loss = exclusive.sum()
            gain = base_gain + at @ exclusive
            gain[chosen | banned] = -np.inf
            j = int(np.argmax(gain))
            if gain[j] - loss > best[0]:
                best = (gain[j] - loss, s, j)
        if best[1] is None:
            break
        sites[sites.index(best[1])] = best[2]
    return _ranked(inst, sites, locked)


def _submodular_bound(inst: Instance, sites, covered, free: int, excluded) -> float:
    """f(S) + the `free` largest marginal gains w.r.t. S: an upper bound on any plan that keeps the locked sites."""
    chosen = set(sites)
    gains = [_gain(inst, j, covered) for j in range(len(inst.cover)) if j not in chosen and j not in excluded]
    top = sorted(gains, reverse=True)[:max(free, 0)]
    return float(inst.weights[covered].sum() + sum(top))


def lagrangian_bound(inst: Instance, k: int, locked=None, excluded=None, incumbent: float = 0.0,
                     iterations: int = 300) -> float:
    """An upper bound on the optimum from the Lagrangian relaxation of the coverage constraints.

    For multipliers λ ≥ 0: L(λ) = Σ max(0, wᵢ − λᵢ) + (the k largest Σᵢ aᵢⱼ λᵢ, locked sites forced in),
    and every L(λ) bounds the optimum from above; subgradient steps (Polyak) push it down towards the
    LP bound. Costs two sparse products per step, so it works where the LP is too large.
    """
    return _lagrangian(inst, k, locked, excluded, incumbent, iterations)[0]


def _lagrangian(inst: Instance, k: int, locked=None, excluded=None, incumbent: float = 0.0,
                iterations: int = 300) -> tuple[float, list[int] | None]:
    """(the Lagrangian bound, the best plan among the relaxation's site choices — a start for the swaps)."""
    a = inst.matrix()
    at = a.T.tocsr()
    w = inst.weights
    n = len(inst.cover)
    locked = [int(j) for j in (locked or [])]
    banned = np.zeros(n, dtype=bool)
    banned[list(excluded or [])] = True
    banned[locked] = True
    free = k - len(locked)
    lam = 0.5 * w
    best = np.inf
    best_value, best_sites = -np.inf, None
    theta, stall = 1.0, 0
    for _step in range(iterations):
        c = at @ lam
        pick = np.where(banned, -np.inf, c)
        top = np.argpartition(-pick, free - 1)[:free] if free > 0 else np.zeros(0, dtype=np.int64)
        chosen = np.concatenate([np.asarray(locked, dtype=np.int64), top])
        reduced = w - lam
        value = float(reduced[reduced > 0].sum() + c[chosen].sum())
        if value < best - 1e-9:
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 15:
                theta, stall = theta / 2, 0
        x = np.zeros(n)
        x[chosen] = 1.0
        reach = a @ x
        covers = float(w[reach > 0].sum())  # these sites are a real plan too
        if covers > best_value:
            best_value, best_sites = covers, [int(j) for j in chosen]
        g = reach - (reduced > 0)
        norm = float(g @ g)
        if norm == 0 or theta < 1e-4:
            break
        lam = np.clip(lam - theta * (value - max(incumbent, best_value)) / norm * g, 0.0, w)
    return float(best), best_sites


def lp_relaxation_bound(inst: Instance, k: int, locked=None, excluded=None) -> float | None:
    """The LP relaxation's optimum (an upper bound), or None when the instance is too large or HiGHS fails."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, hstack, identity, vstack

    locked = list(locked or [])
    excluded = set(excluded or [])
    n, m = len(inst.cover), len(inst.weights)
    if sum(len(c) for c in inst.cover) > LP_LIMIT_NONZEROS:
        return None
    a = inst.matrix()
    # variables: x (n sites), y (m demand); maximise w·y  ⇔  minimise −w·y
    c = np.concatenate([np.zeros(n), -inst.weights])
    a_ub = hstack([-a, identity(m, format="csr")])  # y_i − Σ_j a_ij x_j ≤ 0
    a_eq = csr_matrix(np.concatenate([np.ones(n), np.zeros(m)])[None, :])  # Σ x = k
    bounds = [(1, 1) if j in locked else (0, 0) if j in excluded else (0, 1) for j in range(n)] + [(0, 1)] * m
    result = linprog(c, A_ub=a_ub, b_ub=np.zeros(m), A_eq=vstack([a_eq]), b_eq=[k], bounds=bounds, method="highs")
    if result.status != 0:
        return None
    return float(-result.fun)


def exact(inst: Instance, k: int, locked=None, excluded=None, time_limit: float = EXACT_TIME_LIMIT) -> Plan:
    """Exact MCLP: a MILP on the sparse coverage matrix, solved by HiGHS (scipy.optimize.milp) to a zero gap.

    maximise Σ wᵢ yᵢ  s.t.  yᵢ ≤ Σⱼ aᵢⱼ xⱼ,  Σ xⱼ = k,  xⱼ ∈ {0, 1} (locked 1, excluded 0),  0 ≤ yᵢ ≤ 1 —
    the same model as PySAL/spopt's MCLP. Among equally good plans HiGHS picks one (no tie rule is promised).
    Stopped by ``time_limit`` (seconds), the plan says so: not proven optimal, with HiGHS's best bound (or a
    tighter one), and the greedy plan when that covers more than HiGHS's best so far.
    """
    locked, excluded = _check(inst, k, locked, excluded)
    if sum(len(c) for c in inst.cover) > EXACT_LIMIT_NONZEROS:
        raise ValueError(_("the instance is too large for exact optimisation ({n} sites × {m} cells); "
                           "use the fast method").format(n=len(inst.cover) - len(excluded), m=len(inst.weights)))
    result = solve_milp(inst, k, locked, excluded, time_limit)
    return _plan_from_milp(inst, k, locked, excluded, result)


def solve_milp(inst: Instance, k: int, locked=(), excluded=(), time_limit: float | None = None, mip_rel_gap=0.0):
    """scipy's OptimizeResult for the MCLP (variables: the n sites, then the demand cells that some site covers)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, hstack, identity, vstack

    a = inst.matrix()
    n = a.shape[1]
    reach = np.flatnonzero(np.diff(a.indptr) > 0)  # cells no site covers stay uncovered: no variable needed
    a = a[reach]
    m = len(reach)
    c = np.concatenate([np.zeros(n), -inst.weights[reach]])  # milp minimises
    coverage = hstack([-a, identity(m, format="csr")], format="csr")  # yᵢ − Σⱼ aᵢⱼ xⱼ ≤ 0
    count = csr_matrix(np.concatenate([np.ones(n), np.zeros(m)])[None, :])  # Σ x = k
    lower = np.zeros(n + m)
    upper = np.ones(n + m)
    lower[list(locked)] = 1.0
    upper[list(excluded)] = 0.0
    constraints = LinearConstraint(vstack([coverage, count], format="csr"),
                                   np.concatenate([np.full(m, -np.inf), [k]]), np.concatenate([np.zeros(m), [k]]))
    options = {"mip_rel_gap": mip_rel_gap}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    integrality = np.concatenate([np.ones(n), np.zeros(m)])  # y is integral at any optimum once x is
    result = milp(c, integrality=integrality, bounds=Bounds(lower, upper), constraints=constraints, options=options)
    result.n_sites = n
    return result


def _plan_from_milp(inst: Instance, k: int, locked: list[int], excluded: set[int], result) -> Plan:
    """Turn HiGHS's answer into a Plan; anything short of status 0 (proven optimal) is reported as such."""
    proven = result.status == 0
    if result.status not in (0, 1):  # infeasible / unbounded / error: cannot happen after _check, but say so
        raise ValueError(_("exact optimisation failed: {reason}").format(reason=result.message))
    sites = [] if result.x is None else [int(j) for j in np.flatnonzero(result.x[:result.n_sites] > 0.5)]
    sites, gains = _ranked(inst, sites, locked)
    value = sum(gains)
    bound = value if proven else min(inst.total, _finite(getattr(result, "mip_dual_bound", None)))
    method, source = "exact (HiGHS)", "proven optimal" if proven else "HiGHS"
    if not proven:
        method = "exact (HiGHS), time limit reached"
        fallback = greedy(inst, k, locked, excluded)
        if fallback.bound < bound:
            bound, source = fallback.bound, fallback.bound_source
        if fallback.covered > value or not sites:
            sites, gains, value = fallback.sites, fallback.gains, fallback.covered
            method = "exact (HiGHS), time limit reached: greedy plan"
        proven = _proven(bound, value)  # the greedy bound may still close the gap
    return Plan(sites, gains, value, inst.total, max(bound, value), method, proven, source)


def _finite(dual_bound) -> float:
    """HiGHS's best bound as a covered risk (it minimises −risk); +inf when it has none yet."""
    if dual_bound is None or not np.isfinite(dual_bound):
        return np.inf
    return float(-dual_bound)


def _ranked(inst: Instance, sites, locked) -> tuple[list[int], list[float]]:
    """Locked sites first, then by marginal gain (largest first), with those gains."""
    locked_set = set(locked)
    covered = np.zeros(len(inst.weights), dtype=bool)
    ordered, gains = [], []
    remaining = [j for j in sites if j not in locked_set]
    for j in [j for j in sites if j in locked_set]:
        gains.append(_gain(inst, j, covered))
        ordered.append(j)
        covered[inst.cover[j]] = True
    while remaining:
        values = [_gain(inst, j, covered) for j in remaining]
        pick = int(np.argmax(values))
        j = remaining.pop(pick)
        gains.append(values[pick])
        ordered.append(j)
        covered[inst.cover[j]] = True
    return ordered, gains
