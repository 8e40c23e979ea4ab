"""Lock files (``--lock``, ``--lock-plan``): what a run must keep as it is, read and checked.

See :mod:`redistrict.locks` for what the lock groups then do.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from redistrict._files import read_text
from redistrict._validate_geometry import polygonal_part
from redistrict._words import listed
from redistrict.errors import InputError

__all__ = ["LOCK", "Locks", "read_locks"]

#: Prefix of the group name of the atoms a lock file locks together.
LOCK = "lock "


@dataclass(frozen=True, eq=False)
class Locks:
    """A parsed lock file.

    Attributes
    ----------
    source : str
        The lock file (for messages).
    atom_groups : pandas.Series or None
        Lock group per atom id (atom lock files).
    atom_households : pandas.Series or None
        Households per atom id stated in the file, to check against the atoms.
    units : geopandas.GeoDataFrame or None
        Locked unit polygons of a previous plan (``unit_id``, geometry).
    unit_households : pandas.Series or None
        Households of those units in the previous plan, by unit id.
    plan : str or None
        The previous plan the unit ids refer to (``--lock-plan``), as given.

    """

    source: str
    atom_groups: pd.Series | None = None
    atom_households: pd.Series | None = None
    units: gpd.GeoDataFrame | None = None
    unit_households: pd.Series | None = None
    plan: str | None = None


def _ints(column: pd.Series, name: str, where: str, problems: list[str]) -> pd.Series:
    values = pd.to_numeric(column.str.strip(), errors="coerce")
    bad = values.isna() | (values != values.round())
    if bad.any():
        lines = [int(i) + 2 for i in np.flatnonzero(bad.to_numpy())]
        which = f"line {lines[0]} does" if len(lines) == 1 else f"lines {listed(lines)} do"
        problems.append(f"{where}: column {name} must hold whole numbers; {which} not")
    return values.where(~bad).astype("Int64")


def read_locks(path: str | Path, *, plan: str | Path | None = None) -> Locks:
    """Read a lock file.

    Parameters
    ----------
    path : str or Path
        CSV (or text) file with a header line: ``atom_id`` (optionally
        ``unit_id`` and ``households``) or ``unit_id`` alone.
    plan : str or Path, optional
        A previous plan (its folder or ``plan.gpkg``) whose unit ids the file
        lists.

    Returns
    -------
    Locks

    Raises
    ------
    InputError
        Listing every problem with the file.

    """
    p = Path(path)
    where = f"lock file {p}"
    if not p.is_file():
        raise InputError(f"{where}: does not exist or is not a file; give a CSV of atom or unit ids")
    try:
        # Excel on Chinese Windows saves GBK: only the id columns are used, but a notes
        # column in Chinese must not make the file unreadable.
        table = pd.read_csv(io.StringIO(read_text(p)), dtype=str, comment="#", skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise InputError(
            f"{where}: cannot be read as CSV ({exc}); write a header line (atom_id or unit_id) "
            "and one id per line"
        ) from None
    cols = {str(c).strip().lower(): c for c in table.columns}
    problems: list[str] = []
    if "atom_id" in cols:
        ids = _ints(table[cols["atom_id"]].fillna(""), "atom_id", where, problems)
        groups = pd.Series("all", index=table.index, dtype=object)
        if "unit_id" in cols:
            uid = _ints(table[cols["unit_id"]].fillna(""), "unit_id", where, problems)
            low = uid.notna() & (uid < 1)
            if low.any():
                lines = [int(i) + 2 for i in np.flatnonzero(low.to_numpy())]
                problems.append(
                    f"{where}: unit ids are numbered from 1, and the locked unit keeps its id; "
                    f"{'line' if len(lines) == 1 else 'lines'} {listed(lines)} "
                    f"{'gives' if len(lines) == 1 else 'give'} {listed(sorted(set(uid[low].astype(int))))}: "
                    "use ids of 1 or more"
                )
            groups = uid.astype(str)
        hh = None
        if "households" in cols:
            hh = _ints(table[cols["households"]].fillna(""), "households", where, problems)
        dup = ids[ids.duplicated(keep=False) & ids.notna()]
        if len(dup):
            twice = sorted(set(dup.astype(int)))
            problems.append(f"{where}: atom ids listed more than once: {listed(twice)}; list each atom once")
        if not len(ids):
            problems.append(f"{where}: lists no atom; add one atom id per line under the header")
        if plan is not None:
            problems.append(
                f"{where}: lists atom ids of this run, which --lock-plan {plan} does not apply to: drop "
                "--lock-plan, or list the plan's unit ids instead (header unit_id)"
            )
        if problems:
            raise InputError(problems)
        index = pd.Index(ids.astype("int64"), name="atom_id")
        atom_groups = pd.Series([f"{LOCK}{g}" for g in groups], index=index, name="group", dtype=object)
        atom_hh = None if hh is None else pd.Series(hh.to_numpy(), index=index, name="households")
        return Locks(source=str(p), atom_groups=atom_groups, atom_households=atom_hh)
    if "unit_id" in cols:
        uid = _ints(table[cols["unit_id"]].fillna(""), "unit_id", where, problems)
        if plan is None:
            problems.append(
                f"{where}: lists unit ids, so give the plan they belong to with --lock-plan "
                "(its folder or plan.gpkg)"
            )
        if not len(uid):
            problems.append(f"{where}: lists no unit; add one unit id per line under the header")
        if problems or plan is None:
            raise InputError(problems)
        units = _read_plan_units(Path(plan))
        wanted = sorted(set(uid.astype(int).tolist()))
        have = set(units["unit_id"].astype(int).tolist())
        missing = [u for u in wanted if u not in have]
        if missing:
            raise InputError(
                f"{where}: {'unit' if len(missing) == 1 else 'units'} {listed(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not in {plan} (it has units "
                f"{min(have)}-{max(have)}); check the ids or the --lock-plan"
            )
        chosen = units[units["unit_id"].astype(int).isin(wanted)].sort_values("unit_id")
        chosen = chosen.reset_index(drop=True)
        hh = None
        if "households" in chosen.columns:
            hh = pd.Series(
                chosen["households"].astype("int64").to_numpy(),
                index=chosen["unit_id"].astype(int).to_numpy(),
            )
        frame = gpd.GeoDataFrame(
            {"unit_id": chosen["unit_id"].astype(int)}, geometry=chosen.geometry, crs=chosen.crs
        )
        return Locks(source=str(p), units=frame, unit_households=hh, plan=str(plan))
    raise InputError(
        f"{where}: the first line must be a header naming atom_id (optionally with unit_id) "
        f"or unit_id; found {', '.join(map(str, table.columns)) or 'nothing'}"
    )


def _read_plan_units(plan: Path) -> gpd.GeoDataFrame:
    gpkg = plan / "plan.gpkg" if plan.is_dir() else plan
    if not gpkg.is_file():
        scenarios = (
            sorted(p.name for p in plan.iterdir() if (p / "plan.gpkg").is_file()) if plan.is_dir() else []
        )
        hint = (
            f"; it holds a comparison: give one scenario's folder, e.g. --lock-plan {plan / scenarios[0]}"
            if scenarios
            else ""
        )
        raise InputError(f"--lock-plan {plan}: no plan.gpkg there; give a folder written by plan{hint}")
    try:
        units = gpd.read_file(gpkg, layer="units", engine="pyogrio")
    except Exception as exc:  # pyogrio raises several unrelated types
        raise InputError(
            f"--lock-plan {gpkg}: cannot read its 'units' layer ({exc}); give a plan.gpkg "
            "written by redistrict plan"
        ) from None
    if "unit_id" not in units.columns or units.crs is None:
        raise InputError(f"--lock-plan {gpkg}: the units layer has no unit_id column or no CRS")
    # An outline edited by hand may be invalid (a bow tie): repaired, polygons only.
    geoms = np.asarray(units.geometry.array, dtype=object)
    bad = ~(shapely.is_missing(geoms) | shapely.is_valid(geoms))
    if bad.any():
        geoms[bad] = [polygonal_part(g) for g in shapely.make_valid(geoms[bad])]
        units = units.set_geometry(gpd.GeoSeries(geoms, index=units.index, crs=units.crs))
    return units
