"""Run a PuLP model with the solver the caller chose and read its status honestly.

* ``"highs"``: HiGHS in-process through highspy (PuLP's ``HiGHS`` API). PuLP maps
  a HiGHS time-out to "optimal", so the HiGHS model status and dual bound are
  read from the solver object itself.
* ``"cbc"``: the CBC binary bundled with PuLP. PuLP waits for CBC without a
  time-out and leaves the process behind if Python is killed; here CBC runs in
  its own process with a hard wall-clock limit and dies with its parent.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pulp

from redistrict._clock import NODE_COLUMN, RUN_COLUMN, SIMPLEX_COLUMN
from redistrict.errors import InputError, SolverError

__all__ = ["SOLVERS", "SolveOutcome", "check_solver", "run_model"]

log = logging.getLogger(__name__)

SOLVERS = ("highs", "cbc")
Status = Literal["optimal", "feasible", "infeasible", "no_solution"]


@dataclass(frozen=True)
class SolveOutcome:
    """What a solver run proved.

    Attributes
    ----------
    status : {"optimal", "feasible", "infeasible", "no_solution"}
        ``optimal`` only when the solver proved it; ``feasible`` when it stopped
        (time limit) with an incumbent; ``no_solution`` when it stopped without.
    objective : float or None
        Objective of the incumbent.
    bound : float or None
        Best proven lower bound, when the solver reports one.
    seconds : float
        Wall-clock time of the run.
    iterations : int
        Simplex iterations the solver reported (0 when unknown).
    nodes : int
        Branch-and-bound nodes the solver reported (0 when unknown).
    columns : int
        Variables of the model.
    """

    status: Status
    objective: float | None
    bound: float | None
    seconds: float
    iterations: int = 0
    nodes: int = 0
    columns: int = 0

    def work(self) -> float:
        """Machine-independent work of the run in reference seconds (see :mod:`redistrict._clock`)."""
        return self.columns * (RUN_COLUMN + SIMPLEX_COLUMN * self.iterations + NODE_COLUMN * self.nodes)


def check_solver(name: str) -> None:
    """Raise :class:`InputError` unless ``name`` is a usable solver."""
    if name not in SOLVERS:
        raise InputError(f"unknown solver {name!r}: choose one of {', '.join(SOLVERS)}")
    if name == "cbc" and _cbc_api() is None:
        raise SolverError("no CBC binary found (PuLP's bundled one or `cbc` on PATH): use --solver highs")
    if name == "highs" and not pulp.HiGHS(msg=False).available():
        raise SolverError("highspy is not installed: `pip install highspy` or use --solver cbc")


def run_model(
    prob: pulp.LpProblem,
    solver: str,
    time_limit: float,
    *,
    mip_gap: float = 1e-6,
    max_nodes: int | None = None,
    bound_only: bool = False,
    cutoff: float | None = None,
) -> SolveOutcome:
    """Solve ``prob`` (a minimisation) and report what was proven.

    Parameters
    ----------
    prob : pulp.LpProblem
        The model; variable values are set on return when a solution exists.
    solver : {"highs", "cbc"}
        Solver to use.
    time_limit : float
        Wall-clock limit in seconds.
    mip_gap : float
        Relative gap at which the solver may stop and call the solution optimal.
    max_nodes : int, optional
        Branch-and-bound node limit: a deterministic work limit (a time limit
        makes results depend on the machine's speed).
    bound_only : bool
        Spend the time on the lower bound (cuts, branching) and none on primal
        heuristics: for a bound, not a solution (use with ``cutoff``).
    cutoff : float, optional
        Only solutions below this objective are of interest: the solver prunes
        every node whose bound reaches it (``infeasible`` then means "none
        below the cutoff").

    Returns
    -------
    SolveOutcome
    """
    check_solver(solver)
    start = time.perf_counter()
    limit = max(0.05, float(time_limit))
    if solver == "highs":
        return _run_highs(prob, limit, mip_gap, max_nodes, start, bound_only, cutoff)
    return _run_cbc(prob, limit, mip_gap, max_nodes, start, bound_only, cutoff)


class _HiGHS(pulp.HiGHS):  # type: ignore[misc]
    """PuLP's HiGHS API, tolerant of model statuses PuLP does not map.

    PuLP raises ``KeyError`` for statuses such as ``kSolutionLimit`` (what HiGHS
    reports when ``mip_max_nodes`` stops it) after it has already copied the
    solution into the variables; the caller reads the real status from HiGHS.
    """

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:  # noqa: N802 - PuLP's name
        try:
            out: tuple[int, int] = super().findSolutionValues(lp)
        except KeyError:
            return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound
        return out


#: HiGHS options of a bound-only run: cuts and branching, no primal heuristics, no restart.
_HIGHS_BOUND_ONLY: dict[str, object] = {
    "mip_heuristic_effort": 0.0,
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_allow_restart": False,
}


def _run_highs(
    prob: pulp.LpProblem,
    limit: float,
    mip_gap: float,
    max_nodes: int | None,
    start: float,
    bound_only: bool = False,
    cutoff: float | None = None,
) -> SolveOutcome:
    import highspy

    extra: dict[str, object] = {} if max_nodes is None else {"mip_max_nodes": int(max_nodes)}
    if bound_only:
        extra.update(_HIGHS_BOUND_ONLY)
    if cutoff is not None:
        extra["objective_bound"] = float(cutoff)
    api = _HiGHS(msg=False, timeLimit=limit, gapRel=mip_gap, threads=1, random_seed=0, **extra)
    try:
        prob.solve(api)
    except Exception as exc:  # any crash inside the solver becomes one clear error
        raise SolverError(f"HiGHS failed: {type(exc).__name__}: {exc}") from exc
    h = prob.solverModel
    ms = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == 2  # kSolutionStatusFeasible
    seconds = time.perf_counter() - start
    objective = float(h.getObjectiveValue()) if has_sol else None
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
    work = {
        "iterations": max(0, int(info.simplex_iteration_count)),
        "nodes": max(0, int(info.mip_node_count)),
        "columns": int(h.getNumCol()),
    }
    mstat = highspy.HighsModelStatus
    if ms == mstat.kOptimal:
        return SolveOutcome("optimal", objective, objective if bound is None else bound, seconds, **work)
    if ms in (mstat.kInfeasible, mstat.kUnboundedOrInfeasible):
        return SolveOutcome("infeasible", None, None, seconds, **work)
    return SolveOutcome("feasible" if has_sol else "no_solution", objective, bound, seconds, **work)


def _cbc_api() -> pulp.COIN_CMD | None:
    """A COIN_CMD pointing at PuLP's bundled CBC binary (or one on PATH)."""
    from pulp.apis import coin_api

    for path in (coin_api.COIN_CMD.executableExtension(coin_api.pulp_cbc_path), "cbc"):
        api = pulp.COIN_CMD(path=path, msg=False)
        if api.available():
            return api
    return None


def _set_pdeathsig() -> None:  # pragma: no cover - runs in the child
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the parent
    except OSError:
        pass


def _run_cbc(
    prob: pulp.LpProblem,
    limit: float,
    mip_gap: float,
    max_nodes: int | None,
    start: float,
    bound_only: bool = False,
    cutoff: float | None = None,
) -> SolveOutcome:
    api = _cbc_api()
    if api is None:  # pragma: no cover - checked by check_solver
        raise SolverError("no CBC binary found: use --solver highs")
    with tempfile.TemporaryDirectory(prefix="redistrict-cbc-") as tmp:
        mps = str(Path(tmp) / "model.mps")
        sol = str(Path(tmp) / "model.sol")
        vs, vnames, cnames, _ = prob.writeMPS(mps, rename=1)
        args = [
            api.path, mps, "-sec", f"{limit:.3f}", "-ratio", f"{mip_gap:g}", "-threads", "1",
            "-randomSeed", "1",
        ]  # fmt: skip
        if cutoff is not None:
            args += ["-cutoff", f"{cutoff:.10g}"]
        if bound_only:
            args += ["-heuristicsOnOff", "off"]
        if max_nodes is not None:
            args += ["-maxNodes", str(int(max_nodes))]
        args += ["-solve", "-printingOptions", "all", "-solution", sol]
        try:
            proc_cm = subprocess.Popen(
                args,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                preexec_fn=_set_pdeathsig if os.name == "posix" else None,
                start_new_session=True,
            )
        except OSError as exc:
            raise SolverError(f"CBC could not be started: {exc}") from exc
        with proc_cm as proc:
            try:
                out, _ = proc.communicate(timeout=limit + 10.0)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                log.warning("CBC overran its time limit of %.1f s and was stopped", limit)
                return SolveOutcome("no_solution", None, None, time.perf_counter() - start)
        seconds = time.perf_counter() - start
        if proc.returncode != 0 or not os.path.exists(sol):
            raise SolverError(f"CBC exited with code {proc.returncode}: {out[-500:]}")
        status, values, _, _, _, sol_status = api.readsol_MPS(sol, prob, vs, vnames, cnames)
    prob.assignVarsVals(values)
    prob.assignStatus(status, sol_status)
    objective = pulp.value(prob.objective) if sol_status in (1, 2) else None
    bound = _cbc_bound(out)
    work = {
        "iterations": _cbc_count(out, "total iterations"),
        "nodes": _cbc_count(out, "enumerated nodes"),
        "columns": len(vs),
    }
    if status == pulp.LpStatusInfeasible:
        return SolveOutcome("infeasible", None, None, seconds, **work)
    if sol_status == pulp.LpSolutionOptimal and "Optimal solution found" in out:
        obj = float(objective) if objective is not None else None
        # CBC proved optimality within ``mip_gap``; its log's "best possible" may be stale.
        return SolveOutcome("optimal", obj, obj, seconds, **work)
    if objective is None:
        return SolveOutcome("no_solution", None, bound, seconds, **work)
    return SolveOutcome("feasible", float(objective), bound, seconds, **work)


def _cbc_count(log_text: str, label: str) -> int:
    """A count CBC prints as ``Label: N`` in its summary (0 when absent)."""
    for line in reversed(log_text.splitlines()):
        low = line.lower()
        if low.strip().startswith(label):
            try:
                return int(float(low.split(":", 1)[1].split()[0]))
            except (IndexError, ValueError):
                return 0
    return 0


def _cbc_bound(log_text: str) -> float | None:
    """Best possible objective from a CBC log, if it printed one."""
    for line in reversed(log_text.splitlines()):
        if "best possible" in line.lower():
            try:
                return float(line.lower().split("best possible")[1].split()[0].strip(":,"))
            except (IndexError, ValueError):
                return None
    return None
