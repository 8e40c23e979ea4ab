"""Atoms that every plan must put in one unit: cut atoms and the small pieces behind them.

If removing atom ``a`` cuts off a piece ``C`` of its component holding fewer
households than the band's lower bound, no unit can lie inside ``C`` (it would
be too small), and a unit reaching into ``C`` must pass through ``a`` (units
are contiguous). So every atom of ``C`` shares ``a``'s unit. When ``a`` and
the pieces forced onto it hold more households than the band's upper bound, no
plan keeps every unit in the band; the solver then keeps the group as one unit,
flagged, like an atom above the band (:func:`redistrict.solve.solve`).

The pieces are found for all cut atoms at once with one depth-first search
(Hopcroft and Tarjan 1973: a child ``c`` of ``a`` in the search tree with
``low[c] >= disc[a]`` roots a piece of the graph without ``a``), in time linear
in the size of the graph.
"""

from __future__ import annotations

import numpy as np

from redistrict.problem import IntArray, Problem

__all__ = ["forced_groups"]


def forced_groups(problem: Problem, keep: np.ndarray) -> list[IntArray]:
    """Groups of atoms that share one unit in every plan and exceed the band.

    Parameters
    ----------
    problem : Problem
        The instance (its band's lower and upper bounds are used).
    keep : array of bool
        Atoms to consider (the others are treated as absent).

    Returns
    -------
    list of ndarray of int
        Each group's atom positions (sorted), every group holding more
        households than the band's upper bound; groups are disjoint and listed
        by their smallest atom.
    """
    lo, hi = problem.band.lo, problem.band.hi
    if lo <= 0:
        return []
    n = problem.n
    h = problem.households.astype(np.int64)
    adj = problem.adjacency
    disc = np.full(n, -1, dtype=np.int64)
    low = np.zeros(n, dtype=np.int64)
    size = np.zeros(n, dtype=np.int64)
    load = np.zeros(n, dtype=np.int64)
    parent = np.full(n, -1, dtype=np.int64)
    order: list[int] = []  # preorder: a subtree is a contiguous run of it
    forced = _UnionFind(n)
    for root in np.flatnonzero(keep).tolist():
        if disc[root] >= 0:
            continue
        start = len(order)
        _dfs(root, adj, keep, disc, low, parent, order)
        members = order[start:]
        for v in reversed(members):  # children before parents
            size[v] += 1
            load[v] += h[v]
            if parent[v] >= 0:
                size[parent[v]] += size[v]
                load[parent[v]] += load[v]
        total = int(load[root])
        for a in members:
            pieces = [c for c in adj[a] if parent[c] == a and low[c] >= disc[a]]
            for c in pieces:
                if load[c] < lo:
                    for w in order[disc[c] : disc[c] + size[c]]:
                        forced.union(a, w)
            # Without a, the atoms outside its separated subtrees form one more piece.
            rest = total - int(h[a]) - sum(int(load[c]) for c in pieces)
            if a != root and pieces and rest < lo:
                apart = {a}
                for c in pieces:
                    apart.update(order[disc[c] : disc[c] + size[c]])
                for w in members:
                    if w not in apart:
                        forced.union(a, w)
    groups: dict[int, list[int]] = {}
    for v in np.flatnonzero(keep).tolist():
        groups.setdefault(forced.find(v), []).append(v)
    out = [np.array(sorted(g), dtype=np.int64) for g in groups.values() if len(g) > 1]
    out = [g for g in out if int(h[g].sum()) > hi]
    out.sort(key=lambda g: int(g[0]))
    return out


def _dfs(
    root: int,
    adj: list[list[int]],
    keep: np.ndarray,
    disc: np.ndarray,
    low: np.ndarray,
    parent: np.ndarray,
    order: list[int],
) -> None:
    """Iterative depth-first search filling discovery times (= preorder index), low points, parents."""
    disc[root] = low[root] = len(order)
    order.append(root)
    stack = [(root, iter(adj[root]))]
    while stack:
        v, it = stack[-1]
        advanced = False
        for w in it:
            if not keep[w]:
                continue
            if disc[w] < 0:
                parent[w] = v
                disc[w] = low[w] = len(order)
                order.append(w)
                stack.append((w, iter(adj[w])))
                advanced = True
                break
            if w != parent[v]:
                low[v] = min(low[v], disc[w])
        if not advanced:
            stack.pop()
            if parent[v] >= 0:
                low[parent[v]] = min(low[parent[v]], low[v])


class _UnionFind:
    """Disjoint sets of atoms (path halving)."""

    def __init__(self, n: int) -> None:
        self.up = list(range(n))

    def find(self, v: int) -> int:
        up = self.up
        while up[v] != v:
            up[v] = up[up[v]]
            v = up[v]
        return v

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.up[max(ra, rb)] = min(ra, rb)
