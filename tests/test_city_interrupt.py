"""Ctrl-C during a city run: the local cluster's workers ignore it and its shutdown is quiet."""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest

from redistrict import _city_solve


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _sigint_handler() -> str:
    return repr(signal.getsignal(signal.SIGINT))


def test_local_workers_ignore_ctrl_c() -> None:
    # Ctrl-C at a terminal reaches the workers too: they leave it to the main process,
    # even while importing (the handler is set before redistrict's imports).
    with _city_solve._dask_client(1, None) as client:
        handlers = client.run(_sigint_handler)
    assert list(handlers.values()) == [repr(signal.SIG_IGN)]
    assert "REDISTRICT_DASK_WORKER" not in os.environ  # Dask's nanny set it here too
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # not the main process


def test_interrupted_cluster_closes_without_messages(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)  # what a user sees (Dask logs its heartbeats at DEBUG)
    with pytest.raises(KeyboardInterrupt), _city_solve._dask_client(1, None) as client:
        future = client.submit(_sleep, 30.0, pure=False)
        time.sleep(1.0)  # the task is running when the user presses Ctrl-C
        before = len(caplog.records)
        raise KeyboardInterrupt
    assert future.status != "finished"
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "WARNING" not in captured.err, captured.err
    assert [r.getMessage() for r in caplog.records[before:]] == []
    assert logging.root.manager.disable == logging.NOTSET  # logging is back once closed
