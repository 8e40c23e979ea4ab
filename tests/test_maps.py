"""Offline folium maps: self-containment, languages, colouring, problems, atomic save."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pytest
from branca.element import Element, JavascriptLink
from shapely.geometry import LineString, Point, box

import redistrict.maps as maps
from redistrict import _map_text
from redistrict._assets import assert_self_contained, external_references, load_leaflet
from redistrict._map_page import _FitUnits
from redistrict.errors import InputError
from redistrict.maps import MapInfo, compare_map, plan_map, save_map, unit_colours

CELL = 500.0
X0, Y0 = 367_000.0, 5_030_000.0  # inside EPSG:32189 (Ottawa)
CRS = "EPSG:32189"
PROBLEM = "#d7191c"


# ---------------------------------------------------------------------------
# hand-made 3x3 grid
# ---------------------------------------------------------------------------


def _cell(col: int, row: int, x_from: float = 0.0, x_to: float = 1.0) -> Any:
    return box(X0 + (col + x_from) * CELL, Y0 + row * CELL, X0 + (col + x_to) * CELL, Y0 + (row + 1) * CELL)


@pytest.fixture
def grid_units() -> gpd.GeoDataFrame:
    """Units 1..9 (row-major from the south-west); unit 5 in the middle is above band."""
    rows = []
    for r in range(3):
        for c in range(3):
            uid = r * 3 + c + 1
            hh = 3450 if uid == 5 else 2000 + 100 * uid
            rows.append(
                {
                    "unit_id": uid,
                    "households": hh,
                    "residents": 2 * hh + 7,
                    "staff_needed": 5,
                    "office_m2": 300.0,
                    "in_band": uid != 5,
                    "status": "above band" if uid == 5 else "ok",
                    "sources": "八字门社区 2,310; 北港社区 120" if uid == 1 else "A<b>&",
                    "households_moved": 120 if uid == 1 else 0,
                    "office": "O-1" if uid == 1 else "",
                    "new_committee": uid == 9,
                    "geometry": _cell(c, r),
                }
            )
    return gpd.GeoDataFrame(rows, crs=CRS)


@pytest.fixture
def grid_atoms() -> gpd.GeoDataFrame:
    rows = [
        {
            "unit_id": r * 3 + c + 1,
            "households": 1000 + k,
            "geometry": _cell(c, r, k / 2, (k + 1) / 2),
        }
        for r in range(3)
        for c in range(3)
        for k in range(2)
    ]
    return gpd.GeoDataFrame(rows, crs=CRS)


@pytest.fixture
def grid_roads() -> gpd.GeoDataFrame:
    rows = []
    for i in range(4):
        major = i in (0, 3)
        rows.append(
            {
                "road_class": "arterial" if major else "local",
                "major": major,
                "geometry": LineString([(X0 + i * CELL, Y0), (X0 + i * CELL, Y0 + 3 * CELL)]),
            }
        )
        rows.append(
            {
                "road_class": "collector",
                "major": False,
                "geometry": LineString([(X0, Y0 + i * CELL), (X0 + 3 * CELL, Y0 + i * CELL)]),
            }
        )
    return gpd.GeoDataFrame(rows, crs=CRS)


@pytest.fixture
def grid_context() -> dict[str, gpd.GeoDataFrame]:
    communities = gpd.GeoDataFrame(
        {"community_id": ["C1", "C2"], "name": ["八字门社区", "北港社区"]},
        geometry=[
            box(X0, Y0, X0 + 1.5 * CELL, Y0 + 3 * CELL),
            box(X0 + 1.5 * CELL, Y0, X0 + 3 * CELL, Y0 + 3 * CELL),
        ],
        crs=CRS,
    )
    barriers = gpd.GeoDataFrame(
        geometry=[LineString([(X0 - 50, Y0 + 1.2 * CELL), (X0 + 3 * CELL + 50, Y0 + 1.3 * CELL)])],
        crs=CRS,
    )
    offices = gpd.GeoDataFrame(
        {"office_id": ["O-1", "O-2"]},
        geometry=[Point(X0 + 0.3 * CELL, Y0 + 0.3 * CELL), Point(X0 + 2.5 * CELL, Y0 + 2.5 * CELL)],
        crs=CRS,
    )
    return {"communities": communities, "barriers": barriers, "offices": offices}


@pytest.fixture
def info() -> MapInfo:
    return MapInfo(
        title="岳阳测试方案",
        band=(2000, 3000),
        status="optimal",
        gap=0.004,
        totals={"households": 23450.0, "units": 9.0, "units_in_band": 8.0},
        date="2024-05-01",
    )


@pytest.fixture
def grid_map(
    grid_units: gpd.GeoDataFrame,
    grid_atoms: gpd.GeoDataFrame,
    grid_roads: gpd.GeoDataFrame,
    grid_context: dict[str, gpd.GeoDataFrame],
    info: MapInfo,
) -> folium.Map:
    return plan_map(grid_units, info=info, atoms=grid_atoms, roads=grid_roads, **grid_context)


def _html(m: folium.Map, tmp_path: Path, name: str = "map.html") -> str:
    return save_map(m, tmp_path / name).read_text(encoding="utf-8")


def _unescaped(page: str) -> str:
    """The page with JSON ``\\uXXXX`` escapes (non-ASCII text, ``<``, ``>``) decoded."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


def _collections(page: str) -> list[dict[str, Any]]:
    """Every GeoJSON FeatureCollection embedded in a folium page, in page order."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r"_add\(\s*\{", page):
        data, _ = decoder.raw_decode(page, match.end() - 1)
        if data.get("type") == "FeatureCollection":
            found.append(data)
    return found


def _unit_features(page: str) -> list[dict[str, Any]]:
    units = [c for c in _collections(page) if c["features"] and "st" in c["features"][0]["properties"]]
    assert len(units) == 1
    return units[0]["features"]


def _touching_pairs(units: gpd.GeoDataFrame) -> list[tuple[int, int]]:
    pairs = []
    for i, a in units.iterrows():
        for j, b in units.iterrows():
            if i < j and a.geometry.distance(b.geometry) < 1.0:
                pairs.append((int(a["unit_id"]), int(b["unit_id"])))
    return pairs


# ---------------------------------------------------------------------------
# self-containment
# ---------------------------------------------------------------------------


def test_saved_map_loads_nothing_from_outside(grid_map: folium.Map, tmp_path: Path) -> None:
    page = _html(grid_map, tmp_path)
    assert external_references(page) == []
    assert re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE) is None
    assert re.search(r"<link[^>]*\bhref\s*=\s*['\"]?(https?:)?//", page, re.IGNORECASE) is None
    for cdn in ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "bootstrapcdn"):
        assert cdn not in page
    assert "$(" not in page.split("</head>", 1)[1]  # no jQuery call in the map script


def test_leaflet_is_inlined_with_its_images(grid_map: folium.Map, tmp_path: Path) -> None:
    page = _html(grid_map, tmp_path)
    assets = load_leaflet()
    assert assets.version.startswith("1.")
    assert f"/* Leaflet {assets.version} */" in page
    assert assets.js[1000:1400] in page  # a slice of the real library, not a stub
    assert "url(images/" not in page
    assert 'url("data:image/png;base64,' in page
    assert "sourceMappingURL" not in page


def test_external_reference_detector_finds_cdn_links() -> None:
    default_page = folium.Map(tiles=None).get_root().render()
    refs = external_references(default_page)
    assert any("leaflet" in r for r in refs)
    assert any("jquery" in r for r in refs)
    assert any("bootstrap" in r for r in refs)
    page = (
        '<link rel="stylesheet" href="//cdn.example/x.css"><a href="https://ok.example">link</a>'
        "<style>@import 'http://cdn.example/y.css'; .a{background:url(https://x.example/i.png)}"
        '</style><img src="data:image/png;base64,AAAA"><script src=other.js></script>'
    )
    refs = external_references(page)
    assert refs == [
        "<link href=//cdn.example/x.css>",
        "<script src=other.js>",
        "css url(https://x.example/i.png)",
        "css @import http://cdn.example/y.css",
    ]
    with pytest.raises(InputError) as err:
        assert_self_contained(page, what="probe.html")
    assert len(err.value.problems) == 4
    assert all(p.startswith("probe.html: ") for p in err.value.problems)


def test_folium_class_level_defaults_are_untouched(
    grid_units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    js_list, css_list = folium.Map.default_js, folium.Map.default_css
    js_before, css_before = list(js_list), list(css_list)
    m1 = plan_map(grid_units, info=info)
    m2 = compare_map({"A": grid_units}, info=info)
    save_map(m1, tmp_path / "a.html")
    save_map(m2, tmp_path / "b.html")
    assert folium.Map.default_js is js_list and folium.Map.default_css is css_list
    assert folium.Map.default_js == js_before and folium.Map.default_css == css_before
    assert any("leaflet" in url for _, url in folium.Map.default_js)
    assert m1.default_js == [] and m1.default_css == []
    # a fresh plain folium map still renders its usual CDN links
    assert "cdn.jsdelivr.net/npm/leaflet" in folium.Map(tiles=None).get_root().render()


# ---------------------------------------------------------------------------
# content
# ---------------------------------------------------------------------------


def test_chinese_by_default_english_on_request(
    grid_units: gpd.GeoDataFrame,
    grid_atoms: gpd.GeoDataFrame,
    grid_roads: gpd.GeoDataFrame,
    info: MapInfo,
    tmp_path: Path,
) -> None:
    zh = _unescaped(_html(plan_map(grid_units, info=info, atoms=grid_atoms, roads=grid_roads), tmp_path))
    for text in (
        "拟划单元",
        "单元标注",
        "主要道路",
        "图例",
        "户数区间",
        "求解状态",
        "最优",
        "超出区间",
    ):
        assert text in zh, text
    assert "Proposed units" not in zh
    en = _unescaped(
        _html(
            plan_map(grid_units, info=info, atoms=grid_atoms, roads=grid_roads, lang="en"),
            tmp_path,
            "en.html",
        )
    )
    for text in ("Proposed units", "Unit labels", "Major roads", "Legend", "Households band"):
        assert text in en, text
    assert "optimal, gap 0.4%" in en
    assert "above band" in en
    for text in ("拟划单元", "图例", "户数区间", "最优"):
        assert text not in en, text
    assert "<title>岳阳测试方案</title>" in en  # the title is data, not UI text


def test_chinese_boxes_use_full_width_brackets(
    grid_units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    """The status line and the problem heading of a Chinese map do not mix in ASCII brackets."""
    feasible = dataclasses.replace(info, status="feasible", gap=0.032, fixed_units=9)
    page = _unescaped(_html(plan_map(grid_units, info=feasible), tmp_path))
    title = page.split('id="rd-title"', 1)[1].split("</table>", 1)[0]
    legend = page.split('id="rd-legend"', 1)[1].split("</details></div>", 1)[0]
    assert "可行（未证明最优，差距 3.2%，仅与 9 个单元的方案比较）" in title
    assert "问题单元（1）" in legend
    assert "(" not in title + legend and ")" not in title + legend


def test_every_language_defines_the_same_strings() -> None:
    keys = {lang: set(strings) for lang, strings in _map_text.STRINGS.items()}
    assert keys["zh"] == keys["en"]
    assert set(_map_text.TOTALS["zh"]) == set(_map_text.TOTALS["en"])


def test_neighbouring_units_get_different_colours(
    grid_map: folium.Map, grid_units: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    features = _unit_features(_html(grid_map, tmp_path))
    fill = {f["properties"]["unit_id"]: f["properties"]["style"]["fillColor"] for f in features}
    assert sorted(fill) == list(range(1, 10))
    pairs = _touching_pairs(grid_units)
    assert len(pairs) == 20  # 12 edge + 8 corner contacts in a 3x3 grid
    for a, b in pairs:
        assert fill[a] != fill[b], (a, b)
    assert set(fill.values()) <= set(maps.PALETTE)
    assert len(maps.PALETTE) >= 8 and len(set(maps.PALETTE)) == len(maps.PALETTE)


def test_unit_colours_is_deterministic_and_order_free(grid_units: gpd.GeoDataFrame) -> None:
    colours = unit_colours(grid_units)
    shuffled = grid_units.sample(frac=1.0, random_state=np.random.RandomState(7))
    assert unit_colours(shuffled) == colours
    # units 200 m apart are not neighbours and may share a colour; touching ones never,
    # nor units facing each other across a 60 m river (they read as one unit otherwise)
    apart = gpd.GeoDataFrame({"unit_id": [1, 2]}, geometry=[box(0, 0, 10, 10), box(210, 0, 220, 10)], crs=CRS)
    assert unit_colours(apart) == {1: maps.PALETTE[0], 2: maps.PALETTE[0]}
    for gap in (0, 60):
        facing = apart.assign(geometry=[box(0, 0, 10, 10), box(10 + gap, 0, 20 + gap, 10)])
        assert len(set(unit_colours(facing).values())) == 2, gap


def test_same_inputs_give_identical_html(
    grid_units: gpd.GeoDataFrame, grid_roads: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    a = _html(plan_map(grid_units, info=info, roads=grid_roads), tmp_path, "a.html")
    b = _html(plan_map(grid_units.iloc[::-1], info=info, roads=grid_roads), tmp_path, "b.html")
    assert a == b


def test_above_band_unit_gets_the_problem_style(grid_map: folium.Map, tmp_path: Path) -> None:
    page = _html(grid_map, tmp_path)
    styles = {f["properties"]["unit_id"]: f["properties"]["style"] for f in _unit_features(page)}
    assert styles[5]["color"] == PROBLEM
    assert styles[5]["weight"] >= 3 and styles[5].get("dashArray")
    for uid in set(styles) - {5}:
        assert styles[uid]["color"] != PROBLEM and "dashArray" not in styles[uid]
    legend = page.split('id="rd-legend"', 1)[1]
    assert "单元 5：超出区间（3,450户）" in legend
    assert "单元 4：" not in legend
    assert page.count("rd-label rd-problem") == 1


def test_status_is_derived_from_the_band_when_missing(
    grid_units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    minimal = grid_units[["unit_id", "households", "geometry"]].copy()
    minimal.loc[minimal["unit_id"] == 1, "households"] = 1500
    features = _unit_features(_html(plan_map(minimal, info=info, lang="en"), tmp_path))
    status = {f["properties"]["unit_id"]: f["properties"]["st"] for f in features}
    assert status[1] == "below band" and status[5] == "above band" and status[2] == "within band"
    # only the columns given appear in the tooltip (plus the computed area)
    assert set(features[0]["properties"]) == {
        "unit",
        "hh",
        "st",
        "area",
        "unit_id",
        "problem",
        "style",
    }


def test_tooltip_shows_all_unit_details(grid_map: folium.Map, tmp_path: Path) -> None:
    page = _html(grid_map, tmp_path)
    props = {f["properties"]["unit_id"]: f["properties"] for f in _unit_features(page)}
    one = props[1]
    assert one["hh"] == "2,100"
    assert one["residents"] == "4,207"
    assert one["area"] == "0.25 km²"
    assert one["staff"] == "5人"
    assert one["office_m2"] == "300 m²"
    assert one["sources"] == "八字门社区 2,310; 北港社区 120"
    assert one["moved"] == "120"
    assert one["office"] == "保留现有 O-1"
    assert props[9]["office"] == "需新设居委会"
    assert props[2]["office"] == "—"
    assert props[2]["sources"] == "A&lt;b&gt;&amp;"  # user text is escaped
    for alias in (
        "人口",
        "面积",
        "所需工作人员",
        "所需办公用房",
        "来源社区",
        "调整户数",
        "办公用房",
    ):
        assert f'"{alias}"' in _unescaped(page), alias


def test_locked_units_are_named_in_the_tooltip(
    grid_units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    # Without locks there is no "locked" row; with them every unit says whether it was kept.
    assert '"保持原样"' not in _unescaped(_html(plan_map(grid_units, info=info), tmp_path, "plain.html"))
    locked = grid_units.assign(locked=grid_units["unit_id"].isin([3, 7]))
    page = _html(plan_map(locked, info=info), tmp_path)
    props = {f["properties"]["unit_id"]: f["properties"] for f in _unit_features(page)}
    assert props[3]["locked"] == props[7]["locked"] == "是（锁定或保留的社区，未重新划分）"
    assert props[1]["locked"] == "否"
    assert '"保持原样"' in _unescaped(page)
    english = _html(plan_map(locked, info=info, lang="en"), tmp_path, "en.html")
    en_props = {f["properties"]["unit_id"]: f["properties"] for f in _unit_features(english)}
    assert en_props[3]["locked"] == "yes (locked, or a community kept; not redrawn)"


def test_labels_title_and_layers(grid_map: folium.Map, tmp_path: Path) -> None:
    page = _unescaped(_html(grid_map, tmp_path))
    assert page.count('class=\\"rd-label') == 9  # one DivIcon label per unit
    assert "<b>5</b><br>3,450户" in page
    title = page.split('id="rd-title"', 1)[1].split("</table>", 1)[0]
    for text in ("岳阳测试方案", "2,000–3,000户", "23,450", "最优（差距 0.4%）", "2024-05-01"):
        assert text in title, text
    control = page.split("L.control.layers(", 1)[0].rsplit("_layers = {", 1)[1]
    for layer in (
        "拟划单元",
        "单元标注",
        "现有社区边界",
        "主要道路",
        "其他道路",
        "障碍（河流、铁路等）",
        "现有办公用房",
        "基本地块",
    ):
        assert f'"{layer}"' in control, layer
    assert "L.tileLayer(" not in page
    assert "background: #f4f3ef" in page
    assert "new L.CircleMarker(latlng, opts)" in page  # offices are circles, not icon images
    assert "L.AwesomeMarkers" not in page


def test_map_fits_the_units(grid_map: folium.Map, grid_units: gpd.GeoDataFrame) -> None:
    fits = [c for c in grid_map._children.values() if isinstance(c, _FitUnits)]
    assert len(fits) == 1
    west, south, east, north = grid_units.to_crs(4326).total_bounds
    assert np.allclose(fits[0].bounds, [[south, west], [north, east]])


def test_tile_server_is_optional(grid_units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path) -> None:
    url = "http://tiles.intranet.example/{z}/{x}/{y}.png"
    page = _html(plan_map(grid_units, info=info, tiles=url), tmp_path)
    assert "L.tileLayer(" in page and url in page
    assert external_references(page) == []


def test_compare_map_has_one_layer_per_scenario(
    grid_units: gpd.GeoDataFrame, grid_roads: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    merged = grid_units.iloc[:8].copy()
    merged.loc[merged["unit_id"] == 8, "geometry"] = _cell(1, 2).union(_cell(2, 2))
    page = _html(compare_map({"方案A": grid_units, "方案B": merged}, info=info, roads=grid_roads), tmp_path)
    unit_layers = [c for c in _collections(page) if c["features"] and "st" in c["features"][0]["properties"]]
    assert [len(c["features"]) for c in unit_layers] == [9, 8]
    radios = _unescaped(page).split("base_layers : {", 1)[1].split("}", 1)[0]
    assert '"方案：方案A"' in radios and '"方案：方案B"' in radios
    legend = page.split('id="rd-legend"', 1)[1]
    assert "方案A：9 个单元，1 个问题单元（2,000–3,000户）" in legend
    assert "方案B：8 个单元，1 个问题单元（2,000–3,000户）" in legend
    assert external_references(page) == []


# ---------------------------------------------------------------------------
# errors and saving
# ---------------------------------------------------------------------------


def test_all_input_problems_are_reported_at_once(
    grid_units: gpd.GeoDataFrame, grid_roads: gpd.GeoDataFrame, info: MapInfo
) -> None:
    bad = grid_units.drop(columns=["households"]).to_crs(4326)
    bad.loc[1, "unit_id"] = 1
    roads = grid_roads.set_crs(None, allow_override=True)
    with pytest.raises(InputError) as err:
        plan_map(
            bad,
            info=MapInfo(**{**info.__dict__, "band": (3000, 2000)}),
            roads=roads,
            lang="fr",
            tiles="OpenStreetMap",
        )  # type: ignore[arg-type]
    text = "\n".join(err.value.problems)
    assert len(err.value.problems) == 7, text
    for needle in (
        "geographic",
        "households",
        "occur more than once",
        "roads: the layer has no CRS",
        "info.band",
        "lang",
        "tiles",
    ):
        assert needle in text, needle


def test_bad_unit_values_are_named(grid_units: gpd.GeoDataFrame, info: MapInfo) -> None:
    bad = grid_units.copy()
    bad["households"] = bad["households"].astype(float)
    bad.loc[bad["unit_id"] == 3, "households"] = np.nan
    bad.loc[bad["unit_id"] == 4, "households"] = 10.5
    bad.loc[bad["unit_id"] == 6, "geometry"] = None
    bad.loc[bad["unit_id"] == 7, "geometry"] = Point(X0, Y0)
    with pytest.raises(InputError) as err:
        plan_map(bad, info=info)
    problems = err.value.problems
    assert any("unit(s) 6 have no geometry" in p for p in problems)
    assert any("unit(s) 7 are not polygons" in p for p in problems)
    assert any("unit(s) 3, 4 is missing, negative or fractional" in p for p in problems)
    broken = MapInfo("t", (2000, 3000), "optimal", "small", {"units": "nine"}, "2024")  # type: ignore[arg-type]
    with pytest.raises(InputError) as err:
        plan_map(grid_units, info=broken)
    assert [p.split(":")[0] for p in err.value.problems] == ["info.gap", "info.totals"]
    with pytest.raises(InputError, match="at least one unit"):
        plan_map(grid_units.iloc[:0], info=info)
    with pytest.raises(InputError, match="at least one scenario"):
        compare_map({}, info=info)
    with pytest.raises(InputError, match="GeoDataFrame"):
        plan_map(grid_units, info=info, atoms=grid_units.drop(columns="geometry"))  # type: ignore[arg-type]


def test_context_layers_must_hold_the_right_geometry(
    grid_units: gpd.GeoDataFrame, grid_roads: gpd.GeoDataFrame, info: MapInfo
) -> None:
    points = gpd.GeoDataFrame(geometry=[Point(X0, Y0), Point(X0 + 1, Y0)], crs=CRS)
    with pytest.raises(InputError) as err:
        plan_map(
            grid_units,
            info=info,
            roads=gpd.GeoDataFrame(geometry=[_cell(0, 0)], crs=CRS),
            communities=points,
            atoms=grid_roads,
            offices=points,  # points are fine for offices
        )
    assert sorted(p.split(":")[0] for p in err.value.problems) == ["atoms", "communities", "roads"]
    assert "row(s) 0, 1 are Point" in " ".join(err.value.problems)


class _Exploding(Element):
    def render(self, **kwargs: object) -> str:
        raise RuntimeError("render failed")


def test_save_map_leaves_no_file_when_rendering_fails(
    grid_units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    m = plan_map(grid_units, info=info)
    m.add_child(_Exploding())
    target = tmp_path / "plan.html"
    with pytest.raises(RuntimeError, match="render failed"):
        save_map(m, target)
    assert list(tmp_path.iterdir()) == []


def test_save_map_keeps_the_old_file_when_the_check_fails(
    grid_units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path
) -> None:
    target = tmp_path / "plan.html"
    save_map(plan_map(grid_units, info=info), target)
    before = target.read_bytes()
    m = plan_map(grid_units, info=info, lang="en")
    m.get_root().header.add_child(JavascriptLink("https://cdn.example.com/plugin.js"))
    with pytest.raises(InputError, match=r"https://cdn\.example\.com/plugin\.js"):
        save_map(m, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.html"]


def test_save_map_rejects_bad_paths(grid_units: gpd.GeoDataFrame, info: MapInfo, tmp_path: Path) -> None:
    m = plan_map(grid_units, info=info)
    with pytest.raises(InputError, match="does not exist"):
        save_map(m, tmp_path / "missing" / "plan.html")
    with pytest.raises(InputError, match="is a folder"):
        save_map(m, tmp_path)


# ---------------------------------------------------------------------------
# real data
# ---------------------------------------------------------------------------


def test_centretown_map_is_self_contained(ottawa_testcase: Path, tmp_path: Path) -> None:
    blocks = gpd.read_file(ottawa_testcase, layer="dissemination_blocks")
    roads = gpd.read_file(ottawa_testcase, layer="roads")
    hoods = gpd.read_file(ottawa_testcase, layer="ons_neighbourhoods")
    centre = blocks.geometry.centroid
    blocks["unit_id"] = (centre.x // 700).astype(int) * 1000 + (centre.y // 700).astype(int)
    blocks["households"] = blocks["dburdwell2021"].round().astype(int)
    units = blocks.dissolve("unit_id", aggfunc={"households": "sum"}).reset_index()
    roads["major"] = roads["RANK"].astype(int) <= 2
    roads["road_class"] = roads["RANK"].astype(str)
    m = plan_map(
        units,
        info=MapInfo("Centretown", (2000, 3000), "heuristic", None, {"households": 32843.0}, "2024-05-01"),
        atoms=blocks[["unit_id", "households", "geometry"]],
        roads=roads[["road_class", "major", "geometry"]],
        communities=hoods.rename(columns={"ONS_ID": "community_id"}),
        lang="en",
    )
    path = save_map(m, tmp_path / "centretown.html")
    page = path.read_text(encoding="utf-8")
    assert external_references(page) == []
    assert len(_unit_features(page)) == len(units)
    collections = _collections(page)
    assert sum(len(c["features"]) for c in collections) == len(units) + len(blocks) + len(roads) + len(hoods)
    assert path.stat().st_size < 3_000_000
    total = sum(int(c["properties"]["hh"].replace(",", "")) for c in _unit_features(page))
    assert total == int(blocks["households"].sum()) == 32843


def test_community_outlines_are_named_on_hover(grid_map: folium.Map, tmp_path: Path) -> None:
    # The outlines of the existing communities carried no name: on a district map a planner
    # could not tell which community a dashed line belonged to.
    page = _html(grid_map, tmp_path)
    assert json.dumps("八字门社区") in page and json.dumps("北港社区") in page
    assert 'let fields = ["community"]' in page and f"let aliases = {json.dumps(['社区'])}" in page
