"""Labels of the maps in Chinese and English, and how cells are shown in them.

Every text that reaches the page goes through here: the translated UI strings,
translated statuses and totals, and number/text formatting with HTML escaping.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pandas as pd

from redistrict._map_types import PlanBand

__all__ = [
    "STRINGS",
    "TOTALS",
    "band_label",
    "band_text",
    "fmt_area",
    "fmt_number",
    "fmt_text",
    "fmt_total",
    "fmt_yuan",
    "is_missing",
    "size_text",
    "status_label",
    "status_text",
]

STRINGS: Mapping[str, Mapping[str, str]] = MappingProxyType(
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
                "locked": "保持原样",
                "locked_yes": "是（锁定或保留的社区，未重新划分）",
                "locked_no": "否",
                "office": "办公用房",
                "office_kept": "保留现有 {id}",
                "office_reused": "新设居委会，使用现有 {id}",
                "office_of": "（属{community}）",
                "office_no_community": "（不属任何现有社区）",
                "committee_kept": "延续{community}居委会",
                "new_committee": "需新设居委会",
                "office_area": "现有用房面积",
                "office_enough": "{area}，够用",
                "office_short": "{area}，缺 {short}",
                "office_area_unknown": "面积未知",
                "one_time": "一次性用房投入",
                "working_funds": "年度工作经费",
                "annual": "年度费用（经费＋工资）",
                "yuan": "{amount} 元",
                "office_id": "编号",
                "office_use": "使用情况",
                "office_used": "由单元 {unit} 使用",
                "office_free": "空闲（无单元使用）",
                "status": "状态",
                "band": "户数区间",
                "band_residents": "人口区间",
                "band_mixed": "规模区间",
                "res_suffix": "人",
                "solver": "求解状态",
                "gap_note": "（差距 {gap}{among}）",
                "gap_fixed_units": "，仅与 {units} 个单元的方案比较",
                "gap_subproblems": "，仅与单元不跨子问题的方案比较",
                "date": "日期",
                "legend": "图例",
                "fill_note": "填充色仅用于区分相邻单元",
                "problem_style": "问题单元（红色虚线）",
                "problems": "问题单元",
                "problems_count": "问题单元（{count}）",
                "no_problems": "无",
                "community": "社区",
                "name": "名称",
                "atom_unit": "所属单元",
                "scenario": "方案",
                "scenario_summary": "{units} 个单元，{problems} 个问题单元（{band}）",
                "problem_item": "单元 {id}：{status}（{size}）",
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
                "atoms": "Atoms (road-bounded blocks)",
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
                "locked": "Kept as it is",
                "locked_yes": "yes (locked, or a community kept; not redrawn)",
                "locked_no": "no",
                "office": "Office",
                "office_kept": "keeps existing office {id}",
                "office_reused": "new committee, housed in existing office {id}",
                "office_of": " ({community})",
                "office_no_community": " (in no existing community)",
                "committee_kept": "continues the committee of {community}",
                "new_committee": "new committee needed",
                "office_area": "Kept office area",
                "office_enough": "{area}, enough",
                "office_short": "{area}, {short} short",
                "office_area_unknown": "area unknown",
                "one_time": "One-off office cost",
                "working_funds": "Annual working funds",
                "annual": "Annual cost (funds + salaries)",
                "yuan": "{amount} yuan",
                "office_id": "ID",
                "office_use": "Use",
                "office_used": "kept by unit {unit}",
                "office_free": "free (kept by no unit)",
                "status": "Status",
                "band": "Households band",
                "band_residents": "Residents band",
                "band_mixed": "Band",
                "res_suffix": " residents",
                "solver": "Solver status",
                "gap_note": ", gap {gap}{among}",
                "gap_fixed_units": ", among plans of {units} units",
                "gap_subproblems": ", among plans keeping each unit inside its subproblem",
                "date": "Date",
                "legend": "Legend",
                "fill_note": "Fill colours only tell neighbouring units apart",
                "problem_style": "Problem unit (red dashed outline)",
                "problems": "Problem units",
                "problems_count": "Problem units ({count})",
                "no_problems": "none",
                "community": "Community",
                "name": "Name",
                "atom_unit": "Unit",
                "scenario": "Scenario",
                "scenario_summary": "{units} units, {problems} with problems ({band})",
                "problem_item": "unit {id}: {status} ({size})",
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
                "beyond service radius": "超出服务半径",
                "optimal": "最优",
                "feasible": "可行（未证明最优）",
                "feasible (not proven optimal)": "可行（未证明最优）",
                "heuristic": "启发式",
                "infeasible": "无可行解",
                "time limit": "达到时间上限",
                "failed": "失败",
            }
        ),
        "en": MappingProxyType({"ok": "within band", "feasible": "feasible (not proven optimal)"}),
    }
)

TOTALS: Mapping[str, Mapping[str, str]] = MappingProxyType(
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


def is_missing(value: object) -> bool:
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


def fmt_number(value: object, decimals: int = 0) -> str:
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
    if is_missing(value):
        return "—"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return html.escape(str(value))
    return f"{number:,.{decimals}f}"


def fmt_area(value: object) -> str:
    """Format a floor area in m² to 0.1 m², without a trailing ``.0``.

    Parameters
    ----------
    value : object
        Area in m².

    Returns
    -------
    str
        E.g. ``"404.6 m²"`` or ``"300 m²"``; ``"—"`` when missing.

    """
    text = fmt_number(value, 1)
    return text if text == "—" else f"{text.removesuffix('.0')} m²"


def fmt_yuan(value: object, lang: str) -> str:
    """Format an amount of yuan in full (no rounding to 万), e.g. ``"3,000,000 元"``.

    Parameters
    ----------
    value : object
        Amount in yuan; fen are shown only when there are any.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        Display text; ``"—"`` when missing.

    """
    text = fmt_number(value, 2)
    if text == "—":
        return text
    return STRINGS[lang]["yuan"].format(amount=text.removesuffix(".00"))


def fmt_total(value: float) -> str:
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
    if is_missing(value):
        return "—"
    number = float(value)
    return fmt_number(number, 0 if number == round(number) else 2)


def fmt_text(value: object) -> str:
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
    if is_missing(value) or str(value).strip() == "":
        return "—"
    return html.escape(str(value))


def status_text(status: str, lang: str) -> str:
    """Translate a unit or solver status.

    Parameters
    ----------
    status : str
        Status in English as produced by the pipeline. Several statuses joined by
        ``" / "`` (one per scenario) are translated one by one.

    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        Escaped display text.

    """
    return html.escape(status_label(status, lang))


def status_label(status: str, lang: str) -> str:
    """Translate a unit or solver status, unescaped (for text and Markdown).

    Parameters
    ----------
    status : str
        Status in English as produced by the pipeline. Several statuses joined by
        ``" / "`` (one per scenario) are translated one by one.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        Display text (not HTML-escaped).

    """
    table = _STATUS[lang]
    parts = [part.strip() for part in str(status).split(" / ")]
    return " / ".join(table.get(part, part) for part in parts)


def size_text(value: object, unit: str, lang: str) -> str:
    """A count with its unit, e.g. ``"2,310 hh"`` or ``"9,120 人"``.

    Parameters
    ----------
    value : object
        The count (a dash when missing).
    unit : {"households", "residents"}
        What it counts.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        Escaped display text.

    """
    s = STRINGS[lang]
    suffix = s["res_suffix"] if unit == "residents" else s["hh_suffix"]
    return f"{fmt_number(value)}{html.escape(suffix)}"


def band_label(unit: str, lang: str) -> str:
    """Name of a band in the title block: ``"Households band"`` or ``"Residents band"``.

    Parameters
    ----------
    unit : {"households", "residents"}
        What the band counts.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        Display text.

    """
    return STRINGS[lang]["band_residents" if unit == "residents" else "band"]


def band_text(band: PlanBand, lang: str) -> str:
    """A band with its unit, e.g. ``"2,000–3,000 hh"`` or ``"8,000–10,000 人"``.

    Parameters
    ----------
    band : PlanBand
        The band.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        Escaped display text.

    """
    return f"{fmt_number(band.lo)}–{size_text(band.hi, band.unit, lang)}"
