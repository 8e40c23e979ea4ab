"""Benchmark of ``redistrict city`` on the whole City of Ottawa (issue 7).

Runs the city pipeline (load, atoms, graph, decomposition, Dask solve, merge,
outputs) on ``../shared/data/ottawa/ottawa_statcan2021.gpkg`` with the
neighbourhoods as existing communities, once per worker count, each time with a
fresh cache, and prints one table:

* wall time, peak memory of the whole process tree (driver + Dask workers),
* units, share of units in the band, households check,
* speed-up from the first to the last worker count (whole run and solve stage),
* plans identical across worker counts,
* an estimate for a city of 5,000 communities on a 32-core cluster, from the
  measured per-subproblem times (LPT schedule of the resampled times, plus the
  driver's serial stages scaled by the number of communities).

Usage::

    .venv/bin/python benchmarks/bench_city.py --workers 2,1 --time-limit 10 --out /tmp/bench_city

``--budget work`` (the default, as for ``redistrict city``) counts each subproblem's
search work instead of wall-clock seconds, so the plans of different worker counts
must be identical; ``--budget time`` shows what a wall-clock budget does.

The first worker count's run is the one whose plan is reported (and written to
``--out``); units outside the band are listed with their reason.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import math
import os
import resource
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from redistrict.city import CityResult, run_city, write_city_outputs
from redistrict.load import load_inputs
from redistrict.pipeline import PlanOptions
from redistrict.problem import Band

REPO = Path(__file__).resolve().parents[1]
OTTAWA = Path(os.environ.get("REDISTRICT_SHARED", REPO.parent / "shared")) / "data" / "ottawa"
CITY = OTTAWA / "ottawa_statcan2021.gpkg"
TOTAL_HOUSEHOLDS = 407_252


class PeakMemory:
    """Sample the resident memory of this process and all its descendants."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


@dataclass
class Run:
    workers: int
    wall: float
    peak_bytes: int
    result: CityResult


def _load():  # type: ignore[no-untyped-def]
    return load_inputs(
        f"{CITY}:roads_statcan_rnf2021",
        f"{CITY}:dissemination_blocks_2021",
        "dburdwell2021",
        residents="dbpop2021",
        road_class="RANK",
        communities=f"{CITY}:ons_neighbourhoods_gen3",
        community_id="ONS_ID",
    )


def run_once(workers: int, opts: PlanOptions, out: Path) -> Run:
    with tempfile.TemporaryDirectory(prefix="bench-city-cache-") as cache, PeakMemory() as mem:
        t0 = time.perf_counter()
        inputs = _load()
        result = run_city(inputs, opts, workers=workers, cache_dir=cache, progress=True)
        write_city_outputs(result, out, title="Ottawa (bench)", lang="en")
        wall = time.perf_counter() - t0
    return Run(workers, wall, mem.peak, result)


def lpt_makespan(times: list[float], cores: int) -> float:
    """Makespan of the longest-processing-time-first schedule on ``cores`` machines."""
    loads = [0.0] * cores
    heapq.heapify(loads)
    for t in sorted(times, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + t)
    return max(loads)


def estimate(run: Run, communities: int, target: int, cores: int) -> dict[str, float]:
    """Wall time for ``target`` communities on ``cores`` workers from the measured run."""
    r = run.result
    times = r.subproblems["seconds"].astype(float).tolist()
    factor = target / communities
    n_groups = math.ceil(len(times) * factor)
    resampled = [times[i % len(times)] for i in range(n_groups)]
    solve = lpt_makespan(resampled, cores)
    stages = r.plan.stage_seconds
    serial = run.wall - stages["solve"]  # load, atoms, graph, decompose, evaluate, write
    return {
        "groups": float(n_groups),
        "cpu_seconds": float(sum(resampled)),
        "solve_makespan": solve,
        "serial_scaled": serial * factor,
        "total": solve + serial * factor,
    }


def in_band_report(run: Run, band: Band) -> tuple[int, int, pd.DataFrame]:
    units = run.result.plan.units
    bad = units.loc[~units["in_band"], ["unit_id", "households", "status"]]
    return len(units), int(units["in_band"].sum()), pd.DataFrame(bad)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", default="2,1", help="comma-separated worker counts (first = reported plan)")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per subproblem")
    ap.add_argument("--atoms", default="blocks", choices=("blocks", "roads"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--budget", default="work", choices=("work", "time"),
        help="per-subproblem budget: counted work (deterministic, default) or wall-clock time",
    )  # fmt: skip
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bench_city")
    args = ap.parse_args(argv)
    if not CITY.exists():
        print(f"data missing: {CITY}", file=sys.stderr)
        return 2
    band = Band(2000, 3000)
    opts = PlanOptions(
        band=band, time_limit=args.time_limit, seed=args.seed, atoms=args.atoms, budget=args.budget
    )
    counts = [int(w) for w in args.workers.split(",")]
    runs = []
    for k, w in enumerate(counts):
        out = args.out if k == 0 else args.out.with_name(f"{args.out.name}-w{w}")
        run = run_once(w, opts, out)
        runs.append(run)
        print(f"... {w} workers: {run.wall:.1f} s", file=sys.stderr, flush=True)

    main_run = runs[0]
    plan = main_run.result.plan
    n_units, n_in, bad = in_band_report(main_run, band)
    hh_units = int(plan.units["households"].sum())
    atoms = plan.atoms
    in_one = int(atoms["unit_id"].notna().sum())
    communities = len({c for g in main_run.result.groups for c in g.communities})
    sub = main_run.result.subproblems
    rows: list[tuple[str, str]] = [
        (
            "command",
            "python benchmarks/bench_city.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        ),
        ("atoms mode / time limit per subproblem", f"{args.atoms} / {args.time_limit:g} s"),
        ("atoms / communities / subproblems", f"{len(atoms)} / {communities} / {len(sub)}"),
    ]
    for run in runs:
        st = run.result.plan.stage_seconds
        rows.append(
            (
                f"wall time, {run.workers} worker(s)",
                f"{run.wall:.1f} s (atoms {st['atoms']:.1f}, graph {st['graph']:.1f}, "
                f"solve {st['solve']:.1f}, evaluate {st['evaluate']:.1f}, "
                f"load + write {run.wall - sum(st.values()):.1f})",
            )
        )
        rows.append(
            (f"peak memory, {run.workers} worker(s) (process tree)", f"{run.peak_bytes / 2**30:.2f} GB")
        )
        sp = run.result.subproblems
        rows.append(
            (
                f"subproblems, {run.workers} worker(s): seconds sum / max, CPU share",
                f"{sp['seconds'].sum():.1f} / {sp['seconds'].max():.1f}, "
                f"{sp['cpu_seconds'].sum() / sp['seconds'].sum():.2f} (< 1: cores shared with others)",
            )
        )
    rows += [
        ("units / in band", f"{n_units} / {n_in} ({100 * n_in / n_units:.1f}%)"),
        (
            "households check",
            f"input {TOTAL_HOUSEHOLDS:,}, in units {hh_units:,}, atoms in a unit {in_one}/{len(atoms)}: "
            + ("OK" if hh_units == TOTAL_HOUSEHOLDS else "MISMATCH"),
        ),
        (
            "subproblem status counts",
            ", ".join(f"{k} {v}" for k, v in sub["status"].value_counts().sort_index().items()),
        ),
        (
            "getrusage maxrss: driver / largest child",
            f"{_maxrss_gb(resource.RUSAGE_SELF):.2f} GB / {_maxrss_gb(resource.RUSAGE_CHILDREN):.2f} GB",
        ),
    ]
    if len(runs) > 1:
        a, b = runs[-1], runs[0]
        rows.append(
            (
                f"speed-up {a.workers} -> {b.workers} workers",
                f"whole run {a.wall / b.wall:.2f}x, solve stage "
                f"{a.result.report.seconds / b.result.report.seconds:.2f}x",
            )
        )
        same = [
            np.array_equal(sa.labels, sb.labels)
            for sa, sb in zip(a.result.solutions, b.result.solutions, strict=True)
        ]
        same_groups = sum(same)
        same_atoms = sum(len(g.positions) for g, ok in zip(b.result.groups, same, strict=True) if ok)
        same_atoms /= len(atoms)
        hit = (a.result.subproblems["seconds"] >= 0.95 * args.time_limit) | (
            b.result.subproblems["seconds"] >= 0.95 * args.time_limit
        )
        rows.append(
            (
                "same plan across worker counts",
                f"{same_groups}/{len(sub)} subproblems identical ({100 * same_atoms:.1f}% of atoms); "
                f"{int(hit.sum())} subproblems ran into the time limit",
            )
        )
    est = estimate(main_run, communities, 5000, 32)
    rows.append(
        (
            "estimate: 5,000 communities, 32 cores",
            f"{est['total'] / 60:.1f} min = solve {est['solve_makespan'] / 60:.1f} min "
            f"({est['groups']:.0f} subproblems, {est['cpu_seconds'] / 3600:.1f} CPU-h, LPT on 32) "
            f"+ serial driver stages {est['serial_scaled'] / 60:.1f} min (scaled linearly)",
        )
    )
    width = max(len(k) for k, _ in rows)
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for k, v in rows:
        print(f"| {k.ljust(width)} | {v} |")
    if len(bad):
        print("\nUnits outside the band (with reason):")
        reasons = {}
        for g, s in zip(main_run.result.groups, main_run.result.solutions, strict=True):
            reasons[g.index] = s.reason or g.note
        unit_group = _unit_groups(main_run.result)
        for row in bad.itertuples():
            gi = unit_group.get(int(row.unit_id))
            why = reasons.get(gi, "") if gi is not None else ""
            print(f"- unit {row.unit_id}: {row.households} households, {row.status}; subproblem {gi}: {why}")
    return 0


def _maxrss_gb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 2**20  # KiB on Linux


def _unit_groups(result: CityResult) -> dict[int, int]:
    """Subproblem of each unit id."""
    out: dict[int, int] = {}
    labels = result.plan.solution.labels.to_numpy()
    for g in result.groups:
        for u in pd.unique(labels[g.positions]):
            if not pd.isna(u):
                out[int(u)] = g.index
    return out


if __name__ == "__main__":
    sys.exit(main())
