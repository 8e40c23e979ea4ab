"""Counted nouns for messages: ``1 unit``, ``2 units``."""

from __future__ import annotations

__all__ = ["counted"]


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
