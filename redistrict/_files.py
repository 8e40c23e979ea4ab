"""Files written for the planner: permissions of temporary names, CSV encoding, swaps.

``tempfile.mkdtemp`` and ``tempfile.mkstemp`` create private entries (0700 and
0600) whatever the user's umask. Outputs renamed into place from them would
stay unreadable to colleagues or to a web server serving ``map.html``, unlike
every other file the user writes; :func:`as_if_created` gives them the
permissions a plain ``mkdir`` or ``open`` would have.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import numpy as np
import pandas as pd

__all__ = [
    "as_if_created",
    "held_signals",
    "mark_written",
    "read_text",
    "recover_swaps",
    "remove_tree",
    "write_csv",
    "written_before",
]

_LOG = logging.getLogger(__name__)

#: CSV files start with a UTF-8 byte-order mark: Excel on Chinese Windows opens a CSV
#: without one as GBK and garbles every Chinese name; pandas and GIS tools skip it.
CSV_ENCODING = "utf-8-sig"
#: Decimal places of the numbers in the CSV files (a millionth of a km², m² or household).
CSV_DECIMALS = 6


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as CSV (no index) that Excel opens as UTF-8.

    Decimal numbers are written to :data:`CSV_DECIMALS` places, whole ones without
    a decimal point: ``0.271188`` km², not ``0.27118830967508145``; ``5977``
    residents, not ``5977.0``; a gap of ``1.65e-15`` is ``0.0``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : Path
        The file to write.
    """
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            values = out[column].round(CSV_DECIMALS)
            known = values.dropna()
            exact = bool((np.abs(known) < 2**53).all() and (known == known.round()).all())
            out[column] = values.astype("Int64") if exact else values
    out.to_csv(path, index=False, encoding=CSV_ENCODING)


def _umask() -> int:
    """The process umask.

    Linux reports it in ``/proc/self/status``; elsewhere reading it means setting it, so
    it is set straight back (a moment in which another thread's new files would get 022).
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def as_if_created(path: Path) -> None:
    """Give ``path`` the mode a new folder (0777) or file (0666) gets under the umask.

    Parameters
    ----------
    path : Path
        A folder or file made by :mod:`tempfile`.
    """
    base = 0o777 if path.is_dir() else 0o666
    os.chmod(path, base & ~_umask())


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends (main thread; else a no-op).

    The two renames that swap an output folder into place must not be split by
    Ctrl-C: between them the earlier plan is hidden and the new one not yet there.
    A signal arriving meanwhile is delivered when the block ends, to the handler
    that was in place. (Handlers are swapped rather than the signals blocked: a
    signal sent to the process reaches whichever thread does not block it, such
    as a BLAS or solver thread, and Python runs its handler all the same.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    held = (signal.SIGINT, signal.SIGTERM)
    old = {s: signal.signal(s, hold) for s in held}
    try:
        yield
    finally:
        for s in held:
            signal.signal(s, old[s])
        for signum in received[:1]:  # the first one, as it would have been delivered
            handler = old[signal.Signals(signum)]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)


def read_text(path: Path) -> str:
    """A small text file a planner edited: UTF-8 (a byte-order mark allowed), else GB18030.

    Notepad adds a byte-order mark; Excel and editors on Chinese Windows save GBK.

    Raises
    ------
    OSError
        When the file cannot be read.
    UnicodeDecodeError
        When it is neither UTF-8 nor GB18030.
    """
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def remove_tree(path: Path) -> None:
    """Delete the folder ``path`` left by a run; say so when it cannot be (e.g. read-only)."""
    shutil.rmtree(path, ignore_errors=True)
    if path.exists():
        _LOG.warning(
            "could not delete %s, left by a run of redistrict (its files are read-only, or in use): "
            "delete it by hand",
            path,
        )


#: Attribute of a KeyboardInterrupt that arrived once the output was in place.
_WRITTEN = "redistrict_written"


def mark_written(exc: BaseException, path: Path) -> None:
    """Record on ``exc`` (a held Ctrl-C or SIGTERM) that ``path`` was complete before it arrived."""
    setattr(exc, _WRITTEN, path)


def written_before(exc: BaseException) -> Path | None:
    """The output folder that was complete before ``exc`` arrived (see :func:`mark_written`)."""
    path = getattr(exc, _WRITTEN, None)
    return path if isinstance(path, Path) else None


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (one we may not signal counts as existing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_swaps(final: Path) -> None:
    """Clean up after a run on ``final`` that was killed while writing (e.g. ``kill -9``).

    Its temporary folder (``.NAME.PID.*.tmp``) is removed; an earlier output it
    had moved aside (``.NAME.old-PID``) is put back when ``final`` is missing, else
    removed. Entries of processes still running are left alone.

    Parameters
    ----------
    final : Path
        The output folder (absolute).
    """
    parent = final.parent
    if not parent.is_dir():
        return
    pattern = re.compile(rf"^\.{re.escape(final.name)}\.(?:(\d+)\..*\.tmp|old-(\d+))$")
    for entry in sorted(parent.iterdir()):
        match = pattern.match(entry.name)
        if match is None or not entry.is_dir():
            continue
        pid = int(match.group(1) or match.group(2))
        if pid == os.getpid() or _alive(pid):
            continue
        if match.group(2) and not final.exists():
            os.replace(entry, final)
            _LOG.warning("put back %s, which an interrupted run had moved aside to %s", final, entry.name)
        else:
            remove_tree(entry)
