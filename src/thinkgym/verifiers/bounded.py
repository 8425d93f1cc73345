"""Run a picklable function with a hard wall-clock bound in a killable worker process.

Why not ``signal.alarm`` or a thread: an alarm only works on the main thread of the main
interpreter (trainers call rewards from threads and event loops), and a thread cannot be stopped
while sympy grinds inside a C-level loop. A separate process can always be killed. Workers are
long-lived (imports such as sympy are paid once), one call runs at a time per worker, and a worker
that overruns its bound or dies is killed and replaced; the call that caused it gets a
`BoundedResult` that says why instead of an exception.

>>> pool = BoundedPool(size=2, preload=("fractions",))
>>> pool.call(pow, 2, 10, timeout=1.0).value
1024
"""

from __future__ import annotations

import asyncio
import atexit
import importlib
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["BoundedResult", "BoundedPool", "run_bounded"]


@dataclass(frozen=True)
class BoundedResult:
    """The outcome of one bounded call.

    ``status`` is ``"ok"`` (``value`` holds the return value), ``"error"`` (the function raised;
    ``error`` holds ``Type: message``), ``"timeout"`` (killed after ``timeout`` seconds) or
    ``"died"`` (the worker process exited mid-call, e.g. killed for memory).
    """

    status: str
    value: Any = None
    error: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _worker_main(conn: Any, preload: Sequence[str], memory_limit_mb: int | None) -> None:
    """Loop of a worker process: import ``preload``, then answer ``(fn, args, kwargs)`` messages."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    if memory_limit_mb:
        try:
            import resource

            limit = int(memory_limit_mb) * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):
            pass
    for name in preload:
        importlib.import_module(name)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args, kwargs = message
        try:
            reply: tuple[str, Any] = ("ok", fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - report everything, the parent decides
            reply = ("error", f"{type(exc).__name__}: {exc}"[:2000])
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable return value
            conn.send(("error", f"result could not be sent back: {type(exc).__name__}: {exc}"[:2000]))


def _worker_entry(fd: int, config_json: str) -> None:
    """Entry point of ``python -c`` in a fresh interpreter (see `_Worker`)."""
    from multiprocessing.connection import Connection

    config = json.loads(config_json)
    for path in reversed(config["sys_path"]):
        if path not in sys.path:
            sys.path.insert(0, path)
    _worker_main(Connection(fd), config["preload"], config["memory_limit_mb"])


class _Worker:
    """One worker process and the parent's end of its socket.

    A fresh interpreter started with ``subprocess`` rather than ``multiprocessing``: spawn and
    forkserver re-import the caller's ``__main__`` (scripts without a main guard would recurse),
    and fork is unsafe in a threaded trainer. Functions sent to it must be importable by module
    path (the parent's ``sys.path`` is passed along).
    """

    def __init__(self, preload: Sequence[str], memory_limit_mb: int | None):
        parent_sock, child_sock = socket.socketpair()
        config = json.dumps({"preload": list(preload), "memory_limit_mb": memory_limit_mb,
                             "sys_path": [p for p in sys.path if p]})
        code = (
            "import sys; from thinkgym.verifiers.bounded import _worker_entry; "
            "_worker_entry(int(sys.argv[1]), sys.argv[2])"
        )
        fd = child_sock.fileno()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(fd), config],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            child_sock.close()
        self.conn = Connection(parent_sock.detach())
        self.ready = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float) -> bool:
        """Block until the worker has finished its imports (not counted against any call's bound)."""
        if self.ready:
            return True
        try:
            if self.conn.poll(timeout):
                tag, _ = self.conn.recv()
                self.ready = tag == "ready"
        except (EOFError, OSError):
            self.ready = False
        return self.ready

    def kill(self) -> None:
        try:
            self.process.kill()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            self.conn.close()
        except OSError:
            pass

    def stop(self) -> None:
        """Ask politely, then kill."""
        try:
            self.conn.send(None)
            self.process.wait(timeout=1)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()


_LIVE_POOLS: weakref.WeakSet[BoundedPool] = weakref.WeakSet()


class BoundedPool:
    """A fixed number of worker processes that run calls with a hard wall-clock bound each.

    Thread-safe: any thread may call `call` (at most ``size`` run at once, the rest wait for a
    free worker, and that wait is not counted against their bound). `acall` is the asyncio
    form. ``preload`` names modules every worker imports before it is ready; ``memory_limit_mb``
    caps each worker's address space so a runaway allocation kills the call, not the machine.
    """

    def __init__(
        self,
        size: int = 1,
        *,
        preload: Sequence[str] = (),
        memory_limit_mb: int | None = None,
        startup_timeout: float = 120.0,
    ):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"BoundedPool size must be a positive int, got {size!r}")
        self.size = size
        self.preload = tuple(preload)
        self.memory_limit_mb = memory_limit_mb
        self.startup_timeout = float(startup_timeout)
        self._slots: queue.Queue[list[_Worker | None]] = queue.Queue()
        for _ in range(size):
            self._slots.put([None])
        self._lock = threading.Lock()
        self._closed = False
        self.replaced = 0  # workers killed or found dead and replaced (for monitoring and tests)
        _LIVE_POOLS.add(self)

    # ---- worker management --------------------------------------------------------------

    def _new_worker(self) -> _Worker:
        return _Worker(self.preload, self.memory_limit_mb)

    def _ready_worker(self, slot: list[_Worker | None]) -> _Worker | None:
        worker = slot[0]
        if worker is not None and not worker.alive():
            worker.kill()
            worker = None
            self.replaced += 1
        if worker is None:
            worker = slot[0] = self._new_worker()
        if not worker.wait_ready(self.startup_timeout):
            worker.kill()
            slot[0] = None
            return None
        return worker

    def _replace(self, slot: list[_Worker | None]) -> None:
        worker = slot[0]
        if worker is not None:
            worker.kill()
        self.replaced += 1
        # Start the successor now so its imports overlap with whatever the caller does next.
        slot[0] = None if self._closed else self._new_worker()

    def warm(self) -> None:
        """Start every worker and wait until all are ready (so a first call pays no start-up)."""
        slots = [self._slots.get() for _ in range(self.size)]
        try:
            for slot in slots:
                self._ready_worker(slot)
        finally:
            for slot in slots:
                self._slots.put(slot)

    # ---- calls ---------------------------------------------------------------------------

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float, **kwargs: Any) -> BoundedResult:
        """Run ``fn(*args, **kwargs)`` in a worker; kill it if it runs longer than ``timeout`` s."""
        if self._closed:
            raise RuntimeError("this BoundedPool is closed")
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        slot = self._slots.get()
        try:
            worker = self._ready_worker(slot)
            if worker is None:
                return BoundedResult("died", error="worker process failed to start")
            start = time.perf_counter()
            try:
                worker.conn.send((fn, args, kwargs))
            except (OSError, ValueError, EOFError) as exc:
                self._replace(slot)
                return BoundedResult("died", error=f"worker pipe broken: {exc}")
            except Exception as exc:  # pickling the call failed; the pipe is still clean
                return BoundedResult("error", error=f"call could not be sent: {type(exc).__name__}: {exc}")
            try:
                arrived = worker.conn.poll(timeout)
            except (OSError, EOFError):
                arrived = True  # fall through to recv, which reports the death
            elapsed = time.perf_counter() - start
            if not arrived:
                self._replace(slot)
                return BoundedResult("timeout", error=f"timed out after {timeout:g} s", elapsed=elapsed)
            try:
                tag, payload = worker.conn.recv()
            except (EOFError, OSError):
                try:
                    code = worker.process.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    code = None
                self._replace(slot)
                return BoundedResult(
                    "died", error=f"worker died (exit code {code})", elapsed=time.perf_counter() - start
                )
            elapsed = time.perf_counter() - start
            if tag == "ok":
                return BoundedResult("ok", value=payload, elapsed=elapsed)
            return BoundedResult("error", error=str(payload), elapsed=elapsed)
        finally:
            self._slots.put(slot)

    async def acall(self, fn: Callable[..., Any], *args: Any, timeout: float, **kwargs: Any) -> BoundedResult:
        """`call` for asyncio code: the wait happens in a thread, the event loop keeps running."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, lambda: self.call(fn, *args, timeout=timeout, **kwargs))

    def map(
        self, fn: Callable[..., Any], items: Iterable[Sequence[Any]], *, timeout: float
    ) -> list[BoundedResult]:
        """``[call(fn, *item) for item in items]`` using every worker at once; results in order."""
        items = list(items)
        if not items:
            return []
        if self.size == 1 or len(items) == 1:
            return [self.call(fn, *item, timeout=timeout) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.size, len(items))) as executor:
            return list(executor.map(lambda item: self.call(fn, *item, timeout=timeout), items))

    def close(self) -> None:
        """Stop every worker (idle ones at once; busy ones are killed)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        slots = []
        while True:
            try:
                slots.append(self._slots.get_nowait())
            except queue.Empty:
                break
        for slot in slots:
            if slot[0] is not None:
                slot[0].stop()
                slot[0] = None
            self._slots.put(slot)

    def __enter__(self) -> BoundedPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pids(self) -> list[int]:
        """Process ids of the current idle workers (for tests and monitoring)."""
        found = []
        slots = []
        while True:
            try:
                slots.append(self._slots.get_nowait())
            except queue.Empty:
                break
        for slot in slots:
            if slot[0] is not None:
                found.append(slot[0].pid)
            self._slots.put(slot)
        return found


@atexit.register
def _close_live_pools() -> None:
    for pool in list(_LIVE_POOLS):
        try:
            pool.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown, nothing useful to report
            pass


def run_bounded(fn: Callable[..., Any], *args: Any, timeout: float, **kwargs: Any) -> BoundedResult:
    """One-off bounded call in a fresh worker (start-up not counted); prefer a `BoundedPool`."""
    with BoundedPool(1) as pool:
        return pool.call(fn, *args, timeout=timeout, **kwargs)
