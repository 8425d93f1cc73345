"""Sandbox fixtures: one sandbox per backend available here, a process census, a host secret.

``any_sandbox`` is parameterised over every backend; a backend that cannot run on this machine is
skipped with the reason its constructor gives (e.g. no Docker engine can be started). The census
counts the processes a sandbox owns on the host, so a test can prove that nothing outlived a job.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest

from thinkgym.errors import SandboxUnavailableError
from thinkgym.sandbox import Limits, Sandbox, make_sandbox

#: Put in the test process's environment before any sandbox starts; no job may ever see it.
FAKE_SECRET = "tg-fake-secret-" + uuid.uuid4().hex
os.environ["THINKGYM_TEST_FAKE_SECRET"] = FAKE_SECRET

BACKENDS = ("local", "docker")

#: Small limits keep the security suite fast: every attack is over in about two seconds.
ATTACK_LIMITS = Limits(wall_s=2.0, memory_mb=128, max_processes=16, max_output_bytes=64_000, max_file_mb=8)


def census(sandbox: Sandbox) -> set[int]:
    """Host processes that belong to ``sandbox`` right now."""
    own = getattr(sandbox, "census", None)
    if not callable(own):
        raise TypeError(f"{type(sandbox).__name__} has no census(): the security suite cannot count its processes")
    return set(own())


def settled_census(sandbox: Sandbox, *, timeout_s: float = 10.0) -> set[int]:
    """The census once warm pools have stopped growing or shrinking (two equal readings)."""
    deadline = time.monotonic() + timeout_s
    last = census(sandbox)
    while time.monotonic() < deadline:
        time.sleep(0.15)
        now = census(sandbox)
        if len(now) == len(last):
            return now
        last = now
    return last


def wait_back_to(sandbox: Sandbox, baseline: int, *, timeout_s: float = 10.0) -> int:
    """Poll until the sandbox owns no more processes than ``baseline``; return the last count."""
    deadline = time.monotonic() + timeout_s
    count = len(census(sandbox))
    while count > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
        count = len(census(sandbox))
    return count


@pytest.fixture(scope="session", params=BACKENDS)
def any_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A warm sandbox of each backend that can run here (skipped with the reason otherwise)."""
    name = request.param
    try:
        sandbox = make_sandbox(name)
    except SandboxUnavailableError as exc:
        pytest.skip(f"{name} sandbox backend unavailable on this machine: {exc}")
    except ImportError as exc:
        pytest.skip(f"{name} sandbox backend cannot be imported: {exc}")
    probe = sandbox.run("print('ready')", limits=Limits(wall_s=30))
    if probe.stdout.strip() != "ready":
        sandbox.close()
        pytest.skip(f"{name} sandbox cannot run a trivial job here: {probe}")
    yield sandbox
    sandbox.close()


@pytest.fixture(scope="session")
def local_sandbox() -> Iterator[Sandbox]:
    sandbox = make_sandbox("local")
    yield sandbox
    sandbox.close()


@pytest.fixture
def contained(any_sandbox: Sandbox) -> Iterator[Sandbox]:
    """Yield the sandbox; afterwards prove the attack left nothing behind and the sandbox works.

    Checks, after the test body: the sandbox owns no more host processes than before (the count
    settles back within a few seconds), and a normal job still runs correctly.
    """
    baseline = len(settled_census(any_sandbox))
    yield any_sandbox
    count = wait_back_to(any_sandbox, baseline)
    assert count <= baseline, f"processes left behind: {count} now, {baseline} before the attack"
    after = any_sandbox.run("print(6 * 7)", limits=Limits(wall_s=30))
    assert after.stdout.strip() == "42" and after.ok, f"sandbox unhealthy after the attack: {after}"
