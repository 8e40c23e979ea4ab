"""Records passed between the map modules: the title-block content and display rows."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

__all__ = ["Layers", "MapInfo", "UnitRow"]


@dataclass
class MapInfo:
    """What the title block of a map says about the run.

    Attributes
    ----------
    title : str
        Heading, e.g. the scenario name.
    band : tuple of (int, int)
        Households band ``(low, high)`` every unit should fall in.
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

    """

    title: str
    band: tuple[int, int]
    status: str
    gap: float | None
    totals: dict[str, float]
    date: str


@dataclass(frozen=True)
class Layers:
    """Context layers shared by plan and comparison maps (already in EPSG:4326)."""

    atoms: gpd.GeoDataFrame | None
    roads: gpd.GeoDataFrame | None
    communities: gpd.GeoDataFrame | None
    barriers: gpd.GeoDataFrame | None
    offices: gpd.GeoDataFrame | None


@dataclass(frozen=True)
class UnitRow:
    """Display values of one unit."""

    unit_id: int
    households: int
    status: str
    problem: bool
    colour: str
