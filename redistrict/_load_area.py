"""The study area: derived or read, and the layers cut down to it."""

from __future__ import annotations

import warnings
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from redistrict import _validate as v
from redistrict._load_read import Layer, Report

__all__ = [
    "POINT_AREA_MARGIN_M",
    "ROAD_MARGIN_M",
    "STRAY_FACTOR",
    "STRAY_FACTOR_POINTS",
    "check_islands",
    "check_roads_reach",
    "clip_roads",
    "keep_intersecting",
    "missed_layer",
    "spiked_blocks",
    "stray_blocks",
    "study_area_of",
    "unselected_inside",
]

#: Roads are clipped to the study area grown by this distance (metres).
ROAD_MARGIN_M: Final[float] = 50.0
#: A study area made of points is their convex hull grown by this distance (metres).
POINT_AREA_MARGIN_M: Final[float] = 100.0
#: A polygon block (or a small group of them) whose outline is farther than this many times
#: the typical spacing of the blocks from every other block is a stray (see :func:`stray_blocks`).
STRAY_FACTOR: Final[float] = 10.0
#: The same for point blocks, whose distance runs from centre to centre: in sparse (rural)
#: areas real blocks stand farther apart than their neighbours' spacing suggests.
STRAY_FACTOR_POINTS: Final[float] = 20.0
#: The spacing of a block's neighbourhood is the median spacing of this many nearest blocks.
_STRAY_NEIGHBOURS: Final[int] = 8
#: A group of blocks is a stray group when it holds at most this share of the blocks.
_STRAY_SHARE: Final[float] = 0.05
#: Fewer blocks than this have no typical spacing: they are not checked.
_STRAY_MIN_BLOCKS: Final[int] = 4
#: At most this many stray groups are described in the warning.
_STRAY_LISTED: Final[int] = 5
#: A polygon block with at least this share of its area in the study area is inside it,
#: wherever its inner point falls (in a hole of the area, or just beyond its edge).
_MOSTLY_INSIDE: Final[float] = 0.5


def study_area_of(
    blocks: gpd.GeoDataFrame,
    area_frame: gpd.GeoDataFrame | None,
    layers: dict[str, Layer],
    report: Report,
    *,
    where: str | None = None,
) -> tuple[shapely.Polygon | shapely.MultiPolygon | None, gpd.GeoDataFrame]:
    """Return the study area and the blocks inside it.

    With ``where`` (a selection of the blocks), a study area of several features
    (e.g. the communities layer) keeps only the features that hold selected blocks.
    """
    if area_frame is None:
        geoms = blocks.geometry.to_numpy()
        merged: BaseGeometry = shapely.union_all(geoms)
        if blocks.geom_type.isin(["Point"]).all():
            merged = merged.convex_hull.buffer(POINT_AREA_MARGIN_M)
        return v.polygonal_part(merged), blocks
    if where is not None and len(area_frame) > 1:
        area_frame = _holding_selected(area_frame, blocks, layers["study_area"].source, where, report)
    area = v.polygonal_part(shapely.make_valid(shapely.union_all(area_frame.geometry.to_numpy())))
    source = layers["study_area"].source
    outline = layers["study_area"].label
    if area is None:
        report.add(problems=[f"{source}: the polygons have no area; draw the study area"])
        return None, blocks
    shapely.prepare(area)
    inside = shapely.covers(area, blocks.geometry.representative_point().to_numpy())
    # A polygon whose inner point falls in a hole of the area (or just beyond its edge) but
    # which lies mostly inside is inside: its households go to the faces it overlaps.
    geoms = blocks.geometry.to_numpy()
    check = np.flatnonzero(~inside & np.isin(shapely.get_type_id(geoms), (3, 6)))
    check = check[shapely.intersects(area, geoms[check])]  # the area is prepared: cheap
    if len(check):
        share = shapely.area(shapely.intersection(geoms[check], area)) / shapely.area(geoms[check])
        inside[check[share >= _MOSTLY_INSIDE]] = True
    outside = ~inside
    loaded = blocks.households[outside]
    if (loaded > 0).any():
        rows = loaded.index[loaded > 0]
        report.add(
            problems=[
                f"{layers['blocks'].source}: {v.format_rows(rows)} with "
                f"{int(loaded.sum()):,} households lie outside the study area ({outline}); "
                f"enlarge the study area or select the blocks to redistrict with --where"
            ]
        )
    if outside.any():
        empty = loaded.index[loaded == 0]
        if len(empty):
            report.add(
                notes=[
                    f"{layers['blocks'].source}: dropped {v.format_rows(empty)} without "
                    f"households outside the study area"
                ]
            )
    return area, blocks[inside]


def _holding_selected(
    area_frame: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, source: str, where: str, report: Report
) -> gpd.GeoDataFrame:
    """The study area's features that hold a block ``where`` selected (all when none does)."""
    points = blocks.geometry.representative_point().to_numpy()
    if not len(points):
        return area_frame
    polygons = area_frame.geometry.to_numpy()
    holds = np.array([bool(shapely.covers(g, points).any()) if g is not None else False for g in polygons])
    if not holds.any() or holds.all():
        return area_frame
    report.add(
        notes=[
            f"{source}: kept the {int(holds.sum())} of its {len(holds)} features that hold blocks "
            f"--where {where!r} selects, as the study area"
        ]
    )
    return area_frame.loc[holds]


def clip_roads(
    roads: gpd.GeoDataFrame,
    area: shapely.Polygon | shapely.MultiPolygon,
    source: str,
    report: Report,
) -> gpd.GeoDataFrame:
    """Cut the roads to the study area grown by :data:`ROAD_MARGIN_M`."""
    zone = area.buffer(ROAD_MARGIN_M)
    shapely.prepare(zone)
    hits = np.sort(roads.sindex.query(zone, predicate="intersects"))
    near = roads.iloc[hits]
    geoms = near.geometry.to_numpy()
    within = shapely.contains(zone, geoms)
    cut = np.where(within, geoms, shapely.intersection(geoms, zone))
    data = {"road_class": near.road_class.to_numpy(), "major": near.major.to_numpy()}
    if "name" in near.columns:
        data["name"] = near["name"].to_numpy()
    clipped = gpd.GeoDataFrame(
        data,
        geometry=gpd.GeoSeries(cut, crs=roads.crs).rename("geometry"),
        crs=roads.crs,
    ).explode(index_parts=False)  # the index: the position in `near` of the line cut
    lines = clipped[(clipped.geom_type == "LineString") & (clipped.length > 0)]
    kept = lines.index.nunique()
    # A line leaving and re-entering the margin is cut into several segments.
    pieces = f", cut at that margin into {len(lines)} segments" if len(lines) != kept else ""
    report.add(
        notes=[
            f"{source}: kept {kept} of the {len(roads)} road lines read (those within "
            f"{ROAD_MARGIN_M:g} m of the study area){pieces}"
        ]
    )
    return lines.reset_index(drop=True)


#: A study area derived from polygon blocks is refused when the blocks form at least
#: this many separate pieces, and at least :data:`ISLAND_SHARE` of the blocks' number.
ISLAND_PIECES = 10
#: See :data:`ISLAND_PIECES`: Ottawa's dissemination blocks, which tile the city, form
#: a handful of pieces (islands in the rivers) for thousands of blocks.
ISLAND_SHARE = 0.25


def check_islands(blocks: gpd.GeoDataFrame, area: BaseGeometry, source: str) -> list[str]:
    """Report polygon blocks that do not touch one another, when no study area was given.

    The study area is then the union of the blocks. Residential compounds drawn
    with the roads between them left out (or blocks set back from the road
    centre lines) make that union a scatter of islands: every island becomes a
    component of its own, planned as an undersized unit, and the plan is useless.

    Parameters
    ----------
    blocks : geopandas.GeoDataFrame
        The blocks.
    area : shapely geometry
        The study area derived from them.
    source : str
        Human description of the blocks layer.

    Returns
    -------
    list of str
        Empty, or one problem saying to give ``--study-area``.
    """
    polygons = int(blocks.geom_type.isin(["Polygon", "MultiPolygon"]).sum())
    pieces = len(shapely.get_parts(area))
    if polygons == 0 or pieces < max(ISLAND_PIECES, ISLAND_SHARE * polygons):
        return []
    return [
        f"{source}: without --study-area the study area is the union of the blocks, and these "
        f"{polygons} blocks form {pieces} separate pieces: they do not touch one another (roads or "
        "open land run between them, as around residential compounds), so every piece would be "
        "planned on its own as an undersized unit. Give --study-area with the outline of the area "
        "to redistrict (e.g. the communities layer or the district boundary)"
    ]


def unselected_inside(
    layer: gpd.GeoDataFrame,
    selected: pd.Index,
    households: str,
    area: BaseGeometry,
    crs: pyproj.CRS,
    source: str,
    where: str,
) -> list[str]:
    """Warn when a given study area holds blocks with households that ``--where`` left out.

    Their land is then planned as empty land of the selected blocks' units (a
    community selected with ``--where`` and a district-wide ``--study-area``
    used to take in its neighbours' land without a word).

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        The blocks layer as read (every row, in its own CRS).
    selected : pandas.Index
        Rows that ``--where`` selected.
    households : str
        The household column.
    area : shapely geometry
        The study area, in ``crs``.
    crs : pyproj.CRS
        The working CRS.
    source : str
        Human description of the blocks layer.
    where : str
        The selection.

    Returns
    -------
    list of str
        Empty, or one warning.
    """
    rest = layer.loc[layer.index.difference(selected, sort=False)]
    if rest.empty or rest.crs is None or households not in rest.columns:
        return []
    counts = pd.to_numeric(rest[households], errors="coerce").fillna(0).to_numpy()
    geoms = rest.geometry
    values = np.asarray(geoms.values, dtype=object)
    usable = (counts > 0) & ~shapely.is_missing(values) & ~shapely.is_empty(values)
    if not usable.any():
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        points = geoms[usable].to_crs(crs).representative_point().to_numpy()
    inside = shapely.covers(area, points)
    if not inside.any():
        return []
    held = float(counts[usable][inside].sum())
    return [
        f"{source}: the study area also holds {int(inside.sum())} blocks with {held:,.0f} households "
        f"that --where {where!r} leaves out: their land is planned as empty land inside the units "
        "of the selected blocks; give a study area that covers only the selection (or drop "
        "--study-area to use the selected blocks' outline), or widen --where"
    ]


def check_roads_reach(
    roads: gpd.GeoDataFrame,
    area: shapely.Polygon | shapely.MultiPolygon,
    read: gpd.GeoDataFrame,
    source: str,
    *,
    derived: bool = False,
) -> list[str]:
    """Report a road layer none of whose lines reaches the study area.

    ``derived`` says the study area is the union of the blocks (no study area
    was given): when the roads' extent overlaps it, the likely cause is blocks
    drawn as compounds set back from the road centre lines, and the message
    says so.
    """
    if len(roads) and len(roads.sindex.query(area, predicate="intersects")):
        return []
    ax0, ay0, ax1, ay1 = area.bounds
    rx0, ry0, rx1, ry1 = read.total_bounds
    where = (
        f"(study area ({ax0:.0f}, {ay0:.0f}) .. ({ax1:.0f}, {ay1:.0f}), roads "
        f"({rx0:.0f}, {ry0:.0f}) .. ({rx1:.0f}, {ry1:.0f}))"
    )
    overlap = rx0 < ax1 and ax0 < rx1 and ry0 < ay1 and ay0 < ry1
    if derived and overlap:
        return [
            f"{source}: none of its {len(read)} road lines runs inside the blocks, so no road can "
            f"bound a unit {where}. Without --study-area the study area is the union of the blocks, "
            "and these blocks stop short of the road centre lines (compounds set back from the "
            "street): give --study-area with the outline to redistrict (e.g. the communities layer)"
        ]
    return [
        f"{source}: none of its {len(read)} road lines reaches the study area, so no road can "
        f"bound a unit {where}: give the roads of the same place, "
        f"and check that each layer declares the CRS its coordinates are really in"
    ]


def keep_intersecting(
    frame: gpd.GeoDataFrame | None,
    area: shapely.Polygon | shapely.MultiPolygon,
    source: str,
    report: Report,
    *,
    note_none: bool = True,
) -> gpd.GeoDataFrame | None:
    """Keep the features that overlap the study area (lines and polygons: not merely touch it).

    ``note_none=False`` leaves a layer keeping no feature to :func:`missed_layer`'s warning.
    """
    if frame is None:
        return None
    geoms = frame.geometry.to_numpy()
    points = np.isin(shapely.get_type_id(geoms), [0, 4])  # Point, MultiPoint
    keep = shapely.intersects(area, geoms) & (points | ~shapely.touches(area, geoms))
    if not keep.all() and (note_none or keep.any()):
        report.add(notes=[f"{source}: kept {int(keep.sum())} of {len(frame)} features in the study area"])
    return frame[keep]


def missed_layer(
    kept: gpd.GeoDataFrame | None,
    read: gpd.GeoDataFrame | None,
    area: shapely.Polygon | shapely.MultiPolygon,
    source: str,
    option: str,
) -> list[str]:
    """Warn when the layer given with ``option`` has no feature in the study area.

    The plan is then made as if ``option`` had not been given (every unit a new
    committee, no communities to keep), which a planner would not notice from a
    note: the usual causes are the wrong layer, the wrong place or a wrong CRS.
    """
    if kept is None or read is None or len(kept):
        return []
    if not len(read):
        return [
            f"{source}: the layer holds no features, so the plan is made as if {option} had not been "
            f"given: name the layer that holds them ({option} FILE:LAYER), or drop {option}"
        ]
    ax0, ay0, ax1, ay1 = area.bounds
    fx0, fy0, fx1, fy1 = read.total_bounds
    return [
        f"{source}: none of its {len(read)} features lies in the study area (study area ({ax0:.0f}, "
        f"{ay0:.0f}) .. ({ax1:.0f}, {ay1:.0f}), layer ({fx0:.0f}, {fy0:.0f}) .. ({fx1:.0f}, {fy1:.0f})), "
        f"so the plan is made as if {option} had not been given: give the layer of the same place, "
        "and check that each layer declares the CRS its coordinates are really in"
    ]


def spiked_blocks(blocks: gpd.GeoDataFrame, source: str) -> list[str]:
    """Warn about blocks reaching out of the other blocks' extent by more than its size.

    One vertex digitised at (0, 0), or with a typing error, leaves the block next to
    its neighbours (so :func:`stray_blocks` does not see it) but stretches its
    outline across the map: the study area drawn round the blocks, and one unit,
    then take in square kilometres of nothing. A block is flagged when it reaches
    beyond the bounding box of all the other blocks by more than that box's larger
    side (a rural block at the edge of a city reaches out by a fraction of it).
    Nothing is dropped.

    Parameters
    ----------
    blocks : geopandas.GeoDataFrame
        The selected blocks (metric CRS).
    source : str
        Human description of the blocks layer.

    Returns
    -------
    list of str
        One warning, or none.
    """
    n = len(blocks)
    if n < _STRAY_MIN_BLOCKS:
        return []
    geoms = blocks.geometry.to_numpy()
    bounds = shapely.bounds(geoms)  # minx, miny, maxx, maxy per block
    reach = np.zeros(n)
    others = np.empty((n, 4))
    for side in range(4):
        sign = -1.0 if side < 2 else 1.0  # minima reach out downwards, maxima upwards
        values = sign * bounds[:, side]
        order = np.argsort(values)
        best, second = values[order[-1]], values[order[-2]]
        other = np.where(np.arange(n) == order[-1], second, best)
        others[:, side] = sign * other
        reach = np.maximum(reach, values - other)
    size = np.maximum(others[:, 2] - others[:, 0], others[:, 3] - others[:, 1])
    spiked = np.flatnonzero(reach > np.maximum(size, 0.0))
    if not len(spiked):
        return []
    parts = []
    for k in spiked[:_STRAY_LISTED].tolist():
        coords = shapely.get_coordinates(geoms[k])
        inside = (
            (coords[:, 0] >= others[k, 0]) & (coords[:, 0] <= others[k, 2])
            & (coords[:, 1] >= others[k, 1]) & (coords[:, 1] <= others[k, 3])
        )  # fmt: skip
        out = coords[~inside]  # reach > 0: some vertex lies outside the others' box
        far = out[int(np.argmax(np.hypot(*(out - coords.mean(axis=0)).T)))]
        parts.append(
            f"row {blocks.index[k]!r} reaches {reach[k]:,.0f} m out, to ({far[0]:.1f}, {far[1]:.1f})"
        )
    return [
        f"{source}: {len(spiked)} {'block reaches' if len(spiked) == 1 else 'blocks reach'} out of "
        f"the other blocks' extent by more than that extent's size: {'; '.join(parts)}. "
        "A stray vertex (often at (0, 0)) stretches the study area drawn round the blocks, and "
        "one unit, across empty land: fix the vertex, or give --study-area"
    ]


def stray_blocks(blocks: gpd.GeoDataFrame, source: str) -> list[str]:
    """Warn about blocks lying far outside the rest, which a derived study area takes in.

    Without a study area, the study area is the union of the blocks (the convex hull
    of point blocks, grown by :data:`POINT_AREA_MARGIN_M`): one block with wrong
    coordinates enlarges it silently. The rule is relative to the data, so that it
    holds for dense city blocks and sparse rural ones alike:

    * the *spacing* of a block is the distance from its representative point to the
      nearest other block's; the spacing around a block is the median spacing of it
      and its :data:`_STRAY_NEIGHBOURS` nearest blocks, and never less than the median
      spacing of all blocks;
    * blocks are linked to their nearest blocks when the gap between their outlines is
      at most :data:`STRAY_FACTOR` times the spacing around either of them (for point
      blocks their distance, at most :data:`STRAY_FACTOR_POINTS` times);
    * a group of linked blocks holding at most :data:`_STRAY_SHARE` of the blocks (not
      the largest group), with no other block within that reach, is a stray group.

    Nothing is dropped: the warning names the rows, their distance from the other
    blocks and how to fix the input.

    Parameters
    ----------
    blocks : geopandas.GeoDataFrame
        The selected blocks (metric CRS), with ``households``.
    source : str
        Human description of the blocks layer.

    Returns
    -------
    list of str
        One warning, or none.

    """
    n = len(blocks)
    if n < _STRAY_MIN_BLOCKS:
        return []
    geoms = blocks.geometry.to_numpy()
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
    count = min(n, _STRAY_NEIGHBOURS + 1)
    distance, nearest = cKDTree(xy).query(xy, k=count)
    spacing = distance[:, 1]
    typical = float(np.median(spacing[spacing > 0])) if (spacing > 0).any() else 0.0
    if typical <= 0:
        return []
    points = bool(np.isin(shapely.get_type_id(geoms), [0, 4]).all())
    factor = STRAY_FACTOR_POINTS if points else STRAY_FACTOR
    reach = factor * np.maximum(np.median(spacing[nearest], axis=1), typical)
    # Links along the nearest neighbours find groups (a stray group is linked within itself).
    rows = np.repeat(np.arange(n), count - 1)
    cols = nearest[:, 1:].ravel()
    linked = shapely.distance(geoms[rows], geoms[cols]) <= np.maximum(reach[rows], reach[cols])
    graph = coo_matrix((np.ones(int(linked.sum())), (rows[linked], cols[linked])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    sizes = np.bincount(group)
    largest = int(np.argmax(sizes))
    tree = shapely.STRtree(geoms)
    strays: list[np.ndarray] = []
    for g in np.flatnonzero(sizes <= max(1.0, _STRAY_SHARE * n)):
        if g == largest:
            continue
        members = np.flatnonzero(group == g)
        # Confirm with every block: the links above only follow the nearest neighbours.
        hits = tree.query(geoms[members], predicate="dwithin", distance=float(reach[members].max()))[1]
        if np.isin(hits, members).all():
            strays.append(members)
    if not strays:
        return []
    strays.sort(key=lambda m: int(m.min()))
    labels = blocks.index
    households = blocks["households"].to_numpy()
    parts = []
    for members in strays[:_STRAY_LISTED]:
        others = np.setdiff1d(np.arange(n), members)
        gap = float(shapely.distance(geoms[members][:, None], geoms[others][None, :]).min())
        held = int(households[members].sum())
        verb = "lies" if len(members) == 1 else "lie"
        parts.append(
            f"{v.format_rows(labels[members])} with {held:,} households {verb} {gap:,.0f} m "
            f"from the nearest other block"
        )
    more = f" (and {len(strays) - _STRAY_LISTED} more groups)" if len(strays) > _STRAY_LISTED else ""
    stray = np.concatenate(strays)
    one = len(stray) == 1
    if points:
        kept = np.setdiff1d(np.arange(n), stray)
        hulls = shapely.convex_hull([shapely.multipoints(xy[kept]), shapely.multipoints(xy)])
        before, after = shapely.area(shapely.buffer(hulls, POINT_AREA_MARGIN_M))
        effect = (
            f"the convex hull of the point blocks grown by {POINT_AREA_MARGIN_M:g} m, which "
            f"{'this block enlarges' if one else 'these blocks enlarge'} from {before / 1e6:,.2f} "
            f"to {after / 1e6:,.2f} km²"
        )
    else:
        adds = "this block adds a separate part" if one else "these blocks add separate parts"
        effect = f"the union of the blocks, to which {adds}"
    it, its = ("it", "its") if one else ("them", "their")
    return [
        f"{source}: {'; '.join(parts)}{more}: far outside the rest of the blocks (more than "
        f"{factor:g} times their typical spacing of {typical:,.0f} m). Without --study-area "
        f"the study area is {effect}; check {its} coordinates and fix or remove {it} (or leave "
        f"{it} out with --where), or give --study-area with the outline to redistrict"
    ]
