"""Colours, line styles, panes and CSS of the maps built by :mod:`redistrict.maps`."""

from __future__ import annotations

__all__ = [
    "ATOM",
    "BARRIER",
    "COMMUNITY",
    "CSS",
    "MAJOR_ROAD",
    "MINOR_ROAD",
    "OFFICE",
    "PALETTE",
    "PANES",
    "PROBLEM_COLOUR",
    "SMALL_SCREEN_PX",
    "UNIT_FILL_OPACITY",
]

#: Unit fills, most distinct first. Greedy colouring of a planar adjacency graph
#: rarely needs more than five; twelve leave room for odd geometries.
#: Reds are left out: a red dashed outline marks problem units.
PALETTE: tuple[str, ...] = (
    "#80b1d3",
    "#b3de69",
    "#fdb462",
    "#bc80bd",
    "#8dd3c7",
    "#ffed6f",
    "#e5c494",
    "#66c2a5",
    "#bebada",
    "#a6d854",
    "#ccebc5",
    "#fccde5",
)

PROBLEM_COLOUR = "#d7191c"
_BACKGROUND = "#f4f3ef"
UNIT_FILL_OPACITY = 0.5
MAJOR_ROAD = {"color": "#5b5b5b", "weight": 3.5, "opacity": 0.9}
MINOR_ROAD = {"color": "#a3a3a3", "weight": 1.3, "opacity": 0.9}
COMMUNITY = {"color": "#222222", "weight": 2.5, "dashArray": "8 6", "fill": False}
BARRIER = {
    "color": "#1f5fa8",
    "weight": 3,
    "opacity": 0.9,
    "fillColor": "#1f5fa8",
    "fillOpacity": 0.25,
}
ATOM = {"color": "#707070", "weight": 0.7, "fillOpacity": 0.0, "fill": True}
OFFICE = {
    "color": "#ffffff",
    "weight": 2,
    "fill": True,
    "fillColor": "#111111",
    "fillOpacity": 0.9,
}

#: Leaflet panes, bottom to top. Panes ignore the mouse; interactive paths inside
#: them still receive it (leaflet.css), so upper panes never hide lower tooltips.
PANES: tuple[tuple[str, int], ...] = (
    ("rd_roads", 370),
    ("rd_major_roads", 375),
    ("rd_atoms", 380),
    ("rd_units", 400),
    ("rd_communities", 420),
    ("rd_barriers", 430),
    ("rd_offices", 440),
)

#: Windows narrower than this are "small" (phones, half screens): the layer control
#: starts as a toggle and the boxes narrow to leave room for it.
SMALL_SCREEN_PX = 700

CSS = f"""
<style>
.leaflet-container {{ background: {_BACKGROUND}; }}
.rd-box, .rd-label, .leaflet-tooltip, .leaflet-control-layers {{
  font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC",
    "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif;
}}
.rd-box {{
  position: fixed; z-index: 1000; background: rgba(255, 255, 255, 0.93);
  padding: 8px 11px; border-radius: 5px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.35);
  font-size: 13px; line-height: 1.45; color: #222; max-width: 340px;
}}
#rd-title {{ top: 10px; left: 10px; }}
#rd-legend {{ bottom: 60px; left: 10px; max-height: 45vh; overflow-y: auto; }}
.rd-title {{ font-size: 16px; font-weight: bold; margin-bottom: 4px; overflow-wrap: anywhere; }}
.rd-box table {{ border-collapse: collapse; }}
.rd-box th {{ text-align: left; font-weight: normal; color: #555; padding: 0 10px 0 0; white-space: nowrap; }}
.rd-box td {{ padding: 0; }}
.rd-box h4 {{ margin: 6px 0 3px; font-size: 13px; }}
.rd-box ul {{ margin: 2px 0; padding-left: 18px; }}
.rd-row {{ display: flex; align-items: center; gap: 6px; margin: 2px 0; }}
.rd-sw {{ display: inline-block; width: 14px; height: 12px; border: 1px solid #444; }}
.rd-sw-problem {{ border: 3px dashed {PROBLEM_COLOUR}; width: 10px; height: 8px; }}
.rd-sw-community {{ border: 2px dashed #222; background: none; width: 12px; height: 10px; }}
.rd-sw-atom {{ border: 1px solid #707070; background: none; }}
.rd-line {{ display: inline-block; width: 22px; height: 0; }}
.rd-dot {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  background: #111; border: 2px solid #fff; box-shadow: 0 0 0 1px #999; }}
.rd-label-icon {{ background: none; border: none; }}
.rd-label {{
  position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  text-align: center; font-size: 12px; line-height: 1.15; color: #111;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; pointer-events: none;
}}
.rd-label b {{ font-size: 14px; }}
.rd-label-sub {{ font-size: 11px; color: #444; }}
.rd-label.rd-problem .rd-label-sub {{ color: inherit; }}
.rd-label.rd-problem {{ color: #a50f15; }}
.rd-problem-list li {{ color: #a50f15; }}
.rd-unit-tooltip {{ padding: 5px 8px; }}
.rd-unit-tooltip table {{ border-collapse: collapse; font-size: 12px; line-height: 1.35; }}
.rd-unit-tooltip th {{ text-align: left; font-weight: normal; color: #555; padding: 0 10px 0 0; }}
.rd-unit-tooltip td {{ padding: 0; color: #111; }}
.rd-box summary {{ cursor: pointer; font-weight: bold; margin: 4px 0 3px; }}
.rd-box details details {{ margin-top: 4px; }}
@media (max-width: {SMALL_SCREEN_PX - 1}px) {{
  .rd-box {{ max-width: calc(100vw - 96px); }}  /* clear of the layer toggle and zoom buttons */
}}
</style>
"""
