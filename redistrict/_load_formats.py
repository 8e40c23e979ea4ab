"""How files of particular formats are read for :mod:`redistrict._load_read`.

Every layer is read with pyogrio (:func:`read_text`), and its text is checked:

* text that is not valid UTF-8 -- a CSV file saved by Excel on Chinese Windows
  (GBK), a GBK Shapefile whose ``.cpg`` file says UTF-8, a UTF-8 Shapefile whose
  column name was cut in the middle of a character by the 10-byte limit of dBASE
  names -- is read again byte for byte (as Latin-1) and decoded here: as UTF-8
  with the cut names repaired when that works, else as GB18030 (a superset of
  GBK) when the text reads as Chinese;
* a Shapefile read as Latin-1 by GDAL (no ``.cpg`` file, or one naming a
  single-byte encoding) whose column names or values look mis-decoded is decoded
  again in the same way, unless only the names as read hold the columns asked for;
* a CSV file of points usually has coordinate columns rather than a geometry:
  see :mod:`redistrict._load_csv`.

Every change is reported as a note that says how to fix the file.
"""

from __future__ import annotations

import codecs
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from redistrict import _validate as v

if TYPE_CHECKING:
    from redistrict._load_read import Report

__all__ = [
    "VIRTUAL_FORMS",
    "InputPath",
    "TextLayer",
    "dbf_file",
    "is_virtual",
    "layer_driver",
    "missing_driver",
    "read_text",
    "reason",
    "sibling",
]

#: A layer's file: a local path, or a GDAL virtual path or URL (``/vsizip//data/x.zip/roads.shp``,
#: ``zip:///data/x.zip``) kept as the text given, since :class:`pathlib.Path` would collapse its ``//``.
InputPath: TypeAlias = Path | str

#: How a file inside a zip archive is given, for messages.
VIRTUAL_FORMS: Final[str] = (
    "for a file inside a zip archive give ARCHIVE.zip:LAYER, /vsizip//absolute/path/ARCHIVE.zip/FILE.shp, "
    "/vsizip/relative/path/ARCHIVE.zip/FILE.shp or zip:///absolute/path/ARCHIVE.zip:LAYER"
)

#: A URL-style path (``zip://``, ``https://``, ``s3://`` ...): a scheme of two or more characters
#: (``C://`` is a Windows drive).
_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+://")

#: Formats some GDAL builds cannot read, by file suffix: (GDAL driver, format named in messages).
_OPTIONAL_DRIVERS: Final[dict[str, tuple[str, str]]] = {
    ".parquet": ("Parquet", "(Geo)Parquet"),
    ".geoparquet": ("Parquet", "(Geo)Parquet"),
    ".arrow": ("Arrow", "Arrow IPC (Feather)"),
    ".arrows": ("Arrow", "Arrow IPC (Feather)"),
    ".feather": ("Arrow", "Arrow IPC (Feather)"),
    ".ipc": ("Arrow", "Arrow IPC (Feather)"),
    ".xls": ("XLS", "Excel 97-2003 (.xls)"),
    ".dwg": ("CAD", "AutoCAD DWG"),
    ".mdb": ("PGeo", "Personal Geodatabase (.mdb)"),
    ".accdb": ("PGeo", "Personal Geodatabase (.accdb)"),
    ".sqlite": ("SQLite", "SQLite/SpatiaLite"),
    ".gdb": ("OpenFileGDB", "Esri File Geodatabase"),
    ".kmz": ("LIBKML", "KMZ"),
    ".xlsx": ("XLSX", "Excel (.xlsx)"),
    ".ods": ("ODS", "OpenDocument spreadsheet"),
    ".fgb": ("FlatGeobuf", "FlatGeobuf"),
    ".pbf": ("OSM", "OpenStreetMap PBF"),
    ".osm": ("OSM", "OpenStreetMap XML"),
}

#: Encodings tried, in order, for text that does not read as what the file says:
#: (name shown to the user, Python codec).
_ENCODINGS: Final[tuple[tuple[str, str], ...]] = (("UTF-8", "utf-8"), ("GB18030", "gb18030"))

#: Share of the non-ASCII characters of text decoded as GB18030 that must be common
#: Chinese (GB2312: both bytes 0xA1-0xFE) for the decoding to be believed. Latin-1
#: text such as ``Région`` decodes as GB18030 too, but into rare characters.
_COMMON_CHINESE_SHARE: Final[float] = 0.8

#: C1 control characters: Windows-1252 punctuation read as Latin-1 (:func:`_windows_1252`).
_C1: Final = re.compile("[\x80-\x9f]")
#: What a Shapefile's .cpg file may say for an encoding GDAL decodes correctly
#: for Chinese text (upper case, without ``-``/``_``/spaces). Not ``ANSI 936``,
#: which ArcGIS writes but GDAL reads as Latin-1: such files are checked and
#: decoded again like files without a .cpg.
_CHINESE_CPG: Final[frozenset[str]] = frozenset(
    {"UTF8", "GBK", "GB2312", "GB18030", "936", "CP936", "BIG5", "950", "CP950"}
)


@dataclass(frozen=True)
class TextLayer:
    """A layer as read by :func:`read_text`."""

    #: The attributes (and geometry, when the layer has one).
    frame: pd.DataFrame
    #: Advice added to "column not found" messages (e.g. about a wrong text encoding).
    hint: str = ""


# --------------------------------------------------------------------------- reading


def is_virtual(text: str) -> bool:
    """Tell whether a file name is a GDAL virtual path (``/vsizip/...``) or a URL (``zip://...``).

    Parameters
    ----------
    text : str
        The file name as given.

    Returns
    -------
    bool
        True for ``/vsi...`` paths and ``SCHEME://`` URLs, which GDAL opens itself.

    """
    return text.startswith("/vsi") or _URL.match(text) is not None


def _read(path: InputPath, layer: str, **options: str) -> tuple[pd.DataFrame, list[str]]:
    """Read a layer with pyogrio; return it and the warnings given while reading."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame: pd.DataFrame = pyogrio.read_dataframe(path, layer=layer, **options)
    return frame, [str(w.message) for w in caught]


def _unreadable(role: str, path: InputPath, layer: str, exc: Exception) -> str:
    return (
        f"{role}: cannot read layer {layer!r} of {path}: {reason(exc)}; check that the file is "
        f"complete and not corrupt, or export it again (e.g. with ogr2ogr)"
    )


def read_text(
    role: str, path: InputPath, layer: str, columns: Sequence[str], report: Report
) -> TextLayer | None:
    """Read a layer and make sure its text is decoded right; report what was done.

    Parameters
    ----------
    role : str
        Role of the layer (``"blocks"`` ...), for messages.
    path : pathlib.Path or str
        The file (a GDAL virtual path or URL as text).
    layer : str
        The layer to read.
    columns : sequence of str
        The attribute columns the options ask for (``--households`` ...): a Shapefile
        whose text looks mis-decoded is only decoded again when its new column names
        hold them.
    report : Report
        Where problems and notes go.

    Returns
    -------
    TextLayer or None
        The layer, or None (with a problem) when it cannot be read.

    """
    source = f"{role} ({path}:{layer})"
    dbf = dbf_file(path, layer)
    try:
        frame, warned = _read(path, layer)
    except UnicodeDecodeError as exc:  # pyogrio decodes the text itself
        return _read_undecodable(role, path, layer, dbf, exc, report)
    except Exception as exc:
        report.add(problems=[_unreadable(role, path, layer, exc)])
        return None
    report.add(notes=[f"{source}: {message}" for message in warned])
    if dbf is None:
        return TextLayer(frame)
    text = _check_shapefile_text(role, path, layer, dbf, frame, columns, report)
    if text.frame is frame and _cpg_text(dbf)[0] is None:
        return TextLayer(_windows_1252(frame, source, path, report), text.hint)
    return text


def _cpg_text(dbf: Path) -> tuple[Path | None, str | None]:
    """Return the ``.cpg`` file of a Shapefile and what it says (None when absent)."""
    cpg = sibling(dbf, ".cpg")
    if cpg is None:
        return None, None
    try:
        return cpg, cpg.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return cpg, "?"


def _read_undecodable(
    role: str, path: InputPath, layer: str, dbf: Path | None, exc: UnicodeDecodeError, report: Report
) -> TextLayer | None:
    """Read a layer whose text is not what the file says (UTF-8 unless a .cpg says otherwise)."""
    source = f"{role} ({path}:{layer})"
    try:
        raw, warned = _read(path, layer, encoding="ISO-8859-1")
    except Exception:
        report.add(problems=[_unreadable(role, path, layer, exc)])
        return None
    cpg, said = _cpg_text(dbf) if dbf is not None else (None, None)
    recoded = _recode(raw, cut_names=dbf is not None)
    if isinstance(recoded, str):
        if dbf is not None:
            fix = (
                "save it as UTF-8 (e.g. export it from QGIS with encoding UTF-8), or write the "
                f"encoding it is in (e.g. CP1251) into {(cpg or dbf.with_suffix('.cpg')).name}"
            )
        else:
            fix = "save it as UTF-8 (in Excel: Save As, 'CSV UTF-8 (Comma delimited)')"
        report.add(
            problems=[
                f"{role}: cannot read layer {layer!r} of {path}: its text is not UTF-8 "
                + (f"(its .cpg file says {said!r}) " if said else "")
                + f"and not Chinese GB18030 (GBK) either ({recoded}); {fix}"
            ]
        )
        return None
    report.add(notes=[f"{source}: {message}" for message in warned])
    report.add(notes=_cut_notes(source, recoded))
    if recoded.encoding == "UTF-8":
        return TextLayer(recoded.frame)
    example = _example(recoded, shown=False)
    if cpg is not None:
        why = (
            f"although its .cpg file says {said!r}: its text is not valid {said} but reads cleanly "
            f"as GB18030{example}, so the .cpg file is wrong; write GBK into {cpg.name} to fix it"
        )
    elif Path(path).suffix.lower() in (".csv", ".tsv", ".txt"):
        why = (
            f"because it is not UTF-8 text{example}; Excel saves CSV files in GBK on Chinese "
            f"Windows: to be sure it is read right, save it as UTF-8 (in Excel: Save As, "
            f"'CSV UTF-8 (Comma delimited)')"
        )
    else:
        why = f"because it is not UTF-8 text{example}; to be sure it is read right, save it as UTF-8"
    report.add(notes=[f"{source}: read {path} as GB18030 (GBK) text {why}"])
    return TextLayer(recoded.frame)


def _check_shapefile_text(
    role: str,
    path: InputPath,
    layer: str,
    dbf: Path,
    frame: pd.DataFrame,
    columns: Sequence[str],
    report: Report,
) -> TextLayer:
    """Decode a Shapefile read as Latin-1 again when its text looks mis-decoded."""
    source = f"{role} ({path}:{layer})"
    cpg, said = _cpg_text(dbf)
    if said is not None and _normal(said) in _CHINESE_CPG:
        return TextLayer(frame)
    names = _attribute_names(frame)
    suspect_names = v.misdecoded_names(names)
    if not suspect_names and not any(v.misdecoded_names(values) for _, _, values in _texts(frame)):
        return TextLayer(frame)
    hint = (
        "the names look mis-decoded: if the file is in Chinese encoding, add a .cpg file "
        "containing GBK beside the .shp (for another encoding, its name, e.g. CP1251)"
        if suspect_names
        else ""
    )
    try:
        raw, _ = _read(path, layer, encoding="ISO-8859-1")
    except Exception:
        return TextLayer(frame, hint)
    recoded = _recode(raw, cut_names=True)
    if isinstance(recoded, str):
        return TextLayer(frame, hint)
    new_names = _attribute_names(recoded.frame)
    code = "GBK" if recoded.encoding == "GB18030" else "UTF-8"
    told = "GB18030 (GBK)" if recoded.encoding == "GB18030" else "UTF-8"
    missing = [c for c in columns if c not in new_names]
    if missing:
        if all(c in names for c in columns):
            report.add(
                notes=[
                    f"{source}: its text looks like {told} read as Latin-1{_example(recoded)}, but "
                    f"it is kept as read since the columns asked for are named so; if it is "
                    f"{told}, add a .cpg file containing {code} beside the .shp and give the "
                    f"real column names"
                ]
            )
            return TextLayer(frame)
        if hint:
            hint += f"; read as {told}, its columns are: {', '.join(new_names)}"
        return TextLayer(frame, hint)
    if cpg is None:
        why = f"because it has no .cpg file; add a .cpg file containing {code} to say so"
    else:
        why = (
            f"although its .cpg file says {said!r}: read so, its text is mis-decoded; "
            f"write {code} into {cpg.name} to fix it"
        )
    report.add(notes=[f"{source}: read {path} as {told} text {why}{_example(recoded)}"])
    report.add(notes=_cut_notes(source, recoded))
    return TextLayer(recoded.frame)


def _normal(encoding: str) -> str:
    """Upper-case an encoding name and drop ``-``, ``_`` and spaces (``utf-8`` -> ``UTF8``)."""
    return encoding.upper().replace("-", "").replace("_", "").replace(" ", "")


# --------------------------------------------------------------------------- decoding


@dataclass(frozen=True)
class _Recoded:
    """A layer read as Latin-1 and decoded again."""

    frame: pd.DataFrame
    #: ``"UTF-8"`` or ``"GB18030"``.
    encoding: str
    #: Column names cut in the middle of a character: (as stored, with U+FFFD for the
    #: cut character; as now named).
    cut: tuple[tuple[str, str], ...]
    #: A changed text: (column, as read as Latin-1, as decoded), names before values.
    example: tuple[str, str, str] | None


def _attribute_names(frame: pd.DataFrame) -> list[str]:
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    return [str(c) for c in frame.columns if c != geometry]


def _texts(frame: pd.DataFrame) -> Iterator[tuple[int, str, list[str]]]:
    """Yield (position, name, distinct text values) of each text column but the geometry."""
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]
        if name == geometry:
            continue
        if isinstance(column.dtype, pd.StringDtype):
            yield position, str(name), list(column.dropna().unique())
        elif column.dtype == object:
            # Object columns may hold other values, some of them unhashable (lists).
            text = column[[isinstance(t, str) for t in column]]
            yield position, str(name), list(text.unique())


def _decode(raw: bytes, codec: str, *, cut: bool) -> tuple[str, bool] | None:
    """Decode ``raw``; with ``cut``, a last character cut short is dropped.

    Returns the text and whether a character was dropped, or None when ``raw`` is not
    valid in ``codec``.
    """
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        text = decoder.decode(raw, final=False)
    except UnicodeDecodeError:
        return None
    pending = decoder.getstate()[0]
    if not pending:
        return text, False
    # The GB18030 decoder keeps any byte pending; only 0x81-0xFE start a character.
    if cut and text.strip() and 0x81 <= pending[0] <= 0xFE:
        return text, True
    return None


def _common_chinese(texts: Sequence[str]) -> bool:
    """Tell whether text decoded as GB18030 is mostly common Chinese characters."""
    common = rare = 0
    for text in texts:
        for char in text:
            if ord(char) < 0x80:
                continue
            code = char.encode("gb18030")
            if len(code) == 2 and code[0] >= 0xA1 and code[1] >= 0xA1:
                common += 1
            else:
                rare += 1
    return common > 0 and common >= _COMMON_CHINESE_SHARE * (common + rare)


def _unique(name: str, taken: set[str]) -> str:
    """Return ``name`` or, when it is taken or empty, ``name_2``, ``name_3`` ..."""
    base = name or "column"
    if name and name not in taken:
        return name
    number = 2
    while f"{base}_{number}" in taken:
        number += 1
    return f"{base}_{number}"


def _row_of(frame: pd.DataFrame, position: int, value: str) -> str:
    """Return the row id (as text) of the first row of a column holding ``value``."""
    column = frame.iloc[:, position]
    return str(column.index[int(np.argmax((column == value).to_numpy(dtype=bool)))])


def _decode_names(names: Sequence[bytes], codec: str, *, cut: bool) -> tuple[list[str], list[str]] | str:
    """Decode column names; return them and, for each cut one, how it is stored (or a failure)."""
    decoded: list[str] = []
    stored: list[str] = []
    taken: set[str] = set()
    for code in names:
        result = _decode(code, codec, cut=cut)
        if result is None:
            return f"e.g. the column name {code.decode(codec, errors='replace')!r}"
        new = _unique(result[0], taken)
        taken.add(new)
        decoded.append(new)
        stored.append(code.decode(codec, errors="replace") if result[1] else "")
    return decoded, stored


def _decode_values(
    raw: pd.DataFrame, texts: Sequence[tuple[int, str, list[str]]], codec: str
) -> list[dict[str, str]] | str:
    """Decode the text values (read as Latin-1) of each text column; return them or a failure."""
    tables: list[dict[str, str]] = []
    for position, name, values in texts:
        table = {}
        for value in values:
            code = value.encode("latin-1")
            try:
                table[value] = code.decode(codec)
            except UnicodeDecodeError:
                shown = code.decode(codec, errors="replace")
                return f"e.g. column {name!r}, row id {_row_of(raw, position, value)}: {shown!r}"
        tables.append(table)
    return tables


def _windows_1252(frame: pd.DataFrame, source: str, path: InputPath, report: Report) -> pd.DataFrame:
    """Decode again as Windows-1252 the text of a Shapefile read as Latin-1 that holds C1 codes.

    Without a ``.cpg`` file GDAL reads a Shapefile as Latin-1, which turns the
    punctuation of Windows-1252 (the usual Western single-byte encoding: ``—``,
    ``“``, ``’``, ``€``) into invisible control characters (U+0080-U+009F) that
    no real text holds. Texts holding one are decoded as Windows-1252, the
    others are left as read.
    """
    names = _attribute_names(frame)
    texts = list(_texts(frame))
    table: dict[str, str] = {}
    for text in [*names, *(t for _, _, values in texts for t in values)]:
        if _C1.search(text):
            try:
                table[text] = text.encode("latin-1").decode("cp1252")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue  # a byte Windows-1252 leaves undefined: not Windows-1252
    if not table:
        return frame
    out = _retext(frame, texts, [table] * len(texts), [table.get(n, n) for n in names])
    before, after = next(iter(table.items()))
    report.add(
        notes=[
            f"{source}: read {path} as Windows-1252 text because it has no .cpg file and, read as "
            f"Latin-1, its punctuation would be control characters (e.g. {after!r}, not {before!r}); "
            "add a .cpg file containing 1252 to say so"
        ]
    )
    return out


def _recode(raw: pd.DataFrame, *, cut_names: bool) -> _Recoded | str:
    """Decode the text of a layer read as Latin-1 (byte for byte) as UTF-8, else GB18030.

    Parameters
    ----------
    raw : pandas.DataFrame
        The layer, read with ``encoding="ISO-8859-1"`` (Latin-1).
    cut_names : bool
        Whether column names may end in a character cut short (dBASE names).

    Returns
    -------
    _Recoded or str
        The decoded layer, or a description of the first text that is not UTF-8.

    """
    names = _attribute_names(raw)
    texts = list(_texts(raw))
    try:
        raw_names = [name.encode("latin-1") for name in names]
        for _, _, values in texts:
            for value in values:
                value.encode("latin-1")
    except UnicodeEncodeError:
        return "its text does not read back byte for byte"
    failures: list[str] = []
    for encoding, codec in _ENCODINGS:
        named = _decode_names(raw_names, codec, cut=cut_names)
        if isinstance(named, str):
            failures.append(named)
            continue
        tables = _decode_values(raw, texts, codec)
        if isinstance(tables, str):
            failures.append(tables)
            continue
        decoded, stored = named
        if codec != "utf-8" and not _common_chinese(decoded + [t for m in tables for t in m.values()]):
            failures.append("as GB18030 it does not read as Chinese")
            continue
        frame = _retext(raw, texts, tables, decoded)
        cut = tuple((s, d) for s, d in zip(stored, decoded, strict=True) if s)
        return _Recoded(frame, encoding, cut, _changed(names, decoded, texts, tables))
    return failures[0]


def _retext(
    frame: pd.DataFrame,
    texts: Sequence[tuple[int, str, list[str]]],
    tables: Sequence[dict[str, str]],
    names: Sequence[str],
) -> pd.DataFrame:
    """A copy of ``frame`` with its text re-decoded.

    Each text column of ``texts`` (from :func:`_texts`) has its values replaced by
    its table (values not in it are kept), and the attribute columns are renamed
    to ``names``, in order.
    """
    out = frame.copy()
    for (position, _, _), table in zip(texts, tables, strict=True):
        column = out.iloc[:, position]
        changed = column.map(lambda t, m=table: m.get(t, t) if isinstance(t, str) else t)  # type: ignore[misc]
        out.isetitem(position, changed.astype(column.dtype).to_numpy())
    return out.rename(columns=dict(zip(_attribute_names(frame), names, strict=True)))


def _changed(
    names: Sequence[str],
    decoded: Sequence[str],
    texts: Sequence[tuple[int, str, list[str]]],
    tables: Sequence[dict[str, str]],
) -> tuple[str, str, str] | None:
    """Return an example of a changed text: (column, as read as Latin-1, as decoded)."""
    for name, new in zip(names, decoded, strict=True):
        if name != new:
            return name, name, new
    for (_, name, _), table in zip(texts, tables, strict=True):
        for before, after in table.items():
            if before != after:
                return name, before, after
    return None


def _example(recoded: _Recoded, *, shown: bool = True) -> str:
    """Return `` (e.g. ...)`` naming a text that changed; with ``shown``, also as it was shown."""
    if recoded.example is None:
        return ""
    column, before, after = recoded.example
    text = f"the column name {after!r}" if column == before else f"{after!r} in column {column!r}"
    return f" (e.g. {text}, not {before!r})" if shown else f" (e.g. {text})"


def _cut_notes(source: str, recoded: _Recoded) -> list[str]:
    """Notes on column names cut in the middle of a character."""
    size = 3 if recoded.encoding == "UTF-8" else 2
    return [
        f"{source}: the column name {stored!r} is cut in the middle of a character, since a "
        f"Shapefile (.dbf) column name holds at most 10 bytes and a Chinese character takes {size} "
        f"of them in {recoded.encoding}; it is read as {named!r}: give that name to the options, "
        f"or keep full names by using a GeoPackage, or rename the column in the source to at most "
        f"{10 // size} Chinese characters"
        for stored, named in recoded.cut
    ]


# --------------------------------------------------------------------------- Shapefiles


def sibling(path: Path, suffix: str) -> Path | None:
    """Return the file beside ``path`` with the same stem and ``suffix`` (any case)."""
    try:
        for candidate in path.parent.iterdir():
            if candidate.stem == path.stem and candidate.suffix.lower() == suffix:
                return candidate
    except OSError:
        return None
    return None


def dbf_file(path: InputPath, layer: str) -> Path | None:
    """Return the ``.dbf`` file of a Shapefile layer (None for other formats and virtual paths).

    Parameters
    ----------
    path : pathlib.Path or str
        The file (or folder of Shapefiles) given; a GDAL virtual path (text) has no
        ``.dbf`` file this module can read beside it.
    layer : str
        The layer read.

    Returns
    -------
    pathlib.Path or None
        The ``.dbf`` file, or None.

    """
    if isinstance(path, str):
        return None
    if path.is_dir():
        return sibling(path / f"{layer}.shp", ".dbf")
    if path.suffix.lower() in (".shp", ".dbf"):
        return sibling(path, ".dbf")
    return None


def layer_driver(path: InputPath, layer: str) -> str | None:
    """Return the GDAL driver reading a layer (``"CSV"`` ...), or None when unknown.

    Parameters
    ----------
    path : pathlib.Path or str
        The file.
    layer : str
        The layer.

    Returns
    -------
    str or None
        The driver's short name.

    """
    try:
        # Latin-1 reads any bytes: the column names do not matter here.
        driver = pyogrio.read_info(path, layer=layer, encoding="ISO-8859-1")["driver"]
    except Exception:
        return None
    return str(driver) if driver else None


def missing_driver(path: InputPath) -> str | None:
    """Say which format a file that GDAL could not open is in when this GDAL build lacks its driver.

    Parameters
    ----------
    path : pathlib.Path or str
        The file.

    Returns
    -------
    str or None
        ``"(Geo)Parquet files (it has no Parquet driver)"`` ..., or None when the file's
        suffix names no format known to be left out of some GDAL builds, or when its
        driver is there.

    """
    known = _OPTIONAL_DRIVERS.get(Path(path).suffix.lower())
    if known is None:
        return None
    driver, name = known
    try:
        available = pyogrio.list_drivers()
    except Exception:
        return None
    if driver in available:
        return None
    return f"{name} files (it has no {driver} driver)"


def reason(exc: Exception) -> str:
    """Return an exception's message without trailing punctuation.

    Parameters
    ----------
    exc : Exception
        The exception.

    Returns
    -------
    str
        Its message, or its type's name when it has none.

    """
    return str(exc).strip().rstrip(".;") or type(exc).__name__
