"""Peer methods run on the same atom graph: GerryChain ReCom and spopt max-p.

Both are benchmark-only dependencies (``pip install -e ".[bench]"``) and are imported
inside the functions that use them. Each run returns a :class:`PeerRun`: a unit per
atom plus timings; scoring is left to :func:`redistrict.evaluate.plan_metrics` so
that every method is measured by the same function.

Both peers work per connected component of the graph, with the same rules as
:func:`redistrict.solve.solve`: components without households belong to no unit,
components that cannot hold a unit of the band form one unit of their own, the
others are divided.
"""

from __future__ import annotations

import logging
import math
import random
import time
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import networkx as nx
import numpy as np
import numpy.typing as npt

__all__ = [
    "Component",
    "MeanDistance",
    "PeerRun",
    "plan_components",
    "run_maxp",
    "run_recom",
]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PeerRun:
    """Result of one peer run.

    Attributes
    ----------
    labels : dict
        Unit (``0..k-1``) per atom; atoms of components without households are absent.
    seconds : float
        Wall-clock seconds of the whole run.
    seconds_first : float
        Seconds until the first complete plan existed.
    seconds_best : float
        Seconds until the plan returned was found.
    steps : int
        Chain states visited (ReCom) or 0.
    notes : tuple of str
        What went wrong or was worked around.
    """

    labels: dict[Hashable, int]
    seconds: float
    seconds_first: float
    seconds_best: float
    steps: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Component:
    """A connected component of the atom graph and the number of units it gets.

    Attributes
    ----------
    nodes : tuple
        Sorted atom labels.
    households : int
        Total households.
    units : int
        Units to divide it into (0 = no households, excluded).
    """

    nodes: tuple[Hashable, ...]
    households: int
    units: int


def plan_components(
    graph: nx.Graph,
    lo: int,
    hi: int,
    reference: Mapping[Any, int] | None = None,
) -> list[Component]:
    """Connected components and how many units each gets.

    With ``reference`` (a plan of another method, e.g. redistrict's) each component
    gets as many units as that plan has in it, so methods compare at an equal number
    of units. Without, the admissible count whose mean size is closest to the middle
    of the band; a component no count fits gets ``ceil(households / hi)`` units.

    Parameters
    ----------
    graph : networkx.Graph
        Atom graph with node attribute ``households``.
    lo, hi : int
        The household band.
    reference : mapping, optional
        Unit per atom of a reference plan.

    Returns
    -------
    list of Component
        Largest component first.
    """
    out = []
    for comp in nx.connected_components(graph):
        nodes = tuple(sorted(comp))
        total = int(sum(int(graph.nodes[v]["households"]) for v in nodes))
        if total == 0:
            units = 0
        elif reference is not None:
            units = len({reference[v] for v in nodes if v in reference})
        else:
            kmin = max(1, -(-total // hi))
            kmax = total // lo if lo > 0 else kmin
            goal = (lo + hi) / 2.0
            fits = range(kmin, kmax + 1)
            units = min(fits, key=lambda k: (abs(total / k - goal), k)) if fits else kmin
        out.append(Component(nodes=nodes, households=total, units=max(units, 1 if total else 0)))
    out.sort(key=lambda c: (-len(c.nodes), str(c.nodes[0])))
    return out


class MeanDistance:
    """Household-weighted mean distance (m) from each atom to its unit's weighted centre.

    The same quantity as ``mean_distance_m`` of
    :func:`redistrict.evaluate.plan_metrics`, vectorised so that a Markov chain can
    score every state cheaply. Atoms labelled negative are ignored.

    Parameters
    ----------
    households, x, y : array
        Per atom, in the order of the label vectors to be scored.
    """

    def __init__(self, households: npt.ArrayLike, x: npt.ArrayLike, y: npt.ArrayLike) -> None:
        self._h = np.asarray(households, dtype=np.float64)
        self._hx = self._h * np.asarray(x, dtype=np.float64)
        self._hy = self._h * np.asarray(y, dtype=np.float64)
        self._x = np.asarray(x, dtype=np.float64)
        self._y = np.asarray(y, dtype=np.float64)

    def __call__(self, labels: npt.ArrayLike) -> float:
        """Mean distance of the plan ``labels`` (one integer per atom)."""
        lab = np.asarray(labels, dtype=np.int64)
        keep = lab >= 0
        lab = np.where(keep, lab, 0)
        h = np.where(keep, self._h, 0.0)
        size = int(lab.max()) + 1 if len(lab) else 1
        w = np.bincount(lab, h, minlength=size)
        safe = np.where(w > 0, w, 1.0)
        cx = np.bincount(lab, np.where(keep, self._hx, 0.0), minlength=size) / safe
        cy = np.bincount(lab, np.where(keep, self._hy, 0.0), minlength=size) / safe
        total = float(h.sum())
        if total <= 0:
            return math.nan
        d = np.hypot(self._x - cx[lab], self._y - cy[lab])
        return float((h * d).sum() / total)


# ----------------------------------------------------------------------------- ReCom


def run_recom(
    graph: nx.Graph,
    components: Sequence[Component],
    *,
    lo: int,
    hi: int,
    steps: int = 2000,
    seed: int = 0,
    max_attempts: int = 1000,
) -> PeerRun:
    """GerryChain ReCom on the atom graph, keeping the plan of least mean distance.

    The initial plan comes from :func:`gerrychain.partition.recursive_tree_part`,
    component by component with that component's number of units (target size its
    mean unit size, epsilon as wide as the band allows). The chain then runs ReCom
    with target ``(lo + hi) / 2`` and epsilon ``(hi - lo) / (hi + lo)``, i.e. every
    new unit lies in ``[lo, hi]``; merged pairs that cannot be split are reselected.
    Every state is scored by :class:`MeanDistance` and the best one is kept.

    ``recursive_tree_part`` draws every seed unit within ``epsilon`` of the mean
    size, a window symmetric about it and so narrower than the band: an atom larger
    than the window's top makes seeding impossible, and a :class:`RuntimeError` is
    raised at once (as it is, by GerryChain, when no balanced cut is found).

    Parameters
    ----------
    graph : networkx.Graph
        Atom graph (node ``households``, ``x``, ``y``).
    components : sequence of Component
        From :func:`plan_components`.
    lo, hi : int
        The household band.
    steps : int
        Chain length (states, the initial one included, as GerryChain counts).
    seed : int
        Seed of the chain's and the initial partition's ``random.Random``.
    max_attempts : int
        Spanning trees tried on one merged pair before another pair is drawn.

    Returns
    -------
    PeerRun

    Raises
    ------
    RuntimeError
        When no seed plan with the requested unit counts is found.
    """
    from gerrychain import Graph, MarkovChain, Partition
    from gerrychain.partition import recursive_tree_part
    from gerrychain.proposals import build_recom_proposal_fn
    from gerrychain.tree import bipartition_tree

    random.seed(seed)  # belt and braces: GerryChain 1.0 draws from the rng passed below
    rng = random.Random(seed)
    notes: list[str] = []
    start = time.perf_counter()
    assignment: dict[Hashable, int] = {}
    next_part = 0
    for ci, comp in enumerate(components):
        if comp.units == 0:
            for v in comp.nodes:
                assignment[v] = -1 - ci  # no households: a part of its own, excluded later
            continue
        if comp.units == 1:
            for v in comp.nodes:
                assignment[v] = next_part
            next_part += 1
            continue
        target = comp.households / comp.units
        eps = min(target - lo, hi - target) / target
        if eps <= 0:
            notes.append(
                f"component {ci}: {comp.households} households cannot form {comp.units} units "
                f"in [{lo}, {hi}]; seeded with a 5% tolerance"
            )
            eps = 0.05
        biggest = max(int(graph.nodes[v]["households"]) for v in comp.nodes)
        if biggest > target * (1 + eps):
            raise RuntimeError(
                f"component {ci}: an atom of {biggest} households exceeds the seed window "
                f"{target:.0f} +/- {100 * eps:.1f}% of recursive_tree_part for {comp.units} units"
            )
        sub = Graph.from_networkx(graph.subgraph(comp.nodes).copy())
        parts = list(range(next_part, next_part + comp.units))
        seeded = recursive_tree_part(sub, parts, target, "households", eps, rng=rng)
        assignment.update({v: cast(int, p) for v, p in seeded.items()})
        next_part += comp.units
    initial = Partition(Graph.from_networkx(graph), assignment)
    seconds_first = time.perf_counter() - start

    frozen = initial.graph
    order = [frozen.original_nx_node_id_for_internal_node_id(i) for i in range(len(assignment))]
    data = graph.nodes
    score = MeanDistance(
        [data[v]["households"] for v in order],
        [data[v]["x"] for v in order],
        [data[v]["y"] for v in order],
    )
    proposal = build_recom_proposal_fn(
        pop_col="households",
        pop_target=(lo + hi) / 2.0,
        epsilon=(hi - lo) / (hi + lo),
        bipartition_tree_fn=partial(bipartition_tree, max_attempts=max_attempts, allow_pair_reselection=True),
    )
    chain = MarkovChain(proposal, [], initial_partition=initial, total_steps=steps, rng=rng)
    best_vec = np.asarray(initial.assignment_vector).copy()
    best = score(best_vec)
    seconds_best = seconds_first
    visited = 0
    try:
        for state in chain:
            visited += 1
            vec = state.assignment_vector
            value = score(vec)
            if value < best - 1e-9:
                best, best_vec = value, np.asarray(vec).copy()
                seconds_best = time.perf_counter() - start
    except Exception as exc:  # the chain can get stuck (no pair splits): report, keep best
        notes.append(f"ReCom stopped after {visited} states: {type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    labels = {order[i]: int(p) for i, p in enumerate(best_vec.tolist()) if int(p) >= 0}
    return PeerRun(
        labels=labels,
        seconds=seconds,
        seconds_first=seconds_first,
        seconds_best=seconds_best,
        steps=visited,
        notes=tuple(notes),
    )


# ----------------------------------------------------------------------------- max-p


def run_maxp(
    graph: nx.Graph,
    components: Sequence[Component],
    *,
    lo: int,
    seed: int = 0,
    max_iterations_construction: int = 99,
    max_iterations_sa: int = 10,
) -> PeerRun:
    """spopt ``MaxPHeuristic`` with a floor of ``lo`` households, per component.

    Each component with at least ``2 * lo`` households (and more than one atom) is
    regionalised with the atom centres ``x, y`` as the attributes whose within-region
    dissimilarity max-p minimises (i.e. compactness); the libpysal ``W`` is the atom
    graph. max-p chooses its own (maximum) number of units and has no upper bound.
    Smaller components are one unit: max-p's answer there is always one region, and
    spopt 0.7's annealing never ends on a single region.

    Parameters
    ----------
    graph : networkx.Graph
        Atom graph (node ``households``, ``x``, ``y``).
    components : sequence of Component
        From :func:`plan_components` (only ``units == 0`` matters: excluded).
    lo : int
        Household floor per unit.
    seed : int
        Seed of NumPy's global generator, which spopt draws from.
    max_iterations_construction, max_iterations_sa : int
        spopt's iteration counts (its defaults).

    Returns
    -------
    PeerRun
    """
    import geopandas as gpd
    import libpysal
    from spopt.region import MaxPHeuristic

    np.random.seed(seed)  # spopt max-p draws from NumPy's global generator  # noqa: NPY002
    notes: list[str] = []
    start = time.perf_counter()
    labels: dict[Hashable, int] = {}
    next_unit = 0
    for ci, comp in enumerate(components):
        if comp.units == 0:
            continue
        if comp.households < 2 * lo or len(comp.nodes) == 1:
            # max-p can only find one region here (and spopt 0.7 loops forever on p = 1)
            labels.update({v: next_unit for v in comp.nodes})
            next_unit += 1
            continue
        nodes = list(comp.nodes)
        pos = {v: i for i, v in enumerate(nodes)}
        data = graph.nodes
        x = np.array([float(data[v]["x"]) for v in nodes])
        y = np.array([float(data[v]["y"]) for v in nodes])
        h = np.array([int(data[v]["households"]) for v in nodes], dtype=np.int64)
        frame = gpd.GeoDataFrame({"x": x, "y": y, "households": h}, geometry=gpd.points_from_xy(x, y))
        neighbours = {pos[v]: sorted(pos[u] for u in graph.adj[v]) for v in nodes}
        with warnings.catch_warnings():
            # spopt 0.7 / libpysal call pandas APIs that pandas 3 deprecates.
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            _ignore_pandas4_warnings()
            w = libpysal.weights.W(neighbours, silence_warnings=True)
            model = MaxPHeuristic(
                frame,
                w,
                ["x", "y"],
                "households",
                lo,
                max_iterations_construction=max_iterations_construction,
                max_iterations_sa=max_iterations_sa,
            )
            model.solve()
        found = np.asarray(model.labels_, dtype=np.int64)
        if len(found) != len(nodes):
            notes.append(f"component {ci}: max-p labelled {len(found)} of {len(nodes)} atoms")
        _, inverse = np.unique(found, return_inverse=True)
        for v, u in zip(nodes, inverse.tolist(), strict=False):
            labels[v] = next_unit + int(u)
        next_unit += int(inverse.max()) + 1 if len(inverse) else 0
    seconds = time.perf_counter() - start
    return PeerRun(
        labels=labels,
        seconds=seconds,
        seconds_first=seconds,
        seconds_best=seconds,
        notes=tuple(notes),
    )


def _ignore_pandas4_warnings() -> None:
    """Ignore pandas' deprecation warnings for the next pandas 4 (raised inside spopt)."""
    import pandas as pd

    category = getattr(pd.errors, "Pandas4Warning", None)
    if isinstance(category, type) and issubclass(category, Warning):
        warnings.simplefilter("ignore", category)
