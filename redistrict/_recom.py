"""Tree recombination: re-split two adjacent units along the best spanning-tree cut.

The move of ReCom (DeFord, Duchin and Solomon 2021) used greedily: merge two
adjacent units, draw random spanning trees of the merged region, and evaluate
*every* cut edge of every tree that leaves both sides in the band. The best cut
(by the objective: best centre of each side plus the deviation from the target)
replaces the pair when it is cheaper. Both sides of a tree cut are contiguous,
so plans stay valid. Evaluating all cuts of a tree is one matrix product, so a
pair costs milliseconds where an exact re-optimisation costs seconds: this is
the fast first stage of the neighbourhood search.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import depth_first_order, minimum_spanning_tree

from redistrict._clock import Clock, WallClock
from redistrict.problem import FloatArray, IntArray, Problem

__all__ = ["recombine"]

log = logging.getLogger(__name__)

#: Reference seconds per (cut x atom x atom) cell evaluated (see :mod:`redistrict._clock`).
_CELL = 2.0e-9
#: Reference seconds per atom of a spanning tree drawn.
_TREE_ATOM = 4.0e-6


def recombine(
    problem: Problem,
    labels: IntArray,
    *,
    deadline: float,
    clock: Clock | None = None,
    seed: int = 0,
    trees: int = 30,
    rounds: int = 20,
) -> IntArray:
    """Improve a plan by re-splitting pairs of adjacent units along spanning-tree cuts.

    Parameters
    ----------
    problem : Problem
        The instance.
    labels : array of int
        Unit per atom (-1 = not planned), every unit contiguous; not modified.
    deadline : float
        Time of ``clock`` at which to stop.
    clock : Clock, optional
        Clock of ``deadline`` (default: wall clock).
    seed : int
        Seed of the random spanning trees.
    trees : int
        Spanning trees drawn per pair and round.
    rounds : int
        Passes over all adjacent pairs at most (a pass without improvement stops).

    Returns
    -------
    ndarray of int
        The improved labels (same unit numbers; a unit never disappears).
    """
    clock = clock or WallClock()
    rng = np.random.default_rng(seed)
    labels = labels.copy()
    cost = {int(u): problem.unit_cost(np.flatnonzero(labels == u))[0] for u in np.unique(labels[labels >= 0])}
    tol = 1e-9 * max(sum(cost.values()), 1.0)
    stale: set[tuple[int, int]] = set()
    for _ in range(rounds):
        improved = False
        for a, b in _pairs(problem, labels):
            if clock.now() >= deadline:
                return labels
            if (a, b) in stale:
                continue
            region = np.flatnonzero((labels == a) | (labels == b))
            found = _best_cut(problem, region, rng, trees, clock)
            if found is not None and found[0] < cost[a] + cost[b] - tol:
                total, side, ca, cb = found
                labels[region[side]] = a
                labels[region[~side]] = b
                cost[a], cost[b] = ca, cb
                improved = True
                stale = {p for p in stale if a not in p and b not in p}
                log.debug("recombination of units %d and %d -> %.1f", a, b, total / problem.scale)
            else:
                stale.add((a, b))
        if not improved:
            break
    return labels


def _pairs(problem: Problem, labels: IntArray) -> list[tuple[int, int]]:
    """Adjacent unit pairs, longest shared boundary first (ties by ids)."""
    e = problem.edges
    ua, ub = labels[e[:, 0]], labels[e[:, 1]]
    keep = (ua != ub) & (ua >= 0) & (ub >= 0)
    lo, hi = np.minimum(ua, ub)[keep], np.maximum(ua, ub)[keep]
    shared: dict[tuple[int, int], float] = {}
    for x, y, ln in zip(lo.tolist(), hi.tolist(), problem.edge_length[keep].tolist(), strict=True):
        shared[(x, y)] = shared.get((x, y), 0.0) + ln
    return sorted(shared, key=lambda p: (-shared[p], p))


def _best_cut(
    problem: Problem, region: IntArray, rng: np.random.Generator, trees: int, clock: Clock
) -> tuple[float, np.ndarray, float, float] | None:
    """Cheapest split of ``region`` into two units in the band along a spanning-tree edge."""
    m = len(region)
    if m < 2:
        return None
    pos = np.full(problem.n, -1, dtype=np.int64)
    pos[region] = np.arange(m)
    e = problem.edges
    inside = (pos[e[:, 0]] >= 0) & (pos[e[:, 1]] >= 0)
    a, b = pos[e[inside, 0]], pos[e[inside, 1]]
    length = np.hypot(*(problem.xy[region[a]] - problem.xy[region[b]]).T)
    mean_len = max(float(length.mean()), 1e-9) if len(length) else 1.0
    hh = problem.households[region].astype(np.int64)
    total = int(hh.sum())
    band = problem.band
    dev_w = problem.weights.deviation
    c = problem.assign_cost[np.ix_(region, region)]
    best: tuple[float, np.ndarray, float, float] | None = None
    seen: set[bytes] = set()
    for _ in range(trees):
        w = rng.random(len(a)) + 0.25 * length / mean_len + 1e-6
        tree = minimum_spanning_tree(coo_matrix((w, (a, b)), shape=(m, m)).tocsr())
        order, parent = depth_first_order(tree, 0, directed=False, return_predecessors=True)
        clock.charge(_TREE_ATOM * m)
        if len(order) < m:
            return None  # the two units do not form one connected region
        sub = hh.copy()
        size = np.ones(m, dtype=np.int64)
        for v in order[:0:-1]:
            sub[parent[v]] += sub[v]
            size[parent[v]] += size[v]
        ok = (sub >= band.lo) & (sub <= band.hi) & (total - sub >= band.lo) & (total - sub <= band.hi)
        ok[order[0]] = False
        cuts = np.flatnonzero(ok)
        if not len(cuts):
            continue
        # In DFS preorder a subtree is a contiguous run starting at its root.
        rank = np.empty(m, dtype=np.int64)
        rank[order] = np.arange(m)
        masks = np.zeros((len(cuts), m), dtype=bool)
        for r, v in enumerate(cuts.tolist()):
            masks[r, order[rank[v] : rank[v] + size[v]]] = True
        keys = [mk.tobytes() for mk in masks]
        fresh = [i for i, k in enumerate(keys) if k not in seen]
        seen.update(keys)
        if not fresh:
            continue
        masks = masks[fresh]
        clock.charge(_CELL * len(masks) * m * m)
        side_a = _side_costs(c, masks, hh, band.goal, dev_w)
        side_b = _side_costs(c, ~masks, hh, band.goal, dev_w)
        tot = side_a + side_b
        i = int(np.argmin(tot))
        if best is None or tot[i] < best[0]:
            best = (float(tot[i]), masks[i].copy(), float(side_a[i]), float(side_b[i]))
    return best


def _side_costs(c: FloatArray, masks: np.ndarray, hh: IntArray, goal: float, dev_w: float) -> FloatArray:
    """Objective of each side ``masks[r]``: best centre inside it plus the deviation cost."""
    col = masks.astype(float) @ c  # (cuts, m): cost of the side if centred on each atom
    col = np.where(masks, col, np.inf)
    load = masks @ hh
    out: FloatArray = col.min(axis=1) + dev_w * np.abs(load - goal)
    return out
