"""Fixed parts of the map: locked atoms, locked units and unchanged communities.

A *lock group* is a set of atoms that must form one unit of the plan, exactly
as given. Groups come from

* a lock file (``--lock``): a CSV whose header names the column ``atom_id``
  (atoms of this run, grouped by an optional ``unit_id`` column, otherwise all
  in one unit; an optional ``households`` column is checked against the
  atoms) or only ``unit_id`` (units of a previous plan given with
  ``--lock-plan``: each becomes the atoms whose interior point lies inside that
  unit's polygon, so the lock survives a change of atoms);
* a scenario with ``allow_change = "oversized_undersized"``: every existing
  community inside the band keeps its atoms as one unit (a *soft* lock), and
  every oversized community that can be divided into units of the band on its
  own is *sealed*: it is split within its own boundary, so that nobody moves.

Soft locks and seals are released where an undersized neighbour (a free area
too small or too awkward for the band) cannot be merged otherwise: the smallest
adjacent soft lock or seal is released until every free area can form units of
the band, or none is left. The released area is then planned together with the
undersized one, the continuity weight keeping moves few.

Free areas without households between groups join the adjacent group sharing
the longest boundary, so that the units still tile the study area.

:func:`solve_locked` removes the locked atoms, solves the remaining
sub-problem (with the edges between sealed communities and their neighbours
cut) with :func:`redistrict.solve.solve` (distances and atom weights taken from
the full problem, so that costs are those of the full problem) and merges the
labels; the objective, bound and gap are those of the whole plan.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Hashable
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from redistrict._counts import choose_units
from redistrict._lock_file import LOCK, Locks, read_locks
from redistrict._places import atom_ids, describe
from redistrict._unit_shapes import bridge_gaps, fill_pinholes
from redistrict._words import counted, listed
from redistrict.continuity import classify_communities
from redistrict.errors import InputError
from redistrict.problem import Band, IntArray, Problem
from redistrict.scenario import Scenario
from redistrict.solve import Solution, relative_gap, solve, unit_count_range

__all__ = [
    "SEAL",
    "Locks",
    "fixed_groups",
    "is_changed_lock",
    "locked_only",
    "read_locks",
    "sized_problem",
    "solve_locked",
    "subproblem",
]

log = logging.getLogger(__name__)

_SOFT = "community "
#: Prefix of the group name of a sealed community (split within itself, not locked).
SEAL = "seal "


# ------------------------------------------------------------------------ lock groups


def fixed_groups(
    atoms: gpd.GeoDataFrame,
    problem: Problem,
    *,
    locks: Locks | None = None,
    scenario: Scenario | None = None,
) -> tuple[pd.Series, list[str]]:
    """Lock group (or seal) of every fixed atom.

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms of the run (index = atom ids), with ``households`` and
        optionally ``community_id``.
    problem : Problem
        The instance built from the atoms' graph.
    locks : Locks, optional
        A parsed lock file.
    scenario : Scenario, optional
        With ``allow_change = "oversized_undersized"``, in-band communities
        are locked and oversized ones sealed (both softly).

    Returns
    -------
    groups : pandas.Series
        Group name per locked or sealed atom id (sorted); names of seals start
        with :data:`SEAL`. Empty when nothing is locked.
    notes : list of str
        What was locked or released, and why.

    Raises
    ------
    InputError
        When the lock file does not fit the atoms (unknown ids, household
        mismatch, a group that is not contiguous, an empty unit).

    """
    notes: list[str] = []
    problem = sized_problem(problem, atoms, scenario)
    pos: dict[Hashable, int] = {v: i for i, v in enumerate(problem.nodes)}
    group = np.full(problem.n, "", dtype=object)
    if locks is not None:
        hard, changed = _hard_groups(atoms, locks)
        notes += changed
        for atom, name in hard.items():
            if atom in pos:
                group[pos[atom]] = name
        _check_contiguous(problem, group, locks)
        count = len({g for g in group if g})
        notes.append(f"{counted(count)} locked by {locks.source} ({int((group != '').sum())} atoms)")
    soft: dict[str, int] = {}
    if scenario is not None and scenario.allow_change == "oversized_undersized":
        if "community_id" not in atoms.columns:
            notes.append(
                f"scenario {scenario.name!r}: allow_change = oversized_undersized has no effect "
                "without existing communities in the area (--communities)"
            )
        else:
            soft = _soft_groups(atoms, problem, scenario, group, pos, notes)
    _settle(problem, group, soft, notes, _community_names(atoms, problem))
    mask = group != ""
    nodes = [problem.nodes[i] for i in np.flatnonzero(mask)]
    out = pd.Series(group[mask], index=pd.Index(nodes, name="atom_id"), name="group", dtype=object)
    return out.sort_index(kind="stable"), notes


def locked_only(groups: pd.Series) -> pd.Series:
    """The entries of :func:`fixed_groups` that lock atoms into one unit (seals dropped)."""
    if not len(groups):
        return groups
    return groups[~groups.astype(str).str.startswith(SEAL)]


def _hard_groups(atoms: gpd.GeoDataFrame, locks: Locks) -> tuple[pd.Series, list[str]]:
    """Lock group per locked atom, and notes on locked units these atoms cannot repeat exactly."""
    where = f"lock file {locks.source}"
    problems: list[str] = []
    if locks.atom_groups is not None:
        groups = locks.atom_groups
        unknown = [int(a) for a in groups.index if a not in atoms.index]
        if unknown:
            problems.append(
                f"{where}: atom ids {listed(unknown)} are not atoms of this run (it has "
                f"{len(atoms)} atoms, ids {atoms.index.min()}-{atoms.index.max()}); atom ids only "
                "apply to the same inputs and --atoms mode: lock unit ids with --lock-plan instead"
            )
        if locks.atom_households is not None:
            known = locks.atom_households.dropna()
            known = known[known.index.isin(atoms.index)]
            actual = atoms.loc[known.index, "households"].astype("int64")
            diff = [int(a) for a in known.index if int(known.loc[a]) != int(actual.loc[a])]
            if diff:
                problems.append(
                    f"{where}: atoms {listed(diff)} hold other household counts than the file "
                    "says: the file was made from other inputs; export a fresh one from plan.gpkg"
                )
        if problems:
            raise InputError(problems)
        return groups, []
    if locks.units is None:
        raise InputError(f"{where}: locks neither atoms nor units; list atom_id or unit_id")
    polys = locks.units.to_crs(atoms.crs)
    points = shapely.point_on_surface(np.asarray(atoms.geometry.array, dtype=object))
    tree = shapely.STRtree(np.asarray(polys.geometry.array, dtype=object))
    ai, ui = tree.query(points, predicate="within")
    pairs = pd.DataFrame({"atom": ai, "unit": polys["unit_id"].to_numpy()[ui]}).sort_values(["atom", "unit"])
    pairs = pairs.drop_duplicates("atom")
    index = pd.Index(atoms.index.to_numpy()[pairs["atom"].to_numpy()], name="atom_id")
    groups = pd.Series([f"{LOCK}{u}" for u in pairs["unit"]], index=index, dtype=object)
    empty = sorted(set(polys["unit_id"].astype(int)) - set(pairs["unit"].astype(int)))
    if empty:
        raise InputError(
            f"{where}: units {listed(empty)} of the previous plan contain no atom of this run "
            "(outside the study area?); remove them from the lock file"
        )
    changed: list[str] = []
    unit_of = pairs["unit"].to_numpy()
    now = atoms.loc[groups.index, "households"].groupby(unit_of).sum()
    # Outlines drawn as the plan draws them (gaps between blocks bridged), to compare like with like.
    dissolved = atoms.loc[groups.index].geometry.groupby(unit_of).agg(shapely.union_all)
    drawn = fill_pinholes(bridge_gaps(gpd.GeoSeries(dissolved, crs=atoms.crs)))
    before_area = polys.set_index("unit_id").geometry
    for unit in sorted(set(unit_of.tolist())):
        held = None if locks.unit_households is None else locks.unit_households.get(unit)
        if held is not None and int(now.get(unit, 0)) != int(held):
            changed.append(
                f"locked unit {unit} held {int(held):,} households in {locks.plan} and holds "
                f"{int(now.get(unit, 0)):,} here: {_KEPT_INSIDE}"
            )
            continue
        earlier = before_area.loc[[unit]].union_all()
        area = float(shapely.area(earlier))
        moved = float(shapely.area(shapely.symmetric_difference(earlier, drawn.loc[unit])))
        if moved > _OUTLINE_SHARE * area:
            changed.append(
                f"locked unit {unit} keeps its households but its outline changes by "
                f"{moved / 10_000:,.1f} ha ({moved / area:.0%} of its area): {_KEPT_INSIDE}"
            )
    return groups, changed


#: The end of a warning on a locked unit the atoms of this run do not reproduce exactly.
_KEPT_INSIDE = (
    "the atoms of this run differ from that plan's (other inputs, barriers, --where or --atoms), so the "
    "unit is kept as the atoms lying inside its earlier outline; check it on the map"
)
#: A locked unit whose outline changes by more than this share of its area is warned of.
_OUTLINE_SHARE = 0.01


def is_changed_lock(note: str) -> bool:
    """Whether a note of :func:`fixed_groups` says a locked unit is not reproduced exactly (a warning)."""
    return note.startswith("locked unit ") and note.endswith(_KEPT_INSIDE)


def _check_contiguous(problem: Problem, group: np.ndarray, locks: Locks) -> None:
    """Refuse locked units whose atoms do not form one connected piece, saying why that may be."""
    bad = []
    for name in sorted({g for g in group if g}):
        members = np.flatnonzero(group == name)
        if not problem.is_contiguous(members):
            bad.append(name.removeprefix(LOCK))
    if not bad:
        return
    if locks.units is not None:
        what = f"locked {'unit' if len(bad) == 1 else 'units'} {listed(bad)} of {locks.plan}"
        fix = (
            "the atoms of this run inside the earlier outline are cut apart (by the study area, --where "
            "or barriers this run has and that plan had not): plan with that plan's inputs, or leave "
            f"{'it' if len(bad) == 1 else 'them'} out of the lock file"
        )
    else:
        what = (
            "the locked atoms"
            if bad == ["all"]
            else f"locked {'unit' if len(bad) == 1 else 'units'} {listed(bad)}"
        )
        fix = (
            "list atoms that touch each other for every unit_id "
            "(without unit_id, all the atoms form one unit)"
        )
    verb = "is" if len(bad) == 1 and bad != ["all"] else "are"
    raise InputError(f"lock file {locks.source}: {what} {verb} not contiguous; {fix}")


def _peopled_piece(problem: Problem, members: IntArray) -> IntArray | None:
    """A community's atoms as one unit can take them: all, or its one piece with households.

    Pieces without households (a strip cut off by a river, a park across a road the graph
    does not join) are left to whichever unit reaches them; a community whose households
    live in separate pieces cannot be kept as one unit (None).
    """
    if problem.is_contiguous(members):
        return members
    keep = np.zeros(problem.n, dtype=bool)
    keep[members] = True
    peopled = [c for c in problem.components(keep) if problem.households[c].sum() > 0]
    return peopled[0] if len(peopled) == 1 else None


def _soft_groups(
    atoms: gpd.GeoDataFrame,
    problem: Problem,
    scenario: Scenario,
    group: np.ndarray,
    pos: dict[Hashable, int],
    notes: list[str],
) -> dict[str, int]:
    """Lock in-band and seal oversized communities (not touched by a hard lock)."""
    table = classify_communities(atoms, scenario.band if scenario.band.unit == "residents" else problem.band)
    ids = atoms["community_id"].fillna("").astype(str)
    soft: dict[str, int] = {}
    locked: list[str] = []
    apart: list[str] = []
    kept = sealed = 0
    for comm, cls in zip(table["community_id"], table["class"], strict=True):
        if cls in ("undersized", "no households"):
            continue
        members = np.array(sorted(pos[a] for a in ids.index[ids == comm] if a in pos), dtype=np.int64)
        load = int(problem.households[members].sum())
        if not len(members) or (cls == "oversized" and not len(problem.band.unit_counts(load))):
            continue
        if np.any(group[members] != ""):
            locked.append(comm)
            continue
        piece = _peopled_piece(problem, members)
        if piece is None:
            apart.append(comm)
            continue
        members = piece
        name = f"{_SOFT}{comm}" if cls == "in band" else f"{SEAL}{comm}"
        group[members] = name
        soft[name] = load
        kept += cls == "in band"
        sealed += cls == "oversized"
    counts = table["class"].value_counts()
    empty = int(counts.get("no households", 0))
    notes.append(
        f"existing communities: {int(counts.get('oversized', 0))} oversized, "
        f"{int(counts.get('undersized', 0))} undersized, {int(counts.get('in band', 0))} in band"
        + (f" ({empty} more without households)" if empty else "")
        + f"; {kept} to keep as they are, {sealed} to split within their own boundary"
    )
    names = _community_names(atoms, problem)
    if locked:
        taken = listed([names.get(c, c) for c in locked])
        notes.append(f"communities not kept whole (a lock takes part of them): {taken}")
    if apart:
        notes.append(
            f"communities not kept whole (their atoms form separate pieces, which one unit cannot "
            f"join): {listed([names.get(c, c) for c in apart])}"
        )
    return soft


def _community_names(atoms: gpd.GeoDataFrame, problem: Problem) -> dict[str, str]:
    """Community id -> the name the notes give it (from :attr:`Problem.places`; empty without)."""
    places = problem.places
    if places is None or places.kind != "community" or "community_id" not in atoms.columns:
        return {}
    ids = atoms["community_id"].fillna("").astype(str)
    return {c: places.names[a] for a, c in ids.items() if c and places.names.get(a)}


def _region_of(group: np.ndarray) -> np.ndarray:
    """Region per atom: ``""`` free, a seal name, or ``None`` for locked atoms."""
    region = group.copy()
    locked = np.array([bool(g) and not str(g).startswith(SEAL) for g in group], dtype=bool)
    region[locked] = None
    return region


def _components(problem: Problem, region: np.ndarray) -> list[tuple[str, IntArray]]:
    """Connected pieces of each region (edges between regions cut), by first atom."""
    open_ = np.array([r is not None for r in region], dtype=bool)
    g = nx.Graph()
    g.add_nodes_from(np.flatnonzero(open_).tolist())
    e = problem.edges
    m = open_[e[:, 0]] & open_[e[:, 1]]
    same = np.array([region[a] == region[b] for a, b in e[m].tolist()], dtype=bool)
    g.add_edges_from(e[m][same].tolist() if len(same) else [])
    comps = [np.array(sorted(c), dtype=np.int64) for c in nx.connected_components(g)]
    comps.sort(key=lambda c: int(c[0]))
    return [(str(region[c[0]]), c) for c in comps]


def _neighbour_groups(problem: Problem, group: np.ndarray, comp: IntArray) -> dict[str, float]:
    """Shared boundary length between a free component and each adjacent group."""
    inside = np.zeros(problem.n, dtype=bool)
    inside[comp] = True
    e = problem.edges
    out: dict[str, float] = {}
    for (a, b), length in zip(e.tolist(), problem.edge_length.tolist(), strict=True):
        if inside[a] and group[b]:
            out[group[b]] = out.get(group[b], 0.0) + length
        elif inside[b] and group[a]:
            out[group[a]] = out.get(group[a], 0.0) + length
    return out


def _settle(
    problem: Problem,
    group: np.ndarray,
    soft: dict[str, int],
    notes: list[str],
    names: dict[str, str] | None = None,
) -> None:
    """Release soft groups around infeasible free areas; give empty free areas to a group."""
    if not (group != "").any():
        return
    band = problem.band
    released: list[str] = []
    for _ in range(problem.n + 1):
        changed = False
        for name, comp in _components(problem, _region_of(group)):
            if name:
                continue
            total = int(problem.households[comp].sum())
            near = _neighbour_groups(problem, group, comp)
            if total == 0:
                if near:
                    group[comp] = min(near, key=lambda g: (-near[g], g))
                    changed = True
                continue
            if len(band.unit_counts(total)) > 0:
                continue
            options = [g for g in near if g in soft]
            if not options:
                continue
            # an oversized community, split anyway, gives households before an in-band one
            # that would otherwise be kept as it is; then the smallest
            pick = min(options, key=lambda g: (g.startswith(_SOFT), soft[g], g))
            group[group == pick] = ""
            del soft[pick]
            comm = pick.removeprefix(_SOFT).removeprefix(SEAL)
            released.append((names or {}).get(comm, comm))
            changed = True
            break
        if not changed:
            break
    stuck = [
        _piece(problem, comp)
        for name, comp in _components(problem, _region_of(group))
        if not name
        and problem.households[comp].sum()
        and not len(band.unit_counts(int(problem.households[comp].sum())))
    ]
    if released:
        still = sum(name.startswith(_SOFT) for name in soft)
        notes.append(
            "communities free to change so that a neighbouring area that cannot form units of "
            f"{band.lo:,}-{band.hi:,} on its own (an undersized community, or an oversized one in a gap "
            f"of the band) can join them (the plan decides whether it does): {listed(released)}; "
            f"{still} in-band "
            + ("community is still kept as it is" if still == 1 else "communities are still kept as they are")
        )
    if stuck:
        notes.append(
            "areas left free (between kept communities, locked units or barriers) cannot form units of "
            f"{band.lo:,}-{band.hi:,} {band.counts}: "
            + (listed(stuck) if problem.places is None else "; ".join(stuck))
            + "; they are flagged"
        )


def _piece(problem: Problem, comp: IntArray) -> str:
    """A free area in notes: where its households live (atom ids as a detail), else its atoms."""
    if problem.places is None:
        return f"{len(comp)} atoms holding {int(problem.households[comp].sum()):,} {problem.band.counts}"
    where = describe(problem.places, problem.nodes, problem.households, comp, counts=problem.band.counts)
    return f"{where} ({atom_ids(problem.nodes, comp)})"


# ---------------------------------------------------------------------------- solving


def sized_problem(problem: Problem, atoms: pd.DataFrame, scenario: Scenario | None) -> Problem:
    """The problem sized by residents when the scenario's band is in residents.

    The optimiser then counts residents (each atom's residents rounded to a
    whole number) against the band in residents, and weighs compactness by
    residents; edges, distances and communities are unchanged.

    Parameters
    ----------
    problem : Problem
        The instance in households.
    atoms : pandas.DataFrame
        Atoms (index = the problem's nodes) with ``residents``.
    scenario : Scenario or None
        The scenario.

    Returns
    -------
    Problem
        ``problem`` itself unless the band is in residents and the atoms have
        residents.

    """
    if scenario is None or scenario.band.unit != "residents" or "residents" not in atoms:
        return problem
    residents = pd.to_numeric(atoms["residents"], errors="coerce").reindex(list(problem.nodes))
    sizes = np.round(residents.fillna(0.0).clip(lower=0.0).to_numpy(dtype=float)).astype(np.int64)
    b = scenario.band
    sized = Problem.from_arrays(
        sizes, problem.xy, problem.edges, nodes=problem.nodes, edge_major=problem.edge_major,
        edge_length=problem.edge_length, community=problem.community, area=problem.area,
        band=Band(b.lo, b.hi, b.target, "residents"), weights=problem.weights, places=problem.places,
    )  # fmt: skip
    return dataclasses.replace(sized, _cache={"dist": problem.distance})


def subproblem(problem: Problem, keep: IntArray, region: np.ndarray | None = None) -> Problem:
    """The problem restricted to the atoms at positions ``keep``.

    Distances (through the whole map) and compactness weights are those of the
    full problem, so a unit costs the same in both.

    Parameters
    ----------
    problem : Problem
        The full instance.
    keep : array of int
        Sorted positions to keep.
    region : array, optional
        Region label per atom of ``problem``; edges between atoms of
        different regions are dropped, so no unit spans two regions.

    Returns
    -------
    Problem

    """
    keep = np.asarray(keep, dtype=np.int64)
    index = np.full(problem.n, -1, dtype=np.int64)
    index[keep] = np.arange(len(keep))
    e = problem.edges
    m = (index[e[:, 0]] >= 0) & (index[e[:, 1]] >= 0)
    if region is not None:
        m &= np.array([region[a] == region[b] for a, b in e.tolist()], dtype=bool)
    sub = Problem.from_arrays(
        problem.households[keep],
        problem.xy[keep],
        index[e[m]].reshape(-1, 2),
        nodes=[problem.nodes[i] for i in keep.tolist()],
        edge_major=problem.edge_major[m],
        edge_length=problem.edge_length[m],
        community=None if problem.community is None else problem.community[keep],
        area=problem.area[keep],
        band=problem.band,
        weights=problem.weights,
        places=problem.places,
    )
    # Seed the caches so that costs match the full problem (see Problem.distance/weight).
    cache = {"dist": problem.distance[np.ix_(keep, keep)], "weight": problem.weight[keep].copy()}
    return dataclasses.replace(sub, _cache=cache)


def _status(load: int, size: int, problem: Problem) -> str:
    band = problem.band
    if size == 1 and load > band.hi:
        return "oversize atom"
    if load < band.lo:
        return "below band"
    if load > band.hi:
        return "above band"
    return "ok"


def _free_units(sub: Problem, units: int | None, locked: int) -> int | None:
    """Units left to plan on the free atoms ``sub`` when ``locked`` units are locked."""
    if units is None:
        return None
    admissible = unit_count_range(sub)
    if units - locked not in admissible:
        band = sub.band
        if len(admissible) == 0:
            why = (
                f"the atoms left free hold {int(sub.households.sum()):,} {band.counts} in parts that no "
                f"whole number of units of {band.lo:,}-{band.hi:,} holds"
            )
            fix = "leave the number of units to the search"
        else:
            why = (
                f"{counted(locked)} {'is' if locked == 1 else 'are'} locked, and the atoms left free form "
                f"{admissible.start}..{admissible.stop - 1} units of {band.lo:,}-{band.hi:,} {band.counts}"
            )
            fix = choose_units(admissible.start + locked, admissible.stop - 1 + locked)
        raise InputError(f"{counted(units)} cannot be planned: {why}; {fix}")
    return units - locked


def solve_locked(
    problem: Problem,
    fixed: pd.Series,
    *,
    solver: str = "highs",
    time_limit: float = 60.0,
    seed: int = 0,
    method: str = "auto",
    target_gap: float = 0.005,
    atoms: pd.DataFrame | None = None,
    scenario: Scenario | None = None,
    budget: str = "time",
    units: int | None = None,
) -> Solution:
    """Solve a problem in which some atoms are locked into given units.

    Parameters
    ----------
    problem : Problem
        The full instance.
    fixed : pandas.Series
        Lock group (or seal) per atom (from :func:`fixed_groups`); empty =
        plain :func:`~redistrict.solve.solve`. Sealed atoms are planned, but
        no unit crosses the boundary of a seal.
    solver, time_limit, seed, method, target_gap, budget
        As for :func:`redistrict.solve.solve`.
    atoms : pandas.DataFrame, optional
        Atoms with ``residents``, for a scenario with a band in residents.
    scenario : Scenario, optional
        With a band in residents, units are sized by residents (see
        :func:`sized_problem`).
    units : int, optional
        Number of units of the whole plan, locked units included (default: the
        search chooses).

    Returns
    -------
    Solution
        The whole plan, locked groups included. A unit locked by its id (a
        lock file's ``unit_id``, or a unit of an earlier plan) keeps that id;
        the other units are numbered by first atom with the ids left free.
        ``components`` gains one ``locked`` row per group. With a
        band in residents, flags and objective count residents.

    Raises
    ------
    InputError
        When ``units`` is given but no plan that keeps the locks can have that
        many units, every unit in the band (the message gives the numbers that
        can; see :func:`redistrict.solve.unit_count_range`).

    """
    kwargs: dict[str, Any] = {
        "solver": solver, "time_limit": time_limit, "seed": seed, "method": method,
        "target_gap": target_gap, "budget": budget,
    }  # fmt: skip
    if atoms is not None:
        problem = sized_problem(problem, atoms, scenario)
    if fixed is None or not len(fixed):
        return solve(problem, units=units, **kwargs)
    pos: dict[Hashable, int] = {v: i for i, v in enumerate(problem.nodes)}
    group = np.full(problem.n, "", dtype=object)
    for atom, name in fixed.items():
        if atom in pos:
            group[pos[atom]] = str(name)
    region = _region_of(group)
    free = np.flatnonzero(np.array([r is not None for r in region], dtype=bool))
    names = sorted({str(g) for g, r in zip(group, region, strict=True) if r is None})
    raw = np.full(problem.n, -1, dtype=np.int64)
    flags: dict[int, str] = {}
    for k, name in enumerate(names):
        raw[group == name] = k
    offset = len(names)
    sub_sol: Solution | None = None
    sub: Problem | None = None
    if len(free):
        sub = subproblem(problem, free, region)
        sub_sol = solve(sub, units=_free_units(sub, units, len(names)), **kwargs)
        sub_lab = sub_sol.labels.to_numpy(dtype="float64", na_value=np.nan)
        ok = ~np.isnan(sub_lab)
        raw[free[ok]] = sub_lab[ok].astype(np.int64) - 1 + offset
        for unit, flag in zip(
            sub_sol.unit_flags.index.astype(int), sub_sol.unit_flags.astype(str), strict=True
        ):
            flags[int(unit) - 1 + offset] = flag
    elif units is not None and units != len(names):
        raise InputError(
            f"{counted(units)} cannot be planned: every atom is locked, into {counted(len(names))}; ask for "
            f"{counted(len(names))} or leave the number of units to the search"
        )
    # Locked units keep their ids; the others are numbered by first atom (as solve does).
    seen = _unit_ids(raw, _kept_ids(names))
    final = np.array([seen.get(u, -1) for u in raw.tolist()], dtype=np.int64)
    unit_flags: dict[int, str] = {}
    locked_notes: list[str] = []
    locked_cost = 0.0
    rows: list[dict[str, object]] = []
    for old, new in seen.items():
        members = np.flatnonzero(final == new)
        if old < offset:
            load = int(problem.households[members].sum())
            unit_flags[new + 1] = _status(load, len(members), problem)
            if unit_flags[new + 1] != "ok":
                band = problem.band
                named = "" if names[old] == f"{LOCK}{new + 1}" else f" ({names[old]})"
                locked_notes.append(
                    f"locked unit {new + 1}{named} holds {load:,} {band.counts}, "
                    f"{unit_flags[new + 1]} ({band.lo:,}-{band.hi:,}): it is kept as locked; remove it "
                    "from the lock file to let it be re-planned (status and gap describe the best "
                    "plan that keeps the locks)"
                )
            cost = problem.unit_cost(members)[0]
            locked_cost += cost
            scaled = cost / problem.scale
            rows.append({
                "atoms": len(members), "households": load, "units": 1, "method": "locked",
                "status": "locked", "objective": scaled, "bound": scaled, "reason": names[old],
            })  # fmt: skip
        else:
            unit_flags[new + 1] = flags.get(old, "ok")
    objective = problem.plan_cost(final) / problem.scale
    labels = pd.Series(final, index=pd.Index(problem.nodes, name="atom_id"), name="unit_id")
    labels = labels.where(labels >= 0).astype("Int64") + 1
    flag_series = pd.Series(unit_flags, name="status", dtype=object).sort_index()
    flag_series.index.name = "unit_id"
    comps = pd.DataFrame(rows)
    if sub_sol is not None and sub is not None:
        start = len(sub_sol.components)
        comps.insert(0, "component", range(start, start + len(comps)))
        # The free part's rows are on its own scale: put them on the whole problem's, so
        # that the components' objectives add up to the plan's.
        part_rows = sub_sol.components.copy()
        for col in ("objective", "bound"):
            if col in part_rows.columns:
                part_rows[col] = part_rows[col].astype(float) * (sub.scale / problem.scale)
        comps = pd.concat([part_rows, comps], ignore_index=True)
        bound = None
        if sub_sol.bound is not None:
            bound = (sub_sol.bound * sub.scale + locked_cost) / problem.scale
        gap = None if bound is None else relative_gap(objective, bound)
        history = [(t, (o * sub.scale + locked_cost) / problem.scale) for t, o in sub_sol.history]
        return dataclasses.replace(
            sub_sol, labels=labels, objective=objective, bound=bound, gap=gap,
            unit_flags=flag_series, components=comps, history=history,
            notes=[*sub_sol.notes, *locked_notes],
        )  # fmt: skip
    comps.insert(0, "component", range(len(comps)))
    return Solution(
        labels=labels, status="optimal", objective=objective, bound=objective, gap=0.0,
        seconds=0.0, seconds_first=0.0, solver=solver, method="locked", unit_flags=flag_series,
        components=comps, notes=["every atom is locked: nothing was optimised", *locked_notes],
        history=[(0.0, objective)],
    )  # fmt: skip


def _kept_ids(names: list[str]) -> dict[int, int]:
    """Zero-based unit id each locked group keeps: the id it had in the lock file or earlier plan."""
    kept: dict[int, int] = {}
    for k, name in enumerate(names):
        rest = name.removeprefix(LOCK)
        if name.startswith(LOCK) and rest.isdigit() and int(rest) >= 1:
            kept[k] = int(rest) - 1
    return kept


def _unit_ids(raw: IntArray, kept: dict[int, int]) -> dict[int, int]:
    """Zero-based final id of every raw unit of ``raw`` (one per atom, -1 for none).

    Units in ``kept`` keep their id; the others are numbered by their first atom,
    with the ids the kept units leave free.
    """
    taken = set(kept.values())
    ids: dict[int, int] = {}
    free = 0
    for u in raw.tolist():
        if u < 0 or u in ids:
            continue
        if u in kept:
            ids[u] = kept[u]
            continue
        while free in taken:
            free += 1
        ids[u] = free
        taken.add(free)
    return ids
