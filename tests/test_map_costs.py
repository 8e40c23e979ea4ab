"""Unit tooltips state what each unit costs (as :mod:`redistrict.costs` computes it) and
name the office a unit keeps, with its community, in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import pytest
from _browser import check_map, require_chromium
from shapely.geometry import Point, box

from redistrict.costs import CostParams, unit_costs
from redistrict.errors import InputError
from redistrict.maps import MapInfo, compare_map, plan_map, save_map

CELL = 500.0
X0, Y0 = 367_000.0, 5_030_000.0  # inside EPSG:32189 (Ottawa)
CRS = "EPSG:32189"


def _layer_features(page: str, marker: str, key: str) -> dict[Any, dict[str, Any]]:
    """Tooltip properties of the first GeoJSON layer whose features carry ``marker``, by ``key``."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"_add\(\s*\{", page):
        data, _ = decoder.raw_decode(page, match.end() - 1)
        features = data.get("features") if data.get("type") == "FeatureCollection" else None
        if features and marker in features[0]["properties"]:
            return {f["properties"][key]: f["properties"] for f in features}
    raise AssertionError(f"no layer with {marker!r} in the page")


def _features(page: str) -> dict[int, dict[str, Any]]:
    """Tooltip properties of every unit of a saved map, by unit id."""
    return _layer_features(page, "st", "unit_id")


def _tooltip_rows(page: str) -> dict[str, str]:
    """Tooltip row label by property key, from the units' GeoJsonTooltip."""
    start = page.index('let fields = ["unit"')
    fields = json.loads(re.search(r"let fields = (\[.*?\]);", page[start:]).group(1))  # type: ignore[union-attr]
    aliases = json.loads(re.search(r"let aliases = (\[.*?\]);", page[start:]).group(1))  # type: ignore[union-attr]
    return dict(zip(fields, aliases, strict=True))


def _amount(text: str) -> float:
    """The number in a tooltip cell such as ``"3,000,000 元"`` or ``"404.6 m²"``."""
    found = re.match(r"-?[\d,]+(?:\.\d+)?", text)
    assert found, text
    return float(found.group(0).replace(",", ""))


def _page(m: folium.Map, tmp_path: Path, name: str = "map.html") -> str:
    return save_map(m, tmp_path / name).read_text(encoding="utf-8")


@pytest.fixture
def units() -> gpd.GeoDataFrame:
    """Three units: 1 keeps a named office too small for it, 2 keeps an unnamed office
    large enough, 3 needs a new committee; unit 2's stale staff column is wrong on purpose."""
    return gpd.GeoDataFrame(
        {
            "unit_id": [1, 2, 3],
            "households": [2_600, 2_000, 2_900],
            "staff_needed": [11, 99, 12],
            "office": ["O-1", "O-2", ""],
            "office_area_m2": [250.0, 500.0, float("nan")],
            "committee": ["八字门社区", "北港社区", ""],
            "new_committee": [False, False, True],
        },
        geometry=[box(X0 + i * CELL, Y0, X0 + (i + 1) * CELL, Y0 + CELL) for i in range(3)],
        crs=CRS,
    )


@pytest.fixture
def offices() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"office_id": ["O-1", "O-2"], "name": ["八字门社区居委会", None], "area_m2": [250.0, 500.0]},
        geometry=[Point(X0 + 0.5 * CELL, Y0 + 0.5 * CELL), Point(X0 + 1.5 * CELL, Y0 + 0.5 * CELL)],
        crs=CRS,
    )


@pytest.fixture
def info() -> MapInfo:
    return MapInfo(
        title="费用测试",
        band=(2000, 3000),
        status="optimal",
        gap=0.0,
        totals={"households": 7500.0, "units": 3.0},
        date="2024-05-01",
    )


# ---------------------------------------------------------------------------
# the demo: the map says what summary.csv and run.json say
# ---------------------------------------------------------------------------


def test_demo_tooltips_show_the_costs_of_summary_and_run_json(demo_out: Path, demo_gpkg: Path) -> None:
    page = (demo_out / "map.html").read_text(encoding="utf-8")
    names = gpd.read_file(demo_gpkg, layer="offices").set_index("office_id")["name"]
    props = _features(page)
    summary = pd.read_csv(demo_out / "summary.csv").set_index("unit_id")
    record = json.loads((demo_out / "run.json").read_text(encoding="utf-8"))
    assert sorted(props) == sorted(summary.index)
    rows = _tooltip_rows(page)
    assert rows["one_time"] == "一次性用房投入" and rows["funds"] == "年度工作经费"
    for uid, unit in summary.iterrows():
        p = props[uid]
        assert _amount(p["one_time"]) == unit["one_time_yuan"], uid
        assert _amount(p["annual"]) == unit["annual_yuan"], uid
        assert _amount(p["staff"]) == unit["staff_needed"], uid
        assert _amount(p["office_m2"]) == pytest.approx(unit["office_m2"], abs=0.05), uid
        assert p["one_time"].endswith(" 元")
        if unit["new_committee"]:
            assert p["office"] == "需新设居委会" and p["office_area"] == "—"
            assert unit["one_time_yuan"] >= 3_000_000
        else:
            # the kept office by its name (the demo's offices layer has one), with the
            # community it belongs to, and whether it is big enough
            assert p["office"] == f"保留现有 {names[unit['office']]}（属{unit['committee']}）"
            area, short = unit["office_area_m2"], unit["office_shortfall_m2"]
            assert _amount(p["office_area"]) == area
            assert p["office_area"].endswith(
                f"缺 {short:,.1f}".removesuffix(".0") + " m²" if short > 0 else "够用"
            )
    costs = record["costs"]
    total = {
        key: sum(_amount(p[key]) for p in props.values()) for key in ("one_time", "funds", "annual", "staff")
    }
    assert total == {
        "one_time": costs["one_time_yuan"],
        "funds": costs["working_funds_yuan"],
        "annual": costs["annual_yuan"],
        "staff": costs["staff_needed"],
    }


# ---------------------------------------------------------------------------
# hand-made units
# ---------------------------------------------------------------------------


def test_kept_office_is_named_with_its_community_in_both_languages(
    units: gpd.GeoDataFrame, offices: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    zh = _features(_page(plan_map(units, info=info, offices=offices, cost_params=CostParams()), tmp_path))
    assert zh[1]["office"] == "保留现有 八字门社区居委会（属八字门社区）"
    assert zh[2]["office"] == "保留现有 O-2（属北港社区）"  # no name: the id stands in
    assert zh[3]["office"] == "需新设居委会"
    en_page = _page(
        plan_map(units, info=info, offices=offices, lang="en", cost_params=CostParams()), tmp_path, "en.html"
    )
    en = _features(en_page)
    assert en[1]["office"] == "keeps existing office 八字门社区居委会 (八字门社区)"
    assert en[2]["office"] == "keeps existing office O-2 (北港社区)"
    assert en[3]["office"] == "new committee needed"
    # the offices layer's own tooltip leads with the name too
    assert '"八字门社区居委会"' in re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), en_page)


def test_new_committee_in_a_free_office_says_so(
    units: gpd.GeoDataFrame, offices: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    # Unit 2 has no committee of its own but moves its new one into O-2, a free office of
    # 北港社区 (whose committee continues elsewhere): the tooltip used to call it an office
    # "in no existing community" and the unit was not counted as a new committee.
    reused = units.assign(
        committee=["八字门社区", "", ""],
        new_committee=[False, True, True],
        new_office=[False, False, True],
        office_community=["", "北港社区", ""],
    )
    zh = _features(_page(plan_map(reused, info=info, offices=offices, cost_params=CostParams()), tmp_path))
    assert zh[2]["office"] == "新设居委会，使用现有 O-2（属北港社区）"
    assert zh[2]["office_area"] == "500 m²，够用"
    assert _amount(zh[2]["one_time"]) == 0
    assert zh[3]["office"] == "需新设居委会"
    en = _features(
        _page(
            plan_map(reused, info=info, offices=offices, lang="en", cost_params=CostParams()),
            tmp_path,
            "en.html",
        )
    )
    assert en[2]["office"] == "new committee, housed in existing office O-2 (北港社区)"


def _office_features(page: str) -> dict[str, dict[str, Any]]:
    """Tooltip properties of every office marker of a saved map, by office id."""
    return _layer_features(page, "office_id", "office_id")


def test_office_markers_say_which_unit_keeps_them(
    units: gpd.GeoDataFrame, offices: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    one = units.assign(office=["O-1", "", ""])  # O-2 lies in unit 2, which keeps no office
    zh = _office_features(
        _page(plan_map(one, info=info, offices=offices, cost_params=CostParams()), tmp_path)
    )
    assert zh["O-1"]["use"] == "由单元 1 使用"
    assert zh["O-2"]["use"] == "空闲（无单元使用）"
    en_page = _page(plan_map(one, info=info, offices=offices, lang="en"), tmp_path, "en.html")
    assert _office_features(en_page)["O-1"]["use"] == "kept by unit 1"


def test_office_community_comes_from_the_offices_layer_without_a_committee_column(
    units: gpd.GeoDataFrame, offices: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    communities = gpd.GeoDataFrame(
        {"community_id": ["C1"], "name": ["八字门社区"]},
        geometry=[box(X0, Y0, X0 + CELL, Y0 + CELL)],
        crs=CRS,
    )
    plain = units.drop(columns="committee")
    located = offices.assign(community_id=["C1", None])
    props = _features(_page(plan_map(plain, info=info, offices=located, communities=communities), tmp_path))
    assert props[1]["office"] == "保留现有 八字门社区居委会（属八字门社区）"
    assert props[2]["office"] == "保留现有 O-2"  # community unknown: not claimed


def test_tooltip_says_whether_the_kept_office_is_big_enough(
    units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    unknown = units.assign(office_area_m2=[float("nan"), 500.0, float("nan")])
    zh = _features(_page(plan_map(units, info=info, cost_params=CostParams()), tmp_path))
    # unit 1: 2,600 households need 520 m²; unit 2: 2,000 need 400 m² and have 500
    assert zh[1]["office_area"] == "250 m²，缺 270 m²"
    assert zh[2]["office_area"] == "500 m²，够用"
    assert zh[3]["office_area"] == "—"
    en = _features(
        _page(plan_map(units, info=info, lang="en", cost_params=CostParams()), tmp_path, "en.html")
    )
    assert en[1]["office_area"] == "250 m², 270 m² short"
    assert en[2]["office_area"] == "500 m², enough"
    blind = _features(_page(plan_map(unknown, info=info, cost_params=CostParams()), tmp_path, "unknown.html"))
    assert blind[1]["office_area"] == "面积未知"


def test_cost_rows_are_those_unit_costs_computes_with_the_plans_parameters(
    units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    params = CostParams(
        new_committee_yuan=3_500_000.0,
        community_kind="township",
        households_per_staff=200,
        office_m2_per_100_households=25.0,
        office_extension_yuan_per_m2=0.333,
    )
    expected = unit_costs(units, params).set_index("unit_id")
    page = _page(plan_map(units, info=info, lang="en", cost_params=params), tmp_path)
    props = _features(page)
    rows = _tooltip_rows(page)
    assert [
        rows[k] for k in ("office", "office_area", "staff", "office_m2", "one_time", "funds", "annual")
    ] == [
        "Office",
        "Kept office area",
        "Staff needed",
        "Office space needed",
        "One-off office cost",
        "Annual working funds",
        "Annual cost (funds + salaries)",
    ]
    for uid, cost in expected.iterrows():
        p = props[uid]
        assert _amount(p["staff"]) == cost["staff_needed"]  # not the stale 99 of unit 2
        assert _amount(p["office_m2"]) == cost["office_m2"]
        assert _amount(p["one_time"]) == pytest.approx(cost["one_time_yuan"], abs=0.005)
        assert _amount(p["funds"]) == cost["working_funds_yuan"] == 150_000
        assert _amount(p["annual"]) == cost["annual_yuan"]
        assert p["funds"] == "150,000 yuan"
    # unit 1 keeps an office 400 m² short of 650 m²: the costed extension, fen included
    assert props[1]["one_time"] == "133.20 yuan"
    assert props[3]["one_time"] == "3,500,000 yuan"
    assert props[2]["staff"] == "10"


def test_without_parameters_the_units_own_cost_columns_are_shown(
    units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    costed = units.assign(one_time_yuan=[0.0, 0.0, 3_000_000.0], annual_yuan=[1.0, 2.0, 3.0])
    page = _page(plan_map(costed, info=info), tmp_path)
    props = _features(page)
    assert props[3]["one_time"] == "3,000,000 元" and props[2]["annual"] == "2 元"
    assert props[2]["staff"] == "99人"  # the units' column, as given
    assert "funds" not in _tooltip_rows(page)  # no working-funds column, no parameters: no row


def test_compare_map_takes_each_scenarios_cost_parameters(
    units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    township = CostParams(community_kind="township")
    m = compare_map({"A": units, "B": units}, info=info, cost_params={"B": township})
    page = _page(m, tmp_path)
    funds = re.findall(r'"funds": "([^"]*)"', page)
    assert funds == ["150,000 \\u5143"] * 3  # only scenario B has working funds
    with pytest.raises(InputError, match="scenario 'C'"):
        compare_map({"A": units}, info=info, cost_params={"C": township})


def test_compare_map_names_the_kept_offices(
    units: gpd.GeoDataFrame, offices: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    page = _page(compare_map({"A": units, "B": units}, info=info, offices=offices), tmp_path)
    kept = json.dumps("保留现有 八字门社区居委会（属八字门社区）")
    assert page.count(kept) == 2  # unit 1 of each scenario
    assert json.dumps("保留现有 O-2（属北港社区）") in page  # no name: the id stands in
    # each tooltip names its scenario (a screenshot of one was ambiguous)
    first = _layer_features(page, "scenario", "unit_id")
    assert {f["scenario"] for f in first.values()} == {"A"} and len(first) == 3
    assert page.count('let fields = ["scenario", "unit"') == 2


def test_cost_parameters_must_be_cost_params(units: gpd.GeoDataFrame, info: MapInfo) -> None:
    with pytest.raises(InputError, match=r"expected redistrict\.costs\.CostParams"):
        plan_map(units, info=info, cost_params={"households_per_staff": 250})  # type: ignore[arg-type]


@pytest.mark.browser
def test_costs_show_when_hovering_a_unit(
    units: gpd.GeoDataFrame, offices: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    require_chromium()
    m = plan_map(units, info=info, offices=offices, cost_params=CostParams())
    result = check_map(save_map(m, tmp_path / "map.html"), tmp_path / "shot.png")
    assert result.ok
    for text in ("一次性用房投入", "年度工作经费\t200,000 元", "现有用房面积", "所需工作人员"):
        assert text in result.tooltip, (text, result.tooltip)
    assert "保留现有 八字门社区居委会（属八字门社区）" in result.tooltip, result.tooltip
