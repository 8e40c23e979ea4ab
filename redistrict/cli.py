"""Command line: ``redistrict demo``, ``redistrict plan`` (and friends).

Every expected failure (bad input, infeasible band, solver trouble) prints one
clear message and exits with the code of its
:class:`~redistrict.errors.RedistrictError` class; nothing is written then. The
notes gathered until the failure follow the message as ``note:`` lines, since
they may explain it. A finished run prints its notes as ``note:`` lines, and as
``warning:`` lines those of the solver (units outside the band, time or solver
trouble) and those saying the inputs are probably wrong (:attr:`Inputs.warnings`:
stray or overlapping blocks, roads stopping short of another road).

The option types live in :mod:`redistrict._cli_options`, what is printed (and what
Ctrl-C says) in :mod:`redistrict._cli_report`.
"""

from __future__ import annotations

import errno
import math
import signal
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from redistrict._cli_options import (
    AtomsOpt,
    BandOpt,
    BarriersOpt,
    BlocksOpt,
    BudgetOpt,
    CacheOpt,
    CityScenarioOpt,
    CityTimeOpt,
    Command,
    CommunitiesOpt,
    CommunityIdOpt,
    CommunityNameOpt,
    Group,
    HouseholdsOpt,
    LangOpt,
    LockOpt,
    LockPlanOpt,
    MajorOpt,
    MethodOpt,
    NoCacheOpt,
    OfficeAreaOpt,
    OfficeCommunityOpt,
    OfficeIdOpt,
    OfficeNameOpt,
    OfficesOpt,
    OutOpt,
    PartitionOpt,
    ResidentsOpt,
    RoadClassOpt,
    RoadsOpt,
    ScenarioFilesArg,
    ScenarioOpt,
    SchedulerOpt,
    SeedOpt,
    SolverOpt,
    StrictOpt,
    StudyAreaOpt,
    TargetOpt,
    TilesOpt,
    TimeOpt,
    TitleOpt,
    UnitsOpt,
    VerboseOpt,
    WhereOpt,
    WorkersOpt,
)
from redistrict._cli_report import (
    err,
    noting,
    out,
    print_compare_notes,
    print_notes,
    progress,
    reported,
    setup_logging,
    summary,
    terminate,
    written,
)
from redistrict._out_dir import check_out_dir
from redistrict._solvers import SOLVERS
from redistrict._words import counted
from redistrict.errors import InputError, RedistrictError
from redistrict.problem import Band, Weights, band_problems

if TYPE_CHECKING:
    import pandas as pd

    from redistrict.scenario import Scenario


__all__ = ["app", "main"]


app = typer.Typer(
    cls=Group,
    name="redistrict",
    help="Redraw oversized and undersized communities into road-bounded units of a planned size.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _given(ctx: typer.Context, option: str) -> bool:
    """Whether the command line gave ``option`` (a parameter name), even at its default value."""
    source = ctx.get_parameter_source(option)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _area_name(blocks: str, where: str | None) -> str:
    """The title of an area's maps and pages: the blocks file's name, and the selection."""
    from redistrict._load_read import parse_source

    path = parse_source(blocks)[0]
    name = path.stem if isinstance(path, Path) else PurePosixPath(path).stem  # zip://... is text
    return f"{name} ({where.strip()})" if where and where.strip() else name


def _check_options(
    *,
    solver: str,
    method: str,
    atoms: str,
    lang: str,
    budget: str,
    time_limit: float,
    seed: int,
    band: tuple[int, int] | None = None,
    target: int | None = None,
    units: int | None = None,
) -> None:
    """Refuse the options no run can use, listing every problem at once, before any loading work."""
    problems = [
        f"{name} must be one of {', '.join(allowed)}, not {value!r}"
        for name, value, allowed in (
            ("--solver", solver, SOLVERS),
            ("--method", method, ("auto", "exact", "lns")),
            ("--atoms", atoms, ("roads", "blocks")),
            ("--lang", lang, ("zh", "en")),
            ("--budget", budget, ("time", "work")),
        )
        if value not in allowed
    ]
    if not (math.isfinite(time_limit) and time_limit > 0):
        problems.append(
            f"--time-limit must be a positive number of seconds, not {time_limit:g}: e.g. --time-limit 60"
        )
    if not 0 <= seed < 2**63:
        problems.append(f"--seed must be a whole number from 0 to 2**63 - 1, not {seed}: e.g. --seed 0")
    if band is not None:
        problems += band_problems(band[0], band[1], target)
    if units is not None and units < 1:
        problems.append(f"--units must be a positive whole number of units, not {units}: e.g. --units 14")
    if problems:
        raise InputError(problems)


def _band_in_households(band: Band, blocks: pd.DataFrame) -> list[str]:
    """A note that ``--band`` counts households even with ``--residents`` (the residents it means)."""
    if "residents" not in blocks.columns or not blocks["households"].sum():
        return []
    ratio = float(blocks["residents"].sum()) / float(blocks["households"].sum())
    if not ratio > 0:
        return []
    return [
        f"--band {band.lo}-{band.hi} counts households (--residents does not change that): at "
        f"{ratio:.2f} residents per household here, units hold about {band.lo * ratio:,.0f}-"
        f"{band.hi * ratio:,.0f} residents; to plan by residents, give a scenario whose [band] has "
        'unit = "residents" (e.g. data/scenarios/rural.toml)'
    ]


def _unwritten(what: str, out_dir: Path, exc: OSError) -> RedistrictError:
    """The error for outputs that could not be written, with the advice that fits ``exc``."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = "free some space, or choose a folder on another disk with --out"
    elif isinstance(exc, PermissionError):
        advice = "choose a folder you can write to with --out"
    else:
        advice = "check the folder, or choose another one with --out"
    return RedistrictError(f"cannot write {what} to {out_dir}: {exc}; {advice} (nothing was changed there)")


def _target_note(band: tuple[int, int], target: int | None) -> list[str]:
    """A note that ``--target`` at the band's middle changes nothing (it is the default target)."""
    if target is None or 2 * target != band[0] + band[1]:
        return []
    return [
        f"--target {target:,} is the middle of the band, the target by default: it changes nothing; to "
        "pull the units harder towards it, give a scenario with a larger weights.deviation (e.g. "
        "data/scenarios/target-2500.toml)"
    ]


def _load_kwargs(
    roads: str,
    blocks: str,
    households: str,
    residents: str | None,
    road_class: str | None,
    major_classes: str | None,
    communities: str | None,
    community_id: str | None,
    community_name: str | None,
    barriers: list[str] | None,
    offices: str | None,
    office_id: str | None,
    office_area: str | None,
    office_name: str | None,
    study_area: str | None,
    where: str | None,
    office_community: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments of :func:`redistrict.load.load_inputs` from the shared input options."""
    return {
        "roads": roads, "blocks": blocks, "households": households, "residents": residents,
        "road_class": road_class,
        "major_classes": major_classes,  # split by load_inputs (also at full-width commas)
        "communities": communities, "community_id": community_id, "community_name": community_name,
        "barriers": barriers or None, "offices": offices, "office_id": office_id,
        "office_area": office_area, "office_name": office_name, "office_community": office_community,
        "study_area": study_area, "where": where,
    }  # fmt: skip


def demo_path() -> Path:
    """Location of the embedded demo GeoPackage (installed or in the source tree)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data" / "demo.gpkg", here.parent / "data" / "demo.gpkg"):
        if candidate.exists():
            return candidate
    raise InputError(
        "the embedded demo data (data/demo.gpkg) is missing: rebuild it with python data/make_demo.py"
    )


def _scenario(path: Path | None, band_given: bool, target: int | None) -> Scenario | None:
    """The scenario of ``--scenario`` (None without it); refused when --band or --target sets the band too."""
    from redistrict.scenario import load_scenario

    if path is None:
        return None
    chosen = load_scenario(path)
    if band_given or target is not None:
        raise InputError(
            f"--band/--target and --scenario {path} both set the band: give it in one place "
            "(the scenario's [band] table, or drop --scenario)"
        )
    return chosen


def _plan_and_write(
    load_kwargs: dict[str, Any],
    band: tuple[int, int],
    target: int | None,
    solver: str,
    time_limit: float,
    seed: int,
    method: str,
    atoms: str,
    out_dir: Path,
    lang: str,
    tiles: str | None,
    title: str,
    *,
    scenario: Path | None = None,
    lock: Path | None = None,
    lock_plan: Path | None = None,
    budget: str = "time",
    strict: bool = False,
    units: int | None = None,
    band_given: bool = False,
) -> None:
    from redistrict.compare import write_plan
    from redistrict.load import load_inputs
    from redistrict.locks import read_locks
    from redistrict.pipeline import PlanOptions, require_in_band, run_plan

    chosen = _scenario(scenario, band_given, target)  # first: --target is checked against its band
    _check_options(
        solver=solver, method=method, atoms=atoms, lang=lang, budget=budget, time_limit=time_limit,
        seed=seed, band=band, target=target, units=units,
    )  # fmt: skip
    check_out_dir(out_dir)
    if chosen is not None and chosen.units is not None and units is not None and units != chosen.units:
        raise InputError(
            f"--units {units} and --scenario {scenario} (units = {chosen.units}) both set the number "
            "of units: give it in one place"
        )
    if lock_plan is not None and lock is None:
        raise InputError("--lock-plan names the plan a --lock file refers to: give --lock FILE too")
    locks = None if lock is None else read_locks(lock, plan=lock_plan)
    opts = PlanOptions(
        band=Band(band[0], band[1], target), weights=Weights(), solver=solver,
        time_limit=time_limit, seed=seed, method=method, atoms=atoms,  # type: ignore[arg-type]
        locks=locks, budget=budget, units=units,
    )  # fmt: skip
    inputs = load_inputs(**load_kwargs)
    with noting(inputs.notes, inputs.warnings):
        if chosen is not None:
            opts = chosen.plan_options(inputs, opts)
            title = f"{title} · {chosen.name}"
        else:
            inputs.notes.extend(_band_in_households(opts.band, inputs.blocks))
            inputs.notes.extend(_target_note(band, target))
        result = run_plan(inputs, opts, progress=progress())
    if strict:
        with noting(result.notes, result.warnings):
            require_in_band(result)
    try:
        write_plan(result, out_dir, title=title, lang=lang, tiles=tiles)
    except OSError as exc:
        raise _unwritten("the plan", out_dir, exc) from exc
    with written(out_dir):
        summary(result, out_dir)
        print_notes(result)


@app.command(cls=Command)
def demo(
    out_dir: OutOpt = Path("redistrict-demo"),
    band: BandOpt = (2000, 3000),
    solver: SolverOpt = "highs",
    time_limit: TimeOpt = 40.0,
    seed: SeedOpt = 0,
    lang: LangOpt = "zh",
    budget: BudgetOpt = "time",
    verbose: VerboseOpt = False,
) -> None:
    """Run the whole pipeline on the embedded synthetic 八字门-like super-community."""
    setup_logging(verbose)
    with reported():
        path = str(demo_path())
        load_kwargs: dict[str, Any] = {
            "roads": f"{path}:roads", "blocks": f"{path}:blocks", "households": "households",
            "residents": "residents", "communities": f"{path}:communities",
            "community_id": "community_id", "community_name": "name",
            "barriers": [f"{path}:river", f"{path}:railway"], "offices": f"{path}:offices",
            "office_id": "office_id", "office_area": "area_m2", "office_name": "name",
            "study_area": f"{path}:communities",
        }  # fmt: skip
        _plan_and_write(
            load_kwargs, band, None, solver, time_limit, seed, "auto", "roads", out_dir, lang,
            None, "八字门 (synthetic demo)", budget=budget,
        )  # fmt: skip


@app.command(cls=Command)
def plan(
    ctx: typer.Context,
    roads: RoadsOpt,
    blocks: BlocksOpt,
    households: HouseholdsOpt,
    out_dir: OutOpt,
    residents: ResidentsOpt = None,
    road_class: RoadClassOpt = None,
    major_classes: MajorOpt = None,
    communities: CommunitiesOpt = None,
    community_id: CommunityIdOpt = None,
    community_name: CommunityNameOpt = None,
    barriers: BarriersOpt = None,
    offices: OfficesOpt = None,
    office_id: OfficeIdOpt = None,
    office_area: OfficeAreaOpt = None,
    office_name: OfficeNameOpt = None,
    office_community: OfficeCommunityOpt = None,
    study_area: StudyAreaOpt = None,
    where: WhereOpt = None,
    band: BandOpt = (2000, 3000),
    target: TargetOpt = None,
    units: UnitsOpt = None,
    solver: SolverOpt = "highs",
    time_limit: TimeOpt = 60.0,
    budget: BudgetOpt = "time",
    seed: SeedOpt = 0,
    method: MethodOpt = "auto",
    atoms: AtomsOpt = "roads",
    lang: LangOpt = "zh",
    tiles: TilesOpt = None,
    title: TitleOpt = None,
    scenario: ScenarioOpt = None,
    lock: LockOpt = None,
    lock_plan: LockPlanOpt = None,
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Plan road-bounded units of LO-HI households for the given roads and blocks."""
    setup_logging(verbose)
    with reported():
        load_kwargs: dict[str, Any] = _load_kwargs(
            roads, blocks, households, residents, road_class, major_classes, communities,
            community_id, community_name, barriers, offices, office_id, office_area, office_name,
            study_area, where, office_community,
        )  # fmt: skip
        _plan_and_write(
            load_kwargs, band, target, solver, time_limit, seed, method, atoms, out_dir, lang,
            tiles, title or _area_name(blocks, where), scenario=scenario, lock=lock,
            lock_plan=lock_plan, budget=budget, strict=strict, units=units,
            band_given=_given(ctx, "band"),
        )  # fmt: skip


@app.command(cls=Command)
def city(
    ctx: typer.Context,
    roads: RoadsOpt,
    blocks: BlocksOpt,
    households: HouseholdsOpt,
    out_dir: OutOpt,
    residents: ResidentsOpt = None,
    road_class: RoadClassOpt = None,
    major_classes: MajorOpt = None,
    communities: CommunitiesOpt = None,
    community_id: CommunityIdOpt = None,
    community_name: CommunityNameOpt = None,
    barriers: BarriersOpt = None,
    offices: OfficesOpt = None,
    office_id: OfficeIdOpt = None,
    office_area: OfficeAreaOpt = None,
    office_name: OfficeNameOpt = None,
    office_community: OfficeCommunityOpt = None,
    study_area: StudyAreaOpt = None,
    where: WhereOpt = None,
    band: BandOpt = (2000, 3000),
    target: TargetOpt = None,
    solver: SolverOpt = "highs",
    time_limit: CityTimeOpt = 20.0,
    budget: BudgetOpt = "work",
    seed: SeedOpt = 0,
    method: MethodOpt = "auto",
    atoms: AtomsOpt = "roads",
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    partition_by: PartitionOpt = None,
    lang: LangOpt = "zh",
    tiles: TilesOpt = None,
    title: TitleOpt = None,
    scenario: CityScenarioOpt = None,
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Plan a whole city: every community in independent subproblems solved in parallel with Dask."""
    setup_logging(verbose)
    with reported():
        from redistrict.city import plan_city

        chosen = _scenario(scenario, _given(ctx, "band"), target)
        _check_options(
            solver=solver, method=method, atoms=atoms, lang=lang, budget=budget, time_limit=time_limit,
            seed=seed, band=band, target=target,
        )  # fmt: skip
        check_out_dir(out_dir)
        load_kwargs: dict[str, Any] = _load_kwargs(
            roads, blocks, households, residents, road_class, major_classes, communities,
            community_id, community_name, barriers, offices, office_id, office_area, office_name,
            study_area, where, office_community,
        )  # fmt: skip
        from redistrict.pipeline import PlanOptions

        opts = PlanOptions(
            band=Band(band[0], band[1], target), weights=Weights(), solver=solver,
            time_limit=time_limit, seed=seed, method=method, atoms=atoms,  # type: ignore[arg-type]
            budget=budget,
        )  # fmt: skip
        name = title or _area_name(blocks, where)
        default_cache = out_dir.with_name(out_dir.name + ".cache")
        cache_dir = None if no_cache else (cache or default_cache)
        if cache_dir is not None and cache_dir.resolve().is_relative_to(out_dir.resolve()):
            raise InputError(
                f"--cache {cache_dir} lies inside --out {out_dir}, which is replaced as a whole when "
                f"the plan is written: the cache would be deleted; give a folder outside it (the "
                f"default is {default_cache})"
            )
        try:
            result = plan_city(
                load_kwargs, opts, out_dir, workers=workers, scheduler=scheduler, cache_dir=cache_dir,
                partition_by=partition_by, lang=lang, tiles=tiles,
                title=name if chosen is None else f"{name} · {chosen.name}", progress=err.is_terminal,
                strict=strict, scenario=chosen,
            )  # fmt: skip
        except OSError as exc:  # the inputs are read by the loader, which says what it cannot read
            raise _unwritten("the plan", out_dir, exc) from exc
        plan_ = result.plan
        units, rep = plan_.units, result.report
        gap = "n/a" if plan_.solution.gap is None else f"{100 * plan_.solution.gap:.2f}%"
        with written(out_dir):
            out.print(
                f"{escape(str(out_dir))}: {counted(len(result.groups), 'subproblem')} ({rep.solved} solved, "
                f"{rep.cached} from the cache, "
                + (f"{counted(rep.workers, 'worker')}, " if rep.solved else "")
                + f"{escape(rep.scheduler)}), "
                f"{len(units)} units ({int(units['in_band'].sum())} in band), "
                f"{int(units['households'].sum()):,} households, status {plan_.solution.status}, "
                f"gap {gap}, solve {rep.seconds:.1f} s; see summary.csv and subproblems.csv",
                highlight=False,
            )
            print_notes(plan_)


@app.command(cls=Command)
def compare(
    scenarios: ScenarioFilesArg,
    roads: RoadsOpt,
    blocks: BlocksOpt,
    households: HouseholdsOpt,
    out_dir: OutOpt,
    residents: ResidentsOpt = None,
    road_class: RoadClassOpt = None,
    major_classes: MajorOpt = None,
    communities: CommunitiesOpt = None,
    community_id: CommunityIdOpt = None,
    community_name: CommunityNameOpt = None,
    barriers: BarriersOpt = None,
    offices: OfficesOpt = None,
    office_id: OfficeIdOpt = None,
    office_area: OfficeAreaOpt = None,
    office_name: OfficeNameOpt = None,
    office_community: OfficeCommunityOpt = None,
    study_area: StudyAreaOpt = None,
    where: WhereOpt = None,
    solver: SolverOpt = "highs",
    time_limit: TimeOpt = 60.0,
    budget: BudgetOpt = "time",
    seed: SeedOpt = 0,
    method: MethodOpt = "auto",
    atoms: AtomsOpt = "roads",
    lock: LockOpt = None,
    lock_plan: LockPlanOpt = None,
    lang: LangOpt = "zh",
    tiles: TilesOpt = None,
    title: TitleOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run several scenarios on the same inputs; write comparison.csv/.md/.html and map.html.

    The time limit applies to each scenario. Each scenario's plan is written to a sub-folder.
    """
    setup_logging(verbose)
    with reported():
        from redistrict.compare import (
            comparison_title,
            load_scenarios,
            print_summary,
            run_scenarios,
            write_comparison,
        )
        from redistrict.load import load_inputs
        from redistrict.locks import read_locks
        from redistrict.pipeline import PlanOptions

        _check_options(
            solver=solver, method=method, atoms=atoms, lang=lang, budget=budget, time_limit=time_limit,
            seed=seed,
        )  # fmt: skip
        check_out_dir(out_dir, "comparison")
        chosen = load_scenarios(scenarios)
        if lock_plan is not None and lock is None:
            raise InputError("--lock-plan names the plan a --lock file refers to: give --lock FILE too")
        locks = None if lock is None else read_locks(lock, plan=lock_plan)
        load_kwargs: dict[str, Any] = _load_kwargs(
            roads, blocks, households, residents, road_class, major_classes, communities,
            community_id, community_name, barriers, offices, office_id, office_area, office_name,
            study_area, where, office_community,
        )  # fmt: skip
        base = PlanOptions(
            solver=solver, time_limit=time_limit, seed=seed, method=method,
            atoms=atoms, locks=locks, budget=budget,  # type: ignore[arg-type]
        )  # fmt: skip
        inputs = load_inputs(**load_kwargs)
        with noting(inputs.notes, inputs.warnings):
            runs = run_scenarios(inputs, chosen, base, progress=progress())
            area = title or _area_name(blocks, where)
            heading = comparison_title(area, lang)
            try:
                table = write_comparison(runs, out_dir, title=heading, lang=lang, tiles=tiles, area=area)
            except OSError as exc:
                raise _unwritten("the comparison", out_dir, exc) from exc
        with written(out_dir):
            print_summary(table, out_dir, out)
            print_compare_notes(runs, inputs.notes, inputs.warnings)


def main() -> None:
    """Run the ``redistrict`` command (loaded by :func:`redistrict._main.main`)."""
    signal.signal(signal.SIGTERM, terminate)
    app()
