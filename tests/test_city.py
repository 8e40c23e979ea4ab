"""City scale: decomposition into subproblems, Dask solving, cache, merged outputs."""

from __future__ import annotations

import dataclasses
import json
import types
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from redistrict import _city_solve, city
from redistrict._clock import overrun_note
from redistrict._map_boxes import title_box
from redistrict._map_types import MapInfo
from redistrict.city import (
    SYNCHRONOUS,
    CacheReport,
    Group,
    decompose,
    formed_notes,
    merge_solutions,
    solve_groups,
)
from redistrict.cli import app
from redistrict.errors import InfeasibleError, InputError
from redistrict.load import Inputs
from redistrict.pipeline import require_in_band
from redistrict.problem import Band, Problem


def grid(
    rows: int, cols: int, households: np.ndarray | int, community: list[str | None]
) -> tuple[Problem, list[str | None]]:
    """A rows x cols grid of 100 m squares, atom ``r * cols + c``."""
    n = rows * cols
    h = np.full(n, households) if np.isscalar(households) else np.asarray(households)
    xy = [(100.0 * (i % cols), 100.0 * (i // cols)) for i in range(n)]
    edges = [(i, i + 1) for i in range(n) if i % cols < cols - 1]
    edges += [(i, i + cols) for i in range(n - cols)]
    problem = Problem.from_arrays(h, xy, edges, edge_length=np.full(len(edges), 100.0), band=Band(2000, 3000))
    return problem, community


def layout(rows: int, cols: int, spec: dict[str, list[tuple[int, int]]]) -> list[str | None]:
    out: list[str | None] = [None] * (rows * cols)
    for name, cells in spec.items():
        for r, c in cells:
            out[r * cols + c] = name
    return out


def cells(rows: range, cols: range) -> list[tuple[int, int]]:
    return [(r, c) for r in rows for c in cols]


def groups_as_sets(groups: list[Group]) -> list[tuple[str, ...]]:
    return [g.communities for g in groups]


def check_partition_of_atoms(problem: Problem, groups: list[Group]) -> None:
    allpos = np.concatenate([g.positions for g in groups])
    assert sorted(allpos.tolist()) == list(range(problem.n))
    for g in groups:
        assert problem.is_contiguous(g.positions)
        assert g.households == int(problem.households[g.positions].sum())


# ------------------------------------------------------------------ decompose
def test_undersized_community_merges_with_longest_boundary_neighbour() -> None:
    # 4 x 9 grid of 250 households: A (cols 0-2) and B (cols 3-5) hold 3,000 each;
    # C (col 6, rows 0-1) holds 500 and touches B along 200 m and D along 300 m.
    spec = {
        "A": cells(range(4), range(0, 3)),
        "B": cells(range(4), range(3, 6)),
        "C": [(0, 6), (1, 6)],
        "D": [(2, 6), (3, 6), *cells(range(4), range(7, 9))],
    }
    problem, community = grid(4, 9, 250, layout(4, 9, spec))
    groups = decompose(problem, community)
    check_partition_of_atoms(problem, groups)
    assert groups_as_sets(groups) == [("A",), ("B",), ("C", "D")]
    assert [g.households for g in groups] == [3000, 3000, 3000]
    assert groups[2].note == "merged communities C and D: C (500 households) is below the band"
    assert groups[2].merged and not groups[2].stuck
    assert groups[0].note == groups[1].note == ""


def test_gap_community_is_merged_and_oversized_stays_alone() -> None:
    # A: 12 atoms x 300 = 3,600 households (between 1 x 3,000 and 2 x 2,000): must merge.
    # B: 24 atoms x 300 = 7,200 (3 units): feasible, stays alone when nothing joins it.
    # E: 8 atoms x 300 = 2,400, in band.
    spec = {
        "A": cells(range(4), range(0, 3)),
        "E": cells(range(4), range(3, 5)),
        "B": cells(range(4), range(5, 11)),
    }
    problem, community = grid(4, 11, 300, layout(4, 11, spec))
    groups = decompose(problem, community)
    check_partition_of_atoms(problem, groups)
    assert groups_as_sets(groups) == [("A", "E"), ("B",)]
    assert "in a gap of the band" in groups[0].note
    for g in groups:
        assert len(problem.band.unit_counts(g.households)) > 0


def test_an_atom_above_the_band_is_set_apart_when_judging_a_group() -> None:
    # A chain: S is one atom of 3,200 households (above the band, a unit of its own in any
    # plan), L four atoms of 400, R five of 500. L (1,600) merges with S (the tie on the
    # boundary goes to the lower piece): 4,800 households could form 2 units, but beside S's
    # unit only L's 1,600 are left, below the band, so the group must take in R as well.
    h = np.array([3200] + [400] * 4 + [500] * 5)
    spec = {"S": [(0, 0)], "L": cells(range(1), range(1, 5)), "R": cells(range(1), range(5, 10))}
    problem, community = grid(1, 10, h, layout(1, 10, spec))
    groups = decompose(problem, community)
    check_partition_of_atoms(problem, groups)
    assert groups_as_sets(groups) == [("L", "R", "S")]
    assert not groups[0].stuck
    assert groups[0].note == (
        "merged communities L, R and S: L (1,600 households) is below the band; "
        "L and S (4,800 households together) are below the band once the 3,200 households "
        "of atoms above it (units of their own) are set apart"
    )
    # S alone needs no merge: its one atom is its unit.
    problem, community = grid(1, 10, h, layout(1, 10, {"S": [(0, 0)], "R": cells(range(1), range(1, 10))}))
    assert groups_as_sets(decompose(problem, community)) == [("S",), ("R",)]


def test_a_community_without_households_still_merges() -> None:
    # A park community P (no households) beside A: setting atoms above the band apart must
    # not make an empty piece "feasible" and leave it in no unit.
    h = np.array([0, 0] + [500] * 5)
    spec = {"P": cells(range(1), range(0, 2)), "A": cells(range(1), range(2, 7))}
    problem, community = grid(1, 7, h, layout(1, 7, spec))
    groups = decompose(problem, community)
    assert groups_as_sets(groups) == [("A", "P")]
    assert groups[0].note == "merged communities A and P: P (0 households) is below the band"


def test_atoms_without_community_join_longest_boundary_neighbour() -> None:
    # Column 3 has no community: it touches A and B along 400 m each, and the tie goes
    # to the piece with the lower first atom (A). The lone atom (3, 7) touches only B.
    spec = {
        "A": cells(range(4), range(0, 3)),
        "B": [*cells(range(4), range(4, 7)), (0, 7), (1, 7), (2, 7)],
    }
    problem, community = grid(4, 8, 250, layout(4, 8, spec))
    groups = decompose(problem, community)
    check_partition_of_atoms(problem, groups)
    assert groups_as_sets(groups) == [("A",), ("B",)]
    assert 3 in groups[0].positions.tolist()  # (0, 3) went to A
    assert 31 in groups[1].positions.tolist()  # (3, 7) went to B
    assert [g.households for g in groups] == [4000, 4000]


def test_partition_boundaries_are_never_crossed() -> None:
    # A chain B B B B - C - D D D D: C (500 households) shares 200 m with B (district
    # west) and 100 m with D (district east, like C): it must merge with D.
    h = [625] * 4 + [500] + [625] * 4
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8)]
    length = [100, 100, 100, 200, 100, 100, 100, 100]
    xy = [(100.0 * i, 0.0) for i in range(9)]
    problem = Problem.from_arrays(h, xy, edges, edge_length=length, band=Band(2000, 3000))
    community = ["B"] * 4 + ["C"] + ["D"] * 4
    district = ["west"] * 4 + ["east"] * 5
    groups = decompose(problem, community, district)
    check_partition_of_atoms(problem, groups)
    assert groups_as_sets(groups) == [("B",), ("C", "D")]
    assert [g.partition for g in groups] == ["west", "east"]
    # Without districts C joins B, with which it shares the longer boundary.
    assert groups_as_sets(decompose(problem, community)) == [("B", "C"), ("D",)]


def test_a_piece_kept_apart_by_a_partition_line_says_so() -> None:
    # C (500 households, district east) touches only B (district west): it cannot merge, and
    # subproblems.csv said it "touches no other group", which it does, across the line.
    h = [625] * 4 + [500]
    edges = [(0, 1), (1, 2), (2, 3), (3, 4)]
    xy = [(100.0 * i, 0.0) for i in range(5)]
    problem = Problem.from_arrays(h, xy, edges, edge_length=[100.0] * 4, band=Band(2000, 3000))
    groups = decompose(problem, ["B"] * 4 + ["C"], ["west"] * 4 + ["east"])
    stuck = [g for g in groups if g.stuck]
    assert [g.communities for g in stuck] == [("C",)]
    assert "touches no other group of its area (east) to merge with; the --partition-by line" in stuck[0].note
    alone = decompose(
        Problem.from_arrays([500], [(0.0, 0.0)], np.zeros((0, 2)), band=Band(2000, 3000)), ["C"]
    )
    assert alone[0].note.endswith("touches no other group to merge with")


def test_isolated_infeasible_piece_is_kept_and_explained() -> None:
    h = [900, 900, 2500]
    problem = Problem.from_arrays(h, [(0, 0), (100, 0), (5000, 0)], [(0, 1)], band=Band(2000, 3000))
    groups = decompose(problem, ["X", "X", "Y"])
    assert groups_as_sets(groups) == [("X",), ("Y",)]
    assert "touches no other group to merge with" in groups[0].note
    assert groups[0].households == 1800
    sols, _ = solve_groups(problem, groups, time_limit=5.0, seed=0, scheduler=SYNCHRONOUS)
    notes = merge_solutions(problem, groups, sols).notes
    assert "1 subproblem cannot form units of 2,000-3,000 and has no neighbouring group" in " ".join(notes)
    assert not any("join communities" in n for n in notes), notes


def chain(households: list[int], community: list[str], edges: list[tuple[int, int]]) -> list[Group]:
    """Groups of atoms on a line, 100 m apart, joined by ``edges`` of 100 m."""
    xy = [(100.0 * i, 0.0) for i in range(len(households))]
    problem = Problem.from_arrays(households, xy, edges, band=Band(2000, 3000))
    return decompose(problem, community)


def test_chain_of_merges_names_each_step_once() -> None:
    # A (300) joins B (500); A and B (800) join C (2,400); the three (3,200, a gap)
    # join D (2,500). Each note names the piece that could not form units, never
    # the nested history of what it was merged with.
    groups = chain(
        [300, 500, 1200, 1200, 1250, 1250], ["A", "B", "C", "C", "D", "D"], [(i, i + 1) for i in range(5)]
    )
    assert groups_as_sets(groups) == [("A", "B", "C", "D")]
    assert groups[0].note == (
        "merged communities A, B, C and D: A (300 households) is below the band; "
        "A and B (800 households together) are below the band; "
        "A, B and C (3,200 households together) are in a gap of the band"
    )
    assert groups[0].merged and not groups[0].stuck


def test_merged_group_that_is_still_too_small_says_so_once() -> None:
    groups = chain([900, 1000, 2500], ["X", "Y", "Z"], [(0, 1)])
    assert groups_as_sets(groups) == [("X", "Y"), ("Z",)]
    assert groups[0].note == (
        "merged communities X and Y: X (900 households) is below the band; X and Y (1,900 households "
        "together) cannot form units of 2,000-3,000 and touch no other group to merge with"
    )
    assert groups[0].merged and groups[0].stuck
    assert groups[1].note == "" and not (groups[1].merged or groups[1].stuck)


def test_a_part_of_a_community_is_named_so() -> None:
    # Community A in two pieces that do not touch: the 100-household one joins B.
    groups = chain([100, 2500, 2400, 1], ["A", "B", "A", None], [(0, 1), (1, 2), (2, 3)])
    assert groups_as_sets(groups) == [("A", "B"), ("A",)]
    assert groups[0].note == "merged communities A and B: part of A (100 households) is below the band"
    assert groups[1].note == ""


def test_merged_groups_are_counted_in_the_notes() -> None:
    problem, groups = random_city()
    notes = formed_notes(problem, groups)
    assert any(n.startswith("1 subproblem joins communities that could not form units") for n in notes)
    # A note on how the plan was formed, not one of the solver's warnings.
    sols, _ = solve_groups(problem, groups, time_limit=30.0, seed=3, scheduler=SYNCHRONOUS)
    assert not any("joins communities" in n for n in merge_solutions(problem, groups, sols).notes)


def test_merged_pieces_without_communities_are_not_called_communities() -> None:
    # --partition-by without communities: an atom of no area joins one, and no community is involved.
    problem = Problem.from_arrays(
        [2500, 10, 2400], [(0, 0), (100, 0), (200, 0)], [(0, 1), (1, 2)], band=Band(2000, 3000)
    )
    groups = decompose(problem, [None, None, None], ["w", None, "e"])
    assert [g.merged for g in groups] == [True, False]
    assert formed_notes(problem, groups) == [
        "1 subproblem joins pieces of the territory that could not form units of 2,000-3,000 on their "
        "own (see subproblems.csv, column 'formed')"
    ]


def test_decompose_rejects_wrong_lengths() -> None:
    problem, community = grid(2, 2, 500, ["A"] * 4)
    with pytest.raises(ValueError, match="one value per atom"):
        decompose(problem, community[:3])


# -------------------------------------------------------------------- solving
def random_city() -> tuple[Problem, list[Group]]:
    """4 x 12 grid, seeded households, eight 2 x 3 communities, one of them undersized."""
    rng = np.random.default_rng(7)
    rows, cols = 4, 12
    h = rng.integers(600, 900, size=rows * cols)
    community = [f"c{(r // 2) * 4 + (c // 3):02d}" for r in range(rows) for c in range(cols)]
    h[[i for i, c in enumerate(community) if c == "c03"]] = 150
    problem, _ = grid(rows, cols, h, community)
    return problem, decompose(problem, community)


def plan_labels(problem: Problem, groups: list[Group], **kwargs: Any) -> tuple[pd.Series, CacheReport]:
    sols, report = solve_groups(problem, groups, time_limit=30.0, seed=3, **kwargs)
    merged = merge_solutions(problem, groups, sols)
    return merged.labels, report


def test_the_city_gap_says_it_holds_within_the_subproblems() -> None:
    # The merged bound is the sum of the groups' bounds: a bound on plans that keep every
    # unit inside its group only. The map showed it as a plain gap ("0.8 %" where `plan`
    # on the same area shows that no bound can be that close).
    problem, groups = random_city()
    sols, _ = solve_groups(problem, groups, time_limit=5.0, seed=3, scheduler=SYNCHRONOUS)
    merged = merge_solutions(problem, groups, sols)
    assert merged.bound is not None and merged.bound_scope == "subproblems"
    assert any("only with plans that keep every unit inside its subproblem" in n for n in merged.notes)
    assert any("does not compare with `redistrict plan`'s on the same area" in n for n in merged.notes)
    info = MapInfo(
        title="t", band=(2000, 3000), status="feasible", gap=0.008, totals={}, date="2026-01-01",
        gap_within_subproblems=True,
    )  # fmt: skip
    assert "可行（未证明最优，差距 0.8%，仅与单元不跨子问题的方案比较）" in title_box(info, "zh")
    assert "among plans keeping each unit inside its subproblem" in title_box(info, "en")
    one = merge_solutions(problem, groups[:1], sols[:1])
    assert one.bound_scope == "all"
    # Every subproblem proved optimal: the city plan is optimal only when it is one subproblem
    # (it was called "optimal" although plans across the subproblems' lines were never looked at).
    proved = [dataclasses.replace(s, status="optimal", gap=0.0, bound=s.objective) for s in sols]
    assert merge_solutions(problem, groups, proved).status == "feasible"
    assert merge_solutions(problem, groups[:1], proved[:1]).status == "optimal"


def test_safety_limit_notes_are_summed_up_and_do_not_fail_strict() -> None:
    problem, groups = random_city()
    sols, _ = solve_groups(problem, groups, time_limit=5.0, seed=3, scheduler=SYNCHRONOUS)
    # Two subproblems as a work budget reports them when its wall-clock safety limit stopped a run.
    sols = [
        dataclasses.replace(s, notes=(*s.notes, overrun_note(1))) if i in (0, 2) else s
        for i, s in enumerate(sols)
    ]
    merged = merge_solutions(problem, groups, sols)
    overrun = [n for n in merged.notes if "safety limit" in n]
    assert overrun == [
        "2 subproblems (0, 2): a solver run hit the wall-clock safety limit of the work budget: "
        "their plans may differ on another machine"
    ]
    # --strict lists only what puts units outside the band.
    units = pd.DataFrame({"unit_id": [1, 2], "households": [2500, 3400], "in_band": [True, False]})
    units["status"] = ["ok", "above band"]
    result = types.SimpleNamespace(
        units=units,
        options=types.SimpleNamespace(scenario=None, band=Band(2000, 3000)),
        solution=merged,
    )
    with pytest.raises(InfeasibleError) as caught:
        require_in_band(result)  # type: ignore[arg-type]
    assert caught.value.problems[0].startswith("unit 2 holds 3,400 households")
    assert not any("safety limit" in p for p in caught.value.problems)


def test_two_dask_workers_give_the_single_process_plan() -> None:
    problem, groups = random_city()
    assert [g.communities for g in groups if len(g.communities) > 1] == [("c03", "c07")]
    assert all(len(g.positions) <= 30 for g in groups)  # exact model: deterministic
    reference, rep1 = plan_labels(problem, groups, scheduler=SYNCHRONOUS)
    dask_labels, rep2 = plan_labels(problem, groups, workers=2)
    assert rep1.scheduler == "synchronous"
    assert rep2.scheduler == "local" and rep2.workers == 2
    assert rep2.solved == len(groups)
    pd.testing.assert_series_equal(dask_labels, reference)
    # Every household is in exactly one unit, units are numbered 1..k.
    assert reference.notna().all()
    assert sorted(reference.unique().tolist()) == list(range(1, reference.max() + 1))
    loads = pd.Series(problem.households, index=reference.index).groupby(reference).sum()
    assert int(loads.sum()) == problem.total


def test_units_are_numbered_in_group_order() -> None:
    problem, groups = random_city()
    labels, _ = plan_labels(problem, groups, scheduler=SYNCHRONOUS)
    first_unit = [int(labels.iloc[g.positions].min()) for g in groups]
    assert first_unit == sorted(first_unit)
    for g in groups:  # no unit spans two groups
        inside = set(labels.iloc[g.positions].tolist())
        outside = set(labels.drop(labels.index[g.positions]).tolist())
        assert not inside & outside


def test_cache_resumes_without_solving(tmp_path: Path) -> None:
    problem, groups = random_city()
    cache = tmp_path / "cache"
    first, rep1 = plan_labels(problem, groups, scheduler=SYNCHRONOUS, cache_dir=cache)
    assert (rep1.solved, rep1.cached) == (len(groups), 0)
    files = sorted(cache.glob("*.json"))
    assert len(files) == len(groups)
    again, rep2 = plan_labels(problem, groups, scheduler=SYNCHRONOUS, cache_dir=cache)
    assert (rep2.solved, rep2.cached) == (0, len(groups))
    pd.testing.assert_series_equal(again, first)
    # An interrupted run: one subproblem missing, one cache file damaged.
    files[0].unlink()
    files[1].write_text("{not json", encoding="utf-8")
    resumed, rep3 = plan_labels(problem, groups, scheduler=SYNCHRONOUS, cache_dir=cache)
    assert (rep3.solved, rep3.cached) == (2, len(groups) - 2)
    pd.testing.assert_series_equal(resumed, first)
    # Other parameters, other keys: nothing reused.
    sols, rep4 = solve_groups(
        problem, groups, time_limit=30.0, seed=4, scheduler=SYNCHRONOUS, cache_dir=cache
    )
    assert rep4.solved == len(groups) and not any(s.cached for s in sols)


def test_bad_worker_count_and_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    problem, groups = random_city()
    with pytest.raises(InputError, match="--workers must be at least 1"):
        solve_groups(problem, groups, workers=0)
    monkeypatch.setattr(_city_solve, "_CONNECT_TIMEOUT_S", 1)
    with pytest.raises(InputError, match="cannot connect to the Dask scheduler"):
        solve_groups(problem, groups, scheduler="tcp://127.0.0.1:9")


# ------------------------------------------------------------------- real data
def test_city_command_on_ottawa_testcase(ottawa_testcase: Path, tmp_path: Path) -> None:
    src = str(ottawa_testcase)
    out = tmp_path / "plan"
    args = [
        "city", "--roads", f"{src}:roads", "--blocks", f"{src}:dissemination_blocks",
        "--households", "dburdwell2021", "--residents", "dbpop2021", "--road-class", "RANK",
        "--communities", f"{src}:ons_neighbourhoods", "--community-id", "ONS_ID",
        "--partition-by", "ONS_ID_gen3", "--atoms", "blocks", "--time-limit", "2",
        "--scheduler", "synchronous", "--out", str(out), "--lang", "en",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for name in ("plan.gpkg", "summary.csv", "communities.csv", "map.html", "run.json", "subproblems.csv"):
        assert (out / name).is_file(), name
    summary = pd.read_csv(out / "summary.csv")
    assert int(summary["households"].sum()) == 32_843
    # Costs and continuity, as for `plan` (communities were given).
    for col in ("main_community", "households_moved", "new_committee", "one_time_yuan", "annual_yuan"):
        assert col in summary.columns, col
    assert (summary["staff_needed"] == -(-summary["households"] // 250)).all()
    sub = pd.read_csv(out / "subproblems.csv", dtype={"communities": str, "partition": str})
    assert sorted(sub["communities"]) == ["3024", "3104", "3115"]
    assert (sub["communities"] == sub["partition"]).all()
    assert int(sub["households"].sum()) == 32_843
    assert int(sub["units"].sum()) == len(summary)
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["city"]["subproblems"] == 3 and record["city"]["solved"] == 3
    assert record["city"]["partition_by"] == "ONS_ID_gen3"  # to repeat the run
    assert (tmp_path / "plan.cache").is_dir()
    # Rerun: everything from the cache, same plan.
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "(0 solved, 3 from the cache, synchronous)" in " ".join(again.output.split())  # no "0 workers"
    pd.testing.assert_frame_equal(pd.read_csv(out / "summary.csv"), summary)


def test_unknown_partition_column_is_reported(ottawa_testcase: Path, tmp_path: Path) -> None:
    src = str(ottawa_testcase)
    args = [
        "city", "--roads", f"{src}:roads", "--blocks", f"{src}:dissemination_blocks",
        "--households", "dburdwell2021", "--partition-by", "district", "--band", "9000", "8000",
        "--out", str(tmp_path / "x"),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "lower bound 9000 is above the upper bound 8000" in text
    assert not (tmp_path / "x").exists()
    args[args.index("9000") : args.index("8000") + 1] = ["2000", "3000"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "--partition-by 'district'" in text and "ONS_ID_gen3" in text
    assert "households," not in text.split("choose one of")[1]  # redistrict's own column
    # ... nor may that column be given: it partitioned on household counts (146 units, 0 in band).
    counts = [*args]
    counts[counts.index("district")] = "households"
    result = CliRunner().invoke(app, counts)
    assert result.exit_code == 2
    assert "--partition-by 'households': that column holds the blocks' household (or resident) counts" in (
        " ".join(result.output.split())
    )
    args[args.index("--partition-by") : args.index("district") + 1] = ["--workers", "0"]
    result = CliRunner().invoke(app, [*args[:2], "missing.gpkg", *args[3:]])
    assert result.exit_code == 2
    # refused before any input is read
    assert " ".join(result.output.split()).startswith(
        "error: invalid input: --workers must be at least 1, not 0"
    )


def test_area_of_an_atom_is_that_of_most_of_its_households() -> None:
    blocks = pd.DataFrame(
        {"households": [10, 30, 5, 0, 7], "district": [1.0, 2.0, 2.0, 3.0, None]},
        index=pd.Index([100, 101, 102, 103, 104]),
    )
    block_atom = pd.Series([0, 0, 1, 2, 3], index=blocks.index)
    notes: list[str] = []
    got = city._atom_partition(blocks, block_atom, "district", [0, 1, 2, 3, 4], notes)  # type: ignore[arg-type]
    assert got == ["2", "2", "3", None, None]
    assert len(notes) == 1 and "1 block has no value in column 'district'" in notes[0]


def test_options_a_city_plan_cannot_honour_are_refused_before_solving(demo_inputs: Inputs) -> None:
    # run_city took PlanOptions and dropped units, locks and a residents band without a word:
    # asked for 9 units it gave 12.
    from redistrict.locks import Locks
    from redistrict.pipeline import PlanOptions
    from redistrict.scenario import parse_scenario

    inputs = demo_inputs
    rural = parse_scenario(
        {"name": "rural", "allow_change": "oversized_undersized", "units": 3,
         "band": {"unit": "residents", "lo": 8000, "hi": 10000}}
    )  # fmt: skip
    options = PlanOptions(units=9, locks=Locks(source="locked.csv"), scenario=rural)
    with pytest.raises(InputError) as info:
        city.run_city(inputs, options, scheduler="synchronous")
    text = str(info.value)
    for fragment in (
        "options.units (9): a city plan cannot fix its number of units",
        "options.locks: a city plan cannot keep locked units",
        "scenario 'rural' counts its band in residents",
        "scenario 'rural' sets allow_change = \"oversized_undersized\"",
        "scenario 'rural' sets units = 3",
    ):
        assert fragment in text
    assert "run_plan" in text


def test_subproblems_keep_the_names_of_their_atoms_for_their_notes() -> None:
    # city solved its subproblems without Problem.places: their notes named components and
    # atom ids where plan names communities, roads and barriers.
    from redistrict._city_cache import cache_key, group_payload
    from redistrict._city_solve import _places
    from redistrict.problem import Places

    problem, groups = random_city()
    names = {v: f"社区{i // 12}" for i, v in enumerate(problem.nodes)}
    cuts = {problem.nodes[0]: ((problem.nodes[1], "river.gpkg:river"),)}
    named = dataclasses.replace(problem, places=Places(names, "community", cuts))
    payload = group_payload(named, groups[0], {"seed": 0})
    places = _places(payload)
    assert places is not None and places.kind == "community"
    members = [problem.nodes[i] for i in groups[0].positions.tolist()]
    assert dict(places.names) == {v: names[v] for v in members}
    if problem.nodes[0] in members:
        assert places.cuts[problem.nodes[0]] == ((problem.nodes[1], "river.gpkg:river"),)
    # the names are part of the cache key: a cached group's notes name this run's communities
    assert cache_key(payload) != cache_key(group_payload(problem, groups[0], {"seed": 0}))
    assert _places(group_payload(problem, groups[0], {"seed": 0})) is None


def test_city_command_takes_a_scenario(ottawa_testcase: Path, tmp_path: Path) -> None:
    src = str(ottawa_testcase)
    scenario = tmp_path / "wide.toml"
    scenario.write_text(
        'name = "wide"\n[band]\nunit = "households"\nlo = 1500\nhi = 3500\n'
        "[costs]\nhouseholds_per_staff = 300\nnew_committee_yuan = 1000000\n",
        encoding="utf-8",
    )
    out = tmp_path / "plan"
    args = [
        "city", "--roads", f"{src}:roads", "--blocks", f"{src}:dissemination_blocks",
        "--households", "dburdwell2021", "--road-class", "RANK",
        "--communities", f"{src}:ons_neighbourhoods", "--community-id", "ONS_ID",
        "--atoms", "blocks", "--time-limit", "1", "--scheduler", "synchronous", "--no-cache",
        "--out", str(out), "--lang", "en", "--scenario", str(scenario),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["scenario"]["name"] == "wide"
    assert record["scenario"]["band"]["lo"] == 1500 and record["scenario"]["band"]["hi"] == 3500
    assert record["scenario"]["costs"]["households_per_staff"] == 300
    summary = pd.read_csv(out / "summary.csv")
    assert int(summary["households"].sum()) == 32_843
    # The band, staff and costs are the scenario's, not the defaults.
    assert (summary["in_band"] == summary["households"].between(1500, 3500)).all()
    assert (summary["households"] > 3000).any() or (summary["households"] < 2000).any()
    assert (summary["staff_needed"] == -(-summary["households"] // 300)).all()
    new = summary["new_committee"].astype(bool)
    assert new.any() and (summary.loc[new, "one_time_yuan"] >= 1_000_000).all()
    assert (summary.loc[new, "one_time_yuan"] < 3_000_000).all()
    assert "wide" in (out / "map.html").read_text(encoding="utf-8")


def test_city_refuses_a_scenario_it_cannot_honour_before_reading(tmp_path: Path) -> None:
    base = [
        "city", "--roads", "missing.gpkg:roads", "--blocks", "missing.gpkg:blocks",
        "--households", "h", "--out", str(tmp_path / "x"),
    ]  # fmt: skip
    rural = str(Path(__file__).parents[1] / "data" / "scenarios" / "rural.toml")
    result = CliRunner().invoke(app, [*base, "--scenario", rural])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "scenario 'rural' counts its band in residents" in text
    assert "redistrict plan" in text and "missing.gpkg" not in text
    plain = str(Path(__file__).parents[1] / "data" / "scenarios" / "target-2500.toml")
    result = CliRunner().invoke(app, [*base, "--scenario", plain, "--band", "2000", "3000"])
    assert result.exit_code == 2
    assert "--band/--target and --scenario" in " ".join(result.output.split())
    # A --target outside the default band is not judged against it: the scenario sets the band.
    for command in ("city", "plan"):
        result = CliRunner().invoke(app, [command, *base[1:], "--scenario", rural, "--target", "9000"])
        assert result.exit_code == 2
        text = " ".join(result.output.split())
        assert "--band/--target and --scenario" in text and "outside the band" not in text, text
    assert not (tmp_path / "x").exists()
