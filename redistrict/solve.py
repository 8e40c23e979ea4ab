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
   ``_LA_MAX_ATOMS`` atoms;
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

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from redistrict._allocate import perturb, restarts
from redistrict._certify import strengthen
from redistrict._clock import TREE_ATOM, Clock, make_clock, overrun_note
from redistrict._construct import bisect_plan, default_tries
from redistrict._counts import (
    fixed_units,
    relax,
    split_units,
    unit_count_range,
    with_band,
)
from redistrict._local import boundary_moves, lns, locate_allocate, renumber, unit_centres
from redistrict._places import atom_ids, describe, describe_atom
from redistrict._recom import recombine
from redistrict._solvers import SOLVERS, check_solver
from redistrict._words import counted
from redistrict.bound import LowerBound, lower_bound
from redistrict.errors import InputError, SolverError
from redistrict.model import solve_region
from redistrict.problem import Band, IntArray, Problem

__all__ = ["Solution", "relative_gap", "run_problems", "solve", "unit_count_range"]

log = logging.getLogger(__name__)

STATUSES = ("optimal", "feasible", "heuristic")

#: Largest component given the full integer program (SP contiguity) when no heuristic
#: plan was found; beyond it the model would not fit in memory or time.
_FULL_MODEL_MAX = 400
#: Largest component given location-allocation models once a plan is known. Measured:
#: an allocation round takes about 1 s on 234 atoms (Ottawa Centretown) but 20-40 s on
#: 450 (three neighbourhoods), where tree recombination improves the plan faster.
_LA_MAX_ATOMS = 400
#: Bounds are lifted by variable fixing and a bound-only solve (:mod:`redistrict._certify`)
#: on components of at most this many atoms, when the gap is at most ``_CERTIFY_MAX_GAP``
#: (wider gaps fix too few pairs to pay), on this share of the time left. Measured on
#: Centretown: gap 1.3 % -> 0.5 % with 10,400 of 54,756 pairs kept per unit count.
_CERTIFY_MAX_ATOMS = 400
_CERTIFY_MAX_GAP = 0.03
_CERTIFY_SHARE = 0.9
#: Share of the time left after location-allocation and bound lifting given to restarts by
#: location-allocation with a transportation LP (:func:`redistrict._allocate.restarts`), which
#: redraw every unit at once, for a plan of the neighbouring unit count, and the same share again
#: to its tree recombination, on components of at most ``_RESTART_MAX_ATOMS`` atoms. Run before
#: location-allocation, restarts delayed Centretown's bound lifting past 20 s. The atom limit is
#: a choice, not a measurement: one restart's repair and boundary moves grow with the region, and
#: no gain was measured beyond the 450 atoms of the three neighbourhoods.
_RESTART_SHARE = 0.1
_RESTART_MAX_ATOMS = 500
#: Share of the time left after the neighbouring count's plan given to perturbations
#: (:func:`redistrict._allocate.perturb`), on components of at most ``_RESTART_MAX_ATOMS`` atoms.
#: Measured on the three Ottawa neighbourhoods in 60 s: seed 0 333.6 -> 329.3 (15 units instead of
#: the first plan's 14), seeds 1 and 2 338.2 -> 331.9 and 337.0 -> 332.7; Centretown, the demo and
#: synthetic 100 gave the same plans, synthetic 300 172.9 -> 173.0 (see benchmarks/README.md).
_PERTURB_SHARE = 0.6
#: Multiples of the default spanning trees tried, in turn, for a first plan.
_MORE_TREES = (1, 4, 16)


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


def _construct(
    problem: Problem, region: IntArray, ks: range, seed: int, clock: Clock, deadline: float = math.inf
) -> IntArray | None:
    """Best first plan over the admissible unit counts (closest to target first).

    When no count gives a plan with the default number of spanning trees, the counts
    are tried again with :data:`_MORE_TREES` times as many (regions whose articulation
    atoms leave few balanced cuts need them). Past ``deadline`` (of ``clock``) no more
    counts are tried once two have been, and no more spanning trees are added.
    """
    goal = problem.band.goal
    total = int(problem.households[region].sum())
    best: tuple[float, IntArray] | None = None
    order = sorted(ks, key=lambda k: (abs(total / k - goal), k))
    for more in _MORE_TREES:
        found = tried = 0
        for k in order:
            if clock.now() >= deadline and (tried >= 2 or more > 1):
                break
            tried += 1
            lab = _bisect(problem, region, k, seed=seed, clock=clock, more=more)
            if lab is None:
                continue
            full = np.full(problem.n, -1, dtype=np.int64)
            full[region] = lab
            cost = problem.plan_cost(full)
            if best is None or cost < best[0]:
                best = (cost, lab)
            found += 1
            if found >= 2:
                break
        if best is not None or clock.now() >= deadline:
            break
        log.debug("no first plan with %dx the default spanning trees", more)
    return None if best is None else best[1]


def _bisect(
    problem: Problem, region: IntArray, k: int, *, seed: int, clock: Clock, more: int = 1
) -> IntArray | None:
    """:func:`bisect_plan` with ``more`` times its default spanning trees, its work charged to ``clock``."""
    lab = bisect_plan(problem, region, k, seed=seed, tries=more * default_tries(k))
    clock.charge(TREE_ATOM * len(region) * k * more)
    return lab


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
            f"lower bound {band.lo}. Together they hold {int(h[group].sum())} {band.counts}, above the "
            f"upper bound {band.hi}: they are kept as one unit and flagged; widen the band, or check for "
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
        comp = _solve_component(
            problem, region, solver=solver, deadline=clock.now() + time_share, seed=seed,
            use_exact=mip and (method == "exact" or (method == "auto" and len(region) <= exact_max)),
            exact_share=1.0 if len(region) <= exact_max else _FORCED_EXACT_SHARE,
            target_gap=target_gap, notes=notes, mip=mip,
            label=_label(problem, ci, region, total), clock=clock,
            units=None if units is None else per_comp[ci],
        )  # fmt: skip
        first_seconds += comp.first_seconds
        methods.add(comp.method)
        lab = comp.labels
        cost = comp.problem.plan_cost(_embed(problem.n, region, lab))
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


class _NoSolverError(Exception):
    """Internal signal: no MIP solver is available, skip the MIP phases."""


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


@dataclass
class _Component:
    labels: IntArray
    bound: float | None
    method: str
    reason: str
    problem: Problem
    first_seconds: float


#: With ``method="exact"`` on a component larger than ``exact_max`` atoms, the exact
#: model gets this share of the component's time; when it proves no optimum, the
#: heuristic search gets the rest and the cheaper plan is kept.
_FORCED_EXACT_SHARE = 0.5


def _solve_component(
    problem: Problem,
    region: IntArray,
    *,
    solver: str,
    deadline: float,
    seed: int,
    use_exact: bool,
    target_gap: float,
    exact_share: float = 1.0,
    notes: list[str],
    label: str,
    clock: Clock,
    mip: bool = True,
    units: int | None = None,
) -> _Component:
    """Plan one connected component; never raises for solver trouble if any plan exists."""
    total = int(problem.households[region].sum())
    ks = problem.band.unit_counts(total)
    if units is not None:
        ks = range(units, units + 1)
    sub, reason = problem, ""
    if len(ks) == 0:

        def fits(band: Band, k: int) -> bool:
            return _bisect(with_band(problem, band), region, k, seed=seed, clock=clock) is not None

        sub, ks, reason = relax(problem, total, largest=int(problem.households[region].max()), fits=fits)
        notes.append(f"{label}: {reason}")
    bound: float | None = None
    exact_plan: IntArray | None = None
    exact_bound: float | None = None  # the exact model's, valid for ``sub`` as it is now
    t_exact = time.perf_counter()
    exact_sub = sub
    if use_exact:
        try:
            sol = solve_region(
                sub, region, kmin=ks.start, kmax=ks.stop - 1, solver=solver,
                time_limit=max(0.5, exact_share * (deadline - clock.now())), contiguity="cuts", clock=clock,
            )  # fmt: skip
        except SolverError as exc:
            notes.append(f"{label}: the exact model failed ({exc}); using the heuristic plan")
        else:
            # "infeasible" proves no plan in this band: its bound says nothing about the plan the
            # fallbacks below make, so it is not kept.
            exact_bound = None if sol.outcome.status == "infeasible" else sol.outcome.bound
            bound = exact_bound
            if sol.centres is not None:
                first = time.perf_counter() - t_exact
                lab_exact = _labels_from_centres(sol.centres)
                if sol.outcome.status == "optimal" or clock.now() >= deadline:
                    return _Component(lab_exact, bound, "exact", reason, sub, first)
                # Not proven optimal (a component too large for the exact model in time): the
                # search below gets the time left, and the cheaper plan is kept.
                exact_plan = _embed(problem.n, region, lab_exact)
            else:
                why = (
                    "proved no contiguous plan exists"
                    if sol.outcome.status == "infeasible"
                    else ("found no plan in time")
                )
                notes.append(f"{label}: the exact model {why}; using the heuristic")
    t0 = time.perf_counter()
    # The first plan may take most of the time (hard regions), not all of it.
    lab = _construct(sub, region, ks, seed, clock, clock.now() + 0.6 * max(0.0, deadline - clock.now()))
    first_seconds = time.perf_counter() - t0 if lab is not None else math.nan
    span = max(0.0, deadline - clock.now())
    best: IntArray | None = None
    if lab is not None:
        best = boundary_moves(
            sub, _embed(problem.n, region, lab), deadline=clock.now() + 0.05 * span, clock=clock
        )
        best = recombine(sub, best, deadline=clock.now() + 0.1 * span, clock=clock, seed=seed)
        best = boundary_moves(sub, best, deadline=clock.now() + 0.02 * span, clock=clock)
    if exact_plan is not None and (best is None or sub.plan_cost(exact_plan) < sub.plan_cost(best)):
        best = exact_plan
    best_cost = math.inf if best is None else sub.plan_cost(best)
    lb = lower_bound(
        sub, region, time_limit=max(0.5, 0.2 * span), clock=clock, counts=ks,
        upper=best_cost if math.isfinite(best_cost) else None,
    )  # fmt: skip
    if math.isfinite(lb.value):
        bound = lb.value if bound is None else max(bound, lb.value)  # both are valid bounds
    log.info("%s: first plan %.1f, bound %.1f after %.1f s", label, best_cost / sub.scale,
             lb.value / sub.scale, span - (deadline - clock.now()))  # fmt: skip
    try:
        if not mip:
            raise _NoSolverError
        # Location-allocation, within 40 % of the time, from the relaxation's best centres for
        # the two most promising unit counts and from the centres of the plan so far; the
        # neighbourhood search gets the rest.
        la_deadline = clock.now() + 0.4 * span
        by_bound = sorted(lb.per_k, key=lambda k: (lb.per_k[k], abs(total / k - problem.band.goal), k))
        starts: list[tuple[int, list[int] | None]] = [(k, None) for k in by_bound[:2]]
        if best is not None:
            units_now = np.unique(best[region]).tolist()
            starts.insert(1, (len(units_now), unit_centres(sub, best, units_now)))
        if best is not None and len(region) > _LA_MAX_ATOMS:
            starts = []  # too large for allocation models in time: recombination and LNS only
        lift = mip and best is not None and len(region) <= _CERTIFY_MAX_ATOMS
        for i, (k, centres) in enumerate(starts):
            if i == 2 and lift:
                # The relaxation's best count and the plan's own centres are done: lift the
                # bound before exploring another count, so the gap is known early.
                lb, ran = _lift_bound(sub, region, lb, best_cost, target_gap, solver, deadline, clock, label)
                bound, lift = lb.value, not ran
            if relative_gap(best_cost, lb.value) <= target_gap:
                break
            now = clock.now()
            if lb.per_k.get(k, -math.inf) >= best_cost or now >= la_deadline:
                continue
            # The most promising count gets half of the time, the others share the rest.
            k_deadline = now + (la_deadline - now) * (0.5 if i == 0 else 1.0 / (len(starts) - i))
            la = locate_allocate(
                sub, region, k, lb.opening.get(k), solver=solver, deadline=k_deadline, clock=clock,
                start=centres,
            )  # fmt: skip
            if la is not None:
                la = recombine(sub, la, deadline=clock.now() + 0.02 * span, clock=clock, seed=seed)
            if la is not None and (cost := sub.plan_cost(la)) < best_cost:
                best, best_cost = la, cost
                if math.isnan(first_seconds):
                    first_seconds = time.perf_counter() - t0
            log.info("%s: location-allocation with %d units -> best %.1f (%.1f s left)", label, k,
                     best_cost / sub.scale, deadline - clock.now())  # fmt: skip
        if lift and best is not None:
            lb, _ = _lift_bound(sub, region, lb, best_cost, target_gap, solver, deadline, clock, label)
            bound = lb.value
        if best is None and len(region) <= _FULL_MODEL_MAX:
            sol = solve_region(
                sub, region, kmin=ks.start, kmax=ks.stop - 1, solver=solver,
                time_limit=max(1.0, deadline - clock.now()), contiguity="sp", clock=clock,
            )  # fmt: skip
            if sol.centres is not None:
                best = _embed(problem.n, region, _labels_from_centres(sol.centres))
                first_seconds = time.perf_counter() - t0
        if best is not None and (bound is None or relative_gap(sub.plan_cost(best), bound) > target_gap):
            best = _restart(
                sub, region, best, lb, deadline=deadline, clock=clock, seed=seed, units=units, label=label
            )
            # Tree recombination (fast) on a third of the time left, exact neighbourhoods after.
            third = clock.now() + max(0.0, deadline - clock.now()) / 3.0
            best = recombine(sub, best, deadline=third, clock=clock, seed=seed + 1)
            best = lns(sub, best, solver=solver, deadline=deadline, clock=clock, keep_count=units is not None)
    except _NoSolverError:
        if best is not None:  # no MIP solver: the heuristics get all the time
            best = recombine(sub, best, deadline=deadline, clock=clock, seed=seed + 1)
    except SolverError as exc:
        notes.append(f"{label}: the solver failed ({exc}); keeping the best heuristic plan")
    if best is None and units is not None:
        # The number of units was asked for: keep it, stretching the band around the mean size.
        lab, sub = _stretched(problem, region, units, seed, clock)
        if lab is not None:
            reason = reason or (
                f"no split of {total:,} {problem.band.counts} into {units} contiguous units of "
                f"{problem.band.lo:,}-{problem.band.hi:,} was found (atoms too coarse or badly placed); "
                f"it is split into {units} units as asked, with the band set to {sub.band.lo:,}-"
                f"{sub.band.hi:,} for this part (or choose another number of units)"
            )
            notes.append(f"{label}: {reason}")
            best = _embed(problem.n, region, lab)
    if best is None:
        sub, ks, _ = relax(problem, total, strict=False)
        lab = _construct(sub, region, ks, seed, clock, deadline)
        # Coarse atoms may need more, smaller units than ceil(total / hi).
        k = ks.start
        while lab is None and k < len(region) and (k == ks.start or clock.now() < deadline):
            k += 1
            sub = with_band(problem, dataclasses.replace(problem.band, lo=0, target=max(1, total // k)))
            lab = _bisect(sub, region, k, seed=seed, clock=clock)
        if lab is None:
            # Last resort: every atom with households a unit of its own (each is within the
            # upper bound); atoms without households join a neighbouring unit.
            lab = _absorb_empty(problem, region, np.arange(len(region), dtype=np.int64))
            what = problem.band.counts
            why = (
                f"no grouping of its atoms was found; every atom with {what} is a unit of its own "
                f"(atoms without {what} join a neighbour)"
            )
        else:
            why = f"it is split into {k} units with the lower bound dropped"
        reason = reason or (
            f"no split of {total:,} {problem.band.counts} into contiguous units of {problem.band.lo:,}-"
            f"{problem.band.hi:,} was found (atoms too coarse or badly placed); {why}"
        )
        notes.append(f"{label}: {reason}")
        best = _embed(problem.n, region, lab)
    if math.isnan(first_seconds):
        first_seconds = time.perf_counter() - t0
    if exact_bound is not None and bound is not None and sub is exact_sub:
        bound = max(bound, exact_bound)  # lifting may end below the exact model's bound
    return _Component(best[region], bound, "lns", reason, sub, first_seconds)


def _stretched(
    problem: Problem, region: IntArray, k: int, seed: int, clock: Clock
) -> tuple[IntArray | None, Problem]:
    """A plan of exactly ``k`` units, the band stretched around the mean size as little as it takes.

    The band becomes the mean size give or take a quarter of the largest atom,
    then half of it, the whole of it, twice it, then anything (any connected
    region of at least ``k`` atoms splits into ``k`` connected units); returns
    the labels (None if even that failed) and the problem with the band used.
    """
    h = problem.households[region]
    total = int(h.sum())
    mean = total / k
    largest = int(h.max()) if len(h) else 0
    sub = problem
    for slack in (largest / 4, largest / 2, largest, 2 * largest, math.inf):
        if math.isfinite(slack):
            lo, hi = max(0, math.floor(mean - slack)), max(1, math.ceil(mean + slack))
        else:
            lo, hi = 0, max(1, total)
        sub = with_band(
            problem, dataclasses.replace(problem.band, lo=lo, hi=hi, target=min(hi, max(lo, round(mean))))
        )
        lab = _bisect(sub, region, k, seed=seed, clock=clock)
        if lab is not None:
            return lab, sub
    return None, sub


def _restart(
    problem: Problem,
    region: IntArray,
    best: IntArray,
    lb: LowerBound,
    *,
    deadline: float,
    clock: Clock,
    seed: int,
    units: int | None,
    label: str,
) -> IntArray:
    """The plan, or a better one of its own or of a neighbouring unit count (small components).

    The count of the first plan is the one its construction found cheapest, not
    necessarily the best. The neighbouring count (one unit more or fewer) the
    relaxation ranks best, when its bound is below the plan's cost, gets a plan of
    its own from restarts and tree recombination; when the count is fixed, or no
    neighbour qualifies, the restarts give the plan's own count a second start
    instead. Each count's plan then goes through perturbations
    (:func:`redistrict._allocate.perturb`) on an equal share of ``_PERTURB_SHARE``
    of the time left; the cheapest plan is returned.
    """
    if len(region) > _RESTART_MAX_ATOMS:
        return best
    k0 = len(np.unique(best[region]))
    cost = problem.plan_cost(best)
    plans = {k0: best}
    others = [k for k in (k0 - 1, k0 + 1) if lb.per_k.get(k, math.inf) < cost]
    # The restarts serve the neighbouring count; without one (the count fixed, or no
    # neighbour the bound leaves room for) they give the plan's own count a second start.
    k1 = min(others, key=lambda k: (lb.per_k[k], k)) if units is None and others else k0
    span = max(0.0, deadline - clock.now())
    found = restarts(
        problem, region, [k1], deadline=clock.now() + _RESTART_SHARE * span, clock=clock, seed=seed
    )
    if found is not None:
        lab = recombine(
            problem, found[1], deadline=clock.now() + _RESTART_SHARE * span, clock=clock, seed=seed
        )
        if k1 != k0 or problem.plan_cost(lab) < cost:
            plans[k1] = lab
    share = _PERTURB_SHARE * max(0.0, deadline - clock.now()) / len(plans)
    for i, k in enumerate(sorted(plans)):
        lab = perturb(problem, region, plans[k], deadline=clock.now() + share, clock=clock, seed=seed + i)
        k_cost = problem.plan_cost(lab)
        log.info(
            "%s: %d units -> %.1f (%.1f s left)", label, k, k_cost / problem.scale, deadline - clock.now()
        )
        if k_cost < cost:
            best, cost = lab, k_cost
    return best


def _lift_bound(
    problem: Problem,
    region: IntArray,
    lb: LowerBound,
    best_cost: float,
    target_gap: float,
    solver: str,
    deadline: float,
    clock: Clock,
    label: str,
) -> tuple[LowerBound, bool]:
    """The bound lifted towards the plan's cost (up to the target gap) on a share of the time left.

    Returns the bound and whether the lifting ran (it does not when the gap is already
    small enough, or too wide for fixing to pay).
    """
    if not target_gap < relative_gap(best_cost, lb.value) <= _CERTIFY_MAX_GAP:
        return lb, False
    # Just inside the target gap, so that reaching the threshold (less the solver's
    # tolerance) meets the target.
    threshold = best_cost * (1.0 - target_gap * (1.0 - 1e-3))
    lifted = strengthen(
        problem, region, lb, threshold=threshold, solver=solver, clock=clock,
        deadline=clock.now() + _CERTIFY_SHARE * max(0.0, deadline - clock.now()),
    )  # fmt: skip
    log.info("%s: bound %.1f -> %.1f (%.1f s left)", label, lb.value / problem.scale,
             lifted.value / problem.scale, deadline - clock.now())  # fmt: skip
    return lifted, True


def relative_gap(objective: float, bound: float) -> float:
    """The relative optimality gap ``(objective - bound) / |objective|``, at least 0.

    Parameters
    ----------
    objective : float
        Cost of a plan.
    bound : float
        A valid lower bound on the cost of any plan.

    Returns
    -------
    float
        0 when the bound reaches the objective; ``inf`` when the objective is not
        positive and the bound below it, or when either is not a number (so that
        such a plan is never reported optimal).
    """
    if math.isnan(objective) or math.isnan(bound) or math.isinf(objective):
        return math.inf  # never 0 (and never "optimal") for a cost that is not a number
    if objective <= 0:
        return 0.0 if bound >= objective - 1e-9 else math.inf
    return max(0.0, (objective - bound) / abs(objective))


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
        problems.append(f"units must be a whole number of at least 1 (or None), not {units!r}")
    for name, value in (gaps or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            problems.append(f"{name} must be a number from 0 up to (not including) 1, not {value!r}")
    if isinstance(exact_max, bool) or not isinstance(exact_max, int | np.integer) or exact_max < 0:
        problems.append(f"exact_max must be a whole number of atoms, 0 or more, not {exact_max!r}")
    if (
        isinstance(time_limit, bool)
        or not isinstance(time_limit, int | float)
        or not (math.isfinite(time_limit) and time_limit > 0)
    ):
        problems.append(f"time_limit must be a positive number of seconds, not {time_limit!r}")
    if method not in ("auto", "exact", "lns"):
        problems.append(f"unknown method {method!r}: use auto, exact or lns")
    if budget not in ("time", "work"):
        problems.append(f"unknown budget {budget!r}: use 'time' or 'work'")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= int(seed) < 2**63:
        problems.append(f"seed must be a whole number from 0 to 2**63 - 1, not {seed!r}")
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


def _embed(n: int, region: IntArray, lab: IntArray) -> IntArray:
    full = np.full(n, -1, dtype=np.int64)
    full[region] = lab
    return full


def _absorb_empty(problem: Problem, region: IntArray, lab: IntArray) -> IntArray:
    """Units without households joined to an adjacent unit with some (region-local labels).

    Their atoms are handed out ring by ring from the units that hold households, so
    every unit stays contiguous; a region without any household is left as it is.
    """
    h = problem.households[region]
    load = np.bincount(lab, weights=h)
    free = load[lab] <= 0
    if free.all() or not free.any():
        return lab
    nbrs = problem.region_neighbours(region)
    out = lab.copy()
    ring = np.flatnonzero(~free).tolist()
    while ring:
        nxt: list[int] = []
        for v in ring:
            for i in nbrs[v]:
                if free[i]:
                    free[i] = False
                    out[i] = out[v]
                    nxt.append(i)
        ring = nxt
    _, dense = np.unique(out, return_inverse=True)
    return dense.astype(np.int64)


def _labels_from_centres(centres: IntArray) -> IntArray:
    _, inv = np.unique(centres, return_inverse=True)
    return inv.astype(np.int64)


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
