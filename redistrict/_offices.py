"""Committee offices: which office and existing committee each new unit keeps.

The rules (*office's community*, *committee kept*) are stated in the docstring
of :mod:`redistrict.continuity`, which re-exports the public functions here.
:func:`office_atoms` places each office in an atom, :func:`office_communities`
gives its community, :func:`committees` picks what each unit keeps (with
offices by :func:`_kept_offices`, without them by
:func:`_continued_committees`) and :func:`lost_offices` names the communities
whose committees continue nowhere although their offices lie in units.
:func:`community_labels` and :func:`unit_community_pairs` (households per unit and
community) live here, not in :mod:`redistrict.continuity` which uses them too, so that it
can import this module without a cycle.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from redistrict._words import counted, listed

__all__ = [
    "committees",
    "community_labels",
    "lost_offices",
    "office_atoms",
    "office_communities",
    "unit_community_pairs",
]

_PAIR_COLUMNS = ["unit_id", "community_id", "households"]


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


def unit_community_pairs(atoms: pd.DataFrame) -> pd.DataFrame:
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
    """The community each office belongs to (see *office's community* in :mod:`redistrict.continuity`).

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

    See *committee kept* in :mod:`redistrict.continuity`: candidate (unit, community)
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
    pairs = unit_community_pairs(atoms) if has_comm else pd.DataFrame(columns=_PAIR_COLUMNS)
    kept: dict[int, _Kept] = {}
    if offices is not None and len(offices):
        kept, released = _kept_offices(atoms, offices, pairs, labels)
        if released:
            notes.append(
                f"{counted(len(released), 'existing office')} {'is' if len(released) == 1 else 'are'} "
                "kept by no unit and free for other uses: "
                f"{listed(released, sep='; ')}"
            )
    elif has_comm and len(pairs):
        kept, gone = _continued_committees(pairs, labels)
        if gone:
            notes.append(
                f"{counted(len(gone), 'existing committee')} "
                f"{'continues' if len(gone) == 1 else 'continue'} in no unit (their households join "
                f"other units' committees): {listed(gone)}"
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
        Households per (unit, community), from :func:`unit_community_pairs`.
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
    *committee kept* in :mod:`redistrict.continuity`). The search does not weigh
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
    pairs = unit_community_pairs(atoms)
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
    names = [f"{labels.get(c, c)} ({'; '.join(lost[c])})" for c in sorted(lost)]
    one = len(lost) == 1
    return [
        ("1 community keeps" if one else f"{len(lost)} communities keep")
        + f" none of {'its' if one else 'their'} offices, so "
        + ("its committee continues" if one else "their committees continue")
        + f" in no unit: {listed(names)}"
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
        Households per (unit, community), from :func:`unit_community_pairs`.
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
