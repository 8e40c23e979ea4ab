"""The city's subproblem cache: one JSON file per solved group, keyed by a hash of its inputs.

A group's key hashes its arrays, the solve parameters, the cache format and the
redistrict version, so a cached plan is reused only for exactly the same
subproblem; an unreadable or mismatched file is ignored (and re-solved), and
files are written to a temporary name and renamed, so an interrupted run never
leaves a half-written record.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from redistrict._city_groups import Group
from redistrict.errors import InputError
from redistrict.problem import Problem

__all__ = ["cache_key", "group_payload", "prepare_cache", "read_cache", "write_cache"]

log = logging.getLogger(__name__)

#: Version of the cache file format, the decomposition and the search; part of every key.
#: Raise it when a subproblem's plan changes for the same inputs (the package version does
#: not change between commits): 2 when the last-resort split began climbing the unit count.
_CACHE_FORMAT = 2


def _version() -> str:
    try:
        return metadata.version("redistrict")
    except metadata.PackageNotFoundError:  # pragma: no cover - source tree only
        return "source"


def group_payload(problem: Problem, group: Group, params: dict[str, Any]) -> dict[str, Any]:
    """Everything a worker needs to solve one group: numpy arrays and plain values."""
    pos = group.positions
    local = np.full(problem.n, -1, dtype=np.int64)
    local[pos] = np.arange(len(pos), dtype=np.int64)
    e = problem.edges
    keep = (local[e[:, 0]] >= 0) & (local[e[:, 1]] >= 0)
    community = None
    if problem.community is not None:
        codes = problem.community[pos]
        community = np.full(len(pos), -1, dtype=np.int64)
        has = codes >= 0
        community[has] = np.unique(codes[has], return_inverse=True)[1]
    labels = [problem.nodes[i] for i in pos.tolist()]
    if all(isinstance(v, int | np.integer) for v in labels):
        nodes = np.asarray(labels, dtype=np.int64)
    else:  # atoms named otherwise are referred to by position in notes
        nodes = pos.copy()
    return {
        "index": group.index,
        **_places_payload(problem, labels),
        "nodes": nodes,
        "households": problem.households[pos].copy(),
        "xy": problem.xy[pos].copy(),
        "edges": local[e[keep]],
        "edge_major": problem.edge_major[keep].copy(),
        "edge_length": problem.edge_length[keep].copy(),
        "community": community,
        "area": problem.area[pos].copy(),
        **params,
    }


def _places_payload(problem: Problem, labels: list[Any]) -> dict[str, Any]:
    """The names of the group's atoms for its notes (:attr:`Problem.places`), as plain values.

    Names follow the payload's atoms; barrier cuts are kept between atoms with plain
    (int or text) labels. They are part of the cache key: a cached group's notes name
    the communities of the run that solved it.
    """
    places = problem.places
    if places is None:
        return {}
    plain = (int, str, np.integer)
    cuts = [
        [int(a) if isinstance(a, np.integer) else a, int(b) if isinstance(b, np.integer) else b, layer]
        for a in labels
        if isinstance(a, plain)
        for b, layer in places.cuts.get(a, ())
        if isinstance(b, plain)
    ]
    return {"places": {"kind": places.kind, "names": [places.names.get(a, "") for a in labels], "cuts": cuts}}


def cache_key(payload: dict[str, Any]) -> str:
    """Hash of the group's arrays and the parameters."""
    digest = hashlib.sha256(f"redistrict-city-{_CACHE_FORMAT}-{_version()}".encode())
    for name in sorted(payload):
        if name == "index":
            continue
        value = payload[name]
        digest.update(name.encode())
        if isinstance(value, np.ndarray):
            digest.update(str(value.dtype).encode() + str(value.shape).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(json.dumps(value, sort_keys=True).encode())
    return digest.hexdigest()


def read_cache(directory: Path | None, key: str, size: int) -> dict[str, Any] | None:
    if directory is None:
        return None
    path = directory / f"{key}.json"
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("key") != key or len(record.get("labels", ())) != size:
        log.warning("ignoring unreadable cache file %s", path)
        return None
    return record


def write_cache(directory: Path | None, key: str, record: dict[str, Any]) -> None:
    if directory is None:
        return
    path = directory / f"{key}.json"
    tmp = directory / f".{key}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"key": key, **record}), encoding="utf-8")
    os.replace(tmp, path)


def prepare_cache(directory: str | Path | None) -> Path | None:
    if directory is None:
        return None
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise InputError(
            f"the cache folder {path} cannot be written ({exc.strerror or exc}): "
            "give a writable folder with --cache"
        ) from None
    return path
