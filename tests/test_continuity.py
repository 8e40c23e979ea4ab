"""Sources, households moved, offices kept and service radius on a hand-made 3x3 grid.

Atoms are 100 m squares, id = 3 * row + col::

    6 7 8        community A (甲社区): columns 0 and 1
    3 4 5        community B (乙社区): column 2
    0 1 2

Every atom holds 100 households except atom 2 (50). The plan:
unit 1 = column 0 (A 300), unit 2 = column 1 + atom 2 (A 300, B 50),
unit 3 = atoms 5 and 8 (B 200). Offices: oA2 (A) in atom 0 (unit 1), oA (A) in
atom 4 and oB (B) in atom 2 (both unit 2).

Further tests build their own rows of 100 m squares (:func:`_row`).
"""

from __future__ import annotations

import math
from pathlib import Path

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
    # A has an office in units 1 and 2 and 300 households in each: its committee continues
    # in one unit only (tie: unit 1); unit 2 then continues B's committee in oB
    assert table["office"].tolist() == ["oA2", "oB", ""]
    assert table["committee"].tolist() == ["甲社区", "乙社区", ""]
    assert table["committee_id"].tolist() == ["A", "B", ""]
    assert table["new_committee"].tolist() == [False, False, True]
    assert table["office_area_m2"].iloc[:2].tolist() == [500.0, 100.0]
    assert math.isnan(table["office_area_m2"].iloc[2])
    assert len(notes) == 1 and "oA (in unit 2; 甲社区 continues in unit 1)" in notes[0]
    # households moved follow the committee kept: unit 2's 300 A households join B's committee
    src = unit_sources(atoms, communities, table["committee_id"])
    assert src["main_community"].tolist() == ["A", "A", "B"]
    assert src["households_moved"].tolist() == [0, 300, 0]
    # without oA2, unit 2 keeps A's office oA (A serves 300 of its households, B 50)
    table, notes = committees(atoms, offices[offices["office_id"] != "oA2"], communities)
    assert table["office"].tolist() == ["", "oA", ""]
    assert len(notes) == 1 and "oB (in unit 2, which keeps oA)" in notes[0]
    assert unit_sources(atoms, communities, table["committee_id"])["households_moved"].tolist() == [0, 50, 0]


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
    assert table["committee_id"].tolist() == ["A", "B"]
    # with nothing known every unit is new
    table, _ = committees(atoms.drop(columns="community_id"))
    assert table["new_committee"].all()


def test_service_radius(atoms: gpd.GeoDataFrame, problem: Problem) -> None:
    r = service_radius(problem, atoms["unit_id"])
    # the smallest circle round the atom centres: unit 1 (atoms 0, 3, 6 in a column) 100 m,
    # unit 3 (two atoms 100 m apart) 50 m, unit 2 (atoms 1, 4, 7 and 2) half of 1-2's 223.6 m
    assert r.loc[1] == pytest.approx(100.0)
    assert r.loc[3] == pytest.approx(50.0)
    assert r.loc[2] == pytest.approx(float(np.hypot(100, 200)) / 2)


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
    assert "committee_id" not in out.columns
    # unit 2 continues B's committee in oB (A's continues in unit 1): its 300 A households move
    assert out["households_moved"].tolist() == [0, 300, 0]
    assert out["office"].tolist() == ["oA2", "oB", ""]
    assert out["committee"].tolist() == ["甲社区", "乙社区", ""]
    # staff with the scenario's rate: one per 100 households
    assert out["staff_needed"].tolist() == [3, 4, 2]
    # office space: 300 m² minimum; oB (100 m²) lacks 200 m², oA2 (500 m²) lacks none
    assert out["office_shortfall_m2"].tolist()[:2] == [0.0, 200.0]
    assert out["one_time_yuan"].tolist() == [0.0, 0.0, 3_000_000.0]
    assert out["annual_yuan"].tolist() == [230_000.0, 240_000.0, 220_000.0]
    assert out["locked"].tolist() == [False, True, True]
    # unit 2 reaches farther than 100 m from its centre: flagged, not hidden
    assert out["radius_ok"].tolist() == [True, False, True]
    assert out["status"].tolist() == ["ok", "beyond service radius", "ok"]
    assert any(n.startswith("1 unit reaches beyond the service radius") for n in notes)


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


# --- Hand-made rows of 100 m squares: atom i spans x = 100 i .. 100 i + 100 -------------------

DEMO_NAMES = {"bazimen": "八字门社区", "nanjingang": "南津港社区", "hubin": "湖滨社区"}


def _row(households: list[int], community: list[str | None], unit: list[int]) -> gpd.GeoDataFrame:
    """Atoms 0..n-1 in a row, with these households, community ids and units."""
    ids = list(range(len(households)))
    return gpd.GeoDataFrame(
        {
            "households": households,
            "community_id": pd.array(community, dtype=object),
            "unit_id": pd.array(unit, dtype="Int64"),
        },
        geometry=[shapely.box(100 * i, 0, 100 * i + 100, 100) for i in ids],
        crs=CRS,
        index=pd.Index(ids, name="atom_id"),
    )


def _offices_in(where: dict[str, int]) -> gpd.GeoDataFrame:
    """Offices at the centres of the given atoms of a row, 200 m² each."""
    return gpd.GeoDataFrame(
        {"office_id": list(where), "area_m2": [200.0] * len(where)},
        geometry=[shapely.Point(100 * i + 50, 50) for i in where.values()],
        crs=CRS,
    )


def _named(names: dict[str, str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"community_id": list(names), "name": list(names.values())},
        geometry=[shapely.box(0, 0, 1, 1)] * len(names),
        crs=CRS,
    )


def _annotate(
    atoms: gpd.GeoDataFrame, offices: gpd.GeoDataFrame | None, communities: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """:func:`annotate_units` on a row of atoms (as ``plan`` and ``compare`` call it)."""
    n = len(atoms)
    problem = Problem.from_arrays(
        atoms["households"].to_numpy(),
        [(100.0 * i + 50.0, 50.0) for i in range(n)],
        [(i, i + 1) for i in range(n - 1)],
        nodes=list(range(n)),
        band=Band(2000, 3000),
    )
    units = unit_table(atoms, atoms["unit_id"], Band(2000, 3000))
    inputs = Inputs(
        blocks=atoms[["households", "geometry"]],
        roads=gpd.GeoDataFrame({"road_class": [], "major": []}, geometry=[], crs=CRS),
        study_area=shapely.box(0, 0, 100 * n, 100),
        crs=atoms.crs,
        communities=communities,
        offices=offices,
    )
    return annotate_units(units, atoms, problem, inputs)


def _stay(atoms: gpd.GeoDataFrame, unit: int, community: str) -> int:
    """Households of ``community`` in ``unit``."""
    mask = (atoms["unit_id"] == unit) & (atoms["community_id"] == community)
    return int(atoms.loc[mask.fillna(False), "households"].sum())


def test_households_moved_follow_the_committee_kept_demo_units_8_and_12() -> None:
    # The user's report on the demo: unit 8 = 八字门 2,210 + 南津港 319 holds only 南津港's office,
    # unit 12 = 八字门 1,771 + 湖滨 1,107 only 湖滨's; 八字门's office lies in unit 5.
    atoms = _row(
        [319, 1200, 1010, 1000, 1098, 1771, 1107],
        ["nanjingang", "bazimen", "bazimen", "bazimen", "bazimen", "bazimen", "hubin"],
        [8, 8, 8, 5, 5, 12, 12],
    )
    offices = _offices_in({"nanjingang-office": 0, "bazimen-office": 4, "hubin-office": 6})
    out, _ = _annotate(atoms, offices, _named(DEMO_NAMES))
    out = out.set_index("unit_id")
    assert out.loc[8, "sources"] == "八字门社区 2,210; 南津港社区 319"
    assert out.loc[12, "sources"] == "八字门社区 1,771; 湖滨社区 1,107"
    assert out["main_community"].to_dict() == {5: "bazimen", 8: "bazimen", 12: "bazimen"}
    assert out["committee"].to_dict() == {5: "八字门社区", 8: "南津港社区", 12: "湖滨社区"}
    assert out["office"].to_dict() == {5: "bazimen-office", 8: "nanjingang-office", 12: "hubin-office"}
    # the 319 (1,107) households keeping their committee and office stay; the 八字门 ones move
    assert out["households_moved"].to_dict() == {5: 0, 8: 2210, 12: 1771}
    # every unit that keeps a committee: moved + households of that committee = households
    names = {v: k for k, v in DEMO_NAMES.items()}
    for unit, row in out.iterrows():
        assert row["households_moved"] + _stay(atoms, int(unit), names[row["committee"]]) == row["households"]


def test_households_moved_without_offices_follow_the_committee_continued() -> None:
    # A's committee continues in unit 1 (600 of its households); unit 2 (A 500, B 300) holds
    # B's largest part and continues B's committee, so its 500 A households move
    atoms = _row([600, 500, 300, 100], ["A", "A", "B", "B"], [1, 2, 2, 3])
    out, notes = _annotate(atoms, None, None)
    assert out["main_community"].tolist() == ["A", "A", "B"]
    assert out["committee"].tolist() == ["A", "B", ""]
    assert out["new_committee"].tolist() == [False, False, True]
    assert out["households_moved"].tolist() == [0, 500, 0]
    assert notes == []
    # the same with the atoms listed in another order
    shuffled = atoms.iloc[[3, 1, 0, 2]]
    again, _ = _annotate(shuffled.sort_index(), None, None)
    assert again["households_moved"].tolist() == [0, 500, 0]
    table, _ = committees(shuffled)
    assert table["committee_id"].tolist() == ["A", "B", ""]


def test_two_units_with_the_same_main_community_and_an_office_each() -> None:
    # A has an office in unit 1 (A 1,000) and one in unit 2 (A 1,500, B 400, B's office too):
    # A's committee continues once, in unit 2 (more of its households); unit 1's new
    # committee moves into a1, the building in it that no unit keeps: no new office is
    # costed (as without communities, where each unit keeps the office in it).
    atoms = _row([1000, 1500, 400], ["A", "A", "B"], [1, 2, 2])
    offices = _offices_in({"a1": 0, "a2": 1, "b": 2})
    table, notes = committees(atoms, offices)
    assert table["office"].tolist() == ["a1", "a2"]
    assert table["committee_id"].tolist() == ["", "A"]
    # unit 1's committee is new all the same (counted, staffed and funded as new);
    # only its building is not (it was reported as no new committee at all)
    assert table["new_committee"].tolist() == [True, False]
    assert table["new_office"].tolist() == [False, False]
    assert table["office_community"].tolist() == ["A", ""]
    assert len(notes) == 1
    assert "a1" not in notes[0]
    assert "b (in unit 2, which keeps a2)" in notes[0]
    assert committees(atoms.drop(columns="community_id"), offices)[0]["office"].tolist() == ["a1", "a2"]
    moved = unit_sources(atoms, None, table["committee_id"])["households_moved"]
    assert moved.tolist() == [0, 400]
    # a tie goes to the smaller unit id, whatever the office ids
    atoms = _row([1000, 1000], ["A", "A"], [2, 1])
    table, _ = committees(atoms, _offices_in({"a": 0, "b": 1}))
    assert table["committee_id"].tolist() == ["A", ""]
    assert table["office"].tolist() == ["b", "a"]  # unit 2's new committee uses a


def test_a_unit_with_several_offices_keeps_its_main_communitys() -> None:
    # one unit: C (0 households: an office block), A 500, B 100, 50 households in no community
    atoms = _row([0, 500, 100, 50], ["C", "A", "B", None], [1, 1, 1, 1])
    where = {"0-none": 3, "a-c": 0, "m-b": 2, "z-a": 1}
    table, notes = committees(atoms, _offices_in(where))
    assert table["office"].tolist() == ["z-a"]
    assert table["committee_id"].tolist() == ["A"]
    assert notes[0].startswith("3 existing offices are kept by no unit")
    for office in ("0-none", "a-c", "m-b"):
        assert f"{office} (in unit 1, which keeps z-a)" in notes[0]
    # without A's office: B's (100 households) beats C's (none) and the one in no community
    expected = [("m-b", "B", 550), ("a-c", "C", 650), ("0-none", "", 150)]
    for office, committee, moved in expected:
        table, _ = committees(atoms, _offices_in({k: v for k, v in where.items() if k <= office}))
        assert table["office"].tolist() == [office]
        assert table["committee_id"].tolist() == [committee]
        assert table["new_committee"].tolist() == [False]
        # an office in no community continues no committee: moved against the main community
        src = unit_sources(atoms, None, table["committee_id"])
        assert src["households_moved"].tolist() == [moved]


def test_of_two_offices_of_one_community_a_unit_keeps_the_larger() -> None:
    atoms = _row([500, 500], ["A", "A"], [1, 1])
    offices = _offices_in({"a-small": 0, "b-big": 1, "c-unknown": 1}).assign(area_m2=[350.0, 900.0, math.nan])
    table, notes = committees(atoms, offices)
    assert table["office"].tolist() == ["b-big"]
    assert table["office_area_m2"].tolist() == [900.0]
    assert "a-small (in unit 1, which keeps b-big)" in notes[0]


def test_a_community_without_households_is_reported_where_its_atoms_went() -> None:
    # C (a campus: no households) lies in units 1 and 2; it was reported in no unit.
    atoms = _row([500, 0, 0, 400], ["A", "C", "C", "B"], [1, 1, 2, 2])
    report = community_report(atoms, Band(300, 700)).set_index("community_id")
    assert report.loc["C", "units"] == "unit 1: 0; unit 2: 0"
    assert report.loc["C", "n_units"] == 2
    assert report.loc["A", "units"] == "unit 1: 500" and report.loc["A", "n_units"] == 1


def test_unit_sources_against_a_given_committee() -> None:
    atoms = _row([700, 300, 200], ["A", "B", "B"], [1, 1, 2])
    assert unit_sources(atoms)["households_moved"].tolist() == [300, 0]
    kept = pd.Series(["B", "A"], index=pd.Index([1, 2], name="unit_id"))
    # unit 2 "keeps" A, which has no households there: all of them move
    assert unit_sources(atoms, committee=kept)["households_moved"].tolist() == [700, 200]
    # empty, missing or absent: against the main community
    for kept in (pd.Series(["", None], index=[1, 2]), pd.Series(["B"], index=[2])):
        assert unit_sources(atoms, committee=kept)["households_moved"].tolist() == [300, 0]


def test_blocks_outside_every_community_belong_to_none(tmp_path: Path, ottawa_testcase: Path) -> None:
    # The communities layer without Sandy Hill (3104): its 7,431 households used to be
    # credited silently to the nearest community, Centretown (27,764 instead of 20,333).
    from redistrict.atoms import build_atoms
    from redistrict.load import load_inputs

    layer = gpd.read_file(ottawa_testcase, layer="ons_neighbourhoods")
    path = tmp_path / "communities.gpkg"
    layer[layer["ONS_ID"].astype(str) != "3104"].to_file(path, layer="communities")
    inputs = load_inputs(
        f"{ottawa_testcase}:roads",
        f"{ottawa_testcase}:dissemination_blocks",
        "dburdwell2021",
        communities=f"{path}:communities",
        community_id="ONS_ID",
        community_name="ONS_Name",
    )
    built = build_atoms(inputs, max_households=3000)
    (warning,) = built.warnings
    assert warning in built.notes
    assert warning.startswith(
        f"communities ({path}:communities): 7,431 of the 32,843 households (23%) lie in"
    )
    assert "atoms outside every community polygon" in warning
    assert "add the missing communities to the layer" in warning
    atoms = built.atoms
    per_community = atoms.groupby("community_id")["households"].sum().to_dict()
    assert per_community == {"": 7431, "3024": 20333, "3115": 5079}
    table = classify_communities(atoms, Band(2000, 3000), inputs.communities)
    assert table.set_index("community_id")["households"].to_dict() == {"3024": 20333, "3115": 5079}
    # With every community present, every household has one and nothing is said.
    full = load_inputs(
        f"{ottawa_testcase}:roads",
        f"{ottawa_testcase}:dissemination_blocks",
        "dburdwell2021",
        communities=f"{ottawa_testcase}:ons_neighbourhoods",
        community_id="ONS_ID",
    )
    every = build_atoms(full, max_households=3000)
    assert every.warnings == []
    assert "" not in set(every.atoms["community_id"])


def test_compounds_across_the_street_from_a_missing_community_belong_to_none(tmp_path: Path) -> None:
    # Community lines run along road centre lines and compounds stand 8 m back from them. With
    # the community east of the middle road missing from the layer, its compounds lay within
    # 30 m of the west community's edge and were all credited to it (west: 4,800 households
    # and oversized instead of 2,400); only slivers along an edge should be.
    from redistrict.atoms import build_atoms
    from redistrict.load import load_inputs

    crs, cell, back = "EPSG:32650", 200.0, 8.0
    compounds = [
        shapely.box(i * cell + back, j * cell + back, (i + 1) * cell - back, (j + 1) * cell - back)
        for i in range(4)
        for j in range(2)
    ]
    blocks = gpd.GeoDataFrame({"hh": [600] * 8}, geometry=compounds, crs=crs)
    lines = [shapely.LineString([(k * cell, 0), (k * cell, 2 * cell)]) for k in range(5)]
    lines += [shapely.LineString([(0, k * cell), (4 * cell, k * cell)]) for k in range(3)]
    roads = gpd.GeoDataFrame({"highway": ["residential"] * len(lines)}, geometry=lines, crs=crs)
    west = gpd.GeoDataFrame({"cid": ["W"]}, geometry=[shapely.box(0, 0, 2 * cell, 2 * cell)], crs=crs)
    area = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 4 * cell, 2 * cell)], crs=crs)
    path = tmp_path / "in.gpkg"
    for name, frame in (("blocks", blocks), ("roads", roads), ("communities", west), ("area", area)):
        frame.to_file(path, layer=name, engine="pyogrio")
    inputs = load_inputs(
        f"{path}:roads", f"{path}:blocks", "hh", communities=f"{path}:communities", community_id="cid",
        study_area=f"{path}:area",
    )  # fmt: skip
    built = build_atoms(inputs, max_households=3000)
    assert built.atoms.groupby("community_id")["households"].sum().to_dict() == {"": 2400, "W": 2400}
    (warning,) = built.warnings
    assert "2,400 of the 4,800 households (50%) lie in" in warning
    assert "add the missing communities to the layer" in warning


def test_a_compound_between_two_communities_joins_the_nearer() -> None:
    # A 64 m strip between A and B, no polygon over it: a compound there lies within 30 m of
    # one or the other everywhere, but less than half of it within reach of either alone.
    from redistrict.atoms import _community_of

    comms = gpd.GeoDataFrame(
        {"community_id": ["A", "B"]}, geometry=[shapely.box(0, 0, 200, 200), shapely.box(264, 0, 464, 200)],
        crs="EPSG:32650",
    )  # fmt: skip
    cells = np.array([shapely.box(202, 50, 262, 150), shapely.box(236, 50, 262, 150)], dtype=object)
    assert _community_of(cells, comms).tolist() == ["A", "B"]


def test_communities_cut_by_the_study_area_are_warned_about(tmp_path: Path) -> None:
    # The study area takes half of E: E's class counted only the households inside (classed
    # in the band, and kept "as it is" by minimal-change, with half of its households).
    from redistrict.atoms import build_atoms
    from redistrict.load import load_inputs

    crs, cell = "EPSG:32650", 200.0
    compounds = [
        shapely.box(i * cell + 8, j * cell + 8, (i + 1) * cell - 8, (j + 1) * cell - 8)
        for i in range(4)
        for j in range(2)
    ]
    column = [i for i in range(4) for _j in range(2)]
    blocks = gpd.GeoDataFrame({"hh": [600] * 8, "col": column}, geometry=compounds, crs=crs)
    lines = [shapely.LineString([(k * cell, 0), (k * cell, 2 * cell)]) for k in range(5)]
    lines += [shapely.LineString([(0, k * cell), (4 * cell, k * cell)]) for k in range(3)]
    roads = gpd.GeoDataFrame({"highway": ["residential"] * len(lines)}, geometry=lines, crs=crs)
    halves = [shapely.box(0, 0, 2 * cell, 2 * cell), shapely.box(2 * cell, 0, 4 * cell, 2 * cell)]
    communities = gpd.GeoDataFrame(
        {"cid": ["W", "E"], "name": ["西社区", "东社区"]}, geometry=halves, crs=crs
    )
    path = tmp_path / "in.gpkg"
    for name, frame in (("blocks", blocks), ("roads", roads), ("communities", communities)):
        frame.to_file(path, layer=name, engine="pyogrio")
    for name, box_ in (
        ("whole", shapely.box(0, 0, 4 * cell, 2 * cell)),
        ("cut", shapely.box(0, 0, 3 * cell, 2 * cell)),
    ):
        gpd.GeoDataFrame(geometry=[box_], crs=crs).to_file(path, layer=name, engine="pyogrio")

    def warnings(area: str, where: str | None = None) -> list[str]:
        inputs = load_inputs(
            f"{path}:roads", f"{path}:blocks", "hh", communities=f"{path}:communities", community_id="cid",
            community_name="name", study_area=f"{path}:{area}", where=where,
        )  # fmt: skip
        return build_atoms(inputs, max_households=3000).warnings

    assert warnings("whole") == []
    # without --study-area and --where every household is inside the area drawn round the
    # blocks: the land a polygon holds beyond it (here E's east half, a park) is no cut
    west = blocks[blocks["col"] < 3]
    west.set_geometry(west.centroid).to_file(path, layer="west", engine="pyogrio")  # address points
    inputs = load_inputs(
        f"{path}:roads", f"{path}:west", "hh", communities=f"{path}:communities", community_id="cid",
        community_name="name",
    )  # fmt: skip
    assert build_atoms(inputs, max_households=3000).warnings == []
    (warning,) = warnings("cut", "col < 3")
    assert warning.startswith(
        "1 community reaches far beyond the study area: 东社区 (50% of its area inside, 1,200 households)"
    )


def test_every_released_office_is_counted_in_the_note() -> None:
    # 13 offices in one unit: 12 are released; the note lists 10 and says how many more
    # (it used to stop at 10 without a word, and planners read it to find free buildings).
    atoms = _row([500] * 13, [f"C{i:02d}" for i in range(13)], [1] * 13)
    table, notes = committees(atoms, _offices_in({f"o{i:02d}": i for i in range(13)}))
    kept = table["office"].iloc[0]
    assert notes[0].startswith("12 existing offices are kept by no unit")
    assert notes[0].endswith(" and 2 more")
    assert sum(f"o{i:02d} (in unit 1" in notes[0] for i in range(13)) == 10
    assert f"{kept} (in unit 1" not in notes[0]


def test_service_radius_reaches_the_villages_not_the_atom_centres() -> None:
    # A township of two atoms: a 6 x 4 km atom with three villages (points) near its far
    # corners, and a small empty atom. Measured between atom centres, the big unit's radius
    # was 0 (one atom) whatever the distance to its villages.
    big, small = shapely.box(0, 0, 6000, 4000), shapely.box(6000, 0, 6500, 4000)
    atoms = gpd.GeoSeries([big, small], index=pd.Index([10, 11], name="atom_id"), crs=CRS)
    villages = gpd.GeoDataFrame(
        {"households": [900, 800, 0, 700]},
        geometry=[shapely.Point(500, 500), shapely.Point(5500, 3500), shapely.Point(5900, 100),
                  shapely.Point(6200, 2000)],
        crs=CRS,
    )  # fmt: skip
    problem = Problem.from_arrays(
        np.array([1700, 700]), [(3000.0, 2000.0), (6250.0, 2000.0)], [(0, 1)], nodes=[10, 11],
        band=Band(1000, 3000),
    )  # fmt: skip
    labels = pd.Series([1, 2], index=pd.Index([10, 11], name="atom_id"))
    assert service_radius(problem, labels).tolist() == [0.0, 0.0]
    r = service_radius(problem, labels, atoms, villages)
    # half the 5,831 m from (500, 500) to (5500, 3500); the village of no households at
    # (5900, 100) does not count, nor does the other unit's village
    assert r.loc[1] == pytest.approx(float(np.hypot(5000, 3000)) / 2)
    assert r.loc[2] == pytest.approx(0.0)
    # one village more, at (500, 3900): the circle must hold three villages
    more = pd.concat([villages, villages.iloc[[0]].set_geometry([shapely.Point(500, 3900)], crs=CRS)])
    assert service_radius(problem, labels, atoms, more).loc[1] > r.loc[1]


def test_service_radius_ignores_a_neighbour_block_overhanging_by_a_strip() -> None:
    # Block C (atom 11's) overhangs atom 10 by 0.3 m of digitising noise: attaching gives it
    # no share of atom 10, and neither does the radius (it stretched unit 1's circle).
    atoms = gpd.GeoSeries(
        [shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
        index=pd.Index([10, 11], name="atom_id"), crs=CRS,
    )  # fmt: skip
    blocks = gpd.GeoDataFrame(
        {"households": [500, 500, 500]},
        geometry=[shapely.box(100, 100, 200, 200), shapely.box(800, 800, 900, 900),
                  shapely.box(999.7, 0, 1900, 1000)],
        crs=CRS,
    )  # fmt: skip
    problem = Problem.from_arrays(
        np.array([1000, 500]), [(500.0, 500.0), (1500.0, 500.0)], [(0, 1)], nodes=[10, 11],
        band=Band(400, 3000),
    )  # fmt: skip
    labels = pd.Series([1, 2], index=pd.Index([10, 11], name="atom_id"))
    r = service_radius(problem, labels, atoms, blocks)
    assert r.loc[1] == pytest.approx(float(np.hypot(700, 700)) / 2)
    assert r.loc[2] == pytest.approx(0.0)
