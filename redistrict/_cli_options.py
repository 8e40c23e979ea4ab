"""Option types of the command line (typer ``Annotated`` aliases) and its help formatting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "AtomsOpt",
    "BandOpt",
    "BarriersOpt",
    "BlocksOpt",
    "BudgetOpt",
    "CacheOpt",
    "CityScenarioOpt",
    "CityTimeOpt",
    "Command",
    "CommunitiesOpt",
    "CommunityIdOpt",
    "CommunityNameOpt",
    "Group",
    "HouseholdsOpt",
    "LangOpt",
    "LockOpt",
    "LockPlanOpt",
    "MajorOpt",
    "MethodOpt",
    "NoCacheOpt",
    "OfficeAreaOpt",
    "OfficeCommunityOpt",
    "OfficeIdOpt",
    "OfficeNameOpt",
    "OfficesOpt",
    "OutOpt",
    "PartitionOpt",
    "ResidentsOpt",
    "RoadClassOpt",
    "RoadsOpt",
    "ScenarioFilesArg",
    "ScenarioOpt",
    "SchedulerOpt",
    "SeedOpt",
    "SolverOpt",
    "StrictOpt",
    "StudyAreaOpt",
    "TargetOpt",
    "TilesOpt",
    "TimeOpt",
    "TitleOpt",
    "UnitsOpt",
    "VerboseOpt",
    "WhereOpt",
    "WorkersOpt",
]


def _valueless(option: typer.core.TyperOption | None) -> typer.core.TyperOption | None:
    """``option`` (a help option) shown without a value type: ``--help``, not ``--help <bool>``."""
    if option is not None:
        option.metavar = ""
    return option


class Command(typer.core.TyperCommand):
    """A command whose ``--help`` is shown as the flag it is."""

    def get_help_option(self, ctx: Any) -> typer.core.TyperOption | None:
        """The help option, without the ``<bool>`` typer shows for it."""
        return _valueless(super().get_help_option(ctx))


class Group(typer.core.TyperGroup):
    """The ``redistrict`` group, whose ``--help`` is shown as the flag it is."""

    def get_help_option(self, ctx: Any) -> typer.core.TyperOption | None:
        """The help option, without the ``<bool>`` typer shows for it."""
        return _valueless(super().get_help_option(ctx))


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
    typer.Option(
        "--road-class",
        help=(
            "Road class column (default: the first one named highway, fclass, 道路等级, 道路类型, 道路级别,"
            " 等级, road_class, roadclass or class)."
        ),
    ),
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
CityScenarioOpt = Annotated[
    Path | None,
    typer.Option(
        "--scenario",
        help="Scenario TOML file (band in households, weights, costs), e.g. "
        "data/scenarios/target-2500.toml; replaces --band/--target. A scenario that counts "
        "residents, fixes the number of units or keeps communities is refused: plan such a "
        "district with `redistrict plan`.",
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
