"""The files of a city-scale run: the merged plan written like ``plan``'s, plus its subproblems.

:func:`write_city_outputs` writes, all or nothing, what ``redistrict plan``
writes for one territory (``plan.gpkg``, ``summary.csv``, ``run.json`` with the
scenario, summary and cost totals, ``communities.csv`` when existing
communities were given, ``map.html``) and ``subproblems.csv``. The city's
``run.json`` adds a ``city`` record (subproblems, cache, workers), and its
``communities.csv`` a ``subproblems`` column naming the subproblem(s) that hold
each community.

Geometry and report modules are imported where used: :mod:`redistrict.city`,
which Dask workers import to solve subproblems, imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from redistrict._files import write_csv

if TYPE_CHECKING:
    from redistrict.city import CityResult

__all__ = [
    "city_record",
    "community_table",
    "write_city_outputs",
]


def city_record(result: CityResult) -> dict[str, Any]:
    """The keys a city run adds to ``run.json``.

    Parameters
    ----------
    result : CityResult
        Output of :func:`redistrict.city.run_city`.

    Returns
    -------
    dict
        ``scenario``, ``summary`` and ``costs`` as ``plan`` writes them, for
        the whole city: ``costs`` are the totals of
        :func:`redistrict.costs.plan_costs` over every unit (the sums of the
        cost columns of ``summary.csv``), ``summary`` the row
        :func:`redistrict.compare.plan_summary` gives the merged plan. And
        ``city``: subproblems solved and cached, workers, scheduler, cache
        folder, time limit per subproblem, the ``--partition-by`` column (or
        None) and the subproblems' total seconds.

    """
    from redistrict._compare_table import scenario_record

    plan, rep = result.plan, result.report
    return {
        **scenario_record(plan),
        "city": {
            "subproblems": len(result.groups),
            "solved": rep.solved,
            "cached": rep.cached,
            "workers": rep.workers,
            "scheduler": rep.scheduler,
            "cache": None if rep.directory is None else str(rep.directory),
            "time_limit_per_subproblem": plan.options.time_limit,
            "partition_by": result.partition_by,
            "subproblem_seconds_total": float(result.subproblems["seconds"].sum()),
        },
    }


def _atom_subproblem(result: CityResult) -> pd.Series:
    """Subproblem index of every atom, indexed like the plan's atoms."""
    nodes = result.plan.problem.nodes
    index: list[object] = []
    values: list[int] = []
    for g in result.groups:
        index += [nodes[i] for i in g.positions.tolist()]
        values += [g.index] * len(g.positions)
    return pd.Series(values, index=pd.Index(index, dtype=object), dtype="int64")


def community_table(result: CityResult) -> pd.DataFrame | None:
    """``communities.csv`` of a city run: ``plan``'s table plus the subproblems of each community.

    Parameters
    ----------
    result : CityResult
        Output of :func:`redistrict.city.run_city`.

    Returns
    -------
    pandas.DataFrame or None
        One row per existing community holding atoms of the plan:
        :func:`redistrict.continuity.community_report` (classification by the
        scenario's band, households, units its households went to), plus
        ``subproblems``, the subproblem(s) holding its atoms (``"3"``, or
        ``"3;7"`` for a community cut by ``--partition-by`` or split into
        disconnected parts). None when the atoms carry no communities.

    """
    from redistrict._compare_table import scenario_of
    from redistrict.continuity import community_report

    plan = result.plan
    atoms = plan.atoms
    if "community_id" not in atoms.columns:
        return None
    scenario = scenario_of(plan)
    band = scenario.band if scenario.band.unit == "residents" else plan.options.band
    table = community_report(atoms, band, plan.inputs.communities)
    where = pd.DataFrame(
        {
            "community_id": atoms["community_id"].fillna("").astype(str).to_numpy(),
            "subproblem": _atom_subproblem(result).reindex(pd.Index(atoms.index, dtype=object)).to_numpy(),
        }
    ).dropna()
    held = where.groupby("community_id")["subproblem"].agg(
        lambda s: ";".join(str(int(v)) for v in sorted(set(s.tolist())))
    )
    table["subproblems"] = table["community_id"].astype(str).map(held).fillna("")
    return table


def write_city_outputs(
    result: CityResult,
    out_dir: str | Path,
    *,
    title: str = "redistrict",
    lang: str = "zh",
    tiles: str | None = None,
) -> Path:
    """Write the merged plan like ``plan`` does, plus ``subproblems.csv``.

    Parameters
    ----------
    result : CityResult
        Output of :func:`redistrict.city.run_city`.
    out_dir : str or Path
        Output folder; replaced as a whole.
    title : str
        Map title.
    lang : {"zh", "en"}
        Map language.
    tiles : str, optional
        URL template of a tile server for an optional base layer.

    Returns
    -------
    Path
        The output folder.

    """
    from redistrict.report import write_outputs

    communities = community_table(result)

    def more(tmp: Path) -> None:
        write_csv(result.subproblems, tmp / "subproblems.csv")
        if communities is not None:
            write_csv(communities, tmp / "communities.csv")

    extra = city_record(result)
    return write_outputs(result.plan, out_dir, title=title, lang=lang, tiles=tiles, extra=extra, more=more)
