"""`thinkgym eval --ray [ADDRESS]`: verification, code execution and ``hf:`` generation on a Ray cluster.

The runner stays what it is (`thinkgym.benchmarks.runner`): episodes, the batcher, the fsync-ed
``samples.jsonl``, resume and progress do not change. Two things move to the cluster:

- **Single-turn verification** goes to `RayStepExecutor`, a `concurrent.futures.Executor` in place
  of the local process pool. Each of its actors (`thinkgym.sandbox.ray_pool.ActorPool`, one per
  CPU, spread over the nodes) builds each env once, as a local verification worker does, so a code
  env's warm local sandbox runs the model's code on that actor's node. An actor or node lost
  mid-step is replaced and the step retried once; a step lost twice is a failed sample with the
  reason, which the next run of the same command retries (as any failed sample).
- **Generation of ``hf:`` policies** goes to `RayGenerationPolicy` when Ray reports GPUs: one
  actor per GPU holds the model and batches of queries go to the least busy one. Without GPUs
  in the cluster the model generates in this process, as without ``--ray``.

Multi-turn episodes keep their env state in this process and step here, as without ``--ray``.
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections.abc import Sequence
from typing import Any

from thinkgym.agents.base import Generation, Policy, Query
from thinkgym.benchmarks.workers import import_modules, worker_step

__all__ = ["RayStepExecutor", "RayGenerationPolicy", "cluster_gpus"]


class _StepHost:
    """Lives in each actor: the verification worker of `thinkgym.benchmarks.workers`, on a node."""

    def __init__(self, imports: tuple[str, ...]):
        import_modules(imports)

    def step(self, env_id: str, kwargs_json: str, problem: Any, action: str) -> dict[str, Any]:
        return worker_step(env_id, kwargs_json, problem, action)

    def close(self) -> None:
        from thinkgym.benchmarks.workers import _close_worker_envs

        _close_worker_envs()


def _step_lost(reason: str) -> dict[str, Any]:
    return {"step_error": f"verification was lost twice on the Ray cluster ({reason}); re-run to retry"}


class RayStepExecutor(concurrent.futures.Executor):
    """Runs `worker_step` on a pool of Ray actors; a drop-in for the runner's process pool.

    At most ``max_in_flight`` steps are out at once (the runner's own limit on steps in flight is
    set to the same number, so `submit` never blocks its event loop).
    """

    def __init__(self, *, address: str | None, workers: int | None, imports: Sequence[str], step_timeout_s: float):
        from thinkgym.sandbox.ray_pool import ActorPool

        self.step_timeout_s = float(step_timeout_s)
        # prefetch=0: no step waits behind another at an actor, so the runner's step timeout
        # measures the step, not a queue
        self.pool = ActorPool(functools.partial(_StepHost, tuple(imports)), address=address, workers=workers,
                              prefetch=0, name="eval")  # fmt: skip

    @property
    def max_in_flight(self) -> int:
        return self.pool.max_in_flight

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        if fn is not worker_step or kwargs:
            raise TypeError("RayStepExecutor runs thinkgym.benchmarks.workers.worker_step only")
        return self.pool.submit("step", *args, budget_s=self.step_timeout_s, on_failure=_step_lost)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.pool.close()


def cluster_gpus() -> float:
    """GPUs the connected Ray cluster reports (0 when none)."""
    import ray

    return float(ray.cluster_resources().get("GPU", 0.0))


class RayGenerationPolicy(Policy):
    """An ``hf:`` policy with one replica per GPU of the Ray cluster; batches go to the least busy.

    Each actor builds the policy with `make_policy` on its GPU (Ray sets ``CUDA_VISIBLE_DEVICES``),
    so every replica samples from the same per-query seeds as a local one would. A batch whose
    actor died is retried once on another; lost twice, each of its queries gets a `Generation`
    with ``error`` set (a failed sample, retried by the next run).
    """

    name = "ray-generation"

    def __init__(self, spec: Any, *, address: str | None, replicas: int | None = None, **make_kwargs: Any):
        from thinkgym.benchmarks.policy_spec import make_policy
        from thinkgym.sandbox.ray_pool import ActorPool

        self.pool = ActorPool(functools.partial(make_policy, spec, **make_kwargs), address=address,
                              workers=replicas or max(1, int(cluster_gpus())), gpus_per_worker=1.0,
                              cpus_per_worker=0.0,  # the GPU is its resource; the node's CPUs verify
                              max_in_flight=None, name="generation")  # fmt: skip
        self.name = f"{getattr(spec, 'raw', spec)} on {self.pool.size} GPU(s)"
        self.wants_oracle = False

    def generate(self, queries: Sequence[Query]) -> list[Generation]:
        queries = list(queries)

        def lost(reason: str) -> list[Generation]:
            why = f"generation was lost twice on the Ray cluster: {reason}"
            return [Generation("", finish_reason="error", error=why) for _ in queries]

        return self.pool.submit("generate", queries, budget_s=600.0, on_failure=lost).result()

    def close(self) -> None:
        self.pool.close()


def make_eval_policy(spec: Any, *, address: str | None, **make_kwargs: Any) -> Policy:
    """The eval's policy under ``--ray``: ``hf:`` on the cluster's GPUs when it has any, else here."""
    from thinkgym.benchmarks.policy_spec import make_policy
    from thinkgym.sandbox.ray_pool import connect, disconnect

    if getattr(spec, "kind", None) == "hf":
        connect(address)
        try:
            if cluster_gpus() >= 1:
                return RayGenerationPolicy(spec, address=address, **make_kwargs)
        finally:
            disconnect()
    return make_policy(spec, **make_kwargs)
