"""Verification past one machine: ``verify_batch(verifier, completions, problems, backend="ray")``.

Any verifier (a picklable ``(completion, problem) -> Reward``) can be spread over a Ray cluster.
The batch is cut into chunks; each chunk goes to one actor of a `RayVerifierPool`, which keeps the
verifier it was sent (keyed by the verifier's pickled bytes) so that its warm state — a math
worker pool, a code verifier's local sandbox on that node — is built once per actor, not once per
chunk. Results come back in the order of the inputs. At most ``max_in_flight`` chunks are out at
once, so neither the driver nor the object store holds more than that.

A chunk whose actor (or node) died is retried once on a live actor; a chunk lost twice earns 0 for
each of its completions, with the reason in ``info["error"]`` — unchecked is not correct. An
exception the verifier itself raises (a malformed problem) is raised here, as it would be locally.

A verifier that runs code through a sandbox of the ``ray`` backend (``CodeVerifier("ray")`` or
``CodeVerifier(make_sandbox("ray", ...))``) is not shipped anywhere: it already sends each job to
the cluster through the `Sandbox` interface, so it verifies here and its jobs spread there.
"""

from __future__ import annotations

import atexit
import collections
import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal

from thinkgym.core import Problem, Reward

__all__ = ["verify_batch", "RayVerifierPool"]


def _local_batch(verifier: Callable[[str, Problem], Reward], completions: Sequence[str],
                 problems: Sequence[Problem]) -> list[Reward]:  # fmt: skip
    batch = getattr(verifier, "verify_batch", None)
    if callable(batch):
        return list(batch(list(completions), list(problems)))
    return [verifier(c, p) for c, p in zip(completions, problems, strict=True)]


class _VerifierHost:
    """Lives in each actor: the verifiers it was sent, kept warm (the last few, by key)."""

    keep = 8

    def __init__(self) -> None:
        self.verifiers: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self.lock = threading.Lock()  # an actor with several slots calls from several threads

    def verify(self, key: str, boxed: list, completions: list[str], problems: list[Problem]) -> list[Reward]:
        with self.lock:
            verifier = self.verifiers.get(key)
            if verifier is None:
                import ray

                verifier = ray.get(boxed[0])
                self.verifiers[key] = verifier
                while len(self.verifiers) > self.keep:
                    _close(self.verifiers.popitem(last=False)[1])
            self.verifiers.move_to_end(key)
        return _local_batch(verifier, completions, problems)

    def close(self) -> None:
        while self.verifiers:
            _close(self.verifiers.popitem()[1])


def _close(verifier: Any) -> None:
    close = getattr(verifier, "close", None)
    if callable(close):
        close()


class RayVerifierPool:
    """Actors that verify chunks of a batch (see the module docstring); keep one for many batches.

    ``workers`` / ``cpus_per_worker`` / ``max_in_flight`` as for `ActorPool`; ``chunk_size``
    completions go to an actor at once (bigger chunks cost less per item, smaller ones balance
    better); ``item_budget_s`` is the time one completion may take before its actor is presumed
    stuck (it is replaced and the chunk retried).
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        workers: int | None = None,
        cpus_per_worker: float = 1.0,
        max_in_flight: int | None = None,
        chunk_size: int = 8,
        item_budget_s: float = 60.0,
        ray_init: dict[str, Any] | None = None,
    ):
        from thinkgym.sandbox.ray_pool import ActorPool

        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = int(chunk_size)
        self.item_budget_s = float(item_budget_s)
        self.pool = ActorPool(_VerifierHost, address=address, workers=workers, cpus_per_worker=cpus_per_worker,
                              max_in_flight=max_in_flight, name="verifier", ray_init=ray_init)  # fmt: skip

    def verify_batch(self, verifier: Callable[[str, Problem], Reward], completions: Sequence[str],
                     problems: Sequence[Problem]) -> list[Reward]:  # fmt: skip
        """Rewards for each (completion, problem) pair, in order."""
        import ray
        from ray import cloudpickle  # (Ray's own copy: what ships the verifier anyway)

        if len(completions) != len(problems):
            raise ValueError(f"{len(completions)} completions but {len(problems)} problems")
        if not completions:
            return []
        blob = cloudpickle.dumps(verifier)
        key = hashlib.sha256(blob).hexdigest()
        boxed = [ray.put(verifier)]  # in a list, so an actor fetches it only when it lacks the key
        futures = []
        for start in range(0, len(completions), self.chunk_size):
            chunk_c = list(completions[start : start + self.chunk_size])
            chunk_p = list(problems[start : start + self.chunk_size])

            def lost(reason: str, n: int = len(chunk_c)) -> list[Reward]:
                return [Reward.zero(f"verification did not run: {reason}", verification_failed=True) for _ in range(n)]

            futures.append(self.pool.submit("verify", key, boxed, chunk_c, chunk_p,
                                            budget_s=self.item_budget_s * len(chunk_c), on_failure=lost))  # fmt: skip
        rewards: list[Reward] = []
        for future in futures:
            rewards.extend(future.result())
        return rewards

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> RayVerifierPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_shared: dict[str | None, RayVerifierPool] = {}
_shared_lock = threading.Lock()


def _shared_pool(address: str | None) -> RayVerifierPool:
    with _shared_lock:
        if address not in _shared:
            if not _shared:
                atexit.register(_close_shared)
            _shared[address] = RayVerifierPool(address=address)
        return _shared[address]


def _close_shared() -> None:
    with _shared_lock:
        pools = list(_shared.values())
        _shared.clear()
    for pool in pools:
        pool.close()


def verify_batch(
    verifier: Callable[[str, Problem], Reward],
    completions: Sequence[str],
    problems: Sequence[Problem],
    *,
    backend: Literal["local", "ray"] = "local",
    address: str | None = None,
    pool: RayVerifierPool | None = None,
) -> list[Reward]:
    """Verify many completions with any verifier; rewards in input order.

    ``backend="local"`` verifies here (through the verifier's own ``verify_batch`` when it has
    one). ``backend="ray"`` spreads the batch over a Ray cluster (``address`` as for
    `make_sandbox`): through ``pool`` when given, else a pool shared by the whole process (closed
    at exit). A verifier whose sandbox is already a ray sandbox verifies here and runs its jobs on
    the cluster.
    """
    if len(completions) != len(problems):
        raise ValueError(f"{len(completions)} completions but {len(problems)} problems")
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    if backend == "local" or getattr(verifier, "backend", None) == "ray":
        return _local_batch(verifier, completions, problems)
    return (pool or _shared_pool(address)).verify_batch(verifier, completions, problems)
