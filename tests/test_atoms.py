"""Tests of redistrict.atoms on hand-made street grids and on the Ottawa test case."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

from redistrict.atoms import GRID_M, Atoms, build_atoms
from redistrict.errors import InputError
from redistrict.load import Inputs

CRS = pyproj.CRS("EPSG:32189")
AREA = box(0, 0, 300, 300)


def grid_roads(extra: list[LineString] | None = None) -> gpd.GeoDataFrame:
    """Streets x = 100, 200 and y = 100, 200 across a 300 m square (x = 100 is major)."""
    lines = [LineString([(x, 0), (x, 300)]) for x in (100, 200)]
    lines += [LineString([(0, y), (300, y)]) for y in (100, 200)]
    lines += extra or []
    classes = ["arterial", "local", "local", "local"] + ["local"] * len(extra or [])
    return gpd.GeoDataFrame(
        {"road_class": classes, "major": [c == "arterial" for c in classes]},
        geometry=lines,
        crs=CRS,
    )


def cell(col: int, row: int) -> Polygon:
    """The grid face in column ``col`` and row ``row`` (0 = west / south)."""
    return box(col * 100, row * 100, col * 100 + 100, row * 100 + 100)


def make_inputs(
    geoms: list[shapely.Geometry],
    households: list[int],
    *,
    residents: list[float] | None = None,
    roads: gpd.GeoDataFrame | None = None,
    area: Polygon = AREA,
    barriers: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    index: list[int] | None = None,
) -> Inputs:
    data: dict[str, object] = {"households": np.asarray(households, dtype=np.int64)}
    if residents is not None:
        data["residents"] = np.asarray(residents, dtype=np.float64)
    blocks = gpd.GeoDataFrame(data, geometry=geoms, crs=CRS, index=index)
    return Inputs(
        blocks=blocks,
        roads=grid_roads() if roads is None else roads,
        study_area=area,
        crs=CRS,
        communities=communities,
        barriers=barriers,
        offices=None,
        sources={},
        notes=[],
    )


def centre_points() -> tuple[list[Point], list[int]]:
    points = [Point(c * 100 + 50, r * 100 + 50) for r in range(3) for c in range(3)]
    return points, [10 * (k + 1) for k in range(9)]


def atom_at(result: Atoms, x: float, y: float) -> int:
    hits = result.atoms.index[result.atoms.contains(Point(x, y))]
    assert len(hits) == 1
    return int(hits[0])


def assert_tiles(result: Atoms, area: shapely.Geometry) -> None:
    """The atoms cover ``area`` without overlap, up to the 1 mm coordinate grid."""
    geoms = result.atoms.geometry
    slack = area.length * GRID_M
    assert geoms.area.sum() == pytest.approx(area.area, abs=slack)
    assert shapely.union_all(geoms.values).symmetric_difference(area).area < slack


# ------------------------------------------------------------------ roads mode, point blocks


def test_grid_of_points_gives_nine_faces_in_row_order() -> None:
    points, households = centre_points()
    result = build_atoms(make_inputs(points, households), max_households=3000)
    atoms = result.atoms
    assert len(atoms) == 9
    assert atoms.index.name == "atom_id"
    assert list(atoms.index) == list(range(9))
    assert set(atoms["kind"]) == {"face"}
    assert atoms["households"].dtype == np.int64
    assert atoms["n_blocks"].tolist() == [1] * 9
    # ordered south to north, then west to east: block k sits in atom k
    assert atoms["households"].tolist() == households
    assert result.block_atom.tolist() == list(range(9))
    assert "residents" not in atoms.columns
    assert "community_id" not in atoms.columns
    assert_tiles(result, AREA)
    assert atoms.crs == CRS


def test_point_on_a_road_is_shared_between_the_faces_on_either_side() -> None:
    # 11 on x = 100 between faces (0, 2) and (1, 2); 12 where x = 200 crosses y = 100
    # (four faces); 13 inside face (0, 0); 14 in face (1, 1) but 5 mm from y = 200
    points = [Point(100, 250), Point(200, 100), Point(50, 50), Point(150, 199.995)]
    inputs = make_inputs(points, [7, 10, 3, 4], residents=[15.0, 9.0, 4.0, 2.5], index=[11, 12, 13, 14])
    result = build_atoms(inputs, max_households=3000)
    hh = {
        (c, r): int(result.atoms.loc[atom_at(result, c * 100 + 50, r * 100 + 50), "households"])
        for c in range(3)
        for r in range(3)
    }
    assert sorted([hh[0, 2], hh[1, 2] - 2]) == [3, 4]
    assert sorted([hh[1, 0], hh[2, 0], hh[1, 1] - 2, hh[2, 1]]) == [2, 2, 3, 3]
    assert hh[0, 0] == 3
    assert hh[0, 1] == hh[2, 2] == 0
    assert result.atoms["households"].sum() == 24
    assert result.atoms["residents"].sum() == 30.5
    # residents not all whole: split in equal fractions (half of 15 and of 2.5)
    assert result.atoms.loc[atom_at(result, 150, 250), "residents"] == 7.5 + 1.25
    assert result.atoms["n_blocks"].sum() == 2 + 4 + 1 + 2
    assert any(
        "3 point blocks lie on road lines between faces (11, 12, 14)" in n and "shared" in n
        for n in result.notes
    ), result.notes
    assert not any("outside" in n for n in result.notes)


def test_one_household_points_on_a_road_are_dealt_to_both_sides() -> None:
    # address points geocoded to the centre line x = 100, one household each
    points = [Point(100, 10 * k + 5) for k in range(10)]
    result = build_atoms(make_inputs(points, [1] * 10), max_households=3000)
    west, east = atom_at(result, 50, 50), atom_at(result, 150, 50)
    assert result.atoms.loc[west, "households"] == 5
    assert result.atoms.loc[east, "households"] == 5
    assert sorted(result.block_atom) == sorted([east] * 5 + [west] * 5)


def test_point_outside_every_face_goes_to_nearest_with_note() -> None:
    points = [Point(350, 20), Point(50, 50)]
    result = build_atoms(make_inputs(points, [5, 1], index=[41, 42]), max_households=3000)
    assert result.block_atom[41] == atom_at(result, 250, 50)
    assert result.atoms.loc[atom_at(result, 250, 50), "households"] == 5
    assert any("41" in n and "outside" in n for n in result.notes)


def test_empty_faces_are_kept() -> None:
    result = build_atoms(make_inputs([Point(50, 50)], [12]), max_households=3000)
    assert len(result.atoms) == 9
    assert (result.atoms["households"] == 0).sum() == 8
    assert_tiles(result, AREA)


# ------------------------------------------------------------------ roads mode, polygon blocks


def bottom_row_blocks() -> tuple[list[Polygon], list[int], list[float]]:
    """Polygon blocks tiling the grid; block 2 straddles x = 200 (70 % west, 30 % east)."""
    blocks = [box(0, 0, 100, 100), box(100, 0, 130, 100), box(130, 0, 230, 100)]
    blocks += [box(230, 0, 300, 100), box(0, 100, 300, 300)]
    return blocks, [4, 6, 7, 9, 0], [9.0, 11.0, 15.0, 20.0, 0.0]


def test_block_split_across_faces_by_largest_remainder() -> None:
    blocks, households, residents = bottom_row_blocks()
    inputs = make_inputs(blocks, households, residents=residents)
    result = build_atoms(inputs, max_households=3000)
    atoms = result.atoms
    west, east = atom_at(result, 150, 50), atom_at(result, 250, 50)
    # 7 households: quotas 4.9 and 2.1 -> 4 + 2, the spare one to the larger remainder
    assert atoms.loc[west, "households"] == 6 + 5
    assert atoms.loc[east, "households"] == 9 + 2
    # residents 15: quotas 10.5 and 4.5 -> tie on remainder, larger overlap wins
    assert atoms.loc[west, "residents"] == 11.0 + 11.0
    assert atoms.loc[east, "residents"] == 20.0 + 4.0
    assert atoms["households"].sum() == sum(households)
    assert atoms["residents"].sum() == sum(residents)
    assert atoms["residents"].dtype == np.float64
    assert result.block_atom.iloc[2] == west
    assert atoms.loc[west, "n_blocks"] == 2
    assert atoms.loc[east, "n_blocks"] == 2


def test_small_overlap_is_noise_and_goes_to_the_main_face() -> None:
    # 3 % of the block lies east of the street x = 100: all households stay west
    blocks = [box(0, 100, 103, 200), box(103, 100, 200, 200)]
    result = build_atoms(make_inputs(blocks, [5, 1]), max_households=3000)
    assert result.atoms.loc[atom_at(result, 50, 150), "households"] == 5
    assert result.atoms.loc[atom_at(result, 150, 150), "households"] == 1


def test_block_made_only_of_small_overlaps_is_shared_between_them() -> None:
    # a long thin block crossing 3 faces, each share 1/3: nothing is noise
    blocks = [box(0, 140, 300, 160)]
    result = build_atoms(make_inputs(blocks, [10]), max_households=3000)
    counts = [result.atoms.loc[atom_at(result, x, 150), "households"] for x in (50, 150, 250)]
    assert sorted(counts) == [3, 3, 4]


def test_coarse_block_is_spread_over_every_face_it_covers() -> None:
    # One block over the whole area (a neighbourhood total): streets every 50 m cut
    # all but the south-west face (100 x 100 m, 1/9 of the block) into 32 faces of
    # 50 x 50 m, each only 1/36 of the block but all of its face.
    extra = [LineString([(x, 0), (x, 300)]) for x in (150, 250)]
    extra += [LineString([(0, y), (300, y)]) for y in (150, 250)]
    extra += [LineString([(50, 100), (50, 300)]), LineString([(100, 50), (300, 50)])]
    result = build_atoms(make_inputs([AREA], [360], roads=grid_roads(extra)), max_households=3000)
    atoms = result.atoms
    assert len(atoms) == 33
    assert atoms.loc[atom_at(result, 50, 50), "households"] == 40
    assert (atoms.drop(index=atom_at(result, 50, 50))["households"] == 10).all()
    assert (atoms["n_blocks"] == 1).all()
    assert any(
        "1 block covers 5 or more faces (up to 33; 0), holding 360 of the 360 households" in n
        and "finer population data" in n
        for n in result.notes
    ), result.notes


def test_overhang_strip_into_a_small_face_is_still_noise() -> None:
    # A street at x = 120 leaves a 20 m wide face; the west block overhangs x = 100 by
    # 3 m: 15 % of that face and 3 % of the block, a digitising strip.
    roads = grid_roads([LineString([(120, 0), (120, 300)])])
    blocks = [box(0, 100, 103, 200), box(103, 100, 120, 200)]
    result = build_atoms(make_inputs(blocks, [50, 4], roads=roads), max_households=3000)
    assert result.atoms.loc[atom_at(result, 50, 150), "households"] == 50
    assert result.atoms.loc[atom_at(result, 110, 150), "households"] == 4
    assert not any("faces by area" in n for n in result.notes)


def test_polygon_block_outside_every_face_goes_to_nearest_with_note() -> None:
    blocks = [box(0, 0, 100, 100), box(320, 10, 330, 20)]
    result = build_atoms(make_inputs(blocks, [1, 8], index=[7, 99]), max_households=3000)
    assert result.block_atom[99] == atom_at(result, 250, 50)
    assert result.atoms["households"].sum() == 9
    assert any("99" in n and "outside" in n for n in result.notes)


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.floats(1.0, 299.0), min_size=1, max_size=6, unique=True),
    households=st.lists(st.integers(0, 500), min_size=7, max_size=7),
)
def test_households_conserved_for_any_block_layout(cuts: list[float], households: list[int]) -> None:
    edges = [0.0, *sorted(cuts), 300.0]
    blocks = [box(a, 0, b, 300) for a, b in itertools.pairwise(edges)]
    counts = households[: len(blocks)]
    result = build_atoms(make_inputs(blocks, counts), max_households=10_000)
    assert result.atoms["households"].sum() == sum(counts)
    assert (result.atoms["households"] >= 0).all()
    assert len(result.block_atom) == len(blocks)


# ------------------------------------------------------------------ subdivision


def test_oversize_face_is_subdivided_by_its_blocks() -> None:
    # face (1, 1) holds four blocks (140 households) and a strip without any block
    quarters = [box(100, 100, 150, 150), box(150, 100, 200, 150)]
    quarters += [box(100, 150, 150, 190), box(150, 150, 200, 190)]
    others = [cell(0, 0), cell(2, 2)]
    inputs = make_inputs(quarters + others, [40, 30, 20, 50, 70, 80], index=list(range(10, 16)))
    result = build_atoms(inputs, max_households=100)
    atoms = result.atoms
    pieces = atoms[atoms["kind"] == "block"]
    assert len(pieces) == 4
    assert len(atoms) == 8 + 4
    assert sorted(pieces["households"]) == [20, 30, 40, 50]
    assert pieces.geometry.area.sum() == pytest.approx(10_000)
    assert (atoms["households"] <= 100).all()
    assert atoms["households"].sum() == 290
    assert sorted(result.block_atom[[10, 11, 12, 13]]) == sorted(pieces.index)
    # every block's piece contains the block
    for block_id, geom in zip(range(10, 14), quarters, strict=True):
        assert atoms.geometry[result.block_atom[block_id]].contains(geom.centroid)
    assert_tiles(result, AREA)
    assert any("subdivided" in n for n in result.notes)


def _set_back_compounds() -> list[Polygon]:
    """Three compounds in face (1, 1), 8 m back from its streets, the middle one touching neither side."""
    return [box(108, 108, 130, 192), box(135, 108, 165, 192), box(170, 108, 192, 192), cell(0, 0)]


def test_subdivided_compounds_set_back_from_the_streets_each_keep_a_frontage() -> None:
    # The margin between the compounds and the road centre lines used to go whole to one
    # piece, leaving the others enclaves inside it: no plan could then put them in other units.
    inputs = make_inputs(_set_back_compounds(), [40, 30, 50, 5])
    result = build_atoms(inputs, max_households=100)
    pieces = result.atoms[result.atoms["kind"] == "block"]
    assert sorted(pieces["households"]) == [30, 40, 50]
    face = cell(1, 1).exterior
    for geom in pieces.geometry:
        assert geom.geom_type == "Polygon" and not geom.interiors
        assert geom.intersection(face).length > 50  # a frontage on the streets
    assert_tiles(result, AREA)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("angle", [0.0, 27.0])
def test_sharing_the_margin_keeps_a_tiling_with_a_frontage_for_each(seed: int, angle: float) -> None:
    # Four compounds of uneven size a few metres back from the streets, the map turned by
    # ``angle``. Evenly spaced samples on straight edges once made GEOS's Voronoi diagram
    # invalid: 34 of 40 such layouts raised a TopologyException, and most others overlapped.
    rng = np.random.default_rng(seed)
    compounds = []
    for i, j in itertools.product(range(2), range(2)):
        x0, y0 = 105 + 45 * i + rng.uniform(0, 5), 105 + 45 * j + rng.uniform(0, 5)
        compounds.append(box(x0, y0, x0 + rng.uniform(30, 38), y0 + rng.uniform(30, 38)))

    def turn(g: shapely.Geometry) -> shapely.Geometry:
        return shapely.affinity.rotate(g, angle, origin=(0, 0))

    roads = grid_roads()
    roads = roads.set_geometry(roads.geometry.rotate(angle, origin=(0, 0)))
    inputs = make_inputs(
        [turn(g) for g in [*compounds, cell(0, 0)]], [40, 30, 50, 20, 5], roads=roads, area=turn(AREA)
    )
    result = build_atoms(inputs, max_households=100)
    pieces = result.atoms[result.atoms["kind"] == "block"]
    assert sorted(pieces["households"]) == [20, 30, 40, 50]
    face = turn(cell(1, 1)).exterior
    assert all(geom.boundary.intersection(face.buffer(0.01)).length > 10 for geom in pieces.geometry)
    assert_tiles(result, turn(AREA))


def test_a_face_above_a_band_in_residents_is_subdivided() -> None:
    # 120 households are far below the household limit, 1,200 residents above the band's.
    inputs = make_inputs(_set_back_compounds(), [40, 30, 50, 5], residents=[400, 300, 500, 15])
    assert len(build_atoms(inputs, max_households=1000).atoms) == 9
    result = build_atoms(inputs, max_households=1000, max_residents=1000)
    assert len(result.atoms) == 9 - 1 + 3
    assert any("above 1,000 households or 1,000 residents" in n for n in result.notes)
    assert result.atoms["residents"].sum() == pytest.approx(1215)
    assert_tiles(result, AREA)


def test_single_block_above_max_is_kept_and_noted() -> None:
    blocks = [cell(1, 1), cell(0, 0)]
    result = build_atoms(make_inputs(blocks, [500, 5], index=[3, 4]), max_households=300)
    atom = result.block_atom[3]
    assert result.atoms.loc[atom, "households"] == 500
    assert result.atoms.loc[atom, "kind"] == "face"
    assert len(result.atoms) == 9
    assert any(
        "atom" in n and "holds 500 households, more than a unit may hold (300)" in n for n in result.notes
    )


def test_points_of_oversize_face_get_voronoi_cells() -> None:
    xy = [(120, 120), (180, 130), (150, 170), (110, 190), (190, 190)]
    points = [Point(p) for p in xy] + [Point(150, 170), Point(50, 50)]
    households = [30, 30, 30, 30, 30, 10, 5]
    result = build_atoms(make_inputs(points, households), max_households=100)
    atoms = result.atoms
    pieces = atoms[atoms["kind"] == "block"]
    assert len(pieces) == 5  # the two points at (150, 170) share one cell
    assert pieces.geometry.area.sum() == pytest.approx(10_000)
    for k, point in enumerate(points[:6]):
        atom = result.block_atom.iloc[k]
        assert atoms.geometry[atom].intersects(point)
        assert atoms.loc[atom, "kind"] == "block"
    assert atoms.loc[result.block_atom.iloc[2], "households"] == 40
    assert atoms.loc[result.block_atom.iloc[2], "n_blocks"] == 2
    assert atoms["households"].sum() == sum(households)
    assert_tiles(result, AREA)


# ------------------------------------------------------------------ slivers and barriers


def test_slivers_are_merged_into_their_neighbours() -> None:
    extra = [
        LineString([(0, 299.5), (300, 299.5)]),  # thin strip along the north boundary
        LineString([(0, 5), (5, 0)]),  # 12.5 m2 corner triangle
    ]
    points, households = centre_points()
    result = build_atoms(make_inputs(points, households, roads=grid_roads(extra)), max_households=3000)
    atoms = result.atoms
    assert len(atoms) == 9
    # each north face took back its own part of the strip, not its neighbours' parts
    assert atoms.geometry.area.tolist() == pytest.approx([10_000.0] * 9)
    assert (shapely.get_num_geometries(atoms.geometry.values) == 1).all()
    for point, count in zip(points, households, strict=True):
        assert atoms.loc[atom_at(result, point.x, point.y), "households"] == count
    assert any("sliver" in n for n in result.notes)


def test_one_sliver_is_counted_in_the_singular() -> None:
    corner = [LineString([(0, 5), (5, 0)])]  # a 12.5 m2 corner triangle, the only sliver
    points, households = centre_points()
    result = build_atoms(make_inputs(points, households, roads=grid_roads(corner)), max_households=3000)
    assert [n for n in result.notes if "sliver" in n] == ["1 sliver face merged into neighbouring faces"]


def test_barrier_line_splits_faces() -> None:
    barrier = gpd.GeoDataFrame(geometry=[LineString([(150, 0), (150, 300)])], crs=CRS)
    points, households = centre_points()
    inputs = make_inputs(points, households, barriers=barrier)
    result = build_atoms(inputs, max_households=3000)
    assert len(result.atoms) == 12
    assert result.atoms["households"].sum() == sum(households)
    assert_tiles(result, AREA)


def test_no_sliver_is_merged_across_a_barrier() -> None:
    # A barrier 1 m east of the street x = 100 cuts a 1-m strip off the middle column. The
    # strip touches the west column's faces along the street (100 m each) and the rest of
    # its own column's faces only across the barrier: it must join the west column.
    barrier = gpd.GeoDataFrame(geometry=[LineString([(101, 0), (101, 300)])], crs=CRS)
    points, households = centre_points()
    result = build_atoms(make_inputs(points, households, barriers=barrier), max_households=3000)
    line = barrier.geometry.iloc[0]
    inside = result.atoms.geometry.buffer(-0.1)
    assert not inside.intersects(line).any(), result.atoms[inside.intersects(line)]
    assert result.atoms["households"].sum() == sum(households)
    assert_tiles(result, AREA)


def test_barrier_polygon_is_cut_out() -> None:
    river = gpd.GeoDataFrame(geometry=[box(-10, 140, 310, 160)], crs=CRS)
    points = [Point(50, 50), Point(150, 150), Point(250, 250)]
    inputs = make_inputs(points, [1, 2, 3], barriers=river, index=[0, 1, 2])
    result = build_atoms(inputs, max_households=3000)
    assert len(result.atoms) == 12
    assert result.atoms.geometry.area.sum() == pytest.approx(90_000 - 6_000)
    assert not result.atoms.geometry.intersection(box(0, 141, 300, 159)).area.any()
    assert result.atoms["households"].sum() == 6
    assert any("outside" in n for n in result.notes)  # the point in the river


# ------------------------------------------------------------------ blocks mode, communities


def test_blocks_mode_uses_each_block() -> None:
    blocks = [cell(c, r) for r in range(3) for c in range(3)]
    households = list(range(9))
    result = build_atoms(make_inputs(blocks, households), max_households=3000, mode="blocks")
    atoms = result.atoms
    assert len(atoms) == 9
    assert set(atoms["kind"]) == {"block"}
    assert atoms["households"].tolist() == households
    assert result.block_atom.tolist() == list(range(9))
    for k, geom in enumerate(blocks):
        assert atoms.geometry[k].equals(geom)


def test_blocks_mode_rejects_points() -> None:
    points, households = centre_points()
    with pytest.raises(
        InputError, match=r"atoms from blocks \(--atoms blocks, mode 'blocks'\) need polygon blocks"
    ):
        build_atoms(make_inputs(points, households), max_households=3000, mode="blocks")


def test_blocks_mode_refuses_compounds_set_apart_by_streets() -> None:
    # Compounds 20 m apart touch nothing: every one became a unit of its own (115 units, 1 in
    # the band, exit 0). Blocks that tile the area, or nearly (7.5 m gaps are bridged), are fine.
    apart = [box(c * 100 + 10, r * 100 + 10, c * 100 + 90, r * 100 + 90) for r in range(3) for c in range(3)]
    with pytest.raises(
        InputError, match=r"these 9 blocks form 9 separate pieces \(compounds set apart by streets"
    ):
        build_atoms(make_inputs(apart, [500] * 9), max_households=3000, mode="blocks")
    close = [box(c * 100 + 3, r * 100 + 3, c * 100 + 97, r * 100 + 97) for r in range(3) for c in range(3)]
    assert len(build_atoms(make_inputs(close, [500] * 9), max_households=3000, mode="blocks").atoms) == 9


def test_community_with_most_area() -> None:
    communities = gpd.GeoDataFrame(
        {"community_id": ["west", "east"]},
        geometry=[box(0, 0, 170, 300), box(170, 0, 300, 300)],
        crs=CRS,
    )
    points, households = centre_points()
    result = build_atoms(make_inputs(points, households, communities=communities), max_households=3000)
    ids = result.atoms["community_id"].tolist()
    assert ids == ["west", "west", "east"] * 3


@pytest.mark.parametrize("kind", ["polygons", "points"])
def test_face_holding_two_communities_households_is_split_by_its_blocks(kind: str) -> None:
    # A community line runs through face (1, 1) at x = 170: west holds most of its area,
    # east most of its households. The whole face used to be west's, and east's 300
    # households were counted in west (community sizes, classes, households moved).
    communities = gpd.GeoDataFrame(
        {"community_id": ["west", "east"]},
        geometry=[box(0, 0, 170, 300), box(170, 0, 300, 300)],
        crs=CRS,
    )
    if kind == "polygons":
        blocks: list[shapely.Geometry] = [box(100, 100, 170, 200), box(170, 100, 200, 200), cell(0, 0)]
    else:
        blocks = [Point(130, 150), Point(185, 150), Point(50, 50)]
    inputs = make_inputs(blocks, [50, 300, 7], communities=communities)
    result = build_atoms(inputs, max_households=3000)
    atoms = result.atoms
    sizes = atoms.groupby("community_id")["households"].sum().to_dict()
    assert sizes == {"west": 57, "east": 300}
    assert atoms["households"].sum() == 357
    assert result.block_atom.iloc[0] != result.block_atom.iloc[1]
    assert atoms.loc[result.block_atom.iloc[1], "community_id"] == "east"
    assert any("held households of two or more existing communities" in n for n in result.notes)
    assert_tiles(result, AREA)


@pytest.mark.parametrize("kind", ["set back", "points"])
def test_a_face_of_two_communities_is_divided_along_their_line(kind: str) -> None:
    # Compounds set back 5 m from the road centre lines, west of x = 150 in W, east in E.
    # Split block by block, the road-side frame went whole to one piece, which then ringed
    # the others (no frontage: minimal-change could keep no community whole); address points
    # gave one atom per point.
    communities = gpd.GeoDataFrame(
        {"community_id": ["W", "E"]}, geometry=[box(0, 0, 150, 300), box(150, 0, 300, 300)], crs=CRS
    )
    if kind == "set back":
        blocks: list[shapely.Geometry] = [
            box(105, 105, 148, 148),
            box(105, 152, 148, 195),
            box(152, 105, 195, 148),
            box(152, 152, 195, 195),
        ]
    else:
        blocks = [Point(110 + 10 * i, 110 + 20 * j) for i in range(9) for j in range(5) if i != 4]
    households = [60] * len(blocks)
    result = build_atoms(make_inputs(blocks, households, communities=communities), max_households=3000)
    atoms = result.atoms
    face = atoms[atoms.intersects(Point(150, 150).buffer(49))]
    assert sorted(face["community_id"]) == ["E", "W"]
    assert face.groupby("community_id")["households"].sum().to_dict() == {"E": sum(households) // 2} | {
        "W": sum(households) // 2
    }
    for geom in face.geometry:
        assert geom.geom_type == "Polygon" and len(geom.interiors) == 0
        assert geom.intersection(cell(1, 1).boundary).length > 150  # its own road frontage
    assert "divided along the community lines" in " ".join(result.notes)
    assert_tiles(result, AREA)


def test_face_with_an_empty_block_of_another_community_stays_whole() -> None:
    # Only households count: a block without any in the other community splits nothing.
    communities = gpd.GeoDataFrame(
        {"community_id": ["west", "east"]},
        geometry=[box(0, 0, 170, 300), box(170, 0, 300, 300)],
        crs=CRS,
    )
    blocks = [box(100, 100, 170, 200), box(170, 100, 200, 200)]
    result = build_atoms(make_inputs(blocks, [50, 0], communities=communities), max_households=3000)
    assert len(result.atoms) == 9
    assert result.atoms.loc[result.block_atom.iloc[0], "community_id"] == "west"
    assert not any("communities" in n for n in result.notes)


@pytest.mark.parametrize(
    ("reach", "expected"), [((200, 200, 1000, 1000), ""), ((200, 200, 300, 300), "edge")]
)
def test_an_empty_community_mostly_outside_the_area_is_none(reach: tuple[int, ...], expected: str) -> None:
    # A neighbouring community reaching over the area's edge labelled the empty corner face
    # and was listed (and merged, costed) as a community of the plan with no households;
    # an empty community lying in the area (a park) is still one.
    communities = gpd.GeoDataFrame(
        {"community_id": ["main", "edge"]},
        geometry=[box(0, 0, 300, 300).difference(box(*reach)), box(*reach)],
        crs=CRS,
    )
    blocks = [cell(c, r) for r in range(3) for c in range(3) if (c, r) != (2, 2)]
    result = build_atoms(make_inputs(blocks, [100] * 8, communities=communities), max_households=3000)
    corner = atom_at(result, 250, 250)
    assert result.atoms.loc[corner, "households"] == 0
    assert result.atoms.loc[corner, "community_id"] == expected


# ------------------------------------------------------------------ errors, determinism


def test_all_input_problems_reported_together() -> None:
    blocks = gpd.GeoDataFrame(
        {"households": [1.5, -2.0]},
        geometry=[box(0, 0, 1, 1), LineString([(0, 0), (1, 1)])],
        crs=CRS,
    )
    inputs = make_inputs([box(0, 0, 1, 1)], [1])
    inputs.blocks = blocks
    with pytest.raises(InputError) as err:
        build_atoms(inputs, max_households=0, mode="streets")  # type: ignore[arg-type]
    problems = err.value.problems
    assert len(problems) >= 4
    text = "\n".join(problems)
    assert "max_households" in text
    assert "mode" in text
    assert "households" in text
    assert "only polygons or only points" in text


def test_geographic_crs_and_missing_column_rejected() -> None:
    inputs = make_inputs([box(0, 0, 1, 1)], [1])
    inputs.crs = pyproj.CRS("EPSG:4326")
    inputs.blocks = inputs.blocks.rename(columns={"households": "hh"})
    with pytest.raises(InputError) as err:
        build_atoms(inputs, max_households=10)
    assert len(err.value.problems) == 2


def test_missing_households_rejected() -> None:
    inputs = make_inputs([cell(0, 0), cell(1, 0)], [1, 2], index=[5, 6])
    inputs.blocks["households"] = pd.array([1, None], dtype="Int64")
    with pytest.raises(InputError, match="missing in blocks 6"):
        build_atoms(inputs, max_households=10)


def test_invalid_block_is_repaired_with_note() -> None:
    bowtie = Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])
    inputs = make_inputs([bowtie, cell(2, 2)], [6, 1], index=[8, 9])
    result = build_atoms(inputs, max_households=100)
    assert result.atoms["households"].sum() == 7
    assert result.atoms.loc[atom_at(result, 50, 50), "households"] == 6
    assert any("invalid" in n and "8" in n for n in result.notes)


def test_missing_residents_count_as_zero_with_note() -> None:
    points, households = centre_points()
    residents = [2.0] * 8 + [float("nan")]
    result = build_atoms(make_inputs(points, households, residents=residents), max_households=99)
    assert result.atoms["residents"].sum() == 16.0
    assert any("residents" in n for n in result.notes)


def test_same_atoms_whatever_the_block_order() -> None:
    blocks, households, residents = bottom_row_blocks()
    first = build_atoms(make_inputs(blocks, households, residents=residents), max_households=8)
    order = [3, 0, 4, 2, 1]
    shuffled = make_inputs(
        [blocks[k] for k in order],
        [households[k] for k in order],
        residents=[residents[k] for k in order],
        index=order,
    )
    second = build_atoms(shuffled, max_households=8)
    assert first.atoms.geometry.geom_equals_exact(second.atoms.geometry, 1e-9).all()
    pd.testing.assert_frame_equal(
        pd.DataFrame(first.atoms.drop(columns="geometry")),
        pd.DataFrame(second.atoms.drop(columns="geometry")),
    )
    pd.testing.assert_series_equal(first.block_atom, second.block_atom.sort_index())


# ------------------------------------------------------------------ Ottawa


def ottawa_inputs(path: Path, neighbourhood: str | None) -> Inputs:
    blocks = gpd.read_file(path, layer="dissemination_blocks")
    if neighbourhood is not None:
        blocks = blocks[blocks["ONS_ID_gen3"] == neighbourhood]
    roads = gpd.read_file(path, layer="roads")
    rank = roads["RANK"].astype(int)
    return Inputs(
        blocks=gpd.GeoDataFrame(
            {
                "households": blocks["dburdwell2021"].astype("int64"),
                "residents": blocks["dbpop2021"].astype("float64"),
            },
            geometry=blocks.geometry,
            crs=blocks.crs,
        ),
        roads=gpd.GeoDataFrame(
            {"road_class": roads["RANK"].astype(str), "major": rank <= 4},
            geometry=roads.geometry,
            crs=roads.crs,
        ),
        study_area=shapely.union_all(blocks.geometry.values),
        crs=blocks.crs,
        communities=None,
        barriers=None,
        offices=None,
        sources={},
        notes=[],
    )


@pytest.mark.parametrize("mode", ["roads", "blocks"])
@pytest.mark.parametrize(
    ("neighbourhood", "total"), [("3024", 20_333), (None, 32_843)], ids=["centretown", "all3"]
)
def test_ottawa_atoms(ottawa_testcase: Path, mode: str, neighbourhood: str | None, total: int) -> None:
    inputs = ottawa_inputs(ottawa_testcase, neighbourhood)
    result = build_atoms(inputs, max_households=3000, mode=mode)  # type: ignore[arg-type]
    atoms = result.atoms
    assert atoms["households"].sum() == total
    assert atoms["residents"].sum() == inputs.blocks["residents"].sum()
    assert atoms["households"].max() <= 3000
    assert atoms.geometry.is_valid.all()
    assert (result.block_atom >= 0).all()
    assert result.block_atom.index.equals(inputs.blocks.index)
    assert_tiles(result, inputs.study_area)
    if mode == "blocks":
        assert len(atoms) == len(inputs.blocks)
    else:
        # roughly one face per census block; far fewer would mean missing roads
        assert 0.8 * len(inputs.blocks) < len(atoms) < 1.5 * len(inputs.blocks)


def test_ottawa_centretown_subdivides_to_a_small_limit(ottawa_testcase: Path) -> None:
    inputs = ottawa_inputs(ottawa_testcase, "3024")
    result = build_atoms(inputs, max_households=150)
    atoms = result.atoms
    assert atoms["households"].sum() == 20_333
    assert (atoms["kind"] == "block").sum() >= 4
    over = atoms[atoms["households"] > 150]
    # only atoms made of a single block above the limit may stay above it
    assert (over["n_blocks"] == 1).all()
    assert len([n for n in result.notes if "cannot be split further" in n]) == len(over)
    assert_tiles(result, inputs.study_area)


@pytest.mark.parametrize("gap", [0.3, 0.6, 0.0006])
def test_road_ends_stopping_short_are_joined(gap: float) -> None:
    # Every street piece stops ``gap`` metres short of the crossings and of the area's
    # edge: without joining, no block is closed (one face, split by its blocks). Gaps
    # under the 1 mm grid (0.6 mm, as reprojection from degrees leaves them) are joined
    # too: snapping to the grid alone does not close them.
    pieces = []
    for k in (100, 200):
        cuts = [0, 100, 200, 300]
        for a, b in itertools.pairwise(cuts):
            pieces.append(LineString([(k, a + gap), (k, b - gap)]))
            pieces.append(LineString([(a + gap, k), (b - gap, k)]))
    roads = gpd.GeoDataFrame({"road_class": ["local"] * len(pieces)}, geometry=pieces, crs=CRS)
    points, households = centre_points()
    result = build_atoms(make_inputs(points, households, roads=roads), max_households=3000)
    assert len(result.atoms) == 9
    for c, r in itertools.product(range(3), range(3)):
        atom = result.atoms.geometry.loc[atom_at(result, c * 100 + 50, r * 100 + 50)]
        assert abs(atom.area - 10_000) < 1.0  # the whole cell, up to the joined corners
    assert any("road ends stopped less than 1 m short" in n for n in result.notes), result.notes
    assert any("by less than 1 mm" in n for n in result.notes) == (gap < 0.001), result.notes
    assert int(result.atoms["households"].sum()) == sum(households)


def test_road_ends_beyond_the_snapping_distance_stay_loose() -> None:
    # A dead end 1.5 m short of the street y = 100: a real cul-de-sac, left alone.
    stub = [LineString([(150, 0), (150, 98.5)])]
    result = build_atoms(make_inputs(*centre_points(), roads=grid_roads(stub)), max_households=3000)
    assert not any("road ends stopped" in n for n in result.notes), result.notes
    assert len(result.atoms) == 9


def test_merging_a_millimetre_part_keeps_faces_polygonal() -> None:
    # Captured from a study area drawn within a centimetre of the road centre lines (a
    # synthetic Chinese district): a cut sliver part a few millimetres long merged into
    # its face. On the 1 mm grid the union came back as a GeometryCollection holding a
    # degenerate ring, and a later overlay raised "Overlay input is mixed-dimension".
    from redistrict._atoms_faces import _polygonal

    face = shapely.from_wkt(
        "POLYGON ((412546.571 3250554.915, 412535.766 3250605.746, 412534.033 3250613.901, "
        "412683.316 3250645.632, 412683.318 3250645.624, 412683.318 3250645.623, 412697.22 3250571.814, "
        "412681.4 3250570.406, 412681.121 3250570.379, 412680.843 3250570.352, 412611.606 3250563.106, "
        "412610.851 3250563.019, 412610.85 3250563.019, 412557.433 3250556.285, 412546.571 3250554.915))"
    )
    part = shapely.from_wkt(
        "POLYGON ((412683.318 3250645.628, 412683.318 3250645.627, 412683.318 3250645.626, "
        "412683.317 3250645.628, 412683.318 3250645.628))"
    )
    union = shapely.union(face, part, grid_size=GRID_M)
    assert union.geom_type == "GeometryCollection"  # what GEOS gives: the case is still real
    with pytest.raises(shapely.errors.GEOSException, match="mixed-dimension"):
        shapely.intersection(union, box(412500, 3250500, 412700, 3250700), grid_size=GRID_M)
    merged = _polygonal(union)
    assert merged.geom_type == "Polygon"
    assert merged.is_valid
    assert merged.area == pytest.approx(face.area, abs=1e-3)
    shapely.intersection(merged, box(412500, 3250500, 412700, 3250700), grid_size=GRID_M)  # no error


def test_overlapping_compounds_each_keep_a_frontage() -> None:
    # A face of a synthetic Chinese district: three compounds 11 m back from the streets,
    # the middle one overlapping both others. The overlay sharing the margin raised
    # "mixed-dimension" on a collapsed line, the margin went whole to one compound, and the
    # 2,321-household compound became an enclave inside its neighbour's atom.
    from redistrict._atoms_split import _split_by_polygons

    face = shapely.from_wkt(
        "POLYGON ((413283.86 3251775.733, 413306.485 3251669.291, 413307.306 3251665.426, "
        "412989.408 3251597.854, 412965.962 3251708.162, 413080.926 3251732.599, "
        "413194.067 3251756.647, 413283.86 3251775.733))"
    )
    compounds = [
        "POLYGON ((413124.127 3251637.552, 412997.743 3251610.688, 412978.795 3251699.828, "
        "413105.18 3251726.692, 413124.127 3251637.552))",
        "POLYGON ((413135.366 3251639.941, 413129.996 3251638.799, 413111.049 3251727.939, "
        "413116.419 3251729.081, 413135.366 3251639.941))",
        "POLYGON ((413294.473 3251673.76, 413141.235 3251641.188, 413122.288 3251730.328, "
        "413275.525 3251762.9, 413294.473 3251673.76))",
    ]
    blocks = np.asarray([shapely.from_wkt(w) for w in compounds], dtype=object)
    result = _split_by_polygons(face, blocks)
    assert result is not None
    pieces, row_piece = result
    assert sorted(row_piece.tolist()) == [0, 1, 2]
    assert sum(p.area for p in pieces) == pytest.approx(face.area, abs=1.0)
    street = shapely.buffer(face.exterior, 0.05)
    for piece in pieces:
        assert piece.geom_type == "Polygon"
        assert shapely.intersection(piece.boundary, street).length > 10.0  # a frontage on the streets
