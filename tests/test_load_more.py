"""More bad input through ``redistrict plan``: repeated blocks, --major-classes typos,
GBK Shapefiles without ``.cpg``, CSV files and spreadsheets with coordinate columns and row numbers.

Same 3 x 3 grid of 300 m blocks (500 households each) and 8 streets as
``tests/test_cli_errors.py``, whose helpers are reused.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from test_cli_errors import CRS, HOUSEHOLDS, _blocks, _fails, _plan, _roads, _succeeds

from redistrict import _validate as v
from redistrict.errors import InputError
from redistrict.load import load_inputs

# --------------------------------------------------------------------------- repeated blocks


def test_repeated_block_rows_are_an_error(tmp_path: Path) -> None:
    base = _blocks(name=[f"b{i}" for i in range(9)])
    doubled = gpd.GeoDataFrame(pd.concat([base, base.iloc[:2]], ignore_index=True), crs=CRS)
    _fails(
        _plan(tmp_path, blocks=doubled),
        2,
        f"blocks ({tmp_path / 'blocks.gpkg'}:blocks): 2 rows (row ids 9, 10, counting from 0) "
        f"repeat rows 0, 1 exactly (same geometry and values)",
        "their households would be counted twice; remove the repeated rows",
    )


def test_same_polygon_with_other_values_is_a_note(tmp_path: Path) -> None:
    base = _blocks()
    # The same square drawn from another vertex and the other way round.
    twin = shapely.reverse(shapely.normalize(base.geometry[0]))
    assert twin.wkb != base.geometry[0].wkb
    extra = gpd.GeoDataFrame({"hh": [100]}, geometry=[twin], crs=CRS)
    blocks = gpd.GeoDataFrame(pd.concat([base, extra], ignore_index=True), crs=CRS)
    run = _plan(tmp_path, blocks=blocks)
    record = _succeeds(run)
    assert record["households"] == 9 * HOUSEHOLDS + 100
    assert (
        "1 row (row id 9, counting from 0) has the same geometry as row 0 but other values: "
        "the households of both are counted" in run.notes()
    )


def test_point_blocks_at_one_place_are_fine(tmp_path: Path) -> None:
    base = _blocks()
    points = base.set_geometry(base.geometry.centroid)
    # Two buildings at one address, with the same count: legitimate for points.
    blocks = gpd.GeoDataFrame(pd.concat([points, points.iloc[:1]], ignore_index=True), crs=CRS)
    run = _plan(tmp_path, blocks=blocks)
    assert _succeeds(run)["households"] == 10 * HOUSEHOLDS
    assert "same geometry" not in run.notes() and "repeat" not in run.notes()


def test_check_duplicates_skips_missing_and_points() -> None:
    square = shapely.box(0, 0, 1, 1)
    geometry = gpd.GeoSeries([square, None, shapely.Point(0, 0), None, shapely.Point(0, 0), square])
    attributes = pd.DataFrame({"hh": [1, 2, 3, 2, 3, 1]})
    problems = v.check_duplicates(geometry, attributes, "blocks (x)")
    assert problems == [
        "blocks (x): 1 row (row id 5, counting from 0) repeats row 0 exactly (same geometry and "
        "values): their households would be counted twice; remove the repeated row"
    ]


# --------------------------------------------------------------------------- --major-classes


def test_major_classes_matching_nothing_is_an_error(tmp_path: Path) -> None:
    roads = _roads()
    roads["rank"] = [5, 5, 5, 5, 5, 5, 2, 1]
    _fails(
        _plan(tmp_path, "--road-class", "rank", "--major-classes", "7,8", roads=roads),
        2,
        f"roads ({tmp_path / 'roads.gpkg'}:roads): --major-classes 7, 8 matches none of the "
        f"road classes in column 'rank' (1: 1 road, 2: 1, 5: 6): give classes that occur",
    )


def test_major_classes_for_text_classes_list_them_by_frequency(tmp_path: Path) -> None:
    roads = _roads()
    roads["highway"] = ["primary"] * 2 + ["residential"] * 6
    _fails(
        _plan(tmp_path, "--major-classes", "primry", roads=roads),
        2,
        "--major-classes primry matches none of the road classes in column 'highway' "
        "(residential: 6 roads, primary: 2)",
    )


def test_major_classes_partly_matching_is_a_note(tmp_path: Path) -> None:
    roads = _roads()
    roads["highway"] = ["primary"] * 2 + ["residential"] * 6
    run = _plan(tmp_path, "--major-classes", "primary,secondry", roads=roads)
    _succeeds(run)
    notes = run.notes()
    assert "major class(es) 'secondry' given with --major-classes do not occur in column 'highway'" in notes
    assert "2 roads with 'highway' in 'primary', 'secondry' count as major" in notes


def test_major_classes_without_a_class_column_is_an_error(tmp_path: Path) -> None:
    roads = _roads().drop(columns="highway")
    roads["kind"] = "street"
    _fails(
        _plan(tmp_path, "--major-classes", "1", roads=roads),
        2,
        "--major-classes 1 was given but the roads have no class column",
        "with --road-class",
    )


# --------------------------------------------------------------------------- GBK Shapefiles


def _gbk_shapefile(tmp_path: Path) -> Path:
    """The grid blocks with Chinese column names in a GBK Shapefile without .cpg."""
    blocks = _blocks().rename(columns={"hh": "户数"})
    blocks["社区"] = ["东区", "西区", "南区"] * 3
    path = tmp_path / "blocks.shp"
    blocks.to_file(path, encoding="GBK")
    path.with_suffix(".cpg").unlink()
    return path


def test_gbk_shapefile_without_cpg_is_read_as_gb18030(tmp_path: Path) -> None:
    shp = _gbk_shapefile(tmp_path)
    run = _plan(tmp_path, blocks=str(shp), households="户数")
    assert _succeeds(run)["households"] == 9 * HOUSEHOLDS
    assert (
        f"read {shp} as GB18030 (GBK) text because it has no .cpg file; add a .cpg file "
        f"containing GBK to say so" in run.notes()
    )


def test_misdecoded_column_names_get_a_hint(tmp_path: Path) -> None:
    shp = _gbk_shapefile(tmp_path)
    _fails(
        _plan(tmp_path, blocks=str(shp), households="户"),
        2,
        "column '户' (given with --households) not found",
        "the names look mis-decoded: if the file is in Chinese encoding, add a .cpg file "
        "containing GBK beside the .shp",
    )


def test_misdecoded_names() -> None:
    assert v.misdecoded_names(["hh", "Région", "»§Êý", "cafÃ©"]) == ["»§Êý", "cafÃ©"]


# --------------------------------------------------------------------------- CSV with coordinates


def _point_table(crs: str) -> pd.DataFrame:
    centres = _blocks().geometry.centroid.to_crs(crs)
    return pd.DataFrame({"hh": [HOUSEHOLDS] * 9, "x": centres.x, "y": centres.y})


def test_csv_with_lon_lat_columns_is_read_as_points(tmp_path: Path) -> None:
    table = _point_table("EPSG:4326").rename(columns={"x": "Longitude", "y": "Latitude"})
    path = tmp_path / "blocks.csv"
    table.to_csv(path, index=False)
    run = _plan(tmp_path, blocks=str(path))
    assert _succeeds(run)["households"] == 9 * HOUSEHOLDS
    assert (
        "read points from the columns 'Longitude' (longitude) and 'Latitude' (latitude) in WGS 84 "
        "(EPSG:4326), since the file has no CRS and every value is in degrees" in run.notes()
    )


def test_csv_with_metre_coordinates_asks_for_the_crs(tmp_path: Path) -> None:
    path = tmp_path / "blocks.csv"
    _point_table(CRS).to_csv(path, index=False)
    _fails(
        _plan(tmp_path, blocks=str(path)),
        2,
        f"blocks ({path}:blocks): the columns 'x' and 'y' look like point coordinates, but they "
        f"are not longitude/latitude degrees and the file does not say their CRS",
        f"`ogr2ogr -oo X_POSSIBLE_NAMES=x -oo Y_POSSIBLE_NAMES=y -a_srs EPSG:<code> blocks.gpkg {path}`",
    )


def test_spreadsheet_with_lon_lat_columns_is_read_as_points(tmp_path: Path) -> None:
    path = tmp_path / "blocks.xlsx"
    table = _point_table("EPSG:4326").rename(columns={"x": "lon", "y": "lat"})
    pyogrio.write_dataframe(table, path, driver="XLSX", layer="sheet1")
    run = _plan(tmp_path, blocks=str(path))
    assert _succeeds(run)["households"] == 9 * HOUSEHOLDS
    assert (
        f"read points from the columns 'lon' (longitude) and 'lat' (latitude) in WGS 84 (EPSG:4326), since "
        f"the file has no CRS and every value is in degrees; if they are in another CRS, save the sheet "
        f"'sheet1' of {path} as CSV (blocks.csv) and convert that: `ogr2ogr" in run.notes()
    )


def test_spreadsheet_with_metre_coordinates_asks_for_the_crs_of_a_csv_copy(tmp_path: Path) -> None:
    path = tmp_path / "blocks.ods"
    pyogrio.write_dataframe(_point_table(CRS), path, driver="ODS", layer="sheet1")
    _fails(
        _plan(tmp_path, blocks=str(path)),
        2,
        f"blocks ({path}:sheet1): the columns 'x' and 'y' look like point coordinates, but they "
        f"are not longitude/latitude degrees and the file does not say their CRS",
        f"save the sheet 'sheet1' of {path} as CSV (blocks.csv) and convert that: "
        "`ogr2ogr -oo X_POSSIBLE_NAMES=x -oo Y_POSSIBLE_NAMES=y -a_srs EPSG:<code> blocks.gpkg blocks.csv`",
    )


def test_csv_coordinates_are_not_read_for_roads(tmp_path: Path) -> None:
    path = tmp_path / "roads.csv"
    _point_table("EPSG:4326").rename(columns={"x": "lon", "y": "lat"}).to_csv(path, index=False)
    _fails(_plan(tmp_path, roads=str(path)), 2, f"roads ({path}:roads) has no geometry column")


# --------------------------------------------------------------------------- row numbers


def test_rows_are_named_counting_from_0(tmp_path: Path) -> None:
    values = [HOUSEHOLDS] * 9
    values[0] = -1
    _fails(
        _plan(tmp_path, blocks=_blocks(values)),
        2,
        "column 'hh' is negative in 1 row (row id 0, counting from 0): -1",
    )


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([3], "1 row (row id 3, counting from 0)"),
        (range(7), "7 rows (row ids 0, 1, 2, 3, 4, ..., counting from 0)"),
    ],
)
def test_format_rows(labels: range | list[int], expected: str) -> None:
    assert v.format_rows(labels) == expected


def test_compounds_set_back_from_the_roads_ask_for_a_study_area(demo_gpkg: Path) -> None:
    # The demo's compounds stop 7-16 m short of the road centre lines: without
    # --study-area their union is 100 islands holding no road, and the message says why.
    path = str(demo_gpkg)
    with pytest.raises(InputError) as err:
        load_inputs(roads=f"{path}:roads", blocks=f"{path}:blocks", households="households")
    text = str(err.value)
    assert "these 100 blocks form 100 separate pieces: they do not touch one another" in text
    assert "Give --study-area" in text
    assert "declares the CRS" not in text
    inputs = load_inputs(
        roads=f"{path}:roads", blocks=f"{path}:blocks", households="households",
        study_area=f"{path}:communities", where="households > 0",
    )  # fmt: skip
    assert inputs.options["where"] == "households > 0"
    assert inputs.options["households"] == "households"


def test_a_column_name_cut_by_the_shapefile_format_is_named() -> None:
    from redistrict._validate_columns import check_columns

    (problem,) = check_columns(
        ["dburdwell2", "dbpop2021"], {"--households": "dburdwell2021"}, "blocks (b.shp:b)"
    )
    assert "did you mean 'dburdwell2'? (a Shapefile keeps only the first 10 bytes" in problem
    (plain,) = check_columns(["households"], {"--households": "houshold"}, "blocks (b.gpkg:b)")
    assert "10 bytes" not in plain


def test_a_shapefile_without_its_dbf_says_so(tmp_path: Path) -> None:
    path = tmp_path / "blocks.shp"
    _blocks().to_file(path)
    path.with_suffix(".dbf").unlink()
    _roads().to_file(tmp_path / "roads.gpkg")
    with pytest.raises(InputError) as err:
        load_inputs(roads=str(tmp_path / "roads.gpkg"), blocks=str(path), households="hh")
    assert "blocks.shp has no .dbf file beside it (the Shapefile's attribute table)" in str(err.value)


def test_communities_or_offices_missing_the_area_are_a_warning(demo_gpkg: Path, tmp_path: Path) -> None:
    # A communities layer 10 km away (wrong place or CRS) or an empty offices layer used to
    # leave only the note "kept 0 of N features": the plan then costs every unit a new office.
    gpkg = str(demo_gpkg)
    far = gpd.read_file(gpkg, layer="communities")
    far = far.set_geometry(far.geometry.translate(xoff=10_000))
    path = tmp_path / "other.gpkg"
    far.to_file(path, layer="communities")
    offices = gpd.read_file(gpkg, layer="offices")
    offices.iloc[:0].to_file(path, layer="offices")
    inputs = load_inputs(
        roads=f"{gpkg}:roads", blocks=f"{gpkg}:blocks", households="households",
        study_area=f"{gpkg}:communities", communities=f"{path}:communities",
        community_id="community_id", offices=f"{path}:offices", office_id="office_id",
    )  # fmt: skip
    text = " ".join(inputs.warnings)
    assert f"none of its {len(far)} features lies in the study area" in text
    assert "as if --communities had not been given" in text
    assert "offices" in text and "the layer holds no features" in text
    assert "as if --offices had not been given" in text
    assert inputs.communities is None and inputs.offices is None  # as the warning says
    assert not any("kept 0 of" in note for note in inputs.notes)  # the warning says it
    # The same layers in place: no such warning.
    near = load_inputs(
        roads=f"{gpkg}:roads", blocks=f"{gpkg}:blocks", households="households",
        study_area=f"{gpkg}:communities", communities=f"{gpkg}:communities",
        community_id="community_id", offices=f"{gpkg}:offices", office_id="office_id",
    )  # fmt: skip
    assert not any("had not been given" in w for w in near.warnings)


def test_a_community_drawn_twice_is_a_warning(demo_gpkg: Path, tmp_path: Path) -> None:
    # A community digitised a second time under another id took the households of the
    # overlap, and the first vanished from communities.csv without a word.
    gpkg = str(demo_gpkg)
    communities = gpd.read_file(gpkg, layer="communities")
    twice = pd.concat([communities, communities.iloc[[0]].assign(community_id="X99", name="copy")])
    path = tmp_path / "twice.gpkg"
    gpd.GeoDataFrame(twice, crs=communities.crs).to_file(path, layer="communities")
    kwargs = {
        "roads": f"{gpkg}:roads", "blocks": f"{gpkg}:blocks", "households": "households",
        "study_area": f"{gpkg}:communities", "community_id": "community_id", "community_name": "name",
    }  # fmt: skip
    inputs = load_inputs(communities=f"{path}:communities", **kwargs)
    first = communities.iloc[0]
    text = " ".join(inputs.warnings)
    assert "1 pair of communities overlaps by 10% of the smaller or more" in text
    assert f"{first['name']} ({first['community_id']}) and copy (X99) (100% of" in text
    assert not any(
        "communities overlap" in w for w in load_inputs(communities=f"{gpkg}:communities", **kwargs).warnings
    )
