"""Values no real input holds: refused with one clear message, never a traceback.

Each case used to end in a Python traceback from deep inside a library, or in a plan
built on nonsense (the block identifier taken for households gave 2.7 trillion
households and 83 empty units). The inputs are the 3 x 3 grid of
``tests/test_cli_errors.py`` with one value broken.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pyproj
import pytest
import shapely
from shapely.geometry import Polygon
from test_cli_errors import CRS, _blocks, _fails, _plan

from redistrict._validate_columns import MAX_BLOCK_HOUSEHOLDS


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (("--seed", "-1"), ["--seed must be a whole number from 0 to 2**63 - 1, not -1"]),
        (
            ("--band", "2000", "99999999999999999999"),
            ["band upper bound 99,999,999,999,999,999,999 is more than 100,000,000 households"],
        ),
        (
            ("--seed", "-3", "--time-limit", "0"),
            ["--time-limit must be a positive number of seconds, not 0", "not -3"],
        ),
    ],
    ids=["negative-seed", "huge-band", "seed-and-time"],
)
def test_options_no_run_can_use_are_refused(
    tmp_path: Path, extra: tuple[str, ...], fragments: list[str]
) -> None:
    _fails(_plan(tmp_path, *extra), 2, *fragments)


def test_a_scenario_band_beyond_any_unit_is_refused(tmp_path: Path) -> None:
    scenario = tmp_path / "huge.toml"
    scenario.write_text("[band]\nlo = 2000\nhi = 99999999999999999999\n", encoding="utf-8")
    _fails(_plan(tmp_path, "--scenario", str(scenario)), 2, "is more than 100,000,000 households")


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e300])
def test_a_vertex_that_no_crs_can_place_is_refused(tmp_path: Path, value: float) -> None:
    blocks = _blocks()
    ring = list(blocks.geometry.iloc[4].exterior.coords)
    ring.insert(2, (value, ring[1][1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapely on building a NaN vertex
        blocks.loc[4, "geometry"] = Polygon(ring)
    message = _fails(
        _plan(tmp_path, blocks=blocks),
        2,
        "blocks (",
        "1 row (row id 4, counting from 0) with coordinates that are not finite numbers (inf, NaN)",
    )
    assert "must hold" not in message and "outside what that CRS" not in message


def test_household_counts_beyond_any_block_are_refused(tmp_path: Path) -> None:
    # The block identifier (11 digits) given as households, and 2**62 (whose sum overflows int64).
    ids = [35060348001 + i for i in range(9)]
    message = _fails(
        _plan(tmp_path, blocks=_blocks(None, DBUID=ids), households="DBUID"),
        2,
        f"column 'DBUID' holds more than {MAX_BLOCK_HOUSEHOLDS:,} households in 9 rows",
        "if 'DBUID' is an identifier or a code, choose the household-count column with --households",
    )
    assert "fewer than the band" not in message
    _fails(_plan(tmp_path, blocks=_blocks([2**62] * 2 + [500] * 7)), 2, "4611686018427387904")


def test_a_thousands_dot_gets_a_hint_before_rounding(tmp_path: Path) -> None:
    blocks = _blocks([str(v) for v in ["1.234", *["500"] * 8]])
    _fails(_plan(tmp_path, blocks=blocks), 2, "(if '.' separates thousands there, as in 1.234, remove it)")


def test_a_repeated_column_name_is_refused(tmp_path: Path) -> None:
    blocks = _blocks()
    rows = [f"{hh},{hh},{shapely.to_wkt(g)!r}" for hh, g in zip(blocks["hh"], blocks.geometry, strict=True)]
    path = tmp_path / "blocks.csv"
    path.write_text("\n".join(["hh,hh,WKT", *(r.replace("'", '"') for r in rows)]) + "\n", encoding="utf-8")
    (tmp_path / "blocks.prj").write_text(pyproj.CRS(CRS).to_wkt("WKT1_ESRI"), encoding="utf-8")
    _fails(_plan(tmp_path, blocks=str(path)), 2, "column hh appears more than once")


def test_a_true_false_column_gets_one_problem_not_two(tmp_path: Path) -> None:
    blocks = _blocks(None, flag=[True, False] * 4 + [True])
    message = _fails(
        _plan(tmp_path, blocks=blocks, households="flag"), 2, "holds True/False values, not numbers"
    )
    assert "is 0 in every row" not in message
