"""A component whose households fall in a gap of the band gets balanced units."""

from __future__ import annotations

import pytest

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
