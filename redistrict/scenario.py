"""Planning scenarios read from TOML files.

A scenario states what a plan must achieve and what it may change::

    name = "minimal-change"                 # default: the file name
    description = "Keep in-band communities, split and merge the others"
    # or one per language, shown on the pages of that --lang:
    # description = { zh = "保留规模合适的社区，拆分过大、合并过小的社区", en = "Keep ..." }
    allow_change = "oversized_undersized"   # or "all" (default)
    service_radius_m = 3000                 # optional cap: every block within it of a centre
    units = 14                              # optional: exactly this many units

    [band]
    unit = "households"                     # or "residents"
    lo = 2000
    hi = 3000
    target = 2500                           # optional, default mid-band

    [weights]                               # all optional
    compactness = 1.0                       # road-aware distance to the unit centre
    major_road = 1.0                        # prefer boundaries along major roads
    continuity = 2000.0                     # metres per household moved to another community
    deviation = 100.0                       # metres per household off the target
    area = 0.1                              # share of compactness weight given by area

    [costs]                                 # all optional, see redistrict.costs.CostParams
    community_kind = "urban"
    staff_salary_yuan = 60000

**Bands in residents.** With ``unit = "residents"`` the optimiser sizes units by
residents: each atom's residents (rounded) are counted against the band in
residents, and compactness is weighted by residents (see
:func:`redistrict.locks.sized_problem`); ``in_band`` and ``status`` of the plan
refer to residents (see :func:`redistrict.continuity.annotate_units`). The
stages that need a size in households (subdividing large atoms, the first
feasibility check) use the band converted with the mean household size of the
loaded blocks (:meth:`Scenario.household_band`).

**Number of units.** ``units`` fixes how many units the plan has, locked
units included (each new residents' committee costs an office and working
funds, so a bureau often decides the number first); without it the search
chooses among the numbers the band admits. A number no plan in the band can
have is refused with the numbers that can.

**Weights.** The objective is measured in metres of the compactness term, so
``continuity`` and ``deviation`` are divided by ``compactness``; ``major_road``
and ``area`` shape the distances themselves (see
:class:`redistrict.problem.Weights`).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from redistrict._files import read_text
from redistrict._validate_problem import is_number
from redistrict.costs import CostParams
from redistrict.errors import InputError
from redistrict.problem import MAX_WEIGHT, Band, Weights, band_bounds_problem

if TYPE_CHECKING:
    from redistrict.load import Inputs
    from redistrict.pipeline import PlanOptions

__all__ = [
    "ALLOW_CHANGE",
    "Scenario",
    "ScenarioBand",
    "ScenarioWeights",
    "default_scenario",
    "load_scenario",
    "parse_scenario",
    "safe_name",
]

#: What a scenario may change: everything, or only communities outside the band.
ALLOW_CHANGE: tuple[str, ...] = ("all", "oversized_undersized")
_UNITS = ("households", "residents")
#: Languages a scenario's description may be given in (the maps' ``--lang`` values).
_DESCRIPTION_LANGS = ("zh", "en")
_TOP = ("name", "description", "allow_change", "service_radius_m", "units", "band", "weights", "costs")
_BAND = ("unit", "lo", "hi", "target")
_COSTS = tuple(f.name for f in dataclasses.fields(CostParams))


@dataclass(frozen=True)
class ScenarioBand:
    """Size band of a scenario.

    Parameters
    ----------
    lo, hi : int
        Inclusive bounds.
    target : int, optional
        Preferred size (default: middle of the band).
    unit : {"households", "residents"}
        What the numbers count.

    """

    lo: int = 2000
    hi: int = 3000
    target: int | None = None
    unit: Literal["households", "residents"] = "households"

    @property
    def goal(self) -> float:
        """The target size (middle of the band unless given)."""
        return float(self.target) if self.target is not None else (self.lo + self.hi) / 2.0

    def text(self) -> str:
        """Human-readable band, e.g. ``"2,000-3,000 households"``."""
        return f"{self.lo:,}-{self.hi:,} {self.unit}"


@dataclass(frozen=True)
class ScenarioWeights:
    """Objective weights of a scenario (see the module docstring).

    Parameters
    ----------
    compactness : float
        Weight of the road-aware distance term (> 0).
    major_road : float
        Extra cost factor for major roads crossed inside a unit.
    continuity : float
        Metres per household placed in a unit of another community.
    deviation : float
        Metres per household of difference from the target; the default is
        :class:`redistrict.problem.Weights`' (what ``redistrict plan`` uses).
    area : float
        Share (0..1) of an atom's compactness weight given by its area.

    """

    compactness: float = 1.0
    major_road: float = 1.0
    continuity: float = 0.0
    deviation: float = Weights.deviation
    area: float = Weights.area

    def to_weights(self) -> Weights:
        """The optimiser's :class:`~redistrict.problem.Weights`."""
        return Weights(
            major_road=self.major_road,
            continuity=self.continuity / self.compactness,
            deviation=self.deviation / self.compactness,
            area=self.area,
        )


@dataclass(frozen=True)
class Scenario:
    """A planning scenario.

    Parameters
    ----------
    name : str
        Short name (used for output folders and table rows).
    band : ScenarioBand
        Size band and target.
    weights : ScenarioWeights
        Objective weights.
    allow_change : {"all", "oversized_undersized"}
        ``oversized_undersized`` keeps every existing community inside the
        band as it is (its atoms are locked), unless a neighbouring area that
        cannot form units on its own (an undersized community, or an oversized
        one in a gap of the band) can join no oversized community instead.
    service_radius_m : float, optional
        Largest service radius of a unit (metres): the radius of the smallest
        circle holding the centres of its population blocks; units beyond it
        are reported, not hidden.
    costs : CostParams
        Cost parameters.
    description : str
        Free text: the scenario file's ``description``, or its English (else
        first) entry when the file gives one per language.
    descriptions : tuple of (str, str)
        The file's descriptions per language, ``(lang, text)`` pairs (``zh``,
        ``en``), when it gives a table; empty when it gives one text.
    source : str
        File the scenario was read from (empty for built-in scenarios).
    units : int, optional
        Number of units of the plan, locked units included (default: the
        search chooses).

    """

    name: str
    band: ScenarioBand = field(default_factory=ScenarioBand)
    weights: ScenarioWeights = field(default_factory=ScenarioWeights)
    allow_change: Literal["all", "oversized_undersized"] = "all"
    service_radius_m: float | None = None
    costs: CostParams = field(default_factory=CostParams)
    description: str = ""
    descriptions: tuple[tuple[str, str], ...] = ()
    source: str = ""
    units: int | None = None

    def described(self, lang: str) -> str:
        """The description in ``lang`` when the file gives one, else :attr:`description`.

        Parameters
        ----------
        lang : {"zh", "en"}
            Language of the page that shows it.

        Returns
        -------
        str
        """
        return dict(self.descriptions).get(lang, self.description)

    def household_band(self, blocks: pd.DataFrame) -> Band:
        """The band in households for the given blocks.

        Parameters
        ----------
        blocks : pandas.DataFrame
            Loaded blocks with ``households`` and, for a band in residents,
            ``residents``.

        Returns
        -------
        Band

        Raises
        ------
        InputError
            When the band is in residents but the blocks have no residents.

        """
        b = self.band
        if b.unit == "households":
            return Band(b.lo, b.hi, b.target)
        where = f"scenario {self.name!r}" + (f" ({self.source})" if self.source else "")
        if "residents" not in blocks.columns:
            raise InputError(
                f"{where} states its band in residents but the blocks have no residents "
                "column: give --residents COLUMN"
            )
        households = float(blocks["households"].sum())
        residents = float(pd.to_numeric(blocks["residents"], errors="coerce").fillna(0).sum())
        if households <= 0 or residents <= 0:
            raise InputError(
                f"{where} states its band in residents but the blocks hold {residents:.0f} "
                f"residents in {households:.0f} households: check the --residents column"
            )
        size = residents / households
        lo, hi = round(b.lo / size), max(1, round(b.hi / size))
        target = None if b.target is None else min(hi, max(lo, round(b.target / size)))
        return Band(min(lo, hi), hi, target)

    def plan_options(self, inputs: Inputs, base: PlanOptions) -> PlanOptions:
        """Options of a run of this scenario on ``inputs``.

        Parameters
        ----------
        inputs : Inputs
            The loaded inputs (for the household size of a band in residents).
        base : PlanOptions
            Solver settings (time limit, seed ...) to keep.

        Returns
        -------
        PlanOptions
            ``base`` with this scenario's band (in households), weights,
            number of units (when it gives one) and the scenario itself.

        """
        return dataclasses.replace(
            base, band=self.household_band(inputs.blocks), weights=self.weights.to_weights(),
            scenario=self, units=base.units if self.units is None else self.units,
        )  # fmt: skip


def default_scenario(band: Band, weights: Weights | None = None, name: str = "plan") -> Scenario:
    """A scenario equivalent to plain ``--band``/``--target`` options.

    Parameters
    ----------
    band : Band
        Households band.
    weights : Weights, optional
        Optimiser weights (defaults of :class:`~redistrict.problem.Weights`).
    name : str
        Scenario name.

    Returns
    -------
    Scenario

    """
    w = weights or Weights()
    return Scenario(
        name=name,
        band=ScenarioBand(band.lo, band.hi, band.target, "households"),
        weights=ScenarioWeights(1.0, w.major_road, w.continuity, w.deviation, w.area),
    )


def safe_name(name: str) -> str:
    """A file-system safe version of a scenario name (letters, digits, ``-_.``)."""
    cleaned = re.sub(r"[^\w.-]+", "-", name, flags=re.UNICODE).strip("-.")
    return cleaned or "scenario"


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Parameters
    ----------
    path : str or Path
        The ``.toml`` file.

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        Listing every problem of the file.

    """
    p = Path(path)
    if not p.is_file():
        hint = "it is a folder" if p.is_dir() else "it does not exist"
        raise InputError(f"scenario file {p}: {hint}; give the path of a .toml scenario file")
    # TOML is UTF-8; Notepad adds a byte-order mark, and Chinese Windows editors save GBK.
    try:
        text = read_text(p)
    except OSError as exc:
        raise InputError(f"scenario file {p}: cannot be read ({exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"scenario file {p}: cannot be read as UTF-8 (or GBK) text ({exc}); save it as UTF-8"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(
            f"scenario file {p}: not valid TOML ({exc}); see the examples in data/scenarios/"
        ) from None
    return parse_scenario(data, source=str(p), default_name=p.stem)


def parse_scenario(data: Mapping[str, Any], *, source: str = "", default_name: str = "scenario") -> Scenario:
    """Validate a scenario given as a mapping (the parsed TOML).

    Parameters
    ----------
    data : mapping
        Keys as in the module docstring.
    source : str
        File name used in messages.
    default_name : str
        Name when ``data`` has none.

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        Listing every problem found.

    """
    where = f"scenario file {source}" if source else "scenario"
    problems: list[str] = []
    _unknown(data, _TOP, "", where, problems)

    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        problems.append(f'{where}: name must be a non-empty text, e.g. name = "target-2500"')
        name = default_name or "scenario"
    description, descriptions = _parse_description(data.get("description", ""), where, problems)
    allow = data.get("allow_change", "all")
    if allow not in ALLOW_CHANGE:
        problems.append(
            f"{where}: allow_change must be one of {', '.join(repr(a) for a in ALLOW_CHANGE)}, not {allow!r}"
        )
        allow = "all"
    radius = data.get("service_radius_m")
    if radius is not None and (not is_number(radius) or not math.isfinite(radius) or radius <= 0):
        problems.append(f"{where}: service_radius_m must be a positive number of metres, not {radius!r}")
        radius = None

    units = data.get("units")
    if units is not None and (isinstance(units, bool) or not isinstance(units, int) or units < 1):
        problems.append(
            f"{where}: units must be a positive whole number of units, e.g. units = 14, not {units!r}"
        )
        units = None

    band = _parse_band(data.get("band"), where, problems)
    weights = _parse_weights(data.get("weights", {}), where, problems)
    costs = _parse_costs(data.get("costs", {}), where, problems)
    if problems or band is None or weights is None or costs is None:
        raise InputError(problems)
    return Scenario(
        name=name.strip(), band=band, weights=weights, allow_change=allow,
        service_radius_m=None if radius is None else float(radius), costs=costs,
        description=description, descriptions=descriptions, source=source, units=units,
    )  # fmt: skip


# --------------------------------------------------------------------------- sections


def _parse_description(raw: Any, where: str, problems: list[str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A description text, or one per language (``description = { zh = "…", en = "…" }``)."""
    if isinstance(raw, str):
        return raw, ()
    hint = 'description = "…", or one per language: description = { zh = "…", en = "…" }'
    if not isinstance(raw, Mapping) or not raw:
        problems.append(f"{where}: description must be a text or a table of texts per language: {hint}")
        return "", ()
    wrong = [str(k) for k in raw if k not in _DESCRIPTION_LANGS]
    if wrong:
        problems.append(
            f"{where}: description has unknown language(s) {', '.join(repr(k) for k in wrong)}: "
            f"use {' and '.join(_DESCRIPTION_LANGS)} (the maps' --lang values)"
        )
    bad = [str(k) for k, v in raw.items() if not isinstance(v, str)]
    if bad:
        problems.append(f"{where}: description.{bad[0]} must be a text: {hint}")
    pairs = tuple((str(k), str(v)) for k, v in raw.items() if k in _DESCRIPTION_LANGS and isinstance(v, str))
    texts = dict(pairs)
    return texts.get("en", pairs[0][1] if pairs else ""), pairs


def _parse_band(raw: Any, where: str, problems: list[str]) -> ScenarioBand | None:
    if raw is None:
        problems.append(f"{where}: the [band] table is missing; add e.g. [band] lo = 2000, hi = 3000")
        return None
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: band must be a table: [band] lo = 2000, hi = 3000")
        return None
    n = len(problems)
    _unknown(raw, _BAND, "band.", where, problems)
    unit = raw.get("unit", "households")
    if unit not in _UNITS:
        problems.append(f"{where}: band.unit must be 'households' or 'residents', not {unit!r}")
    values: dict[str, int | None] = {}
    for key in ("lo", "hi", "target"):
        value = raw.get(key)
        if value is None:
            if key != "target":
                problems.append(f"{where}: band.{key} is missing; give a whole number, e.g. {key} = 2000")
            values[key] = None
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(f"{where}: band.{key} must be a non-negative whole number, not {value!r}")
            values[key] = None
        else:
            values[key] = value
    lo, hi, target = values["lo"], values["hi"], values["target"]
    if lo is not None and hi is not None:
        counts = unit if unit in _UNITS else "households"
        bounds = band_bounds_problem(lo, hi, syntax="scenario", counts=str(counts))
        if hi == 0:
            problems.append(f"{where}: band.hi must be positive")
        elif lo == 0:
            problems.append(
                f"{where}: band.lo is 0: a unit holds at least one of the {counts} it counts, and without "
                f"a lower bound the number of units is not limited; give lo = 1 or more, e.g. lo = 2000"
            )
        elif bounds is not None:
            problems.append(f"{where}: {bounds}")
        elif target is not None and not lo <= target <= hi:
            problems.append(f"{where}: band.target {target} lies outside [{lo}, {hi}]: move it inside")
    if len(problems) > n or lo is None or hi is None:
        return None
    return ScenarioBand(lo=lo, hi=hi, target=target, unit=unit)


def _parse_weights(raw: Any, where: str, problems: list[str]) -> ScenarioWeights | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: weights must be a table: [weights] continuity = 1000")
        return None
    names = tuple(f.name for f in dataclasses.fields(ScenarioWeights))
    n = len(problems)
    _unknown(raw, names, "weights.", where, problems)
    values: dict[str, float] = {}
    for key in names:
        if key not in raw:
            continue
        value = raw[key]
        if not is_number(value) or not math.isfinite(value) or value < 0:
            problems.append(f"{where}: weights.{key} must be a non-negative number, not {value!r}")
            continue
        values[key] = float(value)
    if values.get("compactness", 1.0) <= 0:
        problems.append(f"{where}: weights.compactness must be positive (it is the unit of the others)")
    if values.get("area", 0.0) > 1:
        problems.append(f"{where}: weights.area is a share and must lie in 0..1, not {values['area']}")
    compactness = values.get("compactness", 1.0)
    if len(problems) == n:
        for key in ("major_road", "continuity", "deviation"):
            scaled = values.get(key, 0.0) / compactness if key != "major_road" else values.get(key, 0.0)
            if scaled > MAX_WEIGHT:
                by = f" / compactness {compactness:g} = {scaled:g}" if key != "major_road" else ""
                problems.append(
                    f"{where}: weights.{key} = {values[key]:g}{by} is more than {MAX_WEIGHT:g}: costs that "
                    "large overflow the solvers' arithmetic; weights are relative, so scale them all down"
                )
    if len(problems) > n:
        return None
    return ScenarioWeights(**values)


def _parse_costs(raw: Any, where: str, problems: list[str]) -> CostParams | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: costs must be a table: [costs] staff_salary_yuan = 60000")
        return None
    n = len(problems)
    _unknown(raw, _COSTS, "costs.", where, problems)
    values = {k: v for k, v in raw.items() if k in _COSTS}
    try:  # the known keys are checked too, so that every problem is reported at once
        params = CostParams(**values)
    except InputError as exc:
        problems.extend(f"{where}: {p}" for p in exc.problems)
        return None
    return None if len(problems) > n else params


def _unknown(
    raw: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, where: str, problems: list[str]
) -> None:
    for key in sorted(str(k) for k in raw if k not in allowed):
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean {prefix}{close[0]}?" if close else f"allowed: {', '.join(allowed)}"
        problems.append(f"{where}: unknown key {prefix}{key}; {hint}")
