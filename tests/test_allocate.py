"""Restarts by location-allocation with a transportation LP, on hand-made grids (no geometry)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_recom import _grid, _valid

from redistrict._allocate import _connect, allocate, perturb, restarts
from redistrict._clock import WorkClock
from redistrict._construct import rebalance
from redistrict.problem import Band, Problem


def _assert_valid(p: Problem, labels: np.ndarray, k: int) -> None:
    assert sorted(np.unique(labels).tolist()) == list(range(k))
    _valid(p, labels)


def test_allocation_on_a_3x3_grid_splits_by_the_band() -> None:
    # Nine atoms of 100 households, centres at opposite corners, units of 400-500:
    # each corner takes its own side; the centre atom goes to one of them.
    p = _grid(3, 3, np.full(9, 100), Band(400, 500, 450))
    region = np.arange(9)
    units = allocate(p, region, np.array([0, 8]), clock=WorkClock())
    assert units is not None
    assert units[0] == 0 and units[8] == 1
    loads = np.bincount(units, p.households, minlength=2)
    assert sorted(loads.tolist()) == [400, 500]
    assert {int(units[1]), int(units[3])} == {0}
    assert {int(units[5]), int(units[7])} == {1}


def test_allocation_without_a_plan_in_the_band_is_none() -> None:
    # 900 households cannot make two units of at least 500.
    p = _grid(3, 3, np.full(9, 100), Band(500, 600))
    assert allocate(p, np.arange(9), np.array([0, 8]), clock=WorkClock()) is None


def test_connect_hands_cut_off_atoms_to_an_adjacent_unit() -> None:
    # 1 x 5 path, unit 0 centred at atom 0 also holds atom 4, cut off by unit 1.
    p = Problem.from_arrays(
        np.full(5, 100),
        [(100.0 * i, 0.0) for i in range(5)],
        [(i, i + 1) for i in range(4)],
        band=Band(0, 500),
    )
    units = np.array([0, 0, 1, 1, 0])
    out = _connect(p, np.arange(5), units, np.array([0, 2]))
    assert out.tolist() == [0, 0, 1, 1, 1]


def test_rebalance_brings_a_contiguous_plan_into_the_band() -> None:
    p = _grid(6, 4, np.full(24, 100), Band(700, 900, 800))
    # Three vertical strips of widths 1, 2 and 3: loads 400, 800 and 1,200.
    col = np.arange(24) % 6
    labels = np.select([col < 1, col < 3], [0, 1], 2).astype(np.int64)
    out = rebalance(p, np.arange(24), labels, seed=0)
    assert out is not None
    _assert_valid(p, out, 3)


@pytest.mark.parametrize("seed", [0, 1])
def test_restarts_give_valid_deterministic_plans(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h = rng.integers(150, 250, 10 * 10)
    p = _grid(10, 10, h, Band(2000, 3000))
    region = np.arange(100)
    a = restarts(p, region, [8], deadline=3.0, clock=WorkClock(), seed=seed, max_starts=6)
    b = restarts(p, region, [8], deadline=3.0, clock=WorkClock(), seed=seed, max_starts=6)
    assert a is not None and b is not None
    assert np.array_equal(a[1], b[1])
    assert a[0] == pytest.approx(p.plan_cost(a[1]))
    _assert_valid(p, a[1], 8)
    assert int(p.households[a[1] >= 0].sum()) == int(h.sum())


@settings(max_examples=15, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 6))
def test_every_restart_plan_is_contiguous_in_band_and_keeps_every_household(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    nx_, ny = 8, 6
    h = rng.integers(0, 200, nx_ * ny)
    total = int(h.sum())
    band = Band(total // k - 250, total // k + 250)
    p = _grid(nx_, ny, h, band)
    found = restarts(p, np.arange(nx_ * ny), [k], deadline=1.0, clock=WorkClock(), seed=seed, max_starts=3)
    if found is None:  # no restart may succeed, but a plan returned must be valid
        return
    _assert_valid(p, found[1], k)
    assert int(p.households[found[1] >= 0].sum()) == total


def test_restarts_take_the_unit_counts_in_turn() -> None:
    rng = np.random.default_rng(5)
    h = rng.integers(150, 250, 10 * 10)
    p = _grid(10, 10, h, Band(2000, 3000))
    # 8 and 9 units both fit 100 atoms of about 200 households: the first restart uses
    # the first count, and a count beyond the atoms is dropped.
    for counts in ([8, 9], [9, 8], [500, 9]):
        found = restarts(p, np.arange(100), counts, deadline=5.0, clock=WorkClock(), seed=0, max_starts=1)
        assert found is not None
        k = next(c for c in counts if c <= 100)
        _assert_valid(p, found[1], k)
    assert restarts(p, np.arange(100), [0, 500], deadline=5.0, clock=WorkClock(), seed=0) is None


def test_perturbation_redraws_a_poor_plan_keeping_its_units() -> None:
    # 12 x 3 grid of 100 households, three units of 1,200 drawn as rows 12 atoms long:
    # three 4 x 3 blocks are much more compact.
    p = _grid(12, 3, np.full(36, 100), Band(1000, 1400, 1200))
    rows = (np.arange(36) // 12).astype(np.int64)
    _assert_valid(p, rows, 3)
    out = perturb(p, np.arange(36), rows, deadline=2.0, clock=WorkClock(), seed=0)
    again = perturb(p, np.arange(36), rows, deadline=2.0, clock=WorkClock(), seed=0)
    assert np.array_equal(out, again)
    _assert_valid(p, out, 3)
    assert sorted(np.unique(out).tolist()) == [0, 1, 2]
    assert p.plan_cost(out) < 0.8 * p.plan_cost(rows)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 5))
def test_a_perturbed_plan_is_never_worse_and_stays_valid(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    h = rng.integers(0, 200, 8 * 6)
    total = int(h.sum())
    p = _grid(8, 6, h, Band(total // k - 250, total // k + 250))
    start = restarts(p, np.arange(48), [k], deadline=0.5, clock=WorkClock(), seed=seed, max_starts=2)
    if start is None:
        return
    out = perturb(p, np.arange(48), start[1], deadline=1.0, clock=WorkClock(), seed=seed)
    _assert_valid(p, out, k)
    assert np.array_equal(np.unique(out), np.unique(start[1]))
    assert p.plan_cost(out) <= start[0] + 1e-9
    assert int(p.households[out >= 0].sum()) == total
