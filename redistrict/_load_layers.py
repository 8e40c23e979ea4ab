"""Roads, existing communities, barriers, offices and the study area as read and checked."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd
import pyproj

from redistrict import _validate as v
from redistrict._load_crs import to_crs
from redistrict._load_read import (
    Layer,
    Report,
    attribute_columns,
    check_role_geometry,
    has_column,
)
from redistrict._words import listed

__all__ = [
    "check_office_communities",
    "prepare_barriers",
    "prepare_communities",
    "prepare_offices",
    "prepare_roads",
    "prepare_study_area",
]

#: Columns naming the roads (any case), first found wins: OSM's, then the usual Chinese ones.
_ROAD_NAME_COLUMNS = ("name", "name:zh", "名称", "道路名称", "路名", "道路名")


def prepare_roads(
    layer: Layer,
    crs: pyproj.CRS | None,
    report: Report,
    *,
    road_class: str | None,
    major_classes: Sequence[str] | None,
) -> gpd.GeoDataFrame | None:
    """Classify, validate, explode and reproject the roads."""
    frame = layer.frame
    source = layer.source
    column = road_class
    found = True
    if column is not None:
        found = has_column(frame, "--road-class", column, source, report, hint=layer.column_hint)
    else:
        column = _class_column(attribute_columns(frame))
        if column is not None and column != "highway":
            report.add(
                notes=[
                    f"{source}: column {column!r} taken as the road class "
                    "(give --road-class to choose another)"
                ]
            )
    if not found:
        # Reported already: classifying without the column would blame --major-classes too,
        # or note that every road counts as minor, though the run stops here.
        check_role_geometry(frame.geometry, source, "roads", report)
        return None
    classes = v.classify_roads(frame, source, column, major_classes)
    report.add(classes.problems, classes.notes)
    if layer.is_osm and column == "highway":
        tagged = classes.road_class != ""
        if not tagged.all():
            report.add(
                notes=[
                    f"{source}: ignored {int((~tagged).sum())} OSM lines without a highway tag "
                    f"(rivers, rail, power lines ...)"
                ]
            )
        frame = frame[tagged]
    checked = check_role_geometry(frame.geometry, source, "roads", report)
    if checked.problems or classes.problems:
        return None
    keep = checked.geometry.index
    data = {
        "road_class": classes.road_class.loc[keep].astype(str),
        "major": classes.major.loc[keep].astype(bool),
    }
    columns = {str(c).lower(): c for c in attribute_columns(frame)}
    named = [columns[n] for n in _ROAD_NAME_COLUMNS if n in columns]
    if named:  # for the notes: a part of the area is found by the roads near it
        data["name"] = frame.loc[keep, named[0]].map(lambda x: v.as_text(x).strip()).astype(str)
    roads = gpd.GeoDataFrame(data, geometry=checked.geometry.rename("geometry"), crs=frame.crs)
    parts = roads.explode(index_parts=False, ignore_index=True)
    if parts.empty:
        report.add(problems=[f"{source} holds no usable road line; give the layer with the road network"])
        return None
    if len(parts) > len(roads):
        report.add(notes=[f"{source}: split multi-part lines into {len(parts)} LineStrings"])
    return to_crs(parts, crs, source, report)


def _prepare_ids(
    frame: gpd.GeoDataFrame,
    source: str,
    column: str | None,
    default: str,
    option: str,
    report: Report,
    hint: str = "",
) -> pd.Series | None:
    """Return identifiers as text (from ``column``, ``default`` or row numbers)."""
    if column is not None:
        if not has_column(frame, option, column, source, report, hint=hint):
            return None
    elif default in attribute_columns(frame):
        column = default
    else:
        report.add(notes=[f"{source}: no {default!r} column; features numbered 1..N (use {option})"])
        return pd.Series([str(i + 1) for i in range(len(frame))], index=frame.index, dtype=str)
    ids = frame[column].map(v.as_text).astype(str)
    problems = v.check_unique(ids, source, column, option)
    report.add(problems)
    return None if problems else ids


def prepare_communities(
    layer: Layer,
    crs: pyproj.CRS | None,
    report: Report,
    *,
    id_column: str | None,
    name_column: str | None,
) -> gpd.GeoDataFrame | None:
    """Validate and reproject the existing communities."""
    frame = layer.frame
    source = layer.source
    ids = _prepare_ids(frame, source, id_column, "community_id", "--community-id", report, layer.column_hint)
    names = _names(layer, name_column, "--community-name", report)
    checked = check_role_geometry(frame.geometry, source, "communities", report)
    if ids is None or checked.problems:
        return None
    keep = checked.geometry.index
    data: dict[str, pd.Series] = {"community_id": ids.loc[keep]}
    if names is not None:
        data["name"] = names.loc[keep].astype(str)
    return _reprojected(data, checked.geometry, layer, crs, report)


def _names(layer: Layer, column: str | None, option: str, report: Report) -> pd.Series | None:
    """The names of a layer's features as text ("" where missing): ``column``, else a ``name`` column."""
    frame = layer.frame
    if column is None and "name" in attribute_columns(frame):
        column = "name"
    if column is None or not has_column(frame, option, column, layer.source, report, hint=layer.column_hint):
        return None
    names: pd.Series = frame[column].map(lambda x: "" if v.as_text(x) == "" else str(x))
    return names


def prepare_barriers(layer: Layer, crs: pyproj.CRS | None, report: Report) -> gpd.GeoDataFrame | None:
    """Validate and reproject the barriers."""
    checked = check_role_geometry(layer.frame.geometry, layer.source, "barriers", report)
    if checked.problems:
        return None
    return _reprojected(None, checked.geometry, layer, crs, report)


def prepare_offices(
    layer: Layer,
    crs: pyproj.CRS | None,
    report: Report,
    *,
    id_column: str | None,
    area_column: str | None,
    name_column: str | None = None,
    community_column: str | None = None,
) -> gpd.GeoDataFrame | None:
    """Validate and reproject the community offices (with their names when the layer has them).

    With ``community_column`` (``--office-community``) the offices get a
    ``community_id`` column (text, ``""`` where empty): the community each
    office belongs to, checked against the communities by
    :func:`check_office_communities`.
    """
    frame = layer.frame
    source = layer.source
    ids = _prepare_ids(frame, source, id_column, "office_id", "--office-id", report, layer.column_hint)
    names = _names(layer, name_column, "--office-name", report)
    belongs = None
    if community_column is not None and has_column(
        frame, "--office-community", community_column, source, report, hint=layer.column_hint
    ):
        belongs = frame[community_column].map(v.as_text).astype(str)
    area = None
    if area_column is not None and has_column(
        frame, "--office-area", area_column, source, report, hint=layer.column_hint
    ):
        area, problems, notes = v.coerce_float(
            frame[area_column], source, area_column, "--office-area", allow_missing=True
        )
        report.add(problems, notes)
    checked = check_role_geometry(frame.geometry, source, "offices", report)
    if ids is None or checked.problems:
        return None
    geometry = checked.geometry
    polygons = geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    if polygons.any():
        geometry = geometry.where(~polygons, geometry.representative_point())
        report.add(notes=[f"{source}: {int(polygons.sum())} polygons reduced to a point inside"])
    keep = geometry.index
    data: dict[str, pd.Series] = {"office_id": ids.loc[keep]}
    if area is not None:
        data["area_m2"] = area.loc[keep].astype("float64")
    if names is not None:
        data["name"] = names.loc[keep].astype(str)
    if belongs is not None:
        data["community_id"] = belongs.loc[keep]
    return _reprojected(data, geometry, layer, crs, report)


def check_office_communities(
    offices: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame | None,
    offices_source: str,
    communities_source: str | None,
    column: str,
    community_column: str | None,
) -> tuple[list[str], list[str]]:
    """Check that the offices' community column names known communities.

    Parameters
    ----------
    offices : geopandas.GeoDataFrame
        Prepared offices with ``office_id`` and ``community_id`` (text, ``""``
        where empty).
    communities : geopandas.GeoDataFrame or None
        Prepared communities with ``community_id`` (None: not given).
    offices_source, communities_source : str
        The layers, for messages.
    column : str
        The offices' community column (``--office-community``).
    community_column : str or None
        The communities' id column (``--community-id``; None: the default).

    Returns
    -------
    problems : list of str
        One problem naming the offices whose value is no community id (with the
        known ids), or saying that the communities layer is missing.
    notes : list of str
        Offices with an empty value, credited to the community they stand in.

    """
    given = offices["community_id"].astype(str)
    if communities is None:
        return [
            f"{offices_source}: --office-community {column!r} names the community of each office, but no "
            "communities are given: add --communities FILE[:LAYER] (with --community-id COL), or drop "
            "--office-community"
        ], []
    known = sorted(set(communities["community_id"].astype(str)))
    unknown = (given != "") & ~given.isin(known)
    problems: list[str] = []
    if unknown.any():
        office_ids = offices.loc[unknown, "office_id"].astype(str).tolist()
        values = sorted(set(given[unknown]))
        id_column = f"column {community_column!r}" if community_column else "the ids"
        named = ""
        if "name" in communities.columns:
            names = set(communities["name"].astype(str)) - {""}
            if set(values) <= names:
                named = (
                    f" ({'that is a community name' if len(values) == 1 else 'those are community names'}: "
                    "the column must hold community ids)"
                )
        one = len(office_ids) == 1
        who = f"office {office_ids[0]} gives" if one else f"offices {listed(office_ids)} give"
        which = "that value" if one else "those values"
        problems.append(
            f"{offices_source}: column {column!r} (--office-community) names {len(values)} "
            f"{'community' if len(values) == 1 else 'communities'} not in {id_column} (--community-id) of "
            f"{communities_source}{named}: {who} {listed(values, quote=True)}; "
            f"the known community ids are {listed(known, quote=True)}. Correct {which} (an empty "
            "value credits the office to the community it stands in), or choose another column with "
            "--office-community"
        )
    empty = int((given == "").sum())
    notes = []
    if empty:
        one = empty == 1
        notes.append(
            f"{offices_source}: {empty} {'office has' if one else 'offices have'} no value in column "
            f"{column!r} (--office-community): credited to the community "
            f"{'it stands' if one else 'they stand'} in"
        )
    return problems, notes


def prepare_study_area(layer: Layer, crs: pyproj.CRS | None, report: Report) -> gpd.GeoDataFrame | None:
    """Validate and reproject the study-area polygons."""
    checked = check_role_geometry(layer.frame.geometry, layer.source, "study_area", report)
    if checked.problems or checked.geometry.empty:
        if not checked.problems:
            report.add(problems=[f"{layer.source} holds no usable polygon; draw the study area"])
        return None
    return _reprojected(None, checked.geometry, layer, crs, report)


def _reprojected(
    data: dict[str, pd.Series] | None,
    geometry: gpd.GeoSeries,
    layer: Layer,
    crs: pyproj.CRS | None,
    report: Report,
) -> gpd.GeoDataFrame | None:
    """Join checked attributes and geometry in the layer's CRS and reproject them to ``crs``."""
    out = gpd.GeoDataFrame(data, geometry=geometry.rename("geometry"), crs=layer.frame.crs)
    return to_crs(out, crs, layer.source, report)


def _class_column(columns: Sequence[str]) -> str | None:
    """The column taken as the road class when --road-class is not given (None: no such column)."""
    by_name = {c.lower(): c for c in columns}
    return next((by_name[n] for n in v.ROAD_CLASS_COLUMNS if n in by_name), None)
