"""What the command line prints.

Notes, warnings and errors on stderr, the summary table on stdout, and what Ctrl-C and
SIGTERM say (whether the output was written).
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from redistrict._console import print_whole
from redistrict._files import mark_written, written_before
from redistrict.errors import RedistrictError

if TYPE_CHECKING:
    from redistrict.compare import ScenarioRun
    from redistrict.pipeline import PlanResult

__all__ = [
    "EXIT_INTERNAL",
    "Terminated",
    "err",
    "fail",
    "internal_error",
    "interrupted",
    "noting",
    "out",
    "print_compare_notes",
    "print_notes",
    "progress",
    "reported",
    "say",
    "setup_logging",
    "summary",
    "terminate",
    "written",
]

_LOG = logging.getLogger("redistrict")

err = Console(stderr=True)
out = Console()


def setup_logging(verbose: bool) -> None:
    # Without --verbose only warnings are logged: print them as the other warning lines.
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s" if verbose else "warning: %(message)s",
        stream=sys.stderr,
    )


def say(kind: str, text: str) -> None:
    """Print one ``error:``, ``warning:`` or ``note:`` line (``text`` verbatim) on stderr."""
    style = {"error": "bold red", "warning": "bold yellow", "note": "dim"}[kind]
    err.print(f"[{style}]{kind}:[/] {escape(text)}", markup=True, highlight=False, soft_wrap=True)


def fail(exc: RedistrictError) -> typer.Exit:
    """Print the error, then the notes gathered before it (they may explain it)."""
    say("error", str(exc))
    for note in exc.notes:
        say("warning" if note in exc.warnings else "note", note)
    return typer.Exit(exc.exit_code)


@contextmanager
def noting(notes: Sequence[str], warnings: Sequence[str] = ()) -> Iterator[None]:
    """Give a :class:`RedistrictError` raised in the block the notes gathered so far.

    Notes the error already lists as problems (the solver's, with ``--strict``) are
    left out; ``warnings`` are those of the notes printed as warnings.
    """
    try:
        yield
    except RedistrictError as exc:
        exc.add_notes((n for n in notes if n not in exc.problems), warnings=warnings)
        raise


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a batch system's time limit), raised so that clean-up runs as for Ctrl-C."""


def terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextmanager
def written(out_dir: Path) -> Iterator[None]:
    """Mark Ctrl-C, SIGTERM or a bug arriving after the output was written (the summary, the notes)."""
    try:
        yield
    except (KeyboardInterrupt, Exception) as exc:
        if written_before(exc) is None:
            mark_written(exc, Path(out_dir).resolve())
        raise


def interrupted(exc: KeyboardInterrupt) -> typer.Exit:
    """Ctrl-C or SIGTERM: say whether the output was written (it is renamed into place only when complete)."""
    what = "terminated" if isinstance(exc, Terminated) else "interrupted"
    done = written_before(exc)
    said = (
        "nothing was written; an earlier plan in the output folder is untouched"
        if done is None
        else f"after the output was written in full to {escape(str(done))} (the new plan is in place)"
    )
    err.print(f"[bold red]{what}:[/] {said}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT))


@contextmanager
def reported() -> Iterator[None]:
    """Turn a command's expected failures into their message and exit code.

    A :class:`RedistrictError` prints its message (and the notes gathered before it)
    and exits with its class's code; Ctrl-C (exit 130) and SIGTERM (exit 143) say whether the output
    was written.
    """
    try:
        yield
    except RedistrictError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt as exc:
        raise interrupted(exc) from None
    except (click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
        raise
    except Exception as exc:
        raise internal_error(exc) from None


#: Exit code of a failure inside redistrict itself (BSD ``EX_SOFTWARE``).
EXIT_INTERNAL = 70


def internal_error(exc: Exception) -> typer.Exit:
    """A bug (an exception redistrict did not raise on purpose): one message, no traceback.

    The traceback is logged at info level (shown with ``--verbose``), for the bug report.
    """
    _LOG.info("internal error", exc_info=exc)
    done = written_before(exc)
    said = (
        "nothing was written; an earlier plan in the output folder is untouched"
        if done is None
        else f"after the output was written in full to {done} (the new plan is in place)"
    )
    detail = " ".join(str(exc).split())[:300] or "no message"
    say(
        "error",
        f"internal error ({type(exc).__name__}: {detail}): this is a bug in redistrict, not a "
        f"problem of your input; {said}. Please report it with the command, its output with "
        "--verbose (which shows where it failed) and, if you can, the input files",
    )
    return typer.Exit(EXIT_INTERNAL)


def print_notes(result: PlanResult, *, scenario: str | None = None, skip: Container[str] = ()) -> None:
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
        say("warning" if note in warnings else "note", text)


def print_compare_notes(
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
        say("warning" if note in warned else "note", note)
    for run in runs:
        if run.result is None:
            say("warning", f"scenario {run.scenario.name} failed: {run.error}")
        else:
            print_notes(run.result, scenario=run.scenario.name, skip=set(common))


def summary(result: Any, out_dir: Path) -> None:
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


def progress() -> Any:
    """A callable that reports pipeline stages on stderr when it is a terminal."""
    if not err.is_terminal:
        return None

    def say(stage: str) -> None:
        err.print(f"[dim]... {stage}[/]", markup=True)

    return say
