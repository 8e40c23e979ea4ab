"""Decomposition of a city into independent subproblems (groups of atoms).

:func:`decompose` cuts the atom graph into connected groups along the
boundaries of the existing communities and of the user's higher-level areas,
merging the communities too small (or in a gap of the band) to form units on
their own with a neighbour, and records how each group was formed in
:attr:`Group.note`. Re-exported by :mod:`redistrict.city`, which solves the
groups; only numpy is needed here, so that Dask workers start quickly.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from redistrict._words import counted, joined
from redistrict.problem import Band, IntArray, Problem

__all__ = ["Group", "decompose", "present"]


@dataclass(frozen=True)
class Group:
    """One independent subproblem: a connected set of atoms planned on its own.

    Attributes
    ----------
    index : int
        Position of the group (groups are ordered by their first atom).
    positions : ndarray of int
        Sorted positions of the group's atoms in the city :class:`Problem`.
    households : int
        Households of the group.
    communities : tuple of str
        Existing communities (sorted) whose atoms the group holds.
    partition : str or None
        The user-given higher-level area of the group, if any.
    note : str
        How the group was formed (merges and why), empty for a plain community.
    merged : bool
        Whether pieces that could not form units on their own were merged into it.
    stuck : bool
        Whether its households still cannot form units in the band (it touches no
        other group of its area to merge with).

    """

    index: int
    positions: IntArray
    households: int
    communities: tuple[str, ...]
    partition: str | None
    note: str = ""
    merged: bool = False
    stuck: bool = False


#: Why a piece could not form units on its own, by the kind of :class:`_Step`.
_WHY = {"below": "below the band", "gap": "in a gap of the band"}


@dataclass(frozen=True)
class _Step:
    """A piece that could not form units on its own and was merged with a neighbour.

    ``order`` numbers the merges in the order they were made; ``names`` are the
    piece's members and ``plural`` says whether they take a plural verb
    (:func:`_members`); ``kind`` is a key of :data:`_WHY`.
    """

    order: int
    names: tuple[str, ...]
    plural: bool
    households: int
    kind: str
    #: Households in atoms above the band's upper bound (each a unit of its own), set apart.
    apart: int = 0


@dataclass
class _Piece:
    """A group under construction."""

    ident: int
    positions: list[int]
    households: int
    partition: str | None
    orphan: bool
    #: Number of initial (connected, single-community) pieces held, per community.
    parts: dict[str, int] = field(default_factory=dict)
    steps: list[_Step] = field(default_factory=list)


def present(value: object) -> bool:
    """Whether a per-atom value is given (not None, not NaN)."""
    return value is not None and not (isinstance(value, float) and value != value)


def _initial_pieces(
    problem: Problem,
    community: Sequence[str | None],
    partition: Sequence[str | None] | None,
) -> tuple[list[_Piece], IntArray]:
    """Connected pieces of atoms sharing (partition, community); piece id per atom."""
    n = problem.n
    comm = [str(c) if present(c) else None for c in community]
    part = [None] * n if partition is None else [str(p) if present(p) else None for p in partition]
    if len(comm) != n or len(part) != n:
        raise ValueError("community and partition need one value per atom of the problem")
    keys = list(zip(part, comm, strict=True))
    same = np.array([keys[a] == keys[b] for a, b in problem.edges.tolist()], dtype=bool)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in problem.edges[same].tolist() if len(same) else []:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    # Roots are the smallest atom of each piece: piece ids follow the first atom.
    roots = np.array([find(i) for i in range(n)], dtype=np.int64)
    first, piece_of = np.unique(roots, return_inverse=True)
    piece_of = piece_of.astype(np.int64)
    order = np.argsort(piece_of, kind="stable")
    bounds = np.searchsorted(piece_of[order], np.arange(len(first) + 1))
    h = problem.households
    pieces: list[_Piece] = []
    for pid, atom in enumerate(first.tolist()):
        members = order[bounds[pid] : bounds[pid + 1]]
        p, c = keys[atom]
        pieces.append(
            _Piece(
                ident=pid,
                positions=members.tolist(),
                households=int(h[members].sum()),
                partition=p,
                orphan=c is None or (partition is not None and p is None),
                parts={} if c is None else {c: 1},
            )
        )
    return pieces, piece_of


def _piece_borders(problem: Problem, piece_of: IntArray) -> dict[int, dict[int, float]]:
    """Length of the boundary shared by every pair of adjacent pieces."""
    borders: dict[int, dict[int, float]] = {}
    e = problem.edges
    pa, pb = piece_of[e[:, 0]], piece_of[e[:, 1]]
    cross = pa != pb
    for a, b, ln in zip(
        pa[cross].tolist(), pb[cross].tolist(), problem.edge_length[cross].tolist(), strict=True
    ):
        borders.setdefault(a, {})[b] = borders.setdefault(a, {}).get(b, 0.0) + ln
        borders.setdefault(b, {})[a] = borders.setdefault(b, {}).get(a, 0.0) + ln
    return borders


#: Most members a merged piece is named by in a group's note (the header names all).
_SHOWN = 4
#: Start of the member name of a piece holding only a part of a community.
_PART = "part of "
#: Member name of a piece of atoms in no community.
_NO_COMMUNITY = "without a community"


def _households(n: int) -> str:
    """``"1 household"``, ``"1,147 households"``."""
    return f"{n:,} household{'' if n == 1 else 's'}"


def _members(piece: _Piece, totals: dict[str, int]) -> tuple[tuple[str, ...], bool]:
    """Names of a piece's members for a note, and whether they take a plural verb.

    A community of which the piece holds only some of the connected pieces
    (``totals``: how many there are) is named ``part of X``.
    """
    if piece.parts:
        names = tuple(c if k == totals.get(c, k) else f"{_PART}{c}" for c, k in sorted(piece.parts.items()))
        return names, len(names) > 1
    n = len(piece.positions)
    return (f"{counted(n, 'atom')} {_NO_COMMUNITY}",), n != 1


def _label(piece: _Piece, totals: dict[str, int]) -> str:
    """A piece named on its own: ``community X``, ``a part of community X`` ..."""
    names, _ = _members(piece, totals)
    if not piece.parts:
        return names[0]
    if len(names) == 1 and names[0].startswith(_PART):
        return f"a part of community {names[0].removeprefix(_PART)}"
    shown = joined([*names[:5], f"{len(names) - 5} more"] if len(names) > 6 else names)
    return f"communit{'y' if len(names) == 1 else 'ies'} {shown}"


def _subject(names: Sequence[str], plural: bool, households: int) -> tuple[str, bool]:
    """``"A (300 households)"`` or ``"A and B (800 households together)"``, and the verb's number."""
    if len(names) == 1:
        return f"{names[0]} ({_households(households)})", plural
    shown = joined([*names[:_SHOWN], f"{len(names) - _SHOWN} more"] if len(names) > _SHOWN + 1 else names)
    return f"{shown} ({_households(households)} together)", True


def _across(piece: _Piece, pieces: dict[int, _Piece], borders: dict[int, dict[int, float]]) -> bool:
    """Whether the piece touches a group of another higher-level area (which it may not join)."""
    return piece.partition is not None and any(
        pieces[nb].partition not in (None, piece.partition) for nb in borders.get(piece.ident, {})
    )


def _formed(piece: _Piece, band: Band, stuck: bool, totals: dict[str, int], across: bool = False) -> str:
    """The note of a finished piece: what was merged into it and why, and whether it is stuck.

    Examples: ``"merged communities A, B and C: A (300 households) is below the
    band; A and B (1,100 households together) are below the band"``, or
    ``"community X (1,800 households) cannot form units of 2000-3000 and touches
    no other group to merge with"``.
    """
    parts: list[str] = []
    steps = sorted(piece.steps, key=lambda st: st.order)
    if steps:
        ids = sorted(piece.parts)
        what: list[str] = []
        if len(ids) > 1:
            what.append(f"communities {joined(ids)}")
        elif ids:
            split = any(n.startswith(_PART) for st in steps for n in st.names)
            what.append(f"{'parts of ' if split else ''}community {ids[0]}")
        if any(n.endswith(_NO_COMMUNITY) for st in steps for n in st.names):
            what.append(f"atoms {_NO_COMMUNITY}")
        reasons = []
        for st in steps:
            subject, plural = _subject(st.names, st.plural, st.households)
            apart = (
                f" once the {_households(st.apart)} of atoms above it (units of their own) are set apart"
                if st.apart
                else ""
            )
            reasons.append(f"{subject} {'are' if plural else 'is'} {_WHY[st.kind]}{apart}")
        parts.append(f"merged {' and '.join(what)}: {'; '.join(reasons)}")
    if stuck:
        hh = piece.households
        names, plural = _members(piece, totals)
        if steps:
            subject, plural = _subject(names, plural, hh)
        else:
            subject = f"{_label(piece, totals)} ({_households(hh)})"
        empty = f": {'their' if plural else 'its'} atoms hold no households and are in no unit"
        touch = "touch" if plural else "touches"
        its, it = ("their", "them") if plural else ("its", "it")
        area = f" of {its} area ({piece.partition})" if across else ""
        where = f"{touch} no other group{area} to merge with" + (empty if hh == 0 else "")
        if across:
            where += f"; the --partition-by line keeps {it} from the groups beyond"
        parts.append(f"{subject} cannot form units of {band.lo:,}-{band.hi:,} and {where}")
    return "; ".join(parts)


def _absorb(pieces: dict[int, _Piece], borders: dict[int, dict[int, float]], src: int, dst: int) -> None:
    """Merge piece ``src`` into piece ``dst``."""
    s, d = pieces.pop(src), pieces[dst]
    d.positions.extend(s.positions)
    d.households += s.households
    d.steps.extend(s.steps)
    if d.partition is None:
        d.partition = s.partition
    d.orphan = d.orphan and s.orphan
    for c, k in s.parts.items():
        d.parts[c] = d.parts.get(c, 0) + k
    for nb, ln in borders.pop(src, {}).items():
        if nb == dst:
            borders[dst].pop(src, None)
            continue
        borders[nb].pop(src, None)
        borders[nb][dst] = borders[nb].get(dst, 0.0) + ln
        borders.setdefault(dst, {})[nb] = borders.setdefault(dst, {}).get(nb, 0.0) + ln


def _best_neighbour(
    piece: _Piece,
    pieces: dict[int, _Piece],
    borders: dict[int, dict[int, float]],
    *,
    avoid_orphans: bool,
) -> int | None:
    """Neighbour sharing the longest boundary within the same higher-level area."""
    best: tuple[float, int] | None = None
    for nb, ln in sorted(borders.get(piece.ident, {}).items()):
        other = pieces[nb]
        if avoid_orphans and other.orphan:
            continue
        if piece.partition is not None and other.partition not in (None, piece.partition):
            continue
        if best is None or ln > best[0]:
            best = (ln, nb)
    return None if best is None else best[1]


def decompose(
    problem: Problem,
    community: Sequence[str | None],
    partition: Sequence[str | None] | None = None,
) -> list[Group]:
    """Cut the atoms into independent, connected groups that can each be planned.

    Parameters
    ----------
    problem : Problem
        The whole territory (only households, edges and boundary lengths are used).
    community : sequence of str or None
        Existing community per atom position (None = no community).
    partition : sequence of str or None, optional
        Higher-level area per atom position (e.g. a district); groups never
        cross these boundaries. Atoms with None join a neighbouring area.

    Returns
    -------
    list of Group
        Ordered by first atom. Every atom is in exactly one group. A group whose
        households cannot form units in the band is left so (and explained in
        :attr:`Group.note`) only when it has no neighbour to merge with.

    Notes
    -----
    Deterministic: atoms without a community (or area) first join, in piece
    order, the neighbour with the longest shared boundary; then the piece with
    the fewest households that cannot form units (``band.unit_counts`` empty) is
    merged with the neighbour of the same area sharing the longest boundary,
    repeatedly, ties going to the lower piece id.

    A merged group's :attr:`Group.note` names its communities once, then, in
    the order the merges were made, each piece that could not form units on
    its own, with its households and why: ``"merged communities A, B and C: A
    (300 households) is below the band; A and B (800 households together) are
    below the band"`` (``part of A`` for a piece holding only some of the
    connected parts of community A).

    """
    band = problem.band
    initial, piece_of = _initial_pieces(problem, community, partition)
    pieces = {p.ident: p for p in initial}
    totals: dict[str, int] = {}
    for p in initial:
        for c in p.parts:
            totals[c] = totals.get(c, 0) + 1
    borders = _piece_borders(problem, piece_of)

    # An atom above the band is a unit of its own whatever the group (it cannot be split):
    # what must form units in the band is the rest.
    h = np.asarray(problem.households, dtype=np.int64)
    over = np.where(h > band.hi, h, 0)

    def apart(p: _Piece) -> int:
        return int(over[p.positions].sum())

    def feasible(p: _Piece) -> bool:
        rest = p.households - apart(p)
        if rest == 0:  # only atoms above the band (units of their own), or no households at all
            return p.households > 0
        return len(band.unit_counts(rest)) > 0

    # 1. Orphans (no community or no area) join their best non-orphan neighbour.
    changed = True
    while changed:
        changed = False
        for pid in sorted(pieces):
            piece = pieces.get(pid)
            if piece is None or not piece.orphan:
                continue
            target = _best_neighbour(piece, pieces, borders, avoid_orphans=True)
            if target is not None:
                _absorb(pieces, borders, pid, target)
                changed = True
    # 2. Pieces that cannot form units merge with a neighbour, smallest first.
    heap = [(p.households, p.ident) for p in pieces.values() if not feasible(p)]
    heapq.heapify(heap)
    stuck: set[int] = set()
    merges = 0
    while heap:
        hh, pid = heapq.heappop(heap)
        piece = pieces.get(pid)
        if piece is None or piece.households != hh or feasible(piece) or pid in stuck:
            continue
        target = _best_neighbour(piece, pieces, borders, avoid_orphans=False)
        if target is None:
            stuck.add(pid)
            continue
        names, plural = _members(piece, totals)
        set_apart = apart(piece)
        kind = "below" if hh - set_apart < band.lo else "gap"
        piece.steps.append(_Step(merges, names, plural, hh, kind, set_apart))
        merges += 1
        _absorb(pieces, borders, pid, target)
        merged = pieces[target]
        if not feasible(merged):
            heapq.heappush(heap, (merged.households, target))
    # 3. Groups ordered by their first atom.
    final = sorted(pieces.values(), key=lambda p: min(p.positions))
    return [
        Group(
            index=k,
            positions=np.array(sorted(p.positions), dtype=np.int64),
            households=p.households,
            communities=tuple(sorted(p.parts)),
            partition=p.partition,
            note=_formed(p, band, stuck=not feasible(p), totals=totals, across=_across(p, pieces, borders)),
            merged=bool(p.steps),
            stuck=not feasible(p),
        )
        for k, p in enumerate(final)
    ]
