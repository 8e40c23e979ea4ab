"""Fingerprints of the benchmark graphs and of their plans on a work budget.

A change that should not move the search (a refactor, a loader change that should not
reach these inputs) must leave every line of this script's output as it was: run it
before and after and compare. With ``budget="work"`` the plan does not depend on the
machine or its load (unless a solver hits its wall-clock safety limit, which the
solver notes would say).

Usage, from the repository root::

    python -m benchmarks.same_plans --out before.json
    # ... change the code ...
    python -m benchmarks.same_plans --out after.json --compare before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._instances import build_instance
from redistrict.problem import Band, Problem
from redistrict.solve import solve

#: Instance name -> work budget (reference seconds) of its solve.
CASES = {"centretown": 10.0, "ottawa3": 10.0, "demo": 5.0, "synth-300": 10.0}


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha1()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:12]


def fingerprint(name: str, budget: float, seed: int = 0) -> dict[str, Any]:
    """The graph's and the plan's fingerprints for one instance."""
    problem = Problem.from_graph(build_instance(name).graph, band=Band(2000, 3000))
    start = time.perf_counter()
    solution = solve(problem, time_limit=budget, budget="work", seed=seed)
    labels = solution.labels.to_numpy(dtype=np.int64)
    return {
        "atoms": problem.n,
        "households": int(problem.households.sum()),
        "edges": len(problem.edges),
        "graph": _digest(
            problem.households,
            problem.edges,
            np.round(problem.xy, 3),
            np.round(problem.edge_length, 3),
            np.round(problem.edge_major, 6),
        ),
        "labels": _digest(labels),
        "units": int(solution.labels.nunique()),
        "objective": round(solution.objective, 4),
        "bound": None if solution.bound is None else round(solution.bound, 4),
        "wall_s": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Print (and save) the fingerprints; with ``--compare``, exit 1 when any differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the fingerprints as JSON")
    parser.add_argument("--compare", type=Path, help="an earlier --out file to compare with")
    parser.add_argument("--instances", default=",".join(CASES), help="comma-separated instance names")
    args = parser.parse_args(argv)
    found: dict[str, dict[str, Any]] = {}
    for name in args.instances.split(","):
        found[name] = fingerprint(name, CASES.get(name, 10.0))
        row = found[name]
        sys.stdout.write(
            f"{name:12s} atoms {row['atoms']:5d}  graph {row['graph']}  labels {row['labels']}  "
            f"units {row['units']:3d}  objective {row['objective']:.4f}  wall {row['wall_s']} s\n"
        )
    if args.out is not None:
        args.out.write_text(json.dumps(found, indent=1), encoding="utf-8")
    if args.compare is None:
        return 0
    before = json.loads(args.compare.read_text(encoding="utf-8"))
    keys = ("atoms", "households", "edges", "graph", "labels", "units", "objective", "bound")
    differ = [n for n in found if n not in before or any(found[n][k] != before[n].get(k) for k in keys)]
    missing = [n for n in differ if n not in before]
    sys.stdout.write(
        f"differ from {args.compare}: {', '.join(differ) or 'none'}"
        + (f" ({', '.join(missing)} not in it)" if missing else "")
        + "\n"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
