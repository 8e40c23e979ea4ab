"""Open the offline maps in headless Chromium with the network cut off."""

from __future__ import annotations

import math
import re
from pathlib import Path

import folium
import geopandas as gpd
import pytest
from _browser import MapCheck, check_map, check_view, require_chromium
from shapely.geometry import LineString, box

from redistrict._map_style import SMALL_SCREEN_PX
from redistrict.maps import MapInfo, compare_map, plan_map, save_map

pytestmark = pytest.mark.browser

CELL = 500.0
X0, Y0 = 367_000.0, 5_030_000.0
CRS = "EPSG:32189"


@pytest.fixture(scope="module", autouse=True)
def _chromium() -> None:
    require_chromium()


@pytest.fixture(scope="module")
def units() -> gpd.GeoDataFrame:
    rows = [
        {
            "unit_id": r * 3 + c + 1,
            "households": 3450 if (r, c) == (1, 1) else 2000 + 100 * (r * 3 + c + 1),
            "residents": 5000,
            "geometry": box(X0 + c * CELL, Y0 + r * CELL, X0 + (c + 1) * CELL, Y0 + (r + 1) * CELL),
        }
        for r in range(3)
        for c in range(3)
    ]
    return gpd.GeoDataFrame(rows, crs=CRS)


@pytest.fixture(scope="module")
def roads() -> gpd.GeoDataFrame:
    lines = []
    for i in range(4):
        lines.append((i in (0, 3), LineString([(X0 + i * CELL, Y0), (X0 + i * CELL, Y0 + 3 * CELL)])))
        lines.append((False, LineString([(X0, Y0 + i * CELL), (X0 + 3 * CELL, Y0 + i * CELL)])))
        lines.append(
            (
                False,
                LineString([(X0 + (i - 0.5) * CELL, Y0), (X0 + (i - 0.5) * CELL, Y0 + 3 * CELL)]),
            )
        )
    return gpd.GeoDataFrame(
        {"road_class": ["x"] * len(lines), "major": [m for m, _ in lines]},
        geometry=[g for _, g in lines],
        crs=CRS,
    )


@pytest.fixture(scope="module")
def info() -> MapInfo:
    return MapInfo(
        title="测试方案 / test plan",
        band=(2000, 3000),
        status="optimal",
        gap=0.0,
        totals={"households": 23450.0, "units": 9.0, "units_in_band": 8.0},
        date="2024-05-01",
    )


def _assert_clean(result: MapCheck) -> None:
    assert result.leaflet
    assert result.console_errors == []
    assert result.page_errors == []
    assert result.external_requests == []
    assert result.ok


def test_hand_made_map_draws_offline(
    units: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    html = save_map(plan_map(units, info=info, roads=roads), tmp_path / "plan.html")
    result = check_map(html, tmp_path / "plan.png")
    _assert_clean(result)
    assert result.containers == 1
    assert result.polygons == len(units) == 9
    assert result.labels == 9
    assert result.problem_polygons == 1
    assert result.fills >= 3  # a 3x3 grid with corner contacts needs four colours
    assert result.layer_entries == 4  # units, labels, major roads, other roads
    assert "3,450" in result.legend
    assert "户数" in result.tooltip and "人口" in result.tooltip
    assert result.coloured_fraction > 0.05
    assert (tmp_path / "plan.png").stat().st_size > 10_000
    assert len(result.scale) == 1 and result.scale[0].endswith((" m", " km")), result.scale
    assert result.covered == []  # title, legend and layer control leave the units clear


def test_english_map_and_compare_map_draw_offline(
    units: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    html = save_map(
        compare_map({"A": units, "B": units.iloc[:4]}, info=info, roads=roads, lang="en"),
        tmp_path / "compare.html",
    )
    result = check_map(html, tmp_path / "compare.png")
    _assert_clean(result)
    assert result.polygons == 9  # only the first scenario is shown on opening
    assert result.labels == 9
    assert result.layer_entries == 4  # two scenario radios, two road layers
    assert "Households" in result.tooltip
    assert "A: 9 units, 1 with problems" in result.legend
    assert result.covered == []


@pytest.mark.parametrize("viewport", [(390, 844), (500, 800), (1280, 800)])
def test_plan_fills_any_window_and_zooms(
    units: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path, viewport: tuple[int, int]
) -> None:
    """Phones and half-screen windows too: a finite zoom, the whole plan large in view, + works."""
    html = save_map(plan_map(units, info=info, roads=roads), tmp_path / "plan.html")
    result = check_view(html, viewport)
    assert result.page_errors == []
    opened = result.opened
    assert math.isfinite(opened.zoom)
    assert opened.units_in_view
    assert opened.units_share > 0.5  # the plan fills the window, not a dot in it
    assert opened.overlaps == []  # title, legend, layer control and zoom buttons apart
    assert opened.layers_collapsed == (viewport[0] < SMALL_SCREEN_PX)  # a toggle on small screens
    assert result.zoomed_in.zoom == opened.zoom + 1


def test_compare_map_refits_on_resize_until_the_user_zooms(
    units: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    """A half-screen window widened to full screen: the plan grows with it, and stays put once zoomed."""
    html = save_map(
        compare_map({"A": units, "B": units.iloc[:4]}, info=info, roads=roads, lang="en"),
        tmp_path / "compare.html",
    )
    result = check_view(html, (500, 800), resize_to=(1280, 800))
    assert result.page_errors == []
    assert math.isfinite(result.opened.zoom) and result.opened.units_in_view
    assert result.opened.overlaps == []
    assert result.resized is not None and result.zoomed_resized is not None
    assert result.resized.units_in_view and result.resized.units_share > 0.5
    assert result.resized.zoom > result.opened.zoom  # widening refits to the larger window
    assert result.zoomed_in.zoom == result.resized.zoom + 1
    assert result.zoomed_resized.zoom == result.zoomed_in.zoom  # the user's zoom is kept


def test_check_fails_when_units_are_missing(
    units: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    """Negative control: the same map without its units layer is detected."""
    m = plan_map(units, info=info, roads=roads)
    for key, child in list(m._children.items()):
        if isinstance(child, folium.GeoJson) and child.options.get("pane") == "rd_units":
            del m._children[key]
    html = save_map(m, tmp_path / "no_units.html")
    result = check_map(html, tmp_path / "no_units.png", timeout_ms=2_000)
    assert result.leaflet and result.page_errors == []
    assert result.polygons == 0
    assert not result.ok
    full = check_map(
        save_map(plan_map(units, info=info, roads=roads), tmp_path / "full.html"),
        tmp_path / "full.png",
    )
    assert result.coloured_fraction < full.coloured_fraction / 2


def test_check_fails_without_leaflet(units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path) -> None:
    """Negative control: stripping the inlined Leaflet leaves a broken page."""
    page = save_map(plan_map(units, info=info), tmp_path / "plan.html").read_text(encoding="utf-8")
    stripped, n = re.subn(
        r"<script>/\* Leaflet [^*]*\*/.*?</script>", "<script></script>", page, flags=re.DOTALL
    )
    assert n == 1
    html = tmp_path / "stripped.html"
    html.write_text(stripped, encoding="utf-8")
    result = check_map(html, tmp_path / "stripped.png", timeout_ms=2_000)
    assert not result.leaflet
    assert result.polygons == 0
    assert any("L is not defined" in e for e in result.page_errors)
    assert not result.ok


def test_check_records_cdn_requests_of_a_plain_folium_map(units: gpd.GeoDataFrame, tmp_path: Path) -> None:
    """Negative control: folium's default page needs the internet and is caught."""
    m = folium.Map(tiles=None)
    folium.GeoJson(units.to_crs(4326)).add_to(m)
    html = tmp_path / "folium_default.html"
    m.save(str(html))
    result = check_map(html, tmp_path / "folium_default.png", timeout_ms=2_000)
    assert any("leaflet" in url for url in result.external_requests)
    assert any("jquery" in url for url in result.external_requests)
    assert result.polygons == 0 and not result.leaflet
    assert result.console_errors or result.page_errors
    assert not result.ok
