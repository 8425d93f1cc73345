"""A job cannot keep every core busy: its CPU time per wall second is bounded by `Limits.cpus`.

The job forks four processes that spin for about 1.5 s and waits for them. Its CPU time comes from
outside the job: the rusage of the job's process tree as its parent reaped it (``collect`` makes
the local backend wait for the zygote's reaping instead of the job's own "done" report). Only upper
bounds on CPU per wall second are asserted, plus a small lower bound showing the spinning ran, so
a loaded machine cannot make the test fail.
"""

from __future__ import annotations

import pytest

from thinkgym.sandbox import Limits

pytestmark = pytest.mark.timeout(120)

SPIN = """
import os, time
pids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            pass
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
open("done", "w").write("spun")
"""


@pytest.mark.parametrize("cpus, most", [(1.0, 1.2), (0.25, 0.35)])
def test_cpu_time_per_wall_second_is_bounded(any_sandbox, cpus, most):
    if "cgroup-cpu" not in any_sandbox.available_layers():
        pytest.skip(f"no CPU quota on this machine: {any_sandbox.missing_layers().get('cgroup-cpu')}")
    limits = Limits(wall_s=30.0, cpus=cpus, max_processes=16)
    result = any_sandbox.run(SPIN, limits=limits, collect=["done"])
    assert result.ok and result.files.get("done") == b"spun", result
    assert "cgroup-cpu" in result.isolation, result.isolation
    per_second = result.cpu_s / result.wall_s
    assert per_second >= 0.1, f"the job did not spin: {result.cpu_s:.2f} s CPU in {result.wall_s:.2f} s"
    assert per_second <= most, f"{result.cpu_s:.2f} s CPU in {result.wall_s:.2f} s with cpus={cpus}"


def test_cpus_must_be_positive():
    with pytest.raises(ValueError, match="cpus"):
        Limits(cpus=0)
