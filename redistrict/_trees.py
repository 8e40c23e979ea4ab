"""Random spanning trees of a region: the shared step of construction and recombination.

Both the constructor (:mod:`redistrict._construct`) and tree recombination
(:mod:`redistrict._recom`) cut random spanning trees of a set of atoms. The
trees are minimum spanning trees under random edge weights biased towards
short edges, so the pieces a cut leaves tend to be compact.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, depth_first_order, minimum_spanning_tree

from redistrict.problem import FloatArray, IntArray, Problem

__all__ = ["LENGTH_BIAS", "random_tree", "region_edges", "subtree_sums"]

#: Weight of the edge length in the random spanning-tree weights (short edges first: compact units).
LENGTH_BIAS = 0.25


def region_edges(problem: Problem, region: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Edges between atoms of ``region`` as region-local end points, and their relative lengths.

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions.

    Returns
    -------
    ea, eb : ndarray of int
        End points as indices into ``region``.
    elen : ndarray of float
        Straight length between the atom centres divided by the mean over these edges.
    """
    pos = np.full(problem.n, -1, dtype=np.int64)
    pos[region] = np.arange(len(region))
    e = problem.edges
    inside = (pos[e[:, 0]] >= 0) & (pos[e[:, 1]] >= 0)
    length = np.hypot(*(problem.xy[e[inside, 0]] - problem.xy[e[inside, 1]]).T)
    mean_len = float(length.mean()) if len(length) else 1.0
    return pos[e[inside, 0]], pos[e[inside, 1]], length / max(mean_len, 1e-9)


def random_tree(
    m: int,
    ea: IntArray,
    eb: IntArray,
    elen: FloatArray,
    rng: np.random.Generator,
    *,
    depth_first: bool = False,
) -> tuple[IntArray, IntArray]:
    """A random spanning tree of ``m`` nodes, rooted at node 0.

    Parameters
    ----------
    m : int
        Number of nodes.
    ea, eb : array of int
        Edges.
    elen : array of float
        Relative edge lengths (see :func:`region_edges`).
    rng : numpy.random.Generator
        Source of the random weights.
    depth_first : bool
        Return the nodes in depth-first preorder (every subtree is then a
        contiguous run starting at its root) instead of breadth-first order.

    Returns
    -------
    order : ndarray of int
        Nodes reached from node 0 (fewer than ``m`` when the graph is not connected).
    parent : ndarray of int
        Parent of each node in the tree (negative for the root and unreached nodes).
    """
    w = rng.random(len(ea)) + LENGTH_BIAS * elen + 1e-6
    tree = minimum_spanning_tree(coo_matrix((w, (ea, eb)), shape=(m, m)).tocsr())
    walk = depth_first_order if depth_first else breadth_first_order
    order, parent = walk(tree, 0, directed=False, return_predecessors=True)
    return order.astype(np.int64), parent.astype(np.int64)


def subtree_sums(weights: IntArray, order: IntArray, parent: IntArray) -> tuple[IntArray, IntArray]:
    """Sum of ``weights`` and number of nodes in the subtree of each node (the node included).

    Parameters
    ----------
    weights : array of int
        Weight per node.
    order : array of int
        Tree nodes, every parent before its children (as :func:`random_tree` returns them).
    parent : array of int
        Parent of each node.

    Returns
    -------
    sums, counts : ndarray of int
    """
    total = np.asarray(weights, dtype=np.int64).tolist()
    count = [1] * len(total)
    par = parent.tolist()
    for v in order[:0:-1].tolist():
        p = par[v]
        total[p] += total[v]
        count[p] += count[v]
    return np.asarray(total, dtype=np.int64), np.asarray(count, dtype=np.int64)
