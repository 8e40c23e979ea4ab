"""Records passed between the map modules: the title-block content and display rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import geopandas as gpd

__all__ = ["BAND_UNITS", "BandUnit", "Layers", "MapInfo", "OfficeLabel", "PlanBand", "UnitRow"]

#: What a band can count.
BandUnit = Literal["households", "residents"]
BAND_UNITS: tuple[str, ...] = ("households", "residents")


@dataclass(frozen=True)
class PlanBand:
    """The size band of one plan, in what it counts.

    Attributes
    ----------
    lo, hi : int
        Inclusive bounds.
    unit : {"households", "residents"}
        What the bounds count. With ``"residents"`` the maps state the band in
        residents, label units by residents first and judge "in band" by residents.

    """

    lo: int
    hi: int
    unit: BandUnit = "households"


@dataclass
class MapInfo:
    """What the title block of a map says about the run.

    Attributes
    ----------
    title : str
        Heading, e.g. the scenario name.
    band : tuple of (int, int)
        Band ``(low, high)`` every unit should fall in, counted in ``band_unit``.
    status : str
        Solver status, e.g. ``"optimal"``, ``"feasible (not proven optimal)"``,
        ``"heuristic"``. Known values are translated, others shown verbatim.
    gap : float or None
        Relative optimality gap as a fraction (0.012 is shown as 1.2 %), or None.
    totals : dict of str to float
        Summary numbers in display order, e.g. ``{"households": 31700, "units": 12,
        "units_in_band": 12}``. Known keys are translated, others shown verbatim.
    date : str
        ISO date of the run.
    band_unit : {"households", "residents"}, default "households"
        What ``band`` counts. A band in residents needs a ``residents`` column in
        the units.
    fixed_units : int, optional
        Number of units the planner fixed (``--units``): the gap then compares
        the plan with plans of that many units only, and the block says so.
    gap_within_subproblems : bool, default False
        The gap compares the plan only with plans that keep every unit inside
        one subproblem (a city's plan), and the block says so.

    """

    title: str
    band: tuple[int, int]
    status: str
    gap: float | None
    totals: dict[str, float]
    date: str
    band_unit: BandUnit = "households"
    fixed_units: int | None = None
    gap_within_subproblems: bool = False

    @property
    def plan_band(self) -> PlanBand:
        """The band as a :class:`PlanBand`."""
        return PlanBand(int(self.band[0]), int(self.band[1]), self.band_unit)


@dataclass(frozen=True)
class Layers:
    """Context layers shared by plan and comparison maps (already in EPSG:4326)."""

    atoms: gpd.GeoDataFrame | None
    roads: gpd.GeoDataFrame | None
    communities: gpd.GeoDataFrame | None
    barriers: gpd.GeoDataFrame | None
    offices: gpd.GeoDataFrame | None


@dataclass(frozen=True)
class OfficeLabel:
    """How an existing office is named in the unit tooltips.

    Attributes
    ----------
    name : str
        Its name, else its id (unescaped).
    community : str
        Name, else id, of the community it belongs to; ``""`` when unknown.

    """

    name: str
    community: str = ""


@dataclass(frozen=True)
class UnitRow:
    """Display values of one unit."""

    unit_id: int
    households: int
    status: str
    problem: bool
    colour: str
    residents: int | None = None
    band_unit: BandUnit = "households"

    @property
    def size(self) -> int | None:
        """The unit's size in what its band counts (None when residents are unknown)."""
        return self.residents if self.band_unit == "residents" else self.households
