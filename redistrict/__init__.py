"""redistrict: redraw communities into road-bounded units of a planned size.

The pipeline reads like the package: :mod:`~redistrict.load` -> :mod:`~redistrict.atoms`
-> :mod:`~redistrict.graph` -> :mod:`~redistrict.problem` / :mod:`~redistrict.model` /
:mod:`~redistrict.solve` -> :mod:`~redistrict.evaluate` -> :mod:`~redistrict.maps` /
:mod:`~redistrict.report` -> :mod:`~redistrict.cli`.
"""

from __future__ import annotations

from redistrict.errors import InfeasibleError, InputError, RedistrictError, SolverError
from redistrict.problem import Band, Problem, Weights
from redistrict.solve import Solution, solve

__all__ = [
    "Band",
    "InfeasibleError",
    "InputError",
    "Problem",
    "RedistrictError",
    "Solution",
    "SolverError",
    "Weights",
    "__version__",
    "solve",
]

__version__ = "0.1.0"
