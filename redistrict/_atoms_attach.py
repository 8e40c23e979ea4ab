"""Households of the population blocks attached to the road faces.

:func:`attach_points` gives each point block to the face it lies in (shared
equally between the faces of a road line it lies on, :func:`_share_equally`;
to the nearest face when it lies outside every face). :func:`attach_polygons`
shares each polygon block between the faces it overlaps by overlap area, with
largest-remainder apportionment (:func:`_apportion`) so that totals are
conserved to the household; overlaps that are digitising noise
(:func:`_real_overlaps`) go to the block's main faces, and blocks coarser than
the faces are noted (:func:`_note_coarse`). Both return the shares as an
:class:`~redistrict._atoms_split.Alloc`. :data:`MINOR_SHARE` is re-exported by
:mod:`redistrict.atoms`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from redistrict._atoms_faces import EPS_M, GeomArray
from redistrict._atoms_split import Alloc
from redistrict._words import quoted
from redistrict.problem import FloatArray, IntArray

__all__ = ["MINOR_SHARE", "attach_points", "attach_polygons"]


#: A polygon block's overlap with a face below this share of the block is noise (unless it is
#: a real share of the face: see ``_FACE_SHARE``).
MINOR_SHARE = 0.05
#: Overlaps of a block with a face thinner than this (metres) are digitising noise.
_NOISE_M = 0.5
#: A polygon block's overlap with a face of at least this share of the face is never
#: noise. Measured on the City of Ottawa's 8,555 census blocks (115 neighbourhoods):
#: the overhang strips that survive the :data:`_NOISE_M` shrink (1-4 m wide) cover at
#: most 22 % of their face (one 30 %), and a strip kept gets only its tiny share of the
#: block; a face lying inside a block is covered ~100 %.
_FACE_SHARE = 0.25
#: A block spread over this many faces or more is coarser than the faces; such blocks
#: are noted when they hold :data:`_COARSE_SHARE` of the households or more. In 112 of
#: Ottawa's 115 neighbourhoods the census blocks over 5+ faces hold less (median 1 %);
#: Centretown's dissemination areas over 5+ faces hold 47 %, neighbourhood polygons all.
_COARSE_FACES = 5
_COARSE_SHARE = 0.25


def attach_points(
    geoms: GeomArray,
    households: IntArray,
    residents: FloatArray | None,
    cells: GeomArray,
    labels: pd.Index,
    notes: list[str],
) -> Alloc:
    """Give each point block to the cell it lies in, else to the nearest cell.

    A point within :data:`EPS_M` of several cells (on a road line between faces, or
    where roads cross) is shared equally between them (:func:`_share_equally`).
    """
    n = len(geoms)
    tree = shapely.STRtree(cells)
    bi, cj = tree.query(geoms, predicate="dwithin", distance=EPS_M)
    bi, cj = bi.astype(np.int64), cj.astype(np.int64)
    loose = np.flatnonzero(np.bincount(bi, minlength=n) == 0)
    if len(loose):
        li, lj = tree.query_nearest(geoms[loose], all_matches=True)
        order = np.lexsort((lj, li))
        li, lj = li[order], lj[order]
        first = np.r_[True, li[1:] != li[:-1]]
        bi = np.concatenate([bi, loose[li[first]]])
        cj = np.concatenate([cj, lj[first].astype(np.int64)])
        notes.append(
            f"{len(loose)} point blocks lie outside every face "
            f"({quoted(labels[loose])}); they were given to the nearest face"
        )
    order = np.lexsort((cj, bi))
    bi, cj = bi[order], cj[order]
    count = np.bincount(bi, minlength=n)
    shared = np.flatnonzero((count > 1) & (households > 0))
    if len(shared):
        what = "1 point block lies" if len(shared) == 1 else f"{len(shared)} point blocks lie"
        notes.append(
            f"{what} on road lines between faces ({quoted(labels[shared])}): "
            "their households were shared between the faces on either side; move the points off "
            "the road centre lines (onto their buildings) to place them exactly"
        )
    rank = np.lexsort((np.arange(n), shapely.get_y(geoms), shapely.get_x(geoms)))
    hh = _share_equally(households, bi, cj, rank)
    res = None if residents is None else _share_equally_float(residents, bi, cj, rank)
    return Alloc(bi, cj, hh, res, 1.0 / count[bi])


def _share_equally(totals: IntArray, bi: IntArray, cj: IntArray, rank: IntArray) -> IntArray:
    """Split integer ``totals[b]`` equally over the rows of block ``b`` (rows sorted by block).

    The households left over (fewer than the block's cells) are dealt in turn, in
    the order ``rank`` of the blocks, over all blocks sharing the same cells: ten
    one-household points on one street give five to each side, not ten to one.
    """
    count = np.bincount(bi, minlength=len(totals))
    out = totals[bi].copy()
    start = np.searchsorted(bi, np.arange(len(totals)))
    dealt: dict[bytes, int] = {}
    for b in rank[count[rank] > 1]:
        k, rows = int(count[b]), slice(int(start[b]), int(start[b] + count[b]))
        key = cj[rows].tobytes()
        whole, left = divmod(int(totals[b]), k)
        offset = dealt.get(key, 0)
        share = np.full(k, whole, dtype=np.int64)
        share[(offset + np.arange(left)) % k] += 1
        out[rows] = share
        dealt[key] = (offset + left) % k
    return out


def _share_equally_float(totals: FloatArray, bi: IntArray, cj: IntArray, rank: IntArray) -> FloatArray:
    """Split ``totals`` like :func:`_share_equally`, keeping whole numbers whole."""
    if np.all(totals == np.round(totals)) and np.all(np.abs(totals) < 2**52):
        whole = _share_equally(np.round(totals).astype(np.int64), bi, cj, rank)
        return whole.astype(np.float64)
    count = np.bincount(bi, minlength=len(totals))
    return totals[bi] / count[bi]


def attach_polygons(
    geoms: GeomArray,
    households: IntArray,
    residents: FloatArray | None,
    cells: GeomArray,
    labels: pd.Index,
    notes: list[str],
) -> Alloc:
    """Share each polygon block between the cells it overlaps, by overlap area."""
    tree = shapely.STRtree(cells)
    core = shapely.buffer(geoms, -_NOISE_M, quad_segs=1)
    core = np.where(shapely.is_empty(core), geoms, core)
    bi, cj = tree.query(core, predicate="intersects")
    bi, cj = bi.astype(np.int64), cj.astype(np.int64)
    overlap = shapely.area(geoms[bi])
    shared = np.bincount(bi, minlength=len(geoms))[bi] > 1
    overlap[shared] = shapely.area(shapely.intersection(geoms[bi[shared]], cells[cj[shared]]))
    keep = overlap > 0
    bi, cj, overlap = bi[keep], cj[keep], overlap[keep]
    keep = _real_overlaps(bi, cj, overlap, len(geoms), cells)
    bi, cj, overlap = bi[keep], cj[keep], overlap[keep]
    _note_coarse(bi, households, labels, notes)

    loose = np.flatnonzero(np.bincount(bi, minlength=len(geoms)) == 0)
    if len(loose):
        li, lj = tree.query_nearest(geoms[loose], all_matches=True)
        order = np.lexsort((lj, li))
        li, lj = li[order], lj[order]
        first = np.r_[True, li[1:] != li[:-1]]
        bi = np.concatenate([bi, loose[li[first]]])
        cj = np.concatenate([cj, lj[first].astype(np.int64)])
        overlap = np.concatenate([overlap, np.ones(int(first.sum()))])
        notes.append(
            f"{len(loose)} blocks lie outside every face ({quoted(labels[loose])}); "
            "their households were given to the nearest face"
        )
    order = np.lexsort((cj, bi))
    bi, cj, overlap = bi[order], cj[order], overlap[order]
    hh = _apportion(households, bi, overlap)
    res = None if residents is None else _apportion_float(residents, bi, overlap)
    return Alloc(bi, cj, hh, res, overlap)


def _real_overlaps(
    bi: IntArray, cj: IntArray, overlap: FloatArray, n_blocks: int, cells: GeomArray
) -> NDArray[np.bool_]:
    """Mask of the (block ``bi``, cell ``cj``) overlaps that are not digitising noise.

    An overlap is real when it is at least :data:`MINOR_SHARE` of its block or at
    least :data:`_FACE_SHARE` of its cell (a block coarser than the faces covers
    whole faces, each a small share of the block). The rest is noise, unless the
    block has no real overlap at all (then all its overlaps count).
    """
    total = np.bincount(bi, overlap, minlength=n_blocks)
    real = (overlap >= MINOR_SHARE * total[bi]) | (overlap >= _FACE_SHARE * shapely.area(cells[cj]))
    has_real = np.bincount(bi, real, minlength=n_blocks) > 0
    keep: NDArray[np.bool_] = real | ~has_real[bi]
    return keep


def _note_coarse(bi: IntArray, households: IntArray, labels: pd.Index, notes: list[str]) -> None:
    """Note blocks spread over many faces (``bi``: block of each kept overlap) holding many households."""
    faces = np.bincount(bi, minlength=len(households))
    coarse = np.flatnonzero((faces >= _COARSE_FACES) & (households > 0))
    held, total = int(households[coarse].sum()), int(households.sum())
    if held == 0 or held < _COARSE_SHARE * total:
        return
    what = "1 block covers" if len(coarse) == 1 else f"{len(coarse)} blocks each cover"
    notes.append(
        f"{what} {_COARSE_FACES} or more faces (up to {int(faces[coarse].max())}; "
        f"{quoted(labels[coarse])}), holding {held:,} of the {total:,} households: their households "
        "were spread over those faces by area, so unit sizes are estimates; give finer population "
        "data (census blocks or address points) for exact unit sizes"
    )


def _apportion(totals: IntArray, group: IntArray, weights: FloatArray) -> IntArray:
    """Split integer ``totals[g]`` over the rows of group ``g`` by largest remainder."""
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    wsum = np.bincount(group, weights, minlength=len(totals))
    quota = totals[group] * (weights / wsum[group])
    base = np.floor(quota).astype(np.int64)
    left = totals - np.bincount(group, base, minlength=len(totals)).astype(np.int64)
    frac = quota - base
    order = np.lexsort((np.arange(len(group)), -weights, -frac, group))
    sorted_group = group[order]
    starts = np.r_[0, np.flatnonzero(sorted_group[1:] != sorted_group[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(group)])
    rank = np.arange(len(group)) - np.repeat(starts, sizes)
    extra = np.zeros(len(group), dtype=np.int64)
    extra[order] = (rank < left[sorted_group]).astype(np.int64)
    return base + extra


def _apportion_float(totals: FloatArray, group: IntArray, weights: FloatArray) -> FloatArray:
    """Split ``totals`` like :func:`_apportion`, keeping whole numbers whole."""
    if np.all(totals == np.round(totals)) and np.all(np.abs(totals) < 2**52):
        whole = _apportion(np.round(totals).astype(np.int64), group, weights)
        return whole.astype(np.float64)
    wsum = np.bincount(group, weights, minlength=len(totals))
    return totals[group] * (weights / wsum[group])
