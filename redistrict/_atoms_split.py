"""Subdivision of atoms holding more than ``max_households`` or several communities.

:func:`subdivide` cuts every such atom into one piece per population block:
the block pieces inside it (:func:`_split_by_polygons`) or the Voronoi cells of
point blocks clipped to it (:func:`_split_by_points`). The rest of the atom
between the blocks and the streets (the margin of compounds set back from the
road centre lines) goes to the nearest block (:func:`_share_by_nearness`), so
that every piece keeps its frontage rather than becoming an enclave of the piece
that got the whole margin; bits that still touch no piece of their own join the
piece they share most boundary with (:func:`_finish_split`). An atom
whose households sit in a single block (or a single location) is left whole.
:class:`Alloc`, the shares of blocks in cells, lives here so that
:mod:`redistrict.atoms` can import it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from redistrict._atoms_faces import EPS_M, GRID_M, GeomArray, polygon_parts, shared_length
from redistrict._words import counted
from redistrict.problem import FloatArray, IntArray

__all__ = ["Alloc", "subdivide"]

#: Coordinates of point blocks closer than this (metres) are one location.
_SAME_POINT_M = 1e-3
#: Points sampled on the blocks' outlines to share the rest of a cell by nearness: about
#: this many in all (at least 8 per block, and no closer than 0.5 m) ...
_NEAR_SAMPLES = 4000
#: ... each moved by at most this much (metres), the same way every run.
_JITTER_M = 1e-3


@dataclass
class Alloc:
    """Shares of blocks in cells: one row per (block, cell) pair."""

    block: IntArray
    cell: IntArray
    households: IntArray
    residents: FloatArray | None
    weight: FloatArray


# ----------------------------------------------------------------------------- subdivision


def subdivide(
    cells: GeomArray,
    kinds: NDArray[np.object_],
    alloc: Alloc,
    geoms: GeomArray,
    is_point: bool,
    max_households: int,
    notes: list[str],
    block_community: NDArray[np.object_] | None = None,
    community_shapes: dict[str, Any] | None = None,
    *,
    max_residents: float | None = None,
) -> tuple[GeomArray, NDArray[np.object_], Alloc]:
    """Split cells where one atom would not do.

    A cell holding more than ``max_households`` (or, given ``max_residents`` and
    the blocks' residents, more residents than that) is split into one piece per
    block. A cell holding households of two or more communities (given
    ``block_community``, the existing community of each block, and
    ``community_shapes``, each community's polygon) is split into one piece per
    community (:func:`_split_by_communities`): a community line inside a
    road-bounded block would otherwise credit one community's households to the
    other.
    """
    load = np.bincount(alloc.cell, alloc.households, minlength=len(cells))
    over = load > max_households
    if max_residents is not None and alloc.residents is not None:
        over |= np.bincount(alloc.cell, alloc.residents, minlength=len(cells)) > max_residents
    mixed = np.zeros(len(cells), dtype=bool)
    if block_community is not None:
        mixed = _mixed_cells(alloc, block_community, len(cells)) & ~over
    new_cells: list[Any] = list(cells)
    new_kinds: list[Any] = list(kinds)
    drop: list[int] = []
    cell = alloc.cell.copy()
    split = split_mixed = 0
    for c in np.flatnonzero(over | mixed):
        rows = np.flatnonzero(alloc.cell == c)
        if len(np.unique(alloc.block[rows])) < 2:
            continue
        if over[c] or block_community is None:
            splitter = _split_by_points if is_point else _split_by_polygons
            result = splitter(cells[c], geoms[alloc.block[rows]])
        else:
            result = _split_by_communities(
                cells[c], geoms[alloc.block[rows]], block_community[alloc.block[rows]],
                alloc.households[rows] > 0, community_shapes or {}, is_point,
            )  # fmt: skip
        if result is None:
            continue
        pieces, row_piece = result
        cell[rows] = len(new_cells) + row_piece
        new_cells.extend(pieces)
        new_kinds.extend(["block"] * len(pieces))
        drop.append(int(c))
        split += int(over[c])
        split_mixed += int(mixed[c])
    if not drop:
        return cells, kinds, alloc
    if split:
        limit = f"{max_households:,} households" + (
            "" if max_residents is None else f" or {max_residents:,.0f} residents"
        )
        notes.append(
            f"{counted(split, 'atom')} above {limit} (the most a unit may hold) "
            f"{'was' if split == 1 else 'were'} subdivided by {'its' if split == 1 else 'their'} blocks"
        )
    if split_mixed:
        notes.append(
            f"{counted(split_mixed, 'road-bounded atom')} held households of two or more existing "
            "communities (a community line inside a block of streets) and "
            + ("was" if split_mixed == 1 else "were")
            + " divided along the community lines, so that every community keeps its own households"
        )
    keep = np.ones(len(new_cells), dtype=bool)
    keep[drop] = False
    renumber = np.cumsum(keep) - 1
    out_cells = np.empty(int(keep.sum()), dtype=object)
    out_cells[:] = [g for g, k in zip(new_cells, keep, strict=True) if k]
    out_kinds = np.asarray(new_kinds, dtype=object)[keep]
    moved = Alloc(alloc.block, renumber[cell], alloc.households, alloc.residents, alloc.weight)
    return out_cells, out_kinds, moved


def _mixed_cells(alloc: Alloc, block_community: NDArray[np.object_], n_cells: int) -> NDArray[np.bool_]:
    """Cells holding households of blocks of two or more communities."""
    held = alloc.households > 0
    pairs = pd.DataFrame({"cell": alloc.cell[held], "community": block_community[alloc.block[held]]})
    count = pairs.drop_duplicates().groupby("cell").size()
    out = np.zeros(n_cells, dtype=bool)
    out[count.index[count.to_numpy() > 1].to_numpy(dtype=np.int64)] = True
    return out


def _split_by_communities(
    cell: Any,
    blocks: GeomArray,
    communities: NDArray[np.object_],
    held: NDArray[np.bool_],
    shapes: dict[str, Any],
    is_point: bool,
) -> tuple[list[Any], IntArray] | None:
    """Cut ``cell`` into one piece per community holding households in it.

    A community's piece is its blocks inside the cell (none for point blocks)
    with the rest of the cell that its polygon covers, so that the strip
    between blocks set back from the street and the road centre lines goes to
    the community it lies in and every piece keeps its frontage. What no
    community holding households here covers joins the piece it shares most
    boundary with, as do parts of a piece holding none of its blocks.

    Parameters
    ----------
    cell : shapely.Polygon
        The road-bounded face.
    blocks : array of geometry
        The blocks of the cell's rows (row-wise, repeated for shared blocks).
    communities : array of str
        The community of each row's block.
    held : array of bool
        Whether each row holds households.
    shapes : dict of str to geometry
        Each community's polygon.
    is_point : bool
        Whether the blocks are points.

    Returns
    -------
    (pieces, row_piece) or None
        The pieces and the piece of each row; None when fewer than two remain.
    """
    ids = sorted({str(c) for c in communities[held]})
    if len(ids) < 2:
        return None
    inside = blocks if is_point else shapely.intersection(blocks, cell, grid_size=GRID_M)
    anchors = shapely.point_on_surface(inside)
    if not is_point:  # slivers of the intersections may be lines or points: keep the areas
        inside = np.array([_polygonal(g) for g in inside], dtype=object)
    covered = None if is_point else shapely.union_all(inside, grid_size=GRID_M)
    frame = cell if covered is None else shapely.difference(cell, covered, grid_size=GRID_M)
    parts: list[Any] = []
    owner: list[str] = []
    for cid in ids:
        mine = communities == cid
        main = None if is_point else shapely.union_all(inside[mine], grid_size=GRID_M)
        strip = shapely.intersection(frame, shapes[cid], grid_size=GRID_M) if cid in shapes else None
        piece = shapely.union_all([_polygonal(g) for g in (main, strip) if g is not None], grid_size=GRID_M)
        for part in polygon_parts(piece):
            if shapely.intersects(part, anchors[mine]).any():
                parts.append(part)
                owner.append(cid)
    if len(set(owner)) < 2:
        return None
    pieces = np.empty(len(parts), dtype=object)
    pieces[:] = parts
    _absorb_rest(cell, pieces)
    owned = np.array(owner, dtype=object)
    row_piece = np.empty(len(blocks), dtype=np.int64)
    for r in range(len(blocks)):
        candidates = np.flatnonzero(owned == str(communities[r]))
        if not len(candidates):
            candidates = np.arange(len(pieces))
        distance = shapely.distance(anchors[r], pieces[candidates])
        row_piece[r] = int(candidates[int(np.argmin(distance))])
    return list(pieces), row_piece


def _polygonal(geom: Any) -> Any:
    """The polygons of ``geom`` as one geometry (an empty polygon when it has none)."""
    parts = polygon_parts(geom)
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _split_by_polygons(cell: Any, blocks: GeomArray) -> tuple[list[Any], IntArray] | None:
    """Cut ``cell`` into the pieces of the (row-wise) ``blocks`` inside it."""
    raw = shapely.intersection(blocks, cell, grid_size=GRID_M)
    mains: list[Any] = []
    claimed: Any = None
    for piece in raw:
        if claimed is not None and shapely.area(shapely.intersection(piece, claimed)) > EPS_M:
            piece = shapely.difference(piece, claimed, grid_size=GRID_M)
        mains.append(_largest_polygon(piece))
        if mains[-1] is not None:
            claimed = mains[-1] if claimed is None else shapely.union(claimed, mains[-1], grid_size=GRID_M)
    return _finish_split(cell, _share_by_nearness(cell, mains), blocks)


def _share_by_nearness(cell: Any, mains: list[Any]) -> list[Any]:
    """Give the part of ``cell`` outside the pieces ``mains`` to the piece nearest each point.

    The nearest-piece zones are those of points sampled along the pieces' outlines
    (a Voronoi diagram of the samples); a zone's share joins its piece where it
    touches it. Missing pieces (``None``) are kept as they are, and so is every
    piece when the diagram cannot be trusted (the shares would overlap).
    """
    have = [k for k, m in enumerate(mains) if m is not None]
    if len(have) < 2:
        return mains
    pieces = np.empty(len(have), dtype=object)
    pieces[:] = [mains[k] for k in have]
    rest = shapely.difference(cell, _polygonal(shapely.union_all(pieces, grid_size=GRID_M)), grid_size=GRID_M)
    if shapely.area(rest) <= EPS_M:
        return mains
    try:
        grown = _nearest_shares(cell, pieces)
    except shapely.errors.GEOSException:
        return mains
    if grown is None:
        return mains
    # The pieces must still tile the cell: an overlap means a degenerate diagram.
    overlap = float(shapely.area(grown).sum()) - shapely.area(shapely.union_all(grown, grid_size=GRID_M))
    if overlap > cell.length * GRID_M:
        return mains
    out = list(mains)
    for j, k in enumerate(have):
        out[k] = grown[j]
    return out


def _nearest_shares(cell: Any, pieces: GeomArray) -> GeomArray | None:
    """Each piece grown by the part of ``cell`` off the pieces nearest it (None: no diagram)."""
    rings = shapely.get_exterior_ring(pieces)
    lengths = shapely.length(rings)
    step = max(0.5, float(lengths.sum()) / _NEAR_SAMPLES)
    counts = np.maximum(8, np.ceil(lengths / step).astype(np.int64))
    owner = np.repeat(np.arange(len(pieces)), counts)
    fractions = np.concatenate([np.arange(n) / n for n in counts])
    xy = shapely.get_coordinates(shapely.line_interpolate_point(rings[owner], fractions, normalized=True))
    # Evenly spaced samples on straight edges are collinear, which makes GEOS's diagram invalid
    # (overlapping cells): a fixed jitter of a millimetre at most avoids it, the same every run.
    xy = xy + np.random.default_rng(0).uniform(-_JITTER_M, _JITTER_M, xy.shape)
    points = np.asarray(shapely.points(xy), dtype=object)
    regions = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=cell))
    if not shapely.is_valid(regions).all():
        return None
    pi, ri = shapely.STRtree(regions).query(points, predicate="within")
    region_owner = np.full(len(regions), -1, dtype=np.int64)
    region_owner[ri] = owner[pi]
    near = shapely.STRtree(pieces)
    grown = pieces.copy()
    by_owner = np.argsort(region_owner, kind="stable")
    bounds = np.searchsorted(region_owner[by_owner], np.arange(len(pieces) + 1))
    for j in range(len(pieces)):
        mine = regions[by_owner[bounds[j] : bounds[j + 1]]]
        if not len(mine):
            continue
        # Unions and overlays on the grid may leave collapsed lines beside the polygons, which
        # the next overlay refuses ("mixed-dimension"): only the polygons are kept each time.
        mine_all = _polygonal(shapely.union_all(mine, grid_size=GRID_M))
        zone = _polygonal(shapely.intersection(mine_all, cell, grid_size=GRID_M))
        others = pieces[near.query(zone, predicate="intersects")]
        # Within the cell and off every piece it meets: the zone's part of ``rest``.
        taken = _polygonal(shapely.union_all(others, grid_size=GRID_M))
        share = shapely.difference(zone, taken, grid_size=GRID_M)
        joined = [part for part in polygon_parts(share) if shapely.dwithin(part, pieces[j], EPS_M)]
        if joined:
            grown[j] = _largest_polygon(shapely.union_all([pieces[j], *joined], grid_size=GRID_M))
    return grown


def _split_by_points(cell: Any, points: GeomArray) -> tuple[list[Any], IntArray] | None:
    """Cut ``cell`` into the Voronoi cells of the (row-wise) ``points``."""
    xy = shapely.get_coordinates(points)
    key = np.round(xy / _SAME_POINT_M).astype(np.int64)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    if len(first) < 2:
        return None
    sites = points[first]
    voronoi = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(sites), extend_to=cell))
    tree = shapely.STRtree(voronoi)
    si, vj = tree.query(sites, predicate="intersects")
    order = np.lexsort((vj, si))
    si, vj = si[order], vj[order]
    keep = np.r_[True, si[1:] != si[:-1]]
    region = np.empty(len(sites), dtype=object)
    region[si[keep]] = voronoi[vj[keep]]
    clipped = shapely.intersection(region, cell, grid_size=GRID_M)
    mains: list[Any] = []
    for site, piece in zip(sites, clipped, strict=True):
        parts = polygon_parts(piece)
        touching = [p for p in parts if shapely.intersects(p, site)]
        mains.append(touching[0] if touching else _largest_polygon(piece))
    result = _finish_split(cell, mains, sites)
    if result is None:
        return None
    pieces, site_piece = result
    return pieces, site_piece[inverse.ravel()]


def _finish_split(cell: Any, mains: list[Any], anchors: GeomArray) -> tuple[list[Any], IntArray] | None:
    """Absorb the rest of ``cell`` into the main pieces; map each row to a piece.

    Rows without a piece of their own go to the piece nearest their ``anchors``
    geometry. Returns ``None`` when fewer than two pieces remain.
    """
    have = [k for k, m in enumerate(mains) if m is not None]
    if len(have) < 2:
        return None
    pieces = np.empty(len(have), dtype=object)
    pieces[:] = [mains[k] for k in have]
    _absorb_rest(cell, pieces)
    row_piece = np.empty(len(mains), dtype=np.int64)
    position = {k: p for p, k in enumerate(have)}
    for k in range(len(mains)):
        if k in position:
            row_piece[k] = position[k]
        else:
            row_piece[k] = int(np.argmin(shapely.distance(anchors[k], pieces)))
    return list(pieces), row_piece


def _absorb_rest(cell: Any, pieces: GeomArray) -> None:
    """Join each part of ``cell`` outside ``pieces`` to the piece it shares most boundary with (in place)."""
    rest = shapely.difference(cell, _polygonal(shapely.union_all(pieces, grid_size=GRID_M)), grid_size=GRID_M)
    leftovers = polygon_parts(rest)
    if not leftovers:
        return
    groups: dict[int, list[Any]] = {}
    for part, k in zip(leftovers, _best_neighbours(leftovers, pieces), strict=True):
        groups.setdefault(k, []).append(part)
    for k, extra in groups.items():
        pieces[k] = shapely.union_all([pieces[k], *extra], grid_size=GRID_M)


def _best_neighbours(parts: list[Any], pieces: GeomArray) -> list[int]:
    """For each part, the piece sharing the longest boundary with it (else the nearest)."""
    arr = np.empty(len(parts), dtype=object)
    arr[:] = parts
    pi, kj = shapely.STRtree(pieces).query(arr, predicate="dwithin", distance=EPS_M)
    length = shared_length(arr[pi], pieces[kj])
    order = np.lexsort((kj, -length, pi))
    pi, kj, length = pi[order], kj[order], length[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else pi > 0
    best = np.full(len(parts), -1, dtype=np.int64)
    found = first & (length > 0)
    best[pi[found]] = kj[found]
    for k in np.flatnonzero(best < 0):
        best[k] = int(np.argmin(shapely.distance(arr[k], pieces)))
    return [int(b) for b in best]


def _largest_polygon(geom: Any) -> Any:
    """Largest polygon part of ``geom``, or ``None`` when it has no area."""
    parts = polygon_parts(geom)
    if not parts:
        return None
    return max(parts, key=lambda p: p.area)
