"""Tests of input loading and validation (redistrict.load, redistrict._validate)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box

from redistrict import _validate as v
from redistrict.errors import InputError
from redistrict.load import Inputs, load_inputs, parse_source

CRS = "EPSG:32189"  # Ottawa's MTM zone 9, metres
X0, Y0 = 367_000.0, 5_030_000.0


# --------------------------------------------------------------------------- helpers


def _blocks(households: Any = (10, 20, 30, 0), **columns: Any) -> gpd.GeoDataFrame:
    """Four 100 m squares in a 2 x 2 grid."""
    squares = [
        box(X0 + i * 100, Y0 + j * 100, X0 + (i + 1) * 100, Y0 + (j + 1) * 100)
        for j in range(2)
        for i in range(2)
    ]
    data = {"hh": list(households), "zone": ["a", "a", "b", "b"], **columns}
    return gpd.GeoDataFrame(data, geometry=squares, crs=CRS)


def _roads(**columns: Any) -> gpd.GeoDataFrame:
    """Grid lines around and between the blocks."""
    lines = [LineString([(X0 + k * 100, Y0), (X0 + k * 100, Y0 + 200)]) for k in range(3)] + [
        LineString([(X0, Y0 + k * 100), (X0 + 200, Y0 + k * 100)]) for k in range(3)
    ]
    data = {"highway": ["primary", "residential", "residential", "secondary", None, "service"]}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=lines, crs=CRS)


def _write(frame: gpd.GeoDataFrame, path: Path, layer: str | None = None) -> str:
    pyogrio.write_dataframe(frame, path, layer=layer)
    return f"{path}:{layer}" if layer else str(path)


def _files(tmp_path: Path, blocks: gpd.GeoDataFrame, roads: gpd.GeoDataFrame) -> tuple[str, str]:
    return _write(roads, tmp_path / "roads.gpkg"), _write(blocks, tmp_path / "blocks.gpkg")


def _error(**kwargs: Any) -> str:
    with pytest.raises(InputError) as info:
        load_inputs(**kwargs)
    return str(info.value)


# --------------------------------------------------------------------------- Ottawa


def test_sources_name_the_files_read_from_any_folder(
    ottawa_testcase: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ottawa_testcase.parent)
    name = ottawa_testcase.name
    inputs = load_inputs(
        f"{name}:roads", f"{name}:dissemination_blocks", "dburdwell2021", road_class="RANK",
        where="ONS_ID_gen3 == 3024",
    )  # fmt: skip
    # run.json records these: absolute, so that they name the files wherever it is read
    assert inputs.sources == {
        "roads": f"{ottawa_testcase.resolve()}:roads",
        "blocks": f"{ottawa_testcase.resolve()}:dissemination_blocks",
    }


def test_ottawa_testcase_loads(ottawa_testcase: Path) -> None:
    gpkg = str(ottawa_testcase)
    inputs = load_inputs(
        f"{gpkg}:roads",
        f"{gpkg}:dissemination_blocks",
        "dburdwell2021",
        residents="dbpop2021",
        road_class="RANK",
        communities=f"{gpkg}:ons_neighbourhoods",
        community_id="ONS_ID",
        community_name="ONS_Name",
    )
    assert isinstance(inputs, Inputs)
    assert inputs.crs.to_epsg() == 32189
    blocks = inputs.blocks
    assert len(blocks) == 395
    assert blocks["households"].dtype == np.int64
    assert int(blocks["households"].sum()) == 32_843
    assert blocks["residents"].dtype == np.float64
    assert round(float(blocks["residents"].sum())) == 55_079
    assert {"DBUID", "ONS_ID_gen3"} <= set(blocks.columns)
    assert blocks.is_valid.all() and not blocks.is_empty.any()
    assert list(blocks.index) == list(range(395))

    roads = inputs.roads
    assert len(roads) == 1_896
    assert list(roads.columns) == ["road_class", "major", "name", "geometry"]  # name: NAME, for the notes
    assert "Bank" in set(roads["name"])
    assert set(roads.geom_type) == {"LineString"}
    raw = pyogrio.read_dataframe(ottawa_testcase, layer="roads")
    assert (roads["major"].to_numpy() == raw["RANK"].isin(["1", "2", "3", "4"]).to_numpy()).all()
    assert int(roads["major"].sum()) == 724
    assert any("most frequent class 5" in note for note in inputs.notes)

    assert inputs.communities is not None
    assert sorted(inputs.communities["community_id"]) == ["3024", "3104", "3115"]
    assert "CENTRETOWN" in set(inputs.communities["name"])
    assert inputs.study_area.geom_type in ("Polygon", "MultiPolygon")
    assert inputs.study_area.area == pytest.approx(blocks.area.sum(), rel=1e-6)
    assert inputs.sources["blocks"].endswith(":dissemination_blocks")


def test_ottawa_where_selects_centretown(ottawa_testcase: Path) -> None:
    gpkg = str(ottawa_testcase)
    inputs = load_inputs(
        f"{gpkg}:roads",
        f"{gpkg}:dissemination_blocks",
        "dburdwell2021",
        road_class="RANK",
        major_classes=["1", "2"],
        communities=f"{gpkg}:ons_neighbourhoods",
        community_id="ONS_ID",
        where="ONS_ID_gen3 == 3024",
    )
    assert len(inputs.blocks) == 208
    assert int(inputs.blocks["households"].sum()) == 20_333
    assert set(inputs.blocks["ONS_ID_gen3"]) == {"3024"}
    roads = inputs.roads
    assert 0 < len(roads) < 1_896
    zone = inputs.study_area.buffer(50.01)
    assert roads.within(zone).all()
    assert set(roads.loc[roads["major"], "road_class"]) <= {"1", "2"}
    assert inputs.communities is not None and "3024" in set(inputs.communities["community_id"])


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("a.gpkg", ("a.gpkg", None)),
        ("a.gpkg:roads", ("a.gpkg", "roads")),
        ("dir/a b.gpkg:my layer", ("dir/a b.gpkg", "my layer")),
        ("C:\\data\\x.shp", ("C:\\data\\x.shp", None)),
        ("C:\\data\\city.gpkg:roads", ("C:\\data\\city.gpkg", "roads")),
        ("a.gpkg:", ("a.gpkg", None)),
    ],
)
def test_parse_source(spec: str, expected: tuple[str, str | None]) -> None:
    path, layer = parse_source(spec)
    assert (str(path), layer) == (str(Path(expected[0])), expected[1])


def test_parse_source_keeps_existing_file_with_colon(tmp_path: Path) -> None:
    odd = tmp_path / "odd:name.geojson"
    odd.write_text("{}")
    assert parse_source(str(odd)) == (odd, None)
    assert parse_source(f"{odd}:blocks") == (odd, "blocks")
    with pytest.raises(InputError, match="FILE:LAYER"):
        parse_source("  ")
    # A layer name holding a colon (a database-style name) after an existing file.
    city = tmp_path / "city.gpkg"
    city.write_bytes(b"")
    assert parse_source(f"{city}:db:2021") == (city, "db:2021")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("/vsizip//data/x.zip/roads.shp", ("/vsizip//data/x.zip/roads.shp", None)),
        ("/vsizip//data/x.zip/city.gpkg:roads", ("/vsizip//data/x.zip/city.gpkg", "roads")),
        ("zip:///data/x.zip:roads", ("zip:///data/x.zip", "roads")),
        ("zip:///data/x.zip", ("zip:///data/x.zip", None)),
        ("/vsicurl/https://host:8080/x.gpkg", ("/vsicurl/https://host:8080/x.gpkg", None)),
    ],
)
def test_parse_source_keeps_virtual_paths_as_given(spec: str, expected: tuple[str, str | None]) -> None:
    # pathlib.Path would make /vsizip//data a relative /vsizip/data, zip:///data zip:/data
    assert parse_source(spec) == expected


def _zipped_shapefiles(tmp_path: Path) -> Path:
    """Roads and blocks as Shapefiles in ``city.zip`` (blocks in a folder ``sub``)."""
    import zipfile

    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(_roads(), folder / "roads.shp")
    pyogrio.write_dataframe(_blocks(), folder / "blocks.shp")
    archive = tmp_path / "city.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted(folder.iterdir()):
            out.write(file, file.name if file.stem == "roads" else f"sub/{file.name}")
    return archive


def test_zipped_shapefiles_are_read_by_virtual_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = _zipped_shapefiles(tmp_path)
    roads, blocks = f"/vsizip/{archive}/roads.shp", f"/vsizip/{archive}/sub/blocks.shp"
    assert roads.startswith("/vsizip//")  # an absolute path after /vsizip/
    inputs = load_inputs(roads, blocks, "hh")
    assert len(inputs.roads) == 6 and len(inputs.blocks) == 4
    assert inputs.sources == {"roads": f"{roads}:roads", "blocks": f"{blocks}:blocks"}
    inputs = load_inputs(f"zip://{archive}:roads", f"zip://{archive}!sub/blocks.shp", "hh")
    assert inputs.sources == {
        "roads": f"zip://{archive}:roads",
        "blocks": f"zip://{archive}!sub/blocks.shp:blocks",
    }
    monkeypatch.chdir(tmp_path)
    inputs = load_inputs("city.zip:roads", "/vsizip/city.zip/sub/blocks.shp", "hh")
    assert len(inputs.roads) == 6 and len(inputs.blocks) == 4


def test_an_unreadable_virtual_path_names_the_forms(tmp_path: Path) -> None:
    archive = _zipped_shapefiles(tmp_path)
    # One slash after /vsizip/ makes the path relative: GDAL finds no such archive.
    message = _error(roads=f"/vsizip/{archive}/roads.shp", blocks=f"/vsizip{archive}/x.shp", households="hh")
    assert "cannot open /vsizip" in message and "/vsizip//absolute/path/ARCHIVE.zip/FILE.shp" in message


def test_missing_file_and_layer(tmp_path: Path) -> None:
    roads = _write(_roads(), tmp_path / "roads.gpkg")
    message = _error(
        roads=roads, blocks=str(tmp_path / "nope.gpkg"), households="hh", communities=f"{roads}:x"
    )
    assert "file not found" in message and "nope.gpkg" in message
    assert "no layer 'x'" in message and "roads (LineString)" in message


def test_a_format_this_gdal_lacks_is_named_with_a_conversion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roads = _write(_roads(), tmp_path / "roads.gpkg")
    blocks = tmp_path / "blocks.parquet"
    blocks.write_bytes(b"PAR1 not really parquet PAR1")
    # As in a GDAL build without the Parquet driver (whatever the build at hand has).
    drivers = {k: w for k, w in pyogrio.list_drivers().items() if k != "Parquet"}
    monkeypatch.setattr(pyogrio, "list_drivers", lambda: drivers)
    message = _error(roads=roads, blocks=str(blocks), households="hh")
    assert f"blocks: cannot open {blocks} (given with --blocks): this GDAL build (GDAL " in message
    assert "cannot read (Geo)Parquet files (it has no Parquet driver); GDAL says: " in message
    assert (
        "convert the file to GeoPackage where it can be read, e.g. `ogr2ogr blocks.gpkg blocks.parquet`"
        in message
    )


def test_layer_is_picked_by_geometry_kind(tmp_path: Path) -> None:
    both = tmp_path / "both.gpkg"
    _write(_blocks(), both, "blocks")
    _write(_roads(), both, "roads")
    inputs = load_inputs(str(both), str(both), "hh")
    assert inputs.sources == {"roads": f"{both}:roads", "blocks": f"{both}:blocks"}
    assert len(inputs.roads) == 6 and len(inputs.blocks) == 4

    _write(_roads(), both, "more_roads")
    message = _error(roads=str(both), blocks=f"{both}:blocks", households="hh")
    assert "3 layers" in message and "more_roads" in message and "FILE:LAYER" in message


def test_layers_of_generic_type_are_chosen_by_their_features(tmp_path: Path) -> None:
    # A GeoPackage whose blocks and roads are declared GEOMETRY ("Unknown") beside a declared
    # one-feature polygon layer, written first.
    city = tmp_path / "city.gpkg"
    pyogrio.write_dataframe(_blocks().iloc[:1], city, layer="neighbourhood", geometry_type="Polygon")
    pyogrio.write_dataframe(_blocks(), city, layer="blocks", geometry_type="Unknown")
    pyogrio.write_dataframe(_roads(), city, layer="roads", geometry_type="Unknown")
    assert [str(t) for t in pyogrio.list_layers(city)[:, 1]] == ["Polygon", "Unknown", "Unknown"]
    inputs = load_inputs(str(city), f"{city}:blocks", "hh")
    assert len(inputs.roads) == 6
    layers = "neighbourhood (Polygon), blocks (Unknown: polygons), roads (Unknown: lines)"
    assert f"roads: read layer 'roads' of {city} (3 layers: {layers})" in inputs.notes
    # Both polygon layers could be the blocks: not the declared one silently, and the
    # suggestion is the layer named like blocks.
    message = _error(roads=f"{city}:roads", blocks=str(city), households="hh")
    assert f"{city} has 3 layers and 2 of them hold points or polygons: {layers}" in message
    assert f"e.g. {city}:blocks" in message


# --------------------------------------------------------------------------- columns and values


def test_missing_households_column_suggests_names(tmp_path: Path) -> None:
    roads, blocks = _files(tmp_path, _blocks(households_total=[1, 2, 3, 4]), _roads())
    message = _error(roads=roads, blocks=blocks, households="households")
    assert "'households'" in message and "did you mean 'households_total'" in message
    assert "hh, zone, households_total" in message and "--households" in message


def test_households_text_numbers_are_accepted(tmp_path: Path) -> None:
    roads, blocks = _files(tmp_path, _blocks(["10", " 20", "30.0", "0"]), _roads())
    inputs = load_inputs(roads, blocks, "hh")
    assert inputs.blocks["households"].tolist() == [10, 20, 30, 0]
    assert inputs.blocks["households"].dtype == np.int64
    assert any("stored as text" in note for note in inputs.notes)


def test_bad_household_values_are_all_reported(tmp_path: Path) -> None:
    frame = _blocks([1.0, np.nan, -3.0, 2.5])
    roads, blocks = _files(tmp_path, frame, _roads())
    message = _error(roads=roads, blocks=blocks, households="hh")
    assert "(3 problems)" in message
    assert "empty in 1 row (row id 1, counting from 0)" in message
    assert "negative in 1 row (row id 2, counting from 0)" in message
    assert "fractional values in 1 row (row id 3, counting from 0)" in message and "2.5" in message

    frame = _blocks(["1", "two", "n/a", ""])
    roads, blocks = _files(tmp_path, frame, _roads())
    message = _error(roads=roads, blocks=blocks, households="hh")
    assert "(2 problems)" in message
    assert "not a number in 2 rows (row ids 1, 2, counting from 0)" in message and "'two'" in message
    assert "empty in 1 row (row id 3, counting from 0)" in message


def test_coerce_households_rejects_booleans() -> None:
    counts, problems, _ = v.coerce_households(pd.Series([True, False]), "blocks", "flag")
    assert len(problems) == 1 and "True/False" in problems[0]
    assert counts.tolist() == [0, 0]


def test_residents_must_be_numbers(tmp_path: Path) -> None:
    roads, blocks = _files(tmp_path, _blocks(people=["5", "x", "7", "0"]), _roads())
    message = _error(roads=roads, blocks=blocks, households="hh", residents="people")
    assert "'people'" in message and "--residents" in message


def test_several_problems_in_one_error(tmp_path: Path) -> None:
    blocks = _blocks([1, 2, -1, 4])
    roads = _roads()
    roads.loc[2, "geometry"] = box(0, 0, 1, 1)
    communities = gpd.GeoDataFrame({"cid": ["x", "x"]}, geometry=[box(0, 0, 1, 1)] * 2)
    communities_path = tmp_path / "communities.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.write_dataframe(communities, communities_path)
    roads_path, blocks_path = _files(tmp_path, blocks, roads)
    with pytest.raises(InputError) as info:
        load_inputs(
            roads_path,
            blocks_path,
            "hh",
            road_class="kind",
            residents="pop",
            communities=str(communities_path),
            community_id="cid",
        )
    problems = info.value.problems
    text = "\n".join(problems)
    assert len(problems) == 6, text
    assert "'hh' is negative in 1 row (row id 2, counting from 0): -1;" in text
    assert "row id 2, counting from 0) with Polygon geometry; this layer must hold lines" in text
    assert "'pop'" in text  # missing residents column
    assert "'kind'" in text and "--road-class" in text  # missing class column
    assert "no coordinate reference system" in text and "ogr2ogr -a_srs" in text
    assert "duplicated" in text and "'x'" in text


def test_road_class_mapping_and_numeric_default(tmp_path: Path) -> None:
    roads = _roads(rank=[1.0, 3.0, 3.0, 2.0, 3.0, np.nan])
    roads_path, blocks_path = _files(tmp_path, _blocks(), roads)
    inputs = load_inputs(roads_path, blocks_path, "hh", road_class="rank", major_classes=["1", "2"])
    assert inputs.roads["major"].tolist() == [True, False, False, True, False, False]
    assert inputs.roads["road_class"].tolist() == ["1", "3", "3", "2", "3", ""]
    inputs = load_inputs(roads_path, blocks_path, "hh", road_class="rank")
    assert inputs.roads["major"].tolist() == [True, False, False, True, False, False]
    assert any("most frequent class 3" in note for note in inputs.notes)

    inputs = load_inputs(roads_path, blocks_path, "hh")  # default: the highway column
    assert inputs.roads["major"].tolist() == [True, False, False, True, False, False]
    assert inputs.roads["road_class"].tolist()[4] == ""

    no_class = _roads().drop(columns="highway")
    roads_path = _write(no_class, tmp_path / "plain.gpkg")
    inputs = load_inputs(roads_path, blocks_path, "hh")
    assert not inputs.roads["major"].any() and set(inputs.roads["road_class"]) == {""}
    assert any("every road counts as minor" in note for note in inputs.notes)


def test_classify_roads_ties_and_text() -> None:
    frame = pd.DataFrame({"c": ["10", "20", "20", "10", "5"]})
    classes = v.classify_roads(frame, "roads", "c", None)
    assert classes.major.tolist() == [True, False, False, True, True]  # tie -> the larger value
    assert v.as_text(3.0) == "3" and v.as_text(" 3 ") == "3" and v.as_text(None) == ""
    assert v.as_text(np.int64(4)) == "4" and v.as_text("primary") == "primary"


def test_household_counts_with_thousands_separators_are_read() -> None:
    # Excel's #,##0 format exports 1,074; it was refused as "text that is not a number".
    # "1,2" stays a typo, and full-width digits are not taken for a grouped number (pandas
    # cannot parse them: that gave a traceback).
    from redistrict._validate_columns import coerce_households

    counts, problems, notes = coerce_households(pd.Series(["1,074", "250", " 12,345 "]), "blocks", "户数")
    assert counts.tolist() == [1074, 250, 12345] and problems == []
    assert notes[0] == (
        "blocks: column '户数' separates thousands with commas in 2 rows (row ids 0, 2, counting from 0) "
        "(e.g. '1,074', ...); read without them"
    )
    _, problems, _ = coerce_households(pd.Series(["1,074", "1,2"]), "blocks", "户数")
    assert problems == [
        "blocks: column '户数' has text that is not a number in 1 row (row id 1, counting from 0): '1,2'; "
        "correct these values or choose another column with --households"
    ]
    _, problems, _ = coerce_households(pd.Series(["１,２００", "300"]), "blocks", "户数")
    assert len(problems) == 1 and "has text that is not a number in 1 row (row id 0" in problems[0]


def test_a_chinese_road_class_column_is_found_without_road_class(tmp_path: Path) -> None:
    # A layer classing its roads in 道路等级 had every road minor unless --road-class was given.
    roads = (
        _roads()
        .drop(columns="highway")
        .assign(道路等级=["主干道", "支路", "主干道", "支路", "支路", "次干道"])
    )
    inputs = load_inputs(*_files(tmp_path, _blocks(), roads), "hh")
    assert int(inputs.roads["major"].sum()) == 3
    assert any("column '道路等级' taken as the road class" in n for n in inputs.notes)


def test_chinese_road_classes_count_as_major_without_major_classes() -> None:
    # 主干道 and 次干道 matched no default, so every road was minor (only a note said so) and
    # the plan ignored major roads entirely.
    frame = pd.DataFrame({"道路等级": ["主干道", "次干道", "支路", "支路", "快速路", None]})
    classes = v.classify_roads(frame, "roads", "道路等级", None)
    assert classes.major.tolist() == [True, True, False, False, True, False]
    (note,) = classes.notes
    assert "road classes 主干道, 快速路, 次干道 in column '道路等级' count as major (3 roads" in note
    # the standard's full names, and OSM classes in the same column
    frame = pd.DataFrame({"c": ["城市主干路", "城市次干路", "支路", "primary", "residential"]})
    assert v.classify_roads(frame, "roads", "c", None).major.tolist() == [True, True, False, True, False]


# --------------------------------------------------------------------------- geometries


def test_null_geometry_dropped_only_without_households(tmp_path: Path) -> None:
    frame = _blocks([10, 20, 30, 0])
    frame.loc[3, "geometry"] = None
    roads, blocks = _files(tmp_path, frame, _roads())
    inputs = load_inputs(roads, blocks, "hh")
    assert list(inputs.blocks.index) == [0, 1, 2]
    assert any("dropped 1 row (row id 3, counting from 0) without usable geometry" in n for n in inputs.notes)

    frame.loc[1, "geometry"] = Polygon()
    roads, blocks = _files(tmp_path, frame, _roads())
    message = _error(roads=roads, blocks=blocks, households="hh")
    assert (
        "1 row (row id 1, counting from 0) without usable geometry" in message
        and "carry households" in message
    )


def test_collections_z_and_multipoints() -> None:
    geoms = gpd.GeoSeries(
        [
            shapely.GeometryCollection([box(0, 0, 1, 1), LineString([(0, 0), (5, 5)])]),
            Polygon([(0, 0, 9), (1, 0, 9), (1, 1, 9)]),
            shapely.MultiPoint([(0, 0)]),
            shapely.MultiPoint([(0, 0), (1, 1)]),
            LineString([(0, 0), (0, 0)]),
        ]
    )
    polygons = v.check_geometries(geoms[:2], "layer", {"polygon"})
    assert polygons.problems == []
    assert polygons.geometry[0].equals(box(0, 0, 1, 1))
    assert not polygons.geometry.has_z.any()
    assert any("geometry collection" in note for note in polygons.notes)
    assert any("Z coordinates" in note for note in polygons.notes)
    points = v.check_geometries(geoms[2:4], "layer", {"point"})
    assert points.geometry[2].geom_type == "Point"
    assert "MultiPoints of several points" in points.problems[0]
    lines = v.check_geometries(geoms[4:], "layer", {"line"})
    assert list(lines.dropped) == [4] and lines.problems == []


def test_invalid_geometry_is_repaired(tmp_path: Path) -> None:
    frame = _blocks()
    bowtie = Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    frame.loc[0, "geometry"] = bowtie
    roads, blocks = _files(tmp_path, frame, _roads())
    inputs = load_inputs(roads, blocks, "hh")
    assert inputs.blocks.is_valid.all()
    assert set(inputs.blocks.geom_type) <= {"Polygon", "MultiPolygon"}
    assert inputs.blocks.geometry[0].area == pytest.approx(5_000)
    assert any("repaired 1 invalid geometry" in note for note in inputs.notes)


def test_mixed_block_geometries_and_polygon_roads(tmp_path: Path) -> None:
    frame = _blocks()
    frame.loc[0, "geometry"] = Point(X0 + 50, Y0 + 50)
    roads = _roads()
    roads.loc[1, "geometry"] = box(X0, Y0, X0 + 5, Y0 + 5)
    roads_path, blocks_path = _files(tmp_path, frame, roads)
    message = _error(roads=roads_path, blocks=blocks_path, households="hh")
    assert "mixes geometry kinds (1 point, 3 polygons)" in message
    assert "roads (" in message and "1 row (row id 1, counting from 0) with Polygon geometry" in message


def test_multilinestrings_are_exploded(tmp_path: Path) -> None:
    roads = _roads()
    roads.loc[0, "geometry"] = MultiLineString([[(X0, Y0), (X0, Y0 + 100)], [(X0, Y0 + 100), (X0, Y0 + 200)]])
    roads_path, blocks_path = _files(tmp_path, _blocks(), roads)
    inputs = load_inputs(roads_path, blocks_path, "hh")
    assert len(inputs.roads) == 7 and set(inputs.roads.geom_type) == {"LineString"}
    assert inputs.roads["major"].tolist()[:2] == [True, True]


def test_point_blocks_study_area(tmp_path: Path) -> None:
    frame = _blocks()
    frame["geometry"] = frame.centroid
    roads, blocks = _files(tmp_path, frame, _roads())
    inputs = load_inputs(roads, blocks, "hh")
    assert set(inputs.blocks.geom_type) == {"Point"}
    hull = shapely.MultiPoint(list(frame.geometry)).convex_hull.buffer(100)
    assert inputs.study_area.equals_exact(hull, 1e-6)


# --------------------------------------------------------------------------- communities, offices


def test_duplicate_office_ids_and_office_area(tmp_path: Path) -> None:
    offices = gpd.GeoDataFrame(
        {"oid": [7, 7, 8], "area": ["120", "x", "-5"]},
        geometry=[Point(X0 + 10, Y0 + 10), Point(X0 + 20, Y0 + 20), Point(X0 + 30, Y0 + 30)],
        crs=CRS,
    )
    path = _write(offices, tmp_path / "offices.gpkg")
    roads, blocks = _files(tmp_path, _blocks(), _roads())
    message = _error(
        roads=roads,
        blocks=blocks,
        households="hh",
        offices=path,
        office_id="oid",
        office_area="area",
    )
    assert "'oid'" in message and "duplicated value(s) '7'" in message and "--office-id" in message
    assert "'area'" in message and "'x'" in message and "negative" in message


def test_office_names_are_kept(tmp_path: Path) -> None:
    offices = gpd.GeoDataFrame(
        {"office_id": [1, 2], "name": ["东风社区居委会", None], "label": ["a", "b"]},
        geometry=[Point(X0 + 10, Y0 + 10), Point(X0 + 30, Y0 + 30)],
        crs=CRS,
    )
    path = _write(offices, tmp_path / "offices.gpkg")
    roads, blocks = _files(tmp_path, _blocks(), _roads())
    # A 'name' column is read by default, as for communities (an empty name stays empty).
    inputs = load_inputs(roads, blocks, "hh", offices=path)
    assert inputs.offices is not None and inputs.offices["name"].tolist() == ["东风社区居委会", ""]
    chosen = load_inputs(roads, blocks, "hh", offices=path, office_name="label")
    assert chosen.offices is not None and chosen.offices["name"].tolist() == ["a", "b"]
    assert chosen.options["office_name"] == "label"
    message = _error(roads=roads, blocks=blocks, households="hh", offices=path, office_name="lable")
    assert "'lable'" in message and "--office-name" in message and "'label'" in message


def test_offices_communities_barriers_kept_in_study_area(tmp_path: Path) -> None:
    offices = gpd.GeoDataFrame(
        {"office_id": [1, 2], "m2": [150.0, None]},
        geometry=[box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20), Point(X0 + 900, Y0 + 900)],
        crs=CRS,
    )
    communities = gpd.GeoDataFrame(
        {"name": ["in", "touching", "out"]},
        geometry=[
            box(X0, Y0, X0 + 200, Y0 + 100),
            box(X0 + 200, Y0, X0 + 300, Y0 + 100),
            box(X0 + 500, Y0, X0 + 600, Y0 + 100),
        ],
        crs=CRS,
    )
    barriers = gpd.GeoDataFrame(geometry=[LineString([(X0 - 50, Y0 + 150), (X0 + 250, Y0 + 150)])], crs=CRS)
    roads, blocks = _files(tmp_path, _blocks(), _roads())
    inputs = load_inputs(
        roads,
        blocks,
        "hh",
        offices=_write(offices, tmp_path / "o.gpkg"),
        office_area="m2",
        communities=_write(communities, tmp_path / "c.gpkg"),
        barriers=_write(barriers, tmp_path / "b.gpkg"),
    )
    assert inputs.offices is not None and inputs.offices["office_id"].tolist() == ["1"]
    assert inputs.offices["area_m2"].tolist() == [150.0]
    assert set(inputs.offices.geom_type) == {"Point"}
    assert inputs.communities is not None
    assert inputs.communities["name"].tolist() == ["in"]
    assert inputs.communities["community_id"].tolist() == ["1"]  # numbered, with a note
    assert inputs.barriers is not None and len(inputs.barriers) == 1


def test_barrier_notes_name_the_layer_of_the_features_dropped(tmp_path: Path) -> None:
    # The river lies outside the study area; the rail has two lines inside and one outside.
    # The notes used to name the first --barriers layer for the features of all of them
    # ("river: kept 2 of 4 features").
    river = gpd.GeoDataFrame(geometry=[LineString([(X0 + 500, Y0), (X0 + 600, Y0)])], crs=CRS)
    rail = gpd.GeoDataFrame(
        geometry=[
            LineString([(X0 - 50, Y0 + 150), (X0 + 250, Y0 + 150)]),
            LineString([(X0 + 50, Y0 - 50), (X0 + 50, Y0 + 250)]),
            LineString([(X0 + 700, Y0), (X0 + 800, Y0)]),
        ],
        crs=CRS,
    )
    roads, blocks = _files(tmp_path, _blocks(), _roads())
    river_spec = _write(river, tmp_path / "river.gpkg")
    rail_spec = _write(rail, tmp_path / "rail.gpkg")
    inputs = load_inputs(roads, blocks, "hh", barriers=[river_spec, rail_spec])
    kept = [n for n in inputs.notes if "features in the study area" in n]
    assert kept == [
        f"barriers ({tmp_path / 'river.gpkg'}:river): kept 0 of 1 features in the study area",
        f"barriers ({tmp_path / 'rail.gpkg'}:rail): kept 2 of 3 features in the study area",
    ], inputs.notes
    assert inputs.barriers is not None and len(inputs.barriers) == 2


# --------------------------------------------------------------------------- where and study area


def test_where_problems(tmp_path: Path) -> None:
    roads, blocks = _files(tmp_path, _blocks(), _roads())
    message = _error(roads=roads, blocks=blocks, households="hh", where="zone ==")
    assert "--where 'zone =='" in message and "hh, zone" in message
    message = _error(roads=roads, blocks=blocks, households="hh", where="zonez == 'a'")
    assert "zonez" in message and "cannot be evaluated" in message
    message = _error(roads=roads, blocks=blocks, households="hh", where="zone == 'c'")
    assert "selects no block out of 4" in message and "columns: hh, zone" in message
    message = _error(roads=roads, blocks=blocks, households="hh", where="hh + 1")
    assert "True or False" in message
    # a Shapefile cuts column names to 10 bytes: --where names the stored column
    roads, blocks = _files(tmp_path, _blocks([10, 20, 30, 40], ONS_ID_gen=IDS), _roads())
    message = _error(roads=roads, blocks=blocks, households="hh", where="ONS_ID_gen3 == '3024'")
    assert "did you mean 'ONS_ID_gen'? (a Shapefile keeps only the first 10 bytes" in message


#: Identifiers stored as text, as in the Ottawa blocks' ONS_ID_gen3.
IDS = ["3024", "3024", "3104", "3115"]


@pytest.mark.parametrize(
    ("where", "rows"),
    [
        ("id == 3024", [0, 1]),
        ("id != 3024", [2, 3]),  # used to select every block: "3024" != 3024 for every row
        ("not (id == 3024)", [2, 3]),
        ("~(id == 3024)", [2, 3]),
        ("id in [3104, 3115]", [2, 3]),
        ("id not in [3024]", [2, 3]),
        ("id > 3100", [2, 3]),
        ("3100 < id <= 3104", [2]),
        ("id != 3024 & hh > 30", [3]),
        ("`id` != 3024", [2, 3]),
    ],
)
def test_where_compares_a_text_column_with_a_number_as_numbers(
    tmp_path: Path, where: str, rows: list[int]
) -> None:
    roads, blocks = _files(tmp_path, _blocks([10, 20, 30, 40], id=IDS), _roads())
    inputs = load_inputs(roads, blocks, "hh", where=where)
    assert list(inputs.blocks.index) == rows
    assert any("compared the text column(s) id as numbers" in n for n in inputs.notes), inputs.notes


def test_where_compares_a_text_column_with_text_as_text(tmp_path: Path) -> None:
    roads, blocks = _files(tmp_path, _blocks([10, 20, 30, 40], id=IDS), _roads())
    inputs = load_inputs(roads, blocks, "hh", where="id != '3024'")
    assert list(inputs.blocks.index) == [2, 3]
    assert not any("as numbers" in n for n in inputs.notes), inputs.notes


def test_where_reads_empty_cells_of_a_text_column_as_missing(tmp_path: Path) -> None:
    # An empty cell counted as a word: "holds text that is not a number in 1 row ('')"
    roads, blocks = _files(tmp_path, _blocks([10, 20, 30, 40], id=["3024", "", "3104", "3115"]), _roads())
    inputs = load_inputs(roads, blocks, "hh", where="id != 3024")
    assert list(inputs.blocks.index) == [1, 2, 3]


def test_where_a_text_method_with_a_number_says_how_to_quote(tmp_path: Path) -> None:
    roads, blocks = _files(tmp_path, _blocks([10, 20, 30, 40], id=IDS), _roads())
    message = _error(roads=roads, blocks=blocks, households="hh", where="id.str.startswith('3') & id != 3024")
    assert "to compare the column as text, quote the values" in message
    assert "id != '3024'" in message


def test_where_refuses_a_number_for_a_text_column_of_words(tmp_path: Path) -> None:
    codes = ["3024", "3024", "x1", "3115"]
    roads, blocks = _files(tmp_path, _blocks([10, 20, 30, 40], id=IDS, code=codes), _roads())
    message = _error(roads=roads, blocks=blocks, households="hh", where="code != 3024")
    assert (
        "compares the text column 'code' with a number, but it holds text that is not a number in 1 row"
        in message
    )
    assert "--where \"code != '3024'\"" in message
    message = _error(roads=roads, blocks=blocks, households="hh", where="id == 3024 or id == '3104'")
    assert "compares the text column 'id' both with numbers and with text" in message
    assert "--where \"id == '3024' or id == '3104'\"" in message


def test_the_clipping_note_counts_road_lines_and_the_segments_cut(tmp_path: Path) -> None:
    # A U-shaped road leaving the study area (the bottom row of blocks) by more than the
    # 50 m margin and coming back is cut into two segments; the top street lies beyond it.
    u_road = LineString([(X0 + 50, Y0 + 50), (X0 + 50, Y0 + 300), (X0 + 150, Y0 + 300), (X0 + 150, Y0 + 50)])
    roads = pd.concat([_roads(), _roads().iloc[:1].set_geometry([u_road])], ignore_index=True)
    inputs = load_inputs(*_files(tmp_path, _blocks(), roads), "hh", where="zone == 'a'")
    assert len(inputs.roads) == 7
    assert (
        f"roads ({tmp_path / 'roads.gpkg'}:roads): kept 6 of the 7 road lines read (those within 50 m of "
        "the study area), cut at that margin into 7 segments"
    ) in inputs.notes


def test_block_mostly_inside_a_study_area_with_a_hole_is_inside(tmp_path: Path) -> None:
    # The study area has a hole (a lake) of 40 m x 40 m round the centre of block 0: the
    # block lies 84 % inside, yet it was refused as lying "outside the study area".
    lake = box(X0 + 30, Y0 + 30, X0 + 70, Y0 + 70)
    area = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 200, Y0 + 200).difference(lake)], crs=CRS)
    area_path = _write(area, tmp_path / "area.gpkg")
    roads, blocks = _files(tmp_path, _blocks([10, 20, 30, 40]), _roads())
    inputs = load_inputs(roads, blocks, "hh", study_area=area_path)
    assert list(inputs.blocks.index) == [0, 1, 2, 3]
    from redistrict.atoms import build_atoms

    assert int(build_atoms(inputs, max_households=3000).atoms["households"].sum()) == 100
    # Mostly outside: still refused.
    small = gpd.GeoDataFrame(
        geometry=[box(X0, Y0, X0 + 200, Y0 + 100).union(box(X0, Y0 + 100, X0 + 40, Y0 + 200))], crs=CRS
    )
    message = _error(
        roads=roads, blocks=blocks, households="hh", study_area=_write(small, tmp_path / "s.gpkg")
    )
    # block 2 is 40 % inside, block 3 not at all
    assert "2 rows (row ids 2, 3, counting from 0) with 70 households lie outside the study area" in message


def test_where_keeps_index_and_clips_roads(tmp_path: Path) -> None:
    roads, blocks = _files(tmp_path, _blocks(), _roads())
    inputs = load_inputs(roads, blocks, "hh", where="zone == 'b'")
    assert list(inputs.blocks.index) == [2, 3]
    assert inputs.study_area.equals(box(X0, Y0 + 100, X0 + 200, Y0 + 200))
    assert inputs.roads.within(inputs.study_area.buffer(50.001)).all()
    assert len(inputs.roads) == 5  # three verticals cut, two horizontals inside; one too far


def test_study_area_file(tmp_path: Path) -> None:
    area = gpd.GeoDataFrame(geometry=[box(X0, Y0, X0 + 200, Y0 + 100)], crs=CRS)
    area_path = _write(area, tmp_path / "area.gpkg")
    roads, blocks = _files(tmp_path, _blocks([10, 20, 30, 0]), _roads())
    message = _error(roads=roads, blocks=blocks, households="hh", study_area=area_path)
    assert "1 row (row id 2, counting from 0) with 30 households lie outside the study area" in message
    assert "enlarge the study area" in message and "--where" in message

    inputs = load_inputs(roads, blocks, "hh", study_area=area_path, where="hh != 30")
    assert list(inputs.blocks.index) == [0, 1]  # block 3 (0 households) dropped with a note
    assert inputs.study_area.equals(box(X0, Y0, X0 + 200, Y0 + 100))


# --------------------------------------------------------------------------- CRS and formats


def test_geographic_crs_is_reprojected_to_utm(tmp_path: Path) -> None:
    blocks = _blocks().to_crs("EPSG:4326")
    roads = _roads().to_crs("EPSG:3857")
    roads_path, blocks_path = _files(tmp_path, blocks, roads)
    inputs = load_inputs(roads_path, blocks_path, "hh")
    assert inputs.crs.to_epsg() == 32618  # Ottawa lies in UTM zone 18N
    assert inputs.blocks.crs == inputs.crs and inputs.roads.crs == inputs.crs
    assert inputs.blocks.area.sum() == pytest.approx(40_000, rel=0.01)
    assert any("not in metres" in note for note in inputs.notes)
    assert any("reprojected from WGS 84 / Pseudo-Mercator" in note for note in inputs.notes)


def test_crs_that_does_not_match_coordinates(tmp_path: Path) -> None:
    blocks = _blocks().set_crs("EPSG:4326", allow_override=True)
    roads_path, blocks_path = _files(tmp_path, blocks, _roads())
    message = _error(roads=roads_path, blocks=blocks_path, households="hh")
    assert message.startswith("invalid input: blocks (")  # one problem
    assert "are not degrees" in message and "ogr2ogr -a_srs" in message


def test_geojson_and_shapefile_round_trip(tmp_path: Path) -> None:
    roads = _write(_roads(), tmp_path / "roads.shp")
    blocks = _write(_blocks(), tmp_path / "blocks.geojson")
    inputs = load_inputs(roads, blocks, "hh")
    assert inputs.blocks["households"].tolist() == [10, 20, 30, 0]
    assert inputs.roads["major"].tolist() == [True, False, False, True, False, False]
    assert inputs.crs.to_epsg() == 32189


OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="45.410" lon="-75.700" version="1"/>
  <node id="2" lat="45.410" lon="-75.698" version="1"/>
  <node id="3" lat="45.412" lon="-75.698" version="1"/>
  <node id="4" lat="45.412" lon="-75.700" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
  <way id="12" version="1"><nd ref="3"/><nd ref="4"/><tag k="highway" v="trunk_link"/></way>
  <way id="13" version="1"><nd ref="4"/><nd ref="1"/><tag k="waterway" v="stream"/></way>
</osm>
"""


def test_osm_xml_roads(tmp_path: Path) -> None:
    osm = tmp_path / "town.osm"
    osm.write_text(OSM_XML)
    cell = box(-75.7005, 45.4095, -75.6975, 45.4125)
    blocks = gpd.GeoDataFrame({"hh": [100]}, geometry=[cell], crs="EPSG:4326")
    inputs = load_inputs(str(osm), _write(blocks, tmp_path / "b.gpkg"), "hh")
    assert inputs.sources["roads"] == f"{osm}:lines"
    assert inputs.roads["road_class"].tolist() == ["primary", "residential", "trunk_link"]
    assert inputs.roads["major"].tolist() == [True, False, True]
    assert inputs.crs.to_epsg() == 32618
    assert any("without a highway tag" in note for note in inputs.notes)


def test_written_files_get_the_mode_the_umask_gives(tmp_path: Path) -> None:
    # Outputs are made by tempfile (0600/0700) and given the mode a plain open() would;
    # the umask is read from /proc on Linux rather than set and reset process-wide.
    from redistrict._files import _umask, as_if_created

    old = os.umask(0o027)
    try:
        assert _umask() == 0o027
        if Path("/proc/self/status").exists():  # read, not set and reset process-wide
            with pytest.MonkeyPatch.context() as m:
                m.setattr(os, "umask", lambda _mask: pytest.fail("the umask was set to read it"))
                assert _umask() == 0o027
        folder, file = tmp_path / "d", tmp_path / "f"
        folder.mkdir(mode=0o700)
        file.write_text("x")
        os.chmod(file, 0o600)
        as_if_created(folder)
        as_if_created(file)
        assert (folder.stat().st_mode & 0o777, file.stat().st_mode & 0o777) == (0o750, 0o640)
        assert _umask() == 0o027
    finally:
        os.umask(old)
