"""Checks of the plain arrays a :class:`~redistrict.problem.Problem` is built from.

:meth:`Problem.from_arrays` is the entry point of the optimiser for callers without
geometry (a hand-made graph, another tool's atoms). Arrays of the wrong shape used
to be reshaped silently into another problem (``xy`` given as ``(2, n)``), fractional
edge ends truncated, and NaN coordinates to give an "optimal" plan of infinite
cost. Every problem is now collected into one :class:`~redistrict.errors.InputError`
that names the argument and says what it must hold.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from redistrict.errors import InputError

__all__ = ["ProblemArrays", "check_arrays", "is_number"]

#: Most households one atom may hold (far above any community; larger values would
#: lose whole households in floating-point sums).
MAX_ATOM_HOUSEHOLDS = 10**12


@dataclass(frozen=True)
class ProblemArrays:
    """The arrays of a problem, checked (edges as given: self-loops and repeats kept)."""

    households: npt.NDArray[np.int64]
    xy: npt.NDArray[np.float64]
    edges: npt.NDArray[np.int64]
    edge_major: npt.NDArray[np.float64] | None
    edge_length: npt.NDArray[np.float64] | None
    community: npt.NDArray[np.int64] | None
    area: npt.NDArray[np.float64] | None
    nodes: tuple[Hashable, ...]


def _numeric(name: str, values: npt.ArrayLike, problems: list[str]) -> npt.NDArray[np.float64] | None:
    """``values`` as float64, or None with a problem when they are not numbers."""
    try:
        array = np.asarray(values)
    except Exception:
        array = np.asarray(values, dtype=object)
    if array.dtype == object and array.ndim == 1:
        bad = np.array([not is_number(v) for v in array], dtype=bool)
        if not bad.any():  # plain numbers of several Python types
            return np.asarray(array, dtype=np.float64)
        first = array[int(np.flatnonzero(bad)[0])]
        which = f"positions {_where(bad)} do" if bad.sum() > 1 else f"position {_where(bad)} does"
        problems.append(f"{name} must hold numbers; {which} not (e.g. {first!r})")
        return None
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.number) or array.size == 0):
        problems.append(f"{name} must hold numbers, not {array.dtype} values")
        return None
    return np.asarray(array, dtype=np.float64)


def is_number(value: object) -> bool:
    """Whether ``value`` is a real number (NumPy scalars too), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _length(values: npt.ArrayLike) -> int | None:
    """Number of entries of a 1-D sequence, whatever they hold (None when not 1-D)."""
    try:
        shape = np.shape(np.asarray(values, dtype=object))
    except Exception:
        return None
    return int(shape[0]) if len(shape) == 1 else None


def _vector(
    name: str, values: npt.ArrayLike | None, size: int, per: str, problems: list[str], *, non_negative: bool
) -> npt.NDArray[np.float64] | None:
    """A finite number per atom or edge (``per``), or None (with a problem when given wrongly)."""
    if values is None:
        return None
    array = _numeric(name, values, problems)
    if array is None:
        return None
    if array.shape != (size,):
        problems.append(f"{name} must hold one value per {per} ({size}), not shape {array.shape}")
        return None
    bad = ~np.isfinite(array) | ((array < 0) if non_negative else False)
    if bad.any():
        what = "finite and non-negative" if non_negative else "finite (not NaN or inf)"
        problems.append(f"{name} must be {what}; positions {_where(bad)} are not")
        return None
    return array


def _where(mask: npt.NDArray[np.bool_], limit: int = 5) -> str:
    """The first positions where ``mask`` holds, as text."""
    found = np.flatnonzero(mask).tolist()
    text = ", ".join(str(i) for i in found[:limit])
    return text + (", ..." if len(found) > limit else "")


def check_arrays(
    households: Sequence[int] | npt.ArrayLike,
    xy: npt.ArrayLike,
    edges: npt.ArrayLike,
    *,
    nodes: Sequence[Hashable] | None = None,
    edge_major: npt.ArrayLike | None = None,
    edge_length: npt.ArrayLike | None = None,
    community: npt.ArrayLike | None = None,
    area: npt.ArrayLike | None = None,
) -> ProblemArrays:
    """Check the arguments of :meth:`Problem.from_arrays`; see there for their meaning.

    Returns
    -------
    ProblemArrays
        The arrays in their working types.

    Raises
    ------
    InputError
        Listing every problem: wrong shapes or lengths (nothing is reshaped),
        values that are not numbers or not finite, negative or fractional
        households, fractional or out-of-range edge ends, negative areas or
        lengths, repeated node labels.
    """
    problems: list[str] = []
    raw = _numeric("households", households, problems)
    h = np.zeros(0, dtype=np.int64)
    if raw is not None:
        if raw.ndim != 1:
            problems.append(f"households must be one number per atom (1-D), not shape {raw.shape}")
        elif not (
            np.isfinite(raw) & (raw >= 0) & (raw == np.round(raw)) & (raw <= MAX_ATOM_HOUSEHOLDS)
        ).all():
            problems.append(
                f"households must be non-negative whole numbers up to {MAX_ATOM_HOUSEHOLDS:.0e}, one per atom"
            )
        else:
            h = raw.astype(np.int64)
    # Without usable households the atom count is their length, when they have one; checks
    # that need the count are skipped when it is unknown rather than reported against 0.
    known = _length(households) if raw is None or raw.ndim != 1 else len(raw)
    n = known or 0

    pts = _numeric("xy", xy, problems)
    if pts is not None:
        if known is None and pts.ndim == 2 and pts.shape[1] == 2:
            n = len(pts)  # the households tell nothing: the coordinates give the count
        if pts.shape != (n, 2):
            problems.append(f"xy must have shape ({n}, 2), one (x, y) per atom, not {pts.shape}")
            pts = None
        elif not np.isfinite(pts).all():
            bad = np.asarray(~np.isfinite(pts).all(axis=1), dtype=bool)
            problems.append(f"xy holds coordinates that are not finite at atoms {_where(bad)}")
            pts = None

    e = _numeric("edges", edges, problems)
    m = 0
    if e is not None:
        if e.size == 0:
            e = np.zeros((0, 2))
        if e.ndim != 2 or e.shape[1] != 2:
            problems.append(
                f"edges must have shape (m, 2), one pair of atom positions per edge, not {e.shape}"
            )
            e = None
        elif not (np.isfinite(e) & (e == np.round(e))).all():
            problems.append("edges must hold whole atom positions (0..n-1), not fractions or NaN")
            e = None
        elif len(e) and (e.min() < 0 or e.max() >= n):
            problems.append(f"edges refer to atoms that do not exist (positions must lie in 0..{n - 1})")
            e = None
        else:
            m = len(e)

    major = (
        _vector("edge_major", edge_major, m, "edge", problems, non_negative=True) if e is not None else None
    )
    if major is not None and (major > 1 + 1e-9).any():
        problems.append(
            f"edge_major is a share of each boundary (0..1); positions {_where(major > 1 + 1e-9)} exceed 1"
        )
    length = (
        _vector("edge_length", edge_length, m, "edge", problems, non_negative=True) if e is not None else None
    )
    ar = _vector("area", area, n, "atom", problems, non_negative=True)
    comm = _vector("community", community, n, "atom", problems, non_negative=False)
    if comm is not None and (comm != np.round(comm)).any():
        problems.append("community must hold whole community codes (-1 for none)")
    labels: tuple[Hashable, ...] = tuple(range(n)) if nodes is None else tuple(nodes)
    if len(labels) != n:
        problems.append(f"nodes must hold one label per atom ({n}), not {len(labels)}")
    elif len(set(labels)) != n:
        problems.append("nodes must be distinct labels: some repeat")
    if problems:
        raise InputError(problems)
    assert pts is not None and e is not None
    return ProblemArrays(
        households=h,
        xy=pts,
        edges=e.astype(np.int64),
        edge_major=major,
        edge_length=length,
        community=None if comm is None else comm.astype(np.int64),
        area=ar,
        nodes=labels,
    )
