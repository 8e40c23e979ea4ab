"""Road classes, which of them count as major, and gaps at road ends; part of :mod:`redistrict._validate`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from redistrict._validate_columns import as_text, format_values

__all__ = [
    "CN_MAJOR_CLASSES",
    "OSM_MAJOR_HIGHWAYS",
    "ROAD_CLASS_COLUMNS",
    "ROAD_GAP_M",
    "RoadClasses",
    "check_road_gaps",
    "classify_roads",
]

#: A road end that touches no other road but comes this close to one (metres) is a gap
#: left by digitising: the road does not close its block.
ROAD_GAP_M: Final[float] = 5.0
#: Road ends stopping between ROAD_GAP_M and this (metres) short of another road are counted:
#: a few are dead ends, many are streets drawn to the kerb of a wide road.
_KERB_GAP_M: Final[float] = 20.0
#: ... and warned about when there are at least this many, and at least this share of the ends.
_KERB_GAPS_MIN: Final[int] = 10
_KERB_GAPS_SHARE: Final[float] = 0.05
#: Road ends closer than this (metres) to a line touch it (the grid of the atoms' faces).
_TOUCH_M: Final[float] = 1e-3
#: At most this many road ends are described in the warning.
_GAPS_LISTED: Final[int] = 5

#: Columns taken as the road class without --road-class (any case), first found wins: OSM's
#: tag, Geofabrik's shapefiles, the usual Chinese names, generic ones.
ROAD_CLASS_COLUMNS: Final[tuple[str, ...]] = (
    *("highway", "fclass", "道路等级", "道路类型", "道路级别", "等级"),
    *("road_class", "roadclass", "class"),
)

#: OSM ``highway`` values counted as major roads when no mapping is given.
OSM_MAJOR_HIGHWAYS: Final[frozenset[str]] = frozenset(
    base + suffix
    for base in ("motorway", "trunk", "primary", "secondary", "tertiary")
    for suffix in ("", "_link")
)

#: Chinese road classes counted as major when no mapping is given: the urban classes of
#: CJJ 37 / GB 50220 above the local street (支路), in their usual spellings, and the
#: highways and national and provincial roads that cross towns.
CN_MAJOR_CLASSES: Final[frozenset[str]] = frozenset(
    (
        *("快速路", "城市快速路", "主干路", "城市主干路", "主干道"),
        *("城市主干道", "次干路", "城市次干路", "次干道", "城市次干道", "高速公路", "国道", "省道"),
    )
)


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
    problems : list of str
        ``major_classes`` that cannot be applied (none of them occurs, or there is
        no class column).

    """

    road_class: pd.Series
    major: pd.Series
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def classify_roads(
    roads: pd.DataFrame,
    source: str,
    column: str | None,
    major_classes: Sequence[str] | None,
) -> RoadClasses:
    """Derive ``road_class`` (text) and ``major`` (bool) for every road.

    Rules, in order:

    * no class column -> every road minor (a problem when ``major_classes`` is given);
    * ``major_classes`` given -> major where the class matches one of them, compared
      as canonical text (:func:`as_text`), so ``"1"`` matches ``1`` and ``1.0``;
      a problem when none of them occurs (a typo would make every road minor), a
      note naming those that do not occur when only some do;
    * numeric classes -> major where the class ranks bigger (numerically smaller)
      than the most frequent class, e.g. Ottawa ``RANK`` 1..5 -> 1, 2, 3, 4;
    * Chinese classes (:data:`CN_MAJOR_CLASSES`: 快速路, 主干路/主干道, 次干路/次干道,
      highways, national and provincial roads) -> those roads are major;
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
        Classes, major flags, notes and problems.

    """
    if column is None:
        unknown = pd.Series("", index=roads.index, dtype=object)
        minor = pd.Series(False, index=roads.index, dtype=bool)
        if major_classes is not None:
            return RoadClasses(
                unknown,
                minor,
                problems=[
                    f"{source}: --major-classes {', '.join(major_classes)} was given but the "
                    f"roads have no class column (none named {', '.join(ROAD_CLASS_COLUMNS)}, and none given "
                    "with --road-class): name the column holding the classes with --road-class"
                ],
            )
        return RoadClasses(
            unknown,
            minor,
            [
                f"{source}: no road class column (none named {', '.join(ROAD_CLASS_COLUMNS)}, and none "
                "given with --road-class): every road counts as minor"
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
        wanted = {as_text(c) for c in major_classes} - {""}
        missing = sorted(wanted - set(present))
        if not wanted or len(missing) == len(wanted):
            given = ", ".join(str(c).strip() for c in major_classes if as_text(c)) or "(empty)"
            return RoadClasses(
                stored,
                pd.Series(False, index=roads.index, dtype=bool),
                problems=[
                    f"{source}: --major-classes {given} matches none of the road classes in "
                    f"column {column!r} ({_class_counts(keys)}): give classes that occur, "
                    f"separated by commas"
                ],
            )
        if missing:
            notes.append(
                f"{source}: major class(es) {format_values(missing, 10)} given with "
                f"--major-classes do not occur in column {column!r} (present: "
                f"{format_values(present, 20)}); check them for typos"
            )
        major = keys.isin(sorted(wanted))
        notes.append(
            f"{source}: {int(major.sum())} roads with {column!r} in "
            f"{format_values(sorted(wanted), 20)} count as major"
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
    chinese = keys.isin(sorted(CN_MAJOR_CLASSES))
    if chinese.any():
        osm = keys.isin(sorted(OSM_MAJOR_HIGHWAYS))  # a layer mixing both keeps both
        found = sorted(set(keys[chinese | osm]))
        notes.append(
            f"{source}: road classes {', '.join(found)} in column {column!r} count as major "
            f"({int((chinese | osm).sum())} roads; the Chinese classes of CJJ 37 above 支路, highways, "
            "national and provincial roads, and OSM's motorway to tertiary); pass --major-classes to choose"
        )
        return RoadClasses(stored, (chinese | osm).astype(bool), notes)
    major = keys.isin(sorted(OSM_MAJOR_HIGHWAYS))
    notes.append(
        f"{source}: OSM classes motorway, trunk, primary, secondary, tertiary (and _link) in "
        f"column {column!r} count as major ({int(major.sum())} roads)"
    )
    if not major.any() and column != "highway":
        notes.append(
            f"{source}: no value of {column!r} is an OSM major class, so every road is minor; "
            f"pass --major-classes (present classes: {format_values(present, 20)})"
        )
    return RoadClasses(stored, major.astype(bool), notes)


def _class_counts(keys: pd.Series, limit: int = 20) -> str:
    """Describe the classes present with their road counts: ``"1: 12 roads, 2: 40, ..."``.

    Numeric classes are listed in numeric order, text classes from the most frequent.
    """
    counts = keys[keys != ""].value_counts()
    if counts.empty:
        return "no road has a class"
    names = [str(k) for k in counts.index]
    numbers = _as_numbers(names)
    if numbers is not None:
        order = sorted(range(len(names)), key=lambda i: numbers[i])
    else:
        order = sorted(range(len(names)), key=lambda i: (-int(counts.iloc[i]), names[i]))
    parts = [f"{names[i]}: {int(counts.iloc[i])}" for i in order[:limit]]
    parts[0] += " road" if int(counts.iloc[order[0]]) == 1 else " roads"
    return ", ".join(parts) + (", ..." if len(order) > limit else "")


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


def check_road_gaps(
    roads: gpd.GeoDataFrame,
    area: shapely.Polygon | shapely.MultiPolygon,
    source: str,
    original: gpd.GeoSeries | None = None,
) -> list[str]:
    """Warn about road ends stopping a few metres short of another road.

    Units are built from the faces the road lines close. A road whose end stops short
    of the road it should meet closes no face there: the blocks on both sides become
    one atom. The atoms join ends less than :data:`redistrict.atoms.SNAP_M` short by
    themselves (with a note); ends inside the study area (not on its edge, which
    closes their block) that touch no other road but come within
    :data:`ROAD_GAP_M` of one are reported here, since they are
    almost always digitising errors (a real dead end stops farther away).

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        The road lines (LineStrings in the metric CRS of the run).
    area : shapely.Polygon or shapely.MultiPolygon
        The study area: ends outside it do not matter.
    source : str
        Human description of the roads layer.
    original : geopandas.GeoSeries, optional
        The road geometries as read (their own CRS and row ids), to name the rows and
        give coordinates as in the file. Default: the rows and coordinates of ``roads``.

    Returns
    -------
    list of str
        One warning listing the first few ends, or none.

    """
    # Imported here: redistrict.atoms imports the loader, which imports this module.
    from redistrict.atoms import SNAP_M

    lines = np.asarray(roads.geometry.to_numpy(), dtype=object)
    if len(lines) < 2:
        return []
    ends = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    own = np.r_[np.arange(len(lines)), np.arange(len(lines))]
    shapely.prepare(area)
    # An end on the study area's edge (or less than SNAP_M from it, joined to it) closes its
    # block against the edge: a road passing nearby does not matter.
    edge = shapely.boundary(area)
    inside = np.flatnonzero(shapely.intersects(area, ends) & ~shapely.dwithin(ends, edge, SNAP_M))
    near_end, near_line = shapely.STRtree(lines).query(
        ends[inside], predicate="dwithin", distance=_KERB_GAP_M
    )
    near_end = inside[near_end]
    other = near_line != own[near_end]
    near_end, near_line = near_end[other], near_line[other]
    if len(near_end) == 0:
        return []
    gap = shapely.distance(ends[near_end], lines[near_line])
    shortest = np.full(len(ends), np.inf)
    np.minimum.at(shortest, near_end, gap)
    # An end whose nearest road is one its own line crosses lies past the crossing, which
    # already closes the blocks: an overshoot, not a gap.
    # Only the stretch of the own line near the end counts: a ring road, or a way turning a
    # corner, meets the other road far from the end, and its end is still a gap.
    nearest = np.flatnonzero((gap == shortest[near_end]) & (gap > 0))
    ne = near_end[nearest]
    stretch = shapely.intersection(lines[own[ne]], shapely.buffer(ends[ne], 2.0 * gap[nearest] + 1.0))
    crossed = shapely.intersects(stretch, lines[near_line[nearest]])
    shortest[ne[crossed]] = np.inf
    warnings = _kerb_gaps(source, shortest, len(inside))
    short = np.flatnonzero((shortest > max(SNAP_M, _TOUCH_M)) & (shortest <= ROAD_GAP_M))
    if len(short) == 0:
        return warnings
    closest = {int(e): int(ln) for e, ln, d in zip(near_end, near_line, gap, strict=True) if d == shortest[e]}
    count = len(short)
    short = short[np.lexsort((own[short], shortest[short]))][:_GAPS_LISTED]
    rows, points, geographic = _road_rows(roads, original, [own[e] for e in short], ends[short])
    others, _, _ = _road_rows(roads, original, [closest[int(e)] for e in short], ends[short])
    decimals = 6 if geographic else 1
    listed = [
        f"row {row} ends {shortest[e]:.1f} m short of row {near} at "
        f"({point[0]:.{decimals}f}, {point[1]:.{decimals}f})"
        for e, row, near, point in zip(short, rows, others, points, strict=True)
    ]
    more = ", ..." if count > len(listed) else ""
    return [
        f"{source}: {count} road end{' stops' if count == 1 else 's stop'} between {SNAP_M:g} and "
        f"{ROAD_GAP_M:g} m short of another road without touching it: {'; '.join(listed)}{more} "
        f"(row ids counting from 0). A road that stops short closes no block there, so the blocks on "
        f"both sides become one atom and no unit boundary can follow it. Where the roads meet in "
        f"reality, snap the road ends to them (e.g. QGIS 'Snap geometries to layer' with a tolerance "
        f"of {ROAD_GAP_M:g} m) and run again: redistrict itself joins only ends less than {SNAP_M:g} m short",
        *warnings,
    ]


def _kerb_gaps(source: str, shortest: np.ndarray, ends_inside: int) -> list[str]:
    """A warning when many road ends stop 5-20 m short of another road.

    One such end is a dead end; many are streets drawn to the kerb of a wide road rather
    than to its centre line (common in Chinese survey data), and each joins the blocks on
    both sides into one atom.
    """
    far = int(((shortest > ROAD_GAP_M) & (shortest <= _KERB_GAP_M)).sum())
    if far < _KERB_GAPS_MIN or far < _KERB_GAPS_SHARE * ends_inside:
        return []
    return [
        f"{source}: {far} of the {ends_inside} road ends inside the study area stop between "
        f"{ROAD_GAP_M:g} and {_KERB_GAP_M:g} m short of another road without touching it: more than "
        f"dead ends usually do. If streets were drawn to the kerb of wider roads rather than to their "
        f"centre lines, they close no block there and the blocks on both sides become one atom; snap "
        f"their ends to the roads they meet (e.g. QGIS 'Snap geometries to layer' with a tolerance of "
        f"{_KERB_GAP_M:g} m) and run again"
    ]


def _road_rows(
    roads: gpd.GeoDataFrame,
    original: gpd.GeoSeries | None,
    lines: Sequence[int],
    points: np.ndarray,
) -> tuple[list[object], np.ndarray, bool]:
    """Row ids of ``original`` holding the given lines of ``roads``, and ``points`` in its CRS.

    Returns the row ids, the coordinates of ``points`` (n x 2) and whether they are in degrees.
    """
    if original is None or len(original) == 0:
        degrees = bool(roads.crs and roads.crs.is_geographic)
        return list(roads.index[list(lines)]), shapely.get_coordinates(points), degrees
    # A point on each line (its middle) finds the row it was read from, in the row's CRS.
    middles = shapely.line_interpolate_point(roads.geometry.to_numpy()[list(lines)], 0.5, normalized=True)
    found = gpd.GeoSeries(np.concatenate([middles, points]), crs=roads.crs)
    if roads.crs is not None and original.crs is not None and roads.crs != original.crs:
        found = found.to_crs(original.crs)
    where = found.to_numpy()
    positions = original.sindex.nearest(where[: len(lines)], return_all=False)[1]
    crs = original.crs
    return (
        list(original.index[positions]),
        shapely.get_coordinates(where[len(lines) :]),
        bool(crs and crs.is_geographic),
    )
