"""Plan one connected component of the atom graph (the search of :func:`redistrict.solve.solve`).

In order, within the component's deadline: the exact integer program when asked for
(small components), a first plan by recursive spanning-tree bisection improved by
boundary moves and tree recombination, the Lagrangian lower bound, location-allocation
from the relaxation's best centres, bound lifting when the gap is small, restarts and
perturbations for the plan's and a neighbouring unit count, tree recombination and
large-neighbourhood search; when no plan in the band is found, the fallbacks (a
relaxed band, a fixed number of units stretched around the mean size, single atoms).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from redistrict._allocate import perturb, restarts
from redistrict._certify import strengthen
from redistrict._clock import TREE_ATOM, Clock
from redistrict._construct import bisect_plan, default_tries
from redistrict._counts import relax, with_band
from redistrict._local import boundary_moves, lns, locate_allocate, unit_centres
from redistrict._recom import recombine
from redistrict.bound import LowerBound, lower_bound
from redistrict.errors import SolverError
from redistrict.model import solve_region
from redistrict.problem import Band, IntArray, Problem

__all__ = [
    "FORCED_EXACT_SHARE",
    "ComponentPlan",
    "absorb_empty",
    "bisect",
    "construct",
    "embed",
    "labels_from_centres",
    "relative_gap",
    "solve_component",
]

log = logging.getLogger(__name__)

#: Time (in the clock's units) the last-resort split may run past the deadline, one more unit
#: at each try, before every atom becomes a unit of its own. With a narrow band (2,400-2,500,
#: or 500-800 households on compounds of about 250) the search can use all its time and find no
#: plan; a split into 5 units more than the band's fewest then still came at once (0.1 s a try
#: on 100 atoms), where only one try used to be allowed past the deadline.
_FALLBACK_GRACE = 10.0
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


class _NoSolverError(Exception):
    """Internal signal: no MIP solver is available, skip the MIP phases."""


def construct(
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
            lab = bisect(problem, region, k, seed=seed, clock=clock, more=more)
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


def bisect(
    problem: Problem, region: IntArray, k: int, *, seed: int, clock: Clock, more: int = 1
) -> IntArray | None:
    """:func:`bisect_plan` with ``more`` times its default spanning trees, its work charged to ``clock``."""
    lab = bisect_plan(problem, region, k, seed=seed, tries=more * default_tries(k))
    clock.charge(TREE_ATOM * len(region) * k * more)
    return lab


@dataclass
class ComponentPlan:
    labels: IntArray
    bound: float | None
    method: str
    reason: str
    problem: Problem
    first_seconds: float


#: With ``method="exact"`` on a component larger than ``exact_max`` atoms, the exact
#: model gets this share of the component's time; when it proves no optimum, the
#: heuristic search gets the rest and the cheaper plan is kept.
FORCED_EXACT_SHARE = 0.5


def solve_component(
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
) -> ComponentPlan:
    """Plan one connected component; never raises for solver trouble if any plan exists."""
    total = int(problem.households[region].sum())
    ks = problem.band.unit_counts(total)
    if units is not None:
        ks = range(units, units + 1)
    sub, reason = problem, ""
    if len(ks) == 0:

        def fits(band: Band, k: int) -> bool:
            return bisect(with_band(problem, band), region, k, seed=seed, clock=clock) is not None

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
                lab_exact = labels_from_centres(sol.centres)
                if sol.outcome.status == "optimal" or clock.now() >= deadline:
                    return ComponentPlan(lab_exact, bound, "exact", reason, sub, first)
                # Not proven optimal (a component too large for the exact model in time): the
                # search below gets the time left, and the cheaper plan is kept.
                exact_plan = embed(problem.n, region, lab_exact)
            else:
                why = (
                    "proved no contiguous plan exists"
                    if sol.outcome.status == "infeasible"
                    else ("found no plan in time")
                )
                notes.append(f"{label}: the exact model {why}; using the heuristic")
    t0 = time.perf_counter()
    # The first plan may take most of the time (hard regions), not all of it.
    lab = construct(sub, region, ks, seed, clock, clock.now() + 0.6 * max(0.0, deadline - clock.now()))
    first_seconds = time.perf_counter() - t0 if lab is not None else math.nan
    span = max(0.0, deadline - clock.now())
    best: IntArray | None = None
    if lab is not None:
        best = boundary_moves(
            sub, embed(problem.n, region, lab), deadline=clock.now() + 0.05 * span, clock=clock
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
                best = embed(problem.n, region, labels_from_centres(sol.centres))
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
            best = embed(problem.n, region, lab)
    if best is None:
        sub, ks, _ = relax(problem, total, strict=False)
        lab = construct(sub, region, ks, seed, clock, deadline)
        # Coarse atoms may need more, smaller units than ceil(total / hi).
        k = ks.start
        grace = max(deadline, clock.now() + _FALLBACK_GRACE)
        while lab is None and k < len(region) and clock.now() < grace:
            k += 1
            sub = with_band(problem, dataclasses.replace(problem.band, lo=0, target=max(1, total // k)))
            lab = bisect(sub, region, k, seed=seed, clock=clock)
        if lab is None:
            # Last resort: every atom with households a unit of its own (each is within the
            # upper bound); atoms without households join a neighbouring unit.
            lab = absorb_empty(problem, region, np.arange(len(region), dtype=np.int64))
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
        best = embed(problem.n, region, lab)
    if math.isnan(first_seconds):
        first_seconds = time.perf_counter() - t0
    if exact_bound is not None and bound is not None and sub is exact_sub:
        bound = max(bound, exact_bound)  # lifting may end below the exact model's bound
    return ComponentPlan(best[region], bound, "lns", reason, sub, first_seconds)


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
        lab = bisect(sub, region, k, seed=seed, clock=clock)
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


def embed(n: int, region: IntArray, lab: IntArray) -> IntArray:
    full = np.full(n, -1, dtype=np.int64)
    full[region] = lab
    return full


def absorb_empty(problem: Problem, region: IntArray, lab: IntArray) -> IntArray:
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


def labels_from_centres(centres: IntArray) -> IntArray:
    _, inv = np.unique(centres, return_inverse=True)
    return inv.astype(np.int64)
