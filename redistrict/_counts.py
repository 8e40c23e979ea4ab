"""How many units each part of a problem gets, and bands for parts that cannot meet theirs.

Before any search, some units are fixed: atoms holding more households than the
band allows, and groups that every plan must put in one unit and that exceed the
band (:func:`redistrict._forced.forced_groups`). The connected components of the
other atoms are planned one by one; each needs a number of units its households
admit (:meth:`redistrict.problem.Band.unit_counts`). :func:`unit_count_range`
gives the totals a plan can have, :func:`split_units` shares a total out over the
components, and :func:`relax` widens the band of a component whose households
fit no whole number of units.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from redistrict._forced import forced_groups
from redistrict._places import describe
from redistrict._words import counted
from redistrict.errors import InputError
from redistrict.problem import Band, IntArray, Problem

__all__ = [
    "Fixed",
    "choose_units",
    "fixed_units",
    "relax",
    "split_units",
    "unit_count_range",
    "with_band",
]


@dataclass(frozen=True)
class Fixed:
    """What every plan of a problem holds before any search: units of their own, and the rest."""

    #: Atoms above the band's upper bound (each a unit of its own).
    oversize: IntArray
    #: Groups every plan must put in one unit, above the band (each a unit of its own).
    forced: list[IntArray]
    #: Connected components of the other atoms, largest first (the regions planned).
    comps: list[IntArray]


def fixed_units(problem: Problem) -> Fixed:
    """Oversize atoms, forced groups above the band and the components left (cached on the problem)."""
    cached = problem._cache.get("fixed_units")
    if isinstance(cached, Fixed):
        return cached
    band, h = problem.band, problem.households
    oversize = np.flatnonzero(h > band.hi)
    rest = np.ones(problem.n, bool)
    rest[oversize] = False
    # Groups every plan must put in one unit (small pieces behind a cut atom) above the band,
    # in components whose households some unit count could hold (gaps of the band are relaxed).
    forced: list[IntArray] = []
    for piece in problem.components(rest):
        if len(band.unit_counts(int(h[piece].sum()))):
            keep = np.zeros(problem.n, bool)
            keep[piece] = True
            forced += forced_groups(problem, keep)
    for group in forced:
        rest[group] = False
    fixed = Fixed(oversize, forced, problem.components(rest))
    problem._cache["fixed_units"] = fixed
    return fixed


def unit_count_range(problem: Problem) -> range:
    """Numbers of units a plan of ``problem`` can have with every unit in the band.

    Oversize atoms and groups above the band that every plan must keep together
    count as one unit each; every connected component of the other atoms with
    households needs a number of units its households admit
    (:meth:`~redistrict.problem.Band.unit_counts`).

    Parameters
    ----------
    problem : Problem
        The instance.

    Returns
    -------
    range
        The admissible totals, for ``units`` of :func:`solve`; empty when some
        component's households fit no whole number of units of the band. A
        number outside it is impossible; one inside may still find no plan with
        every unit in the band when the atoms are too coarse (the plan then
        flags the units outside it).
    """
    fixed = fixed_units(problem)
    return _admissible(fixed, _component_counts(problem, fixed.comps))


def _admissible(fixed: Fixed, ranges: list[range | None]) -> range:
    """Totals of units: one per fixed unit plus a count each component admits (empty if one admits none)."""
    if any(r is not None and len(r) == 0 for r in ranges):
        return range(0)
    extra = len(fixed.oversize) + len(fixed.forced)
    lo = extra + sum(r.start for r in ranges if r is not None)
    hi = extra + sum(r.stop - 1 for r in ranges if r is not None)
    return range(lo, hi + 1)


def _component_counts(problem: Problem, comps: list[IntArray]) -> list[range | None]:
    """Admissible unit counts per component (None for one without households).

    With a positive lower bound every unit needs an atom with households, so a
    component never gets more units than it has such atoms (every atom is within
    the upper bound here, so that cap never falls below the smallest count).
    """
    out: list[range | None] = []
    for c in comps:
        h = problem.households[c]
        total = int(h.sum())
        if total <= 0:
            out.append(None)
            continue
        counts = problem.band.unit_counts(total)
        if problem.band.lo > 0:
            counts = range(counts.start, min(counts.stop, int((h > 0).sum()) + 1))
        out.append(counts)
    return out


def split_units(problem: Problem, fixed: Fixed, units: int) -> list[int | None]:
    """Units per component for a plan of exactly ``units`` units, or why it cannot be.

    Oversize atoms and forced groups take one unit each. Every component with
    households needs a count its households admit; the counts start at their
    smallest and the units left go, one at a time, to the component whose units
    would then be largest (so sizes stay balanced across components). Components
    without households get None.

    Raises
    ------
    InputError
        When no plan of ``units`` units has every unit in the band, naming the
        counts that do.
    """
    band = problem.band
    comps = fixed.comps
    totals = [int(problem.households[c].sum()) for c in comps]
    ranges = _component_counts(problem, comps)
    stuck = [i for i, r in enumerate(ranges) if r is not None and len(r) == 0]
    if stuck:
        if problem.places is None:
            shares = ", ".join(f"{totals[i]:,}" for i in stuck) + f" {band.counts}"
        else:  # where those households live, for the planner to find the parts
            shares = "; ".join(
                describe(problem.places, problem.nodes, problem.households, comps[i], band.counts)
                for i in stuck
            )
        parts = sum(1 for t in totals if t > 0)
        which = (
            f"{len(stuck)} separate parts of the area hold"
            if len(stuck) > 1
            else "a separate part of the area holds"
            if parts > 1
            else "the area holds"
        )
        raise InputError(
            f"{counted(units)} cannot be planned: {which} {shares}, which no whole number "
            f"of units of {band.lo:,}-{band.hi:,} holds; leave the number of units to the search, or "
            "widen the band"
        )
    extra = len(fixed.oversize) + len(fixed.forced)
    admissible = _admissible(fixed, ranges)
    if units not in admissible:
        whole = int(problem.households.sum())
        apart = (
            f" ({extra} of them fixed: atoms or groups above the band, each a unit of its own)"
            if extra
            else ""
        )
        parts = sum(r is not None for r in ranges)
        raise InputError(
            f"{whole:,} {band.counts} cannot form {units} units of {band.lo:,}-{band.hi:,} {band.counts}"
            + (f" in {parts} separate parts" if parts > 1 else "")
            + f": {choose_units(admissible.start, admissible.stop - 1)}{apart}"
        )
    counts: list[int | None] = [None if r is None else r.start for r in ranges]
    for _ in range(units - admissible.start):
        room = [i for i, r in enumerate(ranges) if r is not None and int(counts[i] or 0) < r.stop - 1]
        i = max(room, key=lambda i: (totals[i] / (int(counts[i] or 0) + 1), -i))
        counts[i] = int(counts[i] or 0) + 1
    return counts


def relax(
    problem: Problem,
    total: int,
    strict: bool = True,
    largest: int = 0,
    fits: Callable[[Band, int], bool] | None = None,
) -> tuple[Problem, range, str]:
    """A band the component can meet, and why the real one cannot be met.

    In a gap of the band (``k - 1`` units would be above its upper bound, ``k`` units
    below its lower bound) the count with the smaller relative excess is chosen, and
    the band becomes the balanced size give or take a slack, with that size as the
    target, so the units come out nearly equal rather than some tiny and some in the
    band: the narrowest slack :func:`_narrowest` tries for which ``fits(band, k)``
    finds a split (the bound the band does not violate is never loosened); else only
    the violated bound moves, to the mean give or take the whole ``largest`` atom
    (atoms are indivisible).
    """
    band = problem.band
    what = band.counts
    k = max(1, math.ceil(total / band.hi))
    relaxed = dataclasses.replace(band, lo=0, target=min(band.hi, max(1, total // k)))
    if total < band.lo:
        why = (
            f"its {total:,} {what} are fewer than the band's lower bound {band.lo:,}: it forms one "
            "undersized unit (merge it with a neighbouring area by hand, or lower the band)"
        )
    elif strict:
        over = total / ((k - 1) * band.hi) - 1.0 if k > 1 else math.inf
        under = 1.0 - total / (k * band.lo)
        if over <= under:
            k -= 1
        mean = total / k
        high = over <= under  # the units are above the upper bound (else below the lower one)
        # Last resort: only the violated bound moves, to the mean give or take the largest atom.
        relaxed = dataclasses.replace(
            band,
            lo=band.lo if high else max(0, math.floor(mean) - largest),
            hi=math.ceil(mean) + largest if high else band.hi,
            target=round(mean),
        )
        side = "plus" if high else "less"
        how = f"the mean {side} its largest atom of {largest:,} {what}, as atoms are indivisible"
        found = None if fits is None else _narrowest(band, mean, high, k, largest, fits)
        if found is not None:
            relaxed, slack = found
            kept = " (the bound it meets kept)" if relaxed.hi - relaxed.lo < 2 * slack else ""
            how = (
                f"the mean, {_amount(mean)}, give or take {counted(slack, what.removesuffix('s'))}"
                f"{kept}: the narrowest band tried that its atoms allow"
            )
        other = k + 1 if high else k - 1
        misses = [_miss(total, n, band) for n in (k, other) if n >= 1]
        why = (
            f"{total:,} {what} cannot be divided into units of {band.lo:,}-{band.hi:,} ("
            + "; ".join(misses)
            + (
                f"): it forms 1 unit of {mean:,.0f}"
                if k == 1
                else f"): it is split into {counted(k)} of about {mean:,.0f}"
            )
            + f" {what}, the band for this part set to "
            f"{relaxed.lo:,}-{relaxed.hi:,} ({how})"
        )
    else:
        why = f"it is split into {k} units with the lower bound dropped"
    return with_band(problem, relaxed), range(k, k + 1), why


def _narrowest(
    band: Band, mean: float, high: bool, k: int, largest: int, fits: Callable[[Band, int], bool]
) -> tuple[Band, int] | None:
    """The narrowest band around ``mean`` tried in which ``fits`` splits the part into ``k`` units.

    The slack (households either side of the mean) is a quarter of the largest
    atom, else half of it; from the first that fits it is halved while the
    narrower band fits, down to 1 household (never to a slack below one that
    failed). A failed try costs the most (all the constructor's spanning trees):
    this order fails once at most when some slack fits, twice when none does.
    Returns the band and its slack, or None when neither starting slack fits.
    """

    def around(slack: int) -> Band:
        lo, hi = max(0, math.floor(mean - slack)), math.ceil(mean + slack)
        return dataclasses.replace(
            band,
            lo=max(band.lo, lo) if high else lo,
            hi=hi if high else min(band.hi, hi),
            target=round(mean),
        )

    failed = 0  # the widest slack that did not fit: narrower ones are not tried
    for slack in dict.fromkeys(max(1, round(share * largest)) for share in (0.25, 0.5)):
        if fits(around(slack), k):
            break
        failed = slack
    else:
        return None
    while slack // 2 > failed and fits(around(slack // 2), k):
        slack //= 2
    return around(slack), slack


def choose_units(first: int, last: int) -> str:
    """Advice to choose a number of units from ``first`` to ``last`` ("choose 5 units" for one)."""
    return f"choose {counted(first)}" if first == last else f"choose a number of units in {first}..{last}"


def _miss(total: int, units: int, band: Band) -> str:
    """How far ``units`` units of ``total`` would be from the band, in households (or residents)."""
    mean = total / units
    above = mean > band.hi
    gap = mean - band.hi if above else band.lo - mean
    verb = "hold" if units == 1 else "average"
    side = f"above the upper bound {band.hi:,}" if above else f"below the lower bound {band.lo:,}"
    return f"{counted(units)} would {verb} {_amount(mean)} {band.counts}, {_amount(gap)} {side}"


def _amount(x: float) -> str:
    """A count as a whole number when it is one, else to one decimal (2,539.5)."""
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def with_band(problem: Problem, band: Band) -> Problem:
    """Same problem with another band, sharing band-independent caches."""
    keep = {k: v for k, v in problem._cache.items() if k in ("dist", "weight", "cost", "adj", "comps")}
    return dataclasses.replace(problem, band=band, _cache=keep)
