"""What a plan costs: new committees, working funds, staff and office space.

The defaults are those of the policy documents the planners work with:

* a new residents' committee needs an office and service centre costing
  3,000,000 yuan, once;
* every community receives annual working funds of 200,000 yuan (urban) or
  150,000 yuan (township);
* one community worker per 250 households (the salary is a parameter: the
  default of 60,000 yuan a year is an assumption, not a policy figure);
* office and service space of 20 m² per 100 households, at least 300 m².

A unit that keeps an existing office (see :mod:`redistrict.continuity`) needs no
new office; when the floor area of that office is known, the space it lacks is
reported as ``office_shortfall_m2`` (and costed only when
``office_extension_yuan_per_m2`` is set).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import pandas as pd

from redistrict._validate_problem import is_number
from redistrict.errors import InputError
from redistrict.evaluate import office_space, staff_needed

__all__ = ["COST_COLUMNS", "CostParams", "plan_costs", "unit_costs"]

#: Columns of :func:`unit_costs` besides ``unit_id``.
COST_COLUMNS: tuple[str, ...] = (
    "households",
    "staff_needed",
    "office_m2",
    "office_area_m2",
    "office_shortfall_m2",
    "new_committee",
    "new_office",
    "one_time_yuan",
    "working_funds_yuan",
    "salaries_yuan",
    "annual_yuan",
)


@dataclass(frozen=True)
class CostParams:
    """Cost parameters of a scenario (yuan, m², households).

    Parameters
    ----------
    new_committee_yuan : float
        One-time cost of the office and service centre of a new residents'
        committee.
    working_funds_urban_yuan : float
        Annual working funds of an urban community.
    working_funds_township_yuan : float
        Annual working funds of a township community.
    community_kind : {"urban", "township"}
        Which of the two working-fund rates applies.
    households_per_staff : int
        One community worker per this many households (rounded up).
    staff_salary_yuan : float
        Annual cost of one community worker.
    office_m2_per_100_households : float
        Office and service space per 100 households.
    office_m2_min : float
        Least office and service space of any community.
    office_extension_yuan_per_m2 : float
        One-time cost of each m² an existing office lacks (0 = not costed).

    """

    new_committee_yuan: float = 3_000_000.0
    working_funds_urban_yuan: float = 200_000.0
    working_funds_township_yuan: float = 150_000.0
    community_kind: Literal["urban", "township"] = "urban"
    households_per_staff: int = 250
    staff_salary_yuan: float = 60_000.0
    office_m2_per_100_households: float = 20.0
    office_m2_min: float = 300.0
    office_extension_yuan_per_m2: float = 0.0

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "community_kind":
                if value not in ("urban", "township"):
                    problems.append(f"costs.community_kind must be 'urban' or 'township', not {value!r}")
                continue
            if not is_number(value):
                problems.append(f"costs.{f.name} must be a number, not {value!r}")
            elif not math.isfinite(value) or value < 0:
                problems.append(f"costs.{f.name} must be a non-negative number, not {value!r}")
        per = self.households_per_staff
        if is_number(per) and math.isfinite(per) and (per < 1 or not float(per).is_integer()):
            problems.append(f"costs.households_per_staff must be a whole number of at least 1, not {per!r}")
        if problems:
            raise InputError(problems)

    @property
    def working_funds_yuan(self) -> float:
        """Annual working funds of one community of :attr:`community_kind`."""
        if self.community_kind == "township":
            return float(self.working_funds_township_yuan)
        return float(self.working_funds_urban_yuan)


def unit_costs(units: pd.DataFrame, params: CostParams | None = None) -> pd.DataFrame:
    """Cost of each unit of a plan.

    Parameters
    ----------
    units : pandas.DataFrame
        One row per unit with ``unit_id`` and ``households``; optional
        ``new_committee`` (bool, default True: every unit needs a new
        committee when nothing says it keeps one), ``new_office`` (bool,
        default ``new_committee``: whether the unit needs a new office and
        service centre; False for a new committee housed in a free existing
        office) and ``office_area_m2`` (floor area of the existing office the
        unit keeps or reuses, NaN when unknown).
    params : CostParams, optional
        Cost parameters (policy defaults).

    Returns
    -------
    pandas.DataFrame
        ``unit_id`` and :data:`COST_COLUMNS`, in the order of ``units``:
        ``staff_needed`` (workers), ``office_m2`` (space needed),
        ``office_area_m2`` (existing, NaN if unknown or none),
        ``office_shortfall_m2`` (space the kept office lacks, NaN when its
        area is unknown or the unit has a new office), ``new_committee``,
        ``new_office``, ``one_time_yuan`` (new office plus costed shortfall),
        ``working_funds_yuan``,
        ``salaries_yuan`` and ``annual_yuan`` (their sum).

    """
    p = params or CostParams()
    missing = [c for c in ("unit_id", "households") if c not in units.columns]
    if missing:
        raise InputError(
            f"units table lacks column(s) {', '.join(missing)}: costs need unit_id and households"
        )
    raw = pd.to_numeric(units["households"], errors="coerce")
    whole = raw.notna() & (raw >= 0) & (raw == raw.round())
    if not whole.all():
        raise InputError(
            f"units table: households must be whole numbers of 0 or more; units "
            f"{', '.join(str(u) for u in units.loc[~whole, 'unit_id'].head(5))} are not"
        )
    for flag in ("new_committee", "new_office"):
        if (
            flag in units.columns
            and not units[flag].map(lambda v: v is None or v != v or isinstance(v, bool | np.bool_)).all()
        ):
            raise InputError(f"units table: {flag} must hold True/False (or be empty)")
    households = raw.astype("int64").reset_index(drop=True)
    out = pd.DataFrame({"unit_id": units["unit_id"].to_numpy(), "households": households})
    out["staff_needed"] = staff_needed(households, per=int(p.households_per_staff)).to_numpy()
    out["office_m2"] = office_space(
        households, per_100=p.office_m2_per_100_households, minimum=p.office_m2_min
    ).to_numpy()
    if "new_committee" in units.columns:
        new = units["new_committee"].fillna(True).astype(bool).to_numpy()
    else:
        new = np.ones(len(units), dtype=bool)
    if "new_office" in units.columns:
        building = units["new_office"].fillna(True).astype(bool).to_numpy()
    else:
        building = new.copy()
    if "office_area_m2" in units.columns:
        area = pd.to_numeric(units["office_area_m2"], errors="coerce").astype(float).to_numpy()
    else:
        area = np.full(len(units), np.nan)
    area = np.where(building, np.nan, area)
    out["office_area_m2"] = area
    out["office_shortfall_m2"] = np.where(
        np.isnan(area), np.nan, np.round(np.maximum(0.0, out["office_m2"].to_numpy() - area), 6)
    )  # rounded: 592.8 - 200 is 392.79999999999995 in floating point
    out["new_committee"] = new
    out["new_office"] = building
    extension = np.nan_to_num(out["office_shortfall_m2"].to_numpy()) * p.office_extension_yuan_per_m2
    out["one_time_yuan"] = np.where(building, p.new_committee_yuan, 0.0) + extension
    out["working_funds_yuan"] = p.working_funds_yuan
    out["salaries_yuan"] = out["staff_needed"].astype(float) * p.staff_salary_yuan
    out["annual_yuan"] = out["working_funds_yuan"] + out["salaries_yuan"]
    return out[["unit_id", *COST_COLUMNS]]


def plan_costs(costs: pd.DataFrame) -> dict[str, float]:
    """Totals of a :func:`unit_costs` table.

    Parameters
    ----------
    costs : pandas.DataFrame
        Output of :func:`unit_costs`.

    Returns
    -------
    dict
        ``units``, ``new_committees``, ``new_offices``, ``staff_needed``, ``office_m2``,
        ``office_shortfall_m2`` (over kept offices of known area; NaN when no office
        area is known),
        ``offices_short`` (kept offices with a shortfall), ``one_time_yuan``,
        ``working_funds_yuan``, ``salaries_yuan`` and ``annual_yuan``.

    """
    shortfall = costs["office_shortfall_m2"]
    # sums rounded to 1e-6 like the unit values: 2,584.4 m², not 2,584.3999999999996
    return {
        "units": float(len(costs)),
        "new_committees": float(costs["new_committee"].astype(bool).sum()),
        "new_offices": float(costs["new_office"].astype(bool).sum()),
        "staff_needed": float(costs["staff_needed"].sum()),
        "office_m2": round(float(costs["office_m2"].sum()), 6),
        "office_shortfall_m2": round(float(shortfall.sum(min_count=1)), 6),  # NaN: no office area known
        "offices_short": float((shortfall.fillna(0.0) > 0).sum()),
        "one_time_yuan": float(costs["one_time_yuan"].sum()),
        "working_funds_yuan": float(costs["working_funds_yuan"].sum()),
        "salaries_yuan": float(costs["salaries_yuan"].sum()),
        "annual_yuan": float(costs["annual_yuan"].sum()),
    }
