"""Population blocks: ``--where`` selection, household and resident columns, geometry."""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import pandas as pd
import pyproj

from redistrict import _validate as v
from redistrict._load_crs import metric_crs, to_crs
from redistrict._load_read import Layer, Report, attribute_columns, check_role_geometry
from redistrict._load_where import Comparisons, find_comparisons, quoted
from redistrict._validate_columns import format_rows, name_hint
from redistrict._words import counted

__all__ = ["prepare_blocks"]

#: The name pandas' query could not resolve, in its error message.
_UNDEFINED = re.compile(r"name '(?P<name>[^']+)' is not defined")


def prepare_blocks(
    layer: Layer,
    households: str,
    residents: str | None,
    where: str | None,
    report: Report,
) -> tuple[gpd.GeoDataFrame | None, pyproj.CRS | None]:
    """Select, reproject and validate the blocks; return them and the metric CRS."""
    frame = layer.frame
    source = layer.source
    geometry_name = frame.geometry.name
    columns = attribute_columns(frame)
    required = {"--households": households}
    if residents is not None:
        required["--residents"] = residents
    missing = v.check_columns(columns, required, source, hint=layer.column_hint)
    report.add(problems=missing)

    if where is not None:
        mask = _select(frame.drop(columns=geometry_name), where, source, report)
        if mask is None:
            return None, None
        frame = frame[mask]

    crs: pyproj.CRS | None = None
    report.add(problems=_null_island(frame, source))
    if frame.crs is not None:
        crs = metric_crs(frame.geometry, source, report)
        reprojected = to_crs(frame, crs, source, report)
        if reprojected is None:
            return None, crs
        frame = reprojected

    # Check every column that exists even when another one is missing.
    counts = pd.Series(0, index=frame.index, dtype="int64")
    unreadable = False  # the household column has problems of its own: no "0 in every row" too
    if households in columns:
        counts, problems, notes = v.coerce_households(frame[households], source, households)
        report.add(problems, notes)
        unreadable = bool(problems)
    values: dict[str, pd.Series] = {"households": counts}
    if residents is not None and residents in columns:
        people, problems, notes = v.coerce_float(frame[residents], source, residents, "--residents")
        report.add(problems, notes)
        values["residents"] = people
    for name, column in (("households", households), ("residents", residents)):
        if name in columns and column not in (None, name):
            report.add(notes=[f"{source}: input column {name!r} replaced by {column!r}"])
    if residents is None and households != "residents" and "residents" in columns:
        # Without --residents a column of that name is not counted, nor passed on to be taken for one.
        frame = frame.drop(columns="residents")
        unread = f"{source}: column 'residents' is not read; give --residents residents to count it"
        report.add(notes=[unread])

    if households in columns and len(frame) and int(counts.sum()) == 0 and not unreadable:
        chosen = (
            f"the {len(frame)} blocks --where {where!r} selected" if where else f"its {len(frame)} blocks"
        )
        report.add(
            problems=[
                f"{source}: {chosen} hold no households (column {households!r} is 0 in every row); "
                + ("select blocks with households in --where" if where else "check the --households column")
            ]
        )
        return None, crs
    checked = check_role_geometry(
        frame.geometry, source, "blocks", report, droppable=counts == 0, single_kind=True
    )
    # Rows sharing a polygon with other values are warned about with the overlaps
    # (redistrict._validate_geometry.check_overlaps): only exact repeats are problems here.
    problems = v.check_duplicates(frame.geometry, frame.drop(columns=geometry_name), source)
    report.add(problems)
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


def _select(table: pd.DataFrame, where: str, source: str, report: Report) -> pd.Series | None:
    """Evaluate ``where`` on the blocks' attributes; return a boolean mask."""
    listing = ", ".join(str(c) for c in table.columns)
    example = f"{table.columns[0]} == <value>" if len(table.columns) else "column == value"
    found = find_comparisons(where, table)
    if found.numbers:
        return _select_as_numbers(table, where, found, source, report)
    error: Exception | None = None
    mask = pd.Series(False, index=table.index)
    try:
        mask = _evaluate(table, where, report)
    except Exception as exc:
        error = exc
    if error is not None or not mask.any():
        # Comparisons the expression's syntax does not show (a method call on a text column of
        # identifiers, say): retry comparing the text columns of numbers as numbers.
        numeric, converted = _numeric_text(table)
        used = [c for c in converted if c in where]
        if used:
            try:
                retry = _evaluate(numeric, where, report)
            except Exception:
                retry = None
            if retry is not None and retry.any():
                report.add(notes=[_as_numbers_note(source, where, used)])
                mask, error = retry, None
    if error is not None:
        unknown = _UNDEFINED.search(str(error))
        hint = name_hint(unknown["name"], [str(c) for c in table.columns]) if unknown else ""
        guess = f"{hint.strip()}; " if hint else ""
        report.add(
            problems=[
                f"{source}: --where {where!r} cannot be evaluated: "
                f"{type(error).__name__}: {error}; {guess}write a pandas query on the block columns "
                f'({listing}), e.g. --where "{example}" (put names with spaces in `backticks`)'
            ]
        )
        return None
    return _selected(table, where, mask, source, report)


def _select_as_numbers(
    table: pd.DataFrame, where: str, found: Comparisons, source: str, report: Report
) -> pd.Series | None:
    """Evaluate ``where`` with the text columns it compares with numbers read as numbers.

    A column compared with text as well, or holding text that is not a number,
    is a problem that shows how to quote the values instead.
    """
    numeric = table.copy()
    problems = []
    for column in found.numbers:
        values = table[column]
        numbers = pd.to_numeric(values, errors="coerce")
        if column in found.text:
            problems.append(
                f"{source}: --where {where!r} compares the text column {column!r} both with numbers "
                "and with text; quote every value it is compared with, e.g. "
                f'--where "{quoted(found, column)}"'
            )
            continue
        blank = values.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        bad = values[values.notna() & numbers.isna() & ~blank]  # an empty cell is missing, not a word
        if len(bad):
            shown = ", ".join(repr(str(b)) for b in bad.unique()[:3])
            problems.append(
                f"{source}: --where {where!r} compares the text column {column!r} with a number, but "
                f"it holds text that is not a number in {counted(len(bad), 'row')} ({shown}"
                f"{', ...' if bad.nunique() > 3 else ''}); quote the value to compare text, e.g. "
                f'--where "{quoted(found, column)}"'
            )
            continue
        numeric[column] = numbers
    if problems:
        report.add(problems=problems)
        return None
    try:
        mask = _evaluate(numeric, where, report)
    except Exception as exc:
        listing = ", ".join(str(c) for c in table.columns)
        report.add(
            problems=[
                f"{source}: --where {where!r} cannot be evaluated with {', '.join(found.numbers)} read as "
                f"numbers: {type(exc).__name__}: {exc}; to compare the column as text, quote the values "
                f'(--where "{quoted(found, found.numbers[0])}"), or write a pandas query on the block '
                f"columns ({listing})"
            ]
        )
        return None
    report.add(notes=[_as_numbers_note(source, where, found.numbers)])
    return _selected(table, where, mask, source, report)


def _as_numbers_note(source: str, where: str, used: list[str]) -> str:
    """The note that ``where`` compared text columns as numbers."""
    return f"{source}: --where {where!r} compared the text column(s) {', '.join(used)} as numbers"


def _selected(
    table: pd.DataFrame, where: str, mask: pd.Series, source: str, report: Report
) -> pd.Series | None:
    """The mask, with a note of how many blocks it selects; None and a problem when none."""
    if not mask.any():
        listing = ", ".join(str(c) for c in table.columns)
        report.add(
            problems=[
                f"{source}: --where {where!r} selects no block out of {len(table)}; "
                f"check the column and the values (columns: {listing})"
            ]
        )
        return None
    report.add(notes=[f"{source}: --where {where!r} selected {int(mask.sum())} of {len(table)}"])
    return mask


def _evaluate(table: pd.DataFrame, where: str, report: Report) -> pd.Series:
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


def _null_island(frame: gpd.GeoDataFrame, source: str) -> list[str]:
    """Point blocks at longitude 0, latitude 0: addresses that failed to geocode.

    No residential compound lies there, and one such point used to stretch the study
    area round the blocks across half the globe (a unit of 26,000 km² marked ``ok``).
    """
    if frame.crs is None or not pyproj.CRS.from_user_input(frame.crs).is_geographic:
        return []
    geometry = frame.geometry
    points = geometry.geom_type.eq("Point").to_numpy()
    if not points.any():
        return []
    at_zero = points.copy()
    at_zero[points] = (geometry[points].x.to_numpy() == 0) & (geometry[points].y.to_numpy() == 0)
    if not at_zero.any():
        return []
    return [
        f"{source}: {format_rows(frame.index[at_zero])} {'lies' if at_zero.sum() == 1 else 'lie'} at "
        "longitude 0, latitude 0, where no "
        "compound is: the mark of addresses that failed to geocode; give them their coordinates, or "
        "leave them out (e.g. --where with a condition on another column, or delete the rows)"
    ]
