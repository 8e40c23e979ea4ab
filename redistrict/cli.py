"""Command line: ``redistrict demo``, ``redistrict plan`` (and friends).

Every expected failure (bad input, infeasible band, solver trouble) prints one
clear message and exits with the code of its
:class:`~redistrict.errors.RedistrictError` class; nothing is written then. The
notes gathered until the failure follow the message as ``note:`` lines, since
they may explain it. A finished run prints its notes as ``note:`` lines, and as
``warning:`` lines those of the solver (units outside the band, time or solver
trouble) and those saying the inputs are probably wrong (:attr:`Inputs.warnings`:
stray or overlapping blocks, roads stopping short of another road).
"""

from __future__ import annotations

import errno
import logging
import math
import signal
import sys
from collections.abc import Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from redistrict._console import print_whole
from redistrict._files import mark_written, written_before
from redistrict._out_dir import check_out_dir
from redistrict._solvers import SOLVERS
from redistrict._words import counted
from redistrict.errors import InputError, RedistrictError
from redistrict.problem import Band, Weights, band_problems

if TYPE_CHECKING:
    import pandas as pd

    from redistrict.compare import ScenarioRun
    from redistrict.pipeline import PlanResult

__all__ = ["app", "main"]


def _valueless(option: typer.core.TyperOption | None) -> typer.core.TyperOption | None:
    """``option`` (a help option) shown without a value type: ``--help``, not ``--help <bool>``."""
    if option is not None:
        option.metavar = ""
    return option


class _Command(typer.core.TyperCommand):
    """A command whose ``--help`` is shown as the flag it is."""

    def get_help_option(self, ctx: Any) -> typer.core.TyperOption | None:
        """The help option, without the ``<bool>`` typer shows for it."""
        return _valueless(super().get_help_option(ctx))


class _Group(typer.core.TyperGroup):
    """The ``redistrict`` group, whose ``--help`` is shown as the flag it is."""

    def get_help_option(self, ctx: Any) -> typer.core.TyperOption | None:
        """The help option, without the ``<bool>`` typer shows for it."""
        return _valueless(super().get_help_option(ctx))


app = typer.Typer(
    cls=_Group,
    name="redistrict",
    help="Redraw oversized and undersized communities into road-bounded units of a planned size.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

# ----------------------------------------------------------------- option types
RoadsOpt = Annotated[str, typer.Option("--roads", help="Road lines, FILE[:LAYER] (any format GDAL reads).")]
BlocksOpt = Annotated[
    str, typer.Option("--blocks", help="Population blocks (polygons or points), FILE[:LAYER].")
]
HouseholdsOpt = Annotated[str, typer.Option("--households", help="Column of the blocks holding households.")]
ResidentsOpt = Annotated[
    str | None, typer.Option("--residents", help="Column of the blocks holding residents.")
]
RoadClassOpt = Annotated[
    str | None,
    typer.Option("--road-class", help="Road class column (default: OSM 'highway' when present)."),
]
MajorOpt = Annotated[
    str | None,
    typer.Option(
        "--major-classes",
        help="Comma-separated road classes that count as major roads, e.g. '1,2,3,4' for a RANK column.",
    ),
]
CommunitiesOpt = Annotated[
    str | None, typer.Option("--communities", help="Existing communities (polygons), FILE[:LAYER].")
]
CommunityIdOpt = Annotated[str | None, typer.Option("--community-id", help="Id column of the communities.")]
CommunityNameOpt = Annotated[
    str | None, typer.Option("--community-name", help="Name column of the communities.")
]
BarriersOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--barriers",
        metavar="FILE[:LAYER]",
        help="Barriers no unit may cross (rivers, rail); one layer per option, repeated for more: "
        "--barriers river.gpkg --barriers rail.gpkg.",
    ),
]
OfficesOpt = Annotated[
    str | None, typer.Option("--offices", help="Existing committee offices (points), FILE[:LAYER].")
]
OfficeIdOpt = Annotated[str | None, typer.Option("--office-id", help="Id column of the offices.")]
OfficeAreaOpt = Annotated[
    str | None, typer.Option("--office-area", help="Floor-area column (m²) of the offices.")
]
OfficeNameOpt = Annotated[
    str | None,
    typer.Option("--office-name", help="Name column of the offices (default: 'name' when present)."),
]
OfficeCommunityOpt = Annotated[
    str | None,
    typer.Option(
        "--office-community",
        help="Column of the offices naming the community each office belongs to, by the ids of "
        "--community-id (default: the community it stands in; an office rented across the street "
        "stands in a neighbour's).",
    ),
]
StudyAreaOpt = Annotated[
    str | None,
    typer.Option("--study-area", help="Study area polygon(s), FILE[:LAYER] (default: union of the blocks)."),
]
WhereOpt = Annotated[
    str | None,
    typer.Option("--where", help='Select blocks with a pandas query, e.g. "ONS_ID_gen3 == 3024".'),
]


def _band_bound(value: str | int) -> int:
    """Read one of the two numbers of ``--band`` (or its default), saying that it takes two.

    Without this, ``--band 2000 --time-limit 5`` took ``--time-limit`` for the upper bound
    and failed with "Input should be a valid integer".
    """
    if isinstance(value, int):
        return value
    try:
        return int(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a whole number: --band takes two numbers LO HI, e.g. --band 2000 3000"
        ) from None


BandOpt = Annotated[
    tuple[int, int],
    typer.Option(
        "--band",
        help="Households per unit: two numbers LO HI, e.g. --band 2000 3000.",
        parser=_band_bound,
        metavar="LO HI",
        show_default=True,
    ),
]
TargetOpt = Annotated[
    int | None, typer.Option("--target", help="Preferred households per unit (default: middle of band).")
]
UnitsOpt = Annotated[
    int | None,
    typer.Option(
        "--units",
        help="Exactly this many units, locked units included (default: the search chooses among "
        "the numbers the band admits; an impossible number is refused with the possible ones).",
    ),
]
SolverOpt = Annotated[str, typer.Option("--solver", help="MIP solver: highs or cbc.")]
TimeOpt = Annotated[float, typer.Option("--time-limit", help="Seconds for the optimiser.")]
BudgetOpt = Annotated[
    str,
    typer.Option(
        "--budget",
        help="'time': stop at the wall-clock limit; 'work': count the search's work instead, so the "
        "same inputs and seed give the same plan on any machine (the run may take longer or shorter).",
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the randomised constructor.")]
MethodOpt = Annotated[
    str,
    typer.Option(
        "--method",
        help="auto (the exact model on components of up to 30 atoms), exact (the exact model first "
        "everywhere; above 30 atoms with half the time, the search continuing when it proves "
        "nothing) or lns (never the exact model).",
    ),
]
AtomsOpt = Annotated[str, typer.Option("--atoms", help="Atoms from 'roads' (polygonized) or 'blocks'.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Output folder (replaced as a whole).")]
LangOpt = Annotated[str, typer.Option("--lang", help="Map language: zh or en.")]
TilesOpt = Annotated[
    str | None,
    typer.Option("--tiles", help="Optional tile URL template {z}/{x}/{y} (e.g. an intranet tile server)."),
]
TitleOpt = Annotated[
    str | None,
    typer.Option(
        "--title",
        help="Title of the maps and pages (default: the blocks file's name, with the --where selection).",
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", metavar="", help="Log progress details.")]
StrictOpt = Annotated[
    bool,
    typer.Option(
        "--strict",
        metavar="",
        help="Exit with code 3 and write nothing when a unit would be outside the band "
        "(default: write the plan and flag those units).",
    ),
]
ScenarioOpt = Annotated[
    Path | None,
    typer.Option(
        "--scenario",
        help="Scenario TOML file (band, weights, allowed changes, costs), e.g. "
        "data/scenarios/minimal-change.toml; replaces --band/--target.",
    ),
]
LockOpt = Annotated[
    Path | None,
    typer.Option(
        "--lock",
        help="CSV of what to keep fixed: atom ids (header atom_id[,unit_id]; the atoms of each "
        "unit_id, or all atoms listed when there is no unit_id, form exactly one unit) or unit ids "
        "of a previous plan (header unit_id, with --lock-plan).",
    ),
]
LockPlanOpt = Annotated[
    Path | None,
    typer.Option("--lock-plan", help="Previous plan (folder or plan.gpkg) whose unit ids --lock lists."),
]
ScenarioFilesArg = Annotated[
    list[Path], typer.Argument(help="Scenario TOML files, e.g. data/scenarios/*.toml.", show_default=False)
]


def _setup_logging(verbose: bool) -> None:
    # Without --verbose only warnings are logged: print them as the other warning lines.
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s" if verbose else "warning: %(message)s",
        stream=sys.stderr,
    )


def _say(kind: str, text: str) -> None:
    """Print one ``error:``, ``warning:`` or ``note:`` line (``text`` verbatim) on stderr."""
    style = {"error": "bold red", "warning": "bold yellow", "note": "dim"}[kind]
    err.print(f"[{style}]{kind}:[/] {escape(text)}", markup=True, highlight=False, soft_wrap=True)


def _fail(exc: RedistrictError) -> typer.Exit:
    """Print the error, then the notes gathered before it (they may explain it)."""
    _say("error", str(exc))
    for note in exc.notes:
        _say("warning" if note in exc.warnings else "note", note)
    return typer.Exit(exc.exit_code)


@contextmanager
def _noting(notes: Sequence[str], warnings: Sequence[str] = ()) -> Iterator[None]:
    """Give a :class:`RedistrictError` raised in the block the notes gathered so far.

    Notes the error already lists as problems (the solver's, with ``--strict``) are
    left out; ``warnings`` are those of the notes printed as warnings.
    """
    try:
        yield
    except RedistrictError as exc:
        exc.add_notes((n for n in notes if n not in exc.problems), warnings=warnings)
        raise


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a batch system's time limit), raised so that clean-up runs as for Ctrl-C."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


@contextmanager
def _written(out_dir: Path) -> Iterator[None]:
    """Mark Ctrl-C or SIGTERM arriving after the output was written (the summary, the notes)."""
    try:
        yield
    except KeyboardInterrupt as exc:
        if written_before(exc) is None:
            mark_written(exc, Path(out_dir).resolve())
        raise


def _interrupted(exc: KeyboardInterrupt) -> typer.Exit:
    """Ctrl-C or SIGTERM: say whether the output was written (it is renamed into place only when complete)."""
    what = "terminated" if isinstance(exc, _Terminated) else "interrupted"
    written = written_before(exc)
    said = (
        "nothing was written; an earlier plan in the output folder is untouched"
        if written is None
        else f"after the output was written in full to {escape(str(written))} (the new plan is in place)"
    )
    err.print(f"[bold red]{what}:[/] {said}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(128 + (signal.SIGTERM if isinstance(exc, _Terminated) else signal.SIGINT))


@contextmanager
def _reported() -> Iterator[None]:
    """Turn a command's expected failures into their message and exit code.

    A :class:`RedistrictError` prints its message (and the notes gathered before it)
    and exits with its class's code; Ctrl-C (exit 130) and SIGTERM (exit 143) say whether the output
    was written.
    """
    try:
        yield
    except RedistrictError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt as exc:
        raise _interrupted(exc) from None


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


def _print_notes(result: PlanResult, *, scenario: str | None = None, skip: Container[str] = ()) -> None:
    """Print the run's notes on stderr, its warnings as ``warning:`` lines.

    Parameters
    ----------
    result : PlanResult
        A finished run (``plan``, ``city`` or one scenario of ``compare``).
    scenario : str, optional
        Name of the run's scenario in a comparison: each note starts with
        ``scenario NAME:`` unless it names the scenario itself.
    skip : container of str, optional
        Notes already printed.

    """
    warnings = set(result.warnings)
    for note in result.notes:
        if note in skip:
            continue
        named = scenario is None or note.startswith(f"scenario {scenario!r}")
        text = note if named else f"scenario {scenario}: {note}"
        _say("warning" if note in warnings else "note", text)


def _print_compare_notes(
    runs: Sequence[ScenarioRun], shared: Iterable[str], warned: Container[str] = ()
) -> None:
    """Print the notes of a comparison on stderr: shared ones once, then each scenario's.

    Parameters
    ----------
    runs : sequence of ScenarioRun
        The scenarios' runs, at least one with a plan.
    shared : iterable of str
        Notes on the inputs, common to every run.
    warned : container of str, optional
        Those of them to print as ``warning:`` lines (:attr:`Inputs.warnings`).

    Notes
    -----
    The notes on the inputs, and the other notes (not warnings) every plan has (sliver faces
    merged ...), are printed once. Then come, scenario by scenario and prefixed by its name,
    its own notes and warnings (units outside its band ...), or why it failed.

    """
    results = [(run.result, set(run.result.warnings)) for run in runs if run.result is not None]
    common = list(shared)
    if results:
        common += [
            note
            for note in results[0][0].notes
            if all(note in r.notes and note not in flagged for r, flagged in results)
        ]
    common = list(dict.fromkeys(common))
    for note in common:
        _say("warning" if note in warned else "note", note)
    for run in runs:
        if run.result is None:
            _say("warning", f"scenario {run.scenario.name} failed: {run.error}")
        else:
            _print_notes(run.result, scenario=run.scenario.name, skip=set(common))


def _summary(result: Any, out_dir: Path) -> None:
    from redistrict.report import plan_band

    sol = result.solution
    units = result.units
    table = Table(title=escape(f"redistrict plan -> {out_dir}"))
    # A band in residents judges units by their residents: show them first then.
    residents = plan_band(result).unit == "residents"
    heads = ["unit", *(["residents"] if residents else []), "households", "area km²", "staff", "office m²"]
    for col in [*heads, "status"]:
        table.add_column(col, justify="right" if col != "status" else "left")
    for row in units.itertuples():
        sizes = [f"{int(row.residents):,}"] if residents else []
        table.add_row(
            str(row.unit_id), *sizes, f"{row.households:,}", f"{row.area_km2:.2f}",
            str(row.staff_needed), f"{row.office_m2:.0f}", str(row.status),
        )  # fmt: skip
    print_whole(out, table)
    gap = "n/a" if sol.gap is None else f"{100 * sol.gap:.2f}%"
    out.print(
        f"status {sol.status}, {len(units)} units ({int(units['in_band'].sum())} in band), "
        f"{int(units['households'].sum()):,} households, objective {sol.objective:.1f} m, "
        f"gap {gap}, {sol.seconds:.1f} s",
        highlight=False,
    )


def _progress() -> Any:
    """A callable that reports pipeline stages on stderr when it is a terminal."""
    if not err.is_terminal:
        return None

    def say(stage: str) -> None:
        err.print(f"[dim]... {stage}[/]", markup=True)

    return say


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
    from redistrict.scenario import load_scenario

    _check_options(
        solver=solver, method=method, atoms=atoms, lang=lang, budget=budget, time_limit=time_limit,
        seed=seed, band=band, target=target, units=units,
    )  # fmt: skip
    check_out_dir(out_dir)
    chosen = None if scenario is None else load_scenario(scenario)
    if chosen is not None and (band_given or target is not None):
        raise InputError(
            f"--band/--target and --scenario {scenario} both set the band: give it in one place "
            "(the scenario's [band] table, or drop --scenario)"
        )
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
    with _noting(inputs.notes, inputs.warnings):
        if chosen is not None:
            opts = chosen.plan_options(inputs, opts)
            title = f"{title} · {chosen.name}"
        else:
            inputs.notes.extend(_band_in_households(opts.band, inputs.blocks))
            inputs.notes.extend(_target_note(band, target))
        result = run_plan(inputs, opts, progress=_progress())
    if strict:
        with _noting(result.notes, result.warnings):
            require_in_band(result)
    try:
        write_plan(result, out_dir, title=title, lang=lang, tiles=tiles)
    except OSError as exc:
        raise _unwritten("the plan", out_dir, exc) from exc
    with _written(out_dir):
        _summary(result, out_dir)
        _print_notes(result)


@app.command(cls=_Command)
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
    _setup_logging(verbose)
    with _reported():
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


@app.command(cls=_Command)
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
    _setup_logging(verbose)
    with _reported():
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


WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", help="Dask worker processes of the local cluster (default: every core)."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Address of an existing Dask scheduler (tcp://HOST:PORT; redistrict installed on its "
        "workers), or 'synchronous' to solve in this process without Dask.",
    ),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache", help="Folder of finished subproblems, reused on a rerun (default: OUT.cache)."),
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", metavar="", help="Neither read nor write the subproblem cache.")
]
PartitionOpt = Annotated[
    str | None,
    typer.Option(
        "--partition-by", help="Column of the blocks naming areas no unit may cross (e.g. a district)."
    ),
]
CityTimeOpt = Annotated[
    float, typer.Option("--time-limit", help="Seconds for the optimiser, per subproblem.")
]


@app.command(cls=_Command)
def city(
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
    strict: StrictOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Plan a whole city: every community in independent subproblems solved in parallel with Dask."""
    _setup_logging(verbose)
    with _reported():
        from redistrict.city import plan_city

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
        default_cache = out_dir.with_name(out_dir.name + ".cache")
        cache_dir = None if no_cache else (cache or default_cache)
        if cache_dir is not None and cache_dir.resolve().is_relative_to(out_dir.resolve()):
            raise InputError(
                f"--cache {cache_dir} lies inside --out {out_dir}, which is replaced as a whole when "
                f"the plan is written: the cache would be deleted; give a folder outside it (the "
                f"default is {default_cache})"
            )
        result = plan_city(
            load_kwargs, opts, out_dir, workers=workers, scheduler=scheduler, cache_dir=cache_dir,
            partition_by=partition_by, lang=lang, tiles=tiles, title=title or _area_name(blocks, where),
            progress=err.is_terminal, strict=strict,
        )  # fmt: skip
        plan_ = result.plan
        units, rep = plan_.units, result.report
        gap = "n/a" if plan_.solution.gap is None else f"{100 * plan_.solution.gap:.2f}%"
        with _written(out_dir):
            out.print(
                f"{escape(str(out_dir))}: {len(result.groups)} subproblems ({rep.solved} solved, "
                f"{rep.cached} from the cache, "
                + (f"{counted(rep.workers, 'worker')}, " if rep.solved else "")
                + f"{escape(rep.scheduler)}), "
                f"{len(units)} units ({int(units['in_band'].sum())} in band), "
                f"{int(units['households'].sum()):,} households, status {plan_.solution.status}, "
                f"gap {gap}, solve {rep.seconds:.1f} s; see summary.csv and subproblems.csv",
                highlight=False,
            )
            _print_notes(plan_)


@app.command(cls=_Command)
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
    _setup_logging(verbose)
    with _reported():
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
        with _noting(inputs.notes, inputs.warnings):
            runs = run_scenarios(inputs, chosen, base, progress=_progress())
            area = title or _area_name(blocks, where)
            heading = comparison_title(area, lang)
            try:
                table = write_comparison(runs, out_dir, title=heading, lang=lang, tiles=tiles, area=area)
            except OSError as exc:
                raise _unwritten("the comparison", out_dir, exc) from exc
        with _written(out_dir):
            print_summary(table, out_dir, out)
            _print_compare_notes(runs, inputs.notes, inputs.warnings)


def main() -> None:
    """Entry point of the ``redistrict`` command."""
    signal.signal(signal.SIGTERM, _terminate)
    app()
