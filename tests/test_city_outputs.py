"""The files of ``redistrict city``: as complete as ``plan``'s, on a selection of real Ottawa data.

One small city run (five neighbourhoods of the whole-city data, four of them
under 2,000 households) is shared by the tests: it merges a chain of small
communities into one subproblem and leaves one community alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from redistrict._map_style import COMMUNITY
from redistrict.cli import app
from redistrict.continuity import community_report
from redistrict.problem import Band

#: Neighbourhoods selected: 3030 (20 households), 3001 (321), 3072 (1,127) and 3051 (928)
#: touch each other; 3094 (2,083) lies apart.
SELECTED = ["3001", "3030", "3051", "3072", "3094"]


@pytest.fixture(scope="module")
def city_out(tmp_path_factory: pytest.TempPathFactory, ottawa_city: Path) -> Path:
    out = tmp_path_factory.mktemp("city") / "out"
    f = str(ottawa_city)
    result = CliRunner().invoke(app, [
        "city", "--roads", f"{f}:roads_statcan_rnf2021", "--blocks", f"{f}:dissemination_blocks_2021",
        "--households", "dburdwell2021", "--residents", "dbpop2021", "--road-class", "RANK",
        "--communities", f"{f}:ons_neighbourhoods_gen3", "--community-id", "ONS_ID",
        "--community-name", "ONS_Name", "--where", f"ONS_ID_gen3 in {SELECTED}", "--atoms", "blocks",
        "--time-limit", "1", "--scheduler", "synchronous", "--no-cache", "--lang", "en",
        "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def read_record(out: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return record


def test_communities_csv_has_one_row_per_community_like_plan(city_out: Path) -> None:
    table = pd.read_csv(city_out / "communities.csv", dtype={"community_id": str, "subproblems": str})
    assert table["community_id"].tolist() == SELECTED
    summary = pd.read_csv(city_out / "summary.csv")
    assert int(table["households"].sum()) == int(summary["households"].sum())
    # The table `plan` writes, computed again from the written atoms, plus the subproblems.
    atoms = gpd.read_file(city_out / "plan.gpkg", layer="atoms")
    expected = community_report(atoms, Band(2000, 3000))
    assert table.columns.tolist() == [*expected.columns, "subproblems"]
    for col in ("households", "atoms", "class", "n_units", "units"):
        assert table[col].tolist() == expected[col].tolist(), col
    assert table.set_index("community_id").loc["3001", "name"] == "AIRPORT"
    # Each community lies in the subproblem subproblems.csv lists it in.
    sub = pd.read_csv(city_out / "subproblems.csv", dtype={"communities": str})
    listed = {c: str(row.subproblem) for row in sub.itertuples() for c in str(row.communities).split(";")}
    assert dict(zip(table["community_id"], table["subproblems"], strict=True)) == listed
    assert listed["3094"] != listed["3001"]


def test_run_json_has_the_cost_totals_of_the_whole_city(city_out: Path) -> None:
    record = read_record(city_out)
    for key in ("scenario", "summary", "costs", "city"):
        assert key in record, key
    costs = record["costs"]
    summary = pd.read_csv(city_out / "summary.csv")
    assert costs["units"] == len(summary) == record["summary"]["units"]
    assert costs["new_committees"] == int(summary["new_committee"].sum())
    for key in ("staff_needed", "office_m2", "one_time_yuan", "annual_yuan"):
        assert costs[key] == pytest.approx(float(summary[key].sum())), key
    assert costs["annual_yuan"] > 0
    assert record["summary"]["annual_cost_yuan"] == pytest.approx(costs["annual_yuan"])
    assert record["city"]["subproblems"] == 2


def test_formed_text_of_a_chain_of_merges_reads_cleanly(city_out: Path) -> None:
    sub = pd.read_csv(city_out / "subproblems.csv", dtype={"communities": str}, keep_default_na=False)
    assert sub["communities"].tolist() == ["3001;3030;3051;3072", "3094"]
    # 3030 joins 3072, 3001 joins 3051, then 3030 and 3072 together join 3001 and 3051:
    # each community is named once in the heading and once per merge it took part in.
    assert sub["formed"].tolist() == [
        "merged communities 3001, 3030, 3051 and 3072: 3030 (20 households) is below the band; "
        "3001 (321 households) is below the band; 3030 and 3072 (1,147 households together) are "
        "below the band",
        "",
    ]


def community_outlines(map_html: Path) -> int:
    """Number of features drawn with the existing communities' outline style."""
    count = 0
    for blob in re.findall(r"geo_json_\w+_add\((\{.*?\})\);\n", map_html.read_text(encoding="utf-8")):
        features = json.loads(blob).get("features", [])
        count += sum(1 for f in features if f.get("properties", {}).get("style") == COMMUNITY)
    return count


def test_map_outlines_only_the_communities_of_the_selection(city_out: Path) -> None:
    notes = " ".join(read_record(city_out)["notes"])
    loaded = re.search(r"kept (\d+) of 161 features in the study area", notes)
    assert loaded is not None and int(loaded.group(1)) > len(SELECTED)  # neighbours reach in
    assert community_outlines(city_out / "map.html") == len(SELECTED)


def test_plan_map_outlines_only_the_communities_of_the_selection(tmp_path: Path, ottawa_city: Path) -> None:
    # `plan` (and `compare`) draw the same outlines as `city`: not the neighbours reaching in.
    out = tmp_path / "plan"
    f = str(ottawa_city)
    result = CliRunner().invoke(app, [
        "plan", "--roads", f"{f}:roads_statcan_rnf2021", "--blocks", f"{f}:dissemination_blocks_2021",
        "--households", "dburdwell2021", "--road-class", "RANK",
        "--communities", f"{f}:ons_neighbourhoods_gen3", "--community-id", "ONS_ID",
        "--where", "ONS_ID_gen3 == '3094'", "--atoms", "blocks", "--time-limit", "2", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    notes = " ".join(read_record(out)["notes"])
    loaded = re.search(r"kept (\d+) of 161 features in the study area", notes)
    assert loaded is not None and int(loaded.group(1)) > 1
    assert community_outlines(out / "map.html") == 1
