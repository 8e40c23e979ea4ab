"""Console output that stays whole when it goes to a file or a pipe."""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.measure import Measurement

__all__ = ["print_whole"]


def print_whole(console: Console, renderable: RenderableType) -> None:
    """Print ``renderable`` (e.g. a table) without cutting its cells when not on a terminal.

    On a terminal it is fitted to the window as usual. Written to a file or a pipe,
    where rich assumes 80 columns, it is printed as wide as its content, so no
    name or status is cut short (``"band-2…"``).

    Parameters
    ----------
    console : rich.console.Console
        Where to print.
    renderable : rich.console.RenderableType
        What to print.
    """
    target = console
    if not console.is_terminal:
        need = Measurement.get(console, console.options.update_width(10_000), renderable).maximum
        if need > console.width:
            target = Console(
                file=console.file, width=need, no_color=console.no_color, highlight=False,
                force_terminal=False, color_system=None,
            )  # fmt: skip
    target.print(renderable)
