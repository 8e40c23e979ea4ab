"""Coordinate reference systems of the input layers: checks, the metric CRS, reprojection."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pyproj
import pyproj.aoi
import pyproj.database

from redistrict import _validate as v
from redistrict._load_read import Layer, Report
from redistrict._validate_crs import check_projected, scale_distortion, swapped_axes_hint

__all__ = ["check_layer_crs", "metric_crs", "to_crs"]


def check_layer_crs(layer: Layer) -> list[str]:
    """Check that a layer declares a CRS, and that a geographic CRS really holds degrees."""
    frame = layer.frame
    bounds = frame.total_bounds if isinstance(frame, gpd.GeoDataFrame) and len(frame) else None
    problems = v.check_crs(frame.crs, layer.source, str(layer.path), bounds)
    if not problems and frame.crs.is_geographic:
        problems = v.check_degrees(frame.crs, frame.total_bounds, layer.source, str(layer.path))
    elif not problems:
        problems = check_projected(frame.crs, frame.total_bounds, layer.source, str(layer.path))
    return problems


def metric_crs(geometry: gpd.GeoSeries, source: str, report: Report) -> pyproj.CRS | None:
    """Return the blocks' CRS if it measures ground metres, else the UTM zone of their median position.

    A CRS measures ground metres when it is projected in metres and its scale at the blocks
    is within :data:`~redistrict._validate_crs.SCALE_TOLERANCE` of 1 for lengths and areas.
    Longitude/latitude, feet and strongly distorting projections (Web Mercator ...) are
    replaced by the local UTM zone, with a note that says why.
    """
    crs = pyproj.CRS.from_user_input(geometry.crs)
    if v.is_metric(crs):
        distortion = scale_distortion(crs, geometry.total_bounds)
        if distortion is None or not distortion.exceeds():
            return crs
        reason = (
            f"CRS {crs.name} distorts lengths by x{distortion.length:.3f} "
            f"and areas by x{distortion.area:.3f} here"
        )
    elif v.check_degrees(crs, geometry.total_bounds, source, ""):
        return None  # already reported when the layer was read
    else:
        distortion = None
        reason = f"CRS {crs.name} is not in metres"
        if crs.is_geographic:
            reason += swapped_axes_hint(geometry.total_bounds)
    present = geometry[~(geometry.isna() | geometry.is_empty)]
    try:
        utm = _utm_of_bulk(present)
    except Exception as exc:
        if distortion is not None:
            report.add(
                notes=[f"{source}: {reason}, and no UTM zone could be derived ({exc}); kept {crs.name}"]
            )
            return crs
        report.add(
            problems=[
                f"{source}: its CRS {crs.name} is not in metres and no UTM zone could be "
                f"derived from its coordinates ({exc}); reproject the blocks to a metric CRS "
                f"(e.g. `ogr2ogr -t_srs EPSG:32650 ...`)"
            ]
        )
        return None
    if distortion is not None:
        in_utm = scale_distortion(utm, geometry.total_bounds, crs)
        if in_utm is None or not distortion.worse_than(in_utm):
            # The data spans more than any one UTM zone serves well: keep the user's choice.
            report.add(notes=[f"{source}: {reason}; no UTM zone does better, kept {crs.name}"])
            return crs
    report.add(notes=[f"{source}: {reason}; working in {utm.name} (EPSG:{utm.to_epsg()})"])
    return utm


def _utm_of_bulk(geometry: gpd.GeoSeries) -> pyproj.CRS:
    """The UTM zone of the median longitude and latitude of the features.

    geopandas' ``estimate_utm_crs`` takes the centre of the bounds, which one
    address geocoded to (0, 0) moves to another continent: every length and area
    of the plan would then be distorted (a 5 km² district read as 10 km²).
    """
    points = geometry.representative_point().to_crs("EPSG:4326")
    if points.empty:
        raise ValueError("there are no coordinates")
    lon, lat = float(np.median(points.x)), float(np.median(points.y))
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise ValueError("the coordinates give no longitude and latitude")
    found = pyproj.database.query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=pyproj.aoi.AreaOfInterest(lon, lat, lon, lat),
    )
    if not found:
        raise ValueError(f"no UTM zone covers longitude {lon:.4f}, latitude {lat:.4f}")
    return pyproj.CRS.from_epsg(int(found[0].code))


def to_crs(
    frame: gpd.GeoDataFrame, crs: pyproj.CRS | None, source: str, report: Report
) -> gpd.GeoDataFrame | None:
    """Reproject ``frame`` to ``crs`` (no-op when equal or unknown)."""
    if crs is None or frame.crs is None:
        return frame
    own = pyproj.CRS.from_user_input(frame.crs)
    if own == crs:
        return frame
    code = crs.to_epsg()
    if code is not None and own.to_epsg() == code:
        # The same CRS written another way (an ESRI .prj's WKT for an EPSG code): nothing to move.
        return frame.set_crs(crs, allow_override=True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = frame.to_crs(crs)
    except Exception as exc:
        report.add(
            problems=[
                f"{source}: cannot reproject from {frame.crs.name} to {crs.name}: {exc}; "
                f"check that the layer's CRS matches its coordinates"
            ]
        )
        return None
    report.add(notes=[f"{source}: reprojected from {frame.crs.name} to {crs.name}"])
    report.add(notes=[f"{source}: {w.message}" for w in caught])
    return out
