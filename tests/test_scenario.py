"""Scenario TOML files: the shipped examples, parsing and validation errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from redistrict.errors import InputError
from redistrict.pipeline import PlanOptions
from redistrict.problem import Band, Weights
from redistrict.scenario import (
    Scenario,
    ScenarioBand,
    ScenarioWeights,
    default_scenario,
    load_scenario,
    parse_scenario,
    safe_name,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"


def _write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("stem", ["band-2000-3000", "target-2500", "minimal-change", "rural"])
def test_shipped_scenarios_load(stem: str) -> None:
    s = load_scenario(SCENARIOS / f"{stem}.toml")
    assert s.name == stem
    assert s.description
    # each shipped scenario is described in both page languages
    assert {lang for lang, _ in s.descriptions} == {"zh", "en"}
    assert s.described("en") == s.description and s.described("zh") != s.description
    assert s.source.endswith(f"{stem}.toml")


def test_shipped_scenarios_differ_as_documented() -> None:
    band = load_scenario(SCENARIOS / "band-2000-3000.toml")
    target = load_scenario(SCENARIOS / "target-2500.toml")
    minimal = load_scenario(SCENARIOS / "minimal-change.toml")
    rural = load_scenario(SCENARIOS / "rural.toml")
    assert (band.band.lo, band.band.hi, band.allow_change) == (2000, 3000, "all")
    assert band.weights.continuity == 0
    assert target.band.target == 2500 and target.weights.deviation > band.weights.deviation
    # "The plain rule" is what `redistrict plan` does with its default weights.
    assert band.weights.to_weights() == Weights()
    assert target.weights.deviation == 10 * Weights().deviation  # "ten times the default pull"
    assert minimal.allow_change == "oversized_undersized"
    assert minimal.weights.continuity > 0
    assert rural.band == ScenarioBand(8000, 10000, None, "residents")
    assert rural.service_radius_m == 3000
    assert rural.costs.community_kind == "township"


def test_description_per_language(tmp_path: Path) -> None:
    both = load_scenario(
        _write(
            tmp_path,
            'description = { zh = "拆分过大社区", en = "Split the oversized" }\n[band]\nlo = 1\nhi = 9\n',
        )
    )
    assert (both.described("zh"), both.described("en"), both.description) == (
        "拆分过大社区", "Split the oversized", "Split the oversized",
    )  # fmt: skip
    only_zh = load_scenario(
        _write(tmp_path, 'description = { zh = "拆分" }\n[band]\nlo = 1\nhi = 9\n', "z.toml")
    )
    assert only_zh.described("en") == only_zh.description == "拆分"
    text = load_scenario(_write(tmp_path, 'description = "plain"\n[band]\nlo = 1\nhi = 9\n', "t.toml"))
    assert text.descriptions == () and text.described("zh") == "plain"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('{ fr = "découper", zh = "拆分" }', "unknown language(s) 'fr': use zh and en"),
        ("{ zh = 3 }", "description.zh must be a text"),
        ("{}", "description must be a text or a table of texts per language"),
        ("7", "description must be a text or a table of texts per language"),
    ],
)
def test_description_problems(tmp_path: Path, value: str, says: str) -> None:
    path = _write(tmp_path, f"description = {value}\n[band]\nlo = 1\nhi = 9\n")
    with pytest.raises(InputError, match=r"s\.toml") as err:
        load_scenario(path)
    assert says in str(err.value)


def test_minimal_file_gets_defaults(tmp_path: Path) -> None:
    s = load_scenario(_write(tmp_path, "[band]\nlo = 100\nhi = 200\n", "small-units.toml"))
    assert s.name == "small-units"
    assert s.band == ScenarioBand(100, 200, None, "households")
    assert s.weights == ScenarioWeights()
    assert s.allow_change == "all" and s.service_radius_m is None
    assert s.costs.new_committee_yuan == 3_000_000


def test_scenario_saved_by_notepad_or_a_chinese_editor(tmp_path: Path) -> None:
    # UTF-8 with a byte-order mark (Notepad) was "not valid TOML"; GBK could not be read at all.
    text = 'name = "合并小社区"\n[band]\nlo = 2000\nhi = 3000\n'
    for encoding in ("utf-8-sig", "gbk"):
        path = tmp_path / f"s-{encoding}.toml"
        path.write_bytes(text.encode(encoding))
        s = load_scenario(path)
        assert s.name == "合并小社区" and s.band == ScenarioBand(2000, 3000, None, "households")
    path = tmp_path / "binary.toml"
    path.write_bytes(bytes([0x81, 0x30, 0xFF, 0xFE]) * 4)
    with pytest.raises(InputError, match="save it as UTF-8"):
        load_scenario(path)


def test_every_problem_is_listed_with_the_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
name = ""
allow_change = "some"
service_radius_m = -5
colour = "red"

[band]
unit = "people"
lo = 3000
hi = 2000

[weights]
continuity = "high"
compactnes = 1.0

[costs]
staff_salary_yuan = -100
new_comittee_yuan = 3500000
""",
    )
    with pytest.raises(InputError) as info:
        load_scenario(path)
    problems = info.value.problems
    text = "\n".join(problems)
    assert all(str(path) in p for p in problems)
    for expected in (
        "name must be a non-empty text",
        "allow_change must be one of",
        "service_radius_m must be a positive number",
        "unknown key colour",
        "band.unit must be 'households' or 'residents'",
        "band.lo 3000 is above band.hi 2000",
        "weights.continuity must be a non-negative number",
        "unknown key weights.compactnes; did you mean weights.compactness?",
        "costs.staff_salary_yuan must be a non-negative number",
        # a misspelt key does not hide the problems of the keys spelt right
        "unknown key costs.new_comittee_yuan; did you mean costs.new_committee_yuan?",
    ):
        assert expected in text, expected
    assert len(problems) == 10


def test_band_problems(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"the \[band\] table is missing"):
        load_scenario(_write(tmp_path, 'name = "x"\n'))
    with pytest.raises(InputError) as info:
        load_scenario(_write(tmp_path, "[band]\nlo = 2000.5\ntarget = 5000\n"))
    text = str(info.value)
    assert "band.lo must be a non-negative whole number" in text
    assert "band.hi is missing" in text
    with pytest.raises(InputError, match=r"band\.target 5000 lies outside"):
        load_scenario(_write(tmp_path, "[band]\nlo = 2000\nhi = 3000\ntarget = 5000\n"))
    # weights that overflow were refused after loading, with the scaled number the user never wrote
    with pytest.raises(InputError) as info:
        load_scenario(
            _write(tmp_path, "[band]\nlo = 2000\nhi = 3000\n[weights]\ncompactness = 0.5\ndeviation = 1e9\n")
        )
    assert "weights.deviation = 1e+09 / compactness 0.5 = 2e+09 is more than 1e+09" in str(info.value)
    # lo = 0 was refused only after the inputs were read, in the API's words (Band(1, ...))
    with pytest.raises(
        InputError, match=r"band\.lo is 0: a unit holds at least one of the residents it counts"
    ):
        load_scenario(_write(tmp_path, '[band]\nunit = "residents"\nlo = 0\nhi = 3000\n'))


def test_syntax_error_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid TOML") as info:
        load_scenario(_write(tmp_path, "[band\nlo = 1\n"))
    assert "s.toml" in str(info.value)
    with pytest.raises(InputError, match="does not exist"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(InputError, match="is a folder"):
        load_scenario(tmp_path)


def test_weights_are_scaled_by_compactness() -> None:
    w = ScenarioWeights(compactness=2.0, major_road=0.5, continuity=1000.0, deviation=40.0, area=0.2)
    opt = w.to_weights()
    assert (opt.major_road, opt.continuity, opt.deviation, opt.area) == (0.5, 500.0, 20.0, 0.2)
    with pytest.raises(InputError, match="compactness must be positive"):
        parse_scenario({"band": {"lo": 1, "hi": 2}, "weights": {"compactness": 0}})


def test_residents_band_is_converted_with_the_household_size() -> None:
    s = parse_scenario({"band": {"unit": "residents", "lo": 8000, "hi": 10000, "target": 9000}})
    blocks = pd.DataFrame({"households": [100, 200], "residents": [300.0, 600.0]})  # 3 per household
    assert s.household_band(blocks) == Band(2667, 3333, 3000)
    with pytest.raises(InputError, match="--residents"):
        s.household_band(pd.DataFrame({"households": [100]}))


def test_plan_options_carry_the_scenario() -> None:
    s = parse_scenario(
        {"name": "t", "band": {"lo": 2000, "hi": 3000, "target": 2400},
         "weights": {"continuity": 300.0}},
    )  # fmt: skip

    class _Inputs:
        blocks = pd.DataFrame({"households": [1]})

    opts = s.plan_options(_Inputs(), PlanOptions(time_limit=7.0, seed=3))  # type: ignore[arg-type]
    assert opts.band == Band(2000, 3000, 2400)
    assert opts.weights.continuity == 300.0
    assert (opts.time_limit, opts.seed, opts.scenario) == (7.0, 3, s)


def test_default_scenario_and_safe_names() -> None:
    d = default_scenario(Band(1800, 2600))
    assert isinstance(d, Scenario) and d.band.text() == "1,800-2,600 households"
    assert safe_name("minimal-change") == "minimal-change"
    assert safe_name("a/b c") == "a-b-c"
    assert safe_name("八字门 方案") == "八字门-方案"
    assert safe_name("../..") == "scenario"
