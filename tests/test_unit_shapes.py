"""Unit outlines: pieces joined across a bridged gap are drawn as one polygon."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import box

from redistrict.evaluate import unit_table
from redistrict.graph import SNAP_M, build_graph
from redistrict.problem import Band


def _atoms(geoms: list[shapely.Geometry], units: list[int]) -> gpd.GeoDataFrame:
    ids = pd.Index(range(len(geoms)), name="atom_id")
    return gpd.GeoDataFrame(
        {"households": [100] * len(geoms), "unit_id": units}, geometry=geoms, index=ids, crs="EPSG:32650"
    )


def test_a_unit_joined_across_a_narrow_gap_is_one_polygon() -> None:
    # a0 and a1 are 5 m apart (bridged by the graph); a2, the other unit, touches both.
    atoms = _atoms([box(0, 0, 100, 100), box(105, 0, 205, 100), box(0, 100, 205, 200)], [1, 1, 2])
    roads = gpd.GeoDataFrame(
        {"road_class": pd.Series([], dtype=str), "major": pd.Series([], dtype=bool)},
        geometry=gpd.GeoSeries([], crs=atoms.crs),
    )
    graph = build_graph(atoms[["households", "geometry"]], roads)
    assert graph.has_edge(0, 1)  # the premise: the graph counts them as neighbours
    units = unit_table(atoms, atoms["unit_id"], Band(100, 300)).set_index("unit_id")
    assert units.geometry[1].geom_type == "Polygon"
    # the gap is filled, no other unit is covered, and the area is the atoms' own
    assert units.geometry[1].area > 20_000
    assert units.geometry[1].intersection(units.geometry[2]).area < 1e-6
    assert units.loc[1, "area_km2"] == 20_000 / 1e6


def test_pieces_farther_apart_than_the_graph_bridges_stay_apart() -> None:
    far = SNAP_M  # twice the widest gap the graph bridges
    atoms = _atoms([box(0, 0, 100, 100), box(100 + far, 0, 200 + far, 100)], [1, 1])
    units = unit_table(atoms, atoms["unit_id"], Band(100, 300))
    assert units.geometry[0].geom_type == "MultiPolygon"
    assert units.geometry[0].area == 20_000


def test_outlines_of_single_piece_units_are_untouched() -> None:
    atoms = _atoms([box(0, 0, 100, 100), box(100, 0, 200, 100), box(0, 100, 200, 200)], [1, 1, 2])
    units = unit_table(atoms, atoms["unit_id"], Band(100, 300)).set_index("unit_id")
    assert units.geometry[1].equals(box(0, 0, 200, 100))
    assert units.geometry[2].equals(box(0, 100, 200, 200))


def test_pinholes_between_blocks_are_filled_but_an_enclosed_unit_stays_a_hole() -> None:
    # Four atoms round a 0.5 x 0.5 m gap left between blocks: the dissolved unit had a
    # pinhole that GIS software draws as a stray dash. Unit 2, enclosed by unit 3, stays a hole.
    pin = [box(0, 0, 50, 50), box(50.5, 0, 100, 50), box(0, 50.5, 50, 100), box(50.5, 50.5, 100, 100)]
    glue = [box(50, 0, 50.5, 50), box(0, 50, 50, 50.5), box(50.5, 50, 100, 50.5), box(50, 50.5, 50.5, 100)]
    ring = box(200, 0, 500, 300).difference(box(300, 100, 400, 200))
    atoms = _atoms([*pin, *glue, box(300, 100, 400, 200), ring], [1] * 8 + [2, 3])
    units = unit_table(atoms, atoms["unit_id"], Band(100, 900)).set_index("unit_id")
    assert units.geometry[1].geom_type == "Polygon" and len(units.geometry[1].interiors) == 0
    assert len(units.geometry[3].interiors) == 1


def test_a_unit_inside_another_is_named_in_a_note() -> None:
    from redistrict.evaluate import enclave_notes

    ring = box(0, 0, 300, 300).difference(box(100, 100, 200, 200))
    units = gpd.GeoDataFrame(
        {"unit_id": [1, 2, 3, 10], "households": [2400, 2321, 2500, 2200]},
        geometry=[ring, box(100, 100, 200, 200), box(300, 0, 400, 300), box(400, 0, 500, 300)],
        crs="EPSG:32650",
    )
    assert enclave_notes(units) == [
        "1 unit lies wholly inside another, reached only through its land: unit 2 (2,321 households) "
        "inside unit 1; check it on the map (a compound inside its own ring road can well be a unit "
        "of its own)"
    ]
    # Side by side, touching the edge of the area, or one unit only: no note.
    assert enclave_notes(units[units["unit_id"] != 2]) == []
    assert enclave_notes(units.iloc[[1]]) == []


def test_units_side_by_side_in_one_hole_or_nested_rings() -> None:
    from redistrict._unit_shapes import enclosed

    ring = box(0, 0, 300, 300).difference(box(100, 100, 200, 200))
    side = gpd.GeoSeries([ring, box(100, 100, 150, 200), box(150, 100, 200, 200)], index=[1, 2, 3])
    assert enclosed(side) == []  # 2 and 3 reach each other
    middle = box(50, 50, 250, 250).difference(box(100, 100, 200, 200))
    nested = gpd.GeoSeries(
        [box(0, 0, 300, 300).difference(box(50, 50, 250, 250)), middle, box(100, 100, 200, 200)],
        index=[1, 2, 3],
    )
    assert enclosed(nested) == [(2, 1), (3, 2)]
