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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from redistrict.continuity import community_report
from redistrict.costs import plan_costs, unit_costs
from redistrict.errors import InputError, RedistrictError
from redistrict.load import Inputs
from redistrict.maps import MapInfo, compare_map, save_map
from redistrict.pipeline import PlanOptions, PlanResult, run_plan
from redistrict.report import atomic_dir, write_outputs
from redistrict.scenario import Scenario, default_scenario, load_scenario, safe_name

__all__ = [
    "COMPARISON_COLUMNS",
    "ScenarioRun",
    "check_out_dir",
    "check_scenarios",
    "comparison_html",
    "comparison_markdown",
    "comparison_table",
    "load_scenarios",
    "plan_summary",
    "run_scenarios",
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

_LABELS = {
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


def _fmt(col: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
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


def comparison_markdown(table: pd.DataFrame, *, title: str = "Scenario comparison") -> str:
    """The comparison as a Markdown document (one pipe table).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`comparison_table`.
    title : str
        Heading.

    Returns
    -------
    str

    """
    cols = _shown(table)

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# {title}", ""]
    lines.append("| " + " | ".join(_LABELS.get(c, c) for c in cols) + " |")
    lines.append("|" + "|".join("---" if c in ("scenario", "band", "status", "error") else "---:"
                                for c in cols) + "|")  # fmt: skip
    for values in _records(table):
        lines.append("| " + " | ".join(cell(_fmt(c, values[c])) for c in cols) + " |")
    lines += ["", _NOTE, ""]
    return "\n".join(lines)


_NOTE = (
    "Households moved: households placed in a unit whose main (largest) source community is "
    "not their present one. New committees: units that keep no existing office (committee). "
    "Costs follow each scenario's [costs] table (defaults: 3,000,000 yuan per new committee "
    "once; 200,000 yuan working funds per community and year; one worker per 250 households "
    "at the salary given). Deviations from the target are in the scenario's band unit."
)

_CSS = """
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Helvetica Neue",
  Arial, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; }
th { background: #f1f1ee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td:first-child { white-space: nowrap; }
tr.failed td { color: #a50f15; }
p.note { max-width: 60em; color: #555; font-size: 13px; }
"""


def comparison_html(
    table: pd.DataFrame,
    *,
    title: str = "Scenario comparison",
    links: dict[str, str] | None = None,
    notes: dict[str, list[str]] | None = None,
) -> str:
    """The comparison as a self-contained HTML page.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`comparison_table`.
    title : str
        Page heading.
    links : dict, optional
        Scenario name -> relative link to its plan folder.
    notes : dict, optional
        Scenario name -> notes of its run, listed under the table.

    Returns
    -------
    str
        The page; it loads nothing from outside.

    """
    cols = _shown(table)
    esc = html.escape
    head = "".join(f"<th>{esc(_LABELS.get(c, c))}</th>" for c in cols)
    body = []
    for values in _records(table):
        cells = []
        for c in cols:
            text = esc(_fmt(c, values[c]))
            if c == "scenario" and links and values[c] in links:
                text = f'<a href="{esc(links[values[c]])}">{text}</a>'
            cls = "" if c in ("scenario", "band", "status", "error") else ' class="num"'
            cells.append(f"<td{cls}>{text}</td>")
        failed = ' class="failed"' if values.get("error") else ""
        body.append(f"<tr{failed}>{''.join(cells)}</tr>")
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        '<p><a href="map.html">Map of all scenarios (one layer each)</a></p>',
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>",
        f'<p class="note">{esc(_NOTE)}</p>',
    ]
    for name, lines in (notes or {}).items():
        if lines:
            items = "".join(f"<li>{esc(line)}</li>" for line in lines)
            parts.append(f"<h3>{esc(name)}</h3><ul>{items}</ul>")
    parts.append(
        f'<p class="note">Written {esc(dt.date.today().isoformat())} by redistrict.</p></body></html>'
    )
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
    title: str = "Scenario comparison",
    lang: str = "zh",
    tiles: str | None = None,
) -> pd.DataFrame:
    """Write the comparison and every scenario's plan, all or nothing.

    Parameters
    ----------
    runs : sequence of ScenarioRun
        Output of :func:`run_scenarios`.
    out_dir : str or Path
        Output folder (replaced as a whole): ``comparison.csv``,
        ``comparison.md``, ``comparison.html``, ``comparison.json``,
        ``map.html`` and one sub-folder per scenario (see :func:`write_plan`).
    title : str
        Title of the page and the map.
    lang : {"zh", "en"}
        Map language.
    tiles : str, optional
        Tile URL template for the maps.

    Returns
    -------
    pandas.DataFrame
        The comparison table.

    """
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
        (tmp / "comparison.md").write_text(comparison_markdown(table, title=title), encoding="utf-8")
        page = comparison_html(table, title=title, links=links, notes=notes)
        (tmp / "comparison.html").write_text(page, encoding="utf-8")
        records = [_json_safe(r) for r in _records(table)]
        (tmp / "comparison.json").write_text(
            json.dumps(records, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        if done:
            base = done[0][1]
            inputs = base.inputs
            statuses = sorted({result.solution.status for _, result in done})
            info = MapInfo(
                title=title,
                band=(base.options.band.lo, base.options.band.hi),
                status=statuses[0] if len(statuses) == 1 else " / ".join(statuses),
                gap=base.solution.gap if len(done) == 1 else None,
                totals={"households": float(base.units["households"].sum())},
                date=dt.date.today().isoformat(),
            )
            plans = {s.name: result.units for s, result in done}
            m = compare_map(
                plans, info=info, roads=inputs.roads, communities=inputs.communities,
                barriers=inputs.barriers, lang=lang,  # type: ignore[arg-type]
                tiles=tiles,
            )  # fmt: skip
            save_map(m, tmp / "map.html")
    return table
