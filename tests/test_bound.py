"""The Lagrangian relaxation of :mod:`redistrict.bound` with pooled items.

A centre's knapsack keeps its near atoms and the "hot" atoms (largest
multiplier per household) as separate items and pools the rest into one item
priced no higher than any of them. The pooled value must never exceed the
exact one (every atom its own item), for any multipliers: otherwise the bound
would not be valid. Where the knapsack does not reach the pool the two agree.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_model import grid

import redistrict.bound as bound_module
from redistrict.bound import _Lagrangian, lower_bound
from redistrict.problem import Band, Problem


def _city(side: int, seed: int, hi: int = 1200) -> Problem:
    """A ``side x side`` grid with a quarter of the atoms empty and a band of 2-3 atoms' worth."""
    rng = np.random.default_rng(seed)
    households = rng.integers(100, 600, side * side)
    households[rng.random(side * side) < 0.25] = 0
    p = grid(side, side, households)
    return dataclasses.replace(p, band=Band(hi // 2, hi))


def _exact(p: Problem, monkeypatch: pytest.MonkeyPatch) -> _Lagrangian:
    with monkeypatch.context() as m:
        m.setattr(bound_module, "_NEAR_REACH", np.inf)
        lag = _Lagrangian(p, np.arange(p.n))
    assert not lag.pooled
    return lag


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 2**16),
    scale=st.floats(0.0, 3.0),
    spikes=st.integers(0, 6),
    near=st.sampled_from([1.0, 2.0]),
    hot=st.sampled_from([0, 1, 3]),
)
def test_pooled_values_never_exceed_the_exact_ones(
    seed: int, scale: float, spikes: int, near: float, hot: int
) -> None:
    p = _city(9, seed)
    with pytest.MonkeyPatch.context() as m:
        exact = _exact(p, m)
        m.setattr(bound_module, "_NEAR_REACH", near)
        m.setattr(bound_module, "_HOT", hot)
        pooled = _Lagrangian(p, np.arange(p.n))
    assert pooled.pooled and pooled.items < len(pooled.pos_idx)
    rng = np.random.default_rng(seed)
    typical = float(np.median(exact.cost))
    mu = rng.normal(0.5, 1.0, p.n) * typical * scale
    # A few atoms with a very large multiplier: cheap for every centre, so pooled with the
    # far atoms they would price the whole pool (the case the hot atoms are for).
    mu[rng.choice(p.n, spikes, replace=False)] += 20 * typical
    per_e, val_e, _, _ = exact.evaluate(mu)
    per_p, val_p, grad, _ = pooled.evaluate(mu)
    tol = 1e-9 * max(1.0, float(np.abs(val_e[np.isfinite(val_e)]).max()))
    assert np.all(val_p <= val_e + tol)
    assert all(per_p[k] <= per_e[k] + tol * p.n for k in per_e)
    assert grad.shape == (p.n,) and np.isfinite(grad).all()


def test_pool_is_exact_where_the_knapsack_stays_near(monkeypatch: pytest.MonkeyPatch) -> None:
    p = _city(12, 7)
    exact = _exact(p, monkeypatch)
    monkeypatch.setattr(bound_module, "_HOT", 4)
    pooled = _Lagrangian(p, np.arange(p.n))
    assert pooled.pooled
    # Multipliers at each atom's cheapest assignment cost: every reduced cost is still
    # non-negative, so each knapsack takes the cheapest atoms, which are near ones.
    off = exact.cost + np.diag(np.full(p.n, np.inf))
    mu = off.min(axis=1)
    _, val_e, grad_e, _ = exact.evaluate(mu)
    _, val_p, grad_p, _ = pooled.evaluate(mu)
    assert np.allclose(val_p, val_e)
    assert np.allclose(grad_p, grad_e)


def test_bound_with_pooling_matches_the_exact_ascent(monkeypatch: pytest.MonkeyPatch) -> None:
    # The ascent itself: pooled and exact evaluations reach bounds within 1 % of each other.
    p = _city(12, 3)
    region = np.arange(p.n)
    pooled = lower_bound(p, region, time_limit=60, max_iter=150)
    monkeypatch.setattr(bound_module, "_NEAR_REACH", np.inf)
    exact = lower_bound(p, region, time_limit=60, max_iter=150)
    assert pooled.value <= exact.value * 1.01 + 1e-9
    assert pooled.value >= exact.value * 0.99
