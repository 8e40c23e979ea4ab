"""How files of particular formats are read for :mod:`redistrict._load_read`.

Every layer is read with pyogrio (:func:`read_frame`). Two formats need more:

* a Shapefile written in Chinese (GBK) without a ``.cpg`` file saying so has its
  column names mis-decoded; when only the GB18030 decoding of its raw ``.dbf``
  field names holds the columns asked for, it is read again in that encoding;
* a CSV file of points usually has coordinate columns (``lon``/``lat``,
  ``x``/``y`` ...) rather than a geometry: they are read as points, in WGS 84
  when every value is in degrees and the file says no CRS.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import geopandas as gpd
import pandas as pd
import pyogrio

from redistrict import _validate as v

if TYPE_CHECKING:
    from redistrict._load_read import Report

__all__ = ["csv_points", "dbf_file", "read_frame", "reason", "shapefile_encoding"]


def read_frame(
    role: str, path: Path, layer: str, source: str, report: Report, **options: str
) -> pd.DataFrame | None:
    """Read a layer with pyogrio (``options``: encoding or open options); report failures."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame: pd.DataFrame = pyogrio.read_dataframe(path, layer=layer, **options)
        except Exception as exc:
            report.add(
                problems=[
                    f"{role}: cannot read layer {layer!r} of {path}: {reason(exc)}; "
                    f"check that the file is complete and not corrupt, or export it again "
                    f"(e.g. with ogr2ogr)"
                ]
            )
            return None
    report.add(notes=[f"{source}: {w.message}" for w in caught])
    return frame


def _sibling(path: Path, suffix: str) -> Path | None:
    """Return the file beside ``path`` with the same stem and ``suffix`` (any case)."""
    try:
        for candidate in path.parent.iterdir():
            if candidate.stem == path.stem and candidate.suffix.lower() == suffix:
                return candidate
    except OSError:
        return None
    return None


def dbf_file(path: Path, layer: str) -> Path | None:
    """Return the ``.dbf`` file of a Shapefile layer (None for other formats)."""
    if path.is_dir():
        return _sibling(path / f"{layer}.shp", ".dbf")
    if path.suffix.lower() in (".shp", ".dbf"):
        return _sibling(path, ".dbf")
    return None


def _dbf_field_names(dbf: Path) -> list[bytes] | None:
    """Return the raw (undecoded) field names of a dBASE file; None when unreadable."""
    try:
        with dbf.open("rb") as handle:
            head = handle.read(32)
            if len(head) < 32:
                return None
            size = int.from_bytes(head[8:10], "little")
            body = handle.read(max(size - 32, 0))
    except OSError:
        return None
    names = []
    for offset in range(0, len(body) - 31, 32):
        if body[offset] == 0x0D:
            break
        names.append(body[offset : offset + 11].split(b"\0", 1)[0].strip())
    return names


def shapefile_encoding(
    role: str,
    path: Path,
    layer: str,
    dbf: Path,
    frame: pd.DataFrame,
    columns: Sequence[str],
    report: Report,
) -> tuple[pd.DataFrame | None, str]:
    """Re-read a Shapefile as GB18030 when only then its names hold the requested columns.

    Returns the frame to use and a hint for "column not found" messages.
    """
    source = f"{role} ({path}:{layer})"
    names = [str(c) for c in frame.columns if c != "geometry"]
    missing = [c for c in columns if c not in names]
    if not missing:
        return frame, ""
    raw = _dbf_field_names(dbf)
    decoded: list[str] = []
    if raw is not None:
        try:
            decoded = [name.decode("gb18030") for name in raw]
        except UnicodeDecodeError:
            decoded = []
    if decoded != names and any(c in decoded for c in missing):
        again = read_frame(role, path, layer, source, report, encoding="GB18030")
        if again is None:
            return None, ""
        cpg = _sibling(dbf, ".cpg")
        if cpg is None:
            why = "because it has no .cpg file; add a .cpg file containing GBK to say so"
        else:
            try:
                said = cpg.read_text(encoding="ascii", errors="replace").strip()
            except OSError:
                said = "?"
            why = (
                f"because only then its column names hold {', '.join(repr(c) for c in missing)} "
                f"(its .cpg file says {said!r}); write GBK into {cpg.name} to say so"
            )
        report.add(notes=[f"{source}: read {path} as GB18030 (GBK) text {why}"])
        return again, ""
    if v.misdecoded_names(names):
        return frame, (
            "the names look mis-decoded: if the file is in Chinese encoding, add a .cpg file "
            "containing GBK beside the .shp (for another encoding, its name, e.g. CP1251)"
        )
    return frame, ""


#: Pairs of column names (lower case) read as point coordinates from a CSV file.
_COORDINATE_NAMES: Final[tuple[tuple[str, str], ...]] = (
    ("lon", "lat"),
    ("lng", "lat"),
    ("long", "lat"),
    ("longitude", "latitude"),
    ("x", "y"),
    ("point_x", "point_y"),
    ("easting", "northing"),
)


def csv_points(role: str, path: Path, layer: str, frame: pd.DataFrame, report: Report) -> pd.DataFrame | None:
    """Read a CSV layer without geometry as points from its coordinate columns.

    Returns the points, ``frame`` unchanged when it is not a CSV file with coordinate
    columns, or None (with a problem) when the CRS of the coordinates is unknown.
    """
    lowered = {str(c).lower(): str(c) for c in frame.columns}
    pair = next(
        ((lowered[x], lowered[y]) for x, y in _COORDINATE_NAMES if x in lowered and y in lowered), None
    )
    if pair is None:
        return frame
    try:
        driver = pyogrio.read_info(path, layer=layer)["driver"]
    except Exception:
        return frame
    if driver != "CSV":
        return frame
    source = f"{role} ({path}:{layer})"
    x, y = pair
    recipe = (
        f"ogr2ogr -oo X_POSSIBLE_NAMES={x} -oo Y_POSSIBLE_NAMES={y} -a_srs EPSG:<code> {role}.gpkg {path}"
    )
    points = read_frame(role, path, layer, source, report, X_POSSIBLE_NAMES=x, Y_POSSIBLE_NAMES=y)
    if not isinstance(points, gpd.GeoDataFrame):
        return points
    located: pd.DataFrame = points
    if points.crs is not None:
        report.add(notes=[f"{source}: read points from the columns {x!r} and {y!r} (CRS {points.crs.name})"])
        return located
    xs = points.geometry.x
    ys = points.geometry.y
    given = xs.notna() & ys.notna()
    if given.any() and bool((xs[given].abs() <= 180).all()) and bool((ys[given].abs() <= 90).all()):
        report.add(
            notes=[
                f"{source}: read points from the columns {x!r} (longitude) and {y!r} (latitude) "
                f"in WGS 84 (EPSG:4326), since the file has no CRS and every value is in degrees; "
                f"if they are in another CRS, convert the file: "
                f"`{recipe.replace('EPSG:<code>', 'EPSG:<its code>')}`"
            ]
        )
        located = points.set_crs("EPSG:4326")
        return located
    report.add(
        problems=[
            f"{source}: the columns {x!r} and {y!r} look like point coordinates, but they are not "
            f"longitude/latitude degrees and the file does not say their CRS: convert the file "
            f"with the CRS they are in, e.g. `{recipe}`"
        ]
    )
    return None


def reason(exc: Exception) -> str:
    """Return an exception's message without trailing punctuation."""
    return str(exc).strip().rstrip(".;") or type(exc).__name__
