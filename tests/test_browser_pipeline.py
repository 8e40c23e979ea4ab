"""The demo and Centretown maps, opened offline in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from _browser import check_map, require_chromium

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("fixture", ["demo_out", "centretown_out"])
def test_pipeline_map_renders_offline(fixture: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    require_chromium()
    out: Path = request.getfixturevalue(fixture)
    units = gpd.read_file(out / "plan.gpkg", layer="units")
    shot = tmp_path / f"{fixture}.png"
    check = check_map(out / "map.html", shot)
    assert check.leaflet
    assert check.console_errors == [] and check.page_errors == []
    assert check.external_requests == []
    assert check.polygons == len(units)
    assert check.fills >= 3
    assert check.labels >= len(units)
    assert check.coloured_fraction > 0.05
    assert shot.stat().st_size > 10_000
    assert check.covered == []  # the title, legend and layer control leave the units clear
