"""City scale: split a territory into independent subproblems and solve them with Dask.

A whole city holds hundreds or thousands of existing communities. Planning it
as one instance is neither needed nor tractable, so :func:`run_city`

1. loads once, builds the atoms and the adjacency graph once (in the driver);
2. cuts the atom graph into *groups* along boundaries that must not be crossed
   (:func:`decompose`, in :mod:`redistrict._city_groups`): the user's
   higher-level areas (``partition_by``, e.g. a district column of the blocks),
   barriers (no graph edge crosses them) and the existing communities. Every
   community is a group of its own unless its households cannot form units in
   the band (undersized, empty, or in a gap such as 3,100 for a 2,000-3,000
   band): such a group is merged, smallest first, with the neighbouring group
   of the same higher-level area that shares the longest boundary, until every
   group can be planned. Atoms without a community join the neighbour they
   share the longest boundary with;
3. solves each group as a geometry-free :class:`~redistrict.problem.Problem` with
   :func:`redistrict.solve.solve` in a Dask task (:func:`solve_groups`): on a
   ``LocalCluster`` of worker processes by default, or on an existing cluster
   (``scheduler="tcp://host:port"``). ``time_limit`` applies to *each*
   subproblem. Finished subproblems are cached on disk, one JSON file per group,
   keyed by a hash of the group's arrays and the parameters, so an interrupted
   run resumes where it stopped;
4. merges the plans in group order (:func:`merge_solutions`) into one
   :class:`~redistrict.pipeline.PlanResult`, written by
   :func:`write_city_outputs` (:mod:`redistrict._city_outputs`) like ``plan``'s
   (``plan.gpkg``, ``summary.csv``, ``communities.csv``, ``run.json`` with the
   cost totals, ``map.html``) plus a per-subproblem ``subproblems.csv``.

Each group's plan depends only on the group's own arrays, the seed and the
budget, and units are numbered in group order, so the merged plan does not
depend on the number of workers or on the order in which tasks finish. The
budget of each subproblem is counted work by default (``budget="work"``, see
:mod:`redistrict._clock`), so this holds even for subproblems cut short by
their limit; with ``budget="time"`` those depend on the machine's speed and
load.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from redistrict._city_groups import Group, decompose, present
from redistrict._city_outputs import write_city_outputs
from redistrict._clock import is_overrun_note, overrun_note
from redistrict._validate_columns import format_labels
from redistrict._words import counted
from redistrict.errors import InputError
from redistrict.problem import Band, IntArray, Problem, Weights
from redistrict.solve import Solution, solve

if TYPE_CHECKING:
    # Geometry modules are imported where used, so that Dask workers, which only
    # solve geometry-free subproblems, start quickly.
    import geopandas as gpd

    from redistrict.load import Inputs
    from redistrict.pipeline import PlanOptions, PlanResult

__all__ = [
    "SYNCHRONOUS",
    "CacheReport",
    "CityResult",
    "Group",
    "GroupSolution",
    "decompose",
    "default_workers",
    "formed_notes",
    "merge_solutions",
    "plan_city",
    "run_city",
    "solve_groups",
    "subproblem_table",
    "write_city_outputs",
]

log = logging.getLogger(__name__)

#: ``scheduler`` value that solves the subproblems one after the other in this
#: process, without Dask (for debugging and as the reference in tests).
SYNCHRONOUS = "synchronous"
#: Version of the cache file format and of the decomposition; part of every key.
_CACHE_FORMAT = 1
#: Seconds to wait for an existing Dask scheduler to answer.
_CONNECT_TIMEOUT_S = 20
#: Block columns redistrict adds itself: not offered for --partition-by.
_OWN_COLUMNS = ("households", "residents")
#: At most this many subproblems are listed in one note.
_MAX_LISTED = 10


# --------------------------------------------------------------------- solving
@dataclass(frozen=True)
class GroupSolution:
    """The plan of one group.

    Attributes
    ----------
    index : int
        Group index.
    key : str
        Cache key (hash of the group's arrays and the parameters).
    labels : ndarray of int
        Local unit (0..k-1) per atom of the group, -1 for atoms in no unit.
    flags : tuple of str
        Status of each local unit (``ok``, ``below band`` ...).
    status : str
        ``optimal``, ``feasible`` or ``heuristic``.
    objective : float
        Objective of the group's plan (metres, scaled by the group's weight).
    bound : float or None
        Lower bound on the group's objective, same scale.
    gap : float or None
        Relative gap of the group.
    scale : float
        Total atom weight of the group (objective * scale = unscaled cost).
    seconds : float
        Solve time of the group (as measured when it was solved).
    cpu_seconds : float
        CPU time of the worker process during the solve (below ``seconds``
        when the worker had to share its core).
    method : str
        Method used by the solver.
    notes : tuple of str
        Notes of the solver.
    reason : str
        Why units of the group are outside the band, if they are.
    cached : bool
        Whether the plan was read from the cache.

    """

    index: int
    key: str
    labels: IntArray
    flags: tuple[str, ...]
    status: str
    objective: float
    bound: float | None
    gap: float | None
    scale: float
    seconds: float
    cpu_seconds: float
    method: str
    notes: tuple[str, ...]
    reason: str
    cached: bool = False


@dataclass(frozen=True)
class CacheReport:
    """What :func:`solve_groups` did.

    Attributes
    ----------
    solved : int
        Subproblems solved in this run.
    cached : int
        Subproblems read from the cache.
    directory : Path or None
        The cache folder (None = no cache).
    workers : int
        Worker processes (1 for the synchronous scheduler).
    scheduler : str
        ``synchronous``, ``local`` or the address of the cluster used.
    seconds : float
        Wall-clock time of the solve stage.

    """

    solved: int
    cached: int
    directory: Path | None
    workers: int
    scheduler: str
    seconds: float


def default_workers() -> int:
    """Number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _version() -> str:
    try:
        return metadata.version("redistrict")
    except metadata.PackageNotFoundError:  # pragma: no cover - source tree only
        return "source"


def _payload(problem: Problem, group: Group, params: dict[str, Any]) -> dict[str, Any]:
    """Everything a worker needs to solve one group: numpy arrays and plain values."""
    pos = group.positions
    local = np.full(problem.n, -1, dtype=np.int64)
    local[pos] = np.arange(len(pos), dtype=np.int64)
    e = problem.edges
    keep = (local[e[:, 0]] >= 0) & (local[e[:, 1]] >= 0)
    community = None
    if problem.community is not None:
        codes = problem.community[pos]
        community = np.full(len(pos), -1, dtype=np.int64)
        has = codes >= 0
        community[has] = np.unique(codes[has], return_inverse=True)[1]
    labels = [problem.nodes[i] for i in pos.tolist()]
    if all(isinstance(v, int | np.integer) for v in labels):
        nodes = np.asarray(labels, dtype=np.int64)
    else:  # atoms named otherwise are referred to by position in notes
        nodes = pos.copy()
    return {
        "index": group.index,
        "nodes": nodes,
        "households": problem.households[pos].copy(),
        "xy": problem.xy[pos].copy(),
        "edges": local[e[keep]],
        "edge_major": problem.edge_major[keep].copy(),
        "edge_length": problem.edge_length[keep].copy(),
        "community": community,
        "area": problem.area[pos].copy(),
        **params,
    }


def _key(payload: dict[str, Any]) -> str:
    """Hash of the group's arrays and the parameters."""
    digest = hashlib.sha256(f"redistrict-city-{_CACHE_FORMAT}-{_version()}".encode())
    for name in sorted(payload):
        if name == "index":
            continue
        value = payload[name]
        digest.update(name.encode())
        if isinstance(value, np.ndarray):
            digest.update(str(value.dtype).encode() + str(value.shape).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(json.dumps(value, sort_keys=True).encode())
    return digest.hexdigest()


def _solve_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Solve one group (runs in a Dask worker); returns plain values only."""
    sub = Problem.from_arrays(
        payload["households"],
        payload["xy"],
        payload["edges"],
        nodes=payload["nodes"].tolist(),
        edge_major=payload["edge_major"],
        edge_length=payload["edge_length"],
        community=payload["community"],
        area=payload["area"],
        band=Band(**payload["band"]),
        weights=Weights(**payload["weights"]),
    )
    t0, c0 = time.perf_counter(), time.process_time()
    sol = solve(
        sub, solver=payload["solver"], time_limit=payload["time_limit"], seed=payload["seed"],
        method=payload["method"], target_gap=payload["target_gap"], budget=payload["budget"],
    )  # fmt: skip
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    labels = sol.labels.fillna(0).to_numpy(dtype=np.int64) - 1
    k = int(labels.max()) + 1 if len(labels) else 0
    flags = [str(sol.unit_flags.get(u + 1, "ok")) for u in range(k)]
    reasons: list[str] = []
    if "reason" in sol.components.columns:
        reasons = sorted({str(r) for r in sol.components["reason"].dropna() if str(r)})
    return {
        "labels": labels.tolist(),
        "flags": flags,
        "status": sol.status,
        "objective": float(sol.objective),
        "bound": None if sol.bound is None else float(sol.bound),
        "gap": None if sol.gap is None else float(sol.gap),
        "scale": float(sub.scale),
        "seconds": seconds,
        "cpu_seconds": cpu,
        "method": sol.method,
        "notes": list(sol.notes),
        "reason": "; ".join(reasons),
    }


def _from_record(index: int, key: str, record: dict[str, Any], cached: bool) -> GroupSolution:
    return GroupSolution(
        index=index,
        key=key,
        labels=np.asarray(record["labels"], dtype=np.int64),
        flags=tuple(str(f) for f in record["flags"]),
        status=str(record["status"]),
        objective=float(record["objective"]),
        bound=None if record["bound"] is None else float(record["bound"]),
        gap=None if record["gap"] is None else float(record["gap"]),
        scale=float(record["scale"]),
        seconds=float(record["seconds"]),
        cpu_seconds=float(record.get("cpu_seconds", float("nan"))),
        method=str(record["method"]),
        notes=tuple(str(s) for s in record["notes"]),
        reason=str(record["reason"]),
        cached=cached,
    )


def _read_cache(directory: Path | None, key: str, size: int) -> dict[str, Any] | None:
    if directory is None:
        return None
    path = directory / f"{key}.json"
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("key") != key or len(record.get("labels", ())) != size:
        log.warning("ignoring unreadable cache file %s", path)
        return None
    return record


def _write_cache(directory: Path | None, key: str, record: dict[str, Any]) -> None:
    if directory is None:
        return
    path = directory / f"{key}.json"
    tmp = directory / f".{key}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"key": key, **record}), encoding="utf-8")
    os.replace(tmp, path)


def _prepare_cache(directory: str | Path | None) -> Path | None:
    if directory is None:
        return None
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise InputError(
            f"the cache folder {path} cannot be written ({exc.strerror or exc}): "
            "give a writable folder with --cache"
        ) from None
    return path


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Keep Dask's start/stop messages out of the output unless redistrict logs at INFO."""
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    if not log.isEnabledFor(logging.INFO):
        dask_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        dask_log.setLevel(level)


@contextlib.contextmanager
def _dask_client(workers: int, scheduler: str | None) -> Iterator[Any]:
    """A Dask client on a new local cluster, or on the cluster at ``scheduler``."""
    with _quiet_dask(), _dask_client_inner(workers, scheduler) as client:
        yield client


@contextlib.contextmanager
def _dask_client_inner(workers: int, scheduler: str | None) -> Iterator[Any]:
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"cannot connect to the Dask scheduler at {scheduler!r} ({exc}): start one with "
                "`dask scheduler` and `dask worker ADDRESS` (with redistrict installed on every "
                "worker), "
                "or leave out --scheduler to use a local cluster"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    with warnings.catch_warnings():
        # The scheduler's HTTP server moves to a free port when 8787 is taken: harmless.
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _progress_bar(enabled: bool, total: int) -> tuple[Any, Any]:
    """A rich progress bar on stderr (inactive when not a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    bar = Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, disable=not (enabled and console.is_terminal),
    )  # fmt: skip
    task = bar.add_task("subproblems", total=total)
    return bar, task


def solve_groups(
    problem: Problem,
    groups: Sequence[Group],
    *,
    solver: str = "highs",
    time_limit: float = 60.0,
    seed: int = 0,
    method: str = "auto",
    target_gap: float = 0.005,
    budget: str = "work",
    workers: int | None = None,
    scheduler: str | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = False,
    on_result: Callable[[GroupSolution], None] | None = None,
) -> tuple[list[GroupSolution], CacheReport]:
    """Solve every group, in parallel with Dask, reusing cached plans.

    Parameters
    ----------
    problem : Problem
        The whole territory.
    groups : sequence of Group
        Output of :func:`decompose`.
    solver, method, seed, target_gap
        Passed to :func:`redistrict.solve.solve` for every group.
    time_limit : float
        Seconds for *each* subproblem.
    budget : {"work", "time"}
        ``work`` (default) counts each subproblem's search work instead of
        wall-clock time, so the plan is the same whatever the number of
        workers, the machine or its load (see :func:`redistrict.solve.solve`).
    workers : int, optional
        Worker processes of the local cluster (default: every core). Ignored
        with an existing cluster.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:port``), or
        ``"synchronous"`` to solve in this process without Dask.
    cache_dir : str or Path, optional
        Folder of the subproblem cache (None = no cache).
    progress : bool
        Show a progress bar on stderr when it is a terminal.
    on_result : callable, optional
        Called with each group's solution as it becomes available.

    Returns
    -------
    solutions : list of GroupSolution
        In group order.
    report : CacheReport
        Counts of solved and cached subproblems.

    """
    start = time.perf_counter()
    n_workers = _worker_count(workers)
    directory = _prepare_cache(cache_dir)
    band = problem.band
    params: dict[str, Any] = {
        "band": {"lo": band.lo, "hi": band.hi, "target": band.target, "counts": band.counts},
        "weights": asdict(problem.weights),
        "solver": solver,
        "time_limit": float(time_limit),
        "seed": int(seed),
        "method": method,
        "target_gap": float(target_gap),
        "budget": budget,
    }
    if len({g.index for g in groups}) != len(groups):
        raise ValueError("groups must have distinct indices")
    size = {g.index: len(g.positions) for g in groups}
    payloads = {g.index: _payload(problem, g, params) for g in groups}
    keys = {i: _key(p) for i, p in payloads.items()}
    results: dict[int, GroupSolution] = {}
    todo: list[int] = []
    for g in groups:
        record = _read_cache(directory, keys[g.index], size[g.index])
        if record is None:
            todo.append(g.index)
        else:
            results[g.index] = _from_record(g.index, keys[g.index], record, cached=True)
    cached = len(results)
    # Largest subproblems first: the long ones do not end up alone at the tail.
    todo.sort(key=lambda i: (-size[i], i))
    bar, task = _progress_bar(progress, len(groups))

    def finish(i: int, record: dict[str, Any]) -> None:
        _write_cache(directory, keys[i], record)
        results[i] = _from_record(i, keys[i], record, cached=False)
        if on_result is not None:
            on_result(results[i])
        bar.advance(task)

    with bar:
        bar.advance(task, cached)
        if scheduler == SYNCHRONOUS:
            label, used = SYNCHRONOUS, 1
            for i in todo:
                finish(i, _solve_payload(payloads[i]))
        elif todo:
            from dask.distributed import as_completed

            with _dask_client(n_workers, scheduler) as client:
                label = scheduler or "local"
                used = len(client.scheduler_info().get("workers", {})) or n_workers
                futures = []
                owner: dict[str, int] = {}
                for rank, i in enumerate(todo):
                    fut = client.submit(
                        _solve_payload, payloads[i], key=f"redistrict-group-{keys[i][:24]}",
                        priority=len(todo) - rank, pure=False,
                    )  # fmt: skip
                    futures.append(fut)
                    owner[fut.key] = i
                for fut in as_completed(futures):
                    finish(owner[fut.key], fut.result())
        else:
            label, used = scheduler or "local", 0
    report = CacheReport(
        solved=len(todo), cached=cached, directory=directory, workers=used,
        scheduler=label, seconds=time.perf_counter() - start,
    )  # fmt: skip
    return [results[g.index] for g in groups], report


def _worker_count(workers: int | None) -> int:
    """Dask workers to start: ``workers``, or every core; fewer than 1 is refused."""
    n_workers = workers if workers is not None else default_workers()
    if n_workers < 1:
        raise InputError(f"--workers must be at least 1, not {n_workers}")
    return n_workers


# --------------------------------------------------------------------- merging
def merge_solutions(
    problem: Problem,
    groups: Sequence[Group],
    solutions: Sequence[GroupSolution],
    *,
    solver: str = "highs",
    seconds: float = 0.0,
) -> Solution:
    """Join the groups' plans into one plan of the whole territory.

    Units are numbered in group order, then in each group's own order, so the
    numbering does not depend on which subproblem finished first.

    Parameters
    ----------
    problem : Problem
        The whole territory.
    groups : sequence of Group
        The groups, in order.
    solutions : sequence of GroupSolution
        One per group, same order.
    solver : str
        Solver name recorded in the result.
    seconds : float
        Wall-clock time of the solve stage.

    Returns
    -------
    Solution
        ``objective`` and ``bound`` are the weight-averaged group values (the
        sum of the groups' unscaled costs over the sum of their weights);
        ``components`` is the per-subproblem table.

    """
    labels = np.full(problem.n, -1, dtype=np.int64)
    flags: dict[int, str] = {}
    notes: list[str] = []
    overrun: list[int] = []
    offset = 0
    for g, s in zip(groups, solutions, strict=True):
        if len(s.labels) != len(g.positions):
            raise RuntimeError(f"subproblem {g.index}: plan does not match its atoms; please report this bug")
        has = s.labels >= 0
        labels[g.positions[has]] = s.labels[has] + offset
        for u, flag in enumerate(s.flags):
            flags[offset + u + 1] = flag
        offset += len(s.flags)
        notes += [f"subproblem {g.index} ({_group_label(g)}): {n}" for n in s.notes if not is_overrun_note(n)]
        if any(is_overrun_note(n) for n in s.notes):
            overrun.append(g.index)
    if overrun:
        notes.append(overrun_note(len(overrun), where=format_labels(overrun, limit=_MAX_LISTED)))
    band = f"{problem.band.lo}-{problem.band.hi}"
    stuck = sum(1 for g in groups if g.stuck)
    if stuck:
        notes.append(
            f"{counted(stuck, 'subproblem')} cannot form units of {band} and "
            f"{'has' if stuck == 1 else 'have'} no neighbouring group to merge with (see "
            "subproblems.csv, column 'formed')"
        )
    cost = sum(s.objective * s.scale for s in solutions)
    scale = sum(s.scale for s in solutions) or 1.0
    bounds = [s.bound for s in solutions]
    bound = None
    if bounds and all(b is not None for b in bounds):
        bound = sum(float(b) * s.scale for b, s in zip(bounds, solutions, strict=True) if b is not None)
        bound /= scale
    objective = cost / scale
    gap = None if bound is None else (max(0.0, (objective - bound) / objective) if objective > 0 else 0.0)
    if solutions and all(s.status == "optimal" for s in solutions):
        status = "optimal"
    elif bound is not None:
        status = "feasible"
    else:
        status = "heuristic"
    methods = sorted({m for s in solutions for m in s.method.split("/") if m and m != "none"})
    unit_ids = pd.Series(labels, index=pd.Index(problem.nodes, name="atom_id"), name="unit_id")
    unit_ids = unit_ids.where(unit_ids >= 0).astype("Int64") + 1
    unit_flags = pd.Series(flags, name="status", dtype=object)
    unit_flags.index.name = "unit_id"
    return Solution(
        labels=unit_ids, status=status, objective=objective, bound=bound, gap=gap,
        seconds=seconds, seconds_first=seconds, solver=solver, method="/".join(methods) or "none",
        unit_flags=unit_flags, components=subproblem_table(problem, groups, solutions), notes=notes,
    )  # fmt: skip


def formed_notes(problem: Problem, groups: list[Group]) -> list[str]:
    """How the subproblems were formed, for the run's notes (not warnings).

    Parameters
    ----------
    problem : Problem
        The whole city.
    groups : list of Group
        The subproblems (:func:`decompose`).

    Returns
    -------
    list of str
        A note counting the subproblems that join communities too small (or in a gap
        of the band) to form units on their own; empty when there are none. Units
        such a subproblem still leaves outside the band get the solver's warnings.
    """
    joined = [g for g in groups if g.merged]
    if not joined:
        return []
    band = f"{problem.band.lo}-{problem.band.hi}"
    # Without communities (only --partition-by) the pieces joined are atoms outside every community.
    what = "communities" if all(g.communities for g in joined) else "pieces of the territory"
    merged = len(joined)
    return [
        f"{counted(merged, 'subproblem')} join{'s' if merged == 1 else ''} {what} that could "
        f"not form units of {band} on their own (see subproblems.csv, column 'formed')"
    ]


def _group_label(group: Group) -> str:
    names = group.communities
    if not names:
        return f"{len(group.positions)} atoms"
    shown = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
    return f"communit{'y' if len(names) == 1 else 'ies'} {shown}"


def subproblem_table(
    problem: Problem, groups: Sequence[Group], solutions: Sequence[GroupSolution]
) -> pd.DataFrame:
    """One row per subproblem: size, units, status, gap, seconds, cache use, how it was formed.

    Parameters
    ----------
    problem : Problem
        The whole territory.
    groups : sequence of Group
        The groups.
    solutions : sequence of GroupSolution
        Their plans, same order.

    Returns
    -------
    pandas.DataFrame
        Columns ``subproblem``, ``communities``, ``partition``, ``atoms``,
        ``households``, ``units``, ``units_in_band``, ``status``, ``gap``,
        ``objective``, ``seconds``, ``cpu_seconds``, ``cached``, ``method``, ``formed``,
        ``reason``.

    """
    band = problem.band
    rows: list[dict[str, object]] = []
    for g, s in zip(groups, solutions, strict=True):
        h = problem.households[g.positions]
        loads = np.bincount(s.labels[s.labels >= 0], weights=h[s.labels >= 0], minlength=len(s.flags))
        rows.append(
            {
                "subproblem": g.index,
                "communities": ";".join(g.communities),
                "partition": g.partition,
                "atoms": len(g.positions),
                "households": g.households,
                "units": len(s.flags),
                "units_in_band": int(((loads >= band.lo) & (loads <= band.hi)).sum()),
                "status": s.status,
                "gap": s.gap,
                "objective": s.objective,
                "seconds": round(s.seconds, 3),
                "cpu_seconds": round(s.cpu_seconds, 3),
                "cached": s.cached,
                "method": s.method,
                "formed": g.note,
                "reason": s.reason,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------- pipeline
@dataclass
class CityResult:
    """A city-scale run.

    Attributes
    ----------
    plan : PlanResult
        The merged plan, written like a single-community plan.
    groups : list of Group
        The subproblems.
    solutions : list of GroupSolution
        Their plans.
    subproblems : pandas.DataFrame
        Per-subproblem table (:func:`subproblem_table`).
    report : CacheReport
        Solved and cached counts, workers and scheduler used.

    """

    plan: PlanResult
    groups: list[Group]
    solutions: list[GroupSolution]
    subproblems: pd.DataFrame
    report: CacheReport


def _atom_communities(atoms: gpd.GeoDataFrame, nodes: Sequence[Hashable]) -> list[str | None]:
    if "community_id" not in atoms.columns:
        return [None] * len(nodes)
    values = atoms["community_id"].reindex(pd.Index(list(nodes), dtype=object))
    return [str(v) if present(v) and not pd.isna(v) else None for v in values.tolist()]


def _atom_partition(
    blocks: gpd.GeoDataFrame,
    block_atom: pd.Series,
    column: str,
    nodes: Sequence[Hashable],
    notes: list[str],
) -> list[str | None]:
    """Higher-level area of each atom: the value of the blocks holding most of its households."""
    values = blocks[column]
    missing = int(values.isna().sum())
    if missing:
        notes.append(
            f"{missing} block{'s have' if missing > 1 else ' has'} no value in column "
            f"{column!r}: their atoms join the "
            "neighbouring area they share the longest boundary with"
        )
    frame = pd.DataFrame(
        {
            "atom": block_atom.reindex(blocks.index).to_numpy(),
            "value": values.to_numpy(dtype=object),
            "households": blocks["households"].to_numpy(),
        }
    )
    frame = frame[frame["atom"].notna() & frame["value"].notna()]
    frame = frame.assign(value=frame["value"].map(_text_value))
    totals = pd.DataFrame(frame.groupby(["atom", "value"])["households"].sum().reset_index())
    totals = totals.sort_values(["atom", "households", "value"], ascending=[True, False, True])
    best = totals.drop_duplicates("atom")
    mapping = dict(zip(best["atom"].astype(np.int64).tolist(), best["value"].tolist(), strict=True))
    return [mapping.get(int(str(v))) for v in nodes]


def _text_value(value: object) -> str:
    """An area value as text (``3.0`` -> ``"3"``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_request(inputs: Inputs, options: PlanOptions, partition_by: str | None) -> None:
    from redistrict.pipeline import total_problems

    problems = total_problems(inputs, options)
    if partition_by is not None and (
        partition_by not in inputs.blocks.columns or partition_by in _OWN_COLUMNS
    ):
        usable = sorted(str(c) for c in inputs.blocks.columns if c not in ("geometry", *_OWN_COLUMNS))
        source = inputs.sources.get("blocks", "blocks")
        why = (
            "that column holds the blocks' household (or resident) counts, not area codes"
            if partition_by in _OWN_COLUMNS
            else f"the blocks ({source}) have no such column"
        )
        problems.append(f"--partition-by {partition_by!r}: {why}; choose one of {', '.join(usable)}")
    if inputs.communities is None and partition_by is None:
        log.warning(
            "no --communities and no --partition-by: every connected part of the territory is one "
            "subproblem, which is slow for a whole city"
        )
    if problems:
        raise InputError(problems)


def run_city(
    inputs: Inputs,
    options: PlanOptions | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    cache_dir: str | Path | None = None,
    partition_by: str | None = None,
    progress: bool = False,
) -> CityResult:
    """Plan a whole city (or district) as independent subproblems solved with Dask.

    Parameters
    ----------
    inputs : Inputs
        Output of :func:`redistrict.load.load_inputs`, normally with communities.
    options : PlanOptions, optional
        Run parameters; ``time_limit`` is the budget of *each* subproblem.
    workers : int, optional
        Worker processes of the local Dask cluster (default: every core).
    scheduler : str, optional
        Address of an existing Dask scheduler, or ``"synchronous"`` for an
        in-process run without Dask.
    cache_dir : str or Path, optional
        Folder where finished subproblems are kept so that a rerun resumes.
    partition_by : str, optional
        Column of the blocks naming higher-level areas no unit may cross.
    progress : bool
        Show a progress bar over subproblems on stderr (when a terminal).

    Returns
    -------
    CityResult

    """
    from redistrict.atoms import build_atoms
    from redistrict.continuity import annotate_units
    from redistrict.evaluate import plan_metrics, unit_table
    from redistrict.graph import build_graph
    from redistrict.pipeline import PlanOptions, PlanResult, check_conservation, unplanned_residents

    opts = options or PlanOptions(budget="work")
    _check_request(inputs, opts, partition_by)
    seconds: dict[str, float] = {}
    notes = list(inputs.notes)

    t = time.perf_counter()
    built = build_atoms(inputs, max_households=opts.band.hi, mode=opts.atoms)
    atoms = built.atoms
    notes += built.notes
    seconds["atoms"] = time.perf_counter() - t

    t = time.perf_counter()
    graph = build_graph(atoms, inputs.roads, inputs.barriers)
    problem = Problem.from_graph(graph, band=opts.band, weights=opts.weights)
    seconds["graph"] = time.perf_counter() - t

    t = time.perf_counter()
    community = _atom_communities(atoms, problem.nodes)
    partition = None
    if partition_by is not None:
        partition = _atom_partition(inputs.blocks, built.block_atom, partition_by, problem.nodes, notes)
    groups = decompose(problem, community, partition)
    seconds["decompose"] = time.perf_counter() - t
    log.info("%d atoms in %d subproblems", problem.n, len(groups))

    solutions, report = solve_groups(
        problem, groups, solver=opts.solver, time_limit=opts.time_limit, seed=opts.seed,
        method=opts.method, target_gap=opts.target_gap, workers=workers, scheduler=scheduler,
        cache_dir=cache_dir, progress=progress, budget=opts.budget,
    )  # fmt: skip
    seconds["solve"] = report.seconds
    solution = merge_solutions(problem, groups, solutions, solver=opts.solver, seconds=report.seconds)
    notes += formed_notes(problem, groups) + solution.notes

    t = time.perf_counter()
    labels = solution.labels.reindex(atoms.index)
    atoms = atoms.assign(unit_id=labels)
    notes += unplanned_residents(atoms)
    units = unit_table(atoms, labels, opts.band, flags=solution.unit_flags)
    units, unit_notes = annotate_units(units, atoms, problem, inputs, scenario=opts.scenario)
    notes += unit_notes
    metrics = plan_metrics(problem, solution.labels)
    check_conservation(inputs, atoms, units)
    seconds["evaluate"] = time.perf_counter() - t
    plan = PlanResult(
        inputs=inputs, atoms=atoms, units=units, graph=graph, problem=problem, solution=solution,
        metrics=metrics, options=opts, notes=notes, stage_seconds=seconds, atom_warnings=built.warnings,
    )  # fmt: skip
    return CityResult(
        plan=plan,
        groups=groups,
        solutions=solutions,
        subproblems=solution.components,
        report=report,
    )


def plan_city(
    load_kwargs: dict[str, Any],
    options: PlanOptions,
    out_dir: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    cache_dir: str | Path | None = None,
    partition_by: str | None = None,
    lang: str = "zh",
    tiles: str | None = None,
    title: str = "redistrict",
    progress: bool = False,
    strict: bool = False,
) -> CityResult:
    """Load the inputs, plan the city and write the outputs (the ``redistrict city`` command).

    Parameters
    ----------
    load_kwargs : dict
        Keyword arguments of :func:`redistrict.load.load_inputs`.
    options : PlanOptions
        Run parameters (``time_limit`` per subproblem).
    out_dir : str or Path
        Output folder.
    workers, scheduler, cache_dir, partition_by, progress
        See :func:`run_city`.
    lang, tiles, title
        See :func:`write_city_outputs`.
    strict : bool
        Raise instead of writing a plan with units outside the band.

    Returns
    -------
    CityResult

    Raises
    ------
    InfeasibleError
        With ``strict``, when a unit is outside the band (nothing is written).

    """
    from redistrict.load import load_inputs
    from redistrict.pipeline import require_in_band

    _worker_count(workers)  # before the inputs are read
    inputs = load_inputs(**load_kwargs)
    result = run_city(
        inputs, options, workers=workers, scheduler=scheduler, cache_dir=cache_dir,
        partition_by=partition_by, progress=progress,
    )  # fmt: skip
    if strict:
        require_in_band(result.plan)
    write_city_outputs(result, out_dir, title=title, lang=lang, tiles=tiles)
    return result
