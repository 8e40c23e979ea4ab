"""Public exception hierarchy of redistrict.

Every error a planner can trigger through bad input or an impossible request is a
:class:`RedistrictError`. Validators collect *all* problems they find and raise one
exception whose message lists each of them with a hint on how to fix the input.
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
    problems : iterable of str
        One line per problem found. Each line names the file, layer, column or
        feature concerned and says how to fix it.
    """

    #: Short title printed before the list of problems.
    title = "redistrict cannot continue"
    #: Process exit code used by the command line for this kind of error.
    exit_code = 1

    def __init__(self, problems: str | Iterable[str]) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: list[str] = [str(p) for p in problems]
        if not self.problems:
            self.problems = ["unspecified problem"]
        super().__init__(self._format())

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

    title = "no valid plan exists"
    exit_code = 3


class SolverError(RedistrictError):
    """The solver is missing, crashed, or found no plan in time (exit code 4)."""

    title = "solver failure"
    exit_code = 4
