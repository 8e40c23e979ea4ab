"""Tables of points: coordinate columns (``lon``/``lat``, ``x``/``y``, ``经度``/``纬度`` ...).

A CSV file or spreadsheet (XLSX, ODS, XLS) of points usually has coordinate columns
rather than a geometry: they are read as points, in the CRS of a ``.prj`` file beside
a CSV file (as GDAL does), else in WGS 84 when every value is in degrees; otherwise
the message gives the ``ogr2ogr`` recipe that states their CRS (for a spreadsheet,
after saving the sheet as CSV).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from redistrict import _validate as v
from redistrict._load_formats import InputPath, layer_driver, reason, sibling

if TYPE_CHECKING:
    from redistrict._load_read import Report

__all__ = ["COORDINATE_NAMES", "TABLE_DRIVERS", "coordinate_advice", "csv_geometry_crs", "csv_points"]

#: GDAL drivers of tables whose coordinate columns are read as points: CSV and spreadsheets.
TABLE_DRIVERS: Final[frozenset[str]] = frozenset({"CSV", "XLSX", "ODS", "XLS"})

#: Pairs of column names (lower case) read as point coordinates from a CSV file.
COORDINATE_NAMES: Final[tuple[tuple[str, str], ...]] = (
    ("lon", "lat"),
    ("lng", "lat"),
    ("long", "lat"),
    ("longitude", "latitude"),
    ("x", "y"),
    ("point_x", "point_y"),
    ("easting", "northing"),
    ("经度", "纬度"),
    ("东经", "北纬"),
    ("x坐标", "y坐标"),
    ("坐标x", "坐标y"),
    ("横坐标", "纵坐标"),
)


def coordinate_advice() -> str:
    """Return advice on naming the coordinate columns of a CSV file of points.

    Returns
    -------
    str
        The recognised pairs of names, for "has no geometry column" messages.

    """
    pairs = ", ".join(f"{x}/{y}" for x, y in COORDINATE_NAMES)
    return (
        f"for a table of points (CSV or spreadsheet), name its coordinate columns lon and lat (or x and y, "
        f"经度 and 纬度 ...; recognised pairs, in any case: {pairs})"
    )


def _numbers(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return a column as numbers and where it holds text that is not a number."""
    text = column.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce").astype(float)
    bad = numbers.isna() & text.notna() & (text != "")
    return numbers, bad.astype(bool)


def _csv_crs(path: InputPath, source: str, report: Report) -> tuple[bool, pyproj.CRS | None]:
    """Read the CRS of a CSV file from a ``.prj`` file beside it, as GDAL does.

    Returns whether it could be read and the CRS (None without ``.prj`` file, and for
    a GDAL virtual path, whose neighbours are not looked at).
    """
    prj = sibling(path, ".prj") if isinstance(path, Path) else None
    if prj is None:
        return True, None
    try:
        return True, pyproj.CRS.from_user_input(prj.read_text(encoding="utf-8", errors="replace").strip())
    except (OSError, pyproj.exceptions.CRSError) as exc:
        report.add(
            problems=[
                f"{source}: cannot read the CRS in {prj}: {reason(exc)}; write the CRS as WKT into "
                f"it (e.g. export the points from QGIS) or remove it"
            ]
        )
        return False, None


def _conversion(role: str, path: InputPath, layer: str, driver: str, x: str, y: str, crs: str) -> str:
    """Say how to convert a table of points in the CRS ``crs`` (``EPSG:<code>``) with ``ogr2ogr``."""
    options = f"-oo X_POSSIBLE_NAMES={x} -oo Y_POSSIBLE_NAMES={y} -a_srs {crs}"
    if driver == "CSV":
        return f"convert the file: `ogr2ogr {options} {role}.gpkg {path}`"
    return (
        f"save the sheet {layer!r} of {path} as CSV ({role}.csv) and convert that: "
        f"`ogr2ogr {options} {role}.gpkg {role}.csv`"
    )


def csv_points(
    role: str, path: InputPath, layer: str, frame: pd.DataFrame, report: Report
) -> pd.DataFrame | None:
    """Read a CSV or spreadsheet layer without geometry as points from its coordinate columns.

    Parameters
    ----------
    role : str
        Role of the layer, for messages.
    path : pathlib.Path or str
        The file (a GDAL virtual path or URL as text).
    layer : str
        The layer.
    frame : pandas.DataFrame
        The layer as read, without geometry.
    report : Report
        Where problems and notes go.

    Returns
    -------
    pandas.DataFrame or None
        The points (a GeoDataFrame), ``frame`` unchanged when it has no coordinate
        columns (by :data:`COORDINATE_NAMES`), or None (with a problem) when the
        coordinates are not numbers or their CRS is unknown.

    """
    lowered = {str(c).strip().lower(): str(c) for c in frame.columns}
    pairs = ((lowered[x], lowered[y]) for x, y in COORDINATE_NAMES if x in lowered and y in lowered)
    pair = next(pairs, None)
    driver = layer_driver(path, layer)
    if pair is None or driver not in TABLE_DRIVERS:
        return frame
    source = f"{role} ({path}:{layer})"
    x, y = pair
    xs, bad_x = _numbers(frame[x])
    ys, bad_y = _numbers(frame[y])
    bad = bad_x | bad_y
    if bad.any():
        shown = v.format_labels(
            [f"{frame[x][i]!r}, {frame[y][i]!r}" for i in frame.index[bad.to_numpy()]], limit=3
        )
        report.add(
            problems=[
                f"{source}: the coordinate columns {x!r} and {y!r} hold values that are not numbers "
                f"in {v.format_rows(frame.index[bad.to_numpy()])}: {shown}; give decimal numbers "
                f"(e.g. 116.397, not 116°23′50″) or leave both empty"
            ]
        )
        return None
    readable, crs = _csv_crs(path, source, report) if driver == "CSV" else (True, None)
    if not readable:
        return None
    located = xs.notna() & ys.notna()
    points = np.asarray(shapely.points(xs.to_numpy(), ys.to_numpy()), dtype=object)
    points[~located.to_numpy()] = None
    geometry = gpd.GeoSeries(points, index=frame.index)
    # As GDAL reads coordinate columns: as numbers.
    frame = frame.assign(**{x: xs, y: ys})
    located_frame: pd.DataFrame
    if crs is not None:
        report.add(notes=[f"{source}: read points from the columns {x!r} and {y!r} (CRS {crs.name})"])
        located_frame = gpd.GeoDataFrame(frame, geometry=geometry, crs=crs)
        return located_frame
    if located.any() and bool((xs[located].abs() <= 180).all()) and bool((ys[located].abs() <= 90).all()):
        report.add(
            notes=[
                f"{source}: read points from the columns {x!r} (longitude) and {y!r} (latitude) "
                f"in WGS 84 (EPSG:4326), since the file has no CRS and every value is in degrees; "
                f"if they are in another CRS, "
                f"{_conversion(role, path, layer, driver, x, y, 'EPSG:<its code>')}"
            ]
        )
        located_frame = gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")
        return located_frame
    report.add(
        problems=[
            f"{source}: the columns {x!r} and {y!r} look like point coordinates, but they are not "
            f"longitude/latitude degrees and the file does not say their CRS: give the CRS they "
            f"are in: {_conversion(role, path, layer, driver, x, y, 'EPSG:<code>')}"
        ]
    )
    return None


def csv_geometry_crs(
    path: InputPath, layer: str, frame: gpd.GeoDataFrame, source: str, report: Report
) -> gpd.GeoDataFrame:
    """Give a CSV layer with a geometry column (WKT) but no CRS the CRS its coordinates allow.

    GDAL reads the CRS of a ``.prj`` file beside it; without one, as for coordinate
    columns (:func:`csv_points`), the layer is taken to be in WGS 84 when every
    coordinate is in degrees (with a note). Otherwise it is returned as it is, and
    the missing CRS is reported by the CRS check.
    """
    if frame.crs is not None or layer_driver(path, layer) != "CSV" or frame.geometry.isna().all():
        return frame
    minx, miny, maxx, maxy = frame.total_bounds
    if -180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0:
        report.add(
            notes=[
                f"{source}: its geometry was read in WGS 84 (EPSG:4326), since the file has no CRS and "
                "every coordinate is in degrees; if it is in another CRS, write that CRS as WKT into "
                f"{Path(path).with_suffix('.prj').name}"
            ]
        )
        return frame.set_crs("EPSG:4326")
    return frame
