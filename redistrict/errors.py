"""Public exception hierarchy of redistrict.

Every error a planner can trigger through bad input or an impossible request is a
:class:`RedistrictError`. Validators collect *all* problems they find and raise one
exception whose message lists each of them with a hint on how to fix the input.

An error may also carry the *notes* gathered before it was raised (a reprojection,
blocks lying near a pole ...): they are not problems, but often explain one, e.g. x and
y swapped in the blocks is why no road reaches them. They are kept apart from the
message in :attr:`RedistrictError.notes`; the command line prints them as ``note:``
lines after the error, and as ``warning:`` lines those of them that are warnings
(:attr:`RedistrictError.warnings`: inputs that are probably wrong).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "InfeasibleError",
    "InputError",
    "RedistrictError",
    "SolverError",
]


class RedistrictError(Exception):
    """Base class of every error raised on purpose by redistrict.

    Parameters
    ----------
    problems : str or iterable of str
        One line per problem found. Each line names the file, layer, column or
        feature concerned and says how to fix it.
    notes : iterable of str, optional
        Notes gathered before the error (what was converted, repaired or dropped,
        and hints such as "swap the axes"), which may explain the problems. They are
        not part of the message (``str(error)``).

    Attributes
    ----------
    problems : list of str
        The problems, in order; never empty.
    notes : list of str
        The notes, in order, without repeats.

    """

    #: Short title printed before the list of problems.
    title = "redistrict cannot continue"
    #: Process exit code used by the command line for this kind of error.
    exit_code = 1

    def __init__(self, problems: str | Iterable[str], *, notes: Iterable[str] = ()) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: list[str] = [str(p) for p in problems]
        if not self.problems:
            self.problems = ["unspecified problem"]
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.add_notes(notes)
        super().__init__(self._format())

    def add_notes(self, notes: Iterable[str], *, warnings: Iterable[str] = ()) -> None:
        """Add notes gathered before the error, skipping those it already holds.

        Parameters
        ----------
        notes : iterable of str
            Notes to append, in order.
        warnings : iterable of str, optional
            Those of ``notes`` that are warnings (kept in :attr:`warnings` too).

        """
        flagged = {str(w) for w in warnings}
        for note in notes:
            if str(note) not in self.notes:
                self.notes.append(str(note))
            if str(note) in flagged and str(note) not in self.warnings:
                self.warnings.append(str(note))

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuild from the problems (not from the formatted message, which would repeat the
        # title) and restore the notes: errors cross process boundaries in `city`'s workers.
        return (type(self), (list(self.problems),), dict(self.__dict__))

    def _format(self) -> str:
        if len(self.problems) == 1:
            return f"{self.title}: {self.problems[0]}"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"{self.title} ({len(self.problems)} problems):\n{lines}"


class InputError(RedistrictError):
    """The input data or the options are invalid (exit code 2)."""

    title = "invalid input"
    exit_code = 2


class InfeasibleError(RedistrictError):
    """No plan in the band was found where one was required (exit code 3).

    Raised by :func:`redistrict.pipeline.require_in_band` (the ``--strict``
    option) when some unit would be outside the band; the message lists each
    such unit, the solver's explanation of why, and how to get a plan.
    """

    title = "no plan with every unit in the band was found"
    exit_code = 3


class SolverError(RedistrictError):
    """The solver is missing, crashed, or found no plan in time (exit code 4)."""

    title = "solver failure"
    exit_code = 4
