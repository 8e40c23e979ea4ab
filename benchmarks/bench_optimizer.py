"""Benchmark the redistrict optimiser against GerryChain ReCom and spopt max-p.

Run from the repository root (peers need ``pip install -e ".[bench]"``)::

    .venv/bin/python -m benchmarks.bench_optimizer --out bench.csv

For every instance (see :mod:`benchmarks._instances`) each method runs in a fresh
``spawn`` subprocess, so its peak memory (``ru_maxrss``) is its own. The parent then
scores every plan with the same functions, :func:`redistrict.evaluate.plan_metrics`
(household-weighted mean distance to the unit's household-weighted centre, share of
unit boundary along major roads) and :func:`redistrict.evaluate.check_plan`
(contiguity, band), and with the redistrict objective itself
(:meth:`redistrict.problem.Problem.plan_cost`). It prints one table, checks the
issue's targets and writes a CSV. Nothing is fetched from the network.

This is a script that prints numbers, not a timed test.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import multiprocessing as mp
import resource
import time
import traceback
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, fields
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from benchmarks._instances import INSTANCE_NAMES, Instance, build_instance
from benchmarks._peers import PeerRun, plan_components, run_maxp, run_recom

__all__ = ["METHODS", "Row", "main", "run_benchmark", "target_checks"]

log = logging.getLogger(__name__)

#: Methods in the order they run on each instance.
METHODS: tuple[str, ...] = ("redistrict", "recom", "redistrict@recom", "maxp")
#: redistrict again, with a time limit of ``EQUAL_TIME_SHARE`` times ReCom's total time on the
#: instance (the solver may overrun its limit a little; the target compares measured times).
EQUAL_TIME = "redistrict@recom"
EQUAL_TIME_SHARE = 0.8


@dataclass
class Row:
    """One method on one instance: what the table and the CSV show.

    Times are wall-clock seconds inside the method's subprocess (interpreter start
    and imports excluded); ``peak_mb`` is that subprocess's peak resident memory.
    """

    instance: str
    atoms: int
    households: int
    method: str
    status: str = ""
    units: int | None = None
    units_in_band: int | None = None
    split_units: int | None = None
    valid: bool | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    seconds_first: float | None = None
    seconds_best: float | None = None
    seconds_total: float | None = None
    time_limit: float | None = None
    steps: int | None = None
    peak_mb: float | None = None
    base_mb: float | None = None
    mean_distance_m: float | None = None
    major_boundary_share: float | None = None
    notes: str = ""


# ----------------------------------------------------------------------------- subprocess


def _rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _run_redistrict(graph: nx.Graph, params: dict[str, Any]) -> dict[str, Any]:
    from redistrict.errors import InputError
    from redistrict.problem import Band, Problem
    from redistrict.solve import solve

    start = time.perf_counter()
    problem = Problem.from_graph(graph, band=Band(params["lo"], params["hi"]))
    built = time.perf_counter() - start
    units = params.get("units")
    notes: list[str] = []
    try:
        sol = solve(problem, time_limit=params["time_limit"], seed=params["seed"], units=units)
    except InputError as exc:
        if units is None:
            raise
        # e.g. households in several components: let solve choose the counts.
        notes.append(f"units={units} not possible ({exc}); unit count left to solve")
        sol = solve(problem, time_limit=params["time_limit"], seed=params["seed"])
    total = time.perf_counter() - start
    labels = {node: int(u) for node, u in sol.labels.items() if not pd.isna(u)}
    return {
        "labels": labels,
        "status": sol.status,
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "seconds_first": built + sol.seconds_first,
        "seconds_best": total,
        "seconds_total": total,
        "notes": [f"method {sol.method}", *notes, *sol.notes],
    }


def _peer_result(run: PeerRun, status: str) -> dict[str, Any]:
    return {
        "labels": run.labels,
        "status": status,
        "seconds_first": run.seconds_first,
        "seconds_best": run.seconds_best,
        "seconds_total": run.seconds,
        "steps": run.steps,
        "notes": list(run.notes),
    }


def _run_method(method: str, graph: nx.Graph, params: dict[str, Any]) -> dict[str, Any]:
    if method in ("redistrict", EQUAL_TIME):
        return _run_redistrict(graph, params)
    lo, hi = params["lo"], params["hi"]
    comps = plan_components(graph, lo, hi, reference=params.get("reference"))
    if method == "recom":
        fallback = None
        try:
            run = run_recom(graph, comps, lo=lo, hi=hi, steps=params["recom_steps"], seed=params["seed"])
        except RuntimeError as exc:
            if params.get("reference") is None:
                raise
            # recursive_tree_part found no seed plan with redistrict's unit counts: retry with
            # the count whose mean size is closest to the band's middle, and say so.
            fallback = (
                f"no ReCom seed plan with redistrict's {sum(c.units for c in comps)} units "
                f"({exc}); seeded with the count closest to the band's middle instead"
            )
            comps = plan_components(graph, lo, hi)
            run = run_recom(graph, comps, lo=lo, hi=hi, steps=params["recom_steps"], seed=params["seed"])
        result = _peer_result(run, f"{run.steps} states")
        if fallback:
            result["notes"].insert(0, fallback)
        return result
    if method == "maxp":
        run = run_maxp(graph, comps, lo=lo, seed=params["seed"], max_iterations_sa=params["maxp_sa"])
        return _peer_result(run, "heuristic")
    raise ValueError(f"unknown method {method!r}: choose from {', '.join(METHODS)}")


def _child(conn: Connection, method: str, graph: nx.Graph, params: dict[str, Any]) -> None:
    """Subprocess body: run one method, send back its result and peak memory."""
    logging.basicConfig(level=params.get("log_level", logging.WARNING))
    try:
        base = _rss_mb()
        result = _run_method(method, graph, params)
        result["peak_mb"] = _rss_mb()
        result["base_mb"] = base
        conn.send(("ok", result))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    finally:
        conn.close()


def _in_subprocess(method: str, graph: nx.Graph, params: dict[str, Any], timeout: float) -> tuple[str, Any]:
    """Run ``method`` in a fresh spawned process; ``("ok", result)`` or a failure kind."""
    ctx = mp.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, method, graph, params), daemon=True)
    proc.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            try:
                outcome: tuple[str, Any] = receiver.recv()
            except EOFError:
                outcome = ("error", f"the subprocess died (exit code {proc.exitcode})")
        else:
            outcome = ("timeout", f"no result within {timeout:.0f} s")
    finally:
        receiver.close()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    return outcome


# ----------------------------------------------------------------------------- scoring


def _score(row: Row, graph: nx.Graph, labels: dict[Hashable, int], lo: int, hi: int) -> None:
    """Fill the shared metrics of ``row`` from a plan (same functions for every method)."""
    from redistrict.evaluate import check_plan, plan_metrics
    from redistrict.problem import Band, Problem

    problem = Problem.from_graph(graph, band=Band(lo, hi))
    series = pd.Series([labels.get(v) for v in problem.nodes], index=pd.Index(problem.nodes), dtype="Int64")
    metrics = plan_metrics(problem, series)
    issues = check_plan(problem, series)
    row.units = int(metrics["units"])
    row.units_in_band = int(metrics["units_in_band"])
    row.split_units = sum("not contiguous" in s for s in issues)
    row.valid = not issues
    row.mean_distance_m = metrics["mean_distance_m"]
    row.major_boundary_share = metrics["major_boundary_share"]
    if row.objective is None:
        lab = np.array([labels.get(v, -1) for v in problem.nodes], dtype=np.int64)
        row.objective = problem.plan_cost(lab) / problem.scale
    lost = [s for s in issues if "in no unit" in s]
    if lost:
        row.notes = "; ".join([*lost, row.notes]) if row.notes else "; ".join(lost)


def _run_instance(inst: Instance, args: argparse.Namespace) -> list[Row]:
    lo, hi = args.band
    limit = args.time_limit if args.time_limit is not None else inst.time_limit
    params: dict[str, Any] = {
        "lo": lo,
        "hi": hi,
        "seed": args.seed,
        "recom_steps": args.recom_steps,
        "maxp_sa": args.maxp_sa_iterations,
        "log_level": logging.INFO if args.verbose else logging.WARNING,
    }
    methods = ["redistrict"] if args.skip_peers else list(args.methods)
    rows: list[Row] = []
    reference: dict[Hashable, int] | None = None
    recom_seconds: float | None = None
    recom_units: int | None = None
    for method in methods:
        row = Row(instance=inst.name, atoms=inst.atoms, households=inst.households, method=method)
        rows.append(row)
        params.pop("units", None)
        if method == EQUAL_TIME:
            if recom_seconds is None:
                row.status = "skipped"
                row.notes = "needs a finished ReCom run on this instance"
                continue
            row.time_limit = EQUAL_TIME_SHARE * recom_seconds
            params["units"] = recom_units  # the same number of units as ReCom's plan
        elif method == "redistrict":
            row.time_limit = limit
        params["time_limit"] = row.time_limit
        params["reference"] = reference
        is_ours = row.time_limit is not None
        timeout = (row.time_limit or 0.0) * 3 + 120 if is_ours else args.peer_timeout
        log.info("%s: running %s", inst.name, method)
        kind, payload = _in_subprocess(method, inst.graph, params, timeout)
        if kind != "ok":
            row.status = kind
            row.notes = str(payload).strip().splitlines()[0] if payload else kind
            log.warning("%s / %s: %s", inst.name, method, payload)
            continue
        result: dict[str, Any] = payload
        for name in ("status", "objective", "bound", "gap", "seconds_first", "seconds_best"):
            setattr(row, name, result.get(name))
        row.seconds_total = result["seconds_total"]
        row.steps = result.get("steps")
        row.peak_mb = result["peak_mb"]
        row.base_mb = result["base_mb"]
        row.notes = "; ".join(result.get("notes", []))
        _score(row, inst.graph, result["labels"], lo, hi)
        if method == "redistrict":
            reference = result["labels"]
        if method == "recom":
            recom_seconds = row.seconds_total
            recom_units = row.units
    return rows


def run_benchmark(args: argparse.Namespace) -> list[Row]:
    """Build every requested instance and run every method on it.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed command line (see :func:`main`).

    Returns
    -------
    list of Row
    """
    rows: list[Row] = []
    for name in args.instances:
        try:
            inst = build_instance(name, data_dir=args.data_dir, atoms=args.atoms, seed=args.seed)
        except (FileNotFoundError, ValueError) as exc:
            log.error("instance %s skipped: %s", name, exc)
            rows.append(Row(instance=name, atoms=0, households=0, method="-", status="skipped",
                            notes=str(exc)))  # fmt: skip
            continue
        rows.extend(_run_instance(inst, args))
    return rows


# ----------------------------------------------------------------------------- targets


def _find(rows: Sequence[Row], instance: str, method: str) -> Row | None:
    for r in rows:
        if r.instance == instance and r.method == method:
            return r
    return None


def _get(rows: Sequence[Row], instance: str, method: str) -> Row | None:
    """The row of ``method`` on ``instance`` if it produced a plan."""
    r = _find(rows, instance, method)
    return r if r is not None and r.units is not None else None


def _no_plan(rows: Sequence[Row], instance: str, method: str) -> tuple[str, str]:
    """Verdict when a target's row has no plan: ``not run`` or ``NOT met`` with the reason."""
    r = _find(rows, instance, method)
    if r is None or r.status == "skipped":
        return "not run", ""
    return "NOT met", f"{method}: {r.status} ({r.notes})"


def _num(value: float | None, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, fmt)


def target_checks(rows: Sequence[Row]) -> list[tuple[str, str, str]]:
    """The issue's targets, each with ``met`` / ``NOT met`` / ``not run`` and the evidence.

    Parameters
    ----------
    rows : sequence of Row
        Benchmark rows.

    Returns
    -------
    list of tuple
        ``(target, verdict, detail)``.
    """
    out: list[tuple[str, str, str]] = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    ct = _get(rows, "centretown", "redistrict")
    name = "Centretown: all units in band and contiguous, gap <= 1% within 20 s"
    if ct is None:
        out.append((name, *_no_plan(rows, "centretown", "redistrict")))
    else:
        ok = bool(ct.valid) and ct.gap is not None and ct.gap <= 0.01
        ok = ok and ct.seconds_total is not None and ct.seconds_total <= 20.0
        out.append((name, verdict(ok), f"valid={ct.valid}, gap={_num(_pct(ct.gap), '.2f')}%, "
                    f"{_num(ct.seconds_total, '.1f')} s"))  # fmt: skip
    o3 = _get(rows, "ottawa3", "redistrict")
    name = "Three neighbourhoods: gap <= 2% within 60 s"
    if o3 is None:
        out.append((name, *_no_plan(rows, "ottawa3", "redistrict")))
    else:
        ok = o3.gap is not None and o3.gap <= 0.02 and (o3.seconds_total or math.inf) <= 60.0
        out.append((name, verdict(ok), f"gap={_num(_pct(o3.gap), '.2f')}%, "
                    f"{_num(o3.seconds_total, '.1f')} s"))  # fmt: skip
    for inst in dict.fromkeys(r.instance for r in rows):
        recom = _get(rows, inst, "recom")
        quick = EQUAL_TIME if _find(rows, inst, EQUAL_TIME) is not None else "redistrict"
        fast = _get(rows, inst, quick)
        if recom is None or _find(rows, inst, quick) is None:
            continue
        name = (
            f"{inst}: at equal units, redistrict within ReCom's time ({quick}): "
            "distance <= ReCom's best, more boundary on major roads"
        )
        if fast is None:
            out.append((name, *_no_plan(rows, inst, quick)))
            continue
        same = fast.units == recom.units
        dist = (fast.mean_distance_m or math.inf) <= (recom.mean_distance_m or math.inf)
        faster = (fast.seconds_total or math.inf) <= (recom.seconds_total or math.inf)
        major = (fast.major_boundary_share or 0.0) > (recom.major_boundary_share or 0.0)
        out.append((name, verdict(same and dist and faster and major),
                    f"units {fast.units}/{recom.units}, distance {_num(fast.mean_distance_m, '.1f')}"
                    f"/{_num(recom.mean_distance_m, '.1f')} m, time {_num(fast.seconds_total, '.1f')}"
                    f"/{_num(recom.seconds_total, '.1f')} s, major share "
                    f"{_num(fast.major_boundary_share, '.3f')}/"
                    f"{_num(recom.major_boundary_share, '.3f')}"))  # fmt: skip
    s3 = _get(rows, "synth-3000", "redistrict")
    name = "3,000 synthetic atoms: valid plan within 120 s, memory < 4 GB"
    if s3 is None:
        out.append((name, *_no_plan(rows, "synth-3000", "redistrict")))
    else:
        ok = bool(s3.valid) and (s3.seconds_total or math.inf) <= 120.0
        ok = ok and (s3.peak_mb or math.inf) < 4096.0
        out.append((name, verdict(ok), f"valid={s3.valid}, {_num(s3.seconds_total, '.1f')} s, "
                    f"{_num(s3.peak_mb, '.0f')} MiB"))  # fmt: skip
    return out


def _pct(value: float | None) -> float | None:
    return None if value is None else 100.0 * value


# ----------------------------------------------------------------------------- output

_COLUMNS: tuple[tuple[str, str], ...] = (
    ("instance", "instance"),
    ("atoms", "atoms"),
    ("households", "hh"),
    ("method", "method"),
    ("units", "units"),
    ("units_in_band", "in band"),
    ("split_units", "split"),
    ("objective", "objective"),
    ("bound", "bound"),
    ("gap", "gap %"),
    ("seconds_first", "t first s"),
    ("seconds_best", "t best s"),
    ("seconds_total", "t total s"),
    ("peak_mb", "peak MiB"),
    ("mean_distance_m", "mean dist m"),
    ("major_boundary_share", "major share"),
    ("status", "status"),
)


def _cell(row: Row, key: str) -> str:
    value = getattr(row, key)
    if value is None:
        return "-"
    if key == "gap":
        return _num(_pct(value), ".2f")
    if key in ("objective", "bound", "mean_distance_m"):
        return _num(value, ".1f")
    if key.startswith("seconds"):
        return _num(value, ".1f")
    if key == "peak_mb":
        return _num(value, ".0f")
    if key == "major_boundary_share":
        return _num(value, ".3f")
    return str(value)


def _markdown(rows: Sequence[Row], checks: Sequence[tuple[str, str, str]]) -> str:
    head = [label for _, label in _COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(r, key) for key, _ in _COLUMNS) + " |" for r in rows]
    lines += ["", "| target | verdict | measured |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {d} |" for t, v, d in checks]
    notes = [f"- {r.instance} / {r.method}: {r.notes}" for r in rows if r.notes]
    return "\n".join(lines + (["", *notes] if notes else [])) + "\n"


def _print_table(rows: Sequence[Row], checks: Sequence[tuple[str, str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(200, Console().width))
    table = Table(title="redistrict vs GerryChain ReCom vs spopt max-p")
    for key, label in _COLUMNS:
        text = key in ("instance", "method", "status")
        table.add_column(label, justify="left" if text else "right", no_wrap=text)
    for r in rows:
        table.add_row(*(_cell(r, key) for key, _ in _COLUMNS))
    console.print(table)
    targets = Table(title="targets")
    for label in ("target", "verdict", "measured"):
        targets.add_column(label)
    for t, v, d in checks:
        targets.add_row(t, v, d)
    console.print(targets)


def _write_csv(rows: Sequence[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[f.name for f in fields(Row)])
        writer.writeheader()
        for r in rows:
            writer.writerow(asdict(r))


_INT_FIELDS = frozenset({"atoms", "households", "units", "units_in_band", "split_units", "steps"})
_TEXT_FIELDS = frozenset({"instance", "method", "status", "notes"})


def _read_csv(path: Path) -> list[Row]:
    """Rows written by ``--out`` (to print the table and targets again)."""
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for record in csv.DictReader(fh):
            values: dict[str, Any] = {}
            for key, text in record.items():
                if key in _TEXT_FIELDS:
                    values[key] = text
                elif text == "":
                    values[key] = None
                elif key == "valid":
                    values[key] = text == "True"
                elif key in _INT_FIELDS:
                    values[key] = int(text)
                else:
                    values[key] = float(text)
            rows.append(Row(**values))
    return rows


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_optimizer",
        description="redistrict optimiser vs GerryChain ReCom and spopt max-p (prints a table).",
    )
    p.add_argument(
        "--instances",
        default=",".join(INSTANCE_NAMES),
        help=f"comma-separated instances (default all: {','.join(INSTANCE_NAMES)})",
    )
    p.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="redistrict time limit in seconds for every instance "
        "(default per instance: the issue's targets, 20-120 s)",
    )
    p.add_argument("--recom-steps", type=int, default=2000, help="ReCom chain length (default 2000)")
    p.add_argument("--skip-peers", action="store_true", help="run redistrict only")
    p.add_argument(
        "--methods", default=",".join(METHODS), help=f"comma-separated methods (default {','.join(METHODS)})"
    )
    p.add_argument("--out", type=Path, default=None, help="write the rows to this CSV file")
    p.add_argument("--markdown", type=Path, default=None, help="also write a Markdown table here")
    p.add_argument("--band", type=int, nargs=2, default=(2000, 3000), metavar=("LO", "HI"))
    p.add_argument("--seed", type=int, default=0, help="seed of every method and instance")
    p.add_argument(
        "--atoms",
        choices=("roads", "blocks"),
        default="roads",
        help="atom mode of the real instances (default roads, as redistrict plan)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder of the Ottawa GeoPackages (default ../shared/data/ottawa)",
    )
    p.add_argument(
        "--peer-timeout",
        type=float,
        default=900.0,
        help="seconds before a peer run is abandoned (default 900)",
    )
    p.add_argument(
        "--maxp-sa-iterations",
        type=int,
        default=1,
        help="spopt max-p simulated-annealing rounds per start (spopt default 10; "
        "default here 1, see benchmarks/README.md)",
    )
    p.add_argument(
        "--from-csv",
        type=Path,
        default=None,
        help="run nothing: print the table and targets of an earlier --out CSV",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress")
    return p  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    args.instances = [s.strip() for s in args.instances.split(",") if s.strip()]
    args.methods = [s.strip() for s in args.methods.split(",") if s.strip()]
    unknown = sorted(set(args.methods) - set(METHODS))
    if unknown:
        _parser().error(f"unknown method(s) {', '.join(unknown)}: choose from {', '.join(METHODS)}")
    args.methods = [m for m in METHODS if m in args.methods]  # redistrict first: the reference
    rows = _read_csv(args.from_csv) if args.from_csv is not None else run_benchmark(args)
    checks = target_checks(rows)
    _print_table(rows, checks)
    if args.out is not None:
        _write_csv(rows, args.out)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(_markdown(rows, checks), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
