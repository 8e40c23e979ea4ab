"""Inputs that used to pass silently: stray or overlapping blocks, roads stopping short, a zero-width band.

* A block far from the rest (wrong coordinates) enlarges the study area derived from the
  blocks: a warning names it, its distance and the fix; nothing is dropped.
* Blocks drawn twice or overlapping substantially place households twice over: a
  warning names the pairs; slivers along shared edges do not count.
* A road line stopping a few metres short of another road closes no block: a warning
  names the rows and where.
* ``--band 2500 2500`` (or a scenario with ``lo = hi``) is refused before any loading,
  with the same message as ``--band 2600 2400``.

The broken inputs are derived from the real Ottawa test case (Centretown, ``ONS_ID_gen3``
3024: 208 polygon blocks, 20,333 households) in temporary files. The real data itself
gives none of these warnings.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from test_cli_errors import CRS, HOUSEHOLDS, _blocks, _plan, _succeeds, _write
from typer.testing import CliRunner

from redistrict.cli import app
from redistrict.errors import InputError
from redistrict.load import Inputs, load_inputs
from redistrict.scenario import load_scenario

CENTRETOWN = "ONS_ID_gen3 == 3024"
RUNNER = CliRunner()


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def ottawa(ottawa_testcase: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The test case's blocks and roads as read."""
    blocks = gpd.read_file(ottawa_testcase, layer="dissemination_blocks")
    roads = gpd.read_file(ottawa_testcase, layer="roads")
    return blocks, roads


def _centretown_rows(blocks: gpd.GeoDataFrame) -> pd.Index:
    """Row ids of the Centretown blocks holding households, in file order."""
    chosen = blocks[(blocks["ONS_ID_gen3"].astype(str) == "3024") & (blocks["dburdwell2021"] > 0)]
    return chosen.index


def _load(
    tmp_path: Path,
    blocks: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    *,
    where: str | None = CENTRETOWN,
) -> Inputs:
    """Write the layers to one GeoPackage and load them as ``redistrict plan`` does."""
    path = tmp_path / "case.gpkg"
    _write(blocks, path, "dissemination_blocks")
    _write(roads, path, "roads")
    return load_inputs(f"{path}:roads", f"{path}:dissemination_blocks", "dburdwell2021", where=where)


def _one(warnings: list[str], fragment: str) -> str:
    """The one warning holding ``fragment``."""
    found = [w for w in warnings if fragment in w]
    assert len(found) == 1, warnings
    return found[0]


# --------------------------------------------------------------------------- the real data


@pytest.mark.parametrize("where", [CENTRETOWN, None], ids=["centretown", "whole-test-case"])
@pytest.mark.parametrize("kind", ["polygons", "points"])
def test_real_data_gives_no_warning(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], where: str | None, kind: str
) -> None:
    blocks, roads = ottawa
    if kind == "points":
        blocks = blocks.set_geometry(blocks.geometry.representative_point())
    inputs = _load(tmp_path, blocks, roads, where=where)
    assert inputs.warnings == []


# --------------------------------------------------------------------------- 1. stray blocks


@pytest.mark.parametrize("kind", ["points", "polygons"])
def test_a_stray_block_is_warned_about_and_kept(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], kind: str
) -> None:
    blocks, roads = ottawa
    if kind == "points":
        blocks = blocks.set_geometry(blocks.geometry.representative_point())
    row = _centretown_rows(blocks)[5]
    held = int(blocks.loc[row, "dburdwell2021"])
    moved = blocks.copy()
    moved.loc[row, "geometry"] = shapely.affinity.translate(blocks.geometry[row], 4000, 3000)
    inputs = _load(tmp_path, moved, roads)
    warning = _one(inputs.warnings, "far outside the rest of the blocks")
    assert f"1 row (row id {row}, counting from 0) with {held:,} households lies " in warning
    gap = float(warning.split(" households lies ")[1].split(" m ")[0].replace(",", ""))
    others = moved.geometry.drop(row)[moved["ONS_ID_gen3"].astype(str) == "3024"]
    assert gap == pytest.approx(others.distance(moved.geometry[row]).min(), abs=1)
    assert gap > 2000
    assert "give --study-area" in warning
    expected = "which this block enlarges from" if kind == "points" else "this block adds a separate part"
    assert expected in warning
    assert warning in inputs.notes
    # Nothing is dropped.
    assert row in inputs.blocks.index
    assert int(inputs.blocks["households"].sum()) == 20_333


def test_a_stray_group_of_points_is_warned_about(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    blocks, roads = ottawa
    blocks = blocks.set_geometry(blocks.geometry.representative_point())
    rows = _centretown_rows(blocks)[[3, 4]]
    moved = blocks.copy()
    # Two points next to each other, far from the rest: each has a close neighbour.
    moved.loc[rows[0], "geometry"] = shapely.Point(372_000.0, 5_036_000.0)
    moved.loc[rows[1], "geometry"] = shapely.Point(372_030.0, 5_036_000.0)
    inputs = _load(tmp_path, moved, roads)
    warning = _one(inputs.warnings, "far outside the rest of the blocks")
    assert f"2 rows (row ids {rows[0]}, {rows[1]}, counting from 0) with " in warning
    assert "these blocks enlarge" in warning


def test_a_given_study_area_is_not_questioned(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], ottawa_testcase: Path
) -> None:
    # With --study-area the blocks do not make the study area: blocks outside it are
    # reported (or dropped) by the study-area checks, not as strays.
    blocks, roads = ottawa
    row = _centretown_rows(blocks)[5]
    moved = blocks.copy()
    moved.loc[row, "geometry"] = shapely.affinity.translate(blocks.geometry[row], 4000, 3000)
    moved.loc[row, "dburdwell2021"] = 0
    path = tmp_path / "case.gpkg"
    _write(moved, path, "dissemination_blocks")
    _write(roads, path, "roads")
    inputs = load_inputs(
        f"{path}:roads", f"{path}:dissemination_blocks", "dburdwell2021",
        study_area=f"{ottawa_testcase}:ons_neighbourhoods",
    )  # fmt: skip
    assert inputs.warnings == []
    assert row not in inputs.blocks.index


def test_blocks_that_do_not_touch_need_a_study_area(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], ottawa_testcase: Path
) -> None:
    # Every block shrunk by 5 m (compounds drawn to their walls, the streets left out):
    # without --study-area each of the 77 blocks of West Centretown was an island, and the
    # run ended with 62 undersized units and exit 0.
    blocks, roads = ottawa
    shrunk = blocks.copy()
    shrunk["geometry"] = blocks.geometry.buffer(-5.0)
    where = "ONS_ID_gen3 == 3115"
    with pytest.raises(InputError) as caught:
        _load(tmp_path, shrunk, roads, where=where)
    (problem,) = caught.value.problems
    assert (
        "without --study-area the study area is the union of the blocks, and these 77 blocks form" in problem
    )
    assert "Give --study-area with the outline of the area to redistrict" in problem
    # With the study area given, the same blocks load; the real blocks need none.
    path = tmp_path / "case.gpkg"
    inputs = load_inputs(
        f"{path}:roads", f"{path}:dissemination_blocks", "dburdwell2021", where=where,
        study_area=f"{ottawa_testcase}:ons_neighbourhoods",
    )  # fmt: skip
    assert int(inputs.blocks["households"].sum()) == 5079
    assert int(_load(tmp_path, blocks, roads, where=where).blocks["households"].sum()) == 5079


def test_a_study_area_holding_blocks_the_selection_leaves_out_is_warned_about(
    tmp_path: Path, ottawa_testcase: Path
) -> None:
    # West Centretown selected with --where, the three neighbourhoods as one study area: the
    # other two neighbourhoods' land used to be planned silently as West Centretown's.
    spec = (f"{ottawa_testcase}:roads", f"{ottawa_testcase}:dissemination_blocks", "dburdwell2021")
    where = "ONS_ID_gen3 == 3115"
    layer = gpd.read_file(ottawa_testcase, layer="ons_neighbourhoods")
    district = tmp_path / "district.gpkg"
    _write(layer.dissolve(), district, "district")
    inputs = load_inputs(*spec, where=where, study_area=f"{district}:district")
    warning = _one(inputs.warnings, "leaves out")
    assert "the study area also holds " in warning
    assert "blocks with 27,764 households that --where 'ONS_ID_gen3 == 3115' leaves out" in warning
    # A study area of the selected neighbourhood alone says nothing.
    path = tmp_path / "west.gpkg"
    _write(layer[layer["ONS_ID"].astype(str) == "3115"], path, "west")
    alone = load_inputs(*spec, where=where, study_area=f"{path}:west")
    assert not [w for w in alone.warnings if "leaves out" in w]
    # The layer of all three: its features holding the selected blocks are the study area (the
    # warning's advice used to lead back to the error asking for a study area).
    kept = load_inputs(*spec, where=where, study_area=f"{ottawa_testcase}:ons_neighbourhoods")
    assert not [w for w in kept.warnings if "leaves out" in w]
    assert "kept the 1 of its 3 features that hold blocks --where 'ONS_ID_gen3 == 3115' selects" in (
        " ".join(kept.notes)
    )
    assert kept.study_area.area == pytest.approx(alone.study_area.area, rel=1e-9)


# --------------------------------------------------------------------------- 2. overlapping blocks


def test_a_block_repeated_with_its_households_is_warned_about(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    blocks, roads = ottawa
    row = _centretown_rows(blocks)[20]
    # The same block from a second source: same outline and households, another id.
    extra = blocks.loc[[row]].assign(DBUID="merged-" + blocks.loc[row, "DBUID"])
    doubled = gpd.GeoDataFrame(pd.concat([blocks, extra], ignore_index=True), crs=blocks.crs)
    inputs = _load(tmp_path, doubled, roads)
    warning = _one(inputs.warnings, "the same outline and the same households")
    assert f"1 row (row id {len(blocks)}, counting from 0) has the same outline" in warning
    assert f"as row {row} (only other columns differ)" in warning
    assert "probably counted twice" in warning and "remove the extra row" in warning
    assert not any("overlap by" in w for w in inputs.warnings)


def test_blocks_overlapping_substantially_are_warned_about(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    blocks, roads = ottawa
    row = _centretown_rows(blocks)[10]
    # A copy of a block shifted by 20 m, as when two layers of the same place are merged.
    shifted = blocks.loc[[row]].assign(geometry=blocks.geometry[[row]].translate(20, 0))
    merged = gpd.GeoDataFrame(pd.concat([blocks, shifted], ignore_index=True), crs=blocks.crs)
    inputs = _load(tmp_path, merged, roads)
    warning = _one(inputs.warnings, "of blocks overlap")
    new = len(blocks)
    original = blocks.geometry[row]
    share = original.intersection(merged.geometry[new]).area / original.area
    assert f"rows {row} and {new} ({share:.0%} of row " in warning
    assert "keep one copy" in warning and "do not overlap" in warning


def test_slivers_along_shared_edges_are_not_overlaps(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    blocks, roads = ottawa
    grown = blocks.copy()
    # Every Centretown block drawn 0.4 m too wide: each overlaps its neighbours in slivers.
    rows = _centretown_rows(blocks)
    grown.loc[rows, "geometry"] = blocks.geometry[rows].buffer(0.4, join_style="mitre")
    inputs = _load(tmp_path, grown, roads)
    assert inputs.warnings == []


def test_the_warnings_are_printed_as_warnings(tmp_path: Path) -> None:
    base = _blocks(name=[f"b{i}" for i in range(9)])
    extra = base.iloc[[4]].assign(name="b4 again")
    blocks = gpd.GeoDataFrame(pd.concat([base, extra], ignore_index=True), crs=CRS)
    run = _plan(tmp_path, blocks=blocks)
    assert _succeeds(run)["households"] == 10 * HOUSEHOLDS
    expected = (
        f"warning: blocks ({tmp_path / 'blocks.gpkg'}:blocks): 1 row (row id 9, counting from 0) "
        "has the same outline and the same households as row 4"
    )
    assert expected in run.stderr
    assert "same outline" in run.notes()
    # Still a warning when the run then fails (--strict, and no unit fits 2,100-2,400).
    failed = _plan(tmp_path, "--band", "2100", "2400", "--strict", blocks=blocks, out=tmp_path / "strict")
    assert failed.result.exit_code == 3, failed.result.output
    assert expected in failed.stderr


# --------------------------------------------------------------------------- 3. roads stopping short


def _shortened(
    blocks: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, metres: float
) -> tuple[gpd.GeoDataFrame, list[int]]:
    """Roads with three Centretown streets ending ``metres`` before the road they met."""
    area = shapely.union_all(blocks.geometry[_centretown_rows(blocks)].to_numpy())
    lines = roads.geometry.to_numpy()
    tree = shapely.STRtree(lines)
    chosen: list[int] = []
    for k, line in enumerate(lines):
        end = shapely.get_point(line, -1)
        if line.length > 60 and area.contains(line):
            touching = [j for j in tree.query(end, predicate="dwithin", distance=1e-6) if j != k]
            if touching:
                chosen.append(k)
        if len(chosen) == 3:
            break
    cut = roads.copy()
    for k in chosen:
        cut.loc[cut.index[k], "geometry"] = shapely.ops.substring(lines[k], 0, lines[k].length - metres)
    return cut, [int(cut.index[k]) for k in chosen]


def test_roads_stopping_a_few_metres_short_are_warned_about(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    blocks, roads = ottawa
    cut, rows = _shortened(blocks, roads, 3.0)
    inputs = _load(tmp_path, blocks, cut)
    warning = _one(inputs.warnings, "short of another road without touching it")
    assert warning.startswith(f"roads ({tmp_path / 'case.gpkg'}:roads): 3 road ends stop between 1 and 5 m")
    for row in rows:
        end = shapely.get_point(cut.geometry[row], -1)
        assert f"row {row} ends 3.0 m short of row " in warning
        assert f"at ({end.x:.1f}, {end.y:.1f})" in warning
    assert "snap the road ends" in warning


@pytest.mark.parametrize("metres", [0.5, 12.0], ids=["joined-by-the-atoms", "a-dead-end"])
def test_other_road_ends_are_not_gaps(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], metres: float
) -> None:
    blocks, roads = ottawa
    cut, _ = _shortened(blocks, roads, metres)
    inputs = _load(tmp_path, blocks, cut)
    assert inputs.warnings == []


# --------------------------------------------------------------------------- 4. zero-width band


@pytest.mark.parametrize("command", ["plan", "city"])
@pytest.mark.parametrize(
    ("band", "expected"),
    [
        (["2500", "2500"], "band lower bound 2500 equals the upper bound 2500: a band of zero width"),
        (["2600", "2400"], "band lower bound 2600 is above the upper bound 2400: swap them"),
    ],
    ids=["zero-width", "reversed"],
)
def test_a_band_without_width_is_refused_before_loading(
    tmp_path: Path, command: str, band: list[str], expected: str
) -> None:
    # The input files do not exist: the band is refused before anything is read.
    missing = str(tmp_path / "missing.gpkg")
    result = RUNNER.invoke(app, [
        command, "--roads", missing, "--blocks", missing, "--households", "hh",
        "--band", *band, "--out", str(tmp_path / "out"),
    ])  # fmt: skip
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.split())
    assert message.startswith(f"error: invalid input: {expected}"), message
    assert message.endswith("the band needs LO < HI, e.g. --band 2400 2600"), message
    assert "missing.gpkg" not in message
    assert not (tmp_path / "out").exists()


def test_a_scenario_band_without_width_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "exact.toml"
    path.write_text('name = "exact"\n[band]\nlo = 2500\nhi = 2500\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    assert info.value.problems == [
        f"scenario file {path}: band.lo 2500 equals band.hi 2500: a band of zero width asks every "
        "unit to hold exactly 2,500 households, which units made of whole blocks almost never do "
        "(the solver would have to stretch the band); the band needs band.lo < band.hi, "
        "e.g. lo = 2400, hi = 2600"
    ]


def test_the_band_example_scales_with_the_band() -> None:
    from redistrict.problem import band_problems

    assert band_problems(100, 100)[0].endswith("e.g. --band 96 104")
    assert band_problems(1, 1)[0].endswith("e.g. --band 0 2")
    assert band_problems(2000, 3000) == []
    assert band_problems(0, 0) == ["band (0, 0) must be positive: give e.g. --band 2000 3000"]


def test_a_band_made_in_python_is_explained_in_python() -> None:
    # Band(3000, 2000) in a script or notebook was told to give "--band 2000 3000".
    from redistrict.problem import Band

    with pytest.raises(InputError) as info:
        Band(3000, 2000)
    assert str(info.value).endswith("the band needs lo < hi, e.g. Band(2000, 3000)")
    with pytest.raises(InputError, match=r"give e\.g\. Band\(2000, 3000\)$"):
        Band(-1, 5)


def test_a_block_with_a_stray_vertex_is_warned_about(
    tmp_path: Path, ottawa: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    # One vertex at (0, 0): the block stays next to its neighbours, but its outline (and
    # the study area, and one unit: 146 km² instead of 0.9) reaches across the map.
    blocks, roads = ottawa
    row = _centretown_rows(blocks)[3]
    spiked = blocks.copy()
    polygon = shapely.get_parts(blocks.geometry[row])[0]
    ring = list(polygon.exterior.coords)
    ring.insert(2, (0.0, 0.0))
    spiked.loc[row, "geometry"] = shapely.MultiPolygon([shapely.Polygon(ring)])
    inputs = _load(tmp_path, spiked, roads)
    warning = _one(inputs.warnings, "reaches out of the other blocks' extent")
    assert f"row {row!r} reaches " in warning and "to (0.0, 0.0)" in warning
    assert "fix the vertex, or give --study-area" in warning


def test_road_ends_on_the_edge_of_the_study_area_are_not_gaps() -> None:
    # Road A ends on the study area's edge (which closes its block), 2 m from road C that
    # bends inside the edge: it used to be warned about. Road D stops 2 m short of road E
    # well inside the area: that one is a gap.
    from shapely.geometry import LineString, box

    from redistrict._validate_roads import check_road_gaps

    area = box(0, 0, 100, 100)
    lines = {
        "A": LineString([(0, 30), (100, 30)]),
        "C": LineString([(2, 0), (2, 100)]),
        "E": LineString([(20, 80), (100, 80)]),
        "D": LineString([(50, 30), (50, 78)]),
    }
    roads = gpd.GeoDataFrame({"name": list(lines)}, geometry=list(lines.values()), crs=CRS)
    (warning,) = check_road_gaps(roads, area, "roads (r.gpkg)")
    assert "1 road end stops between 1 and 5 m short" in warning
    assert "row 3 ends 2.0 m short of row 2" in warning


def test_many_streets_stopping_at_the_kerb_of_wide_roads_are_warned_about() -> None:
    # Local streets drawn to the kerb of the arterials, 8 m short of their centre lines: each
    # joined the blocks on both sides into one atom (187 atoms became 87), and nothing said so.
    from shapely.geometry import LineString, box

    from redistrict._validate_roads import check_road_gaps

    area = box(0, 0, 1200, 1200)
    arterials = [LineString([(0, y), (1200, y)]) for y in (0, 400, 800, 1200)]
    arterials += [LineString([(x, 0), (x, 1200)]) for x in (0, 400, 800, 1200)]
    streets = [
        LineString([(x, y0 + 8), (x, y0 + 392)])
        for x in (100, 200, 300, 500, 600, 700)
        for y0 in (0, 400, 800)
    ]
    roads = gpd.GeoDataFrame(geometry=arterials + streets, crs=CRS)
    warnings = check_road_gaps(roads, area, "roads (r.gpkg)")
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "roads (r.gpkg): 36 of the 36 road ends inside the study area stop between 5 and 20 m short of "
        "another road"
    )
    assert "drawn to the kerb of wider roads" in warnings[0]
    # A few dead ends that far from a road are normal: nothing is said.
    assert check_road_gaps(roads.iloc[: len(arterials) + 3], area, "roads (r.gpkg)") == []
    # Streets running 8 m (or 3 m) past the arterials they cross close their blocks: overshoots,
    # not gaps (they were counted as ends stopping short).
    for past in (8, 3):
        over = [
            LineString([(x, y0 - past), (x, y0 + 400 + past)])
            for x in (100, 200, 300, 500, 600, 700)
            for y0 in (0, 400)
        ]
        assert (
            check_road_gaps(gpd.GeoDataFrame(geometry=arterials + over, crs=CRS), area, "roads (r.gpkg)")
            == []
        )
    # ... but a line that meets the other road only far from its end (a ring road drawn as one
    # feature, a way turning a corner) still has a gap there
    ring = LineString([(-100, -100), (100, -100), (100, 100), (-100, 100), (-100, -100)])
    spoke = LineString([(-100, 0), (97, 0)])
    gaps = check_road_gaps(gpd.GeoDataFrame(geometry=[ring, spoke], crs=CRS), box(-200, -200, 200, 200), "r")
    assert len(gaps) == 1 and "row 1 ends 3.0 m short of row 0" in gaps[0]
