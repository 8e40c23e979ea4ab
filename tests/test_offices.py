"""The community an existing office belongs to: where it stands, or the offices' own column.

An office rented across the street stands in a neighbour's polygon. ``--office-community
COL`` names the community each office belongs to; the committee a unit keeping the office
continues, the households it moves and its costs follow that community. The search does not
weigh offices: the option changes what a plan is credited with, not the plan.

The grid: a community D (column 0, 2 blocks of 500 households) next to C (4 x 2 blocks of
550). Both offices stand in D's blocks; oC belongs to C.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box
from shapely.ops import unary_union

from redistrict.errors import InputError
from redistrict.load import load_inputs
from redistrict.pipeline import PlanOptions, PlanResult, check_conservation, run_plan
from redistrict.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
CRS = "EPSG:32189"
X0, Y0 = 367_000.0, 5_030_000.0
CELL = 200.0


def _write(tmp_path: Path, nx: int, ny: int, offices: dict[str, tuple[float, float, str]]) -> dict[str, str]:
    """Blocks, roads, communities (column 0 is D, the rest C) and offices of an nx x ny grid."""
    cells = [
        box(X0 + i * CELL, Y0 + j * CELL, X0 + (i + 1) * CELL, Y0 + (j + 1) * CELL)
        for j in range(ny)
        for i in range(nx)
    ]
    comm = ["D" if i == 0 else "C" for _j in range(ny) for i in range(nx)]
    hh = [1000 // ny if c == "D" else 4400 // ((nx - 1) * ny) for c in comm]
    blocks = gpd.GeoDataFrame({"hh": hh}, geometry=cells, crs=CRS)
    lines = [LineString([(X0 + k * CELL, Y0), (X0 + k * CELL, Y0 + ny * CELL)]) for k in range(nx + 1)]
    lines += [LineString([(X0, Y0 + k * CELL), (X0 + nx * CELL, Y0 + k * CELL)]) for k in range(ny + 1)]
    roads = gpd.GeoDataFrame({"highway": ["residential"] * len(lines)}, geometry=lines, crs=CRS)
    polygons = [unary_union([g for g, c in zip(cells, comm, strict=True) if c == k]) for k in ("C", "D")]
    communities = gpd.GeoDataFrame({"cid": ["C", "D"], "name": ["Cee", "Dee"]}, geometry=polygons, crs=CRS)
    ids = sorted(offices)
    office_frame = gpd.GeoDataFrame(
        {"oid": ids, "belongs": [offices[o][2] for o in ids]},
        geometry=[Point(X0 + offices[o][0] * CELL, Y0 + offices[o][1] * CELL) for o in ids],
        crs=CRS,
    )
    path = tmp_path / "in.gpkg"
    for name, frame in (("blocks", blocks), ("roads", roads), ("communities", communities)):
        frame.to_file(path, layer=name, engine="pyogrio")
    office_frame.to_file(path, layer="offices", engine="pyogrio")
    return {
        "roads": f"{path}:roads", "blocks": f"{path}:blocks", "households": "hh",
        "communities": f"{path}:communities", "community_id": "cid", "offices": f"{path}:offices",
        "office_id": "oid",
    }  # fmt: skip


def _minimal_change(args: dict[str, str]) -> PlanResult:
    inputs = load_inputs(**args)  # type: ignore[arg-type]
    scenario = load_scenario(REPO / "data" / "scenarios" / "minimal-change.toml")
    options = scenario.plan_options(inputs, PlanOptions(time_limit=10, budget="work", seed=0))
    result = run_plan(inputs, options)
    check_conservation(inputs, result.atoms, result.units)
    return result


def test_an_office_across_the_street_is_credited_to_its_own_community() -> None:
    from redistrict.continuity import committees

    # D's unit 1 (atom 0) holds both offices: oD of D, and oC of C rented across the street.
    atoms = gpd.GeoDataFrame(
        {"unit_id": pd.array([1, 2, 2], dtype="Int64"), "households": [2000, 1200, 1200],
         "community_id": ["D", "C", "C"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)],
        crs=CRS, index=pd.Index([0, 1, 2], name="atom_id"),
    )  # fmt: skip
    points = [Point(20, 50), Point(80, 50)]
    offices = gpd.GeoDataFrame({"office_id": ["oC", "oD"]}, geometry=points, crs=CRS)
    # By location both are D's: the unit keeps the first, oC, as D's office.
    table, _ = committees(atoms, offices)
    assert table.loc[1, ["office", "committee_id"]].tolist() == ["oC", "D"]
    named = offices.assign(community_id=["C", ""])  # oD's empty value: where it stands
    table, notes = committees(atoms, named)
    assert table.loc[1, ["office", "committee_id"]].tolist() == ["oD", "D"]
    # oC stands in unit 1, which holds none of C's households: it serves unit 2, all C's, which
    # continues C's committee in it (it used to be left free, and unit 2 costed a new office).
    assert table.loc[2, ["office", "committee_id"]].tolist() == ["oC", "C"]
    assert not table.loc[2, "new_office"] and not table.loc[2, "new_committee"]
    assert notes == []


def test_a_reused_office_names_the_community_it_belongs_to() -> None:
    from redistrict.continuity import committees

    # Unit 1 keeps oD (D's); unit 2, all C's, holds oX, which stands in C but belongs to D: D's
    # committee continues in unit 1, so unit 2 houses its new committee in oX, formerly D's.
    atoms = gpd.GeoDataFrame(
        {"unit_id": pd.array([1, 2], dtype="Int64"), "households": [2000, 2400], "community_id": ["D", "C"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
        crs=CRS, index=pd.Index([0, 1], name="atom_id"),
    )  # fmt: skip
    offices = gpd.GeoDataFrame(
        {"office_id": ["oD", "oX"], "community_id": ["D", "D"]},
        geometry=[Point(50, 50), Point(150, 50)],
        crs=CRS,
    )
    table, notes = committees(atoms, offices)
    assert table.loc[1, ["office", "committee_id"]].tolist() == ["oD", "D"]
    assert table.loc[2, ["office", "committee_id", "office_community"]].tolist() == ["oX", "", "D"]
    assert table.loc[2, "new_committee"] and not table.loc[2, "new_office"]
    assert notes == []


def test_the_plan_is_the_same_but_the_office_is_credited_to_its_own_community(tmp_path: Path) -> None:
    # Both offices stand in D's blocks; oC belongs to C (oD's value is empty: where it stands).
    args = _write(tmp_path, 5, 2, {"oC": (0.5, 0.5, "C"), "oD": (0.5, 1.5, "")})
    by_location = _minimal_change(args)
    credited = _minimal_change({**args, "office_community": "belongs"})
    # the option does not steer the search: the same plan, credited differently
    assert credited.atoms["unit_id"].equals(by_location.atoms["unit_id"])
    before = by_location.units.set_index("unit_id")
    after = credited.units.set_index("unit_id")
    (unit,) = before.index[before["sources"].str.contains("Dee")]  # D's blocks (both offices) in one unit
    assert before.loc[unit, "sources"] == "Cee 1,650; Dee 1,000"
    # by location oC is D's: the unit continues D's committee and moves C's 1,650 households
    assert before.loc[unit, ["office", "committee", "households_moved"]].tolist() == ["oC", "Dee", 1650]
    # oC is C's: the unit continues C's committee and moves D's 1,000
    assert after.loc[unit, ["office", "committee", "households_moved"]].tolist() == ["oC", "Cee", 1000]
    assert after["committee"].tolist().count("Cee") == 1
    assert not any("keeps none of" in n for n in by_location.notes)
    assert (
        "1 community keeps none of its offices, so its committee continues in no unit: "
        f"Dee (office oD in unit {unit}, which continues Cee's committee)"
    ) in credited.notes
    assert any("1 office has no value in column 'belongs' (--office-community)" in n for n in credited.notes)
    assert credited.inputs.options["office_community"] == "belongs"
    assert by_location.inputs.options["office_community"] is None


def test_office_community_values_must_be_community_ids(tmp_path: Path) -> None:
    args = _write(tmp_path, 5, 2, {"o1": (0.5, 0.5, "Cee"), "o2": (1.5, 0.5, "X"), "o3": (2.5, 0.5, "C")})
    with pytest.raises(InputError) as info:
        load_inputs(**args, office_community="belongs")  # type: ignore[arg-type]
    (problem,) = info.value.problems
    path = args["offices"]
    assert problem.startswith(f"offices ({path}): column 'belongs' (--office-community) names 2 communities")
    assert "not in column 'cid' (--community-id) of communities (" in problem
    assert (
        "offices o1, o2 give 'Cee', 'X'; the known community ids are 'C', 'D'. Correct those values"
        in problem
    )
    (tmp_path / "one").mkdir()
    one = _write(tmp_path / "one", 5, 2, {"o1": (0.5, 0.5, "C"), "o2": (1.5, 0.5, "X")})
    with pytest.raises(
        InputError, match=r"office o2 gives 'X'; the known community ids are 'C', 'D'\. Correct that"
    ):
        load_inputs(**one, office_community="belongs")  # type: ignore[arg-type]
    assert "choose another column with --office-community" in problem
    # a missing column is named with the columns there are; without communities nothing to match
    with pytest.raises(
        InputError, match=r"'belong' \(given with --office-community\) not found; did you mean"
    ):
        load_inputs(**args, office_community="belong")  # type: ignore[arg-type]
    alone = {k: v for k, v in args.items() if k not in ("communities", "community_id")}
    with pytest.raises(InputError, match=r"no communities are given: add --communities"):
        load_inputs(**alone, office_community="belongs")  # type: ignore[arg-type]
    # every problem at once: a bad --office-area too
    with pytest.raises(InputError) as both:
        load_inputs(**args, office_community="belongs", office_area="nope")  # type: ignore[arg-type]
    assert len(both.value.problems) == 2


def test_plan_reads_the_office_community_option(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from redistrict.cli import app

    args = _write(tmp_path, 5, 2, {"oC": (0.5, 0.5, "C"), "oD": (0.5, 1.5, "D")})
    out = tmp_path / "out"
    cli = [
        "plan", "--roads", args["roads"], "--blocks", args["blocks"], "--households", "hh",
        "--communities", args["communities"], "--community-id", "cid", "--offices", args["offices"],
        "--office-id", "oid", "--office-community", "belongs", "--scenario",
        str(REPO / "data" / "scenarios" / "minimal-change.toml"), "--time-limit", "10", "--budget", "work",
        "--lang", "en", "--out", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(app, cli)
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", keep_default_na=False)
    kept = summary[summary["office"] != ""]
    # oC stands in D's block but belongs to C: its unit continues C's committee, not D's
    assert dict(zip(kept["office"], kept["committee"], strict=True)) == {"oC": "Cee"}
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["input_options"]["office_community"] == "belongs"
    for command in ("plan", "compare", "city"):
        assert "--office-community" in CliRunner().invoke(app, [command, "--help"]).output


def test_lost_offices_without_communities_or_offices_say_nothing() -> None:
    from redistrict.continuity import lost_offices, office_communities  # new: the old code has neither

    atoms = gpd.GeoDataFrame(
        {"unit_id": pd.array([1, 1], dtype="Int64"), "households": [5, 5]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=CRS,
    )
    offices = gpd.GeoDataFrame({"office_id": ["a"]}, geometry=[Point(0.5, 0.5)], crs=CRS)
    table = pd.DataFrame({"office": ["a"], "committee_id": [""]}, index=pd.Index([1], name="unit_id"))
    assert lost_offices(atoms, offices, table) == []
    assert lost_offices(atoms, offices.iloc[:0], table) == []
    assert office_communities(atoms, offices).to_dict() == {"a": ""}


def test_lost_offices_names_each_community_whose_committee_continues_nowhere() -> None:
    from redistrict.continuity import committees, lost_offices

    # Unit 1: D 2,000 and F 100, offices oD (D's), oC (C's, across the street) and oF (F's).
    # Unit 2: C 1,200 and E 1,300, offices oC2 (C's, where it stands) and oE (E's, in a C block).
    atoms = gpd.GeoDataFrame(
        {"unit_id": pd.array([1, 1, 2, 2], dtype="Int64"), "households": [2000, 100, 1200, 1300],
         "community_id": ["D", "F", "C", "E"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100), box(300, 0, 400, 100)],
        crs=CRS, index=pd.Index([0, 1, 2, 3], name="atom_id"),
    )  # fmt: skip
    offices = gpd.GeoDataFrame(
        {"office_id": ["oC", "oC2", "oD", "oE", "oF"], "community_id": ["C", None, "D", "E", "F"]},
        geometry=[Point(20, 50), Point(220, 50), Point(50, 50), Point(250, 50), Point(80, 50)],
        crs=CRS,
    )
    table, _ = committees(atoms, offices)
    assert table["committee_id"].tolist() == ["D", "E"]
    assert lost_offices(atoms, offices, table) == [
        "2 communities keep none of their offices, so their committees continue in no unit: "
        "C (office oC in unit 1, which continues D's committee; office oC2 in unit 2, which continues "
        "E's committee), F (office oF in unit 1, which continues D's committee)"
    ]
    # by location every office is D's or C's and both committees continue (E and F have no office)
    by_location = offices.drop(columns="community_id")
    table, _ = committees(atoms, by_location)
    assert table["committee_id"].tolist() == ["D", "C"]
    assert lost_offices(atoms, by_location, table) == []


def test_an_office_across_the_street_does_not_displace_the_one_inside() -> None:
    from redistrict.continuity import committees

    # X has oA inside its unit and a larger oC rented across the street, in Y's unit. oC serves
    # X's unit too, but the office standing in it comes first: oC stays free for Y's new
    # committee (it displaced oA, and Y's unit was costed a new office).
    atoms = gpd.GeoDataFrame(
        {"unit_id": pd.array([1, 1, 2], dtype="Int64"), "households": [1200, 1200, 2400],
         "community_id": ["X", "X", "Y"]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)],
        crs=CRS, index=pd.Index([0, 1, 2], name="atom_id"),
    )  # fmt: skip
    offices = gpd.GeoDataFrame(
        {"office_id": ["oA", "oC"], "area_m2": [300.0, 500.0], "community_id": ["X", "X"]},
        geometry=[Point(50, 50), Point(250, 50)],
        crs=CRS,
    )
    table, notes = committees(atoms, offices)
    assert table.loc[1, ["office", "committee_id"]].tolist() == ["oA", "X"]
    assert table.loc[2, "office"] == "oC" and not table.loc[2, "new_office"]
    assert notes == []
