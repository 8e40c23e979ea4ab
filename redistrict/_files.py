"""Permissions of files and folders written through temporary names.

``tempfile.mkdtemp`` and ``tempfile.mkstemp`` create private entries (0700 and
0600) whatever the user's umask. Outputs renamed into place from them would
stay unreadable to colleagues or to a web server serving ``map.html``, unlike
every other file the user writes; :func:`as_if_created` gives them the
permissions a plain ``mkdir`` or ``open`` would have.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["as_if_created"]


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
