"""Run a picklable function with a hard wall-clock bound in a killable worker process.

Why not ``signal.alarm`` or a thread: an alarm only works on the main thread of the main
interpreter (trainers call rewards from threads and event loops), and a thread cannot be stopped
while sympy grinds inside a C-level loop. A separate process can always be killed.

How: a *template* process (a fresh interpreter started with ``subprocess``) imports the
``preload`` modules and runs the ``initializer`` once, then forks a worker whenever the pool
needs one. Forking from the single-threaded template takes milliseconds and the worker inherits
the warm imports and caches, so a worker killed for overrunning its bound is replaced at once.
Each worker runs one call at a time; the caller waits on its socket with a timeout and kills it
when the time is up. The call that caused a kill or a crash gets a `BoundedResult` that says so.

Functions sent to workers must be importable by module path (the caller's ``sys.path`` is
passed along). ``subprocess`` rather than ``multiprocessing`` because spawn and forkserver
re-import the caller's ``__main__`` and plain fork is unsafe in a threaded trainer.

>>> pool = BoundedPool(size=2)
>>> pool.call(pow, 2, 10, timeout=1.0).value
1024
"""

from __future__ import annotations

import asyncio
import atexit
import importlib
import json
import os
import pickle
import queue
import select
import signal
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
from multiprocessing.reduction import recv_handle, send_handle
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


# ---------------------------------------------------------------------------------------------
# Code that runs in the template and worker processes
# ---------------------------------------------------------------------------------------------


def _serve(conn: Any) -> None:
    """A worker's loop: answer ``(fn, args, kwargs)`` messages until the parent hangs up."""
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            message = pickle.loads(data)
        except Exception as exc:  # e.g. a function defined in the caller's __main__
            conn.send(("error", f"the call could not be loaded in the worker: {type(exc).__name__}: {exc}"[:2000]))
            continue
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


def _limit_memory(memory_limit_mb: int | None) -> None:
    if not memory_limit_mb:
        return
    try:
        import resource

        limit = int(memory_limit_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the template exits, even while it grinds in C code.

    (Set only in workers: their parent is the template's single thread. The template itself
    exits when the caller's end of its socket closes.)"""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _template_main(conn: Any, preload: Sequence[str], memory_limit_mb: int | None, initializer: str | None) -> None:
    """The template: import and warm up once, then fork a worker for each ``"fork"`` request."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped automatically
    for name in preload:
        importlib.import_module(name)
    warming = None
    if initializer:
        module, _, function = initializer.partition(":")
        result = getattr(importlib.import_module(module), function)()
        if hasattr(result, "__next__"):  # a generator: warm up step by step, between fork requests
            warming = result
    try:
        conn.send(("ready", os.getpid()))
    except OSError:  # the caller is gone already
        return
    while True:
        if warming is not None and not conn.poll(0):
            warming = _warm_step(warming, 1)
            continue
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message == "warm":  # finish the warm-up now: workers forked from here on are fully warm
            warming = _warm_step(warming, None)
            conn.send("warm")
            continue
        if message != "fork":
            return
        _fork_worker(conn, memory_limit_mb)


def _warm_step(warming: Any, steps: int | None) -> Any:
    """Run ``steps`` steps (all if ``None``) of a warm-up generator; ``None`` once it is done."""
    try:
        count = 0
        while warming is not None and (steps is None or count < steps):
            next(warming)
            count += 1
        return warming
    except Exception:  # noqa: BLE001 - StopIteration, or a failed warm-up step: it only costs speed
        return None


def _fork_worker(conn: Any, memory_limit_mb: int | None) -> None:
    """Fork one worker serving the socket the caller just sent, and tell the caller its pid."""
    fd = recv_handle(conn)
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            conn.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _die_with_parent()
            _limit_memory(memory_limit_mb)
            _serve(Connection(fd))
        except BaseException:  # noqa: BLE001 - never fall back into the template's loop
            code = 1
        finally:
            os._exit(code)
    os.close(fd)
    conn.send(pid)


def _template_entry(fd: int, config_json: str) -> None:
    """Entry point of ``python -c`` in the template interpreter."""
    config = json.loads(config_json)
    for path in reversed(config["sys_path"]):
        if path not in sys.path:
            sys.path.insert(0, path)
    _template_main(Connection(fd), config["preload"], config["memory_limit_mb"], config["initializer"])


# ---------------------------------------------------------------------------------------------
# The caller's side
# ---------------------------------------------------------------------------------------------


class _Template:
    """The caller's handle on the template process."""

    def __init__(self, preload: Sequence[str], memory_limit_mb: int | None, initializer: str | None):
        parent_sock, child_sock = socket.socketpair()
        config = json.dumps(
            {
                "preload": list(preload),
                "memory_limit_mb": memory_limit_mb,
                "initializer": initializer,
                "sys_path": [p for p in sys.path if p],
            }
        )
        # This file is loaded by path, so a template that preloads nothing does not pay for
        # importing the thinkgym package.
        code = (
            "import sys, importlib.util as u; "
            "s = u.spec_from_file_location('_thinkgym_bounded', sys.argv[3]); "
            "m = sys.modules[s.name] = u.module_from_spec(s); s.loader.exec_module(m); "
            "m._template_entry(int(sys.argv[1]), sys.argv[2])"
        )
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")  # no thread pools in a process that forks
        fd = child_sock.fileno()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(fd), config, os.path.abspath(__file__)],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                close_fds=True,
                env=env,
            )
        finally:
            child_sock.close()
        self.conn = Connection(parent_sock.detach())
        self.lock = threading.Lock()
        self.ready = False

    def wait_ready(self, timeout: float) -> bool:
        with self.lock:
            if not self.ready:
                try:
                    if self.conn.poll(timeout):
                        tag, _ = self.conn.recv()
                        self.ready = tag == "ready"
                except (EOFError, OSError):
                    self.ready = False
            return self.ready

    def finish_warm_up(self, timeout: float) -> bool:
        """Ask the template to finish its warm-up and wait until it has."""
        try:
            with self.lock:
                self.conn.send("warm")
                return bool(self.conn.poll(timeout)) and self.conn.recv() == "warm"
        except (EOFError, OSError):
            return False

    def fork(self) -> _Worker | None:
        """A new worker forked from the template, or ``None`` if the template is gone."""
        ours, theirs = socket.socketpair()
        try:
            with self.lock:
                self.conn.send("fork")
                send_handle(self.conn, theirs.fileno(), self.process.pid)
                if not self.conn.poll(_FORK_TIMEOUT):
                    raise OSError("the template did not answer a fork request")
                pid = self.conn.recv()
        except (EOFError, OSError, ValueError):
            ours.close()
            return None
        finally:
            theirs.close()
        return _Worker(Connection(ours.detach()), pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass
        if not self.ready:  # still importing: it would only notice the closed socket afterwards
            self.process.kill()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class _Worker:
    """One forked worker: its socket and a pidfd (so a kill never hits a recycled pid)."""

    def __init__(self, conn: Connection, pid: int):
        self.conn = conn
        self.pid = pid
        self.pidfd: int | None = None
        try:
            self.pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None

    def alive(self) -> bool:
        if self.pidfd is not None:
            readable, _, _ = select.select([self.pidfd], [], [], 0)
            return not readable
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return True

    def kill(self) -> None:
        try:
            if self.pidfd is not None:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        self.close()

    def close(self) -> None:
        try:
            self.conn.close()
        except OSError:
            pass
        if self.pidfd is not None:
            try:
                os.close(self.pidfd)
            except OSError:
                pass
            self.pidfd = None


_LIVE_POOLS: weakref.WeakSet[BoundedPool] = weakref.WeakSet()
_FORK_TIMEOUT = 60.0


class BoundedPool:
    """A fixed number of worker processes that run calls with a hard wall-clock bound each.

    Thread-safe: any thread may call `call` (at most ``size`` run at once; the others wait for a
    free worker, and that wait is not counted against their bound). `acall` is the asyncio
    form. ``preload`` names modules the template imports once, ``initializer``
    ("module:function") runs once after them (warm caches there, so first calls are not slower
    than the rest), and every worker inherits both. An initializer that returns a generator is
    stepped between fork requests after the template reports ready, so a cold pool answers its
    first call after the imports, not after the whole warm-up. ``memory_limit_mb`` caps each worker's
    address space so a runaway allocation fails the call, not the machine.
    """

    def __init__(
        self,
        size: int = 1,
        *,
        preload: Sequence[str] = (),
        memory_limit_mb: int | None = None,
        initializer: str | None = None,
        startup_timeout: float = 300.0,
    ):
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"BoundedPool size must be a positive int, got {size!r}")
        self.size = size
        self.preload = tuple(preload)
        self.memory_limit_mb = memory_limit_mb
        self.initializer = initializer
        self.startup_timeout = float(startup_timeout)
        self._slots: queue.Queue[list[_Worker | None]] = queue.Queue()
        for _ in range(size):
            self._slots.put([None])
        self._lock = threading.Lock()
        self._template: _Template | None = None
        self._closed = False
        self._pid = os.getpid()
        self.replaced = 0  # workers killed or found dead (for monitoring and tests)
        _LIVE_POOLS.add(self)

    # ---- worker management --------------------------------------------------------------

    def _after_fork(self) -> None:
        """In a forked copy of the caller, start afresh: the workers belong to the parent."""
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._template = None
            self._slots = queue.Queue()
            for _ in range(self.size):
                self._slots.put([None])

    def _get_template(self) -> _Template:
        with self._lock:
            if self._closed:
                raise RuntimeError("this BoundedPool is closed")
            if self._template is None or not self._template.alive():
                if self._template is not None:
                    self._template.stop()
                self._template = _Template(self.preload, self.memory_limit_mb, self.initializer)
            return self._template

    def _fork(self) -> _Worker | None:
        for _ in range(2):  # a template that died (OOM killer) is restarted once
            template = self._get_template()
            if not template.wait_ready(self.startup_timeout):
                template.stop()
                continue
            worker = template.fork()
            if worker is not None:
                return worker
        return None

    def _worker_for(self, slot: list[_Worker | None]) -> _Worker | None:
        worker = slot[0]
        if worker is not None and not worker.alive():
            worker.kill()
            worker = slot[0] = None
            self.replaced += 1
        if worker is None:
            worker = slot[0] = self._fork()
        return worker

    def _discard(self, slot: list[_Worker | None]) -> None:
        if slot[0] is not None:
            slot[0].kill()
        slot[0] = None
        self.replaced += 1

    def start(self) -> None:
        """Start the template process now without waiting for it (a later call finds it warmer)."""
        try:
            self._get_template()
        except RuntimeError:
            pass

    def warm(self) -> None:
        """Start the template, finish its warm-up and start every worker now (so a first call
        pays no start-up and no first-call costs)."""
        slots = [self._slots.get() for _ in range(self.size)]
        try:
            template = self._get_template()
            if template.wait_ready(self.startup_timeout):
                template.finish_warm_up(self.startup_timeout)
            for slot in slots:
                self._worker_for(slot)
        finally:
            for slot in slots:
                self._slots.put(slot)

    # ---- calls ---------------------------------------------------------------------------

    def call(
        self, fn: Callable[..., Any], *args: Any, timeout: float, includes_start: bool = False, **kwargs: Any
    ) -> BoundedResult:
        """Run ``fn(*args, **kwargs)`` in a worker; kill it if it runs longer than ``timeout`` s.

        ``includes_start=True`` makes ``timeout`` a wall-clock bound on the whole call, starting
        a cold pool's template included: if it is not ready in time the call returns
        ``"timeout"`` (and the template keeps starting for the next call).
        """
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if self._closed:
            raise RuntimeError("this BoundedPool is closed")
        if self._pid != os.getpid():
            self._after_fork()
        slot = self._slots.get()
        began = time.perf_counter()  # waiting for a free worker is not counted
        try:
            if includes_start and slot[0] is None:
                if not self._get_template().wait_ready(timeout):
                    return BoundedResult(
                        "timeout", error=f"the worker process was still starting after {timeout:g} s",
                        elapsed=time.perf_counter() - began,
                    )
                timeout = max(timeout - (time.perf_counter() - began), 0.01)
            worker = self._worker_for(slot)
            if worker is None:
                return BoundedResult("died", error="no worker process could be started")
            if includes_start:
                timeout = max(timeout - (time.perf_counter() - began), 0.01)
            start = time.perf_counter()
            try:
                worker.conn.send((fn, args, kwargs))
            except (OSError, EOFError) as exc:
                self._discard(slot)
                return BoundedResult("died", error=f"worker connection broken: {exc}")
            except Exception as exc:  # pickling the call failed before anything was written
                return BoundedResult("error", error=f"call could not be sent: {type(exc).__name__}: {exc}")
            try:
                arrived = worker.conn.poll(timeout)
            except (OSError, EOFError):
                arrived = True  # recv below reports the death
            if not arrived:
                self._discard(slot)
                return BoundedResult(
                    "timeout", error=f"timed out after {timeout:g} s", elapsed=time.perf_counter() - start
                )
            try:
                tag, payload = worker.conn.recv()
            except (EOFError, OSError):
                self._discard(slot)
                return BoundedResult(
                    "died", error="worker process died mid-call", elapsed=time.perf_counter() - start
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
        self, fn: Callable[..., Any], items: Iterable[Sequence[Any]], *, timeout: float, includes_start: bool = False
    ) -> list[BoundedResult]:
        """``[call(fn, *item) for item in items]`` using every worker at once; results in order."""
        items = list(items)
        if self.size == 1 or len(items) <= 1:
            return [self.call(fn, *item, timeout=timeout, includes_start=includes_start) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.size, len(items))) as executor:
            return list(
                executor.map(lambda item: self.call(fn, *item, timeout=timeout, includes_start=includes_start), items)
            )

    def pids(self) -> list[int]:
        """Process ids of the idle workers (for monitoring and tests)."""
        slots = []
        while True:
            try:
                slots.append(self._slots.get_nowait())
            except queue.Empty:
                break
        found = [slot[0].pid for slot in slots if slot[0] is not None]
        for slot in slots:
            self._slots.put(slot)
        return found

    def close(self) -> None:
        """Stop the template and the idle workers (a busy worker ends when its caller is done)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            template, self._template = self._template, None
        idle = []
        while True:
            try:
                idle.append(self._slots.get_nowait())
            except queue.Empty:
                break
        for slot in idle:
            if slot[0] is not None:
                slot[0].kill()
                slot[0] = None
            self._slots.put(slot)  # a caller still waiting for a slot gets one, then a clear error
        if template is not None:
            template.stop()

    def __enter__(self) -> BoundedPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@atexit.register
def _close_live_pools() -> None:
    for pool in list(_LIVE_POOLS):
        try:
            pool.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown, nothing useful to report
            pass


def run_bounded(fn: Callable[..., Any], *args: Any, timeout: float, **kwargs: Any) -> BoundedResult:
    """One-off bounded call in a fresh worker (start-up not counted); prefer a long-lived pool."""
    with BoundedPool(1) as pool:
        return pool.call(fn, *args, timeout=timeout, **kwargs)
