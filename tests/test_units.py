"""A number of units fixed by the planner (``--units``, a scenario's ``units``).

The number counts every unit of the plan: oversize atoms, forced groups and locked
units included. A number no plan in the band can have is refused, naming the
numbers that can, before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_locks import _lock_file, _row
from typer.testing import CliRunner

from redistrict.cli import app
from redistrict.errors import InputError
from redistrict.evaluate import check_plan
from redistrict.locks import fixed_groups, read_locks, solve_locked
from redistrict.problem import Band, Problem
from redistrict.scenario import parse_scenario
from redistrict.solve import solve, unit_count_range

runner = CliRunner()
README = Path(__file__).resolve().parents[1] / "README.md"


def _line(households: list[int], cut: tuple[int, ...] = ()) -> Problem:
    """Atoms in a row 100 m apart, neighbours linked except after the positions in ``cut``."""
    n = len(households)
    edges = [(i, i + 1) for i in range(n - 1) if i not in cut]
    return Problem.from_arrays(households, [(100.0 * i, 0.0) for i in range(n)], edges, band=Band(2000, 3000))


def test_an_oversize_atom_is_one_of_the_units_asked_for() -> None:
    # The 3,500-household atom is a unit of its own and splits the row into two parts of
    # 3,000 households, one unit each: every plan has exactly 3 units.
    p = _line([1000, 1000, 1000, 3500, 1000, 1000, 1000])
    assert unit_count_range(p) == range(3, 4)
    sol = solve(p, units=3, time_limit=5.0, budget="work")
    assert sol.labels.nunique() == 3
    assert sorted(sol.unit_flags.tolist()) == ["ok", "ok", "oversize atom"]
    with pytest.raises(InputError, match=r"cannot form 2 units .*choose 3 units \(1 of them fixed"):
        solve(p, units=2)


def test_separate_parts_add_up_and_a_part_in_a_band_gap_admits_no_number() -> None:
    # Parts of 4,500 (2 units) and 6,000 households (2 or 3 units), no edge between them.
    p = _line([2200, 2300, 1000, 1000, 1000, 1000, 1000, 1000], cut=(1,))
    assert unit_count_range(p) == range(4, 6)
    for units in (4, 5):
        sol = solve(p, units=units, time_limit=5.0, budget="work")
        assert sol.labels.nunique() == units
        assert check_plan(p, sol.labels) == []
    # 3,100 households: one unit is above 3,000, two are below 2,000.
    gap = _line([1500, 1600, 2500], cut=(1,))
    assert len(unit_count_range(gap)) == 0
    message = "2 units cannot be planned: a separate part of the area holds 3,100 households, which no "
    with pytest.raises(InputError, match=message + "whole number of units of 2,000-3,000 holds"):
        solve(gap, units=2)
    with pytest.raises(InputError, match=": 1 unit cannot be planned"):
        solve(gap, units=1)
    # The whole area in one piece: not called "a separate part".
    whole = _line([1500, 1600])
    with pytest.raises(InputError, match="2 units cannot be planned: the area holds 3,100 households"):
        solve(whole, units=2)


def test_a_number_without_a_plan_in_the_band_is_kept_with_the_band_stretched() -> None:
    # A triangle of 1,500, 2,900 and 1,600 households: 2 units of 3,000 on average, but any 2
    # connected units are 1,500 + 4,500, 2,900 + 3,100 or 1,600 + 4,400 households.
    p = Problem.from_arrays(
        [1500, 2900, 1600], [(0.0, 0.0), (100.0, 0.0), (50.0, 80.0)], [(0, 1), (1, 2), (0, 2)],
        band=Band(2000, 3000),
    )  # fmt: skip
    assert unit_count_range(p) == range(2, 4)
    sol = solve(p, units=2, time_limit=3.0, budget="work")
    assert sol.labels.nunique() == 2
    assert (sol.unit_flags != "ok").any() and sol.status == "heuristic"
    assert any("split into 2 units as asked, with the band set to" in n for n in sol.notes)


def test_no_more_units_than_atoms_with_households() -> None:
    # 6,000 households admit 2-6 units of 1,000-3,000 by arithmetic, but two atoms make two units.
    p = Problem.from_arrays([3000, 3000, 0], [(0.0, 0.0), (100.0, 0.0), (200.0, 0.0)], [(0, 1), (1, 2)],
                            band=Band(1000, 3000))  # fmt: skip
    assert unit_count_range(p) == range(2, 3)
    with pytest.raises(InputError, match=r"choose 2 units"):
        solve(p, units=3)


def test_locked_units_count_towards_the_number(tmp_path: Path) -> None:
    # Ten atoms of one household, band 2-3: unit 9 locks atoms 2-3; atoms 0-1 form one unit
    # and atoms 4-9 two or three, so the whole plan has 4 or 5 units.
    atoms, problem, _ = _row([1] * 10)
    locks = read_locks(_lock_file(tmp_path, "atom_id,unit_id\n2,9\n3,9\n"))
    groups, _ = fixed_groups(atoms, problem, locks=locks)
    for units in (4, 5):
        sol = solve_locked(problem, groups, units=units, method="exact", time_limit=10)
        assert sol.labels.nunique() == units
        assert sol.labels.loc[[2, 3]].tolist() == [9, 9]
        assert set(sol.unit_flags) == {"ok"}
    with pytest.raises(InputError, match=r"1 unit is locked.*choose a number of units in 4\.\.5"):
        solve_locked(problem, groups, units=6, method="exact", time_limit=10)


def test_scenario_units_are_read_and_checked() -> None:
    band = {"lo": 2000, "hi": 3000}
    assert parse_scenario({"units": 14, "band": band}).units == 14
    assert parse_scenario({"band": band}).units is None
    for bad in (0, -3, 2.5, "14", True):
        with pytest.raises(InputError, match="units must be a positive whole number"):
            parse_scenario({"units": bad, "band": band})
    with pytest.raises(InputError, match="did you mean units"):
        parse_scenario({"unit": 14, "band": band})


def _west_centretown(path: Path) -> list[str]:
    # West Centretown: 5,079 households, so 4 or 5 units of 1,000-1,500.
    f = str(path)
    return [
        "--roads", f"{f}:roads", "--blocks", f"{f}:dissemination_blocks",
        "--households", "dburdwell2021", "--where", "ONS_ID_gen3 == 3115",
        "--band", "1000", "1500", "--time-limit", "4", "--lang", "en",
    ]  # fmt: skip


@pytest.mark.parametrize("units", [4, 5])
def test_plan_with_units_writes_that_many_and_says_what_the_gap_compares(
    tmp_path: Path, ottawa_testcase: Path, units: int
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["plan", *_west_centretown(ottawa_testcase), "--units", str(units), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == units
    assert int(summary["households"].sum()) == 5079
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["parameters"]["units"] == units and run["units"] == units
    assert any(f"fixed at {units}" in note for note in run["notes"])
    assert not any(f"fixed at {units}" in w for w in run["warnings"])
    assert f"among plans of {units} units" in (out / "map.html").read_text(encoding="utf-8")


def _quoted_in_readme(output: str) -> None:
    """The README quotes the error line of ``output`` word for word (line breaks aside)."""
    (error,) = [line for line in output.splitlines() if line.startswith("error: ")]
    readme = " ".join(README.read_text(encoding="utf-8").split())
    assert f"`{error.strip()}`" in readme, error


def test_impossible_units_are_refused_with_the_possible_ones(tmp_path: Path, ottawa_testcase: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["plan", *_west_centretown(ottawa_testcase), "--units", "3", "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "5,079 households cannot form 3 units of 1,000-1,500 households" in result.output
    assert "choose a number of units in 4..5" in result.output
    assert not out.exists()
    _quoted_in_readme(result.output)
    # More units than the households fill to the lower bound: refused before the atoms are built.
    result = runner.invoke(
        app, ["plan", *_west_centretown(ottawa_testcase), "--units", "9", "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert (
        "9 units of at least 1,000 households need 9,000 households, and the blocks hold 5,079: "
        "ask for at most 5 units, or lower the band (--band)" in " ".join(result.output.split())
    )
    assert not out.exists()
    _quoted_in_readme(result.output)
    result = runner.invoke(
        app, ["plan", *_west_centretown(ottawa_testcase), "--units", "0", "--out", str(out)]
    )
    assert result.exit_code == 2 and "--units must be a positive whole number" in result.output
    scenario = tmp_path / "five.toml"
    scenario.write_text("units = 5\n[band]\nlo = 1000\nhi = 1500\n", encoding="utf-8")
    args = [a for a in _west_centretown(ottawa_testcase) if a not in ("--band", "1000", "1500")]
    result = runner.invoke(
        app, ["plan", *args, "--scenario", str(scenario), "--units", "4", "--out", str(out)]
    )
    assert result.exit_code == 2 and "both set the number of units" in result.output


def test_compare_sets_scenarios_with_different_numbers_of_units_side_by_side(
    tmp_path: Path, ottawa_testcase: Path
) -> None:
    files = []
    for units in (4, 5):
        path = tmp_path / f"units-{units}.toml"
        path.write_text(f"units = {units}\n[band]\nlo = 1000\nhi = 1500\n", encoding="utf-8")
        files.append(str(path))
    args = [a for a in _west_centretown(ottawa_testcase) if a not in ("--band", "1000", "1500")]
    out = tmp_path / "out"
    result = runner.invoke(app, ["compare", *files, *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "comparison.csv")
    assert table["scenario"].tolist() == ["units-4", "units-5"]
    assert table["units"].tolist() == [4, 5]
    assert table["units_fixed"].tolist() == [4, 5]
    assert np.isclose(table["new_committees"], [4, 5]).all()
    # The pages show the column only when some scenario fixes the number.
    assert "| Units | Units fixed by the scenario |" in (out / "comparison.md").read_text(encoding="utf-8")


def test_one_possible_count_is_named_as_one() -> None:
    # "choose a number of units in 4..4" read oddly: 4,800 households in units of 1,200-1,500
    from redistrict._counts import fixed_units, split_units

    xy = [(100.0 * (i % 6), 100.0 * (i // 6)) for i in range(12)]
    edges = [(i, i + 1) for i in range(12) if i % 6 < 5] + [(i, i + 6) for i in range(6)]
    problem = Problem.from_arrays([400] * 12, xy, edges, band=Band(1200, 1500))
    with pytest.raises(InputError, match=r"choose 4 units$"):
        split_units(problem, fixed_units(problem), 3)
