"""Benchmark instances: atom adjacency graphs as :func:`redistrict.graph.build_graph` makes them.

Every instance is a :class:`networkx.Graph` whose nodes carry ``households`` (int),
``x``, ``y`` (centre, metres) and ``area_m2``, and whose edges carry ``length`` (shared
boundary, metres) and ``major_length`` (part of it along a major road, metres):

* ``demo``: the embedded synthetic 八字门 data, loaded exactly as ``redistrict demo`` does;
* ``centretown``: Ottawa Centretown (``ONS_ID_gen3 == 3024``: 208 blocks, 20,333 households);
* ``ottawa3``: the three Ottawa neighbourhoods of the test case (395 blocks, 32,843 households);
* ``synth-N``: a seeded synthetic city of ``N`` atoms (Voronoi cells of a jittered grid,
  lognormal household counts calibrated to the Yueyang compounds, major roads every
  ``major_every`` cells), built directly as a graph without any geometry.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import networkx as nx
import numpy as np
from scipy.spatial import ConvexHull, Voronoi

__all__ = [
    "INSTANCE_NAMES",
    "Instance",
    "build_instance",
    "default_data_dir",
    "demo_graph",
    "ottawa_graph",
    "synthetic_graph",
]

log = logging.getLogger(__name__)

#: Every instance the benchmark knows, in the order it runs them.
INSTANCE_NAMES: tuple[str, ...] = (
    "demo",
    "centretown",
    "ottawa3",
    "synth-100",
    "synth-300",
    "synth-1000",
    "synth-3000",
)

#: Solver time limit (seconds) per instance: the issue's targets where it sets one.
DEFAULT_TIME_LIMITS: dict[str, float] = {
    "demo": 30.0,
    "centretown": 20.0,
    "ottawa3": 60.0,
    "synth-100": 20.0,
    "synth-300": 60.0,
    "synth-1000": 120.0,
    "synth-3000": 115.0,  # the whole run (building the problem included) within 120 s
}

_TESTCASE = "ottawa_centretown_testcase.gpkg"
_REPO = Path(__file__).resolve().parents[1]

AtomMode = Literal["roads", "blocks"]


@dataclass(frozen=True)
class Instance:
    """One benchmark instance.

    Attributes
    ----------
    name : str
        Short name (one of :data:`INSTANCE_NAMES`).
    graph : networkx.Graph
        Atom adjacency graph.
    source : str
        Where it comes from, for the report.
    seconds_build : float
        Seconds spent loading the data and building atoms and graph.
    time_limit : float
        Default solver time limit for this instance.
    """

    name: str
    graph: nx.Graph
    source: str
    seconds_build: float
    time_limit: float

    @property
    def atoms(self) -> int:
        """Number of atoms (graph nodes)."""
        return int(self.graph.number_of_nodes())

    @property
    def households(self) -> int:
        """Total households."""
        return int(sum(int(d["households"]) for _, d in self.graph.nodes(data=True)))


def default_data_dir() -> Path:
    """Folder of the real Ottawa data: ``$REDISTRICT_SHARED/data/ottawa`` or ``../shared/data/ottawa``."""
    shared = Path(os.environ.get("REDISTRICT_SHARED", _REPO.parent / "shared"))
    return shared / "data" / "ottawa"


def demo_graph(atoms: AtomMode = "roads", max_households: int = 3000) -> nx.Graph:
    """Graph of the embedded demo data, with the same inputs as ``redistrict demo``.

    Parameters
    ----------
    atoms : {"roads", "blocks"}
        Atom mode passed to :func:`redistrict.atoms.build_atoms`.
    max_households : int
        Atoms above this are split by their blocks (the band's upper bound).

    Returns
    -------
    networkx.Graph
    """
    from redistrict.cli import demo_path
    from redistrict.load import load_inputs

    path = str(demo_path())
    inputs = load_inputs(
        roads=f"{path}:roads",
        blocks=f"{path}:blocks",
        households="households",
        residents="residents",
        communities=f"{path}:communities",
        community_id="community_id",
        community_name="name",
        barriers=[f"{path}:river", f"{path}:railway"],
        offices=f"{path}:offices",
        office_id="office_id",
        office_area="area_m2",
        study_area=f"{path}:communities",
    )
    return _graph_of(inputs, atoms, max_households)


def ottawa_graph(
    gpkg: Path,
    where: str | None = None,
    atoms: AtomMode = "roads",
    max_households: int = 3000,
) -> nx.Graph:
    """Graph of the Ottawa test case (optionally one neighbourhood of it).

    Parameters
    ----------
    gpkg : pathlib.Path
        ``ottawa_centretown_testcase.gpkg``.
    where : str, optional
        Block selection, e.g. ``"ONS_ID_gen3 == 3024"`` (Centretown).
    atoms : {"roads", "blocks"}
        Atom mode passed to :func:`redistrict.atoms.build_atoms`.
    max_households : int
        Atoms above this are split by their blocks (the band's upper bound).

    Returns
    -------
    networkx.Graph
    """
    from redistrict.load import load_inputs

    inputs = load_inputs(
        roads=f"{gpkg}:roads",
        blocks=f"{gpkg}:dissemination_blocks",
        households="dburdwell2021",
        residents="dbpop2021",
        road_class="RANK",
        where=where,
    )
    return _graph_of(inputs, atoms, max_households)


def _graph_of(inputs: object, atoms: AtomMode, max_households: int) -> nx.Graph:
    """Atoms and adjacency graph of loaded inputs (the pipeline's own stages)."""
    from redistrict.atoms import build_atoms
    from redistrict.graph import build_graph
    from redistrict.load import Inputs

    assert isinstance(inputs, Inputs)
    built = build_atoms(inputs, max_households=max_households, mode=atoms)
    return build_graph(built.atoms, inputs.roads, inputs.barriers)


def synthetic_graph(
    n_atoms: int,
    *,
    seed: int = 0,
    spacing_m: float = 120.0,
    major_every: int = 5,
    empty_share: float = 0.3,
    median_households: float = 254.0,
    sigma: float = 0.5,
    max_households: int = 1500,
) -> nx.Graph:
    """A seeded synthetic city of ``n_atoms`` street blocks as an adjacency graph.

    Atoms are the Voronoi cells of a jittered square grid (``spacing_m`` apart);
    neighbours share a Voronoi edge, whose length is the shared boundary. Every
    ``major_every`` rows and columns a straight major road runs between cells, so
    boundaries crossing it lie along a major road. A share ``empty_share`` of the
    atoms hold no households (parks, schools, markets); the others hold a lognormal
    number (median ``median_households``, like the Yueyang compounds' 254), capped
    at ``max_households``.

    Parameters
    ----------
    n_atoms : int
        Number of atoms (at least 4).
    seed : int
        Seed of :func:`numpy.random.default_rng`: same seed, same graph.
    spacing_m : float
        Grid spacing in metres (street blocks are 100-200 m across).
    major_every : int
        Cells between two major roads.
    empty_share : float
        Share of atoms without households.
    median_households : float
        Median households of a non-empty atom.
    sigma : float
        Log-scale standard deviation of the household counts.
    max_households : int
        Cap on the households of one atom.

    Returns
    -------
    networkx.Graph
        Nodes ``0..n_atoms-1`` with ``households``, ``x``, ``y``, ``area_m2``; edges
        with ``length``, ``major_length`` and ``road_class`` (``major``/``minor``).
    """
    if n_atoms < 4:
        raise ValueError(f"a synthetic instance needs at least 4 atoms, got {n_atoms}")
    rng = np.random.default_rng(seed)
    cols = math.ceil(math.sqrt(n_atoms))
    rows = math.ceil(n_atoms / cols)
    idx = np.arange(n_atoms)
    row, col = idx // cols, idx % cols
    jitter = rng.uniform(-0.3, 0.3, size=(n_atoms, 2))
    pts = (np.column_stack([col, row]) + 0.5 + jitter) * spacing_m
    # Ghost points on every unused cell of a grid one cell wider all round keep the
    # real cells finite and the outline square.
    used = set(zip(row.tolist(), col.tolist(), strict=True))
    ghosts = [
        ((c + 0.5) * spacing_m, (r + 0.5) * spacing_m)
        for r in range(-1, rows + 1)
        for c in range(-1, cols + 1)
        if (r, c) not in used
    ]
    vor = Voronoi(np.vstack([pts, np.asarray(ghosts)]))
    offset_r, offset_c = (int(v) for v in rng.integers(0, major_every, size=2))
    block_r = (row + offset_r) // major_every
    block_c = (col + offset_c) // major_every

    h = rng.lognormal(math.log(median_households), sigma, size=n_atoms)
    h = np.minimum(np.round(h), max_households).astype(np.int64)
    h[rng.random(n_atoms) < empty_share] = 0

    graph = nx.Graph()
    for i in range(n_atoms):
        region = vor.regions[vor.point_region[i]]
        area = float(ConvexHull(vor.vertices[region]).volume)
        graph.add_node(
            i,
            households=int(h[i]),
            x=float(pts[i, 0]),
            y=float(pts[i, 1]),
            area_m2=area,
        )
    edges: list[tuple[int, int, float, bool]] = []
    for (a, b), verts in zip(vor.ridge_points.tolist(), vor.ridge_vertices, strict=True):
        if a >= n_atoms or b >= n_atoms or -1 in verts:
            continue
        length = float(np.hypot(*(vor.vertices[verts[0]] - vor.vertices[verts[1]])))
        if length < 1.0:
            continue
        major = bool(block_r[a] != block_r[b] or block_c[a] != block_c[b])
        edges.append((min(a, b), max(a, b), length, major))
    for a, b, length, major in sorted(edges):
        graph.add_edge(
            a,
            b,
            length=length,
            major_length=length if major else 0.0,
            road_class="major" if major else "minor",
        )
    graph.graph["source"] = f"synthetic n={n_atoms} seed={seed}"
    return graph


def build_instance(
    name: str,
    *,
    data_dir: Path | None = None,
    atoms: AtomMode = "roads",
    seed: int = 0,
) -> Instance:
    """Build one named instance.

    Parameters
    ----------
    name : str
        One of :data:`INSTANCE_NAMES` (any ``synth-N`` with a whole ``N`` works too).
    data_dir : pathlib.Path, optional
        Folder holding the Ottawa GeoPackages (default :func:`default_data_dir`).
    atoms : {"roads", "blocks"}
        Atom mode for the real instances.
    seed : int
        Seed of the synthetic instances.

    Returns
    -------
    Instance

    Raises
    ------
    ValueError
        For an unknown name.
    FileNotFoundError
        When the Ottawa data is missing.
    """
    folder = data_dir or default_data_dir()
    makers: dict[str, tuple[Callable[[], nx.Graph], str]] = {
        "demo": (lambda: demo_graph(atoms), f"redistrict demo data, atoms={atoms}"),
        "centretown": (
            lambda: ottawa_graph(_testcase(folder), "ONS_ID_gen3 == 3024", atoms),
            f"Ottawa Centretown (ONS_ID_gen3 3024), atoms={atoms}",
        ),
        "ottawa3": (
            lambda: ottawa_graph(_testcase(folder), None, atoms),
            f"Ottawa Centretown + West Centretown + Sandy Hill, atoms={atoms}",
        ),
    }
    if name.startswith("synth-"):
        size = name.removeprefix("synth-")
        if not size.isdigit():
            raise ValueError(f"unknown instance {name!r}: synthetic ones are synth-N, N atoms")
        n = int(size)
        makers[name] = (lambda: synthetic_graph(n, seed=seed), f"synthetic Voronoi grid, seed {seed}")
    if name not in makers:
        raise ValueError(f"unknown instance {name!r}: choose from {', '.join(INSTANCE_NAMES)} (or synth-N)")
    make, source = makers[name]
    start = time.perf_counter()
    graph = make()
    seconds = time.perf_counter() - start
    log.info("instance %s: %d atoms, %.1f s to build", name, graph.number_of_nodes(), seconds)
    return Instance(
        name=name,
        graph=graph,
        source=source,
        seconds_build=seconds,
        time_limit=DEFAULT_TIME_LIMITS.get(name, 60.0),
    )


def _testcase(folder: Path) -> Path:
    path = folder / _TESTCASE
    if not path.exists():
        raise FileNotFoundError(
            f"Ottawa test case not found at {path}: pass --data-dir or set REDISTRICT_SHARED"
        )
    return path
