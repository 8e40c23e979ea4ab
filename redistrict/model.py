"""The integer program: assign atoms to unit centres, in the band, contiguous.

Geometry-free: it takes a :class:`~redistrict.problem.Problem` and a set of
atom positions (a *region*: a whole component, or two or three adjacent units
during large-neighbourhood search) and returns which centre each atom joins.

Formulation (p-median with a household band)::

    min  sum_ij c_ij x_ij + w_dev sum_j dev_j
    s.t. y_i + sum_j x_ij = 1                      every atom in one unit
         x_ij <= y_j                                only open centres
         lo y_j <= h_j y_j + sum_i h_i x_ij <= hi y_j   band
         kmin <= sum_j y_j <= kmax                  number of units
         dev_j >= |load_j - target y_j|             deviation from target
         contiguity (below)

``y_j`` opens a unit centred on atom ``j``; ``x_ij`` puts atom ``i`` in it.
Contiguity is either

* ``"sp"``: every atom in a unit has a neighbour in the same unit that is
  strictly closer to the centre (Zoltners and Sinha 1983; Validi, Buchanan and
  Lykhovyd 2022). Compact, always contiguous, slightly stronger than
  contiguity: used inside large-neighbourhood search;
* ``"cuts"``: exact contiguity by separator inequalities added lazily
  (``x_ij <= sum of x_vj over the neighbours v of S`` for every piece ``S`` cut off
  from its centre), re-solving until every unit is connected;
* ``"none"``: no contiguity (a relaxation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import numpy.typing as npt
import pulp
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from redistrict._clock import BUILD_COLUMN, NODE_COLUMN, Clock, WallClock
from redistrict._solvers import SolveOutcome, run_model
from redistrict.problem import FloatArray, IntArray, Problem

__all__ = ["RegionSolution", "solve_region", "within_reach"]

#: Node limit of every solver call under a work budget (a wall-clock limit would make
#: the result depend on the machine).
_WORK_MAX_NODES = 5000


@dataclass(frozen=True)
class RegionSolution:
    """Result of solving the integer program on a region.

    Attributes
    ----------
    centres : ndarray of int or None
        For each atom of the region (in the order given), the position of its
        unit's centre atom; None when no solution was found.
    outcome : SolveOutcome
        Solver status, objective and bound.
    """

    centres: IntArray | None
    outcome: SolveOutcome


def _local_distance(problem: Problem, region: IntArray) -> FloatArray:
    """Shortest-path distances inside the region only."""
    pos = {int(v): i for i, v in enumerate(region)}
    e = problem.edges
    mask = np.isin(e[:, 0], region) & np.isin(e[:, 1], region)
    sub = e[mask]
    a = np.array([pos[int(v)] for v in sub[:, 0]], dtype=np.int64)
    b = np.array([pos[int(v)] for v in sub[:, 1]], dtype=np.int64)
    full = problem.distance
    w = np.maximum(full[sub[:, 0], sub[:, 1]], 1e-3)
    m = len(region)
    mat = csr_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(m, m))
    out: FloatArray = dijkstra(mat, directed=False)
    return out


def _allowed_pairs(
    problem: Problem,
    region: IntArray,
    local: FloatArray,
    radius: float,
    sp: bool,
    fixed: IntArray | None = None,
    reach: float | None = None,
    pairs: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[tuple[int, int], list[int]]]:
    """Which (atom, centre) pairs may be used, and each pair's closer neighbours."""
    m = len(region)
    cost_d = problem.distance[np.ix_(region, region)]
    allowed = np.isfinite(local) & (cost_d <= radius)
    np.fill_diagonal(allowed, True)
    if pairs is not None:
        allowed &= pairs
        allowed[:, ~allowed.diagonal()] = False  # no unit without its centre
    if fixed is not None:
        keep = np.zeros(m, bool)
        keep[fixed] = True
        allowed[:, ~keep] = False
        if reach is not None:
            h = problem.households[region].astype(float)
            limit = reach * problem.band.hi
            for j in fixed.tolist():
                allowed[:, j] &= within_reach(local[:, j], h, limit)
    closer: dict[tuple[int, int], list[int]] = {}
    if not sp:
        return allowed, closer
    nbrs = problem.region_neighbours(region)
    for j in range(m) if fixed is None else fixed.tolist():
        order = np.argsort(local[:, j], kind="stable")
        ok = np.zeros(m, bool)
        ok[j] = True
        for i in order:
            i = int(i)
            if i == j or not allowed[i, j]:
                continue
            near = [v for v in nbrs[i] if ok[v] and local[v, j] < local[i, j]]
            if near:
                ok[i] = True
                closer[(i, j)] = near
        allowed[:, j] &= ok
    return allowed, closer


def _build(
    problem: Problem,
    region: IntArray,
    kmin: int,
    kmax: int,
    allowed: np.ndarray,
    closer: dict[tuple[int, int], list[int]],
) -> tuple[pulp.LpProblem, dict[tuple[int, int], pulp.LpVariable]]:
    m = len(region)
    h = problem.households[region].astype(float)
    cost = problem.assign_cost[np.ix_(region, region)]
    band = problem.band
    prob = pulp.LpProblem("redistrict_region", pulp.LpMinimize)
    x: dict[tuple[int, int], pulp.LpVariable] = {}
    for i, j in zip(*np.nonzero(allowed), strict=True):
        x[(int(i), int(j))] = prob.add_variable(f"x_{i}_{j}", 0, 1, cat=pulp.LpBinary)
    dev_w = problem.weights.deviation
    opened = [j for j in range(m) if (j, j) in x]
    dev = {j: prob.add_variable(f"dev_{j}", 0) for j in opened} if dev_w > 0 else {}
    obj = [(var, float(cost[i, j])) for (i, j), var in x.items() if i != j and cost[i, j] != 0]
    obj += [(d, dev_w) for d in dev.values()]
    prob += pulp.LpAffineExpression(obj)
    by_atom: dict[int, list[pulp.LpVariable]] = {i: [] for i in range(m)}
    by_centre: dict[int, list[tuple[int, pulp.LpVariable]]] = {j: [] for j in opened}
    for (i, j), var in x.items():
        by_atom[i].append(var)
        by_centre[j].append((i, var))
    for i in range(m):
        prob += pulp.lpSum(by_atom[i]) == 1, f"assign_{i}"
    y = {j: x[(j, j)] for j in opened}
    for j in opened:
        load = pulp.LpAffineExpression([(var, h[i]) for i, var in by_centre[j]])
        prob += load - band.hi * y[j] <= 0, f"hi_{j}"
        prob += load - band.lo * y[j] >= 0, f"lo_{j}"
        if dev:
            prob += load - band.goal * y[j] - dev[j] <= 0, f"devp_{j}"
            prob += band.goal * y[j] - load - dev[j] <= 0, f"devm_{j}"
        for i, var in by_centre[j]:
            if i == j:
                continue
            prob += var - y[j] <= 0, f"link_{i}_{j}"
            if (i, j) in closer:
                near = [x[(v, j)] for v in closer[(i, j)]]
                if not (len(near) == 1 and near[0] is y[j]):
                    prob += var - pulp.lpSum(near) <= 0, f"sp_{i}_{j}"
    prob += pulp.lpSum(y.values()) >= kmin, "kmin"
    prob += pulp.lpSum(y.values()) <= kmax, "kmax"
    return prob, x


def _read_centres(x: dict[tuple[int, int], pulp.LpVariable], m: int) -> IntArray | None:
    centres = np.full(m, -1, dtype=np.int64)
    for (i, j), var in x.items():
        val = var.varValue
        if val is not None and val > 0.5:
            centres[i] = j
    if np.any(centres < 0):
        return None
    return centres


def _disconnected_pieces(
    problem: Problem, region: IntArray, centres: IntArray
) -> list[tuple[int, list[int]]]:
    """Pieces of units cut off from their centre: (centre, local atoms)."""
    pos = {int(v): i for i, v in enumerate(region)}
    g = nx.Graph()
    g.add_nodes_from(range(len(region)))
    for a, b in problem.edges.tolist():
        if a in pos and b in pos and centres[pos[a]] == centres[pos[b]]:
            g.add_edge(pos[a], pos[b])
    pieces = []
    for comp in nx.connected_components(g):
        j = int(centres[next(iter(comp))])
        if j not in comp:
            pieces.append((j, sorted(comp)))
    return pieces


def solve_region(
    problem: Problem,
    region: IntArray,
    *,
    kmin: int,
    kmax: int,
    solver: str = "highs",
    time_limit: float = 30.0,
    contiguity: str = "sp",
    radius: float = math.inf,
    mip_gap: float = 1e-6,
    max_nodes: int | None = None,
    centres: IntArray | None = None,
    reach: float | None = None,
    clock: Clock | None = None,
    pairs: np.ndarray | None = None,
    bound_only: bool = False,
    cutoff: float | None = None,
) -> RegionSolution:
    """Solve the integer program on ``region`` with ``kmin..kmax`` units.

    Parameters
    ----------
    problem : Problem
        The instance.
    region : array of int
        Atom positions to partition (must be connected for a solution to exist).
    kmin, kmax : int
        Allowed number of units.
    solver : {"highs", "cbc"}
        MIP solver.
    time_limit : float
        Wall-clock limit in seconds for the whole call.
    contiguity : {"sp", "cuts", "none"}
        How contiguity is imposed (see module docstring).
    radius : float
        Largest road-aware distance from an atom to its centre (a restriction
        used to keep neighbourhood models small; ``inf`` for none).
    mip_gap : float
        Relative gap at which the solver may stop.
    max_nodes : int, optional
        Deterministic branch-and-bound node limit per solver call.
    centres : array of int, optional
        Candidate centres (a subset of ``region``): units may only be centred
        on these atoms. With ``kmin == kmax == len(centres)`` every candidate
        opens and the model only allocates atoms (location-allocation).
    reach : float, optional
        With ``centres``: a centre may only take the atoms nearest to it that
        together hold ``reach`` times the band's upper bound (a restriction
        that keeps allocation models small).
    clock : Clock, optional
        Clock of ``time_limit`` (default: wall-clock seconds). With a
        :class:`~redistrict._clock.WorkClock` the limit is counted work and
        every solver call gets a node limit, so the result does not depend on
        the machine.
    pairs : ndarray of bool, optional
        ``(m, m)`` mask over the region's atoms: ``pairs[i, j]`` allows atom
        ``i`` to join a unit centred on atom ``j`` (variables fixed to zero
        elsewhere, for instance by :mod:`redistrict._certify`).
    bound_only : bool
        No primal heuristics, all the time on the bound (see
        :func:`redistrict._solvers.run_model`).
    cutoff : float, optional
        Objective above which solutions are of no interest (nodes reaching it
        are pruned; status ``infeasible`` then means none is below it).

    Returns
    -------
    RegionSolution
        With ``contiguity="cuts"`` the bound is valid for contiguous plans even
        when the time limit stops the separation loop.
    """
    clock = clock or WallClock()
    start = clock.now()
    if clock.deterministic and max_nodes is None:
        max_nodes = _WORK_MAX_NODES
    region = np.asarray(region, dtype=np.int64)
    m = len(region)
    local = _local_distance(problem, region)
    fixed = None
    if centres is not None:
        pos = {int(v): i for i, v in enumerate(region)}
        fixed = np.array(sorted(pos[int(c)] for c in centres), dtype=np.int64)
    allowed, closer = _allowed_pairs(
        problem, region, local, radius, sp=contiguity == "sp", fixed=fixed, reach=reach, pairs=pairs
    )
    # Neither building the model nor handing it to the solver can be interrupted, and each
    # costs about BUILD_COLUMN per assignment column (measured: a 2-unit neighbourhood of 175
    # suburban atoms took 1.0 s to build and 0.9 s beyond the solver's own time limit to hand
    # over): when they would outlast the time left, give up before starting.
    if 2 * BUILD_COLUMN * int(allowed.sum()) >= time_limit - (clock.now() - start):
        return RegionSolution(None, SolveOutcome("no_solution", None, None, 0.0))
    prob, x = _build(problem, region, kmin, kmax, allowed, closer)
    clock.charge(BUILD_COLUMN * len(x))
    cuts = 0
    while True:
        remaining = time_limit - (clock.now() - start)
        if remaining <= BUILD_COLUMN * len(x):
            return RegionSolution(None, SolveOutcome("no_solution", None, None, 0.0))
        limit = clock.solver_limit(remaining)
        nodes = max_nodes
        if clock.deterministic and nodes is not None:
            # Nodes the remaining work budget pays for (a deterministic limit).
            nodes = int(min(nodes, max(1.0, remaining / (NODE_COLUMN * max(len(x), 1)))))
        outcome = run_model(
            prob, solver, limit, mip_gap=mip_gap, max_nodes=nodes, bound_only=bound_only, cutoff=cutoff
        )
        clock.charge(outcome.work())
        clock.solver_ran(outcome.seconds, limit)
        if outcome.status in ("infeasible", "no_solution"):
            return RegionSolution(None, outcome)
        centres = _read_centres(x, m)
        if centres is None:
            return RegionSolution(None, SolveOutcome("no_solution", None, outcome.bound, outcome.seconds))
        if contiguity != "cuts":
            return RegionSolution(centres, outcome)
        pieces = _disconnected_pieces(problem, region, centres)
        if not pieces:
            return RegionSolution(centres, outcome)
        if clock.now() - start >= time_limit:
            # The incumbent is not contiguous: only the bound is usable.
            return RegionSolution(None, SolveOutcome("no_solution", None, outcome.bound, outcome.seconds))
        pos_nbrs = problem.region_neighbours(region)
        for j, piece in pieces:
            inside = set(piece)
            border = sorted({v for i in piece for v in pos_nbrs[i]} - inside)
            for i in piece:
                if (i, j) not in x:
                    continue
                rhs = [x[(v, j)] for v in border if (v, j) in x]
                prob += x[(i, j)] - pulp.lpSum(rhs) <= 0, f"cut_{cuts}"
                cuts += 1


def within_reach(dist: FloatArray, households: FloatArray, limit: float) -> npt.NDArray[np.bool_]:
    """The atoms nearest a centre that together hold ``limit`` households (and the next one).

    Parameters
    ----------
    dist : array of float
        Distance of each atom of a region to the centre.
    households : array of float
        Households of each atom, in the same order.
    limit : float
        Households the nearest atoms may hold together (e.g. a multiple of the band's
        upper bound).

    Returns
    -------
    ndarray of bool
        Per atom, whether it is among them (ties in distance kept in region order).
    """
    order = np.argsort(dist, kind="stable")
    cut = int(np.searchsorted(np.cumsum(households[order]), limit)) + 1
    near = np.zeros(len(dist), bool)
    near[order[:cut]] = True
    return near
