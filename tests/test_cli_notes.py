"""What the command line tells besides the plan: notes and warnings, also when a run fails.

* A failed run prints its error, then the notes gathered until then (``note:`` lines),
  since they may explain it: blocks whose x and y are swapped lie near a pole, which is
  why no road reaches them.
* ``compare`` prints the notes on the inputs once and each scenario's notes and
  warnings (units outside its band) prefixed by its name.
* ``city`` prints its note on communities planned together as a ``note:``, a
  ``warning:`` only when some unit is outside the band.
* ``--band`` with one number says that it takes two.
* ``--help`` shows flags without a value and ``--barriers`` as one FILE[:LAYER] per option.

The inputs are the 3 x 3 street grid of ``test_cli_errors``: 300 m blocks of 500
households each (4,500 in all, two units of the default band 2,000-3,000).
"""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, box
from typer.testing import CliRunner, Result

from redistrict.cli import app
from redistrict.errors import InfeasibleError, InputError, RedistrictError
from redistrict.load import load_inputs

CRS = "EPSG:32189"  # NAD83 / MTM zone 9 (Ottawa), metres
X0, Y0 = 367_000.0, 5_030_000.0
CELL = 300.0
RUNNER = CliRunner()


# --------------------------------------------------------------------------- inputs


def _blocks(crs: str | int = CRS, *, swapped: bool = False) -> gpd.GeoDataFrame:
    """Nine 300 m blocks of 500 households; in ``crs``, with x and y swapped if asked."""
    squares = [
        box(X0 + i * CELL, Y0 + j * CELL, X0 + (i + 1) * CELL, Y0 + (j + 1) * CELL)
        for j in range(3)
        for i in range(3)
    ]
    frame = gpd.GeoDataFrame({"hh": [500] * 9}, geometry=squares, crs=CRS).to_crs(crs)
    if swapped:
        frame["geometry"] = shapely.transform(frame.geometry.to_numpy(), lambda xy: xy[:, ::-1])
    return frame


def _roads() -> gpd.GeoDataFrame:
    span = 3 * CELL
    lines = [LineString([(X0 + k * CELL, Y0), (X0 + k * CELL, Y0 + span)]) for k in range(4)]
    lines += [LineString([(X0, Y0 + k * CELL), (X0 + span, Y0 + k * CELL)]) for k in range(4)]
    return gpd.GeoDataFrame({"highway": ["residential"] * 8}, geometry=lines, crs=CRS)


def _write(frame: gpd.GeoDataFrame, path: Path) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(frame, path)
    return str(path)


def _inputs(tmp_path: Path, blocks: gpd.GeoDataFrame | None = None) -> list[str]:
    """The input options of ``plan``, ``compare`` and ``city`` for the grid."""
    b = _write(_blocks() if blocks is None else blocks, tmp_path / "blocks.gpkg")
    r = _write(_roads(), tmp_path / "roads.gpkg")
    return ["--roads", r, "--blocks", b, "--households", "hh", "--time-limit", "5"]


def _lines(result: Result) -> list[str]:
    """The lines of stderr, each with its wrapping (and any panel border) undone."""
    lines: list[str] = []
    for raw in result.stderr.splitlines():
        text = " ".join(raw.replace("│", " ").split())
        if text.startswith(("error:", "warning:", "note:", "Usage:", "╭", "╰")) or not lines:
            lines.append(text)
        elif text:
            lines[-1] += " " + text
    return lines


def _kinds(result: Result) -> list[str]:
    return [line.split(":", 1)[0] for line in _lines(result)]


# --------------------------------------------------------------------------- errors keep their notes


def test_errors_carry_notes_apart_from_the_message() -> None:
    exc = InputError(["a is wrong", "b is wrong"], notes=["n1", "n2", "n1"])
    exc.add_notes(["n2", "n3"])
    assert exc.notes == ["n1", "n2", "n3"]
    assert "n1" not in str(exc) and str(exc).startswith("invalid input (2 problems)")
    assert RedistrictError("x").notes == []
    # Errors cross process boundaries (city's Dask workers): problems and notes survive,
    # and the title is not repeated.
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is InputError
    assert (back.problems, back.notes, str(back)) == (exc.problems, exc.notes, str(exc))
    solver = pickle.loads(pickle.dumps(InfeasibleError("no plan")))
    assert str(solver) == "no plan with every unit in the band was found: no plan"


def test_load_inputs_error_holds_the_notes_gathered_so_far(tmp_path: Path) -> None:
    # Ottawa's blocks in WGS 84 stored latitude first land in Antarctica: no road reaches
    # them, and the note on the blocks' CRS says why.
    blocks = _write(_blocks(4326, swapped=True), tmp_path / "blocks.gpkg")
    roads = _write(_roads(), tmp_path / "roads.gpkg")
    with pytest.raises(InputError) as caught:
        load_inputs(roads, blocks, "hh")
    assert "road lines reaches the study area" in str(caught.value)
    assert any("beyond the polar circles" in n and "swap the axes" in n for n in caught.value.notes)
    assert not any("polar" in p for p in caught.value.problems)


def test_failed_plan_prints_the_notes_that_explain_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["plan", *_inputs(tmp_path, _blocks(4326, swapped=True)), "--out", str(out)]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = _lines(result)
    assert lines[0].startswith("error: invalid input: roads"), lines
    assert "none of its 8 road lines reaches the study area" in lines[0]
    assert set(_kinds(result)[1:]) == {"note"}, lines
    assert any("beyond the polar circles" in n and "swap the axes" in n for n in lines[1:]), lines
    assert "Traceback" not in result.output and not out.exists()


def test_error_after_loading_prints_the_notes_on_the_inputs(tmp_path: Path) -> None:
    # Loading succeeds (with a note on the reprojection); planning refuses the band.
    out = tmp_path / "out"
    args = ["plan", *_inputs(tmp_path, _blocks(4326)), "--band", "5000", "6000", "--out", str(out)]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = _lines(result)
    assert lines[0].startswith("error: invalid input: the blocks hold 4,500 households"), lines
    assert any(line.startswith("note: blocks") and "UTM zone" in line for line in lines[1:]), lines
    assert set(_kinds(result)[1:]) == {"note"}, lines


def test_strict_failure_does_not_repeat_its_problems_as_notes(tmp_path: Path) -> None:
    # Band 4,000-4,200: 4,500 households make neither one unit nor two.
    out = tmp_path / "out"
    args = ["plan", *_inputs(tmp_path, _blocks(4326)), "--band", "4000", "4200", "--strict"]
    result = RUNNER.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 3, result.output
    lines = _lines(result)
    assert lines[0].startswith("error: no plan with every unit in the band was found"), lines
    notes = lines[1:]
    assert notes and all(line.startswith("note: ") for line in notes), lines
    assert any("UTM zone" in line for line in notes), lines
    assert not any("cannot be divided" in line for line in notes), lines


# --------------------------------------------------------------------------- compare


def _scenario(tmp_path: Path, name: str, lo: int, hi: int) -> str:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nallow_change = "all"\n\n[band]\nunit = "households"\nlo = {lo}\nhi = {hi}\n',
        encoding="utf-8",
    )
    return str(path)


def test_compare_prints_each_scenarios_warnings_and_the_shared_notes_once(tmp_path: Path) -> None:
    fits = _scenario(tmp_path, "fits", 2000, 3000)
    tight = _scenario(tmp_path, "tight", 4000, 4200)  # 4,500 households: 1 unit or 2, none in band
    out = tmp_path / "cmp"
    args = ["compare", fits, tight, *_inputs(tmp_path, _blocks(4326)), "--out", str(out)]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = _lines(result)
    warned = [line for line in lines if line.startswith("warning:")]
    assert warned, lines
    assert all(line.startswith("warning: scenario tight: ") for line in warned), lines
    assert any("cannot be divided into units of 4,000-4,200" in line for line in warned), lines
    # The notes on the inputs (CRS, reprojection) are printed once, not once per scenario.
    crs_notes = [line for line in lines if "UTM zone" in line]
    assert crs_notes and all(line.startswith(("note: blocks", "note: roads")) for line in crs_notes)
    assert len(lines) == len(set(lines)), lines
    assert not any(line.startswith("note: scenario fits:") for line in lines), lines
    # Without existing communities the households moved are unknown, not 0 ("nobody moves").
    table = pd.read_csv(out / "comparison.csv")
    assert table["households_moved"].isna().all(), table
    record = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert [row["households_moved"] for row in record] == [None, None]


def test_compare_that_cannot_write_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    out = blocker / "cmp"  # a folder inside a file cannot be made
    fits = _scenario(tmp_path, "fits", 2000, 3000)
    result = RUNNER.invoke(app, ["compare", fits, *_inputs(tmp_path), "--out", str(out)])
    # Refused before any scenario is solved (it used to fail only when writing).
    assert result.exit_code == 2, result.output
    assert _lines(result)[0] == (
        f"error: invalid input: --out {out} lies inside {blocker}, which is a file, not a folder: "
        "give the path of a new folder"
    )
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- city


def _city(tmp_path: Path, *extra: str) -> Result:
    """``city`` with two communities: the western column (1,500 households) and the rest."""
    west = box(X0, Y0, X0 + CELL, Y0 + 3 * CELL)
    east = box(X0 + CELL, Y0, X0 + 3 * CELL, Y0 + 3 * CELL)
    communities = gpd.GeoDataFrame({"cid": ["W", "E"]}, geometry=[west, east], crs=CRS)
    path = _write(communities, tmp_path / "communities.gpkg")
    out = tmp_path / "city"
    args = ["city", *_inputs(tmp_path), "--communities", path, "--community-id", "cid"]
    args += ["--scheduler", "synchronous", "--no-cache", "--out", str(out), *extra]
    return RUNNER.invoke(app, args)


def test_city_joined_communities_are_a_note_when_every_unit_is_in_band(tmp_path: Path) -> None:
    result = _city(tmp_path)
    assert result.exit_code == 0, result.output
    lines = _lines(result)
    joined = [line for line in lines if "joins communities that could not form units" in line]
    assert len(joined) == 1 and joined[0].startswith("note: 1 subproblem joins"), lines
    assert "warning" not in _kinds(result), lines
    assert "2 units (2 in band)" in " ".join(result.stdout.split())


def test_city_units_outside_the_band_are_warnings_the_joined_communities_a_note(tmp_path: Path) -> None:
    result = _city(tmp_path, "--band", "4000", "4200")
    assert result.exit_code == 0, result.output
    lines = _lines(result)
    joined = [line for line in lines if "joins communities that could not form units" in line]
    assert len(joined) == 1 and joined[0].startswith("note: 1 subproblem joins"), lines
    assert "warning" in _kinds(result), lines  # the units outside the band are warned about


# --------------------------------------------------------------------------- --band


@pytest.mark.parametrize(
    ("band", "shown"),
    [
        pytest.param(["2000", "--time-limit", "5"], "'--time-limit' is not a whole number", id="one-number"),
        pytest.param(["2000-3000", "4000"], "'2000-3000' is not a whole number", id="dash"),
    ],
)
def test_band_with_one_number_says_it_takes_two(tmp_path: Path, band: list[str], shown: str) -> None:
    out = tmp_path / "out"
    args = ["plan", "--roads", "r.gpkg", "--blocks", "b.gpkg", "--households", "hh", "--out", str(out)]
    result = RUNNER.invoke(app, [*args, "--band", *band])
    assert result.exit_code == 2, result.output
    text = " ".join(result.stderr.replace("│", " ").split())
    assert f"Invalid value for '--band': {shown}: --band takes two numbers LO HI" in text, text
    assert "e.g. --band 2000 3000" in text and "Input should be" not in text, text
    assert "Traceback" not in result.output and not out.exists()


# --------------------------------------------------------------------------- --help


def _help_rows(command: list[str]) -> dict[str, str]:
    """The rows of ``command --help``'s option panels, by their long option."""
    result = RUNNER.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows: dict[str, str] = {}
    for line in result.output.splitlines():
        words = line.strip("│ *").split()
        if words and words[0].startswith("--"):
            rows[words[0]] = line
    return rows


@pytest.mark.parametrize("command", [[], ["demo"], ["plan"], ["city"], ["compare"]])
def test_help_shows_flags_without_a_value(command: list[str]) -> None:
    # typer showed "--strict <bool>" and "--barriers <list[str]>", as if they took
    # "--strict true" or "--barriers a b" (both refused).
    rows = _help_rows(command)
    flags = {"--help", "--verbose", "--strict", "--no-cache"} & set(rows)
    assert "--help" in flags and (command == [] or "--verbose" in flags), rows
    for flag in flags:
        assert "<" not in rows[flag], rows[flag]
    if command in (["plan"], ["city"], ["compare"]):
        assert rows["--barriers"].split()[2] == "FILE[:LAYER]", rows["--barriers"]
        assert "--barriers river.gpkg --barriers rail.gpkg" in rows["--barriers"]
