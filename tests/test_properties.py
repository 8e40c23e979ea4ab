"""Invariants of every plan, checked on random planar graphs (hypothesis).

Instances are random planar graphs -- Delaunay triangulations of random points, or
grids with random streets closed -- with random household counts. Half of them
are *planted*: households are drawn so that a known contiguous split into units
of the band exists. Whatever the instance, :func:`redistrict.solve.solve` must

* put every atom in exactly one unit (the graphs are connected and hold households);
* conserve the households to the household;
* make every unit contiguous;
* keep every unit in the band whenever it reports ``optimal`` or ``feasible``;
* flag exactly the units outside the band;
* report a lower bound no larger than the objective, and a gap consistent with both;
* give the same plan for the same seed.

Examples are derandomized so that the suite is the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy.spatial import Delaunay

from redistrict.evaluate import check_plan
from redistrict.problem import Band, Problem, Weights
from redistrict.solve import Solution, solve

BAND = Band(2000, 3000)
SPACING_M = 100.0
OPTIMAL_GAP = 1e-4

COMMON = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Instance:
    """A random instance and how it was drawn (shown when a property fails)."""

    problem: Problem
    kind: str
    planted: bool
    seed: int


def _delaunay(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Delaunay triangulation of ``n`` random points: a connected planar graph."""
    xy = rng.uniform(0.0, SPACING_M * np.sqrt(n), size=(n, 2))
    triangles = Delaunay(xy).simplices
    edges = {
        (int(min(a, b)), int(max(a, b)))
        for tri in triangles
        for a, b in ((tri[0], tri[1]), (tri[1], tri[2]), (tri[0], tri[2]))
    }
    return xy, sorted(edges)


def _grid(rng: np.random.Generator, n: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A street grid of about ``n`` blocks with random streets closed (still connected)."""
    nx_ = max(2, int(np.sqrt(n)))
    ny_ = max(2, n // nx_)
    graph = nx.grid_2d_graph(nx_, ny_)
    order = sorted(graph.edges())
    for k in rng.permutation(len(order))[: len(order) // 4].tolist():
        u, v = order[k]
        graph.remove_edge(u, v)
        if not nx.is_connected(graph):
            graph.add_edge(u, v)
    nodes = sorted(graph.nodes())
    pos = {v: i for i, v in enumerate(nodes)}
    xy = np.array([(SPACING_M * i, SPACING_M * j) for i, j in nodes], dtype=float)
    return xy, sorted((min(pos[u], pos[v]), max(pos[u], pos[v])) for u, v in graph.edges())


def _planted_households(rng: np.random.Generator, n: int, edges: list[tuple[int, int]]) -> np.ndarray:
    """Households such that a random contiguous split into units of the band exists."""
    adjacency: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        adjacency[a].append(b)
        adjacency[b].append(a)
    k = int(rng.integers(1, max(2, n // 5) + 1))
    region = np.full(n, -1, dtype=np.int64)
    seeds = rng.choice(n, size=k, replace=False)
    region[seeds] = np.arange(k)
    frontier = [int(s) for s in seeds]
    while frontier:
        v = frontier.pop(int(rng.integers(len(frontier))))
        for w in adjacency[v]:
            if region[w] < 0:
                region[w] = region[v]
                frontier.append(w)
    households = np.zeros(n, dtype=np.int64)
    for r in range(k):
        members = np.flatnonzero(region == r)
        total = int(rng.integers(BAND.lo, BAND.hi + 1))
        households[members] = rng.multinomial(total, rng.dirichlet(np.ones(len(members))))
    return households


@st.composite
def instances(draw: st.DrawFn, *, planted: bool, max_atoms: int = 24) -> Instance:
    """A connected planar graph with planted or free households."""
    kind = draw(st.sampled_from(["delaunay", "grid"]))
    n = draw(st.integers(4, max_atoms))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    xy, edges = _delaunay(rng, n) if kind == "delaunay" else _grid(rng, n)
    n = len(xy)
    # Free draws: some instances cannot be split in the band at all, and an atom
    # may alone exceed the band; the plan must still be valid and flagged.
    households = _planted_households(rng, n, edges) if planted else rng.integers(0, 1300, size=n)
    problem = Problem.from_arrays(households, xy, edges, band=BAND)
    return Instance(problem, kind, planted, seed)


def _assert_invariants(instance: Instance, solution: Solution) -> None:
    problem = instance.problem
    labels = solution.labels
    # Every atom in exactly one unit.
    assert list(labels.index) == list(problem.nodes)
    assert labels.notna().all(), "an atom of a connected graph with households is in no unit"
    units = labels.astype("int64")
    assert sorted(units.unique().tolist()) == list(range(1, units.nunique() + 1))
    # Households conserved to the household.
    per_unit = pd.Series(problem.households, index=labels.index).groupby(units).sum()
    assert int(per_unit.sum()) == problem.total
    # Every unit contiguous.
    position = {v: i for i, v in enumerate(problem.nodes)}
    for unit, members in units.groupby(units).groups.items():
        idx = np.array(sorted(position[v] for v in members), dtype=np.int64)
        assert problem.is_contiguous(idx), f"unit {unit} is not contiguous"
    # Units in the band whenever the solver claims a feasible plan.
    if solution.status in ("optimal", "feasible"):
        assert check_plan(problem, labels) == []
    # Flags tell exactly which units are out of band.
    in_band = per_unit.between(BAND.lo, BAND.hi)
    flags = solution.unit_flags.reindex(per_unit.index)
    assert flags.notna().all()
    assert ((flags == "ok") == in_band).all(), flags.to_dict()
    # Honest bound and gap.
    assert solution.status in ("optimal", "feasible", "heuristic")
    if solution.bound is None:
        assert solution.status == "heuristic"
        assert solution.gap is None
    else:
        assert solution.bound <= solution.objective * (1 + 1e-9) + 1e-9
        assert solution.gap is not None and solution.gap >= 0
        assert (solution.status == "optimal") == (solution.gap <= OPTIMAL_GAP)


@settings(COMMON, max_examples=25)
@given(instance=instances(planted=True))
def test_exact_plans_keep_the_invariants(instance: Instance) -> None:
    solution = solve(instance.problem, time_limit=5.0, seed=0, method="exact")
    _assert_invariants(instance, solution)


@settings(COMMON, max_examples=10)
@given(instance=instances(planted=True, max_atoms=32), seed=st.integers(0, 1000))
def test_heuristic_plans_keep_the_invariants(instance: Instance, seed: int) -> None:
    # A generous limit, so that the plans found do not depend on the machine's load.
    solution = solve(instance.problem, time_limit=4.0, seed=seed, method="lns")
    _assert_invariants(instance, solution)


# No shrinking: a failure is reported with its (seeded) instance at once, without
# minutes of re-solving.
@settings(COMMON, max_examples=12, phases=[Phase.explicit, Phase.generate])
@given(instance=instances(planted=False), method=st.sampled_from(["exact", "lns"]))
def test_plans_of_instances_without_a_split_in_the_band_keep_the_invariants(
    instance: Instance, method: str
) -> None:
    solution = solve(instance.problem, time_limit=1.0, seed=0, method=method)
    _assert_invariants(instance, solution)


@settings(COMMON, max_examples=8)
@given(instance=instances(planted=True, max_atoms=16), seed=st.integers(0, 1000))
def test_same_seed_gives_the_same_plan(instance: Instance, seed: int) -> None:
    first = solve(instance.problem, time_limit=20.0, seed=seed, method="exact")
    second = solve(instance.problem, time_limit=20.0, seed=seed, method="exact")
    pd.testing.assert_series_equal(first.labels, second.labels)
    assert first.status == second.status
    assert first.objective == pytest.approx(second.objective, rel=1e-9)


@pytest.mark.parametrize("kind", ["delaunay", "grid"])
def test_planted_instance_generator_is_feasible(kind: str) -> None:
    """The planted generator really admits a plan in the band (guards the properties above)."""
    rng = np.random.default_rng(7)
    xy, edges = _delaunay(rng, 20) if kind == "delaunay" else _grid(rng, 20)
    households = _planted_households(rng, len(xy), edges)
    problem = Problem.from_arrays(households, xy, edges, band=BAND)
    assert nx.is_connected(nx.Graph(edges))
    solution = solve(problem, time_limit=10.0, method="exact")
    assert solution.status == "optimal"
    assert check_plan(problem, solution.labels) == []


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), continuity=st.sampled_from([0.0, 300.0]))
def test_centre_without_the_full_matrices_is_the_unit_cost_centre(seed: int, continuity: float) -> None:
    # Random connected units of a grid with major roads and two communities: the centre found
    # by searches limited to the unit's longest inner path is the one unit_cost picks.
    rng = np.random.default_rng(seed)
    side = 7
    xy = [(100.0 * i + rng.uniform(-20, 20), 100.0 * j) for j in range(side) for i in range(side)]
    edges = [(v, v + 1) for v in range(side * side) if v % side < side - 1]
    edges += [(v, v + side) for v in range(side * (side - 1))]
    major = (rng.random(len(edges)) < 0.3).astype(float)
    households = rng.integers(0, 300, side * side)
    community = rng.integers(0, 2, side * side)
    weights = Weights(continuity=continuity)

    def fresh() -> Problem:
        return Problem.from_arrays(
            households, xy, edges, edge_major=major, community=community, weights=weights
        )

    g = nx.grid_2d_graph(side, side)
    start = (int(rng.integers(side)), int(rng.integers(side)))
    unit = set(nx.bfs_tree(g, start, depth_limit=int(rng.integers(1, 4))).nodes)
    members = np.array(sorted(j * side + i for i, j in unit), dtype=np.int64)
    expected = fresh().unit_cost(members)[1]
    lean = fresh()
    assert lean.centre(members) == expected
    assert "dist" not in lean._cache  # no n x n matrix was built


def test_a_one_atom_unit_is_its_own_centre_without_the_full_matrices() -> None:
    # city's service radius asked for the centre of each unit; a one-atom unit used to build
    # the n x n distance and cost matrices (1.6 GB for Ottawa's 10,112 atoms).
    side = 5
    xy = [(100.0 * i, 100.0 * j) for j in range(side) for i in range(side)]
    edges = [(v, v + 1) for v in range(side * side) if v % side < side - 1]
    problem = Problem.from_arrays([100] * side * side, xy, edges)
    assert problem.centre(np.array([7])) == 7
    assert "dist" not in problem._cache and "cost" not in problem._cache
