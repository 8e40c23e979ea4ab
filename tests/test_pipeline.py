"""The whole pipeline through the command line, on the demo data and on real Ottawa data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
from typer.testing import CliRunner

from redistrict.cli import app

runner = CliRunner()


def _run(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def _check_outputs(out: Path, households: int, band: tuple[int, int] = (2000, 3000)) -> dict:
    for name in ("plan.gpkg", "summary.csv", "run.json", "map.html"):
        assert (out / name).is_file(), name
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for key in ("status", "objective", "bound", "gap", "seconds"):
        assert key in record
    assert record["status"] in ("optimal", "feasible", "heuristic")
    if record["status"] == "optimal":
        assert record["bound"] is not None and record["gap"] is not None and record["gap"] <= 1e-4
    if record["bound"] is not None:
        assert record["bound"] <= record["objective"] + 1e-9
    units = gpd.read_file(out / "plan.gpkg", layer="units")
    atoms = gpd.read_file(out / "plan.gpkg", layer="atoms")
    # Every household in exactly one unit.
    assert int(atoms["households"].sum()) == households
    assert atoms["unit_id"].notna().all()
    assert int(units["households"].sum()) == households
    per_unit = atoms.groupby("unit_id")["households"].sum()
    assert per_unit.sort_index().tolist() == units.set_index("unit_id")["households"].sort_index().tolist()
    # Every unit in the band.
    assert units["households"].between(*band).all(), units[["unit_id", "households"]]
    assert (units["status"] == "ok").all()
    # Units do not overlap: their areas add up to the area of their union.
    union = units.geometry.union_all().area
    assert units.geometry.area.sum() == pytest.approx(union, rel=1e-6)
    # Every unit contiguous: its atoms form one connected piece (touching along an edge).
    for unit_id, group in atoms.groupby("unit_id"):
        geoms = group.geometry.reset_index(drop=True)
        g = nx.Graph()
        g.add_nodes_from(range(len(geoms)))
        for i in range(len(geoms)):
            for j in range(i + 1, len(geoms)):
                if geoms[i].intersection(geoms[j]).length > 0.5:
                    g.add_edge(i, j)
        assert nx.is_connected(g), f"unit {unit_id} is not contiguous"
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == len(units)
    for col in ("unit_id", "households", "area_km2", "staff_needed", "office_m2"):
        assert col in summary.columns
    # The map is self-contained: no external script or stylesheet.
    html = (out / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']https?://", html)
    assert not re.search(r"<link[^>]+href=[\"']https?://", html)
    return record


def test_demo_pipeline(demo_out: Path) -> None:
    record = _check_outputs(demo_out, 31700)
    assert record["units"] >= 11
    # data/README.md: the railway pocket (2,134 households) is a unit of its own.
    assert 2134 in pd.read_csv(demo_out / "summary.csv")["households"].tolist()


def test_centretown_pipeline(centretown_out: Path) -> None:
    record = _check_outputs(centretown_out, 20333)
    assert 7 <= record["units"] <= 10
    # Issue 3's target on real data, with a work budget (the same plan and bound on any machine):
    # the bound lifted by variable fixing brings the gap within 1 % (0.50 % when measured).
    assert record["gap"] is not None and record["gap"] <= 0.01
    # Enough to repeat the run: the selection and the columns, not only the layers.
    options = record["input_options"]
    assert options["where"] == "ONS_ID_gen3 == 3024"
    assert (options["households"], options["residents"], options["road_class"]) == (
        "dburdwell2021", "dbpop2021", "RANK",
    )  # fmt: skip
    assert record["parameters"]["lock"] is None and record["parameters"]["budget"] == "work"
    units = gpd.read_file(centretown_out / "plan.gpkg", layer="units")
    assert {"residents", "staff_needed", "office_m2"} <= set(units.columns)
    assert (units["staff_needed"] == (units["households"] / 250).apply(lambda v: -(-v // 1))).all()


def test_three_neighbourhoods_pipeline(tmp_path: Path, ottawa_testcase: Path) -> None:
    out = tmp_path / "three"
    f = str(ottawa_testcase)
    _run([
        "plan", "--roads", f"{f}:roads", "--blocks", f"{f}:dissemination_blocks",
        "--households", "dburdwell2021", "--road-class", "RANK", "--time-limit", "30",
        "--out", str(out), "--lang", "en",
    ])  # fmt: skip
    _check_outputs(out, 32843)


def test_failed_run_leaves_no_output(tmp_path: Path, ottawa_testcase: Path) -> None:
    out = tmp_path / "bad"
    f = str(ottawa_testcase)
    result = runner.invoke(app, [
        "plan", "--roads", f"{f}:roads", "--blocks", f"{f}:dissemination_blocks",
        "--households", "dburdwell2021", "--band", "3000", "2000", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 2
    assert "swap them" in result.output
    assert not out.exists()


def test_a_band_in_residents_subdivides_faces_above_it() -> None:
    # The atoms were subdivided at the household band derived from the average household
    # size: a face of large households (1,200 residents in 120 households, the band's top
    # 1,000 residents) stayed whole and was flagged "split its population blocks".
    from test_atoms import _set_back_compounds, make_inputs

    from redistrict.pipeline import PlanOptions, run_plan
    from redistrict.scenario import parse_scenario

    inputs = make_inputs(_set_back_compounds(), [40, 30, 50, 500], residents=[400, 300, 500, 500])
    scenario = parse_scenario({"name": "r", "band": {"unit": "residents", "lo": 300, "hi": 1000}})
    options = scenario.plan_options(inputs, PlanOptions(time_limit=2, budget="work"))
    assert options.band.hi > 120  # the face is under the household band
    result = run_plan(inputs, options)
    assert any("or 1,000 residents (the most a unit may hold) was subdivided" in n for n in result.notes)
    assert (result.units["residents"] <= 1000).all()
    assert result.units["residents"].sum() == pytest.approx(1700)
