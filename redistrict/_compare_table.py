"""The comparison table: each scenario's plan reduced to one row.

:func:`plan_summary` reduces one plan to the columns of
:data:`COMPARISON_COLUMNS`; :func:`comparison_table` puts one row per scenario
(a failed scenario keeps its name, band and error) into a DataFrame;
:func:`records` and :func:`redistrict.report.json_safe` turn it into plain rows for the pages,
the console and ``comparison.json``. The public names are re-exported by
:mod:`redistrict.compare`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from redistrict.costs import plan_costs, unit_costs
from redistrict.pipeline import PlanResult
from redistrict.report import json_safe
from redistrict.scenario import Scenario, default_scenario

if TYPE_CHECKING:
    from redistrict.compare import ScenarioRun

__all__ = [
    "COMPARISON_COLUMNS",
    "comparison_table",
    "plan_summary",
    "records",
    "scenario_of",
    "scenario_record",
]

#: Columns of the comparison table, in order (``scenario`` first).
COMPARISON_COLUMNS: tuple[str, ...] = (
    "scenario",
    "band",
    "units",
    "units_fixed",
    "units_in_band",
    "households_moved",
    "new_committees",
    "new_offices",
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


def scenario_of(result: PlanResult) -> Scenario:
    """The scenario a plan was made for.

    Parameters
    ----------
    result : PlanResult
        A plan from :func:`redistrict.pipeline.run_plan`.

    Returns
    -------
    Scenario
        Its options' scenario, or the default scenario of its band and weights
        when it was planned without one.

    """
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
        Keys of :data:`COMPARISON_COLUMNS` (``error`` empty; ``units_fixed``
        the number of units the scenario fixed, empty when the search chose
        it: the gap of such a plan compares it with plans of that many units
        only). The worst and
        mean deviations are of ``|size - target|`` over units, in the
        scenario's size unit (households, or residents for a band in
        residents).

    """
    scenario = scenario_of(result)
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
        "units_fixed": "" if result.options.units is None else int(result.options.units),
        "units_in_band": int(units["in_band"].sum()),
        # Unknown without existing communities: None, not 0 ("nobody moves").
        "households_moved": int(units["households_moved"].sum())
        if "households_moved" in units.columns
        else None,
        "new_committees": int(costs["new_committees"]),
        "new_offices": int(costs["new_offices"]),
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
    for col in ("units", "units_in_band", "households_moved", "new_committees", "new_offices", "staff_needed",
                "units_beyond_radius", "locked_units"):  # fmt: skip
        table[col] = table[col].astype("Int64")
    for col in ("status", "error", "band", "scenario"):
        table[col] = table[col].fillna("").astype(str)
    return table


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table as dicts with string keys.

    Parameters
    ----------
    table : pandas.DataFrame
        E.g. the output of :func:`comparison_table`.

    Returns
    -------
    list of dict
        One per row, column name -> value (missing values kept as they are).

    """
    return [{str(k): v for k, v in row.items()} for row in table.to_dict(orient="records")]


def scenario_record(result: PlanResult) -> dict[str, Any]:
    """The keys a plan made for a scenario adds to ``run.json``.

    Parameters
    ----------
    result : PlanResult
        A plan from :func:`redistrict.pipeline.run_plan` (or a city's merged plan).

    Returns
    -------
    dict
        ``scenario`` (its band, weights, costs and rules), ``summary`` (the
        comparison columns, :func:`plan_summary`) and ``costs`` (the totals of
        :func:`redistrict.costs.plan_costs` over every unit).

    """
    scenario = scenario_of(result)
    return {
        "scenario": {
            "name": scenario.name,
            "source": scenario.source,
            "description": scenario.description,
            **({"descriptions": dict(scenario.descriptions)} if scenario.descriptions else {}),
            "band": vars(scenario.band),
            "weights": vars(scenario.weights),
            "allow_change": scenario.allow_change,
            "service_radius_m": scenario.service_radius_m,
            "costs": vars(scenario.costs),
        },
        "summary": json_safe(plan_summary(result)),
        "costs": plan_costs(unit_costs(result.units, scenario.costs)),
    }
