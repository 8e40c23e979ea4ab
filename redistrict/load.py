"""Read and validate the input layers of a redistricting run.

:func:`load_inputs` reads roads, population blocks and the optional layers
(existing communities, barriers, offices, study area) from any vector format GDAL
reads, checks them, puts them into one metric CRS and returns an :class:`Inputs`.
Every problem found is collected and raised together in a single
:class:`~redistrict.errors.InputError`; harmless observations (reprojection,
repairs, dropped empty rows ...) are returned in :attr:`Inputs.notes`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from redistrict import _validate as v
from redistrict.errors import InputError

__all__ = ["Inputs", "load_inputs", "parse_source"]

logger = logging.getLogger(__name__)

#: Geometry kinds each role accepts.
_ROLE_KINDS: Final[dict[str, frozenset[str]]] = {
    "roads": frozenset({"line"}),
    "blocks": frozenset({"polygon", "point"}),
    "communities": frozenset({"polygon"}),
    "barriers": frozenset({"line", "polygon"}),
    "offices": frozenset({"point", "polygon"}),
    "study_area": frozenset({"polygon"}),
}

#: Layer of an OSM file (GDAL OSM driver) preferred for each geometry kind.
_OSM_LAYERS: Final[dict[str, str]] = {
    "line": "lines",
    "polygon": "multipolygons",
    "point": "points",
}
_OSM_SUFFIXES: Final[tuple[str, ...]] = (".osm", ".pbf", ".osm.pbf")

#: Roads are clipped to the study area grown by this distance (metres).
ROAD_MARGIN_M: Final[float] = 50.0
#: A study area made of points is their convex hull grown by this distance (metres).
POINT_AREA_MARGIN_M: Final[float] = 100.0


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
        (bool) and LineString ``geometry``.
    study_area : shapely.Polygon or shapely.MultiPolygon
        The area to redistrict.
    crs : pyproj.CRS
        The metric CRS of every layer.
    communities : geopandas.GeoDataFrame or None
        Existing communities: ``community_id`` (str, unique), optional ``name``
        and polygon ``geometry``.
    barriers : geopandas.GeoDataFrame or None
        Lines or polygons that units must not cross.
    offices : geopandas.GeoDataFrame or None
        Community offices: ``office_id`` (str, unique), optional ``area_m2``
        (float) and Point ``geometry``.
    sources : dict of str to str
        Role (``"roads"``, ``"blocks"`` ...) -> ``"path:layer"`` actually read.
    notes : list of str
        Non-fatal notes for the run log.

    """

    blocks: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    study_area: shapely.Polygon | shapely.MultiPolygon
    crs: pyproj.CRS
    communities: gpd.GeoDataFrame | None = None
    barriers: gpd.GeoDataFrame | None = None
    offices: gpd.GeoDataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Layer:
    """One layer as read, before validation."""

    role: str
    path: Path
    layer: str
    frame: gpd.GeoDataFrame
    is_osm: bool

    @property
    def label(self) -> str:
        return f"{self.path}:{self.layer}"

    @property
    def source(self) -> str:
        return f"{self.role} ({self.label})"


@dataclass
class _Report:
    """Problems and notes gathered during one call of :func:`load_inputs`."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, problems: Sequence[str] = (), notes: Sequence[str] = ()) -> None:
        self.problems.extend(problems)
        self.notes.extend(notes)


def parse_source(spec: str) -> tuple[Path, str | None]:
    r"""Split a ``FILE[:LAYER]`` specification.

    A colon belongs to the file name when the whole text names an existing file,
    when it follows a Windows drive letter (``C:\data\x.shp``) or when what
    follows it contains a path separator (URLs).

    Parameters
    ----------
    spec : str
        ``"roads.shp"``, ``"city.gpkg:roads"``, ``"C:\data\city.gpkg:roads"`` ...

    Returns
    -------
    path : pathlib.Path
        The file.
    layer : str or None
        The layer, or None when not given.

    Raises
    ------
    InputError
        If ``spec`` is empty.

    """
    text = spec.strip()
    if not text:
        raise InputError("an input file was given as an empty string: give FILE or FILE:LAYER")
    if Path(text).exists():
        return Path(text), None
    head, sep, tail = text.rpartition(":")
    drive = len(head) == 1 and head.isalpha()
    if not sep or not head or drive or "/" in tail or "\\" in tail:
        return Path(text), None
    return Path(head), (tail or None)


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
        Column of ``roads`` with the road class. Default: ``highway`` if present
        (OpenStreetMap), else no classes (every road minor).
    major_classes : sequence of str, optional
        Road classes counted as major, compared as text (``"1"`` matches 1 and
        1.0). Default: OSM motorway..tertiary (and ``_link``) for text classes;
        for numeric classes every class ranking above (numerically below) the most
        frequent one.
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
        Listing every problem found in the inputs.

    """
    report = _Report()
    layers: dict[str, _Layer] = {}
    barrier_specs = [barriers] if isinstance(barriers, str) else list(barriers or [])
    barrier_keys = [f"barriers#{i}" for i in range(len(barrier_specs))]
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
        layer = _read_layer(role, spec, report)
        if layer is not None:
            layers[key] = layer
            crs_problems = v.check_crs(layer.frame.crs, layer.source, str(layer.path))
            if not crs_problems and layer.frame.crs.is_geographic:
                crs_problems = v.check_degrees(
                    layer.frame.crs, layer.frame.total_bounds, layer.source, str(layer.path)
                )
            report.add(problems=crs_problems)

    crs: pyproj.CRS | None = None
    block_frame: gpd.GeoDataFrame | None = None
    if "blocks" in layers:
        block_frame, crs = _prepare_blocks(layers["blocks"], households, residents, where, report)
    frames: dict[str, gpd.GeoDataFrame | None] = {}
    if "roads" in layers:
        frames["roads"] = _prepare_roads(
            layers["roads"], crs, report, road_class=road_class, major_classes=major_classes
        )
    if "communities" in layers:
        frames["communities"] = _prepare_communities(
            layers["communities"], crs, report, id_column=community_id, name_column=community_name
        )
    barrier_frames = [_prepare_barriers(layers[k], crs, report) for k in barrier_keys if k in layers]
    if barrier_frames and all(f is not None for f in barrier_frames):
        frames["barriers"] = gpd.GeoDataFrame(
            pd.concat(barrier_frames, ignore_index=True), geometry="geometry", crs=crs
        )
    if barrier_keys and barrier_keys[0] in layers:
        layers["barriers"] = layers[barrier_keys[0]]
    if "offices" in layers:
        frames["offices"] = _prepare_offices(
            layers["offices"], crs, report, id_column=office_id, area_column=office_area
        )
    if "study_area" in layers:
        frames["study_area"] = _prepare_study_area(layers["study_area"], crs, report)

    if report.problems or block_frame is None or crs is None or frames.get("roads") is None:
        raise InputError(report.problems or ["inputs could not be read"])

    area, block_frame = _study_area(block_frame, frames.get("study_area"), layers, report)
    road_frame = frames["roads"]
    if report.problems or area is None or road_frame is None:
        raise InputError(report.problems or ["the study area is empty"])
    read_roads = road_frame
    if where is not None or study_area is not None:
        road_frame = _clip_roads(road_frame, area, layers["roads"].source, report)
    problems = _check_roads_reach(road_frame, area, read_roads, layers["roads"].source)
    if problems:
        raise InputError(problems)
    kept = {
        role: _keep_intersecting(frames.get(role), area, layers[role].source, report)
        for role in ("communities", "barriers", "offices")
        if role in layers
    }
    inputs = Inputs(
        blocks=block_frame,
        roads=road_frame,
        study_area=area,
        crs=crs,
        communities=kept.get("communities"),
        barriers=kept.get("barriers"),
        offices=kept.get("offices"),
        sources={role: layer.label for role, layer in layers.items() if role != "barriers"},
        notes=report.notes,
    )
    for note in report.notes:
        logger.info("%s", note)
    return inputs


# --------------------------------------------------------------------------- reading


def _read_layer(role: str, spec: str, report: _Report) -> _Layer | None:
    """Open ``spec`` for ``role``; report and return None when it cannot be read."""
    option = "--" + role.replace("_", "-")
    try:
        path, layer = parse_source(spec)
    except InputError as exc:
        report.add(problems=[f"{option}: {p}" for p in exc.problems])
        return None
    if not path.exists() and not str(path).startswith("/vsi"):
        report.add(
            problems=[
                f"{role}: file not found: {path} (given with {option}); check the path "
                f"(use FILE:LAYER to choose a layer)"
            ]
        )
        return None
    is_osm = path.name.lower().endswith(_OSM_SUFFIXES)
    try:
        listing = pyogrio.list_layers(path)
    except Exception as exc:
        report.add(
            problems=[
                f"{role}: cannot open {path} (given with {option}): {_reason(exc)}; give a vector "
                f"file GDAL can read (GeoPackage, Shapefile, GeoJSON, OSM ...)"
            ]
        )
        return None
    chosen = _choose_layer(role, path, layer, listing, is_osm, report)
    if chosen is None:
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pyogrio.read_dataframe(path, layer=chosen)
        except Exception as exc:
            report.add(
                problems=[
                    f"{role}: cannot read layer {chosen!r} of {path}: {_reason(exc)}; "
                    f"check that the file is complete and not corrupt, or export it again "
                    f"(e.g. with ogr2ogr)"
                ]
            )
            return None
    read = _Layer(role, path, chosen, frame, is_osm)
    report.add(notes=[f"{read.source}: {w.message}" for w in caught])
    if not isinstance(frame, gpd.GeoDataFrame):
        report.add(
            problems=[
                f"{read.source} has no geometry column; give a layer with "
                f"{_kind_words(role)} (export it with its geometry, e.g. as GeoPackage)"
            ]
        )
        return None
    if frame.empty and role in ("roads", "blocks", "study_area"):
        report.add(problems=[f"{read.source} has no features; give the layer holding the {role}"])
        return None
    return read


def _reason(exc: Exception) -> str:
    """Return an exception's message without trailing punctuation."""
    return str(exc).strip().rstrip(".;") or type(exc).__name__


def _kind_words(role: str) -> str:
    words = {"point": "points", "line": "lines", "polygon": "polygons"}
    return " or ".join(words[k] for k in sorted(_ROLE_KINDS[role]))


def _choose_layer(
    role: str,
    path: Path,
    layer: str | None,
    listing: np.ndarray,
    is_osm: bool,
    report: _Report,
) -> str | None:
    """Pick the layer to read from ``listing`` (rows of name, geometry type)."""
    names = [str(row[0]) for row in listing]
    types = [None if row[1] is None else str(row[1]) for row in listing]
    described = ", ".join(f"{n} ({t or 'no geometry'})" for n, t in zip(names, types, strict=True))
    if layer is not None:
        if layer in names:
            return layer
        report.add(
            problems=[
                f"{role}: {path} has no layer {layer!r}; its layers are: {described}; "
                f"write FILE:LAYER with one of them"
            ]
        )
        return None
    if len(names) == 1:
        return names[0]
    kinds = _ROLE_KINDS[role]
    exact = [n for n, t in zip(names, types, strict=True) if v.geometry_kind(t) in kinds]
    unknown = [
        n for n, t in zip(names, types, strict=True) if t is not None and v.geometry_kind(t) is None
    ]
    if is_osm:
        preferred = [
            _OSM_LAYERS[k]
            for k in ("polygon", "line", "point")
            if k in kinds and _OSM_LAYERS[k] in names
        ]
        exact = preferred[:1] or exact
    candidates = exact if exact else unknown
    if len(candidates) == 1:
        report.add(notes=[f"{role}: read layer {candidates[0]!r} of {path} ({len(names)} layers)"])
        return candidates[0]
    example = candidates[0] if candidates else (names[0] if names else "LAYER")
    report.add(
        problems=[
            f"{role}: {path} has {len(names)} layers and {len(candidates) or 'none'} of them "
            f"hold {_kind_words(role)}: {described}; choose one with FILE:LAYER, "
            f"e.g. {path}:{example}"
        ]
    )
    return None


# --------------------------------------------------------------------------- CRS


def _metric_crs(geometry: gpd.GeoSeries, source: str, report: _Report) -> pyproj.CRS | None:
    """Return the blocks' CRS if metric, else the UTM zone of their centre."""
    crs = pyproj.CRS.from_user_input(geometry.crs)
    if v.is_metric(crs):
        return crs
    if v.check_degrees(crs, geometry.total_bounds, source, ""):
        return None  # already reported when the layer was read
    present = geometry[~(geometry.isna() | geometry.is_empty)]
    try:
        utm = present.estimate_utm_crs()
    except Exception as exc:
        report.add(
            problems=[
                f"{source}: its CRS {crs.name} is not in metres and no UTM zone could be "
                f"derived from its coordinates ({exc}); reproject the blocks to a metric CRS "
                f"(e.g. `ogr2ogr -t_srs EPSG:32650 ...`)"
            ]
        )
        return None
    report.add(
        notes=[
            f"{source}: CRS {crs.name} is not in metres; working in {utm.name} "
            f"(EPSG:{utm.to_epsg()})"
        ]
    )
    return pyproj.CRS.from_user_input(utm)


def _to_crs(
    frame: gpd.GeoDataFrame, crs: pyproj.CRS | None, source: str, report: _Report
) -> gpd.GeoDataFrame | None:
    """Reproject ``frame`` to ``crs`` (no-op when equal or unknown)."""
    if crs is None or frame.crs is None or pyproj.CRS.from_user_input(frame.crs) == crs:
        return frame
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = frame.to_crs(crs)
    except Exception as exc:
        report.add(
            problems=[
                f"{source}: cannot reproject from {frame.crs.name} to {crs.name}: {exc}; "
                f"check that the layer's CRS matches its coordinates"
            ]
        )
        return None
    report.add(notes=[f"{source}: reprojected from {frame.crs.name} to {crs.name}"])
    report.add(notes=[f"{source}: {w.message}" for w in caught])
    return out


# --------------------------------------------------------------------------- blocks


def _prepare_blocks(
    layer: _Layer,
    households: str,
    residents: str | None,
    where: str | None,
    report: _Report,
) -> tuple[gpd.GeoDataFrame | None, pyproj.CRS | None]:
    """Select, reproject and validate the blocks; return them and the metric CRS."""
    frame = layer.frame
    source = layer.source
    geometry_name = frame.geometry.name
    columns = [str(c) for c in frame.columns if c != geometry_name]
    required = {"--households": households}
    if residents is not None:
        required["--residents"] = residents
    missing = v.check_columns(columns, required, source)
    report.add(problems=missing)

    if where is not None:
        mask = _select(frame.drop(columns=geometry_name), where, source, report)
        if mask is None:
            return None, None
        frame = frame[mask]

    crs: pyproj.CRS | None = None
    if frame.crs is not None:
        crs = _metric_crs(frame.geometry, source, report)
        reprojected = _to_crs(frame, crs, source, report)
        if reprojected is None:
            return None, crs
        frame = reprojected

    # Check every column that exists even when another one is missing.
    counts = pd.Series(0, index=frame.index, dtype="int64")
    if households in columns:
        counts, problems, notes = v.coerce_households(frame[households], source, households)
        report.add(problems, notes)
    values: dict[str, pd.Series] = {"households": counts}
    if residents is not None and residents in columns:
        people, problems, notes = v.coerce_float(frame[residents], source, residents, "--residents")
        report.add(problems, notes)
        values["residents"] = people
    for name, column in (("households", households), ("residents", residents)):
        if name in columns and column not in (None, name):
            report.add(notes=[f"{source}: input column {name!r} replaced by {column!r}"])

    checked = v.check_geometries(
        frame.geometry, source, _ROLE_KINDS["blocks"], droppable=counts == 0, single_kind=True
    )
    report.add(checked.problems, checked.notes)
    if missing:
        return None, crs
    keep = frame.index.difference(checked.dropped, sort=False)
    if keep.empty:
        report.add(problems=[f"{source}: no block has a usable geometry; check the layer"])
        return None, crs
    extras = frame.loc[keep, [c for c in frame.columns if c not in (geometry_name, *values)]]
    data = pd.DataFrame({name: series.loc[keep] for name, series in values.items()}, index=keep)
    result = gpd.GeoDataFrame(
        pd.concat([data, pd.DataFrame(extras)], axis=1),
        geometry=checked.geometry.loc[keep].rename("geometry"),
        crs=frame.crs,
    )
    return result, crs


def _select(table: pd.DataFrame, where: str, source: str, report: _Report) -> pd.Series | None:
    """Evaluate ``where`` on the blocks' attributes; return a boolean mask."""
    listing = ", ".join(str(c) for c in table.columns)
    example = f"{table.columns[0]} == <value>" if len(table.columns) else "column == value"
    error: Exception | None = None
    mask = pd.Series(False, index=table.index)
    try:
        mask = _evaluate(table, where, report)
    except Exception as exc:
        error = exc
    if error is not None or not mask.any():
        # Identifiers are often stored as text ("3024"): retry comparing them as numbers.
        numeric, converted = _numeric_text(table)
        used = [c for c in converted if c in where]
        if used:
            try:
                retry = _evaluate(numeric, where, report)
            except Exception:
                retry = None
            if retry is not None and retry.any():
                report.add(
                    notes=[
                        f"{source}: --where {where!r} compared the text column(s) "
                        f"{', '.join(used)} as numbers"
                    ]
                )
                mask, error = retry, None
    if error is not None:
        report.add(
            problems=[
                f"{source}: --where {where!r} cannot be evaluated: "
                f"{type(error).__name__}: {error}; write a pandas query on the block columns "
                f'({listing}), e.g. --where "{example}" (put names with spaces in `backticks`)'
            ]
        )
        return None
    if not mask.any():
        report.add(
            problems=[
                f"{source}: --where {where!r} selects no block out of {len(table)}; "
                f"check the column and the values (columns: {listing})"
            ]
        )
        return None
    report.add(notes=[f"{source}: --where {where!r} selected {int(mask.sum())} of {len(table)}"])
    return mask


def _evaluate(table: pd.DataFrame, where: str, report: _Report) -> pd.Series:
    """Evaluate a query to a boolean Series aligned with ``table``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = table.eval(where, engine="python")
    report.add(notes=[f"--where {where!r}: {w.message}" for w in caught])
    if (
        not isinstance(result, pd.Series)
        or not result.index.equals(table.index)
        or not pd.api.types.is_bool_dtype(result.dtype)
    ):
        raise TypeError("the expression does not give True or False for each block")
    return result.fillna(False).astype(bool)


def _numeric_text(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Return ``table`` with text columns that hold only numbers converted to numbers."""
    numeric = table.copy()
    converted = []
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        if values.notna().any() and (numbers.notna() == values.notna()).all():
            numeric[column] = numbers
            converted.append(str(column))
    return numeric, converted


# --------------------------------------------------------------------------- other layers


def _prepare_roads(
    layer: _Layer,
    crs: pyproj.CRS | None,
    report: _Report,
    *,
    road_class: str | None,
    major_classes: Sequence[str] | None,
) -> gpd.GeoDataFrame | None:
    """Classify, validate, explode and reproject the roads."""
    frame = layer.frame
    source = layer.source
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    column = road_class
    missing = []
    if column is not None:
        missing = v.check_columns(columns, {"--road-class": column}, source)
        report.add(missing)
        column = None if missing else column
    elif "highway" in columns:
        column = "highway"
    classes = v.classify_roads(frame, source, column, major_classes)
    report.add(notes=classes.notes)
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
    checked = v.check_geometries(frame.geometry, source, _ROLE_KINDS["roads"])
    report.add(checked.problems, checked.notes)
    if checked.problems or missing:
        return None
    keep = checked.geometry.index
    roads = gpd.GeoDataFrame(
        {
            "road_class": classes.road_class.loc[keep].astype(str),
            "major": classes.major.loc[keep].astype(bool),
        },
        geometry=checked.geometry.rename("geometry"),
        crs=frame.crs,
    )
    parts = roads.explode(index_parts=False, ignore_index=True)
    if parts.empty:
        report.add(
            problems=[f"{source} holds no usable road line; give the layer with the road network"]
        )
        return None
    if len(parts) > len(roads):
        report.add(notes=[f"{source}: split multi-part lines into {len(parts)} LineStrings"])
    return _to_crs(parts, crs, source, report)


def _prepare_ids(
    frame: gpd.GeoDataFrame,
    source: str,
    column: str | None,
    default: str,
    option: str,
    report: _Report,
) -> pd.Series | None:
    """Return identifiers as text (from ``column``, ``default`` or row numbers)."""
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    if column is not None:
        problems = v.check_columns(columns, {option: column}, source)
        if problems:
            report.add(problems)
            return None
    elif default in columns:
        column = default
    else:
        report.add(
            notes=[f"{source}: no {default!r} column; features numbered 1..N (use {option})"]
        )
        return pd.Series([str(i + 1) for i in range(len(frame))], index=frame.index, dtype=str)
    ids = frame[column].map(v.as_text).astype(str)
    problems = v.check_unique(ids, source, column, option)
    report.add(problems)
    return None if problems else ids


def _prepare_communities(
    layer: _Layer,
    crs: pyproj.CRS | None,
    report: _Report,
    *,
    id_column: str | None,
    name_column: str | None,
) -> gpd.GeoDataFrame | None:
    """Validate and reproject the existing communities."""
    frame = layer.frame
    source = layer.source
    ids = _prepare_ids(frame, source, id_column, "community_id", "--community-id", report)
    names = None
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    if name_column is None and "name" in columns:
        name_column = "name"
    if name_column is not None:
        problems = v.check_columns(columns, {"--community-name": name_column}, source)
        report.add(problems)
        if not problems:
            names = frame[name_column].map(lambda x: "" if v.as_text(x) == "" else str(x))
    checked = v.check_geometries(frame.geometry, source, _ROLE_KINDS["communities"])
    report.add(checked.problems, checked.notes)
    if ids is None or checked.problems:
        return None
    keep = checked.geometry.index
    data: dict[str, pd.Series] = {"community_id": ids.loc[keep]}
    if names is not None:
        data["name"] = names.loc[keep].astype(str)
    out = gpd.GeoDataFrame(data, geometry=checked.geometry.rename("geometry"), crs=frame.crs)
    return _to_crs(out, crs, source, report)


def _prepare_barriers(
    layer: _Layer, crs: pyproj.CRS | None, report: _Report
) -> gpd.GeoDataFrame | None:
    """Validate and reproject the barriers."""
    checked = v.check_geometries(layer.frame.geometry, layer.source, _ROLE_KINDS["barriers"])
    report.add(checked.problems, checked.notes)
    if checked.problems:
        return None
    out = gpd.GeoDataFrame(geometry=checked.geometry.rename("geometry"), crs=layer.frame.crs)
    return _to_crs(out, crs, layer.source, report)


def _prepare_offices(
    layer: _Layer,
    crs: pyproj.CRS | None,
    report: _Report,
    *,
    id_column: str | None,
    area_column: str | None,
) -> gpd.GeoDataFrame | None:
    """Validate and reproject the community offices."""
    frame = layer.frame
    source = layer.source
    ids = _prepare_ids(frame, source, id_column, "office_id", "--office-id", report)
    area = None
    if area_column is not None:
        columns = [str(c) for c in frame.columns if c != frame.geometry.name]
        problems = v.check_columns(columns, {"--office-area": area_column}, source)
        report.add(problems)
        if not problems:
            area, problems, notes = v.coerce_float(
                frame[area_column], source, area_column, "--office-area", allow_missing=True
            )
            report.add(problems, notes)
    checked = v.check_geometries(frame.geometry, source, _ROLE_KINDS["offices"])
    report.add(checked.problems, checked.notes)
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
    out = gpd.GeoDataFrame(data, geometry=geometry.rename("geometry"), crs=frame.crs)
    return _to_crs(out, crs, source, report)


def _prepare_study_area(
    layer: _Layer, crs: pyproj.CRS | None, report: _Report
) -> gpd.GeoDataFrame | None:
    """Validate and reproject the study-area polygons."""
    checked = v.check_geometries(layer.frame.geometry, layer.source, _ROLE_KINDS["study_area"])
    report.add(checked.problems, checked.notes)
    if checked.problems or checked.geometry.empty:
        if not checked.problems:
            report.add(problems=[f"{layer.source} holds no usable polygon; draw the study area"])
        return None
    out = gpd.GeoDataFrame(geometry=checked.geometry.rename("geometry"), crs=layer.frame.crs)
    return _to_crs(out, crs, layer.source, report)


# --------------------------------------------------------------------------- study area


def _study_area(
    blocks: gpd.GeoDataFrame,
    area_frame: gpd.GeoDataFrame | None,
    layers: dict[str, _Layer],
    report: _Report,
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
                f"{int(loaded.sum()):,} households lie outside the study area {source}; "
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


def _clip_roads(
    roads: gpd.GeoDataFrame,
    area: shapely.Polygon | shapely.MultiPolygon,
    source: str,
    report: _Report,
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


def _check_roads_reach(
    roads: gpd.GeoDataFrame,
    area: shapely.Polygon | shapely.MultiPolygon,
    read: gpd.GeoDataFrame,
    source: str,
) -> list[str]:
    """Report a road layer none of whose lines reaches the study area."""
    if len(roads) and len(roads.sindex.query(area, predicate="intersects")):
        return []
    ax0, ay0, ax1, ay1 = area.bounds
    rx0, ry0, rx1, ry1 = read.total_bounds
    return [
        f"{source}: none of its {len(read)} road lines reaches the study area, so no road can "
        f"bound a unit (study area ({ax0:.0f}, {ay0:.0f}) .. ({ax1:.0f}, {ay1:.0f}), roads "
        f"({rx0:.0f}, {ry0:.0f}) .. ({rx1:.0f}, {ry1:.0f})): give the roads of the same place, "
        f"and check that each layer declares the CRS its coordinates are really in"
    ]


def _keep_intersecting(
    frame: gpd.GeoDataFrame | None,
    area: shapely.Polygon | shapely.MultiPolygon,
    source: str,
    report: _Report,
) -> gpd.GeoDataFrame | None:
    """Keep the features that overlap the study area (lines and polygons: not merely touch it)."""
    if frame is None:
        return None
    geoms = frame.geometry.to_numpy()
    points = np.isin(shapely.get_type_id(geoms), [0, 4])  # Point, MultiPoint
    keep = shapely.intersects(area, geoms) & (points | ~shapely.touches(area, geoms))
    if not keep.all():
        report.add(
            notes=[f"{source}: kept {int(keep.sum())} of {len(frame)} features in the study area"]
        )
    return frame[keep]
