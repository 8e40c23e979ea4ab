"""Open a saved map in headless Chromium and measure what was drawn.

Reusable by any test that writes a map (hand-made, demo, Centretown)::

    from _browser import check_map, require_chromium  # tests/ is on sys.path under pytest

    require_chromium()
    result = check_map(html_path, tmp_path / "shot.png")
    assert result.polygons == expected_units and result.ok

Every request that is not ``file:``/``data:``/``blob:`` is aborted and recorded, so a
page that needs the internet fails the check even on a machine that has it.
"""

from __future__ import annotations

import base64
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "UNITS_PANE",
    "MapCheck",
    "View",
    "ViewCheck",
    "check_map",
    "check_view",
    "require_chromium",
]

#: System Chromium (Debian package); Playwright must never download a browser.
CHROMIUM = Path(os.environ.get("REDISTRICT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
#: CSS selector of the Leaflet pane holding unit polygons (redistrict.maps pane "rd_units").
UNITS_PANE = ".leaflet-rd_units-pane"
_LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
#: A pixel is "coloured" when max(R,G,B) - min(R,G,B) reaches this (greys, black,
#: white and the pale background stay below it; unit fills are well above).
_CHROMA_MIN = 30

_MEASURE_JS = """
(pane) => {
  const paths = Array.from(document.querySelectorAll(pane + ' path.leaflet-interactive'));
  const fills = new Set(paths.map(p => p.getAttribute('fill')).filter(f => f && f !== 'none'));
  const problems = paths.filter(p => (p.getAttribute('stroke') || '').toLowerCase() === '#d7191c');
  return {
    leaflet: typeof window.L === 'object' && typeof window.L.map === 'function',
    containers: document.querySelectorAll('.leaflet-container').length,
    polygons: paths.length,
    fills: fills.size,
    problem_polygons: problems.length,
    labels: document.querySelectorAll('.rd-label').length,
    layer_entries: document.querySelectorAll('.leaflet-control-layers-selector').length,
    title: (document.querySelector('#rd-title') || {innerText: ''}).innerText,
    legend: (document.querySelector('#rd-legend') || {innerText: ''}).innerText,
    scale: Array.from(document.querySelectorAll('.leaflet-control-scale-line')).map(e => e.innerText),
    covered: (() => {
      // boxes (title, legend, layer control) lying over the bounding box of the unit paths
      const rects = paths.map(p => p.getBoundingClientRect());
      if (!rects.length) return [];
      const u = {left: Math.min(...rects.map(r => r.left)), right: Math.max(...rects.map(r => r.right)),
                 top: Math.min(...rects.map(r => r.top)), bottom: Math.max(...rects.map(r => r.bottom))};
      const boxes = Array.from(document.querySelectorAll('.rd-box, .leaflet-control-layers'));
      return boxes.filter(b => {
        const r = b.getBoundingClientRect();
        return r.width > 0 && r.left < u.right - 1 && r.right > u.left + 1
          && r.top < u.bottom - 1 && r.bottom > u.top + 1;
      }).map(b => b.id || b.className);
    })(),
  };
}
"""

_VIEW_JS = """
(pane) => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const size = map.getSize();
  let inView = false, share = 0;
  try {
    let units = null;
    map.eachLayer(l => {
      if (l.options && l.options.pane === pane && l.getBounds) {
        const b = l.getBounds();
        units = units ? units.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
      }
    });
    const nw = map.latLngToContainerPoint(units.getNorthWest());
    const se = map.latLngToContainerPoint(units.getSouthEast());
    inView = nw.x >= -1 && nw.y >= -1 && se.x <= size.x + 1 && se.y <= size.y + 1;
    share = Math.max((se.x - nw.x) / size.x, (se.y - nw.y) / size.y);
  } catch (e) { inView = false; }
  const names = ['#rd-title', '#rd-legend', '.leaflet-control-layers', '.leaflet-control-zoom'];
  const rects = names.map(n => document.querySelector(n)).map(e => e ? e.getBoundingClientRect() : null);
  const overlaps = [];
  rects.forEach((a, i) => rects.slice(i + 1).forEach((b, j) => {
    if (a && b && a.width && b.width && a.left < b.right - 1 && b.left < a.right - 1
        && a.top < b.bottom - 1 && b.top < a.bottom - 1) overlaps.push(names[i] + ' ' + names[i + 1 + j]);
  }));
  const layers = document.querySelector('.leaflet-control-layers');
  return {
    zoom: String(map.getZoom()),
    units_in_view: inView,
    units_share: Number.isFinite(share) ? share : 0,
    overlaps: overlaps,
    layers_collapsed: !!layers && !layers.classList.contains('leaflet-control-layers-expanded'),
  };
}
"""

_HOVER_TARGET_JS = """
(pane) => {
  const paths = Array.from(document.querySelectorAll(pane + ' path.leaflet-interactive'));
  for (const p of paths) {
    const r = p.getBoundingClientRect();
    for (const [fx, fy] of [[0.5, 0.5], [0.3, 0.7], [0.7, 0.3], [0.3, 0.3], [0.7, 0.7]]) {
      const x = r.left + fx * r.width, y = r.top + fy * r.height;
      if (document.elementFromPoint(x, y) === p) return [x, y];
    }
  }
  return null;
}
"""

_CHROMA_JS = """
async ([b64, minChroma]) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let coloured = 0;
  for (let i = 0; i < d.length; i += 4) {
    const hi = Math.max(d[i], d[i + 1], d[i + 2]);
    const lo = Math.min(d[i], d[i + 1], d[i + 2]);
    if (hi - lo >= minChroma) coloured++;
  }
  return [coloured, canvas.width * canvas.height];
}
"""


@dataclass
class MapCheck:
    """What headless Chromium saw when opening a map.

    Attributes
    ----------
    leaflet : bool
        ``window.L`` was defined (Leaflet's code ran).
    containers : int
        Number of ``.leaflet-container`` elements (maps initialised).
    polygons : int
        Interactive SVG paths drawn in the units pane.
    fills : int
        Distinct fill colours among those paths.
    problem_polygons : int
        Unit paths outlined in the problem colour.
    labels : int
        Unit labels (``.rd-label``) in the page.
    layer_entries : int
        Check boxes and radio buttons in the layer control.
    tooltip : str
        Text of the tooltip shown when hovering a unit ("" when none appeared).
    coloured_fraction : float
        Share of screenshot pixels that are clearly coloured.
    title, legend : str
        Visible text of the title block and of the legend.
    scale : list of str
        Text of each line of the scale bar (e.g. ``['200 m']``).
    covered : list of str
        Id (or class) of every box (title, legend, layer control) lying over the
        bounding box of the drawn units.
    console_errors, page_errors, external_requests : list of str
        Console messages of type error, uncaught exceptions, aborted non-local requests.
    """

    leaflet: bool
    containers: int
    polygons: int
    fills: int
    problem_polygons: int
    labels: int
    layer_entries: int
    tooltip: str
    coloured_fraction: float
    title: str
    legend: str
    scale: list[str] = field(default_factory=list)
    covered: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Leaflet ran, units were drawn, and nothing failed or left the file."""
        return (
            self.leaflet
            and self.polygons > 0
            and not self.console_errors
            and not self.page_errors
            and not self.external_requests
        )


@dataclass
class View:
    """Where a map stands in the window at one moment.

    Attributes
    ----------
    zoom : float
        Leaflet's zoom (``inf`` or ``nan`` when the fit failed).
    units_in_view : bool
        The bounding box of the drawn units lies inside the map's viewport.
    units_share : float
        Larger of the units' width and height as a share of the map's.
    overlaps : list of str
        Pairs of boxes (title, legend, layer control, zoom buttons) drawn over each other.
    layers_collapsed : bool
        The layer control shows only its toggle.
    """

    zoom: float
    units_in_view: bool
    units_share: float
    overlaps: list[str]
    layers_collapsed: bool


@dataclass
class ViewCheck:
    """How a map fits a window, and answers to a resize and to the zoom-in button.

    Attributes
    ----------
    opened : View
        On opening.
    resized : View or None
        After resizing the window (``None`` when not asked).
    zoomed_in : View
        After clicking the zoom-in button.
    zoomed_resized : View or None
        After then resizing the window back to its first size (``None`` when not asked).
    page_errors : list of str
        Uncaught exceptions of the page.
    """

    opened: View
    resized: View | None
    zoomed_in: View
    zoomed_resized: View | None
    page_errors: list[str] = field(default_factory=list)


def require_chromium() -> Path:
    """Return the system Chromium; fail in CI, skip elsewhere, when it is missing."""
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (install the Debian package 'chromium')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("playwright.sync_api")
    return CHROMIUM


def check_map(
    html: Path,
    screenshot: Path,
    *,
    viewport: tuple[int, int] = (1280, 800),
    timeout_ms: int = 15_000,
) -> MapCheck:
    """Open ``html`` offline in headless Chromium, measure it and save a screenshot.

    Parameters
    ----------
    html : Path
        The map file.
    screenshot : Path
        Where to write the PNG screenshot of the viewport.
    viewport : tuple of (int, int), default (1280, 800)
        Window size in CSS pixels.
    timeout_ms : int, default 15000
        How long to wait for unit polygons to appear before measuring anyway.

    Returns
    -------
    MapCheck
        Counts, errors and recorded external requests.
    """
    from playwright.sync_api import Route, sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    console_errors: list[str] = []
    page_errors: list[str] = []
    external: list[str] = []

    def _route(route: Route) -> None:
        url = route.request.url
        if url.startswith(_LOCAL_SCHEMES):
            route.continue_()
        else:
            external.append(url)
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block"
            )
            context.route("**/*", _route)
            page = context.new_page()
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.goto(Path(html).resolve().as_uri(), wait_until="load")
            # a page that never draws units is measured below as zero polygons
            with contextlib.suppress(PlaywrightTimeout):
                page.wait_for_function(
                    f"() => document.querySelector('{UNITS_PANE} path.leaflet-interactive')",
                    timeout=timeout_ms,
                )
            # let Leaflet finish the frame it is drawing
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            measured = page.evaluate(_MEASURE_JS, UNITS_PANE)
            png = page.screenshot(path=str(screenshot))
            tooltip = ""
            target = page.evaluate(_HOVER_TARGET_JS, UNITS_PANE)
            if target is not None:
                page.mouse.move(float(target[0]), float(target[1]))
                try:
                    page.wait_for_selector(".leaflet-tooltip", timeout=2_000)
                    tooltip = page.inner_text(".leaflet-tooltip")
                except PlaywrightTimeout:
                    tooltip = ""
            scratch = context.new_page()
            coloured, total = scratch.evaluate(
                _CHROMA_JS, [base64.b64encode(png).decode("ascii"), _CHROMA_MIN]
            )
        finally:
            browser.close()
    return MapCheck(
        leaflet=bool(measured["leaflet"]),
        containers=int(measured["containers"]),
        polygons=int(measured["polygons"]),
        fills=int(measured["fills"]),
        problem_polygons=int(measured["problem_polygons"]),
        labels=int(measured["labels"]),
        layer_entries=int(measured["layer_entries"]),
        tooltip=tooltip,
        coloured_fraction=coloured / total if total else 0.0,
        title=str(measured["title"]),
        legend=str(measured["legend"]),
        scale=[str(x) for x in measured["scale"]],
        covered=[str(x) for x in measured["covered"]],
        console_errors=console_errors,
        page_errors=page_errors,
        external_requests=external,
    )


def _local_only(route: Any) -> None:
    """Let local requests through and abort every other.

    Parameters
    ----------
    route : playwright.sync_api.Route
        The intercepted request.
    """
    if route.request.url.startswith(_LOCAL_SCHEMES):
        route.continue_()
    else:
        route.abort()


def _view(page: Any) -> View:
    """Measure where the map of an open page stands.

    Parameters
    ----------
    page : playwright.sync_api.Page
        The page showing a map.

    Returns
    -------
    View
        Zoom, units in view, overlapping boxes.
    """
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    v = page.evaluate(_VIEW_JS, UNITS_PANE[len(".leaflet-") : -len("-pane")])
    return View(
        zoom=float(v["zoom"]),
        units_in_view=bool(v["units_in_view"]),
        units_share=float(v["units_share"]),
        overlaps=[str(x) for x in v["overlaps"]],
        layers_collapsed=bool(v["layers_collapsed"]),
    )


def _resize(page: Any, viewport: tuple[int, int]) -> View:
    """Resize the window, let Leaflet follow, and measure the map.

    Parameters
    ----------
    page : playwright.sync_api.Page
        The page showing a map.
    viewport : tuple of (int, int)
        New window size in CSS pixels.

    Returns
    -------
    View
        The map after the resize.
    """
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.wait_for_timeout(300)  # Leaflet follows a resize on the next animation frame
    return _view(page)


def check_view(
    html: Path,
    viewport: tuple[int, int],
    *,
    resize_to: tuple[int, int] | None = None,
) -> ViewCheck:
    """Open ``html`` offline at ``viewport``, optionally resize, then click zoom-in.

    Parameters
    ----------
    html : Path
        The map file.
    viewport : tuple of (int, int)
        Window size on opening, in CSS pixels.
    resize_to : tuple of (int, int), optional
        Window size to switch to after opening; after the zoom-in click the window
        goes back to ``viewport``.

    Returns
    -------
    ViewCheck
        The map on opening, after the resize, after zoom-in and after the resize back.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    page_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(
                viewport={"width": viewport[0], "height": viewport[1]}, service_workers="block"
            )
            context.route("**/*", _local_only)
            page = context.new_page()
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.goto(Path(html).resolve().as_uri(), wait_until="load")
            opened = _view(page)
            resized = _resize(page, resize_to) if resize_to else None
            page.evaluate(
                "() => { const m = Object.values(window).find(v => v instanceof L.Map);"
                " window.rdZoomed = new Promise(r => m.once('zoomend', r)); }"
            )
            # a real click: it fails when a box lies over the button
            with contextlib.suppress(PlaywrightTimeout):
                page.click(".leaflet-control-zoom-in", timeout=3_000)
                page.evaluate("() => Promise.race([window.rdZoomed, new Promise(r => setTimeout(r, 2000))])")
            zoomed_in = _view(page)
            zoomed_resized = _resize(page, viewport) if resize_to else None
        finally:
            browser.close()
    return ViewCheck(
        opened=opened,
        resized=resized,
        zoomed_in=zoomed_in,
        zoomed_resized=zoomed_resized,
        page_errors=page_errors,
    )
