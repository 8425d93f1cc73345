"""Fixtures of the verifier tests: CPU hogs that load the machine the way a trainer's node is."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def cpu_hogs() -> Iterator[Callable[..., list[int]]]:
    """``cpu_hogs(n, cpu=None)`` starts ``n`` busy-loop processes (pinned to CPU ``cpu`` if given)
    and returns their pids; every one is killed when the test ends."""
    started: list[subprocess.Popen] = []

    def start(n: int, cpu: int | None = None) -> list[int]:
        for _ in range(n):
            hog = subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
            started.append(hog)
            if cpu is not None:
                os.sched_setaffinity(hog.pid, {cpu})
        return [hog.pid for hog in started[-n:]]

    yield start
    for hog in started:
        hog.kill()
    for hog in started:
        hog.wait(timeout=10)


@pytest.fixture
def one_cpu() -> int:
    """A CPU this process may run on (to pin a worker and its competitors to the same one)."""
    return min(os.sched_getaffinity(0))
