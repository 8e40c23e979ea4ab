"""The ``redistrict`` command's entry point: quick to import, quiet when stopped while loading."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types

import pytest

from redistrict import _main


class _Loading(types.ModuleType):
    """Stands for ``redistrict.cli`` while it loads: the signal arrives during the import."""

    def __init__(self, signum: int) -> None:
        super().__init__("redistrict.cli")
        self.signum = signum

    def __getattr__(self, name: str) -> object:
        os.kill(os.getpid(), self.signum)
        time.sleep(5)  # the handler raises before this ends
        raise AssertionError("no signal arrived")


@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        (signal.SIGINT, 130, "interrupted: nothing was written\n"),
        (signal.SIGTERM, 143, "terminated: nothing was written\n"),
    ],
)
def test_a_signal_while_the_command_loads_ends_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], signum: int, code: int, line: str
) -> None:
    # It printed a traceback from inside NumPy's or SciPy's import (Ctrl-C), or ended
    # without a word (SIGTERM).
    monkeypatch.setitem(sys.modules, "redistrict.cli", _Loading(signum))
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as info:
        _main.main()
    assert info.value.code == code
    assert capsys.readouterr().err == line
    assert signal.getsignal(signal.SIGTERM) is before


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, redistrict; "
        "heavy = [m for m in ('numpy', 'pandas', 'scipy', 'pulp') if m in sys.modules]; "
        "print(heavy, redistrict.Band(2000, 3000).hi)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "3000"]
    package = __import__("redistrict")
    with pytest.raises(AttributeError, match="has no attribute 'Bnad'"):
        _ = package.Bnad
    assert {"Band", "Problem", "Weights", "Solution", "solve"} <= set(dir(package))
    assert package.problem.Weights is package.Weights  # submodules as the eager imports left them
    assert callable(package.solve) and not isinstance(package.solve, type(package))


def test_signals_after_the_command_has_ended_are_ignored() -> None:
    # SIGTERM in the half second of the interpreter's shutdown, after the summary was printed,
    # killed it with exit 143, which says "nothing was written" though the plan was.
    code = (
        "import signal, sys\n"
        "from redistrict._main import main\n"
        "sys.argv = ['redistrict', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    ignored = [signal.getsignal(s) is signal.SIG_IGN for s in (signal.SIGINT, signal.SIGTERM)]\n"
        "    print(exc.code, *ignored)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "0 True True"
