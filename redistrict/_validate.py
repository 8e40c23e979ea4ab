"""Reusable input checks used by :mod:`redistrict.load`.

Every function here is pure: it never raises for bad data and never mutates its
arguments. Problems the user must fix are returned as a list of strings (one per
problem, each naming the source, column or rows and saying how to fix it); harmless
observations are returned as *notes* for the run log. The caller gathers the
problems of every check and raises a single :class:`~redistrict.errors.InputError`.

The checks live in topical modules and are gathered here: :mod:`redistrict._validate_columns`
(column names, numbers, identifiers), :mod:`redistrict._validate_crs` (coordinate reference
systems), :mod:`redistrict._validate_geometry` (geometry kinds, checks and repairs) and
:mod:`redistrict._validate_roads` (road classes, gaps at road ends).
"""

from __future__ import annotations

from redistrict._validate_columns import (
    as_text,
    check_columns,
    check_unique,
    coerce_float,
    coerce_households,
    format_labels,
    format_rows,
    misdecoded_names,
    suggest_names,
)
from redistrict._validate_crs import check_crs, check_degrees, is_metric
from redistrict._validate_geometry import (
    GeometryCheck,
    check_duplicates,
    check_geometries,
    check_overlaps,
    geometry_kind,
    kind_words,
    polygonal_part,
)
from redistrict._validate_roads import (
    OSM_MAJOR_HIGHWAYS,
    ROAD_CLASS_COLUMNS,
    RoadClasses,
    check_road_gaps,
    classify_roads,
)

__all__ = [
    "OSM_MAJOR_HIGHWAYS",
    "ROAD_CLASS_COLUMNS",
    "GeometryCheck",
    "RoadClasses",
    "as_text",
    "check_columns",
    "check_crs",
    "check_degrees",
    "check_duplicates",
    "check_geometries",
    "check_overlaps",
    "check_road_gaps",
    "check_unique",
    "classify_roads",
    "coerce_float",
    "coerce_households",
    "format_labels",
    "format_rows",
    "geometry_kind",
    "is_metric",
    "kind_words",
    "misdecoded_names",
    "polygonal_part",
    "suggest_names",
]
