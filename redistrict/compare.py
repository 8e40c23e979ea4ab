"""Run several scenarios on the same inputs and compare them.

:func:`run_scenarios` plans every scenario; :func:`comparison_table` reduces
each plan to one row (units, units in band, households moved, new committees,
one-time and annual cost, staff, worst deviation from the target, compactness,
major-road boundary share ...); :func:`write_comparison` writes, all or
nothing, ``comparison.csv``, ``comparison.md``, ``comparison.html``, a
``map.html`` with one layer per scenario, and every scenario's own plan in a
sub-folder. A scenario that fails (infeasible, solver trouble) becomes a row
with its error instead of stopping the others.

The work is shared by private modules: ``_compare_table`` (the comparison
table: :data:`COMPARISON_COLUMNS`, :func:`plan_summary`,
:func:`comparison_table`) and ``_compare_page`` (the Markdown and HTML pages in
both languages: :func:`comparison_markdown`, :func:`comparison_html`,
:func:`comparison_title`); their public names are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType

import pandas as pd
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table

from redistrict._compare_page import (
    ScenarioSettings,
    check_lang,
    comparison_html,
    comparison_markdown,
    comparison_title,
    local_title,
)
from redistrict._compare_table import (
    COMPARISON_COLUMNS,
    comparison_table,
    plan_summary,
    records,
    scenario_of,
    scenario_record,
)
from redistrict._console import print_whole
from redistrict._files import write_csv
from redistrict.continuity import community_report
from redistrict.errors import InputError, RedistrictError
from redistrict.load import Inputs
from redistrict.maps import MapInfo, PlanBand, compare_map, save_map
from redistrict.pipeline import PlanOptions, PlanResult, run_plan, total_problems
from redistrict.report import atomic_dir, drawn_communities, json_safe, plan_band, status_text, write_outputs
from redistrict.scenario import Scenario, load_scenario, safe_name

__all__ = [
    "COMPARISON_COLUMNS",
    "ScenarioRun",
    "ScenarioSettings",
    "check_scenarios",
    "comparison_html",
    "comparison_markdown",
    "comparison_table",
    "comparison_title",
    "load_scenarios",
    "plan_summary",
    "print_summary",
    "run_scenarios",
    "scenario_settings",
    "summary_table",
    "write_comparison",
    "write_plan",
]

log = logging.getLogger(__name__)


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
    _check_bands(inputs, scenarios, opts)
    runs = []
    for scenario in scenarios:
        say = None if progress is None else _prefixed(progress, scenario.name)
        try:
            result = run_plan(inputs, scenario.plan_options(inputs, opts), progress=say)
        except InputError as exc:
            raise _of_scenario(exc, scenario) from exc
        except RedistrictError as exc:
            log.warning("scenario %s failed: %s", scenario.name, exc)
            runs.append(ScenarioRun(scenario, None, exc))
            continue
        runs.append(ScenarioRun(scenario, result))
    return runs


def _check_bands(inputs: Inputs, scenarios: Sequence[Scenario], opts: PlanOptions) -> None:
    """Refuse, before any scenario is solved, every scenario whose band the inputs cannot meet."""
    problems: list[str] = []
    for scenario in scenarios:
        try:
            found = total_problems(inputs, scenario.plan_options(inputs, opts), lower="band.lo")
        except InputError as exc:  # a band in residents without residents
            found = exc.problems
        problems += _in_scenario(found, scenario)
    if problems:
        raise InputError(problems)


def _of_scenario(exc: InputError, scenario: Scenario) -> InputError:
    """``exc`` with each problem prefixed by the scenario it belongs to."""
    return InputError(_in_scenario(exc.problems, scenario), notes=exc.notes)


def _in_scenario(problems: list[str], scenario: Scenario) -> list[str]:
    """``problems`` each prefixed by the scenario they belong to (unless they name it)."""
    where = f"scenario {scenario.name!r}" + (f" ({scenario.source})" if scenario.source else "")
    return [p if p.startswith(where) else f"{where}: {p}" for p in problems]


def _prefixed(progress: Callable[[str], None], name: str) -> Callable[[str], None]:
    def say(stage: str) -> None:
        progress(f"{name}: {stage}")

    return say


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
    scenario = scenario_of(result)

    def more(tmp: Path) -> None:
        if "community_id" in result.atoms.columns:
            band = scenario.band if scenario.band.unit == "residents" else result.options.band
            table = community_report(result.atoms, band, result.inputs.communities)
            write_csv(table, tmp / "communities.csv")

    return write_outputs(
        result, out_dir, title=title, lang=lang, tiles=tiles,
        extra=scenario_record(result), more=more,
    )  # fmt: skip


def scenario_settings(scenario: Scenario) -> ScenarioSettings:
    """What a scenario asks for, as the comparison pages list it.

    Parameters
    ----------
    scenario : Scenario
        The scenario.

    Returns
    -------
    ScenarioSettings
        Its band and target, description, and the settings in which it differs from
        a scenario file that gives nothing but a name (weights, costs, units,
        what may change, service radius), as ``key = value``.

    """
    base = Scenario(name=scenario.name)
    changed: list[str] = []
    if scenario.units is not None:
        changed.append(f"units = {scenario.units}")
    if scenario.allow_change != base.allow_change:
        changed.append(f'allow_change = "{scenario.allow_change}"')
    if scenario.service_radius_m is not None:
        changed.append(f"service_radius_m = {scenario.service_radius_m:,g}")
    for table, given, default in (
        ("weights", scenario.weights, base.weights),
        ("costs", scenario.costs, base.costs),
    ):
        for f in fields(given):
            value = getattr(given, f.name)
            if value != getattr(default, f.name):
                shown = f'"{value}"' if isinstance(value, str) else f"{value:,g}"
                changed.append(f"{table}.{f.name} = {shown}")
    band = scenario.band
    return ScenarioSettings(
        band=PlanBand(band.lo, band.hi, band.unit), target=band.goal,
        description=scenario.description, changed=tuple(changed),
        descriptions=scenario.descriptions,
    )  # fmt: skip


def write_comparison(
    runs: Sequence[ScenarioRun],
    out_dir: str | Path,
    *,
    title: str | None = None,
    lang: str = "zh",
    tiles: str | None = None,
    area: str | None = None,
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
    area : str, optional
        Name of the area (e.g. the blocks file's): each scenario's map is then
        titled ``AREA · SCENARIO``, as ``redistrict plan --scenario`` titles it.

    Returns
    -------
    pandas.DataFrame
        The comparison table.

    Raises
    ------
    InputError
        For another language (nothing is written).

    """
    check_lang(lang)
    heading = local_title(title, lang)
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
                result, tmp / safe_name(scenario.name),
                title=scenario.name if area is None else f"{area} · {scenario.name}", lang=lang,
                tiles=tiles,
            )  # fmt: skip
        write_csv(table, tmp / "comparison.csv")
        settings = {r.scenario.name: scenario_settings(r.scenario) for r in runs}
        markdown = comparison_markdown(table, title=heading, lang=lang, settings=settings)
        (tmp / "comparison.md").write_text(markdown, encoding="utf-8")
        page = comparison_html(table, title=heading, links=links, notes=notes, lang=lang, settings=settings)
        (tmp / "comparison.html").write_text(page, encoding="utf-8")
        rows = [json_safe(r) for r in records(table)]
        (tmp / "comparison.json").write_text(
            json.dumps(rows, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
        if done:
            m = compare_map(
                {s.name: result.units for s, result in done}, info=_map_info(done, heading),
                bands={s.name: plan_band(result) for s, result in done},
                roads=done[0][1].inputs.roads, communities=drawn_communities(done[0][1]),
                barriers=done[0][1].inputs.barriers, lang=lang,  # type: ignore[arg-type]
                tiles=tiles, cost_params={s.name: s.costs for s, _ in done},
                offices=done[0][1].inputs.offices,
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
        fixed_units=base.options.units if len(done) == 1 else None,
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
    for row in records(table):
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
