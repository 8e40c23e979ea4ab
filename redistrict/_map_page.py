"""The folium page around the layers: Leaflet inlined, panes, CSS, tiles, controls, ids."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence

import folium
from branca.element import Element, Figure, MacroElement
from folium.map import CustomPane
from folium.utilities import JsCode
from jinja2 import Template

from redistrict._assets import RawHtml, inline_leaflet, load_leaflet
from redistrict._map_style import CSS, PANES, SMALL_SCREEN_PX
from redistrict._map_text import STRINGS

__all__ = ["finish_map", "new_map"]

#: Pixels kept between the units and the window's edges or the boxes over the map.
_MARGIN_PX = 10
#: Padding never takes more than this share of the map's width or height, so a zoom
#: that shows the units always exists (Leaflet's zoom is infinite otherwise).
_MAX_PAD_SHARE = 0.5
#: JavaScript telling whether the window is small (the CSS of such windows applies).
_SMALL_SCREEN_JS = f"window.matchMedia('(max-width: {SMALL_SCREEN_PX - 1}px)').matches"


def new_map(title: str, bounds: list[list[float]]) -> folium.Map:
    """Create an offline map with Leaflet inlined, panes and styles.

    Parameters
    ----------
    title : str
        Page title.
    bounds : list of list of float
        ``[[south, west], [north, east]]`` of the units.

    Returns
    -------
    folium.Map
        A map with Leaflet inlined and no layer yet.

    """
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    m = folium.Map(
        location=centre,
        zoom_start=14,
        tiles=None,
        control_scale=False,  # folium's scale bar shows feet too: a metric one is added below
        zoom_control="bottomright",
        zoom_snap=0.25,  # fit the units tightly instead of at whole zoom levels
    )
    inline_leaflet(m, load_leaflet())
    root = m.get_root()
    assert isinstance(root, Figure)
    root.title = html.escape(title)
    root.header.add_child(RawHtml(CSS), name="redistrict_css")
    for pane, z in PANES:
        m.add_child(CustomPane(pane, z_index=z, pointer_events=False))
    m.add_child(_MetricScale())
    return m


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (planners work in metres and km)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


class _FitUnits(MacroElement):
    """Fit the units to the window, clear of the boxes over the map, as far as it allows.

    The boxes (title, legend, layer control, zoom buttons) are measured in the page.
    Each can be kept clear beside it or above/below it; the combination that shows the
    units largest wins, among those whose padding takes at most ``_MAX_PAD_SHARE`` of
    the map's width and height. The legend starts folded when it would run into the
    title box, when it leaves no such combination, or, on a small screen, when
    folding it shows the units at least half a zoom level larger. When there is
    still no such combination, the padding is scaled down to that share and the
    boxes lie over the edge of the units. The units are fitted again when the
    window is resized, until the user first zooms or pans.

    Parameters
    ----------
    bounds : list of list of float
        ``[[south, west], [north, east]]`` of the units.

    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function (map, bounds, margin, share, small) {
          var boxes = '.rd-box, .leaflet-control-layers, .leaflet-control-zoom';
          var fitting = false, moved = false;
          function rect(e) { return e.getBoundingClientRect(); }
          function clear(frame, r) {
            // padding [top, right, bottom, left] keeping the units beside box r, or above/below it
            var side = [0, 0, 0, 0], end = [0, 0, 0, 0];
            if (r.left - frame.left < frame.right - r.right) side[3] = r.right - frame.left + margin;
            else side[1] = frame.right - r.left + margin;
            if (r.top - frame.top < frame.bottom - r.bottom) end[0] = r.bottom - frame.top + margin;
            else end[2] = frame.bottom - r.top + margin;
            return [side, end];
          }
          function shrink(p, a, b, room) {
            // scale sides a and b of padding p down to at most room pixels together
            var f = Math.min(1, room / (p[a] + p[b]));
            p[a] *= f; p[b] *= f;
          }
          function padding() {
            // {pad: [top, right, bottom, left], clear: whether the units are clear of every box}
            var frame = rect(map.getContainer()), size = map.getSize();
            var ways = Array.prototype.map.call(document.querySelectorAll(boxes), rect)
              .filter(function (r) { return r.width > 0 && r.height > 0; })
              .map(function (r) { return clear(frame, r); });
            var best = null;
            for (var k = 0; k < (1 << ways.length); k++) {
              var p = [margin, margin, margin, margin];
              ways.forEach(function (w, i) {
                var q = w[(k >> i) & 1];
                for (var j = 0; j < 4; j++) p[j] = Math.max(p[j], q[j]);
              });
              var isClear = p[1] + p[3] <= share * size.x && p[0] + p[2] <= share * size.y;
              shrink(p, 1, 3, share * size.x);
              shrink(p, 0, 2, share * size.y);
              var zoom = map.getBoundsZoom(bounds, false, L.point(p[1] + p[3], p[0] + p[2]));
              if (!best || isClear > best.clear || (isClear === best.clear && zoom > best.zoom)) {
                best = {pad: p, clear: isClear, zoom: zoom};
              }
            }
            return best;
          }
          function fit() {
            var p = padding().pad;
            fitting = true;
            map.fitBounds(bounds, {paddingTopLeft: [p[3], p[0]], paddingBottomRight: [p[1], p[2]],
                                   animate: false});
            fitting = false;
          }
          var title = document.getElementById('rd-title');
          var legend = document.querySelector('#rd-legend > details');
          if (legend) {
            var hitsTitle = title && rect(legend).top < rect(title).bottom + margin;
            var opened = padding();
            legend.open = false;
            var folded = padding();
            // folded when it would run into the title, leave no clear fit, or on a small
            // screen keep the plan at least 1.4 times (half a zoom level) smaller
            legend.open = !(hitsTitle || !opened.clear
                            || (small && folded.clear && folded.zoom >= opened.zoom + 0.5));
          }
          map.on('movestart zoomstart', function () { if (!fitting) moved = true; });
          map.on('resize', function () { if (!moved) fit(); });
          fit();
        })({{ this._parent.get_name() }}, L.latLngBounds({{ this.bounds|tojson }}),
           {{ this.margin }}, {{ this.share }}, {{ this.small }});
        {% endmacro %}"""
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitUnits"
        self.bounds = bounds
        self.margin = _MARGIN_PX
        self.share = _MAX_PAD_SHARE
        self.small = _SMALL_SCREEN_JS


def finish_map(
    m: folium.Map,
    bounds: list[list[float]],
    boxes: Sequence[str],
    *,
    tiles: str | None,
    lang: str,
) -> folium.Map:
    """Add tiles, layer control, fixed boxes and bounds; make names deterministic.

    Parameters
    ----------
    m : folium.Map
        The map with all layers.
    bounds : list of list of float
        Bounds to fit.
    boxes : sequence of str
        HTML of the fixed boxes.
    tiles : str or None
        Tile URL template, added as a toggleable layer, or None for no tiles.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    folium.Map
        The same map.

    """
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles,
            attr=STRINGS[lang]["tiles_attr"],
            name=STRINGS[lang]["tiles"],
            overlay=True,
            control=True,
            show=True,
        ).add_to(m)
    # open on large screens; on small ones a toggle, so that it leaves the title box clear
    # (folium writes a JsCode option as code; its hint says bool)
    small = JsCode(_SMALL_SCREEN_JS)
    folium.LayerControl(position="topright", collapsed=small).add_to(m)  # type: ignore[arg-type]
    m.add_child(_FitUnits(bounds))
    root = m.get_root()
    assert isinstance(root, Figure)
    for i, box in enumerate(boxes):
        root.html.add_child(RawHtml(box), name=f"redistrict_box_{i}")
    _renumber(root)
    return m


def _walk(element: Element) -> Iterator[Element]:
    """Yield an element and all its descendants in document order.

    Parameters
    ----------
    element : branca.element.Element
        Root of the tree.

    Yields
    ------
    branca.element.Element
        Every element once.

    """
    yield element
    for part in ("header", "html", "script"):
        sub = getattr(element, part, None)
        if isinstance(sub, Element) and isinstance(element, Figure):
            yield from _walk(sub)
    for child in list(element._children.values()):
        yield from _walk(child)


def _renumber(root: Element) -> None:
    """Replace branca's random element ids by sequential ones.

    branca names every JavaScript variable after a random id, so two renders of the
    same plan would differ. Numbering the tree in document order makes the saved
    HTML byte-identical for identical inputs.

    Parameters
    ----------
    root : branca.element.Element
        The figure of the map.

    """
    for i, element in enumerate(_walk(root)):
        element._id = f"rd{i:05d}"
