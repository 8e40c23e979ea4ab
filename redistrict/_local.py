"""Improvement of a plan: boundary moves and integer-programming neighbourhoods."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable

import numpy as np

from redistrict._clock import BOUNDARY_MOVE, Clock, WallClock
from redistrict._recom import adjacent_groups
from redistrict.errors import SolverError
from redistrict.model import solve_region
from redistrict.problem import FloatArray, IntArray, Problem

__all__ = ["alternate", "boundary_moves", "lns", "locate_allocate", "renumber", "unit_centres"]

log = logging.getLogger(__name__)

#: In a neighbourhood, candidate centres lie within this share of the units' radius
#: of a current centre.
_CENTRE_MOVE = 0.6


class _Plan:
    """Mutable plan state restricted to labelled atoms (label >= 0)."""

    def __init__(self, problem: Problem, labels: IntArray) -> None:
        self.p = problem
        self.labels = labels.copy()
        self.members: dict[int, set[int]] = {}
        for i, u in enumerate(self.labels.tolist()):
            if u >= 0:
                self.members.setdefault(u, set()).add(i)
        self.load = {u: int(problem.households[sorted(s)].sum()) for u, s in self.members.items()}
        self.cost = {u: problem.unit_cost(np.array(sorted(s)))[0] for u, s in self.members.items()}

    def total(self) -> float:
        return float(sum(self.cost.values()))


def boundary_moves(
    problem: Problem, labels: IntArray, *, deadline: float, clock: Clock | None = None
) -> IntArray:
    """Move single boundary atoms between units while the objective improves.

    Moves keep every unit in the band and contiguous.

    Parameters
    ----------
    problem : Problem
        The instance.
    labels : array of int
        Unit per atom (-1 = not planned); not modified.
    deadline : float
        Time of ``clock`` at which to stop.
    clock : Clock, optional
        Clock of ``deadline`` (default: wall clock); each move evaluated is
        charged to it.

    Returns
    -------
    ndarray of int
        The improved labels.
    """
    clock = clock or WallClock()
    st = _Plan(problem, labels)
    h = problem.households
    lo, hi = problem.band.lo, problem.band.hi
    tol = 1e-9 * max(st.total(), 1.0)
    edges = problem.edges.tolist()
    improved = True
    while improved and clock.now() < deadline:
        improved = False
        for a, b in edges:
            ua, ub = int(st.labels[a]), int(st.labels[b])
            if ua == ub or ua < 0 or ub < 0:
                continue
            for v, src, dst in ((a, ua, ub), (b, ub, ua)):
                if len(st.members[src]) == 1:
                    continue
                if st.load[src] - h[v] < lo or st.load[dst] + h[v] > hi:
                    continue
                clock.charge(BOUNDARY_MOVE)
                new_src = np.array(sorted(st.members[src] - {v}))
                new_dst = np.array(sorted(st.members[dst] | {v}))
                c_src = problem.unit_cost(new_src)[0]
                c_dst = problem.unit_cost(new_dst)[0]
                delta = c_src + c_dst - st.cost[src] - st.cost[dst]
                if delta < -tol and problem.is_contiguous(new_src):
                    st.members[src].discard(v)
                    st.members[dst].add(v)
                    st.load[src] -= int(h[v])
                    st.load[dst] += int(h[v])
                    st.cost[src], st.cost[dst] = c_src, c_dst
                    st.labels[v] = dst
                    improved = True
                    break
            if clock.now() >= deadline:
                break
    return st.labels


def locate_allocate(
    problem: Problem,
    region: IntArray,
    k: int,
    opening: FloatArray | None,
    *,
    solver: str,
    deadline: float,
    max_iter: int = 8,
    clock: Clock | None = None,
    start: list[int] | None = None,
    reach: float = 4.0,
) -> IntArray | None:
    """Location-allocation from the relaxation's best centres.

    The ``k`` atoms with the best centre scores of the Lagrangian relaxation
    (:mod:`redistrict.bound`) become centres; atoms are allocated to them by the integer program with fixed
    centres (band, SP contiguity); each unit then moves its centre to its best
    atom, and allocation repeats until the centres stop moving (Hess et al.
    1965, with the relaxation as a guide to the starting centres).

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions of one connected component.
    k : int
        Number of units.
    opening : array of float or None
        Score per atom of ``region``, higher for better centres (from
        :func:`redistrict.bound.lower_bound`); ignored with ``start``.
    solver : {"highs", "cbc"}
        MIP solver.
    deadline : float
        Time of ``clock`` at which to stop.
    max_iter : int
        Allocation rounds at most.
    clock : Clock, optional
        Clock of ``deadline`` (default: wall clock).
    start : list of int, optional
        Starting centres (``k`` atom positions, e.g. the centres of a known
        plan's units) instead of the relaxation's.
    reach : float
        A centre may only take the atoms nearest to it that together hold
        ``reach`` times the band's upper bound (see
        :func:`redistrict.model.solve_region`).

    Returns
    -------
    ndarray of int or None
        Labels over all atoms (-1 outside ``region``), or None if no allocation
        was found.
    """
    clock = clock or WallClock()
    if start is not None:
        centres = sorted(int(c) for c in start)
        if len(centres) != k:
            return None
    elif opening is None or k < 1 or k > len(region) or len(opening) != len(region):
        return None
    else:
        centres = _spread_centres(problem, region, k, np.asarray(opening, dtype=float))

    def allocated(current: list[int]) -> IntArray | None:
        sol = solve_region(
            problem, region, kmin=k, kmax=k, solver=solver, time_limit=deadline - clock.now(),
            contiguity="sp", centres=np.array(current), max_nodes=2000, reach=reach, clock=clock,
        )  # fmt: skip
        if sol.centres is None and sol.outcome.status == "infeasible":
            # The reach restriction may leave atoms out of every centre's reach.
            sol = solve_region(
                problem, region, kmin=k, kmax=k, solver=solver, time_limit=deadline - clock.now(),
                contiguity="sp", centres=np.array(current), max_nodes=2000, clock=clock,
            )  # fmt: skip
        if sol.centres is None:
            return None
        labels = np.full(problem.n, -1, dtype=np.int64)
        _, inv = np.unique(sol.centres, return_inverse=True)
        labels[region] = inv
        return labels

    best = alternate(problem, centres, allocated, rounds=max_iter, stop=lambda: deadline - clock.now() <= 0.2)
    return None if best is None else best[1]


def alternate(
    problem: Problem,
    centres: Iterable[int],
    allocate: Callable[[list[int]], IntArray | None],
    *,
    rounds: int,
    stop: Callable[[], bool],
) -> tuple[float, IntArray] | None:
    """Alternate allocation and centre moves (Cooper 1964) from ``centres``; the best plan met.

    Each round allocates the atoms to the centres, then moves each unit's
    centre to its best atom (:func:`unit_centres`). It stops when the cost no
    longer falls, the centres stay where they are, ``rounds`` rounds are done,
    ``allocate`` finds nothing or ``stop()`` is true before a round.

    Parameters
    ----------
    problem : Problem
        The instance.
    centres : iterable of int
        Starting centre atoms.
    allocate : callable
        Labels over all atoms for the centres given, unit ``u`` being the
        ``u``-th centre's (-1 outside the region), or None. After the first
        round the centres come sorted.
    rounds : int
        Allocation rounds at most.
    stop : callable
        True when no further round may start (a deadline).

    Returns
    -------
    tuple of (float, ndarray of int) or None
        Cost (unscaled) and labels of the best allocation, or None if there was none.
    """
    current = [int(c) for c in centres]
    best: tuple[float, IntArray] | None = None
    for _ in range(rounds):
        if stop():
            break
        labels = allocate(current)
        if labels is None:
            break
        cost = problem.plan_cost(labels)
        if best is not None and cost >= best[0] - 1e-9 * max(abs(best[0]), 1.0):
            break
        best = (cost, labels)
        moved = sorted(unit_centres(problem, labels, range(len(current))))
        if moved == current:
            break
        current = moved
    return best


def unit_centres(problem: Problem, labels: IntArray, units: Iterable[int]) -> list[int]:
    """Best centre atom (see :meth:`Problem.unit_cost`) of each of ``units`` in ``labels``."""
    return [problem.unit_cost(np.flatnonzero(labels == u))[1] for u in units]


def _spread_centres(problem: Problem, region: IntArray, k: int, score: FloatArray) -> list[int]:
    """The ``k`` best-scored atoms, kept apart by about a unit's radius."""
    order = region[np.argsort(-score, kind="stable")]
    sep = float(np.sqrt(problem.area[region].sum() / (k * np.pi)))
    dist = problem.distance
    while True:
        chosen: list[int] = []
        for c in order.tolist():
            if all(dist[c, d] >= sep for d in chosen):
                chosen.append(int(c))
                if len(chosen) == k:
                    return sorted(chosen)
        sep *= 0.8
        if sep < 1e-6:
            return sorted(int(c) for c in order[:k])


def lns(
    problem: Problem,
    labels: IntArray,
    *,
    solver: str,
    deadline: float,
    sub_time: float = 5.0,
    max_size: int = 3,
    on_improve: Callable[[float], None] | None = None,
    clock: Clock | None = None,
    keep_count: bool = False,
) -> IntArray:
    """Large-neighbourhood search: re-optimise groups of adjacent units exactly.

    Each step frees the atoms of two (then three) adjacent units, solves the
    integer program of :mod:`redistrict.model` on them (SP contiguity, the number
    of units free to change by one unless ``keep_count``) and keeps the result if the objective
    drops. Stops at ``deadline`` or when no group improves.

    Parameters
    ----------
    problem : Problem
        The instance.
    labels : array of int
        Starting plan (contiguous, in band); not modified.
    solver : {"highs", "cbc"}
        MIP solver for the neighbourhoods.
    deadline : float
        Time of ``clock`` at which to stop.
    sub_time : float
        Time limit of one neighbourhood solve.
    max_size : int
        Largest number of units re-optimised together.
    on_improve : callable, optional
        Called with the new objective after each improvement.
    clock : Clock, optional
        Clock of ``deadline`` and ``sub_time`` (default: wall clock).
    keep_count : bool
        Keep the number of units of every group (and so of the plan).

    Returns
    -------
    ndarray of int
        The improved labels (units renumbered ``0..k-1`` by smallest atom).
    """
    clock = clock or WallClock()
    labels = labels.copy()
    tried: set[frozenset[tuple[int, ...]]] = set()
    for size in range(2, max_size + 1):
        improved = True
        while improved and clock.now() < deadline:
            improved = False
            for group in adjacent_groups(problem, labels, size):
                if clock.now() >= deadline:
                    break
                region = np.flatnonzero(np.isin(labels, group))
                key = frozenset(tuple(np.flatnonzero(labels == u).tolist()) for u in group)
                if key in tried:
                    continue
                tried.add(key)
                new = _reoptimise(
                    problem, labels, group, region, solver, deadline, sub_time, clock, keep_count
                )
                if new is not None:
                    labels = new
                    improved = True
                    cost = problem.plan_cost(labels)
                    log.info(
                        "neighbourhood search: %d units re-optimised -> %.1f", size, cost / problem.scale
                    )
                    if on_improve is not None:
                        on_improve(cost)
                    break
    return renumber(labels)


def _reoptimise(
    problem: Problem,
    labels: IntArray,
    group: tuple[int, ...],
    region: IntArray,
    solver: str,
    deadline: float,
    sub_time: float,
    clock: Clock,
    keep_count: bool = False,
) -> IntArray | None:
    old = sum(problem.unit_cost(np.flatnonzero(labels == u))[0] for u in group)
    total = int(problem.households[region].sum())
    ks = problem.band.unit_counts(total)
    k = len(group)
    spread = 0 if keep_count else 1
    kmin, kmax = max(ks.start, k - spread), min(ks.stop - 1, k + spread)
    if kmin > kmax:
        return None
    # Allow centres a little further than the current units reach, and only near
    # the current centres (a unit's best centre rarely moves far in one step).
    radius = 0.0
    current = []
    for u in group:
        members = np.flatnonzero(labels == u)
        _, c = problem.unit_cost(members)
        current.append(c)
        radius = max(radius, float(problem.distance[members, c].max()))
    near = (
        problem.distance[np.ix_(region, np.array(current, dtype=np.int64))].min(axis=1)
        <= _CENTRE_MOVE * radius
    )
    candidates = region[near] if near.sum() > kmax else None
    limit = min(sub_time, deadline - clock.now())
    if limit <= 0.2:
        return None
    try:
        sol = solve_region(
            problem, region, kmin=kmin, kmax=kmax, solver=solver, time_limit=limit,
            contiguity="sp", radius=1.6 * radius + 1.0, max_nodes=500, centres=candidates,
            clock=clock,
        )  # fmt: skip
    except SolverError as exc:
        log.warning("neighbourhood search stopped: %s", exc)
        raise
    if sol.centres is None:
        return None
    centres = region[sol.centres]
    new = labels.copy()
    next_label = int(labels.max()) + 1
    for j in np.unique(centres):
        new[region[centres == j]] = next_label
        next_label += 1
    cost = sum(problem.unit_cost(np.flatnonzero(new == u))[0] for u in np.unique(new[region]))
    if cost < old - 1e-9 * max(abs(old), 1.0) and math.isfinite(cost):
        return new
    return None


def renumber(labels: IntArray) -> IntArray:
    """Renumber units 0..k-1 in order of their smallest atom (-1 stays)."""
    out = np.full_like(labels, -1)
    seen: dict[int, int] = {}
    for i, u in enumerate(labels.tolist()):
        if u < 0:
            continue
        if u not in seen:
            seen[u] = len(seen)
        out[i] = seen[u]
    return out
