"""A pool of Ray actors that survives the loss of an actor or a node: the engine of every Ray backend.

The ray sandbox (`thinkgym.sandbox.ray`), distributed verification
(`thinkgym.verifiers.distributed`) and ``thinkgym eval --ray`` all need the same thing: keep one
long-lived object per slot of the cluster (a warm local sandbox, a verifier, an env) and send it
method calls, with

- **placement by Ray's resources**: one actor per ``cpus_per_worker`` CPUs, ``SPREAD`` over nodes;
- **backpressure**: at most ``max_in_flight`` calls outstanding (``submit`` blocks beyond that),
  and at most ``slots + prefetch`` at any one actor, so neither the driver's futures nor the
  object store grow without bound;
- **replacement and one retry**: a call whose actor died (killed, out of memory, its node gone,
  or silent past its deadline) gets a fresh actor started in its place and is sent once more to a
  live one; a second loss ends it with the caller's failure value and the reason. Every call
  completes exactly once — nothing is lost, nothing is counted twice;
- **no Ray unless asked**: this module imports ``ray`` only inside its functions, and says how to
  install it (``pip install "thinkgym[ray]"``) when it is missing.

Completions arrive through ``ObjectRef.future()`` callbacks, which only post an event; a single
dispatcher thread owns the bookkeeping (retries, replacements, deadlines), so no Ray call is ever
made from Ray's own callback thread.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import itertools
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from thinkgym.errors import ConfigError, SandboxUnavailableError

__all__ = ["ActorPool", "require_ray", "connect", "disconnect", "PoolStats"]

_INSTALL_HINT = 'install it with: pip install "thinkgym[ray]"'


def require_ray() -> Any:
    """The ``ray`` module, or a clear error naming the extra that provides it."""
    try:
        import ray
    except ImportError as exc:
        raise SandboxUnavailableError(f"the ray backend needs Ray, which is not installed here ({exc}); {_INSTALL_HINT}") from exc
    return ray


_connect_lock = threading.Lock()
_connect_users = 0  # pools alive that rely on a connection this module made
_connected_by_us = False


def connect(address: str | None = None, **init_kwargs: Any) -> None:
    """Join a Ray cluster (``address``: None starts or finds a local one, ``"auto"`` an existing
    one, ``"ray://host:10001"`` a remote one through Ray Client), unless this process already did.

    Each call must be matched by one `disconnect`; the connection this module made ends with the
    last one (a connection the caller made with ``ray.init`` is the caller's to end).
    """
    global _connect_users, _connected_by_us
    ray = require_ray()
    with _connect_lock:
        if not ray.is_initialized():
            _check_reachable(address)
            options = {"include_dashboard": False, "log_to_driver": False, "logging_level": "warning", **init_kwargs}
            try:
                ray.init(address=address, **options)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise SandboxUnavailableError(f"cannot join the Ray cluster at {address or 'a local instance'}: {exc}") from exc
            _connected_by_us = True
        _connect_users += 1


def _check_reachable(address: str | None, timeout_s: float = 5.0) -> None:
    """Fail in seconds on a ``host:port`` (or ``ray://host:port``) nobody listens on: ``ray.init``
    itself retries such an address for minutes."""
    import socket

    if not address or address in ("auto", "local"):
        return
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if "://" in target or not host or not port.isdigit():
        return  # not a host:port: ray.init reports it
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise SandboxUnavailableError(
            f"cannot reach the Ray cluster at {address}: {exc}. Is `ray start --head` running there "
            f"and the port open? (\"auto\" joins the cluster this machine belongs to)"
        ) from exc


def disconnect() -> None:
    """End one `connect`; the last one shuts down the connection this module made."""
    global _connect_users, _connected_by_us
    ray = require_ray()
    with _connect_lock:
        _connect_users = max(0, _connect_users - 1)
        if _connect_users == 0 and _connected_by_us:
            _connected_by_us = False
            with contextlib.suppress(Exception):  # already gone (e.g. the cluster went first)
                ray.shutdown()


class _Host:
    """The actor: builds its object once on its node (``factory()``) and runs method calls on it."""

    def __init__(self, factory: Callable[[], Any]):
        import ray

        self.obj = factory()
        self.node = ray.get_runtime_context().get_node_id()

    def ping(self) -> dict[str, Any]:
        return {"node": self.node, "pid": os.getpid()}

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.obj, method)(*args)

    def close(self) -> None:
        close = getattr(self.obj, "close", None)
        if callable(close):
            close()


_host_classes: dict[int, Any] = {}


def _host_class(ray: Any) -> Any:
    """``ray.remote(_Host)``, made once per process (and only when a pool is made)."""
    key = id(ray)
    if key not in _host_classes:
        _host_classes[key] = ray.remote(_Host)
    return _host_classes[key]


@dataclass
class _Worker:
    handle: Any
    number: int
    inflight: int = 0
    ready: bool = False
    dead: bool = False
    node: str | None = None
    pid: int | None = None


@dataclass(eq=False)
class _Flight:
    """One call through the pool, from `submit` to its one result."""

    method: str
    args: tuple
    out: concurrent.futures.Future
    on_failure: Callable[[str], Any]
    budget_s: float
    attempt: int = 0
    worker: _Worker | None = None
    deadline: float = 0.0
    ref: Any = None


@dataclass
class PoolStats:
    """Counters that show what the pool did: each submitted call completes exactly once."""

    submitted: int = 0
    completed: int = 0  # calls that got their actor's answer
    failed: int = 0  # calls that ended with the failure value (lost twice, no worker, closed)
    retried: int = 0
    workers_started: int = 0
    workers_lost: int = 0
    lost_reasons: list[str] = field(default_factory=list)


class ActorPool:
    """Ray actors each holding ``factory()``; `submit` sends a method call to the least busy one.

    ``workers`` defaults to the cluster's CPUs divided by ``cpus_per_worker`` (each actor also
    reserves ``gpus_per_worker`` GPUs, so a GPU pool lands on the nodes that have them); each actor runs
    ``slots`` calls at once (default: ``cpus_per_worker``, at least 1) and has up to ``prefetch``
    more queued (hiding the round trip). ``max_in_flight`` bounds the calls outstanding (default:
    every worker's slots and prefetch). ``start_timeout_s`` bounds how long a call
    waits for a worker to exist (when every actor is dead and none can be placed).
    """

    def __init__(
        self,
        factory: Callable[[], Any],
        *,
        address: str | None = None,
        workers: int | None = None,
        cpus_per_worker: float = 1.0,
        gpus_per_worker: float = 0.0,
        slots: int | None = None,
        prefetch: int = 1,
        max_in_flight: int | None = None,
        start_timeout_s: float = 120.0,
        name: str = "thinkgym",
        ray_init: dict[str, Any] | None = None,
    ):
        if cpus_per_worker < 0 or (cpus_per_worker == 0 and (workers is None or gpus_per_worker <= 0)):
            raise ConfigError(f"cpus_per_worker must be > 0 (0 only for GPU actors of a given number), got {cpus_per_worker}")
        ray = require_ray()
        self._ray = ray
        connect(address, **(ray_init or {}))
        self._connected = True
        try:
            cpus = float(ray.cluster_resources().get("CPU", 0.0))
            if workers is None:
                workers = max(1, int(cpus // cpus_per_worker))
            if workers < 1:
                raise ConfigError(f"workers must be >= 1, got {workers}")
            if cpus < cpus_per_worker:
                raise ConfigError(f"the Ray cluster has {cpus:g} CPUs, fewer than cpus_per_worker={cpus_per_worker:g}")
        except BaseException:
            self._connected = False
            disconnect()
            raise
        self.factory = factory
        self.name = name
        self.cpus_per_worker = float(cpus_per_worker)
        self.gpus_per_worker = float(gpus_per_worker)
        self.slots = int(slots) if slots is not None else max(1, int(cpus_per_worker))
        self.size = int(workers)
        self.prefetch = max(0, int(prefetch))
        self.max_in_flight = int(max_in_flight) if max_in_flight is not None else self.size * (self.slots + self.prefetch)
        self.start_timeout_s = float(start_timeout_s)
        self.stats = PoolStats()
        self._lock = threading.RLock()
        self._workers: list[_Worker] = []
        self._numbers = itertools.count()
        self._waiting: collections.deque[_Flight] = collections.deque()
        self._flights: set[_Flight] = set()
        self._inflight: dict[_Flight, None] = {}
        self._gate = threading.BoundedSemaphore(self.max_in_flight)
        self._events: queue.Queue = queue.Queue()
        self._closed = False
        self._last_loss = ""
        self._start_failures = 0
        self._started = time.monotonic()
        self._warned = False
        for _ in range(self.size):
            self._start_worker()
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name=f"{name}-ray-dispatch", daemon=True)
        self._dispatcher.start()

    # -- workers -------------------------------------------------------------------------------

    def _start_worker(self) -> None:
        options = {"num_cpus": self.cpus_per_worker, "num_gpus": self.gpus_per_worker, "scheduling_strategy": "SPREAD",
                   "max_concurrency": self.slots, "max_restarts": 0}  # fmt: skip
        handle = _host_class(self._ray).options(**options).remote(self.factory)
        worker = _Worker(handle, next(self._numbers))
        with self._lock:
            self._workers.append(worker)
            self.stats.workers_started += 1
        ping = handle.ping.remote()
        ping.future().add_done_callback(lambda fut: self._events.put(("ready", worker, fut)))

    def _on_ready(self, worker: _Worker, fut: concurrent.futures.Future) -> None:
        try:
            info = fut.result()
        except Exception as exc:  # the actor could not start (its factory failed, its node went)
            self._start_failures += 1
            self._lose(worker, f"a ray worker failed to start: {_reason(exc)}")
            return
        with self._lock:
            if worker.dead:
                return
            worker.ready, worker.node, worker.pid = True, info.get("node"), info.get("pid")
        self._drain_waiting()

    def _lose(self, worker: _Worker, reason: str) -> None:
        """Take a dead (or silent) worker out of the pool and start one in its place."""
        with self._lock:
            if worker.dead:
                return
            worker.dead = True
            if worker in self._workers:  # (close() may have taken it out already)
                self._workers.remove(worker)
            self.stats.workers_lost += 1
            self.stats.lost_reasons = [*self.stats.lost_reasons[-99:], reason]  # the last 100
            self._last_loss = reason
            replace = not self._closed and self._start_failures < 3 * self.size
        with contextlib.suppress(Exception):
            self._ray.kill(worker.handle, no_restart=True)
        if replace:
            self._start_worker()
        else:
            self._fail_waiting_if_hopeless()

    def workers(self) -> list[dict[str, Any]]:
        """The live workers: number, node id, pid, calls in flight (for tests and progress)."""
        with self._lock:
            return [{"number": w.number, "node": w.node, "pid": w.pid, "inflight": w.inflight, "ready": w.ready}
                    for w in self._workers]  # fmt: skip

    def wait_ready(self, timeout_s: float | None = None) -> int:
        """Wait until every worker has started (or the timeout); the number ready."""
        deadline = time.monotonic() + (self.start_timeout_s if timeout_s is None else timeout_s)
        while time.monotonic() < deadline:
            with self._lock:
                ready = sum(w.ready for w in self._workers)
                if ready >= self.size or not self._workers:  # all there, or none left to wait for
                    return ready
            time.sleep(0.02)
        with self._lock:
            return sum(w.ready for w in self._workers)

    # -- calls ---------------------------------------------------------------------------------

    def submit(self, method: str, *args: Any, budget_s: float = 60.0,
               on_failure: Callable[[str], Any]) -> concurrent.futures.Future:  # fmt: skip
        """Call ``method(*args)`` on some worker's object; a future of its result (or of
        ``on_failure(reason)`` when the call was lost twice). Blocks while ``max_in_flight`` calls
        are outstanding. ``budget_s`` is how long one attempt may take once an actor runs it."""
        if self._closed:
            raise SandboxUnavailableError(f"this {self.name} ray pool is closed; create a new one")
        self._gate.acquire()
        out: concurrent.futures.Future = concurrent.futures.Future()
        out.add_done_callback(lambda _f: self._gate.release())
        flight = _Flight(method, args, out, on_failure, float(budget_s))
        with self._lock:
            self.stats.submitted += 1
            self._flights.add(flight)
        self._launch(flight)
        return out

    def _pick(self) -> _Worker | None:
        """The ready worker with the fewest calls, if one has room (slots + prefetch)."""
        ready = [w for w in self._workers if w.ready and not w.dead and w.inflight < self.slots + self.prefetch]
        return min(ready, key=lambda w: (w.inflight, w.number)) if ready else None

    def _launch(self, flight: _Flight) -> None:
        with self._lock:
            worker = None if self._closed else self._pick()
            if worker is None:
                if self._closed:
                    self._finish(flight, failure="the ray pool was closed before this call ran")
                    return
                flight.deadline = time.monotonic() + self.start_timeout_s
                self._waiting.append(flight)
                self._fail_waiting_if_hopeless()
                return
            worker.inflight += 1
            flight.worker = worker
            queued = (worker.inflight - 1) // self.slots
            flight.deadline = time.monotonic() + (1 + queued) * (flight.budget_s + 30.0)
            flight.ref = worker.handle.call.remote(flight.method, *flight.args)
            self._inflight[flight] = None
        flight.ref.future().add_done_callback(lambda fut: self._events.put(("done", flight, fut)))

    def _drain_waiting(self) -> None:
        while True:
            with self._lock:
                if not self._waiting or self._pick() is None:
                    return
                flight = self._waiting.popleft()
            self._launch(flight)

    def _fail_waiting_if_hopeless(self) -> None:
        """No worker alive and none coming: waiting calls end now, with the reason."""
        with self._lock:
            if self._workers or not self._waiting:
                return
            waiting, self._waiting = list(self._waiting), collections.deque()
        for flight in waiting:
            self._finish(flight, failure=f"no ray worker is left to run this call (last loss: {self._last_loss})")

    def _on_done(self, flight: _Flight, fut: concurrent.futures.Future) -> None:
        ray = self._ray
        worker = flight.worker
        with self._lock:
            if flight not in self._inflight:
                return  # already settled (closed)
            del self._inflight[flight]
            if worker is not None:
                worker.inflight -= 1
        try:
            value = fut.result()
        except ray.exceptions.RayTaskError as exc:  # the method raised: an answer, not a loss
            self._finish(flight, error=exc)
        except Exception as exc:  # the actor or its node is gone: replace it, retry once
            reason = _reason(exc)
            if worker is not None:
                self._lose(worker, reason)
            self._retry(flight, reason)
        else:
            self._finish(flight, value=value)
        self._drain_waiting()

    def _retry(self, flight: _Flight, reason: str) -> None:
        if flight.attempt >= 1 or self._closed:
            self._finish(flight, failure=f"the ray worker running this call was lost twice: {reason}")
            return
        flight.attempt += 1
        with self._lock:
            self.stats.retried += 1
        self._launch(flight)

    def _finish(self, flight: _Flight, *, value: Any = None, error: BaseException | None = None,
                failure: str | None = None) -> None:  # fmt: skip
        with self._lock:
            if flight not in self._flights:
                return  # exactly once
            self._flights.discard(flight)
            if failure is not None:
                self.stats.failed += 1
            else:
                self.stats.completed += 1
        if flight.out.cancelled():
            return  # the caller gave up on it (e.g. asyncio.wait_for timed out)
        with contextlib.suppress(concurrent.futures.InvalidStateError):  # cancelled just now
            if failure is not None:
                try:
                    flight.out.set_result(flight.on_failure(failure))
                except Exception as exc:  # the failure hook itself raised: hand that over
                    flight.out.set_exception(exc)
            elif error is not None:
                flight.out.set_exception(_cause(error))
            else:
                flight.out.set_result(value)

    def _check_deadlines(self) -> float:
        """Kill the actors of calls past their deadline (their calls then fail and are retried);
        end waiting calls that found no worker in time. Returns seconds to the next deadline."""
        now = time.monotonic()
        with self._lock:
            late = [f for f in self._inflight if f.deadline <= now and f.worker is not None]
            expired = [f for f in self._waiting if f.deadline <= now]
            starved = bool(self._waiting) and not any(w.ready for w in self._workers)
            for flight in expired:
                self._waiting.remove(flight)
            pending = [f.deadline for f in self._inflight] + [f.deadline for f in self._waiting]
        if starved and not self._warned and now - self._started > 15.0:
            self._warned = True
            import logging

            free = self._ray.available_resources().get("CPU", 0.0)
            logging.getLogger(__name__).warning(
                "%s ray pool: no worker has started after %.0f s; %d workers x %g CPUs were asked for and the "
                "cluster has %g CPUs free (calls give up after %g s)", self.name, now - self._started, self.size,
                self.cpus_per_worker, free, self.start_timeout_s)  # fmt: skip
        for flight in expired:
            self._finish(flight, failure=f"no ray worker could take this call within {self.start_timeout_s:g} s "
                                         f"(last loss: {self._last_loss or 'none'})")  # fmt: skip
        for flight in late:
            assert flight.worker is not None
            flight.deadline = now + 3600.0  # once; the kill makes the call fail and be retried
            with contextlib.suppress(Exception):
                self._ray.kill(flight.worker.handle, no_restart=True)
        return max(0.01, min(pending, default=now + 1.0) - now)

    def _dispatch_loop(self) -> None:
        wait = 1.0
        while True:
            try:
                event = self._events.get(timeout=min(wait, 1.0))
            except queue.Empty:
                event = None
            if event is not None and event[0] == "stop":
                return
            try:
                if event is not None and event[0] == "ready":
                    self._on_ready(event[1], event[2])
                elif event is not None and event[0] == "done":
                    self._on_done(event[1], event[2])
                wait = self._check_deadlines()
            except Exception as exc:  # never let bookkeeping kill the dispatcher: log and go on
                import logging

                logging.getLogger(__name__).exception("ray pool dispatcher: %s", exc)

    def broadcast(self, method: str, *args: Any, timeout_s: float | None = None) -> list[Any]:
        """Call ``method`` on every ready worker (waiting for the pool to start); their answers."""
        self.wait_ready(timeout_s)
        with self._lock:
            handles = [w.handle for w in self._workers if w.ready]
        if not handles:
            raise SandboxUnavailableError(f"no ray worker could be started (last loss: {self._last_loss or 'none'})")
        refs = [h.call.remote(method, *args) for h in handles]
        answers = []
        for ref in refs:
            with contextlib.suppress(self._ray.exceptions.RayActorError):
                answers.append(self._ray.get(ref, timeout=self.start_timeout_s))
        return answers

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self, timeout_s: float = 10.0) -> None:
        """Close every worker's object, stop the actors, end any outstanding call with the
        failure value, and drop the Ray connection this pool made (safe to call twice)."""
        if not getattr(self, "_connected", False):
            return
        ray = self._ray
        with self._lock:
            self._closed = True
            workers, self._workers = list(self._workers), []
            for worker in workers:
                worker.dead = True
            flights = [*self._inflight, *self._waiting]
            self._inflight.clear()
            self._waiting.clear()
        started = [w for w in workers if w.ready]  # one still waiting for a place never built its object
        if started:
            with contextlib.suppress(Exception):
                ray.wait([w.handle.close.remote() for w in started], num_returns=len(started), timeout=timeout_s)
            for worker in workers:
                with contextlib.suppress(Exception):
                    ray.kill(worker.handle, no_restart=True)
        for flight in flights:
            self._finish(flight, failure="the ray pool was closed before this call finished")
        self._events.put(("stop",))
        self._dispatcher.join(5.0)
        self._connected = False
        disconnect()

    def __enter__(self) -> ActorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    head = text[0] if text else ""
    return f"{type(exc).__name__}: {head[:300]}".rstrip(": ")


def _cause(exc: BaseException) -> BaseException:
    """The exception the remote method raised (Ray wraps it in a RayTaskError)."""
    as_cause = getattr(exc, "as_instanceof_cause", None)
    try:
        return as_cause() if callable(as_cause) else exc
    except Exception:  # an exception type Ray cannot rebuild: keep its wrapper
        return exc
