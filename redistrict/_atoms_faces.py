"""Road faces: the roads, the study-area boundary and the barriers cut into faces.

:func:`road_faces` clips the road and barrier lines to the study area, joins
road ends stopping less than :data:`SNAP_M` short (:func:`_close_gaps`), nodes
the lines on a :data:`GRID_M` grid and polygonizes them; faces in a barrier
polygon are dropped, and slivers (smaller than ``min_area_m2`` or thinner than
:data:`SLIVER_WIDTH_M` everywhere) are merged into their neighbours
(:func:`_merge_slivers`). The geometry helpers :func:`geom_array`,
:func:`shared_length` and :func:`polygon_parts` are shared with
:mod:`redistrict._atoms_split`. The public constants are re-exported by
:mod:`redistrict.atoms`.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from redistrict._words import counted
from redistrict.errors import InputError
from redistrict.load import Inputs
from redistrict.problem import FloatArray, IntArray

__all__ = [
    "EPS_M",
    "GRID_M",
    "SLIVER_WIDTH_M",
    "SNAP_M",
    "GeomArray",
    "geom_array",
    "polygon_parts",
    "road_faces",
    "shared_length",
]

# Named after the public module so that log lines read as they did before the split.
_LOG = logging.getLogger("redistrict.atoms")

#: Road faces and the pieces cut from them have coordinates on this grid (metres),
#: so that faces merged or cut in separate steps still share exact boundaries.
GRID_M = 1e-3
#: Faces thinner than this everywhere (metres) are slivers.
SLIVER_WIDTH_M = 4.0
#: Distance (metres) under which two boundaries are taken as the same line.
EPS_M = 0.01
#: A road end this close (metres) to another road or the study-area boundary, without
#: touching it, is a digitising gap: it is joined to the nearest point of that line.
SNAP_M = 1.0
#: A road end this close (metres) to another line touches it. Anything farther, even
#: less than :data:`GRID_M`, gets a connector: snapping to the grid alone does not join
#: an end to a line passing 0.4-0.9 mm away (seen after reprojecting from degrees).
TOUCH_M = 1e-6
#: Polygon parts smaller than this (m²) left beside a face by a union on the grid are dropped.
_CRUMB_M2 = 1e-3
#: Rounds of sliver merging (each round merges the slivers touching regular faces).
_SLIVER_ROUNDS = 50

GeomArray = NDArray[np.object_]

# ----------------------------------------------------------------------------- road faces


def road_faces(inputs: Inputs, min_area_m2: float, notes: list[str]) -> GeomArray:
    """Polygonize roads, study-area boundary and barriers into faces tiling the area."""
    area = shapely.make_valid(inputs.study_area)
    shapely.prepare(area)
    linework = [_clip_lines(geom_array(inputs.roads.geometry), area), _lines_of(area)]
    linework.append(_close_gaps(linework[0], np.concatenate(linework), notes))
    barrier_polys = None
    barrier_lines: list[GeomArray] = []
    if inputs.barriers is not None and len(inputs.barriers):
        bgeoms = geom_array(inputs.barriers.geometry)
        bgeoms = bgeoms[~(shapely.is_missing(bgeoms) | shapely.is_empty(bgeoms))]
        polygonal = np.isin(shapely.get_type_id(bgeoms), (3, 6))
        barrier_lines.append(_clip_lines(bgeoms[~polygonal], area))
        if polygonal.any():
            barrier_polys = shapely.union_all(shapely.make_valid(bgeoms[polygonal]))
            barrier_lines.append(_clip_lines(_lines_of(barrier_polys), area))
        linework += barrier_lines
    noded = shapely.union_all(np.concatenate(linework), grid_size=GRID_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > 0]
    reps = shapely.point_on_surface(faces)
    keep = shapely.contains(area, reps)
    if barrier_polys is not None:
        keep &= ~shapely.intersects(barrier_polys, reps)
    faces = faces[keep]
    if len(faces) == 0:
        raise InputError(
            "the study area leaves no face once roads and barriers are drawn: "
            "check that the study area is not covered by barrier polygons"
        )
    barrier = shapely.union_all(np.concatenate(barrier_lines)) if barrier_lines else None
    faces = _merge_slivers(faces, min_area_m2, notes, barrier)
    if len(linework[0]) and len(faces) <= len(shapely.get_parts(area)):
        notes.append(
            f"the {len(linework[0])} road lines inside the study area close no block (their "
            "ends do not meet other roads or the study-area boundary), so the roads do not cut "
            "the area into atoms and units cannot follow them: snap the road ends together "
            "(e.g. QGIS 'Snap geometries to layer') or use atoms from blocks (--atoms blocks)"
        )
    return faces


def _close_gaps(roads: GeomArray, lines: GeomArray, notes: list[str]) -> GeomArray:
    """Short connectors closing gaps of less than :data:`SNAP_M` at road ends.

    A road end that touches no other line is *loose*. Loose ends within
    :data:`SNAP_M` of each other (a crossing whose streets all stop short) are
    joined at their mean point; a loose end alone is joined to the nearest point
    of the nearest other line within reach (a road or the study-area boundary).
    Ends that touch a line are left alone.
    """
    if len(roads) == 0:
        return np.empty(0, dtype=object)
    ends = np.concatenate([shapely.get_point(roads, 0), shapely.get_point(roads, -1)])
    own = np.r_[np.arange(len(roads)), np.arange(len(roads))]
    pi, li = shapely.STRtree(lines).query(ends, predicate="dwithin", distance=SNAP_M)
    other = li != own[pi]  # roads come first in ``lines``, so a road's index is its own
    pi, li = pi[other], li[other]
    dist = shapely.distance(ends[pi], lines[li])
    xy = shapely.get_coordinates(ends)
    loose = np.ones(len(ends), dtype=bool)
    loose[pi[dist <= TOUCH_M]] = False
    pairs = cKDTree(xy).query_pairs(SNAP_M, output_type="ndarray")
    loose[pairs[np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) <= TOUCH_M].ravel()] = False
    pairs = pairs[loose[pairs[:, 0]] & loose[pairs[:, 1]]]
    connectors: list[Any] = []
    grouped = np.zeros(len(ends), dtype=bool)
    if len(pairs):
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(ends),) * 2)
        _, group = connected_components(graph, directed=False)
        grouped[pairs.ravel()] = True
        for g in np.unique(group[grouped]):
            members = np.flatnonzero(grouped & (group == g))
            centre = xy[members].mean(axis=0)
            connectors += [shapely.linestrings([xy[i], centre]) for i in members.tolist()]
    alone = loose & ~grouped
    keep = alone[pi]
    pi, li, dist = pi[keep], li[keep], dist[keep]
    if len(pi):
        order = np.lexsort((li, dist, pi))
        first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]
        connectors += list(shapely.shortest_line(ends[pi[first]], lines[li[first]]))
    if connectors:
        tiny = int((shapely.length(np.asarray(connectors, dtype=object)) < GRID_M).sum())
        rounding = f" ({tiny} of them by less than 1 mm, as after reprojection)" if tiny else ""
        notes.append(
            f"{len(connectors)} road ends stopped less than {SNAP_M:g} m short of another road or "
            f"the study-area boundary{rounding}; they were joined to it so that the roads close their blocks"
        )
    out: GeomArray = np.asarray([*connectors, None], dtype=object)[:-1]
    return out


def _lines_of(geom: Any) -> GeomArray:
    """Boundary lines of a polygonal geometry as an array of line parts."""
    return shapely.get_parts(shapely.boundary(geom))


def _clip_lines(lines: GeomArray, area: Any) -> GeomArray:
    """Parts of ``lines`` inside the prepared polygon ``area``, as LineStrings."""
    if len(lines) == 0:
        return np.empty(0, dtype=object)
    lines = shapely.get_parts(lines)
    inside = shapely.contains_properly(area, lines)
    crossing = ~inside & shapely.intersects(area, lines)
    clipped = shapely.intersection(lines[crossing], area)
    parts = shapely.get_parts(np.concatenate([lines[inside], clipped]))
    parts = shapely.get_parts(parts)  # collections may hold multi-lines
    return parts[np.isin(shapely.get_type_id(parts), (1, 2))]


def _merge_slivers(faces: GeomArray, min_area_m2: float, notes: list[str], barrier: Any = None) -> GeomArray:
    """Merge small or thin faces into the neighbours sharing the longest boundary.

    A sliver touching one regular face is merged into it whole. A sliver touching
    several (typically a long strip between a road and the study-area boundary
    they almost follow) is first cut between them, each part going to the
    nearest of them, so that no face grows a long arm along its neighbours.
    Slivers (and cut parts) touching only slivers wait for those to be merged;
    cut parts still waiting at the end join the nearest face. A boundary along
    ``barrier`` (the barrier lines) does not count as shared: no face is merged
    across a barrier, and a sliver that touches faces only across one stays a
    face of its own.
    """
    thin = shapely.is_empty(shapely.buffer(faces, -SLIVER_WIDTH_M / 2, quad_segs=2))
    pending = (shapely.area(faces) < min_area_m2) | thin
    if not pending.any() or pending.all():
        return faces
    n = len(faces)
    faces = faces.copy()
    alive = np.ones(n, dtype=bool)
    zone = None if barrier is None else shapely.buffer(barrier, EPS_M, quad_segs=2)
    for _ in range(_SLIVER_ROUNDS):
        i, j, _ = _touching(faces, pending, alive & ~pending, zone)
        if len(i) == 0:
            break
        gains: dict[int, list[Any]] = {}
        waiting: list[Any] = []
        for s in np.unique(i):
            targets = np.unique(j[i == s])
            for k, part in _share_sliver(faces[s], faces[targets], zone):
                if k < 0:
                    waiting.append(part)
                else:
                    gains.setdefault(int(targets[k]), []).append(part)
            alive[s] = pending[s] = False
        for t, extra in gains.items():
            faces[t] = _polygonal(shapely.union_all([faces[t], *extra], grid_size=GRID_M))
        if waiting:
            faces = np.concatenate([faces, np.asarray([*waiting, None], dtype=object)[:-1]])
            alive = np.r_[alive, np.ones(len(waiting), dtype=bool)]
            pending = np.r_[pending, np.ones(len(waiting), dtype=bool)]
    left = np.flatnonzero(pending[n:]) + n
    if len(left):
        regular = np.flatnonzero(alive & ~pending)
        nearest = shapely.STRtree(faces[regular]).query_nearest(faces[left], all_matches=False)
        for part, t in zip(left[nearest[0]], regular[nearest[1]], strict=True):
            if barrier is not None and shapely.intersects(
                shapely.shortest_line(faces[part], faces[t]), barrier
            ):
                continue  # across a barrier: the part stays a face of its own
            faces[t] = _polygonal(shapely.union(faces[t], faces[part], grid_size=GRID_M))
            alive[part] = False
    merged = int(np.sum(~alive[:n]))
    if merged:
        notes.append(f"{counted(merged, 'sliver face')} merged into neighbouring faces")
    _LOG.debug("merged %d slivers, kept %d stranded", merged, int(pending[:n].sum()))
    return faces[alive]


def _touching(
    geoms: GeomArray, rows: NDArray[np.bool_], targets: NDArray[np.bool_], barrier: Any = None
) -> tuple[IntArray, IntArray, FloatArray]:
    """Pairs ``(i, j)`` of polygons sharing a boundary, with the length of i's side.

    ``i`` ranges over ``rows`` and ``j`` over ``targets``; pairs meeting only at a
    corner are left out, and so is the part of a boundary in the ``barrier`` zone
    (within :data:`EPS_M` of the barrier lines).
    """
    pool = np.flatnonzero(targets)
    if len(pool) == 0 or not rows.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    mine = np.flatnonzero(rows)
    qi, qj = shapely.STRtree(geoms[pool]).query(geoms[mine], predicate="intersects")
    i, j = mine[qi], pool[qj]
    keep = i != j
    i, j = i[keep], j[keep]
    length = shared_length(geoms[i], geoms[j], barrier)
    keep = length > 2 * EPS_M
    return i[keep].astype(np.int64), j[keep].astype(np.int64), length[keep]


def shared_length(a: Any, b: Any, barrier: Any = None) -> Any:
    """Length of the boundary of ``a`` lying within :data:`EPS_M` of ``b`` (and not along ``barrier``).

    ``barrier`` is the zone within :data:`EPS_M` of the barrier lines, or None.
    """
    shared = shapely.intersection(shapely.boundary(a), shapely.buffer(b, EPS_M, quad_segs=2))
    if barrier is not None:
        shared = shapely.difference(shared, barrier)
    return shapely.length(shared)


def _share_sliver(sliver: Any, neighbours: GeomArray, barrier: Any = None) -> list[tuple[int, Any]]:
    """Cut ``sliver`` between its ``neighbours``: ``(neighbour position, part)`` pairs.

    Every point of the sliver goes to the neighbour whose shared boundary is
    nearest (Voronoi cells of points spaced 1 m along the shared boundaries);
    each resulting part then joins the neighbour it shares most boundary with,
    or gets position -1 when it shares no boundary with any of them.
    """
    if len(neighbours) == 1:
        return [(0, sliver)]
    near = shapely.buffer(sliver, EPS_M, quad_segs=2)
    if barrier is not None:
        near = shapely.difference(near, barrier)
    shared = shapely.segmentize(shapely.intersection(shapely.boundary(neighbours), near), 1.0)
    xy, owner = shapely.get_coordinates(shared, return_index=True)
    pieces: list[Any] = [sliver]
    if len(np.unique(owner)) > 1:
        sites = np.asarray(shapely.points(xy), dtype=object)
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=sliver))
        ci, si = shapely.STRtree(sites).query(cells, predicate="intersects")
        order = np.lexsort((owner[si], ci))
        ci, si = ci[order], si[order]
        first = np.r_[True, ci[1:] != ci[:-1]]
        label = np.full(len(cells), -1, dtype=np.int64)
        label[ci[first]] = owner[si[first]]
        pieces = [
            shapely.intersection(shapely.union_all(cells[label == k]), sliver, grid_size=GRID_M)
            for k in np.unique(label[label >= 0])
        ]
    out: list[tuple[int, Any]] = []
    for part in (p for piece in pieces for p in polygon_parts(piece)):
        length = shared_length(part, neighbours, barrier)
        out.append((int(np.argmax(length)) if length.max() > 2 * EPS_M else -1, part))
    return out


# ----------------------------------------------------------------------------- geometry helpers


def geom_array(series: gpd.GeoSeries) -> GeomArray:
    """Shapely geometries of a GeoSeries as an object array."""
    return np.asarray(series.array, dtype=object)


def _polygonal(geom: Any) -> Any:
    """``geom`` without the parts a union on the precision grid collapsed to lines or points.

    Merging a cut sliver part a few millimetres wide into a face snaps it onto the
    grid, and the union can come back as a GeometryCollection of the face and a
    degenerate ring or line, which later overlays refuse ("mixed-dimension"); the
    crumbs below :data:`_CRUMB_M2` it leaves beside the face are dropped too.
    """
    if shapely.get_type_id(geom) == 3:  # Polygon
        return geom
    parts = polygon_parts(geom)
    kept = [q for q in parts if q.area >= _CRUMB_M2] or parts
    if not kept:
        return geom
    return kept[0] if len(kept) == 1 else shapely.multipolygons(kept)


def polygon_parts(geom: Any) -> list[Any]:
    """Polygons with positive area inside ``geom`` (any geometry type)."""
    parts = shapely.get_parts(shapely.get_parts(geom))
    polys = parts[shapely.get_type_id(parts) == 3]
    return [p for p in polys if p.area > 0]
