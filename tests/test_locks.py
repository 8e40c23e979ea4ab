"""Locked atoms and units, in-band communities kept, oversized ones sealed."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from redistrict.continuity import classify_communities
from redistrict.errors import InputError
from redistrict.locks import (
    SEAL,
    Locks,
    fixed_groups,
    is_changed_lock,
    locked_only,
    read_locks,
    sized_problem,
    solve_locked,
    subproblem,
)
from redistrict.problem import Band, Problem
from redistrict.scenario import parse_scenario

CRS = "EPSG:32189"


def _row(
    households: list[int], communities: list[str] | None = None
) -> tuple[gpd.GeoDataFrame, Problem, Band]:
    """Atoms 0..n-1 as 100 m squares in a row, and their problem."""
    n = len(households)
    data: dict[str, object] = {"households": households}
    if communities is not None:
        data["community_id"] = communities
    atoms = gpd.GeoDataFrame(
        data,
        geometry=[shapely.box(100 * i, 0, 100 * i + 100, 100) for i in range(n)],
        crs=CRS,
        index=pd.Index(range(n), name="atom_id"),
    )
    comm = None
    if communities is not None:
        codes = {c: k for k, c in enumerate(sorted(set(communities)))}
        comm = [codes[c] for c in communities]
    band = Band(2000, 3000) if max(households) > 10 else Band(2, 3)
    problem = Problem.from_arrays(
        households,
        [(100 * i + 50, 50) for i in range(n)],
        [(i, i + 1) for i in range(n - 1)],
        nodes=list(range(n)),
        community=comm,
        band=band,
    )
    return atoms, problem, band


def _lock_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "locks.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _plan_folder(tmp_path: Path, units: gpd.GeoDataFrame) -> Path:
    """An earlier plan's folder (``tmp_path/old``) whose plan.gpkg holds ``units``."""
    plan = tmp_path / "old"
    plan.mkdir(exist_ok=True)
    units.to_file(plan / "plan.gpkg", layer="units", engine="pyogrio", mode="w")
    return plan


def test_read_atom_locks(tmp_path: Path) -> None:
    locks = read_locks(_lock_file(tmp_path, "atom_id,unit_id\n1,5\n2,5\n3,6\n"))
    assert locks.atom_groups is not None
    assert locks.atom_groups.to_dict() == {1: "lock 5", 2: "lock 5", 3: "lock 6"}
    single = read_locks(_lock_file(tmp_path, "# kept by hand\nATOM_ID\n4\n7\n"))
    assert single.atom_groups is not None and set(single.atom_groups) == {"lock all"}


def test_lock_file_saved_by_excel_on_chinese_windows(tmp_path: Path) -> None:
    # GBK, as Excel saves CSV on Chinese Windows, with a notes column in Chinese: it was
    # refused ("write a header line") though the header was there.
    path = tmp_path / "locks.csv"
    path.write_bytes("atom_id,unit_id,备注\n1,5,保留八字门\n2,5,\n3,6,已审核\n".encode("gbk"))
    locks = read_locks(path)
    assert locks.atom_groups is not None
    assert locks.atom_groups.to_dict() == {1: "lock 5", 2: "lock 5", 3: "lock 6"}
    path.write_bytes("\ufeffatom_id,备注\n4,保留\n".encode())  # UTF-8 with a byte-order mark
    bom = read_locks(path).atom_groups
    assert bom is not None and bom.index.tolist() == [4]


def test_bad_lock_files(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_locks(_lock_file(tmp_path, "atom_id\n1\nx\n2.5\n1\n"))
    text = str(info.value)
    assert "lines 3, 4 do not" in text and "listed more than once: 1" in text
    with pytest.raises(InputError, match="--lock-plan"):
        read_locks(_lock_file(tmp_path, "unit_id\n3\n"))
    with pytest.raises(InputError, match="first line must be a header"):
        read_locks(_lock_file(tmp_path, "5\n6\n"))
    with pytest.raises(InputError, match="does not exist"):
        read_locks(tmp_path / "missing.csv")
    with pytest.raises(InputError, match=r"which --lock-plan .* does not apply to: drop --lock-plan"):
        read_locks(_lock_file(tmp_path, "atom_id\n1\n"), plan=tmp_path / "old")
    # A comparison's folder holds one plan per scenario: the message points to them.
    compared = tmp_path / "compared"
    (compared / "band-2000-3000").mkdir(parents=True)
    (compared / "band-2000-3000" / "plan.gpkg").write_bytes(b"")
    with pytest.raises(
        InputError, match=r"it holds a comparison: give one scenario's folder, e\.g\. --lock-plan"
    ):
        read_locks(_lock_file(tmp_path, "unit_id\n3\n"), plan=compared)
    # A locked unit keeps its id: ids below 1 (which would be renumbered) are refused.
    with pytest.raises(InputError) as info:
        read_locks(_lock_file(tmp_path, "atom_id,unit_id\n1,0\n2,0\n3,-5\n4,2\n"))
    assert "lines 2, 3, 4 give -5, 0: use ids of 1 or more" in str(info.value)


def test_hard_lock_is_kept_and_the_rest_solved(tmp_path: Path) -> None:
    atoms, problem, _ = _row([1, 1, 1, 1, 1, 1])
    locks = read_locks(_lock_file(tmp_path, "atom_id,unit_id,households\n2,9,1\n3,9,1\n"))
    groups, notes = fixed_groups(atoms, problem, locks=locks)
    assert groups.to_dict() == {2: "lock 9", 3: "lock 9"}
    assert "1 unit locked" in notes[0]
    sol = solve_locked(problem, groups, method="exact", time_limit=10)
    # The locked unit keeps the id the lock file gives it; the others take the ids left free.
    assert sol.labels.tolist() == [1, 1, 9, 9, 2, 2]
    assert sol.unit_flags.to_dict() == {1: "ok", 2: "ok", 9: "ok"}
    lab = sol.labels.to_numpy(dtype=np.int64) - 1
    assert sol.objective == pytest.approx(problem.plan_cost(lab) / problem.scale)
    assert sol.bound is not None and sol.bound <= sol.objective + 1e-9
    assert (sol.components["method"] == "locked").sum() == 1
    # Every row is on the whole problem's scale: they add up to the plan's objective.
    assert sol.components["objective"].sum() == pytest.approx(sol.objective)


def test_lock_file_must_fit_the_atoms(tmp_path: Path) -> None:
    atoms, problem, _ = _row([1, 1, 1, 1])
    with pytest.raises(InputError) as info:
        fixed_groups(atoms, problem, locks=read_locks(_lock_file(tmp_path, "atom_id\n1\n17\n")))
    assert "atom ids 17 are not atoms of this run" in str(info.value)
    with pytest.raises(InputError, match="other household counts"):
        fixed_groups(atoms, problem, locks=read_locks(_lock_file(tmp_path, "atom_id,households\n1,5\n")))
    with pytest.raises(InputError, match="the locked atoms are not contiguous; list atoms that touch"):
        fixed_groups(atoms, problem, locks=read_locks(_lock_file(tmp_path, "atom_id\n0\n2\n")))
    with pytest.raises(InputError, match="locked unit 7 is not contiguous; list atoms that touch"):
        fixed_groups(atoms, problem, locks=read_locks(_lock_file(tmp_path, "atom_id,unit_id\n0,7\n2,7\n")))
    # A unit of an earlier plan whose outline holds atoms this run cuts apart: said so.
    outline = shapely.union_all([shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100)])
    earlier = Locks(
        source="lock.csv",
        units=gpd.GeoDataFrame({"unit_id": [3]}, geometry=[outline], crs=CRS),
        plan="old-plan",
    )
    with pytest.raises(InputError) as info:
        fixed_groups(atoms, problem, locks=earlier)
    assert (
        "locked unit 3 of old-plan is not contiguous; the atoms of this run inside the earlier outline"
        in str(info.value)
    )


def test_empty_and_infeasible_free_areas(tmp_path: Path) -> None:
    atoms, problem, _ = _row([0, 1, 1, 1, 1])
    groups, _ = fixed_groups(atoms, problem, locks=read_locks(_lock_file(tmp_path, "atom_id\n1\n2\n")))
    # atom 0 (no households) joins the lock it touches; atoms 3-4 stay free
    assert groups.to_dict() == {0: "lock all", 1: "lock all", 2: "lock all"}
    atoms, problem, _ = _row([1, 1, 1, 1, 1])
    groups, notes = fixed_groups(
        atoms, problem, locks=read_locks(_lock_file(tmp_path, "atom_id\n0\n1\n2\n3\n"))
    )
    assert "cannot form units" in notes[-1]
    sol = solve_locked(problem, groups, method="exact", time_limit=10)
    assert sol.unit_flags.to_dict() == {1: "above band", 2: "below band"}


def test_unit_locks_from_a_previous_plan(tmp_path: Path) -> None:
    units = gpd.GeoDataFrame(
        {"unit_id": [1, 2], "households": [2, 2]},
        geometry=[shapely.box(0, 0, 200, 100), shapely.box(200, 0, 400, 100)],
        crs=CRS,
    )
    plan = _plan_folder(tmp_path, units)
    locks = read_locks(_lock_file(tmp_path, "unit_id\n2\n"), plan=plan)
    atoms, problem, _ = _row([1, 1, 1, 1, 1, 1])
    groups, _ = fixed_groups(atoms, problem, locks=locks)
    assert groups.to_dict() == {2: "lock 2", 3: "lock 2"}
    with pytest.raises(InputError, match="unit 7 is not in"):
        read_locks(_lock_file(tmp_path, "unit_id\n7\n"), plan=plan / "plan.gpkg")
    with pytest.raises(InputError, match=r"no plan\.gpkg"):
        read_locks(_lock_file(tmp_path, "unit_id\n1\n"), plan=tmp_path / "nothing")


def test_locked_units_the_run_does_not_reproduce_are_warnings(tmp_path: Path) -> None:
    # Unit 1 of the earlier plan held 3 households; unit 2's outline was a fifth larger than
    # the atoms now inside it (a road removed since). Both used to be a note at most.
    units = gpd.GeoDataFrame(
        {"unit_id": [1, 2], "households": [3, 2]},
        geometry=[shapely.box(0, 0, 200, 100), shapely.box(200, 0, 440, 100)],
        crs=CRS,
    )
    plan = _plan_folder(tmp_path, units)
    locks = read_locks(_lock_file(tmp_path, "unit_id\n1\n2\n"), plan=plan)
    atoms, problem, _ = _row([1, 1, 1, 1, 1, 1])
    _, notes = fixed_groups(atoms, problem, locks=locks)
    changed = [n for n in notes if is_changed_lock(n)]
    assert [n.split(":")[0] for n in changed] == [
        f"locked unit 1 held 3 households in {plan} and holds 2 here",
        "locked unit 2 keeps its households but its outline changes by 0.4 ha (17% of its area)",
    ]
    # the same outlines as the atoms: nothing to warn of
    units.geometry = [shapely.box(0, 0, 200, 100), shapely.box(200, 0, 400, 100)]
    units["households"] = [2, 2]
    _plan_folder(tmp_path, units)
    _, notes = fixed_groups(
        atoms, problem, locks=read_locks(_lock_file(tmp_path, "unit_id\n1\n2\n"), plan=plan)
    )
    assert not [n for n in notes if is_changed_lock(n)]


def test_relocking_blocks_with_street_gaps_warns_of_nothing(tmp_path: Path) -> None:
    # --atoms blocks: blocks 6 m apart across the streets. The plan's outlines bridge those
    # gaps; compared with the plain atoms, an identical re-run warned of changed outlines.
    from redistrict.evaluate import unit_table

    n = 6
    atoms = gpd.GeoDataFrame(
        {"households": [1000] * n},
        geometry=[shapely.box(106 * i, 0, 106 * i + 100, 100) for i in range(n)],
        crs=CRS,
        index=pd.Index(range(n), name="atom_id"),
    )
    labels = pd.Series([1, 1, 1, 2, 2, 2], index=atoms.index)
    plan = _plan_folder(tmp_path, unit_table(atoms, labels, Band(2000, 3000)))
    problem = Problem.from_arrays(
        [1000] * n, [(106 * i + 50, 50) for i in range(n)], [(i, i + 1) for i in range(n - 1)],
        nodes=list(range(n)), band=Band(2000, 3000),
    )  # fmt: skip
    groups, notes = fixed_groups(
        atoms, problem, locks=read_locks(_lock_file(tmp_path, "unit_id\n1\n2\n"), plan=plan)
    )
    assert groups.to_dict() == {i: f"lock {1 + i // 3}" for i in range(n)}
    assert not [n for n in notes if is_changed_lock(n)]


def test_an_outline_edited_into_a_bow_tie_is_repaired(tmp_path: Path) -> None:
    bow = shapely.Polygon([(0, 0), (200, 100), (200, 0), (0, 100), (0, 0)])
    plan = _plan_folder(
        tmp_path, gpd.GeoDataFrame({"unit_id": [1], "households": [2]}, geometry=[bow], crs=CRS)
    )
    atoms, problem, _ = _row([1, 1, 1, 1])
    groups, notes = fixed_groups(
        atoms, problem, locks=read_locks(_lock_file(tmp_path, "unit_id\n1\n"), plan=plan)
    )
    assert groups.to_dict() == {0: "lock 1", 1: "lock 1"}
    assert [n.split(":")[0] for n in notes if is_changed_lock(n)] == [
        "locked unit 1 keeps its households but its outline changes by 1.0 ha (100% of its area)"
    ]


def test_minimal_change_keeps_seals_and_merges_the_undersized() -> None:
    # X (atoms 0-1, 2,000 households) is in band, Y (atom 2, 1,000) undersized,
    # Z (atoms 3-7, 5,000) oversized but divisible into two units on its own.
    atoms, problem, _ = _row([1000] * 8, ["X", "X", "Y", "Z", "Z", "Z", "Z", "Z"])
    scenario = parse_scenario({"band": {"lo": 2000, "hi": 3000}, "allow_change": "oversized_undersized"})
    groups, notes = fixed_groups(atoms, problem, scenario=scenario)
    # Y alone cannot form a unit: Z, split anyway, is opened to it and X stays as it is (X,
    # the smaller neighbour, used to be opened and merged with Y)
    assert groups.to_dict() == {0: "community X", 1: "community X"}
    assert any(
        "can join them (the plan decides whether it does): Z; 1 in-band community is still kept" in n
        for n in notes
    )
    assert any("1 oversized, 1 undersized, 1 in band; 1 to keep as they are" in n for n in notes)
    sol = solve_locked(problem, groups, method="exact", time_limit=10)
    lab = sol.labels.tolist()
    assert lab[0] == lab[1] and lab[2] != lab[0] and lab[2] in lab[3:]
    assert lab[0] not in lab[3:]
    # with everything allowed the same instance needs no lock at all
    free = parse_scenario({"band": {"lo": 2000, "hi": 3000}})
    assert fixed_groups(atoms, problem, scenario=free)[0].empty


def test_in_band_community_is_kept_as_it_is() -> None:
    atoms, problem, _ = _row([1000] * 6, ["X", "X", "Z", "Z", "Z", "Z"])
    scenario = parse_scenario({"band": {"lo": 2000, "hi": 3000}, "allow_change": "oversized_undersized"})
    groups, _ = fixed_groups(atoms, problem, scenario=scenario)
    assert groups.to_dict() == {0: "community X", 1: "community X"} | {i: f"{SEAL}Z" for i in range(2, 6)}
    assert locked_only(groups).to_dict() == {0: "community X", 1: "community X"}
    sol = solve_locked(problem, groups, method="exact", time_limit=10)
    assert sol.labels.tolist() == [1, 1, 2, 2, 3, 3]


def test_a_community_in_two_pieces_is_said_to_be_apart_not_split_by_a_lock() -> None:
    # X (2,500) lies on both sides of Y: one unit cannot keep it whole. The note said it
    # was "split by the atoms or by a lock", though nothing was locked.
    atoms, problem, _ = _row([1250, 2500, 1250], ["X", "Y", "X"])
    scenario = parse_scenario({"band": {"lo": 2000, "hi": 3000}, "allow_change": "oversized_undersized"})
    _, notes = fixed_groups(atoms, problem, scenario=scenario)
    apart = [n for n in notes if "not kept whole" in n]
    assert apart == [
        "communities not kept whole (their atoms form separate pieces, which one unit cannot join): X"
    ]


def test_a_community_with_an_empty_piece_apart_is_still_kept_as_it_is() -> None:
    # X's households (2,500) are in atoms 0-1; its atom 3, an empty strip beyond Y, is
    # cut off from them. X used to be "not kept whole" and was split; the empty piece is
    # now left to whichever unit reaches it.
    atoms, problem, _ = _row([1250, 1250, 2500, 0, 1000, 1000], ["X", "X", "Y", "X", "Z", "Z"])
    scenario = parse_scenario({"band": {"lo": 2000, "hi": 3000}, "allow_change": "oversized_undersized"})
    groups, notes = fixed_groups(atoms, problem, scenario=scenario)
    assert not [n for n in notes if "not kept whole" in n]
    assert {i: g for i, g in groups.items() if g == "community X"} == {0: "community X", 1: "community X"}
    sol = solve_locked(problem, groups, method="exact", time_limit=10)
    lab = sol.labels.tolist()
    assert lab[0] == lab[1] and lab[1] not in lab[2:]


def test_subproblem_keeps_full_costs() -> None:
    _atoms, problem, _ = _row([1, 2, 3, 4, 5])
    keep = np.array([0, 1, 3, 4])
    region = np.array(["a", "a", None, "b", "b"], dtype=object)
    sub = subproblem(problem, keep, region)
    assert sub.nodes == (0, 1, 3, 4)
    # the distance between atoms 1 and 3 still runs through atom 2
    assert np.allclose(sub.distance, problem.distance[np.ix_(keep, keep)])
    assert np.allclose(sub.weight, problem.weight[keep])
    assert sub.edges.tolist() == [[0, 1], [2, 3]]


def test_band_in_residents_sizes_units_by_residents() -> None:
    atoms, problem, _ = _row([1, 1, 1, 1])
    atoms["residents"] = [100.0, 100.4, 300.0, 299.6]
    scenario = parse_scenario({"band": {"unit": "residents", "lo": 200, "hi": 400}})
    sized = sized_problem(problem, atoms, scenario)
    assert sized.households.tolist() == [100, 100, 300, 300]
    assert (sized.band.lo, sized.band.hi) == (200, 400)
    assert np.allclose(sized.distance, problem.distance)
    # 100+100 | 300 | 300 is the only split into 200-400 residents
    sol = solve_locked(problem, pd.Series(dtype=object), atoms=atoms, scenario=scenario, method="exact")
    assert sol.labels.tolist() == [1, 1, 2, 3]
    assert set(sol.unit_flags) == {"ok"}
    assert sized_problem(problem, atoms, None) is problem


def test_locked_unit_outside_the_band_is_a_warning(tmp_path: Path) -> None:
    atoms, problem, _ = _row([1, 1, 1, 1, 1, 1])
    locks = read_locks(_lock_file(tmp_path, "atom_id,unit_id\n0,7\n"))
    groups, _ = fixed_groups(atoms, problem, locks=locks)
    sol = solve_locked(problem, groups, method="exact", time_limit=10)
    assert sol.unit_flags.to_dict() == {7: "below band", 1: "ok", 2: "ok"}
    (warning,) = [n for n in sol.notes if n.startswith("locked unit")]
    assert "locked unit 7 holds 1 households, below band (2-3)" in warning
    assert "remove it from the lock file" in warning
    # In-band locks say nothing.
    ok = solve_locked(problem, fixed_groups(atoms, problem, locks=read_locks(
        _lock_file(tmp_path, "atom_id,unit_id\n0,7\n1,7\n")))[0], method="exact", time_limit=10)  # fmt: skip
    assert not any(n.startswith("locked unit") for n in ok.notes)


def test_a_community_without_households_is_neither_undersized_nor_merged() -> None:
    # W's polygon only touches the area (atom 2 holds no households): it used to count as
    # an undersized community in the scenario's note and in communities.csv.
    atoms, problem, _ = _row([1000, 1000, 0, 1000, 1000, 1000, 1000, 1000], ["X", "X", "W", *["Z"] * 5])
    scenario = parse_scenario({"band": {"lo": 2000, "hi": 3000}, "allow_change": "oversized_undersized"})
    table = classify_communities(atoms, scenario.band)
    assert table.set_index("community_id")["class"].to_dict() == {
        "W": "no households", "X": "in band", "Z": "oversized"
    }  # fmt: skip
    _, notes = fixed_groups(atoms, problem, scenario=scenario)
    assert any(
        "1 oversized, 0 undersized, 1 in band (1 more without households); 1 to keep as they are" in n
        for n in notes
    ), notes
    assert not any("can join them" in n for n in notes)


def test_an_oversized_neighbour_gives_households_before_an_in_band_one() -> None:
    # E (3,950) fits no count of units. Its neighbours: G, oversized and split anyway, and O,
    # in the band and kept as it is. O used to be released (the smaller), and the plan broke
    # it up although taking from G keeps every in-band community whole.
    atoms, problem, _ = _row([1600] * 4 + [1975] * 2 + [1250] * 2, ["G"] * 4 + ["E"] * 2 + ["O"] * 2)
    scenario = parse_scenario({"band": {"lo": 2000, "hi": 3000}, "allow_change": "oversized_undersized"})
    groups, notes = fixed_groups(atoms, problem, scenario=scenario)
    assert set(groups.loc[[6, 7]]) == {"community O"}
    assert not set(groups.index) & {0, 1, 2, 3, 4, 5}
    (released,) = [n for n in notes if n.startswith("communities free to change")]
    assert ": G;" in released and "1 in-band community is still kept as it is" in released
