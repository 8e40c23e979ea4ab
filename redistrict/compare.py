"""Run several scenarios on the same inputs and compare them.

:func:`run_scenarios` plans every scenario; :func:`comparison_table` reduces
each plan to one row (units, units in band, households moved, new committees,
one-time and annual cost, staff, worst deviation from the target, compactness,
major-road boundary share ...); :func:`write_comparison` writes, all or
nothing, ``comparison.csv``, ``comparison.md``, ``comparison.html``, a
``map.html`` with one layer per scenario, and every scenario's own plan in a
sub-folder. A scenario that fails (infeasible, solver trouble) becomes a row
with its error instead of stopping the others.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from redistrict._console import print_whole
from redistrict._map_text import band_text, status_label
from redistrict.continuity import community_report
from redistrict.costs import plan_costs, unit_costs
from redistrict.errors import InputError, RedistrictError
from redistrict.load import Inputs
from redistrict.maps import MapInfo, PlanBand, compare_map, save_map
from redistrict.pipeline import PlanOptions, PlanResult, run_plan
from redistrict.report import atomic_dir, plan_band, status_text, write_outputs
from redistrict.scenario import Scenario, default_scenario, load_scenario, safe_name

__all__ = [
    "COMPARISON_COLUMNS",
    "ScenarioRun",
    "check_out_dir",
    "check_scenarios",
    "comparison_html",
    "comparison_markdown",
    "comparison_table",
    "comparison_title",
    "load_scenarios",
    "plan_summary",
    "print_summary",
    "run_scenarios",
    "summary_table",
    "write_comparison",
    "write_plan",
]

log = logging.getLogger(__name__)

#: Columns of the comparison table, in order (``scenario`` first).
COMPARISON_COLUMNS: tuple[str, ...] = (
    "scenario",
    "band",
    "units",
    "units_in_band",
    "households_moved",
    "new_committees",
    "one_time_cost_yuan",
    "annual_cost_yuan",
    "staff_needed",
    "worst_deviation",
    "mean_deviation",
    "mean_distance_m",
    "major_boundary_share",
    "office_shortfall_m2",
    "units_beyond_radius",
    "locked_units",
    "status",
    "gap",
    "seconds",
    "error",
)

#: Column headings of the Markdown and HTML pages, by language.
_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                "scenario": "Scenario",
                "band": "Band",
                "units": "Units",
                "units_in_band": "In band",
                "households_moved": "Households moved",
                "new_committees": "New committees",
                "one_time_cost_yuan": "One-time cost (yuan)",
                "annual_cost_yuan": "Annual cost (yuan)",
                "staff_needed": "Staff needed",
                "worst_deviation": "Worst deviation from target",
                "mean_deviation": "Mean deviation from target",
                "mean_distance_m": "Mean distance to centre (m)",
                "major_boundary_share": "Boundaries on major roads",
                "office_shortfall_m2": "Office shortfall (m²)",
                "units_beyond_radius": "Units beyond service radius",
                "locked_units": "Locked units",
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
                "units_in_band": "区间内单元",
                "households_moved": "调整户数",
                "new_committees": "需新设居委会",
                "one_time_cost_yuan": "一次性费用（元）",
                "annual_cost_yuan": "年度费用（元）",
                "staff_needed": "所需工作人员",
                "worst_deviation": "与目标的最大偏差",
                "mean_deviation": "与目标的平均偏差",
                "mean_distance_m": "到单元中心平均距离（米）",
                "major_boundary_share": "边界沿主要道路比例",
                "office_shortfall_m2": "办公用房缺口（m²）",
                "units_beyond_radius": "超出服务半径单元",
                "locked_units": "锁定单元",
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
                "written": "Written {date} by redistrict.",
                "note": (
                    "Households moved: households of a unit that change committee, i.e. that do not "
                    "come from the community whose committee the unit keeps (for a unit with a new "
                    "committee: from its main, largest, source community). New committees: units "
                    "that keep no existing office (committee). Costs follow each scenario's [costs] "
                    "table (defaults: 3,000,000 yuan per new committee once; 200,000 yuan working "
                    "funds per community and year; one worker per 250 households at the salary "
                    "given). In band and the deviations from the target count what each "
                    "scenario's band counts (households, or residents)."
                ),
            }
        ),
        "zh": MappingProxyType(
            {
                "title": "方案比较",
                "area_title": "{area}：方案比较",
                "map_link": "全部方案地图（每个方案一个图层）",
                "notes": "各方案运行说明",
                "written": "由 redistrict 于 {date} 生成。",
                "note": (
                    "调整户数：单元中不来自该单元所保留居委会原社区的户数，即需更换居委会的户数"
                    "（新设居委会的单元按其最大来源社区计）。需新设居委会：不保留任何现有办公用房"
                    "（居委会）的单元数。费用按各方案的 [costs] 参数计算（默认：每个新设居委会一次性 "
                    "3,000,000 元；每个社区每年工作经费 200,000 元；每 250 户配 1 名工作人员，工资按"
                    "设定）。区间内单元数及与目标的偏差均按各方案规模区间的计量单位（户数或人口）计。"
                ),
            }
        ),
    }
)

#: The English title ``redistrict compare`` gives (``<area>: scenario comparison``).
_EN_AREA_TITLE = re.compile(r"^(?P<area>.+): scenario comparison$", re.DOTALL)
#: The band text of :meth:`redistrict.scenario.ScenarioBand.text`.
_BAND_TEXT = re.compile(r"^\s*(?P<lo>[\d,]+)\s*-\s*(?P<hi>[\d,]+)\s+(?P<unit>households|residents)\s*$")


@dataclass
class ScenarioRun:
    """One scenario and its plan (or why there is none).

    Attributes
    ----------
    scenario : Scenario
        The scenario.
    result : PlanResult or None
        The plan; None when the run failed.
    failure : RedistrictError or None
        Why the run failed (None on success).

    """

    scenario: Scenario
    result: PlanResult | None = None
    failure: RedistrictError | None = None

    @property
    def error(self) -> str:
        """The failure message (empty on success)."""
        return "" if self.failure is None else str(self.failure)


def load_scenarios(paths: Sequence[str | Path]) -> list[Scenario]:
    """Read several scenario files, reporting the problems of all of them at once.

    Parameters
    ----------
    paths : sequence of str or Path
        TOML files.

    Returns
    -------
    list of Scenario
        In the order given.

    Raises
    ------
    InputError
        Listing every problem of every file, and name clashes.

    """
    problems: list[str] = []
    scenarios = []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    check_scenarios(scenarios)
    return scenarios


def check_out_dir(out_dir: str | Path) -> None:
    """Refuse an output folder that is a file or holds files other than a comparison.

    Raises
    ------
    InputError
        When ``out_dir`` is a file or a non-empty folder without ``comparison.csv``.

    """
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise InputError(
            f"--out {path} is an existing file, not a folder: give the path of a new folder "
            "(the output folder is replaced as a whole)"
        )
    if path.is_dir() and any(path.iterdir()) and not (path / "comparison.csv").is_file():
        raise InputError(
            f"--out {path} is a folder holding other files (no comparison.csv of an earlier "
            "comparison): give a new or empty folder, since it is replaced as a whole"
        )


def check_scenarios(scenarios: Sequence[Scenario]) -> None:
    """Refuse an empty list and scenarios whose names (or folder names) collide.

    Raises
    ------
    InputError
        Listing every clash.

    """
    if not scenarios:
        raise InputError("give at least one scenario file (e.g. data/scenarios/*.toml)")
    problems = []
    seen: dict[str, Scenario] = {}
    for s in scenarios:
        key = safe_name(s.name).lower()
        if key in seen:
            other = seen[key]
            problems.append(
                f"scenarios {other.source or other.name} and {s.source or s.name} are both named "
                f'{s.name!r} (folder {safe_name(s.name)}): give each a distinct name = "..."'
            )
        else:
            seen[key] = s
    if problems:
        raise InputError(problems)


def run_scenarios(
    inputs: Inputs,
    scenarios: Sequence[Scenario],
    base: PlanOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[ScenarioRun]:
    """Plan every scenario on the same inputs.

    Parameters
    ----------
    inputs : Inputs
        Loaded once, shared by all runs.
    scenarios : sequence of Scenario
        The scenarios, in the order of the table.
    base : PlanOptions, optional
        Solver settings (time limit per scenario, seed, locks ...).
    progress : callable, optional
        Called with ``"<scenario>: <stage>"`` as runs advance.

    Returns
    -------
    list of ScenarioRun
        One per scenario. :class:`~redistrict.errors.InputError` (bad input)
        is raised at once; any other :class:`~redistrict.errors.RedistrictError`
        is recorded as the scenario's ``error``.

    """
    check_scenarios(scenarios)
    opts = base or PlanOptions()
    runs = []
    for scenario in scenarios:
        say = None if progress is None else _prefixed(progress, scenario.name)
        try:
            result = run_plan(inputs, scenario.plan_options(inputs, opts), progress=say)
        except InputError:
            raise
        except RedistrictError as exc:
            log.warning("scenario %s failed: %s", scenario.name, exc)
            runs.append(ScenarioRun(scenario, None, exc))
            continue
        runs.append(ScenarioRun(scenario, result))
    return runs


def _prefixed(progress: Callable[[str], None], name: str) -> Callable[[str], None]:
    def say(stage: str) -> None:
        progress(f"{name}: {stage}")

    return say


def _scenario_of(result: PlanResult) -> Scenario:
    return result.options.scenario or default_scenario(result.options.band, result.options.weights)


def plan_summary(result: PlanResult) -> dict[str, Any]:
    """One plan reduced to the comparison columns.

    Parameters
    ----------
    result : PlanResult
        A plan from :func:`redistrict.pipeline.run_plan`.

    Returns
    -------
    dict
        Keys of :data:`COMPARISON_COLUMNS` (``error`` empty). The worst and
        mean deviations are of ``|size - target|`` over units, in the
        scenario's size unit (households, or residents for a band in
        residents).

    """
    scenario = _scenario_of(result)
    units = result.units
    costs = plan_costs(unit_costs(units, scenario.costs))
    metrics = result.metrics
    if scenario.band.unit == "residents" and "residents" in units.columns:
        size, goal = units["residents"].astype(float), scenario.band.goal
    else:
        size, goal = units["households"].astype(float), result.options.band.goal
    deviation = (size - goal).abs()
    worst = float(deviation.max()) if len(units) else math.nan
    mean = float(deviation.mean()) if len(units) else math.nan
    sol = result.solution
    return {
        "scenario": scenario.name,
        "band": scenario.band.text(),
        "units": len(units),
        "units_in_band": int(units["in_band"].sum()),
        "households_moved": int(units["households_moved"].sum())
        if "households_moved" in units.columns
        else 0,
        "new_committees": int(costs["new_committees"]),
        "one_time_cost_yuan": costs["one_time_yuan"],
        "annual_cost_yuan": costs["annual_yuan"],
        "staff_needed": int(costs["staff_needed"]),
        "worst_deviation": worst,
        "mean_deviation": mean,
        "mean_distance_m": float(metrics.get("mean_distance_m", math.nan)),
        "major_boundary_share": float(metrics.get("major_boundary_share", math.nan)),
        "office_shortfall_m2": costs["office_shortfall_m2"],
        "units_beyond_radius": int((~units["radius_ok"].astype(bool)).sum())
        if "radius_ok" in units.columns
        else 0,
        "locked_units": int(units["locked"].astype(bool).sum()) if "locked" in units.columns else 0,
        "status": sol.status,
        "gap": math.nan if sol.gap is None else float(sol.gap),
        "seconds": float(sol.seconds),
        "error": "",
    }


def comparison_table(runs: Sequence[ScenarioRun]) -> pd.DataFrame:
    """One row per scenario, columns :data:`COMPARISON_COLUMNS`.

    Parameters
    ----------
    runs : sequence of ScenarioRun
        Output of :func:`run_scenarios`.

    Returns
    -------
    pandas.DataFrame
        Failed scenarios have their ``error`` and empty numbers.

    """
    rows = []
    for run in runs:
        if run.result is None:
            rows.append(
                {"scenario": run.scenario.name, "band": run.scenario.band.text(),
                 "status": "failed", "error": run.error}
            )  # fmt: skip
        else:
            rows.append(plan_summary(run.result))
    table = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    for col in ("units", "units_in_band", "households_moved", "new_committees", "staff_needed",
                "units_beyond_radius", "locked_units"):  # fmt: skip
        table[col] = table[col].astype("Int64")
    for col in ("status", "error", "band", "scenario"):
        table[col] = table[col].fillna("").astype(str)
    return table


def _check_lang(lang: str) -> None:
    """Refuse a page language other than ``zh`` and ``en``."""
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
    _check_lang(lang)
    text = _TEXT[lang]
    return text["title"] if area is None else text["area_title"].format(area=area)


def _local_title(title: str | None, lang: str) -> str:
    """The title in the page language.

    ``None`` gives :func:`comparison_title`; the English titles this module and
    ``redistrict compare`` make (``"Scenario comparison"``, ``"<area>: scenario
    comparison"``) are translated; any other title is the caller's and kept.
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


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in table.to_dict(orient="records")]


def _shown(table: pd.DataFrame) -> list[str]:
    """Columns worth showing: ``error`` only when a scenario failed."""
    cols = list(table.columns)
    if "error" in cols and not table["error"].astype(bool).any():
        cols.remove("error")
    return cols


_TEXT_COLUMNS = ("scenario", "band", "status", "error")


def comparison_markdown(table: pd.DataFrame, *, title: str | None = None, lang: str = "zh") -> str:
    """The comparison as a Markdown document (one pipe table).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`comparison_table`.
    title : str, optional
        Heading (default: :func:`comparison_title`; the English default titles are
        translated).
    lang : {"zh", "en"}, default "zh"
        Language of the headings, bands, statuses and notes.

    Returns
    -------
    str

    Raises
    ------
    InputError
        For another language.

    """
    _check_lang(lang)
    labels = _LABELS[lang]
    cols = _shown(table)

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# {_local_title(title, lang)}", ""]
    lines.append("| " + " | ".join(cell(labels.get(c, c)) for c in cols) + " |")
    lines.append("|" + "|".join("---" if c in _TEXT_COLUMNS else "---:" for c in cols) + "|")
    for values in _records(table):
        lines.append("| " + " | ".join(cell(_fmt(c, values[c], lang)) for c in cols) + " |")
    lines += ["", _TEXT[lang]["note"], ""]
    return "\n".join(lines)


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
"""


def comparison_html(
    table: pd.DataFrame,
    *,
    title: str | None = None,
    links: dict[str, str] | None = None,
    notes: dict[str, list[str]] | None = None,
    lang: str = "zh",
) -> str:
    """The comparison as a self-contained HTML page.

    The table fits a 1,400 px wide window; in a narrower one it scrolls
    sideways inside its box with the scenario column kept in view.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`comparison_table`.
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

    Returns
    -------
    str
        The page; it loads nothing from outside.

    Raises
    ------
    InputError
        For another language.

    """
    _check_lang(lang)
    labels, text = _LABELS[lang], _TEXT[lang]
    heading = _local_title(title, lang)
    cols = _shown(table)
    esc = html.escape

    def kind(col: str) -> str:
        return "" if col in _TEXT_COLUMNS else ' class="num"'

    head = "".join(f"<th{kind(c)}>{esc(labels.get(c, c))}</th>" for c in cols)
    body = []
    for values in _records(table):
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
    listed = {name: lines for name, lines in (notes or {}).items() if lines}
    if listed:
        parts.append(f"<h2>{esc(text['notes'])}</h2>")
    for name, lines in listed.items():
        items = "".join(f"<li>{esc(line)}</li>" for line in lines)
        parts.append(f"<h3>{esc(name)}</h3><ul>{items}</ul>")
    written = text["written"].format(date=dt.date.today().isoformat())
    parts.append(f'<p class="note">{esc(written)}</p></body></html>')
    return "\n".join(parts) + "\n"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _scenario_record(result: PlanResult) -> dict[str, Any]:
    scenario = _scenario_of(result)
    return {
        "scenario": {
            "name": scenario.name,
            "source": scenario.source,
            "description": scenario.description,
            "band": vars(scenario.band),
            "weights": vars(scenario.weights),
            "allow_change": scenario.allow_change,
            "service_radius_m": scenario.service_radius_m,
            "costs": vars(scenario.costs),
        },
        "summary": _json_safe(plan_summary(result)),
        "costs": plan_costs(unit_costs(result.units, scenario.costs)),
    }


def write_plan(
    result: PlanResult,
    out_dir: str | Path,
    *,
    title: str = "redistrict",
    lang: str = "zh",
    tiles: str | None = None,
) -> Path:
    """Write one plan like :func:`redistrict.report.write_outputs`, plus scenario and costs.

    ``run.json`` gains ``scenario``, ``summary`` and ``costs``; with existing
    communities, ``communities.csv`` classifies each of them and says which
    units its households went to.

    Parameters
    ----------
    result : PlanResult
        The plan.
    out_dir : str or Path
        Output folder (replaced as a whole).
    title : str
        Map title.
    lang : {"zh", "en"}
        Map language.
    tiles : str, optional
        Tile URL template for the map.

    Returns
    -------
    Path

    """
    scenario = _scenario_of(result)

    def more(tmp: Path) -> None:
        if "community_id" in result.atoms.columns:
            band = scenario.band if scenario.band.unit == "residents" else result.options.band
            table = community_report(result.atoms, band, result.inputs.communities)
            table.to_csv(tmp / "communities.csv", index=False)

    return write_outputs(
        result, out_dir, title=title, lang=lang, tiles=tiles,
        extra=_scenario_record(result), more=more,
    )  # fmt: skip


def write_comparison(
    runs: Sequence[ScenarioRun],
    out_dir: str | Path,
    *,
    title: str | None = None,
    lang: str = "zh",
    tiles: str | None = None,
) -> pd.DataFrame:
    """Write the comparison and every scenario's plan, all or nothing.

    ``comparison.md``, ``comparison.html`` and the maps follow ``lang``;
    ``comparison.csv`` and ``comparison.json`` keep the machine-readable English
    values. The combined map judges and labels each scenario by its own band (in
    households or residents, see :func:`redistrict.report.plan_band`).

    Parameters
    ----------
    runs : sequence of ScenarioRun
        Output of :func:`run_scenarios`.
    out_dir : str or Path
        Output folder (replaced as a whole): ``comparison.csv``,
        ``comparison.md``, ``comparison.html``, ``comparison.json``,
        ``map.html`` and one sub-folder per scenario (see :func:`write_plan`).
    title : str, optional
        Title of the pages and the map (default: :func:`comparison_title`; the
        English default titles are translated).
    lang : {"zh", "en"}, default "zh"
        Language of the pages and maps.
    tiles : str, optional
        Tile URL template for the maps.

    Returns
    -------
    pandas.DataFrame
        The comparison table.

    Raises
    ------
    InputError
        For another language (nothing is written).

    """
    _check_lang(lang)
    heading = _local_title(title, lang)
    table = comparison_table(runs)
    done = [(r.scenario, r.result) for r in runs if r.result is not None]
    failed = [r for r in runs if r.failure is not None]
    if not done and failed:
        kind = type(failed[0].failure or RedistrictError(""))
        raise kind([f"scenario {r.scenario.name}: {r.error}" for r in failed])
    links = {s.name: f"{safe_name(s.name)}/map.html" for s, _ in done}
    notes = {r.scenario.name: (r.result.notes if r.result else [r.error]) for r in runs}
    with atomic_dir(out_dir) as tmp:
        for scenario, result in done:
            write_plan(
                result, tmp / safe_name(scenario.name), title=scenario.name, lang=lang,
                tiles=tiles,
            )  # fmt: skip
        table.to_csv(tmp / "comparison.csv", index=False)
        markdown = comparison_markdown(table, title=heading, lang=lang)
        (tmp / "comparison.md").write_text(markdown, encoding="utf-8")
        page = comparison_html(table, title=heading, links=links, notes=notes, lang=lang)
        (tmp / "comparison.html").write_text(page, encoding="utf-8")
        records = [_json_safe(r) for r in _records(table)]
        (tmp / "comparison.json").write_text(
            json.dumps(records, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        if done:
            m = compare_map(
                {s.name: result.units for s, result in done}, info=_map_info(done, heading),
                bands={s.name: plan_band(result) for s, result in done},
                roads=done[0][1].inputs.roads, communities=done[0][1].inputs.communities,
                barriers=done[0][1].inputs.barriers, lang=lang,  # type: ignore[arg-type]
                tiles=tiles,
            )  # fmt: skip
            save_map(m, tmp / "map.html")
    return table


def _map_info(done: Sequence[tuple[Scenario, PlanResult]], title: str) -> MapInfo:
    """Title block of the combined map: first scenario's band, totals, every status.

    Parameters
    ----------
    done : sequence of (Scenario, PlanResult)
        The scenarios that have a plan (at least one).
    title : str
        Map title.

    Returns
    -------
    MapInfo
        Statuses (translated by the map) in order of first appearance, joined by
        ``" / "``; the residents total first when some band counts residents.

    """
    base = done[0][1]
    band = plan_band(base)
    statuses = list(dict.fromkeys(status_text(result.solution.status) for _, result in done))
    totals: dict[str, float] = {}
    residents = any(plan_band(result).unit == "residents" for _, result in done)
    if residents and "residents" in base.units.columns:
        totals["residents"] = float(base.units["residents"].sum())
    totals["households"] = float(base.units["households"].sum())
    return MapInfo(
        title=title,
        band=(band.lo, band.hi),
        band_unit=band.unit,
        status=" / ".join(statuses),
        gap=base.solution.gap if len(done) == 1 else None,
        totals=totals,
        date=dt.date.today().isoformat(),
    )


#: Columns of the console summary and their headings.
_SUMMARY_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "scenario": "scenario",
        "band": "band",
        "units": "units",
        "units_in_band": "in band",
        "households_moved": "moved",
        "new_committees": "new",
        "one_time_cost_yuan": "once M¥",
        "annual_cost_yuan": "yearly M¥",
        "staff_needed": "staff",
        "status": "status",
    }
)


def summary_table(table: pd.DataFrame, out_dir: str | Path) -> Table:
    """The console summary of a comparison as a rich table.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`comparison_table`.
    out_dir : str or Path
        The output folder, named in the title.

    Returns
    -------
    rich.table.Table
        Scenario, band, units, units in band, households moved, new committees,
        costs in millions of yuan, staff and solver status; no cell wraps.

    """
    shown = Table(title=rich_escape(f"redistrict compare -> {out_dir}"))
    for col, head in _SUMMARY_COLUMNS.items():
        left = col in ("scenario", "band", "status")
        shown.add_column(head, justify="left" if left else "right", no_wrap=True)
    for row in _records(table):
        cells = []
        for col in _SUMMARY_COLUMNS:
            value = row[col]
            if col in ("scenario", "band", "status"):
                cells.append(rich_escape(str(value)))
            elif value is None or value is pd.NA or value != value:
                cells.append("–")
            elif col.endswith("_yuan"):
                cells.append(f"{float(value) / 1e6:,.2f}")
            else:
                cells.append(f"{float(value):,.0f}")
        shown.add_row(*cells)
    return shown


def print_summary(table: pd.DataFrame, out_dir: str | Path, console: Console) -> None:
    """Print the console summary of a comparison, whole even when not on a terminal.

    On a terminal the table is fitted to the window as usual. Written to a file
    or a pipe (where rich assumes 80 columns), it is printed as wide as its
    content, so no scenario name or status is cut to ``"band-2…"``.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`comparison_table`.
    out_dir : str or Path
        The output folder.
    console : rich.console.Console
        Where to print (``redistrict``'s standard output console).

    """
    print_whole(console, summary_table(table, out_dir))
    link = Path(out_dir) / "comparison.html"
    console.print(f"see {rich_escape(str(link))} and map.html", highlight=False, soft_wrap=True)
