"""Choosing campaign sites: the maximal covering location problem (MCLP).

Choose k candidate sites so that the risk within walking distance r of at
least one site is as large as possible. Default: lazy greedy (submodular, so
fast and near-optimal), with an honest quality report — the share of the
total risk covered and a *certified* bound on the optimum: the smaller of the
data-dependent submodular bound (f(S) + the k largest remaining marginal
gains) and, where the instance is small enough, the LP relaxation's optimum
(HiGHS through scipy). Option: exact optimisation with spopt (PySAL; CBC).
Locked sites are always chosen; excluded ones never.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from layers.i18n import _, ngettext

LP_LIMIT_NONZEROS = 100_000  # above this HiGHS takes 10 s and more (21,000 × 1,000 at 290,000: 10–14 s on 2
# busy cores) for a bound the Lagrangian one comes within a few hundredths of a percent of; it is used alone
EXACT_LIMIT_CELLS = 2_000_000  # candidates × demand cells for spopt's dense model


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
    """Lazy greedy: add the site with the largest marginal gain, k times (locked sites first)."""
    locked, excluded = _check(inst, k, locked, excluded)
    covered = np.zeros(len(inst.weights), dtype=bool)
    sites, gains = [], []
    for j in locked:
        gains.append(_gain(inst, j, covered))
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
        gains.append(gain)
        covered[inst.cover[j]] = True
    sites, gains = improve_by_swaps(inst, sites, locked, excluded)
    covered = np.zeros(len(inst.weights), dtype=bool)
    for j in sites:
        covered[inst.cover[j]] = True
    value = float(inst.weights[covered].sum())
    bound, source = _submodular_bound(inst, sites, covered, k - len(locked), excluded), "submodular"
    if lp_bound:
        bound, source = min((bound, source), (lagrangian_bound(inst, k, locked, excluded, incumbent=value),
                                              "Lagrangian"), key=lambda b: b[0])
        if not _proven(bound, value):  # the LP can only tighten a gap that is left
            lp = lp_relaxation_bound(inst, k, locked, excluded)
            if lp is not None and lp < bound:
                bound, source = lp, "LP relaxation"
    return Plan(sites, gains, value, inst.total, max(bound, value), "greedy + swaps", _proven(bound, value), source)


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
    # marginal gains in the final order (locked first, then by gain)
    covered = np.zeros(len(w), dtype=bool)
    ordered, gains = [], []
    remaining = [j for j in sites if j not in locked]
    for j in [j for j in sites if j in locked]:
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
        g = (a @ x) - (reduced > 0)
        norm = float(g @ g)
        if norm == 0 or theta < 1e-4:
            break
        lam = np.clip(lam - theta * (value - incumbent) / norm * g, 0.0, w)
    return float(best)


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


def exact(inst: Instance, k: int, locked=None, excluded=None, time_limit: float = 60) -> Plan:
    """Exact MCLP with spopt (PySAL) and CBC; refuses instances too large for its dense model."""
    import pulp
    from spopt.locate import MCLP

    locked, excluded = _check(inst, k, locked, excluded)
    keep = [j for j in range(len(inst.cover)) if j not in excluded]
    m = len(inst.weights)
    if len(keep) * m > EXACT_LIMIT_CELLS:
        raise ValueError(_("the instance is too large for exact optimisation ({n} sites × {m} cells); "
                           "use the fast method").format(n=len(keep), m=m))
    cost = np.full((m, len(keep)), 2 * inst.radius + 1.0)
    for col, j in enumerate(keep):
        cost[inst.cover[j], col] = 0.0
    predefined = np.array([j in locked for j in keep]) if locked else None
    model = MCLP.from_cost_matrix(cost, inst.weights, inst.radius, k, predefined_facilities_arr=predefined)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    proven = model.problem.sol_status == 1  # PuLP says "Optimal" on a time limit too: check sol_status
    chosen = [keep[col] for col, var in enumerate(model.fac_vars) if (var.value() or 0) > 0.5]
    ordered = locked + [j for j in chosen if j not in locked]
    covered = np.zeros(m, dtype=bool)
    gains = []
    for j in ordered:
        gains.append(_gain(inst, j, covered))
        covered[inst.cover[j]] = True
    value = float(inst.weights[covered].sum())
    bound = value if proven else (lp_relaxation_bound(inst, k, locked, excluded) or inst.total)
    return Plan(ordered, gains, value, inst.total, bound, "exact (spopt, CBC)", proven,
                "proven optimal" if proven else "LP relaxation")
