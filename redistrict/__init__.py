"""redistrict: redraw communities into road-bounded units of a planned size.

The pipeline reads like the package: :mod:`~redistrict.load` -> :mod:`~redistrict.atoms`
-> :mod:`~redistrict.graph` -> :mod:`~redistrict.problem` / :mod:`~redistrict.model` /
:mod:`~redistrict.solve` -> :mod:`~redistrict.evaluate` -> :mod:`~redistrict.maps` /
:mod:`~redistrict.report` -> :mod:`~redistrict.cli`.
"""

from __future__ import annotations

import os as _os
import signal as _signal

if _os.environ.get("REDISTRICT_DASK_WORKER") == "1":
    # A worker process of `redistrict city`'s local cluster (redistrict._city_solve): Ctrl-C at
    # a terminal reaches it too, and its main process handles it and stops the workers. Ignored
    # before the imports below, a Ctrl-C during start-up no longer prints the worker's traceback.
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)

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
