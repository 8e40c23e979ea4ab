"""Adjacency graph of atoms, with the roads and barriers along each shared boundary.

Two atoms are neighbours when they share a boundary of at least ``min_shared_m``
metres; meeting at a corner does not count. The shared boundary of atoms ``a``
and ``b`` is measured from both sides and the shorter measure is kept:

* *exact contact* -- the part of ``a``'s boundary within :data:`CONTACT_M` of
  ``b``. Road faces and census blocks that tile the area meet exactly, so this is
  their shared edge to the centimetre. Where census blocks overlap, the part of
  ``a``'s boundary lying inside ``b`` counts too, each stretch shortened by four
  times the mean width of the overlap (which is what a corner overlap puts there).
* *gap bridging* -- census blocks can leave gaps of a few metres between them.
  The *free* part of ``a``'s boundary (the part on the outline of the union of all
  atoms, i.e. facing a gap or the outside) counts where it lies within
  ``snap_m / 2`` of ``b``. Each connected stretch found this way is shortened by
  ``snap_m`` (``snap_m / 2`` at each end), which removes the stretch that any
  boundary running into a corner picks up; only boundaries that run *along* each
  other across the gap remain. Gaps wider than ``snap_m / 2`` are not bridged,
  and a shared boundary across a gap comes out up to about ``snap_m`` short.

Each edge carries ``length`` (shared boundary, metres), ``major_length`` (the part
of it along a major road) and ``road_class`` (class of the road running along
most of it). A boundary stretch runs *along* a road or barrier line when it lies
within ``snap_m`` of it and is roughly parallel to it (within
:data:`PARALLEL_DEG` degrees); the parallel test keeps the first metres of a
side street, which are near the main road it ends on, from counting as lying
along that main road. Edges whose shared boundary lies mostly (more than half)
along a barrier line, or along or inside a barrier polygon, are removed.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from redistrict._atoms_faces import GeomArray, geom_array
from redistrict._words import quoted
from redistrict.errors import InputError
from redistrict.problem import FloatArray, IntArray

__all__ = ["CONTACT_M", "PARALLEL_DEG", "SNAP_M", "build_graph", "components_summary"]

_LOG = logging.getLogger(__name__)

#: Boundaries closer than this (metres) touch exactly.
CONTACT_M = 0.01
#: A boundary stretch runs along a line when their directions differ by at most this.
PARALLEL_DEG = 30.0
#: Atoms overlapping by less than this in all (square metres) are taken to tile exactly.
_OVERLAP_M2 = 1.0
#: Fraction of a shared boundary along barriers above which the edge is removed.
_BARRIER_SHARE = 0.5
#: A boundary stretch runs along a road, not a barrier, when the road is closer by more than this (metres).
_ROAD_NEARER_M = 1.0
#: Default distance (metres) within which a boundary lies along a road; gaps up to half of it are bridged.
SNAP_M = 15.0
#: Fraction of a shared boundary that must run along roads to give it a road class.
_ROAD_SHARE = 0.5

_EMPTY_LINE = shapely.LineString()
_XY = NDArray[np.float64]


def build_graph(
    atoms: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None = None,
    *,
    snap_m: float = SNAP_M,
    min_shared_m: float = 1.0,
) -> nx.Graph:
    """Build the adjacency graph of the atoms.

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms indexed by ``atom_id`` with ``households`` and polygon geometry;
        ``residents`` and ``community_id`` are copied to the nodes when present.
    roads : geopandas.GeoDataFrame
        Road lines with ``road_class`` (str) and ``major`` (bool).
    barriers : geopandas.GeoDataFrame, optional
        Barrier lines or polygons (rivers, rail); no edge crosses them.
    snap_m : float, default 15.0
        Distance (metres) within which a boundary lies along a road or barrier;
        gaps up to ``snap_m / 2`` between atoms are bridged.
    min_shared_m : float, default 1.0
        Shortest shared boundary (metres) that makes two atoms neighbours.

    Returns
    -------
    networkx.Graph
        Nodes are atom ids (sorted) with ``households`` (int), ``x``, ``y``
        (centroid, metres), ``area_m2`` and, when present, ``community_id`` and
        ``residents``. Edges (sorted) carry ``length``, ``major_length`` and
        ``road_class``. ``G.graph["crs"]`` holds the CRS as WKT, and
        ``G.graph["barrier_cuts"]`` the neighbours a barrier separates: a list of
        ``(atom_id, atom_id, layer)``, the layer being the barriers' ``layer``
        column (``FILE:LAYER``; ``"barriers"`` without it).

    Raises
    ------
    InputError
        When the atoms, roads, barriers or options are unusable (all problems listed).

    """
    _check_inputs(atoms, roads, barriers, snap_m, min_shared_m)
    atoms = atoms.sort_index()
    geoms = geom_array(atoms.geometry)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        _LOG.warning("repairing %d invalid atom geometries", int(invalid.sum()))
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    ids = atoms.index.to_numpy(dtype=np.int64)
    roads = _to_crs(roads, atoms)
    barriers = None if barriers is None else _to_crs(barriers, atoms)

    pair_i, pair_j, length, lines, raw = _shared_boundaries(geoms, snap_m / 2)
    keep = length >= min_shared_m
    pair_i, pair_j, length, lines, raw = (
        pair_i[keep],
        pair_j[keep],
        length[keep],
        lines[keep],
        raw[keep],
    )
    seg_a, seg_b, seg_pair = _segments(lines, max_len=snap_m / 2)
    seg_len = np.hypot(*(seg_b - seg_a).T)
    scale = np.divide(length, raw, out=np.zeros_like(length), where=raw > 0)

    major_length, road_class = _road_attributes(roads, seg_a, seg_b, seg_pair, seg_len, scale, raw, snap_m)
    blocked = _barrier_blocked(barriers, roads, seg_a, seg_b, seg_pair, seg_len, raw, snap_m)
    cuts: list[tuple[int, int, str]] = []
    if blocked.any():
        _LOG.info("%d edges removed along barriers", int(blocked.sum()))
        layer = _barrier_layers(barriers, seg_a, seg_b, seg_pair, seg_len, blocked, snap_m)
        cuts = [(int(ids[pair_i[k]]), int(ids[pair_j[k]]), layer[int(k)]) for k in np.flatnonzero(blocked)]

    graph = nx.Graph(crs=atoms.crs.to_wkt(), barrier_cuts=cuts)
    _add_nodes(graph, atoms, geoms, ids)
    order = np.lexsort((ids[pair_j], ids[pair_i]))
    for k in order:
        if blocked[k]:
            continue
        graph.add_edge(
            int(ids[pair_i[k]]),
            int(ids[pair_j[k]]),
            length=float(length[k]),
            major_length=float(min(major_length[k], length[k])),
            road_class=str(road_class[k]),
        )
    _LOG.info("adjacency graph: %d atoms, %d edges", graph.number_of_nodes(), graph.number_of_edges())
    return graph


def components_summary(graph: nx.Graph) -> pd.DataFrame:
    """Summarise the connected components of an adjacency graph.

    Parameters
    ----------
    graph : networkx.Graph
        Graph from :func:`build_graph` (nodes with ``households``).

    Returns
    -------
    pandas.DataFrame
        One row per component, indexed ``component`` (0 = most households, ties
        by smallest atom id), with ``atoms`` (number of atoms), ``households``
        (int) and ``atom_ids`` (sorted tuple of atom ids).

    """
    rows = []
    for nodes in nx.connected_components(graph):
        members = tuple(sorted(nodes))
        households = sum(int(graph.nodes[n].get("households", 0)) for n in members)
        rows.append((members, households))
    rows.sort(key=lambda r: (-r[1], r[0][0] if r[0] else 0))
    frame = pd.DataFrame(
        {
            "atoms": pd.array([len(r[0]) for r in rows], dtype="int64"),
            "households": pd.array([r[1] for r in rows], dtype="int64"),
            "atom_ids": pd.Series([r[0] for r in rows], dtype=object),
        }
    )
    frame.index = pd.RangeIndex(len(rows), name="component")
    return frame


# ----------------------------------------------------------------------------- validation


def _check_inputs(
    atoms: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None,
    snap_m: float,
    min_shared_m: float,
) -> None:
    """Raise one :class:`InputError` listing every problem of the graph inputs."""
    problems: list[str] = []
    if not isinstance(snap_m, int | float) or not (math.isfinite(snap_m) and snap_m > 0):
        problems.append(f"option snap_m={snap_m!r} must be a positive number of metres")
    if not isinstance(min_shared_m, int | float) or not (math.isfinite(min_shared_m) and min_shared_m >= 0):
        problems.append(f"option min_shared_m={min_shared_m!r} must be a number of metres >= 0")
    if "households" not in atoms.columns:
        problems.append("atoms have no column 'households': build them with build_atoms")
    if not pd.api.types.is_integer_dtype(atoms.index.dtype) or not atoms.index.is_unique:
        problems.append("atoms must be indexed by unique whole-number atom ids")
    if atoms.crs is None or not atoms.crs.is_projected:
        problems.append(f"atoms have CRS {atoms.crs!r}, not a projected one: reproject them to metres")
    geoms = geom_array(atoms.geometry)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bad = atoms.index[~ok | ~np.isin(shapely.get_type_id(geoms), (3, 6))]
    if len(bad):
        problems.append(f"atoms {quoted(bad)} are not non-empty polygons: rebuild the atoms")
    for column in ("road_class", "major"):
        if column not in roads.columns:
            problems.append(f"layer roads has no column {column!r}: load roads with load.py")
    problems += _line_problems("roads", roads, (1, 5))
    if barriers is not None:
        problems += _line_problems("barriers", barriers, (1, 3, 5, 6))
    if problems:
        raise InputError(problems)


def _line_problems(name: str, frame: gpd.GeoDataFrame, allowed: tuple[int, ...]) -> list[str]:
    """Problems of a layer whose geometries must have the given shapely type ids."""
    if len(frame) == 0:
        return []
    geoms = geom_array(frame.geometry)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    odd = frame.index[ok & ~np.isin(shapely.get_type_id(geoms), allowed)]
    if not len(odd):
        return []
    what = "lines" if name == "roads" else "lines or polygons"
    return [f"layer {name} features {quoted(odd)} are not {what}: drop or convert them"]


def _to_crs(frame: gpd.GeoDataFrame, atoms: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` in the CRS of the atoms (unchanged when it has none)."""
    if frame.crs is None or atoms.crs is None or frame.crs == atoms.crs:
        return frame
    return frame.to_crs(atoms.crs)


# ----------------------------------------------------------------------------- contacts


def _shared_boundaries(
    geoms: GeomArray, reach: float
) -> tuple[IntArray, IntArray, FloatArray, GeomArray, FloatArray]:
    """Shared boundary of every pair of atoms ``i < j`` that meet or face each other.

    Returns
    -------
    tuple
        ``i``, ``j``, the shared length (shorter of the two sides, corrected at
        stretch ends), the shared lines on that side and their raw length.

    """
    n = len(geoms)
    tree = shapely.STRtree(geoms)
    boundary = shapely.boundary(geoms)

    # exact contact (and overlap), seen from both sides
    ci, cj = tree.query(geoms, predicate="intersects")
    keep = ci != cj
    ci, cj = ci[keep].astype(np.int64), cj[keep].astype(np.int64)
    near = shapely.buffer(geoms, CONTACT_M, quad_segs=2)
    cover = shapely.union_all(geoms)
    depth = np.zeros(len(ci))
    if shapely.area(geoms).sum() - cover.area > _OVERLAP_M2:
        depth = _overlap_depth(tree, geoms, ci, cj)
    tol = CONTACT_M + 2 * np.minimum(depth, reach)
    exact_len, exact_lines = _stretches(shapely.intersection(boundary[ci], near[cj]), tol)
    touched = _group_lines(exact_lines, ci, n)
    ei, ej, exact_len, exact_lines = _shorter_side(ci, cj, exact_len, exact_lines)

    # gaps: free boundary facing another atom across less than ``reach``
    free = _free_boundary(cover, boundary, touched, reach)
    has_free = np.flatnonzero(~shapely.is_empty(free))
    fi, fj = tree.query(free[has_free], predicate="dwithin", distance=reach)
    fi = has_free[fi].astype(np.int64)
    fj = fj.astype(np.int64)
    keep = fi != fj
    fi, fj = fi[keep], fj[keep]
    wide = shapely.buffer(geoms[fj], reach, quad_segs=4)
    fuzzy_len, fuzzy_lines = _stretches(shapely.intersection(free[fi], wide), reach)
    fi, fj, fuzzy_len, fuzzy_lines = _shorter_side(fi, fj, fuzzy_len, fuzzy_lines)

    # add both kinds of contact up per pair
    key = np.concatenate([ei * n + ej, fi * n + fj])
    keys, inverse = np.unique(key, return_inverse=True)
    total = np.bincount(inverse, np.concatenate([exact_len, fuzzy_len]), minlength=len(keys))
    merged = np.empty(len(keys), dtype=object)
    merged[inverse[: len(ei)]] = exact_lines
    rows = inverse[len(ei) :]
    both = np.isin(rows, inverse[: len(ei)])
    merged[rows[~both]] = fuzzy_lines[~both]
    if both.any():
        merged[rows[both]] = shapely.line_merge(shapely.union(merged[rows[both]], fuzzy_lines[both]))
    present = total > 0
    keys, merged = keys[present], merged[present]
    shared: FloatArray = np.asarray(total[present], dtype=np.float64)
    first_id: IntArray = (keys // n).astype(np.int64)
    second_id: IntArray = (keys % n).astype(np.int64)
    lines: GeomArray = np.asarray(merged, dtype=object)
    raw: FloatArray = np.asarray(shapely.length(lines), dtype=np.float64)
    return first_id, second_id, shared, lines, raw


def _overlap_depth(tree: shapely.STRtree, geoms: GeomArray, i: IntArray, j: IntArray) -> FloatArray:
    """Mean width (metres) of the overlap of atoms ``i`` and ``j``, 0 when they do not overlap.

    Where census blocks overlap, the boundary of one runs inside the other: at a
    corner that overlap is a small patch whose width is about a quarter of the
    boundary stretch it puts inside the neighbour, so each stretch is shortened by
    four widths.
    """
    depth = np.zeros(len(i))
    oi, oj = tree.query(geoms, predicate="overlaps")
    if len(oi) == 0:
        return depth
    patch = shapely.intersection(geoms[oi], geoms[oj])
    perimeter = shapely.length(patch)
    width = np.divide(2 * shapely.area(patch), perimeter, out=np.zeros(len(oi)), where=perimeter > 0)
    n = len(geoms)
    keys = oi.astype(np.int64) * n + oj
    order = np.argsort(keys)
    keys, width = keys[order], width[order]
    wanted = i * n + j
    pos = np.clip(np.searchsorted(keys, wanted), 0, len(keys) - 1)
    hit = keys[pos] == wanted
    depth[hit] = width[pos[hit]]
    return depth


def _shorter_side(
    i: IntArray, j: IntArray, length: FloatArray, lines: GeomArray
) -> tuple[IntArray, IntArray, FloatArray, GeomArray]:
    """Reduce directed pairs to pairs ``lo < hi`` keeping the shorter side.

    A pair seen from one side only gets length 0 (its atoms meet at a corner).
    """
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    order = np.lexsort((i, length, hi, lo))
    lo, hi, length, lines = lo[order], hi[order], length[order], lines[order]
    first = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])] if len(lo) else lo > 0
    sides = np.diff(np.r_[np.flatnonzero(first), len(lo)])
    return lo[first], hi[first], np.where(sides == 2, length[first], 0.0), lines[first]


def _stretches(found: GeomArray, tol: float | FloatArray) -> tuple[FloatArray, GeomArray]:
    """Measure the connected line stretches in ``found``: corrected length and lines.

    Each stretch loses ``2 * tol`` (per row of ``found`` when an array): the
    length a boundary within ``tol`` of another picks up at each end, e.g.
    around a corner where they only meet.
    """
    n = len(found)
    total = np.zeros(n)
    merged = _empty_lines(n)
    if n == 0:
        return total, merged
    parts, idx = shapely.get_parts(found, return_index=True)
    parts, sub = shapely.get_parts(parts, return_index=True)
    idx = idx[sub]
    is_line = shapely.get_type_id(parts) == 1
    parts, idx = parts[is_line], idx[is_line]
    if len(parts) == 0:
        return total, merged
    rows, inverse = np.unique(idx, return_inverse=True)
    joined = shapely.line_merge(shapely.multilinestrings(parts, indices=inverse))
    pieces, owner = shapely.get_parts(joined, return_index=True)
    cut = 2 * np.broadcast_to(np.asarray(tol, dtype=np.float64), (n,))[rows][owner]
    kept = np.maximum(shapely.length(pieces) - cut, 0.0)
    total[rows] = np.bincount(owner, kept, minlength=len(rows))
    good = kept > 0  # stretches that are only corner effects carry no length
    pieces, owner = pieces[good], owner[good]
    if len(pieces):
        sub, inverse = np.unique(owner, return_inverse=True)
        merged[rows[sub]] = shapely.multilinestrings(pieces, indices=inverse)
    return total, merged


def _empty_lines(n: int) -> GeomArray:
    """Return an object array of ``n`` empty LineStrings."""
    out = np.empty(n, dtype=object)
    out[:] = [_EMPTY_LINE] * n
    return out


def _group_lines(lines: GeomArray, owner: IntArray, n: int) -> GeomArray:
    """One MultiLineString per owner ``0..n-1`` gathering the line parts of ``lines``."""
    out = _empty_lines(n)
    parts, idx = shapely.get_parts(lines, return_index=True)
    parts, sub = shapely.get_parts(parts, return_index=True)
    idx = owner[idx[sub]]
    is_line = shapely.get_type_id(parts) == 1
    parts, idx = parts[is_line], idx[is_line]
    order = np.argsort(idx, kind="stable")
    parts, idx = parts[order], idx[order]
    if len(parts):
        rows, inverse = np.unique(idx, return_inverse=True)
        out[rows] = shapely.multilinestrings(parts, indices=inverse)
    return out


def _free_boundary(cover: Any, boundary: GeomArray, touched: GeomArray, reach: float) -> GeomArray:
    """Part of each atom's boundary facing a gap or the outside of all atoms.

    That is the part on the outline of ``cover`` (the union of all atoms), less the part
    ``touched`` by another atom (an atom of almost no width can lie on the outline
    and still touch its neighbours). Stretches too short to bridge anything (at
    most ``2 * reach``) are dropped.
    """
    outline = shapely.buffer(shapely.boundary(cover), CONTACT_M, quad_segs=2)
    shapely.prepare(outline)
    free = _empty_lines(len(boundary))
    touch = np.flatnonzero(shapely.intersects(outline, boundary))
    if len(touch) == 0:
        return free
    found = shapely.intersection(boundary[touch], outline)
    found = shapely.difference(found, shapely.buffer(touched[touch], 2 * CONTACT_M, quad_segs=2))
    parts, idx = shapely.get_parts(found, return_index=True)
    parts, sub = shapely.get_parts(parts, return_index=True)
    idx = idx[sub]
    long_enough = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 2 * reach)
    parts, idx = parts[long_enough], idx[long_enough]
    if len(parts) == 0:
        return free
    rows, inverse = np.unique(idx, return_inverse=True)
    free[touch[rows]] = shapely.multilinestrings(parts, indices=inverse)
    return free


# ----------------------------------------------------------------------------- along lines


def _segments(lines: GeomArray, max_len: float) -> tuple[_XY, _XY, IntArray]:
    """Straight segments (start, end, owner row) of ``lines``, at most ``max_len`` long."""
    dense = shapely.segmentize(lines, max_len) if np.isfinite(max_len) else lines
    parts, owner = shapely.get_parts(dense, return_index=True)
    parts, sub = shapely.get_parts(parts, return_index=True)
    owner = owner[sub]
    is_line = np.isin(shapely.get_type_id(parts), (1, 2))
    parts, owner = parts[is_line], owner[is_line]
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    if len(coords) < 2:
        empty = np.zeros((0, 2))
        return empty, empty, np.zeros(0, dtype=np.int64)
    same = cidx[1:] == cidx[:-1]
    start, end = coords[:-1][same], coords[1:][same]
    seg_owner = owner[cidx[:-1][same]].astype(np.int64)
    nonzero = np.any(start != end, axis=1)
    return start[nonzero], end[nonzero], seg_owner[nonzero]


def _match_along(seg_a: _XY, seg_b: _XY, ref: GeomArray, tol: float) -> IntArray:
    """For each segment, the row of ``ref`` whose line runs along it (else -1).

    A segment runs along a reference line when its midpoint is within ``tol`` of
    a reference segment roughly parallel to it; the nearest such line wins.
    """
    return _nearest_along(seg_a, seg_b, ref, tol)[0]


def _nearest_along(seg_a: _XY, seg_b: _XY, ref: GeomArray, tol: float) -> tuple[IntArray, FloatArray]:
    """:func:`_match_along` and the distance from each segment's midpoint to that line (else inf)."""
    match = np.full(len(seg_a), -1, dtype=np.int64)
    distance = np.full(len(seg_a), np.inf)
    if len(seg_a) == 0 or len(ref) == 0:
        return match, distance
    ref_a, ref_b, ref_owner = _segments(ref, max_len=np.inf)
    if len(ref_a) == 0:
        return match, distance
    ref_geoms = np.asarray(shapely.linestrings(np.stack([ref_a, ref_b], axis=1)), dtype=object)
    mid = np.asarray(shapely.points((seg_a + seg_b) / 2), dtype=object)
    qi, qj = shapely.STRtree(ref_geoms).query(mid, predicate="dwithin", distance=tol)
    if len(qi) == 0:
        return match, distance
    v = (seg_b - seg_a)[qi]
    w = (ref_b - ref_a)[qj]
    cos = np.abs(np.einsum("ij,ij->i", v, w)) / (np.hypot(*v.T) * np.hypot(*w.T))
    ok = cos >= math.cos(math.radians(PARALLEL_DEG))
    qi, qj = qi[ok], qj[ok]
    dist = shapely.distance(mid[qi], ref_geoms[qj])
    order = np.lexsort((ref_owner[qj], dist, qi))
    qi, qj, dist = qi[order], qj[order], dist[order]
    first = np.r_[True, qi[1:] != qi[:-1]] if len(qi) else np.zeros(0, dtype=bool)
    match[qi[first]] = ref_owner[qj[first]]
    distance[qi[first]] = dist[first]
    return match, distance


def _road_attributes(
    roads: gpd.GeoDataFrame,
    seg_a: _XY,
    seg_b: _XY,
    seg_pair: IntArray,
    seg_len: FloatArray,
    scale: FloatArray,
    raw: FloatArray,
    snap_m: float,
) -> tuple[FloatArray, NDArray[np.object_]]:
    """Length along major roads and the dominant road class of every edge."""
    n = len(raw)
    major_length = np.zeros(n)
    road_class = np.full(n, "", dtype=object)
    if len(roads) == 0 or n == 0:
        return major_length, road_class
    geoms = geom_array(roads.geometry)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = geoms[usable]
    major = roads["major"].to_numpy(dtype=bool)[usable]
    classes = roads["road_class"].astype(str).to_numpy(dtype=object)[usable]
    match = _match_along(seg_a, seg_b, geoms, snap_m)
    on_road = match >= 0
    on_major = on_road & major[np.where(on_road, match, 0)]
    major_length = np.bincount(seg_pair[on_major], seg_len[on_major], minlength=n) * scale
    if on_road.any():
        table = pd.DataFrame(
            {"pair": seg_pair[on_road], "cls": classes[match[on_road]], "len": seg_len[on_road]}
        )
        per = table.groupby(["pair", "cls"], sort=True)["len"].sum().reset_index()
        along = per.groupby("pair")["len"].transform("sum").to_numpy()
        per = per[along >= _ROAD_SHARE * raw[per["pair"].to_numpy()]]
        per = per.sort_values(["pair", "len", "cls"], ascending=[True, False, True])
        best = per.drop_duplicates("pair")
        road_class[best["pair"].to_numpy()] = best["cls"].to_numpy()
    return major_length, road_class


def _barrier_blocked(
    barriers: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame,
    seg_a: _XY,
    seg_b: _XY,
    seg_pair: IntArray,
    seg_len: FloatArray,
    raw: FloatArray,
    snap_m: float,
) -> NDArray[np.bool_]:
    """Edges whose shared boundary lies mostly along or inside a barrier.

    A stretch of boundary runs along a barrier when a barrier line runs along it
    (:func:`_match_along`) and no road runs along it clearly closer
    (:data:`_ROAD_NEARER_M`): the road beside a river (an embankment road a few
    metres off the bank) is a road between two atoms on the same side, not the
    river, whose own line bounds the atoms on the bank.
    """
    blocked = np.zeros(len(raw), dtype=bool)
    if barriers is None or len(barriers) == 0 or len(raw) == 0:
        return blocked
    geoms = geom_array(barriers.geometry)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    lines = np.concatenate([geoms[~polygonal], shapely.boundary(geoms[polygonal])])
    match, to_barrier = _nearest_along(seg_a, seg_b, lines, snap_m)
    road_geoms = geom_array(roads.geometry)
    road_geoms = road_geoms[~(shapely.is_missing(road_geoms) | shapely.is_empty(road_geoms))]
    _, to_road = _nearest_along(seg_a, seg_b, road_geoms, snap_m)
    along = (match >= 0) & (to_barrier <= to_road + _ROAD_NEARER_M)
    if polygonal.any():
        water = shapely.union_all(geoms[polygonal])
        shapely.prepare(water)
        along |= shapely.intersects(water, shapely.points((seg_a + seg_b) / 2))
    share = np.bincount(seg_pair[along], seg_len[along], minlength=len(raw))
    return share > _BARRIER_SHARE * raw


def _barrier_layers(
    barriers: gpd.GeoDataFrame | None,
    seg_a: _XY,
    seg_b: _XY,
    seg_pair: IntArray,
    seg_len: FloatArray,
    blocked: NDArray[np.bool_],
    snap_m: float,
) -> dict[int, str]:
    """For each blocked edge, the barrier layer along most of its shared boundary."""
    out = {int(k): "barriers" for k in np.flatnonzero(blocked)}
    if barriers is None:
        return out
    names = (
        barriers["layer"].astype(str)
        if "layer" in barriers.columns
        else pd.Series("barriers", barriers.index)
    )
    geoms = geom_array(barriers.geometry)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms, names = geoms[ok], names.to_numpy(dtype=object)[ok]
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    lines = np.concatenate([geoms[~polygonal], shapely.boundary(geoms[polygonal])])
    line_names = np.concatenate([names[~polygonal], names[polygonal]])
    mine = blocked[seg_pair]  # only the segments of blocked edges
    a, b, pair, length = seg_a[mine], seg_b[mine], seg_pair[mine], seg_len[mine]
    match = _match_along(a, b, lines, snap_m)
    owner = np.full(len(a), "", dtype=object)
    owner[match >= 0] = line_names[match[match >= 0]]
    if polygonal.any():
        qi, qj = shapely.STRtree(geoms[polygonal]).query(shapely.points((a + b) / 2), predicate="intersects")
        free = owner[qi] == ""
        owner[qi[free]] = names[polygonal][qj[free]]
    known = owner != ""
    share = pd.Series(length[known]).groupby([pair[known], owner[known]]).sum()
    if len(share):
        for k, name in share.groupby(level=0).idxmax().tolist():
            out[int(k)] = str(name)
    return out


# ----------------------------------------------------------------------------- nodes


def _add_nodes(graph: nx.Graph, atoms: gpd.GeoDataFrame, geoms: GeomArray, ids: IntArray) -> None:
    """Add one node per atom (sorted by id) with its attributes."""
    centroid = shapely.centroid(geoms)
    x, y = shapely.get_x(centroid), shapely.get_y(centroid)
    area = shapely.area(geoms)
    households = atoms["households"].to_numpy(dtype=np.int64)
    residents = atoms["residents"].to_numpy(dtype=np.float64) if "residents" in atoms.columns else None
    community = (
        atoms["community_id"].astype(str).to_numpy(dtype=object) if "community_id" in atoms.columns else None
    )
    for k, atom_id in enumerate(ids):
        attrs: dict[str, Any] = {
            "households": int(households[k]),
            "x": float(x[k]),
            "y": float(y[k]),
            "area_m2": float(area[k]),
        }
        if community is not None:
            attrs["community_id"] = str(community[k])
        if residents is not None:
            attrs["residents"] = float(residents[k])
        graph.add_node(int(atom_id), **attrs)
