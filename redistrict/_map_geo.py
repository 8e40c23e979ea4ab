"""Geometry for the maps: reprojection to EPSG:4326, GeoJSON, bounds, unit colouring."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from redistrict._map_style import PALETTE
from redistrict._map_types import Layers

__all__ = ["ROUND", "context_layers", "feature_collection", "latlon_bounds", "unit_colours"]

# Named after the public module so that log lines read as they did before the split.
logger = logging.getLogger("redistrict.maps")

ROUND = 6  # decimal places of degrees kept in the page (about 0.1 m)
_ADJACENCY_TOLERANCE_M = 100.0


def _to_wgs84(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """Drop empty geometries and reproject a layer to EPSG:4326.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A layer with a CRS.
    name : str
        Layer name for the log.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in longitude/latitude with a fresh index.

    """
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    if not keep.all():
        logger.info("%s: %d feature(s) without geometry not drawn", name, int((~keep).sum()))
    return gdf.loc[keep.to_numpy()].to_crs(4326).reset_index(drop=True)


def _geometry_json(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry with coordinates rounded to about 0.1 m.

    Parameters
    ----------
    geom : shapely.geometry.base.BaseGeometry
        Geometry in EPSG:4326.

    Returns
    -------
    dict
        GeoJSON geometry object.

    """
    rounded = shapely.transform(geom, lambda xy: np.round(xy, ROUND))
    mapping: dict[str, Any] = shapely.geometry.mapping(rounded)
    return mapping


def feature_collection(gdf: gpd.GeoDataFrame, properties: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Build a GeoJSON FeatureCollection from geometries and property dicts.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer in EPSG:4326.
    properties : sequence of dict
        One property dict per row, in row order.

    Returns
    -------
    dict
        GeoJSON FeatureCollection.

    """
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": _geometry_json(geom)}
            for geom, props in zip(gdf.geometry, properties, strict=True)
        ],
    }


def latlon_bounds(frames: Sequence[gpd.GeoDataFrame]) -> list[list[float]]:
    """Leaflet bounds ``[[south, west], [north, east]]`` of some layers.

    Parameters
    ----------
    frames : sequence of geopandas.GeoDataFrame
        Layers in EPSG:4326.

    Returns
    -------
    list of list of float
        South-west and north-east corners.

    """
    boxes = np.array([f.total_bounds for f in frames])
    west, south = boxes[:, 0].min(), boxes[:, 1].min()
    east, north = boxes[:, 2].max(), boxes[:, 3].max()
    return [[float(south), float(west)], [float(north), float(east)]]


def context_layers(
    atoms: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame | None,
    communities: gpd.GeoDataFrame | None,
    barriers: gpd.GeoDataFrame | None,
    offices: gpd.GeoDataFrame | None,
) -> Layers:
    """Reproject the given context layers to EPSG:4326.

    Parameters
    ----------
    atoms, roads, communities, barriers, offices : geopandas.GeoDataFrame or None
        Validated layers.

    Returns
    -------
    Layers
        The same layers in longitude/latitude.

    """

    def conv(gdf: gpd.GeoDataFrame | None, name: str) -> gpd.GeoDataFrame | None:
        return None if gdf is None else _to_wgs84(gdf, name)

    return Layers(
        atoms=conv(atoms, "atoms"),
        roads=conv(roads, "roads"),
        communities=conv(communities, "communities"),
        barriers=conv(barriers, "barriers"),
        offices=conv(offices, "offices"),
    )


def unit_colours(units: gpd.GeoDataFrame, *, tolerance: float = _ADJACENCY_TOLERANCE_M) -> dict[int, str]:
    """Give each unit a fill colour that differs from every touching unit's.

    Units are neighbours on the map when they come within ``tolerance`` of each other:
    sharing an edge or a corner, or facing each other across a river, railway or
    road corridor up to that wide (two such units in one colour read as one unit
    straddling the river). The adjacency graph is coloured greedily (networkx, DSATUR
    strategy) with nodes inserted in ``unit_id`` order, so the result is the same on
    every run.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Units with ``unit_id`` and polygon geometry, in a metric CRS.
    tolerance : float, default 100.0
        Gap in CRS units (metres) still counted as neighbouring.

    Returns
    -------
    dict of int to str
        Hex fill colour of each unit id, taken from :data:`redistrict.maps.PALETTE`.

    """
    ordered = units.sort_values("unit_id", kind="stable").reset_index(drop=True)
    ids = [int(u) for u in ordered["unit_id"]]
    geoms = ordered.geometry.to_numpy()
    graph: nx.Graph[int] = nx.Graph()
    graph.add_nodes_from(ids)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=tolerance)
    graph.add_edges_from(
        (ids[i], ids[j]) for i, j in zip(left.tolist(), right.tolist(), strict=True) if i < j
    )
    colouring: dict[int, int] = nx.greedy_color(graph, strategy="saturation_largest_first")
    if colouring and max(colouring.values()) >= len(PALETTE):
        logger.warning(
            "unit adjacency needs %d colours, palette has %d: some neighbours share a colour",
            max(colouring.values()) + 1,
            len(PALETTE),
        )
    return {uid: PALETTE[colouring[uid] % len(PALETTE)] for uid in ids}
