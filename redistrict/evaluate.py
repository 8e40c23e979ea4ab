"""Measure a plan: unit table, validity checks and planner metrics.

The two planner metrics (:func:`plan_metrics`) are computed the same way for
every method, ours or a peer's, from a :class:`~redistrict.problem.Problem`
and a label per atom:

* ``mean_distance_m``: household-weighted mean straight-line distance from
  each atom's centre to its unit's household-weighted centre;
* ``major_boundary_share``: share of the length of boundaries *between* units
  that runs along major roads.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable

import geopandas as gpd
import numpy as np
import pandas as pd

from redistrict._unit_shapes import bridge_gaps, enclosed, fill_pinholes
from redistrict._words import listed
from redistrict.errors import InputError
from redistrict.problem import Band, Problem

__all__ = [
    "OFFICE_M2_MIN",
    "OFFICE_M2_PER_100",
    "STAFF_PER_HOUSEHOLDS",
    "check_plan",
    "enclave_notes",
    "office_space",
    "plan_metrics",
    "staff_needed",
    "unit_status",
    "unit_table",
]

#: Huangshi: one community worker per 250 households.
STAFF_PER_HOUSEHOLDS = 250
#: Office and service space: 20 m² per 100 households ...
OFFICE_M2_PER_100 = 20.0
#: ... and at least 300 m².
OFFICE_M2_MIN = 300.0


def staff_needed(households: pd.Series, per: int = STAFF_PER_HOUSEHOLDS) -> pd.Series:
    """Community workers needed: one per ``per`` households, rounded up."""
    if isinstance(per, bool) or not isinstance(per, numbers.Real) or not per >= 1:
        raise InputError(f"households per worker must be a number of at least 1, not {per!r}")
    values = np.ceil(households.to_numpy(dtype=float) / per).astype("int64")
    return pd.Series(values, index=households.index, name="staff_needed")


def office_space(
    households: pd.Series, per_100: float = OFFICE_M2_PER_100, minimum: float = OFFICE_M2_MIN
) -> pd.Series:
    """Office and service space needed in m²: ``per_100`` per 100 households, at least ``minimum``."""
    values = np.maximum(minimum, households.to_numpy(dtype=float) * per_100 / 100.0)
    return pd.Series(values, index=households.index, name="office_m2")


def unit_status(households: pd.Series, band: Band) -> pd.Series:
    """``ok``, ``below band`` or ``above band`` per unit."""
    out = pd.Series("ok", index=households.index, name="status", dtype=object)
    out[households < band.lo] = "below band"
    out[households > band.hi] = "above band"
    return out


def unit_table(
    atoms: gpd.GeoDataFrame,
    labels: pd.Series,
    band: Band,
    *,
    flags: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """One row per unit: households, residents, area, staff, office space, status.

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms with ``households`` (and optionally ``residents``), metric CRS.
    labels : pandas.Series
        Unit id per atom on the atoms' index (``<NA>`` = excluded).
    band : Band
        The household band.
    flags : pandas.Series, optional
        Status per unit id from the solver (``oversize atom`` etc.).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by position, columns ``unit_id``, ``households``, ``residents``
        (if known), ``area_km2``, ``n_atoms``, ``staff_needed``, ``office_m2``,
        ``in_band``, ``status``, ``geometry``.
    """
    df = atoms.assign(unit_id=labels.reindex(atoms.index))
    df = df[df["unit_id"].notna()]
    agg: dict[str, tuple[str, str]] = {
        "households": ("households", "sum"),
        "n_atoms": ("households", "size"),
    }
    if "residents" in df.columns:
        agg["residents"] = ("residents", "sum")
    table = pd.DataFrame(df.groupby("unit_id").agg(**agg))  # type: ignore[call-overload]
    geoms = df[["unit_id", "geometry"]].dissolve(by="unit_id").geometry
    area_km2 = geoms.area / 1e6  # of the atoms, before gaps between them are bridged
    outlines = fill_pinholes(bridge_gaps(geoms))
    units = gpd.GeoDataFrame(table, geometry=outlines.reindex(table.index), crs=atoms.crs)
    units["households"] = units["households"].astype("int64")
    units["area_km2"] = area_km2.reindex(table.index)
    units["staff_needed"] = staff_needed(units["households"])
    units["office_m2"] = office_space(units["households"])
    status = unit_status(units["households"], band)
    if flags is not None:
        status = flags.reindex(units.index).fillna(status).astype(object)
    units["status"] = status
    units["in_band"] = units["households"].between(band.lo, band.hi)
    units = units.reset_index()
    units["unit_id"] = units["unit_id"].astype("int64")
    cols = ["unit_id", "households"]
    cols += ["residents"] if "residents" in units.columns else []
    cols += ["area_km2", "n_atoms", "staff_needed", "office_m2", "in_band", "status", "geometry"]
    return gpd.GeoDataFrame(units[cols], geometry="geometry", crs=atoms.crs)


def _positions(problem: Problem, labels: pd.Series) -> np.ndarray:
    """Unit per atom position (-1 for none) from labels on the problem's node labels.

    Raises
    ------
    InputError
        When ``labels`` is not a Series, names atoms the problem does not have, or
        holds unit ids that are not whole numbers.
    """
    if not isinstance(labels, pd.Series):
        raise InputError(
            f"labels must be a pandas Series of unit ids on the atoms' labels, not {type(labels).__name__}"
        )
    pos: dict[Hashable, int] = {v: i for i, v in enumerate(problem.nodes)}
    unknown = [node for node in labels.index if node not in pos]
    if unknown:
        raise InputError(
            f"labels name {len(unknown)} atoms the problem does not have (e.g. {unknown[0]!r}): give the "
            "unit ids on the problem's node labels (Solution.labels is)"
        )
    twice = labels.index[labels.index.duplicated()]
    if len(twice):
        raise InputError(
            f"labels name {len(twice)} atoms more than once (e.g. {twice.tolist()[0]!r}): "
            "give one unit id per atom"
        )
    out = np.full(problem.n, -1, dtype=np.int64)
    for node, unit in labels.items():
        if pd.isna(unit):
            continue
        if not isinstance(unit, numbers.Real) or isinstance(unit, bool | np.bool_) or float(unit) % 1:
            raise InputError(f"labels must hold whole unit ids; atom {node!r} has {unit!r}")
        out[pos[node]] = round(float(unit))
    return out


def plan_metrics(problem: Problem, labels: pd.Series) -> dict[str, float]:
    """The shared planner metrics of a plan.

    Parameters
    ----------
    problem : Problem
        The instance (atom centres, households, edges with major-road shares).
    labels : pandas.Series
        Unit per atom, on the problem's node labels.

    Returns
    -------
    dict
        ``units``, ``units_in_band``, ``mean_distance_m``, ``major_boundary_share``,
        ``max_deviation`` (largest ``|households - target|`` over units).
    """
    lab = _positions(problem, labels)
    h = problem.households.astype(float)
    xy = problem.xy
    band = problem.band
    total_w = 0.0
    total_d = 0.0
    units = in_band = 0
    max_dev = 0.0
    for u in np.unique(lab[lab >= 0]):
        m = lab == u
        hu = h[m]
        load = float(hu.sum())
        units += 1
        in_band += int(band.lo <= load <= band.hi)
        max_dev = max(max_dev, abs(load - band.goal))
        if load <= 0:
            continue
        centre = (xy[m] * hu[:, None]).sum(axis=0) / load
        total_d += float((np.hypot(*(xy[m] - centre).T) * hu).sum())
        total_w += load
    a, b = problem.edges[:, 0], problem.edges[:, 1]
    cut = (lab[a] != lab[b]) & (lab[a] >= 0) & (lab[b] >= 0)
    cut_len = float(problem.edge_length[cut].sum())
    major_len = float((problem.edge_length[cut] * problem.edge_major[cut]).sum())
    return {
        "units": float(units),
        "units_in_band": float(in_band),
        "mean_distance_m": total_d / total_w if total_w else math.nan,
        "major_boundary_share": major_len / cut_len if cut_len else math.nan,
        "max_deviation": max_dev,
    }


def enclave_notes(units: gpd.GeoDataFrame) -> list[str]:
    """A note naming the units that lie wholly inside another (islands on the map).

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        :func:`unit_table`'s rows (``unit_id``, ``households``, ``geometry``).

    Returns
    -------
    list of str
        One note, or none when no unit lies inside another.
    """
    frame = units.set_index("unit_id")
    pairs = enclosed(frame.geometry)
    if not pairs:
        return []
    households = frame["households"]
    shown = [f"unit {i} ({int(households[i]):,} households) inside unit {j}" for i, j in pairs]
    one = len(pairs) == 1
    return [
        f"{len(pairs)} {'unit lies' if one else 'units lie'} wholly inside another, reached only "
        f"through its land: {listed(shown, sep='; ')}; check {'it' if one else 'them'} on the map "
        "(a compound inside its own ring road can well be a unit of its own)"
    ]


def check_plan(problem: Problem, labels: pd.Series) -> list[str]:
    """Problems with a plan: unassigned atoms with households, split units, band violations.

    Returns
    -------
    list of str
        Empty when every household is in exactly one unit and every unit is
        contiguous and in the band.
    """
    lab = _positions(problem, labels)
    out = []
    lost = np.flatnonzero((lab < 0) & (problem.households > 0))
    if lost.size:
        out.append(f"{lost.size} atoms with households are in no unit")
    for u in np.unique(lab[lab >= 0]).tolist():
        m = np.flatnonzero(lab == u)
        if not problem.is_contiguous(m):
            out.append(f"unit {u} is not contiguous")
        load = int(problem.households[m].sum())
        if not problem.band.lo <= load <= problem.band.hi:
            out.append(f"unit {u} has {load} households, outside [{problem.band.lo}, {problem.band.hi}]")
    return out
