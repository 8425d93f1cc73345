"""`RaySandbox`: the sandbox interface over a Ray cluster — a warm local sandbox on every slot.

``make_sandbox("ray", address=None | "auto" | "ray://head:10001")`` starts a pool of Ray actors
(`thinkgym.sandbox.ray_pool.ActorPool`), one per ``cpus_per_worker`` CPUs of the cluster, spread
over the nodes. Each actor holds a warm sandbox of ``node_backend`` (default ``"local"``, the
fork-server with every isolation layer) on its node and runs jobs there, so a result is the node's
own `SandboxResult` — the same exit codes, timeouts, out-of-memory flags, output caps and
isolation layers (per result) as running the job locally; only the machine differs.

An actor or node that dies is replaced and the jobs it held are retried once on a live actor; a
job lost twice comes back as a `SandboxResult` with ``error`` saying why (it did not run to an
answer). ``max_in_flight`` bounds the outstanding jobs: `submit` and `map` wait for room.
The driver needs no isolation of its own: nothing of the job runs there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from collections.abc import Iterable, Sequence
from typing import Any

from thinkgym.errors import ConfigError
from thinkgym.sandbox.base import Files, Job, Sandbox, SandboxResult, StartedJob
from thinkgym.sandbox.ray_pool import ActorPool, require_ray

__all__ = ["RaySandbox"]


def _node_sandbox(backend: str, options: dict[str, Any]) -> Sandbox:
    """Runs in the actor: the node's warm sandbox (started now, so the first job finds it warm)."""
    from thinkgym.sandbox import make_sandbox

    sandbox = make_sandbox(backend, **options)
    sandbox.run_job(Job.of("pass"))  # (run_job: a strict sandbox missing a layer still starts, and says so)
    return sandbox


def _lost(reason: str) -> SandboxResult:
    return SandboxResult(None, error=reason)


class RaySandbox(Sandbox):
    """Jobs run on a Ray cluster, each in a warm sandbox of ``node_backend`` on some node.

    ``address``: None (join this process's Ray, else start or find a local one), ``"auto"`` (an
    existing cluster) or ``"ray://host:port"`` (Ray Client). ``workers``: actors (default: the
    cluster's CPUs / ``cpus_per_worker``); ``jobs_per_worker``: jobs one actor runs at once
    (default: ``cpus_per_worker``); ``max_in_flight``: outstanding jobs (default: each worker's jobs plus one queued).
    ``sandbox_options`` go to each node's sandbox constructor; ``strict`` and ``required_layers``
    are enforced there, on the node that runs the job. ``ray_init`` holds extra `ray.init`
    arguments for when this sandbox makes the connection.
    """

    name = "ray"

    def __init__(
        self,
        *,
        address: str | None = None,
        workers: int | None = None,
        cpus_per_worker: float = 1.0,
        jobs_per_worker: int | None = None,
        max_in_flight: int | None = None,
        node_backend: str = "local",
        sandbox_options: dict[str, Any] | None = None,
        strict: bool = False,
        required_layers: Iterable[str] | None = None,
        start_timeout_s: float = 120.0,
        ray_init: dict[str, Any] | None = None,
    ):
        if node_backend == "ray":
            raise ConfigError("node_backend must be a single-machine backend ('local', 'docker'), not 'ray'")
        from thinkgym.sandbox import _backend_class

        self.layers = _backend_class(node_backend).layers if node_backend != "local" else _local_layers()
        super().__init__(strict=strict, required_layers=required_layers)
        require_ray()
        options = dict(sandbox_options or {})
        if strict:  # enforced by each node's sandbox, per job, with its own notion of the defaults
            options["strict"] = True
            if required_layers is not None:
                options["required_layers"] = sorted(self.required_layers)
        self.node_backend = node_backend
        self._pool = ActorPool(
            functools.partial(_node_sandbox, node_backend, options),
            address=address,
            workers=workers,
            cpus_per_worker=cpus_per_worker,
            slots=jobs_per_worker,
            max_in_flight=max_in_flight,
            start_timeout_s=start_timeout_s,
            name="sandbox",
            ray_init=ray_init,
        )
        self._available: frozenset[str] | None = None
        self._missing: dict[str, str] | None = None

    @property
    def pool(self) -> ActorPool:
        """The actor pool (its ``stats`` show retries and replaced workers)."""
        return self._pool

    @classmethod
    def usable(cls) -> bool:
        """Ray is installed and there is a cluster to join: this process is connected already, or
        ``RAY_ADDRESS`` names one. (`available_backends` must not start a Ray instance as a side
        effect; ``make_sandbox("ray")`` still starts a local one when asked.)"""
        import importlib.util
        import os
        import sys

        if importlib.util.find_spec("ray") is None:
            return False
        ray = sys.modules.get("ray")
        return bool(os.environ.get("RAY_ADDRESS")) or (ray is not None and ray.is_initialized())

    # -- layers --------------------------------------------------------------------------------

    def available_layers(self) -> frozenset[str]:
        """Layers in force on every node's sandbox (asked of each worker once)."""
        if self._available is None:
            answers = self._pool.broadcast("available_layers")
            self._available = frozenset.intersection(*map(frozenset, answers))
        return self._available

    def missing_layers(self) -> dict[str, str]:
        """Required layers some node lacks, with how to get them there."""
        if self._missing is None:
            missing: dict[str, str] = {}
            for answer in self._pool.broadcast("missing_layers"):
                missing.update(answer)
            self._missing = missing
        return self._missing

    # -- running -------------------------------------------------------------------------------

    def _send(self, job: Job) -> concurrent.futures.Future:
        if not isinstance(job, Job):
            raise TypeError(f"expected a Job, got {type(job).__name__}")
        return self._pool.submit("run_job", job, budget_s=job.limits.wall_s, on_failure=_lost)

    def run_job(self, job: Job) -> SandboxResult:
        return self._send(job).result()

    def submit(self, job: Job) -> StartedJob:
        """Send the job to a node and return (waits only while ``max_in_flight`` jobs are out)."""
        return StartedJob(self._send(job).result)

    def map(self, jobs: Iterable[Job], *, concurrency: int | None = None) -> list[SandboxResult]:
        """Run many jobs over the cluster; results in order. ``concurrency`` caps this call's own
        jobs in flight (below the pool's ``max_in_flight``)."""
        self.check_strict()
        futures: list[concurrent.futures.Future] = []
        for job in jobs:
            if concurrency is not None:
                while sum(not f.done() for f in futures) >= max(1, concurrency):
                    concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)
            futures.append(self._send(job))
        return [f.result() for f in futures]

    async def arun(
        self,
        code_or_files: str | Files,
        *,
        stdin: str | bytes = "",
        argv: Sequence[str] = (),
        limits: Any = None,
        entry: str = "main.py",
        collect: Sequence[str] = (),
    ) -> SandboxResult:
        """`run` for asyncio callers: waits for room and for the result without blocking the loop."""
        self.check_strict()
        job = Job.of(code_or_files, stdin=stdin, argv=argv, limits=limits, entry=entry, collect=collect)
        future = await asyncio.to_thread(self._send, job)
        return await asyncio.wrap_future(future)

    def default_concurrency(self) -> int:
        return self._pool.size * self._pool.slots

    def close(self) -> None:
        """Close every node's sandbox and stop the actors (safe to call twice)."""
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()

    def __repr__(self) -> str:
        return f"RaySandbox(workers={self._pool.size}, jobs_per_worker={self._pool.slots}, node_backend={self.node_backend!r})"


def _local_layers() -> frozenset[str]:
    from thinkgym.sandbox.local import LOCAL_LAYERS

    return LOCAL_LAYERS
