"""Solve a :class:`~redistrict.problem.Problem`: a valid plan and an honest gap.

Per connected component of the atom graph:

1. atoms holding more households than the band allows become units of their
   own, flagged ``"oversize atom"``, and so do groups that every plan must put
   in one unit and that exceed the band (:func:`redistrict._forced.forced_groups`);
   components without households are excluded (they belong to no unit and hold
   no household);
2. small components (``exact_max`` atoms or fewer) are solved by the exact
   integer program with lazily added contiguity cuts;
3. larger ones get a first plan by recursive spanning-tree bisection
   (:func:`redistrict._construct.bisect_plan`), improved by boundary moves and
   tree recombination (:func:`redistrict._recom.recombine`);
4. a lower bound from the Lagrangian relaxation
   (:func:`redistrict.bound.lower_bound`) turns the plan's objective into a gap;
   its best centres, and the plan's own, seed location-allocation
   (:func:`redistrict._local.locate_allocate`) on components of at most
   ``_LA_MAX_ATOMS`` atoms (the per-component search is :mod:`redistrict._component`);
5. when the gap is small but above the target, the bound is lifted towards the
   plan's cost by variable fixing and a bound-only solve of the reduced model
   (:func:`redistrict._certify.strengthen`);
6. the rest of the budget goes, on components of at most ``_RESTART_MAX_ATOMS``
   atoms, to a plan for the neighbouring unit count the relaxation ranks best,
   from restarts that redraw every unit at once
   (:func:`redistrict._allocate.restarts`), and to iterated local search on each
   count's plan (:func:`redistrict._allocate.perturb`); then to tree
   recombination and large-neighbourhood search (:func:`redistrict._local.lns`:
   two or three adjacent units re-solved exactly).

The budget is wall-clock time or counted work (``budget="work"``, see
:mod:`redistrict._clock`): with counted work the plan does not depend on the
machine or its load.

A plan is called ``"optimal"`` only when its gap to a valid lower bound is at
most ``optimal_gap``; otherwise it is ``"feasible"`` (bound known) or
``"heuristic"`` (no bound). Components whose households cannot form units in
the band get the closest plan possible, with every unit outside the band
flagged and the reason given in :attr:`Solution.components`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from redistrict._clock import make_clock, overrun_note
from redistrict._component import (
    FORCED_EXACT_SHARE,
    embed,
    relative_gap,
    solve_component,
)
from redistrict._counts import (
    fixed_units,
    split_units,
    unit_count_range,
)
from redistrict._local import renumber
from redistrict._places import atom_ids, describe, describe_atom
from redistrict._solvers import SOLVERS, check_solver
from redistrict._words import counted
from redistrict.errors import InputError, SolverError
from redistrict.problem import IntArray, Problem

__all__ = ["Solution", "relative_gap", "run_problems", "solve", "unit_count_range"]

log = logging.getLogger(__name__)

STATUSES = ("optimal", "feasible", "heuristic")


@dataclass(frozen=True)
class Solution:
    """A plan and what is known about its quality.

    Attributes
    ----------
    labels : pandas.Series
        Unit id (1..k) per atom, on the atoms' labels, named ``unit_id``;
        ``<NA>`` for excluded atoms (components without households).
    status : {"optimal", "feasible", "heuristic"}
        ``optimal`` only when proven within ``optimal_gap``.
    objective : float
        Objective of the plan divided by the total atom weight (metres). A
        component no plan in the band fits is costed against the band it was
        planned with (see its note): its size deviation is then measured from
        that band's target, so ``problem.plan_cost(labels)`` can differ.
    bound : float or None
        Valid lower bound on the objective of any plan, same scale (and the
        same bands).
    gap : float or None
        ``(objective - bound) / objective``, a fraction.
    seconds : float
        Wall-clock time of the solve.
    seconds_first : float
        Time until every component had a first valid plan (summed over the
        components, which are planned one after the other).
    solver : str
        MIP solver used.
    method : str
        How the components were planned: ``exact``, ``lns`` or ``locked``, or
        several joined by ``/`` (e.g. ``exact/lns``); ``none`` when nothing was
        planned.
    unit_flags : pandas.Series
        Per unit id: ``ok``, ``below band``, ``above band`` or ``oversize atom``.
    components : pandas.DataFrame
        One row per component: atoms, households, units, method, status,
        objective, bound, reason.
    notes : list of str
        Things the planner should know (infeasible components, limits hit).
    history : list of tuple
        One entry, ``(seconds, objective)`` of the final plan; the
        improvements on the way are logged at INFO level, not kept here.
    bound_scope : str
        Which plans ``bound`` (and so ``gap`` and ``optimal``) is measured
        against: ``"all"`` (every plan of the problem), or ``"subproblems"``
        (a city's plan: only plans that keep every unit inside one subproblem,
        see :mod:`redistrict.city`).
    """

    labels: pd.Series
    status: str
    objective: float
    bound: float | None
    gap: float | None
    seconds: float
    seconds_first: float
    solver: str
    method: str
    unit_flags: pd.Series
    components: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    history: list[tuple[float, float]] = field(default_factory=list)
    bound_scope: str = "all"


def solve(
    problem: Problem,
    *,
    solver: str = "highs",
    time_limit: float = 60.0,
    seed: int = 0,
    method: str = "auto",
    exact_max: int = 30,
    optimal_gap: float = 1e-4,
    target_gap: float = 0.005,
    budget: str = "time",
    units: int | None = None,
) -> Solution:
    """Find a plan for every component of the problem.

    Parameters
    ----------
    problem : Problem
        The instance.
    solver : {"highs", "cbc"}
        MIP solver for the exact model and the neighbourhood searches.
    time_limit : float
        Budget in seconds: wall-clock seconds (``budget="time"``) or reference
        seconds of counted work (``budget="work"``).
    seed : int
        Seed of every randomised step: the spanning-tree constructor, tree
        recombination, restarts and perturbations (the same inputs, seed and
        ``budget="work"`` give the same plan).
    method : {"auto", "exact", "lns"}
        ``exact`` solves every component with the exact model (small inputs
        only), ``lns`` never does, ``auto`` uses it up to ``exact_max`` atoms.
    exact_max : int
        Largest component solved exactly under ``auto``.
    optimal_gap : float
        Gap at or below which the plan is reported optimal.
    target_gap : float
        The search stops once the gap is at most this.
    budget : {"time", "work"}
        ``time``: stop at a wall-clock deadline, so a run cut by the limit may
        differ between machines and loads. ``work``: count the search's work
        (iterations, moves, solver nodes) instead, so the same inputs, seed
        and budget give the same plan anywhere (see :mod:`redistrict._clock`);
        the wall time then varies with the machine.
    units : int, optional
        Number of units of the plan, units flagged above the band (oversize
        atoms and forced groups, one unit each) included; with several connected
        components the others are shared out so that unit sizes stay balanced
        (each component gets a count its households admit). Default: the search
        chooses among the counts the band admits. :func:`unit_count_range` gives
        the admissible numbers; when no plan of that many units with every unit
        in the band is found, the plan keeps the number, with the band of that
        component stretched and the units outside the band flagged.

    Returns
    -------
    Solution

    Raises
    ------
    InputError
        When ``units`` is given but lies outside :func:`unit_count_range` (no
        plan of that many units can have every unit in the band).

    Notes
    -----
    With ``units`` the bound (and so the gap and the status) holds for plans of
    that many units only.
    """
    notes: list[str] = []
    mip = True
    try:
        check_solver(solver)
    except SolverError as exc:
        mip = False
        notes.append(f"{exc}; the plan is built without the MIP solver (heuristic only)")
    _check_arguments(
        problem, time_limit=time_limit, method=method, budget=budget, seed=seed, units=units,
        gaps={"optimal_gap": optimal_gap, "target_gap": target_gap}, exact_max=exact_max,
    )  # fmt: skip
    clock = make_clock(budget)
    start = time.perf_counter()
    deadline = clock.now() + time_limit
    band = problem.band
    h = problem.households
    labels = np.full(problem.n, -1, dtype=np.int64)
    flags: dict[int, str] = {}
    rows: list[dict[str, object]] = []
    next_unit = 0

    # 1. Oversize atoms, and groups every plan must put in one unit that exceed the band,
    #    are units of their own; the components left are planned.
    fixed = fixed_units(problem)
    oversize, forced, comps = fixed.oversize, fixed.forced, fixed.comps
    for i in oversize.tolist():
        labels[i] = next_unit
        flags[next_unit] = "oversize atom"
        notes.append(
            f"{describe_atom(problem.places, problem.nodes[i])} alone holds {int(h[i]):,} {band.counts}, "
            f"above the band's upper bound {band.hi:,}: it is kept as one unit and flagged; split its "
            "population blocks to fix"
        )
        next_unit += 1
    for group in forced:
        labels[group] = next_unit
        next_unit += 1
        if problem.places is None:
            names = ", ".join(str(problem.nodes[i]) for i in group[:8].tolist())
            who = f"atoms {names}{', ...' if len(group) > 8 else ''}"
        else:
            where = describe(problem.places, problem.nodes, h, group, band.counts)
            who = f"the atoms holding {where} ({atom_ids(problem.nodes, group)})"
        notes.append(
            f"{who} must share one unit in any plan: a cut atom among them is the only link of the "
            f"others to the rest, and the pieces behind it hold fewer {band.counts} than the band's "
            f"lower bound {band.lo:,}. Together they hold {int(h[group].sum()):,} {band.counts}, above the "
            f"upper bound {band.hi:,}: they are kept as one unit and flagged; widen the band, or check for "
            "a missing road or block linking "
            "those pieces to their neighbours"
        )
    if units is not None:
        per_comp = split_units(problem, fixed, units)

    bounds: list[float | None] = []
    objectives: list[float] = []
    methods: set[str] = set()
    history: list[tuple[float, float]] = []
    first_seconds = 0.0
    comp_labels: list[tuple[IntArray, IntArray]] = []

    # 2. Solve each component (largest first), sharing the time left.
    for ci, region in enumerate(comps):
        total = int(h[region].sum())
        row: dict[str, object] = {"component": ci, "atoms": len(region), "households": total}
        if total == 0:
            host = _fixed_neighbour(problem, region, labels)
            if host < 0:
                row.update(units=0, method="excluded", status="excluded", reason="no households")
            else:  # cut off by an oversize atom or a forced group only: part of that unit
                labels[region] = host
                row.update(
                    units=0, method="joined", status="joined",
                    reason=f"no {band.counts}; joined the flagged unit it touches",
                )  # fmt: skip
            rows.append(row)
            continue
        # Share the time left in proportion to the atoms still to plan.
        left_atoms = sum(len(c) for c in comps[ci:])
        time_share = max(0.5, (deadline - clock.now()) * len(region) / left_atoms)
        comp = solve_component(
            problem, region, solver=solver, deadline=clock.now() + time_share, seed=seed,
            use_exact=mip and (method == "exact" or (method == "auto" and len(region) <= exact_max)),
            exact_share=1.0 if len(region) <= exact_max else FORCED_EXACT_SHARE,
            target_gap=target_gap, notes=notes, mip=mip,
            label=_label(problem, ci, region, total), clock=clock,
            units=None if units is None else per_comp[ci],
        )  # fmt: skip
        first_seconds += comp.first_seconds
        methods.add(comp.method)
        lab = comp.labels
        cost = comp.problem.plan_cost(embed(problem.n, region, lab))
        comp_bound = comp.bound
        if comp_bound is not None and not comp.reason:
            comp_bound = min(comp_bound, cost)
            status = "optimal" if relative_gap(cost, comp_bound) <= optimal_gap else "feasible"
        else:
            comp_bound = None
            status = "heuristic"
        comp_labels.append((region, lab))
        objectives.append(cost)
        bounds.append(comp_bound)
        row.update(
            units=len(np.unique(lab)), method=comp.method, status=status,
            objective=cost / problem.scale, bound=None if comp_bound is None else comp_bound / problem.scale,
            reason=comp.reason,
        )  # fmt: skip
        rows.append(row)

    # 3. Number the units: oversize atoms first, then by smallest atom.
    for region, lab in comp_labels:
        for u in np.unique(lab):
            labels[region[lab == u]] = next_unit
            next_unit += 1
    labels = renumber(labels)
    seconds = time.perf_counter() - start
    if clock.overruns:
        notes.append(overrun_note(clock.overruns))
    objective = float(sum(objectives))
    n_fixed = len(oversize) + len(forced)  # labelled first, 0 .. n_fixed - 1
    objective += float(sum(problem.unit_cost(np.flatnonzero(labels == u))[0] for u in range(n_fixed)))
    if bounds and all(b is not None for b in bounds) and not oversize.size and not forced:
        bound_total: float | None = float(sum(b for b in bounds if b is not None))
    else:
        bound_total = None
        notes += _partial_gap(objectives, bounds)
    gap = None if bound_total is None else relative_gap(objective, bound_total)
    status = "heuristic" if gap is None else "optimal" if gap <= optimal_gap else "feasible"
    scale = problem.scale
    unit_ids = pd.Series(labels, index=pd.Index(problem.nodes, name="atom_id"), name="unit_id")
    unit_ids = unit_ids.where(unit_ids >= 0).astype("Int64") + 1
    unit_flags = _flags(problem, labels, flags_oversize=oversize)
    history.append((seconds, objective / scale))
    return Solution(
        labels=unit_ids,
        status=status,
        objective=objective / scale,
        bound=None if bound_total is None else bound_total / scale,
        gap=gap,
        seconds=seconds,
        seconds_first=min(seconds, first_seconds),
        solver=solver,
        method="/".join(sorted(methods)) or "none",
        unit_flags=unit_flags,
        components=pd.DataFrame(rows),
        notes=notes,
        history=history,
    )


def _label(problem: Problem, ci: int, region: IntArray, total: int) -> str:
    """How a component is named in notes: where its households live, its atoms as a detail.

    With :attr:`Problem.places` the part is named by the communities (or roads)
    of its households and the barriers that cut it off, e.g. "the part of the
    area with 2,134 households of 桃花社区 (1,500) and 八字门社区 (634), cut off
    from the rest by the barriers in demo.gpkg:railway (component 1: 9 atoms, 131, 133, ...)";
    without, by its size and first atoms.
    """
    ids = atom_ids(problem.nodes, region).removeprefix("atoms ").removeprefix("atom ")
    if problem.places is None:
        return f"component {ci} ({len(region)} atoms: {ids}; {total:,} {problem.band.counts})"
    where = describe(problem.places, problem.nodes, problem.households, region, problem.band.counts)
    return f"the part of the area with {where} (component {ci}: {counted(len(region), 'atom')}, {ids})"


def _check_arguments(
    problem: object,
    *,
    time_limit: object,
    method: object,
    budget: object,
    seed: object,
    units: object = None,
    gaps: dict[str, object] | None = None,
    exact_max: object = 30,
) -> None:
    """Refuse arguments :func:`solve` cannot use, listing every problem at once."""
    problems = []
    if not isinstance(problem, Problem):
        kind = type(problem).__name__
        problems.append(f"problem must be a Problem (Problem.from_arrays or from_graph), not {kind}")
    elif problem.n == 0:
        problems.append("the problem has no atoms: there is nothing to plan")
    elif problem.band.lo < 1:
        problems.append(
            f"problem.band has lower bound {problem.band.lo}: a unit holds at least one household, and "
            f"without a lower bound the number of units is not limited; give e.g. "
            f"Band(1, {problem.band.hi})"
        )
    problems += run_problems(
        time_limit=time_limit, method=method, budget=budget, seed=seed, units=units, gaps=gaps,
        exact_max=exact_max,
    )  # fmt: skip
    if problems:
        raise InputError(problems)


def run_problems(
    *,
    time_limit: object,
    method: object,
    budget: object,
    seed: object,
    units: object = None,
    gaps: dict[str, object] | None = None,
    exact_max: object = 30,
    solver: object = None,
    prefix: str = "",
) -> list[str]:
    """What is wrong with the run arguments of :func:`solve`, before any problem is built.

    :func:`redistrict.pipeline.run_plan` and :func:`redistrict.city.run_city` check
    their options with it before the atoms are built, as the CLI does.

    Parameters
    ----------
    time_limit, method, budget, seed, units, exact_max
        As :func:`solve` takes them.
    gaps : dict, optional
        Gap arguments by name (``target_gap``, ``optimal_gap``).
    solver : str, optional
        Solver name; only its spelling is checked (whether it is installed is
        :func:`solve`'s concern, which then plans without it and says so).
    prefix : str, default ""
        Put before each argument's name in the messages, e.g. ``"options."``.

    Returns
    -------
    list of str
        Every problem found; empty when the arguments are usable.
    """
    problems = []
    if solver is not None and solver not in SOLVERS:
        problems.append(f"unknown solver {solver!r}: choose one of {', '.join(SOLVERS)}")
    if units is not None and (
        isinstance(units, bool) or not isinstance(units, int | np.integer) or units < 1
    ):
        problems.append(f"{prefix}units must be a whole number of at least 1 (or None), not {units!r}")
    for name, value in (gaps or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            problems.append(f"{prefix}{name} must be a number from 0 up to (not including) 1, not {value!r}")
    if isinstance(exact_max, bool) or not isinstance(exact_max, int | np.integer) or exact_max < 0:
        problems.append(f"{prefix}exact_max must be a whole number of atoms, 0 or more, not {exact_max!r}")
    if (
        isinstance(time_limit, bool)
        or not isinstance(time_limit, int | float)
        or not (math.isfinite(time_limit) and time_limit > 0)
    ):
        problems.append(f"{prefix}time_limit must be a positive number of seconds, not {time_limit!r}")
    if method not in ("auto", "exact", "lns"):
        problems.append(f"unknown method {method!r}: use auto, exact or lns")
    if budget not in ("time", "work"):
        problems.append(f"unknown budget {budget!r}: use 'time' or 'work'")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= int(seed) < 2**63:
        problems.append(f"{prefix}seed must be a whole number from 0 to 2**63 - 1, not {seed!r}")
    return problems


def _fixed_neighbour(problem: Problem, region: IntArray, labels: IntArray) -> int:
    """The labelled unit sharing the longest boundary with ``region`` (-1 if none)."""
    inside = np.zeros(problem.n, dtype=bool)
    inside[region] = True
    a, b = problem.edges[:, 0], problem.edges[:, 1]
    out_end = np.where(inside[a], b, a)
    crossing = (inside[a] != inside[b]) & (labels[out_end] >= 0)
    if not crossing.any():
        return -1
    hosts = labels[out_end[crossing]]
    length = np.bincount(hosts, problem.edge_length[crossing])
    return int(np.argmax(length))


def _partial_gap(objectives: list[float], bounds: list[float | None]) -> list[str]:
    """A note on the gap of the parts planned in the band, when others leave the plan without one."""
    known = [(o, b) for o, b in zip(objectives, bounds, strict=True) if b is not None]
    if not known:
        return []
    gap = relative_gap(sum(o for o, _ in known), sum(b for _, b in known))
    return [
        "no bound for the whole plan (a part of it cannot be planned in the band, or an atom or group "
        f"is above it), so its status is heuristic; the {counted(len(known), 'part')} planned in the "
        f"band {'is' if len(known) == 1 else 'are'} within {100 * gap:.2f}% of the best possible"
    ]


def _flags(problem: Problem, labels: IntArray, flags_oversize: IntArray) -> pd.Series:
    band = problem.band
    out: dict[int, str] = {}
    over = set(flags_oversize.tolist())
    for u in np.unique(labels[labels >= 0]).tolist():
        members = np.flatnonzero(labels == u)
        load = int(problem.households[members].sum())
        held = members[problem.households[members] > 0]  # empty atoms may have joined it
        if len(held) == 1 and int(held[0]) in over:
            out[u + 1] = "oversize atom"
        elif load < band.lo:
            out[u + 1] = "below band"
        elif load > band.hi:
            out[u + 1] = "above band"
        else:
            out[u + 1] = "ok"
    s = pd.Series(out, name="status", dtype=object)
    s.index.name = "unit_id"
    return s
