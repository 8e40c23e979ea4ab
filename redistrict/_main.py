"""Entry point of the ``redistrict`` command.

Loading the command takes about a second (NumPy, SciPy, pandas, PuLP ...). Ctrl-C or
SIGTERM in that time printed a traceback from deep inside an import (or ended without a
word); here it ends with one line and the usual exit code (130 or 143), as later in the
run (:mod:`redistrict._cli_report`).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

__all__ = ["main"]


class _Terminated(KeyboardInterrupt):
    """SIGTERM while the command loads."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def main() -> None:
    """Load the command line and run it (the ``redistrict`` console script)."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        from redistrict.cli import main as run
    except _Terminated:
        sys.stderr.write("terminated: nothing was written\n")
        raise SystemExit(128 + signal.SIGTERM) from None
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: nothing was written\n")
        raise SystemExit(128 + signal.SIGINT) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    try:
        run()
    finally:
        # The command has ended and said how: a signal while the interpreter shuts down
        # (about half a second) must not kill it with a misleading exit code. Only here, where
        # the process ends next: ignored signals would outlive an in-process caller of the CLI.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
