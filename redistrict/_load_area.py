"""The study area: derived or read, and the layers cut down to it."""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from redistrict import _validate as v
from redistrict._load_read import Layer, Report

__all__ = [
    "POINT_AREA_MARGIN_M",
    "ROAD_MARGIN_M",
    "check_roads_reach",
    "clip_roads",
    "keep_intersecting",
    "study_area_of",
]

#: Roads are clipped to the study area grown by this distance (metres).
ROAD_MARGIN_M: Final[float] = 50.0
#: A study area made of points is their convex hull grown by this distance (metres).
POINT_AREA_MARGIN_M: Final[float] = 100.0


def study_area_of(
    blocks: gpd.GeoDataFrame,
    area_frame: gpd.GeoDataFrame | None,
    layers: dict[str, Layer],
    report: Report,
) -> tuple[shapely.Polygon | shapely.MultiPolygon | None, gpd.GeoDataFrame]:
    """Return the study area and the blocks inside it."""
    if area_frame is None:
        geoms = blocks.geometry.to_numpy()
        merged: BaseGeometry = shapely.union_all(geoms)
        if blocks.geom_type.isin(["Point"]).all():
            merged = merged.convex_hull.buffer(POINT_AREA_MARGIN_M)
        return v.polygonal_part(merged), blocks
    area = v.polygonal_part(shapely.make_valid(shapely.union_all(area_frame.geometry.to_numpy())))
    source = layers["study_area"].source
    outline = layers["study_area"].label
    if area is None:
        report.add(problems=[f"{source}: the polygons have no area; draw the study area"])
        return None, blocks
    shapely.prepare(area)
    inside = shapely.covers(area, blocks.geometry.representative_point().to_numpy())
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
    clipped = gpd.GeoDataFrame(
        {"road_class": near.road_class.to_numpy(), "major": near.major.to_numpy()},
        geometry=gpd.GeoSeries(cut, crs=roads.crs).rename("geometry"),
        crs=roads.crs,
    ).explode(index_parts=False, ignore_index=True)
    lines = clipped[(clipped.geom_type == "LineString") & (clipped.length > 0)]
    lines = lines.reset_index(drop=True)
    report.add(
        notes=[
            f"{source}: kept {len(lines)} road segments within {ROAD_MARGIN_M:g} m of the "
            f"study area ({len(roads)} read)"
        ]
    )
    return lines


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
) -> gpd.GeoDataFrame | None:
    """Keep the features that overlap the study area (lines and polygons: not merely touch it)."""
    if frame is None:
        return None
    geoms = frame.geometry.to_numpy()
    points = np.isin(shapely.get_type_id(geoms), [0, 4])  # Point, MultiPoint
    keep = shapely.intersects(area, geoms) & (points | ~shapely.touches(area, geoms))
    if not keep.all():
        report.add(notes=[f"{source}: kept {int(keep.sum())} of {len(frame)} features in the study area"])
    return frame[keep]
