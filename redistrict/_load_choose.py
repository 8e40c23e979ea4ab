"""Choosing the layer of a file to read for a role (:func:`choose_layer`).

When ``FILE:LAYER`` does not name the layer and the file holds several, the layer
holding the geometry kind the role needs is read. A layer declared with a generic
geometry type (``Unknown``: a GeoPackage ``GEOMETRY`` column, a CSV file's WKT
column) says nothing about its kind, so the kinds of its first features are looked
at: such a layer is never passed over for a declared one without a look.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Final

import numpy as np
import pyogrio

from redistrict import _validate as v
from redistrict._load_formats import InputPath

if TYPE_CHECKING:
    from redistrict._load_read import Report

__all__ = ["choose_layer"]

#: Layer of an OSM file (GDAL OSM driver) preferred for each geometry kind.
_OSM_LAYERS: Final[dict[str, str]] = {
    "line": "lines",
    "polygon": "multipolygons",
    "point": "points",
}

#: Features of a layer of generic geometry type whose kinds are looked at.
_SAMPLED: Final[int] = 100

#: Parts of layer names (lower case) that suggest a role, best first: the layer
#: suggested in messages is the one whose name holds the earliest of them.
_ROLE_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "roads": ("road", "street", "highway", "道路", "路"),
    "blocks": ("block", "household", "population", "街区", "地块", "人口"),
    "communities": ("communit", "neighbo", "社区"),
    "barriers": ("barrier", "river", "rail", "water", "河", "铁路"),
    "offices": ("office", "办公"),
    "study_area": ("study", "area", "boundary", "outline", "范围", "边界"),
}


def _sampled_kinds(path: InputPath, layer: str) -> frozenset[str] | None:
    """Return the geometry kinds of a layer's first features (None when it cannot be read)."""
    try:
        with warnings.catch_warnings():
            # e.g. "geometry column type ... is not consistent": said again when the layer is read
            warnings.simplefilter("ignore")
            frame = pyogrio.read_dataframe(path, layer=layer, columns=[], max_features=_SAMPLED)
    except Exception:
        return None
    return frozenset(k for k in map(v.geometry_kind, frame.geom_type.dropna()) if k is not None)


def _describe(name: str, declared: str | None, sampled: Mapping[str, frozenset[str] | None]) -> str:
    """Describe a layer's geometry type: ``Polygon``, ``Unknown: lines`` ...

    ``sampled`` holds the kinds found in the first features of the generic layers
    looked at (None for a layer that could not be read).
    """
    if declared is None:
        return "no geometry"
    if name not in sampled:
        return declared
    kinds = sampled[name]
    if kinds is None:
        return f"{declared}: unreadable"
    found = " and ".join(v.kind_words([k]) for k in sorted(kinds)) if kinds else "no features"
    return f"{declared}: {found}"


def _best_named(role: str, names: Sequence[str]) -> str:
    """Return the name among ``names`` that suggests ``role`` best (the first one on a tie)."""
    words = _ROLE_WORDS[role]

    def rank(name: str) -> int:
        lowered = name.lower()
        return next((k for k, word in enumerate(words) if word in lowered), len(words))

    return min(names, key=rank)


def choose_layer(
    role: str,
    kinds: Collection[str],
    path: InputPath,
    layer: str | None,
    listing: np.ndarray,
    is_osm: bool,
    report: Report,
) -> str | None:
    """Pick the layer to read for ``role``; report and return None when it cannot be told.

    Parameters
    ----------
    role : str
        Role of the layer (``"roads"``, ``"blocks"`` ...).
    kinds : collection of str
        Geometry kinds the role accepts (``"line"`` ...).
    path : pathlib.Path or str
        The file.
    layer : str or None
        The layer given with ``FILE:LAYER``, if any.
    listing : numpy.ndarray
        The file's layers as :func:`pyogrio.list_layers` gives them: rows of name and
        declared geometry type.
    is_osm : bool
        Whether the file is an OSM file (its layers are chosen by their GDAL names).
    report : Report
        Where problems and notes go.

    Returns
    -------
    str or None
        The layer, or None (with a problem) when it is not in the file or when none
        or several of the layers hold the kinds asked for.

    """
    names = [str(row[0]) for row in listing]
    types = [None if row[1] is None else str(row[1]) for row in listing]
    if layer is not None and layer in names:
        return layer
    if layer is None and len(names) == 1:
        return names[0]
    # Generic layers (declared Unknown, GeometryCollection ...) by the kinds of their first features;
    # not an OSM file's other_relations, which come last in the file: its layers go by their names.
    sampled = {
        n: _sampled_kinds(path, n)
        for n, t in zip(names, types, strict=True)
        if t is not None and v.geometry_kind(t) is None and not is_osm
    }
    described = ", ".join(f"{n} ({_describe(n, t, sampled)})" for n, t in zip(names, types, strict=True))
    if layer is not None:
        report.add(
            problems=[
                f"{role}: {path} has no layer {layer!r}; its layers are: {described}; "
                f"write FILE:LAYER with one of them"
            ]
        )
        return None
    wanted = set(kinds)
    candidates = [
        n
        for n, t in zip(names, types, strict=True)
        if ((sampled[n] or set()) if n in sampled else {v.geometry_kind(t)}) & wanted
    ]
    if is_osm:
        preferred = [_OSM_LAYERS[k] for k in ("polygon", "line", "point") if k in wanted]
        candidates = [n for n in preferred if n in names][:1] or candidates
    if len(candidates) == 1:
        report.add(
            notes=[f"{role}: read layer {candidates[0]!r} of {path} ({len(names)} layers: {described})"]
        )
        return candidates[0]
    shown = candidates or [n for n, t in zip(names, types, strict=True) if t] or names
    example = _best_named(role, shown) if shown else "LAYER"
    report.add(
        problems=[
            f"{role}: {path} has {len(names)} layers and {len(candidates) or 'none'} of them "
            f"hold {v.kind_words(kinds)}: {described}; choose one with FILE:LAYER, "
            f"e.g. {path}:{example}"
        ]
    )
    return None
