"""Reusable input checks used by :mod:`redistrict.load`.

Every function here is pure: it never raises for bad data and never mutates its
arguments. Problems the user must fix are returned as a list of strings (one per
problem, each naming the source, column or rows and saying how to fix it); harmless
observations are returned as *notes* for the run log. The caller gathers the
problems of every check and raises a single :class:`~redistrict.errors.InputError`.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = [
    "OSM_MAJOR_HIGHWAYS",
    "GeometryCheck",
    "RoadClasses",
    "as_text",
    "check_columns",
    "check_crs",
    "check_degrees",
    "check_geometries",
    "check_unique",
    "classify_roads",
    "coerce_float",
    "coerce_households",
    "format_rows",
    "geometry_kind",
    "is_metric",
    "polygonal_part",
    "suggest_names",
]

#: OSM ``highway`` values counted as major roads when no mapping is given.
OSM_MAJOR_HIGHWAYS: Final[frozenset[str]] = frozenset(
    base + suffix
    for base in ("motorway", "trunk", "primary", "secondary", "tertiary")
    for suffix in ("", "_link")
)

_KINDS: Final[dict[str, str]] = {
    "Point": "point",
    "MultiPoint": "point",
    "LineString": "line",
    "LinearRing": "line",
    "MultiLineString": "line",
    "Polygon": "polygon",
    "MultiPolygon": "polygon",
}

_KIND_WORDS: Final[dict[str, str]] = {
    "point": "points",
    "line": "lines",
    "polygon": "polygons",
}

#: Geometry type names indexed by :func:`shapely.get_type_id`.
_TYPE_NAMES: Final[tuple[str, ...]] = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)
_MULTIPOINT_ID: Final[int] = _TYPE_NAMES.index("MultiPoint")

#: Tolerance used to accept floating values as whole numbers (e.g. 12.0000000001).
_INTEGRAL_TOLERANCE: Final[float] = 1e-6


def format_rows(labels: Iterable[Hashable], limit: int = 5) -> str:
    """Describe a set of rows by their first few index labels and their count.

    Parameters
    ----------
    labels : iterable of hashable
        Index labels of the offending rows, in file order.
    limit : int, default 5
        How many labels to show before summarising the rest.

    Returns
    -------
    str
        For example ``"3 rows (row ids 4, 9, 17)"`` or
        ``"12 rows (row ids 0, 1, 2, 3, 4, ...)"``.

    """
    items = list(labels)
    shown = ", ".join(str(label) for label in items[:limit])
    more = ", ..." if len(items) > limit else ""
    noun = "row" if len(items) == 1 else "rows"
    return f"{len(items)} {noun} (row {'id' if len(items) == 1 else 'ids'} {shown}{more})"


def _format_values(values: Iterable[Any], limit: int = 3) -> str:
    items = list(values)
    shown = ", ".join(repr(v) for v in items[:limit])
    return shown + (", ..." if len(items) > limit else "")


def suggest_names(name: str, columns: Sequence[str], limit: int = 3) -> list[str]:
    """Return the column names closest to ``name`` (case-insensitive), best first.

    Parameters
    ----------
    name : str
        The name the user asked for.
    columns : sequence of str
        The names that exist.
    limit : int, default 3
        Maximum number of suggestions.

    Returns
    -------
    list of str
        Existing column names that look like ``name``; may be empty.

    """
    lowered = {c.lower(): c for c in sorted(columns, reverse=True)}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.5)
    return [lowered[c] for c in close]


def check_columns(columns: Sequence[str], required: dict[str, str], source: str) -> list[str]:
    """Check that every requested column exists.

    Parameters
    ----------
    columns : sequence of str
        Columns present in the layer (without the geometry column).
    required : dict of str to str
        Command-line option -> column name requested through it, e.g.
        ``{"--households": "dburdwell2021"}``.
    source : str
        Human description of the layer, e.g. ``"blocks (a.gpkg:blocks)"``.

    Returns
    -------
    list of str
        One problem per missing column, suggesting near names and listing the
        columns that exist.

    """
    problems = []
    listing = ", ".join(columns) if columns else "(none)"
    for option, column in required.items():
        if column in columns:
            continue
        near = suggest_names(column, columns)
        hint = f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""
        problems.append(
            f"{source}: column {column!r} (given with {option}) not found; {hint}"
            f"pass one of the existing columns with {option}: {listing}"
        )
    return problems


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
        a.unit_name in ("metre", "meter") or math.isclose(a.unit_conversion_factor, 1.0)
        for a in axes
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


def check_degrees(
    crs: pyproj.CRS | None, bounds: Sequence[float], source: str, path: str
) -> list[str]:
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


def _numeric_view(
    values: pd.Series, source: str, column: str, option: str
) -> tuple[pd.Series, pd.Series, list[str], list[str]]:
    """Convert a column to float64, reporting text that is not a number.

    Returns the numbers, the mask of rows already reported, problems and notes.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return (
            pd.Series(np.nan, index=values.index, dtype="float64"),
            pd.Series(True, index=values.index),
            [
                f"{source}: column {column!r} holds True/False values, not numbers: "
                f"choose a numeric column with {option}"
            ],
            [],
        )
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("float64"), pd.Series(False, index=values.index), [], []
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    text = values.astype("object")
    given = text.notna() & (text.astype(str).str.strip() != "")
    bad = given & numbers.isna()
    problems = []
    notes = []
    if bad.any():
        problems.append(
            f"{source}: column {column!r} has text that is not a number in "
            f"{format_rows(values.index[bad])}: {_format_values(text[bad])}; "
            f"correct these values or choose another column with {option}"
        )
    elif given.any():
        notes.append(f"{source}: column {column!r} is stored as text; read it as numbers")
    return numbers, bad, problems, notes


def coerce_households(
    values: pd.Series, source: str, column: str, option: str = "--households"
) -> tuple[pd.Series, list[str], list[str]]:
    """Validate a household-count column and convert it to int64.

    Numbers stored as text are accepted (with a note); floats with whole values
    (as in census files) are accepted silently.

    Parameters
    ----------
    values : pandas.Series
        The raw column.
    source : str
        Human description of the layer.
    column : str
        Column name, for messages.
    option : str, default "--households"
        Option through which the column was chosen, for messages.

    Returns
    -------
    counts : pandas.Series
        int64 counts with the same index; rows with problems hold 0.
    problems : list of str
        Non-numeric text, missing, non-finite, negative or fractional values.
    notes : list of str
        Non-fatal observations.

    """
    numbers, text_bad, problems, notes = _numeric_view(values, source, column, option)
    what = f"{source}: column {column!r}"
    missing = numbers.isna() & ~text_bad
    if missing.any():
        problems.append(
            f"{what} is empty in {format_rows(values.index[missing])}: "
            f"fill in the household count (0 where nobody lives)"
        )
    infinite = np.isinf(numbers)
    if infinite.any():
        problems.append(
            f"{what} is infinite in {format_rows(values.index[infinite])}: "
            f"replace with the real household count"
        )
    finite = numbers.where(np.isfinite(numbers))
    negative = finite < 0
    if negative.any():
        problems.append(
            f"{what} is negative in {format_rows(values.index[negative])}: "
            f"{_format_values(values[negative])}; household counts must be 0 or more"
        )
    rounded = finite.round()
    fractional = (finite - rounded).abs() > _INTEGRAL_TOLERANCE
    if fractional.any():
        problems.append(
            f"{what} has fractional values in {format_rows(values.index[fractional])}: "
            f"{_format_values(finite[fractional])}; households are whole numbers: round "
            f"them or choose the household-count column with {option}"
        )
    counts = rounded.where(~(negative | fractional), 0).fillna(0).astype("int64")
    return counts, problems, notes


def coerce_float(
    values: pd.Series,
    source: str,
    column: str,
    option: str,
    *,
    allow_missing: bool = False,
) -> tuple[pd.Series, list[str], list[str]]:
    """Validate a non-negative real-valued column and convert it to float64.

    Parameters
    ----------
    values : pandas.Series
        The raw column.
    source : str
        Human description of the layer.
    column : str
        Column name, for messages.
    option : str
        Option through which the column was chosen, for messages.
    allow_missing : bool, default False
        Accept empty values (kept as NaN).

    Returns
    -------
    numbers : pandas.Series
        float64 values with the same index.
    problems : list of str
        Non-numeric text, missing (unless allowed), infinite or negative values.
    notes : list of str
        Non-fatal observations.

    """
    numbers, text_bad, problems, notes = _numeric_view(values, source, column, option)
    what = f"{source}: column {column!r}"
    missing = numbers.isna() & ~text_bad
    if missing.any() and not allow_missing:
        problems.append(
            f"{what} is empty in {format_rows(values.index[missing])}: fill in the values "
            f"or leave out {option}"
        )
    bad = np.isinf(numbers) | (numbers < 0)
    if bad.any():
        problems.append(
            f"{what} is negative or infinite in {format_rows(values.index[bad])}: "
            f"{_format_values(numbers[bad])}; values must be finite and 0 or more"
        )
    return numbers, problems, notes


def as_text(value: Any) -> str:
    """Turn a cell into a canonical string: ``""`` for missing, ``"3"`` for 3.0.

    Numbers (also numbers written as text) with a whole value lose their decimal
    part, so that integer ``1``, float ``1.0`` and text ``"1"`` compare equal.

    Parameters
    ----------
    value : object
        A cell value.

    Returns
    -------
    str
        The canonical text.

    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return ""
        return str(int(number)) if number.is_integer() else repr(number)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number.is_integer() and not text.lower().startswith("0x"):
        return str(int(number))
    return text


def check_unique(values: pd.Series, source: str, column: str, option: str) -> list[str]:
    """Check that an identifier column is complete and has no duplicates.

    Parameters
    ----------
    values : pandas.Series
        Identifiers, already converted with :func:`as_text`.
    source : str
        Human description of the layer.
    column : str
        Column name, for messages.
    option : str
        Option through which the column was chosen, for messages.

    Returns
    -------
    list of str
        Problems for empty and for duplicated identifiers.

    """
    problems = []
    empty = values == ""
    if empty.any():
        problems.append(
            f"{source}: identifier column {column!r} is empty in "
            f"{format_rows(values.index[empty])}: give every feature an identifier"
        )
    counts = values[~empty].value_counts()
    duplicated = sorted(counts[counts > 1].index)
    if duplicated:
        rows = values.index[values.isin(duplicated)]
        problems.append(
            f"{source}: identifier column {column!r} has {len(duplicated)} duplicated "
            f"value(s) {_format_values(duplicated)} in {format_rows(rows)}: identifiers "
            f"must be unique; merge or renumber these features, or choose another "
            f"column with {option}"
        )
    return problems


def geometry_kind(geom_type: str | None) -> str | None:
    """Map a geometry type name to ``"point"``, ``"line"`` or ``"polygon"``.

    Parameters
    ----------
    geom_type : str or None
        Shapely or OGR geometry type name (``"MultiPolygon"``, ``"3D LineString"``,
        ``"Point Z"`` ...).

    Returns
    -------
    str or None
        The kind, or None for collections, unknown and missing types.

    """
    if not geom_type:
        return None
    name = geom_type.replace("3D ", "").split(" ")[0]
    return _KINDS.get(name)


def polygonal_part(
    geom: BaseGeometry | None,
) -> shapely.Polygon | shapely.MultiPolygon | None:
    """Return the polygonal part of a geometry (None when it has none).

    Parameters
    ----------
    geom : shapely geometry or None
        Any geometry, e.g. the output of :func:`shapely.make_valid`.

    Returns
    -------
    shapely.Polygon, shapely.MultiPolygon or None
        The union of the polygons in ``geom``.

    """
    if geom is None or geom.is_empty:
        return None
    if isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        return geom
    polygons: list[shapely.Polygon] = [
        part
        for part in shapely.get_parts(shapely.get_parts(geom))
        if isinstance(part, shapely.Polygon) and not part.is_empty
    ]
    if not polygons:
        return None
    if len(polygons) == 1:
        return polygons[0]
    return shapely.MultiPolygon(polygons)


@dataclass
class GeometryCheck:
    """Outcome of :func:`check_geometries`.

    Attributes
    ----------
    geometry : geopandas.GeoSeries
        Repaired geometries of the rows that are kept (same index labels).
    dropped : pandas.Index
        Labels of the rows dropped (missing geometry and nothing attached).
    problems : list of str
        Problems the user must fix.
    notes : list of str
        Non-fatal observations (drops, repairs).

    """

    geometry: gpd.GeoSeries
    dropped: pd.Index
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _count_kind(count: int, kind: str) -> str:
    return f"{count} {kind if count == 1 else _KIND_WORDS[kind]}"


def _allowed_words(allowed: Collection[str]) -> str:
    return " or ".join(_KIND_WORDS[k] for k in sorted(allowed))


def check_geometries(
    geometry: gpd.GeoSeries,
    source: str,
    allowed: Collection[str],
    *,
    droppable: pd.Series | None = None,
    single_kind: bool = False,
) -> GeometryCheck:
    """Check and repair the geometries of a layer.

    * Z/M coordinates are dropped.
    * Null or empty geometries are dropped (with a note) where ``droppable`` is
      True, otherwise reported as problems.
    * Geometries of a kind not in ``allowed`` are reported; ``single_kind``
      also reports layers mixing two allowed kinds (e.g. points and polygons).
    * Invalid polygons are repaired with :func:`shapely.make_valid` keeping the
      polygonal part; collections keep their part of an allowed kind; MultiPoints
      of one point become Points; zero-length lines are dropped.

    Parameters
    ----------
    geometry : geopandas.GeoSeries
        The geometries to check.
    source : str
        Human description of the layer.
    allowed : collection of str
        Allowed kinds among ``"point"``, ``"line"`` and ``"polygon"``.
    droppable : pandas.Series of bool, optional
        Rows that may be dropped when their geometry is missing (e.g. blocks
        without households). By default every row may be dropped.
    single_kind : bool, default False
        Require all geometries to be of the same kind.

    Returns
    -------
    GeometryCheck
        Repaired geometries, dropped rows, problems and notes.

    """
    problems: list[str] = []
    notes: list[str] = []
    values = np.asarray(geometry.values, dtype=object)
    index = geometry.index
    if bool(shapely.has_z(values).any()):
        values = shapely.force_2d(values)
        notes.append(f"{source}: dropped Z coordinates (heights are not used)")

    missing = shapely.is_missing(values) | shapely.is_empty(values)
    # Collections: keep the part of an allowed kind (e.g. polygons of a GeoJSON collection).
    types = _type_names(values)
    collection = ~missing & (types == "GeometryCollection")
    if collection.any():
        values = values.copy()
        for i in np.flatnonzero(collection):
            values[i] = _allowed_part(values[i], allowed)
        became_empty = collection & shapely.is_missing(values)
        if (collection & ~became_empty).any():
            notes.append(
                f"{source}: kept the {_allowed_words(allowed)} of "
                f"{int((collection & ~became_empty).sum())} geometry collection(s)"
            )
        missing = missing | became_empty
        types = _type_names(values)

    kinds = np.array([geometry_kind(t) for t in types], dtype=object)
    wrong = ~missing & ~np.isin(kinds, list(allowed))
    if wrong.any():
        found = sorted({str(t) for t in types[wrong]})
        problems.append(
            f"{source}: {format_rows(index[wrong])} with {', '.join(found)} geometry; "
            f"this layer must hold {_allowed_words(allowed)}: choose the right file or layer "
            f"(FILE:LAYER) or convert the geometries"
        )
    present = sorted({str(k) for k in kinds[~missing & ~wrong]})
    if single_kind and len(present) > 1:
        counts = ", ".join(_count_kind(int((kinds == k).sum()), k) for k in present)
        problems.append(
            f"{source}: mixes geometry kinds ({counts}); all features must be of one kind: "
            f"split the layer or convert the geometries (e.g. points to polygons)"
        )

    values, repaired, collapsed, multipoints = _repair(values, kinds, missing | wrong)
    if repaired:
        noun = "geometry" if repaired == 1 else "geometries"
        notes.append(f"{source}: repaired {repaired} invalid {noun} with make_valid")
    if multipoints.any():
        problems.append(
            f"{source}: {format_rows(index[multipoints])} with MultiPoints of several "
            f"points; each feature must be a single point: explode them "
            f"(e.g. `ogr2ogr -explodecollections`)"
        )
    missing = missing | collapsed

    allowed_drop = (
        np.ones(len(values), dtype=bool)
        if droppable is None
        else droppable.reindex(index, fill_value=False).to_numpy(dtype=bool)
    )
    must_keep = missing & ~allowed_drop
    if must_keep.any():
        problems.append(
            f"{source}: {format_rows(index[must_keep])} without usable geometry "
            f"(null, empty or degenerate) carry households: draw their shapes or "
            f"remove these rows"
        )
    drop = missing & allowed_drop
    if drop.any():
        notes.append(f"{source}: dropped {format_rows(index[drop])} without usable geometry")
    keep = ~drop
    result = gpd.GeoSeries(values[keep], index=index[keep], crs=geometry.crs, name=geometry.name)
    return GeometryCheck(result, index[drop], problems, notes)


def _allowed_part(geom: BaseGeometry, allowed: Collection[str]) -> BaseGeometry | None:
    """Return the part of a collection of the first allowed kind present."""
    parts = [p for p in shapely.get_parts(geom) if not p.is_empty]
    for kind in ("polygon", "line", "point"):
        if kind not in allowed:
            continue
        chosen = [p for p in parts if geometry_kind(p.geom_type) == kind]
        if not chosen:
            continue
        flat: list[BaseGeometry] = [q for p in chosen for q in shapely.get_parts(p)]
        if len(flat) == 1:
            return flat[0]
        if kind == "polygon":
            # Overlapping parts are repaired afterwards by the validity check.
            return shapely.MultiPolygon([q for q in flat if isinstance(q, shapely.Polygon)])
        if kind == "line":
            return shapely.MultiLineString([q for q in flat if isinstance(q, shapely.LineString)])
        return shapely.MultiPoint([q for q in flat if isinstance(q, shapely.Point)])
    return None


def _type_names(values: np.ndarray) -> np.ndarray:
    """Return the geometry type name of each geometry (None where missing)."""
    ids = shapely.get_type_id(values)
    names = np.asarray(_TYPE_NAMES, dtype=object)[np.clip(ids, 0, None)]
    names[ids < 0] = None
    return names


def _repair(
    values: np.ndarray, kinds: np.ndarray, skip: np.ndarray
) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Repair invalid geometries; return values, repair count, collapsed and multipoint masks."""
    values = values.copy()
    check = ~skip
    valid = np.ones(len(values), dtype=bool)
    valid[check] = shapely.is_valid(values[check])
    parts = shapely.get_num_geometries(values)
    multipoint = check & (shapely.get_type_id(values) == _MULTIPOINT_ID)
    single = multipoint & (parts == 1)
    if single.any():
        values[single] = shapely.get_geometry(values[single], 0)
    multipoints = multipoint & (parts > 1)
    lines = check & (kinds == "line")
    collapsed = (check & (kinds == "point") & ~valid) | (
        lines & (~valid | (shapely.length(values) == 0))
    )
    broken = check & (kinds == "polygon") & ~valid
    for i in np.flatnonzero(broken):
        fixed = polygonal_part(shapely.make_valid(values[i]))
        values[i] = fixed
        collapsed[i] = fixed is None or fixed.area == 0
    return values, int(broken.sum()), collapsed, multipoints


@dataclass
class RoadClasses:
    """Outcome of :func:`classify_roads`.

    Attributes
    ----------
    road_class : pandas.Series
        Class of every road as text (``""`` when unknown).
    major : pandas.Series
        True for major roads.
    notes : list of str
        How the major roads were chosen, for the run log.

    """

    road_class: pd.Series
    major: pd.Series
    notes: list[str] = field(default_factory=list)


def classify_roads(
    roads: pd.DataFrame,
    source: str,
    column: str | None,
    major_classes: Sequence[str] | None,
) -> RoadClasses:
    """Derive ``road_class`` (text) and ``major`` (bool) for every road.

    Rules, in order:

    * no class column -> every road minor;
    * ``major_classes`` given -> major where the class matches one of them, compared
      as canonical text (:func:`as_text`), so ``"1"`` matches ``1`` and ``1.0``;
    * numeric classes -> major where the class ranks bigger (numerically smaller)
      than the most frequent class, e.g. Ottawa ``RANK`` 1..5 -> 1, 2, 3, 4;
    * otherwise OSM ``highway`` classes motorway, trunk, primary, secondary,
      tertiary and their ``_link`` roads are major.

    Parameters
    ----------
    roads : pandas.DataFrame
        The roads table.
    source : str
        Human description of the roads layer.
    column : str or None
        Class column of ``roads``, or None when there is none.
    major_classes : sequence of str, optional
        Classes to count as major.

    Returns
    -------
    RoadClasses
        Classes, major flags and notes.

    """
    if column is None:
        return RoadClasses(
            pd.Series("", index=roads.index, dtype=object),
            pd.Series(False, index=roads.index, dtype=bool),
            [
                f"{source}: no road class column (no 'highway' column and none given with "
                f"--road-class): every road counts as minor"
            ],
        )
    values = roads[column]
    keys = values.map(as_text).astype(object)
    if pd.api.types.is_numeric_dtype(values.dtype):
        stored = keys
    else:
        stored = values.map(lambda v: "" if as_text(v) == "" else str(v).strip()).astype(object)
    notes: list[str] = []
    present = sorted(set(keys[keys != ""]))
    if major_classes is not None:
        wanted = {as_text(c) for c in major_classes}
        missing = sorted(wanted - set(present))
        if missing:
            notes.append(
                f"{source}: major class(es) {_format_values(missing, 10)} do not occur in "
                f"column {column!r} (present: {_format_values(present, 20)})"
            )
        major = keys.isin(sorted(wanted))
        notes.append(
            f"{source}: {int(major.sum())} roads with {column!r} in "
            f"{_format_values(sorted(wanted), 20)} count as major"
        )
        return RoadClasses(stored, major.astype(bool), notes)
    numeric = _as_numbers(present)
    if numeric is not None:
        numbers = keys.map(lambda k: float(k) if k else math.nan).astype("float64")
        freq = numbers.value_counts()
        top = max(float(str(value)) for value, n in freq.items() if n == freq.max())
        major = numbers < top
        bigger = [as_text(v) for v in sorted(set(numbers[major]))]
        notes.append(
            f"{source}: column {column!r} holds numeric classes and --major-classes was not "
            f"given: classes ranking above the most frequent class {as_text(top)} "
            f"({', '.join(bigger) if bigger else 'none'}) count as major "
            f"({int(major.sum())} roads); pass --major-classes to choose"
        )
        return RoadClasses(stored, major.astype(bool), notes)
    major = keys.isin(sorted(OSM_MAJOR_HIGHWAYS))
    notes.append(
        f"{source}: OSM classes motorway, trunk, primary, secondary, tertiary (and _link) in "
        f"column {column!r} count as major ({int(major.sum())} roads)"
    )
    if not major.any() and column != "highway":
        notes.append(
            f"{source}: no value of {column!r} is an OSM major class, so every road is minor; "
            f"pass --major-classes (present classes: {_format_values(present, 20)})"
        )
    return RoadClasses(stored, major.astype(bool), notes)


def _as_numbers(keys: Sequence[str]) -> list[float] | None:
    """Return the keys as finite floats, or None if any is not a number."""
    if not keys:
        return None
    numbers = []
    for k in keys:
        try:
            number = float(k)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        numbers.append(number)
    return numbers
