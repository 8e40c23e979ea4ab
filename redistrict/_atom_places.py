"""Names of the atoms a planner can find: their community, else the nearest named road.

The geometry side of :mod:`redistrict._places`: :func:`atom_places` reads the
atoms' communities (or, without communities, the roads' names) and the barrier
cuts the graph recorded, and returns the :class:`~redistrict._places.Places`
that the pipeline hands to the optimiser with the problem.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Final

import geopandas as gpd
import networkx as nx
import shapely

from redistrict._atoms_faces import geom_array
from redistrict._offices import community_labels
from redistrict._places import Places

__all__ = ["ROAD_REACH_M", "atom_places"]

#: An atom is named after a road at most this far (metres) from its inside point.
ROAD_REACH_M: Final[float] = 300.0


def atom_places(
    atoms: gpd.GeoDataFrame,
    graph: nx.Graph | None = None,
    communities: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
) -> Places:
    """What each atom is known by, and the barriers between atoms.

    Parameters
    ----------
    atoms : geopandas.GeoDataFrame
        Atoms indexed by ``atom_id``, with ``community_id`` when the run has
        communities.
    graph : networkx.Graph, optional
        The adjacency graph (:func:`redistrict.graph.build_graph`); its
        ``barrier_cuts`` name the barrier layers between atoms.
    communities : geopandas.GeoDataFrame, optional
        Existing communities (``community_id``, optional ``name``): atoms are
        named by the community of their households (name, else id).
    roads : geopandas.GeoDataFrame, optional
        Roads, with a ``name`` column: without communities, each atom is named
        by the nearest named road within :data:`ROAD_REACH_M`.

    Returns
    -------
    Places
        Keyed by atom id; ``kind`` says whether the names are communities,
        roads or (``"none"``) missing.
    """
    cuts: dict[Hashable, list[tuple[Hashable, str]]] = {}
    for a, b, layer in [] if graph is None else graph.graph.get("barrier_cuts", []):
        cuts.setdefault(a, []).append((b, str(layer)))
        cuts.setdefault(b, []).append((a, str(layer)))
    frozen = {k: tuple(v) for k, v in cuts.items()}
    if communities is not None and "community_id" in atoms.columns:
        labels = community_labels(communities)
        ids = atoms["community_id"].fillna("").astype(str)
        names = {a: labels.get(c, c) for a, c in ids.items()}
        return Places(names, "community", frozen)
    road_names = _nearest_roads(atoms, roads)
    if road_names:
        return Places(road_names, "road", frozen)
    return Places({}, "none", frozen)


def _nearest_roads(atoms: gpd.GeoDataFrame, roads: gpd.GeoDataFrame | None) -> dict[Hashable, str]:
    """The nearest named road of each atom (within :data:`ROAD_REACH_M`), or {} when roads have no names."""
    if roads is None or "name" not in roads.columns or len(atoms) == 0:
        return {}
    named = roads[roads["name"].fillna("").astype(str).str.strip() != ""]
    if named.empty:
        return {}
    lines = geom_array(named.to_crs(atoms.crs).geometry if atoms.crs is not None else named.geometry)
    points = shapely.point_on_surface(geom_array(atoms.geometry))
    ai, ri = shapely.STRtree(lines).query_nearest(points, max_distance=ROAD_REACH_M, all_matches=False)
    text = named["name"].astype(str).str.strip().to_numpy(dtype=object)
    ids = atoms.index.tolist()
    out = dict.fromkeys(ids, "")
    for a, r in zip(ai.tolist(), ri.tolist(), strict=True):
        out[ids[a]] = str(text[r])
    return out
