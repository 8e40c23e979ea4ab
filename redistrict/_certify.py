"""Raise a region's lower bound towards a known plan's cost.

The Lagrangian bound of :mod:`redistrict.bound` is at best the LP relaxation's
value. On Ottawa Centretown that leaves a 1.3 % gap to a plan that no search
improves. Two classical steps close most of it:

1. *Variable fixing* (Beasley 1993). At multipliers ``mu`` the relaxation splits
   by centre, so the bound ``L_ij`` of every plan in which atom ``i`` joins the
   unit centred on atom ``j`` is known for all pairs at once: the centre's
   fractional knapsack with item ``i`` forced in (:func:`forced_bounds`). A plan
   costing at most ``tau`` uses only pairs with ``L_ij <= tau``.
2. The integer program on those pairs, without contiguity (a relaxation),
   solved for its bound only, with ``tau`` as the cutoff: the model is a
   fraction of the full one, and the solver's cutting planes and branching
   lift its dual bound above the LP value; it stops as soon as no node below
   ``tau`` is left.

Every plan with ``k`` units then costs at least ``min(tau, dual bound)``: one
that uses a dropped pair costs more than ``tau``, any other is a solution of
the reduced relaxation. No bound above ``tau`` is claimed, so ``tau`` is set
from the plan's cost and the gap wanted.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import numpy as np

from redistrict._clock import FIXING_CELL, RUN_COLUMN, Clock
from redistrict.bound import LowerBound, _Lagrangian
from redistrict.errors import SolverError
from redistrict.model import solve_region
from redistrict.problem import FloatArray, IntArray, Problem

__all__ = ["forced_bounds", "strengthen"]

log = logging.getLogger(__name__)

#: Relative tolerance taken off every bound the solver proves (its pruning and gap
#: tolerances are relative and of the order of 1e-6).
_SOLVER_TOL = 1e-6


def forced_bounds(lag: _Lagrangian, mu: FloatArray, k: int) -> FloatArray:
    """Lower bound on any ``k``-unit plan in which atom ``i`` joins the unit centred on ``j``.

    Parameters
    ----------
    lag : _Lagrangian
        The relaxation of the region.
    mu : ndarray of float
        Multipliers, one per atom of the region (any values give valid bounds).
    k : int
        Number of units.

    Returns
    -------
    ndarray of float, shape (m, m)
        Entry ``[i, j]`` bounds every plan where atom ``i`` is in the unit
        centred on atom ``j`` (``[j, j]``: every plan with a unit centred on
        ``j``); ``inf`` where no such plan exists.
    """
    m, h = lag.m, lag.h
    per_k, value, _, _ = lag.evaluate(mu, k)
    bound_k = per_k[k]
    if not math.isfinite(bound_k):
        return np.full((m, m), np.inf)
    # A unit on j must be opened: in place of itself if among the k cheapest, else of the k-th.
    kth = float(np.sort(value)[k - 1])
    swap = np.minimum(value, kth)
    red = lag.cost - mu[:, None]
    np.fill_diagonal(red, np.inf)
    pos_idx = np.flatnonzero(lag.pos)
    zero_idx = np.flatnonzero(~lag.pos)
    hp = h[lag.pos]
    n = len(hp)
    out = np.full((m, m), np.inf)
    steps = np.arange(n + 1)[:, None]
    for j in range(m):
        if not np.isfinite(value[j]):
            continue
        r = red[pos_idx, j]
        order = np.argsort(r / hp, kind="stable")
        rs = r[order]
        finite = np.isfinite(rs)
        hs = np.where(finite, hp[order], 0.0)
        cs = np.where(finite, rs, 0.0)
        free = red[zero_idx, j]
        free_cost = float(np.minimum(free[np.isfinite(free)], 0.0).sum())
        cum = np.concatenate([[0.0], np.cumsum(hs)])
        ccum = np.concatenate([[0.0], np.cumsum(cs)])
        # Column p: item p forced in, the others taken cheapest first (p no longer among them).
        taken = np.arange(n)[None, :] < steps
        load = h[j] + hs[None, :] + cum[:, None] - np.where(taken, hs[None, :], 0.0)
        csum = cs[None, :] + ccum[:, None] - np.where(taken, cs[None, :], 0.0)
        gval, _ = lag.band_values(load, csum)
        reach = (load[0] <= lag.hi) & (load[-1] >= lag.lo)
        vals = np.where(reach & finite, gval.min(axis=0), np.inf) + free_cost - mu[j]
        out[pos_idx[order], j] = vals
        # Atoms without households: forcing one in costs its reduced cost if positive.
        out[zero_idx, j] = value[j] + np.maximum(red[zero_idx, j], 0.0)
        out[j, j] = value[j]
    result: FloatArray = bound_k + out - swap[None, :]
    return result


def strengthen(
    problem: Problem,
    region: IntArray,
    lb: LowerBound,
    *,
    threshold: float,
    solver: str,
    deadline: float,
    clock: Clock,
) -> LowerBound:
    """Lift the per-count bounds below ``threshold`` by variable fixing and a bound-only solve.

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions of one connected component.
    lb : LowerBound
        The Lagrangian bound of the region, with its multipliers.
    threshold : float
        Largest bound worth proving, typically the known plan's cost less the
        target gap: pairs that only serve plans above it are dropped, and no
        bound above it is claimed.
    solver : {"highs", "cbc"}
        MIP solver.
    deadline : float
        Time of ``clock`` by which to stop.
    clock : Clock
        Clock of the budget.

    Returns
    -------
    LowerBound
        ``lb`` with the lifted ``per_k`` and ``value`` (never lower than before).
    """
    per_k = dict(lb.per_k)
    weak = sorted((k for k, v in per_k.items() if v < threshold), key=lambda k: (per_k[k], k))
    if not weak:
        return lb
    lag = _Lagrangian(problem, region, range(min(per_k), max(per_k) + 1))
    n_pos = max(1, int(lag.pos.sum()))
    keeps: dict[int, np.ndarray] = {}
    for k in weak:
        keeps[k] = forced_bounds(lag, lb.multipliers[k], k) <= threshold
        clock.charge(FIXING_CELL * lag.m * n_pos * n_pos)
    # Smallest reduced models first: they finish early (the cutoff stops them as soon as
    # their bound reaches the threshold) and leave their time to the larger ones.
    order = sorted(weak, key=lambda k: (int(keeps[k].sum()), k))
    for i, k in enumerate(order):
        now = clock.now()
        if now >= deadline:
            break
        k_deadline = now + (deadline - now) / (len(order) - i)
        keep = keeps[k]
        if RUN_COLUMN * int(keep.sum()) > k_deadline - now:
            break  # the budget cannot pay for setting the model up (nor for the larger ones after it)
        lifted = threshold
        if keep.diagonal().sum() >= k:
            try:
                sol = solve_region(
                    problem, region, kmin=k, kmax=k, solver=solver, contiguity="none",
                    time_limit=max(0.1, k_deadline - clock.now()), pairs=keep, bound_only=True,
                    cutoff=threshold, clock=clock,
                )  # fmt: skip
            except SolverError as exc:
                log.warning("bound for %d units: the solver failed (%s); Lagrangian bound kept", k, exc)
                continue
            out = sol.outcome
            if out.status == "infeasible":  # no solution below the cutoff
                lifted = threshold * (1.0 - _SOLVER_TOL)
            elif out.bound is not None:
                lifted = min(threshold, out.bound) * (1.0 - _SOLVER_TOL)
            else:
                lifted = -math.inf
        log.debug(
            "bound for %d units: %.1f -> %.1f (%d of %d pairs kept)",
            k, per_k[k] / problem.scale, max(per_k[k], lifted) / problem.scale, int(keep.sum()), keep.size,
        )  # fmt: skip
        per_k[k] = max(per_k[k], lifted)
    value = max(0.0, min(per_k.values()))
    return replace(lb, value=float(value), per_k=per_k)
