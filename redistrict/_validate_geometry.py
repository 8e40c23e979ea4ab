"""Checks and repairs of geometries; part of :mod:`redistrict._validate`."""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from redistrict._validate_columns import format_labels, format_rows
from redistrict._validate_crs import MAX_COORDINATE
from redistrict._words import counted

__all__ = [
    "OVERLAP_SHARE",
    "OVERLAP_WIDTH_M",
    "GeometryCheck",
    "check_community_overlaps",
    "check_duplicates",
    "check_geometries",
    "check_overlaps",
    "geometry_kind",
    "kind_words",
    "polygonal_part",
]

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
#: Two polygons overlap substantially when their common area is at least this share of
#: the smaller one ...
OVERLAP_SHARE: Final[float] = 0.1
#: ... and on average at least this wide (metres): thinner overlaps are digitising slivers.
OVERLAP_WIDTH_M: Final[float] = 1.0
#: At most this many pairs of overlapping polygons are quoted.
_OVERLAPS_LISTED: Final[int] = 5
_MULTIPOINT_ID: Final[int] = _TYPE_NAMES.index("MultiPoint")
_POLYGON_IDS: Final[tuple[int, int]] = (_TYPE_NAMES.index("Polygon"), _TYPE_NAMES.index("MultiPolygon"))


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


def kind_words(allowed: Collection[str]) -> str:
    """Name geometry kinds in the plural, e.g. ``"lines or polygons"``.

    Parameters
    ----------
    allowed : collection of str
        Kinds among ``"point"``, ``"line"`` and ``"polygon"``.

    Returns
    -------
    str
        The plurals in alphabetical order joined by ``" or "``.

    """
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
                f"{source}: kept the {kind_words(allowed)} of "
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
            f"this layer must hold {kind_words(allowed)}: choose the right file or layer "
            f"(FILE:LAYER) or convert the geometries"
        )
    present = sorted({str(k) for k in kinds[~missing & ~wrong]})
    if single_kind and len(present) > 1:
        counts = ", ".join(_count_kind(int((kinds == k).sum()), k) for k in present)
        problems.append(
            f"{source}: mixes geometry kinds ({counts}); all features must be of one kind: "
            f"split the layer or convert the geometries (e.g. points to polygons)"
        )

    unplaceable = ~missing & ~wrong & _bad_coordinates(values)
    if unplaceable.any():
        problems.append(
            f"{source}: {format_rows(index[unplaceable])} with coordinates that are not finite "
            f"numbers (inf, NaN) or lie beyond {MAX_COORDINATE:.0e} (no CRS reaches that far): "
            "fix or delete those vertices"
        )
    values, repaired, collapsed, multipoints = _repair(values, kinds, missing | wrong | unplaceable)
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


def check_duplicates(geometry: gpd.GeoSeries, attributes: pd.DataFrame, source: str) -> list[str]:
    """Find rows that repeat an earlier row exactly: same polygon and same values.

    Two polygons are the same when their normalized WKB is equal (same vertices,
    whatever the start vertex or ring orientation). Such a repeated row is a
    problem: its households would be counted twice. The same polygon with other
    values is :func:`check_overlaps`' warning. Points are not checked: several
    buildings may share one address.

    Parameters
    ----------
    geometry : geopandas.GeoSeries
        The geometries (missing ones and non-polygons are skipped).
    attributes : pandas.DataFrame
        The other columns, same index.
    source : str
        Human description of the layer.

    Returns
    -------
    list of str
        One problem listing the exactly repeated rows and the rows they repeat.

    """
    values = np.asarray(geometry.values, dtype=object)
    polygons = np.flatnonzero(np.isin(shapely.get_type_id(values), _POLYGON_IDS) & ~shapely.is_empty(values))
    if len(polygons) < 2:
        return []
    keys = _outline_keys(values[polygons])
    groups: dict[bytes, list[int]] = {}
    for position, key in zip(polygons.tolist(), keys.tolist(), strict=True):
        groups.setdefault(key, []).append(position)
    repeated: list[tuple[int, int]] = []
    for members in groups.values():
        for k in range(1, len(members)):
            row = attributes.iloc[members[k]]
            twin = next((m for m in members[:k] if row.equals(attributes.iloc[m])), None)
            if twin is not None:
                repeated.append((members[k], twin))
    if not repeated:
        return []
    rows, originals, one = _pairs(repeated, geometry.index)
    return [
        f"{source}: {rows} {'repeats row' if one else 'repeat rows'} {originals} exactly "
        f"(same geometry and values): their households would be counted twice; "
        f"remove the repeated {'row' if one else 'rows'}"
    ]


def check_overlaps(geometry: gpd.GeoSeries, households: pd.Series, source: str) -> list[str]:
    """Warn about blocks drawn twice or overlapping substantially.

    A block's households are spread over its outline, so where two blocks overlap both
    place households: a block repeated (two layers merged, a block digitised twice)
    counts its households twice. Rows repeating another row exactly (same geometry and
    values) are :func:`check_duplicates`' problem; this check warns about

    * polygons with the same outline as an earlier row (equal normalized WKB) and the
      same households: probably the same block counted twice;
    * the same outline with other households: both are counted;
    * other pairs whose common area is at least :data:`OVERLAP_SHARE` of the smaller
      polygon and on average at least :data:`OVERLAP_WIDTH_M` wide (twice its area over
      its perimeter), so that slivers along shared edges, left by digitising, pass.

    Points are not checked: several buildings may share one address.

    Parameters
    ----------
    geometry : geopandas.GeoSeries
        Valid geometries (metric CRS; missing ones and non-polygons are skipped).
    households : pandas.Series
        Households of each row, same index.
    source : str
        Human description of the layer.

    Returns
    -------
    list of str
        One warning per kind of finding, naming the first few pairs of rows.

    """
    values = np.asarray(geometry.values, dtype=object)
    polygons = np.flatnonzero(np.isin(shapely.get_type_id(values), _POLYGON_IDS) & ~shapely.is_empty(values))
    if len(polygons) < 2:
        return []
    geoms = values[polygons]
    counts = households.to_numpy()[polygons]
    keys = _outline_keys(geoms)
    first: dict[bytes, int] = {}
    same: list[tuple[int, int]] = []
    other: list[tuple[int, int]] = []
    for k, key in enumerate(keys.tolist()):
        earlier = first.setdefault(key, k)
        if earlier != k:
            pair = (int(polygons[k]), int(polygons[earlier]))
            (same if counts[k] == counts[earlier] else other).append(pair)
    warnings = []
    if same:
        rows, originals, one = _pairs(same, geometry.index)
        warnings.append(
            f"{source}: {rows} {'has' if one else 'have'} the same outline and the same households "
            f"as {'row' if one else 'rows'} {originals} (only other columns differ): these households "
            f"are probably counted twice (a block repeated, e.g. by merging two layers); remove the "
            f"extra {'row' if one else 'rows'}"
        )
    if other:
        rows, originals, one = _pairs(other, geometry.index)
        warnings.append(
            f"{source}: {rows} {'has' if one else 'have'} the same geometry as "
            f"{'row' if one else 'rows'} {originals} but other values: the households of both "
            f"are counted; if they are one block, remove the extra {'row' if one else 'rows'}"
        )
    found = _big_overlaps(geoms, keys)
    if not found:
        return warnings
    areas = shapely.area(geoms)
    label = geometry.index[polygons]
    listed = [
        f"rows {label[i]} and {label[j]} ({shared / areas[s]:.0%} of row {label[s]}, {shared:,.0f} m²)"
        for i, j, s, shared in found[:_OVERLAPS_LISTED]
    ]
    pairs = "1 pair of blocks overlaps" if len(found) == 1 else f"{len(found)} pairs of blocks overlap"
    more = ", ..." if len(found) > _OVERLAPS_LISTED else ""
    warnings.append(
        f"{source}: {pairs} by {OVERLAP_SHARE:.0%} of the smaller block or more: "
        f"{', '.join(listed)}{more} (row ids counting from 0). A block's households are spread over "
        f"its outline, so the overlap gets households from both (counted twice if they are the "
        f"same households): if the layer merges two sources or repeats blocks, keep one copy; "
        f"otherwise fix the outlines so that blocks do not overlap (e.g. QGIS Topology Checker, "
        f"rule 'must not overlap')"
    )
    return warnings


def _big_overlaps(
    geoms: NDArray[np.object_], keys: NDArray[Any] | None = None
) -> list[tuple[int, int, int, float]]:
    """Pairs ``(i, j, smaller, common area)``, ``i < j``, overlapping by :data:`OVERLAP_SHARE` or more.

    The common area must be at least that share of the smaller polygon and on average
    :data:`OVERLAP_WIDTH_M` wide, so that slivers along shared edges pass. Pairs with the
    same ``keys`` (equal outlines, reported otherwise) are skipped.
    """
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    if keys is not None:
        keep &= keys[a] != keys[b]
    a, b = a[keep], b[keep]
    keep = ~shapely.touches(geoms[a], geoms[b])
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return []
    common = np.array([polygonal_part(g) for g in shapely.intersection(geoms[a], geoms[b])], dtype=object)
    area = np.nan_to_num(shapely.area(common))
    perimeter = np.nan_to_num(shapely.length(common))
    areas = shapely.area(geoms)
    smaller = np.where(areas[a] <= areas[b], a, b)
    width = np.divide(2 * area, perimeter, out=np.zeros_like(area), where=perimeter > 0)
    big = (area >= OVERLAP_SHARE * areas[smaller]) & (width >= OVERLAP_WIDTH_M)
    return sorted(
        (int(i), int(j), int(k), float(shared))
        for i, j, k, shared in zip(a[big], b[big], smaller[big], area[big], strict=True)
    )


def check_community_overlaps(geometry: gpd.GeoSeries, labels: pd.Series, source: str) -> list[str]:
    """Warn about existing communities drawn twice or overlapping substantially.

    Each atom belongs to one community: where two polygons overlap (a community
    digitised twice under two ids, two versions of a boundary), its households are
    credited to one of them and the other may hold none, so it vanishes from the
    community table without a word.

    Parameters
    ----------
    geometry : geopandas.GeoSeries
        The communities' polygons (metric CRS).
    labels : pandas.Series
        How each is named in the message (its id and name), same index.
    source : str
        Human description of the layer.

    Returns
    -------
    list of str
        Empty, or one warning naming the first few pairs.
    """
    values = np.asarray(geometry.values, dtype=object)
    polygons = np.flatnonzero(np.isin(shapely.get_type_id(values), _POLYGON_IDS) & ~shapely.is_empty(values))
    if len(polygons) < 2:
        return []
    geoms = values[polygons]
    found = _big_overlaps(geoms)
    if not found:
        return []
    areas = shapely.area(geoms)
    name = labels.to_numpy()[polygons]
    shown = [
        f"{name[i]} and {name[j]} ({shared / areas[k]:.0%} of {name[k]})"
        for i, j, k, shared in found[:_OVERLAPS_LISTED]
    ]
    pairs = counted(len(found), "pair") + " of communities " + ("overlaps" if len(found) == 1 else "overlap")
    more = f" and {len(found) - _OVERLAPS_LISTED} more" if len(found) > _OVERLAPS_LISTED else ""
    return [
        f"{source}: {pairs} by {OVERLAP_SHARE:.0%} of the smaller or more: {', '.join(shown)}{more}. "
        "Households in an overlap are credited to one community only, so the other may show fewer "
        "households than it has, or none; keep one outline per community (a community drawn twice, "
        "or two versions of a boundary)"
    ]


def _pairs(pairs: list[tuple[int, int]], index: pd.Index) -> tuple[str, str, bool]:
    """Rows (positions) and the earlier rows they match, as text; whether there is one pair."""
    pairs = sorted(pairs)
    rows = format_rows(index[[r for r, _ in pairs]])
    return rows, format_labels([index[o] for _, o in pairs]), len(pairs) == 1


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


def _outline_keys(polygons: np.ndarray) -> np.ndarray:
    """Normalized WKB of each polygon: equal for the same outline, whatever its start and orientation.

    Rows with NaN or infinite vertices are reported by :func:`check_geometries`; GEOS's
    warning about them here would only repeat it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        keys: np.ndarray = shapely.to_wkb(shapely.normalize(polygons))
    return keys


def _bad_coordinates(values: np.ndarray) -> np.ndarray:
    """Rows of ``values`` with a coordinate that is not finite or beyond :data:`MAX_COORDINATE`."""
    coords, rows = shapely.get_coordinates(values, return_index=True)
    bad_vertex = ~(np.abs(coords) <= MAX_COORDINATE).all(axis=1)  # NaN fails the comparison too
    bad = np.zeros(len(values), dtype=bool)
    bad[rows[bad_vertex]] = True
    return bad


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
    zero_length = np.zeros(len(values), dtype=bool)
    zero_length[lines] = shapely.length(values[lines]) == 0
    collapsed = (check & (kinds == "point") & ~valid) | (lines & (~valid | zero_length))
    broken = check & (kinds == "polygon") & ~valid
    for i in np.flatnonzero(broken):
        fixed = polygonal_part(shapely.make_valid(values[i]))
        values[i] = fixed
        collapsed[i] = fixed is None or fixed.area == 0
    return values, int(broken.sum()), collapsed, multipoints
