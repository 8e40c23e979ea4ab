"""Files written for the planner: permissions of temporary names, CSV encoding.

``tempfile.mkdtemp`` and ``tempfile.mkstemp`` create private entries (0700 and
0600) whatever the user's umask. Outputs renamed into place from them would
stay unreadable to colleagues or to a web server serving ``map.html``, unlike
every other file the user writes; :func:`as_if_created` gives them the
permissions a plain ``mkdir`` or ``open`` would have.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

__all__ = ["as_if_created", "write_csv"]

#: CSV files start with a UTF-8 byte-order mark: Excel on Chinese Windows opens a CSV
#: without one as GBK and garbles every Chinese name; pandas and GIS tools skip it.
CSV_ENCODING = "utf-8-sig"


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as CSV (no index) that Excel opens as UTF-8.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : Path
        The file to write.
    """
    frame.to_csv(path, index=False, encoding=CSV_ENCODING)


def _umask() -> int:
    """The process umask (reading it means setting it, so it is set straight back)."""
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
