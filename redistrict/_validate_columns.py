"""Checks of attribute columns: names, household and real-valued numbers, identifiers.

Part of :mod:`redistrict._validate` (see there for the conventions: pure functions
returning problems and notes).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

__all__ = [
    "as_text",
    "check_columns",
    "check_unique",
    "coerce_float",
    "coerce_households",
    "format_labels",
    "format_rows",
    "format_values",
    "misdecoded_names",
    "suggest_names",
]

#: Two Latin-1 supplement characters in a row: a name read with the wrong encoding.
_MISDECODED: Final[re.Pattern[str]] = re.compile("[\u0080-\u00ff]{2}")

#: Tolerance used to accept floating values as whole numbers (e.g. 12.0000000001).
_INTEGRAL_TOLERANCE: Final[float] = 1e-6


#: Most households one block (or point) may hold: a whole large community, such as
#: Yueyang's 98,000-resident 北港, is well below it; larger values are identifiers or codes.
MAX_BLOCK_HOUSEHOLDS = 1_000_000


def format_rows(labels: Iterable[Hashable], limit: int = 5) -> str:
    """Describe a set of rows by their first few index labels and their count.

    Parameters
    ----------
    labels : iterable of hashable
        Index labels of the offending rows, in file order.
    limit : int, default 5
        How many labels to show before summarising the rest.

    Returns
    -------
    str
        For example ``"3 rows (row ids 4, 9, 17, counting from 0)"`` or
        ``"12 rows (row ids 0, 1, 2, 3, 4, ..., counting from 0)"``. The loader's
        index labels are positions in the file counting from 0 (a GeoPackage's
        ``fid``, which QGIS shows, usually counts from 1), so the text says so.

    """
    items = list(labels)
    noun = "row" if len(items) == 1 else "rows"
    ids = "id" if len(items) == 1 else "ids"
    return f"{len(items)} {noun} (row {ids} {format_labels(items, limit)}, counting from 0)"


def format_labels(labels: Iterable[Hashable], limit: int = 5) -> str:
    """List the first few row labels, with ``...`` when there are more.

    Parameters
    ----------
    labels : iterable of hashable
        Index labels.
    limit : int, default 5
        How many labels to show.

    Returns
    -------
    str
        For example ``"0, 1, 2, 3, 4, ..."``.

    """
    items = list(labels)
    shown = ", ".join(str(label) for label in items[:limit])
    return shown + (", ..." if len(items) > limit else "")


def format_values(values: Iterable[Any], limit: int = 3) -> str:
    """Show the first few values (as ``repr``), with ``...`` when there are more.

    Parameters
    ----------
    values : iterable
        The offending values.
    limit : int, default 3
        How many to show.

    Returns
    -------
    str
        For example ``"'a', 2.5, ..."``.

    """
    items = list(values)
    shown = ", ".join(repr(v) for v in items[:limit])
    return shown + (", ..." if len(items) > limit else "")


def suggest_names(name: str, columns: Sequence[str], limit: int = 3) -> list[str]:
    """Return the column names closest to ``name`` (case-insensitive), best first.

    Parameters
    ----------
    name : str
        The name the user asked for.
    columns : sequence of str
        The names that exist.
    limit : int, default 3
        Maximum number of suggestions.

    Returns
    -------
    list of str
        Existing column names that look like ``name``; may be empty.

    """
    lowered = {c.lower(): c for c in sorted(columns, reverse=True)}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.5)
    return [lowered[c] for c in close]


def misdecoded_names(names: Iterable[str]) -> list[str]:
    """Return the names that look decoded with the wrong text encoding.

    A Shapefile written in a multi-byte encoding (GBK, UTF-8 ...) but read as
    Latin-1 shows each character as two or three accented Latin-1 characters
    (``户数`` -> ``»§Êý``, ``é`` -> ``Ã©``). A name is suspect when it holds two
    characters of U+0080..U+00FF in a row; a single accent (``Région``) is not.

    Parameters
    ----------
    names : iterable of str
        Column names as read.

    Returns
    -------
    list of str
        The suspect names, in order.

    """
    return [name for name in names if _MISDECODED.search(name)]


def name_hint(column: str, columns: Sequence[str]) -> str:
    """A "did you mean" for a column name not found, or ``""``.

    Names a Shapefile cut to its first 10 bytes first (explaining the cut), else
    near names.

    Parameters
    ----------
    column : str
        The name given.
    columns : sequence of str
        The columns the layer has.

    Returns
    -------
    str
        E.g. ``"did you mean 'ONS_ID_gen'? (a Shapefile keeps only ...) "``, with a
        trailing space, or ``""``.

    """
    cut = column.encode("utf-8")[:10].decode("utf-8", "ignore")
    if cut != column and cut in columns:
        return (
            f"did you mean {cut!r}? (a Shapefile keeps only the first 10 bytes of a column name, "
            f"so {column!r} is stored as {cut!r}) "
        )
    near = suggest_names(column, columns)
    return f"did you mean {' or '.join(repr(n) for n in near)}? " if near else ""


def check_columns(
    columns: Sequence[str], required: dict[str, str], source: str, *, hint: str = ""
) -> list[str]:
    """Check that every requested column exists.

    Parameters
    ----------
    columns : sequence of str
        Columns present in the layer (without the geometry column).
    required : dict of str to str
        Command-line option -> column name requested through it, e.g.
        ``{"--households": "dburdwell2021"}``.
    source : str
        Human description of the layer, e.g. ``"blocks (a.gpkg:blocks)"``.
    hint : str, optional
        Advice appended to each problem (e.g. how to fix a wrong text encoding).

    Returns
    -------
    list of str
        One problem per missing column, suggesting near names and listing the
        columns that exist.

    """
    problems = []
    listing = ", ".join(columns) if columns else "(none)"
    for option, column in required.items():
        if column in columns:
            continue
        guess = name_hint(column, columns)
        problems.append(
            f"{source}: column {column!r} (given with {option}) not found; {guess}"
            f"pass one of the existing columns with {option}: {listing}" + (f"; {hint}" if hint else "")
        )
    return problems


#: A number whose thousands are separated by commas: ``1,074``, ``12,345.5`` (not ``1,2``).
_GROUPED = r"\s*[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?\s*"


def _numeric_view(
    values: pd.Series, source: str, column: str, option: str
) -> tuple[pd.Series, pd.Series, list[str], list[str]]:
    """Convert a column to float64, reporting text that is not a number.

    Returns the numbers, the mask of rows already reported, problems and notes.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return (
            pd.Series(np.nan, index=values.index, dtype="float64"),
            pd.Series(True, index=values.index),
            [
                f"{source}: column {column!r} holds True/False values, not numbers: "
                f"choose a numeric column with {option}"
            ],
            [],
        )
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("float64"), pd.Series(False, index=values.index), [], []
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    text = values.astype("object")
    given = text.notna() & (text.astype(str).str.strip() != "")
    problems = []
    notes = []
    # Excel's #,##0 format exports 1,074: commas between groups of three digits only.
    grouped = given & numbers.isna() & text.astype(str).str.fullmatch(_GROUPED).fillna(False).astype(bool)
    if grouped.any():
        plain = text[grouped].astype(str).str.replace(",", "").str.strip()
        numbers[grouped] = pd.to_numeric(plain, errors="coerce")
        notes.append(
            f"{source}: column {column!r} separates thousands with commas in "
            f"{format_rows(values.index[grouped])} (e.g. {format_values(text[grouped], 1)}); "
            "read without them"
        )
    bad = given & numbers.isna()
    if bad.any():
        problems.append(
            f"{source}: column {column!r} has text that is not a number in "
            f"{format_rows(values.index[bad])}: {format_values(text[bad])}; "
            f"correct these values or choose another column with {option}"
        )
    elif given.any():
        notes.append(f"{source}: column {column!r} is stored as text; read it as numbers")
    return numbers, bad, problems, notes


def coerce_households(
    values: pd.Series, source: str, column: str, option: str = "--households"
) -> tuple[pd.Series, list[str], list[str]]:
    """Validate a household-count column and convert it to int64.

    Numbers stored as text are accepted (with a note); floats with whole values
    (as in census files) are accepted silently.

    Parameters
    ----------
    values : pandas.Series
        The raw column.
    source : str
        Human description of the layer.
    column : str
        Column name, for messages.
    option : str, default "--households"
        Option through which the column was chosen, for messages.

    Returns
    -------
    counts : pandas.Series
        int64 counts with the same index; rows with problems hold 0.
    problems : list of str
        Non-numeric text, missing, non-finite, negative or fractional values.
    notes : list of str
        Non-fatal observations.

    """
    numbers, text_bad, problems, notes = _numeric_view(values, source, column, option)
    what = f"{source}: column {column!r}"
    missing = numbers.isna() & ~text_bad
    if missing.any():
        problems.append(
            f"{what} is empty in {format_rows(values.index[missing])}: "
            f"fill in the household count (0 where nobody lives)"
        )
    infinite = np.isinf(numbers)
    if infinite.any():
        problems.append(
            f"{what} is infinite in {format_rows(values.index[infinite])}: "
            f"replace with the real household count"
        )
    finite = numbers.where(np.isfinite(numbers))
    negative = finite < 0
    if negative.any():
        problems.append(
            f"{what} is negative in {format_rows(values.index[negative])}: "
            f"{format_values(values[negative])}; household counts must be 0 or more"
        )
    rounded = finite.round()
    fractional = (finite - rounded).abs() > _INTEGRAL_TOLERANCE
    if fractional.any():
        dotted = values[fractional].astype(str).str.fullmatch(r"\s*\d{1,3}(\.\d{3})+\s*")
        thousands = (
            " (if '.' separates thousands there, as in 1.234, remove it)" if bool(dotted.any()) else ""
        )
        problems.append(
            f"{what} has fractional values in {format_rows(values.index[fractional])}: "
            f"{format_values(finite[fractional])}; households are whole numbers: round "
            f"them{thousands} or choose the household-count column with {option}"
        )
    huge = finite > MAX_BLOCK_HOUSEHOLDS
    if huge.any():
        problems.append(
            f"{what} holds more than {MAX_BLOCK_HOUSEHOLDS:,} households in "
            f"{format_rows(values.index[huge])}: {format_values(values[huge])}; no block holds that "
            f"many: if {column!r} is an identifier or a code, choose the household-count column "
            f"with {option}"
        )
    counts = rounded.where(~(negative | fractional | huge), 0).fillna(0).astype("int64")
    return counts, problems, notes


def coerce_float(
    values: pd.Series,
    source: str,
    column: str,
    option: str,
    *,
    allow_missing: bool = False,
) -> tuple[pd.Series, list[str], list[str]]:
    """Validate a non-negative real-valued column and convert it to float64.

    Parameters
    ----------
    values : pandas.Series
        The raw column.
    source : str
        Human description of the layer.
    column : str
        Column name, for messages.
    option : str
        Option through which the column was chosen, for messages.
    allow_missing : bool, default False
        Accept empty values (kept as NaN).

    Returns
    -------
    numbers : pandas.Series
        float64 values with the same index.
    problems : list of str
        Non-numeric text, missing (unless allowed), infinite or negative values.
    notes : list of str
        Non-fatal observations.

    """
    numbers, text_bad, problems, notes = _numeric_view(values, source, column, option)
    what = f"{source}: column {column!r}"
    missing = numbers.isna() & ~text_bad
    if missing.any() and not allow_missing:
        problems.append(
            f"{what} is empty in {format_rows(values.index[missing])}: fill in the values "
            f"or leave out {option}"
        )
    bad = np.isinf(numbers) | (numbers < 0)
    if bad.any():
        problems.append(
            f"{what} is negative or infinite in {format_rows(values.index[bad])}: "
            f"{format_values(numbers[bad])}; values must be finite and 0 or more"
        )
    return numbers, problems, notes


def as_text(value: Any) -> str:
    """Turn a cell into a canonical string: ``""`` for missing, ``"3"`` for 3.0.

    Numbers (also numbers written as text) with a whole value lose their decimal
    part, so that integer ``1``, float ``1.0`` and text ``"1"`` compare equal.

    Parameters
    ----------
    value : object
        A cell value.

    Returns
    -------
    str
        The canonical text.

    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return ""
        return str(int(number)) if number.is_integer() else repr(number)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number.is_integer() and not text.lower().startswith("0x"):
        return str(int(number))
    return text


def check_unique(values: pd.Series, source: str, column: str, option: str) -> list[str]:
    """Check that an identifier column is complete and has no duplicates.

    Parameters
    ----------
    values : pandas.Series
        Identifiers, already converted with :func:`as_text`.
    source : str
        Human description of the layer.
    column : str
        Column name, for messages.
    option : str
        Option through which the column was chosen, for messages.

    Returns
    -------
    list of str
        Problems for empty and for duplicated identifiers.

    """
    problems = []
    empty = values == ""
    if empty.any():
        problems.append(
            f"{source}: identifier column {column!r} is empty in "
            f"{format_rows(values.index[empty])}: give every feature an identifier"
        )
    counts = values[~empty].value_counts()
    duplicated = sorted(counts[counts > 1].index)
    if duplicated:
        rows = values.index[values.isin(duplicated)]
        problems.append(
            f"{source}: identifier column {column!r} has {len(duplicated)} duplicated "
            f"value(s) {format_values(duplicated)} in {format_rows(rows)}: identifiers "
            f"must be unique; merge or renumber these features, or choose another "
            f"column with {option}"
        )
    return problems
