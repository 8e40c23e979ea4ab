"""Bad input through ``redistrict plan``: one clear message, the right exit code, nothing written.

Each test writes a tiny input into ``tmp_path`` -- a 3 x 3 street grid of 300 m
blocks holding 500 households each (4,500 in all: two units of the default band
2,000-3,000) -- breaks one thing, runs the command line and checks

* failures: the exit code of the error class, a message naming the file, layer,
  column or feature and saying how to fix it, no traceback, and no output folder
  (nor a temporary one left behind);
* notes (geographic CRS, different CRSs, repaired geometries ...): the plan is
  written and ``run.json`` notes mention what was done.

The README's Troubleshooting section lists the messages checked here for planners.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import Result
from shapely.geometry import LineString, MultiPolygon, Polygon, box
from typer.testing import CliRunner

from redistrict.cli import app

CRS = "EPSG:32189"  # NAD83 / MTM zone 9 (Ottawa), metres
X0, Y0 = 367_000.0, 5_030_000.0
CELL = 300.0
HOUSEHOLDS = 500
RUNNER = CliRunner()


# --------------------------------------------------------------------------- inputs


def _square(i: int, j: int) -> Polygon:
    return box(X0 + i * CELL, Y0 + j * CELL, X0 + (i + 1) * CELL, Y0 + (j + 1) * CELL)


def _blocks(households: Any = None, **columns: Any) -> gpd.GeoDataFrame:
    """Nine 300 m blocks (row-major from the south-west), 500 households each."""
    values = [HOUSEHOLDS] * 9 if households is None else list(households)
    squares = [_square(i, j) for j in range(3) for i in range(3)]
    return gpd.GeoDataFrame({"hh": values, **columns}, geometry=squares, crs=CRS)


def _roads() -> gpd.GeoDataFrame:
    """Four north-south and four east-west streets; they cross without shared vertices."""
    span = 3 * CELL
    lines = [LineString([(X0 + k * CELL, Y0), (X0 + k * CELL, Y0 + span)]) for k in range(4)]
    lines += [LineString([(X0, Y0 + k * CELL), (X0 + span, Y0 + k * CELL)]) for k in range(4)]
    return gpd.GeoDataFrame({"highway": ["residential"] * 8}, geometry=lines, crs=CRS)


def _write(frame: gpd.GeoDataFrame | pd.DataFrame, path: Path, layer: str | None = None) -> str:
    with warnings.catch_warnings():
        # pyogrio warns when it writes a layer without CRS on purpose.
        warnings.filterwarnings("ignore", message=".*crs.*", category=UserWarning)
        pyogrio.write_dataframe(frame, path, layer=layer)
    return f"{path}:{layer}" if layer else str(path)


def _river(tmp_path: Path) -> str:
    """A river barrier along the first north-south street: it cuts off the western column."""
    river = gpd.GeoDataFrame(
        geometry=[LineString([(X0 + CELL, Y0 - 10), (X0 + CELL, Y0 + 3 * CELL + 10)])], crs=CRS
    )
    return _write(river, tmp_path / "river.gpkg")


@dataclass(frozen=True)
class _Run:
    """A finished command-line run."""

    result: Result
    out: Path

    @property
    def stderr(self) -> str:
        # Messages are printed on one line each; join any wrapping to be safe.
        return " ".join(self.result.stderr.split())

    def record(self) -> dict[str, Any]:
        assert self.result.exit_code == 0, self.result.output
        data: dict[str, Any] = json.loads((self.out / "run.json").read_text(encoding="utf-8"))
        return data

    def notes(self) -> str:
        return "\n".join(self.record()["notes"])

    def summary(self) -> pd.DataFrame:
        assert self.result.exit_code == 0, self.result.output
        return pd.read_csv(self.out / "summary.csv")


def _invoke(args: list[str], out: Path) -> _Run:
    return _Run(RUNNER.invoke(app, args), out)


def _plan(
    tmp_path: Path,
    *extra: str,
    blocks: gpd.GeoDataFrame | str | None = None,
    roads: gpd.GeoDataFrame | str | None = None,
    households: str = "hh",
    blocks_file: str = "blocks.gpkg",
    out: Path | None = None,
) -> _Run:
    """Write the inputs (frames) or use them as given (strings) and run ``redistrict plan``."""
    if not isinstance(blocks, str):
        blocks = _write(_blocks() if blocks is None else blocks, tmp_path / blocks_file)
    if not isinstance(roads, str):
        roads = _write(_roads() if roads is None else roads, tmp_path / "roads.gpkg")
    out = tmp_path / "out" if out is None else out
    args = ["plan", "--roads", roads, "--blocks", blocks, "--households", households]
    args += ["--out", str(out), "--time-limit", "10", *extra]
    return _invoke(args, out)


def _fails(run: _Run, code: int, *fragments: str) -> str:
    """Assert a clean failure and return the (unwrapped) message."""
    result = run.result
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    message = run.stderr
    assert message.startswith("error: "), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert not run.out.exists()
    leftovers = [p.name for p in run.out.parent.iterdir() if p.name.startswith(f".{run.out.name}.")]
    assert leftovers == []
    return message


def _succeeds(run: _Run) -> dict[str, Any]:
    assert run.result.exit_code == 0, run.result.output
    assert "Traceback" not in run.result.output
    assert "error:" not in run.result.stderr
    return run.record()


# --------------------------------------------------------------------------- the valid base case


def test_base_case_gives_two_units_in_band(tmp_path: Path) -> None:
    record = _succeeds(_plan(tmp_path))
    assert record["status"] == "optimal"
    assert record["units"] == record["units_in_band"] == 2
    assert record["households"] == 9 * HOUSEHOLDS


def test_csv_outputs_open_in_excel_as_utf8(tmp_path: Path) -> None:
    # Excel on Chinese Windows reads a CSV without a byte-order mark as GBK and garbles
    # every Chinese name; with it, Excel reads UTF-8, and pandas skips it.
    communities = gpd.GeoDataFrame(
        {"cid": ["C1"], "名称": ["八字门社区"]}, geometry=[box(X0, Y0, X0 + 3 * CELL, Y0 + 3 * CELL)], crs=CRS
    )
    path = _write(communities, tmp_path / "communities.gpkg", "communities")
    run = _plan(tmp_path, "--communities", path, "--community-id", "cid", "--community-name", "名称")
    _succeeds(run)
    for name in ("summary.csv", "communities.csv"):
        raw = (run.out / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name
        assert "八字门社区" in raw.decode("utf-8-sig")
    assert pd.read_csv(run.out / "summary.csv").columns[0] == "unit_id"


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_get_the_permissions_of_any_new_file(tmp_path: Path, umask: int) -> None:
    # The folder and the map are made under temporary names (private to the user);
    # renamed into place they must be as readable as the other files.
    old = os.umask(umask)
    try:
        run = _plan(tmp_path)
    finally:
        os.umask(old)
    _succeeds(run)
    assert stat.S_IMODE(run.out.stat().st_mode) == 0o777 & ~umask
    for name in ("map.html", "plan.gpkg", "run.json", "summary.csv"):
        assert stat.S_IMODE((run.out / name).stat().st_mode) == 0o666 & ~umask, name


def test_a_target_at_the_middle_of_the_band_is_said_to_change_nothing(tmp_path: Path) -> None:
    # --target 2500 with the default band gave the very same plan, without a word
    run = _plan(tmp_path, "--band", "1000", "2000", "--target", "1500")
    assert run.result.exit_code == 0, run.result.output
    assert "--target 1,500 is the middle of the band, the target by default: it changes nothing" in run.stderr
    other = _plan(tmp_path, "--band", "1000", "2000", "--target", "1400", out=tmp_path / "other")
    assert "the target by default" not in other.stderr


def test_the_map_title_names_the_selection(tmp_path: Path) -> None:
    # With --where the map was titled with the blocks file's name only, as if it showed all of it.
    run = _plan(tmp_path, "--where", "zone == 'west'", blocks=_blocks(zone=["west", "west", "east"] * 3))
    assert run.result.exit_code == 0, run.result.output
    page = (run.out / "map.html").read_text(encoding="utf-8")
    assert "<title>blocks (zone == &#x27;west&#x27;)</title>" in page
    # --title names the area as the planner calls it
    named = _plan(
        tmp_path, "--where", "zone == 'west'", "--title", "八字门社区", out=tmp_path / "named",
        blocks=_blocks(zone=["west", "west", "east"] * 3),
    )  # fmt: skip
    assert named.result.exit_code == 0, named.result.output
    assert "<title>八字门社区</title>" in (named.out / "map.html").read_text(encoding="utf-8")


def test_ctrl_c_while_writing_leaves_the_earlier_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _plan(tmp_path)
    before = first.record()

    def interrupt(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("redistrict.report.save_map", interrupt)
    again = _plan(tmp_path, "--seed", "5")
    assert again.result.exit_code == 130, again.result.output
    assert "interrupted: nothing was written; an earlier plan in the output folder is untouched" in (
        again.stderr
    )
    assert json.loads((first.out / "run.json").read_text(encoding="utf-8")) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []


def test_ctrl_c_during_the_swap_says_the_new_plan_is_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A signal held while the output is swapped into place arrives just after it: the
    # message used to say that nothing was written although the new plan was in place.
    first = _plan(tmp_path)
    real_replace = os.replace

    def replace_then_interrupt(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        if Path(dst) == first.out.resolve():
            os.kill(os.getpid(), signal.SIGINT)  # held until the swap is done

    monkeypatch.setattr(os, "replace", replace_then_interrupt)
    again = _plan(tmp_path, "--seed", "5")
    assert again.result.exit_code == 130, again.result.output
    said = " ".join(again.stderr.split())
    assert f"interrupted: after the output was written in full to {first.out.resolve()}" in said
    assert "nothing was written" not in said
    assert json.loads((first.out / "run.json").read_text(encoding="utf-8"))["parameters"]["seed"] == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []


def test_ctrl_c_while_the_summary_prints_says_the_new_plan_is_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once written, a Ctrl-C during the summary was reported as "nothing was written".
    first = _plan(tmp_path)

    def interrupt(*_args: Any, **_kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("redistrict.cli.summary", interrupt)
    again = _plan(tmp_path, "--seed", "5")
    assert again.result.exit_code == 130, again.result.output
    said = " ".join(again.stderr.split())
    assert f"interrupted: after the output was written in full to {first.out.resolve()}" in said
    assert json.loads((first.out / "run.json").read_text(encoding="utf-8"))["parameters"]["seed"] == 5


def test_sigterm_cleans_up_and_says_so(tmp_path: Path) -> None:
    # A real process: SIGTERM is turned into the clean-up Ctrl-C gets.
    out = tmp_path / "demo"
    command = [str(Path(sys.executable).with_name("redistrict")), "demo", "--out", str(out)]
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as proc:
        time.sleep(8.0)  # past start-up, inside the run (the demo takes longer)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "terminated: nothing was written" in " ".join(stderr.split())
    assert "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_work_budget_is_recorded_and_gives_the_same_plan(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    first = _succeeds(_plan(tmp_path / "a", "--budget", "work"))
    second = _plan(tmp_path / "b", "--budget", "work")
    assert first["parameters"]["budget"] == second.record()["parameters"]["budget"] == "work"
    assert first["units"] == second.record()["units"] == 2
    left = pd.read_csv(tmp_path / "a" / "out" / "summary.csv")
    assert left.equals(second.summary())


def test_run_json_keeps_the_method_asked_for_and_says_which_ran(tmp_path: Path) -> None:
    # parameters repeat the run: they hold --method as given ("auto" by default), not the
    # methods the run used ("exact" on this small grid), which method_used gives.
    for name in ("auto", "lns"):
        (tmp_path / name).mkdir()
    default = _succeeds(_plan(tmp_path / "auto"))
    assert default["parameters"]["method"] == "auto"
    assert default["method_used"] == "exact"
    lns = _succeeds(_plan(tmp_path / "lns", "--method", "lns"))
    assert (lns["parameters"]["method"], lns["method_used"]) == ("lns", "lns")


def test_roads_crossing_without_shared_vertices_are_noded(tmp_path: Path) -> None:
    # The streets of the base case cross without a vertex at the crossings: noding
    # them must still give one atom per block, not one atom for the whole grid.
    run = _plan(tmp_path)
    record = _succeeds(run)
    assert record["atoms"] == 9
    assert "subdivided" not in run.notes()


# --------------------------------------------------------------------------- files and layers


def test_missing_files_are_reported_together(tmp_path: Path) -> None:
    roads, blocks = tmp_path / "nope.gpkg", tmp_path / "missing.shp"
    message = _fails(
        _plan(tmp_path, roads=str(roads), blocks=str(blocks)),
        2,
        "2 problems",
        f"file not found: {roads} (given with --roads)",
        f"file not found: {blocks} (given with --blocks)",
        "check the path",
    )
    assert message.count("file not found") == 2


def test_missing_layer_lists_the_layers_of_the_file(tmp_path: Path) -> None:
    gpkg = tmp_path / "city.gpkg"
    _write(_blocks(), gpkg, layer="blocks")
    _write(_roads(), gpkg, layer="roads")
    _fails(
        _plan(tmp_path, roads=f"{gpkg}:streets", blocks=f"{gpkg}:blocks"),
        2,
        f"{gpkg} has no layer 'streets'",
        "its layers are: blocks (Polygon), roads (LineString)",
        "write FILE:LAYER with one of them",
    )


def test_several_layers_without_a_choice_ask_for_one(tmp_path: Path) -> None:
    gpkg = tmp_path / "city.gpkg"
    _write(_blocks(), gpkg, layer="blocks")
    _write(_blocks(), gpkg, layer="blocks_2016")
    _write(_roads(), gpkg, layer="roads")
    _fails(
        _plan(tmp_path, roads=f"{gpkg}:roads", blocks=str(gpkg)),
        2,
        f"blocks: {gpkg} has 3 layers and 2 of them hold points or polygons",
        "choose one with FILE:LAYER",
    )


def test_file_that_is_not_a_vector_file(tmp_path: Path) -> None:
    bad = tmp_path / "blocks.gpkg"
    bad.write_text("this is not a GeoPackage", encoding="utf-8")
    _fails(
        _plan(tmp_path, blocks=str(bad)),
        2,
        f"blocks: cannot open {bad} (given with --blocks)",
        "give a vector file GDAL can read",
    )


def test_table_without_geometry(tmp_path: Path) -> None:
    table = tmp_path / "blocks.csv"
    pd.DataFrame({"hh": [HOUSEHOLDS] * 3}).to_csv(table, index=False)
    _fails(
        _plan(tmp_path, blocks=str(table)),
        2,
        f"blocks ({table}:blocks) has no geometry column",
        "export it with its geometry",
    )


# --------------------------------------------------------------------------- household counts


def test_missing_household_column_suggests_near_names(tmp_path: Path) -> None:
    blocks = _blocks(households_2021=[HOUSEHOLDS] * 9).drop(columns="hh")
    _fails(
        _plan(tmp_path, blocks=blocks, households="households"),
        2,
        "column 'households' (given with --households) not found",
        "did you mean 'households_2021'?",
        "pass one of the existing columns with --households: households_2021",
    )


@pytest.mark.parametrize(
    ("bad", "fragments"),
    [
        pytest.param(
            "many",
            [
                "column 'hh' has text that is not a number in 1 row (row id 8, counting from 0): 'many'",
                "correct these values or choose another column with --households",
            ],
            id="text",
        ),
        pytest.param(
            -5,
            [
                "column 'hh' is negative in 1 row (row id 8, counting from 0): -5",
                "household counts must be 0 or more",
            ],
            id="negative",
        ),
        pytest.param(
            math.nan,
            [
                "column 'hh' is empty in 1 row (row id 8, counting from 0)",
                "fill in the household count (0 where nobody lives)",
            ],
            id="nan",
        ),
        pytest.param(
            2.5,
            [
                "column 'hh' has fractional values in 1 row (row id 8, counting from 0): 2.5",
                "households are whole numbers: round them",
            ],
            id="fractional",
        ),
    ],
)
def test_bad_household_count(tmp_path: Path, bad: Any, fragments: list[str]) -> None:
    values: list[Any] = [HOUSEHOLDS] * 8 + [bad]
    if isinstance(bad, str):
        values = [str(v) for v in values]
    blocks_file = tmp_path / "blocks.gpkg"
    message = _fails(_plan(tmp_path, blocks=_blocks(values)), 2, *fragments)
    assert f"blocks ({blocks_file}:blocks)" in message


def test_every_household_problem_is_reported_at_once(tmp_path: Path) -> None:
    values = ["500", "many", "-5", "2.5", "", "500", "500", "500", "500"]
    message = _fails(
        _plan(tmp_path, blocks=_blocks(values)),
        2,
        "invalid input (4 problems)",
        "text that is not a number in 1 row (row id 1, counting from 0): 'many'",
        "is negative in 1 row (row id 2, counting from 0)",
        "fractional values in 1 row (row id 3, counting from 0)",
        "is empty in 1 row (row id 4, counting from 0)",
    )
    assert message.count(" - ") == 4  # one list item per problem


def test_household_counts_typed_as_text_are_read_with_a_note(tmp_path: Path) -> None:
    run = _plan(tmp_path, blocks=_blocks([str(HOUSEHOLDS)] * 9))
    record = _succeeds(run)
    assert record["households"] == 9 * HOUSEHOLDS
    assert "column 'hh' is stored as text; read it as numbers" in run.notes()


def test_problems_of_several_layers_are_reported_together(tmp_path: Path) -> None:
    communities = gpd.GeoDataFrame(
        {"community_id": ["A", "A"]}, geometry=[box(X0, Y0, X0 + 900, Y0 + 450),
                                                box(X0, Y0 + 450, X0 + 900, Y0 + 900)], crs=CRS,
    )  # fmt: skip
    spec = _write(communities, tmp_path / "communities.gpkg")
    _fails(
        _plan(tmp_path, "--road-class", "RANK", "--communities", spec, households="HH"),
        2,
        "invalid input (3 problems)",
        "column 'HH' (given with --households) not found; did you mean 'hh'?",
        "column 'RANK' (given with --road-class) not found",
        "identifier column 'community_id' has 1 duplicated value(s) 'A'",
    )


def test_missing_road_class_column_adds_no_note_on_minor_roads(tmp_path: Path) -> None:
    # The run stops on the column: a note that every road counts as minor (as if no
    # column had been given) would describe a plan that is never made.
    message = _fails(
        _plan(tmp_path, "--road-class", "RNK"),
        2,
        "column 'RNK' (given with --road-class) not found; pass one of the existing columns "
        "with --road-class: highway",
    )
    assert "counts as minor" not in message


# --------------------------------------------------------------------------- coordinate systems


def test_layer_without_crs_says_how_to_assign_one(tmp_path: Path) -> None:
    shapefile = tmp_path / "blocks.shp"
    _write(_blocks().set_crs(None, allow_override=True), shapefile)
    message = _fails(
        _plan(tmp_path, blocks=str(shapefile)),
        2,
        f"blocks ({shapefile}:blocks) has no coordinate reference system (CRS)",
        "its coordinates (367000, 5.03e+06) .. (367900, 5.0309e+06) are not degrees but projected ones",
        f"`ogr2ogr -a_srs EPSG:XXXX fixed.gpkg {shapefile}`",
    )
    assert "EPSG:4326" not in message
    degrees = tmp_path / "degrees.shp"
    _write(_blocks().to_crs("EPSG:4326").set_crs(None, allow_override=True), degrees)
    _fails(
        _plan(tmp_path, blocks=str(degrees)),
        2,
        f"blocks ({degrees}:degrees) has no coordinate reference system (CRS)",
        f"`ogr2ogr -a_srs EPSG:4326 fixed.gpkg {degrees}` for longitude/latitude",
    )


def test_geographic_crs_is_reprojected_with_a_note(tmp_path: Path) -> None:
    run = _plan(tmp_path, blocks=_blocks().to_crs("EPSG:4326"))
    record = _succeeds(run)
    assert record["crs"] == "EPSG:32618"
    assert record["units_in_band"] == 2
    notes = run.notes()
    assert "CRS WGS 84 is not in metres; working in WGS 84 / UTM zone 18N (EPSG:32618)" in notes
    assert "reprojected from NAD83 / MTM zone 9 to WGS 84 / UTM zone 18N" in notes


def test_layers_in_different_crs_are_reprojected_with_a_note(tmp_path: Path) -> None:
    run = _plan(tmp_path, roads=_roads().to_crs("EPSG:32618"))
    record = _succeeds(run)
    assert record["crs"] == "EPSG:32189"
    assert record["atoms"] == 9
    roads = tmp_path / "roads.gpkg"
    assert (
        f"roads ({roads}:roads): reprojected from WGS 84 / UTM zone 18N to NAD83 / MTM zone 9" in run.notes()
    )


def test_coordinates_that_are_not_degrees_in_a_geographic_crs(tmp_path: Path) -> None:
    # Metric coordinates with a longitude/latitude CRS: a wrong .prj.
    wrong = _blocks().set_crs("EPSG:4326", allow_override=True)
    _fails(
        _plan(tmp_path, blocks=wrong),
        2,
        "declares the geographic CRS WGS 84 but its coordinates",
        "are not degrees: assign the CRS the coordinates are really in",
    )


# --------------------------------------------------------------------------- geometries


def test_invalid_geometries_are_repaired_and_counted(tmp_path: Path) -> None:
    blocks = _blocks()
    # Compound outlines whose parts overlap (self-intersecting as a whole).
    for k, (i, j) in ((0, (0, 0)), (4, (1, 1))):
        x, y = X0 + i * CELL, Y0 + j * CELL
        blocks.loc[k, "geometry"] = MultiPolygon(
            [box(x, y, x + 0.6 * CELL, y + CELL), box(x + 0.4 * CELL, y, x + CELL, y + CELL)]
        )
    assert not blocks.is_valid.all()
    run = _plan(tmp_path, blocks=blocks)
    record = _succeeds(run)
    assert record["households"] == 9 * HOUSEHOLDS
    assert record["units_in_band"] == 2
    assert "repaired 2 invalid geometries with make_valid" in run.notes()


def test_null_geometry_carrying_households_is_an_error(tmp_path: Path) -> None:
    blocks = _blocks()
    blocks.loc[8, "geometry"] = None
    _fails(
        _plan(tmp_path, blocks=blocks),
        2,
        "1 row (row id 8, counting from 0) without usable geometry",
        "(null, empty or degenerate) carry households",
        "draw their shapes or remove these rows",
    )


def test_empty_geometry_without_households_is_dropped_with_a_note(tmp_path: Path) -> None:
    blocks = _blocks()
    extra = gpd.GeoDataFrame({"hh": [0]}, geometry=[Polygon()], crs=CRS, index=[9])
    run = _plan(tmp_path, blocks=pd.concat([blocks, extra]))
    _succeeds(run)
    assert "dropped 1 row (row id 9, counting from 0) without usable geometry" in run.notes()


def test_mixed_geometry_kinds_in_the_blocks(tmp_path: Path) -> None:
    blocks = _blocks()
    blocks.loc[4, "geometry"] = blocks.geometry[4].centroid
    _fails(
        _plan(tmp_path, blocks=blocks, blocks_file="blocks.geojson"),
        2,
        "mixes geometry kinds (1 point, 8 polygons)",
        "split the layer or convert the geometries",
    )


def test_polygon_in_the_roads_layer(tmp_path: Path) -> None:
    roads = _roads()
    roads.loc[2, "geometry"] = box(X0, Y0, X0 + 10, Y0 + 10)
    spec = _write(roads, tmp_path / "roads.geojson")
    _fails(
        _plan(tmp_path, roads=spec),
        2,
        "1 row (row id 2, counting from 0) with Polygon geometry; this layer must hold lines",
        "choose the right file or layer (FILE:LAYER) or convert the geometries",
    )


@pytest.mark.parametrize("layer", ["communities", "offices"])
def test_duplicate_ids(tmp_path: Path, layer: str) -> None:
    if layer == "communities":
        frame = gpd.GeoDataFrame(
            {"community_id": ["C1", "C2", "C1"]},
            geometry=[box(X0, Y0 + j * CELL, X0 + 3 * CELL, Y0 + (j + 1) * CELL) for j in range(3)],
            crs=CRS,
        )
    else:
        frame = gpd.GeoDataFrame(
            {"office_id": ["O1", "O1"]},
            geometry=[_square(0, 0).centroid, _square(2, 2).centroid],
            crs=CRS,
        )
    spec = _write(frame, tmp_path / f"{layer}.gpkg")
    column = {"communities": "community_id", "offices": "office_id"}[layer]
    _fails(
        _plan(tmp_path, f"--{layer}", spec),
        2,
        f"{layer} ({spec}:{layer}): identifier column {column!r} has 1 duplicated value(s)",
        "identifiers must be unique; merge or renumber these features",
    )


# --------------------------------------------------------------------------- study area and atoms


def test_blocks_outside_the_study_area_are_reported(tmp_path: Path) -> None:
    area = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 3 * CELL, Y0 + 2 * CELL)], crs=CRS)
    spec = _write(area, tmp_path / "area.gpkg")
    _fails(
        _plan(tmp_path, "--study-area", spec),
        2,
        "3 rows (row ids 6, 7, 8, counting from 0) with 1,500 households lie outside the study area",
        "enlarge the study area or select the blocks to redistrict with --where",
    )


def test_empty_blocks_outside_the_study_area_are_dropped_with_a_note(tmp_path: Path) -> None:
    area = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 3 * CELL, Y0 + 2 * CELL)], crs=CRS)
    spec = _write(area, tmp_path / "area.gpkg")
    run = _plan(tmp_path, "--study-area", spec, blocks=_blocks([700] * 6 + [0] * 3))
    record = _succeeds(run)
    assert record["households"] == 4200
    assert "dropped 3 rows (row ids 6, 7, 8, counting from 0) without households outside the study area" in (
        run.notes()
    )


def test_blocks_covered_by_no_atom_keep_their_households(tmp_path: Path) -> None:
    # A pond (barrier polygon) swallows the middle block: its face is dropped, but
    # its households must go to a neighbouring atom, with a note -- never vanish.
    pond = gpd.GeoDataFrame(
        geometry=[box(X0 + CELL - 5, Y0 + CELL - 5, X0 + 2 * CELL + 5, Y0 + 2 * CELL + 5)], crs=CRS
    )
    spec = _write(pond, tmp_path / "pond.gpkg")
    run = _plan(tmp_path, "--barriers", spec)
    record = _succeeds(run)
    assert record["households"] == 9 * HOUSEHOLDS
    assert int(run.summary()["households"].sum()) == 9 * HOUSEHOLDS
    notes = run.notes()
    assert "1 blocks lie outside every face (4)" in notes
    assert "their households were given to the nearest face" in notes
    assert "note: 1 blocks lie outside every face" in run.stderr


def test_roads_that_miss_the_study_area(tmp_path: Path) -> None:
    # The roads of another place (or in a wrongly declared CRS): 50 km east.
    roads = _roads()
    roads = roads.set_geometry(roads.translate(50_000.0, 0.0), crs=CRS)
    _fails(
        _plan(tmp_path, roads=roads),
        2,
        "none of its 8 road lines reaches the study area",
        "give the roads of the same place",
        "declares the CRS its coordinates are really in",
    )


def test_roads_that_close_no_block(tmp_path: Path) -> None:
    # Two streets that stop 30 m short of the edges: they cut out no block, so the
    # only road face is the whole area, split by its population blocks.
    lines = [LineString([(X0 + k * CELL, Y0 + 30), (X0 + k * CELL, Y0 + 3 * CELL - 30)]) for k in (1, 2)]
    roads = gpd.GeoDataFrame({"highway": ["residential"] * 2}, geometry=lines, crs=CRS)
    run = _plan(tmp_path, roads=roads)
    record = _succeeds(run)
    assert record["households"] == 9 * HOUSEHOLDS
    notes = run.notes()
    assert "the 2 road lines inside the study area close no block" in notes
    assert "snap the road ends together" in notes
    assert "close no block" in run.stderr


def test_atom_above_the_band_that_cannot_be_split(tmp_path: Path) -> None:
    run = _plan(tmp_path, blocks=_blocks([HOUSEHOLDS] * 8 + [3500]))
    record = _succeeds(run)
    assert record["households"] == 7500
    units = run.summary()
    oversize = units[units["status"] == "oversize atom"]
    assert oversize["households"].tolist() == [3500]
    assert not bool(oversize["in_band"].iloc[0])
    notes = run.notes()
    assert "holds 3,500 households, more than a unit may hold (3,000)" in notes
    assert "is one block and cannot be split further: block 8" in notes
    warning = [line for line in run.result.stderr.splitlines() if line.startswith("warning:")]
    assert any("3,500 households" in line and "3,000" in line for line in warning), warning


def test_component_below_the_band_is_flagged_with_its_reason(tmp_path: Path) -> None:
    # A river along the first street cuts off the western column (1,500 households).
    spec = _river(tmp_path)
    run = _plan(tmp_path, "--barriers", spec, blocks=_blocks([500, 700, 700] * 3))
    record = _succeeds(run)
    units = run.summary()
    below = units[units["status"] == "below band"]
    assert below["households"].tolist() == [1500]
    assert int(units["in_band"].sum()) == 2
    components = pd.DataFrame(record["components"])
    cut_off = components[components["households"] == 1500]
    assert len(cut_off) == 1 and cut_off["reason"].iloc[0]
    assert "its 1,500 households are fewer than the band's lower bound 2,000" in run.notes()
    # Without communities or road names, the part is named by the barrier layer that cuts it off.
    assert (
        f"the part of the area with 1,500 households, cut off from the rest by the barriers in {spec}:"
        in (run.notes())
    )
    assert "warning:" in run.stderr and "1,500 households" in run.stderr


def test_residents_cut_off_from_every_household_are_reported(tmp_path: Path) -> None:
    # The river cuts off the western column: 5 residents each, but no household.
    spec = _river(tmp_path)
    blocks = _blocks([0, 700, 800] * 3, people=[5, 2000, 2000] * 3)
    run = _plan(tmp_path, "--barriers", spec, "--residents", "people", blocks=blocks)
    _succeeds(run)
    assert "15 residents live in atoms that are in no unit" in run.notes()
    # ... and names the barrier layer that cuts them off (it said "by barriers or gaps").
    assert f"cut off from every atom with households (by the barriers in {spec}:" in run.notes()
    # city says so too (it did not).
    out = tmp_path / "city"
    args = [
        "city",
        "--roads",
        _write(_roads(), tmp_path / "roads.gpkg"),
        "--blocks",
        str(tmp_path / "blocks.gpkg"),
    ]
    args += ["--households", "hh", "--residents", "people", "--barriers", spec, "--out", str(out)]
    city = _invoke([*args, "--scheduler", "synchronous", "--no-cache", "--time-limit", "5"], out)
    _succeeds(city)
    assert "15 residents live in atoms that are in no unit" in city.notes()


def test_component_that_cannot_be_divided_in_the_band(tmp_path: Path) -> None:
    # 3,420 households: one unit holds at most 3,000, two need at least 4,000.
    run = _plan(tmp_path, blocks=_blocks([380] * 9))
    record = _succeeds(run)
    assert record["status"] != "optimal"
    assert record["units_in_band"] == 0
    assert int(run.summary()["households"].sum()) == 3420
    notes = run.notes()
    assert "3,420 households cannot be divided into units of 2,000-3,000" in notes
    assert "warning:" in run.stderr and "cannot be divided" in run.stderr


def test_band_too_narrow_for_the_atoms_gives_flagged_units(tmp_path: Path) -> None:
    # No multiple of the 500-household blocks lies in 2,100-2,400 households.
    run = _plan(tmp_path, "--band", "2100", "2400")
    record = _succeeds(run)
    assert record["units_in_band"] == 0
    assert int(run.summary()["households"].sum()) == 9 * HOUSEHOLDS
    assert "warning:" in run.stderr and "2,100" in run.stderr
    # run.json lists the warnings apart from the notes (each one also among the notes).
    assert record["warnings"] and any("2,100" in w for w in record["warnings"])
    assert set(record["warnings"]) <= set(record["notes"])


def test_strict_refuses_a_plan_with_units_outside_the_band(tmp_path: Path) -> None:
    # The component below the band of the test above, with --strict: exit 3, nothing written.
    spec = _river(tmp_path)
    run = _plan(tmp_path, "--barriers", spec, "--strict", blocks=_blocks([500, 700, 700] * 3))
    message = _fails(
        run,
        3,
        "error: no plan with every unit in the band was found",
        "holds 1,500 households (below band; the band is 2,000-3,000 households)",
        "its 1,500 households are fewer than the band's lower bound 2,000",
        "1 of 3 units are outside the band: widen it (--band)",
        "drop --strict",
    )
    assert "warning:" not in run.result.stderr, message


def test_strict_with_one_block_above_the_band_asks_to_split_it(tmp_path: Path) -> None:
    # A 5,000-household tower block: smaller atoms (--atoms blocks) cannot split one block.
    run = _plan(tmp_path, "--strict", blocks=_blocks([5000, *[500] * 8]))
    message = _fails(
        run, 3, "(oversize atom; the band is 2,000-3,000 households)", "split those blocks in the input"
    )
    assert "--atoms blocks" not in message


def test_city_refuses_a_cache_inside_its_output_folder(tmp_path: Path) -> None:
    # The output folder is replaced as a whole: a cache inside it was deleted after every run.
    blocks = _write(_blocks(), tmp_path / "blocks.gpkg")
    roads = _write(_roads(), tmp_path / "roads.gpkg")
    out = tmp_path / "city"
    args = ["city", "--roads", roads, "--blocks", blocks, "--households", "hh", "--out", str(out)]
    args += ["--scheduler", "synchronous", "--time-limit", "5", "--cache", str(out / "cache")]
    _fails(
        _invoke(args, out),
        2,
        f"--cache {out / 'cache'} lies inside --out {out}",
        "the cache would be deleted",
    )


def test_strict_city_refuses_units_outside_the_band(tmp_path: Path) -> None:
    spec = _river(tmp_path)
    blocks = _write(_blocks([500, 700, 700] * 3), tmp_path / "blocks.gpkg")
    roads = _write(_roads(), tmp_path / "roads.gpkg")
    out = tmp_path / "city"
    args = ["city", "--roads", roads, "--blocks", blocks, "--households", "hh", "--barriers", spec]
    args += ["--scheduler", "synchronous", "--no-cache", "--time-limit", "5", "--out", str(out)]
    _fails(
        _invoke([*args, "--strict"], out),
        3,
        "no plan with every unit in the band was found",
        "(below band;",
        "drop --strict",
    )
    record = _succeeds(_invoke(args, out))
    assert record["units"] - record["units_in_band"] == 1


def test_strict_names_locked_units_outside_the_band(tmp_path: Path) -> None:
    lock = tmp_path / "lock.csv"
    lock.write_text("atom_id\n0\n", encoding="utf-8")  # one 500-household block as a unit
    run = _plan(tmp_path, "--lock", str(lock))
    assert _succeeds(run)["parameters"]["lock"] == str(lock)
    assert "warning: locked unit 1 (lock all) holds 500 households, below band" in run.stderr
    strict = _plan(tmp_path, "--lock", str(lock), "--strict", out=tmp_path / "strict")
    _fails(strict, 3, "unlock units 1 (remove them from the --lock file)")


def test_strict_writes_a_plan_that_is_in_band(tmp_path: Path) -> None:
    record = _succeeds(_plan(tmp_path, "--strict"))
    assert record["units_in_band"] == record["units"] == 2


# --------------------------------------------------------------------------- band and options


def test_total_below_the_lower_bound(tmp_path: Path) -> None:
    _fails(
        _plan(tmp_path, "--band", "5000", "6000"),
        2,
        "the blocks hold 4,500 households in all, fewer than the band's lower bound 5,000",
        "lower the band (--band) or select a larger area",
    )


@pytest.mark.parametrize("values", [["many"] * 9, [-5] * 9, [1500.0] * 8 + [None]])
def test_a_residents_column_is_only_read_when_asked_for(tmp_path: Path, values: list[Any]) -> None:
    # A column that happens to be called "residents" is not counted (nor refused) without --residents.
    run = _plan(tmp_path, blocks=_blocks(residents=values))
    record = _succeeds(run)
    assert "residents" not in run.summary().columns
    assert "column 'residents' is not read; give --residents residents to count it" in run.notes()
    assert record["units"] == 2


def test_a_band_with_residents_says_it_counts_households(tmp_path: Path) -> None:
    # "6,000-9,000 people" typed as --band 6000 9000 with --residents planned households silently.
    blocks = _blocks([1500] * 9, people=[4500] * 9)
    run = _plan(tmp_path, "--residents", "people", "--band", "3000", "4500", blocks=blocks)
    _succeeds(run)
    assert (
        "--band 3000-4500 counts households (--residents does not change that): at 3.00 residents per "
        "household here, units hold about 9,000-13,500 residents; to plan by residents, give a scenario "
        'whose [band] has unit = "residents"'
    ) in run.notes()
    assert "counts households" not in _plan(tmp_path, out=tmp_path / "plain").notes()


def test_a_selection_without_households_is_refused_when_the_blocks_are_read(tmp_path: Path) -> None:
    blocks = _blocks([0, 0, 0, HOUSEHOLDS, HOUSEHOLDS, HOUSEHOLDS, HOUSEHOLDS, HOUSEHOLDS, HOUSEHOLDS])
    message = _fails(
        _plan(tmp_path, "--where", "hh == 0", blocks=blocks),
        2,
        "the 3 blocks --where 'hh == 0' selected hold no households (column 'hh' is 0 in every row); "
        "select blocks with households in --where",
    )
    # refused with the blocks, before the study area and roads are worked out
    assert "road lines read" not in message
    _fails(
        _plan(tmp_path, blocks=_blocks([0] * 9), out=tmp_path / "all"),
        2,
        "its 9 blocks hold no households (column 'hh' is 0 in every row); check the --households column",
    )


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        pytest.param(
            ["--band", "3000", "2000"],
            ["band lower bound 3000 is above the upper bound 2000", "swap them"],
            id="lo-above-hi",
        ),
        pytest.param(["--band", "0", "0"], ["band (0, 0) must be positive", "--band 2000 3000"], id="zero"),
        pytest.param(
            ["--band", "0", "500"],
            ["band lower bound 0: a unit holds at least one of the households it counts", "--band 1 500"],
            id="no-lower-bound",
        ),
        pytest.param(
            ["--target", "3500"],
            ["target 3500 lies outside the band [2000, 3000]", "choose a target inside the band"],
            id="target",
        ),
        pytest.param(
            ["--time-limit", "0"],
            ["--time-limit must be a positive number of seconds, not 0"],
            id="time-limit-zero",
        ),
        pytest.param(
            ["--time-limit", "-5"],
            ["--time-limit must be a positive number of seconds, not -5"],
            id="time-limit-negative",
        ),
        pytest.param(
            ["--solver", "gurobi"],
            ["--solver must be one of highs, cbc, not 'gurobi'"],
            id="solver",
        ),
        pytest.param(
            ["--budget", "cpu"],
            ["--budget must be one of time, work, not 'cpu'"],
            id="budget",
        ),
        pytest.param(
            ["--where", "hh >> 2"],
            ["--where 'hh >> 2' cannot be evaluated", "write a pandas query on the block columns"],
            id="where",
        ),
    ],
)
def test_bad_options(tmp_path: Path, options: list[str], fragments: list[str]) -> None:
    _fails(_plan(tmp_path, *options), 2, *fragments)


def test_every_bad_option_is_listed_at_once(tmp_path: Path) -> None:
    # Each option was checked on its own: fixing the solver then revealed the method, and so on.
    bad = ["--solver", "gurobi", "--method", "fast", "--band", "3000", "2000", "--seed", "-1", "--units", "0"]
    message = _fails(_plan(tmp_path, *bad), 2, "invalid input (5 problems)")
    for fragment in (
        "--solver must be one of highs, cbc, not 'gurobi'",
        "--method must be one of auto, exact, lns, not 'fast'",
        "--seed must be a whole number",
        "--units must be a positive whole number of units, not 0",
        "band lower bound 3000 is above the upper bound 2000",
    ):
        assert fragment in message


def test_message_with_markup_characters_is_printed_verbatim(tmp_path: Path) -> None:
    values = [str(HOUSEHOLDS)] * 7 + ["[/b]", "[red]many"]
    _fails(_plan(tmp_path, blocks=_blocks(values)), 2, "'[/b]', '[red]many'")


# --------------------------------------------------------------------------- the output folder


def test_out_that_is_an_existing_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "plan.txt"
    target.write_text("keep me", encoding="utf-8")
    run = _plan(tmp_path, out=target)
    assert run.result.exit_code == 2, run.result.output
    assert "is an existing file, not a folder" in run.stderr
    assert target.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_out_that_is_a_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "letter.txt").write_text("keep me", encoding="utf-8")
    run = _plan(tmp_path, out=folder)
    assert run.result.exit_code == 2, run.result.output
    assert "is a folder holding other files (no run.json of an earlier plan)" in run.stderr
    assert [p.name for p in folder.iterdir()] == ["letter.txt"]


def test_a_plan_folder_with_the_users_own_files_is_not_replaced(tmp_path: Path) -> None:
    first = _plan(tmp_path)
    _succeeds(first)
    (first.out / "my notes.txt").write_text("keep me", encoding="utf-8")
    (first.out / "review").mkdir()
    again = _plan(tmp_path)
    assert again.result.exit_code == 2, again.result.output
    assert (
        "holds an earlier plan and 2 other entries it did not write (my notes.txt, review/), which "
        "replacing the folder would delete: move them out, or give a new folder" in again.stderr
    )
    assert (first.out / "my notes.txt").read_text(encoding="utf-8") == "keep me"
    (first.out / "my notes.txt").unlink()
    (first.out / "review").rmdir()
    _succeeds(_plan(tmp_path))  # only its own outputs: replaced


def test_failed_run_keeps_the_previous_output(tmp_path: Path) -> None:
    first = _plan(tmp_path)
    _succeeds(first)
    before = {p.name: p.read_bytes() for p in first.out.iterdir()}
    again = _plan(tmp_path, blocks=_blocks([HOUSEHOLDS] * 8 + [-1]))
    assert again.result.exit_code == 2
    assert {p.name: p.read_bytes() for p in first.out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_new_plan_replaces_an_earlier_one(tmp_path: Path) -> None:
    _succeeds(_plan(tmp_path))
    record = _succeeds(_plan(tmp_path, "--band", "1500", "2500"))
    assert record["parameters"]["band"] == [1500, 2500]


# --------------------------------------------------------------------------- the real command


def test_console_script_prints_one_message_and_no_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("redistrict")
    if not script.exists():
        found = shutil.which("redistrict")
        if found is None:
            pytest.skip("the redistrict console script is not installed")
        script = Path(found)
    blocks = _write(_blocks(), tmp_path / "blocks.gpkg")
    roads = _write(_roads(), tmp_path / "roads.gpkg")
    out = tmp_path / "out"
    args = [str(script), "plan", "--roads", roads, "--blocks", blocks, "--households", "HH"]
    done = subprocess.run(
        [*args, "--out", str(out)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.startswith("error: invalid input: blocks (")
    assert "did you mean 'hh'?" in done.stderr
    assert not out.exists()


def test_csv_numbers_carry_no_floating_point_noise(tmp_path: Path) -> None:
    # Excel showed area_km2 0.27118830967508145, residents 5977.0, a gap of 1.65e-15
    from redistrict._files import write_csv

    frame = pd.DataFrame(
        {"area_km2": [0.27118830967508145, 0.5], "residents": [5977.0, 12.0],
         "gap": [1.651405751196311e-15, 0.02], "none": [math.nan, math.nan], "name": ["八字门", "x"]}
    )  # fmt: skip
    path = tmp_path / "t.csv"
    write_csv(frame, path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1:] == ["0.271188,5977,0.0,,八字门", "0.5,12,0.02,,x"]


@pytest.mark.parametrize("when", ["solving", "writing the summary"])
def test_a_bug_is_one_error_line_with_its_own_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    # An exception redistrict did not raise on purpose (here a GEOS error, as a face merge
    # once gave) is a bug: no traceback, not "invalid input", not exit 1 ("not writable").
    import shapely.errors

    import redistrict.cli
    import redistrict.pipeline

    def boom(*args: Any, **kwargs: Any) -> None:
        raise shapely.errors.GEOSException("IllegalArgumentException: Overlay input is mixed-dimension")

    target = (redistrict.pipeline, "run_plan") if when == "solving" else (redistrict.cli, "summary")
    monkeypatch.setattr(*target, boom)
    run = _plan(tmp_path)
    result = run.result
    assert result.exit_code == 70, result.output
    assert "Traceback" not in result.output
    message = run.stderr
    assert message.startswith("error: internal error (GEOSException: IllegalArgumentException: "), message
    assert "this is a bug in redistrict" in message
    assert "--verbose" in message
    if when == "solving":
        assert "nothing was written" in message
        assert not run.out.exists()
    else:
        assert "after the output was written in full" in message
        assert (run.out / "run.json").is_file()
