"""A plan too large for the machine's memory is refused before the optimiser starts."""

from __future__ import annotations

import pytest

from redistrict.errors import InputError
from redistrict.pipeline import BYTES_PER_ATOM_PAIR, check_memory
from redistrict.problem import Problem


def _row(n: int, parts: int = 1) -> Problem:
    """``n`` atoms of 100 households in ``parts`` separate rows."""
    xy = [(100.0 * i, 0.0) for i in range(n)]
    size = n // parts
    edges = [(i, i + 1) for i in range(n - 1) if (i + 1) % size]
    return Problem.from_arrays([100] * n, xy, edges)


def test_small_problem_passes_silently() -> None:
    assert check_memory(_row(50), physical=8 * 1024**3) == []


def test_largest_component_beyond_memory_is_refused() -> None:
    need = BYTES_PER_ATOM_PAIR * 600**2
    with pytest.raises(InputError, match=r"largest connected part of the area has 600 atoms") as info:
        check_memory(_row(600), physical=need - 1)
    assert "redistrict city" in str(info.value) and "--where" in str(info.value)
    # The same atoms in three parts need a ninth of the memory.
    assert check_memory(_row(600, parts=3), physical=need // 8) == []


def test_large_component_gets_a_note() -> None:
    (note,) = check_memory(_row(4500), physical=64 * 1024**3)
    assert "4,500 atoms" in note and "2.1 GB" in note
    assert "may overrun --time-limit while it builds the distance tables" in note
