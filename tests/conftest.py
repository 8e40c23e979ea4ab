"""Shared fixtures: paths to the real Ottawa data kept beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from redistrict.cli import app
from redistrict.load import Inputs, load_inputs

REPO = Path(__file__).resolve().parents[1]
OTTAWA_DIR = Path(os.environ.get("REDISTRICT_SHARED", REPO.parent / "shared")) / "data" / "ottawa"
DEMO_GPKG = REPO / "data" / "demo.gpkg"


def _require(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"test data missing in CI: {path}")
        pytest.skip(f"test data not available: {path}")
    return path


@pytest.fixture(scope="session")
def ottawa_testcase() -> Path:
    """The Centretown / West Centretown / Sandy Hill test case (3 neighbourhoods)."""
    return _require(OTTAWA_DIR / "ottawa_centretown_testcase.gpkg")


@pytest.fixture(scope="session")
def ottawa_city() -> Path:
    """The whole City of Ottawa (8,559 dissemination blocks)."""
    return _require(OTTAWA_DIR / "ottawa_statcan2021.gpkg")


@pytest.fixture(scope="session")
def demo_gpkg() -> Path:
    """The embedded synthetic Yueyang-like demo data."""
    return _require(DEMO_GPKG)


@pytest.fixture
def demo_inputs(demo_gpkg: Path) -> Inputs:
    """The demo's roads and blocks, loaded with its communities as the study area."""
    gpkg = str(demo_gpkg)
    return load_inputs(
        roads=f"{gpkg}:roads",
        blocks=f"{gpkg}:blocks",
        households="households",
        study_area=f"{gpkg}:communities",
    )


def run_cli(args: list[str]) -> None:
    """Run the command line in-process and fail with its output unless it succeeds."""
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory: pytest.TempPathFactory, demo_gpkg: Path) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    run_cli(["demo", "--out", str(out)])
    return out


@pytest.fixture(scope="session")
def centretown_out(tmp_path_factory: pytest.TempPathFactory, ottawa_testcase: Path) -> Path:
    out = tmp_path_factory.mktemp("centretown") / "out"
    f = str(ottawa_testcase)
    run_cli([
        "plan", "--roads", f"{f}:roads", "--blocks", f"{f}:dissemination_blocks",
        "--households", "dburdwell2021", "--residents", "dbpop2021", "--road-class", "RANK",
        "--where", "ONS_ID_gen3 == 3024", "--time-limit", "20", "--budget", "work", "--out", str(out),
    ])  # fmt: skip
    return out
