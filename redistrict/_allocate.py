"""Restarts by location-allocation with a transportation LP.

Tree recombination and the exact neighbourhoods of :mod:`redistrict._local`
change two or three adjacent units at a time, so a search that only uses them
stays in the basin of its first plan. A restart here redraws every unit at
once:

1. ``k`` centres are spread over the region by k-means++ seeding on the
   road-aware distances (each atom weighted by its compactness weight);
2. atoms are allocated to the centres by the linear program of the p-median
   with the household band and the deviation cost, without contiguity: a
   transportation problem, whose basic optimal solutions split at most
   ``k - 1`` atoms between centres (each goes to its largest share);
3. pieces of a unit cut off from its centre join the adjacent unit whose
   centre is cheapest, grown outwards from the units' connected cores, so
   every unit is contiguous;
4. units outside the band are re-split with their neighbours
   (:func:`redistrict._construct.rebalance`);
5. centres move to their unit's best atom and allocation repeats while the
   plan improves (Cooper's alternating heuristic); boundary moves polish the
   result.

One allocation is an LP of (atoms x nearby centres) columns: tens of
milliseconds on 450 atoms with HiGHS (through SciPy, so no MIP solver is
involved).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from redistrict._clock import BOUNDARY_MOVE, LP_COLUMN, Clock
from redistrict._construct import rebalance
from redistrict._local import alternate, boundary_moves
from redistrict._recom import recombine
from redistrict.model import within_reach
from redistrict.problem import IntArray, Problem

__all__ = ["allocate", "perturb", "restarts"]

log = logging.getLogger(__name__)

#: A centre may take the atoms nearest to it that together hold this many times
#: the band's upper bound (as in location-allocation, :func:`redistrict._local.locate_allocate`).
_REACH = 4.0
#: Allocation rounds of one restart at most.
_ROUNDS = 10
#: Units redrawn together by one perturbation at most (a unit and some of its neighbours).
_PERTURB_UNITS = 4


def allocate(problem: Problem, region: IntArray, centres: IntArray, *, clock: Clock) -> IntArray | None:
    """Allocate the atoms of ``region`` to fixed ``centres`` by the transportation LP.

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions of one connected component.
    centres : array of int
        Atom positions (in ``region``) of the ``k`` unit centres; each centre
        stays in its own unit.
    clock : Clock
        Charged for the LP's columns.

    Returns
    -------
    ndarray of int or None
        Unit ``0..k-1`` (the centre's position in ``centres``) per atom of
        ``region``, not necessarily contiguous; None when no allocation keeps
        every unit in the band.
    """
    for reach in (_REACH, math.inf):
        out = _allocate(problem, region, centres, reach, clock)
        if out is not None:
            return out
    return None


def _allocate(
    problem: Problem, region: IntArray, centres: IntArray, reach: float, clock: Clock
) -> IntArray | None:
    m, k = len(region), len(centres)
    h = problem.households[region].astype(float)
    dist = problem.distance[np.ix_(region, centres)]
    allowed = np.isfinite(dist)
    if math.isfinite(reach):
        for j in range(k):
            allowed[:, j] &= within_reach(dist[:, j], h, reach * problem.band.hi)
    at = np.searchsorted(region, centres)
    allowed[at, :] = False
    allowed[at, np.arange(k)] = True
    if not allowed.any(axis=1).all():
        return None
    ii, jj = np.nonzero(allowed)
    nx = len(ii)
    clock.charge(LP_COLUMN * (nx + 2 * k))
    cost = problem.assign_cost[region[ii], centres[jj]]
    # Columns: x_ij, then over_j and under_j (load - goal = over - under).
    c = np.concatenate([cost, np.full(2 * k, problem.weights.deviation)])
    units = np.arange(k)
    eq = sp.csr_matrix(
        (
            np.concatenate([np.ones(nx), h[ii], -np.ones(k), np.ones(k)]),
            (np.concatenate([ii, m + jj, m + units, m + units]),
             np.concatenate([np.arange(nx), np.arange(nx), nx + units, nx + k + units])),
        ),
        shape=(m + k, nx + 2 * k),
    )  # fmt: skip
    load = sp.csr_matrix((h[ii], (jj, np.arange(nx))), shape=(k, nx + 2 * k))
    band = problem.band
    res = linprog(
        c,
        A_ub=sp.vstack([load, -load]),
        b_ub=np.concatenate([np.full(k, float(band.hi)), np.full(k, -float(band.lo))]),
        A_eq=eq,
        b_eq=np.concatenate([np.ones(m), np.full(k, float(band.goal))]),
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        return None
    share = np.zeros((m, k))
    share[ii, jj] = res.x[:nx]
    chosen: IntArray = np.argmax(share, axis=1).astype(np.int64)
    return chosen


def _connect(problem: Problem, region: IntArray, units: IntArray, centres: IntArray) -> IntArray:
    """Make every unit contiguous: atoms cut off from their centre join an adjacent unit.

    Each unit keeps the connected piece holding its centre; the other atoms are
    handed, ring by ring from those cores, to the adjacent unit whose centre is
    cheapest for them.
    """
    nbrs = problem.region_neighbours(region)
    out = np.full(len(region), -1, dtype=np.int64)
    for j, c in enumerate(np.searchsorted(region, centres).tolist()):
        out[c] = j
        stack = [c]
        while stack:
            v = stack.pop()
            for w in nbrs[v]:
                if out[w] < 0 and units[w] == j:
                    out[w] = j
                    stack.append(w)
    cost = problem.assign_cost
    while (out < 0).any():
        ring = [
            (v, min({int(out[w]) for w in nbrs[v] if out[w] >= 0},
                    key=lambda u: (cost[region[v], centres[u]], u)))
            for v in np.flatnonzero(out < 0).tolist()
            if any(out[w] >= 0 for w in nbrs[v])
        ]  # fmt: skip
        if not ring:  # pragma: no cover - a connected region always reaches a core
            raise AssertionError("region is not connected")
        for v, u in ring:
            out[v] = u
    return out


def _descend(
    problem: Problem, region: IntArray, centres: IntArray, *, seed: int, clock: Clock, deadline: float
) -> tuple[float, IntArray] | None:
    """Alternate allocation and centre moves from ``centres``; the best plan met (full labels)."""
    lo, hi = problem.band.lo, problem.band.hi
    k = len(centres)

    def allocated(current: list[int]) -> IntArray | None:
        at = np.array(current, dtype=np.int64)
        units = allocate(problem, region, at, clock=clock)
        if units is None:
            return None
        units = _connect(problem, region, units, at)
        loads = np.bincount(units, problem.households[region], minlength=k)
        if ((loads < lo) | (loads > hi)).any():
            fixed = rebalance(problem, region, units, seed=seed)
            clock.charge(BOUNDARY_MOVE * len(region))
            if fixed is None:
                return None
            units = fixed
        labels = np.full(problem.n, -1, dtype=np.int64)
        labels[region] = units
        return labels

    def late() -> bool:
        return clock.now() >= deadline

    return alternate(problem, centres.tolist(), allocated, rounds=_ROUNDS, stop=late)


def _spread(problem: Problem, region: IntArray, k: int, rng: np.random.Generator) -> IntArray:
    """``k`` centres by k-means++ seeding on the road-aware distances."""
    w = problem.weight[region]
    w = w / w.sum() if w.sum() > 0 else np.full(len(region), 1.0 / len(region))
    chosen = [int(rng.choice(len(region), p=w))]
    near = problem.distance[region, region[chosen[0]]].copy()
    for _ in range(k - 1):
        score = np.where(np.isfinite(near), near, 0.0) ** 2 * w
        if score.sum() <= 0:
            free = np.setdiff1d(np.arange(len(region)), chosen)
            nxt = int(rng.choice(free))
        else:
            nxt = int(rng.choice(len(region), p=score / score.sum()))
        chosen.append(nxt)
        near = np.minimum(near, problem.distance[region, region[nxt]])
    return np.sort(region[chosen])


def restarts(
    problem: Problem,
    region: IntArray,
    counts: Sequence[int],
    *,
    deadline: float,
    clock: Clock,
    seed: int = 0,
    max_starts: int = 64,
) -> tuple[float, IntArray] | None:
    """Best plan over restarts from spread-out centres, until ``deadline``.

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions of one connected component (sorted).
    counts : sequence of int
        Numbers of units, used in turn by the restarts.
    deadline : float
        Time of ``clock`` at which to stop.
    clock : Clock
        Clock of ``deadline``; the LPs and moves are charged to it.
    seed : int
        Seed of the centre draws and of the re-splitting.
    max_starts : int
        Restarts at most.

    Returns
    -------
    tuple of (float, ndarray of int) or None
        Cost (unscaled) and labels over all atoms (-1 outside ``region``) of
        the best plan, every unit contiguous and in the band; None when no
        restart gave one.
    """
    counts = [k for k in counts if 1 <= k <= len(region)]
    if not counts:
        return None
    rng = np.random.default_rng(seed)
    best: tuple[float, IntArray] | None = None
    for start in range(max_starts):
        if clock.now() >= deadline:
            break
        k = counts[start % len(counts)]
        found = _descend(
            problem,
            region,
            _spread(problem, region, k, rng),
            seed=seed + start,
            clock=clock,
            deadline=deadline,
        )
        if found is None:
            continue
        labels = boundary_moves(problem, found[1], deadline=deadline, clock=clock)
        cost = problem.plan_cost(labels)
        if best is None or cost < best[0]:
            best = (cost, labels)
            log.debug("restart %d: %.1f", start, cost / problem.scale)
    return best


def perturb(
    problem: Problem,
    region: IntArray,
    labels: IntArray,
    *,
    deadline: float,
    clock: Clock,
    seed: int = 0,
) -> IntArray:
    """Iterated local search: redraw a few adjacent units at a time, keep what is cheaper.

    Tree recombination and boundary moves stop at a plan no pair of units can
    improve; many such plans exist. Each step here picks a unit at random and up
    to ``_PERTURB_UNITS - 1`` of its neighbours, redraws them as a restart does
    (spread centres, allocation, centre moves: :func:`_descend` on their atoms),
    polishes the redrawn units and their neighbours by boundary moves and pair
    recombination, and keeps the result when the plan's cost falls. The number
    of units never changes.

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions of one connected component (sorted).
    labels : array of int
        Unit per atom (-1 outside ``region``), every unit contiguous and in the
        band; not modified.
    deadline : float
        Time of ``clock`` at which to stop.
    clock : Clock
        Clock of ``deadline``; the work is charged to it.
    seed : int
        Seed of the unit draws and of the centres.

    Returns
    -------
    ndarray of int
        The best plan met (same unit numbers).
    """
    rng = np.random.default_rng(seed)
    best = labels.copy()
    cost = problem.plan_cost(best)
    step = 0
    while clock.now() < deadline:
        step += 1
        near = _unit_neighbours(problem, best)
        if not near:
            break
        unit = int(rng.choice(sorted(near)))
        others = sorted(near[unit])
        if len(others) >= _PERTURB_UNITS:
            others = sorted(int(u) for u in rng.choice(others, _PERTURB_UNITS - 1, replace=False))
        group = np.array([unit, *others], dtype=np.int64)
        atoms = np.flatnonzero(np.isin(best, group))
        centres = _spread(problem, atoms, len(group), rng)
        found = _descend(problem, atoms, centres, seed=seed + step, clock=clock, deadline=deadline)
        if found is None:
            continue
        # Only the redrawn units and their neighbours change: polish and price those alone.
        touched = set(group.tolist()).union(*(near.get(int(u), set()) for u in group))
        inside = np.isin(best, sorted(touched))
        trial = np.where(inside, best, -1)
        trial[atoms] = group[found[1][atoms]]
        trial = boundary_moves(problem, trial, deadline=deadline, clock=clock)
        trial = recombine(problem, trial, deadline=deadline, clock=clock, seed=seed + step, max_size=2)
        change = problem.plan_cost(trial) - problem.plan_cost(np.where(inside, best, -1))
        if change < -1e-9 * max(cost, 1.0):
            best = np.where(inside, trial, best)
            cost += change
            log.debug("perturbation %d (units %s): %.1f", step, group.tolist(), cost / problem.scale)
    return best


def _unit_neighbours(problem: Problem, labels: IntArray) -> dict[int, set[int]]:
    """The units adjacent to each unit (units without neighbours are left out)."""
    e = problem.edges
    ua, ub = labels[e[:, 0]], labels[e[:, 1]]
    keep = (ua != ub) & (ua >= 0) & (ub >= 0)
    near: dict[int, set[int]] = {}
    for x, y in zip(ua[keep].tolist(), ub[keep].tolist(), strict=True):
        near.setdefault(x, set()).add(y)
        near.setdefault(y, set()).add(x)
    return near
