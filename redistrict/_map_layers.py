"""Map layers: unit polygons with tooltips and labels, and the context layers."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element
from folium.features import DivIcon, GeoJsonTooltip

from redistrict._map_geo import ROUND, feature_collection, unit_colours
from redistrict._map_style import (
    ATOM,
    BARRIER,
    COMMUNITY,
    MAJOR_ROAD,
    MINOR_ROAD,
    OFFICE,
    PROBLEM_COLOUR,
    UNIT_FILL_OPACITY,
)
from redistrict._map_text import (
    STRINGS,
    fmt_area,
    fmt_number,
    fmt_text,
    fmt_yuan,
    is_missing,
    size_text,
    status_text,
)
from redistrict._map_types import Layers, OfficeLabel, PlanBand, UnitRow
from redistrict.costs import COST_COLUMNS, CostParams, unit_costs

__all__ = ["add_context", "add_units", "office_labels", "office_units", "prepare_units", "with_costs"]


def _unit_status(row: pd.Series, band: PlanBand) -> str:
    """Status of a unit: its ``status`` column, else derived from the band.

    Parameters
    ----------
    row : pandas.Series
        One unit.
    band : PlanBand
        The band; a band in residents is compared with the unit's ``residents``.

    Returns
    -------
    str
        ``"ok"``, ``"below band"``, ``"above band"`` or the given status.

    """
    status = row.get("status")
    if not is_missing(status) and str(status).strip():
        return str(status).strip()
    size = float(row[band.unit])
    in_band = row.get("in_band")
    if not is_missing(in_band) and bool(in_band):
        return "ok"
    if size < band.lo:
        return "below band"
    if size > band.hi:
        return "above band"
    return "ok" if is_missing(in_band) else "outside band"


def _text(value: object) -> str:
    """A cell as stripped text, ``""`` when missing."""
    return "" if is_missing(value) else str(value).strip()


def office_labels(
    offices: gpd.GeoDataFrame | None, communities: gpd.GeoDataFrame | None = None
) -> dict[str, OfficeLabel]:
    """Name and community of each existing office, by office id.

    Parameters
    ----------
    offices : geopandas.GeoDataFrame or None
        Offices with ``office_id``; optional ``name`` (the id stands in where it
        is missing or empty) and ``community_id``.
    communities : geopandas.GeoDataFrame, optional
        Communities with ``community_id`` and optional ``name``, to name the
        community of an office.

    Returns
    -------
    dict of str to OfficeLabel
        Empty without offices or without an ``office_id`` column.

    """
    if offices is None or "office_id" not in offices.columns:
        return {}
    community_names: dict[str, str] = {}
    if communities is not None and "community_id" in communities.columns:
        names = communities["name"] if "name" in communities.columns else communities["community_id"]
        for cid, name in zip(communities["community_id"], names, strict=True):
            community_names[_text(cid)] = _text(name) or _text(cid)
    out: dict[str, OfficeLabel] = {}
    for _, row in offices.iterrows():
        oid = _text(row.get("office_id"))
        community = _text(row.get("community_id"))
        out[oid] = OfficeLabel(
            name=_text(row.get("name")) or oid,
            community=community_names.get(community, community),
        )
    return out


def office_units(units: gpd.GeoDataFrame) -> dict[str, int] | None:
    """The unit keeping each office, by office id (None when the units name no offices).

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        One plan's units with ``unit_id`` and, when offices were given, ``office``.

    Returns
    -------
    dict of str to int or None
    """
    if "office" not in units.columns:
        return None
    pairs = zip(units["office"], units["unit_id"], strict=True)
    return {_text(office): int(unit) for office, unit in pairs if _text(office)}


def _keeps_office(units: gpd.GeoDataFrame) -> np.ndarray:
    """Whether each unit keeps an existing office (or committee), as costed.

    A unit keeps one when ``new_office`` (else ``new_committee``) is false; a
    missing value counts as new, as in :func:`redistrict.costs.unit_costs`.
    Without those columns a unit keeps the ``office`` it names.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Units layer.

    Returns
    -------
    numpy.ndarray
        One bool per unit.

    """
    for flag in ("new_office", "new_committee"):
        if flag in units.columns:
            return np.array([not (is_missing(v) or bool(v)) for v in units[flag]], dtype=bool)
    if "office" in units.columns:
        return np.array([_text(v) != "" for v in units["office"]], dtype=bool)
    return np.zeros(len(units), dtype=bool)


def _office_text(
    row: pd.Series, s: Mapping[str, str], offices: Mapping[str, OfficeLabel], communities_known: bool
) -> str:
    """Office kept (by name, with its community) or new committee needed, as display text.

    Parameters
    ----------
    row : pandas.Series
        One unit.
    s : mapping
        UI strings of the language.
    offices : mapping of str to OfficeLabel
        Name and community of each office id.
    communities_known : bool
        Whether the units say which community's committee each continues
        (``committee``): an office kept without one lies in no community.

    Returns
    -------
    str
        Escaped text.

    """
    parts: list[str] = []
    office = _text(row.get("office"))
    committee = _text(row.get("committee"))
    new = row.get("new_committee")
    new_here = not is_missing(new) and bool(new)
    if office:
        label = offices.get(office, OfficeLabel(office))
        reused = new_here and not committee  # a new committee in a free existing office
        text = s["office_reused" if reused else "office_kept"].format(id=html.escape(label.name))
        origin = _text(row.get("office_community")) or label.community
        community = origin if reused or not communities_known else committee
        if community:
            text += s["office_of"].format(community=html.escape(community))
        elif communities_known:
            text += s["office_no_community"]
        parts.append(text)
        if reused:
            return text
    elif committee and not new_here:
        parts.append(s["committee_kept"].format(community=html.escape(committee)))
    if new_here:
        parts.append(s["new_committee"])
    return "; ".join(parts) if parts else "—"


def _office_area_text(row: pd.Series, s: Mapping[str, str], keeps: bool) -> str:
    """Floor area of the office a unit keeps and whether it suffices.

    Parameters
    ----------
    row : pandas.Series
        One unit: ``office_area_m2`` and ``office_shortfall_m2`` as computed by
        :func:`redistrict.costs.unit_costs`.
    s : mapping
        UI strings of the language.
    keeps : bool
        Whether the unit keeps an existing office.

    Returns
    -------
    str
        Escaped text; a dash for a unit with a new committee.

    """
    if not keeps:
        return "—"
    area = row.get("office_area_m2")
    if is_missing(area):
        return s["office_area_unknown"]
    short = row.get("office_shortfall_m2")
    if is_missing(short):
        return fmt_area(area)
    if float(cast(float, short)) > 0:
        return s["office_short"].format(area=fmt_area(area), short=fmt_area(short))
    return s["office_enough"].format(area=fmt_area(area))


def _unit_fields(units: gpd.GeoDataFrame, s: Mapping[str, str], unit: str) -> list[tuple[str, str]]:
    """Tooltip rows available for these units, as (property, label) pairs.

    Size, status and origin come first, then the office and the costs (from the
    columns of :func:`redistrict.costs.unit_costs` the units have).

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Units layer.
    s : mapping
        UI strings of the language.
    unit : {"households", "residents"}
        What the band counts: its count leads the tooltip.

    Returns
    -------
    list of (str, str)
        Property keys and their translated labels, in display order.

    """
    if unit == "residents":
        fields = [("unit", s["unit"]), ("residents", s["residents"]), ("hh", s["households"])]
    else:
        fields = [("unit", s["unit"]), ("hh", s["households"])]
    fields.append(("st", s["status"]))
    columns = set(units.columns)

    def optional(pairs: Sequence[tuple[str, str, str]]) -> None:
        shown = {key for key, _ in fields}
        fields.extend((key, label) for col, key, label in pairs if col in columns and key not in shown)

    optional(
        [
            ("residents", "residents", s["residents"]),
            ("area_km2", "area", s["area"]),
            ("sources", "sources", s["sources"]),
            ("households_moved", "moved", s["moved"]),
        ]
    )
    if "locked" in columns and bool(units["locked"].fillna(False).astype(bool).any()):
        fields.append(("locked", s["locked"]))
    if columns & {"office", "new_committee", "committee"}:
        fields.append(("office", s["office"]))
    if columns & {"office_area_m2", "office_shortfall_m2"} and bool(_keeps_office(units).any()):
        fields.append(("office_area", s["office_area"]))
    optional(
        [
            ("staff_needed", "staff", s["staff"]),
            ("office_m2", "office_m2", s["office_space"]),
            ("one_time_yuan", "one_time", s["one_time"]),
            ("working_funds_yuan", "funds", s["working_funds"]),
            ("annual_yuan", "annual", s["annual"]),
        ]
    )
    return fields


def _unit_properties(
    row: pd.Series,
    unit: UnitRow,
    fields: Sequence[tuple[str, str]],
    lang: str,
    office: str,
    keeps: bool,
) -> dict[str, Any]:
    """Display properties of one unit feature.

    Parameters
    ----------
    row : pandas.Series
        The unit (metric CRS, ``area_km2`` filled in).
    unit : UnitRow
        Its id, households, status and colour.
    fields : sequence of (str, str)
        Tooltip rows from :func:`_unit_fields`.
    lang : str
        ``"zh"`` or ``"en"``.
    office : str
        Its office row, from :func:`_office_text`.
    keeps : bool
        Whether it keeps an existing office.

    Returns
    -------
    dict
        GeoJSON properties including the Leaflet ``style``.

    """
    s = STRINGS[lang]
    values: dict[str, str] = {
        "unit": str(unit.unit_id),
        "hh": fmt_number(unit.households),
        "st": status_text(unit.status, lang),
        "residents": fmt_number(row.get("residents")),
        "area": f"{fmt_number(row.get('area_km2'), 2)} km²",
        "staff": (fmt_number(row.get("staff_needed"), 1).removesuffix(".0") + s["staff_suffix"]),
        "office_m2": fmt_area(row.get("office_m2")),
        "sources": fmt_text(row.get("sources")),
        "moved": fmt_number(row.get("households_moved")),
        "office": office,
        "office_area": _office_area_text(row, s, keeps),
        "one_time": fmt_yuan(row.get("one_time_yuan"), lang),
        "funds": fmt_yuan(row.get("working_funds_yuan"), lang),
        "annual": fmt_yuan(row.get("annual_yuan"), lang),
        "locked": s["locked_yes"] if row.get("locked") is True or row.get("locked") == 1 else s["locked_no"],
    }
    style: dict[str, Any] = {
        "fillColor": unit.colour,
        "fillOpacity": UNIT_FILL_OPACITY,
        "color": "#3a3a3a",
        "weight": 1.5,
        "opacity": 1.0,
    }
    if unit.problem:
        style.update({"color": PROBLEM_COLOUR, "weight": 4, "dashArray": "8 5"})
    props: dict[str, Any] = {key: values[key] for key, _ in fields}
    props.update({"unit_id": unit.unit_id, "problem": unit.problem, "style": style})
    return props


def with_costs(units: gpd.GeoDataFrame, params: CostParams | None) -> gpd.GeoDataFrame:
    """The units with the cost columns of :func:`redistrict.costs.unit_costs`.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Validated units (``unit_id``, ``households``, optional ``new_committee``
        and ``office_area_m2``).
    params : CostParams or None
        The plan's cost parameters; None leaves the units as they are (their own
        cost columns, if any, are shown).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with every column of :data:`redistrict.costs.COST_COLUMNS` but
        ``households`` replaced by the one :func:`~redistrict.costs.unit_costs`
        computes.

    """
    if params is None:
        return units
    costs = unit_costs(units, params)
    out = units.copy()
    for col in COST_COLUMNS:
        if col != "households":
            out[col] = costs[col].to_numpy()
    return out


def prepare_units(units: gpd.GeoDataFrame, band: PlanBand) -> tuple[gpd.GeoDataFrame, list[UnitRow]]:
    """Sort units, fill in the area and work out status and colour.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Validated units in a metric CRS (with ``residents`` for a band in residents).
    band : PlanBand
        The plan's band: what it counts decides the status of units without one.

    Returns
    -------
    tuple
        The sorted units (metric CRS) and one :class:`UnitRow` per unit.

    """
    ordered = units.copy()
    ordered["unit_id"] = pd.to_numeric(ordered["unit_id"]).round().astype("int64")
    ordered = ordered.sort_values("unit_id", kind="stable").reset_index(drop=True)
    if "area_km2" not in ordered.columns:
        ordered["area_km2"] = ordered.geometry.area / 1e6
    colours = unit_colours(ordered)
    rows: list[UnitRow] = []
    for _, row in ordered.iterrows():
        uid = int(row["unit_id"])
        status = _unit_status(row, band)
        residents = row.get("residents")
        rows.append(
            UnitRow(
                unit_id=uid,
                households=round(float(row["households"])),
                status=status,
                problem=status != "ok",
                colour=colours[uid],
                residents=None if is_missing(residents) else round(float(residents)),
                band_unit=band.unit,
            )
        )
    return ordered, rows


def add_units(
    parent: Element,
    units: gpd.GeoDataFrame,
    rows: Sequence[UnitRow],
    *,
    lang: str,
    name: str,
    labels_parent: Element,
    offices: Mapping[str, OfficeLabel] | None = None,
    scenario: str | None = None,
) -> None:
    """Add the unit polygons (with tooltips) and their labels.

    Labels and tooltips lead with what the band counts (the households, or the
    residents and then the households for a band in residents).

    Parameters
    ----------
    parent : branca.element.Element
        Map or feature group receiving the polygons.
    units : geopandas.GeoDataFrame
        Units from :func:`prepare_units` (metric CRS).
    rows : sequence of UnitRow
        Matching display rows.
    lang : str
        ``"zh"`` or ``"en"``.
    name : str
        Layer name shown in the layer control.
    labels_parent : branca.element.Element
        Map or feature group receiving the labels.
    offices : mapping of str to OfficeLabel, optional
        Name and community of each existing office (see :func:`office_labels`);
        an office missing from it is named by its id.
    scenario : str, optional
        Name of the scenario the units belong to (a comparison map): the
        tooltips then name it first.

    """
    s = STRINGS[lang]
    band_unit = rows[0].band_unit if rows else "households"
    fields = _unit_fields(units, s, band_unit)
    keeps = _keeps_office(units)
    communities_known = "committee" in units.columns and bool(units["committee"].map(_text).ne("").any())
    props = [
        _unit_properties(
            row, unit, fields, lang, _office_text(row, s, offices or {}, communities_known), bool(kept)
        )
        for (_, row), unit, kept in zip(units.iterrows(), rows, keeps, strict=True)
    ]
    shown = list(fields)
    if scenario is not None:
        shown.insert(0, ("scenario", s["scenario"]))
        for prop in props:
            prop["scenario"] = html.escape(scenario)
    wgs = units.to_crs(4326)
    layer = folium.GeoJson(
        feature_collection(wgs, props),
        name=name,
        pane="rd_units",
        className="rd-unit",
    )
    layer.add_child(
        GeoJsonTooltip(
            fields=[k for k, _ in shown],
            aliases=[label for _, label in shown],
            sticky=True,
            class_name="rd-unit-tooltip",
        )
    )
    parent.add_child(layer)
    points = units.geometry.representative_point().to_crs(4326)
    for point, unit in zip(points, rows, strict=True):
        klass = "rd-label rd-problem" if unit.problem else "rd-label"
        households = size_text(unit.households, "households", lang)
        if unit.band_unit == "residents":
            size = (
                f"{size_text(unit.residents, 'residents', lang)}<br>"
                f'<span class="rd-label-sub">{households}</span>'
            )
        else:
            size = households
        label = f'<div class="{klass}"><b>{unit.unit_id}</b><br>{size}</div>'
        folium.Marker(
            location=[round(point.y, ROUND), round(point.x, ROUND)],
            icon=DivIcon(html=label, icon_size=(0, 0), class_name="rd-label-icon"),
            interactive=False,
            keyboard=False,
        ).add_to(labels_parent)


def add_context(
    m: folium.Map, layers: Layers, lang: str, office_units: Mapping[str, int] | None = None
) -> None:
    """Add roads, atoms, communities, barriers and offices as toggleable layers.

    Parameters
    ----------
    m : folium.Map
        The map.
    layers : Layers
        Context layers in EPSG:4326 (None when not given).
    lang : str
        ``"zh"`` or ``"en"``.
    office_units : mapping of str to int, optional
        The unit keeping each office, by office id (one plan's ``office``
        column): each office's tooltip then says which unit keeps it, or that it
        is free. None (a comparison of several plans) leaves that out.

    """
    s = STRINGS[lang]
    if layers.roads is not None and len(layers.roads):
        major = (
            layers.roads["major"].fillna(False).astype(bool).to_numpy()
            if "major" in layers.roads.columns
            else np.zeros(len(layers.roads), dtype=bool)
        )
        for mask, style, key, pane in (
            (major, MAJOR_ROAD, "roads_major", "rd_major_roads"),
            (~major, MINOR_ROAD, "roads_minor", "rd_roads"),
        ):
            part = layers.roads.loc[mask]
            if len(part):
                folium.GeoJson(
                    feature_collection(part, [{"style": style}] * len(part)),
                    name=s[key],
                    pane=pane,
                    interactive=False,
                ).add_to(m)
    if layers.atoms is not None and len(layers.atoms):
        atoms = layers.atoms
        fields: list[tuple[str, str]] = []
        if "households" in atoms.columns:
            fields.append(("households", s["households"]))
        if "residents" in atoms.columns:
            fields.append(("residents", s["residents"]))
        if "unit_id" in atoms.columns:
            fields.append(("unit_id", s["atom_unit"]))
        keys = [k for k, _ in fields]
        props = [
            {
                **{k: (fmt_text if k == "unit_id" else fmt_number)(row.get(k)) for k in keys},
                "style": ATOM,
            }
            for _, row in atoms.iterrows()
        ]
        layer = folium.GeoJson(feature_collection(atoms, props), name=s["atoms"], pane="rd_atoms", show=False)
        if fields:
            layer.add_child(
                GeoJsonTooltip(fields=[k for k, _ in fields], aliases=[a for _, a in fields], sticky=True)
            )
        layer.add_to(m)
    if layers.communities is not None and len(layers.communities):
        comm = layers.communities
        comm = comm.assign(geometry=comm.geometry.boundary)
        ids = comm["community_id"] if "community_id" in comm.columns else pd.Series([""] * len(comm))
        names = comm["name"] if "name" in comm.columns else ids
        outlines = folium.GeoJson(
            feature_collection(
                comm,
                [
                    {"community": fmt_text(_text(n) or _text(i)), "style": COMMUNITY}
                    for n, i in zip(names, ids, strict=True)
                ],
            ),
            name=s["communities"],
            pane="rd_communities",
        )
        # hovering an outline names the community (the units' tooltips stay everywhere else)
        outlines.add_child(GeoJsonTooltip(fields=["community"], aliases=[s["community"]], sticky=True))
        outlines.add_to(m)
    if layers.barriers is not None and len(layers.barriers):
        folium.GeoJson(
            feature_collection(layers.barriers, [{"style": BARRIER}] * len(layers.barriers)),
            name=s["barriers"],
            pane="rd_barriers",
            interactive=False,
        ).add_to(m)
    if layers.offices is not None and len(layers.offices):
        offices = layers.offices
        points = offices.assign(geometry=offices.geometry.representative_point())
        named = "name" in offices.columns
        fields = [("name", s["office"])] if named else []
        fields += [("office_id", s["office_id"] if named else s["office"])]
        if "area_m2" in offices.columns:
            fields.append(("area_m2", s["area"]))
        if office_units is not None:
            fields.append(("use", s["office_use"]))
        props = []
        for _, row in offices.iterrows():
            unit = None if office_units is None else office_units.get(_text(row.get("office_id")))
            values = {
                "name": fmt_text(_text(row.get("name")) or row.get("office_id")),
                "office_id": fmt_text(row.get("office_id")),
                "area_m2": fmt_area(row.get("area_m2")),
                "use": s["office_free"] if unit is None else s["office_used"].format(unit=unit),
            }
            props.append({**{k: values[k] for k, _ in fields}, "style": OFFICE})
        marker = folium.CircleMarker(radius=6)
        marker.options["pane"] = "rd_offices"
        layer = folium.GeoJson(
            feature_collection(points, props), name=s["offices"], marker=marker, pane="rd_offices"
        )
        if "office_id" in offices.columns:
            layer.add_child(
                GeoJsonTooltip(fields=[k for k, _ in fields], aliases=[label for _, label in fields])
            )
        layer.add_to(m)
