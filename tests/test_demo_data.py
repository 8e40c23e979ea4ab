"""The embedded demo data ``data/demo.gpkg`` and the script that rebuilds it."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.strtree import STRtree

SCRIPT = Path(__file__).resolve().parents[1] / "data" / "make_demo.py"
LAYERS = ("communities", "blocks", "roads", "offices", "river", "railway")
# A seed that builds too (2025-2027 stop with exit code 2: see data/README.md).
OTHER_SEED = 2028
GEOMETRY_TYPES = {
    "communities": "Polygon",
    "blocks": "Polygon",
    "roads": "LineString",
    "offices": "Point",
    "river": "Polygon",
    "railway": "LineString",
}


@pytest.fixture(scope="module")
def make_demo() -> ModuleType:
    """``data/make_demo.py`` imported as a module (it is a script, not in a package)."""
    name = "_redistrict_make_demo"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo(demo_gpkg: Path) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the committed demo file."""
    return {name: gpd.read_file(demo_gpkg, layer=name) for name in LAYERS}


@pytest.fixture(scope="module")
def street_blocks(demo: dict[str, gpd.GeoDataFrame]) -> list[shapely.Polygon]:
    """Faces of the road lines as stored (no extra noding: the roads must be noded)."""
    faces = shapely.get_parts(shapely.polygonize(demo["roads"].geometry.to_numpy()))
    return [f for f in faces if isinstance(f, shapely.Polygon)]


def _read_all(path: Path) -> dict[str, gpd.GeoDataFrame]:
    return {name: gpd.read_file(path, layer=name) for name in LAYERS}


# ----------------------------------------------------------------------------- rebuild


def test_rebuild_gives_the_committed_layers(
    make_demo: ModuleType, demo: dict[str, gpd.GeoDataFrame], tmp_path: Path
) -> None:
    out = tmp_path / "demo.gpkg"
    make_demo.write_gpkg(make_demo.build_layers(make_demo.SEED), out)
    assert [str(n) for n, _ in pyogrio.list_layers(out)] == list(LAYERS)
    rebuilt = _read_all(out)
    for name in LAYERS:
        assert_geodataframe_equal(rebuilt[name], demo[name])


def test_command_line_is_byte_stable(make_demo: ModuleType, tmp_path: Path) -> None:
    by_script = tmp_path / "script.gpkg"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(by_script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "street blocks" in done.stderr
    in_process = tmp_path / "in_process.gpkg"
    make_demo.write_gpkg(make_demo.build_layers(make_demo.SEED), in_process)
    # Same libraries, same seed: even the GeoPackage timestamps are pinned.
    assert by_script.read_bytes() == in_process.read_bytes()


def test_another_seed_gives_other_data(make_demo: ModuleType) -> None:
    default = make_demo.build_layers(make_demo.SEED)
    other = make_demo.build_layers(OTHER_SEED)
    same = shapely.equals(
        default["communities"].geometry.to_numpy(), other["communities"].geometry.to_numpy()
    )
    assert not same.any()
    assert other["blocks"]["households"].sum() == default["blocks"]["households"].sum()


def test_unusable_seed_is_reported_without_traceback(
    make_demo: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(seed: int) -> None:
        raise make_demo._SeedError("could not grow community hubin to its household target")

    monkeypatch.setattr(make_demo, "build_layers", refuse)
    out = tmp_path / "never.gpkg"
    with caplog.at_level(logging.ERROR):
        assert make_demo.main(["--out", str(out), "--seed", "7"]) == 2
    assert not out.exists()
    assert "seed 7 cannot be used" in caplog.text
    assert "hubin" in caplog.text


# ----------------------------------------------------------------------------- file format


def test_layers_crs_types_and_size(demo_gpkg: Path, demo: dict[str, gpd.GeoDataFrame]) -> None:
    assert demo_gpkg.stat().st_size < 1_000_000
    listed = {str(n): str(t) for n, t in pyogrio.list_layers(demo_gpkg)}
    assert listed == GEOMETRY_TYPES
    for name, frame in demo.items():
        assert frame.crs == pyproj.CRS("EPSG:32649"), name
        assert set(frame.geom_type) == {GEOMETRY_TYPES[name]}, name
        assert frame.geometry.is_valid.all(), name
        assert not frame.geometry.is_empty.any(), name


def test_layer_descriptions_say_synthetic(demo_gpkg: Path) -> None:
    for name in LAYERS:
        info = pyogrio.read_info(demo_gpkg, layer=name)
        assert "SYNTHETIC" in info["layer_metadata"]["DESCRIPTION"], name
        assert "八字门" in info["layer_metadata"]["DESCRIPTION"], name


def test_coordinates_are_rounded_to_centimetres(demo: dict[str, gpd.GeoDataFrame]) -> None:
    for name, frame in demo.items():
        xy = shapely.get_coordinates(frame.geometry.to_numpy())
        assert np.abs(xy * 100 - np.round(xy * 100)).max() < 1e-4, name


def test_located_near_yueyang(demo: dict[str, gpd.GeoDataFrame]) -> None:
    centre = demo["communities"].union_all().centroid
    lon, lat = pyproj.Transformer.from_crs(32649, 4326, always_xy=True).transform(centre.x, centre.y)
    assert lon == pytest.approx(113.10, abs=0.03)
    assert lat == pytest.approx(29.37, abs=0.03)


def test_columns_and_types(demo: dict[str, gpd.GeoDataFrame]) -> None:
    blocks, communities, offices = demo["blocks"], demo["communities"], demo["offices"]
    for column in ("households", "residents"):
        assert blocks[column].dtype == np.int64
        assert communities[column].dtype == np.int64
    assert blocks["compound_id"].is_unique
    assert blocks["name"].is_unique
    assert blocks["name"].str.len().min() >= 2
    assert set(demo["roads"]["highway"]) == {"primary", "secondary", "residential"}
    assert demo["roads"]["name"].str.len().min() >= 2
    assert offices["area_m2"].dtype == np.int64


# ----------------------------------------------------------------------------- calibration


def test_totals_and_ranges(demo: dict[str, gpd.GeoDataFrame]) -> None:
    blocks = demo["blocks"]
    households = blocks["households"]
    assert 30_000 <= households.sum() <= 33_500
    assert 90_000 <= blocks["residents"].sum() <= 100_000
    assert 4.8e6 <= demo["communities"].union_all().area <= 5.6e6
    assert 200 <= households.median() <= 320
    assert 2_400 <= households.max() <= 2_800
    assert 80 <= len(blocks) <= 140
    assert (households > 0).all()
    ratio = blocks["residents"] / households
    assert ratio.between(2.4, 3.6).all()
    assert 2.8 <= blocks["residents"].sum() / households.sum() <= 3.2


def test_communities(demo: dict[str, gpd.GeoDataFrame]) -> None:
    communities, blocks = demo["communities"], demo["blocks"]
    assert communities["community_id"].is_unique
    assert communities["name"].str.endswith("社区").all()
    sums = blocks.groupby("community")["households"].sum()
    assert sums.reindex(communities["community_id"]).tolist() == communities["households"].tolist()
    sizes = sorted(communities["households"])
    assert 250 <= sizes[0] <= 350  # undersized, like Huangshi's smallest (298)
    assert 1_000 <= sizes[1] <= 1_400
    assert any(2_000 <= s <= 3_000 for s in sizes)  # inside the planning band
    assert 22_000 <= sizes[-1] <= 25_000  # the super-community
    big = communities.loc[communities["households"].idxmax()]
    assert big["name"] == "八字门社区"
    assert big.geometry.area > 0.5 * communities.union_all().area
    # The committees tile the area without overlaps.
    assert communities.area.sum() == pytest.approx(communities.union_all().area, abs=1.0)


def test_compounds_sit_in_their_community(demo: dict[str, gpd.GeoDataFrame]) -> None:
    communities = demo["communities"].set_index("community_id")
    for row in demo["blocks"].itertuples():
        assert communities.geometry[row.community].contains(row.geometry), row.compound_id


def test_offices(demo: dict[str, gpd.GeoDataFrame]) -> None:
    offices, communities = demo["offices"], demo["communities"]
    assert offices["office_id"].is_unique
    assert sorted(offices["community_id"]) == sorted(communities["community_id"])
    assert offices["area_m2"].between(120, 400).all()
    by_id = communities.set_index("community_id").geometry
    for row in offices.itertuples():
        assert by_id[row.community_id].contains(row.geometry), row.office_id
    bazimen = offices.set_index("community_id").loc["bazimen", "area_m2"]
    assert bazimen == offices["area_m2"].min()  # the super-community has a small office


# ----------------------------------------------------------------------------- topology


def test_roads_are_noded(demo: dict[str, gpd.GeoDataFrame]) -> None:
    lines = [*demo["roads"].geometry, *demo["railway"].geometry]
    ends = [{g.coords[0], g.coords[-1]} for g in lines]
    left, right = STRtree(lines).query(lines, predicate="intersects")
    bad = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        touch = lines[i].intersection(lines[j])
        points = {tuple(c) for c in shapely.get_coordinates(touch)}
        if touch.geom_type not in ("Point", "MultiPoint") or not points <= ends[i] & ends[j]:
            bad.append((i, j, touch.wkt[:80]))
    assert bad == []


def test_street_blocks(demo: dict[str, gpd.GeoDataFrame], street_blocks: list[shapely.Polygon]) -> None:
    assert 150 <= len(street_blocks) <= 300
    area = demo["communities"].union_all()
    assert sum(f.area for f in street_blocks) == pytest.approx(area.area, abs=1.0)
    assert min(f.area for f in street_blocks) > 1_000.0
    # Communities are unions of street blocks: each block lies in exactly one of them.
    communities = demo["communities"].geometry.to_numpy()
    for face in street_blocks:
        inside = [c for c in communities if c.buffer(0.01).contains(face)]
        assert len(inside) == 1


def test_some_streets_end_in_dead_ends(demo: dict[str, gpd.GeoDataFrame]) -> None:
    roads = demo["roads"]
    degree = Counter(c for g in roads.geometry for c in (g.coords[0], g.coords[-1]))
    dead = [g for g in roads.geometry if 1 in (degree[g.coords[0]], degree[g.coords[-1]])]
    assert len(dead) >= 10
    assert min(g.length for g in dead) >= 20.0
    assert set(roads.loc[[g in dead for g in roads.geometry], "highway"]) == {"residential"}


def test_each_compound_inside_exactly_one_street_block(
    demo: dict[str, gpd.GeoDataFrame], street_blocks: list[shapely.Polygon]
) -> None:
    tree = STRtree(street_blocks)
    per_block: Counter[int] = Counter()
    for row in demo["blocks"].itertuples():
        touching = [
            int(i)
            for i in tree.query(row.geometry, predicate="intersects")
            if street_blocks[int(i)].intersection(row.geometry).area > 0.01
        ]
        assert len(touching) == 1, row.compound_id
        assert street_blocks[touching[0]].buffer(0.01).contains(row.geometry), row.compound_id
        per_block[touching[0]] += 1
    assert max(per_block.values()) >= 2  # one street block holds several compounds
    assert len(per_block) < len(street_blocks)  # some hold none (school, park, market)


def test_compounds_keep_off_roads_river_and_railway(demo: dict[str, gpd.GeoDataFrame]) -> None:
    compounds = demo["blocks"].geometry
    roads = demo["roads"].union_all()
    railway = demo["railway"].union_all()
    river = demo["river"].union_all()
    assert compounds.distance(roads).min() > 5.0
    assert compounds.distance(railway).min() > 15.0
    assert not compounds.intersects(river).any()
    assert not compounds.intersects(railway).any()


def test_river_and_railway(demo: dict[str, gpd.GeoDataFrame]) -> None:
    area = demo["communities"].union_all()
    river = demo["river"].union_all()
    assert river.intersection(area).area < 1.0  # along the west side, outside the blocks
    assert river.distance(area) < 50.0
    railway = demo["railway"].union_all()
    assert railway.intersection(area).length > 500.0
    assert railway.length < area.exterior.length / 2  # crosses only part of the area


def _households_per_barrier_part(demo: dict[str, gpd.GeoDataFrame]) -> list[int]:
    """Households of each part of the area that the railway and the lake separate.

    Faces of roads + railway + area boundary, minus faces in the lake, joined where two
    faces share more than 1 m of boundary that is not railway or lake shore.
    """
    area = demo["communities"].union_all()
    river = demo["river"].union_all()
    lines = [*demo["roads"].geometry, *demo["railway"].geometry, area.boundary]
    noded = shapely.get_parts(shapely.union_all(lines))
    faces = [
        f
        for f in shapely.get_parts(shapely.polygonize(noded))
        if isinstance(f, shapely.Polygon) and f.intersection(river).area < 0.5 * f.area
    ]
    fence = shapely.union_all([*demo["railway"].geometry, river.boundary]).buffer(0.05)
    tree = STRtree(faces)
    neighbours: list[set[int]] = [set() for _ in faces]
    left, right = tree.query(faces, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        shared = faces[i].boundary.intersection(faces[j].boundary)
        if i != j and shared.difference(fence).length > 1.0:
            neighbours[i].add(j)
    part = [-1] * len(faces)
    for start in range(len(faces)):
        if part[start] < 0:
            part[start], stack = start, [start]
            while stack:
                for j in neighbours[stack.pop()]:
                    if part[j] < 0:
                        part[j] = start
                        stack.append(j)
    households: Counter[int] = Counter({p: 0 for p in part})
    for row in demo["blocks"].itertuples():
        hits = tree.query(row.geometry.representative_point(), predicate="within")
        assert len(hits) == 1, row.compound_id
        households[part[int(hits[0])]] += int(row.households)
    return sorted(households.values())


def test_barrier_parts_split_into_units_of_2000_to_3000(
    demo: dict[str, gpd.GeoDataFrame],
) -> None:
    # Units never cross the railway or the lake, so every part they cut off must hold
    # k units of 2,000-3,000 households for some k, or nothing.
    parts = _households_per_barrier_part(demo)
    assert sum(parts) == demo["blocks"]["households"].sum()
    bad = [h for h in parts if h > 0 and not any(k * 2_000 <= h <= k * 3_000 for k in range(1, 20))]
    assert bad == []
    # The railway does cut a populated pocket off the north-east corner.
    assert len([h for h in parts if h > 0]) == 2
    assert 2_000 <= parts[-2] <= 3_000


@pytest.mark.parametrize(
    ("households", "splittable"),
    [(0, True), (1_999, False), (2_000, True), (3_000, True), (3_001, False),
     (3_999, False), (4_000, True), (5_999, True), (9_001, True), (31_700, True)],
)  # fmt: skip
def test_splittable(make_demo: ModuleType, households: int, splittable: bool) -> None:
    assert make_demo._splittable(households) is splittable


def test_fit_barrier_parts_trades_sizes_into_a_small_part(make_demo: ModuleType) -> None:
    # The three largest compounds (indices 0-2) never trade. Part 1 holds 1,500 households.
    households = np.array([2_600, 1_500, 1_000, 600, 500, 400, 950, 990, 300, 250])
    areas = np.array([9e4, 8e4, 7e4, 2e4, 1.5e4, 1e4, 1.6e4, 3e4, 1.4e4, 1.1e4])
    parts = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    fitted = make_demo._fit_barrier_parts(households, areas, parts)
    # Only 400 <-> 950 and 400 <-> 990 lift part 1 to 2,000 in one trade; the first pair's
    # areas (1e4, 1.6e4 m²) are closer.
    assert fitted.tolist() == [2_600, 1_500, 1_000, 600, 500, 950, 400, 990, 300, 250]
    assert households[5] == 400  # the input is not changed


def test_fit_barrier_parts_reports_a_hopeless_part(make_demo: ModuleType) -> None:
    households = np.array([2_600, 1_500, 1_000, 300, 400, 500])
    areas = np.array([9e4, 8e4, 7e4, 1e4, 1.2e4, 1.3e4])
    with pytest.raises(make_demo._SeedError, match="the 500 households of a part"):
        make_demo._fit_barrier_parts(households, areas, [0, 0, 0, 1, 0, 0])
