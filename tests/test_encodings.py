"""Text encodings of Chinese input files and Chinese coordinate column names.

GBK CSV files (what Excel saves on Chinese Windows), Shapefiles whose ``.cpg`` file
is wrong or missing, UTF-8 Shapefile column names cut in the middle of a character
by the 10-byte limit of dBASE names, and CSV files whose coordinate columns have
Chinese names. Same 3 x 3 grid of 300 m blocks (500 households each) and 8
streets as ``tests/test_cli_errors.py``, whose helpers are reused.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from test_cli_errors import CRS, HOUSEHOLDS, _blocks, _fails, _plan, _succeeds

from redistrict._load_formats import _decode
from redistrict._load_read import Layer, Report, read_layer

NAMES = ["西中城社区", "沙山社区", "小社区"] * 3


def _shapefile(frame: gpd.GeoDataFrame, path: Path, encoding: str, cpg: str | None) -> str:
    """Write ``frame`` as a Shapefile in ``encoding``; the .cpg file then says ``cpg`` (None: none)."""
    with warnings.catch_warnings():
        # GDAL warns when it cuts a column name to the 10 bytes of the dBASE format.
        warnings.simplefilter("ignore", RuntimeWarning)
        frame.to_file(path, encoding=encoding)
    if cpg is None:
        path.with_suffix(".cpg").unlink()
    else:
        path.with_suffix(".cpg").write_text(cpg, encoding="ascii")
    return str(path)


def _points(crs: str = "EPSG:4326") -> pd.DataFrame:
    """The block centres as a table: households, residents, x, y."""
    centres = _blocks().geometry.centroid.to_crs(crs)
    return pd.DataFrame({"户数": [HOUSEHOLDS] * 9, "人口": [1200] * 9, "x": centres.x, "y": centres.y})


def _read(role: str, spec: str, columns: list[str] | None = None) -> tuple[Layer | None, Report]:
    report = Report()
    return read_layer(role, spec, report, columns or []), report


# --------------------------------------------------------------------------- GBK CSV


def test_gbk_csv_is_read_as_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "blocks.csv"
    _points().rename(columns={"x": "lon", "y": "lat"}).to_csv(path, index=False, encoding="gbk")
    run = _plan(tmp_path, blocks=str(path), households="户数")
    assert _succeeds(run)["households"] == 9 * HOUSEHOLDS
    notes = run.notes()
    assert (
        f"blocks ({path}:blocks): read {path} as GB18030 (GBK) text because it is not UTF-8 text "
        f"(e.g. the column name '户数'); Excel saves CSV files in GBK on Chinese Windows: to be sure "
        f"it is read right, save it as UTF-8" in notes
    )
    assert "read points from the columns 'lon' (longitude) and 'lat' (latitude)" in notes


def test_gbk_csv_with_chinese_coordinate_names(tmp_path: Path) -> None:
    path = tmp_path / "blocks.csv"
    _points().rename(columns={"x": "经度", "y": "纬度"}).to_csv(path, index=False, encoding="gbk")
    layer, report = _read("blocks", str(path), ["户数"])
    assert layer is not None, report.problems
    assert layer.frame.crs == "EPSG:4326"
    assert list(layer.frame.columns) == ["户数", "人口", "经度", "纬度", "geometry"]
    assert "read points from the columns '经度' (longitude) and '纬度' (latitude)" in "\n".join(report.notes)


def test_csv_neither_utf8_nor_gbk_says_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "blocks.csv"
    table = _points().rename(columns={"户数": "hh", "人口": "pop", "x": "lon", "y": "lat"})
    table["name"] = "Région"
    table.to_csv(path, index=False, encoding="latin-1")
    _fails(
        _plan(tmp_path, blocks=str(path)),
        2,
        f"blocks: cannot read layer 'blocks' of {path}: its text is not UTF-8 and not Chinese "
        f"GB18030 (GBK) either (e.g. column 'name', row id 0: 'R\ufffdgion'); save it as UTF-8 "
        f"(in Excel: Save As, 'CSV UTF-8 (Comma delimited)')",
    )


# --------------------------------------------------------------------------- Shapefiles


def test_gbk_shapefile_whose_cpg_says_utf8(tmp_path: Path) -> None:
    blocks = _blocks().rename(columns={"hh": "户数"})
    blocks["社区名称"] = NAMES
    shp = _shapefile(blocks, tmp_path / "blocks.shp", "GBK", "UTF-8")
    run = _plan(tmp_path, blocks=shp, households="户数")
    assert _succeeds(run)["households"] == 9 * HOUSEHOLDS
    assert (
        f"read {shp} as GB18030 (GBK) text although its .cpg file says 'UTF-8': its text is not "
        f"valid UTF-8 but reads cleanly as GB18030 (e.g. the column name '户数'), so the .cpg file "
        f"is wrong; write GBK into blocks.cpg to fix it" in run.notes()
    )


def test_shapefile_neither_as_cpg_says_nor_gbk(tmp_path: Path) -> None:
    blocks = _blocks()
    blocks["quartier"] = ["Région", "Île-Verte", "Côte-Sainte-Catherine"] * 3
    shp = _shapefile(blocks, tmp_path / "blocks.shp", "ISO-8859-1", "UTF-8")
    _fails(
        _plan(tmp_path, blocks=shp),
        2,
        f"blocks: cannot read layer 'blocks' of {shp}: its text is not UTF-8 (its .cpg file says "
        f"'UTF-8') and not Chinese GB18030 (GBK) either (e.g. column 'quartier', row id 0: "
        f"'R\ufffdgion'); save it as UTF-8 (e.g. export it from QGIS with encoding UTF-8), or write "
        f"the encoding it is in (e.g. CP1251) into blocks.cpg",
    )


def test_utf8_shapefile_with_a_cut_column_name(tmp_path: Path) -> None:
    blocks = _blocks().rename(columns={"hh": "户数"})
    blocks["社区名称"] = NAMES  # 12 bytes in UTF-8: cut to 10, in the middle of 称
    shp = _shapefile(blocks, tmp_path / "blocks.shp", "UTF-8", "UTF-8")
    run = _plan(tmp_path, blocks=shp, households="户数")
    assert _succeeds(run)["households"] == 9 * HOUSEHOLDS
    assert (
        f"blocks ({shp}:blocks): the column name '社区名\ufffd' is cut in the middle of a character, "
        f"since a Shapefile (.dbf) column name holds at most 10 bytes and a Chinese character takes "
        f"3 of them in UTF-8; it is read as '社区名'" in run.notes()
    )
    layer, _ = _read("blocks", shp, ["户数"])
    assert layer is not None
    assert list(layer.frame.columns) == ["户数", "社区名", "geometry"]
    assert layer.frame["社区名"].tolist() == NAMES


def test_cut_column_names_stay_distinct(tmp_path: Path) -> None:
    blocks = _blocks()
    blocks["社区名称"] = NAMES
    blocks["社区名字"] = NAMES
    shp = _shapefile(blocks, tmp_path / "blocks.shp", "UTF-8", "UTF-8")
    layer, report = _read("blocks", shp, ["hh"])
    assert layer is not None, report.problems
    assert list(layer.frame.columns) == ["hh", "社区名", "社区名_2", "geometry"]
    assert sum("is cut in the middle of a character" in n for n in report.notes) == 2


def test_gbk_values_in_shapefile_without_cpg(tmp_path: Path) -> None:
    # ASCII column names: only the values show that the text is GBK.
    communities = _blocks().rename(columns={"hh": "cid"})
    communities["name"] = NAMES
    shp = _shapefile(communities, tmp_path / "communities.shp", "GBK", None)
    layer, report = _read("communities", shp, ["cid", "name"])
    assert layer is not None, report.problems
    assert layer.frame["name"].tolist() == NAMES
    assert report.notes == [
        f"communities ({shp}:communities): read {shp} as GB18030 (GBK) text because it has no "
        f".cpg file; add a .cpg file containing GBK to say so (e.g. '西中城社区' in column 'name', "
        f"not 'Î÷ÖÐ³ÇÉçÇø')"
    ]


@pytest.mark.parametrize("said", ["ANSI 936", "ANSI936"])
def test_gbk_shapefile_whose_cpg_says_ansi_936(tmp_path: Path, said: str) -> None:
    # ArcGIS writes "ANSI 936"; GDAL reads it as Latin-1, and every Chinese name came out
    # as mojibake with no note (it was taken as a spelling GDAL decodes).
    communities = _blocks().rename(columns={"hh": "cid"})
    communities["name"] = NAMES
    shp = _shapefile(communities, tmp_path / "communities.shp", "GBK", said)
    layer, report = _read("communities", shp, ["cid", "name"])
    assert layer is not None, report.problems
    assert layer.frame["name"].tolist() == NAMES
    assert f"although its .cpg file says {said!r}: read so, its text is mis-decoded" in "\n".join(
        report.notes
    )


def test_gbk_values_through_the_command_line(tmp_path: Path) -> None:
    blocks = _blocks()
    blocks["name"] = NAMES
    shp = _shapefile(blocks, tmp_path / "blocks.shp", "GBK", None)
    run = _plan(tmp_path, blocks=shp)
    assert _succeeds(run)["households"] == 9 * HOUSEHOLDS
    assert f"read {shp} as GB18030 (GBK) text because it has no .cpg file" in run.notes()


def test_utf8_shapefile_without_cpg(tmp_path: Path) -> None:
    blocks = _blocks().rename(columns={"hh": "户数"})
    blocks["name"] = NAMES
    shp = _shapefile(blocks, tmp_path / "blocks.shp", "UTF-8", None)
    layer, report = _read("blocks", shp, ["户数"])
    assert layer is not None, report.problems
    assert layer.frame["name"].tolist() == NAMES
    assert report.notes[0].startswith(
        f"blocks ({shp}:blocks): read {shp} as UTF-8 text because it has no .cpg file; "
        f"add a .cpg file containing UTF-8 to say so"
    )


def test_latin1_shapefile_without_cpg_is_left_alone(tmp_path: Path) -> None:
    # French names decode as GB18030 too, but into rare characters: not Chinese.
    blocks = _blocks()
    blocks["quartier"] = ["Région", "Île-Verte", "Côte-Sainte-Catherine"] * 3
    shp = _shapefile(blocks, tmp_path / "blocks.shp", "ISO-8859-1", None)
    layer, report = _read("blocks", shp, ["hh"])
    assert layer is not None, report.problems
    assert layer.frame["quartier"].tolist() == blocks["quartier"].tolist()
    assert report.notes == []


def test_windows_1252_shapefile_without_cpg_keeps_its_punctuation(tmp_path: Path) -> None:
    # Read as Latin-1, "—" (0x97) and "’" (0x92) would be invisible control characters.
    blocks = _blocks()
    blocks["quartier"] = ["Vanier — Nord", "Côte d’Azur", "Région"] * 3
    shp = _shapefile(blocks, tmp_path / "blocks.shp", "cp1252", None)
    layer, report = _read("blocks", shp, ["hh"])
    assert layer is not None, report.problems
    assert layer.frame["quartier"].tolist() == blocks["quartier"].tolist()
    assert report.notes == [
        f"blocks ({shp}:blocks): read {shp} as Windows-1252 text because it has no .cpg file and, "
        "read as Latin-1, its punctuation would be control characters (e.g. 'Vanier — Nord', not "
        "'Vanier \\x97 Nord'); add a .cpg file containing 1252 to say so"
    ]


def test_mis_decoded_names_asked_for_as_read_are_kept(tmp_path: Path) -> None:
    blocks = _blocks().rename(columns={"hh": "户数"})
    shp = _shapefile(blocks, tmp_path / "blocks.shp", "GBK", None)
    layer, report = _read("blocks", shp, ["»§Êý"])
    assert layer is not None
    assert "»§Êý" in layer.frame.columns
    assert "it is kept as read since the columns asked for are named so" in report.notes[0]


def test_mis_decoded_names_hint_lists_the_decoded_columns(tmp_path: Path) -> None:
    blocks = _blocks().rename(columns={"hh": "户数"})
    shp = _shapefile(blocks, tmp_path / "blocks.shp", "GBK", None)
    _fails(
        _plan(tmp_path, blocks=shp, households="户"),
        2,
        "column '户' (given with --households) not found",
        "read as GB18030 (GBK), its columns are: 户数",
    )


# --------------------------------------------------------------------------- CSV coordinates


@pytest.mark.parametrize(("x", "y"), [("经度", "纬度"), ("X坐标", "Y坐标"), ("东经", "北纬")])
def test_csv_with_chinese_coordinate_names(tmp_path: Path, x: str, y: str) -> None:
    path = tmp_path / "blocks.csv"
    _points().rename(columns={"x": x, "y": y}).to_csv(path, index=False)
    run = _plan(tmp_path, blocks=str(path), households="户数")
    assert _succeeds(run)["households"] == 9 * HOUSEHOLDS
    assert f"read points from the columns {x!r} (longitude) and {y!r} (latitude) in WGS 84" in run.notes()


def test_csv_without_coordinate_columns_lists_the_names(tmp_path: Path) -> None:
    path = tmp_path / "blocks.csv"
    _points().rename(columns={"x": "东", "y": "北"}).to_csv(path, index=False)
    _fails(
        _plan(tmp_path, blocks=str(path), households="户数"),
        2,
        f"blocks ({path}:blocks) has no geometry column",
        "export it with its geometry",
        "for a table of points (CSV or spreadsheet), name its coordinate columns lon and lat "
        "(or x and y, 经度 and 纬度 ...",
        "lon/lat, lng/lat, long/lat, longitude/latitude, x/y, point_x/point_y, easting/northing, "
        "经度/纬度, 东经/北纬, x坐标/y坐标",
        "its columns are: 户数, 人口, 东, 北",
    )


def test_csv_coordinates_that_are_not_numbers(tmp_path: Path) -> None:
    path = tmp_path / "blocks.csv"
    table = _points().rename(columns={"x": "经度", "y": "纬度"}).astype({"经度": object})
    table.loc[2, "经度"] = "116°23′50″"
    table.to_csv(path, index=False)
    _fails(
        _plan(tmp_path, blocks=str(path), households="户数"),
        2,
        f"blocks ({path}:blocks): the coordinate columns '经度' and '纬度' hold values that are not "
        f"numbers in 1 row (row id 2, counting from 0)",
        "give decimal numbers (e.g. 116.397, not 116°23′50″) or leave both empty",
    )


def test_csv_crs_from_prj_file(tmp_path: Path) -> None:
    path = tmp_path / "blocks.csv"
    _points(CRS).rename(columns={"x": "x坐标", "y": "y坐标"}).to_csv(path, index=False)
    path.with_suffix(".prj").write_text(gpd.GeoSeries([], crs=CRS).crs.to_wkt(), encoding="utf-8")
    run = _plan(tmp_path, blocks=str(path), households="户数")
    assert _succeeds(run)["households"] == 9 * HOUSEHOLDS
    assert "read points from the columns 'x坐标' and 'y坐标' (CRS NAD83 / MTM zone 9)" in run.notes()


def test_csv_of_wkt_polygons_in_degrees_is_read_in_wgs84(tmp_path: Path) -> None:
    blocks = _blocks()
    path = tmp_path / "blocks.csv"
    table = pd.DataFrame({"WKT": blocks.to_crs("EPSG:4326").geometry.to_wkt(), "hh": blocks["hh"]})
    table.to_csv(path, index=False)
    run = _plan(tmp_path, blocks=str(path))
    assert _succeeds(run)["households"] == 9 * HOUSEHOLDS
    assert "its geometry was read in WGS 84 (EPSG:4326), since the file has no CRS" in run.notes()
    # In metres, without a .prj file: its CRS cannot be guessed.
    table.assign(WKT=blocks.geometry.to_wkt()).to_csv(path, index=False)
    _fails(
        _plan(tmp_path, blocks=str(path), out=tmp_path / "metres"),
        2,
        "has no coordinate reference system (CRS)",
        "are not degrees but projected ones",
    )
    path.with_suffix(".prj").write_text(gpd.GeoSeries([], crs=CRS).crs.to_wkt(), encoding="utf-8")
    run = _plan(tmp_path, blocks=str(path), out=tmp_path / "prj")
    assert _succeeds(run)["crs"] == CRS  # GDAL reads a .prj file beside a CSV


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize(
    ("raw", "codec", "cut", "expected"),
    [
        ("社区名称".encode()[:10], "utf-8", True, ("社区名", True)),
        ("社区名称".encode()[:11], "utf-8", True, ("社区名", True)),
        ("社区名称".encode()[:10], "utf-8", False, None),
        ("ab社区名称".encode("gbk")[:9], "gb18030", True, ("ab社区名", True)),
        (b"ab\xff", "gb18030", True, None),
        (b"ab\xff", "utf-8", True, None),
        (b"\xe7", "utf-8", True, None),  # nothing left of the name
        ("户数".encode("gbk"), "gb18030", True, ("户数", False)),
    ],
)
def test_decode(raw: bytes, codec: str, cut: bool, expected: tuple[str, bool] | None) -> None:
    assert _decode(raw, codec, cut=cut) == expected
