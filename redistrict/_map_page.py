"""The folium page around the layers: Leaflet inlined, panes, CSS, tiles, controls, ids."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence

import folium
from branca.element import Element, Figure, MacroElement
from folium.map import CustomPane
from jinja2 import Template

from redistrict._assets import RawHtml, inline_leaflet, load_leaflet
from redistrict._map_style import CSS, PANES
from redistrict._map_text import STRINGS

__all__ = ["finish_map", "new_map"]

_PAD_TOP_LEFT = (380, 20)  # pixels kept free by fit_bounds: the boxes are up to 362 px wide
_PAD_BOTTOM_RIGHT = (230, 20)  # longer problem lists start folded to keep the map visible


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
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    # keep the units clear of the title and legend (left) and layer control (right)
    m.fit_bounds(bounds, padding_top_left=_PAD_TOP_LEFT, padding_bottom_right=_PAD_BOTTOM_RIGHT)
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
