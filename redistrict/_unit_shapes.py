"""Unit outlines across the narrow gaps the adjacency graph bridges.

Census blocks often leave gaps of a few metres between them, and
:func:`redistrict.graph.build_graph` counts blocks facing each other across up
to ``snap_m / 2`` as neighbours. A unit joined only across such a gap is
contiguous in the graph but dissolves into a MultiPolygon, which a map shows
as two pieces. :func:`bridge_gaps` closes those gaps in the unit's outline
(a morphological closing by ``snap_m / 4``), keeping only what no other unit
covers, and leaves pieces farther apart as they are. :func:`fill_pinholes`
removes the holes of less than a square metre that gaps between blocks leave
inside a unit (GIS software draws each as a stray dash). :func:`enclosed` finds
the units lying wholly inside another (an island on the map).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from redistrict.graph import SNAP_M

__all__ = ["PINHOLE_M2", "bridge_gaps", "enclosed", "fill_pinholes"]

#: Added to the closing radius so that a gap of exactly ``snap_m / 2`` closes too.
_MARGIN_M = 0.01
#: Holes smaller than this (m²) inside a unit are gaps between blocks, not land: a unit
#: enclosing another has a hole of at least an atom (slivers below 200 m² are merged).
PINHOLE_M2 = 1.0


def bridge_gaps(geoms: gpd.GeoSeries, snap_m: float = SNAP_M) -> gpd.GeoSeries:
    """Outlines of units with the gaps the graph bridged filled in.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        One dissolved outline per unit.
    snap_m : float, default :data:`redistrict.graph.SNAP_M`
        The graph's snapping distance; gaps up to ``snap_m / 2`` wide are closed.

    Returns
    -------
    geopandas.GeoSeries
        Same index. A multi-part outline is replaced by its closing, less the
        other units, when that has fewer parts; every other outline is unchanged.
    """
    parts = shapely.get_num_geometries(geoms.to_numpy())
    multi = geoms.index[(parts > 1) & (geoms.geom_type == "MultiPolygon").to_numpy()]
    if len(multi) == 0:
        return geoms
    out = geoms.copy()
    tree = shapely.STRtree(geoms.to_numpy())
    r = snap_m / 4.0 + _MARGIN_M
    for uid in multi:
        g = geoms[uid]
        closed = shapely.buffer(shapely.buffer(g, r, join_style="mitre"), -r, join_style="mitre")
        near = [int(i) for i in tree.query(closed) if geoms.index[int(i)] != uid]
        if near:
            closed = shapely.difference(closed, shapely.union_all(geoms.iloc[near].to_numpy()))
        filled = shapely.make_valid(shapely.union(g, closed))
        if shapely.get_num_geometries(filled) < shapely.get_num_geometries(g) and filled.geom_type in (
            "Polygon",
            "MultiPolygon",
        ):
            out[uid] = filled
    return out


def fill_pinholes(geoms: gpd.GeoSeries, max_area: float = PINHOLE_M2) -> gpd.GeoSeries:
    """Outlines without their holes smaller than ``max_area`` square metres.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Unit outlines (polygons or multipolygons, metric CRS).
    max_area : float, default :data:`PINHOLE_M2`
        Holes below this area are filled.

    Returns
    -------
    geopandas.GeoSeries
        Same index; outlines without such holes unchanged.
    """
    out = geoms.copy()
    for key, geom in geoms.items():
        if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        holes = [[r for r in p.interiors if _ring_area(r) >= max_area] for p in parts]
        if sum(len(h) for h in holes) == sum(len(p.interiors) for p in parts):
            continue
        kept = [shapely.Polygon(p.exterior, h) for p, h in zip(parts, holes, strict=True)]
        out[key] = kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)
    return out


def enclosed(geoms: gpd.GeoSeries) -> list[tuple[object, object]]:
    """Units lying wholly inside another unit's outline: ``(inner, outer)`` label pairs.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Unit outlines (polygons or multipolygons), indexed by unit id.

    Returns
    -------
    list of tuple
        Sorted by inner unit id. A unit inside a hole of another unit is reached
        only through that unit's land (an enclave); a unit touching the edge of
        the area planned, or two units, is not.
    """
    keys = list(geoms.index)
    shapes = np.asarray(geoms.array, dtype=object)
    usable = ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))
    parts, owner = shapely.get_parts(shapes[usable], return_index=True)
    rings = shapely.get_exterior_ring(parts)
    whole = np.flatnonzero(usable)[owner]
    filled = np.asarray(
        [shapely.union_all(shapely.polygons(rings[whole == k])) for k in range(len(shapes))], dtype=object
    )
    inner, outer = shapely.STRtree(filled).query(shapes, predicate="within")
    held: dict[int, list[int]] = {}
    for i, j in zip(inner.tolist(), outer.tolist(), strict=True):
        if i != j:
            held.setdefault(j, []).append(i)
    # ``i`` is an island of ``j`` when everything else in ``j``'s holes lies inside ``i``: two
    # units side by side in one hole reach each other, and a ring inside a ring has the
    # innermost unit as its own island, not the outer ring's.
    pairs = sorted(
        (i, j)
        for j, inside in held.items()
        for i in inside
        if all(k == i or bool(shapely.within(shapes[k], filled[i])) for k in inside)
    )
    return [(keys[i], keys[j]) for i, j in pairs]


def _ring_area(ring: shapely.LinearRing) -> float:
    """Area enclosed by a ring."""
    return float(shapely.area(shapely.Polygon(ring)))
