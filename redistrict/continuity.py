"""What each new unit inherits from the existing communities, and whom it serves.

Definitions used throughout (and in the map, CSV and comparison):

* **classification** of an existing community: ``oversized``, ``undersized`` or
  ``in band`` by the households (or residents, for a band in residents) of the
  atoms assigned to it inside the study area;
* **sources** of a unit: the existing communities its households come from, as
  ``"八字门社区 2,310; 北港社区 120"`` (largest first);
* **main community** of a unit: the community contributing most households
  (ties: smallest community id);
* **office's community**: the community an office belongs to, named by the
  offices' community column (``--office-community``; an office rented across
  the street stands in a neighbour's polygon) or, where that is not given or
  empty, the community whose atom the office lies in;
* **committee kept** (columns ``office``, ``committee``): with an offices
  layer, a unit keeps an existing office lying in it and continues the
  committee of the office's community (an office lying in a unit that holds
  none of its community's households serves, for this rule, the unit holding
  most of them: rented across the street, or left beyond a new boundary; as
  a free building it stays where it stands); without one, each existing
  committee continues in a unit holding some of its households. Both follow
  one rule. The candidate (unit, community) pairs (with offices: one per office
  lying in a unit) are taken largest first, by the households of the community
  in the unit (ties: smallest community id, then smallest unit id, then
  largest office floor area, unknown areas last, then smallest office id), and
  a pair is kept when its unit keeps nothing yet and its committee continues in
  no other unit. So a unit holding several offices
  keeps the one of the community serving most of its households, its main
  community's unless that committee continues in a unit holding more of its
  households; an office of a community with no households in the unit comes
  after every office whose community has some, and an office outside every
  community comes last (it is kept as a building, continuing no committee).
  Each unit keeps at most one office and one committee, each office lies in
  one unit and each committee continues in at most one unit, so of several
  units with the same main community at most one keeps its committee (the one
  holding most of its households and, with offices, one of its offices).
  A unit that keeps no office after this, but holds an office no other unit
  keeps, houses its new committee there (the largest such office): the building
  exists, so no new office and service centre is costed for it.
  Offices kept by no unit are listed in the run notes as free for other uses;
* **households moved**: households of a unit that change committee, counted
  against the committee the unit keeps: the households not from that
  committee's community. For a unit with a new committee (or one keeping an
  office outside every community) they are counted against its main
  community, so splitting an oversized community moves nobody (every part has
  it as main community) while merging an undersized community into a
  neighbour moves all of its households. A unit with ``八字门 2,210; 南津港
  319`` that keeps 南津港's office and committee moves 2,210 households, not
  319;
* **new committee**: a unit that keeps no existing office (committee);
* **service radius** of a unit: the radius of the smallest circle holding
  every place where its households live (the centre of each of its
  population blocks, of a block's part inside the unit when a road cuts it,
  or without the blocks of each of its atoms holding households): a service
  centre at the circle's centre reaches them all within that distance, and
  none reaches them all within less.

This module classifies the communities (:func:`classify_communities`,
:func:`community_report`), gives each unit its sources and households moved
(:func:`unit_sources`) and service radius (:func:`service_radius`), and adds
all of these to a units table (:func:`annotate_units`). Which office and
committee each unit keeps (:func:`committees`, :func:`office_atoms`,
:func:`office_communities`, :func:`lost_offices`) and :func:`community_labels`
live in :mod:`redistrict._offices` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Hashable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from redistrict._atoms_attach import MINOR_SHARE
from redistrict._offices import (
    committees,
    community_labels,
    lost_offices,
    office_atoms,
    office_communities,
    unit_community_pairs,
)
from redistrict._words import counted, listed
from redistrict.costs import CostParams, unit_costs
from redistrict.load import Inputs
from redistrict.problem import Band, FloatArray, Problem
from redistrict.scenario import Scenario, ScenarioBand

__all__ = [
    "annotate_units",
    "classify_communities",
    "committees",
    "community_labels",
    "community_report",
    "lost_offices",
    "office_atoms",
    "office_communities",
    "service_radius",
    "unit_sources",
]

_NO_COMMUNITY = "(no community)"


def classify_communities(
    atoms: pd.DataFrame,
    band: Band | ScenarioBand,
    communities: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Classify the existing communities as oversized, undersized, in band or without households.

    A community without households (a campus, a park, or a neighbour whose
    polygon only touches the edge of the area planned) is ``no households``,
    not undersized: there is nothing to merge.

    Parameters
    ----------
    atoms : pandas.DataFrame
        Atoms with ``community_id``, ``households`` and (for a band in
        residents) ``residents``.
    band : Band or ScenarioBand
        The band; a :class:`~redistrict.scenario.ScenarioBand` in residents
        classifies by residents.
    communities : geopandas.GeoDataFrame, optional
        The communities layer, for names.

    Returns
    -------
    pandas.DataFrame
        One row per community id found in ``atoms`` (sorted): ``community_id``,
        ``name``, ``households``, ``residents`` (when known), ``atoms``,
        ``size`` (the measure compared with the band) and ``class``. Empty
        when the atoms carry no communities.

    """
    cols = ["community_id", "name", "households", "atoms", "size", "class"]
    if "community_id" not in atoms.columns:
        return pd.DataFrame(columns=cols)
    ids = atoms["community_id"].fillna("").astype(str)
    agg: dict[str, tuple[str, str]] = {
        "households": ("households", "sum"),
        "atoms": ("households", "size"),
    }
    has_res = "residents" in atoms.columns
    if has_res:
        agg["residents"] = ("residents", "sum")
    table = pd.DataFrame(atoms.assign(community_id=ids).groupby("community_id", sort=True).agg(**agg))  # type: ignore[call-overload]
    table = table.reset_index()
    table = table[table["community_id"] != ""].reset_index(drop=True)
    labels = community_labels(communities)
    table.insert(1, "name", table["community_id"].map(lambda c: labels.get(c, c)))
    measure = getattr(band, "unit", "households")
    if measure == "residents" and not has_res:
        measure = "households"
    table["size"] = table[measure].astype(float)
    cls = np.where(
        table["households"] == 0,
        "no households",
        np.where(
            table["size"] < band.lo,
            "undersized",
            np.where(table["size"] > band.hi, "oversized", "in band"),
        ),
    )
    table["class"] = cls
    table["households"] = table["households"].astype("int64")
    return table


def unit_sources(
    atoms: pd.DataFrame,
    communities: gpd.GeoDataFrame | None = None,
    committee: pd.Series | None = None,
) -> pd.DataFrame:
    """Source communities and households moved of each unit.

    Parameters
    ----------
    atoms : pandas.DataFrame
        Atoms with ``unit_id`` (``<NA>`` = in no unit), ``households`` and
        ``community_id``.
    communities : geopandas.GeoDataFrame, optional
        The communities layer, for names.
    committee : pandas.Series, optional
        Community id of the committee each unit keeps, indexed by ``unit_id``
        (empty, missing or absent: a new committee), i.e. the
        ``committee_id`` column of :func:`committees`. Without it every unit
        is treated as having a new committee.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unit_id`` (every unit of ``atoms``): ``sources`` (text),
        ``main_community`` (id, empty when the unit has no households) and
        ``households_moved`` (int): the households not from the community
        whose committee the unit keeps or, for a unit with a new committee,
        not from its main community (see the module docstring).

    """
    units = np.sort(atoms["unit_id"].dropna().astype("int64").unique())
    out = pd.DataFrame(
        {"sources": "", "main_community": "", "households_moved": 0},
        index=pd.Index(units, name="unit_id"),
    )
    if "community_id" not in atoms.columns or not len(units):
        return out
    labels = community_labels(communities)
    kept: dict[int, str] = {}
    if committee is not None:
        ids = committee.fillna("").astype(str)
        kept = {int(u): c for u, c in zip(ids.index.to_numpy(), ids.to_numpy(), strict=True) if c}
    pairs = unit_community_pairs(atoms)
    for unit, group in pairs.groupby("unit_id", sort=True):
        comms = group["community_id"].astype(str).tolist()
        hh = group["households"].astype("int64").tolist()
        text = "; ".join(
            f"{labels.get(c, c) if c else _NO_COMMUNITY} {h:,}" for c, h in zip(comms, hh, strict=True)
        )
        # against the kept committee's community (absent from the unit: 0 stay), else the main one
        against = kept.get(int(group["unit_id"].iloc[0]), comms[0])
        stay = sum(h for c, h in zip(comms, hh, strict=True) if c == against)
        out.loc[unit, "sources"] = text
        out.loc[unit, "main_community"] = comms[0]
        out.loc[unit, "households_moved"] = sum(hh) - stay
    out["households_moved"] = out["households_moved"].astype("int64")
    return out


def service_radius(
    problem: Problem,
    labels: pd.Series,
    atoms: gpd.GeoSeries | None = None,
    blocks: gpd.GeoDataFrame | None = None,
) -> pd.Series:
    """Service radius of each unit in metres (see the module docstring).

    Parameters
    ----------
    problem : Problem
        The instance (atom centres and households).
    labels : pandas.Series
        Unit id per atom, on the problem's node labels.
    atoms : geopandas.GeoSeries, optional
        Atom outlines on the problem's node labels, with ``blocks``: the
        radius reaches the centre of every block's part inside the unit.
    blocks : geopandas.GeoDataFrame, optional
        Population blocks with ``households`` (same CRS as ``atoms``); those
        holding none are not where anyone lives.

    Returns
    -------
    pandas.Series
        ``radius_m`` per unit id (sorted).

    Notes
    -----
    Without the blocks, atoms stand for their households at their centres: a
    large rural atom, or one unit of one atom, then has radius 0 wherever its
    villages lie.
    """
    pos: dict[Hashable, int] = {v: i for i, v in enumerate(problem.nodes)}
    lab = np.full(problem.n, -1, dtype=np.int64)
    for node, unit in labels.items():
        if node in pos and pd.notna(unit):
            lab[pos[node]] = int(unit)
    # Where households live: per atom position, the centres (x, y) of the blocks' parts in it.
    homes: list[FloatArray] = [problem.xy[[i]] for i in range(problem.n)]
    if atoms is not None and blocks is not None:
        homes = _homes(problem, atoms, blocks, homes)
    out: dict[int, float] = {}
    for u in np.unique(lab[lab >= 0]).tolist():
        members = np.flatnonzero(lab == u)
        peopled = [homes[i] for i in members.tolist() if problem.households[i] > 0]
        if not peopled:
            out[int(u)] = 0.0
            continue
        out[int(u)] = float(shapely.minimum_bounding_radius(shapely.multipoints(np.concatenate(peopled))))
    s = pd.Series(out, name="radius_m", dtype=float)
    s.index.name = "unit_id"
    return s


def _homes(
    problem: Problem, atoms: gpd.GeoSeries, blocks: gpd.GeoDataFrame, default: list[FloatArray]
) -> list[FloatArray]:
    """Per atom position, the centres of the parts of its blocks with households (else ``default``)."""
    lived = blocks[blocks["households"].to_numpy() > 0]
    block_geoms = np.asarray(lived.geometry.array, dtype=object)
    atom_geoms = np.asarray(atoms.reindex(list(problem.nodes)).array, dtype=object)
    usable = ~(shapely.is_missing(atom_geoms) | shapely.is_empty(atom_geoms))
    found = np.flatnonzero(usable)
    ai, bj = shapely.STRtree(block_geoms).query(atom_geoms[found], predicate="intersects")
    ai = found[ai]
    parts = shapely.intersection(atom_geoms[ai], block_geoms[bj])
    # Neighbouring atoms touch a block along their boundary, and digitising noise makes
    # blocks overhang the next atom by a strip: as when households are attached, a part
    # counts when it is a point, or a real share of its block or of the atom.
    point = np.isin(shapely.get_type_id(parts), (0, 4))
    area = shapely.area(parts)
    real = (area >= MINOR_SHARE * shapely.area(block_geoms[bj])) | (
        area >= MINOR_SHARE * shapely.area(atom_geoms[ai])
    )
    keep = ~shapely.is_empty(parts) & (point | ((area > 0) & real))
    xy = shapely.get_coordinates(shapely.centroid(parts[keep]))
    homes = list(default)
    atom_of = ai[keep]
    order = np.argsort(atom_of, kind="stable")
    atom_of, xy = atom_of[order], xy[order]
    cuts = np.flatnonzero(np.diff(atom_of)) + 1
    for chunk, points in zip(np.split(atom_of, cuts), np.split(xy, cuts), strict=True):
        if len(chunk):
            homes[int(chunk[0])] = points
    return homes


def annotate_units(
    units: gpd.GeoDataFrame,
    atoms: gpd.GeoDataFrame,
    problem: Problem,
    inputs: Inputs,
    *,
    scenario: Scenario | None = None,
    locked: pd.Series | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Add continuity, office, cost, service-radius and lock columns to a units table.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Output of :func:`redistrict.evaluate.unit_table`.
    atoms : geopandas.GeoDataFrame
        Atoms with ``unit_id``.
    problem : Problem
        The optimisation instance.
    inputs : Inputs
        The loaded inputs (communities and offices).
    scenario : Scenario, optional
        The scenario (cost parameters, band in residents, service radius).
    locked : pandas.Series, optional
        Lock group per locked atom id (see :mod:`redistrict.locks`).

    Returns
    -------
    units : geopandas.GeoDataFrame
        ``units`` with ``staff_needed`` and ``office_m2`` recomputed with the
        scenario's cost parameters and further columns: ``sources``,
        ``main_community``, ``households_moved`` (with communities; moved
        against the committee the unit keeps, else against its main
        community); ``office``, ``office_area_m2``, ``committee``,
        ``new_committee``, ``new_office`` (see :func:`committees`),
        ``office_shortfall_m2``, ``one_time_yuan``, ``annual_yuan``,
        ``radius_m``; ``radius_ok`` (with a service radius); ``locked`` (with
        locks). ``in_band``/``status`` follow a band in residents, and a unit
        beyond the service radius has status ``beyond service radius``.
    notes : list of str
        Remarks for the run log.

    """
    notes: list[str] = []
    params = scenario.costs if scenario is not None else CostParams()
    out = units.copy()
    ids = out["unit_id"].astype("int64")
    kept, office_notes = committees(atoms, inputs.offices, inputs.communities)
    notes += office_notes
    if inputs.offices is not None:
        notes += lost_offices(atoms, inputs.offices, kept, inputs.communities)
    if "community_id" in atoms.columns:
        src = unit_sources(atoms, inputs.communities, kept["committee_id"]).reindex(ids)
        for col in src.columns:
            out[col] = src[col].to_numpy()
    kept = kept.drop(columns="committee_id").reindex(ids)
    for col in kept.columns:
        out[col] = kept[col].to_numpy()
    out["new_committee"] = out["new_committee"].fillna(True).astype(bool)
    out["new_office"] = out["new_office"].fillna(True).astype(bool)

    costs = unit_costs(out, params)
    for col in ("staff_needed", "office_m2", "office_shortfall_m2", "one_time_yuan", "annual_yuan"):
        out[col] = costs[col].to_numpy()

    if scenario is not None and scenario.band.unit == "residents" and "residents" in out.columns:
        b = scenario.band
        res = out["residents"].astype(float)
        out["in_band"] = res.between(b.lo, b.hi)
        plain = out["status"].isin(["ok", "below band", "above band"])
        out.loc[plain & (res < b.lo), "status"] = "below band"
        out.loc[plain & (res > b.hi), "status"] = "above band"
        out.loc[plain & out["in_band"], "status"] = "ok"

    radius = service_radius(problem, atoms["unit_id"], atoms.geometry, inputs.blocks).reindex(ids)
    out["radius_m"] = radius.to_numpy()
    if scenario is not None and scenario.service_radius_m is not None:
        cap = scenario.service_radius_m
        ok = out["radius_m"].fillna(0.0) <= cap
        out["radius_ok"] = ok
        out.loc[~ok & (out["status"] == "ok"), "status"] = "beyond service radius"
        bad = out.loc[~ok, "unit_id"].astype(int).tolist()
        if bad:
            notes.append(
                f"{counted(len(bad))} {'reaches' if len(bad) == 1 else 'reach'} beyond the service "
                f"radius of {cap:,.0f} m: units "
                f"{listed(bad)}; they are flagged in the map and table"
            )
    if locked is not None and len(locked):
        locked_units = set(atoms.loc[locked.index, "unit_id"].dropna().astype(int).tolist())
        out["locked"] = ids.isin(locked_units).to_numpy()
    geometry = out.geometry.name
    cols = [c for c in out.columns if c != geometry] + [geometry]
    return gpd.GeoDataFrame(out[cols], geometry=geometry, crs=units.crs), notes


def community_report(
    atoms: pd.DataFrame,
    band: Band | ScenarioBand,
    communities: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Classification of each existing community and where its households went.

    Parameters
    ----------
    atoms : pandas.DataFrame
        Atoms with ``unit_id``, ``households`` and ``community_id``.
    band : Band or ScenarioBand
        The band (see :func:`classify_communities`).
    communities : geopandas.GeoDataFrame, optional
        The communities layer, for names.

    Returns
    -------
    pandas.DataFrame
        :func:`classify_communities` plus ``units`` (text ``"unit 3: 2,100;
        unit 5: 400"``, largest first) and ``n_units``.

    """
    table = classify_communities(atoms, band, communities)
    if table.empty:
        return table
    pairs = unit_community_pairs(atoms).sort_values(
        ["community_id", "households", "unit_id"], ascending=[True, False, True], kind="stable"
    )
    text: dict[str, str] = {}
    count: dict[str, int] = {}
    for comm, group in pairs.groupby("community_id", sort=True):
        text[str(comm)] = "; ".join(
            f"unit {int(u)}: {int(h):,}" for u, h in zip(group["unit_id"], group["households"], strict=True)
        )
        count[str(comm)] = len(group)
    # A community without households in any unit (a campus, a park) is still somewhere: its atoms' units.
    placed = atoms[atoms["unit_id"].notna() & atoms["community_id"].notna()]
    for comm, units in placed.groupby(placed["community_id"].astype(str))["unit_id"]:
        if comm not in count:
            ids = sorted({int(u) for u in units})
            text[comm] = "; ".join(f"unit {u}: 0" for u in ids)
            count[comm] = len(ids)
    table["n_units"] = table["community_id"].map(count).fillna(0).astype("int64")
    table["units"] = table["community_id"].map(text).fillna("")
    return table
