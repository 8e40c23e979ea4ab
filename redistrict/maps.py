"""Self-contained interactive maps of redistricting plans.

Planners review a proposal as one HTML file, often on an intranet without internet.
The maps built here embed Leaflet (see :mod:`redistrict._assets`) and every layer's
data, so the file opens anywhere: no CDN, no tile server unless one is asked for.

Public functions
----------------
:func:`plan_map`
    One plan: coloured, labelled units over roads, communities, barriers, offices
    and atoms, with a title block and a legend.
:func:`compare_map`
    Several plans of the same area, one radio-button layer per scenario.
:func:`save_map`
    Render, check that nothing is loaded from outside the file, write atomically.
:func:`unit_colours`
    Deterministic colouring in which touching units get different fills.

All input layers are GeoDataFrames in a metric CRS; they are reprojected to
EPSG:4326 for Leaflet inside this module.
"""

from __future__ import annotations

import html
import logging
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import folium
import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure
from folium.features import DivIcon, GeoJsonTooltip
from folium.map import CustomPane
from shapely.geometry.base import BaseGeometry

from redistrict._assets import RawHtml, assert_self_contained, inline_leaflet, load_leaflet
from redistrict.errors import InputError

__all__ = [
    "PALETTE",
    "Lang",
    "MapInfo",
    "compare_map",
    "plan_map",
    "save_map",
    "unit_colours",
]

logger = logging.getLogger(__name__)

Lang = Literal["zh", "en"]

#: Unit fills, most distinct first. Greedy colouring of a planar adjacency graph
#: rarely needs more than five; twelve leave room for odd geometries.
#: Reds are left out: a red dashed outline marks problem units.
PALETTE: tuple[str, ...] = (
    "#80b1d3",
    "#b3de69",
    "#fdb462",
    "#bc80bd",
    "#8dd3c7",
    "#ffed6f",
    "#e5c494",
    "#66c2a5",
    "#bebada",
    "#a6d854",
    "#ccebc5",
    "#fccde5",
)

_PROBLEM_COLOUR = "#d7191c"
_BACKGROUND = "#f4f3ef"
_UNIT_FILL_OPACITY = 0.5
_MAJOR_ROAD = {"color": "#5b5b5b", "weight": 3.5, "opacity": 0.9}
_MINOR_ROAD = {"color": "#a3a3a3", "weight": 1.3, "opacity": 0.9}
_COMMUNITY = {"color": "#222222", "weight": 2.5, "dashArray": "8 6", "fill": False}
_BARRIER = {
    "color": "#1f5fa8",
    "weight": 3,
    "opacity": 0.9,
    "fillColor": "#1f5fa8",
    "fillOpacity": 0.25,
}
_ATOM = {"color": "#707070", "weight": 0.7, "fillOpacity": 0.0, "fill": True}
_OFFICE = {
    "color": "#ffffff",
    "weight": 2,
    "fill": True,
    "fillColor": "#111111",
    "fillOpacity": 0.9,
}
_ROUND = 6  # decimal places of degrees kept in the page (about 0.1 m)
_ADJACENCY_TOLERANCE_M = 1.0
_POLYGONS = ("Polygon", "MultiPolygon")
_LINES = ("LineString", "MultiLineString", "LinearRing")
#: Geometry types each context layer may hold, and how to say so in a message.
_LAYER_GEOMETRY: Mapping[str, tuple[tuple[str, ...], str]] = MappingProxyType(
    {
        "atoms": (_POLYGONS, "polygons"),
        "roads": (_LINES, "lines"),
        "communities": (_POLYGONS, "polygons"),
        "barriers": (_LINES + _POLYGONS, "lines or polygons"),
        "offices": (("Point", "MultiPoint", *_POLYGONS), "points or polygons"),
    }
)
_OPEN_PROBLEMS = 6
_PAD_TOP_LEFT = (240, 20)  # pixels kept free by fit_bounds
_PAD_BOTTOM_RIGHT = (200, 20)  # longer problem lists start folded to keep the map visible

#: Leaflet panes, bottom to top. Panes ignore the mouse; interactive paths inside
#: them still receive it (leaflet.css), so upper panes never hide lower tooltips.
_PANES: tuple[tuple[str, int], ...] = (
    ("rd_roads", 370),
    ("rd_major_roads", 375),
    ("rd_atoms", 380),
    ("rd_units", 400),
    ("rd_communities", 420),
    ("rd_barriers", 430),
    ("rd_offices", 440),
)

_STRINGS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "zh": MappingProxyType(
            {
                "units": "拟划单元",
                "labels": "单元标注",
                "communities": "现有社区边界",
                "roads_major": "主要道路",
                "roads_minor": "其他道路",
                "barriers": "障碍（河流、铁路等）",
                "offices": "现有办公用房",
                "atoms": "基本地块",
                "tiles": "底图瓦片",
                "tiles_attr": "自定义瓦片服务",
                "unit": "单元",
                "households": "户数",
                "hh_suffix": "户",
                "residents": "人口",
                "area": "面积",
                "staff": "所需工作人员",
                "staff_suffix": "人",
                "office_space": "所需办公用房",
                "sources": "来源社区",
                "moved": "调整户数",
                "office": "办公用房",
                "office_kept": "保留现有 {id}",
                "new_committee": "需新设居委会",
                "status": "状态",
                "band": "户数区间",
                "solver": "求解状态",
                "gap": "差距",
                "date": "日期",
                "legend": "图例",
                "fill_note": "填充色仅用于区分相邻单元",
                "problem_style": "问题单元（红色虚线）",
                "problems": "问题单元",
                "no_problems": "无",
                "community": "社区",
                "name": "名称",
                "atom_unit": "所属单元",
                "scenario": "方案",
                "scenario_summary": "{units} 个单元，{problems} 个问题单元",
                "problem_item": "单元 {id}：{status}（{hh}）",
                "colon": "：",
            }
        ),
        "en": MappingProxyType(
            {
                "units": "Proposed units",
                "labels": "Unit labels",
                "communities": "Existing communities",
                "roads_major": "Major roads",
                "roads_minor": "Other roads",
                "barriers": "Barriers (rivers, rail, ...)",
                "offices": "Existing offices",
                "atoms": "Atoms (blocks)",
                "tiles": "Base map tiles",
                "tiles_attr": "Custom tile server",
                "unit": "Unit",
                "households": "Households",
                "hh_suffix": " hh",
                "residents": "Residents",
                "area": "Area",
                "staff": "Staff needed",
                "staff_suffix": "",
                "office_space": "Office space needed",
                "sources": "Source communities",
                "moved": "Households moved",
                "office": "Office",
                "office_kept": "keeps existing office {id}",
                "new_committee": "new committee needed",
                "status": "Status",
                "band": "Households band",
                "solver": "Solver status",
                "gap": "gap",
                "date": "Date",
                "legend": "Legend",
                "fill_note": "Fill colours only tell neighbouring units apart",
                "problem_style": "Problem unit (red dashed outline)",
                "problems": "Problem units",
                "no_problems": "none",
                "community": "Community",
                "name": "Name",
                "atom_unit": "Unit",
                "scenario": "Scenario",
                "scenario_summary": "{units} units, {problems} with problems",
                "problem_item": "unit {id}: {status} ({hh})",
                "colon": ": ",
            }
        ),
    }
)

_STATUS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "zh": MappingProxyType(
            {
                "ok": "在区间内",
                "below band": "低于区间",
                "above band": "超出区间",
                "outside band": "不在区间内",
                "oversize atom": "单个地块超限",
                "optimal": "最优",
                "feasible (not proven optimal)": "可行（未证明最优）",
                "heuristic": "启发式",
                "infeasible": "无可行解",
                "time limit": "达到时间上限",
            }
        ),
        "en": MappingProxyType({"ok": "within band"}),
    }
)

_TOTALS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "zh": MappingProxyType(
            {
                "households": "总户数",
                "residents": "总人口",
                "units": "单元数",
                "units_in_band": "区间内单元",
                "communities": "现有社区数",
                "households_moved": "调整户数",
                "new_committees": "需新设居委会",
            }
        ),
        "en": MappingProxyType(
            {
                "households": "Households",
                "residents": "Residents",
                "units": "Units",
                "units_in_band": "Units in band",
                "communities": "Existing communities",
                "households_moved": "Households moved",
                "new_committees": "New committees needed",
            }
        ),
    }
)

_CSS = f"""
<style>
.leaflet-container {{ background: {_BACKGROUND}; }}
.rd-box, .rd-label, .leaflet-tooltip, .leaflet-control-layers {{
  font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC",
    "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif;
}}
.rd-box {{
  position: fixed; z-index: 1000; background: rgba(255, 255, 255, 0.93);
  padding: 8px 11px; border-radius: 5px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.35);
  font-size: 13px; line-height: 1.45; color: #222; max-width: 340px;
}}
#rd-title {{ top: 10px; left: 10px; }}
#rd-legend {{ bottom: 60px; left: 10px; max-height: 45vh; overflow-y: auto; }}
.rd-title {{ font-size: 16px; font-weight: bold; margin-bottom: 4px; }}
.rd-box table {{ border-collapse: collapse; }}
.rd-box th {{ text-align: left; font-weight: normal; color: #555; padding: 0 10px 0 0; }}
.rd-box td {{ padding: 0; }}
.rd-box h4 {{ margin: 6px 0 3px; font-size: 13px; }}
.rd-box ul {{ margin: 2px 0; padding-left: 18px; }}
.rd-row {{ display: flex; align-items: center; gap: 6px; margin: 2px 0; }}
.rd-sw {{ display: inline-block; width: 14px; height: 12px; border: 1px solid #444; }}
.rd-sw-problem {{ border: 3px dashed {_PROBLEM_COLOUR}; width: 10px; height: 8px; }}
.rd-sw-community {{ border: 2px dashed #222; background: none; width: 12px; height: 10px; }}
.rd-sw-atom {{ border: 1px solid #707070; background: none; }}
.rd-line {{ display: inline-block; width: 22px; height: 0; }}
.rd-dot {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  background: #111; border: 2px solid #fff; box-shadow: 0 0 0 1px #999; }}
.rd-label-icon {{ background: none; border: none; }}
.rd-label {{
  position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  text-align: center; font-size: 12px; line-height: 1.15; color: #111;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; pointer-events: none;
}}
.rd-label b {{ font-size: 14px; }}
.rd-label.rd-problem {{ color: #a50f15; }}
.rd-problem-list li {{ color: #a50f15; }}
.rd-box summary {{ cursor: pointer; font-weight: bold; margin: 4px 0 3px; }}
.rd-box details details {{ margin-top: 4px; }}
</style>
"""


@dataclass
class MapInfo:
    """What the title block of a map says about the run.

    Attributes
    ----------
    title : str
        Heading, e.g. the scenario name.
    band : tuple of (int, int)
        Households band ``(low, high)`` every unit should fall in.
    status : str
        Solver status, e.g. ``"optimal"``, ``"feasible (not proven optimal)"``,
        ``"heuristic"``. Known values are translated, others shown verbatim.
    gap : float or None
        Relative optimality gap as a fraction (0.012 is shown as 1.2 %), or None.
    totals : dict of str to float
        Summary numbers in display order, e.g. ``{"households": 31700, "units": 12,
        "units_in_band": 12}``. Known keys are translated, others shown verbatim.
    date : str
        ISO date of the run.

    """

    title: str
    band: tuple[int, int]
    status: str
    gap: float | None
    totals: dict[str, float]
    date: str


@dataclass(frozen=True)
class _Layers:
    """Context layers shared by plan and comparison maps (already in EPSG:4326)."""

    atoms: gpd.GeoDataFrame | None
    roads: gpd.GeoDataFrame | None
    communities: gpd.GeoDataFrame | None
    barriers: gpd.GeoDataFrame | None
    offices: gpd.GeoDataFrame | None


@dataclass(frozen=True)
class _UnitRow:
    """Display values of one unit."""

    unit_id: int
    households: int
    status: str
    problem: bool
    colour: str


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------


def _check_frame(gdf: object, name: str, problems: list[str]) -> bool:
    """Check that a layer is a GeoDataFrame with a CRS.

    Parameters
    ----------
    gdf : object
        The layer given by the caller.
    name : str
        Layer name used in messages.
    problems : list of str
        Problems found so far; appended to.

    Returns
    -------
    bool
        True when further column checks make sense.

    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        problems.append(
            f"{name}: expected a geopandas GeoDataFrame, got {type(gdf).__name__}; "
            "read the layer with geopandas.read_file"
        )
        return False
    if gdf.crs is None:
        problems.append(
            f"{name}: the layer has no CRS; set the metric CRS it is in "
            "(GeoDataFrame.set_crs, e.g. 'EPSG:32189')"
        )
        return False
    return True


def _ids(values: Sequence[object], limit: int = 10) -> str:
    """Format a few identifiers for an error message.

    Parameters
    ----------
    values : sequence
        Identifiers.
    limit : int, default 10
        How many to show before eliding.

    Returns
    -------
    str
        Comma-separated identifiers, with a count of the rest.

    """
    shown = ", ".join(str(v) for v in values[:limit])
    rest = len(values) - limit
    return f"{shown} (and {rest} more)" if rest > 0 else shown


def _check_units(units: object, name: str, problems: list[str]) -> None:
    """Collect every problem of a units layer.

    Parameters
    ----------
    units : object
        The units layer given by the caller.
    name : str
        Layer name used in messages.
    problems : list of str
        Problems found so far; appended to.

    """
    if not _check_frame(units, name, problems):
        return
    assert isinstance(units, gpd.GeoDataFrame)
    if units.crs is not None and not units.crs.is_projected:
        problems.append(
            f"{name}: CRS {units.crs.to_string()} is geographic (degrees); reproject the "
            "units to the metric CRS of the project (GeoDataFrame.to_crs) before mapping"
        )
    if len(units) == 0:
        problems.append(f"{name}: the layer has no units; a map needs at least one unit")
        return
    missing = [c for c in ("unit_id", "households") if c not in units.columns]
    if missing:
        problems.append(
            f"{name}: missing column(s) {', '.join(missing)}; every unit needs an integer "
            "'unit_id' and its 'households'"
        )
    geoms = units.geometry
    bad_geom = geoms.isna() | geoms.is_empty
    not_polygon = ~bad_geom & ~geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    labels = units["unit_id"] if "unit_id" in units.columns else pd.Series(units.index)
    if bad_geom.any():
        problems.append(
            f"{name}: unit(s) {_ids(list(labels[bad_geom.to_numpy()]))} have no geometry; "
            "give every unit its (Multi)Polygon or drop it"
        )
    if not_polygon.any():
        problems.append(
            f"{name}: unit(s) {_ids(list(labels[not_polygon.to_numpy()]))} are not polygons; "
            "units must be Polygon or MultiPolygon areas"
        )
    if "unit_id" in units.columns:
        ids = pd.to_numeric(units["unit_id"], errors="coerce")
        not_int = ids.isna() | (ids != ids.round())
        if not_int.any():
            problems.append(
                f"{name}: column unit_id has non-integer value(s) "
                f"{_ids(list(units['unit_id'][not_int.to_numpy()]))}; use whole numbers"
            )
        dup = units["unit_id"][units["unit_id"].duplicated()].unique()
        if len(dup):
            problems.append(
                f"{name}: unit_id value(s) {_ids(sorted(dup.tolist()))} occur more than "
                "once; give every unit its own id (dissolve the pieces of one unit first)"
            )
    if "households" in units.columns:
        hh = pd.to_numeric(units["households"], errors="coerce")
        bad_hh = hh.isna() | (hh < 0) | (hh != hh.round())
        if bad_hh.any():
            problems.append(
                f"{name}: column households of unit(s) {_ids(list(labels[bad_hh.to_numpy()]))} "
                "is missing, negative or fractional; give a whole number >= 0"
            )


def _check_geometry_types(layer: gpd.GeoDataFrame, name: str, problems: list[str]) -> None:
    """Check that a context layer holds the kind of geometry it is drawn as.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        A context layer with a CRS.
    name : str
        Layer name (a key of :data:`_LAYER_GEOMETRY`) used in messages.
    problems : list of str
        Problems found so far; appended to.

    """
    allowed, what = _LAYER_GEOMETRY[name]
    types = layer.geometry.geom_type
    wrong = types.notna() & ~types.isin(allowed)
    if wrong.any():
        rows = [str(i) for i in layer.index[wrong.to_numpy()]]
        found = ", ".join(sorted(set(types[wrong])))
        problems.append(
            f"{name}: feature(s) at row(s) {_ids(rows)} are {found}; this layer must hold "
            f"{what} (fix or drop those features)"
        )


def _check_inputs(
    plans: Mapping[str, object],
    info: object,
    context: Mapping[str, object],
    lang: object,
    tiles: object,
) -> None:
    """Validate everything a map function receives and raise once.

    Parameters
    ----------
    plans : mapping of str to object
        Units layers by the name used in messages.
    info : object
        Expected to be a :class:`MapInfo`.
    context : mapping of str to object
        Optional context layers by name (None when not given).
    lang : object
        Expected ``"zh"`` or ``"en"``.
    tiles : object
        None or a tile URL template.

    Raises
    ------
    InputError
        Listing every problem found.

    """
    problems: list[str] = []
    for name, units in plans.items():
        _check_units(units, name, problems)
    for name, layer in context.items():
        if layer is not None and _check_frame(layer, name, problems):
            assert isinstance(layer, gpd.GeoDataFrame)
            _check_geometry_types(layer, name, problems)
    if not isinstance(info, MapInfo):
        problems.append(f"info: expected a redistrict.maps.MapInfo, got {type(info).__name__}")
    else:
        band = info.band
        if (
            not isinstance(band, tuple | list)
            or len(band) != 2
            or not all(isinstance(b, int | float | np.integer) for b in band)
            or band[0] < 0
            or band[0] > band[1]
        ):
            problems.append(
                f"info.band: {band!r} is not a households band; give (low, high) with "
                "0 <= low <= high, e.g. (2000, 3000)"
            )
        if info.gap is not None and not isinstance(info.gap, int | float | np.number):
            problems.append(f"info.gap: {info.gap!r} is not a number; give a fraction or None")
        bad_totals = sorted(
            str(k) for k, v in info.totals.items() if not isinstance(v, int | float | np.number)
        )
        if bad_totals:
            problems.append(
                f"info.totals: value(s) of {', '.join(bad_totals)} are not numbers; give numbers"
            )
    if lang not in _STRINGS:
        problems.append(f"lang: {lang!r} is not supported; use 'zh' (default) or 'en'")
    if tiles is not None and (
        not isinstance(tiles, str) or not all(p in tiles for p in ("{z}", "{x}", "{y}"))
    ):
        problems.append(
            f"tiles: {tiles!r} is not a tile URL template; give None (no tiles, roads are the "
            "base map) or your tile server's URL with {z}, {x} and {y}, e.g. "
            "'http://tiles.intranet/{z}/{x}/{y}.png'"
        )
    if problems:
        raise InputError(problems)


# ---------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------


def _missing(value: object) -> bool:
    """Tell whether a cell is empty (None, NaN, NA).

    Parameters
    ----------
    value : object
        A table cell.

    Returns
    -------
    bool
        True for missing values.

    """
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _fmt_number(value: object, decimals: int = 0) -> str:
    """Format a number with thousands separators, or a dash when missing.

    Parameters
    ----------
    value : object
        Number to show.
    decimals : int, default 0
        Decimal places.

    Returns
    -------
    str
        E.g. ``"2,310"``; ``"—"`` when missing or not numeric.

    """
    if _missing(value):
        return "—"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return html.escape(str(value))
    return f"{number:,.{decimals}f}"


def _fmt_total(value: float) -> str:
    """Format a title-block total: whole numbers without decimals.

    Parameters
    ----------
    value : float
        The total.

    Returns
    -------
    str
        Formatted number.

    """
    if _missing(value):
        return "—"
    number = float(value)
    return _fmt_number(number, 0 if number == round(number) else 2)


def _text(value: object) -> str:
    """HTML-escape a cell for display, with a dash when missing or empty.

    Parameters
    ----------
    value : object
        A table cell.

    Returns
    -------
    str
        Escaped text.

    """
    if _missing(value) or str(value).strip() == "":
        return "—"
    return html.escape(str(value))


def _status_text(status: str, lang: str) -> str:
    """Translate a unit or solver status.

    Parameters
    ----------
    status : str
        Status in English as produced by the pipeline.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        Escaped display text.

    """
    return html.escape(_STATUS[lang].get(status, status))


# ---------------------------------------------------------------------------
# geometry helpers
# ---------------------------------------------------------------------------


def _to_wgs84(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Drop empty geometries and reproject a layer to EPSG:4326.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A layer with a CRS.
    name : str
        Layer name for the log.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in longitude/latitude with a fresh index.

    """
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    if not keep.all():
        logger.info("%s: %d feature(s) without geometry not drawn", name, int((~keep).sum()))
    return gdf.loc[keep.to_numpy()].to_crs(4326).reset_index(drop=True)


def _geometry_json(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry with coordinates rounded to about 0.1 m.

    Parameters
    ----------
    geom : shapely.geometry.base.BaseGeometry
        Geometry in EPSG:4326.

    Returns
    -------
    dict
        GeoJSON geometry object.

    """
    rounded = shapely.transform(geom, lambda xy: np.round(xy, _ROUND))
    mapping: dict[str, Any] = shapely.geometry.mapping(rounded)
    return mapping


def _collection(gdf: gpd.GeoDataFrame, properties: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Build a GeoJSON FeatureCollection from geometries and property dicts.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer in EPSG:4326.
    properties : sequence of dict
        One property dict per row, in row order.

    Returns
    -------
    dict
        GeoJSON FeatureCollection.

    """
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": _geometry_json(geom)}
            for geom, props in zip(gdf.geometry, properties, strict=True)
        ],
    }


def _bounds(frames: Sequence[gpd.GeoDataFrame]) -> list[list[float]]:
    """Leaflet bounds ``[[south, west], [north, east]]`` of some layers.

    Parameters
    ----------
    frames : sequence of geopandas.GeoDataFrame
        Layers in EPSG:4326.

    Returns
    -------
    list of list of float
        South-west and north-east corners.

    """
    boxes = np.array([f.total_bounds for f in frames])
    west, south = boxes[:, 0].min(), boxes[:, 1].min()
    east, north = boxes[:, 2].max(), boxes[:, 3].max()
    return [[float(south), float(west)], [float(north), float(east)]]


def unit_colours(
    units: gpd.GeoDataFrame, *, tolerance: float = _ADJACENCY_TOLERANCE_M
) -> dict[int, str]:
    """Give each unit a fill colour that differs from every touching unit's.

    Units are adjacent when they come within ``tolerance`` of each other (sharing an
    edge or a corner). The adjacency graph is coloured greedily (networkx, DSATUR
    strategy) with nodes inserted in ``unit_id`` order, so the result is the same on
    every run.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Units with ``unit_id`` and polygon geometry, in a metric CRS.
    tolerance : float, default 1.0
        Gap in CRS units (metres) still counted as touching.

    Returns
    -------
    dict of int to str
        Hex fill colour of each unit id, taken from :data:`PALETTE`.

    """
    ordered = units.sort_values("unit_id", kind="stable").reset_index(drop=True)
    ids = [int(u) for u in ordered["unit_id"]]
    geoms = ordered.geometry.to_numpy()
    graph: nx.Graph[int] = nx.Graph()
    graph.add_nodes_from(ids)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=tolerance)
    graph.add_edges_from(
        (ids[i], ids[j]) for i, j in zip(left.tolist(), right.tolist(), strict=True) if i < j
    )
    colouring: dict[int, int] = nx.greedy_color(graph, strategy="saturation_largest_first")
    if colouring and max(colouring.values()) >= len(PALETTE):
        logger.warning(
            "unit adjacency needs %d colours, palette has %d: some neighbours share a colour",
            max(colouring.values()) + 1,
            len(PALETTE),
        )
    return {uid: PALETTE[colouring[uid] % len(PALETTE)] for uid in ids}


# ---------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------


def _unit_status(row: pd.Series, band: tuple[int, int]) -> str:
    """Status of a unit: its ``status`` column, else derived from the band.

    Parameters
    ----------
    row : pandas.Series
        One unit.
    band : tuple of (int, int)
        Households band.

    Returns
    -------
    str
        ``"ok"``, ``"below band"``, ``"above band"`` or the given status.

    """
    status = row.get("status")
    if not _missing(status) and str(status).strip():
        return str(status).strip()
    hh = float(row["households"])
    in_band = row.get("in_band")
    if not _missing(in_band) and bool(in_band):
        return "ok"
    if hh < band[0]:
        return "below band"
    if hh > band[1]:
        return "above band"
    return "ok" if _missing(in_band) else "outside band"


def _office_text(row: pd.Series, s: Mapping[str, str]) -> str:
    """Office kept or new committee needed, as display text.

    Parameters
    ----------
    row : pandas.Series
        One unit.
    s : mapping
        UI strings of the language.

    Returns
    -------
    str
        Escaped text.

    """
    parts: list[str] = []
    office = row.get("office")
    if not _missing(office) and str(office).strip():
        parts.append(s["office_kept"].format(id=html.escape(str(office).strip())))
    new = row.get("new_committee")
    if not _missing(new) and bool(new):
        parts.append(s["new_committee"])
    return "; ".join(parts) if parts else "—"


def _unit_fields(units: gpd.GeoDataFrame, s: Mapping[str, str]) -> list[tuple[str, str]]:
    """Tooltip rows available for these units, as (property, label) pairs.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Units layer.
    s : mapping
        UI strings of the language.

    Returns
    -------
    list of (str, str)
        Property keys and their translated labels, in display order.

    """
    fields = [("unit", s["unit"]), ("hh", s["households"]), ("st", s["status"])]
    optional = [
        ("residents", "residents", s["residents"]),
        ("area_km2", "area", s["area"]),
        ("staff_needed", "staff", s["staff"]),
        ("office_m2", "office_m2", s["office_space"]),
        ("sources", "sources", s["sources"]),
        ("households_moved", "moved", s["moved"]),
    ]
    fields += [(key, label) for col, key, label in optional if col in units.columns]
    if "office" in units.columns or "new_committee" in units.columns:
        fields.append(("office", s["office"]))
    return fields


def _unit_properties(
    row: pd.Series, unit: _UnitRow, fields: Sequence[tuple[str, str]], lang: str
) -> dict[str, Any]:
    """Display properties of one unit feature.

    Parameters
    ----------
    row : pandas.Series
        The unit (metric CRS, ``area_km2`` filled in).
    unit : _UnitRow
        Its id, households, status and colour.
    fields : sequence of (str, str)
        Tooltip rows from :func:`_unit_fields`.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    dict
        GeoJSON properties including the Leaflet ``style``.

    """
    s = _STRINGS[lang]
    values: dict[str, str] = {
        "unit": str(unit.unit_id),
        "hh": _fmt_number(unit.households),
        "st": _status_text(unit.status, lang),
        "residents": _fmt_number(row.get("residents")),
        "area": f"{_fmt_number(row.get('area_km2'), 2)} km²",
        "staff": (_fmt_number(row.get("staff_needed"), 1).removesuffix(".0") + s["staff_suffix"]),
        "office_m2": f"{_fmt_number(row.get('office_m2'))} m²",
        "sources": _text(row.get("sources")),
        "moved": _fmt_number(row.get("households_moved")),
        "office": _office_text(row, s),
    }
    style: dict[str, Any] = {
        "fillColor": unit.colour,
        "fillOpacity": _UNIT_FILL_OPACITY,
        "color": "#3a3a3a",
        "weight": 1.5,
        "opacity": 1.0,
    }
    if unit.problem:
        style.update({"color": _PROBLEM_COLOUR, "weight": 4, "dashArray": "8 5"})
    props: dict[str, Any] = {key: values[key] for key, _ in fields}
    props.update({"unit_id": unit.unit_id, "problem": unit.problem, "style": style})
    return props


def _prepare_units(
    units: gpd.GeoDataFrame, band: tuple[int, int]
) -> tuple[gpd.GeoDataFrame, list[_UnitRow]]:
    """Sort units, fill in the area and work out status and colour.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Validated units in a metric CRS.
    band : tuple of (int, int)
        Households band.

    Returns
    -------
    tuple
        The sorted units (metric CRS) and one :class:`_UnitRow` per unit.

    """
    ordered = units.copy()
    ordered["unit_id"] = pd.to_numeric(ordered["unit_id"]).round().astype("int64")
    ordered = ordered.sort_values("unit_id", kind="stable").reset_index(drop=True)
    if "area_km2" not in ordered.columns:
        ordered["area_km2"] = ordered.geometry.area / 1e6
    colours = unit_colours(ordered)
    rows: list[_UnitRow] = []
    for _, row in ordered.iterrows():
        uid = int(row["unit_id"])
        status = _unit_status(row, band)
        rows.append(
            _UnitRow(
                unit_id=uid,
                households=round(float(row["households"])),
                status=status,
                problem=status != "ok",
                colour=colours[uid],
            )
        )
    return ordered, rows


def _add_units(
    parent: Element,
    units: gpd.GeoDataFrame,
    rows: Sequence[_UnitRow],
    *,
    lang: str,
    name: str,
    labels_parent: Element,
) -> None:
    """Add the unit polygons (with tooltips) and their labels.

    Parameters
    ----------
    parent : branca.element.Element
        Map or feature group receiving the polygons.
    units : geopandas.GeoDataFrame
        Units from :func:`_prepare_units` (metric CRS).
    rows : sequence of _UnitRow
        Matching display rows.
    lang : str
        ``"zh"`` or ``"en"``.
    name : str
        Layer name shown in the layer control.
    labels_parent : branca.element.Element
        Map or feature group receiving the labels.

    """
    s = _STRINGS[lang]
    fields = _unit_fields(units, s)
    props = [
        _unit_properties(row, unit, fields, lang)
        for (_, row), unit in zip(units.iterrows(), rows, strict=True)
    ]
    wgs = units.to_crs(4326)
    layer = folium.GeoJson(
        _collection(wgs, props),
        name=name,
        pane="rd_units",
        className="rd-unit",
    )
    layer.add_child(
        GeoJsonTooltip(
            fields=[k for k, _ in fields],
            aliases=[label for _, label in fields],
            sticky=True,
            class_name="rd-unit-tooltip",
        )
    )
    parent.add_child(layer)
    points = units.geometry.representative_point().to_crs(4326)
    for point, unit in zip(points, rows, strict=True):
        klass = "rd-label rd-problem" if unit.problem else "rd-label"
        label = (
            f'<div class="{klass}"><b>{unit.unit_id}</b><br>'
            f"{_fmt_number(unit.households)}{html.escape(s['hh_suffix'])}</div>"
        )
        folium.Marker(
            location=[round(point.y, _ROUND), round(point.x, _ROUND)],
            icon=DivIcon(html=label, icon_size=(0, 0), class_name="rd-label-icon"),
            interactive=False,
            keyboard=False,
        ).add_to(labels_parent)


def _add_context(m: folium.Map, layers: _Layers, lang: str) -> None:
    """Add roads, atoms, communities, barriers and offices as toggleable layers.

    Parameters
    ----------
    m : folium.Map
        The map.
    layers : _Layers
        Context layers in EPSG:4326 (None when not given).
    lang : str
        ``"zh"`` or ``"en"``.

    """
    s = _STRINGS[lang]
    if layers.roads is not None and len(layers.roads):
        major = (
            layers.roads["major"].fillna(False).astype(bool).to_numpy()
            if "major" in layers.roads.columns
            else np.zeros(len(layers.roads), dtype=bool)
        )
        for mask, style, key, pane in (
            (major, _MAJOR_ROAD, "roads_major", "rd_major_roads"),
            (~major, _MINOR_ROAD, "roads_minor", "rd_roads"),
        ):
            part = layers.roads.loc[mask]
            if len(part):
                folium.GeoJson(
                    _collection(part, [{"style": style}] * len(part)),
                    name=s[key],
                    pane=pane,
                    interactive=False,
                ).add_to(m)
    if layers.atoms is not None and len(layers.atoms):
        atoms = layers.atoms
        fields: list[tuple[str, str]] = []
        if "households" in atoms.columns:
            fields.append(("households", s["households"]))
        if "unit_id" in atoms.columns:
            fields.append(("unit_id", s["atom_unit"]))
        props = [
            {
                "households": _fmt_number(row.get("households")),
                "unit_id": _text(row.get("unit_id")),
                "style": _ATOM,
            }
            for _, row in atoms.iterrows()
        ]
        layer = folium.GeoJson(
            _collection(atoms, props), name=s["atoms"], pane="rd_atoms", show=False
        )
        if fields:
            layer.add_child(
                GeoJsonTooltip(
                    fields=[k for k, _ in fields], aliases=[a for _, a in fields], sticky=True
                )
            )
        layer.add_to(m)
    if layers.communities is not None and len(layers.communities):
        comm = layers.communities
        comm = comm.assign(geometry=comm.geometry.boundary)
        folium.GeoJson(
            _collection(comm, [{"style": _COMMUNITY}] * len(comm)),
            name=s["communities"],
            pane="rd_communities",
            interactive=False,
        ).add_to(m)
    if layers.barriers is not None and len(layers.barriers):
        folium.GeoJson(
            _collection(layers.barriers, [{"style": _BARRIER}] * len(layers.barriers)),
            name=s["barriers"],
            pane="rd_barriers",
            interactive=False,
        ).add_to(m)
    if layers.offices is not None and len(layers.offices):
        offices = layers.offices
        points = offices.assign(geometry=offices.geometry.representative_point())
        props = [
            {"office_id": _text(row.get("office_id")), "style": _OFFICE}
            for _, row in offices.iterrows()
        ]
        marker = folium.CircleMarker(radius=6)
        marker.options["pane"] = "rd_offices"
        layer = folium.GeoJson(
            _collection(points, props), name=s["offices"], marker=marker, pane="rd_offices"
        )
        if "office_id" in offices.columns:
            layer.add_child(GeoJsonTooltip(fields=["office_id"], aliases=[s["office"]]))
        layer.add_to(m)


# ---------------------------------------------------------------------------
# boxes
# ---------------------------------------------------------------------------


def _title_box(info: MapInfo, lang: str) -> str:
    """HTML of the fixed title block.

    Parameters
    ----------
    info : MapInfo
        Run description.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        A ``<div id="rd-title">``.

    """
    s = _STRINGS[lang]
    lo, hi = info.band
    rows = [(s["band"], f"{_fmt_number(lo)}–{_fmt_number(hi)}{html.escape(s['hh_suffix'])}")]
    rows += [
        (html.escape(_TOTALS[lang].get(key, key)), _fmt_total(value))
        for key, value in info.totals.items()
    ]
    solver = _status_text(info.status, lang)
    if info.gap is not None and not _missing(info.gap):
        solver += f" ({s['gap']} {100 * float(info.gap):.1f}%)"
    rows += [(s["solver"], solver), (s["date"], html.escape(info.date))]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        f'<div id="rd-title" class="rd-box"><div class="rd-title">{html.escape(info.title)}'
        f"</div><table>{body}</table></div>"
    )


def _problem_items(rows: Sequence[_UnitRow], lang: str) -> list[str]:
    """Legend lines naming the problem units.

    Parameters
    ----------
    rows : sequence of _UnitRow
        Units of one plan.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    list of str
        One escaped line per unit whose status is not ``"ok"``.

    """
    s = _STRINGS[lang]
    return [
        s["problem_item"].format(
            id=r.unit_id,
            status=_status_text(r.status, lang),
            hh=_fmt_number(r.households) + html.escape(s["hh_suffix"]),
        )
        for r in rows
        if r.problem
    ]


def _legend_box(
    plans: Mapping[str, Sequence[_UnitRow]], layers: _Layers, lang: str, *, compare: bool
) -> str:
    """HTML of the fixed legend box.

    Parameters
    ----------
    plans : mapping of str to sequence of _UnitRow
        Display rows of each plan.
    layers : _Layers
        Context layers (only those given get a legend entry).
    lang : str
        ``"zh"`` or ``"en"``.
    compare : bool
        Whether the legend also summarises each scenario.

    Returns
    -------
    str
        A ``<div id="rd-legend">``.

    """
    s = _STRINGS[lang]
    swatches = "".join(
        f'<span class="rd-sw" style="background:{c};opacity:0.8"></span>' for c in PALETTE[:4]
    )
    entries = [f'<div class="rd-row">{swatches}<span>{s["fill_note"]}</span></div>']
    entries.append(
        f'<div class="rd-row"><span class="rd-sw rd-sw-problem"></span>'
        f"<span>{s['problem_style']}</span></div>"
    )

    def line(style: Mapping[str, Any], text: str, dashed: bool = False) -> str:
        kind = "dashed" if dashed else "solid"
        return (
            f'<div class="rd-row"><span class="rd-line" style="border-top:'
            f'{max(2, round(float(style["weight"])))}px {kind} {style["color"]}"></span>'
            f"<span>{text}</span></div>"
        )

    if layers.roads is not None and len(layers.roads):
        entries.append(line(_MAJOR_ROAD, s["roads_major"]))
        entries.append(line(_MINOR_ROAD, s["roads_minor"]))
    if layers.communities is not None and len(layers.communities):
        entries.append(line(_COMMUNITY, s["communities"], dashed=True))
    if layers.barriers is not None and len(layers.barriers):
        entries.append(line(_BARRIER, s["barriers"]))
    if layers.offices is not None and len(layers.offices):
        entries.append(f'<div class="rd-row"><span class="rd-dot"></span>{s["offices"]}</div>')
    if layers.atoms is not None and len(layers.atoms):
        entries.append(
            f'<div class="rd-row"><span class="rd-sw rd-sw-atom"></span>{s["atoms"]}</div>'
        )
    parts = [*entries]
    for name, rows in plans.items():
        items = _problem_items(rows, lang)
        if compare:
            summary = s["scenario_summary"].format(units=len(rows), problems=len(items))
            heading = f"{html.escape(name)}{s['colon']}{summary}"
        elif items:
            heading = f"{s['problems']} ({len(items)})"
        else:
            heading = f"{s['problems']}{s['colon']}{s['no_problems']}"
        if not items:
            parts.append(f"<h4>{heading}</h4>")
            continue
        listing = "".join(f"<li>{i}</li>" for i in items)
        opened = " open" if len(items) <= _OPEN_PROBLEMS else ""
        parts.append(
            f"<details{opened}><summary>{heading}</summary>"
            f'<ul class="rd-problem-list">{listing}</ul></details>'
        )
    return (
        f'<div id="rd-legend" class="rd-box"><details open><summary>{s["legend"]}</summary>'
        f"{''.join(parts)}</details></div>"
    )


# ---------------------------------------------------------------------------
# map assembly
# ---------------------------------------------------------------------------


def _context_layers(
    atoms: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame | None,
    communities: gpd.GeoDataFrame | None,
    barriers: gpd.GeoDataFrame | None,
    offices: gpd.GeoDataFrame | None,
) -> _Layers:
    """Reproject the given context layers to EPSG:4326.

    Parameters
    ----------
    atoms, roads, communities, barriers, offices : geopandas.GeoDataFrame or None
        Validated layers.

    Returns
    -------
    _Layers
        The same layers in longitude/latitude.

    """

    def conv(gdf: gpd.GeoDataFrame | None, name: str) -> gpd.GeoDataFrame | None:
        return None if gdf is None else _to_wgs84(gdf, name)

    return _Layers(
        atoms=conv(atoms, "atoms"),
        roads=conv(roads, "roads"),
        communities=conv(communities, "communities"),
        barriers=conv(barriers, "barriers"),
        offices=conv(offices, "offices"),
    )


def _new_map(title: str, bounds: list[list[float]]) -> folium.Map:
    """Create an offline map with Leaflet inlined, panes and styles.

    Parameters
    ----------
    title : str
        Page title.
    bounds : list of list of float
        ``[[south, west], [north, east]]`` of the units.

    Returns
    -------
    folium.Map
        A map with Leaflet inlined and no layer yet.

    """
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(
        location=centre,
        zoom_start=14,
        tiles=None,
        control_scale=True,
        zoom_control="bottomright",
        zoom_snap=0.25,  # fit the units tightly instead of at whole zoom levels
    )
    inline_leaflet(m, load_leaflet())
    root = m.get_root()
    assert isinstance(root, Figure)
    root.title = html.escape(title)
    root.header.add_child(RawHtml(_CSS), name="redistrict_css")
    for pane, z in _PANES:
        m.add_child(CustomPane(pane, z_index=z, pointer_events=False))
    return m


def _finish(
    m: folium.Map,
    bounds: list[list[float]],
    boxes: Sequence[str],
    *,
    tiles: str | None,
    lang: str,
) -> folium.Map:
    """Add tiles, layer control, fixed boxes and bounds; make names deterministic.

    Parameters
    ----------
    m : folium.Map
        The map with all layers.
    bounds : list of list of float
        Bounds to fit.
    boxes : sequence of str
        HTML of the fixed boxes.
    tiles : str or None
        Tile URL template, added as a toggleable layer, or None for no tiles.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    folium.Map
        The same map.

    """
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles,
            attr=_STRINGS[lang]["tiles_attr"],
            name=_STRINGS[lang]["tiles"],
            overlay=True,
            control=True,
            show=True,
        ).add_to(m)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    # keep the units clear of the title and legend (left) and layer control (right)
    m.fit_bounds(bounds, padding_top_left=_PAD_TOP_LEFT, padding_bottom_right=_PAD_BOTTOM_RIGHT)
    root = m.get_root()
    assert isinstance(root, Figure)
    for i, box in enumerate(boxes):
        root.html.add_child(RawHtml(box), name=f"redistrict_box_{i}")
    _renumber(root)
    return m


def _walk(element: Element) -> Iterator[Element]:
    """Yield an element and all its descendants in document order.

    Parameters
    ----------
    element : branca.element.Element
        Root of the tree.

    Yields
    ------
    branca.element.Element
        Every element once.

    """
    yield element
    for part in ("header", "html", "script"):
        sub = getattr(element, part, None)
        if isinstance(sub, Element) and isinstance(element, Figure):
            yield from _walk(sub)
    for child in list(element._children.values()):
        yield from _walk(child)


def _renumber(root: Element) -> None:
    """Replace branca's random element ids by sequential ones.

    branca names every JavaScript variable after a random id, so two renders of the
    same plan would differ. Numbering the tree in document order makes the saved
    HTML byte-identical for identical inputs.

    Parameters
    ----------
    root : branca.element.Element
        The figure of the map.

    """
    for i, element in enumerate(_walk(root)):
        element._id = f"rd{i:05d}"


def plan_map(
    units: gpd.GeoDataFrame,
    *,
    info: MapInfo,
    atoms: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    offices: gpd.GeoDataFrame | None = None,
    lang: Lang = "zh",
    tiles: str | None = None,
) -> folium.Map:
    """Build a self-contained interactive map of one plan.

    Units are filled so that touching units differ (:func:`unit_colours`) and
    labelled with their id and households; hovering shows households, residents,
    area, staff and office space needed, source communities, households moved and
    the office kept or new committee needed (whichever columns exist). Units whose
    status is not ``"ok"`` get a thick red dashed outline and are listed in the
    legend. Roads, communities, barriers, offices and atoms are toggleable layers.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Proposed units in a metric CRS: ``unit_id`` (int), ``households`` (int),
        polygon geometry; optional ``residents``, ``area_km2`` (computed when
        absent), ``staff_needed``, ``office_m2``, ``in_band``, ``status`` (``"ok"``,
        ``"below band"``, ``"above band"``, ``"oversize atom"``; derived from
        ``in_band`` or the band when absent), ``sources``, ``households_moved``,
        ``office``, ``new_committee``.
    info : MapInfo
        Title block content.
    atoms : geopandas.GeoDataFrame, optional
        Building blocks with ``households`` and ``unit_id`` (hidden at first).
    roads : geopandas.GeoDataFrame, optional
        Road lines with ``road_class`` and ``major`` (bool; major roads are heavier).
    communities : geopandas.GeoDataFrame, optional
        Existing communities, drawn as dashed outlines.
    barriers : geopandas.GeoDataFrame, optional
        Barrier lines or polygons (rivers, rail).
    offices : geopandas.GeoDataFrame, optional
        Existing offices with ``office_id``, drawn as circles.
    lang : {"zh", "en"}, default "zh"
        Language of every label.
    tiles : str, optional
        URL template of an (intranet) tile server, added as a toggleable layer.
        By default no tiles are used: roads are the base map.

    Returns
    -------
    folium.Map
        The map; write it with :func:`save_map`.

    Raises
    ------
    InputError
        Listing every problem with the inputs.

    """
    context = {
        "atoms": atoms,
        "roads": roads,
        "communities": communities,
        "barriers": barriers,
        "offices": offices,
    }
    _check_inputs({"units": units}, info, context, lang, tiles)
    ordered, rows = _prepare_units(units, info.band)
    layers = _context_layers(atoms, roads, communities, barriers, offices)
    bounds = _bounds([ordered.to_crs(4326)])
    m = _new_map(info.title, bounds)
    s = _STRINGS[lang]
    labels = folium.FeatureGroup(name=s["labels"])
    _add_units(m, ordered, rows, lang=lang, name=s["units"], labels_parent=labels)
    labels.add_to(m)
    _add_context(m, layers, lang)
    boxes = [_title_box(info, lang), _legend_box({"": rows}, layers, lang, compare=False)]
    return _finish(m, bounds, boxes, tiles=tiles, lang=lang)


def compare_map(
    plans: Mapping[str, gpd.GeoDataFrame],
    *,
    info: MapInfo,
    roads: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    lang: Lang = "zh",
    tiles: str | None = None,
) -> folium.Map:
    """Build a self-contained map comparing several plans of the same area.

    Each scenario is one radio-button layer (units and their labels) in the layer
    control, so exactly one plan is visible at a time; the first is shown on
    opening. Styles, tooltips and problem highlighting are those of
    :func:`plan_map`; the legend summarises every scenario.

    Parameters
    ----------
    plans : mapping of str to geopandas.GeoDataFrame
        Units of each scenario by scenario name (see :func:`plan_map` for columns).
    info : MapInfo
        Title block content.
    roads, communities, barriers : geopandas.GeoDataFrame, optional
        Context layers as in :func:`plan_map`.
    lang : {"zh", "en"}, default "zh"
        Language of every label.
    tiles : str, optional
        URL template of an (intranet) tile server.

    Returns
    -------
    folium.Map
        The map; write it with :func:`save_map`.

    Raises
    ------
    InputError
        Listing every problem with the inputs.

    """
    if not isinstance(plans, Mapping) or len(plans) == 0:
        raise InputError("plans: give at least one scenario as a mapping {name: units}")
    context = {"roads": roads, "communities": communities, "barriers": barriers}
    named = {f"plans[{name!r}]": units for name, units in plans.items()}
    _check_inputs(named, info, context, lang, tiles)
    prepared = {str(name): _prepare_units(units, info.band) for name, units in plans.items()}
    layers = _context_layers(None, roads, communities, barriers, None)
    bounds = _bounds([ordered.to_crs(4326) for ordered, _ in prepared.values()])
    m = _new_map(info.title, bounds)
    s = _STRINGS[lang]
    for i, (name, (ordered, rows)) in enumerate(prepared.items()):
        group = folium.FeatureGroup(
            name=f"{s['scenario']}{s['colon']}{html.escape(name)}", overlay=False, show=i == 0
        )
        _add_units(group, ordered, rows, lang=lang, name=name, labels_parent=group)
        group.add_to(m)
    _add_context(m, layers, lang)
    rows_by_plan = {name: rows for name, (_, rows) in prepared.items()}
    boxes = [_title_box(info, lang), _legend_box(rows_by_plan, layers, lang, compare=True)]
    return _finish(m, bounds, boxes, tiles=tiles, lang=lang)


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Render a map, check that it is self-contained, and write it atomically.

    The page is written to a temporary file in the target folder and moved into
    place with :func:`os.replace`, so ``path`` is either the complete new map or
    untouched (no partial file is ever left behind).

    Parameters
    ----------
    m : folium.Map
        A map from :func:`plan_map` or :func:`compare_map`.
    path : str or pathlib.Path
        Output ``.html`` file.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    InputError
        If the folder does not exist, ``path`` is a folder, or the page would load
        anything from outside the file (e.g. a folium plugin added to the map).

    """
    target = Path(path)
    problems: list[str] = []
    if not target.parent.is_dir():
        problems.append(f"{target}: folder {target.parent} does not exist; create it first")
    if target.is_dir():
        problems.append(f"{target}: is a folder; give the path of an .html file")
    if problems:
        raise InputError(problems)
    page = m.get_root().render()
    assert_self_contained(page, what=str(target))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(page)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(
            f"{target}: cannot write the map ({exc.strerror}); check permissions"
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    logger.info("wrote map %s (%d bytes)", target, len(page.encode("utf-8")))
    return target
