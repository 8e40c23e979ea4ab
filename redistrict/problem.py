"""The districting problem as plain arrays: no geometry, no solver.

A :class:`Problem` is what the optimiser sees: atoms with household counts and
coordinates, the edges of the adjacency graph with the share of each shared
boundary that runs along a major road, the household band and the objective
weights. It is built from a networkx graph (:meth:`Problem.from_graph`) or from
arrays (:meth:`Problem.from_arrays`), so the integer program can be tested on a
hand-made 3x3 grid with no geometry at all.

The objective of a plan (see :meth:`Problem.plan_cost`) is, per household,

* the weighted mean *road-aware* distance from each atom to its unit's centre
  atom, where crossing a major road inside a unit costs ``1 + major_road`` times
  the straight distance (so unit boundaries settle on major roads);
* plus ``continuity`` metres for every household whose unit is centred in
  another existing community;
* plus ``deviation`` metres for every household of difference between a unit's
  size and the target size.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Final

import networkx as nx
import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from redistrict._places import Places
from redistrict._validate_problem import check_arrays
from redistrict._words import listed
from redistrict.errors import InputError

__all__ = ["Band", "Places", "Problem", "Weights", "band_bounds_problem", "band_problems"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


#: How a band's bounds are named, and an example written, where a band is given.
_BAND_SYNTAX: Final[dict[str, tuple[str, str, str, str]]] = {
    # where: (lower bound, upper bound, the rule, example with {lo} and {hi})
    "option": ("band lower bound", "the upper bound", "LO < HI", "--band {lo} {hi}"),
    "scenario": ("band.lo", "band.hi", "band.lo < band.hi", "lo = {lo}, hi = {hi}"),
    "api": ("band lower bound", "the upper bound", "lo < hi", "Band({lo}, {hi})"),
}
#: A zero-width band is widened by this share of its size on each side in the example given.
_BAND_EXAMPLE_MARGIN: Final[float] = 0.04


#: Largest upper bound of a band: no residents' committee serves more (households or
#: residents); larger numbers are typing mistakes and would overflow integer arithmetic.
MAX_BAND = 100_000_000
#: Largest objective weight accepted (metres per household): far above any sensible
#: weight (the defaults are 0.1-100), far below what overflows a solver's arithmetic.
MAX_WEIGHT = 1e9


def band_bounds_problem(
    lo: int, hi: int, *, syntax: str = "option", counts: str = "households"
) -> str | None:
    """Say what is wrong with a band whose lower bound is not below its upper bound.

    A band needs ``lo < hi``. With ``lo > hi`` the bounds are swapped; a band of zero
    width (``lo == hi``) asks every unit to hold exactly ``lo`` households, which units
    made of whole blocks almost never do: the solver would then stretch the band for
    each part it cannot divide, so it is refused before any work. The message is the
    same for ``--band`` and the ``[band]`` table of a scenario file, each naming the
    bounds and giving its example in its own syntax.

    Parameters
    ----------
    lo, hi : int
        The bounds as given.
    syntax : {"option", "scenario", "api"}, default "option"
        Where the band was given: ``--band LO HI``, a scenario's ``[band]`` table or
        :class:`Band` in Python.
    counts : {"households", "residents"}, default "households"
        What the band counts.

    Returns
    -------
    str or None
        The problem, or None when ``lo < hi``. For ``--band 2500 2500`` it ends
        "the band needs LO < HI, e.g. --band 2400 2600".

    """
    if lo < hi:
        return None
    lo_name, hi_name, rule, example = _BAND_SYNTAX[syntax]
    if lo > hi:
        what = f"{lo_name} {lo} is above {hi_name} {hi}: swap them"
        fixed = (hi, lo)
    else:
        what = (
            f"{lo_name} {lo} equals {hi_name} {hi}: a band of zero width asks every unit to hold "
            f"exactly {lo:,} {counts}, which units made of whole blocks almost never do (the solver "
            f"would have to stretch the band)"
        )
        margin = max(1, round(lo * _BAND_EXAMPLE_MARGIN))
        fixed = (max(0, lo - margin), hi + margin)
    return f"{what}; the band needs {rule}, e.g. {example.format(lo=fixed[0], hi=fixed[1])}"


def band_problems(
    lo: int,
    hi: int,
    target: int | None = None,
    *,
    counts: str = "households",
    zero_width: bool = False,
    syntax: str = "option",
) -> list[str]:
    """Check a band given as ``--band LO HI`` (and ``--target``), or as :class:`Band`.

    Parameters
    ----------
    lo, hi : int
        The bounds.
    target : int, optional
        The preferred size.
    counts : {"households", "residents"}, default "households"
        What the band counts.
    zero_width : bool, default False
        Accept ``lo == hi`` (an exact size) and ``lo == 0`` (no lower bound):
        :class:`Band` accepts both for internal use (relaxed bands); a band given
        by the user needs a lower bound of at least 1.
    syntax : {"option", "api"}, default "option"
        How the examples in the messages are written: ``--band 2000 3000`` or
        ``Band(2000, 3000)``.

    Returns
    -------
    list of str
        One line per problem (bounds not positive, not ``lo < hi``, target outside the
        band); empty when the band is fine.

    """
    example = _BAND_SYNTAX[syntax][3]
    usual = example.format(lo=2000, hi=3000)
    problems = [
        f"band {name} must be a whole number, not {value!r}: give e.g. {usual}"
        for name, value in (("lower bound", lo), ("upper bound", hi), ("target", target))
        if (value is not None or name != "target")
        and (isinstance(value, bool) or not isinstance(value, numbers.Integral))
    ]
    if problems:
        return problems
    if lo < 0 or hi <= 0:
        problems.append(f"band ({lo}, {hi}) must be positive: give e.g. {usual}")
    elif lo == 0 and not zero_width:
        problems.append(
            f"band lower bound 0: a unit holds at least one of the {counts} it counts, and without a "
            f"lower bound the number of units is not limited; give a lower bound of at least 1, "
            f"e.g. {example.format(lo=1, hi=hi)}"
        )
    elif hi > MAX_BAND:
        problems.append(
            f"band upper bound {hi:,} is more than {MAX_BAND:,} {counts}, larger than any unit: "
            f"give e.g. {usual}"
        )
    elif not (zero_width and lo == hi):
        bounds = band_bounds_problem(lo, hi, counts=counts, syntax=syntax)
        if bounds is not None:
            problems.append(bounds)
    if target is not None and lo <= hi and not lo <= target <= hi:
        problems.append(
            f"target {target} lies outside the band [{lo}, {hi}]: choose a target inside the band"
        )
    return problems


@dataclass(frozen=True)
class Band:
    """Allowed size of a unit, in households (or residents).

    Parameters
    ----------
    lo, hi : int
        Inclusive lower and upper bound on the households of a unit. ``lo == hi`` (an
        exact size) is accepted here for internal use; ``--band`` and scenario files
        refuse it (:func:`band_problems`, :func:`band_bounds_problem`).
    target : int, optional
        Preferred size; defaults to the middle of the band.
    counts : {"households", "residents"}
        What the sizes count: the problem's ``households`` array then holds
        that quantity per atom (see :func:`redistrict.locks.sized_problem`);
        messages name it.
    """

    lo: int = 2000
    hi: int = 3000
    target: int | None = None
    counts: str = "households"

    def __post_init__(self) -> None:
        problems = []
        if self.counts not in ("households", "residents"):
            problems.append(f"band counts {self.counts!r}: use 'households' or 'residents'")
        counts = self.counts if self.counts in _BAND_SYNTAX else "households"
        # A zero-width band is an exact size: the construction heuristics are tested with it.
        # --band and scenario files reject it (band_problems) before loading anything.
        problems += band_problems(self.lo, self.hi, self.target, counts=counts, zero_width=True, syntax="api")
        if problems:
            raise InputError(problems)

    @property
    def goal(self) -> float:
        """The target size (middle of the band unless given)."""
        return float(self.target) if self.target is not None else (self.lo + self.hi) / 2.0

    def unit_counts(self, households: int) -> range:
        """Numbers of units ``k`` with ``k * lo <= households <= k * hi``."""
        if households <= 0:
            return range(0)
        kmin = max(1, -(-households // self.hi))
        kmax = households // self.lo if self.lo > 0 else kmin
        return range(kmin, kmax + 1)


@dataclass(frozen=True)
class Weights:
    """Weights of the objective, all in metres per household.

    Parameters
    ----------
    major_road : float
        Extra cost factor for crossing a major road inside a unit (0 = roads
        ignored, 1 = a crossing counts double distance).
    continuity : float
        Cost of a household placed in a unit centred in another existing
        community (needs communities).
    deviation : float
        Cost per household of difference between a unit's size and the target.
    area : float
        Share of the weight of an atom given by its area rather than its
        households, so that empty atoms (parks, markets) also stay compact.
    """

    major_road: float = 1.0
    continuity: float = 0.0
    deviation: float = 100.0
    area: float = 0.1

    def __post_init__(self) -> None:
        problems = [
            f"weights.{f.name} must be a finite non-negative number, not {getattr(self, f.name)!r}"
            for f in fields(self)
            if isinstance(getattr(self, f.name), bool)
            or not isinstance(getattr(self, f.name), numbers.Real)
            or not (math.isfinite(getattr(self, f.name)) and getattr(self, f.name) >= 0)
        ]
        problems += [
            f"weights.{f.name} is {getattr(self, f.name):g}, more than {MAX_WEIGHT:g}: costs that large "
            "overflow the solvers' arithmetic; weights are relative, so scale them all down"
            for f in fields(self)
            if not problems and getattr(self, f.name) > MAX_WEIGHT
        ]
        if not problems and self.area > 1:
            problems.append(f"weights.area is a share and must lie in 0..1, not {self.area}")
        if problems:
            raise InputError(problems)


@dataclass(frozen=True, eq=False)
class Problem:
    """A districting instance on an adjacency graph.

    Use :meth:`from_graph` or :meth:`from_arrays` to build one.

    Attributes
    ----------
    nodes : tuple
        Atom labels, position ``i`` of every array refers to ``nodes[i]``.
    households : ndarray of int
        Households per atom.
    xy : ndarray, shape (n, 2)
        Atom centres in metres.
    edges : ndarray, shape (m, 2)
        Positions of adjacent atoms, ``i < j``.
    edge_major : ndarray, shape (m,)
        Share (0..1) of each shared boundary that runs along a major road.
    edge_length : ndarray, shape (m,)
        Length of each shared boundary in metres.
    community : ndarray of int or None
        Existing community code per atom (-1 = none).
    area : ndarray
        Area of each atom in square metres (ones when unknown).
    band : Band
        Allowed unit size.
    weights : Weights
        Objective weights.
    places : Places or None
        What a planner knows each atom by (its community, or the nearest named
        road) and the barriers between atoms, for the notes
        (:func:`redistrict._places.describe`); None names atoms by their ids.
    """

    nodes: tuple[Hashable, ...]
    households: IntArray
    xy: FloatArray
    edges: IntArray
    edge_major: FloatArray
    edge_length: FloatArray
    community: IntArray | None
    area: FloatArray
    band: Band
    weights: Weights
    places: Places | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_arrays(
        cls,
        households: Sequence[int] | npt.ArrayLike,
        xy: npt.ArrayLike,
        edges: npt.ArrayLike,
        *,
        nodes: Sequence[Hashable] | None = None,
        edge_major: npt.ArrayLike | None = None,
        edge_length: npt.ArrayLike | None = None,
        community: npt.ArrayLike | None = None,
        area: npt.ArrayLike | None = None,
        band: Band | None = None,
        weights: Weights | None = None,
        places: Places | None = None,
    ) -> Problem:
        """Build a problem from plain arrays.

        Parameters
        ----------
        households : array of int
            Households per atom (non-negative integers).
        xy : array, shape (n, 2)
            Atom centres in metres.
        edges : array, shape (m, 2)
            Pairs of adjacent atom positions.
        nodes : sequence, optional
            Atom labels (default ``0..n-1``).
        edge_major, edge_length : array, optional
            Major-road share and length of each shared boundary.
        community : array of int, optional
            Existing community code per atom, -1 for none.
        area : array, optional
            Atom areas in square metres.
        band : Band, optional
            Unit size band (default 2,000-3,000).
        weights : Weights, optional
            Objective weights.
        places : Places, optional
            Names of the atoms for the notes (community or road, keyed by the
            atom labels ``nodes``); without them notes name atoms by their ids.

        Returns
        -------
        Problem
        """
        if places is not None and not isinstance(places, Places):
            raise InputError(f"places must be a Places, not {type(places).__name__}")
        if band is not None and not isinstance(band, Band):
            raise InputError(f"band must be a Band, e.g. Band(2000, 3000), not {type(band).__name__}")
        if weights is not None and not isinstance(weights, Weights):
            raise InputError(
                f"weights must be a Weights, e.g. Weights(deviation=100), not {type(weights).__name__}"
            )
        arrays = check_arrays(
            households, xy, edges, nodes=nodes, edge_major=edge_major, edge_length=edge_length,
            community=community, area=area,
        )  # fmt: skip
        h, pts, e, n = arrays.households, arrays.xy, arrays.edges, len(arrays.households)
        e = np.sort(e, axis=1)
        keep = e[:, 0] != e[:, 1]
        e = e[keep]
        major = np.zeros(len(e)) if arrays.edge_major is None else arrays.edge_major[keep]
        length = np.ones(len(e)) if arrays.edge_length is None else arrays.edge_length[keep]
        # Deduplicate edges deterministically (keep the first occurrence).
        order = np.lexsort((e[:, 1], e[:, 0]))
        e, major, length = e[order], major[order], length[order]
        if len(e):
            first = np.ones(len(e), bool)
            first[1:] = np.any(e[1:] != e[:-1], axis=1)
            e, major, length = e[first], major[first], length[first]
        comm = arrays.community
        ar = np.ones(n) if arrays.area is None else arrays.area
        labels = arrays.nodes
        return cls(
            nodes=labels,
            households=h,
            xy=pts,
            edges=e,
            edge_major=np.clip(major, 0.0, 1.0),
            edge_length=length,
            community=comm,
            area=ar,
            band=band or Band(),
            weights=weights or Weights(),
            places=places,
        )

    @classmethod
    def from_graph(
        cls,
        graph: nx.Graph,
        *,
        band: Band | None = None,
        weights: Weights | None = None,
        places: Places | None = None,
    ) -> Problem:
        """Build a problem from an atom adjacency graph.

        Parameters
        ----------
        graph : networkx.Graph
            Nodes carry ``households``, ``x``, ``y`` and optionally ``area_m2``
            and ``community_id``; edges optionally carry ``length`` and
            ``major_length``.
        band : Band, optional
            Unit size band.
        weights : Weights, optional
            Objective weights.
        places : Places, optional
            Names of the atoms for the notes, keyed by the graph's nodes.

        Returns
        -------
        Problem
        """
        if not isinstance(graph, nx.Graph):
            raise InputError(
                "graph must be a networkx.Graph of atoms (e.g. redistrict.graph.build_graph's), "
                f"not {type(graph).__name__}"
            )
        problems: list[str] = []
        nodes = _sorted_labels(graph.nodes)
        pos = {v: i for i, v in enumerate(nodes)}
        data = graph.nodes
        h = [data[v].get("households", 0) for v in nodes]
        x = _node_numbers(graph, nodes, "x", None, problems)
        y = _node_numbers(graph, nodes, "y", None, problems)
        area = _node_numbers(graph, nodes, "area_m2", 1.0, problems)
        raw_comm = [data[v].get("community_id") for v in nodes]
        community = None
        known = [not _no_community(c) for c in raw_comm]
        if any(known):
            names = sorted({str(c) for c, k in zip(raw_comm, known, strict=True) if k})
            code = {c: k for k, c in enumerate(names)}
            community = [code[str(c)] if k else -1 for c, k in zip(raw_comm, known, strict=True)]
        edges, major, length = [], [], []
        bad_edges: list[str] = []
        for u, v, d in sorted(graph.edges(data=True), key=lambda t: (pos[t[0]], pos[t[1]])):
            try:
                ln = float(d.get("length", 1.0)) or 1.0
                share = float(d.get("major_length", 0.0)) / ln
            except (TypeError, ValueError):
                bad_edges.append(f"({u!r}, {v!r})")
                continue
            edges.append((pos[u], pos[v]))
            length.append(ln)
            major.append(share)
        if bad_edges:
            problems.append(
                "edge attributes length and major_length must be numbers (metres); not at edges "
                + listed(bad_edges, limit=5)
            )
        if problems:
            raise InputError(problems)
        xy = list(zip(x, y, strict=True))
        return cls.from_arrays(
            h,
            xy,
            np.array(edges, dtype=np.int64).reshape(-1, 2),
            nodes=nodes,
            edge_major=major,
            edge_length=length,
            community=community,
            area=area,
            band=band,
            weights=weights,
            places=places,
        )

    # ------------------------------------------------------------- derived
    @property
    def n(self) -> int:
        """Number of atoms."""
        return len(self.households)

    @property
    def total(self) -> int:
        """Total households."""
        return int(self.households.sum())

    @property
    def adjacency(self) -> list[list[int]]:
        """Neighbour lists by atom position."""
        if "adj" not in self._cache:
            adj: list[list[int]] = [[] for _ in range(self.n)]
            for a, b in self.edges.tolist():
                adj[a].append(b)
                adj[b].append(a)
            self._cache["adj"] = adj
        adj_out: list[list[int]] = self._cache["adj"]
        return adj_out

    def region_neighbours(self, region: IntArray) -> list[list[int]]:
        """Neighbour lists within ``region``, by region-local index.

        Parameters
        ----------
        region : array of int
            Atom positions.

        Returns
        -------
        list of list of int
            For each atom of ``region`` (in that order), the indices into
            ``region`` of its neighbours that lie in ``region``.
        """
        pos = {int(v): i for i, v in enumerate(region.tolist())}
        return [[pos[w] for w in self.adjacency[v] if w in pos] for v in pos]

    @property
    def weight(self) -> FloatArray:
        """Weight of each atom in the compactness term (households plus an area share)."""
        if "weight" not in self._cache:
            h = self.households.astype(float)
            a = self.area / max(float(self.area.mean()), 1e-9)
            share = self.weights.area
            mean_h = max(float(h.mean()), 1.0)
            self._cache["weight"] = (1.0 - share) * h + share * a * mean_h
        w: FloatArray = self._cache["weight"]
        return w

    @property
    def distance(self) -> FloatArray:
        """Road-aware shortest-path distances between atom centres (n x n, metres).

        Each edge costs its straight length times ``1 + major_road * share``,
        where ``share`` is the part of the shared boundary on a major road.
        Atoms in different components are ``inf`` apart.
        """
        if "dist" not in self._cache:
            n = self.n
            if len(self.edges) == 0:
                d = np.full((n, n), np.inf)
                np.fill_diagonal(d, 0.0)
            else:
                d = dijkstra(self._road_graph(), directed=False)
            self._cache["dist"] = d
        dist: FloatArray = self._cache["dist"]
        return dist

    def _road_graph(self) -> csr_matrix:
        """Sparse graph of the atoms with the road-aware edge lengths of :attr:`distance`."""
        if "graph" not in self._cache:
            a, b = self.edges[:, 0], self.edges[:, 1]
            straight = np.hypot(*(self.xy[a] - self.xy[b]).T)
            w = np.maximum(straight, 1e-3) * (1.0 + self.weights.major_road * self.edge_major)
            n = self.n
            self._cache["graph"] = csr_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
        graph: csr_matrix = self._cache["graph"]
        return graph

    def _cost_block(self, rows: IntArray, cols: IntArray, dist: FloatArray) -> FloatArray:
        """:attr:`assign_cost` of atoms ``rows`` to centres ``cols`` from their distances."""
        # An atom of weight 0 in another component is still unreachable (0 x inf is NaN).
        c = np.where(np.isinf(dist), np.inf, self.weight[rows, None] * np.where(np.isinf(dist), 0.0, dist))
        if self.community is not None and self.weights.continuity > 0:
            moved = self.community[rows, None] != self.community[None, cols]
            c = c + self.weights.continuity * self.households[rows, None] * moved
        out: FloatArray = c
        return out

    @property
    def assign_cost(self) -> FloatArray:
        """Cost of assigning atom ``i`` (row) to a unit centred on atom ``j`` (column)."""
        if "cost" not in self._cache:
            every = np.arange(self.n)
            self._cache["cost"] = self._cost_block(every, every, self.distance)
        cost: FloatArray = self._cache["cost"]
        return cost

    @property
    def scale(self) -> float:
        """Divisor that turns a cost into metres per unit of weight."""
        return float(max(self.weight.sum(), 1e-9))

    def components(self, keep: npt.NDArray[np.bool_] | None = None) -> list[IntArray]:
        """Connected components of the graph as sorted position arrays (largest first).

        Parameters
        ----------
        keep : array of bool, optional
            Only these atoms and the edges between them (default: every atom; that
            result is cached).
        """
        if keep is None and "comps" in self._cache:
            cached: list[IntArray] = self._cache["comps"]
            return cached
        inside = np.ones(self.n, bool) if keep is None else keep
        e = self.edges
        g = nx.Graph()
        g.add_nodes_from(np.flatnonzero(inside).tolist())
        g.add_edges_from(e[inside[e[:, 0]] & inside[e[:, 1]]].tolist())
        comps = [np.array(sorted(c), dtype=np.int64) for c in nx.connected_components(g)]
        comps.sort(key=lambda c: (-len(c), int(c[0])))
        if keep is None:
            self._cache["comps"] = comps
        return comps

    # ---------------------------------------------------------- evaluation
    def unit_cost(self, members: IntArray) -> tuple[float, int]:
        """Best centre of a unit and its assignment cost.

        Parameters
        ----------
        members : array of int
            Atom positions of the unit.

        Returns
        -------
        cost : float
            Assignment cost plus deviation cost of the unit.
        centre : int
            Position of the centre atom that minimises the cost.
        """
        sub = self.assign_cost[np.ix_(members, members)]
        col = sub.sum(axis=0)
        k = int(np.argmin(col))
        dev = abs(float(self.households[members].sum()) - self.band.goal)
        return float(col[k]) + self.weights.deviation * dev, int(members[k])

    def centre(self, members: IntArray) -> int:
        """Centre atom of a unit, as :meth:`unit_cost` chooses it.

        Unlike :meth:`unit_cost`, it does not build the ``n x n`` matrices when they are
        not built yet (a whole city's are gigabytes): the shortest paths between the
        members are found by searches from the members limited to the longest path
        inside the unit, which no shortest path between two members can exceed.

        Parameters
        ----------
        members : array of int
            Atom positions of the unit.

        Returns
        -------
        int
            Position of the centre atom.
        """
        members = np.asarray(members, dtype=np.int64)
        if len(members) == 1:
            return int(members[0])  # its own centre: no distances needed (they are city-wide)
        if "cost" in self._cache or len(members) == 0 or len(self.edges) == 0:
            return self.unit_cost(members)[1]
        graph = self._road_graph()
        inside = dijkstra(graph[members][:, members], directed=False)
        limit = float(inside.max()) * (1.0 + 1e-9) if np.isfinite(inside).all() else np.inf
        dist = dijkstra(graph, directed=False, indices=members, limit=limit)[:, members]
        col = self._cost_block(members, members, dist).sum(axis=0)
        return int(members[int(np.argmin(col))])

    def plan_cost(self, labels: IntArray) -> float:
        """Objective of a plan (sum over units of :meth:`unit_cost`), unscaled.

        Parameters
        ----------
        labels : array of int
            Unit label per atom; atoms labelled -1 are excluded from the cost.
        """
        total = 0.0
        for u in np.unique(labels):
            if u < 0:
                continue
            total += self.unit_cost(np.flatnonzero(labels == u))[0]
        return total

    def is_contiguous(self, members: IntArray) -> bool:
        """Whether the atoms ``members`` form one connected piece of the graph."""
        if len(members) <= 1:
            return True
        inside = set(members.tolist())
        adj = self.adjacency
        start = int(members[0])
        seen = {start}
        stack = [start]
        while stack:
            v = stack.pop()
            for w in adj[v]:
                if w in inside and w not in seen:
                    seen.add(w)
                    stack.append(w)
        return len(seen) == len(inside)


def _sorted_labels(labels: Any) -> list[Hashable]:
    """Node labels in order; labels of several types (ints and texts) by type, then text."""
    try:
        return sorted(labels)
    except TypeError:
        return sorted(labels, key=lambda v: (type(v).__name__, str(v)))


def _no_community(value: object) -> bool:
    """Whether a node's ``community_id`` means none: missing, NaN, ``pd.NA`` or ``""``."""
    if value is None or (isinstance(value, str) and value == ""):
        return True
    try:
        return bool(value != value)  # NaN
    except TypeError:  # pd.NA: its truth value is ambiguous, and it is missing
        return True


def _node_numbers(
    graph: nx.Graph, nodes: Sequence[Hashable], attr: str, default: float | None, problems: list[str]
) -> list[float]:
    """Attribute ``attr`` of every node as a float (``default`` when absent; required when None)."""
    out: list[float] = []
    missing: list[str] = []
    wrong: list[str] = []
    for v in nodes:
        raw = graph.nodes[v].get(attr, default)
        if raw is None:
            missing.append(repr(v))
            out.append(math.nan)
            continue
        try:
            out.append(float(raw))
        except (TypeError, ValueError):
            wrong.append(f"{v!r} ({raw!r})")
            out.append(math.nan)
    if missing:
        problems.append(
            f"{'nodes' if len(missing) > 1 else 'node'} {listed(missing, limit=5)} "
            f"{'have' if len(missing) > 1 else 'has'} no {attr!r}: "
            "every atom needs its centre's x and y in metres"
        )
    if wrong:
        problems.append(f"node attribute {attr!r} must be a number; not at nodes {listed(wrong, limit=5)}")
    return out
