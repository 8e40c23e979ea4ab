"""Scenario comparison: the compare command on real Ottawa data, tables and pages."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

import redistrict.compare as compare_module
from redistrict.cli import app
from redistrict.compare import (
    COMPARISON_COLUMNS,
    ScenarioRun,
    comparison_html,
    comparison_markdown,
    comparison_table,
    scenario_settings,
)
from redistrict.errors import SolverError
from redistrict.scenario import parse_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"
NAMES = ("band-2000-3000", "target-2500", "minimal-change")
runner = CliRunner()


def _inputs(path: Path) -> list[str]:
    f = str(path)
    return [
        "--roads", f"{f}:roads", "--blocks", f"{f}:dissemination_blocks",
        "--households", "dburdwell2021", "--residents", "dbpop2021", "--road-class", "RANK",
        "--communities", f"{f}:ons_neighbourhoods", "--community-id", "ONS_ID",
        "--community-name", "ONS_Name",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory, ottawa_testcase: Path) -> Path:
    out = tmp_path_factory.mktemp("compare") / "out"
    files = [str(SCENARIOS / f"{n}.toml") for n in NAMES]
    result = runner.invoke(
        app, ["compare", *files, *_inputs(ottawa_testcase), "--out", str(out), "--time-limit", "8"]
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return out


def test_comparison_table(compared: Path) -> None:
    table = pd.read_csv(compared / "comparison.csv")
    assert table.columns[0] == "scenario"
    assert list(table.columns) == list(COMPARISON_COLUMNS)
    assert table["scenario"].tolist() == list(NAMES)
    moved = table.set_index("scenario")["households_moved"]
    # Every neighbourhood is oversized and divisible on its own: minimal change moves nobody.
    assert moved["minimal-change"] == 0
    assert moved["minimal-change"] < moved["band-2000-3000"]
    assert (table["units_in_band"] <= table["units"]).all()
    assert table["error"].isna().all()
    # default policy costs: 3,000,000 yuan per new committee
    assert (table["one_time_cost_yuan"] == 3_000_000 * table["new_offices"]).all()
    assert (table["new_offices"] <= table["new_committees"]).all()
    assert (table["annual_cost_yuan"] >= 200_000 * table["units"]).all()


def test_combined_map_costs_each_scenario(compared: Path) -> None:
    # Every unit of every scenario carries its scenario's working funds on the combined map.
    page = (compared / "map.html").read_text(encoding="utf-8")
    funds = re.findall(r'"funds": "([^"]*)"', page)
    assert len(funds) == int(pd.read_csv(compared / "comparison.csv")["units"].sum())
    assert all(f.endswith("\\u5143") for f in funds)


def test_scenario_plans_and_units(compared: Path, ottawa_testcase: Path) -> None:
    table = pd.read_csv(compared / "comparison.csv").set_index("scenario")
    for name in NAMES:
        folder = compared / name
        for f in ("plan.gpkg", "summary.csv", "run.json", "map.html", "communities.csv"):
            assert (folder / f).is_file(), (name, f)
        units = gpd.read_file(folder / "plan.gpkg", layer="units")
        assert int(units["households"].sum()) == 32_843
        assert units["households_moved"].sum() == table.loc[name, "households_moved"]
        assert len(units) == table.loc[name, "units"]
        assert units["sources"].str.len().gt(0).all()
        # three neighbourhoods, no offices layer: each committee continues in one unit
        assert (~units["new_committee"].astype(bool)).sum() == 3
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        assert record["scenario"]["name"] == name
        assert record["costs"]["one_time_yuan"] == table.loc[name, "one_time_cost_yuan"]
        communities = pd.read_csv(folder / "communities.csv")
        assert communities["class"].tolist() == ["oversized"] * 3
    minimal = gpd.read_file(compared / "minimal-change" / "plan.gpkg", layer="units")
    assert (minimal["households_moved"] == 0).all()
    assert minimal["sources"].str.count(";").eq(0).all()


def test_pages_and_map(compared: Path) -> None:
    page = (compared / "comparison.html").read_text(encoding="utf-8")
    markdown = (compared / "comparison.md").read_text(encoding="utf-8")
    page_map = (compared / "map.html").read_text(encoding="utf-8")
    for name in NAMES:
        assert f'<a href="{name}/map.html">{name}</a>' in page
        assert f"| {name} |" in markdown
        assert name in page_map
        # each scenario's own map is titled with the area, as `plan --scenario` titles it
        own = (compared / name / "map.html").read_text(encoding="utf-8")
        assert f"<title>ottawa_centretown_testcase · {name}</title>" in own
    # the pages follow --lang, Chinese by default
    assert "| 方案 |" in markdown and "调整户数" in markdown and "调整户数" in page
    assert "Households moved" not in markdown and "Households moved" not in page
    assert "http://" not in page and "https://" not in page
    # what each scenario asks for (its description and the settings that are not the
    # defaults) was on no page: a planner saw only the scenarios' names
    for text in (markdown, html.unescape(page)):
        assert "各方案设定" in text
        # the scenario's description in the page's language (the shipped files give both)
        assert "规模区间内的社区保持不变，拆分过大社区、合并过小社区" in text
        assert "Keep in-band communities" not in text
        assert 'allow_change = "oversized_undersized"; weights.continuity = 2,000' in text
        assert "weights.deviation = 1,000" in text
        assert "规模区间 2,000–3,000户，目标 2,500" in text
    assert "差距：" in markdown  # the gap is explained


def test_a_comparison_folder_with_the_users_own_files_is_not_replaced(
    compared: Path, tmp_path: Path, ottawa_testcase: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(compared, out)
    (out / NAMES[0] / "review.docx").write_bytes(b"keep me")
    files = [str(SCENARIOS / f"{n}.toml") for n in NAMES]
    result = runner.invoke(app, ["compare", *files, *_inputs(ottawa_testcase), "--out", str(out)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert f"holds an earlier comparison and 1 other entry it did not write ({NAMES[0]}/review.docx)" in text
    assert (out / NAMES[0] / "review.docx").read_bytes() == b"keep me"


def test_bad_scenarios_are_all_reported(tmp_path: Path, ottawa_testcase: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[band]\nlo = 3000\nhi = 2000\n[weights]\ncontinuty = 5\n", encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text("[band\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["compare", str(bad), str(broken), *_inputs(ottawa_testcase), "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "band.lo 3000 is above band.hi 2000" in text
    assert "did you mean weights.continuity" in text
    assert "not valid TOML" in text
    assert not out.exists()
    same = [str(SCENARIOS / "band-2000-3000.toml")] * 2
    result = runner.invoke(app, ["compare", *same, *_inputs(ottawa_testcase), "--out", str(out)])
    assert result.exit_code == 2 and "both named" in result.output
    assert not out.exists()


def test_scenarios_are_named_in_errors_and_bands_checked_before_solving(
    tmp_path: Path, ottawa_testcase: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def scenario(name: str, body: str) -> str:
        path = tmp_path / f"{name}.toml"
        path.write_text(f'name = "{name}"\n{body}', encoding="utf-8")
        return str(path)

    good = str(SCENARIOS / "band-2000-3000.toml")
    huge = [scenario(f"huge{i}", f"[band]\nlo = {40_000 + i}\nhi = 50000\n") for i in (1, 2)]
    out = tmp_path / "out"
    result = runner.invoke(app, ["compare", good, *huge, *_inputs(ottawa_testcase), "--out", str(out)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    # Both bands are refused at once, before the first scenario is solved.
    for i in (1, 2):
        assert (
            f"scenario 'huge{i}' ({huge[i - 1]}): the blocks hold 32,843 households in all, fewer than "
            f"the band's lower bound {40_000 + i:,}: no unit can be formed; lower band.lo" in text
        )
    assert "(--band)" not in text
    assert not out.exists()
    u99 = scenario("u99", "units = 99\n[band]\nlo = 2000\nhi = 3000\n")

    # A number of units the households cannot fill is refused with the bands, before any solve.
    def no_solve(*args: object, **kwargs: object) -> None:
        raise AssertionError("a scenario was solved")

    monkeypatch.setattr(compare_module, "run_plan", no_solve)
    result = runner.invoke(
        app, ["compare", good, u99, *_inputs(ottawa_testcase), "--out", str(out), "--time-limit", "2"]
    )
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert (
        f"scenario 'u99' ({u99}): 99 units of at least 2,000 households need 198,000 households, and "
        "the blocks hold 32,843: ask for at most 16 units, or lower band.lo" in text
    )
    assert not out.exists()


def test_plan_with_scenario_and_lock(tmp_path: Path, ottawa_testcase: Path) -> None:
    west = [*_inputs(ottawa_testcase), "--where", "ONS_ID_gen3 == 3115", "--time-limit", "5"]
    first = tmp_path / "first"
    scenario = str(SCENARIOS / "minimal-change.toml")
    result = runner.invoke(app, ["plan", *west, "--scenario", scenario, "--out", str(first)])
    assert result.exit_code == 0, result.output
    old = gpd.read_file(first / "plan.gpkg", layer="units")
    assert (old["households_moved"] == 0).all()
    record = json.loads((first / "run.json").read_text(encoding="utf-8"))
    assert record["scenario"]["allow_change"] == "oversized_undersized"

    lock = tmp_path / "lock.csv"
    lock.write_text("unit_id\n1\n", encoding="utf-8")
    second = tmp_path / "second"
    args = ["plan", *west, "--lock", str(lock), "--lock-plan", str(first), "--out", str(second)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    new = gpd.read_file(second / "plan.gpkg", layer="units")
    kept = new[new["locked"].astype(bool)]
    assert len(kept) == 1
    before = old.loc[old["unit_id"] == 1].iloc[0]
    assert int(kept["households"].iloc[0]) == int(before["households"])
    assert kept.geometry.iloc[0].symmetric_difference(before.geometry).area < 1.0
    # The map says which unit was kept as it is (default language: Chinese).
    page = (second / "map.html").read_text(encoding="utf-8")
    text = "是（锁定或保留的社区，未重新划分）"
    assert text in page or json.dumps(text)[1:-1] in page

    # A locked unit keeps its id, even one above the new plan's count of units.
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    old.assign(unit_id=old["unit_id"].replace({1: 40})).to_file(renamed / "plan.gpkg", layer="units")
    lock.write_text("unit_id\n40\n", encoding="utf-8")
    third = tmp_path / "third"
    args = ["plan", *west, "--lock", str(lock), "--lock-plan", str(renamed), "--out", str(third)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    again = gpd.read_file(third / "plan.gpkg", layer="units")
    assert again.loc[again["locked"].astype(bool), "unit_id"].tolist() == [40]
    assert sorted(again["unit_id"]) == [*range(1, len(again)), 40]
    summary = pd.read_csv(third / "summary.csv")
    assert sorted(summary["unit_id"]) == sorted(again["unit_id"])
    assert int(summary["households"].sum()) == int(old["households"].sum())
    # run.json names the lock file and the plan its unit ids refer to, by absolute path
    parameters = json.loads((third / "run.json").read_text(encoding="utf-8"))["parameters"]
    assert parameters["lock"] == str(lock.resolve())
    assert parameters["lock_plan"] == str(renamed.resolve())
    assert not any("locked unit 40 held" in n for n in json.loads((third / "run.json").read_text())["notes"])
    # An earlier plan whose unit held other households than these atoms give: said, not hidden.
    changed = tmp_path / "changed"
    changed.mkdir()
    earlier = gpd.read_file(renamed / "plan.gpkg", layer="units")
    earlier.assign(households=earlier["households"] + 7).to_file(changed / "plan.gpkg", layer="units")
    fourth = tmp_path / "fourth"
    args = ["plan", *west, "--lock", str(lock), "--lock-plan", str(changed), "--out", str(fourth)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    held = int(earlier.loc[earlier["unit_id"] == 40, "households"].iloc[0])
    notes = json.loads((fourth / "run.json").read_text(encoding="utf-8"))["notes"]
    assert f"locked unit 40 held {held + 7:,} households in {changed} and holds {held:,} here" in " ".join(
        notes
    )

    result = runner.invoke(
        app, ["plan", *west, "--scenario", scenario, "--band", "1800", "2600", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2 and "both set the band" in result.output
    # Also when the band given is the default one: it is not silently dropped for the scenario's.
    result = runner.invoke(
        app, ["plan", *west, "--scenario", scenario, "--band", "2000", "3000", "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2 and "both set the band" in result.output


def test_pages_show_the_description_in_their_language() -> None:
    s = parse_scenario(
        {
            "name": "s",
            "description": {"zh": "拆分过大社区", "en": "Split the oversized"},
            "band": {"lo": 2000, "hi": 3000},
        }
    )
    table = comparison_table([ScenarioRun(s, None, SolverError("no plan"))])
    settings = {"s": scenario_settings(s)}
    for lang, shown, hidden in (
        ("zh", "拆分过大社区", "Split the oversized"),
        ("en", "Split the oversized", "拆分过大社区"),
    ):
        for page in (
            comparison_markdown(table, lang=lang, settings=settings),
            comparison_html(table, lang=lang, settings=settings),
        ):
            assert shown in page and hidden not in page


def test_failed_scenario_is_a_row() -> None:
    s = parse_scenario({"name": "a|b", "band": {"lo": 2000, "hi": 3000}})
    table = comparison_table([ScenarioRun(s, None, SolverError("no plan <found>"))])
    assert table.loc[0, "scenario"] == "a|b"
    assert table.loc[0, "status"] == "failed"
    assert "no plan <found>" in table.loc[0, "error"]
    assert pd.isna(table.loc[0, "units"])
    md = comparison_markdown(table, lang="en")
    assert "| a\\|b |" in md and "Error" in md
    assert "| a\\|b |" in comparison_markdown(table) and "失败" in comparison_markdown(table)
    page = comparison_html(table)
    assert "no plan &lt;found&gt;" in page and 'class="failed"' in page and "错误" in page
