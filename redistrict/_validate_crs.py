"""Checks of coordinate reference systems; part of :mod:`redistrict._validate`."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyproj

__all__ = [
    "MAX_COORDINATE",
    "SCALE_TOLERANCE",
    "SWAP_HINT",
    "Distortion",
    "check_crs",
    "check_degrees",
    "check_projected",
    "is_metric",
    "scale_distortion",
    "swapped_axes_hint",
]

#: Largest relative error of lengths or areas accepted from a projected CRS at the data
#: (1 %). UTM zones, MTM zones and state plane or national grids stay within about 0.1 %
#: at their own area; Web Mercator is off by 40 % in lengths and 100 % in areas at 45 deg N.
SCALE_TOLERANCE = 0.01
#: Largest coordinate magnitude accepted: degrees stay within 360, and projected
#: coordinates within a few times the earth's circumference (Gauss-Kruger x with its
#: zone number reaches 6e7 m). Layers beyond it are refused row by row
#: (:func:`redistrict._validate_geometry.check_geometries`), not by these CRS checks.
MAX_COORDINATE = 1e9


def is_metric(crs: pyproj.CRS) -> bool:
    """Tell whether ``crs`` is projected with metre units on both axes.

    Parameters
    ----------
    crs : pyproj.CRS
        Coordinate reference system to inspect.

    Returns
    -------
    bool
        True for projected CRSs measured in metres (UTM, MTM, Lambert ...). Only the unit
        is checked: whether those metres are ground metres at the data is measured by
        :func:`scale_distortion` (Web Mercator's are not).

    """
    if not crs.is_projected:
        return False
    axes = crs.axis_info[:2]
    return bool(axes) and all(
        a.unit_name in ("metre", "meter") or math.isclose(a.unit_conversion_factor, 1.0) for a in axes
    )


def check_crs(
    crs: pyproj.CRS | None, source: str, path: str, bounds: Sequence[float] | None = None
) -> list[str]:
    """Check that a layer declares its coordinate reference system.

    Parameters
    ----------
    crs : pyproj.CRS or None
        The layer's CRS as read.
    source : str
        Human description of the layer.
    path : str
        The file, used in the ``ogr2ogr`` fix hint.
    bounds : sequence of float, optional
        ``(minx, miny, maxx, maxy)`` of the layer: the hint then suggests
        longitude/latitude only for coordinates that can be degrees.

    Returns
    -------
    list of str
        Empty, or one problem explaining how to assign the CRS.

    """
    if crs is not None:
        return []
    missing = f"{source} has no coordinate reference system (CRS), so it cannot be placed on the map: "
    if bounds is not None and all(math.isfinite(b) for b in bounds) and not _degrees(bounds):
        minx, miny, maxx, maxy = bounds
        return [
            missing + f"its coordinates ({minx:.6g}, {miny:.6g}) .. ({maxx:.6g}, {maxy:.6g}) are "
            "not degrees but projected ones (metres, feet ...): assign the projected CRS they are "
            f"in (the data's documentation names it), e.g. `ogr2ogr -a_srs EPSG:XXXX fixed.gpkg {path}`"
        ]
    return [
        missing + "assign the CRS the coordinates are really in, e.g. "
        f"`ogr2ogr -a_srs EPSG:4326 fixed.gpkg {path}` for longitude/latitude"
    ]


def _placeable(bounds: Sequence[float]) -> bool:
    """Whether every bound is finite and within :data:`MAX_COORDINATE`."""
    return all(math.isfinite(b) and abs(b) <= MAX_COORDINATE for b in bounds)


def _degrees(bounds: Sequence[float]) -> bool:
    """Whether ``(minx, miny, maxx, maxy)`` can be longitudes and latitudes."""
    minx, miny, maxx, maxy = bounds
    return -180.0 <= minx <= maxx <= 360.0 and -90.0 <= miny <= maxy <= 90.0


def check_degrees(crs: pyproj.CRS | None, bounds: Sequence[float], source: str, path: str) -> list[str]:
    """Check that a layer in a geographic CRS really holds longitudes and latitudes.

    Parameters
    ----------
    crs : pyproj.CRS or None
        The layer's CRS as read.
    bounds : sequence of float
        ``(minx, miny, maxx, maxy)`` of the layer (NaN when it has no geometry).
    source : str
        Human description of the layer.
    path : str
        The file, used in the ``ogr2ogr`` fix hint.

    Returns
    -------
    list of str
        Empty, or one problem saying the declared CRS does not match the coordinates.

    """
    if crs is None or not crs.is_geographic or not _placeable(bounds):
        return []
    if _degrees(bounds):
        return []
    minx, miny, maxx, maxy = bounds
    swapped = -90.0 <= minx <= maxx <= 90.0 and -180.0 <= miny <= maxy <= 180.0
    return [
        f"{source}: declares the geographic CRS {crs.name} but its coordinates "
        f"({minx:.6g}, {miny:.6g}) .. ({maxx:.6g}, {maxy:.6g}) are not degrees: "
        + (f"they would be with x and y swapped: {SWAP_HINT}; otherwise " if swapped else "")
        + f"assign the CRS the coordinates are really in, e.g. "
        f"`ogr2ogr -a_srs EPSG:XXXX fixed.gpkg {path}`"
    ]


def check_projected(crs: pyproj.CRS | None, bounds: Sequence[float], source: str, path: str) -> list[str]:
    """Check that a layer in a projected CRS holds coordinates that CRS can place on the earth.

    A common mistake with Gauss-Kruger data: x values that carry the zone number
    in front (38 411 000 in zone 38) labelled with the CRS without it (EPSG:4547,
    "CGCS2000 / 3-degree Gauss-Kruger CM 114E"). The point then lies 38,000 km
    east of the central meridian, where the projection has no inverse; the plan
    would be drawn nowhere.

    Parameters
    ----------
    crs : pyproj.CRS or None
        The layer's CRS as read.
    bounds : sequence of float
        ``(minx, miny, maxx, maxy)`` of the layer (NaN when it has no geometry).
    source : str
        Human description of the layer.
    path : str
        The file, used in the ``ogr2ogr`` fix hint.

    Returns
    -------
    list of str
        Empty, or one problem naming the coordinates and, when one is found, the
        CRS with the zone number that places them.

    """
    if crs is None or not crs.is_projected or not _placeable(bounds):
        return []
    if _lonlat(crs, bounds) is not None:
        return []
    minx, miny, maxx, maxy = bounds
    zoned = _zone_prefixed(crs, bounds)
    fix = (
        f"the x values seem to start with the zone number {int(minx // 1_000_000)}: assign "
        f"{zoned.name} (EPSG:{zoned.to_epsg()}), e.g. `ogr2ogr -a_srs EPSG:{zoned.to_epsg()} "
        f"fixed.gpkg {path}`"
        if zoned is not None
        else "assign the CRS the coordinates are really in, e.g. "
        f"`ogr2ogr -a_srs EPSG:XXXX fixed.gpkg {path}`"
    )
    return [
        f"{source}: declares the CRS {crs.name} but its coordinates ({minx:,.0f}, {miny:,.0f}) .. "
        f"({maxx:,.0f}, {maxy:,.0f}) lie outside what that CRS can place on the earth: {fix}"
    ]


def _lonlat(crs: pyproj.CRS, bounds: Sequence[float]) -> tuple[float, float] | None:
    """Longitude and latitude of the box's corners and centre in ``crs``'s datum, or None.

    None when any of them has no inverse (infinite or out of range).
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    xs = [minx, maxx, minx, maxx, (minx + maxx) / 2]
    ys = [miny, miny, maxy, maxy, (miny + maxy) / 2]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            geodetic = crs.geodetic_crs
            if geodetic is None:
                return None
            to_lonlat = pyproj.Transformer.from_crs(crs, geodetic, always_xy=True)
            lon, lat = (np.asarray(v, dtype=float) for v in to_lonlat.transform(xs, ys))
    except Exception:
        return None
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()) or np.abs(lat).max() > 90:
        return None
    return float(lon[-1]), float(lat[-1])


def _zone_prefixed(crs: pyproj.CRS, bounds: Sequence[float]) -> pyproj.CRS | None:
    """The CRS of the same datum and meridian whose false easting carries the zone number.

    For x values like 38 411 000 labelled "CGCS2000 / 3-degree Gauss-Kruger CM
    114E" this is "CGCS2000 / 3-degree Gauss-Kruger zone 38" (EPSG:4526), when
    the coordinates lie inside its area of use; None otherwise.
    """
    zone = int(float(bounds[0]) // 1_000_000)
    params = _params(crs)
    if not 1 <= zone <= 60 or params is None or " / " not in crs.name:
        return None
    datum = crs.name.split(" / ")[0]
    easting = params.get("False easting", 0.0) + zone * 1_000_000
    meridian = params.get("Longitude of natural origin")
    from pyproj.database import query_crs_info
    from pyproj.enums import PJType

    for info in query_crs_info(auth_name="EPSG", pj_types=[PJType.PROJECTED_CRS]):
        if not info.name.startswith(f"{datum} / ") or f"zone {zone}" not in info.name or info.deprecated:
            continue
        candidate = pyproj.CRS.from_epsg(int(info.code))
        other = _params(candidate)
        if other is None or other.get("Longitude of natural origin") != meridian:
            continue
        if not math.isclose(other.get("False easting", math.nan), easting):
            continue
        where = _lonlat(candidate, bounds)
        area = candidate.area_of_use
        if where is not None and (area is None or _inside(where, area.bounds)):
            return candidate
    return None


def _params(crs: pyproj.CRS) -> dict[str, float] | None:
    """The numeric parameters of a projected CRS's conversion, by name."""
    operation = crs.coordinate_operation
    if operation is None:
        return None
    return {p.name: float(p.value) for p in operation.params if isinstance(p.value, int | float)}


def _inside(lonlat: tuple[float, float], box: tuple[float, float, float, float], margin: float = 1.0) -> bool:
    """Whether a longitude/latitude lies in ``box`` (west, south, east, north) grown by ``margin`` degrees."""
    lon, lat = lonlat
    west, south, east, north = box
    return west - margin <= lon <= east + margin and south - margin <= lat <= north + margin


#: How to swap the axes of a layer that stores latitude before longitude.
SWAP_HINT = (
    "if the file stores latitude before longitude, swap the axes "
    "(QGIS: Processing > 'Swap X and Y coordinates')"
)
#: Latitude beyond which few cities lie: data centred there may have its axes swapped.
POLAR_LATITUDE = 66.5


def swapped_axes_hint(bounds: Sequence[float]) -> str:
    """A hint when longitude/latitude bounds look like latitude/longitude.

    Parameters
    ----------
    bounds : sequence of float
        ``(minx, miny, maxx, maxy)`` in degrees.

    Returns
    -------
    str
        Empty, or a sentence for a note when the data's centre lies beyond the polar
        circles but would not with x and y swapped (Ottawa stored as (45.4, -75.7)
        lands in Antarctica).

    """
    if len(bounds) != 4 or not all(math.isfinite(b) for b in bounds):
        return ""
    lon = (bounds[0] + bounds[2]) / 2.0
    lat = (bounds[1] + bounds[3]) / 2.0
    if abs(lat) <= POLAR_LATITUDE or abs(lon) > POLAR_LATITUDE:
        return ""
    return f"; its centre lies at latitude {lat:.1f}, beyond the polar circles: {SWAP_HINT}"


@dataclass(frozen=True)
class Distortion:
    """How much a projection misstates ground lengths and areas over a layer.

    Attributes
    ----------
    length : float
        The length scale farthest from 1 in any direction (Tissot's semi-axes), e.g.
        1.42 when map metres are 1.42 ground metres.
    area : float
        The areal scale farthest from 1.

    """

    length: float
    area: float

    def exceeds(self, tolerance: float = SCALE_TOLERANCE) -> bool:
        """Tell whether lengths or areas are off by more than ``tolerance`` (relative)."""
        return abs(self.length - 1.0) > tolerance or abs(self.area - 1.0) > tolerance

    def worse_than(self, other: Distortion) -> bool:
        """Tell whether this distortion is larger than ``other`` (lengths, then areas)."""
        return _error(self) > _error(other)


def _error(d: Distortion) -> tuple[float, float]:
    return abs(math.log(d.length)), abs(math.log(d.area))


def scale_distortion(
    crs: pyproj.CRS, bounds: Sequence[float], bounds_crs: pyproj.CRS | None = None
) -> Distortion | None:
    """Measure the scale distortion of a projected CRS over a bounding box.

    The scale factors are evaluated with :meth:`pyproj.Proj.get_factors` at the centre,
    corners and edge midpoints of the box; the worst of those is returned.

    Parameters
    ----------
    crs : pyproj.CRS
        The projected CRS whose distortion is measured.
    bounds : sequence of float
        ``(minx, miny, maxx, maxy)`` of the data.
    bounds_crs : pyproj.CRS, optional
        The CRS of ``bounds``; ``crs`` itself by default.

    Returns
    -------
    Distortion or None
        None when ``crs`` is not projected, the box is not finite or the factors cannot be
        computed (the caller then keeps the CRS as it is).

    """
    if not crs.is_projected or len(bounds) != 4 or not all(math.isfinite(b) for b in bounds):
        return None
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    xs = np.array([minx, (minx + maxx) / 2, maxx] * 3)
    ys = np.repeat([miny, (miny + maxy) / 2, maxy], 3)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            geodetic = crs.geodetic_crs
            if geodetic is None:
                return None
            to_lonlat = pyproj.Transformer.from_crs(bounds_crs or crs, geodetic, always_xy=True)
            lon, lat = to_lonlat.transform(xs, ys)
            factors = pyproj.Proj(crs).get_factors(np.asarray(lon), np.asarray(lat))
        semimajor = np.asarray(factors.tissot_semimajor, dtype=float)
        semiminor = np.asarray(factors.tissot_semiminor, dtype=float)
        areal = np.asarray(factors.areal_scale, dtype=float)
    except Exception:
        return None
    ok = np.isfinite(semimajor) & np.isfinite(semiminor) & np.isfinite(areal)
    ok &= (semiminor > 0) & (areal > 0)
    if not ok.any():
        return None
    lengths = np.concatenate([semimajor[ok], semiminor[ok]])
    length = float(lengths[np.argmax(np.abs(np.log(lengths)))])
    area = float(areal[ok][np.argmax(np.abs(np.log(areal[ok])))])
    return Distortion(length=length, area=area)
