"""Work budgets: the same plan whatever the machine's speed; unit counts on request."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from redistrict._clock import WallClock, WorkClock, make_clock
from redistrict.cli import app
from redistrict.errors import InputError
from redistrict.evaluate import check_plan
from redistrict.model import solve_region
from redistrict.problem import Band, Problem
from redistrict.solve import solve


def _grid(nx_: int, ny: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    xy = [(100.0 * i, 100.0 * j) for j in range(ny) for i in range(nx_)]
    edges = [(v, v + 1) for v in range(nx_ * ny) if v % nx_ < nx_ - 1]
    edges += [(v, v + nx_) for v in range(nx_ * (ny - 1))]
    households = rng.integers(150, 450, nx_ * ny)
    major = rng.random(len(edges)) < 0.2
    return Problem.from_arrays(households, xy, edges, edge_major=major.astype(float), band=Band(2000, 3000))


def _slow_machine(monkeypatch: pytest.MonkeyPatch, step: float) -> None:
    """Make every reading of the wall clock advance ``step`` seconds (a very slow machine)."""
    ticks = itertools.count()
    base = time.perf_counter()
    monkeypatch.setattr(time, "perf_counter", lambda: base + step * next(ticks))


def test_work_budget_gives_the_same_plan_on_a_slow_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    p = _grid(10, 10, seed=3)
    normal = solve(p, time_limit=3.0, budget="work", method="lns")
    _slow_machine(monkeypatch, step=0.5)
    slow = solve(p, time_limit=3.0, budget="work", method="lns")
    assert normal.labels.equals(slow.labels)
    assert normal.objective == pytest.approx(slow.objective)
    assert check_plan(p, slow.labels) == []


def test_time_budget_is_cut_by_a_slow_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    # The control: with a wall-clock budget the slow machine stops the search early, so
    # the plan is at best as good (the full search continues from where the cut one stops).
    p = _grid(10, 10, seed=3)
    normal = solve(p, time_limit=3.0, budget="work", method="lns")
    _slow_machine(monkeypatch, step=0.5)
    cut = solve(p, time_limit=3.0, budget="time", method="lns")
    assert check_plan(p, cut.labels) == []
    assert cut.objective >= normal.objective - 1e-9


def test_work_clock_counts_only_what_is_charged() -> None:
    clock = WorkClock()
    assert clock.now() == 0.0
    clock.charge(1.5)
    clock.charge(-3.0)  # negative work is ignored
    assert clock.now() == pytest.approx(1.5)
    assert clock.deterministic and not WallClock.deterministic
    assert clock.solver_limit(10.0) >= 10.0
    clock.solver_ran(5.0, limit=40.0)
    clock.solver_ran(40.0, limit=40.0)  # stopped by the safety limit
    assert clock.overruns == 1
    wall = WallClock()
    wall.solver_ran(40.0, limit=40.0)  # a wall-clock limit is meant to stop runs
    assert wall.overruns == 0
    assert isinstance(make_clock("time"), WallClock)
    with pytest.raises(ValueError, match="unknown budget"):
        make_clock("cpu")


def test_node_limit_returns_the_incumbent_not_an_error() -> None:
    # HiGHS reports kSolutionLimit when mip_max_nodes stops it; PuLP cannot map that
    # status. The run must still give its incumbent (or no solution), never a SolverError.
    p = _grid(5, 5, seed=1)
    ks = p.band.unit_counts(p.total)
    sol = solve_region(
        p, np.arange(p.n), kmin=ks.start, kmax=ks.stop - 1, max_nodes=1, time_limit=60, contiguity="sp"
    )
    assert sol.outcome.status in ("optimal", "feasible", "no_solution")
    assert sol.outcome.nodes <= 2
    assert sol.outcome.columns > 0


@pytest.mark.parametrize("units", [12, 13])
def test_units_fixes_the_number_of_units(units: int) -> None:
    p = _grid(10, 10, seed=3)
    assert units in p.band.unit_counts(p.total)
    sol = solve(p, time_limit=3.0, budget="work", units=units)
    assert sol.labels.nunique() == units
    assert check_plan(p, sol.labels) == []
    assert sol.bound is not None and sol.bound <= sol.objective + 1e-9


def test_units_outside_the_band_is_refused_with_the_admissible_counts() -> None:
    p = _grid(6, 6, seed=3)
    with pytest.raises(InputError, match=r"choose a number of units in \d+\.\.\d+"):
        solve(p, units=1)


def test_cbc_log_counts_are_read() -> None:
    from redistrict._solvers import _cbc_count

    log_text = (
        "Cbc0001I Search completed - best objective 12, took 0 iterations and 0 nodes (0.00 seconds)\n"
        "Enumerated nodes:               17\n"
        "Total iterations:               1234\n"
    )
    assert _cbc_count(log_text, "enumerated nodes") == 17
    assert _cbc_count(log_text, "total iterations") == 1234
    assert _cbc_count("no summary", "total iterations") == 0


def test_demo_takes_a_work_budget_and_repeats_its_plan(tmp_path: Path) -> None:
    # The demo is what a new user runs first: it must be reproducible on request too.
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        result = CliRunner().invoke(
            app, ["demo", "--budget", "work", "--time-limit", "2", "--lang", "en", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
    a, b = (pd.read_csv(out / "summary.csv") for out in outs)
    pd.testing.assert_frame_equal(a, b)
    run = json.loads((outs[0] / "run.json").read_text(encoding="utf-8"))
    assert run["parameters"]["budget"] == "work"


def test_units_are_shared_out_over_separate_components() -> None:
    # Two 6 x 5 grids with no edge between them (a river): 12 units in all are split so
    # that unit sizes stay balanced, each part getting a count its households admit.
    a, b = _grid(6, 5, seed=3), _grid(6, 5, seed=4)
    xy = np.vstack([a.xy, b.xy + np.array([5000.0, 0.0])])
    edges = np.vstack([a.edges, b.edges + a.n])
    h = np.concatenate([a.households, b.households])
    p = Problem.from_arrays(h, xy, edges, band=Band(2000, 3000))
    total = p.band.unit_counts(a.total).stop - 1 + p.band.unit_counts(b.total).stop - 1
    for units in (p.band.unit_counts(a.total).start + p.band.unit_counts(b.total).start, total):
        sol = solve(p, time_limit=2.0, budget="work", units=units)
        assert sol.labels.nunique() == units
        assert check_plan(p, sol.labels) == []
    with pytest.raises(InputError, match="in 2 separate parts: choose a number of units in"):
        solve(p, units=total + 1)
