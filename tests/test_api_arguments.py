"""Arguments of the Python API that no problem can have: one InputError naming each.

Found by scripting the API (session 10): arrays of the wrong shape were reshaped into
another problem, fractional edge ends truncated, NaN coordinates gave an "optimal"
plan of infinite cost, and wrong lengths or types ended in tracebacks from NumPy.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from redistrict.costs import CostParams, unit_costs
from redistrict.errors import InputError
from redistrict.evaluate import check_plan, plan_metrics, staff_needed
from redistrict.load import Inputs, load_inputs
from redistrict.problem import Band, Problem, Weights
from redistrict.solve import relative_gap, solve

N = 9
HOUSEHOLDS = [800] * N
XY = [(100.0 * (i % 3), 100.0 * (i // 3)) for i in range(N)]
EDGES = [(0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8), (0, 3), (3, 6), (1, 4), (4, 7), (2, 5), (5, 8)]


def _refused(fragment: str, **changes: Any) -> str:
    arguments: dict[str, Any] = {"households": HOUSEHOLDS, "xy": XY, "edges": EDGES, **changes}
    with pytest.raises(InputError) as info:
        Problem.from_arrays(**arguments)
    text = str(info.value)
    assert fragment in text, text
    return text


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"xy": np.array(XY).T}, "xy must have shape (9, 2), one (x, y) per atom, not (2, 9)"),
        ({"xy": XY[:-1]}, "xy must have shape (9, 2)"),
        ({"xy": [(math.nan, 0.0), *XY[1:]]}, "xy holds coordinates that are not finite at atoms 0"),
        ({"edges": [(0, 1, 2), (3, 4, 5)]}, "edges must have shape (m, 2)"),
        ({"edges": [(0.5, 1.7)]}, "edges must hold whole atom positions"),
        ({"edges": [(0, 9)]}, "edges refer to atoms that do not exist"),
        ({"households": [*HOUSEHOLDS[:-1], 1e19]}, "households must be non-negative whole numbers"),
        ({"households": ["800"] * N}, "households must hold numbers"),
        ({"edge_major": [math.nan] * len(EDGES)}, "edge_major must be finite and non-negative"),
        ({"edge_major": [0.5]}, "edge_major must hold one value per edge (12)"),
        ({"edge_length": [-1.0] * len(EDGES)}, "edge_length must be finite and non-negative"),
        ({"area": [-5.0] * N}, "area must be finite and non-negative"),
        ({"area": [1.0] * 3}, "area must hold one value per atom (9)"),
        ({"community": [0] * 4}, "community must hold one value per atom (9)"),
        ({"nodes": list("abcdefgh")}, "nodes must hold one label per atom (9), not 8"),
        ({"nodes": ["a"] * N}, "nodes must be distinct labels"),
        ({"band": (2000, 3000)}, "band must be a Band, e.g. Band(2000, 3000), not tuple"),
        ({"weights": {"deviation": 1.0}}, "weights must be a Weights"),
    ],
)
def test_arrays_no_problem_can_have_are_refused(changes: dict[str, Any], fragment: str) -> None:
    _refused(fragment, **changes)


def test_households_that_are_not_numbers_give_one_problem_naming_them() -> None:
    # The atom count used to be taken as 0 then, which added "xy must have shape (0, 2)" and
    # "positions must lie in 0..-1" to the one real problem.
    with pytest.raises(InputError) as info:
        Problem.from_arrays([*HOUSEHOLDS[:-1], None], XY, EDGES)
    assert info.value.problems == ["households must hold numbers; position 8 does not (e.g. None)"]
    with pytest.raises(InputError) as info:
        Problem.from_arrays("abc", XY, EDGES)
    assert len(info.value.problems) == 1
    mixed = Problem.from_arrays([*HOUSEHOLDS[:-1], 800.0], XY, EDGES)  # ints and a float: numbers
    assert mixed.households.tolist() == HOUSEHOLDS


def _graph() -> nx.Graph:
    g = nx.Graph()
    for i, (x, y) in enumerate(XY):
        g.add_node(i, households=800, x=x, y=y)
    g.add_edges_from(EDGES)
    return g


def test_graphs_no_problem_can_have_are_refused_with_every_problem() -> None:
    # A node without x, a text coordinate, a text edge length: KeyError, ValueError and
    # TypeError from inside from_graph, one at a time.
    g = _graph()
    del g.nodes[4]["x"]
    g.nodes[7]["y"] = "north"
    g.edges[0, 1]["length"] = "long"
    with pytest.raises(InputError) as info:
        Problem.from_graph(g)
    assert info.value.problems == [
        "node 4 has no 'x': every atom needs its centre's x and y in metres",
        "node attribute 'y' must be a number; not at nodes 7 ('north')",
        "edge attributes length and major_length must be numbers (metres); not at edges (0, 1)",
    ]
    with pytest.raises(InputError, match=r"graph must be a networkx\.Graph of atoms"):
        Problem.from_graph([(0, 1)])  # type: ignore[arg-type]


def test_graph_labels_of_several_types_and_missing_communities_are_read() -> None:
    g = nx.relabel_nodes(_graph(), {0: "a"})  # a text label among integers
    for v, c in zip(g.nodes, [pd.NA, None, "", math.nan, "c1", "c1", "c2", "c2", "c2"], strict=True):
        g.nodes[v]["community_id"] = c
    p = Problem.from_graph(g)
    assert p.nodes == (1, 2, 3, 4, 5, 6, 7, 8, "a")
    assert p.community is not None and p.community.tolist() == [-1, -1, -1, 0, 0, 1, 1, 1, -1]


def test_every_problem_of_the_arrays_is_listed_at_once() -> None:
    text = _refused("xy must have shape", xy=np.array(XY).T, area=[-1.0] * N, nodes=["a"] * N)
    assert "area must be finite and non-negative" in text and "nodes must be distinct" in text


@pytest.mark.parametrize(
    ("lo", "hi", "fragment"),
    [
        (2000.5, 3000.5, "band lower bound must be a whole number, not 2000.5"),
        (math.nan, 3000, "band lower bound must be a whole number, not nan"),
        ("2000", "3000", "band lower bound must be a whole number, not '2000'"),
    ],
)
def test_bands_of_other_than_whole_numbers_are_refused(lo: Any, hi: Any, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        Band(lo, hi)
    assert Band(np.int64(2000), np.int64(3000)).hi == 3000


@pytest.mark.parametrize(
    ("weights", "fragment"),
    [
        ({"deviation": -1.0}, "weights.deviation must be a finite non-negative number, not -1.0"),
        ({"major_road": math.nan}, "weights.major_road must be a finite non-negative number"),
        ({"area": 2.0}, "weights.area is a share and must lie in 0..1, not 2.0"),
        # 1e200 used to fail inside numpy (probabilities contain NaN), 1e308 to give an
        # infinite objective and "the exact model proved no contiguous plan exists"
        ({"deviation": 1e200}, "weights.deviation is 1e+200, more than 1e+09"),
        ({"major_road": 1e308}, "scale them all down"),
    ],
)
def test_weights_no_objective_can_use_are_refused(weights: dict[str, float], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        Weights(**weights)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"time_limit": -5}, "time_limit must be a positive number of seconds, not -5"),
        ({"time_limit": math.nan}, "time_limit must be a positive number of seconds, not nan"),
        ({"time_limit": "3"}, "time_limit must be a positive number of seconds, not '3'"),
        ({"method": "fast"}, "unknown method 'fast': use auto, exact or lns"),
        ({"budget": "cpu"}, "unknown budget 'cpu'"),
        ({"seed": -1}, "seed must be a whole number from 0"),
        # these used to be accepted: "cannot form True units", "optimal" for any plan
        ({"units": True}, "units must be a whole number of at least 1 (or None), not True"),
        ({"units": "3"}, "units must be a whole number of at least 1 (or None), not '3'"),
        ({"units": 0}, "units must be a whole number of at least 1"),
        ({"optimal_gap": 1.0}, "optimal_gap must be a number from 0 up to (not including) 1, not 1.0"),
        ({"optimal_gap": math.nan}, "optimal_gap must be a number from 0"),
        ({"target_gap": -1}, "target_gap must be a number from 0"),
        ({"exact_max": -5}, "exact_max must be a whole number of atoms, 0 or more, not -5"),
    ],
)
def test_solve_refuses_arguments_it_cannot_use(arguments: dict[str, Any], fragment: str) -> None:
    problem = Problem.from_arrays(HOUSEHOLDS, XY, EDGES, band=Band(2000, 3000))
    with pytest.raises(InputError) as info:
        solve(problem, **arguments)
    assert fragment in str(info.value)
    with pytest.raises(InputError, match="problem must be a Problem"):
        solve(None)  # type: ignore[arg-type]


def test_a_band_without_a_lower_bound_is_refused() -> None:
    # Band(0, 3000) limited the search to the smallest count of units and called the
    # plan optimal when a plan with more units cost less; units=4 was refused.
    problem = Problem.from_arrays([1000] * 4, [(100.0 * i, 0.0) for i in range(4)], [(0, 1), (1, 2), (2, 3)])
    lower = dataclasses.replace(problem, band=Band(0, 3000), _cache={})
    with pytest.raises(
        InputError, match=r"lower bound 0: a unit holds at least one household.*Band\(1, 3000\)"
    ):
        solve(lower, time_limit=2)
    with_one = dataclasses.replace(problem, band=Band(1, 3000), _cache={})
    assert solve(with_one, time_limit=2).labels.nunique() == 4


def test_an_empty_atom_in_another_component_warns_of_nothing() -> None:
    # weight 0 (no households, no area share) times an infinite distance was NaN: a
    # RuntimeWarning escaped solve() and assign_cost held NaN
    problem = Problem.from_arrays(
        [0, 600, 600], [(0.0, 0.0), (100.0, 0.0), (5000.0, 0.0)], [(0, 1)],
        band=Band(500, 700), weights=Weights(area=0.0),
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solution = solve(problem, time_limit=2)
    assert not np.isnan(problem.assign_cost).any()
    assert solution.labels.notna().all()


def test_a_gap_of_something_not_a_number_is_never_zero() -> None:
    assert relative_gap(math.nan, 10.0) == math.inf
    assert relative_gap(math.inf, 10.0) == math.inf
    assert relative_gap(10.0, math.nan) == math.inf
    assert relative_gap(10.0, 9.0) == pytest.approx(0.1)


def test_cost_parameters_accept_numpy_numbers() -> None:
    assert CostParams(households_per_staff=np.int64(250)).households_per_staff == 250


def test_solve_refuses_a_problem_without_atoms() -> None:
    empty = Problem.from_arrays([], np.zeros((0, 2)), [])
    with pytest.raises(InputError, match="the problem has no atoms"):
        solve(empty)


def test_metrics_refuse_labels_on_other_atoms() -> None:
    problem = Problem.from_arrays(HOUSEHOLDS, XY, EDGES, nodes=[f"a{i}" for i in range(N)])
    on_positions = pd.Series([1, 1, 1, 2, 2, 2, 3, 3, 3])  # 0..8, not the atoms' labels
    with pytest.raises(InputError, match="labels name 9 atoms the problem does not have"):
        plan_metrics(problem, on_positions)
    halves = pd.Series([1.5] * N, index=problem.nodes)
    with pytest.raises(InputError, match="labels must hold whole unit ids"):
        plan_metrics(problem, halves)
    with pytest.raises(InputError, match="labels must be a pandas Series"):
        check_plan(problem, [1] * N)  # type: ignore[arg-type]
    # text ids raised numpy's bare ValueError; an atom named twice used its last unit
    words = pd.Series(["a"] * N, index=problem.nodes)
    with pytest.raises(InputError, match="labels must hold whole unit ids; atom 'a0' has 'a'"):
        plan_metrics(problem, words)
    twice = pd.Series([1] * (N + 1), index=[*problem.nodes, "a0"])
    with pytest.raises(InputError, match="labels name 1 atoms more than once"):
        plan_metrics(problem, twice)


def test_costs_refuse_impossible_units() -> None:
    units = pd.DataFrame({"unit_id": [1, 2], "households": [2500.9, -2500]})
    with pytest.raises(InputError, match="households must be whole numbers of 0 or more; units 1, 2 are not"):
        unit_costs(units)
    with pytest.raises(InputError, match="new_committee must hold True/False"):
        unit_costs(pd.DataFrame({"unit_id": [1], "households": [2500], "new_committee": ["no"]}))
    with pytest.raises(InputError, match="households per worker must be a number of at least 1, not 0"):
        staff_needed(pd.Series([2500]), per=0)


def test_major_classes_given_as_one_string_are_split_at_commas(tmp_path: Path) -> None:
    from test_cli_errors import _blocks, _roads, _write

    blocks = _write(_blocks(), tmp_path / "blocks.gpkg")
    roads = _write(_roads().assign(rank=[1, 2, 3, 4, 5, 5, 5, 5]), tmp_path / "roads.gpkg")
    inputs = load_inputs(roads, blocks, "hh", road_class="rank", major_classes="1, 2")
    assert inputs.options["major_classes"] == ["1", "2"]
    assert int(inputs.roads["major"].sum()) == 2
    # typed with a Chinese input method: full-width commas and the enumeration comma
    inputs = load_inputs(roads, blocks, "hh", road_class="rank", major_classes="1，2、3")
    assert inputs.options["major_classes"] == ["1", "2", "3"]
    assert int(inputs.roads["major"].sum()) == 3


def test_run_plan_checks_its_options_before_building_anything(
    demo_inputs: Inputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A misspelt method, a negative time limit and an unknown solver were refused only after
    # the atoms and the graph were built (minutes on a city), and one at a time.
    from redistrict import pipeline

    inputs = demo_inputs

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the atoms were built before the options were checked")

    monkeypatch.setattr(pipeline, "build_atoms", never)
    options = pipeline.PlanOptions(solver="gurobi", method="fast", time_limit=-1, seed=-2, units=0)
    with pytest.raises(InputError) as info:
        pipeline.run_plan(inputs, options)
    assert info.value.problems == [
        "unknown solver 'gurobi': choose one of highs, cbc",
        "options.units must be a whole number of at least 1 (or None), not 0",
        "options.time_limit must be a positive number of seconds, not -1",
        "unknown method 'fast': use auto, exact or lns",
        "options.seed must be a whole number from 0 to 2**63 - 1, not -2",
    ]
