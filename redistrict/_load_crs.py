"""Coordinate reference systems of the input layers: checks, the metric CRS, reprojection."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pyproj

from redistrict import _validate as v
from redistrict._load_read import Layer, Report

__all__ = ["check_layer_crs", "metric_crs", "to_crs"]


def check_layer_crs(layer: Layer) -> list[str]:
    """Check that a layer declares a CRS, and that a geographic CRS really holds degrees."""
    frame = layer.frame
    problems = v.check_crs(frame.crs, layer.source, str(layer.path))
    if not problems and frame.crs.is_geographic:
        problems = v.check_degrees(frame.crs, frame.total_bounds, layer.source, str(layer.path))
    return problems


def metric_crs(geometry: gpd.GeoSeries, source: str, report: Report) -> pyproj.CRS | None:
    """Return the blocks' CRS if metric, else the UTM zone of their centre."""
    crs = pyproj.CRS.from_user_input(geometry.crs)
    if v.is_metric(crs):
        return crs
    if v.check_degrees(crs, geometry.total_bounds, source, ""):
        return None  # already reported when the layer was read
    present = geometry[~(geometry.isna() | geometry.is_empty)]
    try:
        utm = present.estimate_utm_crs()
    except Exception as exc:
        report.add(
            problems=[
                f"{source}: its CRS {crs.name} is not in metres and no UTM zone could be "
                f"derived from its coordinates ({exc}); reproject the blocks to a metric CRS "
                f"(e.g. `ogr2ogr -t_srs EPSG:32650 ...`)"
            ]
        )
        return None
    report.add(
        notes=[f"{source}: CRS {crs.name} is not in metres; working in {utm.name} (EPSG:{utm.to_epsg()})"]
    )
    return pyproj.CRS.from_user_input(utm)


def to_crs(
    frame: gpd.GeoDataFrame, crs: pyproj.CRS | None, source: str, report: Report
) -> gpd.GeoDataFrame | None:
    """Reproject ``frame`` to ``crs`` (no-op when equal or unknown)."""
    if crs is None or frame.crs is None or pyproj.CRS.from_user_input(frame.crs) == crs:
        return frame
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
