"""Notes name the parts of the area by what a planner can find: communities, roads, barrier layers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, box

from redistrict import Band, Problem, solve
from redistrict._atom_places import atom_places
from redistrict._places import Places, describe
from redistrict.atoms import build_atoms
from redistrict.errors import InputError
from redistrict.graph import build_graph
from redistrict.load import load_inputs
from redistrict.locks import _settle
from redistrict.pipeline import unplanned_land, unplanned_residents

CRS = "EPSG:32650"


def _row(households: list[int], places: Places | None, band: Band) -> Problem:
    """Atoms 10, 11, ... in a row, 100 m apart; atoms 12 and 13 are not joined (a barrier)."""
    n = len(households)
    xy = [(100.0 * i, 0.0) for i in range(n)]
    edges = [(i, i + 1) for i in range(n - 1) if i != 2]
    return Problem.from_arrays(
        households, xy, edges, nodes=[10 + i for i in range(n)], band=band, places=places
    )


PLACES = Places(
    {
        10: "八字门社区",
        11: "八字门社区",
        12: "桃花社区",
        13: "东茅岭社区",
        14: "东茅岭社区",
        15: "金鹗山社区",
    },
    "community",
    {12: ((13, "demo.gpkg:railway"),), 13: ((12, "demo.gpkg:railway"),)},
)


def test_a_part_below_the_band_is_named_by_its_communities_and_barrier() -> None:
    # 10-12 hold 1,500 households (below the band), 13-15 hold 2,400.
    problem = _row([600, 400, 500, 900, 900, 600], PLACES, Band(2000, 3000))
    sol = solve(problem, time_limit=5)
    [note] = [n for n in sol.notes if "fewer than the band's lower bound" in n]
    assert note.startswith(
        "the part of the area with 1,500 households of 八字门社区 (1,000) and 桃花社区 (500), cut off from "
        "the rest by the barriers in demo.gpkg:railway (component 0: 3 atoms, 10, 11, 12): its 1,500"
    ), note


def test_without_places_the_part_is_named_as_before() -> None:
    problem = _row([600, 400, 500, 900, 900, 600], None, Band(2000, 3000))
    sol = solve(problem, time_limit=5)
    [note] = [n for n in sol.notes if "fewer than the band's lower bound" in n]
    assert note.startswith("component 0 (3 atoms: 10, 11, 12; 1,500 households): its 1,500"), note


def test_an_oversize_atom_is_named_by_its_community() -> None:
    problem = _row([600, 400, 3500, 900, 900, 600], PLACES, Band(2000, 3000))
    sol = solve(problem, time_limit=5)
    [note] = [n for n in sol.notes if "alone holds" in n]
    assert note.startswith("one atom of 桃花社区 (atom 12) alone holds 3,500 households"), note


def test_a_forced_group_is_named_by_its_communities() -> None:
    # Atom 11 is the only link of 10 (below the band) to the rest: 10 and 11 share a unit, above the band.
    xy = [(0.0, 0.0), (100.0, 0.0), (200.0, 0.0), (300.0, 0.0), (200.0, 100.0), (300.0, 100.0)]
    edges = [(0, 1), (1, 2), (2, 3), (3, 5), (5, 4), (4, 2)]
    problem = Problem.from_arrays(
        [1500, 1600, 700, 700, 700, 700], xy, edges, nodes=[10, 11, 12, 13, 14, 15],
        band=Band(2000, 3000), places=PLACES,
    )  # fmt: skip
    sol = solve(problem, time_limit=5)
    [note] = [n for n in sol.notes if "must share one unit" in n]
    assert note.startswith(
        "the atoms holding 3,100 households of 八字门社区 (atoms 10, 11) must share one unit"
    ), note


def test_describe_counts_the_communities_it_does_not_name() -> None:
    names = {i: f"C{i}" for i in range(5)} | {5: ""}
    region = np.arange(6, dtype=np.int64)
    text = describe(Places(names), list(range(6)), np.array([50, 40, 30, 20, 10, 5]), region)
    assert text == (
        "155 households of C0 (50), C1 (40), C2 (30), 2 other communities (30) and no existing community (5)"
    )
    # one left over is named, not "1 other communities"
    four = describe(Places(names), list(range(6)), np.array([50, 40, 30, 20, 0, 5]), region)
    assert four == "145 households of C0 (50), C1 (40), C2 (30), C3 (20) and no existing community (5)"
    roads = Places({0: "Bank Street", 1: "Bank Street", 2: "Elgin Street"}, "road")
    assert describe(roads, [0, 1, 2], np.array([10, 20, 5]), np.arange(3)) == (
        "35 households near Bank Street (30) and Elgin Street (5)"
    )
    assert describe(None, [0, 1], np.array([10, 20]), np.arange(2)) == "30 households"


def _faces() -> gpd.GeoDataFrame:
    """Three 100 x 200 m faces in a row, ids 1-3, households 10, 20, 30."""
    geoms = [box(100 * i, 0, 100 * (i + 1), 200) for i in range(3)]
    return gpd.GeoDataFrame(
        {"households": [10, 20, 30]}, geometry=geoms, index=[1, 2, 3], crs=CRS
    ).rename_axis("atom_id")


def _roads() -> gpd.GeoDataFrame:
    lines = [
        LineString([(0, 0), (300, 0)]),
        LineString([(100, -10), (100, 210)]),
        LineString([(200, -10), (200, 210)]),
    ]
    return gpd.GeoDataFrame(
        {"road_class": ["", "", ""], "major": [False] * 3, "name": ["Bank Street", "", "Elgin Street"]},
        geometry=lines,
        crs=CRS,
    )


def test_graph_records_the_barrier_layer_between_neighbours() -> None:
    barriers = gpd.GeoDataFrame(
        {"layer": ["city.gpkg:rail"]}, geometry=[LineString([(200, -10), (200, 210)])], crs=CRS
    )
    graph = build_graph(_faces(), _roads(), barriers)
    assert graph.graph["barrier_cuts"] == [(2, 3, "city.gpkg:rail")]
    places = atom_places(_faces(), graph, None, _roads())
    assert places.cuts == {2: ((3, "city.gpkg:rail"),), 3: ((2, "city.gpkg:rail"),)}


def test_without_communities_atoms_are_named_by_the_nearest_named_road() -> None:
    places = atom_places(_faces(), None, None, _roads())
    assert places.kind == "road"
    assert places.names == {1: "Bank Street", 2: "Elgin Street", 3: "Elgin Street"}
    assert atom_places(_faces(), None, None, _roads().drop(columns="name")).kind == "none"


def test_demo_parts_are_named_by_community_and_railway(demo_gpkg: Path) -> None:
    g = str(demo_gpkg)
    inputs = load_inputs(
        f"{g}:roads", f"{g}:blocks", "households", road_class="highway",
        barriers=[f"{g}:river", f"{g}:railway"], study_area=f"{g}:communities",
        communities=f"{g}:communities",
    )  # fmt: skip
    atoms = build_atoms(inputs, max_households=3500).atoms
    graph = build_graph(atoms, inputs.roads, inputs.barriers)
    problem = Problem.from_graph(
        graph, band=Band(3300, 3500), places=atom_places(atoms, graph, inputs.communities, inputs.roads)
    )
    small = min(problem.components(), key=len)
    text = describe(problem.places, problem.nodes, problem.households, small)
    assert text == f"2,134 households of 东茅岭社区, cut off from the rest by the barriers in {g}:railway"


@pytest.mark.parametrize("lang", ["en"])
def test_cli_warns_with_community_names(tmp_path: Path, lang: str) -> None:
    from typer.testing import CliRunner

    from redistrict.cli import app

    result = CliRunner().invoke(
        app,
        ["demo", "--out", str(tmp_path / "o"), "--band", "3300", "3500", "--time-limit", "3", "--lang", lang],
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert (
        "the part of the area with 2,134 households of 东茅岭社区, cut off from the rest by the barriers in"
        in text
    )
    assert "component 1 (9 atoms" not in text


def test_a_part_no_number_of_units_fits_is_named_when_units_are_asked_for() -> None:
    # 10-12 hold 3,100 households: one unit is above 3,000, two are below 2,000.
    problem = _row([1500, 1000, 600, 900, 900, 600], PLACES, Band(2000, 3000))
    with pytest.raises(InputError) as caught:
        solve(problem, units=2)
    assert (
        "a separate part of the area holds 3,100 households of 八字门社区 (2,500) and 桃花社区 (600), "
        "cut off from the rest by the barriers in demo.gpkg:railway, which no whole number of units"
    ) in str(caught.value)


def test_residents_in_no_unit_are_named_by_their_community() -> None:
    atoms = pd.DataFrame(
        {"unit_id": pd.array([pd.NA, pd.NA, 1], dtype="Int64"), "residents": [5.0, 10.0, 900.0]},
        index=pd.Index([12, 13, 14], name="atom_id"),
    )
    [note] = unplanned_residents(atoms, PLACES)
    assert note.startswith(
        "15 residents of 东茅岭社区 (10) and 桃花社区 (5) live in atoms that are in no unit (atoms 12, 13): "
    ), note
    assert unplanned_residents(atoms)[0].startswith(
        "15 residents live in atoms that are in no unit (atoms 12, 13)"
    )


def test_land_in_no_unit_is_noted_with_its_barriers() -> None:
    # An island in a river (atom 12) and a strip beyond a railway (atom 13), no households:
    # they were left out of every unit without a word, the units not covering the area.
    atoms = gpd.GeoDataFrame(
        {"unit_id": pd.array([pd.NA, pd.NA, 1, pd.NA], dtype="Int64"), "residents": [0.0, 0.0, 900.0, 7.0]},
        geometry=[box(0, 0, 100, 100), box(0, 0, 50, 100), box(0, 0, 10, 10),
                  box(0, 0, 10, 10)],
        index=pd.Index([12, 13, 14, 15], name="atom_id"),
        crs="EPSG:32650",
    )  # fmt: skip
    places = Places({}, "none", {12: ((14, "rural.gpkg:river"),), 13: ((14, "rural.gpkg:railway"),)})
    [note] = unplanned_land(atoms, places)
    assert note == (
        "2 atoms without households (1.5 ha) are in no unit (cut off by the barriers in rural.gpkg:river "
        "and rural.gpkg:railway), no unit reaching them (atoms 12, 13): the units do not cover them; "
        "give them to a neighbouring unit by hand if the plan must cover the whole area"
    )
    assert unplanned_land(atoms[atoms.index != 13].assign(unit_id=[1, 1, 1])) == []


def test_free_areas_between_locked_units_are_named_by_their_communities() -> None:
    # 10-11 are free (2,000 households would fit, 1,000 do not); 12-15 are locked.
    problem = _row([600, 400, 2500, 900, 900, 600], PLACES, Band(2000, 3000))
    group = np.array(["", "", "lock 1", "lock 2", "lock 2", "lock 2"], dtype=object)
    notes: list[str] = []
    _settle(problem, group, {}, notes)
    [note] = notes
    assert note.endswith(
        "cannot form units of 2,000-3,000 households: 1,000 households of 八字门社区 (atoms 10, 11); "
        "they are flagged"
    ), note


def test_roads_keep_their_names_when_clipped_to_a_where_selection(ottawa_testcase: Path) -> None:
    # Without communities the notes name parts by the nearest roads; --where clips the roads.
    f = str(ottawa_testcase)
    inputs = load_inputs(
        f"{f}:roads",
        f"{f}:dissemination_blocks",
        "dburdwell2021",
        road_class="RANK",
        where="ONS_ID_gen3 == 3024",
    )
    assert "Bank" in set(inputs.roads["name"])


def test_roads_named_in_a_chinese_column_give_their_names(tmp_path: Path) -> None:
    # Only a column called "name" was read: a layer with 道路名称 named no part of the area.
    from shapely.geometry import LineString, box

    from redistrict.load import load_inputs

    crs = "EPSG:32650"
    lines = [LineString([(0, y), (400, y)]) for y in (0, 200, 400)] + [
        LineString([(x, 0), (x, 400)]) for x in (0, 200, 400)
    ]
    names = ["南湖大道", "巴陵路", "金鹗路", "东茅岭路", "八字门路", "岳阳大道"]
    roads = gpd.GeoDataFrame({"道路名称": names}, geometry=lines, crs=crs)
    blocks = gpd.GeoDataFrame(
        {"hh": [600] * 4},
        geometry=[box(10 + x, 10 + y, 190 + x, 190 + y) for x in (0, 200) for y in (0, 200)],
        crs=crs,
    )
    path = tmp_path / "in.gpkg"
    roads.to_file(path, layer="roads")
    blocks.to_file(path, layer="blocks")
    area = gpd.GeoDataFrame(geometry=[box(0, 0, 400, 400)], crs=crs)
    area.to_file(path, layer="area")
    inputs = load_inputs(f"{path}:roads", f"{path}:blocks", "hh", study_area=f"{path}:area")
    assert set(inputs.roads["name"]) == set(names)


def test_communities_released_for_an_undersized_neighbour_are_named() -> None:
    # 10-11 (1,000 households) cannot form a unit; the in-band community kept softly next to
    # them (atom 12, id "c12") is released, and the note gave its id, not its name.
    problem = _row([600, 400, 2500, 900, 900, 600], PLACES, Band(2000, 3000))
    group = np.array(["", "", "community c12", "lock 2", "lock 2", "lock 2"], dtype=object)
    notes: list[str] = []
    _settle(problem, group, {"community c12": 2500}, notes, {"c12": "桃花社区"})
    assert any("can join them (the plan decides whether it does): 桃花社区;" in n for n in notes), notes
