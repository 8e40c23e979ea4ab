"""Atoms: the smallest areas that planned units are assembled from.

Two ways of cutting the study area into atoms are offered:

``mode="roads"``
    The road lines clipped to the study area are noded together with the study
    area's boundary and the barrier lines (and the outlines of barrier polygons)
    on a :data:`GRID_M` grid (so road ends missing a junction by less than that
    still close their faces) and polygonized: the *faces* tile the study area;
    faces lying in a barrier polygon (a river) are dropped. Slivers -- faces
    smaller than ``min_area_m2`` or thinner than :data:`SLIVER_WIDTH_M`
    everywhere -- are merged into the neighbour with which they share the
    longest boundary; a long sliver touching several faces (a road running just
    inside the study-area boundary) is first cut between them. Faces without
    households (parks, water edges) are kept so that units tile the area.
``mode="blocks"``
    Every population block polygon is an atom (census blocks are already bounded
    by roads).

Households (and residents, when given) of the population blocks are attached to
the atoms: a point block goes to the face containing it (shared equally between
the faces on either side when it lies on a road line, to the nearest face when it
lies outside every face), a polygon block is shared between the faces it overlaps
in proportion to the overlap area, with integer largest-remainder apportionment so
that totals are conserved to the household.
Overlaps thinner than 0.5 m along a block's edge, and overlaps below both
:data:`MINOR_SHARE` of the block and a quarter of the face, are digitising noise:
they go to the block's main faces instead (unless the block has no main face). A
block coarser than the faces (a neighbourhood total) is so spread over every face
it covers, with a note when such blocks hold a quarter of the households.

An atom holding more than ``max_households`` (or, with a band in residents, more
than ``max_residents``) is subdivided by its population blocks (the block pieces
inside it, or the Voronoi cells of point blocks clipped to it; the rest of the
atom, such as the margin between compounds and the road centre lines, goes to the
nearest piece, see :mod:`redistrict._atoms_split`); a single block that alone
exceeds the household limit is kept whole and reported in :attr:`Atoms.notes`
(one above the residents limit is reported by the search, which flags its unit).

Atoms are numbered by their representative point (south to north, then west to
east); ``community_id`` is the community covering most of an atom's area.

This module checks the inputs, runs the steps and assembles the atoms with their
communities; the road faces are cut in :mod:`redistrict._atoms_faces`, the
households attached in :mod:`redistrict._atoms_attach` and large atoms
subdivided in :mod:`redistrict._atoms_split`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from redistrict._atoms_attach import MINOR_SHARE, attach_points, attach_polygons
from redistrict._atoms_faces import GRID_M, SLIVER_WIDTH_M, GeomArray, geom_array, road_faces
from redistrict._atoms_faces import SNAP_M as SNAP_M  # public, imported by redistrict._validate_roads
from redistrict._atoms_split import Alloc, subdivide
from redistrict._offices import community_labels
from redistrict._words import listed, quoted
from redistrict.errors import InputError, RedistrictError
from redistrict.graph import SNAP_M as GRAPH_SNAP_M
from redistrict.load import Inputs
from redistrict.problem import FloatArray, IntArray

__all__ = ["GRID_M", "MINOR_SHARE", "SLIVER_WIDTH_M", "Atoms", "build_atoms"]

_LOG = logging.getLogger(__name__)

#: At most this many feature labels are quoted in one note or problem.
_MAX_LISTED = 10
#: An atom outside every community polygon, but this close (metres) to one, belongs to
#: the nearest (a sliver between a community's edge and a road centre line); farther
#: away it belongs to no community.
COMMUNITY_REACH_M = 30.0
#: ... but only when at least this share of its area lies within that reach (points: always).
_REACH_SHARE = 0.5
#: A community with households less than this share of whose area lies in the study area is
#: warned about: its class counts only the households inside.
_CUT_SHARE = 0.8
#: Block atoms (--atoms blocks) falling into at least this many separate pieces, and at least
#: this share of the blocks, are refused: compounds set apart by streets, not a block map.
_SCATTERED_MIN = 4
_SCATTERED_SHARE = 0.25
#: A community without households is one of the plan's only when at least this share of
#: its area lies in the study area (else it is a neighbour reaching over the edge).
_INSIDE_SHARE = 0.5


@dataclass
class Atoms:
    """Atoms of a study area and the link from population blocks to atoms.

    Attributes
    ----------
    atoms : geopandas.GeoDataFrame
        One row per atom, index ``atom_id`` (0..n-1, ordered by representative
        point y then x). Columns ``households`` (int64), ``residents`` (float64,
        only when the blocks have residents), ``community_id`` (only when
        communities are given: the community covering most of the atom's area),
        ``n_blocks`` (int64, number of population blocks with a share in the
        atom), ``kind`` (``"face"`` for a road face, ``"block"`` for a census block
        or a piece of a subdivided face) and ``geometry``.
    block_atom : pandas.Series
        For each block index, the ``atom_id`` holding most of its households (most
        of its area when it has none).
    notes : list of str
        Human-readable remarks for the run report.
    warnings : list of str
        The notes that say the inputs are probably wrong (also in ``notes``).

    """

    atoms: gpd.GeoDataFrame
    block_atom: pd.Series
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def build_atoms(
    inputs: Inputs,
    *,
    max_households: int,
    max_residents: float | None = None,
    min_area_m2: float = 200.0,
    mode: Literal["roads", "blocks"] = "roads",
) -> Atoms:
    """Cut the study area into atoms and attach the households of the blocks.

    Parameters
    ----------
    inputs : Inputs
        Loaded inputs: ``blocks`` (``households``, optional ``residents``),
        ``roads``, ``study_area``, ``crs`` and optional ``communities`` and
        ``barriers``.
    max_households : int
        Atoms holding more households are subdivided by their blocks.
    max_residents : float, optional
        With a band in residents, its upper bound: atoms holding more residents are
        subdivided too (``max_households`` then comes from the average household size,
        which a face of large households exceeds in residents long before households).
    min_area_m2 : float, default 200.0
        Road faces smaller than this are slivers merged into a neighbour.
    mode : {"roads", "blocks"}, default "roads"
        ``"roads"`` polygonizes the roads; ``"blocks"`` uses each block polygon.

    Returns
    -------
    Atoms
        The atoms, the block-to-atom link and notes.

    Raises
    ------
    InputError
        When the options or the inputs cannot produce atoms (all problems listed).
    RedistrictError
        When the households of the atoms do not add up to those of the blocks.

    """
    _check_inputs(inputs, max_households, min_area_m2, mode)
    notes: list[str] = []
    blocks = inputs.blocks
    geoms = _valid(geom_array(blocks.geometry), "blocks", blocks.index, notes)
    households = blocks["households"].to_numpy(dtype=np.int64)
    residents = _residents(blocks, notes)
    is_point = bool(np.all(shapely.get_type_id(geoms) == 0))
    labels = blocks.index

    if mode == "blocks":
        cells = geoms.copy()
        kinds = np.full(len(cells), "block", dtype=object)
        idx = np.arange(len(geoms), dtype=np.int64)
        alloc = Alloc(idx, idx.copy(), households, residents, shapely.area(geoms))
    else:
        cells = road_faces(inputs, min_area_m2, notes)
        kinds = np.full(len(cells), "face", dtype=object)
        if is_point:
            alloc = attach_points(geoms, households, residents, cells, labels, notes)
        else:
            alloc = attach_polygons(geoms, households, residents, cells, labels, notes)

    block_community = None
    shapes: dict[str, Any] = {}
    if inputs.communities is not None and len(inputs.communities):
        block_community = _community_of(geoms, inputs.communities)
        shapes = _community_shapes(inputs.communities)
    cells, kinds, alloc = subdivide(
        cells, kinds, alloc, geoms, is_point, max_households, notes, block_community, shapes,
        max_residents=max_residents,
    )  # fmt: skip
    frame, block_atom, row_atom = _assemble(
        cells, kinds, alloc, len(geoms), inputs, labels, block_community, shapes
    )
    _check_conservation(households, frame)
    _note_oversize(frame, alloc, row_atom, households, labels, max_households, notes)
    warnings = _uncovered(frame, inputs.sources.get("communities", "communities"))
    # Without --study-area and --where the study area is drawn round every block: no household
    # lies outside, and land a community's polygon holds beyond it (a park, a lake) is no cut.
    chosen = "study_area" in inputs.sources or inputs.options.get("where") is not None
    if shapes and chosen:
        warnings += _cut_communities(frame, shapes, inputs.study_area, inputs.communities)
    notes += warnings
    _LOG.info(
        "built %d atoms (%s mode) from %d blocks holding %d households",
        len(frame),
        mode,
        len(geoms),
        int(households.sum()),
    )
    return Atoms(atoms=frame, block_atom=block_atom, notes=notes, warnings=warnings)


# ----------------------------------------------------------------------------- validation


def _check_inputs(inputs: Inputs, max_households: int, min_area_m2: float, mode: str) -> None:
    """Raise one :class:`InputError` listing every problem that blocks atom building."""
    problems: list[str] = []
    if mode not in ("roads", "blocks"):
        problems.append(f"option mode={mode!r} is unknown: use 'roads' or 'blocks'")
    if isinstance(max_households, bool) or not isinstance(max_households, int | np.integer):
        problems.append(f"option max_households={max_households!r} must be a whole number >= 1")
    elif max_households < 1:
        problems.append(f"option max_households={max_households} must be >= 1")
    if not isinstance(min_area_m2, int | float | np.number) or not (
        np.isfinite(min_area_m2) and min_area_m2 >= 0
    ):
        problems.append(f"option min_area_m2={min_area_m2!r} must be a finite number >= 0")
    if inputs.crs is None or not inputs.crs.is_projected:
        problems.append(
            f"the coordinate reference system {inputs.crs!r} is not projected: "
            "reproject the layers to a metric CRS (e.g. the local UTM zone)"
        )
    problems += _block_problems(inputs.blocks, mode)
    if mode == "roads":
        problems += _road_problems(inputs)
    if inputs.communities is not None and "community_id" not in inputs.communities.columns:
        problems.append("layer communities has no column 'community_id': add one")
    if problems:
        raise InputError(problems)


def _block_problems(blocks: gpd.GeoDataFrame, mode: str) -> list[str]:
    """List problems of the population blocks layer."""
    problems: list[str] = []
    if len(blocks) == 0:
        return ["layer blocks is empty: give at least one population block"]
    if "households" not in blocks.columns:
        problems.append("layer blocks has no column 'households': add the household counts")
    else:
        col = blocks["households"]
        if not pd.api.types.is_integer_dtype(col.dtype):
            problems.append(f"column blocks.households has dtype {col.dtype}: convert it to whole numbers")
        elif col.isna().any():
            problems.append(
                f"column blocks.households is missing in blocks {quoted(blocks.index[col.isna()])}"
                ": fill in the counts (0 where nobody lives)"
            )
        else:
            negative = blocks.index[col.to_numpy() < 0]
            if len(negative):
                problems.append(
                    f"column blocks.households is negative in blocks {quoted(negative)}: fix the counts"
                )
    if "residents" in blocks.columns:
        col = blocks["residents"]
        if not pd.api.types.is_numeric_dtype(col.dtype):
            problems.append(f"column blocks.residents has dtype {col.dtype}: make it numeric")
        else:
            negative = blocks.index[col.to_numpy(dtype=np.float64, na_value=0.0) < 0]
            if len(negative):
                problems.append(
                    f"column blocks.residents is negative in blocks {quoted(negative)}: fix the counts"
                )
    geoms = geom_array(blocks.geometry)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        problems.append(f"blocks {quoted(blocks.index[bad])} have no geometry: drop them or draw them")
        return problems
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, (3, 6))
    points = types == 0
    if not (polygonal.all() or points.all()):
        odd = blocks.index[~(polygonal | points)]
        problems.append(
            "layer blocks must hold only polygons or only points"
            + (f" (blocks {quoted(odd)} are neither)" if len(odd) else " but mixes both")
            + ": split the layer or convert the geometries"
        )
    elif points.all() and mode == "blocks":
        problems.append(
            "atoms from blocks (--atoms blocks, mode 'blocks') need polygon blocks but layer blocks "
            "holds points: use atoms from roads (--atoms roads, the default) or give block polygons"
        )
    elif mode == "blocks":
        problems += _scattered_blocks(blocks)
    return problems


def _scattered_blocks(blocks: gpd.GeoDataFrame) -> list[str]:
    """A problem when block atoms would be islands: compounds set apart by streets.

    With ``mode="blocks"`` units are made of blocks that touch (or lie within half of
    :data:`redistrict.graph.SNAP_M` of one another). Residential compounds separated
    by streets touch nothing, and every one would become a unit of its own.
    """
    geoms = geom_array(blocks.geometry)
    n = len(geoms)
    if n < _SCATTERED_MIN:
        return []
    a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=GRAPH_SNAP_M / 2)
    links = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    pieces, _ = connected_components(links, directed=False)
    if pieces < _SCATTERED_MIN or pieces < _SCATTERED_SHARE * n:
        return []
    return [
        f"atoms from blocks (--atoms blocks) join blocks that touch, but these {n} blocks form {pieces} "
        f"separate pieces (compounds set apart by streets wider than {GRAPH_SNAP_M / 2:g} m), so nearly "
        "every block would be a unit of its own: use atoms from roads (--atoms roads, the default), "
        "which cuts the study area along the roads and gives each face its blocks"
    ]


def _road_problems(inputs: Inputs) -> list[str]:
    """List problems of the study area, roads and barriers used to cut faces."""
    problems: list[str] = []
    area = inputs.study_area
    if area is None or area.is_empty or area.geom_type not in ("Polygon", "MultiPolygon"):
        problems.append("the study area is empty or not a polygon: give a study area polygon")
    for name, frame, allowed in (
        ("roads", inputs.roads, (1, 2, 5)),
        ("barriers", inputs.barriers, (1, 2, 3, 5, 6)),
    ):
        if frame is None or len(frame) == 0:
            continue
        geoms = geom_array(frame.geometry)
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        odd = frame.index[ok & ~np.isin(shapely.get_type_id(geoms), allowed)]
        if len(odd):
            what = "lines" if name == "roads" else "lines or polygons"
            problems.append(f"layer {name} features {quoted(odd)} are not {what}: drop or convert them")
    return problems


def _residents(blocks: gpd.GeoDataFrame, notes: list[str]) -> FloatArray | None:
    """Residents per block as floats (missing values count as 0 with a note)."""
    if "residents" not in blocks.columns:
        return None
    values: FloatArray = np.asarray(
        blocks["residents"].to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64
    )
    missing = ~np.isfinite(values)
    if missing.any():
        notes.append(
            f"{int(missing.sum())} blocks have no residents value "
            f"({quoted(blocks.index[missing])}); they count as 0 residents"
        )
        values = np.where(missing, 0.0, values)
    return values


def _valid(geoms: GeomArray, layer: str, labels: pd.Index, notes: list[str]) -> GeomArray:
    """Repair invalid polygons (keeping their polygonal part) with a note."""
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return geoms
    fixed = geoms.copy()
    fixed[invalid] = shapely.make_valid(geoms[invalid], method="structure", keep_collapsed=False)
    notes.append(
        f"{int(invalid.sum())} invalid geometries in layer {layer} were repaired ({quoted(labels[invalid])})"
    )
    return fixed


# ----------------------------------------------------------------------------- output


def _assemble(
    cells: GeomArray,
    kinds: NDArray[np.object_],
    alloc: Alloc,
    n_blocks: int,
    inputs: Inputs,
    labels: pd.Index,
    block_community: NDArray[np.object_] | None,
    shapes: dict[str, Any],
) -> tuple[gpd.GeoDataFrame, pd.Series, IntArray]:
    """Order the cells into atoms; return the atom table, block link and atom of each row.

    An atom's ``community_id`` is the community of its blocks (:func:`_by_blocks`),
    or for an atom without blocks the community covering most of its area; a
    community without households lying mostly outside the study area (its polygon
    in ``shapes``, from :func:`_community_shapes`) is none (:func:`_outside_empty`).
    """
    reps = shapely.point_on_surface(cells)
    rank = np.empty(len(cells), dtype=np.int64)
    rank[np.lexsort((shapely.get_x(reps), shapely.get_y(reps)))] = np.arange(len(cells))
    order = np.argsort(rank)
    atom = rank[alloc.cell]
    n = len(cells)
    columns: dict[str, Any] = {
        "households": np.bincount(atom, alloc.households, minlength=n).astype(np.int64)
    }
    if alloc.residents is not None:
        columns["residents"] = np.bincount(atom, alloc.residents, minlength=n)
    geometry = cells[order]
    if inputs.communities is not None and len(inputs.communities):
        columns["community_id"] = _community_of(geometry, inputs.communities)
        if block_community is not None:
            _by_blocks(columns["community_id"], atom, alloc, block_community)
        _outside_empty(columns["community_id"], columns["households"], shapes, inputs.study_area)
    pairs = np.unique(np.stack([atom, alloc.block]), axis=1)
    columns["n_blocks"] = np.bincount(pairs[0], minlength=n).astype(np.int64)
    columns["kind"] = kinds[order].astype(str)
    index = pd.RangeIndex(n, name="atom_id")
    frame = gpd.GeoDataFrame(columns, geometry=geometry, crs=inputs.crs, index=index)

    best = np.lexsort((atom, -alloc.weight, -alloc.households, alloc.block))
    sorted_block = alloc.block[best]
    first = np.r_[True, sorted_block[1:] != sorted_block[:-1]]
    link = np.full(n_blocks, -1, dtype=np.int64)
    link[sorted_block[first]] = atom[best][first]
    block_atom = pd.Series(link, index=labels, name="atom_id")
    return frame, block_atom, atom


def _community_shapes(communities: gpd.GeoDataFrame) -> dict[str, Any]:
    """Each community's polygon (its features united), by community id."""
    ids = communities["community_id"].astype(str)
    geoms = geom_array(communities.geometry)
    return {cid: shapely.union_all(geoms[(ids == cid).to_numpy()]) for cid in sorted(set(ids))}


def _by_blocks(
    community: NDArray[np.object_], atom: IntArray, alloc: Alloc, block_community: NDArray[np.object_]
) -> None:
    """Give each atom holding blocks the community of its blocks (in place).

    The community of the blocks holding most of its households; for an atom
    without households, of the blocks covering most of it (a sliver of a block
    whose residents round to no household).
    """
    table = pd.DataFrame(
        {
            "atom": atom,
            "id": block_community[alloc.block],
            "households": alloc.households,
            "weight": alloc.weight,
        }
    )
    total = table.groupby(["atom", "id"], as_index=False).agg(
        households=("households", "sum"), weight=("weight", "sum")
    )
    total = total.sort_values(
        ["atom", "households", "weight", "id"], ascending=[True, False, False, True], kind="stable"
    )
    best = total.drop_duplicates("atom")
    community[best["atom"].to_numpy(dtype=np.int64)] = best["id"].to_numpy(dtype=object)


def _outside_empty(
    community: NDArray[np.object_], households: IntArray, shapes: dict[str, Any], area: Any
) -> None:
    """Drop (in place) communities holding no households that lie mostly outside the study area.

    A neighbouring community reaching over the edge of the area (or drawn a few
    metres off the roads) would otherwise label an empty atom or two and be
    listed, merged and costed as a community of the plan.
    """
    held = pd.Series(households).groupby(community).sum()
    empty = [str(c) for c, h in held.items() if c != "" and h == 0]
    if not empty:
        return
    for cid in empty:
        shape = shapes[cid]
        whole = shapely.area(shape)
        if whole > 0 and shapely.area(shapely.intersection(shape, area)) < _INSIDE_SHARE * whole:
            community[community == cid] = ""


def _cut_communities(
    frame: gpd.GeoDataFrame, shapes: dict[str, Any], area: Any, communities: gpd.GeoDataFrame | None
) -> list[str]:
    """A warning naming the communities with households that reach far beyond the study area.

    Their size, and so their class (oversized, undersized, in the band) and what
    minimal-change keeps, counts only the households inside: a community cut in three
    by the study area can be kept "as it is" with a third of its households.
    """
    if "community_id" not in frame.columns:
        return []
    held = frame.groupby("community_id")["households"].sum()
    names = community_labels(communities)
    cut: list[str] = []
    for cid, hh in held.items():
        shape = shapes.get(str(cid))
        if cid == "" or hh <= 0 or shape is None:
            continue
        whole = shapely.area(shape)
        inside = shapely.area(shapely.intersection(shape, area)) / whole if whole > 0 else 1.0
        if inside < _CUT_SHARE:
            label = names.get(str(cid), str(cid))
            cut.append(f"{label} ({inside:.0%} of its area inside, {int(hh):,} households)")
    if not cut:
        return []
    who = "1 community reaches" if len(cut) == 1 else f"{len(cut)} communities reach"
    return [
        f"{who} far beyond the study area: {listed(cut, limit=_MAX_LISTED)}. Only their households "
        "inside are planned, so their size and class (oversized, undersized, in the band) count those "
        "alone, and minimal-change may keep a part as if it were the whole community; give a study area "
        "that holds whole communities"
    ]


def _community_of(cells: GeomArray, communities: gpd.GeoDataFrame) -> NDArray[np.object_]:
    """Community covering most of each cell's area.

    A cell no community overlaps belongs to the nearest one within
    :data:`COMMUNITY_REACH_M` when it is a point or lies mostly within that reach
    (a sliver between the community's edge and a road), else to none (``""``):
    a compound across the street from a community missing from the layer is not
    credited to the community on the other side.
    """
    geoms = geom_array(communities.geometry)
    ids = communities["community_id"].astype(str).to_numpy(dtype=object)
    tree = shapely.STRtree(geoms)
    ci, kj = tree.query(cells, predicate="intersects")
    area = shapely.area(shapely.intersection(cells[ci], geoms[kj]))
    out = np.full(len(cells), "", dtype=object)
    table = pd.DataFrame({"cell": ci, "id": ids[kj], "area": area})
    table = table[table["area"] > 0].sort_values(["cell", "area", "id"], ascending=[True, False, True])
    best = table.drop_duplicates("cell")
    out[best["cell"].to_numpy()] = best["id"].to_numpy()
    loose = np.flatnonzero(out == "")
    if len(loose):
        # Every community within reach of each loose cell: the nearest (ties: the smallest id)
        # is the candidate, and all of them make the zone a polygon must mostly lie in.
        li, lj = tree.query(cells[loose], predicate="dwithin", distance=COMMUNITY_REACH_M)
        near = pd.DataFrame(
            {"cell": loose[li], "k": lj, "id": ids[lj], "dist": shapely.distance(cells[loose[li]], geoms[lj])}
        )
        nearest = near.sort_values(["cell", "dist", "id"]).drop_duplicates("cell")
        # A polygon counts only when most of it lies within reach of the communities (a sliver
        # along an edge, or between two), not a compound across the street from a community
        # missing from the layer.
        polygons = near[shapely.area(cells[near["cell"].to_numpy()]) > 0]
        reach = {int(k): shapely.buffer(geoms[k], COMMUNITY_REACH_M) for k in polygons["k"].unique()}
        keep = set(nearest["cell"].tolist()) - set(polygons["cell"].tolist())  # points
        for c, ks in polygons.groupby("cell")["k"]:
            zone = shapely.union_all([reach[int(k)] for k in ks])
            if shapely.area(shapely.intersection(cells[c], zone)) >= _REACH_SHARE * shapely.area(cells[c]):
                keep.add(int(c))
        chosen = nearest[nearest["cell"].isin(keep)]
        out[chosen["cell"].to_numpy()] = chosen["id"].to_numpy()
    return out


def _uncovered(frame: gpd.GeoDataFrame, source: str) -> list[str]:
    """A warning when atoms with households lie outside every community polygon.

    Such households belong to no existing community (see :func:`_community_of`):
    community sizes, households moved and which committee continues leave them
    out. A communities layer that misses a community (or covers another area)
    would otherwise credit its households silently to the nearest community.
    """
    if "community_id" not in frame.columns:
        return []
    held = frame["households"].to_numpy()
    lost = (frame["community_id"].to_numpy() == "") & (held > 0)
    if not lost.any():
        return []
    total = int(held.sum())
    out = int(held[lost].sum())
    return [
        f"communities ({source}): {out:,} of the {total:,} households ({out / total:.0%}) lie in "
        f"{int(lost.sum())} atoms outside every community polygon (not slivers within "
        f"{COMMUNITY_REACH_M:g} m of one's edge): they belong to no existing community, so community "
        "sizes, households moved and committee continuity leave them out; add the missing communities "
        "to the layer or check that it covers the blocks"
    ]


def _check_conservation(households: IntArray, frame: gpd.GeoDataFrame) -> None:
    """Raise when the atoms do not hold exactly the households of the blocks."""
    blocks_total = int(households.sum())
    atoms_total = int(frame["households"].sum())
    if blocks_total != atoms_total:
        raise RedistrictError(
            f"atoms hold {atoms_total} households but the blocks hold {blocks_total} "
            f"(gap {blocks_total - atoms_total}); this is a bug in redistrict.atoms: "
            "please report it with the input data"
        )


def _note_oversize(
    frame: gpd.GeoDataFrame,
    alloc: Alloc,
    row_atom: IntArray,
    households: IntArray,
    labels: pd.Index,
    max_households: int,
    notes: list[str],
) -> None:
    """Note every atom left above ``max_households`` and the block(s) causing it."""
    counts = frame["households"].to_numpy()
    for atom_id in np.flatnonzero(counts > max_households):
        rows = np.flatnonzero((row_atom == atom_id) & (alloc.households > 0))[:_MAX_LISTED]
        shown = ", ".join(
            f"{label!r} ({int(alloc.households[r]):,} of its {int(households[b]):,} households)"
            for label, r, b in zip(labels[alloc.block[rows]].tolist(), rows, alloc.block[rows], strict=True)
        )
        what = "one block" if len(rows) == 1 else "blocks at one location"
        notes.append(
            f"atom {int(atom_id)} holds {int(counts[atom_id]):,} households, more than a unit may hold "
            f"({max_households:,}), but is {what} and cannot be split further: "
            f"block {shown}; its unit will be out of band"
        )
