"""Atoms every plan must put together, and what the solver does with them (no geometry)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_certify import _partitions

from redistrict._component import absorb_empty
from redistrict._forced import forced_groups
from redistrict.problem import Band, Problem
from redistrict.solve import solve


def _problem(graph: nx.Graph, households: dict[int, int], band: Band) -> Problem:
    nodes = sorted(graph.nodes)
    pos = nx.spring_layout(graph, seed=0)
    xy = [(1000.0 * float(pos[v][0]), 1000.0 * float(pos[v][1])) for v in nodes]
    index = {v: i for i, v in enumerate(nodes)}
    edges = [(index[a], index[b]) for a, b in graph.edges]
    return Problem.from_arrays(np.array([households[v] for v in nodes]), xy, edges, band=band)


def _grid_with_pendant(pendant: int, cut: int) -> tuple[nx.Graph, dict[int, int]]:
    """A 4 x 4 grid of 100-household atoms; atom 16 hangs off atom 3 only."""
    g = nx.grid_2d_graph(4, 4)
    g = nx.convert_node_labels_to_integers(g, ordering="sorted")
    g.add_edge(3, 16)
    households = dict.fromkeys(g.nodes, 100)
    households[3] = cut
    households[16] = pendant
    return g, households


def test_a_small_piece_behind_a_cut_atom_is_forced_onto_it() -> None:
    g, h = _grid_with_pendant(pendant=81, cut=400)
    p = _problem(g, h, Band(150, 450))
    assert [g.tolist() for g in forced_groups(p, np.ones(p.n, bool))] == [[3, 16]]
    # Within the band together (or the piece big enough for a unit of its own): nothing to flag.
    assert forced_groups(_problem(g, h, Band(150, 500)), np.ones(17, bool)) == []
    assert forced_groups(_problem(g, h, Band(80, 450)), np.ones(17, bool)) == []


def test_the_piece_on_the_far_side_of_the_search_root_is_found_too() -> None:
    # Path 0-1-2-3: the depth-first search starts at atom 0, so the small piece {0}
    # lies on the parent side of cut atom 1.
    g = nx.path_graph(4)
    p = _problem(g, {0: 50, 1: 420, 2: 300, 3: 300}, Band(150, 450))
    assert [x.tolist() for x in forced_groups(p, np.ones(4, bool))] == [[0, 1]]


def test_overlapping_forced_pieces_merge_and_absent_atoms_are_ignored() -> None:
    # A chain 0-1-2 hanging off a triangle 2-3-4: with lo = 250, {0} is forced onto 1
    # and {0, 1} onto 2, so 0, 1, 2 share a unit (150 + 50 + 400 = 600 > 500).
    g = nx.Graph([(0, 1), (1, 2), (2, 3), (3, 4), (4, 2)])
    h = {0: 150, 1: 50, 2: 400, 3: 300, 4: 300}
    p = _problem(g, h, Band(250, 500))
    assert [x.tolist() for x in forced_groups(p, np.ones(5, bool))] == [[0, 1, 2]]
    keep = np.ones(5, bool)
    keep[0] = False  # without atom 0, {1} is forced onto 2, but they fit: 450 <= 500
    assert forced_groups(p, keep) == []


def test_solve_keeps_a_forced_group_as_one_flagged_unit_and_plans_the_rest() -> None:
    g, h = _grid_with_pendant(pendant=81, cut=400)
    p = _problem(g, h, Band(150, 450))
    sol = solve(p, time_limit=3.0, budget="work", seed=0)
    labels = sol.labels.to_numpy()
    assert labels[3] == labels[16]
    assert (labels == labels[3]).sum() == 2
    assert sol.unit_flags[int(labels[3])] == "above band"
    assert (sol.unit_flags.drop(int(labels[3])) == "ok").all()
    assert any("atoms 3, 16 must share one unit" in n and "481 households" in n for n in sol.notes)
    assert sol.bound is None and sol.status == "heuristic"
    loads = [int(p.households[labels == u].sum()) for u in np.unique(labels)]
    assert sum(loads) == p.total and min(loads) > 0


def test_empty_atoms_cut_off_by_an_oversize_atom_join_its_unit() -> None:
    # A park (0 households) whose only neighbour is a block above the band was left in
    # no unit, and the run said its residents were "cut off from every atom with households".
    p = Problem.from_arrays(
        [0, 3500, 1000, 1000, 1000], [(100.0 * i, 0.0) for i in range(5)],
        [(i, i + 1) for i in range(4)], band=Band(2000, 3000),
    )  # fmt: skip
    sol = solve(p, time_limit=2.0, budget="work", seed=0)
    labels = sol.labels.tolist()
    assert labels[0] == labels[1] and labels[2] == labels[3] == labels[4] != labels[1]
    assert sol.unit_flags[labels[1]] == "oversize atom"
    assert sol.components["method"].tolist()[-1] == "joined"
    assert sol.objective == pytest.approx(p.plan_cost(sol.labels.to_numpy() - 1) / p.scale)


def test_empty_units_join_a_neighbour() -> None:
    # Path 0-1-2-3-4-5 with households on 0, 3 and 5 only, every atom its own unit.
    p = Problem.from_arrays(
        np.array([100, 0, 0, 100, 0, 100]), [(100.0 * i, 0.0) for i in range(6)],
        [(i, i + 1) for i in range(5)], band=Band(50, 150),
    )  # fmt: skip
    out = absorb_empty(p, np.arange(6), np.arange(6, dtype=np.int64))
    assert out.tolist() == [0, 0, 1, 1, 1, 2]
    for u in np.unique(out):
        assert p.is_contiguous(np.flatnonzero(out == u))


@pytest.mark.parametrize("households", [[0, 0, 0], [10, 20, 30]])
def test_absorb_leaves_regions_without_empty_units_or_without_households(households: list[int]) -> None:
    p = Problem.from_arrays(
        np.array(households), [(100.0 * i, 0.0) for i in range(3)], [(0, 1), (1, 2)], band=Band(0, 100)
    )
    lab = np.arange(3, dtype=np.int64)
    assert absorb_empty(p, np.arange(3), lab).tolist() == [0, 1, 2]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    n=st.integers(3, 8),
    extra=st.integers(0, 4),
    seed=st.integers(0, 10_000),
    lo=st.integers(50, 300),
    width=st.integers(0, 300),
)
def test_a_flagged_group_means_no_plan_keeps_every_unit_in_the_band(
    n: int, extra: int, seed: int, lo: int, width: int
) -> None:
    # Soundness, by brute force over every partition of a small random connected graph.
    rng = np.random.default_rng(seed)
    g = nx.random_labeled_tree(n, seed=seed)
    for _ in range(extra):
        a, b = rng.integers(0, n, 2).tolist()
        if a != b:
            g.add_edge(a, b)
    h = {v: int(rng.integers(0, 250)) for v in g.nodes}
    p = _problem(g, h, Band(lo, lo + width))
    groups = forced_groups(p, np.ones(n, bool))
    feasible = any(
        all(
            lo <= sum(h[v] for v in unit) <= lo + width and nx.is_connected(g.subgraph(unit)) for unit in part
        )
        for part in _partitions(list(range(n)))
    )
    if groups:
        assert not feasible
