"""Sources, households moved, offices kept and service radius on a hand-made 3x3 grid.

Atoms are 100 m squares, id = 3 * row + col::

    6 7 8        community A (甲社区): columns 0 and 1
    3 4 5        community B (乙社区): column 2
    0 1 2

Every atom holds 100 households except atom 2 (50). The plan:
unit 1 = column 0 (A 300), unit 2 = column 1 + atom 2 (A 300, B 50),
unit 3 = atoms 5 and 8 (B 200).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from redistrict.continuity import (
    annotate_units,
    classify_communities,
    committees,
    community_report,
    office_atoms,
    service_radius,
    unit_sources,
)
from redistrict.evaluate import unit_table
from redistrict.load import Inputs
from redistrict.problem import Band, Problem
from redistrict.scenario import parse_scenario

CRS = "EPSG:32189"
UNITS = {0: 1, 3: 1, 6: 1, 1: 2, 4: 2, 7: 2, 2: 2, 5: 3, 8: 3}


def _centre(i: int) -> tuple[float, float]:
    return 100.0 * (i % 3) + 50.0, 100.0 * (i // 3) + 50.0


@pytest.fixture
def atoms() -> gpd.GeoDataFrame:
    ids = list(range(9))
    geoms = [
        shapely.box(100 * (i % 3), 100 * (i // 3), 100 * (i % 3) + 100, 100 * (i // 3) + 100) for i in ids
    ]
    return gpd.GeoDataFrame(
        {
            "households": [100, 100, 50, 100, 100, 100, 100, 100, 100],
            "residents": [300.0, 300.0, 100.0, 300.0, 300.0, 300.0, 300.0, 300.0, 300.0],
            "community_id": ["A" if i % 3 < 2 else "B" for i in ids],
            "unit_id": pd.array([UNITS[i] for i in ids], dtype="Int64"),
        },
        geometry=geoms,
        crs=CRS,
        index=pd.Index(ids, name="atom_id"),
    )


@pytest.fixture
def communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"community_id": ["A", "B"], "name": ["甲社区", "乙社区"]},
        geometry=[shapely.box(0, 0, 200, 300), shapely.box(200, 0, 300, 300)],
        crs=CRS,
    )


@pytest.fixture
def offices() -> gpd.GeoDataFrame:
    # oA in atom 4 (unit 2), oA2 in atom 0 (unit 1), oB in atom 2 (unit 2 as well)
    return gpd.GeoDataFrame(
        {"office_id": ["oA", "oA2", "oB"], "area_m2": [250.0, 500.0, 100.0]},
        geometry=[shapely.Point(_centre(4)), shapely.Point(_centre(0)), shapely.Point(_centre(2))],
        crs=CRS,
    )


@pytest.fixture
def problem(atoms: gpd.GeoDataFrame) -> Problem:
    edges = [(i, i + 1) for i in range(9) if i % 3 < 2] + [(i, i + 3) for i in range(6)]
    return Problem.from_arrays(
        atoms["households"].to_numpy(),
        [_centre(i) for i in range(9)],
        edges,
        nodes=list(range(9)),
        band=Band(200, 400),
    )


def _inputs(
    atoms: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None, offices: gpd.GeoDataFrame | None
) -> Inputs:
    return Inputs(
        blocks=atoms[["households", "residents", "geometry"]],
        roads=gpd.GeoDataFrame({"road_class": [], "major": []}, geometry=[], crs=CRS),
        study_area=shapely.box(0, 0, 300, 300),
        crs=atoms.crs,
        communities=communities,
        offices=offices,
    )


def test_sources_and_households_moved(atoms: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> None:
    src = unit_sources(atoms, communities)
    assert src.index.tolist() == [1, 2, 3]
    assert src["sources"].tolist() == ["甲社区 300", "甲社区 300; 乙社区 50", "乙社区 200"]
    assert src["main_community"].tolist() == ["A", "A", "B"]
    assert src["households_moved"].tolist() == [0, 50, 0]
    # without names the ids are shown; thousands are separated
    big = atoms.assign(households=atoms["households"] * 20)
    assert unit_sources(big)["sources"].tolist()[1] == "A 6,000; B 1,000"


def test_classification(atoms: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> None:
    t = classify_communities(atoms, Band(200, 500), communities)
    assert t[["community_id", "name", "households", "class"]].to_numpy().tolist() == [
        ["A", "甲社区", 600, "oversized"],
        ["B", "乙社区", 250, "in band"],
    ]
    t = classify_communities(atoms, Band(300, 700))
    assert t["class"].tolist() == ["in band", "undersized"]
    # a band in residents classifies by residents: A 1,800, B 700
    res = parse_scenario({"band": {"unit": "residents", "lo": 1000, "hi": 2000}}).band
    assert classify_communities(atoms, res)["class"].tolist() == ["in band", "undersized"]
    report = community_report(atoms, Band(200, 500), communities)
    assert report["units"].tolist() == ["unit 1: 300; unit 2: 300", "unit 3: 200; unit 2: 50"]
    assert report["n_units"].tolist() == [2, 2]
    assert classify_communities(atoms.drop(columns="community_id"), Band()).empty


def test_offices_kept(
    atoms: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, offices: gpd.GeoDataFrame
) -> None:
    table, notes = committees(atoms, offices, communities)
    assert table["office"].tolist() == ["oA2", "oA", ""]
    assert table["committee"].tolist() == ["甲社区", "甲社区", ""]
    assert table["new_committee"].tolist() == [False, False, True]
    assert table["office_area_m2"].iloc[:2].tolist() == [500.0, 250.0]
    assert math.isnan(table["office_area_m2"].iloc[2])
    # oB lies in unit 2, which keeps oA (A contributes 300 households there, B only 50)
    assert len(notes) == 1 and "oB (in unit 2, which keeps oA)" in notes[0]


def test_office_on_a_boundary_or_outside(atoms: gpd.GeoDataFrame) -> None:
    offices = gpd.GeoDataFrame(
        {"office_id": ["z", "edge", "out"]},
        geometry=[shapely.Point(150, 150), shapely.Point(100, 150), shapely.Point(-30, 250)],
        crs=CRS,
    )
    where = office_atoms(atoms, offices)
    assert where.to_dict() == {"edge": 3, "out": 6, "z": 4}


def test_committees_without_offices(atoms: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> None:
    # A's 300+300 go to units 1 and 2 (tie: unit 1 first); B's largest part is unit 3
    table, notes = committees(atoms, None, communities)
    assert table["committee"].tolist() == ["甲社区", "", "乙社区"]
    assert table["new_committee"].tolist() == [False, True, False]
    assert notes == []
    # B merged entirely into unit 2: its committee continues nowhere
    merged = atoms.assign(unit_id=pd.array([1, 1, 2, 1, 1, 2, 1, 1, 2], dtype="Int64"))
    merged.loc[[2, 5, 8], "community_id"] = "B"
    merged.loc[[1, 4, 7], "unit_id"] = 2
    table, notes = committees(merged, None, communities)
    assert table["committee"].tolist() == ["甲社区", "乙社区"]
    # with nothing known every unit is new
    table, _ = committees(atoms.drop(columns="community_id"))
    assert table["new_committee"].all()


def test_service_radius(atoms: gpd.GeoDataFrame, problem: Problem) -> None:
    r = service_radius(problem, atoms["unit_id"])
    # unit 1: centre atom 3, farthest atoms 0 and 6 at 100 m; unit 3: two atoms 100 m apart
    assert r.loc[1] == pytest.approx(100.0)
    assert r.loc[3] == pytest.approx(100.0)
    # unit 2 (atoms 1, 4, 7, 2): centre 1 or 4; the farthest atom is at least 100 m away
    assert r.loc[2] >= 100.0


def test_annotate_units(
    atoms: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    offices: gpd.GeoDataFrame,
    problem: Problem,
) -> None:
    units = unit_table(atoms, atoms["unit_id"], Band(200, 400))
    scenario = parse_scenario(
        {"band": {"lo": 200, "hi": 400}, "service_radius_m": 100.0,
         "costs": {"staff_salary_yuan": 10_000, "households_per_staff": 100}},
    )  # fmt: skip
    locked = pd.Series(["lock 1"] * 3, index=pd.Index([5, 8, 2], name="atom_id"))
    out, notes = annotate_units(
        units, atoms, problem, _inputs(atoms, communities, offices), scenario=scenario, locked=locked
    )
    assert out.columns[-1] == "geometry"
    assert out["households_moved"].tolist() == [0, 50, 0]
    assert out["office"].tolist() == ["oA2", "oA", ""]
    # staff with the scenario's rate: one per 100 households
    assert out["staff_needed"].tolist() == [3, 4, 2]
    # office space: 300 m² minimum; oA (250 m²) lacks 50 m², oA2 (500 m²) lacks none
    assert out["office_shortfall_m2"].tolist()[:2] == [0.0, 50.0]
    assert out["one_time_yuan"].tolist() == [0.0, 0.0, 3_000_000.0]
    assert out["annual_yuan"].tolist() == [230_000.0, 240_000.0, 220_000.0]
    assert out["locked"].tolist() == [False, True, True]
    # unit 2 reaches farther than 100 m from its centre: flagged, not hidden
    assert out["radius_ok"].tolist() == [True, False, True]
    assert out["status"].tolist() == ["ok", "beyond service radius", "ok"]
    assert any("service radius" in n for n in notes)


def test_annotate_units_residents_band(atoms: gpd.GeoDataFrame, problem: Problem) -> None:
    atoms = atoms.drop(columns="community_id")
    units = unit_table(atoms, atoms["unit_id"], Band(200, 400))
    scenario = parse_scenario({"band": {"unit": "residents", "lo": 800, "hi": 1000}})
    out, _ = annotate_units(units, atoms, problem, _inputs(atoms, None, None), scenario=scenario)
    # residents: unit 1 900, unit 2 1,000, unit 3 600 (below 800)
    assert out["residents"].tolist() == [900.0, 1000.0, 600.0]
    assert out["in_band"].tolist() == [True, True, False]
    assert out["status"].tolist() == ["ok", "ok", "below band"]
    assert "sources" not in out.columns and "locked" not in out.columns
    assert out["new_committee"].all() and np.isnan(out["office_area_m2"]).all()
