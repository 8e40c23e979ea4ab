"""Solver trouble: time limits, missing or crashing solvers, failures while writing.

Whatever goes wrong inside the optimiser, the planner gets either a valid plan
marked for what it is (``feasible`` with its gap, or ``heuristic`` with a note)
or one clear error; and the output folder is never left half written.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pulp
import pytest
from shapely.geometry import LineString, box
from typer.testing import CliRunner

import redistrict._files
import redistrict._out_dir
import redistrict.model
import redistrict.pipeline
import redistrict.report
from redistrict._files import held_signals, recover_swaps
from redistrict._solvers import SolveOutcome
from redistrict.cli import app
from redistrict.errors import SolverError
from redistrict.evaluate import check_plan
from redistrict.problem import Band, Problem
from redistrict.solve import Solution, solve

OPTIMAL_GAP = 1e-4
CRS = "EPSG:32189"
X0, Y0 = 367_000.0, 5_030_000.0


# --------------------------------------------------------------------------- instances


def _grid_problem(nx: int, ny: int, households: Any, band: Band | None = None) -> Problem:
    """A street grid of ``nx`` x ``ny`` blocks, 100 m apart."""
    xy = [(100.0 * i, 100.0 * j) for j in range(ny) for i in range(nx)]
    edges = [(j * nx + i, j * nx + i + 1) for j in range(ny) for i in range(nx - 1)]
    edges += [(j * nx + i, (j + 1) * nx + i) for j in range(ny - 1) for i in range(nx)]
    return Problem.from_arrays(households, xy, edges, band=band or Band(2000, 3000))


def _small() -> Problem:
    """4 x 4 blocks of 300 households (4,800: two units of 2,400)."""
    return _grid_problem(4, 4, [300] * 16)


def _medium() -> Problem:
    """8 x 8 blocks with 150..449 households: too big to prove optimal in a blink."""
    households = np.random.default_rng(3).integers(150, 450, 64)
    return _grid_problem(8, 8, households)


def _assert_valid(problem: Problem, solution: Solution) -> None:
    """A complete, contiguous plan in the band, with an honest status."""
    assert solution.labels.notna().all()
    assert check_plan(problem, solution.labels) == []
    if solution.bound is None:
        assert solution.status == "heuristic" and solution.gap is None
    else:
        assert solution.bound <= solution.objective * (1 + 1e-9) + 1e-9
        assert solution.gap is not None
        assert (solution.status == "optimal") == (solution.gap <= OPTIMAL_GAP)


def _grid_files(tmp_path: Path, n: int, households: Any) -> list[str]:
    """Blocks and roads of an ``n`` x ``n`` street grid on disk; the CLI arguments for them."""
    cell = 200.0
    squares = [
        box(X0 + i * cell, Y0 + j * cell, X0 + (i + 1) * cell, Y0 + (j + 1) * cell)
        for j in range(n)
        for i in range(n)
    ]
    span = n * cell
    lines = [LineString([(X0 + k * cell, Y0), (X0 + k * cell, Y0 + span)]) for k in range(n + 1)]
    lines += [LineString([(X0, Y0 + k * cell), (X0 + span, Y0 + k * cell)]) for k in range(n + 1)]
    blocks = gpd.GeoDataFrame({"hh": list(households)}, geometry=squares, crs=CRS)
    roads = gpd.GeoDataFrame({"highway": ["residential"] * len(lines)}, geometry=lines, crs=CRS)
    blocks.to_file(tmp_path / "blocks.gpkg", engine="pyogrio")
    roads.to_file(tmp_path / "roads.gpkg", engine="pyogrio")
    return [
        "plan", "--roads", str(tmp_path / "roads.gpkg"), "--blocks", str(tmp_path / "blocks.gpkg"),
        "--households", "hh", "--lang", "en",
    ]  # fmt: skip


def _run_json(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------- time limits


def _stop_at_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every proven solve look stopped at its time limit, holding a plan and a bound 20 % below it."""
    real = redistrict.model.run_model

    def stopped(prob: pulp.LpProblem, *args: Any, **kwargs: Any) -> SolveOutcome:
        done = real(prob, *args, **kwargs)
        if done.status != "optimal" or done.objective is None:
            return done
        return SolveOutcome("feasible", done.objective, 0.8 * done.objective, done.seconds)

    monkeypatch.setattr(redistrict.model, "run_model", stopped)


def test_time_limit_with_an_incumbent_is_reported_as_not_proven(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _stop_at_time_limit(monkeypatch)
    problem = _small()
    # A work budget: how much of the gap the search closes must not depend on the machine's speed.
    solution = solve(problem, time_limit=3.0, method="exact", budget="work")
    _assert_valid(problem, solution)
    assert solution.status == "feasible"
    # The exact model's bound is 20 % below its plan; the search after it may only close part of that.
    assert solution.gap is not None and 0.05 < solution.gap <= 0.2 + 1e-9


def test_time_limit_with_an_incumbent_is_written_as_not_proven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stop_at_time_limit(monkeypatch)
    out = tmp_path / "out"
    args = [*_grid_files(tmp_path, 3, [500] * 9), "--method", "exact", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    record = _run_json(out)
    assert record["status"] == "feasible"
    assert 0.05 < record["gap"] <= 0.2 + 1e-9
    assert record["units_in_band"] == record["units"]
    summary = " ".join(result.stdout.split())
    assert "status feasible" in summary and f"gap {100 * record['gap']:.2f}%" in summary
    assert "feasible (not proven optimal)" in (out / "map.html").read_text(encoding="utf-8")


def test_tight_time_limit_on_a_medium_problem_gives_an_honest_status() -> None:
    problem = _medium()
    solution = solve(problem, time_limit=0.5, method="exact")
    _assert_valid(problem, solution)


def test_tight_time_limit_through_the_command_line(tmp_path: Path) -> None:
    households = np.random.default_rng(5).integers(150, 450, 64).tolist()
    out = tmp_path / "out"
    args = [*_grid_files(tmp_path, 8, households), "--time-limit", "1", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    record = _run_json(out)
    assert record["households"] == sum(households)
    if record["status"] == "optimal":
        assert record["gap"] is not None and record["gap"] <= OPTIMAL_GAP
    elif record["status"] == "feasible":
        assert record["gap"] > OPTIMAL_GAP
        assert "feasible (not proven optimal)" in (out / "map.html").read_text(encoding="utf-8")
    else:
        assert record["status"] == "heuristic" and record["gap"] is None


def test_exact_model_without_an_incumbent_falls_back_to_the_heuristic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def nothing(prob: pulp.LpProblem, *args: Any, **kwargs: Any) -> SolveOutcome:
        return SolveOutcome("no_solution", None, None, 0.01)

    monkeypatch.setattr(redistrict.model, "run_model", nothing)
    problem = _small()
    solution = solve(problem, time_limit=5.0, method="exact")
    _assert_valid(problem, solution)
    assert any("found no plan in time" in note for note in solution.notes), solution.notes


# --------------------------------------------------------------------------- missing or crashing solver


@pytest.mark.parametrize("method", ["exact", "lns"])
def test_solver_crash_falls_back_to_the_heuristic_plan(monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    def crash(self: pulp.HiGHS, lp: pulp.LpProblem, callback: Any = None) -> int:
        raise pulp.PulpSolverError("simulated HiGHS crash")

    monkeypatch.setattr(pulp.HiGHS, "actualSolve", crash)
    problem = _small()
    solution = solve(problem, time_limit=5.0, method=method)
    _assert_valid(problem, solution)
    assert any("simulated HiGHS crash" in note for note in solution.notes), solution.notes


def test_solver_crash_is_a_warning_in_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(self: pulp.HiGHS, lp: pulp.LpProblem, callback: Any = None) -> int:
        raise pulp.PulpSolverError("simulated HiGHS crash")

    monkeypatch.setattr(pulp.HiGHS, "actualSolve", crash)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [*_grid_files(tmp_path, 3, [500] * 9), "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = _run_json(out)
    assert record["units_in_band"] == record["units"] == 2
    assert any("simulated HiGHS crash" in note for note in record["notes"])
    assert "warning:" in result.stderr and "simulated HiGHS crash" in result.stderr


def test_solver_crash_of_any_kind_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(self: pulp.HiGHS, lp: pulp.LpProblem, callback: Any = None) -> int:
        raise RuntimeError("simulated native crash")

    monkeypatch.setattr(pulp.HiGHS, "actualSolve", crash)
    problem = _small()
    solution = solve(problem, time_limit=5.0, method="exact")
    _assert_valid(problem, solution)
    assert any("simulated native crash" in note for note in solution.notes)


def test_missing_solver_falls_back_to_the_heuristic_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pulp.HiGHS, "available", lambda self: False)
    problem = _small()
    solution = solve(problem, time_limit=5.0)
    _assert_valid(problem, solution)
    assert solution.notes


def test_missing_solver_gives_a_heuristic_plan_in_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pulp.HiGHS, "available", lambda self: False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [*_grid_files(tmp_path, 3, [500] * 9), "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = _run_json(out)
    assert record["status"] in ("heuristic", "feasible")
    assert any("highspy is not installed" in note for note in record["notes"])
    assert "Traceback" not in result.output


def test_solver_error_from_the_optimiser_is_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Solution:
        raise SolverError("component 0 (9 atoms, 4500 households): no plan could be built")

    monkeypatch.setattr(redistrict.pipeline, "solve_locked", fail)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [*_grid_files(tmp_path, 3, [500] * 9), "--out", str(out)])
    assert result.exit_code == 4, result.output
    assert result.stderr.startswith("error: solver failure: component 0 (9 atoms")
    assert "Traceback" not in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cbc_solves_a_tiny_problem() -> None:
    problem = _grid_problem(3, 3, [500] * 9)
    with_cbc = solve(problem, solver="cbc", method="exact", time_limit=20.0)
    with_highs = solve(problem, solver="highs", method="exact", time_limit=20.0)
    _assert_valid(problem, with_cbc)
    assert with_cbc.solver == "cbc"
    assert with_cbc.status == "optimal"
    assert with_cbc.objective == pytest.approx(with_highs.objective, rel=1e-6)


def test_no_split_even_with_the_lower_bound_dropped_gives_flagged_units() -> None:
    # Found by tests/test_properties.py: a 3 x 3 grid with some streets closed.
    # No two contiguous units of at most 3,000 households exist (atom 2 hangs
    # off atom 5 and atom 8 off atom 7), three do.
    households = [360, 1060, 872, 3, 512, 1114, 720, 43, 994]
    xy = [(100.0 * i, 100.0 * j) for i in range(3) for j in range(3)]
    edges = [(0, 1), (0, 3), (1, 4), (2, 5), (3, 4), (3, 6), (4, 5), (4, 7), (6, 7), (7, 8)]
    problem = Problem.from_arrays(households, xy, edges, band=Band(2000, 3000))
    solution = solve(problem, time_limit=5.0, method="exact")
    assert solution.labels.notna().all()
    assert int(solution.unit_flags.ne("ok").sum()) >= 1
    assert solution.status == "heuristic"
    assert solution.notes


# --------------------------------------------------------------------------- writing the output


@pytest.mark.parametrize("command", ["plan", "city"])
def test_failure_while_writing_leaves_no_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    # city said "internal error: a bug in redistrict" (exit 70) for a full disk.
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(redistrict.report, "save_map", broken)
    out = tmp_path / "out"
    extra = ["--scheduler", "synchronous", "--no-cache"] if command == "city" else []
    args = [command, *_grid_files(tmp_path, 3, [500] * 9)[1:], "--out", str(out), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: redistrict cannot continue: cannot write the plan to {out}")
    assert "No space left on device" in result.stderr
    assert "free some space, or choose a folder on another disk with --out" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_failure_while_writing_keeps_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    args = [*_grid_files(tmp_path, 3, [500] * 9), "--out", str(out)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("map writer bug")

    monkeypatch.setattr(redistrict.report, "save_map", broken)
    second = CliRunner().invoke(app, [*args, "--band", "1500", "2500"])
    # a bug: said as one, harmless
    assert second.exit_code == 70, second.output
    assert second.stderr.startswith("error: internal error (RuntimeError: map writer bug): this is a bug")
    assert "nothing was written; an earlier plan in the output folder is untouched" in second.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_an_output_folder_that_cannot_be_written_is_refused_before_solving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The outputs are made beside --out and renamed into place: a parent the user cannot
    # write to used to fail only after the whole solve ("free some space").
    parent = tmp_path / "shared"
    parent.mkdir()
    real_access = os.access

    def access(path: Any, mode: int) -> bool:
        return False if Path(path) == parent else real_access(path, mode)

    monkeypatch.setattr(redistrict._out_dir.os, "access", access)
    out = parent / "mine"
    result = CliRunner().invoke(app, [*_grid_files(tmp_path, 3, [500] * 9), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        f"error: invalid input: --out {out}: cannot write in {parent} (permission denied)"
    )
    assert "choose a folder you can write to" in result.stderr
    assert not out.exists()


def test_signals_wait_until_the_output_is_swapped_into_place() -> None:
    # Ctrl-C between the two renames used to leave --out missing and the earlier plan hidden.
    reached = False
    with pytest.raises(KeyboardInterrupt), held_signals():
        os.kill(os.getpid(), signal.SIGINT)
        reached = True  # the signal waits for the end of the block
    assert reached


def test_a_run_killed_while_writing_is_cleaned_up_by_the_next(tmp_path: Path) -> None:
    # kill -9 leaves the temporary folder, or the earlier plan moved aside: the next run
    # removes the one and puts the other back.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    files = _grid_files(tmp_path, 3, [500] * 9)
    assert CliRunner().invoke(app, [*files, "--out", str(out)]).exit_code == 0
    aside = tmp_path / f".out.old-{dead.pid}"
    out.rename(aside)
    stale = tmp_path / f".out.{dead.pid}.abc123.tmp"
    stale.mkdir()
    (stale / "map.html").write_text("half", encoding="utf-8")
    recover_swaps(out.resolve())
    assert (out / "run.json").is_file() and not aside.exists() and not stale.exists()
    # A run in progress (this process) is left alone.
    mine = tmp_path / f".out.{os.getpid()}.def456.tmp"
    mine.mkdir()
    recover_swaps(out.resolve())
    assert mine.exists()


def test_an_earlier_plan_that_cannot_be_deleted_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A read-only earlier plan was moved aside as .out.old-PID and left there without a word,
    # one more copy at every run.
    out = tmp_path / "out"
    files = _grid_files(tmp_path, 3, [500] * 9)
    assert CliRunner().invoke(app, [*files, "--out", str(out)]).exit_code == 0
    monkeypatch.setattr(redistrict._files.shutil, "rmtree", lambda *args, **kwargs: None)
    assert CliRunner().invoke(app, [*files, "--out", str(out)]).exit_code == 0
    left = tmp_path / f".out.old-{os.getpid()}"
    assert left.is_dir() and (out / "run.json").is_file()
    assert f"could not delete {left}, left by a run of redistrict" in caplog.text
    assert "delete it by hand" in caplog.text
