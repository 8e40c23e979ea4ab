"""Words for messages: counted nouns (``1 unit``), lists (``A, B and C``, ``a, b and 3 more``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["counted", "joined", "listed", "quoted"]


def counted(n: int, noun: str = "unit") -> str:
    """``n`` followed by ``noun``, in the plural unless ``n`` is one.

    Parameters
    ----------
    n : int
        How many.
    noun : str, default "unit"
        Singular noun; the plural adds an ``s``.

    Returns
    -------
    str
        For example ``"1 unit"`` or ``"3 units"``.
    """
    return f"{n} {noun}{'' if n == 1 else 's'}"


def joined(parts: Sequence[str]) -> str:
    """``"A"``, ``"A and B"``, ``"A, B and C"`` (``""`` for no parts).

    Parameters
    ----------
    parts : sequence of str
        The items, in order.

    Returns
    -------
    str
    """
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def quoted(values: Iterable[Any]) -> str:
    """Feature labels for a message: the first 10, each quoted, then how many more.

    Parameters
    ----------
    values : iterable
        The labels (as :func:`listed` takes them).

    Returns
    -------
    str
        ``"'a', 'b' and 3 more"``.
    """
    return listed(values, quote=True)


def listed(values: Iterable[Any], *, limit: int = 10, quote: bool = False, sep: str = ", ") -> str:
    """The first ``limit`` values, then how many more: ``"4, 9, 17 and 3 more"``.

    Parameters
    ----------
    values : iterable
        The values (a list, a pandas Index or a NumPy array: NumPy scalars are shown as
        plain numbers).
    limit : int, default 10
        How many are shown.
    quote : bool, default False
        Show each with ``repr`` (``'a'``, ``3``) rather than ``str``.
    sep : str, default ", "
        Between two values shown (``"; "`` for values that hold commas).

    Returns
    -------
    str
    """
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    shown = sep.join(repr(v) if quote else str(v) for v in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
