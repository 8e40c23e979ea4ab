"""Solving the city's subproblems: each group a geometry-free problem in a Dask task.

:func:`solve_groups` hands every group that the cache (:mod:`redistrict._city_cache`)
does not hold to a ``LocalCluster`` of worker processes, to an existing cluster,
or (``scheduler="synchronous"``) to this process, largest first, and returns the
plans in group order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from redistrict._city_cache import cache_key, group_payload, prepare_cache, read_cache, write_cache
from redistrict._city_groups import Group
from redistrict._files import held_signals
from redistrict.errors import InputError
from redistrict.problem import Band, IntArray, Places, Problem, Weights
from redistrict.solve import solve

__all__ = [
    "SYNCHRONOUS",
    "CacheReport",
    "GroupSolution",
    "default_workers",
    "solve_groups",
    "worker_count",
]

log = logging.getLogger(__name__)

#: Environment variable marking the worker processes of the local cluster (read by
#: ``redistrict/__init__.py``, which then ignores SIGINT).
_WORKER_ENV = "REDISTRICT_DASK_WORKER"

#: ``scheduler`` value that solves the subproblems one after the other in this
#: process, without Dask (for debugging and as the reference in tests).
SYNCHRONOUS = "synchronous"
#: Seconds to wait for an existing Dask scheduler to answer.
_CONNECT_TIMEOUT_S = 20


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


def _places(payload: dict[str, Any]) -> Places | None:
    """The group's :class:`~redistrict.problem.Places` from its payload (None without names)."""
    given = payload.get("places")
    if not given:
        return None
    nodes = payload["nodes"].tolist()
    cuts: dict[Any, list[tuple[Any, str]]] = {}
    for a, b, layer in given["cuts"]:
        cuts.setdefault(a, []).append((b, str(layer)))
    return Places(
        dict(zip(nodes, given["names"], strict=True)),
        given["kind"],
        {a: tuple(c) for a, c in cuts.items()},
    )


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
        places=_places(payload),
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
    with _quiet_dask(), _remote_client(scheduler) if scheduler else _local_client(workers) as client:
        yield client


@contextlib.contextmanager
def _remote_client(scheduler: str) -> Iterator[Any]:
    """A client of the Dask scheduler at ``scheduler``."""
    from dask.distributed import Client

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


@contextlib.contextmanager
def _local_client(workers: int) -> Iterator[Any]:
    """A client of a new local cluster of ``workers`` processes, closed quietly after Ctrl-C."""
    from dask.distributed import Client, LocalCluster

    client: Any = None
    cluster: Any = None
    interrupted = False
    try:
        # Ctrl-C during start-up is held until the cluster exists, so that it is closed.
        with held_signals(), _workers_deaf(), warnings.catch_warnings():
            # The scheduler's HTTP server moves to a free port when 8787 is taken: harmless.
            warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.CRITICAL,  # workers log Dask's business, not the user's
            )  # fmt: skip
        client = Client(cluster)
        yield client
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        # After Ctrl-C or SIGTERM the cluster's shutdown (workers killed mid-task) logs warnings
        # and tracebacks that say nothing to the user, who is told what was written.
        if cluster is not None:
            with _silenced() if interrupted else contextlib.nullcontext():
                _close(client, cluster)
        os.environ.pop(_WORKER_ENV, None)  # set again by the nanny if it restarted a worker


@contextlib.contextmanager
def _workers_deaf() -> Iterator[None]:
    """Start the local cluster's workers ignoring SIGINT.

    Ctrl-C at a terminal reaches every process of its group; a worker interrupted
    while importing would print a traceback. The main process handles Ctrl-C and
    closes the cluster, which stops the workers. The variable is set before each
    worker is spawned, and ``redistrict/__init__.py`` reads it before its imports.
    """
    import dask

    try:
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{_WORKER_ENV}": "1"}):
            yield
    finally:
        # Dask's nanny sets the variable in this process's environment to spawn a worker and
        # leaves it there: every later subprocess (a notebook's, a test's) would ignore Ctrl-C.
        os.environ.pop(_WORKER_ENV, None)


def _close(client: Any, cluster: Any) -> None:
    """Close ``client`` (when there is one) and then ``cluster``, even if the first fails."""
    try:
        if client is not None:
            client.close()
    finally:
        cluster.close()


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Drop every log record (of any logger) while the block runs."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


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
    n_workers = worker_count(workers)
    directory = prepare_cache(cache_dir)
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
    payloads = {g.index: group_payload(problem, g, params) for g in groups}
    keys = {i: cache_key(p) for i, p in payloads.items()}
    results: dict[int, GroupSolution] = {}
    todo: list[int] = []
    for g in groups:
        record = read_cache(directory, keys[g.index], size[g.index])
        if record is None:
            todo.append(g.index)
        else:
            results[g.index] = _from_record(g.index, keys[g.index], record, cached=True)
    cached = len(results)
    # Largest subproblems first: the long ones do not end up alone at the tail.
    todo.sort(key=lambda i: (-size[i], i))
    bar, task = _progress_bar(progress, len(groups))

    def finish(i: int, record: dict[str, Any]) -> None:
        write_cache(directory, keys[i], record)
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


def worker_count(workers: int | None) -> int:
    """Dask workers to start: ``workers``, or every core; fewer than 1 is refused."""
    n_workers = workers if workers is not None else default_workers()
    if n_workers < 1:
        raise InputError(f"--workers must be at least 1, not {n_workers}")
    return n_workers
