"""Where a group of atoms lies, in words a planner can find on a map.

The optimiser's notes used to name graph components and atom ids ("component 1
(9 atoms: 131, 133, ...)"), which no planner can find. A :class:`Places` carried
by the :class:`~redistrict.problem.Problem` names each atom by something the
planner knows (the existing community whose households it holds, or the nearest
named road) and records the barrier layers that cut atoms off from their
neighbours; :func:`describe` turns a group of atoms into words such as
``"2,134 households of 桃花社区 (1,500) and 八字门社区 (634), cut off
from the rest by the barriers in demo.gpkg:railway"``.

Nothing here touches geometry: the pipeline computes the names from the layers
(:func:`redistrict._atom_places.atom_places`), and a hand-made problem can be given
any names.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from redistrict._words import joined

__all__ = ["Places", "atom_ids", "barrier_layers", "describe", "describe_atom", "where"]

#: At most this many places are named in one description; the rest are counted.
MAX_NAMED: Final[int] = 3
#: At most this many atom ids are quoted as the secondary detail.
MAX_IDS: Final[int] = 5


@dataclass(frozen=True)
class Places:
    """What a planner knows each atom by, and the barriers that cut atoms apart.

    Parameters
    ----------
    names : mapping of atom label to str
        The existing community an atom's households belong to (its name, or its
        id when the communities have no names), or with ``kind="road"`` the
        nearest named road; ``""`` (or a missing label) when there is none.
    kind : {"community", "road", "none"}, default "community"
        What the names are (``"none"``: no names, only barriers).
    cuts : mapping of atom label to tuple of (atom label, str)
        For an atom, the neighbours it would share a boundary with but for a
        barrier, each with the barrier's layer (``file:layer``).
    """

    names: Mapping[Hashable, str]
    kind: Literal["community", "road", "none"] = "community"
    cuts: Mapping[Hashable, tuple[tuple[Hashable, str], ...]] = field(default_factory=dict)


def describe(
    places: Places | None,
    nodes: Sequence[Hashable],
    households: npt.NDArray[np.int64],
    region: npt.NDArray[np.int64],
    counts: str = "households",
) -> str:
    """A group of atoms in words: its households, where they live, and the barriers around it.

    Parameters
    ----------
    places : Places or None
        The names; without them only the households are given.
    nodes : sequence
        Atom label per position.
    households : array of int
        Households (or residents, see ``counts``) per atom position.
    region : array of int
        Positions of the atoms described.
    counts : str, default "households"
        What ``households`` counts.

    Returns
    -------
    str
        E.g. ``"2,134 households of 桃花社区 (1,500) and 八字门社区 (634), cut
        off from the rest by the barriers in demo.gpkg:railway"``, ``"1,200 households near
        Bank Street (800) and Gloucester Street (400)"``, or ``"1,200
        households"`` without names.
    """
    h = np.asarray(households)
    total = int(h[region].sum())
    text = f"{total:,} {counts}"
    if places is None:
        return text
    text += where(places, nodes, h, region)
    layers = barrier_layers(places, [nodes[i] for i in region.tolist()])
    if layers:
        text += f", cut off from the rest by the barriers in {joined(layers)}"
    return text


def where(
    places: Places | None,
    nodes: Sequence[Hashable],
    households: npt.NDArray[np.int64],
    region: npt.NDArray[np.int64],
) -> str:
    """Where the households of a group live: ``" of A (1,200) and B (300)"``, ``" near Bank Street"``.

    Parameters
    ----------
    places : Places or None
        The names.
    nodes : sequence
        Atom label per position.
    households : array of int
        Households (or residents) per atom position.
    region : array of int
        Positions of the atoms.

    Returns
    -------
    str
        The phrase with its leading space, or ``""`` without names.
    """
    if places is None:
        return ""
    h = np.asarray(households)
    sums: dict[str, int] = {}
    for i in region.tolist():
        name = places.names.get(nodes[i], "")
        sums[name] = sums.get(name, 0) + int(h[i])
    return _where(sums, places.kind, int(h[region].sum()))


def describe_atom(places: Places | None, node: Hashable) -> str:
    """One atom as a planner finds it: ``"one atom of 八字门社区 (atom 17)"``, else ``"atom 17"``.

    Parameters
    ----------
    places : Places or None
        The names.
    node : hashable
        The atom's label.

    Returns
    -------
    str
        The atom's community or nearest road first, its id as a detail.
    """
    name = "" if places is None else places.names.get(node, "")
    if not name:
        return f"atom {node}"
    where = "near" if places is not None and places.kind == "road" else "of"
    return f"one atom {where} {name} (atom {node})"


def atom_ids(nodes: Sequence[Hashable], region: npt.NDArray[np.int64]) -> str:
    """The first atom ids of a group, for the secondary detail: ``"atoms 3, 17, 40, ..."``."""
    first = ", ".join(str(nodes[i]) for i in region[:MAX_IDS].tolist())
    more = ", ..." if len(region) > MAX_IDS else ""
    return f"{'atom' if len(region) == 1 else 'atoms'} {first}{more}"


def _where(sums: dict[str, int], kind: str, total: int) -> str:
    """`` of A (1,200) and B (300)`` from the households per name ("" = none)."""
    named = sorted(((n, k) for n, k in sums.items() if n and k > 0), key=lambda t: (-t[1], t[0]))
    if not named:
        if kind == "community" and total > 0:
            return " in no existing community"
        return ""
    outside = sums.get("", 0) if kind == "community" else 0
    alone = len(named) == 1 and outside == 0
    # One left over is named rather than counted as "1 other communities".
    shown = named[: MAX_NAMED + 1] if len(named) == MAX_NAMED + 1 else named[:MAX_NAMED]
    parts = [name if alone else f"{name} ({held:,})" for name, held in shown]
    rest = named[len(shown) :]
    if rest:
        what = "communities" if kind == "community" else "roads"
        parts.append(f"{len(rest)} other {what} ({sum(k for _, k in rest):,})")
    if outside > 0:
        parts.append(f"no existing community ({outside:,})")
    return (" near " if kind == "road" else " of ") + joined(parts)


def barrier_layers(places: Places | None, members: Sequence[Hashable]) -> list[str]:
    """The barrier layers (``FILE:LAYER``) cutting the atoms ``members`` off from atoms outside them.

    Parameters
    ----------
    places : Places or None
        The barrier cuts.
    members : sequence
        Atom labels of the group.

    Returns
    -------
    list of str
        In order of first use; empty without places or cuts.
    """
    if places is None:
        return []
    inside = set(members)
    layers: dict[str, None] = {}
    for node in members:
        for other, layer in places.cuts.get(node, ()):
            if other not in inside:
                layers[layer] = None
    return list(layers)
