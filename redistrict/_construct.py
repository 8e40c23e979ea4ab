"""Fast feasible plans by recursive spanning-tree splitting, with local repair.

A region that must hold ``k`` units is cut along one edge of a random spanning
tree so that both sides can hold a whole number of units in the band; both
sides are then cut again. This is the bipartition step of ReCom (DeFord,
Duchin and Solomon 2021) used as a constructor: it yields contiguous units
inside the band whenever a suitable cut exists, which the optimiser then
improves.

Three things make it reliable on lumpy instances:

* **Roomy cuts.** Each side of a cut gets a number of units in proportion to
  its households, and of all the feasible cuts of a tree the one kept leaves
  the sides that must still be cut an average unit size as far inside the band
  as possible (a side holding one unit in the band is finished and needs no
  room). Most cuts therefore peel a single unit off, as GerryChain's
  ``recursive_tree_part`` does, choosing it so that the rest stays easy to cut.
* **Backtracking.** A side that cannot be cut after a few trees makes its
  parent draw another tree (a depth-first search on an explicit stack).
* **Repair.** When the first search runs out of trees, a rough plan is built
  with the least size violation each cut allows, and every unit outside the
  band is fixed by re-splitting it together with its neighbouring units (a
  growing ring of them) into as many units, all in the band.

Everything works on the region's own edge list, computed once and narrowed
for each part, so a tree costs time linear in the part's size, and the search
stack holds ``O(n log k)`` numbers; no ``n x n`` array is built.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from redistrict._trees import random_tree, region_edges, subtree_sums
from redistrict.problem import Band, FloatArray, IntArray, Problem

__all__ = ["bisect_plan", "default_tries", "rebalance"]

log = logging.getLogger(__name__)

BoolArray = npt.NDArray[np.bool_]

#: Spanning trees drawn for one part before giving the problem back to the parent cut.
_TRIES_PER_LEVEL = 25
#: Spanning trees drawn for one part of the rough plan before settling for the least violation.
_ROUGH_TRIES = 8
#: Trees for the first strict search (plus per unit) before repairing a rough plan.
_FIRST_TRIES = 50
_FIRST_TRIES_PER_UNIT = 5
#: Trees for re-splitting a ring of units in the repair (plus per unit of the ring).
_REPAIR_TRIES = 20
_REPAIR_TRIES_PER_UNIT = 5
#: Rings of neighbouring units tried around a unit outside the band.
_REPAIR_RINGS = 4


@dataclass(frozen=True)
class _Piece:
    """A part of the region and the edges inside it.

    Attributes
    ----------
    nodes : ndarray of int
        Region-local atom indices.
    ea, eb : ndarray of int
        Edge end points as indices into ``nodes``.
    elen : ndarray of float
        Edge lengths divided by the region's mean edge length.
    """

    nodes: IntArray
    ea: IntArray
    eb: IntArray
    elen: FloatArray

    def part(self, mask: BoolArray) -> _Piece:
        """The piece made of the nodes where ``mask`` is true, with its inner edges."""
        keep = mask[self.ea] & mask[self.eb]
        index = np.cumsum(mask, dtype=np.int64) - 1
        return _Piece(self.nodes[mask], index[self.ea[keep]], index[self.eb[keep]], self.elen[keep])


@dataclass(frozen=True)
class _Cut:
    """A tree edge to cut: the subtree below ``node`` gets ``units`` units."""

    node: int
    units: int
    violation: int


@dataclass
class _Frame:
    """A part being cut in the strict search.

    While its first side (the one with fewer units) is searched, a frame holds
    its part and the second side; once the first side is done it holds only
    that side's units, and gets its part back from the second side's atoms if
    that side fails. So the stack holds ``O(n log k)`` numbers even when the
    search peels units off one at a time.

    Attributes
    ----------
    piece : _Piece or None
        The part (None while its second side is searched).
    k : int
        Units it must hold.
    tries : int
        Trees drawn for it so far.
    second : tuple, optional
        Second side of the current cut and its units, while the first is searched.
    left : list of ndarray, optional
        Units found for the first side, while the second is searched.
    waiting : bool
        Whether a side has just been answered.
    """

    piece: _Piece | None
    k: int
    tries: int = 0
    second: tuple[_Piece, int] | None = None
    left: list[IntArray] | None = None
    waiting: bool = False


class _Splitter:
    """Recursive spanning-tree splitting of one region (all indices region-local)."""

    def __init__(
        self, whole: _Piece, households: IntArray, band: Band, rng: np.random.Generator, budget: int
    ) -> None:
        self.whole = whole
        self.h = households
        self.lo = int(band.lo)
        self.hi = int(band.hi)
        self.rng = rng
        self.budget = budget
        self.cap = budget

    def _violation(self, load: int, units: int) -> int:
        return max(0, units * self.lo - load) + max(0, load - units * self.hi)

    # ----------------------------------------------------------- one tree
    def _tree(self, piece: _Piece) -> tuple[IntArray, IntArray]:
        """BFS order and parents of a random spanning tree of the (connected) ``piece``."""
        self.budget -= 1
        return random_tree(len(piece.nodes), piece.ea, piece.eb, piece.elen, self.rng)

    def _subtree_sums(self, piece: _Piece, order: IntArray, parent: IntArray) -> tuple[IntArray, IntArray]:
        """Households and atoms in the subtree of each node (the node included)."""
        return subtree_sums(self.h[piece.nodes], order, parent)

    def _best_cut(
        self, piece: _Piece, k: int, order: IntArray, parent: IntArray, *, strict: bool
    ) -> _Cut | None:
        """Best edge of the tree to cut for ``k`` units (None if ``strict`` and none is feasible).

        Each side gets units in proportion to its households, within what it can
        hold. Feasible cuts (both sides can hold their units in the band) are
        ranked by the room they leave; without ``strict``, when no cut is
        feasible, cuts are ranked by their size violation, then room.
        """
        lo, hi = self.lo, self.hi
        size = len(piece.nodes)
        sub_h, sub_n = self._subtree_sums(piece, order, parent)
        cand = order[1:]
        s, c = sub_h[cand], sub_n[cand]
        total = int(sub_h[order[0]])
        r = total - s
        # Every unit needs an atom; then k1 * lo <= s <= k1 * hi and likewise for the rest.
        a_lo = np.maximum(1, k - (size - c))
        a_hi = np.minimum(c, k - 1)
        f_lo = np.maximum(np.maximum(a_lo, -(-s // hi)), k - (r // lo if lo > 0 else k))
        f_hi = np.minimum(a_hi, k - (-(-r // hi)))
        if lo > 0:
            f_hi = np.minimum(f_hi, s // lo)
        feasible = f_lo <= f_hi
        if not feasible.any():
            if strict:
                return None
            usable = a_lo <= a_hi
            if not usable.any():
                return None
            f_lo, f_hi = a_lo, a_hi
            pick = np.flatnonzero(usable)
        else:
            pick = np.flatnonzero(feasible)
        s_p = s[pick].astype(np.float64)
        ideal = np.rint(k * s_p / max(total, 1))
        k1 = np.clip(ideal, f_lo[pick], f_hi[pick]).astype(np.int64)
        k2 = k - k1
        r_p = total - s_p
        viol = (
            np.maximum(0.0, k1 * lo - s_p)
            + np.maximum(0.0, s_p - k1 * hi)
            + np.maximum(0.0, k2 * lo - r_p)
            + np.maximum(0.0, r_p - k2 * hi)
        )
        half = max((hi - lo) / 2.0, 1e-9)

        def room(load: FloatArray, units: IntArray) -> FloatArray:
            mean = load / units
            out = np.minimum(mean - lo, hi - mean) / half
            # A side holding one unit in the band is finished: it needs no room.
            return np.where((units == 1) & (out >= 0), 1.0, out)

        score = np.minimum(room(s_p, k1), room(r_p, k2))
        best = int(np.lexsort((-score, viol))[0])
        return _Cut(int(cand[pick[best]]), int(k1[best]), int(viol[best]))

    @staticmethod
    def _below(order: IntArray, parent: IntArray, v: int) -> BoolArray:
        """Mask of the nodes in the subtree of ``v``."""
        m = len(order)
        child = order[1:]
        child = child[child != v]
        tree = coo_matrix((np.ones(len(child)), (child, parent[child])), shape=(m, m)).tocsr()
        inside = breadth_first_order(tree, v, directed=False, return_predecessors=False)
        mask = np.zeros(m, dtype=bool)
        mask[inside] = True
        return mask

    # ----------------------------------------------------------- strict search
    def _settle(self, piece: _Piece, k: int) -> tuple[bool, list[IntArray] | None]:
        """Whether a part is settled without a cut, and then its units (None: impossible)."""
        total = int(self.h[piece.nodes].sum())
        if self._violation(total, k) or k > len(piece.nodes):
            return True, None
        return (True, [piece.nodes]) if k == 1 else (False, None)

    def _cut(self, frame: _Frame) -> tuple[_Piece, int] | None:
        """Draw trees for ``frame`` until a feasible cut is found, or its tries run out (None).

        Returns the first side of the cut (fewer units) and keeps the second in the frame.
        """
        piece = frame.piece
        assert piece is not None
        while self.budget > 0 and self.cap > 0 and frame.tries < _TRIES_PER_LEVEL:
            self.cap -= 1
            frame.tries += 1
            order, parent = self._tree(piece)
            cut = self._best_cut(piece, frame.k, order, parent, strict=True)
            if cut is not None:
                below = self._below(order, parent, cut.node)
                sides = [(piece.part(below), cut.units), (piece.part(~below), frame.k - cut.units)]
                first, frame.second = sorted(sides, key=lambda side: side[1])
                return first
        return None

    def _restore(self, nodes: list[IntArray]) -> _Piece:
        """The part of the region made of ``nodes`` (with its edges)."""
        mask = np.zeros(len(self.whole.nodes), dtype=bool)
        for part in nodes:
            mask[part] = True
        return self.whole.part(mask)

    def split(self, piece: _Piece, k: int, cap: int) -> list[IntArray] | None:
        """Units (arrays of region-local indices) of the connected ``piece`` cut into ``k``, or None.

        A depth-first search over cuts, on an explicit stack (no recursion
        limit): a part draws up to ``_TRIES_PER_LEVEL`` trees, cutting the side
        with fewer units first, then the other; when a side cannot be cut, the
        part draws another tree. At most ``cap`` trees are drawn.
        """
        self.cap = cap
        settled, result = self._settle(piece, k)
        if settled:
            return result
        stack = [_Frame(piece, k)]
        failed = piece.nodes  # atoms of the side that failed last
        while stack:
            f = stack[-1]
            child: tuple[_Piece, int] | None = None
            if f.waiting:
                f.waiting = False
                if result is not None and f.left is None:
                    # First side done: search the second, forgetting the part meanwhile.
                    f.left, child, f.second, f.piece = result, f.second, None, None
                elif result is not None and f.left is not None:
                    result = f.left + result
                    stack.pop()
                    if stack:
                        stack[-1].waiting = True
                    continue
                elif f.left is not None:
                    f.piece = self._restore([failed, *f.left])
                    f.left = None
            if child is None:
                child = self._cut(f)
                if child is None:
                    assert f.piece is not None
                    result, failed = None, f.piece.nodes
                    stack.pop()
                    if stack:
                        stack[-1].waiting = True
                    continue
            settled, result = self._settle(*child)
            if settled:
                failed = child[0].nodes
                f.waiting = True
            else:
                stack.append(_Frame(*child))
        return result

    # ----------------------------------------------------------- rough plan and repair
    def rough(self, piece: _Piece, k: int) -> list[IntArray]:
        """``k <= atoms`` contiguous units of ``piece``, their sizes as close to the band as cuts allow."""
        done: list[IntArray] = []
        todo = [(piece, k)]
        while todo:
            part, units = todo.pop()
            if units == 1:
                done.append(part.nodes)
                continue
            best: tuple[_Cut, IntArray, IntArray] | None = None
            for _ in range(_ROUGH_TRIES):
                order, parent = self._tree(part)
                cut = self._best_cut(part, units, order, parent, strict=False)
                if cut is not None and (best is None or cut.violation < best[0].violation):
                    best = (cut, order, parent)
                    if cut.violation == 0:
                        break
            if best is None:  # pragma: no cover - a tree of >= units atoms always has a usable cut
                raise AssertionError("no usable cut")
            cut, order, parent = best
            below = self._below(order, parent, cut.node)
            todo.append((part.part(~below), units - cut.units))
            todo.append((part.part(below), cut.units))
        return done

    def repair(self, whole: _Piece, parts: list[IntArray]) -> list[IntArray] | None:
        """Bring every unit into the band by re-splitting it with rings of its neighbours.

        Units are fixed worst first; each fix re-splits the unit and its
        neighbours (then theirs, up to ``_REPAIR_RINGS`` rings) into as many
        units, all in the band, so every fix leaves fewer units outside it. A
        unit that cannot be fixed is retried after the next fix (which changes
        its neighbourhood). Returns None when no unit outside the band can be
        fixed or the trees run out.
        """
        k = len(parts)
        labels = np.empty(len(whole.nodes), dtype=np.int64)
        for u, p in enumerate(parts):
            labels[p] = u
        stuck = np.zeros(k, dtype=bool)
        while True:
            loads = np.bincount(labels, weights=self.h, minlength=k)
            viol = np.maximum(0.0, self.lo - loads) + np.maximum(0.0, loads - self.hi)
            if not viol.any():
                return [np.flatnonzero(labels == v) for v in range(k)]
            viol[stuck] = 0.0
            u = int(np.argmax(viol))
            if viol[u] <= 0 or self.budget <= 0:
                return None
            if self._fix(whole, labels, u):
                stuck[:] = False
            else:
                stuck[u] = True

    def _fix(self, whole: _Piece, labels: IntArray, u: int) -> bool:
        """Re-split unit ``u`` with a ring of its neighbours into units in the band (in place)."""
        k = int(labels.max()) + 1
        la, lb = labels[whole.ea], labels[whole.eb]
        cross = la != lb
        adj = coo_matrix((np.ones(int(cross.sum())), (la[cross], lb[cross])), shape=(k, k)).tocsr()
        adj = adj + adj.T
        ring = np.zeros(k, dtype=bool)
        ring[u] = True
        for _ in range(_REPAIR_RINGS):
            grown = ring | (adj @ ring.astype(np.float64) > 0)
            if grown.sum() == ring.sum() or self.budget <= 0:
                return False
            ring = grown
            units = np.flatnonzero(ring)
            cap = _REPAIR_TRIES + _REPAIR_TRIES_PER_UNIT * len(units)
            new = self.split(whole.part(ring[labels]), len(units), cap)
            if new is not None:
                for v, p in zip(units.tolist(), new, strict=True):
                    labels[p] = v
                return True
        return False


def default_tries(k: int) -> int:
    """Spanning trees :func:`bisect_plan` draws by default for ``k`` units."""
    return 100 + 20 * k


def bisect_plan(
    problem: Problem,
    region: IntArray,
    k: int,
    *,
    seed: int = 0,
    tries: int | None = None,
    repair: bool = True,
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
        Spanning trees drawn in all (search, rough plans and repairs) before
        giving up; default :func:`default_tries` (``100 + 20 k``). The last rough plan and its repair
        may draw a few more.
    repair : bool
        Search with at most ``50 + 5 k`` trees first, then, while trees are
        left, build rough plans and repair their units outside the band by
        re-splitting them with their neighbours. Without it, the whole budget
        goes to the search.

    Returns
    -------
    ndarray of int or None
        Unit label (0..k-1, numbered by smallest atom) per atom of ``region``,
        or None when no plan was found.
    """
    region = np.asarray(region, dtype=np.int64)
    n = len(region)
    band = problem.band
    hh = problem.households[region].astype(np.int64)
    total = int(hh.sum())
    if k < 1 or n == 0 or k > n or not (k * band.lo <= total <= k * band.hi):
        return None
    ea, eb, elen = region_edges(problem, region)
    graph = coo_matrix((np.ones(len(ea)), (ea, eb)), shape=(n, n))
    if connected_components(graph, directed=False, return_labels=False) > 1:
        return None
    whole = _Piece(np.arange(n, dtype=np.int64), ea, eb, elen)
    budget = default_tries(k) if tries is None else tries
    splitter = _Splitter(whole, hh, band, np.random.default_rng(seed), budget)
    parts = splitter.split(whole, k, _FIRST_TRIES + _FIRST_TRIES_PER_UNIT * k if repair else budget)
    while parts is None and repair and splitter.budget > 0:
        log.debug("no plan of %d units by splitting alone; repairing a rough plan", k)
        parts = splitter.repair(whole, splitter.rough(whole, k))
    if parts is None:
        log.debug("no plan of %d units found for a region of %d atoms", k, n)
        return None
    labels = np.full(n, -1, dtype=np.int64)
    # Number units by their smallest atom so labels do not depend on the cut order.
    for u, part in enumerate(sorted(parts, key=lambda p: int(region[p].min()))):
        labels[part] = u
    return labels


def rebalance(problem: Problem, region: IntArray, labels: IntArray, *, seed: int = 0) -> IntArray | None:
    """Bring the units of a contiguous plan into the band by local re-splitting.

    Every unit outside the band is re-split together with a ring of its
    neighbouring units (see ``_Splitter.repair``); units already in the band
    and far from the violations keep their atoms.

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions forming one connected piece.
    labels : array of int
        Unit ``0..k-1`` per atom of ``region``, every unit contiguous.
    seed : int
        Seed of the random spanning trees.

    Returns
    -------
    ndarray of int or None
        Unit ``0..k-1`` per atom of ``region``, every unit contiguous and in
        the band, or None when the repair found no such plan within
        :func:`default_tries` spanning trees.
    """
    region = np.asarray(region, dtype=np.int64)
    k = int(labels.max()) + 1
    ea, eb, elen = region_edges(problem, region)
    whole = _Piece(np.arange(len(region), dtype=np.int64), ea, eb, elen)
    hh = problem.households[region].astype(np.int64)
    splitter = _Splitter(whole, hh, problem.band, np.random.default_rng(seed), default_tries(k))
    parts = splitter.repair(whole, [np.flatnonzero(labels == u) for u in range(k)])
    if parts is None:
        return None
    out = np.empty(len(region), dtype=np.int64)
    for u, part in enumerate(parts):
        out[part] = u
    return out
