"""Words for messages: counted nouns (``1 unit``, ``2 units``) and lists (``A, B and C``)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["counted", "joined"]


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
