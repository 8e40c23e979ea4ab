"""Write a plan to an output folder, all or nothing.

Files are written into a temporary folder beside the target, which then
replaces the target in one rename: a failure at any point leaves the previous
output (or nothing) in place, never a half-written folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from redistrict._files import as_if_created, held_signals, mark_written, recover_swaps, remove_tree, write_csv
from redistrict.costs import CostParams
from redistrict.maps import MapInfo, PlanBand, plan_map, save_map
from redistrict.pipeline import PlanResult

__all__ = [
    "atomic_dir",
    "drawn_communities",
    "json_safe",
    "map_info",
    "plan_band",
    "run_record",
    "status_text",
    "versions",
    "write_outputs",
]

_PACKAGES = ("redistrict", "geopandas", "shapely", "pyogrio", "pyproj", "pandas", "numpy",
             "networkx", "pulp", "highspy", "scipy", "folium", "xstatic-leaflet")  # fmt: skip


def versions() -> dict[str, str]:
    """Versions of Python and the packages a plan depends on."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@contextlib.contextmanager
def atomic_dir(out_dir: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``out_dir`` when the block succeeds.

    Parameters
    ----------
    out_dir : str or Path
        Final folder. Its parent is created if needed.

    Yields
    ------
    Path
        The folder to write into.
    """
    final = Path(out_dir).resolve()
    final.parent.mkdir(parents=True, exist_ok=True)
    recover_swaps(final)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=final.parent))
    as_if_created(tmp)
    try:
        yield tmp
        old = None
        try:
            with held_signals():  # never the earlier output hidden and the new one not in place
                if final.exists():
                    old = final.parent / f".{final.name}.old-{os.getpid()}"
                    os.replace(final, old)
                os.replace(tmp, final)
        finally:
            if old is not None and not tmp.exists():
                remove_tree(old)
            elif old is not None and not final.exists():  # the second rename failed: put it back
                os.replace(old, final)
    except KeyboardInterrupt as exc:  # once tmp is renamed, the new output is in place
        if not tmp.exists():
            mark_written(exc, final)
        raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _absolute(path: str | None) -> str | None:
    """A file named in run.json, by absolute path so that it names the file from any folder."""
    return None if not path else str(Path(path).resolve())


def json_safe(value: Any) -> Any:
    """A value ready for :func:`json.dumps`.

    Parameters
    ----------
    value : Any
        A scalar, or dicts, lists and tuples of them, possibly nested.

    Returns
    -------
    Any
        The same with string keys, tuples as lists, numpy scalars as Python
        ones and NaN or infinite floats as ``None``.

    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def plan_band(result: PlanResult) -> PlanBand:
    """The band a plan's units are judged by, in what it counts.

    A scenario whose band is in residents (``[band] unit = "residents"``) is run
    with a band in households derived from it (``result.options.band``, see
    :meth:`redistrict.scenario.Scenario.household_band`), but its units'
    ``in_band`` and ``status`` refer to the residents band
    (:func:`redistrict.continuity.annotate_units`): that band is returned then.

    Parameters
    ----------
    result : PlanResult
        The plan.

    Returns
    -------
    PlanBand
        The scenario's band in residents when it counts residents and the units
        have their residents; otherwise the households band of the run.

    """
    scenario = result.options.scenario
    if scenario is not None and scenario.band.unit == "residents" and "residents" in result.units.columns:
        return PlanBand(scenario.band.lo, scenario.band.hi, "residents")
    band = result.options.band
    return PlanBand(band.lo, band.hi, "households")


def _band_target(result: PlanResult, band: PlanBand) -> float:
    """Target size in the unit of ``band`` (the scenario's, else the run's)."""
    scenario = result.options.scenario
    if band.unit == "residents" and scenario is not None:
        return scenario.band.goal
    return result.options.band.goal


def run_record(result: PlanResult, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The content of ``run.json``: status, objective, bound, gap, seconds, inputs, parameters.

    ``parameters.band`` and ``parameters.target`` are in ``parameters.band_unit``
    (``"households"`` or ``"residents"``, see :func:`plan_band`), like the
    ``units_in_band`` count. For a band in residents, ``parameters.household_band``
    and ``parameters.household_target`` give the band in households the stages
    that need households worked with.

    ``parameters`` holds the options as given, so that the run can be repeated
    (``parameters.method`` is ``--method``: ``"auto"``, ``"exact"`` or ``"lns"``);
    ``method_used`` says which methods produced the plan's components
    (e.g. ``"exact/lns"``).

    Parameters
    ----------
    result : PlanResult
        The plan.
    extra : dict, optional
        More keys.

    Returns
    -------
    dict
        JSON-safe record.

    """
    sol = result.solution
    opts = result.options
    units = result.units
    band = plan_band(result)
    sizes: dict[str, Any] = {
        "band": [band.lo, band.hi],
        "band_unit": band.unit,
        "target": _band_target(result, band),
    }
    if band.unit != "households":
        sizes["household_band"] = [opts.band.lo, opts.band.hi]
        sizes["household_target"] = opts.band.goal
    record: dict[str, Any] = {
        "status": sol.status,
        "objective": sol.objective,
        "bound": sol.bound,
        "gap": sol.gap,
        "bound_scope": sol.bound_scope,
        "seconds": sol.seconds,
        "seconds_first_plan": sol.seconds_first,
        "stage_seconds": result.stage_seconds,
        "method_used": sol.method,
        "households": int(result.inputs.blocks["households"].sum()),
        "units": len(units),
        "units_in_band": int(units["in_band"].sum()),
        "atoms": len(result.atoms),
        "metrics": result.metrics,
        "inputs": result.inputs.sources,
        "input_options": result.inputs.options,
        "crs": result.inputs.crs.to_string(),
        "parameters": {
            **sizes,
            "weights": vars(opts.weights),
            "solver": opts.solver,
            "time_limit": opts.time_limit,
            "budget": opts.budget,
            "seed": opts.seed,
            "method": opts.method,
            "atoms": opts.atoms,
            "target_gap": opts.target_gap,
            "units": opts.units,
            "lock": _absolute(None if opts.locks is None else opts.locks.source),
            "lock_plan": _absolute(None if opts.locks is None else opts.locks.plan),
            "scenario": _absolute(None if opts.scenario is None else opts.scenario.source),
        },
        # the solver's sizes count what the band counts (residents for a band in residents)
        "components": sol.components.rename(columns={"households": band.unit}).to_dict(orient="records"),
        "notes": result.notes,
        "warnings": result.warnings,
        "versions": versions(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    if extra:
        record.update(extra)
    cleaned: dict[str, Any] = json_safe(record)
    return cleaned


def status_text(status: str) -> str:
    """The solver status as the title block states it (translated by the map).

    Parameters
    ----------
    status : str
        ``Solution.status``: ``"optimal"``, ``"feasible"``, ``"heuristic"`` ...

    Returns
    -------
    str
        ``"feasible (not proven optimal)"`` for ``"feasible"``, else ``status``.

    """
    return "feasible (not proven optimal)" if status == "feasible" else status


def map_info(result: PlanResult, title: str) -> MapInfo:
    """Title block of a plan's map: its band (in what it counts), totals and status.

    Parameters
    ----------
    result : PlanResult
        The plan.
    title : str
        Map title.

    Returns
    -------
    MapInfo
        With the residents total first for a band in residents.

    """
    units = result.units
    band = plan_band(result)
    totals: dict[str, float] = {}
    if band.unit == "residents":
        totals["residents"] = float(units["residents"].sum())
    totals["households"] = float(units["households"].sum())
    totals["units"] = float(len(units))
    totals["units_in_band"] = float(units["in_band"].sum())
    return MapInfo(
        title=title,
        band=(band.lo, band.hi),
        band_unit=band.unit,
        status=status_text(result.solution.status),
        gap=result.solution.gap,
        totals=totals,
        date=dt.date.today().isoformat(),
        fixed_units=result.options.units,
        gap_within_subproblems=result.solution.bound_scope == "subproblems",
    )


def drawn_communities(plan: PlanResult) -> gpd.GeoDataFrame | None:
    """The existing communities the map outlines: those holding at least one atom of the plan.

    The loader keeps every community overlapping the study area, which with
    ``--where`` includes neighbours that merely reach into it; the map draws
    only the communities of ``communities.csv``.

    Parameters
    ----------
    plan : PlanResult
        A plan (of ``plan``, ``compare`` or ``city``).

    Returns
    -------
    geopandas.GeoDataFrame or None
        The rows of ``plan.inputs.communities`` whose ``community_id`` some atom has.

    """
    communities = plan.inputs.communities
    if communities is None or "community_id" not in plan.atoms.columns:
        return communities
    held = set(plan.atoms["community_id"].dropna().astype(str))
    return communities[communities["community_id"].astype(str).isin(held)]


def write_outputs(
    result: PlanResult,
    out_dir: str | Path,
    *,
    title: str = "redistrict",
    lang: str = "zh",
    tiles: str | None = None,
    extra: dict[str, Any] | None = None,
    more: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``plan.gpkg``, ``summary.csv``, ``run.json`` and ``map.html``.

    Parameters
    ----------
    result : PlanResult
        The plan.
    out_dir : str or Path
        Output folder; replaced as a whole.
    title : str
        Map title (e.g. the scenario name).
    lang : {"zh", "en"}
        Map language.
    tiles : str, optional
        URL template of a tile server for an optional base layer.
    extra : dict, optional
        More keys for ``run.json``.
    more : callable, optional
        Called with the temporary folder to add further files before the swap.

    Returns
    -------
    Path
        The output folder.
    """
    units = result.units
    with atomic_dir(out_dir) as tmp:
        gpkg = tmp / "plan.gpkg"
        units.to_file(gpkg, layer="units", driver="GPKG", engine="pyogrio")
        atoms = result.atoms.reset_index()
        atoms.to_file(gpkg, layer="atoms", driver="GPKG", engine="pyogrio")
        write_csv(pd.DataFrame(units.drop(columns="geometry")), tmp / "summary.csv")
        record = run_record(result, extra=extra)
        (tmp / "run.json").write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
        info = map_info(result, title)
        inp = result.inputs
        scenario = result.options.scenario
        m = plan_map(
            units, info=info, atoms=result.atoms, roads=inp.roads, communities=drawn_communities(result),
            barriers=inp.barriers, offices=inp.offices, lang=lang,  # type: ignore[arg-type]
            tiles=tiles, cost_params=scenario.costs if scenario is not None else CostParams(),
        )  # fmt: skip
        save_map(m, tmp / "map.html")
        if more is not None:
            more(tmp)
    return Path(out_dir)
