"""Road classes and which of them count as major; part of :mod:`redistrict._validate`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import pandas as pd

from redistrict._validate_columns import as_text, format_values

__all__ = ["OSM_MAJOR_HIGHWAYS", "RoadClasses", "classify_roads"]

#: OSM ``highway`` values counted as major roads when no mapping is given.
OSM_MAJOR_HIGHWAYS: Final[frozenset[str]] = frozenset(
    base + suffix
    for base in ("motorway", "trunk", "primary", "secondary", "tertiary")
    for suffix in ("", "_link")
)


@dataclass
class RoadClasses:
    """Outcome of :func:`classify_roads`.

    Attributes
    ----------
    road_class : pandas.Series
        Class of every road as text (``""`` when unknown).
    major : pandas.Series
        True for major roads.
    notes : list of str
        How the major roads were chosen, for the run log.
    problems : list of str
        ``major_classes`` that cannot be applied (none of them occurs, or there is
        no class column).

    """

    road_class: pd.Series
    major: pd.Series
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def classify_roads(
    roads: pd.DataFrame,
    source: str,
    column: str | None,
    major_classes: Sequence[str] | None,
) -> RoadClasses:
    """Derive ``road_class`` (text) and ``major`` (bool) for every road.

    Rules, in order:

    * no class column -> every road minor (a problem when ``major_classes`` is given);
    * ``major_classes`` given -> major where the class matches one of them, compared
      as canonical text (:func:`as_text`), so ``"1"`` matches ``1`` and ``1.0``;
      a problem when none of them occurs (a typo would make every road minor), a
      note naming those that do not occur when only some do;
    * numeric classes -> major where the class ranks bigger (numerically smaller)
      than the most frequent class, e.g. Ottawa ``RANK`` 1..5 -> 1, 2, 3, 4;
    * otherwise OSM ``highway`` classes motorway, trunk, primary, secondary,
      tertiary and their ``_link`` roads are major.

    Parameters
    ----------
    roads : pandas.DataFrame
        The roads table.
    source : str
        Human description of the roads layer.
    column : str or None
        Class column of ``roads``, or None when there is none.
    major_classes : sequence of str, optional
        Classes to count as major.

    Returns
    -------
    RoadClasses
        Classes, major flags, notes and problems.

    """
    if column is None:
        unknown = pd.Series("", index=roads.index, dtype=object)
        minor = pd.Series(False, index=roads.index, dtype=bool)
        if major_classes is not None:
            return RoadClasses(
                unknown,
                minor,
                problems=[
                    f"{source}: --major-classes {', '.join(major_classes)} was given but the "
                    f"roads have no class column (no 'highway' column and none given with "
                    f"--road-class): name the column holding the classes with --road-class"
                ],
            )
        return RoadClasses(
            unknown,
            minor,
            [
                f"{source}: no road class column (no 'highway' column and none given with "
                f"--road-class): every road counts as minor"
            ],
        )
    values = roads[column]
    keys = values.map(as_text).astype(object)
    if pd.api.types.is_numeric_dtype(values.dtype):
        stored = keys
    else:
        stored = values.map(lambda v: "" if as_text(v) == "" else str(v).strip()).astype(object)
    notes: list[str] = []
    present = sorted(set(keys[keys != ""]))
    if major_classes is not None:
        wanted = {as_text(c) for c in major_classes} - {""}
        missing = sorted(wanted - set(present))
        if not wanted or len(missing) == len(wanted):
            given = ", ".join(str(c).strip() for c in major_classes if as_text(c)) or "(empty)"
            return RoadClasses(
                stored,
                pd.Series(False, index=roads.index, dtype=bool),
                problems=[
                    f"{source}: --major-classes {given} matches none of the road classes in "
                    f"column {column!r} ({_class_counts(keys)}): give classes that occur, "
                    f"separated by commas"
                ],
            )
        if missing:
            notes.append(
                f"{source}: major class(es) {format_values(missing, 10)} given with "
                f"--major-classes do not occur in column {column!r} (present: "
                f"{format_values(present, 20)}); check them for typos"
            )
        major = keys.isin(sorted(wanted))
        notes.append(
            f"{source}: {int(major.sum())} roads with {column!r} in "
            f"{format_values(sorted(wanted), 20)} count as major"
        )
        return RoadClasses(stored, major.astype(bool), notes)
    numeric = _as_numbers(present)
    if numeric is not None:
        numbers = keys.map(lambda k: float(k) if k else math.nan).astype("float64")
        freq = numbers.value_counts()
        top = max(float(str(value)) for value, n in freq.items() if n == freq.max())
        major = numbers < top
        bigger = [as_text(v) for v in sorted(set(numbers[major]))]
        notes.append(
            f"{source}: column {column!r} holds numeric classes and --major-classes was not "
            f"given: classes ranking above the most frequent class {as_text(top)} "
            f"({', '.join(bigger) if bigger else 'none'}) count as major "
            f"({int(major.sum())} roads); pass --major-classes to choose"
        )
        return RoadClasses(stored, major.astype(bool), notes)
    major = keys.isin(sorted(OSM_MAJOR_HIGHWAYS))
    notes.append(
        f"{source}: OSM classes motorway, trunk, primary, secondary, tertiary (and _link) in "
        f"column {column!r} count as major ({int(major.sum())} roads)"
    )
    if not major.any() and column != "highway":
        notes.append(
            f"{source}: no value of {column!r} is an OSM major class, so every road is minor; "
            f"pass --major-classes (present classes: {format_values(present, 20)})"
        )
    return RoadClasses(stored, major.astype(bool), notes)


def _class_counts(keys: pd.Series, limit: int = 20) -> str:
    """Describe the classes present with their road counts: ``"1: 12 roads, 2: 40, ..."``.

    Numeric classes are listed in numeric order, text classes from the most frequent.
    """
    counts = keys[keys != ""].value_counts()
    if counts.empty:
        return "no road has a class"
    names = [str(k) for k in counts.index]
    numbers = _as_numbers(names)
    if numbers is not None:
        order = sorted(range(len(names)), key=lambda i: numbers[i])
    else:
        order = sorted(range(len(names)), key=lambda i: (-int(counts.iloc[i]), names[i]))
    parts = [f"{names[i]}: {int(counts.iloc[i])}" for i in order[:limit]]
    parts[0] += " road" if int(counts.iloc[order[0]]) == 1 else " roads"
    return ", ".join(parts) + (", ..." if len(order) > limit else "")


def _as_numbers(keys: Sequence[str]) -> list[float] | None:
    """Return the keys as finite floats, or None if any is not a number."""
    if not keys:
        return None
    numbers = []
    for k in keys:
        try:
            number = float(k)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        numbers.append(number)
    return numbers
