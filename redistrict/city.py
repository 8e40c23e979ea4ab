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
   :func:`redistrict.solve.solve` in a Dask task (:func:`solve_groups`, in
   :mod:`redistrict._city_solve`): on a ``LocalCluster`` of worker processes by
   default, or on an existing cluster (``scheduler="tcp://host:port"``).
   ``time_limit`` applies to *each* subproblem. Finished subproblems are cached on
   disk (:mod:`redistrict._city_cache`), one JSON file per group, keyed by a hash
   of the group's arrays and the parameters, so an interrupted run resumes where
   it stopped;
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

import logging
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from redistrict._atom_places import atom_places
from redistrict._city_groups import Group, decompose, present
from redistrict._city_outputs import write_city_outputs
from redistrict._city_solve import (
    SYNCHRONOUS,
    CacheReport,
    GroupSolution,
    default_workers,
    solve_groups,
    worker_count,
)
from redistrict._clock import is_overrun_note, overrun_note
from redistrict._validate_columns import format_labels
from redistrict._words import counted
from redistrict.errors import InputError
from redistrict.problem import Problem
from redistrict.solve import Solution

if TYPE_CHECKING:
    # Geometry modules are imported where used, so that Dask workers, which only
    # solve geometry-free subproblems, start quickly.
    import geopandas as gpd

    from redistrict.load import Inputs
    from redistrict.pipeline import PlanOptions, PlanResult
    from redistrict.scenario import Scenario

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

#: Block columns redistrict adds itself: not offered for --partition-by.
_OWN_COLUMNS = ("households", "residents")
#: At most this many subproblems are listed in one note.
_MAX_LISTED = 10


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
        sum of the groups' unscaled costs over the sum of their weights), so
        with several groups the bound holds only for plans that keep every
        unit inside a group (``bound_scope="subproblems"``, with a note), and
        ``status`` is ``"optimal"`` only for a single group; ``components`` is
        the per-subproblem table.

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
    band = f"{problem.band.lo:,}-{problem.band.hi:,}"
    stuck = sum(1 for g in groups if g.stuck)
    if stuck:
        notes.append(
            f"{counted(stuck, 'subproblem')} cannot form units of {band} and "
            f"{'has' if stuck == 1 else 'have'} no neighbouring group {'it' if stuck == 1 else 'they'} "
            "may merge with (see subproblems.csv, column 'formed', for why)"
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
    scope = "subproblems" if len(groups) > 1 else "all"
    # Optimal subproblems make an optimal plan only when there is one: a plan drawn across
    # the subproblems' lines may be cheaper, so several give at best a feasible plan.
    if scope == "all" and solutions and all(s.status == "optimal" for s in solutions):
        status = "optimal"
    elif bound is not None:
        status = "feasible"
    else:
        status = "heuristic"
    if bound is not None and scope == "subproblems":
        notes.append(
            f"the bound and the gap ({100 * (gap or 0.0):.2f}%) compare this plan only with plans that keep "
            "every unit inside its subproblem (see subproblems.csv): a plan drawn across their lines may "
            "be better; the objective is the subproblems' own too (each weighs land without households "
            "by its own atoms), so it does not compare with `redistrict plan`'s on the same area"
        )
    methods = sorted({m for s in solutions for m in s.method.split("/") if m and m != "none"})
    unit_ids = pd.Series(labels, index=pd.Index(problem.nodes, name="atom_id"), name="unit_id")
    unit_ids = unit_ids.where(unit_ids >= 0).astype("Int64") + 1
    unit_flags = pd.Series(flags, name="status", dtype=object)
    unit_flags.index.name = "unit_id"
    return Solution(
        labels=unit_ids, status=status, objective=objective, bound=bound, gap=gap,
        seconds=seconds, seconds_first=seconds, solver=solver, method="/".join(methods) or "none",
        unit_flags=unit_flags, components=subproblem_table(problem, groups, solutions), notes=notes,
        bound_scope=scope,
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
    band = f"{problem.band.lo:,}-{problem.band.hi:,}"
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
        return counted(len(group.positions), "atom")
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
    partition_by : str or None
        The column of the blocks naming areas no unit may cross (``--partition-by``).

    """

    plan: PlanResult
    groups: list[Group]
    solutions: list[GroupSolution]
    subproblems: pd.DataFrame
    report: CacheReport
    partition_by: str | None = None


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
    from redistrict.pipeline import option_problems, total_problems

    # Units are refused below (_unsupported), not also checked against the households.
    problems = option_problems(options) or total_problems(inputs, replace(options, units=None))
    problems += _unsupported(options)
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


def _unsupported(options: PlanOptions) -> list[str]:
    """Options ``run_city`` cannot honour (they used to be dropped without a word)."""
    per_district = "plan each district with redistrict.pipeline.run_plan (`redistrict plan`) instead"
    problems = []
    if options.units is not None:
        problems.append(
            f"options.units ({options.units}): a city plan cannot fix its number of units; {per_district}"
        )
    if options.locks is not None:
        problems.append(f"options.locks: a city plan cannot keep locked units; {per_district}")
    scenario = options.scenario
    if scenario is not None:
        if scenario.band.unit != "households":
            problems.append(
                f"scenario {scenario.name!r} counts its band in {scenario.band.unit}: a city plan sizes "
                f"units by households only; {per_district}"
            )
        if scenario.allow_change != "all":
            problems.append(
                f'scenario {scenario.name!r} sets allow_change = "{scenario.allow_change}": a city plan may '
                f"change every community; {per_district}"
            )
        if scenario.units is not None:
            problems.append(
                f"scenario {scenario.name!r} sets units = {scenario.units}: a city plan cannot fix its "
                f"number of units; {per_district}"
            )
    return problems


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
        ``units``, ``locks`` and a scenario that counts residents, fixes the
        number of units or keeps communities are refused (``InputError``):
        plan such a district with :func:`redistrict.pipeline.run_plan`.
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
    from redistrict.evaluate import enclave_notes, plan_metrics, unit_table
    from redistrict.graph import build_graph
    from redistrict.pipeline import (
        PlanOptions,
        PlanResult,
        check_conservation,
        unplanned_land,
        unplanned_residents,
    )

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
    places = atom_places(atoms, graph, inputs.communities, inputs.roads)
    problem = Problem.from_graph(graph, band=opts.band, weights=opts.weights, places=places)
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
    notes += unplanned_residents(atoms, problem.places) + unplanned_land(atoms, problem.places)
    units = unit_table(atoms, labels, opts.band, flags=solution.unit_flags)
    notes += enclave_notes(units)
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
        partition_by=partition_by,
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
    scenario: Scenario | None = None,
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
    scenario : Scenario, optional
        Scenario whose band, weights and costs replace those of ``options``
        (one that :func:`run_city` refuses is refused before the inputs are read).

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

    worker_count(workers)  # before the inputs are read
    if scenario is not None:
        refused = _unsupported(replace(options, scenario=scenario))
        if refused:
            raise InputError(refused)
    inputs = load_inputs(**load_kwargs)
    if scenario is not None:
        options = scenario.plan_options(inputs, options)
    result = run_city(
        inputs, options, workers=workers, scheduler=scheduler, cache_dir=cache_dir,
        partition_by=partition_by, progress=progress,
    )  # fmt: skip
    if strict:
        require_in_band(result.plan)
    write_city_outputs(result, out_dir, title=title, lang=lang, tiles=tiles)
    return result
