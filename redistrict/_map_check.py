"""Validation of everything the map functions receive; problems are raised together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd

from redistrict._map_text import STRINGS
from redistrict._map_types import BAND_UNITS, MapInfo, PlanBand
from redistrict.errors import InputError

__all__ = ["check_inputs", "plan_label"]

_POLYGONS = ("Polygon", "MultiPolygon")
_LINES = ("LineString", "MultiLineString", "LinearRing")
#: Geometry types each context layer may hold, and how to say so in a message.
_LAYER_GEOMETRY: Mapping[str, tuple[tuple[str, ...], str]] = MappingProxyType(
    {
        "atoms": (_POLYGONS, "polygons"),
        "roads": (_LINES, "lines"),
        "communities": (_POLYGONS, "polygons"),
        "barriers": (_LINES + _POLYGONS, "lines or polygons"),
        "offices": (("Point", "MultiPoint", *_POLYGONS), "points or polygons"),
    }
)


def _check_frame(gdf: object, name: str, problems: list[str]) -> bool:
    """Check that a layer is a GeoDataFrame with a CRS.

    Parameters
    ----------
    gdf : object
        The layer given by the caller.
    name : str
        Layer name used in messages.
    problems : list of str
        Problems found so far; appended to.

    Returns
    -------
    bool
        True when further column checks make sense.

    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        problems.append(
            f"{name}: expected a geopandas GeoDataFrame, got {type(gdf).__name__}; "
            "read the layer with geopandas.read_file"
        )
        return False
    if gdf.crs is None:
        problems.append(
            f"{name}: the layer has no CRS; set the metric CRS it is in "
            "(GeoDataFrame.set_crs, e.g. 'EPSG:32189')"
        )
        return False
    return True


def _ids(values: Sequence[object], limit: int = 10) -> str:
    """Format a few identifiers for an error message.

    Parameters
    ----------
    values : sequence
        Identifiers.
    limit : int, default 10
        How many to show before eliding.

    Returns
    -------
    str
        Comma-separated identifiers, with a count of the rest.

    """
    shown = ", ".join(str(v) for v in values[:limit])
    rest = len(values) - limit
    return f"{shown} (and {rest} more)" if rest > 0 else shown


def _check_units(units: object, name: str, problems: list[str]) -> None:
    """Collect every problem of a units layer.

    Parameters
    ----------
    units : object
        The units layer given by the caller.
    name : str
        Layer name used in messages.
    problems : list of str
        Problems found so far; appended to.

    """
    if not _check_frame(units, name, problems):
        return
    assert isinstance(units, gpd.GeoDataFrame)
    if units.crs is not None and not units.crs.is_projected:
        problems.append(
            f"{name}: CRS {units.crs.to_string()} is geographic (degrees); reproject the "
            "units to the metric CRS of the project (GeoDataFrame.to_crs) before mapping"
        )
    if len(units) == 0:
        problems.append(f"{name}: the layer has no units; a map needs at least one unit")
        return
    missing = [c for c in ("unit_id", "households") if c not in units.columns]
    if missing:
        problems.append(
            f"{name}: missing column(s) {', '.join(missing)}; every unit needs an integer "
            "'unit_id' and its 'households'"
        )
    geoms = units.geometry
    bad_geom = geoms.isna() | geoms.is_empty
    not_polygon = ~bad_geom & ~geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    labels = units["unit_id"] if "unit_id" in units.columns else pd.Series(units.index)
    if bad_geom.any():
        problems.append(
            f"{name}: unit(s) {_ids(list(labels[bad_geom.to_numpy()]))} have no geometry; "
            "give every unit its (Multi)Polygon or drop it"
        )
    if not_polygon.any():
        problems.append(
            f"{name}: unit(s) {_ids(list(labels[not_polygon.to_numpy()]))} are not polygons; "
            "units must be Polygon or MultiPolygon areas"
        )
    if "unit_id" in units.columns:
        ids = pd.to_numeric(units["unit_id"], errors="coerce")
        not_int = ids.isna() | (ids != ids.round())
        if not_int.any():
            problems.append(
                f"{name}: column unit_id has non-integer value(s) "
                f"{_ids(list(units['unit_id'][not_int.to_numpy()]))}; use whole numbers"
            )
        dup = units["unit_id"][units["unit_id"].duplicated()].unique()
        if len(dup):
            problems.append(
                f"{name}: unit_id value(s) {_ids(sorted(dup.tolist()))} occur more than "
                "once; give every unit its own id (dissolve the pieces of one unit first)"
            )
    if "households" in units.columns:
        hh = pd.to_numeric(units["households"], errors="coerce")
        bad_hh = hh.isna() | (hh < 0) | (hh != hh.round())
        if bad_hh.any():
            problems.append(
                f"{name}: column households of unit(s) {_ids(list(labels[bad_hh.to_numpy()]))} "
                "is missing, negative or fractional; give a whole number >= 0"
            )


def plan_label(name: object) -> str:
    """How messages name the units of one scenario of a comparison map.

    Parameters
    ----------
    name : object
        Scenario name.

    Returns
    -------
    str
        E.g. ``"plans['rural']"``.

    """
    return f"plans[{name!r}]"


def _band_problem(lo: object, hi: object) -> bool:
    """Tell whether ``(lo, hi)`` is not a valid band.

    Parameters
    ----------
    lo, hi : object
        Bounds given by the caller.

    Returns
    -------
    bool
        True unless both are numbers with ``0 <= lo <= hi``.

    """
    numbers = all(isinstance(b, int | float | np.integer | np.floating) for b in (lo, hi))
    return not numbers or lo < 0 or lo > hi  # type: ignore[operator]


def _check_residents(units: object, name: str, problems: list[str]) -> None:
    """Check that units judged by a band in residents have their residents.

    Parameters
    ----------
    units : object
        The units layer given by the caller.
    name : str
        Layer name used in messages.
    problems : list of str
        Problems found so far; appended to.

    """
    if not isinstance(units, gpd.GeoDataFrame) or len(units) == 0:
        return
    if "residents" not in units.columns:
        problems.append(
            f"{name}: the band counts residents but the units have no 'residents' column; "
            "add the residents of each unit, or give a band in households"
        )
        return
    res = pd.to_numeric(units["residents"], errors="coerce")
    bad = (res.isna() | (res < 0)).to_numpy()
    if bad.any():
        labels = units["unit_id"] if "unit_id" in units.columns else pd.Series(units.index)
        problems.append(
            f"{name}: column residents of unit(s) {_ids(list(labels[bad]))} is missing or "
            "negative; the band counts residents, so give every unit its residents (0 or more)"
        )


def _check_bands(bands: object, plans: Mapping[str, object], problems: list[str]) -> dict[str, object]:
    """Check the per-scenario bands of a comparison map.

    Parameters
    ----------
    bands : object
        Expected None or a mapping of scenario name to :class:`PlanBand`.
    plans : mapping of str to object
        Units layers by :func:`plan_label`.
    problems : list of str
        Problems found so far; appended to.

    Returns
    -------
    dict of str to object
        The valid bands by :func:`plan_label` of their scenario.

    """
    if bands is None:
        return {}
    if not isinstance(bands, Mapping):
        problems.append(f"bands: expected a mapping {{scenario name: PlanBand}}, got {type(bands).__name__}")
        return {}
    out: dict[str, object] = {}
    for name, band in bands.items():
        label = plan_label(name)
        if label not in plans:
            problems.append(f"bands[{name!r}]: no plan of that name; give bands only for the plans mapped")
        elif not isinstance(band, PlanBand):
            problems.append(
                f"bands[{name!r}]: expected a redistrict.maps.PlanBand, got {type(band).__name__}"
            )
        elif _band_problem(band.lo, band.hi) or band.unit not in BAND_UNITS:
            problems.append(
                f"bands[{name!r}]: {band!r} is not a band; give PlanBand(low, high, unit) with "
                "0 <= low <= high and unit 'households' or 'residents'"
            )
        else:
            out[label] = band
    return out


def _check_geometry_types(layer: gpd.GeoDataFrame, name: str, problems: list[str]) -> None:
    """Check that a context layer holds the kind of geometry it is drawn as.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        A context layer with a CRS.
    name : str
        Layer name (a key of :data:`_LAYER_GEOMETRY`) used in messages.
    problems : list of str
        Problems found so far; appended to.

    """
    allowed, what = _LAYER_GEOMETRY[name]
    types = layer.geometry.geom_type
    wrong = types.notna() & ~types.isin(allowed)
    if wrong.any():
        rows = [str(i) for i in layer.index[wrong.to_numpy()]]
        found = ", ".join(sorted(set(types[wrong])))
        problems.append(
            f"{name}: feature(s) at row(s) {_ids(rows)} are {found}; this layer must hold "
            f"{what} (fix or drop those features)"
        )


def check_inputs(
    plans: Mapping[str, object],
    info: object,
    context: Mapping[str, object],
    lang: object,
    tiles: object,
    *,
    bands: object = None,
) -> None:
    """Validate everything a map function receives and raise once.

    Parameters
    ----------
    plans : mapping of str to object
        Units layers by the name used in messages (:func:`plan_label` for the
        scenarios of a comparison).
    info : object
        Expected to be a :class:`MapInfo`.
    context : mapping of str to object
        Optional context layers by name (None when not given).
    lang : object
        Expected ``"zh"`` or ``"en"``.
    tiles : object
        None or a tile URL template.
    bands : object, optional
        Band of each scenario of a comparison: None or a mapping of scenario
        name to :class:`PlanBand`. Units judged by a band in residents must have
        their ``residents``.

    Raises
    ------
    InputError
        Listing every problem found.

    """
    problems: list[str] = []
    for name, units in plans.items():
        _check_units(units, name, problems)
    for name, layer in context.items():
        if layer is not None and _check_frame(layer, name, problems):
            assert isinstance(layer, gpd.GeoDataFrame)
            _check_geometry_types(layer, name, problems)
    given = _check_bands(bands, plans, problems)
    if not isinstance(info, MapInfo):
        problems.append(f"info: expected a redistrict.maps.MapInfo, got {type(info).__name__}")
    else:
        band = info.band
        if not isinstance(band, tuple | list) or len(band) != 2 or _band_problem(*band):
            problems.append(
                f"info.band: {band!r} is not a band; give (low, high) with "
                "0 <= low <= high, e.g. (2000, 3000)"
            )
        if info.band_unit not in BAND_UNITS:
            problems.append(
                f"info.band_unit: {info.band_unit!r} is not supported; use 'households' or 'residents'"
            )
        for name, units in plans.items():
            unit = getattr(given.get(name), "unit", info.band_unit)
            if unit == "residents":
                _check_residents(units, name, problems)
        if info.gap is not None and not isinstance(info.gap, int | float | np.number):
            problems.append(f"info.gap: {info.gap!r} is not a number; give a fraction or None")
        bad_totals = sorted(
            str(k) for k, v in info.totals.items() if not isinstance(v, int | float | np.number)
        )
        if bad_totals:
            problems.append(f"info.totals: value(s) of {', '.join(bad_totals)} are not numbers; give numbers")
    if lang not in STRINGS:
        problems.append(f"lang: {lang!r} is not supported; use 'zh' (default) or 'en'")
    if tiles is not None and (
        not isinstance(tiles, str) or not all(p in tiles for p in ("{z}", "{x}", "{y}"))
    ):
        problems.append(
            f"tiles (--tiles): {tiles!r} is not a tile URL template; leave it out (no tiles: the roads "
            "are the base map) or give your tile server's URL with {z}, {x} and {y}, e.g. "
            "'http://tiles.intranet/{z}/{x}/{y}.png'"
        )
    if problems:
        raise InputError(problems)
