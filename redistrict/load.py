"""Read and validate the input layers of a redistricting run.

:func:`load_inputs` reads roads, population blocks and the optional layers
(existing communities, barriers, offices, study area) from any vector format GDAL
reads, checks them, puts them into one metric CRS and returns an :class:`Inputs`.
Every problem found is collected and raised together in a single
:class:`~redistrict.errors.InputError`; harmless observations (reprojection,
repairs, dropped empty rows ...) are returned in :attr:`Inputs.notes`, or in the
error's ``notes`` when loading fails.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import pyproj
import shapely

from redistrict._load_area import POINT_AREA_MARGIN_M as POINT_AREA_MARGIN_M
from redistrict._load_area import ROAD_MARGIN_M as ROAD_MARGIN_M
from redistrict._load_area import (
    check_islands,
    check_roads_reach,
    clip_roads,
    keep_intersecting,
    missed_layer,
    spiked_blocks,
    stray_blocks,
    study_area_of,
    unselected_inside,
)
from redistrict._load_blocks import prepare_blocks
from redistrict._load_crs import check_layer_crs
from redistrict._load_layers import (
    check_office_communities,
    prepare_barriers,
    prepare_communities,
    prepare_offices,
    prepare_roads,
    prepare_study_area,
)
from redistrict._load_read import Layer, Report, parse_source, read_layer
from redistrict._offices import community_labels
from redistrict._validate_geometry import check_community_overlaps, check_overlaps
from redistrict._validate_roads import check_road_gaps
from redistrict.errors import InputError

__all__ = ["Inputs", "load_inputs", "parse_source", "split_classes"]

#: What separates road classes given as one text: commas, also full-width and enumeration ones.
_CLASS_SEPARATORS = re.compile("[,，、]")

logger = logging.getLogger(__name__)


@dataclass
class Inputs:
    """Validated inputs of a run, all in one metric CRS.

    Attributes
    ----------
    blocks : geopandas.GeoDataFrame
        Population blocks. Index: the input row index. Columns ``households``
        (int64, >= 0), ``residents`` (float64, only when a residents column was
        given), every other input column, and ``geometry`` (Polygon/MultiPolygon
        or Point; never null, empty or invalid).
    roads : geopandas.GeoDataFrame
        Road segments: ``road_class`` (str, ``""`` when unknown), ``major``
        (bool), ``name`` (str, ``""`` when unnamed; only when the layer has a
        ``name`` column, in any case) and LineString ``geometry``.
    study_area : shapely.Polygon or shapely.MultiPolygon
        The area to redistrict.
    crs : pyproj.CRS
        The metric CRS of every layer.
    communities : geopandas.GeoDataFrame or None
        Existing communities: ``community_id`` (str, unique), optional ``name``
        and polygon ``geometry``.
    barriers : geopandas.GeoDataFrame or None
        Lines or polygons that units must not cross, with ``layer``: the
        ``FILE:LAYER`` each came from (notes name it).
    offices : geopandas.GeoDataFrame or None
        Community offices: ``office_id`` (str, unique), optional ``area_m2``
        (float), ``name`` (str) and ``community_id`` (str, the community the
        office belongs to, ``""`` where not given; only with
        ``office_community``), and Point ``geometry``.
    sources : dict of str to str
        Role (``"roads"``, ``"blocks"`` ...) -> ``"path:layer"`` actually read, with the
        absolute path (so that run.json names the files from any folder).
    options : dict of str to object
        The other arguments of :func:`load_inputs` that shape the inputs (columns,
        ``where``, major classes, every barrier layer), so that a run can be repeated
        from its record.
    notes : list of str
        Non-fatal notes for the run log.
    warnings : list of str
        Those of the notes that say the inputs are probably wrong though the run can go
        on (blocks far outside the rest, overlapping blocks, roads stopping a few metres
        short of another road); the command line prints them as ``warning:`` lines.

    """

    blocks: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    study_area: shapely.Polygon | shapely.MultiPolygon
    crs: pyproj.CRS
    communities: gpd.GeoDataFrame | None = None
    barriers: gpd.GeoDataFrame | None = None
    offices: gpd.GeoDataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)
    options: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def split_classes(text: str) -> list[str]:
    """Road classes given as one text: separated by commas, also the full-width ``，`` and ``、``.

    Parameters
    ----------
    text : str
        E.g. ``"1,2,3"`` or ``"主干道，次干道"`` (typed with a Chinese input method).

    Returns
    -------
    list of str
        The classes, stripped; empty pieces dropped.
    """
    return [c.strip() for c in _CLASS_SEPARATORS.split(text) if c.strip()]


def load_inputs(
    roads: str,
    blocks: str,
    households: str,
    *,
    residents: str | None = None,
    road_class: str | None = None,
    major_classes: Sequence[str] | None = None,
    communities: str | None = None,
    community_id: str | None = None,
    community_name: str | None = None,
    barriers: str | Sequence[str] | None = None,
    offices: str | None = None,
    office_id: str | None = None,
    office_area: str | None = None,
    office_name: str | None = None,
    office_community: str | None = None,
    study_area: str | None = None,
    where: str | None = None,
) -> Inputs:
    """Read, validate and reproject every input layer.

    Parameters
    ----------
    roads : str
        ``FILE[:LAYER]`` of the road network (lines). OSM files are read from their
        ``lines`` layer.
    blocks : str
        ``FILE[:LAYER]`` of the population blocks (polygons or points).
    households : str
        Column of ``blocks`` with the number of households (whole numbers >= 0).
    residents : str, optional
        Column of ``blocks`` with the number of residents.
    road_class : str, optional
        Column of ``roads`` with the road class. Default: the first column
        named (in any case) ``highway``, ``fclass``, ``道路等级``, ``道路类型``,
        ``道路级别``, ``等级``, ``road_class``, ``roadclass`` or ``class``,
        else no classes (every road minor).
    major_classes : sequence of str, optional
        Road classes counted as major, compared as text (``"1"`` matches 1 and
        1.0); one string is split at commas (``"1,2,3,4"``). Default: OSM
        motorway..tertiary (and ``_link``) for text classes; for numeric classes
        every class ranking above (numerically below) the most frequent one.
    communities : str, optional
        ``FILE[:LAYER]`` of the existing communities (polygons).
    community_id : str, optional
        Identifier column of ``communities`` (default ``community_id`` if present,
        else features are numbered 1..N).
    community_name : str, optional
        Name column of ``communities`` (default ``name`` if present).
    barriers : str or sequence of str, optional
        ``FILE[:LAYER]`` of barriers (rivers, rail ...; lines or polygons); several
        layers are combined.
    offices : str, optional
        ``FILE[:LAYER]`` of community offices (points; polygons are reduced to a
        point inside them).
    office_id : str, optional
        Identifier column of ``offices`` (default ``office_id`` if present, else
        numbered 1..N).
    office_area : str, optional
        Column of ``offices`` with the floor area in square metres.
    office_name : str, optional
        Name column of ``offices`` (default ``name`` if present), shown on the map.
    office_community : str, optional
        Column of ``offices`` naming the community each office belongs to, by
        the ids of ``community_id`` (needs ``communities``). Default: an office
        belongs to the community it stands in, which is wrong for an office
        rented across the street; an empty value also means that.
    study_area : str, optional
        ``FILE[:LAYER]`` of polygons whose union is the area to redistrict. Default:
        the union of the (selected) blocks.
    where : str, optional
        pandas query selecting blocks, e.g. ``"ONS_ID_gen3 == 3024"``. Roads are
        then clipped to the selection (grown by 50 m).

    Returns
    -------
    Inputs
        The validated inputs.

    Raises
    ------
    InputError
        Listing every problem found in the inputs; its ``notes`` hold the notes
        gathered until then (they may explain the problems, e.g. a note that the
        blocks would lie near a pole, their x and y being swapped).

    """
    report = Report()
    if isinstance(major_classes, str):  # "1,2,3,4" (as --major-classes takes them), not letters
        major_classes = split_classes(major_classes)
    layers: dict[str, Layer] = {}
    barrier_specs = [barriers] if isinstance(barriers, str) else list(barriers or [])
    barrier_keys = [f"barriers#{i}" for i in range(len(barrier_specs))]
    # Columns the options ask for, per role: a Shapefile is re-read as GB18030 when only
    # then its column names hold them (a GBK file without .cpg).
    wanted: dict[str, list[str]] = {
        "roads": [road_class] if road_class else [],
        "blocks": [c for c in (households, residents) if c],
        "communities": [c for c in (community_id, community_name) if c],
        "offices": [c for c in (office_id, office_area, office_name, office_community) if c],
    }
    for key, spec in (
        ("roads", roads),
        ("blocks", blocks),
        ("communities", communities),
        *zip(barrier_keys, barrier_specs, strict=True),
        ("offices", offices),
        ("study_area", study_area),
    ):
        if spec is None:
            continue
        role = key.split("#")[0]
        layer = read_layer(role, spec, report, wanted.get(role, []))
        if layer is not None:
            layers[key] = layer
            report.add(problems=check_layer_crs(layer))

    crs: pyproj.CRS | None = None
    block_frame: gpd.GeoDataFrame | None = None
    if "blocks" in layers:
        block_frame, crs = prepare_blocks(layers["blocks"], households, residents, where, report)
    frames: dict[str, gpd.GeoDataFrame | None] = {}
    if "roads" in layers:
        frames["roads"] = prepare_roads(
            layers["roads"], crs, report, road_class=road_class, major_classes=major_classes
        )
    if "communities" in layers:
        frames["communities"] = prepare_communities(
            layers["communities"], crs, report, id_column=community_id, name_column=community_name
        )
    barrier_frames = {k: prepare_barriers(layers[k], crs, report) for k in barrier_keys if k in layers}
    if "offices" in layers:
        frames["offices"] = prepare_offices(
            layers["offices"],
            crs,
            report,
            id_column=office_id,
            area_column=office_area,
            name_column=office_name,
            community_column=office_community,
        )
        office_frame = frames["offices"]
        checkable = communities is None or frames.get("communities") is not None  # else reported already
        if (
            office_community is not None
            and office_frame is not None
            and "community_id" in office_frame
            and checkable
        ):
            report.add(
                *check_office_communities(
                    office_frame, frames.get("communities"), layers["offices"].source,
                    layers["communities"].source if "communities" in layers else None,
                    office_community, community_id,
                )
            )  # fmt: skip
    if "study_area" in layers:
        frames["study_area"] = prepare_study_area(layers["study_area"], crs, report)

    if report.problems or block_frame is None or crs is None or frames.get("roads") is None:
        raise InputError(report.problems or ["inputs could not be read"], notes=report.notes)

    area, block_frame = study_area_of(block_frame, frames.get("study_area"), layers, report, where=where)
    road_frame = frames["roads"]
    if report.problems or area is None or road_frame is None:
        raise InputError(report.problems or ["the study area is empty"], notes=report.notes)
    blocks_source = layers["blocks"].source
    warnings = check_overlaps(block_frame.geometry, block_frame["households"], blocks_source)
    if study_area is not None and where is not None:
        warnings += unselected_inside(
            layers["blocks"].frame, block_frame.index, households, area, crs, blocks_source, where
        )
    if study_area is None:
        warnings += stray_blocks(block_frame, blocks_source)
        warnings += spiked_blocks(block_frame, blocks_source)
        islands = check_islands(block_frame, area, blocks_source)
        if islands:
            raise InputError(islands, notes=report.notes)
    report.add(notes=warnings)
    read_roads = road_frame
    if where is not None or study_area is not None:
        road_frame = clip_roads(road_frame, area, layers["roads"].source, report)
    gaps = check_road_gaps(road_frame, area, layers["roads"].source, layers["roads"].frame.geometry)
    report.add(notes=gaps)
    warnings += gaps
    problems = check_roads_reach(
        road_frame, area, read_roads, layers["roads"].source, derived=study_area is None
    )
    if problems:
        raise InputError(problems, notes=report.notes)
    kept: dict[str, gpd.GeoDataFrame | None] = {
        role: keep_intersecting(frames.get(role), area, layers[role].source, report, note_none=False)
        for role in ("communities", "offices")
        if role in layers
    }
    for role, frame in list(kept.items()):
        missed = missed_layer(frame, frames.get(role), area, layers[role].source, f"--{role}")
        if missed:  # planned as if the option had not been given, as the warning says
            kept[role] = None
        report.add(notes=missed)
        warnings += missed
    if kept.get("communities") is not None:
        overlaps = _community_overlaps(kept["communities"], layers["communities"].source)
        report.add(notes=overlaps)
        warnings += overlaps
    kept["barriers"] = _kept_barriers(barrier_frames, layers, area, crs, report)
    options: dict[str, object] = {
        "households": households, "residents": residents, "road_class": road_class,
        "major_classes": None if major_classes is None else list(major_classes),
        "community_id": community_id, "community_name": community_name,
        "office_id": office_id, "office_area": office_area, "office_name": office_name,
        "office_community": office_community, "where": where,
        "barriers": [layers[k].label for k in barrier_keys if k in layers],
    }  # fmt: skip
    inputs = Inputs(
        blocks=block_frame,
        roads=road_frame,
        study_area=area,
        crs=crs,
        communities=kept.get("communities"),
        barriers=kept.get("barriers"),
        offices=kept.get("offices"),
        sources={role: layer.absolute_label for role, layer in layers.items()},
        options=options,
        notes=report.notes,
        warnings=warnings,
    )
    for note in report.notes:
        logger.info("%s", note)
    return inputs


def _community_overlaps(communities: gpd.GeoDataFrame, source: str) -> list[str]:
    """:func:`check_community_overlaps` with each community named by its name and id."""
    ids = communities["community_id"].astype(str)
    names = community_labels(communities)
    labels = pd.Series([i if names[i] == i else f"{names[i]} ({i})" for i in ids], index=communities.index)
    return check_community_overlaps(communities.geometry, labels, source)


def _kept_barriers(
    frames: dict[str, gpd.GeoDataFrame | None],
    layers: dict[str, Layer],
    area: shapely.Polygon | shapely.MultiPolygon,
    crs: pyproj.CRS,
    report: Report,
) -> gpd.GeoDataFrame | None:
    """The barrier features of every ``--barriers`` layer that lie in the study area.

    Each layer is clipped on its own, so that a note on dropped features names the
    layer they came from (with ``--barriers river --barriers rail``, the count of
    the rail features used to be reported under the river's name).

    Parameters
    ----------
    frames : dict of str to geopandas.GeoDataFrame or None
        The prepared barriers per layer key (``barriers#0`` ...), in the order given.
    layers : dict of str to Layer
        The layers read, by key.
    area : shapely.Polygon or shapely.MultiPolygon
        The study area.
    crs : pyproj.CRS
        The metric CRS of the run.
    report : Report
        Collects the notes.

    Returns
    -------
    geopandas.GeoDataFrame or None
        The kept features of all layers together, each with its ``layer``
        (``FILE:LAYER``), or None without barriers.
    """
    kept = {key: keep_intersecting(frame, area, layers[key].source, report) for key, frame in frames.items()}
    parts = [frame.assign(layer=layers[key].label) for key, frame in kept.items() if frame is not None]
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)
