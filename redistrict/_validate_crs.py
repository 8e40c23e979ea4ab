"""Checks of coordinate reference systems; part of :mod:`redistrict._validate`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyproj

__all__ = ["check_crs", "check_degrees", "is_metric"]


def is_metric(crs: pyproj.CRS) -> bool:
    """Tell whether ``crs`` is projected with metre units on both axes.

    Parameters
    ----------
    crs : pyproj.CRS
        Coordinate reference system to inspect.

    Returns
    -------
    bool
        True for projected CRSs measured in metres (UTM, MTM, Lambert ...).

    """
    if not crs.is_projected:
        return False
    axes = crs.axis_info[:2]
    return bool(axes) and all(
        a.unit_name in ("metre", "meter") or math.isclose(a.unit_conversion_factor, 1.0) for a in axes
    )


def check_crs(crs: pyproj.CRS | None, source: str, path: str) -> list[str]:
    """Check that a layer declares its coordinate reference system.

    Parameters
    ----------
    crs : pyproj.CRS or None
        The layer's CRS as read.
    source : str
        Human description of the layer.
    path : str
        The file, used in the ``ogr2ogr`` fix hint.

    Returns
    -------
    list of str
        Empty, or one problem explaining how to assign the CRS.

    """
    if crs is not None:
        return []
    return [
        f"{source} has no coordinate reference system (CRS), so it cannot be placed on the map: "
        f"assign the CRS the coordinates are really in, e.g. "
        f"`ogr2ogr -a_srs EPSG:4326 fixed.gpkg {path}` for longitude/latitude"
    ]


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
    if crs is None or not crs.is_geographic or not all(math.isfinite(b) for b in bounds):
        return []
    minx, miny, maxx, maxy = bounds
    if -180.0 <= minx <= maxx <= 360.0 and -90.0 <= miny <= maxy <= 90.0:
        return []
    return [
        f"{source}: declares the geographic CRS {crs.name} but its coordinates "
        f"({minx:.6g}, {miny:.6g}) .. ({maxx:.6g}, {maxy:.6g}) are not degrees: assign the "
        f"CRS the coordinates are really in, e.g. `ogr2ogr -a_srs EPSG:XXXX fixed.gpkg {path}`"
    ]
