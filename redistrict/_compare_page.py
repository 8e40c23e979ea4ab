"""The comparison pages: ``comparison.md`` and ``comparison.html`` in Chinese or English.

The column headings and other texts of both languages, the CSS of the HTML
page, how each cell is shown (bands and solver statuses translated, numbers
formatted) and the page titles. The public names are re-exported by
:mod:`redistrict.compare`.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from redistrict._compare_table import records
from redistrict._map_text import band_text, status_label
from redistrict.errors import InputError
from redistrict.maps import PlanBand

__all__ = [
    "ScenarioSettings",
    "check_lang",
    "comparison_html",
    "comparison_markdown",
    "comparison_title",
    "local_title",
]

#: Column headings of the Markdown and HTML pages, by language.
_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                "scenario": "Scenario",
                "band": "Band",
                "units": "Units",
                "units_fixed": "Units fixed by the scenario",
                "units_in_band": "In band",
                "households_moved": "Households moved",
                "new_committees": "New committees",
                "new_offices": "New offices to build",
                "one_time_cost_yuan": "One-time cost (yuan)",
                "annual_cost_yuan": "Annual cost (yuan)",
                "staff_needed": "Staff needed",
                "worst_deviation": "Worst deviation from target",
                "mean_deviation": "Mean deviation from target",
                "mean_distance_m": "Mean distance to centre (m)",
                "major_boundary_share": "Boundaries on major roads",
                "office_shortfall_m2": "Office shortfall (m²)",
                "units_beyond_radius": "Units beyond service radius",
                "locked_units": "Units kept as they are",
                "status": "Solver status",
                "gap": "Gap",
                "seconds": "Seconds",
                "error": "Error",
            }
        ),
        "zh": MappingProxyType(
            {
                "scenario": "方案",
                "band": "规模区间",
                "units": "单元数",
                "units_fixed": "方案指定单元数",
                "units_in_band": "区间内单元",
                "households_moved": "调整户数",
                "new_committees": "需新设居委会",
                "new_offices": "需新建办公用房",
                "one_time_cost_yuan": "一次性费用（元）",
                "annual_cost_yuan": "年度费用（元）",
                "staff_needed": "所需工作人员",
                "worst_deviation": "与目标的最大偏差",
                "mean_deviation": "与目标的平均偏差",
                "mean_distance_m": "到单元中心平均距离（米）",
                "major_boundary_share": "边界沿主要道路比例",
                "office_shortfall_m2": "办公用房缺口（m²）",
                "units_beyond_radius": "超出服务半径单元",
                "locked_units": "保持原样的单元",
                "status": "求解状态",
                "gap": "差距",
                "seconds": "用时（秒）",
                "error": "错误",
            }
        ),
    }
)

#: Other texts of the Markdown and HTML pages, by language.
_TEXT: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                "title": "Scenario comparison",
                "area_title": "{area}: scenario comparison",
                "map_link": "Map of all scenarios (one layer each)",
                "notes": "Notes of each run",
                "settings": "Scenario settings",
                "band_target": "band {band}, target {target}",
                "defaults": "other settings as by default",
                "written": "Written {date} by redistrict.",
                "note": (
                    "Households moved: households placed under another community's committee: in a "
                    "unit that keeps an existing committee, those not from that committee's "
                    "community; in a unit with a new committee, those not from its main (largest) "
                    "source community. Empty without existing communities (--communities). New "
                    "committees: units that continue no existing committee; new offices to build: those "
                    "of them not housed in a free existing office. Costs follow each "
                    "scenario's [costs] table (defaults: 3,000,000 yuan per new office once; "
                    "working funds per community and year of 200,000 yuan, 150,000 for township "
                    "communities; one worker per 250 households at 60,000 yuan a year). In band and "
                    "the deviations from the target count what each "
                    "scenario's band counts (households, or residents). Gap: how much the plan's "
                    "objective may still lie above the best possible plan's (from a proven lower "
                    "bound); 0.0% is optimal. A dash: not applicable (households moved without "
                    "existing communities, office shortfall without office floor areas, "
                    "--office-area)."
                ),
            }
        ),
        "zh": MappingProxyType(
            {
                "title": "方案比较",
                "area_title": "{area}：方案比较",
                "map_link": "全部方案地图（每个方案一个图层）",
                "notes": "各方案运行说明（英文）",
                "settings": "各方案设定",
                "band_target": "规模区间 {band}，目标 {target}",
                "defaults": "其余设定均为默认值",
                "written": "由 redistrict 于 {date} 生成。",
                "note": (
                    "调整户数：划归其他社区居委会管理的户数——保留现有居委会的单元中不属于该居委会"
                    "原社区的户数；新设居委会的单元中不属于其最大来源社区的户数。未提供现有社区"
                    "（--communities）时为空。需新设居委会：不延续任何现有居委会的单元数；需新建办公用房：其中未入驻空闲现有办公用房的单元数。"
                    "费用按各方案的 [costs] 参数计算（默认：每处新建办公用房一次性 3,000,000 元；每个"
                    "社区每年工作经费 200,000 元，乡镇社区 150,000 元；每 250 户配 1 名工作人员，每人每年"
                    "工资 60,000 元）。区间内单元数及与目标的偏差均按各方案规模区间的计量单位（户数或人口）"
                    "计。"
                    "差距：方案目标值与可证明的下界之差占目标值的比例，即最多还可能改进多少；0.0% 为最优。"
                    "“–”表示不适用（未提供现有社区时的调整户数；未提供办公用房面积 --office-area 时的"
                    "办公用房缺口）。"
                ),
            }
        ),
    }
)

#: The English title ``redistrict compare`` gives (``<area>: scenario comparison``).
_EN_AREA_TITLE = re.compile(r"^(?P<area>.+): scenario comparison$", re.DOTALL)
#: The band text of :meth:`redistrict.scenario.ScenarioBand.text`.
_BAND_TEXT = re.compile(r"^\s*(?P<lo>[\d,]+)\s*-\s*(?P<hi>[\d,]+)\s+(?P<unit>households|residents)\s*$")
#: Columns holding text (left-aligned); the others hold numbers.
_TEXT_COLUMNS = ("scenario", "band", "status", "error")

#: Style of the HTML page.
_CSS = """
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Helvetica Neue",
  Arial, sans-serif; margin: 20px; color: #222; }
h1 { font-size: 26px; margin: 0 0 12px; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: separate; border-spacing: 0; font-size: 13px; line-height: 1.3; }
th, td { border-right: 1px solid #ccc; border-bottom: 1px solid #ccc; padding: 4px 5px; }
thead th { border-top: 1px solid #ccc; background: #f1f1ee; text-align: left;
  vertical-align: bottom; font-weight: 600; }
thead th.num { text-align: right; }
tr > :first-child { position: sticky; left: 0; z-index: 1; background: #fff;
  border-left: 1px solid #ccc; white-space: nowrap; }
thead tr > :first-child { z-index: 2; background: #f1f1ee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failed td { color: #a50f15; }
p.note { max-width: 60em; color: #555; font-size: 13px; }
li, p { overflow-wrap: anywhere; }
"""


def check_lang(lang: str) -> None:
    """Refuse a page language other than ``zh`` and ``en``.

    Parameters
    ----------
    lang : str
        The language asked for.

    Raises
    ------
    InputError
        For another language.

    """
    if lang not in _LABELS:
        raise InputError(f"lang: {lang!r} is not supported; use 'zh' (default) or 'en'")


def comparison_title(area: str | None = None, lang: str = "zh") -> str:
    """Title of the comparison pages and map in the page language.

    Parameters
    ----------
    area : str, optional
        Name of the area compared (e.g. the blocks file's name).
    lang : {"zh", "en"}, default "zh"
        Language.

    Returns
    -------
    str
        E.g. ``"centretown：方案比较"`` or ``"Scenario comparison"``.

    """
    check_lang(lang)
    text = _TEXT[lang]
    return text["title"] if area is None else text["area_title"].format(area=area)


def local_title(title: str | None, lang: str) -> str:
    """The title in the page language.

    ``None`` gives :func:`comparison_title`; the English titles this module and
    ``redistrict compare`` make (``"Scenario comparison"``, ``"<area>: scenario
    comparison"``) are translated; any other title is the caller's and kept.

    Parameters
    ----------
    title : str or None
        The title given.
    lang : {"zh", "en"}
        The page language.

    Returns
    -------
    str

    """
    if title is None:
        return comparison_title(None, lang)
    if lang != "en":
        if title == _TEXT["en"]["title"]:
            return comparison_title(None, lang)
        found = _EN_AREA_TITLE.match(title)
        if found is not None:
            return comparison_title(found["area"], lang)
    return title


def _band_cell(value: str, lang: str) -> str:
    """The band column in the page language (``"2,000-3,000 households"`` -> ``"2,000–3,000 户"``)."""
    found = _BAND_TEXT.match(value)
    if lang == "en" or found is None:
        return value
    lo, hi = (int(found[k].replace(",", "")) for k in ("lo", "hi"))
    return html.unescape(band_text(PlanBand(lo, hi, found["unit"]), lang))  # type: ignore[arg-type]


def _fmt(col: str, value: Any, lang: str = "en") -> str:
    """One cell of the Markdown and HTML pages, as plain text."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    if col == "status":
        return status_label(str(value), lang) if str(value) else "–"
    if col == "band":
        return _band_cell(str(value), lang)
    if col in ("major_boundary_share", "gap"):
        return f"{100 * float(value):.1f}%"
    if col == "seconds":
        return f"{float(value):.1f}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.0f}"
    return str(value)


@dataclass(frozen=True)
class ScenarioSettings:
    """What a scenario asks for, as the comparison pages list it.

    Attributes
    ----------
    band : PlanBand
        Its band, in what it counts.
    target : float
        Its target size, same unit.
    description : str
        The scenario file's ``description`` (its English text when it gives one
        per language).
    descriptions : tuple of (str, str)
        The file's description per language, ``(lang, text)``; the pages show
        the one in their language, else :attr:`description`.
    changed : tuple of str
        Its other settings that differ from the defaults, as ``key = value``
        in the scenario file's terms (e.g. ``costs.new_committee_yuan =
        3,500,000``).

    """

    band: PlanBand
    target: float
    description: str = ""
    changed: tuple[str, ...] = ()
    descriptions: tuple[tuple[str, str], ...] = ()


def _settings_lines(settings: Mapping[str, ScenarioSettings], lang: str) -> dict[str, list[str]]:
    """Per scenario: its description, band and target, and its settings that are not the defaults."""
    text = _TEXT[lang]
    out: dict[str, list[str]] = {}
    for name, s in settings.items():
        band = html.unescape(band_text(s.band, lang))
        described = dict(s.descriptions).get(lang, s.description).strip()
        lines = [described] if described else []
        lines.append(text["band_target"].format(band=band, target=f"{s.target:,.0f}"))
        lines.append("; ".join(s.changed) if s.changed else text["defaults"])
        out[name] = lines
    return out


def _shown(table: pd.DataFrame) -> list[str]:
    """Columns worth showing: ``error`` only when a scenario failed, ``units_fixed`` when one fixed it."""
    cols = list(table.columns)
    for col in ("error", "units_fixed"):
        if col in cols and all(_fmt(col, v) in ("–", "") for v in table[col]):
            cols.remove(col)
    return cols


def comparison_markdown(
    table: pd.DataFrame,
    *,
    title: str | None = None,
    lang: str = "zh",
    settings: Mapping[str, ScenarioSettings] | None = None,
) -> str:
    """The comparison as a Markdown document (one pipe table).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`redistrict.compare.comparison_table`.
    title : str, optional
        Heading (default: :func:`comparison_title`; the English default titles are
        translated).
    lang : {"zh", "en"}, default "zh"
        Language of the headings, bands, statuses and notes.
    settings : mapping, optional
        Scenario name -> what it asks for, listed under the table.

    Returns
    -------
    str

    Raises
    ------
    InputError
        For another language.

    """
    check_lang(lang)
    labels = _LABELS[lang]
    cols = _shown(table)

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# {local_title(title, lang)}", ""]
    lines.append("| " + " | ".join(cell(labels.get(c, c)) for c in cols) + " |")
    lines.append("|" + "|".join("---" if c in _TEXT_COLUMNS else "---:" for c in cols) + "|")
    for values in records(table):
        lines.append("| " + " | ".join(cell(_fmt(c, values[c], lang)) for c in cols) + " |")
    lines += ["", _TEXT[lang]["note"], ""]
    listed = _settings_lines(settings or {}, lang)
    if listed:
        lines += [f"## {_TEXT[lang]['settings']}", ""]
        for name, items in listed.items():
            lines.append(f"- **{cell(name)}**: " + " · ".join(cell(i) for i in items))
        lines.append("")
    return "\n".join(lines)


def comparison_html(
    table: pd.DataFrame,
    *,
    title: str | None = None,
    links: dict[str, str] | None = None,
    notes: dict[str, list[str]] | None = None,
    lang: str = "zh",
    settings: Mapping[str, ScenarioSettings] | None = None,
) -> str:
    """The comparison as a self-contained HTML page.

    The table fits a 1,400 px wide window; in a narrower one it scrolls
    sideways inside its box with the scenario column kept in view.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`redistrict.compare.comparison_table`.
    title : str, optional
        Page heading (default: :func:`comparison_title`; the English default titles
        are translated).
    links : dict, optional
        Scenario name -> relative link to its plan folder.
    notes : dict, optional
        Scenario name -> notes of its run, listed under the table (as written by
        the pipeline).
    lang : {"zh", "en"}, default "zh"
        Language of the page.
    settings : mapping, optional
        Scenario name -> what it asks for, listed under the table.

    Returns
    -------
    str
        The page; it loads nothing from outside.

    Raises
    ------
    InputError
        For another language.

    """
    check_lang(lang)
    labels, text = _LABELS[lang], _TEXT[lang]
    heading = local_title(title, lang)
    cols = _shown(table)
    esc = html.escape

    def kind(col: str) -> str:
        return "" if col in _TEXT_COLUMNS else ' class="num"'

    head = "".join(f"<th{kind(c)}>{esc(labels.get(c, c))}</th>" for c in cols)
    body = []
    for values in records(table):
        cells = []
        for c in cols:
            shown = esc(_fmt(c, values[c], lang))
            if c == "scenario" and links and values[c] in links:
                shown = f'<a href="{esc(links[values[c]])}">{shown}</a>'
            cells.append(f"<td{kind(c)}>{shown}</td>")
        failed = ' class="failed"' if values.get("error") else ""
        body.append(f"<tr{failed}>{''.join(cells)}</tr>")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(heading)}</h1>",
        f'<p><a href="map.html">{esc(text["map_link"])}</a></p>',
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>",
        f'<p class="note">{esc(text["note"])}</p>',
    ]
    described = _settings_lines(settings or {}, lang)
    if described:
        parts.append(f"<h2>{esc(text['settings'])}</h2><ul>")
        for name, said in described.items():
            parts.append(f"<li><b>{esc(name)}</b>: {' · '.join(esc(i) for i in said)}</li>")
        parts.append("</ul>")
    listed = {name: lines for name, lines in (notes or {}).items() if lines}
    if listed:
        parts.append(f"<h2>{esc(text['notes'])}</h2>")
    for name, lines in listed.items():
        items = "".join(f"<li>{esc(line)}</li>" for line in lines)
        parts.append(f"<h3>{esc(name)}</h3><ul>{items}</ul>")
    written = text["written"].format(date=dt.date.today().isoformat())
    parts.append(f'<p class="note">{esc(written)}</p></body></html>')
    return "\n".join(parts) + "\n"
