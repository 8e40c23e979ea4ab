"""Fast feasible plans by recursive spanning-tree bisection.

A region that must hold ``k`` units is cut along one edge of a random spanning
tree so that both sides can hold a whole number of units in the band; both
sides are then cut again. This is the bipartition step of ReCom (DeFord,
Duchin and Solomon 2021) used as a constructor: it yields contiguous units
inside the band whenever a suitable cut exists, which the optimiser then
improves.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

from redistrict.problem import IntArray, Problem

__all__ = ["bisect_plan"]

#: Spanning trees drawn for one region before giving the problem back to the parent cut.
_TRIES_PER_LEVEL = 25


def _tree_cuts(
    problem: Problem, region: IntArray, rng: np.random.Generator
) -> tuple[IntArray, IntArray, IntArray]:
    """Random spanning tree of ``region``: BFS order, parents and subtree households."""
    local = {int(v): i for i, v in enumerate(region)}
    e = problem.edges
    mask = np.isin(e[:, 0], region) & np.isin(e[:, 1], region)
    sub = e[mask]
    a = np.array([local[int(v)] for v in sub[:, 0]], dtype=np.int64)
    b = np.array([local[int(v)] for v in sub[:, 1]], dtype=np.int64)
    # Random weights biased towards short, minor-road edges keep pieces compact.
    length = np.hypot(*(problem.xy[sub[:, 0]] - problem.xy[sub[:, 1]]).T)
    mean_len = float(length.mean()) if len(length) else 1.0
    w = rng.random(len(a)) + 0.25 * length / max(mean_len, 1e-9) + 1e-6
    m = len(region)
    tree = minimum_spanning_tree(coo_matrix((w, (a, b)), shape=(m, m)).tocsr())
    order, parent = breadth_first_order(tree, 0, directed=False, return_predecessors=True)
    hh = problem.households[region].astype(np.int64).copy()
    for v in order[::-1][:-1]:
        hh[parent[v]] += hh[v]
    return order, parent, hh


def _split(
    problem: Problem, region: IntArray, k: int, rng: np.random.Generator, budget: list[int]
) -> list[IntArray] | None:
    band = problem.band
    total = int(problem.households[region].sum())
    if k == 1:
        return [region] if band.lo <= total <= band.hi else None
    # A few trees per level: a region that cannot be cut sends the search back up,
    # where the parent tries another cut, instead of exhausting the whole budget.
    local = 0
    while budget[0] > 0 and local < _TRIES_PER_LEVEL:
        budget[0] -= 1
        local += 1
        order, parent, sub_hh = _tree_cuts(problem, region, rng)
        if len(order) < len(region):
            return None  # region is not connected
        best: tuple[float, int, int] | None = None
        for v in order[1:]:
            hs = int(sub_hh[v])
            for k1 in (k // 2, k - k // 2, *range(1, k)):
                k2 = k - k1
                if k1 * band.lo <= hs <= k1 * band.hi and k2 * band.lo <= total - hs <= k2 * band.hi:
                    score = abs(hs / k1 - band.goal) + abs((total - hs) / k2 - band.goal)
                    score += 0.0 if k1 in (k // 2, k - k // 2) else band.goal
                    if best is None or score < best[0]:
                        best = (score, int(v), k1)
                    break
        if best is None:
            continue
        _, v, k1 = best
        # Collect the subtree below v.
        children: dict[int, list[int]] = {}
        for w in order[1:]:
            children.setdefault(int(parent[w]), []).append(int(w))
        inside = [v]
        stack = [v]
        while stack:
            x = stack.pop()
            for c in children.get(x, []):
                inside.append(c)
                stack.append(c)
        mask = np.zeros(len(region), bool)
        mask[inside] = True
        left = _split(problem, region[mask], k1, rng, budget)
        right = _split(problem, region[~mask], k - k1, rng, budget) if left is not None else None
        if left is not None and right is not None:
            return left + right
    return None


def bisect_plan(
    problem: Problem,
    region: IntArray,
    k: int,
    *,
    seed: int = 0,
    tries: int | None = None,
) -> IntArray | None:
    """Partition a connected region into ``k`` contiguous units in the band.

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions forming one connected piece.
    k : int
        Number of units wanted.
    seed : int
        Seed of the random spanning trees.
    tries : int, optional
        Spanning trees drawn in all (over every level of the recursion) before
        giving up; default ``100 + 20 k``.

    Returns
    -------
    ndarray of int or None
        Unit label (0..k-1) per atom of ``region``, or None when no plan was found.
    """
    rng = np.random.default_rng(seed)
    budget = [100 + 20 * k if tries is None else tries]
    parts = _split(problem, np.asarray(region, dtype=np.int64), k, rng, budget)
    if parts is None:
        return None
    pos = {int(v): i for i, v in enumerate(region)}
    labels = np.full(len(region), -1, dtype=np.int64)
    # Number units by their smallest atom so labels do not depend on the cut order.
    for u, part in enumerate(sorted(parts, key=lambda p: int(p.min()))):
        labels[[pos[int(v)] for v in part]] = u
    return labels
