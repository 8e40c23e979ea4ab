"""Shared fixtures: paths to the real Ottawa data kept beside the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
