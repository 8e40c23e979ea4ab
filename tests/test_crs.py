"""Projected CRSs whose metres are not ground metres (Web Mercator ...) are replaced by UTM.

A layer in a projected CRS measured in metres is kept only when the projection's scale at
the data is within 1 % of 1 for lengths and areas (:func:`redistrict._validate_crs.scale_distortion`);
otherwise it is treated like longitude/latitude: reprojected to the local UTM zone with a
note that says how much the CRS distorts. The command-line tests reuse the 3 x 3 grid of
300 m blocks of ``tests/test_cli_errors.py``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, box
from typer.testing import CliRunner

from redistrict._load_crs import metric_crs, to_crs
from redistrict._load_read import Report
from redistrict._validate_crs import (
    SCALE_TOLERANCE,
    Distortion,
    check_degrees,
    check_projected,
    scale_distortion,
    swapped_axes_hint,
)
from redistrict.cli import app

CRS = "EPSG:32189"  # NAD83 / MTM zone 9 (Ottawa), metres
X0, Y0 = 367_000.0, 5_030_000.0
CELL = 300.0
HOUSEHOLDS = 500
RUNNER = CliRunner()
OTTAWA_BOUNDS = (X0, Y0, X0 + 3 * CELL, Y0 + 3 * CELL)  # in CRS


# --------------------------------------------------------------------------- inputs


def _blocks() -> gpd.GeoDataFrame:
    """Nine 300 m blocks, 500 households each."""
    squares = [
        box(X0 + i * CELL, Y0 + j * CELL, X0 + (i + 1) * CELL, Y0 + (j + 1) * CELL)
        for j in range(3)
        for i in range(3)
    ]
    return gpd.GeoDataFrame({"hh": [HOUSEHOLDS] * 9}, geometry=squares, crs=CRS)


def _roads() -> gpd.GeoDataFrame:
    """Four north-south and four east-west streets around and between the blocks."""
    span = 3 * CELL
    lines = [LineString([(X0 + k * CELL, Y0), (X0 + k * CELL, Y0 + span)]) for k in range(4)]
    lines += [LineString([(X0, Y0 + k * CELL), (X0 + span, Y0 + k * CELL)]) for k in range(4)]
    return gpd.GeoDataFrame({"highway": ["residential"] * 8}, geometry=lines, crs=CRS)


def _densified(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add vertices every 10 m so that reprojected straight edges stay true to the ground."""
    return frame.set_geometry(frame.geometry.segmentize(10.0))


def _plan(tmp_path: Path, crs: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """Run ``redistrict plan`` on the grid reprojected to ``crs``; return run.json and summary.csv."""
    folder = tmp_path / crs.replace(":", "_")
    folder.mkdir()
    paths = {}
    for name, frame in (("blocks", _blocks()), ("roads", _roads())):
        paths[name] = folder / f"{name}.gpkg"
        pyogrio.write_dataframe(_densified(frame).to_crs(crs), paths[name])
    out = folder / "out"
    args = ["plan", "--roads", str(paths["roads"]), "--blocks", str(paths["blocks"])]
    args += ["--households", "hh", "--out", str(out), "--time-limit", "10"]
    result = RUNNER.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    record: dict[str, Any] = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return record, pd.read_csv(out / "summary.csv")


# --------------------------------------------------------------------------- the command line


def test_web_mercator_is_planned_in_utm_like_the_same_data_in_utm(tmp_path: Path) -> None:
    utm, utm_summary = _plan(tmp_path, "EPSG:32618")
    mercator, mercator_summary = _plan(tmp_path, "EPSG:3857")

    assert mercator["crs"] == "EPSG:32618"
    assert mercator["atoms"] == utm["atoms"] == 9
    assert mercator["units_in_band"] == utm["units_in_band"] == 2
    areas = mercator_summary["area_km2"].sort_values().to_numpy()
    expected = utm_summary["area_km2"].sort_values().to_numpy()
    assert areas.sum() == pytest.approx(9 * CELL**2 / 1e6, rel=5e-3)
    assert areas == pytest.approx(expected, rel=5e-3)
    assert mercator["objective"] == pytest.approx(utm["objective"], rel=5e-3)

    notes = "\n".join(mercator["notes"])
    assert "CRS WGS 84 / Pseudo-Mercator distorts lengths by x1.42" in notes
    assert "and areas by x2.0" in notes
    assert "working in WGS 84 / UTM zone 18N (EPSG:32618)" in notes
    assert "reprojected from WGS 84 / Pseudo-Mercator to WGS 84 / UTM zone 18N" in notes


def test_a_utm_zone_is_kept_without_a_note(tmp_path: Path) -> None:
    record, summary = _plan(tmp_path, "EPSG:32618")
    assert record["crs"] == "EPSG:32618"
    assert summary["area_km2"].sum() == pytest.approx(9 * CELL**2 / 1e6, rel=5e-3)
    notes = "\n".join(record["notes"])
    assert "distorts" not in notes
    assert "reprojected" not in notes
    assert "working in" not in notes


# --------------------------------------------------------------------------- metric_crs


def _points(crs: str, bounds: tuple[float, float, float, float] = OTTAWA_BOUNDS) -> gpd.GeoSeries:
    minx, miny, maxx, maxy = bounds
    return gpd.GeoSeries([Point(minx, miny), Point(maxx, maxy)], crs=CRS).to_crs(crs)


@pytest.mark.parametrize(
    "crs",
    [
        "EPSG:32189",  # MTM zone 9: the local grid
        "EPSG:32618",  # UTM zone 18N
        "EPSG:32617",  # the neighbouring UTM zone: 0.2 % at Ottawa
        "EPSG:2953",  # New Brunswick stereographic: 0.3 % at Ottawa
    ],
)
def test_crs_with_small_distortion_is_kept(crs: str) -> None:
    report = Report()
    assert metric_crs(_points(crs), "blocks", report) == pyproj.CRS(crs)
    assert report.problems == report.notes == []


def test_crs_in_feet_is_still_replaced_by_utm() -> None:
    report = Report()
    utm = metric_crs(_points("EPSG:2263"), "blocks", report)
    assert utm is not None and utm.to_epsg() == 32618
    assert report.notes == [
        "blocks: CRS NAD83 / New York Long Island (ftUS) is not in metres; "
        "working in WGS 84 / UTM zone 18N (EPSG:32618)"
    ]


def test_failing_scale_factors_keep_the_crs(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise pyproj.exceptions.ProjError("no factors")

    monkeypatch.setattr(pyproj.Proj, "get_factors", fail)
    report = Report()
    assert metric_crs(_points("EPSG:3857"), "blocks", report) == pyproj.CRS("EPSG:3857")
    assert report.problems == report.notes == []


def test_crs_kept_when_no_utm_zone_does_better() -> None:
    # Canada from coast to coast in Statistics Canada Lambert: a few % off at the edges,
    # but any one UTM zone is far worse 40 degrees away from its central meridian.
    wide = gpd.GeoSeries([Point(-135, 50), Point(-60, 60)], crs="EPSG:4326").to_crs("EPSG:3347")
    report = Report()
    assert metric_crs(wide, "blocks", report) == pyproj.CRS("EPSG:3347")
    assert report.problems == []
    assert len(report.notes) == 1
    assert "CRS NAD83 / Statistics Canada Lambert distorts lengths by" in report.notes[0]
    assert report.notes[0].endswith("no UTM zone does better, kept NAD83 / Statistics Canada Lambert")


# --------------------------------------------------------------------------- scale_distortion


def _distortion(crs: str) -> Distortion:
    bounds = _points(crs).total_bounds
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        measured = scale_distortion(pyproj.CRS(crs), bounds)
    assert measured is not None
    return measured


def test_web_mercator_distortion_at_ottawa() -> None:
    d = _distortion("EPSG:3857")
    assert d.length == pytest.approx(1.424, abs=2e-3)  # 1 / cos(45.4 deg)
    assert d.area == pytest.approx(d.length**2, rel=1e-6)  # conformal
    assert d.exceeds()


def test_utm_distortion_at_ottawa() -> None:
    d = _distortion("EPSG:32618")
    assert d.length == pytest.approx(0.9996, abs=2e-4)  # UTM's central scale factor
    assert not d.exceeds()
    assert _distortion("EPSG:3857").worse_than(d)
    assert not d.worse_than(_distortion("EPSG:3857"))


def test_equal_area_projection_is_judged_by_its_lengths() -> None:
    # Mollweide keeps areas, but at 45 deg N lengths are x1.35 one way and x0.74 across.
    d = _distortion("ESRI:54009")
    assert d.area == pytest.approx(1.0, abs=1e-6)
    assert max(d.length, 1 / d.length) == pytest.approx(1.35, abs=0.01)
    assert d.exceeds()


def test_tolerance() -> None:
    assert SCALE_TOLERANCE == 0.01
    assert not Distortion(length=1.009, area=0.991).exceeds()
    assert Distortion(length=1.011, area=1.0).exceeds()
    assert Distortion(length=1.0, area=0.98).exceeds()


def test_distortion_cannot_be_measured() -> None:
    assert scale_distortion(pyproj.CRS("EPSG:4326"), (-75.7, 45.4, -75.6, 45.5)) is None
    nan = float("nan")
    assert scale_distortion(pyproj.CRS("EPSG:3857"), (nan, nan, nan, nan)) is None


# --------------------------------------------------------------------------- swapped axes


def test_swapped_axes_are_suspected_beyond_the_polar_circles() -> None:
    # Ottawa (-75.7, 45.4) stored latitude first lands in Antarctica.
    hint = swapped_axes_hint((45.3, -75.8, 45.5, -75.6))
    assert "latitude -75.7, beyond the polar circles" in hint and "swap the axes" in hint
    assert swapped_axes_hint((-75.8, 45.3, -75.6, 45.5)) == ""  # Ottawa as it should be
    # Tromsø (69.6 N) gets the hint too: it is a note that says "if", never an error.
    assert swapped_axes_hint((18.9, 69.6, 19.0, 69.7)).startswith("; its centre lies at latitude 69.7")
    assert swapped_axes_hint((float("nan"),) * 4) == ""


def test_swapped_degrees_out_of_range_get_the_hint() -> None:
    # Yueyang (113.1 E, 29.4 N) stored latitude first: y = 113.1 is no latitude.
    wgs84 = pyproj.CRS("EPSG:4326")
    (problem,) = check_degrees(wgs84, (29.3, 113.0, 29.5, 113.2), "blocks (b.gpkg)", "b.gpkg")
    assert "are not degrees: they would be with x and y swapped" in problem
    assert "ogr2ogr -a_srs" in problem
    (problem,) = check_degrees(wgs84, (500_000.0, 5e6, 501_000.0, 5.001e6), "blocks", "b.gpkg")
    assert "swapped" not in problem


def test_swapped_layer_gets_a_note_when_loaded(tmp_path: Path) -> None:
    blocks = _blocks().to_crs(4326)
    blocks["geometry"] = shapely.transform(blocks.geometry.to_numpy(), lambda xy: xy[:, ::-1])
    path = tmp_path / "swapped.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyogrio.write_dataframe(blocks, path)
    report = Report()
    frame = gpd.read_file(path)
    metric_crs(frame.geometry, "blocks (swapped.gpkg)", report)
    assert any("beyond the polar circles" in n for n in report.notes), report.notes


def test_gauss_kruger_x_with_the_zone_number_is_refused_with_the_zoned_crs() -> None:
    # Yueyang (113.1 E, 29.4 N) in CGCS2000 3-degree GK zone 38: x = 38 411 000 carries the
    # zone number; labelled with the CM 114E CRS (no zone number) it lies nowhere on earth.
    cm114 = pyproj.CRS("EPSG:4547")
    bounds = (38_411_000.0, 3_250_000.0, 38_413_600.0, 3_252_000.0)
    (problem,) = check_projected(cm114, bounds, "blocks (b.gpkg:blocks)", "b.gpkg")
    assert problem.startswith(
        "blocks (b.gpkg:blocks): declares the CRS CGCS2000 / 3-degree Gauss-Kruger CM 114E"
    )
    assert "(38,411,000, 3,250,000) .. (38,413,600, 3,252,000)" in problem
    assert (
        "start with the zone number 38: assign CGCS2000 / 3-degree Gauss-Kruger zone 38 (EPSG:4526)"
        in problem
    )
    # The same coordinates under the zoned CRS, and the unprefixed ones under CM 114E, are fine.
    assert check_projected(pyproj.CRS("EPSG:4526"), bounds, "blocks", "b.gpkg") == []
    assert check_projected(cm114, (411_000.0, 3_250_000.0, 413_600.0, 3_252_000.0), "blocks", "b.gpkg") == []
    assert check_projected(pyproj.CRS(CRS), OTTAWA_BOUNDS, "blocks", "b.gpkg") == []
    # Impossible coordinates with no zoned CRS to suggest still get the generic fix.
    (problem,) = check_projected(pyproj.CRS(CRS), (9e7, 9e7, 9.1e7, 9.1e7), "blocks", "b.gpkg")
    assert "assign the CRS the coordinates are really in" in problem


def test_gauss_kruger_zone_mistake_stops_the_plan_before_anything_is_written(tmp_path: Path) -> None:
    def in_yueyang(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        # The grid moved to x = 38 411 000 (zone 38, with its number) but labelled CM 114E.
        moved = frame.set_geometry(frame.geometry.translate(38_411_000.0 - X0, 3_250_000.0 - Y0))
        return moved.set_crs("EPSG:4547", allow_override=True)

    paths = {}
    for name, frame in (("blocks", _blocks()), ("roads", _roads())):
        paths[name] = tmp_path / f"{name}.gpkg"
        pyogrio.write_dataframe(in_yueyang(frame), paths[name])
    out = tmp_path / "out"
    args = ["plan", "--roads", str(paths["roads"]), "--blocks", str(paths["blocks"])]
    result = RUNNER.invoke(app, [*args, "--households", "hh", "--out", str(out), "--time-limit", "5"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Traceback" not in text
    for name in ("roads", "blocks"):
        assert (
            f"{name} ({paths[name]}:{name}): declares the CRS CGCS2000 / 3-degree Gauss-Kruger CM 114E"
            in text
        )
    assert "assign CGCS2000 / 3-degree Gauss-Kruger zone 38 (EPSG:4526)" in text
    assert not out.exists()


def test_the_utm_zone_follows_the_bulk_of_the_blocks_not_an_outlier() -> None:
    # Yueyang is in UTM zone 50N. One point geocoded to (0, 0) moved the centre of the bounds
    # to zone 40N (geopandas' estimate_utm_crs), where the district's areas read twice too large.
    lon, lat = 113.13, 29.36
    points = [Point(lon + 0.001 * i, lat + 0.001 * (i % 3)) for i in range(20)] + [Point(0.0, 0.0)]
    geometry = gpd.GeoSeries(points, crs="EPSG:4326")
    assert geometry.estimate_utm_crs().to_epsg() != 32649  # the bounds' centre lies elsewhere
    report = Report()
    crs = metric_crs(geometry, "blocks", report)
    assert crs is not None and crs.to_epsg() == 32649
    assert report.notes == [
        "blocks: CRS WGS 84 is not in metres; working in WGS 84 / UTM zone 49N (EPSG:32649)"
    ]


def test_points_at_longitude_0_latitude_0_are_refused_as_failed_geocodes(tmp_path: Path) -> None:
    from redistrict.errors import InputError
    from redistrict.load import load_inputs

    rows = [(113.1300 + 0.002 * i, 29.3600 + 0.002 * (i % 2)) for i in range(6)] + [(0.0, 0.0)]
    table = pd.DataFrame(
        {"户数": [300] * len(rows), "经度": [x for x, _ in rows], "纬度": [y for _, y in rows]}
    )
    blocks = tmp_path / "compounds.csv"
    table.to_csv(blocks, index=False, encoding="utf-8-sig")
    line = LineString([(113.129, 29.359), (113.142, 29.363)])
    roads = tmp_path / "roads.geojson"
    gpd.GeoDataFrame({"highway": ["primary"]}, geometry=[line], crs="EPSG:4326").to_file(roads)
    with pytest.raises(InputError) as info:
        load_inputs(str(roads), str(blocks), "户数")
    (problem,) = [p for p in info.value.problems if "longitude 0, latitude 0" in p]
    assert "1 row (row id 6, counting from 0) lies at longitude 0, latitude 0" in problem
    assert "failed to geocode" in problem


def test_the_same_crs_written_as_esri_wkt_is_not_reprojected() -> None:
    # A Shapefile's .prj spells EPSG:4547 its own way: the note said "reprojected from
    # CGCS2000 / 3-degree Gauss-Kruger CM 114E to CGCS2000 / 3-degree Gauss-Kruger CM 114E".
    crs = pyproj.CRS.from_epsg(4547)
    esri = pyproj.CRS.from_wkt(crs.to_wkt(pyproj.enums.WktVersion.WKT1_ESRI))
    assert esri != crs and esri.to_epsg() == 4547
    frame = gpd.GeoDataFrame(geometry=[Point(500_000.0, 3_300_000.0)], crs=esri)
    report = Report()
    out = to_crs(frame, crs, "roads (roads.shp)", report)
    assert out is not None and out.crs == crs
    assert out.geometry.iloc[0].equals(Point(500_000.0, 3_300_000.0))
    assert report.notes == [] and report.problems == []
    # A different CRS is still reprojected, with its note.
    report = Report()
    lonlat = gpd.GeoDataFrame(geometry=[Point(114.0, 29.8)], crs=4326)
    other = to_crs(lonlat, crs, "roads (roads.shp)", report)
    assert other is not None and other.crs == crs
    assert other.geometry.iloc[0].x == pytest.approx(500_000.0, abs=1.0)
    assert report.notes == [f"roads (roads.shp): reprojected from WGS 84 to {crs.name}"]
