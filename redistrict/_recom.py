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

from redistrict._clock import Clock, WallClock
from redistrict._trees import random_tree, region_edges, subtree_sums
from redistrict.problem import FloatArray, IntArray, Problem

__all__ = ["adjacent_groups", "recombine"]

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
    max_size: int = 3,
) -> IntArray:
    """Improve a plan by re-splitting groups of adjacent units along spanning-tree cuts.

    Pairs of adjacent units first, then (``max_size=3``) chains of three units,
    each re-split into as many units along one or two edges of random
    spanning trees of the merged region.

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
        Spanning trees drawn per group and round.
    rounds : int
        Passes over all groups of one size at most (a pass without improvement stops).
    max_size : int
        Largest group re-split together (2 or 3).

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
    for size in range(2, max_size + 1):
        stale: set[tuple[int, ...]] = set()
        for _ in range(rounds):
            improved = False
            for group in adjacent_groups(problem, labels, size):
                if clock.now() >= deadline:
                    return labels
                if group in stale:
                    continue
                region = np.flatnonzero(np.isin(labels, group))
                found = _best_split(problem, region, size, rng, trees, clock)
                if found is not None and found[0] < sum(cost[u] for u in group) - tol:
                    total, part, costs = found
                    for idx, u in enumerate(group):
                        labels[region[part == idx]] = u
                        cost[u] = costs[idx]
                    improved = True
                    stale = {g for g in stale if not set(g) & set(group)}
                    log.debug("recombination of units %s -> %.1f", group, total / problem.scale)
                else:
                    stale.add(group)
            if not improved:
                break
    return labels


def adjacent_groups(problem: Problem, labels: IntArray, size: int) -> list[tuple[int, ...]]:
    """Groups of adjacent units, longest shared boundary first.

    Parameters
    ----------
    problem : Problem
        The instance.
    labels : array of int
        Unit per atom (-1 = not planned).
    size : {2, 3}
        Pairs of adjacent units, or chains of three (a unit and two of its
        neighbours, scored by the longer of its chains when the three units
        meet each other).

    Returns
    -------
    list of tuple of int
        Sorted unit ids per group, by decreasing shared boundary length (ties by ids).
    """
    e = problem.edges
    ua, ub = labels[e[:, 0]], labels[e[:, 1]]
    keep = (ua != ub) & (ua >= 0) & (ub >= 0)
    lo, hi = np.minimum(ua, ub)[keep], np.maximum(ua, ub)[keep]
    shared: dict[tuple[int, int], float] = {}
    for x, y, ln in zip(lo.tolist(), hi.tolist(), problem.edge_length[keep].tolist(), strict=True):
        shared[(x, y)] = shared.get((x, y), 0.0) + ln
    pairs = sorted(shared, key=lambda p: (-shared[p], p))
    if size == 2:
        return [tuple(p) for p in pairs]
    nbrs: dict[int, list[int]] = {}
    for x, y in pairs:
        nbrs.setdefault(x, []).append(y)
        nbrs.setdefault(y, []).append(x)
    chains: dict[tuple[int, ...], float] = {}
    for mid in sorted(nbrs):
        around = nbrs[mid]
        for i, x in enumerate(around):
            for y in around[i + 1 :]:
                key = tuple(sorted((x, mid, y)))
                length = shared[(min(x, mid), max(x, mid))] + shared[(min(y, mid), max(y, mid))]
                chains[key] = max(chains.get(key, 0.0), length)
    return sorted(chains, key=lambda c: (-chains[c], c))


def _best_split(
    problem: Problem, region: IntArray, parts: int, rng: np.random.Generator, trees: int, clock: Clock
) -> tuple[float, IntArray, list[float]] | None:
    """Cheapest split of ``region`` into ``parts`` (2 or 3) units in the band along tree edges.

    Returns the total cost, the part (0..parts-1) of each atom of ``region`` and
    each part's cost, or None when no tree had a cut in the band.
    """
    m = len(region)
    if m < parts:
        return None
    a, b, elen = region_edges(problem, region)
    hh = problem.households[region].astype(np.int64)
    total = int(hh.sum())
    band = problem.band
    c = problem.assign_cost[np.ix_(region, region)]
    best: tuple[float, IntArray, list[float]] | None = None

    def in_band(load: np.ndarray) -> np.ndarray:
        out: np.ndarray = (load >= band.lo) & (load <= band.hi)
        return out

    for _ in range(trees):
        order, parent = random_tree(m, a, b, elen, rng, depth_first=True)
        clock.charge(_TREE_ATOM * m)
        if len(order) < m:
            return None  # the units do not form one connected region
        sub, size = subtree_sums(hh, order, parent)
        # In DFS preorder a subtree is a contiguous run starting at its root.
        rank = np.empty(m, dtype=np.int64)
        rank[order] = np.arange(m)
        cut = in_band(sub)
        cut[order[0]] = False
        if parts == 2:
            cuts = np.flatnonzero(cut & in_band(total - sub))
            if not len(cuts):
                continue
            first = _subtrees(cuts, order, rank, size, m)
            part = np.stack([first, ~first])
        else:
            v_all = np.flatnonzero(cut)
            others = np.setdiff1d(np.arange(m), order[:1])
            if not len(v_all):
                continue
            # anc[i, j]: others[j] is an ancestor of v_all[i]; desc[i, j]: a descendant.
            rv, rw = rank[v_all], rank[others]
            anc = (rw[None, :] <= rv[:, None]) & (rv[:, None] < (rw + size[others])[None, :])
            desc = (rv[:, None] <= rw[None, :]) & (rw[None, :] < (rv + size[v_all])[:, None])
            load_b = np.where(anc, sub[others][None, :] - sub[v_all][:, None], sub[others][None, :])
            rest = total - sub[v_all][:, None] - load_b
            ok = ~desc & in_band(load_b) & in_band(rest)
            iv, iw = np.nonzero(ok)
            if not len(iv):
                continue
            if len(iv) > _MAX_CUTS:
                pick = np.sort(rng.choice(len(iv), _MAX_CUTS, replace=False))
                iv, iw = iv[pick], iw[pick]
            first = _subtrees(v_all[iv], order, rank, size, m)
            second = _subtrees(others[iw], order, rank, size, m) & ~first
            part = np.stack([first, second, ~(first | second)])
        clock.charge(_CELL * parts * part.shape[1] * m * m)
        dev_w = problem.weights.deviation
        costs = np.stack([_side_costs(c, part[p], hh, band.goal, dev_w) for p in range(parts)])
        totals = costs.sum(axis=0)
        i = int(np.argmin(totals))
        if best is None or totals[i] < best[0]:
            label = np.argmax(part[:, i, :], axis=0).astype(np.int64)
            best = (float(totals[i]), label, [float(x) for x in costs[:, i]])
    return best


#: Two-cut splits of three units evaluated per spanning tree at most.
_MAX_CUTS = 400


def _subtrees(roots: IntArray, order: IntArray, rank: IntArray, size: IntArray, m: int) -> np.ndarray:
    """Boolean masks (one row per root) of the atoms in each root's subtree."""
    masks = np.zeros((len(roots), m), dtype=bool)
    for r, v in enumerate(roots.tolist()):
        masks[r, order[rank[v] : rank[v] + size[v]]] = True
    return masks


def _side_costs(c: FloatArray, masks: np.ndarray, hh: IntArray, goal: float, dev_w: float) -> FloatArray:
    """Objective of each side ``masks[r]``: best centre inside it plus the deviation cost."""
    col = masks.astype(float) @ c  # (cuts, m): cost of the side if centred on each atom
    col = np.where(masks, col, np.inf)
    load = masks @ hh
    out: FloatArray = col.min(axis=1) + dev_w * np.abs(load - goal)
    return out
