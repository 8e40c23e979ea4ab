"""A component whose households fall in a gap of the band gets balanced units."""

from __future__ import annotations

import pytest

from redistrict.errors import InputError
from redistrict.problem import Band, Problem
from redistrict.solve import solve


def _row(n: int, households: int, band: Band) -> Problem:
    """``n`` atoms of ``households`` each in a row, 100 m apart."""
    xy = [(100.0 * i, 0.0) for i in range(n)]
    edges = [(i, i + 1) for i in range(n - 1)]
    return Problem.from_arrays([households] * n, xy, edges, band=band)


@pytest.mark.parametrize(
    ("band", "sizes", "fragment"),
    [
        # 5,000 households: 2 units are 4.2 % above 2,400, 3 units 16.7 % below 2,000.
        (Band(2000, 2400), [2500, 2500], "2 units would be 4.2 % above the upper bound"),
        # 2 units are 3.8 % below 2,600, 1 unit 66.7 % above 3,000.
        (Band(2600, 3000), [2500, 2500], "2 units would be 3.8 % below the lower bound"),
    ],
)
def test_gap_of_the_band_gives_balanced_units(band: Band, sizes: list[int], fragment: str) -> None:
    p = _row(10, 500, band)
    assert len(band.unit_counts(p.total)) == 0
    sol = solve(p, time_limit=5.0, budget="work", seed=0)
    got = sorted(int(p.households[(sol.labels == u).to_numpy()].sum()) for u in sol.labels.unique())
    assert got == sizes
    assert sum(got) == p.total
    assert any(fragment in note and "of about 2,500 households" in note for note in sol.notes), sol.notes
    # The note gives the band used: the mean give or take a quarter of the largest atom of 500.
    relaxed = "band for this part set to 2,375-2,625 (the mean give or take 125 households"
    assert any(relaxed in note for note in sol.notes), sol.notes


def test_a_part_just_above_the_band_forms_one_unit() -> None:
    # 3,400 households: 1 unit is 13.3 % above 3,000, 2 units 15 % below 2,000.
    p = _row(17, 200, Band(2000, 3000))
    sol = solve(p, time_limit=5.0, budget="work", seed=0)
    assert sol.labels.nunique() == 1
    note = next(note for note in sol.notes if "cannot be divided" in note)
    assert "3,400 households cannot be divided into units of 2,000-3,000 (1 unit would be 13.3 % above" in (
        note
    )
    assert "it forms 1 unit of 3,400 households" in note and "split" not in note


def test_a_large_atom_does_not_unbalance_the_units() -> None:
    # 3,900 households with one atom of 1,200, 3 km from the others: 2 units of about 1,950,
    # below the band. Moving the lower bound down by the largest atom (to 750) let the far
    # atom stay a unit alone (1,200 against 2,700); the band is now the mean give or take a
    # quarter of that atom.
    households = [1200] + [90] * 30
    xy = [(-3000.0, 0.0)] + [(100.0 * i, 0.0) for i in range(1, len(households))]
    edges = [(i, i + 1) for i in range(len(households) - 1)]
    p = Problem.from_arrays(households, xy, edges, band=Band(2000, 3000))
    sol = solve(p, time_limit=5.0, budget="work", seed=0)
    got = sorted(int(p.households[(sol.labels == u).to_numpy()].sum()) for u in sol.labels.unique())
    assert len(got) == 2 and sum(got) == 3900
    assert all(1650 <= g <= 2250 for g in got), got
    assert any("set to 1,650-2,250" in note for note in sol.notes), sol.notes


def test_a_band_in_residents_is_named_so_in_the_notes() -> None:
    # The optimiser counts residents when the band is in residents: notes must not call them households.
    p = _row(10, 500, Band(2000, 2400, counts="residents"))
    sol = solve(p, time_limit=5.0, budget="work", seed=0)
    relaxed = [note for note in sol.notes if "cannot be divided" in note]
    assert relaxed, sol.notes
    assert "5,000 residents cannot be divided" in relaxed[0] and "households" not in relaxed[0]
    assert sol.components["households"].sum() == 5000  # the column keeps its name


def test_band_counts_are_checked() -> None:
    with pytest.raises(InputError, match="use 'households' or 'residents'"):
        Band(2000, 3000, counts="people")
