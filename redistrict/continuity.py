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
* **service radius** of a unit: the largest straight-line distance from the
  centre of one of its atoms to the centre of its centre atom (the atom that
  minimises the objective's distance term).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from redistrict._words import counted
from redistrict.costs import CostParams, unit_costs
from redistrict.load import Inputs
from redistrict.problem import Band, Problem
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

log = logging.getLogger(__name__)

_NO_COMMUNITY = "(no community)"
_PAIR_COLUMNS = ["unit_id", "community_id", "households"]
_MAX_LISTED = 10


class _Kept(NamedTuple):
    """What a unit keeps: an office (``""`` if none), its area and a committee."""

    office: str
    area: float
    community: str  # community id of the committee continued, "" if none
    reused: bool = False  # a free office housing the unit's new committee
    origin: str = ""  # community id of the office's community, "" if none


def community_labels(communities: gpd.GeoDataFrame | None) -> dict[str, str]:
    """Display label (name, else id) of each community id.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame or None
        Existing communities with ``community_id`` and optional ``name``.

    Returns
    -------
    dict of str to str
        Community id -> its name, or its id where it has no name; empty
        without communities.
    """
    if communities is None or "community_id" not in communities.columns:
        return {}
    ids = communities["community_id"].astype(str)
    if "name" in communities.columns:
        names = communities["name"].fillna("").astype(str).str.strip()
        return {i: (n or i) for i, n in zip(ids, names, strict=True)}
    return {i: i for i in ids}


def _pairs(atoms: pd.DataFrame) -> pd.DataFrame:
    """Households per (unit, community), largest first within each unit."""
    df = pd.DataFrame(
        {
            "unit_id": atoms["unit_id"],
            "community_id": atoms["community_id"].fillna("").astype(str),
            "households": atoms["households"].astype("int64"),
        }
    )
    df = df[df["unit_id"].notna()].astype({"unit_id": "int64"})
    pairs = df.groupby(["unit_id", "community_id"], sort=True)["households"].sum().reset_index()
    pairs = pairs[pairs["households"] > 0]
    return pairs.sort_values(
        ["unit_id", "households", "community_id"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)


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
    pairs = _pairs(atoms)
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


def office_atoms(atoms: gpd.GeoDataFrame, offices: gpd.GeoDataFrame) -> pd.Series:
    """The atom each office lies in.

    An office on the boundary of several atoms goes to the smallest atom id;
    one outside every atom goes to the nearest atom.

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms (index = atom ids).
    offices : geopandas.GeoDataFrame
        Offices with ``office_id``, same CRS.

    Returns
    -------
    pandas.Series
        Atom id per ``office_id`` (index), sorted by office id.

    """
    geoms = np.asarray(atoms.geometry.array, dtype=object)
    points = np.asarray(offices.to_crs(atoms.crs).geometry.array, dtype=object)
    points = shapely.point_on_surface(points)
    tree = shapely.STRtree(geoms)
    oi, ai = tree.query(points, predicate="intersects")
    found = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((ai, oi))
    for o, a in zip(oi[order].tolist(), ai[order].tolist(), strict=True):
        if found[o] < 0:
            found[o] = a
    loose = np.flatnonzero(found < 0)
    if len(loose):
        li, la = tree.query_nearest(points[loose], all_matches=True)
        for o, a in sorted(zip(loose[li].tolist(), la.tolist(), strict=True)):
            if found[o] < 0:
                found[o] = a
    ids = offices["office_id"].astype(str).to_numpy()
    out = pd.Series(atoms.index.to_numpy()[found], index=pd.Index(ids, name="office_id"), name="atom_id")
    return out.sort_index(kind="stable")


def office_communities(
    atoms: gpd.GeoDataFrame, offices: gpd.GeoDataFrame, where: pd.Series | None = None
) -> pd.Series:
    """The community each office belongs to (see *office's community* in the module docstring).

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms (index = atom ids), optional ``community_id``.
    offices : geopandas.GeoDataFrame
        Offices with ``office_id`` and, when the offices layer names them
        (``--office-community``), ``community_id``.
    where : pandas.Series, optional
        Atom id per office id, from :func:`office_atoms` (computed when not
        given; needs geometries).

    Returns
    -------
    pandas.Series
        Community id per ``office_id`` (index, sorted), ``""`` for an office
        in no community.

    """
    if where is None:
        where = office_atoms(atoms, offices)
    if "community_id" in atoms.columns:
        by_atom = dict(zip(atoms.index, atoms["community_id"].fillna("").astype(str), strict=True))
        comm = pd.Series([by_atom[a] for a in where.to_numpy()], index=where.index, dtype=object)
    else:
        comm = pd.Series("", index=where.index, dtype=object)
    if "community_id" in offices.columns:
        named = offices["community_id"].map(_cell_text)
        named.index = pd.Index(offices["office_id"].astype(str).to_numpy(), name="office_id")
        named = named[named != ""]
        comm.loc[named.index.intersection(comm.index)] = named
    comm.name = "community_id"
    return comm.sort_index(kind="stable")


def _cell_text(value: object) -> str:
    """A cell as stripped text, ``""`` when missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def committees(
    atoms: gpd.GeoDataFrame,
    offices: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """The office (or existing committee) each unit keeps.

    See *committee kept* in the module docstring: candidate (unit, community)
    pairs are kept largest first, one office and committee per unit and one
    unit per committee.

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms with ``unit_id`` and ``households``, optional ``community_id``.
    offices : geopandas.GeoDataFrame, optional
        Existing offices: ``office_id``, optional ``area_m2`` and
        ``community_id``, point geometry. An office belongs to the community
        its ``community_id`` names, else to that of the atom it lies in (see
        :func:`office_communities`).
    communities : geopandas.GeoDataFrame, optional
        The communities layer, for names.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by ``unit_id``: ``office`` (office id kept, empty if none),
        ``office_area_m2`` (its floor area, NaN when unknown or none),
        ``committee`` (name, else id, of the existing community whose
        committee the unit continues, empty if none), ``committee_id`` (its
        community id, empty if none; pass it to :func:`unit_sources`) and
        ``office_community`` (name, else id, of the community a reused free
        office belongs to, empty otherwise), ``new_committee`` (bool: the unit
        continues no existing committee) and
        ``new_office`` (bool: the unit needs a new office and service centre:
        it keeps no office, or without an offices layer no committee; a unit
        whose new committee moves into a free existing office needs none).
    notes : list of str
        Offices kept by no unit (their unit keeps another office, or their
        committee continues in another unit), or, without offices, committees
        that continue in no unit.

    """
    units = np.sort(atoms["unit_id"].dropna().astype("int64").unique())
    notes: list[str] = []
    has_comm = "community_id" in atoms.columns
    labels = community_labels(communities)
    pairs = _pairs(atoms) if has_comm else pd.DataFrame(columns=_PAIR_COLUMNS)
    kept: dict[int, _Kept] = {}
    if offices is not None and len(offices):
        kept, released = _kept_offices(atoms, offices, pairs, labels)
        if released:
            notes.append(
                f"{counted(len(released), 'existing office')} {'is' if len(released) == 1 else 'are'} "
                "kept by no unit and free for other uses: "
                f"{'; '.join(released[:_MAX_LISTED])}"
            )
    elif has_comm and len(pairs):
        kept, gone = _continued_committees(pairs, labels)
        if gone:
            notes.append(
                f"{counted(len(gone), 'existing committee')} "
                f"{'continues' if len(gone) == 1 else 'continue'} in no unit (their households join "
                f"other units' committees): {', '.join(gone[:_MAX_LISTED])}"
            )
    rows = [kept.get(int(u), _Kept("", math.nan, "")) for u in units]
    return pd.DataFrame(
        {
            "office": [r.office for r in rows],
            "office_area_m2": np.array([r.area for r in rows], dtype=float),
            "committee": [labels.get(r.community, r.community) for r in rows],
            "committee_id": [r.community for r in rows],
            "office_community": [labels.get(r.origin, r.origin) for r in rows],
            "new_committee": np.array([int(u) not in kept or kept[int(u)].reused for u in units], dtype=bool),
            "new_office": np.array([int(u) not in kept for u in units], dtype=bool),
        },
        index=pd.Index(units, name="unit_id"),
    ), notes


def _kept_offices(
    atoms: gpd.GeoDataFrame,
    offices: gpd.GeoDataFrame,
    pairs: pd.DataFrame,
    labels: dict[str, str],
) -> tuple[dict[int, _Kept], list[str]]:
    """Office kept per unit, and the offices released (see :func:`committees`).

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms with ``unit_id``, optional ``community_id``.
    offices : geopandas.GeoDataFrame
        Offices with ``office_id``, optional ``area_m2`` and ``community_id``.
    pairs : pandas.DataFrame
        Households per (unit, community), from :func:`_pairs`.
    labels : dict of str to str
        Display label per community id.

    Returns
    -------
    kept : dict of int to _Kept
        What each unit keeping an office keeps.
    released : list of str
        One line per office kept by no unit, by unit then office id.

    """
    share = {(int(u), str(c)): int(h) for u, c, h in pairs.itertuples(index=False)}
    where = office_atoms(atoms, offices)
    unit_of = atoms["unit_id"]
    comm_of = office_communities(atoms, offices, where).to_dict()
    area: dict[str, float] = {}
    if "area_m2" in offices.columns:
        values = pd.to_numeric(offices["area_m2"], errors="coerce").astype(float)
        area = dict(zip(offices["office_id"].astype(str), values.tolist(), strict=True))
    # The unit holding most of each community's households (ties: the lower unit id).
    main_unit: dict[str, int] = {}
    for (u, c), h in sorted(share.items()):
        if h > 0 and (c not in main_unit or h > share[(main_unit[c], c)]):
            main_unit[c] = u
    candidates: list[tuple[int, str, int, bool, float, str, int]] = []
    origin: dict[str, str] = {}
    for office, atom in where.items():
        unit = unit_of.loc[atom]
        if pd.isna(unit):
            continue
        comm = str(comm_of[office])
        origin[str(office)] = comm
        home = serving = int(unit)
        if comm and share.get((home, comm), 0) == 0 and comm in main_unit:
            # It stands in a unit holding none of its community's households (rented across the
            # street, or left beyond a new boundary): it serves the unit holding most of them.
            serving = main_unit[comm]
        # an office outside every community ranks after every community's office
        households = share.get((serving, comm), 0) if comm else -1
        # of a community's offices in one unit the largest is kept (unknown areas last)
        # of a community's offices for one unit, those standing in it come first
        candidates.append(
            (-households, comm, serving, home != serving, -_area_rank(area, str(office)), str(office), home)
        )
    candidates.sort()
    kept: dict[int, _Kept] = {}
    holder: dict[str, int] = {}  # community id -> unit continuing its committee
    released: list[tuple[int, str, str]] = []  # by the unit the office stands in
    for _neg, comm, unit, _away, _floor, office, home in candidates:
        if unit in kept:
            why = (
                f"{office} (in unit {home}, which keeps {kept[unit].office})"
                if unit == home
                else f"{office} (in unit {home}; unit {unit}, home of {labels.get(comm, comm)}, keeps "
                f"{kept[unit].office})"
            )
            released.append((home, office, why))
        elif comm and comm in holder:
            why = f"{office} (in unit {home}; {labels.get(comm, comm)} continues in unit {holder[comm]})"
            released.append((home, office, why))
        else:
            kept[unit] = _Kept(office, area.get(office, math.nan), comm)
            if comm:
                holder[comm] = unit
    # A unit left without an office houses its new committee in a released office inside
    # it (the largest): the building exists, so no new office and service centre is costed.
    still: list[tuple[int, str, str]] = []
    for unit, office, why in sorted(released, key=lambda r: (r[0], -_area_rank(area, r[1]), r[1])):
        if unit in kept:
            still.append((unit, office, why))
        else:
            kept[unit] = _Kept(office, area.get(office, math.nan), "", reused=True, origin=origin[office])
    return kept, [why for _u, _o, why in sorted(still)]


def lost_offices(
    atoms: gpd.GeoDataFrame,
    offices: gpd.GeoDataFrame,
    table: pd.DataFrame,
    communities: gpd.GeoDataFrame | None = None,
) -> list[str]:
    """Say which communities' committees no unit continues although their offices lie in units.

    A community has lost its offices when it has households in the plan and
    offices (see *office's community*) lying in units, but no unit continues
    its committee. By the rule of :func:`committees` each such office lies in
    a unit continuing another community's committee, taken before it (see
    *committee kept* in the module docstring). The search does not weigh
    offices, so this says what the plan did, not that no plan could do better.

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms with ``unit_id``, ``households`` and ``community_id``.
    offices : geopandas.GeoDataFrame
        Offices with ``office_id`` (optional ``community_id``).
    table : pandas.DataFrame
        :func:`committees` of the same plan (with ``committee_id``).
    communities : geopandas.GeoDataFrame, optional
        The communities layer, for names.

    Returns
    -------
    list of str
        One note, or none when every such community's committee continues.

    """
    if "community_id" not in atoms.columns or not len(offices):
        return []
    labels = community_labels(communities)
    pairs = _pairs(atoms)
    present = set(pairs["community_id"].astype(str)) - {""}
    continued = set(table["committee_id"].astype(str)) - {""}
    where = office_atoms(atoms, offices)
    comm = office_communities(atoms, offices, where).to_dict()
    lost: dict[str, list[str]] = {}
    for office, atom in where.items():
        unit, community = atoms.loc[atom, "unit_id"], str(comm[office])
        if pd.isna(unit) or community not in present or community in continued:
            continue
        other = str(table.loc[int(unit), "committee_id"])
        what = f"which continues {labels.get(other, other)}'s committee" if other else "with a new committee"
        lost.setdefault(community, []).append(f"office {office} in unit {int(unit)}, {what}")
    if not lost:
        return []
    listed = [f"{labels.get(c, c)} ({'; '.join(lost[c])})" for c in sorted(lost)]
    one = len(lost) == 1
    return [
        ("1 community keeps" if one else f"{len(lost)} communities keep")
        + f" none of {'its' if one else 'their'} offices, so "
        + ("its committee continues" if one else "their committees continue")
        + f" in no unit: {', '.join(listed[:_MAX_LISTED])}"
        + (f" and {len(listed) - _MAX_LISTED} more" if len(listed) > _MAX_LISTED else "")
    ]


def _area_rank(area: dict[str, float], office: str) -> float:
    """Floor area of ``office`` for ordering (unknown areas last)."""
    value = area.get(office, math.nan)
    return value if value == value else -math.inf


def _continued_committees(pairs: pd.DataFrame, labels: dict[str, str]) -> tuple[dict[int, _Kept], list[str]]:
    """Without offices: each committee continues where most of its households go.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Households per (unit, community), from :func:`_pairs`.
    labels : dict of str to str
        Display label per community id.

    Returns
    -------
    kept : dict of int to _Kept
        The committee (no office) each unit continuing one keeps.
    gone : list of str
        Labels of the committees that continue in no unit, sorted by id.

    """
    ranked = pairs.sort_values(
        ["households", "community_id", "unit_id"], ascending=[False, True, True], kind="stable"
    )
    kept: dict[int, _Kept] = {}
    done: set[str] = set()
    for unit, comm, _h in ranked.itertuples(index=False):
        if comm in done or int(unit) in kept or not comm:
            continue
        kept[int(unit)] = _Kept("", math.nan, str(comm))
        done.add(comm)
    gone = sorted(set(pairs["community_id"]) - done - {""})
    return kept, [labels.get(c, c) for c in gone]


def service_radius(problem: Problem, labels: pd.Series) -> pd.Series:
    """Service radius of each unit in metres (see the module docstring).

    Parameters
    ----------
    problem : Problem
        The instance (atom centres and the objective's centre choice).
    labels : pandas.Series
        Unit id per atom, on the problem's node labels.

    Returns
    -------
    pandas.Series
        ``radius_m`` per unit id (sorted).

    """
    pos: dict[Hashable, int] = {v: i for i, v in enumerate(problem.nodes)}
    lab = np.full(problem.n, -1, dtype=np.int64)
    for node, unit in labels.items():
        if node in pos and pd.notna(unit):
            lab[pos[node]] = int(unit)
    out: dict[int, float] = {}
    for u in np.unique(lab[lab >= 0]).tolist():
        members = np.flatnonzero(lab == u)
        centre = problem.centre(members)
        d = np.hypot(*(problem.xy[members] - problem.xy[centre]).T)
        out[int(u)] = float(d.max()) if len(d) else 0.0
    s = pd.Series(out, name="radius_m", dtype=float)
    s.index.name = "unit_id"
    return s


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

    radius = service_radius(problem, atoms["unit_id"]).reindex(ids)
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
                f"{', '.join(map(str, bad[:_MAX_LISTED]))}; they are flagged in the map and table"
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
    pairs = _pairs(atoms).sort_values(
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
