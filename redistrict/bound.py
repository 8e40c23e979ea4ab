"""A valid lower bound on the objective of any contiguous plan.

The linear relaxation of the p-median model in :mod:`redistrict.model`
(without contiguity, with integrality dropped) is solved by column generation:
each atom starts with its nearest candidate centres, and pairs are added while
their reduced cost is negative. Whatever the number of rounds, the bound
returned is the Lagrangian value of the final duals over *all* pairs,

    L(mu, nu) = b'mu + sum over every variable of min(0, reduced cost) * upper bound,

which is a lower bound on every integer plan by weak duality, even if the
pricing loop was cut short or the LP solution is slightly inaccurate. When the
band allows few unit counts, one relaxation per count ``k`` is solved and the
smallest bound kept, which also charges the unavoidable deviation
``|H - k * target|`` from the target size.

The LP is solved with HiGHS through :func:`scipy.optimize.linprog`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix

from redistrict.problem import IntArray, Problem

__all__ = ["LowerBound", "lower_bound"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LowerBound:
    """Lower bound on one region.

    Attributes
    ----------
    value : float
        Valid lower bound on the objective of any plan of the region.
    per_k : dict of int to float
        Bound for each number of units tried (``-1`` when a range was bounded at once).
    opening : dict of int to ndarray
        For each ``k`` of ``per_k``, the LP's fractional opening ``y_j`` of a
        unit centred on each atom of the region: a guide to good centres.
    rounds : int
        Column-generation rounds performed.
    columns : int
        Assignment pairs in the final LP.
    seconds : float
        Wall-clock time.
    """

    value: float
    per_k: dict[int, float]
    opening: dict[int, np.ndarray]
    rounds: int
    columns: int
    seconds: float


def _lp_bound(
    problem: Problem,
    region: IntArray,
    kmin: int,
    kmax: int,
    deadline: float,
    start_cols: int,
    max_rounds: int,
) -> tuple[float, int, int, np.ndarray]:
    m = len(region)
    h = problem.households[region].astype(float)
    cost = problem.assign_cost[np.ix_(region, region)]
    band = problem.band
    goal = band.goal
    w_dev = problem.weights.deviation
    dev_ub = max(band.hi - goal, goal - band.lo)
    off = ~np.eye(m, dtype=bool)
    # Initial columns: nearest candidate centres of each atom.
    order = np.argsort(np.where(off, cost, np.inf), axis=1, kind="stable")[
        :, : max(0, min(start_cols, m - 1))
    ]
    present = np.zeros((m, m), dtype=bool)
    present[np.repeat(np.arange(m), order.shape[1]), order.ravel()] = True
    present &= off
    best = -np.inf
    rounds = 0
    y_val = np.zeros(m)
    while True:
        rounds += 1
        pi, pj = np.nonzero(present)
        npairs = len(pi)
        # Variable layout: y (m), dev (m), x (npairs).
        ny = m
        nd = m if w_dev > 0 else 0
        nv = ny + nd + npairs
        xo = ny + nd
        c = np.concatenate([np.zeros(ny), np.full(nd, w_dev), cost[pi, pj]])
        ub = np.concatenate([np.ones(ny), np.full(nd, dev_ub), np.ones(npairs)])
        # Equalities: assignment rows, then (if kmin == kmax) the count row.
        eq_r = np.concatenate([np.arange(m), pi])
        eq_c = np.concatenate([np.arange(m), xo + np.arange(npairs)])
        eq_v = np.ones(len(eq_r))
        b_eq = [1.0] * m
        if kmin == kmax:
            eq_r = np.concatenate([eq_r, np.full(m, m)])
            eq_c = np.concatenate([eq_c, np.arange(m)])
            eq_v = np.concatenate([eq_v, np.ones(m)])
            b_eq.append(float(kmin))
        a_eq = csr_matrix((eq_v, (eq_r, eq_c)), shape=(len(b_eq), nv))
        # Inequalities (<= 0 unless noted): link, hi, lo, dev+, dev-, [count range].
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        b_ub: list[float] = []
        r0 = 0

        def add(
            r: np.ndarray,
            cc: np.ndarray,
            v: np.ndarray,
            rows: list[np.ndarray] = rows,
            cols: list[np.ndarray] = cols,
            vals: list[np.ndarray] = vals,
        ) -> None:
            rows.append(r)
            cols.append(cc)
            vals.append(v)

        # link: x_ij - y_j <= 0
        add(r0 + np.arange(npairs), xo + np.arange(npairs), np.ones(npairs))
        add(r0 + np.arange(npairs), pj, -np.ones(npairs))
        b_ub += [0.0] * npairs
        r0 += npairs
        blocks: list[tuple[str, float, float, float]] = [
            ("hi", 1.0, -float(band.hi), 0.0),
            ("lo", -1.0, float(band.lo), 0.0),
        ]
        if nd:
            blocks += [("devp", 1.0, -goal, -1.0), ("devm", -1.0, goal, -1.0)]
        for _name, sign, ycoef, devcoef in blocks:
            # sign * load_j + ycoef * y_j + devcoef * dev_j <= 0, load_j = h_j y_j + sum_i h_i x_ij
            add(r0 + pj, xo + np.arange(npairs), sign * h[pi])
            add(r0 + np.arange(m), np.arange(m), sign * h + ycoef)
            if devcoef:
                add(r0 + np.arange(m), ny + np.arange(m), np.full(m, devcoef))
            b_ub += [0.0] * m
            r0 += m
        if kmin != kmax:
            add(np.full(m, r0), np.arange(m), np.ones(m))
            add(np.full(m, r0 + 1), np.arange(m), -np.ones(m))
            b_ub += [float(kmax), -float(kmin)]
            r0 += 2
        a_ub = coo_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r0, nv)
        ).tocsr()
        budget = deadline - time.perf_counter()
        if budget <= 0.05:
            break
        res = linprog(
            c,
            A_ub=a_ub,
            b_ub=np.array(b_ub),
            A_eq=a_eq,
            b_eq=np.array(b_eq),
            bounds=np.column_stack([np.zeros(nv), ub]),
            method="highs",
            options={"time_limit": float(budget), "presolve": True},
        )
        if res.status == 2:  # infeasible relaxation: no plan with this k
            return np.inf, rounds, npairs, y_val
        if res.status != 0 or res.eqlin is None:
            log.debug("bound LP stopped: %s", res.message)
            break
        y_val = np.asarray(res.x[:m], dtype=float)
        mu = np.asarray(res.eqlin.marginals, dtype=float)
        nu = np.minimum(np.asarray(res.ineqlin.marginals, dtype=float), 0.0)
        b_ub_arr = np.array(b_ub)
        rc_present = c - a_eq.T @ mu - a_ub.T @ nu
        value = float(np.dot(np.array(b_eq), mu) + np.dot(b_ub_arr, nu))
        value += float(np.minimum(rc_present, 0.0) @ ub)
        # Reduced costs of every absent pair (its link row has multiplier 0).
        nmult = 4 if nd else 2
        blk = [nu[npairs + t * m : npairs + (t + 1) * m] for t in range(nmult)]
        factor = blk[0] - blk[1]
        if nd:
            factor = factor + blk[2] - blk[3]
        rc_all = cost - mu[:m, None] - h[:, None] * factor[None, :]
        absent = off & ~present
        neg = absent & (rc_all < -1e-7)
        value += float(np.minimum(rc_all, 0.0)[absent].sum())
        best = max(best, value)
        if not neg.any() or rounds >= max_rounds:
            break
        # Add up to 15 most negative columns per atom.
        masked = np.where(neg, rc_all, 0.0)
        top = np.argsort(masked, axis=1, kind="stable")[:, :15]
        rr = np.repeat(np.arange(m), top.shape[1])
        cc2 = top.ravel()
        sel = neg[rr, cc2]
        present[rr[sel], cc2[sel]] = True
    return best, rounds, int(present.sum()), y_val


def lower_bound(
    problem: Problem,
    region: IntArray,
    *,
    time_limit: float = 30.0,
    start_cols: int = 30,
    max_rounds: int = 12,
    per_k_limit: int = 8,
) -> LowerBound:
    """Lower bound for any plan of a connected region.

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions of one connected component.
    time_limit : float
        Wall-clock budget; the bound is valid (if weaker) when it runs out.
    start_cols : int
        Candidate centres per atom in the first round.
    max_rounds : int
        Column-generation rounds per relaxation.
    per_k_limit : int
        Bound each unit count separately when the band allows at most this many.

    Returns
    -------
    LowerBound
        ``value`` is ``-inf`` when no relaxation finished in time, ``inf`` when
        no plan in the band exists.
    """
    start = time.perf_counter()
    region = np.asarray(region, dtype=np.int64)
    ks = problem.band.unit_counts(int(problem.households[region].sum()))
    if len(ks) == 0:
        return LowerBound(np.inf, {}, {}, 0, 0, 0.0)
    per_k: dict[int, float] = {}
    opening: dict[int, np.ndarray] = {}
    rounds = cols = 0
    groups = [(k, k) for k in ks] if len(ks) <= per_k_limit else [(ks.start, ks.stop - 1)]
    for i, (kmin, kmax) in enumerate(groups):
        # Share the remaining time among the remaining relaxations.
        left = time_limit - (time.perf_counter() - start)
        deadline = time.perf_counter() + left / (len(groups) - i)
        val, r, cnum, y_val = _lp_bound(problem, region, kmin, kmax, deadline, start_cols, max_rounds)
        per_k[kmin if kmin == kmax else -1] = val
        opening[kmin if kmin == kmax else -1] = y_val
        rounds += r
        cols = max(cols, cnum)
    # Every cost of the model is non-negative, so 0 is always a valid bound.
    value = max(0.0, min(per_k.values()))
    return LowerBound(float(value), per_k, opening, rounds, cols, time.perf_counter() - start)
