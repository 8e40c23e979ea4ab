"""Bound lifting (:mod:`redistrict._certify`): variable fixing and the bound-only solve.

The fixing bounds are checked against every plan of small instances, found by
enumerating all partitions of the atoms (contiguous or not, as the relaxation
allows), for arbitrary multipliers: a fixing bound above some plan's cost would
drop a pair that plan needs, and the lifted bound could then exceed the optimum.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_model import exact_optimum, grid

from redistrict._certify import forced_bounds, strengthen
from redistrict._clock import WallClock, WorkClock
from redistrict.bound import _Lagrangian, lower_bound
from redistrict.problem import Band, Problem


def _partitions(items: list[int]) -> Iterator[list[list[int]]]:
    """Every set partition of ``items``."""
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1 :]]
        yield [[first], *part]


def _plans(p: Problem, k: int) -> Iterator[list[np.ndarray]]:
    """Every partition of the atoms into ``k`` units in the band."""
    band = p.band
    for part in _partitions(list(range(p.n))):
        if len(part) != k:
            continue
        units = [np.array(u) for u in part]
        if all(band.lo <= int(p.households[u].sum()) <= band.hi for u in units):
            yield units


def _centred_costs(p: Problem, unit: np.ndarray) -> np.ndarray:
    """Cost of ``unit`` for each choice of centre among its atoms (the model's cost)."""
    dev = p.weights.deviation * abs(float(p.households[unit].sum()) - p.band.goal)
    out: np.ndarray = p.assign_cost[np.ix_(unit, unit)].sum(axis=0) + dev
    return out


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    households=st.lists(st.integers(0, 900), min_size=8, max_size=8),
    mu_scale=st.floats(0.0, 3.0),
    seed=st.integers(0, 2**16),
)
def test_forced_bounds_never_exceed_a_plan_using_the_pair(
    households: list[int], mu_scale: float, seed: int
) -> None:
    # A 4x2 grid with a band small enough for several units.
    xy = [(100.0 * (i % 4), 100.0 * (i // 4)) for i in range(8)]
    p = Problem.from_arrays(households, xy, grid(4, 2, households).edges, band=Band(800, 1600))
    lag = _Lagrangian(p, np.arange(p.n))
    rng = np.random.default_rng(seed)
    # Any multipliers give valid bounds: random ones around the typical assignment cost.
    typical = float(np.median(lag.cost))
    mu = rng.normal(0.0, 1.0, p.n) * typical * mu_scale
    for k in lag.ks:
        fixed = forced_bounds(lag, mu, k)
        for units in _plans(p, k):
            costs = [_centred_costs(p, u) for u in units]
            best = [float(c.min()) for c in costs]
            total = sum(best)
            for u, (unit, c) in enumerate(zip(units, costs, strict=True)):
                for jpos, j in enumerate(unit.tolist()):
                    # The plan with this unit centred on j (the others at their best centres).
                    cost = total - best[u] + float(c[jpos])
                    assert np.all(fixed[unit, j] <= cost + 1e-6 * max(1.0, abs(cost)))


def test_lifted_bound_is_valid_and_never_lower() -> None:
    rng = np.random.default_rng(11)
    for trial in range(3):
        h = rng.integers(150, 700, size=16)
        p = grid(4, 4, h)
        region = np.arange(p.n)
        opt = exact_optimum(p, "cuts")
        lb = lower_bound(p, region, time_limit=2)
        for threshold in (opt, 0.99 * opt, 0.9 * opt):
            clock = WallClock()
            lifted = strengthen(
                p, region, lb, threshold=threshold, solver="highs", deadline=clock.now() + 30, clock=clock
            )
            assert lifted.value <= opt + 1e-6, (trial, threshold)
            assert lifted.value >= lb.value - 1e-9
            assert lifted.value <= max(lb.value, threshold) + 1e-9
            assert all(lifted.per_k[k] >= lb.per_k[k] - 1e-9 for k in lb.per_k)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_lifting_closes_the_relaxation_gap_on_a_grid(solver: str) -> None:
    # A 5x5 grid whose Lagrangian bound stops 2 % short of the optimum: with the optimum
    # as the threshold the lifted bound must reach it (nothing can be proven above it).
    rng = np.random.default_rng(2)
    p = grid(5, 5, rng.integers(100, 900, size=25))
    region = np.arange(p.n)
    opt = exact_optimum(p, "none")
    lb = lower_bound(p, region, time_limit=1)
    assert lb.value < opt * (1 - 1e-2), "the relaxation should leave a gap on this instance"
    clock = WorkClock()
    lifted = strengthen(p, region, lb, threshold=opt, solver=solver, deadline=clock.now() + 60, clock=clock)
    # Up to the solver's tolerance (1e-6, taken off every proven bound).
    assert opt * (1 - 2e-6) <= lifted.value <= opt


def test_threshold_below_every_bound_changes_nothing() -> None:
    p = grid(3, 3, [300, 300, 300, 300, 300, 300, 300, 300, 300])
    region = np.arange(p.n)
    lb = lower_bound(p, region, time_limit=1)
    clock = WallClock()
    same = strengthen(p, region, lb, threshold=lb.value - 1.0, solver="highs", deadline=1e9, clock=clock)
    assert same is lb
