"""A valid lower bound on the objective of any contiguous plan.

Lagrangian relaxation of the p-median model in :mod:`redistrict.model`
(Beasley 1993 for the capacitated p-median): the "every atom in one unit"
rows are moved into the objective with multipliers ``mu``. What remains
splits by candidate centre ``j``: open a unit at ``j`` (cost ``V_j``) and fill
it, fractionally, with the atoms of lowest reduced cost ``c_ij - mu_i`` per
household until its size is in the band, paying the deviation from the target.
That fractional knapsack is solved exactly by sorting, and the ``k`` cheapest
centres are opened. For *any* ``mu``

    L(mu) = sum_i mu_i + min over k of (sum of the k smallest V_j(mu))

is a lower bound on every plan (contiguity is dropped, integrality of the
knapsack too), so the bound is valid however early the subgradient ascent on
``mu`` is stopped. At its best it equals the LP relaxation's value.

No LP solver is needed, memory is a few ``m x m`` arrays, and each iteration is
a handful of vectorised numpy operations. Each knapsack sorts only the atoms
near its centre and those the multipliers make cheap everywhere; the others
form one pooled item priced no higher than any of them (:class:`_Lagrangian`),
so an iteration costs ``m`` times a few dozen items rather than ``m x m`` and
the bound scales to thousands of atoms.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from redistrict._clock import LAGRANGIAN_CELL, Clock, WallClock
from redistrict.problem import FloatArray, IntArray, Problem

__all__ = ["LowerBound", "lower_bound"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LowerBound:
    """Lower bound on one region.

    Attributes
    ----------
    value : float
        Valid lower bound on the objective of any plan of the region
        (``inf`` when no plan in the band exists).
    per_k : dict of int to float
        Bound for each admissible number of units at the best multipliers.
    opening : dict of int to ndarray
        For each ``k``: a score per atom of the region, higher for atoms that
        make cheap unit centres (minus the relaxation's centre values, smoothed
        over the subgradient iterates).
    multipliers : dict of int to ndarray
        For each ``k``: the multipliers ``mu`` (one per atom of the region) at
        which ``per_k[k]`` was reached; they let a caller fix variables
        (:mod:`redistrict._certify`).
    iterations : int
        Subgradient iterations performed.
    seconds : float
        Time taken, in seconds of the clock used.
    """

    value: float
    per_k: dict[int, float]
    opening: dict[int, FloatArray]
    multipliers: dict[int, FloatArray]
    iterations: int
    seconds: float


class _Lagrangian:
    """Evaluate ``L(mu)`` and a subgradient for one region (for the unit counts ``counts`` allows).

    Each centre's knapsack sorts, as separate items, only its *near* atoms
    (the atoms with households cheapest per household to join it, together
    holding ``_NEAR_REACH`` times the band's upper bound) and the ``_HOT``
    atoms of largest multiplier per household (the ones the multipliers make
    cheap everywhere). Its other atoms are pooled into one item holding their
    households at a cost per household no higher than any of theirs: the last
    near atom's cost less the largest multiplier per household among them.
    Pooling makes items cheaper, never dearer, so every value stays a valid
    lower bound; it is exact whenever the knapsack does not reach the pool, and
    it spares sorting ``m x m`` costs at every iteration (one iteration on
    3,000 atoms falls from seconds to hundredths).
    """

    def __init__(self, problem: Problem, region: IntArray, counts: range | None = None) -> None:
        m = len(region)
        self.m = m
        self.h = problem.households[region].astype(float)
        self.cost = problem.assign_cost[np.ix_(region, region)].astype(float)
        band = problem.band
        self.lo, self.hi, self.goal = float(band.lo), float(band.hi), band.goal
        self.w = float(problem.weights.deviation)
        self.pos = self.h > 0
        self.ks = band.unit_counts(int(self.h.sum()))
        if counts is not None:
            self.ks = range(max(counts.start, self.ks.start), min(counts.stop, self.ks.stop))
        self.pos_idx = np.flatnonzero(self.pos)
        self.zero_idx = np.flatnonzero(~self.pos)
        self.hp = self.h[self.pos_idx]
        n_pos = len(self.pos_idx)
        # Cost per household of each atom with households (row) joining each centre (column);
        # the centre itself is y_j, not an item.
        per_hh = self.cost[self.pos_idx] / self.hp[:, None]
        per_hh[np.arange(n_pos), self.pos_idx] = np.inf
        self.per_hh = per_hh
        zero_cost = self.cost[self.zero_idx].copy()
        zero_cost[np.arange(len(self.zero_idx)), self.zero_idx] = np.inf
        self.zero_cost = zero_cost
        self.near = _cheapest(per_hh, self.hp, _NEAR_REACH * self.hi)
        if len(self.near) + _HOT >= n_pos:  # small region: every atom an item of every centre
            self.near = _cheapest(per_hh, self.hp, np.inf)
        self.near_cost = np.take_along_axis(per_hh, self.near, axis=0)
        self.pooled = len(self.near) < n_pos
        self.n_hot = min(_HOT, n_pos) if self.pooled else 0
        if self.pooled:
            self.is_near = np.zeros((n_pos, m), dtype=bool)
            np.put_along_axis(self.is_near, self.near, True, axis=0)
            self.far_cost = per_hh[self.near[-1], np.arange(m)]
            own = np.where(self.pos, self.h, 0.0)
            self.far_hh = float(self.hp.sum()) - own - self.hp[self.near].sum(axis=0)

    @property
    def items(self) -> int:
        """Items sorted per centre in one evaluation (near atoms, hot atoms and the pool)."""
        return int(self.near.shape[0]) + self.n_hot + int(self.pooled)

    def evaluate(
        self, mu: FloatArray, k: int | None = None
    ) -> tuple[dict[int, float], FloatArray, FloatArray, int]:
        """Bounds per k, centre values ``V_j``, a subgradient (at ``k``, or the best k) and that k."""
        m, h = self.m, self.h
        cols = np.arange(m)
        # Atoms without households: take them whenever their reduced cost is negative.
        red0 = self.zero_cost - mu[self.zero_idx, None]
        take0 = red0 < 0.0
        free_cost = np.where(take0, red0, 0.0).sum(axis=0)
        # Fractional knapsack over atoms with households, cheapest per household first.
        shift = mu[self.pos_idx] / self.hp
        ratio = self.near_cost - shift[self.near]
        item_hh = self.hp[self.near]
        item_row = self.near
        if self.pooled:
            # Hot atoms are items of every centre they are not near; the rest is pooled.
            order_shift = np.argsort(-shift, kind="stable")
            hot = order_shift[: self.n_hot]
            top = order_shift[self.n_hot] if self.n_hot < len(shift) else hot[-1]
            far_hot = ~self.is_near[hot]
            hot_ratio = np.where(far_hot, self.per_hh[hot] - shift[hot, None], np.inf)
            pool = np.where(self.far_hh > 0, self.far_cost - shift[top], np.inf)
            pool_hh = self.far_hh - (self.hp[hot, None] * far_hot).sum(axis=0)
            ratio = np.vstack([ratio, hot_ratio, pool[None, :]])
            item_hh = np.vstack([item_hh, np.repeat(self.hp[hot, None], m, axis=1), pool_hh[None, :]])
            item_row = np.vstack([item_row, np.repeat(hot[:, None], m, axis=1), np.full((1, m), top)])
        order = np.argsort(ratio, axis=0, kind="stable")
        rs = np.take_along_axis(ratio, order, axis=0)
        finite = np.isfinite(rs)
        hs = np.where(finite, np.take_along_axis(item_hh, order, axis=0), 0.0)
        rows = np.take_along_axis(item_row, order, axis=0)
        cs = np.where(finite, rs, 0.0) * hs
        base = h.copy()  # load of the centre atom itself
        load = np.vstack([base[None, :], base[None, :] + np.cumsum(hs, axis=0)])
        csum = np.vstack([np.zeros((1, m)), np.cumsum(cs, axis=0)])
        gval, sizes = self.band_values(load, csum)
        reach = (load[0] <= self.hi) & (load[-1] >= self.lo)
        best_row = np.argmin(gval, axis=0)
        value = gval[best_row, cols] + free_cost - mu
        value = np.where(reach, value, np.inf)
        # Bounds for every k: sum of the k smallest centre values.
        sorted_v = np.sort(value)
        prefix = np.concatenate([[0.0], np.cumsum(sorted_v)])
        base_mu = float(mu.sum())
        per_k = {k: base_mu + float(prefix[k]) if k <= m else np.inf for k in self.ks}
        kbest = min(per_k, key=lambda kk: per_k[kk]) if k is None else k
        # Subgradient at kbest: 1 - y_i - sum_j x_ij over the opened centres (the pool's
        # share goes to the atom that sets its cost, scaled by the households it stands for).
        opened = np.argsort(value, kind="stable")[:kbest]
        grad = np.ones(m)
        grad[opened] -= 1.0
        lstar = sizes[best_row, cols]
        for j in opened.tolist():
            if not np.isfinite(value[j]):
                continue
            need = lstar[j] - base[j]
            col_h = hs[:, j]
            before = np.concatenate([[0.0], np.cumsum(col_h)[:-1]])
            take = np.clip((need - before) / np.where(col_h > 0, col_h, 1.0), 0.0, 1.0)
            used = (take > 0) & (col_h > 0)
            atoms = rows[used, j]
            np.subtract.at(grad, self.pos_idx[atoms], take[used] * col_h[used] / self.hp[atoms])
            grad[self.zero_idx[take0[:, j]]] -= 1.0
        return per_k, value, grad, kbest

    def band_values(self, load: FloatArray, csum: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Cost of each candidate unit size, per column of a fractional knapsack.

        ``load`` and ``csum`` hold, per column, the unit's size and cost after
        taking each prefix of the items (sorted cheapest per household first):
        the cost ``f(L)`` is convex piecewise linear between these breakpoints,
        and so is ``g(L) = f(L) + w |L - T|``. Its minimum over the band
        ``[lo, hi]`` lies at a breakpoint inside the band or at ``lo``, ``hi``
        or ``T``; returns ``g`` at all of these (``inf`` where a size is out of
        reach) and the sizes themselves, one row per candidate.
        """
        inside = (load >= self.lo) & (load <= self.hi)
        g_bp = np.where(inside, csum + self.w * np.abs(load - self.goal), np.inf)
        extra = (self.lo, self.hi, min(max(self.goal, self.lo), self.hi))
        g_ex = np.vstack(
            [
                np.where(
                    (load[0] <= v) & (load[-1] >= v),
                    self._interp(v, load, csum) + self.w * abs(v - self.goal),
                    np.inf,
                )
                for v in extra
            ]
        )
        cand = np.vstack([load, np.repeat(np.array(extra)[:, None], load.shape[1], axis=1)])
        return np.vstack([g_bp, g_ex]), cand

    @staticmethod
    def _interp(v: float, xp: FloatArray, fp: FloatArray) -> FloatArray:
        """``f(v)`` per column, by linear interpolation of ``fp`` over increasing ``xp``."""
        cols = np.arange(xp.shape[1])
        idx = np.clip((xp < v).sum(axis=0), 1, xp.shape[0] - 1)
        x0, x1 = xp[idx - 1, cols], xp[idx, cols]
        f0, f1 = fp[idx - 1, cols], fp[idx, cols]
        span = x1 - x0
        t = np.where(span > 0, (v - x0) / np.where(span > 0, span, 1.0), 0.0)
        out: FloatArray = f0 + np.clip(t, 0.0, 1.0) * (f1 - f0)
        return out


def lower_bound(
    problem: Problem,
    region: IntArray,
    *,
    time_limit: float = 30.0,
    upper: float | None = None,
    max_iter: int = 400,
    per_k_limit: int = 8,
    clock: Clock | None = None,
    counts: range | None = None,
) -> LowerBound:
    """Lower bound for any plan of a connected region.

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions of one connected component.
    time_limit : float
        Budget in seconds of ``clock``; the bound is valid (if weaker) whenever
        it stops.
    upper : float, optional
        Objective of a known plan, used for the step size (Polyak); without it
        the step uses a guess that is refined as the bound improves.
    max_iter : int
        Subgradient iterations at most (per unit count).
    per_k_limit : int
        With more admissible unit counts than this, one ascent serves them all.
    clock : Clock, optional
        Clock of the budget (default: wall-clock seconds); a
        :class:`~redistrict._clock.WorkClock` counts iterations instead.
    counts : range, optional
        Numbers of units allowed (default: every count the band admits); the
        bound then holds for plans with one of these counts.

    Returns
    -------
    LowerBound
    """
    clock = clock or WallClock()
    start = clock.now()
    region = np.asarray(region, dtype=np.int64)
    lag = _Lagrangian(problem, region, counts)
    if len(lag.ks) == 0:
        return LowerBound(np.inf, {}, {}, {}, 0, 0.0)
    m = lag.m
    # Start from each atom's cheapest possible assignment cost (a common choice).
    off = lag.cost + np.diag(np.full(m, np.inf))
    mu0 = np.minimum(off.min(axis=1), np.median(off, axis=1))
    mu0 = np.where(np.isfinite(mu0), mu0, 0.0)
    ks = list(lag.ks)
    deadline = start + time_limit
    if len(ks) > per_k_limit:
        # Many admissible counts (large regions): one ascent on the weakest count.
        one = _Ascent(lag, mu0, None, upper)
        one.run(max_iter, deadline, clock)
        per_k = one.best_per_k
        opening = dict.fromkeys(per_k, one.score)
        multipliers = dict.fromkeys(per_k, one.best_mu)
        iterations = one.iterations
    else:
        # One ascent per unit count (each count gets its own multipliers: a stronger bound).
        # The bound is the smallest over the counts, so after a first round the effort
        # goes, a chunk at a time, to whichever count is weakest.
        # The first round starts at the count whose units are closest to the target size
        # and works outwards, each count warm-started from its neighbour's best multipliers.
        total = float(lag.h.sum())
        order = sorted(ks, key=lambda kk: (abs(total / kk - lag.goal), kk))
        runs: dict[int, _Ascent] = {}
        first = max(5, min(_CHUNK, max_iter // (2 * len(ks))))
        mu = mu0
        for i, k in enumerate(order):
            runs[k] = _Ascent(lag, mu.copy(), k, upper)
            share = clock.now() + 0.5 * (deadline - clock.now()) / (len(ks) - i)
            runs[k].run(first, share, clock)
            mu = runs[k].best_mu
        while clock.now() < deadline:
            live = [k for k in ks if not runs[k].done and runs[k].iterations < max_iter]
            if not live:
                break
            k = min(live, key=lambda kk: (runs[kk].best_val, kk))
            runs[k].run(min(_CHUNK, max_iter - runs[k].iterations), deadline, clock)
        per_k = {k: runs[k].best_val for k in ks}
        opening = {k: runs[k].score for k in ks}
        multipliers = {k: runs[k].best_mu for k in ks}
        iterations = sum(r.iterations for r in runs.values())
    best_val = min(per_k.values())
    value = max(0.0, best_val) if np.isfinite(best_val) else best_val
    return LowerBound(float(value), per_k, opening, multipliers, iterations, clock.now() - start)


def _cheapest(cost: FloatArray, households: FloatArray, reach: float) -> IntArray:
    """Rows of ``cost`` per column, cheapest first, until they hold ``reach`` households.

    Returns an ``(r, columns)`` array with ``r`` the largest count any column
    needs (every row when some column cannot reach ``reach``). A partial sort
    of a first guess of ``r`` rows is tried before sorting every row.
    """
    n, cols = cost.shape
    if n == 0:
        return np.zeros((0, cols), dtype=np.int64)
    typical = max(float(np.median(households)), 1.0)
    guess = min(n, math.ceil(2.0 * reach / typical) + 1) if math.isfinite(reach) else n
    for r in (guess, n):
        if r < n:
            rows = np.argpartition(cost, r - 1, axis=0)[:r]
        else:
            rows = np.repeat(np.arange(n)[:, None], cols, axis=1)
        ranked = np.argsort(np.take_along_axis(cost, rows, axis=0), axis=0, kind="stable")
        rows = np.take_along_axis(rows, ranked, axis=0)
        held = np.cumsum(households[rows], axis=0)
        if r == n or bool((held[-1] >= reach).all()):
            need = np.minimum(reach, held[-1])
            count = min(r, int((held < need).sum(axis=0).max(initial=0)) + 1)
            out: IntArray = rows[:count]
            return out
    raise AssertionError("unreachable: the last pass sorts every row")


#: A centre's near atoms (its own knapsack items) hold this many times the band's upper bound.
_NEAR_REACH = 4.0
#: Atoms of largest multiplier per household made items of every centre.
_HOT = 32
#: Weight of the newest iterate in the smoothed centre scores.
_SMOOTH = 0.1
#: Subgradient iterations given at a time to the weakest unit count.
_CHUNK = 25
#: Step factor of the first iterations (Polyak's step is this times the gap over the norm).
_FIRST_STEP = 2.0
#: Iterations without improvement after which the step is halved.
_STALL = 15
#: Deflection of the subgradient once the step has first been halved (Camerini, Fratta and
#: Maffioli 1975, their factor 1.5): the new direction adds ``beta`` times the last one when the
#: two point against each other, so the iterates stop zig-zagging. Measured by iterations (so
#: independent of the machine) on the three Ottawa neighbourhoods with 15 units, from 312.4 to
#: 314.5 after 1,500 (the LP relaxation is 315.8), on Centretown with 9 units from 279.2 to 280.8
#: after 800; within 0.4 of the plain ascent or above it on the synthetic 1,000 and 3,000 atoms.
#: Deflecting from the first iteration reached 315.4 on the neighbourhoods but lagged for the
#: first few hundred iterations, which short budgets cannot afford.
_DEFLECT = 1.5


class _Ascent:
    """Resumable subgradient ascent on ``L_k(mu)`` (``k=None``: on the smallest over k).

    Polyak steps towards the plan's cost, halved after :data:`_STALL`
    iterations without improvement, along the subgradient deflected by the
    last direction once the step has first been halved (:data:`_DEFLECT`).
    Keeps the best value, the bounds per k and the multipliers at the best
    iterate, and centre scores smoothed over all iterates; ``done`` once the
    step has shrunk to nothing or the subgradient vanishes.
    """

    def __init__(self, lag: _Lagrangian, mu: FloatArray, k: int | None, upper: float | None) -> None:
        self.lag, self.mu, self.k, self.upper = lag, mu, k, upper
        self.best_val = -np.inf
        self.best_per_k: dict[int, float] = {}
        self.best_mu = mu
        self.score = np.zeros(lag.m)
        self.step = _FIRST_STEP
        self.stall = 0
        self.direction: FloatArray | None = None
        self.iterations = 0
        self.done = False
        self._cells = LAGRANGIAN_CELL * lag.m * max(1, lag.items)

    def run(self, n_iter: int, deadline: float, clock: Clock) -> None:
        """At most ``n_iter`` more iterations, stopping at ``deadline`` of ``clock``."""
        lag = self.lag
        for _ in range(n_iter):
            if self.done:
                return
            per_k, value, grad, kk = lag.evaluate(self.mu, self.k)
            clock.charge(self._cells)
            self.iterations += 1
            cur = per_k[kk]
            if not np.isfinite(cur):
                self.best_val, self.best_per_k, self.done = cur, per_k, True
                return
            # Centre scores are smoothed over the iterations: the multipliers oscillate,
            # and so would the relaxation's best centres.
            finite = np.isfinite(value)
            worst = float(value[finite].max()) + 1.0 if finite.any() else 0.0
            now = -np.where(finite, value, worst)
            self.score = now if self.iterations == 1 else (1.0 - _SMOOTH) * self.score + _SMOOTH * now
            if not np.isfinite(self.best_val) or cur > self.best_val + 1e-9 * max(1.0, abs(self.best_val)):
                self.best_val, self.stall, self.best_per_k, self.best_mu = cur, 0, dict(per_k), self.mu
            else:
                self.stall += 1
                if self.stall >= _STALL:
                    self.step, self.stall = self.step / 2.0, 0
            norm = float(grad @ grad)
            if norm < 1e-12 or self.step < 1e-4:
                self.done = True
                return
            best = self.best_val
            goal = best + 0.05 * abs(best) + 1.0
            if self.upper is not None and self.upper > best:
                goal = self.upper
            direction = grad
            last = self.direction
            halved = self.step < _FIRST_STEP
            if halved and last is not None and (dd := float(last @ last)) > 0.0:
                direction = grad + max(0.0, -_DEFLECT * float(grad @ last) / dd) * last
                norm = float(direction @ direction)
            self.direction = direction
            self.mu = self.mu + self.step * (goal - cur) / norm * direction
            if clock.now() > deadline:
                return
