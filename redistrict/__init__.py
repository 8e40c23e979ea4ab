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

import importlib as _importlib
import importlib.util as _importlib_util
import sys as _sys
import types as _types
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from redistrict.errors import InfeasibleError, InputError, RedistrictError, SolverError

if _TYPE_CHECKING:
    from redistrict.problem import Band, Problem, Weights
    from redistrict.solve import Solution, solve

#: Loaded on first use (PEP 562), so that ``import redistrict`` is quick: the command's
#: entry point (:mod:`redistrict._main`) can then end quietly on Ctrl-C while the rest loads.
_LAZY = {
    "Band": "redistrict.problem",
    "Problem": "redistrict.problem",
    "Weights": "redistrict.problem",
    "Solution": "redistrict.solve",
    "solve": "redistrict.solve",
}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(_importlib.import_module(module), name)
        globals()[name] = value
        return value
    # A submodule, as ``redistrict.problem`` was once the eager imports had loaded it.
    if not name.startswith("_") and _importlib_util.find_spec(f"{__name__}.{name}") is not None:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'redistrict' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(_types.ModuleType):
    """The package, whose ``solve`` is the function, not the submodule of that name.

    Importing a submodule binds it on its package: ``redistrict.solve`` would become the
    module ``redistrict.solve`` once anything imported it. An eager ``from redistrict.solve
    import solve`` used to bind the function over it; loaded lazily, the function must be
    kept by refusing the submodule here (it stays in ``sys.modules``).
    """

    def __setattr__(self, name: str, value: _Any) -> None:
        if name in _LAZY and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


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
