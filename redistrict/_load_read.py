"""Reading the input layers of :func:`redistrict.load.load_inputs`.

``FILE[:LAYER]`` specifications are parsed, the layer holding the geometry kind a
role needs is chosen (OSM files by their GDAL layer names) and read. Problems and
notes are gathered in a :class:`Report` shared by every step of one load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import geopandas as gpd
import pandas as pd
import pyogrio

from redistrict import _validate as v
from redistrict._load_choose import choose_layer
from redistrict._load_csv import TABLE_DRIVERS, coordinate_advice, csv_geometry_crs, csv_points
from redistrict._load_formats import (
    VIRTUAL_FORMS,
    InputPath,
    is_virtual,
    layer_driver,
    missing_driver,
    read_text,
    reason,
)
from redistrict._validate_columns import format_labels
from redistrict.errors import InputError

__all__ = [
    "ROLE_KINDS",
    "Layer",
    "Report",
    "attribute_columns",
    "check_role_geometry",
    "has_column",
    "parse_source",
    "read_layer",
]

#: Geometry kinds each role accepts.
ROLE_KINDS: Final[dict[str, frozenset[str]]] = {
    "roads": frozenset({"line"}),
    "blocks": frozenset({"polygon", "point"}),
    "communities": frozenset({"polygon"}),
    "barriers": frozenset({"line", "polygon"}),
    "offices": frozenset({"point", "polygon"}),
    "study_area": frozenset({"polygon"}),
}

_OSM_SUFFIXES: Final[tuple[str, ...]] = (".osm", ".pbf", ".osm.pbf")


@dataclass
class Layer:
    """One layer as read, before validation."""

    role: str
    #: The file: a :class:`pathlib.Path`, or a GDAL virtual path or URL as the text given.
    path: InputPath
    layer: str
    frame: gpd.GeoDataFrame
    is_osm: bool
    #: Advice added to "column not found" messages (e.g. about a wrong text encoding).
    column_hint: str = ""

    @property
    def label(self) -> str:
        return f"{self.path}:{self.layer}"

    @property
    def absolute_label(self) -> str:
        """``FILE:LAYER`` with the file's absolute path (a GDAL virtual path as given)."""
        path = self.path.resolve() if isinstance(self.path, Path) else self.path
        return f"{path}:{self.layer}"

    @property
    def source(self) -> str:
        return f"{self.role} ({self.label})"


@dataclass
class Report:
    """Problems and notes gathered during one call of :func:`redistrict.load.load_inputs`."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, problems: Sequence[str] = (), notes: Sequence[str] = ()) -> None:
        self.problems.extend(problems)
        self.notes.extend(notes)


def attribute_columns(frame: gpd.GeoDataFrame) -> list[str]:
    """Return the names of a layer's columns other than its geometry, as text."""
    return [str(c) for c in frame.columns if c != frame.geometry.name]


def has_column(
    frame: gpd.GeoDataFrame, option: str, column: str, source: str, report: Report, *, hint: str = ""
) -> bool:
    """Tell whether the column asked for with ``option`` exists; report it when it does not."""
    problems = v.check_columns(attribute_columns(frame), {option: column}, source, hint=hint)
    report.add(problems)
    return not problems


def check_role_geometry(
    geometry: gpd.GeoSeries,
    source: str,
    role: str,
    report: Report,
    *,
    droppable: pd.Series | None = None,
    single_kind: bool = False,
) -> v.GeometryCheck:
    """Check and repair the geometries of a layer for ``role``; report what was found.

    See :func:`redistrict._validate.check_geometries` for the checks and repairs.
    """
    checked = v.check_geometries(
        geometry, source, ROLE_KINDS[role], droppable=droppable, single_kind=single_kind
    )
    report.add(checked.problems, checked.notes)
    return checked


def parse_source(spec: str) -> tuple[InputPath, str | None]:
    r"""Split a ``FILE[:LAYER]`` specification.

    A colon belongs to the file name when the whole text names an existing file;
    otherwise the first colon that ends the name of an existing file separates
    the layer (which may hold colons itself, e.g. ``city.gpkg:db:2021``). Else a
    colon belongs to the file name when it follows a Windows drive letter (``C:\data\x.shp``) or when what
    follows it contains a path separator (URLs). A GDAL virtual path (``/vsizip//data/x.zip/roads.shp``)
    or URL (``zip:///data/x.zip:roads``) is kept as text, as given: :class:`pathlib.Path` would
    collapse its ``//``.

    Parameters
    ----------
    spec : str
        ``"roads.shp"``, ``"city.gpkg:roads"``, ``"C:\data\city.gpkg:roads"``,
        ``"/vsizip//data/x.zip/roads.shp"`` ...

    Returns
    -------
    path : pathlib.Path or str
        The file: a :class:`pathlib.Path`, or the text of a GDAL virtual path or URL.
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
    virtual = is_virtual(text)
    if not virtual:
        if Path(text).exists():
            return Path(text), None
        # The first colon after which an existing file ends: layer names may hold colons too.
        for k, char in enumerate(text):
            if char == ":" and k > 1 and Path(text[:k]).is_file():
                return Path(text[:k]), (text[k + 1 :] or None)
    head, sep, tail = text.rpartition(":")
    drive = len(head) == 1 and head.isalpha()
    if not sep or not head or drive or "/" in tail or "\\" in tail:
        head, tail = text, ""
    return (head if virtual else Path(head)), (tail or None)


def read_layer(role: str, spec: str, report: Report, columns: Sequence[str] = ()) -> Layer | None:
    """Open ``spec`` for ``role``; report and return None when it cannot be read.

    Text that is not valid UTF-8 (a GBK CSV file, a Shapefile whose ``.cpg`` file is
    wrong or whose column name is cut in the middle of a character) and a Shapefile
    without ``.cpg`` file whose text looks mis-decoded are decoded as UTF-8 or
    GB18030 (see :func:`redistrict._load_formats.read_text`); ``columns`` are the
    attribute columns the options ask for (``--households`` ...), which a Shapefile's
    new column names must hold. A CSV file or spreadsheet without geometry but with
    coordinate columns (``lon``/``lat``, ``x``/``y``, ``经度``/``纬度`` ...) is read as
    points when the role accepts them.

    Parameters
    ----------
    role : str
        Role of the layer (``"roads"``, ``"blocks"`` ...).
    spec : str
        ``FILE[:LAYER]`` as given on the command line.
    report : Report
        Where problems and notes go.
    columns : sequence of str, optional
        The attribute columns the options ask for.

    Returns
    -------
    Layer or None
        The layer, or None (with a problem) when it cannot be read.

    """
    option = "--" + role.replace("_", "-")
    try:
        path, layer = parse_source(spec)
    except InputError as exc:
        report.add(problems=[f"{option}: {p}" for p in exc.problems])
        return None
    if isinstance(path, Path) and not path.exists():
        report.add(
            problems=[
                f"{role}: file not found: {path} (given with {option}); check the path "
                f"(use FILE:LAYER to choose a layer)"
            ]
        )
        return None
    is_osm = Path(path).name.lower().endswith(_OSM_SUFFIXES)
    try:
        listing = pyogrio.list_layers(path)
    except Exception as exc:
        report.add(problems=[_unopened(role, option, path, exc)])
        return None
    chosen = choose_layer(role, ROLE_KINDS[role], path, layer, listing, is_osm, report)
    if chosen is None:
        return None
    text = read_text(role, path, chosen, columns, report)
    if text is None:
        return None
    frame = text.frame
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if repeated:
        report.add(
            problems=[
                f"{role} ({path}:{chosen}): column {format_labels(repeated)} appears more than once; "
                "rename the columns so that each has its own name"
            ]
        )
        return None
    if not isinstance(frame, gpd.GeoDataFrame) and "point" in ROLE_KINDS[role]:
        points = csv_points(role, path, chosen, frame, report)
        if points is None:
            return None
        frame = points
    if isinstance(frame, gpd.GeoDataFrame):
        frame = csv_geometry_crs(path, chosen, frame, f"{role} ({path}:{chosen})", report)
    hint = text.hint
    if (
        isinstance(path, Path)
        and path.suffix.lower() == ".shp"
        and not any(path.with_suffix(suffix).exists() for suffix in (".dbf", ".DBF"))
    ):
        missing = f"{path.name} has no .dbf file beside it (the Shapefile's attribute table): copy it there"
        hint = f"{hint}; {missing}" if hint else missing
    read = Layer(role, path, chosen, frame, is_osm, hint)
    if not isinstance(frame, gpd.GeoDataFrame):
        advice = ""
        if "point" in ROLE_KINDS[role] and layer_driver(path, chosen) in TABLE_DRIVERS:
            advice = f"; {coordinate_advice()}; its columns are: {', '.join(str(c) for c in frame.columns)}"
        report.add(
            problems=[
                f"{read.source} has no geometry column; give a layer with "
                f"{v.kind_words(ROLE_KINDS[role])} (export it with its geometry, e.g. as GeoPackage)"
                f"{advice}"
            ]
        )
        return None
    if frame.empty and role in ("roads", "blocks", "study_area"):
        report.add(problems=[f"{read.source} has no features; give the layer holding the {role}"])
        return None
    return read


def _unopened(role: str, option: str, path: InputPath, exc: Exception) -> str:
    """Say why a file could not be opened, and how to give one that can be."""
    missing = missing_driver(path)
    if missing is not None:
        converted = Path(path).with_suffix(".gpkg").name
        return (
            f"{role}: cannot open {path} (given with {option}): this GDAL build (GDAL "
            f"{pyogrio.__gdal_version_string__}) cannot read {missing}; GDAL says: {reason(exc)}; "
            f"convert the file to GeoPackage where it can be read, e.g. `ogr2ogr {converted} "
            f"{Path(path).name}` or in QGIS (Export > Save Features As), and give {converted}"
        )
    forms = f"; {VIRTUAL_FORMS}" if isinstance(path, str) else ""
    return (
        f"{role}: cannot open {path} (given with {option}): {reason(exc)}; give a vector "
        f"file GDAL can read (GeoPackage, Shapefile, GeoJSON, OSM ...){forms}"
    )
