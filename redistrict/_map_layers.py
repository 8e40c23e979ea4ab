"""Map layers: unit polygons with tooltips and labels, and the context layers."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

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
from redistrict._map_text import STRINGS, fmt_number, fmt_text, is_missing, size_text, status_text
from redistrict._map_types import Layers, PlanBand, UnitRow

__all__ = ["add_context", "add_units", "prepare_units"]


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


def _office_text(row: pd.Series, s: Mapping[str, str]) -> str:
    """Office kept or new committee needed, as display text.

    Parameters
    ----------
    row : pandas.Series
        One unit.
    s : mapping
        UI strings of the language.

    Returns
    -------
    str
        Escaped text.

    """
    parts: list[str] = []
    office = row.get("office")
    if not is_missing(office) and str(office).strip():
        parts.append(s["office_kept"].format(id=html.escape(str(office).strip())))
    new = row.get("new_committee")
    if not is_missing(new) and bool(new):
        parts.append(s["new_committee"])
    return "; ".join(parts) if parts else "—"


def _unit_fields(units: gpd.GeoDataFrame, s: Mapping[str, str], unit: str) -> list[tuple[str, str]]:
    """Tooltip rows available for these units, as (property, label) pairs.

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
    optional = [
        ("residents", "residents", s["residents"]),
        ("area_km2", "area", s["area"]),
        ("staff_needed", "staff", s["staff"]),
        ("office_m2", "office_m2", s["office_space"]),
        ("sources", "sources", s["sources"]),
        ("households_moved", "moved", s["moved"]),
    ]
    shown = {key for key, _ in fields}
    fields += [(key, label) for col, key, label in optional if col in units.columns and key not in shown]
    if "locked" in units.columns and bool(units["locked"].fillna(False).astype(bool).any()):
        fields.append(("locked", s["locked"]))
    if "office" in units.columns or "new_committee" in units.columns:
        fields.append(("office", s["office"]))
    return fields


def _unit_properties(
    row: pd.Series, unit: UnitRow, fields: Sequence[tuple[str, str]], lang: str
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
        "office_m2": f"{fmt_number(row.get('office_m2'))} m²",
        "sources": fmt_text(row.get("sources")),
        "moved": fmt_number(row.get("households_moved")),
        "office": _office_text(row, s),
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

    """
    s = STRINGS[lang]
    band_unit = rows[0].band_unit if rows else "households"
    fields = _unit_fields(units, s, band_unit)
    props = [
        _unit_properties(row, unit, fields, lang)
        for (_, row), unit in zip(units.iterrows(), rows, strict=True)
    ]
    wgs = units.to_crs(4326)
    layer = folium.GeoJson(
        feature_collection(wgs, props),
        name=name,
        pane="rd_units",
        className="rd-unit",
    )
    layer.add_child(
        GeoJsonTooltip(
            fields=[k for k, _ in fields],
            aliases=[label for _, label in fields],
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


def add_context(m: folium.Map, layers: Layers, lang: str) -> None:
    """Add roads, atoms, communities, barriers and offices as toggleable layers.

    Parameters
    ----------
    m : folium.Map
        The map.
    layers : Layers
        Context layers in EPSG:4326 (None when not given).
    lang : str
        ``"zh"`` or ``"en"``.

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
        folium.GeoJson(
            feature_collection(comm, [{"style": COMMUNITY}] * len(comm)),
            name=s["communities"],
            pane="rd_communities",
            interactive=False,
        ).add_to(m)
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
        props = [
            {"office_id": fmt_text(row.get("office_id")), "style": OFFICE} for _, row in offices.iterrows()
        ]
        marker = folium.CircleMarker(radius=6)
        marker.options["pane"] = "rd_offices"
        layer = folium.GeoJson(
            feature_collection(points, props), name=s["offices"], marker=marker, pane="rd_offices"
        )
        if "office_id" in offices.columns:
            layer.add_child(GeoJsonTooltip(fields=["office_id"], aliases=[s["office"]]))
        layer.add_to(m)
