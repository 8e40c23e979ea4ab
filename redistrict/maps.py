"""Self-contained interactive maps of redistricting plans.

Planners review a proposal as one HTML file, often on an intranet without internet.
The maps built here embed Leaflet (see :mod:`redistrict._assets`) and every layer's
data, so the file opens anywhere: no CDN, no tile server unless one is asked for.

Public functions
----------------
:func:`plan_map`
    One plan: coloured, labelled units over roads, communities, barriers, offices
    and atoms, with a title block and a legend.
:func:`compare_map`
    Several plans of the same area, one radio-button layer per scenario.
:func:`save_map`
    Render, check that nothing is loaded from outside the file, write atomically.
:func:`unit_colours`
    Deterministic colouring in which touching units get different fills.

All input layers are GeoDataFrames in a metric CRS; they are reprojected to
EPSG:4326 for Leaflet before drawing.

The work is shared by private modules: ``_map_check`` (input validation),
``_map_style`` (palette, line styles, panes, CSS), ``_map_text`` (labels and number
formatting in both languages), ``_map_geo`` (reprojection, GeoJSON, colouring),
``_map_layers`` (unit and context layers), ``_map_boxes`` (title block and legend)
and ``_map_page`` (the folium page around them).
"""

from __future__ import annotations

import html
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import folium
import geopandas as gpd

from redistrict._assets import assert_self_contained
from redistrict._files import as_if_created
from redistrict._map_boxes import legend_box, title_box
from redistrict._map_check import check_inputs, plan_label
from redistrict._map_geo import context_layers, latlon_bounds, unit_colours
from redistrict._map_layers import (
    add_context,
    add_units,
    office_labels,
    office_units,
    prepare_units,
    with_costs,
)
from redistrict._map_page import finish_map, new_map
from redistrict._map_style import PALETTE
from redistrict._map_text import STRINGS
from redistrict._map_types import MapInfo, PlanBand
from redistrict.costs import CostParams
from redistrict.errors import InputError

__all__ = [
    "PALETTE",
    "Lang",
    "MapInfo",
    "PlanBand",
    "compare_map",
    "plan_map",
    "save_map",
    "unit_colours",
]

logger = logging.getLogger(__name__)

Lang = Literal["zh", "en"]


def plan_map(
    units: gpd.GeoDataFrame,
    *,
    info: MapInfo,
    atoms: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    offices: gpd.GeoDataFrame | None = None,
    lang: Lang = "zh",
    tiles: str | None = None,
    cost_params: CostParams | None = None,
) -> folium.Map:
    """Build a self-contained interactive map of one plan.

    Units are filled so that touching units differ (:func:`unit_colours`) and
    labelled with their id and households; hovering shows households, residents,
    area, source communities, households moved, the office kept (by its name,
    with the community it belongs to) or new committee needed, then the costs:
    the kept office's floor area and whether it suffices, staff and office space
    needed, the one-off office cost, annual working funds and the annual cost
    (whichever columns exist). With a band
    in residents (``info.band_unit``), the title block states the band in
    residents, and labels, tooltips and the problem list lead with the residents
    (households still shown). Units whose status is not ``"ok"`` get a thick red
    dashed outline and are listed in the legend. Roads, communities, barriers,
    offices and atoms are toggleable layers.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Proposed units in a metric CRS: ``unit_id`` (int), ``households`` (int),
        polygon geometry; optional ``residents`` (required for a band in
        residents), ``area_km2`` (computed when absent), ``staff_needed``,
        ``office_m2``, ``in_band``, ``status`` (``"ok"``, ``"below band"``,
        ``"above band"``, ``"oversize atom"``; derived from ``in_band`` or the band,
        in what it counts, when absent), ``sources``, ``households_moved``,
        ``office`` (id of the office kept), ``committee`` (community whose
        committee continues), ``new_committee`` and the cost columns of
        :func:`redistrict.costs.unit_costs` (``office_area_m2``,
        ``office_shortfall_m2``, ``one_time_yuan``, ``working_funds_yuan``,
        ``annual_yuan``).
    info : MapInfo
        Title block content, with the band and what it counts.
    atoms : geopandas.GeoDataFrame, optional
        Building blocks with ``households`` and ``unit_id`` (hidden at first).
    roads : geopandas.GeoDataFrame, optional
        Road lines with ``road_class`` and ``major`` (bool; major roads are heavier).
    communities : geopandas.GeoDataFrame, optional
        Existing communities, drawn as dashed outlines.
    barriers : geopandas.GeoDataFrame, optional
        Barrier lines or polygons (rivers, rail).
    offices : geopandas.GeoDataFrame, optional
        Existing offices with ``office_id``, optional ``name``, ``community_id``
        and ``area_m2``, drawn as circles. Units name the office they keep by its
        ``name`` (else its id).
    lang : {"zh", "en"}, default "zh"
        Language of every label.
    tiles : str, optional
        URL template of an (intranet) tile server, added as a toggleable layer.
        By default no tiles are used: roads are the base map.
    cost_params : CostParams, optional
        The plan's cost parameters. When given, the cost columns are those
        :func:`redistrict.costs.unit_costs` computes for the units with them
        (as in the plan's ``run.json``); otherwise the units' own cost columns,
        if any, are shown.

    Returns
    -------
    folium.Map
        The map; write it with :func:`save_map`.

    Raises
    ------
    InputError
        Listing every problem with the inputs.

    """
    context = {
        "atoms": atoms,
        "roads": roads,
        "communities": communities,
        "barriers": barriers,
        "offices": offices,
    }
    check_inputs({"units": units}, info, context, lang, tiles)
    assert isinstance(info, MapInfo)
    _check_params({"cost_params": cost_params})
    ordered, rows = prepare_units(with_costs(units, cost_params), info.plan_band)
    layers = context_layers(atoms, roads, communities, barriers, offices)
    bounds = latlon_bounds([ordered.to_crs(4326)])
    m = new_map(info.title, bounds)
    s = STRINGS[lang]
    labels = folium.FeatureGroup(name=s["labels"])
    names = office_labels(offices, communities)
    add_units(m, ordered, rows, lang=lang, name=s["units"], labels_parent=labels, offices=names)
    labels.add_to(m)
    add_context(m, layers, lang, office_units=office_units(units))
    boxes = [title_box(info, lang), legend_box({"": rows}, layers, lang, compare=False)]
    return finish_map(m, bounds, boxes, tiles=tiles, lang=lang)


def compare_map(
    plans: Mapping[str, gpd.GeoDataFrame],
    *,
    info: MapInfo,
    bands: Mapping[str, PlanBand] | None = None,
    roads: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    lang: Lang = "zh",
    tiles: str | None = None,
    cost_params: Mapping[str, CostParams] | None = None,
    offices: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Build a self-contained map comparing several plans of the same area.

    Each scenario is one radio-button layer (units and their labels) in the layer
    control, so exactly one plan is visible at a time; the first is shown on
    opening. Styles, tooltips and problem highlighting are those of
    :func:`plan_map`, each scenario judged by its own band; the legend summarises
    every scenario with its band, and the title block states the band (each
    scenario's when they differ).

    Parameters
    ----------
    plans : mapping of str to geopandas.GeoDataFrame
        Units of each scenario by scenario name (see :func:`plan_map` for columns).
    info : MapInfo
        Title block content; its band is that of scenarios missing from ``bands``.
    bands : mapping of str to PlanBand, optional
        Band of each scenario (e.g. 8,000-10,000 residents for one, 2,000-3,000
        households for another).
    roads, communities, barriers : geopandas.GeoDataFrame, optional
        Context layers as in :func:`plan_map`.
    lang : {"zh", "en"}, default "zh"
        Language of every label.
    tiles : str, optional
        URL template of an (intranet) tile server.
    cost_params : mapping of str to CostParams, optional
        Cost parameters of each scenario (see :func:`plan_map`); scenarios
        missing from it show their units' own cost columns.
    offices : geopandas.GeoDataFrame, optional
        Existing offices as in :func:`plan_map`: a layer of their own, and the
        tooltips name the office a unit keeps.

    Returns
    -------
    folium.Map
        The map; write it with :func:`save_map`.

    Raises
    ------
    InputError
        Listing every problem with the inputs.

    """
    if not isinstance(plans, Mapping) or len(plans) == 0:
        raise InputError("plans: give at least one scenario as a mapping {name: units}")
    context = {"roads": roads, "communities": communities, "barriers": barriers, "offices": offices}
    named = {plan_label(name): units for name, units in plans.items()}
    check_inputs(named, info, context, lang, tiles, bands=bands)
    assert isinstance(info, MapInfo)
    params = dict(cost_params or {})
    _check_params(
        {f"cost_params[{name!r}]": value for name, value in params.items()},
        [str(name) for name in params if name not in plans],
    )
    given = dict(bands or {})
    band_of = {str(name): given.get(name, info.plan_band) for name in plans}
    prepared = {
        str(name): prepare_units(with_costs(units, params.get(name)), band_of[str(name)])
        for name, units in plans.items()
    }
    layers = context_layers(None, roads, communities, barriers, offices)
    bounds = latlon_bounds([ordered.to_crs(4326) for ordered, _ in prepared.values()])
    m = new_map(info.title, bounds)
    s = STRINGS[lang]
    names = office_labels(offices, communities)
    for i, (name, (ordered, rows)) in enumerate(prepared.items()):
        group = folium.FeatureGroup(
            name=f"{s['scenario']}{s['colon']}{html.escape(name)}", overlay=False, show=i == 0
        )
        add_units(
            group, ordered, rows, lang=lang, name=name, labels_parent=group, offices=names, scenario=name
        )
        group.add_to(m)
    add_context(m, layers, lang)
    rows_by_plan = {name: rows for name, (_, rows) in prepared.items()}
    boxes = [
        title_box(info, lang, band_of),
        legend_box(rows_by_plan, layers, lang, compare=True, bands=band_of),
    ]
    return finish_map(m, bounds, boxes, tiles=tiles, lang=lang)


def _check_params(given: Mapping[str, object], unknown: Sequence[str] = ()) -> None:
    """Check the cost parameters given to a map.

    Parameters
    ----------
    given : mapping of str to object
        Each value given, by how to name it in a message.
    unknown : sequence of str
        Scenarios given cost parameters but not compared.

    Raises
    ------
    InputError
        Listing every value that is neither None nor a :class:`CostParams`, and
        every unknown scenario.

    """
    problems = [
        f"{key}: expected redistrict.costs.CostParams or None, got {type(value).__name__}"
        for key, value in given.items()
        if value is not None and not isinstance(value, CostParams)
    ]
    problems += [f"cost_params: scenario {name!r} is not among the plans compared" for name in unknown]
    if problems:
        raise InputError(problems)


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Render a map, check that it is self-contained, and write it atomically.

    The page is written to a temporary file in the target folder and moved into
    place with :func:`os.replace`, so ``path`` is either the complete new map or
    untouched (no partial file is ever left behind).

    Parameters
    ----------
    m : folium.Map
        A map from :func:`plan_map` or :func:`compare_map`.
    path : str or pathlib.Path
        Output ``.html`` file.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    InputError
        If the folder does not exist, ``path`` is a folder, or the page would load
        anything from outside the file (e.g. a folium plugin added to the map).

    """
    target = Path(path)
    problems: list[str] = []
    if not target.parent.is_dir():
        problems.append(f"{target}: folder {target.parent} does not exist; create it first")
    if target.is_dir():
        problems.append(f"{target}: is a folder; give the path of an .html file")
    if problems:
        raise InputError(problems)
    page = m.get_root().render()
    assert_self_contained(page, what=str(target))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(page)
        as_if_created(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{target}: cannot write the map ({exc.strerror}); check permissions") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    logger.info("wrote map %s (%d bytes)", target, len(page.encode("utf-8")))
    return target
