"""Which output folders a run may replace.

Every command writes its outputs to a temporary folder that then replaces
``--out`` as a whole (:func:`redistrict.report.atomic_dir`). Replacing an
earlier run's folder is the point; replacing anything else would delete the
user's files. :func:`check_out_dir` therefore accepts a new or empty folder, or
one that holds only what an earlier run of the same command wrote, and refuses
the rest before any work, naming the files in the way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal

from redistrict._files import recover_swaps
from redistrict._validate_columns import format_labels
from redistrict.errors import InputError

__all__ = ["check_out_dir"]

#: What ``plan``, ``city`` and ``demo`` write (``city`` adds subproblems.csv).
_PLAN_FILES: Final = frozenset(
    {"run.json", "summary.csv", "plan.gpkg", "map.html", "communities.csv", "subproblems.csv"}
)
#: What ``compare`` writes beside one plan folder per scenario.
_COMPARISON_FILES: Final = frozenset(
    {"comparison.csv", "comparison.md", "comparison.html", "comparison.json", "map.html"}
)
#: Marker of an earlier run's folder, per kind.
_MARKER: Final = {"plan": "run.json", "comparison": "comparison.csv"}
#: At most this many foreign entries are named.
_MAX_LISTED = 5


def check_out_dir(out_dir: str | Path, kind: Literal["plan", "comparison"] = "plan") -> None:
    """Refuse an ``--out`` that is a file, or a folder with content redistrict did not write.

    Parameters
    ----------
    out_dir : str or Path
        The output folder asked for.
    kind : {"plan", "comparison"}
        What the command writes: a plan folder, or a comparison (its files and
        one plan folder per scenario).

    Raises
    ------
    InputError
        When ``out_dir`` is a file, a non-empty folder without the marker of an
        earlier run (``run.json``, ``comparison.csv``), or a folder that holds
        other entries besides that run's outputs.
    """
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise InputError(
            f"--out {path} is an existing file, not a folder: give the path of a new folder "
            "(the output folder is replaced as a whole)"
        )
    _check_writable(path)
    recover_swaps(path.absolute())  # a run killed while swapping its output into place
    if not path.is_dir() or not any(path.iterdir()):
        return
    marker = _MARKER[kind]
    earlier = "an earlier plan" if kind == "plan" else "an earlier comparison"
    if not (path / marker).is_file():
        raise InputError(
            f"--out {path} is a folder holding other files (no {marker} of {earlier}): "
            "give a new or empty folder, since the output folder is replaced as a whole"
        )
    foreign = sorted(_foreign(path, kind))
    if foreign:
        listed = format_labels(foreign, limit=_MAX_LISTED)
        raise InputError(
            f"--out {path} holds {earlier} and {len(foreign)} other "
            f"{'entry' if len(foreign) == 1 else 'entries'} it did not write ({listed}), which "
            "replacing the folder would delete: move them out, or give a new folder"
        )


def _check_writable(path: Path) -> None:
    """Refuse an ``--out`` whose parent folder cannot take the outputs.

    The outputs are written to a temporary folder beside ``--out`` and renamed
    into place, so the parent (or the nearest folder that exists above it, in
    which the missing ones will be made) must be writable. Checked before any
    work: a run used to fail only after solving.
    """
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(
            f"--out {path} lies inside {parent}, which is a file, not a folder: give the path of a new folder"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(
            f"--out {path}: cannot write in {parent} (permission denied), where the outputs are made "
            "and then renamed into place: choose a folder you can write to"
        )


def _foreign(path: Path, kind: str) -> list[str]:
    """Entries of ``path`` (relative names) that a run of ``kind`` does not write."""
    out: list[str] = []
    for entry in path.iterdir():
        if kind == "plan" and entry.is_file() and entry.name in _PLAN_FILES:
            continue
        if kind == "comparison":
            if entry.is_file() and entry.name in _COMPARISON_FILES:
                continue
            if entry.is_dir() and (entry / _MARKER["plan"]).is_file():
                out += [f"{entry.name}/{name}" for name in _foreign(entry, "plan")]
                continue
        out.append(entry.name + ("/" if entry.is_dir() else ""))
    return out
