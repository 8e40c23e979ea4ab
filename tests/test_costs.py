"""Cost arithmetic of redistrict.costs on hand-made units."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from redistrict.costs import COST_COLUMNS, CostParams, plan_costs, unit_costs
from redistrict.errors import InputError


@pytest.fixture
def units() -> pd.DataFrame:
    # unit 1: new committee; unit 2 keeps a 400 m² office; unit 3 keeps an office of unknown area
    return pd.DataFrame(
        {
            "unit_id": [1, 2, 3],
            "households": [2000, 2600, 1000],
            "new_committee": [True, False, False],
            "office_area_m2": [np.nan, 400.0, np.nan],
        }
    )


def test_policy_defaults() -> None:
    p = CostParams()
    assert p.new_committee_yuan == 3_000_000
    assert p.working_funds_urban_yuan == 200_000
    assert p.working_funds_township_yuan == 150_000
    assert p.households_per_staff == 250
    assert (p.office_m2_per_100_households, p.office_m2_min) == (20, 300)
    assert p.working_funds_yuan == 200_000
    assert CostParams(community_kind="township").working_funds_yuan == 150_000


def test_unit_costs_by_hand(units: pd.DataFrame) -> None:
    c = unit_costs(units, CostParams(staff_salary_yuan=60_000))
    assert list(c.columns) == ["unit_id", *COST_COLUMNS]
    # one worker per 250 households, rounded up: 2000/250 = 8, 2600/250 = 10.4 -> 11, 1000/250 = 4
    assert c["staff_needed"].tolist() == [8, 11, 4]
    # 20 m² per 100 households, at least 300 m²
    assert c["office_m2"].tolist() == [400.0, 520.0, 300.0]
    # shortfall only for a kept office of known area: 520 - 400 = 120
    assert math.isnan(c.loc[0, "office_shortfall_m2"])
    assert c.loc[1, "office_shortfall_m2"] == 120.0
    assert math.isnan(c.loc[2, "office_shortfall_m2"])
    assert c["one_time_yuan"].tolist() == [3_000_000.0, 0.0, 0.0]
    # working funds 200,000 + staff x 60,000
    assert c["salaries_yuan"].tolist() == [480_000.0, 660_000.0, 240_000.0]
    assert c["annual_yuan"].tolist() == [680_000.0, 860_000.0, 440_000.0]

    totals = plan_costs(c)
    assert totals == {
        "units": 3.0,
        "new_committees": 1.0,
        "new_offices": 1.0,
        "staff_needed": 23.0,
        "office_m2": 1220.0,
        "office_shortfall_m2": 120.0,
        "offices_short": 1.0,
        "one_time_yuan": 3_000_000.0,
        "working_funds_yuan": 600_000.0,
        "salaries_yuan": 1_380_000.0,
        "annual_yuan": 1_980_000.0,
    }


def test_new_committee_in_an_existing_office_costs_no_building() -> None:
    # A new committee housed in a free existing office of 300 m²: a new committee (staff,
    # funds, counted in new_committees) but no 3,000,000-yuan office, only the shortfall.
    units = pd.DataFrame(
        {
            "unit_id": [1, 2],
            "households": [2500, 2500],
            "new_committee": [True, True],
            "new_office": [False, True],
            "office_area_m2": [300.0, 300.0],
        }
    )
    c = unit_costs(units, CostParams(office_extension_yuan_per_m2=4_000))
    assert c["office_shortfall_m2"].tolist()[0] == 200.0  # 500 m² needed
    assert math.isnan(c["office_shortfall_m2"].tolist()[1])  # a new building: no shortfall
    assert c["one_time_yuan"].tolist() == [800_000.0, 3_000_000.0]
    totals = plan_costs(c)
    assert (totals["new_committees"], totals["new_offices"]) == (2.0, 1.0)
    # without new_office the building follows new_committee, as before
    assert unit_costs(units.drop(columns="new_office"))["one_time_yuan"].tolist() == [3_000_000.0] * 2


def test_township_extension_and_other_rates(units: pd.DataFrame) -> None:
    p = CostParams(
        community_kind="township",
        staff_salary_yuan=50_000,
        households_per_staff=300,
        office_extension_yuan_per_m2=2_000,
        new_committee_yuan=1_000_000,
    )
    c = unit_costs(units, p)
    assert c["staff_needed"].tolist() == [7, 9, 4]  # 6.67 -> 7, 8.67 -> 9, 3.33 -> 4
    assert c["working_funds_yuan"].tolist() == [150_000.0] * 3
    assert c["annual_yuan"].tolist() == [500_000.0, 600_000.0, 350_000.0]
    # the kept office lacks 120 m² at 2,000 yuan each
    assert c["one_time_yuan"].tolist() == [1_000_000.0, 240_000.0, 0.0]


def test_every_unit_is_new_without_office_information() -> None:
    c = unit_costs(pd.DataFrame({"unit_id": [7, 9], "households": [2500, 3000]}))
    assert c["new_committee"].tolist() == [True, True]
    assert c["one_time_yuan"].sum() == 6_000_000.0
    assert c["office_shortfall_m2"].isna().all()
    assert c["unit_id"].tolist() == [7, 9]
    # Unknown, not zero: no kept office has a known floor area.
    assert math.isnan(plan_costs(c)["office_shortfall_m2"])


def test_missing_columns_are_reported() -> None:
    with pytest.raises(InputError, match="households"):
        unit_costs(pd.DataFrame({"unit_id": [1]}))


def test_invalid_parameters_are_all_listed() -> None:
    with pytest.raises(InputError) as info:
        CostParams(
            staff_salary_yuan=-1.0,
            community_kind="rural",  # type: ignore[arg-type]
            households_per_staff=0,
            new_committee_yuan=float("nan"),
        )
    text = str(info.value)
    assert len(info.value.problems) == 4
    for key in ("staff_salary_yuan", "community_kind", "households_per_staff", "new_committee_yuan"):
        assert f"costs.{key}" in text


@pytest.mark.parametrize("per", [float("inf"), float("nan"), -float("inf")])
def test_households_per_staff_not_finite_is_refused(per: float) -> None:
    # TOML allows inf and nan: the whole-number check ran int(inf) and raised OverflowError
    # (a traceback from `plan --scenario`) instead of naming the setting.
    with pytest.raises(InputError, match=r"costs\.households_per_staff must be a non-negative number"):
        CostParams(households_per_staff=per)


def test_office_totals_are_written_without_floating_point_noise() -> None:
    # 592.8 + 592.6 + 592.2 is 1777.6000000000001 in floating point
    units = pd.DataFrame(
        {"unit_id": [1, 2, 3], "households": [2964, 2963, 2961], "new_committee": [False] * 3}
        | {"office_area_m2": [0.0] * 3}
    )
    totals = plan_costs(unit_costs(units))
    assert repr(totals["office_m2"]) == "1777.6" and repr(totals["office_shortfall_m2"]) == "1777.6"


def test_office_shortfall_is_written_without_floating_point_noise() -> None:
    # 2,964 households need 592.8 m²; 592.8 - 200 is 392.79999999999995 in floating point.
    units = pd.DataFrame(
        {"unit_id": [1], "households": [2964], "new_committee": [False], "office_area_m2": [200.0]}
    )
    table = unit_costs(units)
    assert table.to_csv(index=False).splitlines()[1].split(",")[5] == "392.8"
