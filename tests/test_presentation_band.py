"""What the maps, pages and console say about a plan's band, and in which language.

A band in residents (township communities of 8,000-10,000 people) is stated in
residents everywhere: title blocks, labels, tooltips, problem lists, the combined map
of a comparison (each scenario with its own band) and ``run.json``. The comparison
pages follow ``--lang`` (Chinese by default), solver statuses are translated, the
comparison table fits a 1,400 px window and the console summary is never cut short.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import pytest
from rich.console import Console
from shapely.geometry import box
from typer.testing import CliRunner

from redistrict.cli import app
from redistrict.compare import (
    COMPARISON_COLUMNS,
    comparison_html,
    comparison_markdown,
    comparison_title,
    print_summary,
)
from redistrict.errors import InputError
from redistrict.maps import MapInfo, PlanBand, compare_map, plan_map, save_map

CELL = 500.0
X0, Y0 = 367_000.0, 5_030_000.0  # inside EPSG:32189 (Ottawa)
CRS = "EPSG:32189"
SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"


# ---------------------------------------------------------------------------
# hand-made plans
# ---------------------------------------------------------------------------


@pytest.fixture
def township() -> gpd.GeoDataFrame:
    """Four units in a row, every one within 2,000-3,000 households.

    By residents (band 8,000-10,000) unit 2 is above the band and unit 4 below it;
    there is no ``status`` or ``in_band`` column, so the map must judge them itself.
    """
    households = [2500, 2600, 2700, 2800]
    residents = [9000, 11_500, 9500, 7000]
    rows = [
        {
            "unit_id": i + 1,
            "households": hh,
            "residents": res,
            "geometry": box(X0 + i * CELL, Y0, X0 + (i + 1) * CELL, Y0 + CELL),
        }
        for i, (hh, res) in enumerate(zip(households, residents, strict=True))
    ]
    return gpd.GeoDataFrame(rows, crs=CRS)


def _info(
    band: tuple[int, int] = (8000, 10_000), unit: Any = "residents", status: str = "feasible"
) -> MapInfo:
    return MapInfo(
        title="township",
        band=band,
        band_unit=unit,
        status=status,
        gap=0.05,
        totals={"residents": 37_000.0, "households": 10_600.0},
        date="2024-05-01",
    )


def _read(path: Path) -> str:
    """A saved map with JSON ``\\uXXXX`` escapes (non-ASCII text, ``<``, ``>``) decoded."""
    page = path.read_text(encoding="utf-8")
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def _page(m: folium.Map, tmp_path: Path, name: str = "map.html") -> str:
    """Save a map and read it back decoded."""
    return _read(save_map(m, tmp_path / name))


def _box(page: str, box_id: str) -> str:
    """HTML of one fixed box of a map (``rd-title`` or ``rd-legend``)."""
    return re.split(r'id="rd-|<script', page.split(f'id="{box_id}"', 1)[1], maxsplit=1)[0]


def _labels(page: str) -> list[list[str]]:
    """Words of each unit label, tags removed, in page order."""
    found = re.findall(r'<div class=\\?"rd-label[^>]*>(.*?)</div>', page)
    return [re.sub(r"<[^>]+>", " ", label).split() for label in found]


def _tooltip_fields(page: str) -> list[list[str]]:
    """Tooltip fields of each unit layer, in page order."""
    return [json.loads(f) for f in re.findall(r"let fields = (\[[^\]]*\]);", page) if '"st"' in f]


def test_band_in_residents_is_stated_and_judged_in_residents(
    township: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    page = _page(plan_map(township, info=_info(), lang="en"), tmp_path)
    title = _box(page, "rd-title")
    assert "Residents band" in title and "8,000–10,000 residents" in title
    assert "Households band" not in title and " hh" not in title
    # labels lead with the residents, households still shown
    assert _labels(page) == [
        ["1", "9,000", "residents", "2,500", "hh"],
        ["2", "11,500", "residents", "2,600", "hh"],
        ["3", "9,500", "residents", "2,700", "hh"],
        ["4", "7,000", "residents", "2,800", "hh"],
    ]
    assert _tooltip_fields(page)[0][:4] == ["unit", "residents", "hh", "st"]
    # in band is judged by residents: 2 above and 4 below, though all are 2,000-3,000 hh
    legend = _box(page, "rd-legend")
    assert "Problem units (2)" in legend
    assert "unit 2: above band (11,500 residents)" in legend
    assert "unit 4: below band (7,000 residents)" in legend
    assert "Solver status</th><td>feasible (not proven optimal)" in title


def test_band_in_residents_in_chinese(township: gpd.GeoDataFrame, tmp_path: Path) -> None:
    page = _page(plan_map(township, info=_info()), tmp_path)
    title = _box(page, "rd-title")
    assert "人口区间" in title and "8,000–10,000人" in title and "户数区间" not in title
    assert "可行（未证明最优，差距 5.0%）" in title and "feasible" not in title
    assert _labels(page)[0] == ["1", "9,000人", "2,500户"]
    assert "单元 2：超出区间（11,500人）" in _box(page, "rd-legend")


def test_households_band_is_unchanged(township: gpd.GeoDataFrame, tmp_path: Path) -> None:
    page = _page(plan_map(township, info=_info((2000, 3000), "households"), lang="en"), tmp_path)
    assert "Households band" in _box(page, "rd-title")
    assert _labels(page)[0] == ["1", "2,500", "hh"]
    assert _tooltip_fields(page)[0][:3] == ["unit", "hh", "st"]
    assert "Problem units: none" in _box(page, "rd-legend")


def test_compare_map_shows_each_scenarios_own_band(township: gpd.GeoDataFrame, tmp_path: Path) -> None:
    plans = {"band-2000-3000": township, "rural": township}
    bands = {"band-2000-3000": PlanBand(2000, 3000), "rural": PlanBand(8000, 10_000, "residents")}
    info = _info((2000, 3000), "households", status="feasible / optimal")
    page = _page(compare_map(plans, info=info, bands=bands, lang="en"), tmp_path)
    title = _box(page, "rd-title")
    assert "band-2000-3000: 2,000–3,000 hh" in title and "rural: 8,000–10,000 residents" in title
    assert "feasible (not proven optimal) / optimal" in title
    legend = _box(page, "rd-legend")
    assert "band-2000-3000: 4 units, 0 with problems (2,000–3,000 hh)" in legend
    assert "rural: 4 units, 2 with problems (8,000–10,000 residents)" in legend
    labels = _labels(page)
    assert labels[0] == ["1", "2,500", "hh"] and labels[4] == ["1", "9,000", "residents", "2,500", "hh"]
    zh = _page(compare_map(plans, info=info, bands=bands), tmp_path, "zh.html")
    assert "rural：8,000–10,000人" in _box(zh, "rd-title")
    assert "可行（未证明最优） / 最优" in _box(zh, "rd-title")


def test_compare_map_with_one_band_states_it_once(township: gpd.GeoDataFrame, tmp_path: Path) -> None:
    bands = {name: PlanBand(8000, 10_000, "residents") for name in ("a", "b")}
    info = _info((2000, 3000), "households")
    page = _page(compare_map({"a": township, "b": township}, info=info, bands=bands, lang="en"), tmp_path)
    assert "Residents band</th><td>8,000–10,000 residents" in _box(page, "rd-title")


def test_band_in_residents_needs_residents(township: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError) as err:
        plan_map(township.drop(columns="residents"), info=_info())
    assert "the band counts residents but the units have no 'residents' column" in str(err.value)
    bad = {"x": PlanBand(8000, 10_000, "residents"), "y": PlanBand(3000, 2000)}
    with pytest.raises(InputError) as err:
        compare_map({"x": township.drop(columns="residents")}, info=_info(), bands=bad)
    text = str(err.value)
    assert "plans['x']: the band counts residents" in text and "bands['y']: no plan" in text
    with pytest.raises(InputError, match=r"info\.band_unit"):
        plan_map(township, info=_info(unit="people"))


# ---------------------------------------------------------------------------
# comparison pages and console
# ---------------------------------------------------------------------------


def _table() -> pd.DataFrame:
    """The comparison of the four scenarios of the user test on Centretown."""
    rows = [
        ("band-2000-3000", "2,000-3,000 households", 14, 376, 0.559, 8.2),
        ("target-2500", "2,000-3,000 households", 14, 278, 0.476, 8.7),
        ("minimal-change", "2,000-3,000 households", 13, 0, 0.05, 7.4),
        ("rural", "8,000-10,000 residents", 6, 1983, 0.146, 10.8),
    ]
    records = [
        {
            "scenario": name,
            "band": band,
            "units": units,
            "units_in_band": units,
            "households_moved": moved,
            "new_committees": 11,
            "new_offices": 11,
            "one_time_cost_yuan": 33_000_000.0,
            "annual_cost_yuan": 11_200_000.0,
            "staff_needed": 140,
            "worst_deviation": 998.0,
            "mean_deviation": 831.0,
            "mean_distance_m": 375.0,
            "major_boundary_share": 0.56,
            "office_shortfall_m2": float("nan"),
            "units_beyond_radius": 0,
            "locked_units": 0,
            "status": "feasible",
            "gap": gap,
            "seconds": seconds,
            "error": "",
        }
        for name, band, units, moved, gap, seconds in rows
    ]
    table = pd.DataFrame(records, columns=list(COMPARISON_COLUMNS))
    for col in (
        "units",
        "units_in_band",
        "households_moved",
        "new_committees",
        "new_offices",
        "staff_needed",
    ):
        table[col] = table[col].astype("Int64")
    return table


def test_comparison_pages_are_chinese_by_default() -> None:
    table = _table()
    md = comparison_markdown(table, title="centretown: scenario comparison")
    assert md.startswith("# centretown：方案比较\n")
    assert "| 方案 | 规模区间 | 单元数 | 区间内单元 | 调整户数 |" in md
    assert "| rural | 8,000–10,000人 | 6 | 6 | 1,983 |" in md
    assert "可行（未证明最优）" in md and "feasible" not in md
    assert "Households moved" not in md and "调整户数：" in md
    page = comparison_html(table, links={"rural": "rural/map.html"})
    assert '<html lang="zh-CN">' in page and "<h1>方案比较</h1>" in page
    assert '<a href="map.html">全部方案地图（每个方案一个图层）</a>' in page
    assert "<th>求解状态</th>" in page and "可行（未证明最优）" in page
    for english in ("Scenario", "Solver status", "Map of all scenarios", "Written", "feasible"):
        assert english not in page, english
    assert comparison_title("centretown") == "centretown：方案比较"


def test_comparison_pages_in_english() -> None:
    table = _table()
    md = comparison_markdown(table, title="centretown: scenario comparison", lang="en")
    assert md.startswith("# centretown: scenario comparison\n")
    assert "| rural | 8,000-10,000 residents |" in md
    assert "feasible (not proven optimal)" in md
    page = comparison_html(table, lang="en")
    assert '<html lang="en">' in page and "<th>Solver status</th>" in page
    with pytest.raises(InputError, match="lang"):
        comparison_html(table, lang="fr")


def test_console_summary_is_whole_when_not_a_terminal(tmp_path: Path) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, force_terminal=False)
    print_summary(_table(), tmp_path / "cmp", console)
    text = buffer.getvalue()
    assert "…" not in text
    for whole in ("band-2000-3000", "minimal-change", "8,000-10,000 residents", "feasible", "33.00"):
        assert whole in text, whole
    assert "comparison.html" in text.splitlines()[-1]


@pytest.mark.browser
def test_comparison_table_fits_a_1400_px_window(tmp_path: Path) -> None:
    from _browser import CHROMIUM_ARGS, require_chromium
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    measure = """() => {
        const wrap = document.querySelector('table').parentElement;
        const heads = [...document.querySelectorAll('thead th')];
        return {page: document.documentElement.scrollWidth, right: heads.at(-1).getBoundingClientRect().right,
                wrap: wrap.clientWidth, inner: wrap.scrollWidth};
    }"""
    measured: dict[str, Any] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=list(CHROMIUM_ARGS))
        try:
            for lang in ("en", "zh"):
                page_file = tmp_path / f"comparison-{lang}.html"
                page_file.write_text(comparison_html(_table(), lang=lang), encoding="utf-8")
                for width in (1400, 1000):
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    page.goto(page_file.as_uri())
                    measured[lang, width] = page.evaluate(measure)
                    if width == 1000:  # scrolled sideways, the scenario column stays in view
                        page.evaluate(
                            "() => { document.querySelector('table').parentElement.scrollLeft = 400; }"
                        )
                        measured[lang, "first"] = page.evaluate(
                            "() => document.querySelector('tbody td').getBoundingClientRect().left"
                        )
                    page.screenshot(path=str(tmp_path / f"comparison-{lang}-{width}.png"))
                    page.close()
        finally:
            browser.close()
    for lang in ("en", "zh"):
        wide = measured[lang, 1400]
        # every column, up to Gap and Seconds, is on screen without scrolling
        assert wide["page"] <= 1400 and wide["right"] <= 1400 and wide["inner"] <= wide["wrap"], (lang, wide)
        narrow = measured[lang, 1000]
        # a narrower window scrolls the table in its box, not the page
        assert narrow["page"] <= 1000, (lang, narrow)
        assert 0 <= measured[lang, "first"] <= 30, (lang, measured[lang, "first"])


# ---------------------------------------------------------------------------
# the compare command on Centretown: households and residents scenarios
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compared_zh(tmp_path_factory: pytest.TempPathFactory, ottawa_testcase: Path) -> Path:
    """``redistrict compare`` of band-2000-3000 and rural with the default language."""
    out = tmp_path_factory.mktemp("compare-zh") / "cmp"
    f = str(ottawa_testcase)
    args = [
        "compare", str(SCENARIOS / "band-2000-3000.toml"), str(SCENARIOS / "rural.toml"),
        "--roads", f"{f}:roads", "--blocks", f"{f}:dissemination_blocks",
        "--households", "dburdwell2021", "--residents", "dbpop2021", "--road-class", "RANK",
        "--communities", f"{f}:ons_neighbourhoods", "--community-id", "ONS_ID",
        "--community-name", "ONS_Name", "--time-limit", "3", "--out", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_compare_writes_the_residents_band_and_chinese_pages(compared_zh: Path) -> None:
    rural = compared_zh / "rural"
    record = json.loads((rural / "run.json").read_text(encoding="utf-8"))
    params = record["parameters"]
    assert params["band"] == [8000, 10_000] and params["band_unit"] == "residents"
    assert params["target"] == 9000
    assert len(params["household_band"]) == 2 and params["household_band"][1] < 8000
    units = gpd.read_file(rural / "plan.gpkg", layer="units")
    assert record["units_in_band"] == int(units["residents"].between(8000, 10_000).sum())
    # run.json's metrics judge the plan in residents too (they used the derived household band,
    # so metrics.units_in_band could say 15 where units_in_band said 16)
    assert record["metrics"]["units_in_band"] == record["units_in_band"]
    assert record["metrics"]["max_deviation"] == pytest.approx(
        float((units["residents"].round() - 9000).abs().max())
    )
    # the components' sizes count residents, as the band does (they were called households)
    assert sum(c["residents"] for c in record["components"]) == pytest.approx(units["residents"].sum(), abs=1)
    assert not any("households" in c for c in record["components"])

    page = _read(rural / "map.html")
    title = _box(page, "rd-title")
    assert "人口区间" in title and "8,000–10,000人" in title and "户数区间" not in title
    first = units.sort_values("unit_id").iloc[0]
    assert _labels(page)[0] == [
        str(first["unit_id"]),
        f"{round(first['residents']):,}人",
        f"{first['households']:,}户",
    ]

    combined = _read(compared_zh / "map.html")
    title = _box(combined, "rd-title")
    assert "band-2000-3000：2,000–3,000户" in title and "rural：8,000–10,000人" in title
    assert "feasible" not in title and "heuristic" not in title and "optimal" not in title

    md = (compared_zh / "comparison.md").read_text(encoding="utf-8")
    assert md.startswith("# ottawa_centretown_testcase：方案比较")
    assert "| 方案 | 规模区间 |" in md and "| rural | 8,000–10,000人 |" in md
    html_page = (compared_zh / "comparison.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html_page and "Solver status" not in html_page
    csv = pd.read_csv(compared_zh / "comparison.csv")  # data stays machine-readable
    assert csv["band"].tolist() == ["2,000-3,000 households", "8,000-10,000 residents"]
