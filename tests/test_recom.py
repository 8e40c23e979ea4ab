"""Tree recombination on hand-made grids (no geometry, no solver)."""

from __future__ import annotations

import numpy as np
import pytest

from redistrict._clock import WorkClock
from redistrict._recom import recombine
from redistrict.problem import Band, Problem


def _grid(nx_: int, ny: int, households: np.ndarray, band: Band) -> Problem:
    xy = [(100.0 * i, 100.0 * j) for j in range(ny) for i in range(nx_)]
    edges = [(v, v + 1) for v in range(nx_ * ny) if v % nx_ < nx_ - 1]
    edges += [(v, v + nx_) for v in range(nx_ * (ny - 1))]
    return Problem.from_arrays(households, xy, edges, band=band)


def _valid(p: Problem, labels: np.ndarray) -> None:
    for u in np.unique(labels):
        members = np.flatnonzero(labels == u)
        assert p.is_contiguous(members), f"unit {u} is not contiguous"
        load = int(p.households[members].sum())
        assert p.band.lo <= load <= p.band.hi, f"unit {u} holds {load}"


def test_recombination_straightens_a_bad_split() -> None:
    # 8 x 4 grid of 100 households, two units of 1,600: two long 8 x 2 strips are much
    # less compact than two 4 x 4 squares.
    p = _grid(8, 4, np.full(32, 100), Band(1400, 1800, 1600))
    labels = np.where((np.arange(32) // 8) < 2, 0, 1).astype(np.int64)
    _valid(p, labels)
    before = p.plan_cost(labels)
    out = recombine(p, labels, deadline=np.inf, seed=0, trees=40)
    _valid(p, out)
    assert p.plan_cost(out) < before - 1e-6
    assert set(np.unique(out)) == {0, 1}
    assert int(p.households[out == 0].sum()) + int(p.households[out == 1].sum()) == 3200


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recombination_never_worsens_and_is_deterministic(seed: int) -> None:
    rng = np.random.default_rng(seed)
    h = rng.integers(150, 250, 12 * 12)
    p = _grid(12, 12, h, Band(2000, 3000))
    # Start from twelve vertical strips (for these seeds each column is within the band).
    labels = (np.arange(144) % 12).astype(np.int64)
    _valid(p, labels)
    before = p.plan_cost(labels)
    clock_a, clock_b = WorkClock(), WorkClock()
    a = recombine(p, labels, deadline=5.0, clock=clock_a, seed=seed)
    b = recombine(p, labels, deadline=5.0, clock=clock_b, seed=seed)
    assert np.array_equal(a, b)
    assert clock_a.now() == pytest.approx(clock_b.now())
    _valid(p, a)
    assert p.plan_cost(a) <= before + 1e-9
    assert sorted(np.unique(a)) == sorted(np.unique(labels))


def test_recombination_stops_at_its_deadline() -> None:
    h = np.full(64, 300)
    p = _grid(8, 8, h, Band(2000, 3000))
    labels = np.repeat(np.arange(8), 8)  # eight rows of 2,400
    out = recombine(p, labels, deadline=0.0, clock=WorkClock(), seed=0)
    assert np.array_equal(out, labels)
