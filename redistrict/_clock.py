"""Clocks for the search's deadlines: wall-clock time or counted work.

Every phase of :func:`redistrict.solve.solve` stops at a deadline. With a
:class:`WallClock` the deadline is in seconds of real time, so a search cut by
its time limit depends on the machine's speed and load. A :class:`WorkClock`
advances only by the work the search charges to it, counted in operations that
do not depend on the machine (subgradient iterations times the region's size,
boundary moves evaluated, simplex iterations and branch-and-bound nodes the MIP
solver reports), each converted to *reference seconds* (the time it took on the
2-core machine the constants were measured on). The same inputs, seed and
budget then give the same plan on any machine and under any load; the budget
still means roughly "this many seconds" on that reference machine.
"""

from __future__ import annotations

import time

from redistrict._words import counted

__all__ = ["Clock", "WallClock", "WorkClock", "is_overrun_note", "make_clock", "overrun_note"]

#: What every note on runs stopped by the safety limit says (:func:`overrun_note`).
_OVERRUN = "hit the wall-clock safety limit of the work budget"

# Rates measured on the reference machine (2 cores) with process CPU time, from
# Ottawa Centretown, the three Ottawa neighbourhoods and the demo (see the
# benchmarks README); a charged second is within about 2x of a real one there.
#: Reference seconds per (centre x item) cell of one Lagrangian iteration (items: a centre's
#: candidate atoms, its pool and the near atoms scanned for the pool's cost).
LAGRANGIAN_CELL = 1.2e-7
#: Reference seconds per (centre x item x prefix) cell of Lagrangian variable fixing
#: (measured: 0.15 s for the 12.9 million cells of Centretown).
FIXING_CELL = 1.5e-8
#: Reference seconds per candidate boundary move evaluated.
BOUNDARY_MOVE = 7.0e-5
#: Reference seconds per model column of one MIP solver run (presolve, root set-up).
RUN_COLUMN = 3.0e-4
#: Reference seconds per simplex iteration and model column (MIP solver runs).
SIMPLEX_COLUMN = 1.5e-7
#: Reference seconds per branch-and-bound node and model column.
NODE_COLUMN = 1.5e-5
#: Reference seconds per column of a transportation LP solved by SciPy's HiGHS.
LP_COLUMN = 5.0e-6
#: Reference seconds per model column to build a PuLP model.
BUILD_COLUMN = 4.0e-5
#: Reference seconds per atom of a region for one spanning tree of the constructor.
TREE_ATOM = 4.0e-6


class Clock:
    """Base clock: ``now()`` in seconds, ``charge()`` for counted work."""

    #: Whether the clock ignores the machine's speed.
    deterministic = False
    #: Solver runs stopped by their wall-clock safety limit (see :meth:`solver_ran`).
    overruns = 0

    def now(self) -> float:
        """Current time of the clock in (reference) seconds."""
        raise NotImplementedError

    def charge(self, seconds: float) -> None:
        """Record work worth ``seconds`` reference seconds (no-op on a wall clock)."""

    def solver_limit(self, remaining: float) -> float:
        """Wall-clock limit to give a MIP solver run that may use ``remaining`` seconds.

        A wall clock passes the remaining time on. A work clock relies on the
        node limits of the solver calls and gives a generous safety limit that
        only stops a runaway run (and is then reported as such by the caller).
        """
        return remaining

    def solver_ran(self, seconds: float, limit: float) -> None:
        """Record a solver run of ``seconds`` given the wall-clock ``limit``.

        On a wall clock, stopping at the limit is the plan; a work clock counts
        the runs its safety limit stopped, whose results may vary by machine.
        """


class WallClock(Clock):
    """Real time (:func:`time.perf_counter`)."""

    def now(self) -> float:
        """Seconds of :func:`time.perf_counter`."""
        return time.perf_counter()


class WorkClock(Clock):
    """Counted work in reference seconds: deterministic across machines and loads.

    Parameters
    ----------
    safety : float
        Factor on the remaining budget (at least 10 s) given to a MIP solver
        run as its wall-clock safety limit.
    """

    deterministic = True

    def __init__(self, safety: float = 4.0) -> None:
        self._t = 0.0
        self._safety = safety
        self.overruns = 0

    def now(self) -> float:
        """Reference seconds of work charged so far."""
        return self._t

    def charge(self, seconds: float) -> None:
        """Add ``seconds`` of work."""
        self._t += max(0.0, float(seconds))

    def solver_limit(self, remaining: float) -> float:
        """A safety limit far above the remaining budget."""
        return max(10.0, self._safety * max(remaining, 0.0))

    def solver_ran(self, seconds: float, limit: float) -> None:
        """Count the run if the safety limit stopped it."""
        if seconds >= limit:
            self.overruns += 1


def make_clock(budget: str) -> Clock:
    """The clock for a budget kind: ``"time"`` (wall clock) or ``"work"`` (counted work).

    Parameters
    ----------
    budget : {"time", "work"}
        Kind of budget.

    Returns
    -------
    Clock
    """
    if budget == "time":
        return WallClock()
    if budget == "work":
        return WorkClock()
    raise ValueError(f"unknown budget {budget!r}: use 'time' or 'work'")


def overrun_note(runs: int, where: str = "") -> str:
    """The note on solver runs a :class:`WorkClock`'s safety limit stopped.

    Parameters
    ----------
    runs : int
        How many runs (or subproblems, with ``where``) it stopped.
    where : str, optional
        Which subproblems, when the note sums up several: they are then counted
        instead of runs.
    """
    if where:
        return (
            f"{counted(runs, 'subproblem')} ({where}): a solver run {_OVERRUN}: "
            f"{'its' if runs == 1 else 'their'} plans may differ on another machine"
        )
    return f"{counted(runs, 'solver run')} {_OVERRUN}: this plan may differ on another machine"


def is_overrun_note(note: str) -> bool:
    """Whether ``note`` is an :func:`overrun_note` (about reproducibility, not the plan's validity)."""
    return _OVERRUN in note
