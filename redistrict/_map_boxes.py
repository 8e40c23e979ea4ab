"""HTML of the fixed boxes of a map: the title block and the legend."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from redistrict._map_style import BARRIER, COMMUNITY, MAJOR_ROAD, MINOR_ROAD, PALETTE
from redistrict._map_text import (
    STRINGS,
    TOTALS,
    band_label,
    band_text,
    fmt_total,
    is_missing,
    size_text,
    status_text,
)
from redistrict._map_types import Layers, MapInfo, PlanBand, UnitRow

__all__ = ["legend_box", "title_box"]

_OPEN_PROBLEMS = 6


def title_box(info: MapInfo, lang: str, bands: Mapping[str, PlanBand] | None = None) -> str:
    """HTML of the fixed title block.

    Parameters
    ----------
    info : MapInfo
        Run description.
    lang : str
        ``"zh"`` or ``"en"``.
    bands : mapping of str to PlanBand, optional
        Band of each scenario of a comparison. When they differ, the block lists
        each scenario's band; otherwise (and without ``bands``) it states the one
        band, in what it counts.

    Returns
    -------
    str
        A ``<div id="rd-title">``.

    """
    s = STRINGS[lang]
    distinct = set((bands or {}).values())
    if len(distinct) > 1:
        lines = "".join(
            f"<div>{html.escape(name)}{s['colon']}{band_text(band, lang)}</div>"
            for name, band in (bands or {}).items()
        )
        rows = [(s["band_mixed"], lines)]
    else:
        band = distinct.pop() if distinct else info.plan_band
        rows = [(band_label(band.unit, lang), band_text(band, lang))]
    rows += [
        (html.escape(TOTALS[lang].get(key, key)), fmt_total(value)) for key, value in info.totals.items()
    ]
    solver = status_text(info.status, lang)
    if info.gap is not None and not is_missing(info.gap):
        among = "" if info.fixed_units is None else s["gap_fixed_units"].format(units=info.fixed_units)
        if info.gap_within_subproblems:
            among += s["gap_subproblems"]
        note = s["gap_note"].format(gap=f"{100 * float(info.gap):.1f}%", among=among)
        if solver.endswith("）") and note.startswith("（"):  # one pair: 可行（未证明最优，差距 …）
            solver = f"{solver[:-1]}，{note[1:]}"
        else:
            solver += note
    rows += [(s["solver"], solver), (s["date"], html.escape(info.date))]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        f'<div id="rd-title" class="rd-box"><div class="rd-title">{html.escape(info.title)}'
        f"</div><table>{body}</table></div>"
    )


def _problem_items(rows: Sequence[UnitRow], lang: str) -> list[str]:
    """Legend lines naming the problem units.

    Parameters
    ----------
    rows : sequence of UnitRow
        Units of one plan.
    lang : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    list of str
        One escaped line per unit whose status is not ``"ok"``.

    """
    s = STRINGS[lang]
    return [
        s["problem_item"].format(
            id=r.unit_id,
            status=status_text(r.status, lang),
            size=size_text(r.size, r.band_unit, lang),
        )
        for r in rows
        if r.problem
    ]


def legend_box(
    plans: Mapping[str, Sequence[UnitRow]],
    layers: Layers,
    lang: str,
    *,
    compare: bool,
    bands: Mapping[str, PlanBand] | None = None,
) -> str:
    """HTML of the fixed legend box.

    Parameters
    ----------
    plans : mapping of str to sequence of UnitRow
        Display rows of each plan.
    layers : Layers
        Context layers (only those given get a legend entry).
    lang : str
        ``"zh"`` or ``"en"``.
    compare : bool
        Whether the legend also summarises each scenario (its band, units and
        problem units).
    bands : mapping of str to PlanBand, optional
        Band of each plan, stated in the scenario summaries (required with
        ``compare``).

    Returns
    -------
    str
        A ``<div id="rd-legend">``.

    """
    s = STRINGS[lang]
    swatches = "".join(f'<span class="rd-sw" style="background:{c};opacity:0.8"></span>' for c in PALETTE[:4])
    entries = [f'<div class="rd-row">{swatches}<span>{s["fill_note"]}</span></div>']
    entries.append(
        f'<div class="rd-row"><span class="rd-sw rd-sw-problem"></span>'
        f"<span>{s['problem_style']}</span></div>"
    )

    def line(style: Mapping[str, Any], text: str, dashed: bool = False) -> str:
        kind = "dashed" if dashed else "solid"
        return (
            f'<div class="rd-row"><span class="rd-line" style="border-top:'
            f'{max(2, round(float(style["weight"])))}px {kind} {style["color"]}"></span>'
            f"<span>{text}</span></div>"
        )

    if layers.roads is not None and len(layers.roads):
        entries.append(line(MAJOR_ROAD, s["roads_major"]))
        entries.append(line(MINOR_ROAD, s["roads_minor"]))
    if layers.communities is not None and len(layers.communities):
        entries.append(line(COMMUNITY, s["communities"], dashed=True))
    if layers.barriers is not None and len(layers.barriers):
        entries.append(line(BARRIER, s["barriers"]))
    if layers.offices is not None and len(layers.offices):
        entries.append(f'<div class="rd-row"><span class="rd-dot"></span>{s["offices"]}</div>')
    if layers.atoms is not None and len(layers.atoms):
        entries.append(f'<div class="rd-row"><span class="rd-sw rd-sw-atom"></span>{s["atoms"]}</div>')
    parts = [*entries]
    for name, rows in plans.items():
        items = _problem_items(rows, lang)
        if compare:
            band = band_text((bands or {})[name], lang)
            summary = s["scenario_summary"].format(band=band, units=len(rows), problems=len(items))
            heading = f"{html.escape(name)}{s['colon']}{summary}"
        elif items:
            heading = s["problems_count"].format(count=len(items))
        else:
            heading = f"{s['problems']}{s['colon']}{s['no_problems']}"
        if not items:
            parts.append(f"<h4>{heading}</h4>")
            continue
        listing = "".join(f"<li>{i}</li>" for i in items)
        opened = " open" if len(items) <= _OPEN_PROBLEMS else ""
        parts.append(
            f"<details{opened}><summary>{heading}</summary>"
            f'<ul class="rd-problem-list">{listing}</ul></details>'
        )
    return (
        f'<div id="rd-legend" class="rd-box"><details open><summary>{s["legend"]}</summary>'
        f"{''.join(parts)}</details></div>"
    )
