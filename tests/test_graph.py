"""Tests of redistrict.graph on hand-made grids and on the Ottawa test case."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from redistrict.atoms import build_atoms
from redistrict.errors import InputError
from redistrict.graph import build_graph, components_summary
from redistrict.load import Inputs

CRS = pyproj.CRS("EPSG:32189")
AREA = box(0, 0, 300, 300)
#: Rook neighbours of the 3 x 3 grid, cells numbered row by row from the south-west.
ROOK = {(0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8), (0, 3), (3, 6), (1, 4), (4, 7)}
ROOK |= {(2, 5), (5, 8)}


def grid_roads() -> gpd.GeoDataFrame:
    """Streets x = 100, 200 and y = 100, 200; x = 100 is the only major road."""
    lines = [LineString([(x, 0), (x, 300)]) for x in (100, 200)]
    lines += [LineString([(0, y), (300, y)]) for y in (100, 200)]
    classes = ["arterial", "local", "local", "local"]
    return gpd.GeoDataFrame(
        {"road_class": classes, "major": [c == "arterial" for c in classes]},
        geometry=lines,
        crs=CRS,
    )


def grid_atoms(shrink: float = 0.0, households: list[int] | None = None) -> gpd.GeoDataFrame:
    """3 x 3 square atoms; ``shrink`` > 0 opens gaps, < 0 makes them overlap."""
    cells = [
        box(c * 100 + shrink, r * 100 + shrink, c * 100 + 100 - shrink, r * 100 + 100 - shrink)
        for r in range(3)
        for c in range(3)
    ]
    counts = households if households is not None else [100 * (k + 1) for k in range(9)]
    frame = gpd.GeoDataFrame({"households": np.asarray(counts, dtype=np.int64)}, geometry=cells, crs=CRS)
    frame.index.name = "atom_id"
    return frame


def face_atoms(**kwargs: object) -> gpd.GeoDataFrame:
    """Atoms of the 3 x 3 street grid built by build_atoms in roads mode."""
    points = [Point(c * 100 + 50, r * 100 + 50) for r in range(3) for c in range(3)]
    blocks = gpd.GeoDataFrame({"households": np.full(9, 50, dtype=np.int64)}, geometry=points, crs=CRS)
    inputs = Inputs(
        blocks=blocks,
        roads=grid_roads(),
        study_area=AREA,
        crs=CRS,
        communities=None,
        barriers=None,
        offices=None,
        sources={},
        notes=[],
    )
    for key, value in kwargs.items():
        setattr(inputs, key, value)
    return build_atoms(inputs, max_households=3000).atoms


def edge_set(graph: nx.Graph) -> set[tuple[int, int]]:
    return {(min(u, v), max(u, v)) for u, v in graph.edges}


# ------------------------------------------------------------------ the street grid


def test_grid_faces_have_rook_edges_only() -> None:
    atoms = face_atoms()
    graph = build_graph(atoms, grid_roads())
    assert sorted(graph.nodes) == list(range(9))
    assert edge_set(graph) == ROOK  # 12 edges, no diagonal corner edges
    for _, _, data in graph.edges(data=True):
        assert data["length"] == pytest.approx(100.0, abs=0.1)
    assert pyproj.CRS.from_wkt(graph.graph["crs"]) == CRS
    node = graph.nodes[4]
    assert node["households"] == 50
    assert isinstance(node["households"], int)
    assert (node["x"], node["y"]) == pytest.approx((150.0, 150.0))
    assert node["area_m2"] == pytest.approx(10_000.0)
    assert "residents" not in node
    assert "community_id" not in node


def test_major_length_and_road_class() -> None:
    graph = build_graph(face_atoms(), grid_roads())
    across_major = {(0, 1), (3, 4), (6, 7)}
    for u, v, data in graph.edges(data=True):
        if (min(u, v), max(u, v)) in across_major:
            assert data["major_length"] == pytest.approx(100.0, abs=0.1)
            assert data["road_class"] == "arterial"
        else:
            # side streets ending on the major road do not run along it (1 cm precision)
            assert data["major_length"] == pytest.approx(0.0, abs=0.05)
            assert data["road_class"] == "local"


def test_boundary_away_from_roads_has_no_class() -> None:
    graph = build_graph(grid_atoms(), grid_roads().iloc[[0]])
    assert graph.edges[0, 1]["road_class"] == "arterial"
    assert graph.edges[1, 2]["road_class"] == ""
    assert graph.edges[1, 2]["major_length"] == 0.0


def test_node_attributes_copied_when_present() -> None:
    atoms = grid_atoms()
    atoms["residents"] = np.arange(9, dtype=np.float64) * 2.5
    atoms["community_id"] = ["a", "a", "b"] * 3
    graph = build_graph(atoms, grid_roads())
    assert graph.nodes[5]["residents"] == 12.5
    assert graph.nodes[5]["community_id"] == "b"


def test_barrier_line_along_a_road_removes_the_edges_across_it() -> None:
    barrier = gpd.GeoDataFrame(geometry=[LineString([(100, -5), (100, 305)])], crs=CRS)
    graph = build_graph(face_atoms(), grid_roads(), barrier)
    assert edge_set(graph) == ROOK - {(0, 1), (3, 4), (6, 7)}
    summary = components_summary(graph)
    assert summary["atoms"].tolist() == [6, 3]
    assert summary["households"].tolist() == [300, 150]
    assert summary["atom_ids"].iloc[1] == (0, 3, 6)
    assert summary.index.name == "component"


def test_barrier_line_through_faces_splits_them_apart() -> None:
    barrier = gpd.GeoDataFrame(geometry=[LineString([(150, 0), (150, 300)])], crs=CRS)
    atoms = face_atoms(barriers=barrier)
    assert len(atoms) == 12
    graph = build_graph(atoms, grid_roads(), barrier)
    west = set(atoms.index[atoms.geometry.centroid.x < 150])
    for u, v in graph.edges:
        assert (u in west) == (v in west)
    assert nx.number_connected_components(graph) == 2


def test_road_beside_a_river_joins_the_strip_between_them_to_its_own_bank() -> None:
    # The river runs 10 m south of the street y = 100 (an embankment road): the 10 m
    # strips between them belong to the north bank across the street, not to nothing.
    river = gpd.GeoDataFrame(geometry=[LineString([(-5, 90), (305, 90)])], crs=CRS)
    atoms = face_atoms(barriers=river)
    graph = build_graph(atoms, grid_roads(), river)
    y = atoms.geometry.centroid.y
    south, strip = set(atoms.index[y < 90]), set(atoms.index[(y > 90) & (y < 100)])
    assert len(south) == len(strip) == 3
    for u, v in graph.edges:
        assert (u in south) == (v in south), (u, v)  # nothing crosses the river
    for a in strip:
        across = [b for b in graph.neighbors(a) if atoms.geometry[b].centroid.y > 100]
        assert len(across) == 1, (a, list(graph.neighbors(a)))  # the atom across the street
    assert nx.number_connected_components(graph) == 2


def test_barrier_polygon_removes_edges_along_it() -> None:
    # a canal 2 m wide along y = 100, thinner than the gap bridged between atoms
    canal = gpd.GeoDataFrame(geometry=[box(-5, 99, 305, 101)], crs=CRS)
    graph = build_graph(grid_atoms(), grid_roads(), canal)
    assert edge_set(graph) == ROOK - {(0, 3), (1, 4), (2, 5)}


def test_short_barrier_across_a_long_boundary_keeps_the_edge() -> None:
    # a 10 m stub crossing the 100 m boundary between atoms 0 and 1 blocks nothing
    stub = gpd.GeoDataFrame(geometry=[LineString([(95, 50), (105, 50)])], crs=CRS)
    graph = build_graph(grid_atoms(), grid_roads(), stub)
    assert edge_set(graph) == ROOK


# ------------------------------------------------------------------ census blocks


@pytest.mark.parametrize("shrink", [2.0, 3.5], ids=["gap4m", "gap7m"])
def test_gaps_between_blocks_are_bridged_without_corner_edges(shrink: float) -> None:
    graph = build_graph(grid_atoms(shrink), grid_roads())
    assert edge_set(graph) == ROOK
    side = 100 - 2 * shrink
    for _, _, data in graph.edges(data=True):
        assert side - 15 < data["length"] <= side + 0.1


def test_wide_gaps_are_not_bridged() -> None:
    graph = build_graph(grid_atoms(5.0), grid_roads())  # 10 m gaps, snap_m / 2 = 7.5 m
    assert graph.number_of_edges() == 0
    assert len(components_summary(graph)) == 9
    wider = build_graph(grid_atoms(5.0), grid_roads(), snap_m=30.0)
    assert edge_set(wider) == ROOK


def test_overlapping_blocks_have_no_corner_edges() -> None:
    graph = build_graph(grid_atoms(-1.5), grid_roads())
    assert edge_set(graph) == ROOK
    for _, _, data in graph.edges(data=True):
        assert 90 < data["length"] <= 103.1


def test_skewed_corner_is_not_an_edge() -> None:
    # two blocks touching at one point with boundaries 20 degrees apart
    a = Polygon([(0, 0), (-100, 0), (-100, -100)])
    b = Polygon([(0, 0), (100, 36.4), (100, 100)])
    atoms = gpd.GeoDataFrame({"households": [1, 1]}, geometry=[a, b], crs=CRS)
    graph = build_graph(atoms, grid_roads())
    assert graph.number_of_edges() == 0


def test_min_shared_length() -> None:
    a, b = box(0, 0, 10, 10), box(10, 9.5, 20, 19.5)  # 0.5 m of shared boundary
    atoms = gpd.GeoDataFrame({"households": [1, 2]}, geometry=[a, b], crs=CRS)
    assert build_graph(atoms, grid_roads()).number_of_edges() == 0
    graph = build_graph(atoms, grid_roads(), min_shared_m=0.2)
    assert graph.edges[0, 1]["length"] == pytest.approx(0.5, abs=0.05)


# ------------------------------------------------------------------ determinism, summary, errors


def test_graph_is_sorted_and_deterministic() -> None:
    atoms = grid_atoms(2.0)
    shuffled = atoms.iloc[[4, 8, 0, 2, 7, 1, 3, 6, 5]]
    first = build_graph(atoms, grid_roads())
    second = build_graph(shuffled, grid_roads().iloc[::-1])
    assert list(first.nodes) == list(range(9))
    assert list(second.nodes) == list(first.nodes)
    assert list(second.edges(data=True)) == list(first.edges(data=True))
    assert list(first.edges) == sorted(first.edges)


def test_components_summary_orders_by_households() -> None:
    graph = nx.Graph()
    graph.add_node(5, households=10)
    graph.add_node(1, households=40)
    graph.add_node(2, households=1)
    graph.add_edge(1, 2)
    graph.add_node(7, households=10)
    summary = components_summary(graph)
    assert summary["households"].tolist() == [41, 10, 10]
    assert summary["atoms"].tolist() == [2, 1, 1]
    assert summary["atom_ids"].tolist() == [(1, 2), (5,), (7,)]
    assert summary["households"].dtype == np.int64
    assert components_summary(nx.Graph()).empty


def test_all_graph_input_problems_reported_together() -> None:
    atoms = grid_atoms().drop(columns="households")
    roads = grid_roads().drop(columns=["major"])
    with pytest.raises(InputError) as err:
        build_graph(atoms, roads, snap_m=0.0)
    text = "\n".join(err.value.problems)
    assert len(err.value.problems) == 3
    assert "snap_m" in text
    assert "households" in text
    assert "major" in text


def test_roads_in_another_crs_are_reprojected() -> None:
    roads = grid_roads().to_crs("EPSG:4326")
    graph = build_graph(face_atoms(), roads)
    assert graph.edges[0, 1]["major_length"] == pytest.approx(100.0, abs=0.5)


# ------------------------------------------------------------------ Ottawa


def ottawa_inputs(path: Path, neighbourhood: str | None) -> Inputs:
    blocks = gpd.read_file(path, layer="dissemination_blocks")
    if neighbourhood is not None:
        blocks = blocks[blocks["ONS_ID_gen3"] == neighbourhood]
    roads = gpd.read_file(path, layer="roads")
    return Inputs(
        blocks=gpd.GeoDataFrame(
            {"households": blocks["dburdwell2021"].astype("int64")},
            geometry=blocks.geometry,
            crs=blocks.crs,
        ),
        roads=gpd.GeoDataFrame(
            {"road_class": roads["RANK"].astype(str), "major": roads["RANK"].astype(int) <= 4},
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


def exact_neighbours(atoms: gpd.GeoDataFrame) -> set[tuple[int, int]]:
    """Pairs of atoms whose boundaries share at least 1 m (brute force)."""
    geoms = np.asarray(atoms.geometry.array, dtype=object)
    ids = atoms.index.to_numpy()
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    near = shapely.buffer(geoms[j], 0.01)
    length = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), near))
    return {(int(ids[a]), int(ids[b])) for a, b, n in zip(i, j, length, strict=True) if n >= 1.0}


@pytest.mark.parametrize("mode", ["roads", "blocks"])
@pytest.mark.parametrize(
    ("neighbourhood", "total"), [("3024", 20_333), (None, 32_843)], ids=["centretown", "all3"]
)
def test_ottawa_graph(ottawa_testcase: Path, mode: str, neighbourhood: str | None, total: int) -> None:
    inputs = ottawa_inputs(ottawa_testcase, neighbourhood)
    atoms = build_atoms(inputs, max_households=3000, mode=mode).atoms  # type: ignore[arg-type]
    graph = build_graph(atoms, inputs.roads)
    assert graph.number_of_nodes() == len(atoms)
    assert min(d for _, d in graph.degree) >= 1
    summary = components_summary(graph)
    assert len(summary) == 1
    assert summary["households"].iloc[0] == total
    # census blocks and road faces tile the area: the edges are the exact neighbours
    assert edge_set(graph) == exact_neighbours(atoms)
    lengths = pd.Series([d["length"] for _, _, d in graph.edges(data=True)])
    majors = pd.Series([d["major_length"] for _, _, d in graph.edges(data=True)])
    assert (majors <= lengths).all()
    assert 0.2 < (majors > 0).mean() < 0.9
    classes = {d["road_class"] for _, _, d in graph.edges(data=True)}
    assert classes <= {"", "1", "2", "3", "4", "5"}
    assert "5" in classes


@pytest.mark.parametrize("mode", ["roads", "blocks"])
def test_ottawa_subdivided_atoms_stay_connected(ottawa_testcase: Path, mode: str) -> None:
    inputs = ottawa_inputs(ottawa_testcase, "3024")
    atoms = build_atoms(inputs, max_households=150, mode=mode).atoms  # type: ignore[arg-type]
    if mode == "roads":
        assert (atoms["kind"] == "block").sum() >= 4
    graph = build_graph(atoms, inputs.roads)
    assert nx.is_connected(graph)
    assert min(d for _, d in graph.degree) >= 1
    assert edge_set(graph) == exact_neighbours(atoms)
