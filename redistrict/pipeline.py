"""The whole pipeline: inputs -> atoms -> graph -> problem -> solution -> units.

:func:`run_plan` chains the stages for one territory and returns a
:class:`PlanResult`; :func:`redistrict.report.write_outputs` writes it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from redistrict._atom_places import atom_places
from redistrict._clock import is_overrun_note
from redistrict._places import Places, atom_ids, barrier_layers, where
from redistrict._words import counted, joined
from redistrict.atoms import build_atoms
from redistrict.continuity import annotate_units
from redistrict.errors import InfeasibleError, InputError
from redistrict.evaluate import enclave_notes, plan_metrics, unit_table
from redistrict.graph import build_graph
from redistrict.load import Inputs
from redistrict.locks import Locks, fixed_groups, is_changed_lock, locked_only, sized_problem, solve_locked
from redistrict.problem import Band, Problem, Weights
from redistrict.scenario import Scenario
from redistrict.solve import Solution, run_problems

__all__ = [
    "PlanOptions",
    "PlanResult",
    "check_conservation",
    "check_memory",
    "option_problems",
    "require_in_band",
    "run_plan",
    "total_problems",
    "unplanned_land",
    "unplanned_residents",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlanOptions:
    """Parameters of a planning run.

    Attributes
    ----------
    band : Band
        Households per unit.
    weights : Weights
        Objective weights.
    solver : {"highs", "cbc"}
        MIP solver.
    time_limit : float
        Seconds for the optimiser (wall-clock or counted work, see ``budget``).
    budget : {"time", "work"}
        ``work`` makes the plan independent of the machine's speed and load
        (see :func:`redistrict.solve.solve`).
    seed : int
        Seed of the randomised constructor.
    method : {"auto", "exact", "lns"}
        Optimisation method (see :func:`redistrict.solve.solve`).
    atoms : {"roads", "blocks"}
        Atoms from polygonized roads or from the block polygons themselves.
    target_gap : float
        The search stops early at this gap.
    scenario : Scenario, optional
        The scenario run (allowed changes, band in residents, service radius,
        costs); ``band`` and ``weights`` must be the scenario's (see
        :meth:`redistrict.scenario.Scenario.plan_options`).
    locks : Locks, optional
        Locked atoms or units (:func:`redistrict.locks.read_locks`).
    units : int, optional
        Number of units of the plan, locked units included (default: the
        search chooses among the numbers the band admits).
    """

    band: Band = field(default_factory=Band)
    weights: Weights = field(default_factory=Weights)
    solver: str = "highs"
    time_limit: float = 60.0
    budget: str = "time"
    seed: int = 0
    method: str = "auto"
    atoms: Literal["roads", "blocks"] = "roads"
    target_gap: float = 0.005
    scenario: Scenario | None = None
    locks: Locks | None = None
    units: int | None = None


@dataclass
class PlanResult:
    """Everything a run produced.

    Attributes
    ----------
    inputs : Inputs
        The loaded inputs.
    atoms : geopandas.GeoDataFrame
        Atoms with their ``unit_id``.
    units : geopandas.GeoDataFrame
        One row per unit (see :func:`redistrict.evaluate.unit_table`).
    graph : networkx.Graph
        Atom adjacency graph.
    problem : Problem
        The optimisation instance.
    solution : Solution
        Solver result.
    metrics : dict
        Planner metrics (:func:`redistrict.evaluate.plan_metrics`); with a band
        in residents, ``units_in_band`` and ``max_deviation`` count residents.
    options : PlanOptions
        Parameters used.
    notes : list of str
        Notes from every stage.
    stage_seconds : dict
        Wall-clock seconds per stage.
    atom_warnings : list of str
        The notes of the atoms that are warnings (:attr:`redistrict.atoms.Atoms.warnings`).
    """

    inputs: Inputs
    atoms: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    graph: nx.Graph
    problem: Problem
    solution: Solution
    metrics: dict[str, float]
    options: PlanOptions
    notes: list[str]
    stage_seconds: dict[str, float]
    atom_warnings: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """The notes that are warnings, in order.

        The solver's notes (units outside the band, time or solver trouble),
        those saying the inputs are probably wrong (:attr:`Inputs.warnings`), and
        those on locked units the run does not reproduce exactly.
        """
        flagged = set(self.solution.notes) | set(self.inputs.warnings) | set(self.atom_warnings)
        flagged |= {note for note in self.notes if is_changed_lock(note)}
        return [note for note in self.notes if note in flagged]


def option_problems(options: PlanOptions) -> list[str]:
    """What is wrong with the run options (solver, time limit, method, budget, seed, units, gap).

    Checked before anything is built, so that a misspelt method does not wait for the
    atoms and the graph (the CLI checks its flags earlier still, in its own words).

    Parameters
    ----------
    options : PlanOptions
        The run's options.

    Returns
    -------
    list of str
        Every problem found, each naming its option (``options.time_limit`` ...).
    """
    return run_problems(
        solver=options.solver, time_limit=options.time_limit, method=options.method,
        budget=options.budget, seed=options.seed, units=options.units,
        gaps={"target_gap": options.target_gap}, prefix="options.",
    )  # fmt: skip


def total_problems(inputs: Inputs, options: PlanOptions, *, lower: str = "the band (--band)") -> list[str]:
    """The problems with a band or a number of units that the inputs' households cannot meet.

    Checked before the atoms are built: a band whose lower bound exceeds every
    household, and (when the band counts households and nothing is locked) more
    units than the households fill to the band's lower bound. The exact check of
    a number of units needs the atoms and comes later.

    Parameters
    ----------
    inputs : Inputs
        The loaded inputs.
    options : PlanOptions
        The run's options (``band`` in households, ``units``, ``scenario``, ``locks``).
    lower : str
        What the message tells the user to lower.

    Returns
    -------
    list of str
        Empty, or the problem found.
    """
    band = options.band
    total = int(inputs.blocks["households"].sum())
    if total < band.lo:
        return [
            f"the blocks hold {total:,} households in all, fewer than the band's lower bound "
            f"{band.lo:,}: no unit can be formed; lower {lower} or select a larger area"
        ]
    # Locked units may lie below the band, and a band in residents is only approximated here.
    in_residents = options.scenario is not None and options.scenario.band.unit == "residents"
    units = None if in_residents or options.locks is not None else options.units
    if units is not None and band.lo > 0 and units * band.lo > total:
        return [
            f"{counted(units)} of at least {band.lo:,} households need {units * band.lo:,} households, "
            f"and the blocks hold {total:,}: ask for at most {counted(total // band.lo)}, or lower {lower}"
        ]
    return []


def _max_residents(options: PlanOptions) -> float | None:
    """The upper bound of a band in residents (None for a band in households)."""
    scenario = options.scenario
    if scenario is None or scenario.band.unit != "residents":
        return None
    return float(scenario.band.hi)


def run_plan(
    inputs: Inputs,
    options: PlanOptions | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> PlanResult:
    """Plan road-bounded units for the loaded inputs.

    Parameters
    ----------
    inputs : Inputs
        Output of :func:`redistrict.load.load_inputs`.
    options : PlanOptions, optional
        Run parameters.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    PlanResult
    """
    opts = options or PlanOptions()
    say = progress or (lambda _s: None)
    problems = option_problems(opts) or total_problems(inputs, opts)
    if problems:
        raise InputError(problems)
    seconds: dict[str, float] = {}
    notes = list(inputs.notes)

    t = time.perf_counter()
    say("atoms")
    built = build_atoms(
        inputs, max_households=opts.band.hi, max_residents=_max_residents(opts), mode=opts.atoms
    )
    atoms = built.atoms
    notes += built.notes
    seconds["atoms"] = time.perf_counter() - t

    t = time.perf_counter()
    say("graph")
    graph = build_graph(atoms, inputs.roads, inputs.barriers)
    places = atom_places(atoms, graph, inputs.communities, inputs.roads)
    problem = Problem.from_graph(graph, band=opts.band, weights=opts.weights, places=places)
    notes += check_memory(problem)
    seconds["graph"] = time.perf_counter() - t

    t = time.perf_counter()
    say("solve")
    fixed, lock_notes = fixed_groups(atoms, problem, locks=opts.locks, scenario=opts.scenario)
    notes += lock_notes
    solution = solve_locked(
        problem, fixed, solver=opts.solver, time_limit=opts.time_limit, seed=opts.seed,
        method=opts.method, target_gap=opts.target_gap, atoms=atoms, scenario=opts.scenario,
        budget=opts.budget, units=opts.units,
    )  # fmt: skip
    if opts.units is not None:
        notes.append(
            f"the number of units was fixed at {opts.units}: the bound and the gap compare this plan "
            f"with other plans of {opts.units} units only"
        )
    notes += solution.notes
    seconds["solve"] = time.perf_counter() - t

    t = time.perf_counter()
    say("evaluate")
    labels = solution.labels.reindex(atoms.index)
    atoms = atoms.assign(unit_id=labels)
    notes += unplanned_residents(atoms, problem.places) + unplanned_land(atoms, problem.places)
    units = unit_table(atoms, labels, opts.band, flags=solution.unit_flags)
    notes += enclave_notes(units)
    units, unit_notes = annotate_units(
        units, atoms, problem, inputs, scenario=opts.scenario, locked=locked_only(fixed)
    )
    notes += unit_notes
    metrics = plan_metrics(problem, solution.labels)
    sized = sized_problem(problem, atoms, opts.scenario)
    if sized is not problem:  # a band in residents: judged in residents, as the units table is
        judged = plan_metrics(sized, solution.labels)
        metrics.update(units_in_band=judged["units_in_band"], max_deviation=judged["max_deviation"])
    check_conservation(inputs, atoms, units)
    seconds["evaluate"] = time.perf_counter() - t
    return PlanResult(
        inputs=inputs, atoms=atoms, units=units, graph=graph, problem=problem,
        solution=solution, metrics=metrics, options=opts, notes=notes, stage_seconds=seconds,
        atom_warnings=built.warnings,
    )  # fmt: skip


#: Peak memory per pair of atoms of the largest component (distance and cost matrices,
#: relaxation work arrays). Measured: 3,000 atoms peaked at 1.0 GB, the 10,112 atoms of
#: all of Ottawa in one component at 11.2 GB.
BYTES_PER_ATOM_PAIR = 110
#: Above this estimate (bytes) the run log says how much memory the plan needs.
_MEMORY_NOTE = 2 * 1024**3


def _physical_memory() -> int | None:
    """Bytes of physical memory of this machine, or None where the OS does not say."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(problem: Problem, physical: int | None = None) -> list[str]:
    """Refuse a plan whose largest component cannot fit in memory; note a large one.

    Parameters
    ----------
    problem : Problem
        The instance about to be solved.
    physical : int, optional
        Bytes of memory of the machine (default: what the OS reports).

    Returns
    -------
    list of str
        A note when the estimate exceeds 2 GB.

    Raises
    ------
    InputError
        When the estimate exceeds the machine's physical memory: the process would be
        killed mid-run.
    """
    biggest = max((len(c) for c in problem.components()), default=0)
    need = BYTES_PER_ATOM_PAIR * biggest**2
    physical = _physical_memory() if physical is None else physical
    gib = need / 1024**3
    advice = (
        "`redistrict city` plans community by community (--communities, or --partition-by a "
        "district column) with far less; or select a smaller area with --where"
    )
    if physical is not None and need > physical:
        raise InputError(
            f"the largest connected part of the area has {biggest:,} atoms: planning it at once "
            f"needs about {gib:.0f} GB of memory, more than this machine's "
            f"{physical / 1024**3:.0f} GB; {advice}"
        )
    if need > _MEMORY_NOTE:
        return [
            f"the largest connected part of the area has {biggest:,} atoms: planning it at once "
            f"needs about {gib:.1f} GB of memory (it grows with the square of the atoms), and the run "
            f"may overrun --time-limit while it builds the distance tables; {advice}"
        ]
    return []


def require_in_band(result: PlanResult) -> None:
    """Raise when the plan has units outside the band (the ``--strict`` option).

    Parameters
    ----------
    result : PlanResult
        A finished run.

    Raises
    ------
    InfeasibleError
        Listing every unit outside the band, the solver's explanation of each part of the
        territory that could not be planned in the band, and how to get a plan.
    """
    units = result.units
    bad = units[~units["in_band"].astype(bool)]
    if bad.empty:
        return
    scenario, band = result.options.scenario, result.options.band
    measure = "households" if scenario is None else scenario.band.unit
    text = f"{band.lo:,}-{band.hi:,} households" if scenario is None else scenario.band.text()
    problems = [
        f"unit {row['unit_id']} holds {int(row[measure]):,} {measure} ({row['status']}; the band is {text})"
        for _, row in bad.iterrows()
    ]
    problems += [note for note in result.solution.notes if not is_overrun_note(note)]
    locked = bad["locked"].astype(bool) if "locked" in bad.columns else pd.Series(False, index=bad.index)
    if (bad["status"] == "oversize atom").all():
        # one block above the band: smaller atoms cannot split it
        fixes = "split those blocks in the input (each is one block above the band), or widen it (--band)"
    else:
        fixes = "widen it (--band), use smaller atoms (--atoms blocks)"
    if locked.any():
        ids = ", ".join(str(u) for u in bad.loc[locked, "unit_id"])
        fixes = f"unlock units {ids} (remove them from the --lock file), " + fixes
    problems.append(
        f"{len(bad)} of {len(units)} units are outside the band: {fixes}, or drop --strict to write "
        "the plan with these units flagged"
    )
    raise InfeasibleError(problems)


def unplanned_residents(atoms: gpd.GeoDataFrame, places: Places | None = None) -> list[str]:
    """Say so when atoms left out of every unit (no households around them) hold residents.

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms with ``unit_id`` (missing = in no unit) and, when known, ``residents``.
    places : Places, optional
        What the atoms are known by (:func:`redistrict._atom_places.atom_places`):
        the note then says in which communities (or near which roads) those
        residents live, the atom ids coming second.

    Returns
    -------
    list of str
        One note, or none.
    """
    if "residents" not in atoms.columns:
        return []
    out = atoms["unit_id"].isna()
    lost = float(atoms.loc[out, "residents"].sum())
    if lost <= 0:
        return []
    held = atoms.loc[out & (atoms["residents"] > 0), "residents"]
    nodes, every = held.index.tolist(), np.arange(len(held), dtype=np.int64)
    count = np.round(held.to_numpy(dtype=float)).astype(np.int64)
    layers = barrier_layers(places, nodes)
    cause = (
        f"by the barriers in {joined(layers)}"
        if layers
        else "by barriers or gaps between blocks, or in `city` by the groups"
    )
    return [
        f"{lost:,.0f} residents{where(places, nodes, count, every)} live in atoms that are in no unit "
        f"({atom_ids(nodes, every)}): they are cut off from every atom with households ({cause}), so no "
        "unit can reach them; join them to the area by hand if they should be counted"
    ]


def unplanned_land(atoms: gpd.GeoDataFrame, places: Places | None = None) -> list[str]:
    """Say so when land (atoms without households or residents) is left out of every unit.

    An island in a river, a strip between a river and a railway (or in ``city`` an empty
    group no other group may take in): no unit reaches it and the units do not cover the
    whole area.

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms with ``unit_id`` (missing = in no unit), metric CRS.
    places : Places, optional
        What the atoms are known by: the note names the barriers cutting them off.

    Returns
    -------
    list of str
        One note, or none.
    """
    out = atoms["unit_id"].isna().to_numpy().copy()
    if "residents" in atoms.columns:  # those are in unplanned_residents' note
        out &= ~(atoms["residents"].fillna(0).to_numpy() > 0)
    if not out.any():
        return []
    nodes = atoms.index[out].tolist()
    every = np.arange(len(nodes), dtype=np.int64)
    hectares = float(atoms.geometry[out].area.sum()) / 10_000
    layers = barrier_layers(places, nodes)
    cause = f" (cut off by the barriers in {joined(layers)})" if layers else ""
    one = len(nodes) == 1
    are, them = ("is", "it") if one else ("are", "them")
    return [
        f"{counted(len(nodes), 'atom')} without households ({hectares:,.1f} ha) {are} in no unit"
        f"{cause}, no unit reaching {them} ({atom_ids(nodes, every)}): the units do not cover {them}; "
        f"give {them} to a neighbouring unit by hand if the plan must cover the whole area"
    ]


def check_conservation(inputs: Inputs, atoms: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> None:
    """Every household of the input is in exactly one unit; fail loudly otherwise."""
    total_in = int(inputs.blocks["households"].sum())
    total_atoms = int(atoms["households"].sum())
    total_units = int(units["households"].sum())
    excluded = int(atoms.loc[pd.isna(atoms["unit_id"]), "households"].sum())
    if not total_in == total_atoms == total_units or excluded:
        raise RuntimeError(
            f"household conservation violated: input {total_in}, atoms {total_atoms}, "
            f"units {total_units}, in no unit {excluded}; please report this bug"
        )
